#include "manager/source/git_repository.h"

#include <git2.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "manager/source/git_streams.h"
#include "manager/source/ssh_known_hosts.h"

namespace flotilla::manager {
namespace {

// ---------------------------------------------------------------------------
// libgit2 handles.

template <auto Free>
struct GitDeleter {
  template <typename T>
  void operator()(T* p) const {
    if (p != nullptr) Free(p);
  }
};

using RepoPtr = std::unique_ptr<git_repository, GitDeleter<git_repository_free>>;
using RemotePtr = std::unique_ptr<git_remote, GitDeleter<git_remote_free>>;
using ObjectPtr = std::unique_ptr<git_object, GitDeleter<git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, GitDeleter<git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, GitDeleter<git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, GitDeleter<git_tree_entry_free>>;
using OdbPtr = std::unique_ptr<git_odb, GitDeleter<git_odb_free>>;
using OdbObjectPtr = std::unique_ptr<git_odb_object, GitDeleter<git_odb_object_free>>;

// The message libgit2 left for the failed call on this thread.
std::string LastGitError(int code) {
  const git_error* error = git_error_last();
  if (error != nullptr && error->message != nullptr && error->message[0] != '\0') {
    return error->message;
  }
  return absl::StrCat("libgit2 error ", code);
}

absl::Status GitStatus(absl::StatusCode status_code, int git_code, absl::string_view doing) {
  return absl::Status(status_code, absl::StrCat(doing, ": ", LastGitError(git_code)));
}

std::string ShortId(absl::string_view id) { return std::string(id.substr(0, 12)); }

std::string OidHex(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof(buf), oid);
  return buf;
}

// A full 40-hex object id; git_oid_fromstr itself would read past a short string.
std::optional<git_oid> ParseFullOid(absl::string_view hex) {
  if (hex.size() != GIT_OID_HEXSZ) return std::nullopt;
  if (!std::all_of(hex.begin(), hex.end(), [](char c) { return absl::ascii_isxdigit(c); })) {
    return std::nullopt;
  }
  git_oid oid;
  if (git_oid_fromstrn(&oid, hex.data(), hex.size()) != 0) return std::nullopt;
  return oid;
}

// Returns libgit2's error if initialisation failed, once per process.
absl::Status InitLibgit2() {
  static std::once_flag once;
  static absl::Status* status = nullptr;
  std::call_once(once, [] {
    const int rc = git_libgit2_init();
    if (rc < 0) {
      status = new absl::Status(GitStatus(absl::StatusCode::kInternal, rc, "initialising libgit2"));
      return;
    }
    status = new absl::Status(RegisterGitStreams());
  });
  return *status;
}

// ---------------------------------------------------------------------------
// URLs.

// The URL for messages and logs: an http(s) user:password@ (or token@) part
// becomes "***@"; for other schemes only a password is hidden (an SSH user
// name is no secret).
std::string RedactUrl(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return std::string(url);
  const size_t authority = scheme_end + 3;
  const size_t path = url.find_first_of("/?#", authority);
  const absl::string_view host_part = url.substr(
      authority, path == absl::string_view::npos ? absl::string_view::npos : path - authority);
  const size_t at = host_part.rfind('@');
  if (at == absl::string_view::npos) return std::string(url);
  const absl::string_view userinfo = host_part.substr(0, at);
  const std::string scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  std::string shown;
  if (scheme == "http" || scheme == "https") {
    shown = "***";
  } else {
    const size_t colon = userinfo.find(':');
    shown = colon == absl::string_view::npos ? std::string(userinfo)
                                             : absl::StrCat(userinfo.substr(0, colon), ":***");
  }
  return absl::StrCat(url.substr(0, authority), shown, url.substr(authority + at));
}

std::string UrlScheme(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return "";
  return absl::AsciiStrToLower(url.substr(0, scheme_end));
}

// ssh://, ssh+git://, git+ssh:// or scp-like [user@]host:path, as libgit2
// tells them apart.
bool IsSshUrl(absl::string_view url) {
  const std::string scheme = UrlScheme(url);
  if (!scheme.empty()) return scheme == "ssh" || scheme == "ssh+git" || scheme == "git+ssh";
  const size_t colon = url.find(':');
  return colon != absl::string_view::npos && colon > 0 &&
         url.substr(0, colon).find('/') == absl::string_view::npos;
}

// The port of an ssh URL (22 unless given), for matching [host]:port in
// known_hosts: libgit2 hands the certificate callback the host only.
int SshPort(absl::string_view url) {
  if (UrlScheme(url).empty()) return 22;  // scp-like syntax has no port
  absl::string_view authority = url.substr(url.find("://") + 3);
  authority = authority.substr(0, authority.find('/'));
  if (const size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  size_t colon = absl::string_view::npos;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close != absl::string_view::npos && close + 1 < authority.size() &&
        authority[close + 1] == ':') {
      colon = close + 1;
    }
  } else {
    colon = authority.rfind(':');
  }
  int port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(authority.substr(colon + 1), &port) ||
      port <= 0 || port > 65535) {
    return 22;
  }
  return port;
}

