// Fleet's webhook receiver (rancher/fleet pkg/webhook/webhook.go, parser.go)
// with the provider rules of github.com/go-playground/webhooks v6.4.0, which
// Fleet parses with. Payload fields follow the providers' documentation:
//   GitHub   https://docs.github.com/en/webhooks/webhook-events-and-payloads#push
//            https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
//   GitLab   https://docs.gitlab.com/ee/user/project/integrations/webhook_events.html#push-events
//   Gitea    https://docs.gitea.com/usage/webhooks (also sends the Gogs and GitHub headers)
//   Gogs     https://gogs.io/docs/features/webhook
//   Bitbucket Cloud   https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/#Push
//   Bitbucket Server  https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html
//   Azure DevOps      https://learn.microsoft.com/en-us/azure/devops/service-hooks/events#git.push
#include "manager/webhook/webhook.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <initializer_list>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/hash.h"
#include "common/status_macros.h"
#include "common/yaml.h"

namespace flotilla::manager {
namespace {

using common::Json;

constexpr char kBranchPrefix[] = "refs/heads/";
constexpr char kTagPrefix[] = "refs/tags/";

// The headers that identify a provider, in the order they are tried; named in
// the error for a request that carries none of them.
constexpr char kProviderHeaders[] =
    "X-Gogs-Event or X-Gitea-Event (Gogs, Gitea), X-GitHub-Event (GitHub), X-Gitlab-Event "
    "(GitLab), X-Hook-UUID (Bitbucket Cloud), X-Event-Key (Bitbucket Server), X-Vss-ActivityId "
    "or X-Vss-SubscriptionId (Azure DevOps)";

// ---------------------------------------------------------------------------
// Payload JSON

// Rejects nesting deeper than `max_depth` before the parser sees the body, so
// hostile input costs one linear pass. Malformed JSON is left to the parser.
absl::Status CheckJsonDepth(absl::string_view body, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        return absl::InvalidArgumentError(
            absl::StrCat("webhook body nests JSON deeper than ", max_depth, " levels"));
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> ParseJsonBody(absl::string_view body) {
  if (body.empty()) return absl::InvalidArgumentError("webhook body is empty");
  RETURN_IF_ERROR(CheckJsonDepth(body, kMaxWebhookJsonDepth));
  Json json;
  try {
    json = Json::parse(body.begin(), body.end());
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("webhook body is not valid JSON: ", e.what()));
  }
  if (!json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook body is a JSON ", json.type_name(), ", expected an object"));
  }
  return json;
}

// Follows `path` from `node` (called `where` in messages; "" for the root).
// Absent or null anywhere on the way gives nullptr; a non-object on the way is
// InvalidArgument, as Go's json.Unmarshal refuses a mistyped field.
absl::StatusOr<const Json*> FindField(const Json& node, absl::string_view where,
                                      std::initializer_list<const char*> path) {
  const Json* at = &node;
  std::string walked(where);
  for (const char* key : path) {
    if (at->is_null()) return nullptr;
    if (!at->is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("payload field ", walked, " is a JSON ",
                                                     at->type_name(), ", expected an object"));
    }
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
    absl::StrAppend(&walked, walked.empty() ? "" : ".", key);
  }
  if (at->is_null()) return nullptr;
  return at;
}

absl::StatusOr<std::string> StringField(const Json& node, absl::string_view where,
                                        std::initializer_list<const char*> path) {
  ASSIGN_OR_RETURN(const Json* field, FindField(node, where, path));
  if (field == nullptr) return std::string();
  if (!field->is_string()) {
    std::vector<std::string> parts;
    if (!where.empty()) parts.emplace_back(where);
    for (const char* key : path) parts.emplace_back(key);
    return absl::InvalidArgumentError(absl::StrCat("payload field ", absl::StrJoin(parts, "."),
                                                   " is a JSON ", field->type_name(),
                                                   ", expected a string"));
  }
  return field->get<std::string>();
}

// The first element of the array at `path` (an object or null), or nullptr.
absl::StatusOr<const Json*> FirstElement(const Json& node, std::initializer_list<const char*> path,
                                         absl::string_view name) {
  ASSIGN_OR_RETURN(const Json* array, FindField(node, "", path));
  if (array == nullptr) return nullptr;
  if (!array->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat("payload field ", name, " is a JSON ",
                                                   array->type_name(), ", expected an array"));
  }
  if (array->empty() || array->front().is_null()) return nullptr;
  return &array->front();
}

void AddUrl(WebhookEvent* event, std::string url) {
  if (url.empty()) return;
  for (const std::string& have : event->repo_urls) {
    if (have == url) return;
  }
  event->repo_urls.push_back(std::move(url));
}

// ---------------------------------------------------------------------------
// Repository URLs

// The parts of a repository URL that matching compares.
struct RepoLocation {
  std::string user;  // before "@" (without a password), "" when none
  std::string host;  // without brackets and port
  std::string path;  // without leading and trailing "/"
};

