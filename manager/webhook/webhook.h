// Git hosting webhooks: which GitRepos to fetch now because a provider says
// a branch moved. A pure library: no sockets, no store, no clock. The manager's
// HTTP port (cpp-httplib) serves POST /webhooks, copies the request into a
// WebhookRequest, and calls HandleWebhook with the current GitRepos and a
// secret lookup; it then asks the controller to fetch the returned GitRepos.
//
// Reproduces Rancher Fleet's pkg/webhook/webhook.go and parser.go (rancher/fleet
// at 3b2c622), which parse with github.com/go-playground/webhooks v6.4.0.
//
// Per provider: the header that identifies it, the push event(s), and what
// authenticates it (with the secret key it uses).
//   Gogs, Gitea       X-Gogs-Event or X-Gitea-Event: "push";
//                     X-Gogs-Signature: hex HMAC-SHA256 of the body (gogs)
//   GitHub            X-GitHub-Event: "push" ("ping" is answered);
//                     X-Hub-Signature-256: sha256=<hex HMAC-SHA256> (github)
//   GitLab            X-Gitlab-Event: "Push Hook", "Tag Push Hook";
//                     X-Gitlab-Token equals the key (gitlab)
//   Bitbucket Cloud   X-Hook-UUID, with X-Event-Key: "repo:push";
//                     X-Hook-UUID equals the key (bitbucket)
//   Bitbucket Server  X-Event-Key: "repo:refs_changed" ("diagnostics:ping" is answered);
//                     X-Hub-Signature: sha256=<hex HMAC-SHA256> (bitbucket-server)
//   Azure DevOps      X-Vss-ActivityId or X-Vss-SubscriptionId, body eventType "git.push";
//                     HTTP basic auth (azure-username, azure-password)
//
// The headers are tried in that order (Fleet's: Gitea also sends X-GitHub-Event
// and X-Hub-Signature-256, so the Gogs family comes first). GitHub's SHA-1
// X-Hub-Signature is not accepted, as in Fleet.
//
// Flow (HandleWebhook), as in Fleet's ServeHTTP:
//   1. Identify the provider and the event. Pings and non-push events change
//      nothing and need no authentication.
//   2. Parse the payload: repository URLs, ref (branch or tag) and new commit.
//   3. Match GitRepos (MatchWebhookGitRepos): the URL, then the branch; GitRepos
//      pinned to a revision are never triggered.
//   4. Authenticate per matched GitRepo, with its spec.webhookSecret (which must
//      exist) or else the global secret "gitjob-webhook" (optional). A GitRepo
//      with neither is accepted unverified, as Fleet still does (deprecated
//      there); the trigger says so, and the caller should log a warning.
//
// Where Flotilla differs from Fleet on purpose (docs/webhooks.md):
//   - All or nothing: if any matched GitRepo fails authentication the whole
//     request fails and no GitRepo is triggered (Fleet patches the GitRepos it
//     reached before the failing one).
//   - Non-push events of a known provider are answered OK with a reason (Fleet:
//     500); unknown providers are InvalidArgument (Fleet: 200, ignored).
//   - Branch deletions (all-zero new commit) trigger nothing.
//   - URL matching is anchored at the start of the GitRepo URL, ignores a
//     trailing "/", strips ".git" from every payload URL and accepts git://.
//   - An empty key in a secret is a configuration error, never "no check".
//
// Errors (the code says what the HTTP answer should be):
//   InvalidArgument     400: not POST, body over kMaxWebhookBodyBytes, JSON
//                       invalid or nested deeper than kMaxWebhookJsonDepth,
//                       unknown provider, payload without repository or with a
//                       field of the wrong type.
//   Unauthenticated     401: a signature, token, UUID or password is missing,
//                       malformed or wrong while a secret is configured.
//   FailedPrecondition  500: the GitRepo's webhookSecret does not exist, or the
//                       secret lacks (or has an empty) key for this provider.
//   anything else       from the secret lookup, passed on (e.g. Unavailable).
// Messages name GitRepos and secrets (never secret values); log them, and send
// the client only the status line.
//
// Threading: every function is pure and may be called from any thread; the
// secret lookup is called on the caller's thread.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace flotilla::manager {

