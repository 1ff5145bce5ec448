// SSH host key verification against OpenSSH known_hosts lines, for fetches
// over ssh:// (the GitRepo's secret carries them; the manager's own
// ~/.ssh/known_hosts plays no part).
//
// Supported, as sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" describes: comma-separated
// host patterns with `*` / `?` wildcards and `!` negation, `[host]:port` for a
// port other than 22, hashed names `|1|<base64 salt>|<base64 HMAC-SHA1>`, and
// the `@revoked` marker. `@cert-authority` lines are skipped: host
// certificates are not supported (libgit2 only hands us the plain key).
//
// Thread-safety: an SshKnownHosts is immutable after Parse and safe to share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace flotilla::manager {

class SshKnownHosts {
 public:
  // Parses known_hosts text. Blank lines and `#` comments are skipped;
  // InvalidArgument naming the line number for a line that is not
  // `[marker] patterns keytype base64-key [comment]` or whose key does not
  // decode to a key of the stated type.
  static absl::StatusOr<SshKnownHosts> Parse(std::string_view text);

  bool empty() const { return entries_.empty(); }

  // Checks the host key `key_blob` (the SSH wire encoding: string key type,
  // then the key's fields, as known_hosts holds it in base64) presented by
  // `host`:`port`. OK if a line for the host has this key and no @revoked
  // line does. Otherwise FailedPrecondition saying what is wrong (unknown
  // host, different key, revoked) with the key's type and SHA-256
  // fingerprint, as `ssh-keygen -l` prints it.
  absl::Status Verify(std::string_view host, int port, std::string_view key_blob) const;

 private:
  struct Entry {
    enum class Marker { kNone, kRevoked };
    Marker marker = Marker::kNone;
    std::vector<std::string> patterns;  // as written: plain, wildcard, !negated or |1|hashed
    std::string key_type;
    std::string key_sha256;  // raw digest of the decoded key blob
  };
  std::vector<Entry> entries_;
};

// "SHA256:<base64 without padding>" of a key blob, as OpenSSH prints it.
std::string SshFingerprint(std::string_view key_blob);

// The key type named inside an SSH key blob ("ssh-ed25519", ...); empty if
// the blob is malformed.
std::string SshKeyBlobType(std::string_view key_blob);

// The key type of an SSH private key: read from the unencrypted public part
// of the OpenSSH format, or "ssh-rsa" for a PEM "RSA PRIVATE KEY"; empty if
// neither tells (PKCS#8, EC PEM, garbage).
std::string SshPrivateKeyType(std::string_view private_key);

}  // namespace flotilla::manager