// ---------------------------------------------------------------------------
// Fetch callbacks. libgit2 calls them on the fetching thread with a pointer
// to the FetchContext of that fetch.

struct FetchContext {
  absl::Time deadline;
  bool deadline_passed = false;
  const GitAuth* auth = nullptr;
  std::string url;  // redacted
  int ssh_port = 22;
  const SshKnownHosts* known_hosts = nullptr;
  // Credentials handed to libgit2 so far. libgit2 asks again after the
  // server refused them; we answer that with an error instead of a loop.
  int credentials_given = 0;
  bool gave_rsa_key = false;
  std::string auth_error;      // why we gave libgit2 no credentials
  std::string host_key_error;  // why we refused the SSH host key

  // Whether the deadline passed (latched: a fetch that failed after its
  // deadline is reported as timed out, whatever the transport said).
  bool Expired() {
    if (!deadline_passed && common::RealClock::Get()->Now() >= deadline) deadline_passed = true;
    return deadline_passed;
  }
};

int TransferProgress(const git_indexer_progress* /*stats*/, void* payload) {
  return static_cast<FetchContext*>(payload)->Expired() ? GIT_EUSER : 0;
}

int SidebandProgress(const char* /*str*/, int /*len*/, void* payload) {
  return static_cast<FetchContext*>(payload)->Expired() ? GIT_EUSER : 0;
}

std::string SshUser(const GitAuth& auth) { return auth.username.empty() ? "git" : auth.username; }

int RefuseCredentials(FetchContext* ctx, std::string message) {
  git_error_set_str(GIT_ERROR_NET, message.c_str());
  ctx->auth_error = std::move(message);
  return GIT_EAUTH;
}

// git_credential_acquire_cb. Never logs and never puts a value in a message.
int AcquireCredential(git_credential** out, const char* /*url*/, const char* username_from_url,
                      unsigned int allowed_types, void* payload) {
  auto* ctx = static_cast<FetchContext*>(payload);
  const GitAuth& auth = *ctx->auth;
  // ssh:// without a user in the URL: libgit2 first asks for the user alone.
  if (allowed_types == GIT_CREDENTIAL_USERNAME) {
    return git_credential_username_new(out, SshUser(auth).c_str());
  }
  const std::string check = auth.secret_name.empty()
                                ? "check the credentials"
                                : absl::StrCat("check the secret ", auth.secret_name);
  if (ctx->credentials_given > 0) {
    // The server refused what we gave it; asking again would only repeat that.
    // libssh2 1.10 (Debian 12) signs with RSA keys as ssh-rsa (SHA-1) only,
    // which OpenSSH 8.8+ and most Git hosts refuse.
    return RefuseCredentials(
        ctx, absl::StrCat("authentication to ", ctx->url, " failed (", check, ")",
                          ctx->gave_rsa_key ? "; RSA keys are signed with SHA-1 (ssh-rsa) here, "
                                              "which many servers refuse: use an ed25519 or "
                                              "ECDSA key"
                                            : ""));
  }
  const std::string user = username_from_url != nullptr && username_from_url[0] != '\0'
                               ? username_from_url
                           : IsSshUrl(ctx->url) ? SshUser(auth)
                                                : auth.username;
  if ((allowed_types & GIT_CREDENTIAL_SSH_MEMORY) != 0 && !auth.ssh_private_key.empty()) {
    ++ctx->credentials_given;
    ctx->gave_rsa_key = SshPrivateKeyType(auth.ssh_private_key) == "ssh-rsa";
    return git_credential_ssh_key_memory_new(
        out, user.c_str(), /*publickey=*/nullptr, auth.ssh_private_key.c_str(),
        auth.ssh_passphrase.empty() ? nullptr : auth.ssh_passphrase.c_str());
  }
  if ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 &&
      (!auth.password.empty() || !auth.username.empty())) {
    ++ctx->credentials_given;
    return git_credential_userpass_plaintext_new(out, user.c_str(), auth.password.c_str());
  }
  const bool none = auth.username.empty() && auth.password.empty() && auth.ssh_private_key.empty();
  if (none) {
    return RefuseCredentials(ctx, absl::StrCat("authentication to ", ctx->url,
                                               " failed: the server requires credentials and "
                                               "none are configured"));
  }
  std::vector<std::string> wanted;
  if ((allowed_types & (GIT_CREDENTIAL_SSH_KEY | GIT_CREDENTIAL_SSH_MEMORY)) != 0) {
    wanted.push_back("an SSH private key");
  }
  if ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0) {
    wanted.push_back("a username and password");
  }
  return RefuseCredentials(
      ctx,
      absl::StrCat("authentication to ", ctx->url, " failed: the server accepts ",
                   wanted.empty() ? "no credential type we support" : absl::StrJoin(wanted, " or "),
                   ", which the credentials do not hold (", check, ")"));
}