bool IsDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Parses "scheme://[user[:password]@]host[:port]/path[?query][#fragment]" for
// the schemes a Git remote uses, and scp-like "[user@]host:path". Anything else
// (local paths, file://) names no host and matches nothing.
std::optional<RepoLocation> ParseRepoLocation(absl::string_view url) {
  RepoLocation loc;
  absl::string_view authority;
  absl::string_view path;
  size_t scheme_end = url.find("://");
  if (scheme_end != absl::string_view::npos) {
    std::string scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
    if (scheme != "http" && scheme != "https" && scheme != "ssh" && scheme != "git" &&
        scheme != "git+ssh" && scheme != "ssh+git") {
      return std::nullopt;
    }
    absl::string_view rest = url.substr(scheme_end + 3);
    rest = rest.substr(0, rest.find_first_of("?#"));
    size_t slash = rest.find('/');
    authority = rest.substr(0, slash);
    path = slash == absl::string_view::npos ? absl::string_view() : rest.substr(slash);
    size_t at = authority.rfind('@');
    if (at != absl::string_view::npos) {
      absl::string_view userinfo = authority.substr(0, at);
      loc.user = std::string(userinfo.substr(0, userinfo.find(':')));
      authority = authority.substr(at + 1);
    }
    absl::string_view port;
    if (absl::StartsWith(authority, "[")) {
      size_t close = authority.find(']');
      if (close == absl::string_view::npos) return std::nullopt;
      loc.host = std::string(authority.substr(1, close - 1));
      absl::string_view after = authority.substr(close + 1);
      if (!after.empty()) {
        if (after[0] != ':') return std::nullopt;
        port = after.substr(1);
        if (!IsDigits(port)) return std::nullopt;
      }
    } else {
      size_t colon = authority.find(':');
      loc.host = std::string(authority.substr(0, colon));
      if (colon != absl::string_view::npos && !IsDigits(authority.substr(colon + 1))) {
        return std::nullopt;
      }
    }
  } else {
    size_t colon = url.find(':');
    if (colon == absl::string_view::npos) return std::nullopt;
    authority = url.substr(0, colon);
    if (absl::StrContains(authority, '/')) return std::nullopt;  // a local path
    path = url.substr(colon + 1);
    size_t at = authority.rfind('@');
    if (at != absl::string_view::npos) {
      loc.user = std::string(authority.substr(0, at));
      authority = authority.substr(at + 1);
    }
    loc.host = std::string(authority);
  }
  if (loc.host.empty()) return std::nullopt;
  while (absl::ConsumePrefix(&path, "/")) {
  }
  while (absl::ConsumeSuffix(&path, "/")) {
  }
  loc.path = std::string(path);
  return loc;
}

// "o/r.git" -> "o/r" (any case, once).
absl::string_view TrimGitSuffix(absl::string_view path) {
  if (path.size() > 4 && absl::EndsWithIgnoreCase(path, ".git")) {
    path.remove_suffix(4);
  }
  return path;
}

// Azure DevOps' legacy https://ORG.visualstudio.com/PROJECT/_git/REPO in its
// https://dev.azure.com/ORG/PROJECT/_git/REPO form (Fleet's parsePayload), or
// "" for any other URL.
std::string AzureDevOpsUrl(absl::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return "";
  std::optional<RepoLocation> loc = ParseRepoLocation(url);
  if (!loc.has_value() || !absl::EndsWithIgnoreCase(loc->host, ".visualstudio.com")) return "";
  std::string org = loc->host.substr(0, loc->host.find('.'));
  if (org.empty()) return "";
  return absl::StrCat(url.substr(0, scheme_end), "://dev.azure.com/", org, "/", loc->path);
}

// ---------------------------------------------------------------------------
// Providers

enum class EventKind { kPush, kPing, kOther };

EventKind Classify(WebhookProvider provider, absl::string_view event) {
  switch (provider) {
    case WebhookProvider::kGitHub:
      if (event == "ping") return EventKind::kPing;
      return event == "push" ? EventKind::kPush : EventKind::kOther;
    case WebhookProvider::kGogs:
    case WebhookProvider::kGitea:
      return event == "push" ? EventKind::kPush : EventKind::kOther;
    case WebhookProvider::kGitLab:
      // Fleet parses gitlab.PushEvents and gitlab.TagEvents only (no System Hook).
      return event == "Push Hook" || event == "Tag Push Hook" ? EventKind::kPush
                                                              : EventKind::kOther;
    case WebhookProvider::kBitbucket:
      return event == "repo:push" ? EventKind::kPush : EventKind::kOther;
    case WebhookProvider::kBitbucketServer:
      if (event == "diagnostics:ping") return EventKind::kPing;
      return event == "repo:refs_changed" ? EventKind::kPush : EventKind::kOther;
    case WebhookProvider::kAzureDevOps:
      return event == "git.push" ? EventKind::kPush : EventKind::kOther;
  }
  return EventKind::kOther;
}