// Larger bodies are refused before any parsing. GitHub caps payloads at
// 25 MB but truncates commit lists long before; 10 MiB fits every push the
// providers send. The HTTP server should refuse larger bodies itself
// (httplib::Server::set_payload_max_length) so they are never buffered.
inline constexpr size_t kMaxWebhookBodyBytes = 10 * 1024 * 1024;
// Deepest JSON nesting accepted ([ and { levels); real payloads stay under 10.
inline constexpr int kMaxWebhookJsonDepth = 64;

// Fleet's global secret (webhookSecretName in pkg/webhook/webhook.go), used for
// GitRepos that set no spec.webhookSecret.
inline constexpr char kGlobalWebhookSecretName[] = "gitjob-webhook";

// Keys of a webhook secret, one per provider (Fleet's pkg/webhook/parser.go).
// Gitea hooks use the gogs key, as in Fleet.
inline constexpr char kWebhookKeyGitHub[] = "github";
inline constexpr char kWebhookKeyGitLab[] = "gitlab";
inline constexpr char kWebhookKeyBitbucket[] = "bitbucket";
inline constexpr char kWebhookKeyBitbucketServer[] = "bitbucket-server";
inline constexpr char kWebhookKeyGogs[] = "gogs";
inline constexpr char kWebhookKeyAzureUsername[] = "azure-username";
inline constexpr char kWebhookKeyAzurePassword[] = "azure-password";

enum class WebhookProvider {
  kGogs,
  kGitea,  // Gitea and Forgejo: Gogs-compatible, authenticated like Gogs
  kGitHub,
  kGitLab,
  kBitbucket,        // Bitbucket Cloud
  kBitbucketServer,  // Bitbucket Server / Data Center
  kAzureDevOps,
};

// "GitHub", "Bitbucket Server", ... for logs and messages.
absl::string_view WebhookProviderName(WebhookProvider provider);

// One HTTP request as received. Nothing is owned but the headers.
struct WebhookRequest {
  std::string method = "POST";
  // As received. Names compare case-insensitively; for a repeated name the
  // first value counts, and an empty value counts as absent (Go's Header.Get).
  std::vector<std::pair<std::string, std::string>> headers;
  // The raw body, exactly as signed. Must outlive every call that takes the
  // request.
  absl::string_view body;

  // The first value of header `name`, or "" when absent.
  absl::string_view Header(absl::string_view name) const;
};

// What a webhook says, before any authentication.
struct WebhookEvent {
  WebhookProvider provider = WebhookProvider::kGitHub;
  // The provider's event name: "push", "Push Hook", "repo:push",
  // "repo:refs_changed", "git.push", "ping", ...
  std::string event;
  // A ping (GitHub "ping", Bitbucket Server "diagnostics:ping"): answer OK.
  bool ping = false;
  // Non-empty when the event asks for nothing: not a push, a deleted ref, or no
  // new commit. The reason, for logs and the response body.
  std::string ignored;
  // Every repository URL the payload offers (web, HTTP clone, SSH), as sent,
  // deduplicated; Azure DevOps *.visualstudio.com URLs also in their
  // dev.azure.com form.
  std::vector<std::string> repo_urls;
  std::string ref;     // "refs/heads/main", "refs/tags/v1.0", or ""
  std::string branch;  // ref without "refs/heads/"; "" for tags
  std::string tag;     // ref without "refs/tags/"; "" for branches
  std::string commit;  // the new commit id; "" when the event names none
};

// Identifies the provider and reads the event and payload. Does not
// authenticate: a result here proves nothing about the sender. Errors are
// InvalidArgument (see the top of this file).
absl::StatusOr<WebhookEvent> ParseWebhookEvent(const WebhookRequest& request);