// git_transport_certificate_check_cb. SSH host keys are checked against the
// GitRepo's known_hosts; TLS certificates were already judged by our TLS
// stream (git_streams.cc), whose verdict stands.
int CheckCertificate(git_cert* cert, int /*valid*/, const char* host, void* payload) {
  auto* ctx = static_cast<FetchContext*>(payload);
  if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) return GIT_PASSTHROUGH;
  const auto* hostkey = reinterpret_cast<const git_cert_hostkey*>(cert);
  absl::Status verified;
  if ((hostkey->type & GIT_CERT_SSH_RAW) == 0 || hostkey->hostkey == nullptr) {
    verified = absl::FailedPreconditionError(
        absl::StrCat("host key verification failed for ", host, ": libgit2 gave no raw host key"));
  } else {
    verified = ctx->known_hosts->Verify(host, ctx->ssh_port,
                                        std::string_view(hostkey->hostkey, hostkey->hostkey_len));
  }
  if (verified.ok()) return 0;
  ctx->host_key_error = std::string(verified.message());
  git_error_set_str(GIT_ERROR_SSH, ctx->host_key_error.c_str());
  return GIT_ECERTIFICATE;
}

// Replaces any credential value in `message` (defence in depth: none of our
// messages includes one, but libgit2's or a server's might echo it).
std::string ScrubSecrets(std::string message, const GitAuth& auth) {
  for (const std::string* secret : {&auth.password, &auth.ssh_passphrase}) {
    if (secret->size() < 4) continue;  // too short to tell from ordinary text
    absl::StrReplaceAll({{*secret, "***"}}, &message);
  }
  return message;
}

// insecureSkipTLSVerify is worth one warning per URL, not one per poll.
void WarnInsecureOnce(const std::string& url, const std::string& shown_url) {
  static absl::Mutex mu(absl::kConstInit);
  static std::set<std::string>* warned = new std::set<std::string>();  // guarded by mu
  absl::MutexLock lock(&mu);
  if (warned->insert(common::Sha256Hex(url)).second) {
    common::Logger("manager.git")
        ->warn(
            "{}: insecureSkipTLSVerify is set, so the server's TLS certificate is not "
            "verified",
            shown_url);
  }
}

// A name libgit2 accepted as a tree entry but that we refuse to handle.
bool IsSafeEntryName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("\\/\0", 3)) == std::string_view::npos;
}

// "", ".", "/a/b/", "./a/b" -> "", "", "a/b", "a/b".
std::string NormalizeDir(absl::string_view dir) {
  for (;;) {
    if (absl::ConsumePrefix(&dir, "/")) continue;
    if (absl::ConsumePrefix(&dir, "./")) continue;
    break;
  }
  while (absl::ConsumeSuffix(&dir, "/")) {
  }
  if (dir == ".") return "";
  return std::string(dir);
}

