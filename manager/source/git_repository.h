// Git access for the manager, on libgit2: a bare cache per remote, fetched
// into and read straight from the object database (no working copy).
//
// Threading: a GitRepository serialises its own operations with a mutex; use
// one per remote. CommitTree is immutable and safe to share once created.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/scan/commit_tree.h"

namespace flotilla::manager {

// TreeEntry and CommitTree live in common/scan so that the scanner also runs
// over a local directory (`flotilla render`).
using common::CommitTree;
using common::TreeEntry;

// Credentials and transport security for fetching one remote. The caller
// (the controller) resolves GitRepo.spec.clientSecretName, caBundle and
// insecureSkipTLSVerify into it; an empty GitAuth fetches anonymously with the
// system's CAs. Values are never logged, never put in an error message and
// never written to the cache directory.
struct GitAuth {
  // Where the credentials came from (the secret's name), for error messages
  // only: "authentication to <url> failed (check the secret <name>)".
  std::string secret_name;
  // HTTP(S) basic auth (the password may be a token); over ssh:// a password
  // is tried if the server offers password authentication and there is no key.
  std::string username;
  std::string password;
  // SSH private key (PEM or OpenSSH format, kept in memory) and its
  // passphrase. The SSH user is the URL's (git@host:...), else `username`,
  // else "git".
  std::string ssh_private_key;
  std::string ssh_passphrase;
  // OpenSSH known_hosts lines for ssh:// (plain, [host]:port and hashed
  // |1|salt|hash names; @revoked honoured). A host key not listed is refused:
  // there is no trust on first use. ~/.ssh/known_hosts plays no part.
  std::string ssh_known_hosts;
  // PEM CA certificates trusted for https:// in addition to the system's.
  std::string ca_bundle_pem;
  // https:// only: accept any server certificate. Logged as a warning once
  // per URL per process.
  bool insecure_skip_tls_verify = false;
};

class GitRepository {
 public:
  // Opens the bare cache for `url` under `cache_root` (created if missing; the
  // directory name is derived from a hash of the URL). `url` may be a local
  // path, file://, git://, http:// or https://.
  static absl::StatusOr<std::unique_ptr<GitRepository>> Open(const std::string& cache_root,
                                                             const std::string& url);
  ~GitRepository();

  // Fetches from the remote and resolves `ref` to a commit id (hex).
  // `ref` is a branch name, or (when `is_revision`) a commit id, tag or branch.
  // The fetch is aborted when `timeout` passes (libgit2 1.5 has no server
  // timeout option: our socket streams enforce it, see git_streams.h).
  // Errors (the URL shown without any user:password part, and no credential
  // value in any message):
  //   DeadlineExceeded  the timeout passed;
  //   Unavailable       network/remote failures (retry later), libgit2's message;
  //   NotFound          a branch or revision that does not exist;
  //   Unauthenticated   "authentication to <url> failed (check the secret <name>)",
  //                     no credentials configured, or an SSH key that cannot be
  //                     used (wrong passphrase); one credential is offered per
  //                     fetch, never retried in a loop;
  //   FailedPrecondition  an untrusted TLS certificate or an SSH host key not
  //                     in known_hosts, naming the certificate problem or the
  //                     key's type and SHA-256 fingerprint; ssh:// without $HOME;
  //   InvalidArgument   a malformed ref, caBundle or known_hosts.
  // A failed fetch leaves the cache as it was: earlier commits stay readable.
  absl::StatusOr<std::string> Fetch(const std::string& ref, bool is_revision,
                                    absl::Duration timeout, const GitAuth& auth = GitAuth());

  // The tree of a commit already in the cache.
  absl::StatusOr<std::unique_ptr<CommitTree>> Tree(const std::string& commit_id);

  const std::string& url() const { return url_; }
  // The URL as messages and logs show it: an http(s) user:password@ part
  // becomes ***@, other schemes' passwords ***.
  const std::string& display_url() const { return display_url_; }
  const std::string& cache_path() const { return cache_path_; }

 private:
  struct Handles;
  GitRepository(std::string url, std::string cache_path, std::unique_ptr<Handles> handles);

  absl::StatusOr<std::string> FetchLocked(const std::string& ref, bool is_revision,
                                          absl::Duration timeout, const GitAuth& auth)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string url_;
  const std::string display_url_;
  const std::string cache_path_;
  absl::Mutex mu_;
  std::unique_ptr<Handles> handles_ ABSL_GUARDED_BY(mu_);
};

}  // namespace flotilla::manager