// Fleet's parseWebhook order. Gitea sends X-Gogs-Event, X-Gitea-Event and
// X-GitHub-Event together, so the Gogs family is tried first.
absl::StatusOr<WebhookEvent> Identify(const WebhookRequest& request) {
  WebhookEvent event;
  absl::string_view gogs = request.Header("X-Gogs-Event");
  absl::string_view gitea = request.Header("X-Gitea-Event");
  if (!gogs.empty() || !gitea.empty()) {
    event.provider = gitea.empty() ? WebhookProvider::kGogs : WebhookProvider::kGitea;
    event.event = std::string(gogs.empty() ? gitea : gogs);
  } else if (absl::string_view github = request.Header("X-GitHub-Event"); !github.empty()) {
    event.provider = WebhookProvider::kGitHub;
    event.event = std::string(github);
  } else if (absl::string_view gitlab = request.Header("X-Gitlab-Event"); !gitlab.empty()) {
    event.provider = WebhookProvider::kGitLab;
    event.event = std::string(gitlab);
  } else if (!request.Header("X-Hook-UUID").empty()) {
    event.provider = WebhookProvider::kBitbucket;
    event.event = std::string(request.Header("X-Event-Key"));
    if (event.event.empty()) {
      return absl::InvalidArgumentError(
          "Bitbucket Cloud webhook (X-Hook-UUID) without an X-Event-Key header");
    }
  } else if (absl::string_view key = request.Header("X-Event-Key"); !key.empty()) {
    event.provider = WebhookProvider::kBitbucketServer;
    event.event = std::string(key);
  } else if (!request.Header("X-Vss-ActivityId").empty() ||
             !request.Header("X-Vss-SubscriptionId").empty()) {
    event.provider = WebhookProvider::kAzureDevOps;  // the event is in the body
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("not a webhook from a known Git provider: none of the headers ",
                     kProviderHeaders, " is present"));
  }
  return event;
}

// Fills ref, commit and URLs from a push payload; `deleted` is set when the
// payload says the ref was removed.
absl::Status ReadGitHub(const Json& p, WebhookEvent* e, bool* deleted) {
  ASSIGN_OR_RETURN(e->ref, StringField(p, "", {"ref"}));
  ASSIGN_OR_RETURN(e->commit, StringField(p, "", {"after"}));
  ASSIGN_OR_RETURN(const Json* gone, FindField(p, "", {"deleted"}));
  *deleted = gone != nullptr && gone->is_boolean() && gone->get<bool>();
  for (const char* field : {"html_url", "clone_url", "ssh_url"}) {
    ASSIGN_OR_RETURN(std::string url, StringField(p, "", {"repository", field}));
    AddUrl(e, std::move(url));
  }
  return absl::OkStatus();
}

// Gogs' and Gitea's push payload is GitHub's shape (go-gogs-client PushPayload).
absl::Status ReadGogs(const Json& p, WebhookEvent* e) {
  ASSIGN_OR_RETURN(e->ref, StringField(p, "", {"ref"}));
  ASSIGN_OR_RETURN(e->commit, StringField(p, "", {"after"}));
  for (const char* field : {"html_url", "clone_url", "ssh_url"}) {
    ASSIGN_OR_RETURN(std::string url, StringField(p, "", {"repository", field}));
    AddUrl(e, std::move(url));
  }
  return absl::OkStatus();
}

// Fleet takes checkout_sha (null when a branch is deleted), project.web_url
// and project.git_ssh_url; the HTTP clone URL and the older repository.*
// fields name the same project.
absl::Status ReadGitLab(const Json& p, WebhookEvent* e, bool* deleted) {
  ASSIGN_OR_RETURN(e->ref, StringField(p, "", {"ref"}));
  ASSIGN_OR_RETURN(e->commit, StringField(p, "", {"checkout_sha"}));
  ASSIGN_OR_RETURN(std::string after, StringField(p, "", {"after"}));
  *deleted =
      e->commit.empty() && !after.empty() && after.find_first_not_of('0') == std::string::npos;
  for (const char* field : {"web_url", "git_http_url", "git_ssh_url"}) {
    ASSIGN_OR_RETURN(std::string url, StringField(p, "", {"project", field}));
    AddUrl(e, std::move(url));
  }
  for (const char* field : {"homepage", "git_http_url", "git_ssh_url"}) {
    ASSIGN_OR_RETURN(std::string url, StringField(p, "", {"repository", field}));
    AddUrl(e, std::move(url));
  }
  return absl::OkStatus();
}