// ---------------------------------------------------------------------------
// CommitTree on its own repository handle: libgit2 objects and repositories
// are not safe to use from several threads at once, so each tree owns a handle
// (independent of fetches on the GitRepository) and serialises calls on it.

class GitCommitTree final : public CommitTree {
 public:
  GitCommitTree(std::string commit, RepoPtr repo, TreePtr root)
      : commit_(std::move(commit)), repo_(std::move(repo)), root_(std::move(root)) {}

  const std::string& commit() const override { return commit_; }

  absl::StatusOr<std::vector<TreeEntry>> List(std::string_view dir) const override {
    const absl::string_view requested(dir.data(), dir.size());
    const std::string prefix = NormalizeDir(requested);
    const absl::Status not_found = absl::NotFoundError(absl::StrCat(
        "path \"", absl::CEscape(requested), "\" not found in commit ", ShortId(commit_)));
    absl::MutexLock lock(&mu_);

    TreePtr start;
    if (prefix.empty()) {
      git_tree* copy = nullptr;
      if (const int rc = git_tree_dup(&copy, root_.get()); rc < 0) {
        return GitStatus(absl::StatusCode::kInternal, rc, "copying the root tree");
      }
      start.reset(copy);
    } else {
      git_tree_entry* raw_entry = nullptr;
      const int rc = git_tree_entry_bypath(&raw_entry, root_.get(), prefix.c_str());
      if (rc == GIT_ENOTFOUND) return not_found;
      if (rc < 0) {
        return GitStatus(absl::StatusCode::kInternal, rc,
                         absl::StrCat("looking up \"", absl::CEscape(prefix), "\" in commit ",
                                      ShortId(commit_)));
      }
      TreeEntryPtr entry(raw_entry);
      if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) return not_found;
      ASSIGN_OR_RETURN(start, LookupTree(git_tree_entry_id(entry.get()), prefix));
    }

    git_odb* raw_odb = nullptr;
    if (const int rc = git_repository_odb(&raw_odb, repo_.get()); rc < 0) {
      return GitStatus(absl::StatusCode::kInternal, rc, "opening the object database");
    }
    OdbPtr odb(raw_odb);