// What matching needs of a GitRepo.
struct WebhookGitRepo {
  std::string name;
  std::string repo;            // spec.repo
  std::string branch;          // spec.branch; "" matches any branch (Fleet); Flotilla's
                               // parser fills "master" when branch and revision are unset
  std::string revision;        // spec.revision; when set the GitRepo is never triggered
  std::string webhook_secret;  // spec.webhookSecret; "" = the global secret
  // The last commit the GitRepo fetched or was told about (Fleet's
  // status.webhookCommit); an event announcing this same commit triggers
  // nothing. "" = unknown.
  std::string known_commit;
};

// A GitRepo whose URL matched but which is not triggered, and why.
struct WebhookSkip {
  std::string gitrepo;
  std::string reason;
};

struct WebhookMatch {
  // Points into the `gitrepos` argument, in its order, each GitRepo once.
  std::vector<const WebhookGitRepo*> fetch;
  std::vector<WebhookSkip> skipped;
};

// Fleet's matching: a GitRepo is triggered when one of the event's URLs
// matches its repo (WebhookRepoUrlMatches), it pins no revision, its branch
// (if set) is the pushed branch, and the commit is new to it. An event that is
// a ping, is ignored or names no commit matches nothing.
WebhookMatch MatchWebhookGitRepos(const WebhookEvent& event,
                                  const std::vector<WebhookGitRepo>& gitrepos);

// Whether a URL from a payload names the repository of a GitRepo URL. Fleet
// builds a case-insensitive regex from the payload URL's host and path:
//   (http://|https://|\w+@|ssh://(\w+@)?|git@(ssh\.)?)HOST(:[0-9]+|)[:/](v\d/)?PATH(\.git)?$
// with the first "/_git/" of PATH optional (Azure DevOps). So these name the
// same repository: https://github.com/o/r, https://GitHub.com/o/r.git,
// http://github.com:8080/o/r, git@github.com:o/r.git, ssh://git@github.com/o/r,
// https://user@github.com/o/r/; and git@ssh.dev.azure.com:v3/org/p/r names
// https://dev.azure.com/org/p/_git/r. Ports and schemes are not compared.
bool WebhookRepoUrlMatches(absl::string_view payload_url, absl::string_view gitrepo_url);

// Secret data as stored (key -> value).
using WebhookSecretData = std::map<std::string, std::string>;

// Authenticates `request` as a hook from `provider` with the keys of one
// secret (named `secret_name` in messages). OK, Unauthenticated, or
// FailedPrecondition when the secret lacks the provider's key or it is empty.
// Comparisons take constant time (CRYPTO_memcmp).
absl::Status VerifyWebhook(const WebhookRequest& request, WebhookProvider provider,
                           const WebhookSecretData& secret, absl::string_view secret_name);

// Looks a secret up by name in the manager's secret store. NotFound when it
// does not exist; any other error fails the request with that error.
using WebhookSecretLookup = std::function<absl::StatusOr<WebhookSecretData>(absl::string_view)>;

// A GitRepo to fetch now.
struct WebhookTrigger {
  std::string gitrepo;
  std::string commit;  // the commit the hook announced (a hint: fetch the branch)
  // False when no secret applies to this GitRepo (neither its webhookSecret
  // nor the global one exists): accepted as Fleet does, but the caller should
  // log "unverified webhook accepted for GitRepo X" and urge a secret.
  bool verified = false;
  std::string secret;  // the secret that verified it; "" when unverified
};

struct WebhookOutcome {
  WebhookEvent event;
  std::vector<WebhookTrigger> fetch;
  std::vector<WebhookSkip> skipped;
  // One line for logs and the response body: "ping", the ignored reason, or
  // what was triggered.
  std::string message;

  bool AnyUnverified() const;
};

// The whole webhook: parse, match, authenticate (see the top of this file).
// On error nothing may be triggered. `global_secret_name` "" disables the
// global secret.
absl::StatusOr<WebhookOutcome> HandleWebhook(
    const WebhookRequest& request, const std::vector<WebhookGitRepo>& gitrepos,
    const WebhookSecretLookup& lookup_secret,
    absl::string_view global_secret_name = kGlobalWebhookSecretName);

}  // namespace flotilla::manager