// repository.links.html.href; the first of push.changes: new.{type,name,target.hash}
// (new is null when the branch or tag was deleted).
absl::Status ReadBitbucket(const Json& p, WebhookEvent* e, bool* deleted) {
  ASSIGN_OR_RETURN(std::string html, StringField(p, "", {"repository", "links", "html", "href"}));
  AddUrl(e, std::move(html));
  ASSIGN_OR_RETURN(const Json* change, FirstElement(p, {"push", "changes"}, "push.changes"));
  if (change == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Json* next, FindField(*change, "push.changes[0]", {"new"}));
  ASSIGN_OR_RETURN(const Json* old, FindField(*change, "push.changes[0]", {"old"}));
  const Json* ref_side = next != nullptr ? next : old;
  const char* side = next != nullptr ? "push.changes[0].new" : "push.changes[0].old";
  if (ref_side == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string type, StringField(*ref_side, side, {"type"}));
  ASSIGN_OR_RETURN(std::string name, StringField(*ref_side, side, {"name"}));
  if (type == "branch") {
    e->ref = absl::StrCat(kBranchPrefix, name);
  } else if (type == "tag" || type == "annotated_tag") {
    e->ref = absl::StrCat(kTagPrefix, name);
  }
  if (next == nullptr) {
    *deleted = true;
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(e->commit, StringField(*next, side, {"target", "hash"}));
  return absl::OkStatus();
}

// repository.links.clone[] entries named "http" and "ssh"; the first of
// changes: refId, toHash, type (DELETE when the ref was removed).
absl::Status ReadBitbucketServer(const Json& p, WebhookEvent* e, bool* deleted) {
  ASSIGN_OR_RETURN(const Json* clone, FindField(p, "", {"repository", "links", "clone"}));
  if (clone != nullptr) {
    if (!clone->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat("payload field repository.links.clone is a JSON ", clone->type_name(),
                       ", expected an array"));
    }
    for (const Json& link : *clone) {
      if (!link.is_object()) continue;
      ASSIGN_OR_RETURN(std::string name, StringField(link, "repository.links.clone[]", {"name"}));
      if (name != "http" && name != "ssh") continue;
      ASSIGN_OR_RETURN(std::string href, StringField(link, "repository.links.clone[]", {"href"}));
      AddUrl(e, std::move(href));
    }
  }
  ASSIGN_OR_RETURN(const Json* change, FirstElement(p, {"changes"}, "changes"));
  if (change == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(e->ref, StringField(*change, "changes[0]", {"refId"}));
  ASSIGN_OR_RETURN(e->commit, StringField(*change, "changes[0]", {"toHash"}));
  ASSIGN_OR_RETURN(std::string type, StringField(*change, "changes[0]", {"type"}));
  *deleted = type == "DELETE";
  return absl::OkStatus();
}

// resource.repository.remoteUrl (and sshUrl/webUrl when present); the first of
// resource.refUpdates: name, newObjectId.
absl::Status ReadAzureDevOps(const Json& p, WebhookEvent* e) {
  for (const char* field : {"remoteUrl", "webUrl", "sshUrl"}) {
    ASSIGN_OR_RETURN(std::string url, StringField(p, "", {"resource", "repository", field}));
    std::string modern = AzureDevOpsUrl(url);
    AddUrl(e, std::move(url));
    AddUrl(e, std::move(modern));
  }
  ASSIGN_OR_RETURN(const Json* update,
                   FirstElement(p, {"resource", "refUpdates"}, "resource.refUpdates"));
  if (update == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(e->ref, StringField(*update, "resource.refUpdates[0]", {"name"}));
  ASSIGN_OR_RETURN(e->commit, StringField(*update, "resource.refUpdates[0]", {"newObjectId"}));
  return absl::OkStatus();
}

constexpr absl::string_view UrlFieldsOf(WebhookProvider provider) {
  switch (provider) {
    case WebhookProvider::kGitHub:
    case WebhookProvider::kGogs:
    case WebhookProvider::kGitea:
      return "repository.html_url, repository.clone_url, repository.ssh_url";
    case WebhookProvider::kGitLab:
      return "project.web_url, project.git_http_url, project.git_ssh_url";
    case WebhookProvider::kBitbucket:
      return "repository.links.html.href";
    case WebhookProvider::kBitbucketServer:
      return "repository.links.clone[].href";
    case WebhookProvider::kAzureDevOps:
      return "resource.repository.remoteUrl";
  }
  return "";
}

// ---------------------------------------------------------------------------
// Authentication

std::string OpenSslError() {
  unsigned long code = ERR_get_error();  // NOLINT(runtime/int): OpenSSL's type
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

absl::StatusOr<std::string> HmacSha256(absl::string_view key, absl::string_view data) {
  if (key.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError("webhook secret is too long");
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
           &mac_len) == nullptr) {
    return absl::InternalError(absl::StrCat("HMAC-SHA256: ", OpenSslError()));
  }
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> DecodeHex(absl::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// Compares secrets of any length in constant time: the digests have a fixed
// size, so neither the length nor the first differing byte shows.
bool SecretEquals(absl::string_view a, absl::string_view b) {
  std::string da = common::Sha256Raw(a);
  std::string db = common::Sha256Raw(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

class Verifier {
 public:
  Verifier(const WebhookRequest& request, WebhookProvider provider, const WebhookSecretData& secret,
           absl::string_view secret_name)
      : request_(request),
        provider_(WebhookProviderName(provider)),
        secret_(secret),
        secret_name_(secret_name) {}

  // The value of `key`; FailedPrecondition when it is missing or empty (Fleet's
  // getValue errors on a missing key; an empty one would switch checks off in
  // go-playground/webhooks, which Flotilla refuses to do silently).
  absl::StatusOr<std::string> Key(absl::string_view key) const {
    auto it = secret_.find(std::string(key));
    if (it == secret_.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("secret \"", secret_name_, "\" has no key \"", key, "\", which verifies ",
                       provider_, " hooks"));
    }
    if (it->second.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("key \"", key, "\" of secret \"", secret_name_, "\" is empty"));
    }
    return it->second;
  }

  absl::Status Unauthenticated(absl::string_view problem) const {
    return absl::UnauthenticatedError(absl::StrCat(provider_, " webhook: ", problem));
  }

  // `signature` is the hex HMAC-SHA256 of the body under `key`.
  absl::Status CheckHmac(absl::string_view header, absl::string_view signature,
                         absl::string_view key, absl::string_view value) const {
    std::optional<std::string> claimed = DecodeHex(signature);
    if (!claimed.has_value() || claimed->size() != 32) {
      return Unauthenticated(absl::StrCat(header, " is not a hex HMAC-SHA256"));
    }
    ASSIGN_OR_RETURN(std::string expected, HmacSha256(value, request_.body));
    if (CRYPTO_memcmp(expected.data(), claimed->data(), expected.size()) != 0) {
      return Unauthenticated(absl::StrCat(header, " does not match the body signed with key \"",
                                          key, "\" of secret \"", secret_name_, "\""));
    }
    return absl::OkStatus();
  }

  absl::Status MissingHeader(absl::string_view header, absl::string_view note = "") const {
    return Unauthenticated(absl::StrCat("no ", header, " header, but secret \"", secret_name_,
                                        "\" requires one", note));
  }

  // X-Hub-Signature-256: sha256=<hex> ("sha256=" optional, as in
  // go-playground/webhooks github.go). The SHA-1 X-Hub-Signature is not used.
  absl::Status GitHub() const {
    ASSIGN_OR_RETURN(std::string value, Key(kWebhookKeyGitHub));
    absl::string_view signature = request_.Header("X-Hub-Signature-256");
    if (signature.empty()) {
      return MissingHeader("X-Hub-Signature-256",
                           request_.Header("X-Hub-Signature").empty()
                               ? ""
                               : " (the SHA-1 X-Hub-Signature is not accepted)");
    }
    absl::ConsumePrefix(&signature, "sha256=");
    return CheckHmac("X-Hub-Signature-256", signature, kWebhookKeyGitHub, value);
  }

  // X-Gogs-Signature: <hex> (Gitea and Forgejo send the same value as
  // X-Gitea-Signature too).
  absl::Status Gogs() const {
    ASSIGN_OR_RETURN(std::string value, Key(kWebhookKeyGogs));
    absl::string_view header = "X-Gogs-Signature";
    absl::string_view signature = request_.Header(header);
    if (signature.empty()) {
      header = "X-Gitea-Signature";
      signature = request_.Header(header);
    }
    if (signature.empty()) return MissingHeader("X-Gogs-Signature or X-Gitea-Signature");
    return CheckHmac(header, signature, kWebhookKeyGogs, value);
  }

  // X-Gitlab-Token is the secret itself.
  absl::Status GitLab() const {
    ASSIGN_OR_RETURN(std::string value, Key(kWebhookKeyGitLab));
    absl::string_view token = request_.Header("X-Gitlab-Token");
    if (token.empty()) return MissingHeader("X-Gitlab-Token");
    if (!SecretEquals(token, value)) {
      return Unauthenticated(absl::StrCat("X-Gitlab-Token does not match key \"", kWebhookKeyGitLab,
                                          "\" of secret \"", secret_name_, "\""));
    }
    return absl::OkStatus();
  }

  // Bitbucket Cloud signs nothing that Fleet checks: the hook's UUID
  // (X-Hook-UUID) must equal the key.
  absl::Status Bitbucket() const {
    ASSIGN_OR_RETURN(std::string value, Key(kWebhookKeyBitbucket));
    absl::string_view uuid = request_.Header("X-Hook-UUID");
    if (uuid.empty()) return MissingHeader("X-Hook-UUID");
    if (!SecretEquals(uuid, value)) {
      return Unauthenticated(absl::StrCat("X-Hook-UUID does not match key \"", kWebhookKeyBitbucket,
                                          "\" of secret \"", secret_name_, "\""));
    }
    return absl::OkStatus();
  }

  // X-Hub-Signature: sha256=<hex>.
  absl::Status BitbucketServer() const {
    ASSIGN_OR_RETURN(std::string value, Key(kWebhookKeyBitbucketServer));
    absl::string_view signature = request_.Header("X-Hub-Signature");
    if (signature.empty()) return MissingHeader("X-Hub-Signature");
    if (!absl::ConsumePrefix(&signature, "sha256=")) {
      return Unauthenticated("X-Hub-Signature does not start with \"sha256=\"");
    }
    return CheckHmac("X-Hub-Signature", signature, kWebhookKeyBitbucketServer, value);
  }

  // HTTP basic authentication with azure-username and azure-password.
  absl::Status AzureDevOps() const {
    ASSIGN_OR_RETURN(std::string username, Key(kWebhookKeyAzureUsername));
    ASSIGN_OR_RETURN(std::string password, Key(kWebhookKeyAzurePassword));
    absl::string_view auth = request_.Header("Authorization");
    if (auth.empty()) return MissingHeader("Authorization");
    if (auth.size() < 6 || !absl::EqualsIgnoreCase(auth.substr(0, 6), "Basic ")) {
      return Unauthenticated("Authorization is not HTTP basic authentication");
    }
    absl::StatusOr<std::string> decoded =
        common::Base64Decode(absl::StripAsciiWhitespace(auth.substr(6)));
    if (!decoded.ok()) return Unauthenticated("Authorization is not valid base64");
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) {
      return Unauthenticated("Authorization holds no \"username:password\"");
    }
    // Both comparisons always run, so the time does not tell which one failed.
    bool user_ok = SecretEquals(absl::string_view(*decoded).substr(0, colon), username);
    bool password_ok = SecretEquals(absl::string_view(*decoded).substr(colon + 1), password);
    if (!(user_ok & password_ok)) {
      return Unauthenticated(absl::StrCat(
          "basic authentication does not match keys \"", kWebhookKeyAzureUsername, "\" and \"",
          kWebhookKeyAzurePassword, "\" of secret \"", secret_name_, "\""));
    }
    return absl::OkStatus();
  }

 private:
  const WebhookRequest& request_;
  absl::string_view provider_;
  const WebhookSecretData& secret_;
  absl::string_view secret_name_;
};

std::string ShortCommit(absl::string_view commit) { return std::string(commit.substr(0, 12)); }

// The --from-literal argument(s) a secret for `provider` needs.
std::string ProviderKeyHint(WebhookProvider provider) {
  switch (provider) {
    case WebhookProvider::kGitHub:
      return absl::StrCat(kWebhookKeyGitHub, "=<secret>");
    case WebhookProvider::kGogs:
    case WebhookProvider::kGitea:
      return absl::StrCat(kWebhookKeyGogs, "=<secret>");
    case WebhookProvider::kGitLab:
      return absl::StrCat(kWebhookKeyGitLab, "=<token>");
    case WebhookProvider::kBitbucket:
      return absl::StrCat(kWebhookKeyBitbucket, "=<hook UUID>");
    case WebhookProvider::kBitbucketServer:
      return absl::StrCat(kWebhookKeyBitbucketServer, "=<secret>");
    case WebhookProvider::kAzureDevOps:
      return absl::StrCat(kWebhookKeyAzureUsername, "=<user> --from-literal ",
                          kWebhookKeyAzurePassword, "=<password>");
  }
  return "<provider>=<secret>";
}

}  // namespace

absl::string_view WebhookProviderName(WebhookProvider provider) {
  switch (provider) {
    case WebhookProvider::kGogs:
      return "Gogs";
    case WebhookProvider::kGitea:
      return "Gitea";
    case WebhookProvider::kGitHub:
      return "GitHub";
    case WebhookProvider::kGitLab:
      return "GitLab";
    case WebhookProvider::kBitbucket:
      return "Bitbucket Cloud";
    case WebhookProvider::kBitbucketServer:
      return "Bitbucket Server";
    case WebhookProvider::kAzureDevOps:
      return "Azure DevOps";
  }
  return "unknown";
}

absl::string_view WebhookRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

absl::StatusOr<WebhookEvent> ParseWebhookEvent(const WebhookRequest& request) {
  if (request.body.size() > kMaxWebhookBodyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("webhook body is ", request.body.size(),
                                                   " bytes; the limit is ", kMaxWebhookBodyBytes));
  }
  ASSIGN_OR_RETURN(WebhookEvent event, Identify(request));
  absl::string_view provider = WebhookProviderName(event.provider);

  // Pings and other events need no body (Fleet answers GitHub's ping before
  // reading it). Azure DevOps names its event in the body.
  if (event.provider != WebhookProvider::kAzureDevOps) {
    switch (Classify(event.provider, event.event)) {
      case EventKind::kPing:
        event.ping = true;
        return event;
      case EventKind::kOther:
        event.ignored = absl::StrCat(provider, " event \"", event.event, "\" is not a push");
        return event;
      case EventKind::kPush:
        break;
    }
  }

  ASSIGN_OR_RETURN(Json payload, ParseJsonBody(request.body));
  bool deleted = false;
  switch (event.provider) {
    case WebhookProvider::kGitHub:
      RETURN_IF_ERROR(ReadGitHub(payload, &event, &deleted));
      break;
    case WebhookProvider::kGogs:
    case WebhookProvider::kGitea:
      RETURN_IF_ERROR(ReadGogs(payload, &event));
      break;
    case WebhookProvider::kGitLab:
      RETURN_IF_ERROR(ReadGitLab(payload, &event, &deleted));
      break;
    case WebhookProvider::kBitbucket:
      RETURN_IF_ERROR(ReadBitbucket(payload, &event, &deleted));
      break;
    case WebhookProvider::kBitbucketServer:
      RETURN_IF_ERROR(ReadBitbucketServer(payload, &event, &deleted));
      break;
    case WebhookProvider::kAzureDevOps: {
      ASSIGN_OR_RETURN(event.event, StringField(payload, "", {"eventType"}));
      if (Classify(event.provider, event.event) != EventKind::kPush) {
        event.ignored = absl::StrCat(provider, " event \"", event.event, "\" is not a push");
        return event;
      }
      RETURN_IF_ERROR(ReadAzureDevOps(payload, &event));
      break;
    }
  }

  if (event.repo_urls.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(provider, " ", event.event,
                                                   " payload names no repository (looked at ",
                                                   UrlFieldsOf(event.provider), ")"));
  }
  if (absl::StartsWith(event.ref, kBranchPrefix)) {
    event.branch = event.ref.substr(sizeof(kBranchPrefix) - 1);
  } else if (absl::StartsWith(event.ref, kTagPrefix)) {
    event.tag = event.ref.substr(sizeof(kTagPrefix) - 1);
  }
  // A deleted ref arrives with an all-zero new commit: nothing to fetch.
  if (deleted ||
      (!event.commit.empty() && event.commit.find_first_not_of('0') == std::string::npos)) {
    event.commit.clear();
    event.ignored = absl::StrCat(event.ref.empty() ? "the ref" : event.ref, " was deleted");
  } else if (event.commit.empty()) {
    event.ignored = absl::StrCat(provider, " ", event.event, " names no new commit");
  }
  return event;
}