    // Iterative walk: a hostile repository can nest trees deeper than our stack.
    std::vector<TreeEntry> entries;
    std::vector<std::pair<TreePtr, std::string>> pending;
    pending.emplace_back(std::move(start), prefix);
    while (!pending.empty()) {
      auto [tree, tree_path] = std::move(pending.back());
      pending.pop_back();
      const size_t count = git_tree_entrycount(tree.get());
      for (size_t i = 0; i < count; ++i) {
        const git_tree_entry* e = git_tree_entry_byindex(tree.get(), i);
        const std::string name = git_tree_entry_name(e);
        std::string path = tree_path.empty() ? name : absl::StrCat(tree_path, "/", name);
        if (!IsSafeEntryName(name)) {
          return absl::InvalidArgumentError(absl::StrCat("unsafe path \"", absl::CEscape(path),
                                                         "\" in commit ", ShortId(commit_)));
        }
        const git_oid* oid = git_tree_entry_id(e);
        const git_filemode_t mode = git_tree_entry_filemode(e);
        TreeEntry out;
        out.path = std::move(path);
        out.blob_id = OidHex(oid);
        switch (mode) {
          case GIT_FILEMODE_TREE: {
            ASSIGN_OR_RETURN(TreePtr sub, LookupTree(oid, out.path));
            pending.emplace_back(std::move(sub), std::move(out.path));
            continue;
          }
          case GIT_FILEMODE_COMMIT:
            out.kind = TreeEntry::Kind::kSubmodule;
            break;
          case GIT_FILEMODE_LINK:
          case GIT_FILEMODE_BLOB:
          case GIT_FILEMODE_BLOB_EXECUTABLE: {
            out.kind =
                mode == GIT_FILEMODE_LINK ? TreeEntry::Kind::kSymlink : TreeEntry::Kind::kFile;
            out.executable = mode == GIT_FILEMODE_BLOB_EXECUTABLE;
            ASSIGN_OR_RETURN(out.size, BlobSize(odb.get(), oid, out.path));
            break;
          }
          default:
            return absl::InvalidArgumentError(
                absl::StrCat("\"", absl::CEscape(out.path), "\" in commit ", ShortId(commit_),
                             " has unsupported mode ", absl::Hex(static_cast<int>(mode))));
        }
        entries.push_back(std::move(out));
      }
    }
    std::sort(entries.begin(), entries.end(),
              [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
    return entries;
  }

  absl::StatusOr<std::string> Read(const TreeEntry& entry, uint64_t max_size) const override {
    if (entry.kind == TreeEntry::Kind::kSubmodule) {
      return absl::FailedPreconditionError(absl::StrCat(entry.path, " is a submodule"));
    }
    const std::optional<git_oid> oid = ParseFullOid(entry.blob_id);
    if (!oid) {
      return absl::InvalidArgumentError(
          absl::StrCat(entry.path, ": invalid blob id \"", absl::CEscape(entry.blob_id), "\""));
    }
    absl::MutexLock lock(&mu_);
    git_odb* raw_odb = nullptr;
    if (const int rc = git_repository_odb(&raw_odb, repo_.get()); rc < 0) {
      return GitStatus(absl::StatusCode::kInternal, rc, "opening the object database");
    }
    OdbPtr odb(raw_odb);
    ASSIGN_OR_RETURN(const uint64_t size, BlobSize(odb.get(), &*oid, entry.path));
    if (size > max_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          entry.path, ": blob of ", size, " bytes exceeds the limit of ", max_size, " bytes"));
    }
    git_odb_object* raw_object = nullptr;
    if (const int rc = git_odb_read(&raw_object, odb.get(), &*oid); rc < 0) {
      return GitStatus(
          rc == GIT_ENOTFOUND ? absl::StatusCode::kNotFound : absl::StatusCode::kInternal, rc,
          absl::StrCat("reading ", entry.path, " in commit ", ShortId(commit_)));
    }
    OdbObjectPtr object(raw_object);
    return std::string(static_cast<const char*>(git_odb_object_data(object.get())),
                       git_odb_object_size(object.get()));
  }

 private:
  absl::StatusOr<TreePtr> LookupTree(const git_oid* oid, const std::string& path) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    git_tree* tree = nullptr;
    if (const int rc = git_tree_lookup(&tree, repo_.get(), oid); rc < 0) {
      return GitStatus(
          absl::StatusCode::kInternal, rc,
          absl::StrCat("reading tree \"", absl::CEscape(path), "\" in commit ", ShortId(commit_)));
    }
    return TreePtr(tree);
  }

  // The size from the object header, without reading the content.
  absl::StatusOr<uint64_t> BlobSize(git_odb* odb, const git_oid* oid,
                                    const std::string& path) const {
    size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (const int rc = git_odb_read_header(&size, &type, odb, oid); rc < 0) {
      return GitStatus(
          rc == GIT_ENOTFOUND ? absl::StatusCode::kNotFound : absl::StatusCode::kInternal, rc,
          absl::StrCat("reading the header of \"", absl::CEscape(path), "\" in commit ",
                       ShortId(commit_)));
    }
    if (type != GIT_OBJECT_BLOB) {
      return absl::InvalidArgumentError(absl::StrCat("\"", absl::CEscape(path), "\" in commit ",
                                                     ShortId(commit_), " is a ",
                                                     git_object_type2string(type), ", not a blob"));
    }
    return static_cast<uint64_t>(size);
  }

  const std::string commit_;
  mutable absl::Mutex mu_;
  // Declared before root_ so that the tree is freed before its repository.
  RepoPtr repo_ ABSL_GUARDED_BY(mu_);
  TreePtr root_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<RepoPtr> OpenBare(const std::string& path, const std::string& url) {
  git_repository* repo = nullptr;
  if (const int rc = git_repository_open_bare(&repo, path.c_str()); rc < 0) {
    return GitStatus(absl::StatusCode::kFailedPrecondition, rc,
                     absl::StrCat("opening the cache ", path, " of ", url));
  }
  return RepoPtr(repo);
}

}  // namespace

struct GitRepository::Handles {
  RepoPtr repo;
};

GitRepository::GitRepository(std::string url, std::string cache_path,
                             std::unique_ptr<Handles> handles)
    : url_(std::move(url)),
      display_url_(RedactUrl(url_)),
      cache_path_(std::move(cache_path)),
      handles_(std::move(handles)) {}

