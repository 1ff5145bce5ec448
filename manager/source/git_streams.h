// Network streams for libgit2 that honour per-fetch settings: a deadline for
// every socket, and per-remote TLS trust for https://.
//
// libgit2 1.5 has no network timeout and only one, process-wide, set of TLS
// trust anchors (GIT_OPT_SET_SSL_CERT_LOCATIONS; Debian builds it on mbedTLS).
// So we register our own streams with git_stream_register():
//
//   - a plain socket stream (git://, http://, ssh://, and underneath https://)
//     that waits in poll() against the fetch deadline. libssh2 reads and writes
//     the descriptor itself, blocking, so each socket with a deadline is also
//     watched by one process-wide thread that shuts it down when the deadline
//     passes;
//   - an OpenSSL TLS stream (https://) that trusts the system's CAs plus the
//     fetch's own CA bundle, checks the host name, verifies the whole chain the
//     server sends, and can skip verification when the GitRepo asks for it.
//
// libgit2 fetches synchronously on the caller's thread, so a thread_local
// carries the settings from Fetch() to the streams it opens
// (ScopedStreamSettings). Streams opened outside such a scope have no deadline
// and verify against the system's CAs only.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace flotilla::manager {

struct StreamSettings {
  absl::Time deadline = absl::InfiniteFuture();
  // PEM certificates trusted for https:// in addition to the system's CAs.
  std::string ca_bundle_pem;
  // Accept any TLS certificate (GitRepo.spec.insecureSkipTLSVerify).
  bool insecure_skip_tls_verify = false;
};

// Makes `settings` apply to the streams libgit2 opens on this thread until
// destruction. `settings` must outlive the scope.
class ScopedStreamSettings {
 public:
  explicit ScopedStreamSettings(const StreamSettings* settings);
  ~ScopedStreamSettings();
  ScopedStreamSettings(const ScopedStreamSettings&) = delete;
  ScopedStreamSettings& operator=(const ScopedStreamSettings&) = delete;

 private:
  const StreamSettings* previous_;
};

// Registers both streams with libgit2, process-wide. Call once, after
// git_libgit2_init(); Internal with libgit2's message on failure.
absl::Status RegisterGitStreams();

// OK if `pem` holds at least one readable certificate; InvalidArgument
// otherwise (checked before a fetch so that a bad caBundle is reported as
// such, not as an untrusted server).
absl::Status CheckCaBundle(std::string_view pem);

}  // namespace flotilla::manager