bool WebhookRepoUrlMatches(absl::string_view payload_url, absl::string_view gitrepo_url) {
  std::optional<RepoLocation> payload = ParseRepoLocation(payload_url);
  std::optional<RepoLocation> gitrepo = ParseRepoLocation(gitrepo_url);
  if (!payload.has_value() || !gitrepo.has_value()) return false;
  absl::string_view path = TrimGitSuffix(payload->path);
  if (path.empty()) return false;  // Fleet skips URLs without a path

  // HOST, or ssh.HOST after "git@" (Azure DevOps: git@ssh.dev.azure.com).
  bool host_ok = absl::EqualsIgnoreCase(gitrepo->host, payload->host) ||
                 (absl::EqualsIgnoreCase(gitrepo->user, "git") &&
                  absl::EqualsIgnoreCase(gitrepo->host, absl::StrCat("ssh.", payload->host)));
  if (!host_ok) return false;

  // PATH, or PATH without its first "/_git/" segment.
  std::vector<std::string> wanted = {std::string(path)};
  if (size_t git = path.find("/_git/"); git != absl::string_view::npos) {
    wanted.push_back(absl::StrCat(path.substr(0, git), path.substr(git + 5)));
  }
  // The GitRepo's path, with an optional "v<digit>/" in front and ".git" after.
  absl::string_view have = gitrepo->path;
  std::vector<absl::string_view> candidates = {have, TrimGitSuffix(have)};
  if (have.size() > 3 && (have[0] == 'v' || have[0] == 'V') &&
      absl::ascii_isdigit(static_cast<unsigned char>(have[1])) && have[2] == '/') {
    absl::string_view rest = have.substr(3);
    candidates.push_back(rest);
    candidates.push_back(TrimGitSuffix(rest));
  }
  for (absl::string_view candidate : candidates) {
    for (const std::string& w : wanted) {
      if (absl::EqualsIgnoreCase(candidate, w)) return true;
    }
  }
  return false;
}