GitRepository::~GitRepository() = default;

absl::StatusOr<std::unique_ptr<GitRepository>> GitRepository::Open(const std::string& cache_root,
                                                                   const std::string& url) {
  RETURN_IF_ERROR(InitLibgit2());
  if (url.empty()) return absl::InvalidArgumentError("empty repository URL");
  if (cache_root.empty()) return absl::InvalidArgumentError("empty git cache directory");

  std::error_code ec;
  std::filesystem::create_directories(cache_root, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("creating the git cache directory ", cache_root, ": ", ec.message()));
  }
  std::string path = absl::StrCat(cache_root, "/", common::Sha256Hex(url).substr(0, 16), ".git");

  auto handles = std::make_unique<Handles>();
  if (std::filesystem::exists(path, ec)) {
    ASSIGN_OR_RETURN(handles->repo, OpenBare(path, RedactUrl(url)));
  } else {
    git_repository* repo = nullptr;
    if (const int rc = git_repository_init(&repo, path.c_str(), /*is_bare=*/1); rc < 0) {
      return GitStatus(absl::StatusCode::kFailedPrecondition, rc,
                       absl::StrCat("creating the cache ", path, " of ", RedactUrl(url)));
    }
    handles->repo.reset(repo);
  }
  return std::unique_ptr<GitRepository>(
      new GitRepository(url, std::move(path), std::move(handles)));
}

absl::StatusOr<std::string> GitRepository::Fetch(const std::string& ref, bool is_revision,
                                                 absl::Duration timeout, const GitAuth& auth) {
  absl::StatusOr<std::string> result;
  {
    absl::MutexLock lock(&mu_);
    result = FetchLocked(ref, is_revision, timeout, auth);
  }
  if (result.ok()) return result;
  return absl::Status(result.status().code(),
                      ScrubSecrets(std::string(result.status().message()), auth));
}

absl::StatusOr<std::string> GitRepository::FetchLocked(const std::string& ref, bool is_revision,
                                                       absl::Duration timeout,
                                                       const GitAuth& auth) {
  const std::string what =
      absl::StrCat(is_revision ? "revision \"" : "branch \"", absl::CEscape(ref), "\"");
  if (ref.empty()) return absl::InvalidArgumentError(absl::StrCat("empty ", what));

  // Settings are checked before any network traffic, so that a bad secret is
  // reported as such rather than as a failure of the server.
  const bool ssh = IsSshUrl(url_);
  const bool https = UrlScheme(url_) == "https";
  SshKnownHosts known_hosts;
  if (ssh) {
    absl::StatusOr<SshKnownHosts> parsed = SshKnownHosts::Parse(auth.ssh_known_hosts);
    if (!parsed.ok()) return parsed.status();
    known_hosts = *std::move(parsed);
    if ((git_libgit2_features() & GIT_FEATURE_SSH) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot fetch ", display_url_, ": libgit2 was built without SSH support"));
    }
    // libgit2 1.5 fails every ssh:// connection when it cannot look for
    // ~/.ssh/known_hosts (whose verdict we then overrule with our own).
    const char* home = std::getenv("HOME");
    if (home == nullptr || home[0] == '\0') {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot fetch ", display_url_,
                       ": libgit2 1.5 needs $HOME to be set for ssh:// (set it in the manager's "
                       "environment)"));
    }
  }
  if (https && !auth.insecure_skip_tls_verify && !auth.ca_bundle_pem.empty()) {
    RETURN_IF_ERROR(CheckCaBundle(auth.ca_bundle_pem));
  }
  if (https && auth.insecure_skip_tls_verify) WarnInsecureOnce(url_, display_url_);

  git_repository* repo = handles_->repo.get();

  // Resolves an object id (commit or tag) to the commit it names.
  const auto peel_to_commit = [&](const git_oid* oid) -> absl::StatusOr<std::string> {
    git_object* raw_object = nullptr;
    if (const int rc = git_object_lookup(&raw_object, repo, oid, GIT_OBJECT_ANY); rc < 0) {
      return GitStatus(
          rc == GIT_ENOTFOUND ? absl::StatusCode::kNotFound : absl::StatusCode::kInternal, rc,
          absl::StrCat("looking up ", what, " (", OidHex(oid), ") fetched from ", display_url_));
    }
    ObjectPtr object(raw_object);
    git_object* raw_commit = nullptr;
    if (const int rc = git_object_peel(&raw_commit, object.get(), GIT_OBJECT_COMMIT); rc < 0) {
      return GitStatus(absl::StatusCode::kInvalidArgument, rc,
                       absl::StrCat(what, " in ", display_url_, " does not name a commit"));
    }
    ObjectPtr commit(raw_commit);
    return OidHex(git_object_id(commit.get()));
  };

  const std::optional<git_oid> full_id = is_revision ? ParseFullOid(ref) : std::nullopt;
  std::vector<std::string> refspecs;
  if (full_id) {
    // A commit id names the same content forever: no need to ask the remote
    // when the cache already has it.
    git_commit* raw_commit = nullptr;
    if (git_commit_lookup(&raw_commit, repo, &*full_id) == 0) {
      CommitPtr commit(raw_commit);
      return OidHex(git_commit_id(commit.get()));
    }
    refspecs = {"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"};
  } else {
    const std::string branch_ref = absl::StrCat("refs/heads/", ref);
    int valid = 0;
    if (git_reference_name_is_valid(&valid, branch_ref.c_str()) < 0 || !valid ||
        absl::StrContains(ref, '*')) {
      return absl::InvalidArgumentError(absl::StrCat("invalid ", what));
    }
    refspecs = {absl::StrCat("+", branch_ref, ":refs/remotes/origin/", ref)};
    if (is_revision) refspecs.push_back(absl::StrCat("+refs/tags/", ref, ":refs/tags/", ref));
  }

  // An anonymous remote, as git_remote_create_anonymous() makes, but without
  // url.<base>.insteadOf rewriting: the URL is fetched as configured, and
  // libgit2 1.5 leaks pcre2 match data for every config entry that the
  // insteadOf lookup does not match (tens of KiB per fetch).
  git_remote_create_options create_opts;
  git_remote_create_options_init(&create_opts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
  create_opts.repository = repo;
  create_opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
  git_remote* raw_remote = nullptr;
  if (const int rc = git_remote_create_with_opts(&raw_remote, url_.c_str(), &create_opts); rc < 0) {
    return GitStatus(absl::StatusCode::kInvalidArgument, rc,
                     absl::StrCat("creating a remote for ", display_url_));
  }
  RemotePtr remote(raw_remote);

  FetchContext context;
  context.deadline = common::RealClock::Get()->Now() + timeout;
  context.auth = &auth;
  context.url = display_url_;
  context.ssh_port = ssh ? SshPort(url_) : 0;
  context.known_hosts = &known_hosts;
  git_fetch_options opts;
  git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
  opts.prune = GIT_FETCH_PRUNE;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  opts.update_fetchhead = 0;
  opts.callbacks.transfer_progress = TransferProgress;
  opts.callbacks.sideband_progress = SidebandProgress;
  opts.callbacks.credentials = AcquireCredential;
  opts.callbacks.certificate_check = CheckCertificate;
  opts.callbacks.payload = &context;

  StreamSettings stream_settings;
  stream_settings.deadline = context.deadline;
  stream_settings.ca_bundle_pem = auth.ca_bundle_pem;
  stream_settings.insecure_skip_tls_verify = auth.insecure_skip_tls_verify;

  std::vector<char*> refspec_ptrs;
  refspec_ptrs.reserve(refspecs.size());
  for (std::string& spec : refspecs) refspec_ptrs.push_back(spec.data());
  const git_strarray refspec_array{refspec_ptrs.data(), refspec_ptrs.size()};

  int rc = 0;
  {
    ScopedStreamSettings scoped_settings(&stream_settings);
    rc = git_remote_fetch(remote.get(), &refspec_array, &opts, "flotilla fetch");
  }
  if (rc < 0) {
    if (context.Expired()) {
      common::Logger("manager.git")
          ->debug("fetch of {} from {} timed out: {}", what, display_url_,
                  ScrubSecrets(LastGitError(rc), auth));
      return absl::DeadlineExceededError(absl::StrCat(
          "fetch from ", display_url_, " timed out after ", absl::FormatDuration(timeout)));
    }
    if (!context.auth_error.empty()) return absl::UnauthenticatedError(context.auth_error);
    // libssh2 could not use the key we gave it (wrong passphrase, unknown
    // format): as much an authentication failure as a refused key.
    const git_error* error = git_error_last();
    if (context.credentials_given > 0 && error != nullptr && error->klass == GIT_ERROR_SSH &&
        absl::StartsWith(error->message, "Failed to authenticate SSH session")) {
      absl::string_view detail = error->message;
      absl::ConsumePrefix(&detail, "Failed to authenticate SSH session: ");
      return absl::UnauthenticatedError(absl::StrCat(
          "authentication to ", display_url_, " failed: the SSH private key could not be used (",
          auth.secret_name.empty() ? "check the credentials"
                                   : absl::StrCat("check the secret ", auth.secret_name),
          "): ", detail));
    }
    absl::StatusCode code = absl::StatusCode::kUnavailable;
    if (rc == GIT_EAUTH) code = absl::StatusCode::kUnauthenticated;
    if (rc == GIT_ECERTIFICATE || !context.host_key_error.empty()) {
      code = absl::StatusCode::kFailedPrecondition;
    }
    return GitStatus(code, rc, absl::StrCat("fetching ", what, " from ", display_url_));
  }

  if (full_id) {
    git_commit* raw_commit = nullptr;
    if (git_commit_lookup(&raw_commit, repo, &*full_id) != 0) {
      return absl::NotFoundError(absl::StrCat(what, " not found in ", display_url_));
    }
    CommitPtr commit(raw_commit);
    return OidHex(git_commit_id(commit.get()));
  }

  // Resolve from what the remote advertised in this fetch rather than from
  // local refs, which may be left over from earlier fetches.
  const git_remote_head** heads = nullptr;
  size_t head_count = 0;
  if (const int ls_rc = git_remote_ls(&heads, &head_count, remote.get()); ls_rc < 0) {
    return GitStatus(absl::StatusCode::kUnavailable, ls_rc,
                     absl::StrCat("listing the refs of ", display_url_));
  }
  const auto advertised = [&](const std::string& name) -> const git_oid* {
    for (size_t i = 0; i < head_count; ++i) {
      if (heads[i]->name != nullptr && name == heads[i]->name) return &heads[i]->oid;
    }
    return nullptr;
  };
  const git_oid* oid = nullptr;
  if (is_revision) oid = advertised(absl::StrCat("refs/tags/", ref));
  if (oid == nullptr) oid = advertised(absl::StrCat("refs/heads/", ref));
  if (oid == nullptr)
    return absl::NotFoundError(absl::StrCat(what, " not found in ", display_url_));
  ASSIGN_OR_RETURN(std::string commit, peel_to_commit(oid));
  common::Logger("manager.git")->debug("fetched {} from {}: {}", what, display_url_, commit);
  return commit;
}