WebhookMatch MatchWebhookGitRepos(const WebhookEvent& event,
                                  const std::vector<WebhookGitRepo>& gitrepos) {
  WebhookMatch match;
  if (event.ping || !event.ignored.empty() || event.commit.empty()) return match;
  for (const WebhookGitRepo& gitrepo : gitrepos) {
    bool url_ok = false;
    for (const std::string& url : event.repo_urls) {
      if (WebhookRepoUrlMatches(url, gitrepo.repo)) {
        url_ok = true;
        break;
      }
    }
    if (!url_ok) continue;
    if (!gitrepo.revision.empty()) {
      match.skipped.push_back(
          {gitrepo.name, absl::StrCat("pinned to revision ", gitrepo.revision)});
    } else if (!gitrepo.branch.empty() && gitrepo.branch != event.branch) {
      match.skipped.push_back(
          {gitrepo.name, absl::StrCat("follows branch ", gitrepo.branch, "; the push was to ",
                                      event.ref.empty() ? "no branch" : event.ref)});
    } else if (gitrepo.known_commit == event.commit) {
      match.skipped.push_back({gitrepo.name, absl::StrCat("already at ", event.commit)});
    } else {
      match.fetch.push_back(&gitrepo);
    }
  }
  return match;
}

absl::Status VerifyWebhook(const WebhookRequest& request, WebhookProvider provider,
                           const WebhookSecretData& secret, absl::string_view secret_name) {
  Verifier verifier(request, provider, secret, secret_name);
  switch (provider) {
    case WebhookProvider::kGitHub:
      return verifier.GitHub();
    case WebhookProvider::kGogs:
    case WebhookProvider::kGitea:
      return verifier.Gogs();
    case WebhookProvider::kGitLab:
      return verifier.GitLab();
    case WebhookProvider::kBitbucket:
      return verifier.Bitbucket();
    case WebhookProvider::kBitbucketServer:
      return verifier.BitbucketServer();
    case WebhookProvider::kAzureDevOps:
      return verifier.AzureDevOps();
  }
  return absl::InternalError("unknown webhook provider");
}