absl::StatusOr<std::unique_ptr<CommitTree>> GitRepository::Tree(const std::string& commit_id) {
  const std::optional<git_oid> oid = ParseFullOid(commit_id);
  if (!oid) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", absl::CEscape(commit_id), "\" is not a full commit id"));
  }
  // A handle of its own (see GitCommitTree), so no need for mu_ here.
  ASSIGN_OR_RETURN(RepoPtr repo, OpenBare(cache_path_, display_url_));
  git_commit* raw_commit = nullptr;
  if (const int rc = git_commit_lookup(&raw_commit, repo.get(), &*oid); rc < 0) {
    return GitStatus(
        rc == GIT_ENOTFOUND ? absl::StatusCode::kNotFound : absl::StatusCode::kInternal, rc,
        absl::StrCat("looking up commit ", commit_id, " of ", display_url_));
  }
  CommitPtr commit(raw_commit);
  git_tree* raw_tree = nullptr;
  if (const int rc = git_commit_tree(&raw_tree, commit.get()); rc < 0) {
    return GitStatus(absl::StatusCode::kInternal, rc,
                     absl::StrCat("reading the tree of commit ", commit_id, " of ", display_url_));
  }
  TreePtr tree(raw_tree);
  std::string id = OidHex(git_commit_id(commit.get()));
  commit.reset();  // before its repository moves into the tree
  return std::unique_ptr<CommitTree>(
      new GitCommitTree(std::move(id), std::move(repo), std::move(tree)));
}

}  // namespace flotilla::manager