bool WebhookOutcome::AnyUnverified() const {
  for (const WebhookTrigger& trigger : fetch) {
    if (!trigger.verified) return true;
  }
  return false;
}

absl::StatusOr<WebhookOutcome> HandleWebhook(const WebhookRequest& request,
                                             const std::vector<WebhookGitRepo>& gitrepos,
                                             const WebhookSecretLookup& lookup_secret,
                                             absl::string_view global_secret_name) {
  if (request.method != "POST") {
    return absl::InvalidArgumentError(
        absl::StrCat("webhooks are sent with POST, not ", request.method));
  }
  WebhookOutcome outcome;
  ASSIGN_OR_RETURN(outcome.event, ParseWebhookEvent(request));
  const WebhookEvent& event = outcome.event;
  if (event.ping) {
    outcome.message = absl::StrCat("ping from ", WebhookProviderName(event.provider), " received");
    return outcome;
  }
  if (!event.ignored.empty()) {
    outcome.message = absl::StrCat("ignored: ", event.ignored);
    return outcome;
  }

  WebhookMatch match = MatchWebhookGitRepos(event, gitrepos);
  outcome.skipped = std::move(match.skipped);

  // One lookup and one check per secret, however many GitRepos share it.
  std::map<std::string, absl::StatusOr<WebhookSecretData>> secrets;
  std::map<std::string, absl::Status> verdicts;
  for (const WebhookGitRepo* gitrepo : match.fetch) {
    WebhookTrigger trigger{gitrepo->name, event.commit, false, ""};
    const bool own = !gitrepo->webhook_secret.empty();
    const std::string name(own ? absl::string_view(gitrepo->webhook_secret) : global_secret_name);
    const std::string context = absl::StrCat("GitRepo \"", gitrepo->name, "\"");
    if (!name.empty()) {
      auto found = secrets.find(name);
      if (found == secrets.end()) found = secrets.emplace(name, lookup_secret(name)).first;
      const absl::StatusOr<WebhookSecretData>& secret = found->second;
      if (secret.ok()) {
        auto verdict = verdicts.find(name);
        if (verdict == verdicts.end()) {
          verdict =
              verdicts.emplace(name, VerifyWebhook(request, event.provider, *secret, name)).first;
        }
        RETURN_IF_ERROR(common::Annotate(verdict->second, context));
        trigger.verified = true;
        trigger.secret = name;
      } else if (!absl::IsNotFound(secret.status())) {
        return common::Annotate(
            secret.status(), absl::StrCat(context, ": looking up webhook secret \"", name, "\""));
      } else if (own) {
        // Fleet: "when the secret has been defined in the GitRepo it must exist".
        return absl::FailedPreconditionError(
            absl::StrCat(context, ": webhookSecret \"", name,
                         "\" does not exist (create it with `flotilla secret create generic ", name,
                         " --from-literal ", ProviderKeyHint(event.provider), "`)"));
      }
      // No GitRepo secret and no global secret: accepted unverified, as Fleet does.
    }
    outcome.fetch.push_back(std::move(trigger));
  }

  if (outcome.fetch.empty()) {
    outcome.message = outcome.skipped.empty()
                          ? absl::StrCat("no GitRepo follows ", event.repo_urls.front())
                          : absl::StrCat("no GitRepo to fetch: ", outcome.skipped.size(),
                                         " follow the repository but were skipped");
    return outcome;
  }
  std::vector<std::string> names;
  for (const WebhookTrigger& trigger : outcome.fetch) {
    names.push_back(trigger.verified ? trigger.gitrepo
                                     : absl::StrCat(trigger.gitrepo, " (unverified)"));
  }
  outcome.message =
      absl::StrCat("fetching ", absl::StrJoin(names, ", "), " for ",
                   event.ref.empty() ? "commit" : event.ref, " ", ShortCommit(event.commit));
  return outcome;
}

}  // namespace flotilla::manager
