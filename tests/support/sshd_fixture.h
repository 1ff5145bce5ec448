// A real OpenSSH server for tests: sshd on 127.0.0.1:<free port> with its own
// host key, config and authorized_keys in a temporary directory. Authorized
// keys may only run git's read commands (git-shell, forced per key), so a
// fetch over ssh:// works as it does against a Git host.
//
// Needs the openssh-server package (sshd); when sshd is missing the tests
// that use this skip with a warning (SshServer::UnavailableReason).
#pragma once

#include <string>

namespace flotilla::testing {

struct SshKey {
  std::string private_key;  // as ssh-keygen wrote it
  std::string public_key;   // "<type> <base64> <comment>"
};

// A fresh key pair from ssh-keygen, written under `dir` as <name> and
// <name>.pub. `type`: ed25519, ecdsa, rsa. `pem` asks for the old PEM
// format instead of the OpenSSH one.
SshKey GenerateSshKey(const std::string& dir, const std::string& name,
                      const std::string& type = "ed25519", const std::string& passphrase = "",
                      bool pem = false);

class SshServer {
 public:
  // Empty if sshd can run here; otherwise what to install.
  static std::string UnavailableReason();

  // Starts sshd with files under `dir` (created). Throws if it does not
  // accept connections within 10s.
  explicit SshServer(std::string dir);
  ~SshServer();
  SshServer(const SshServer&) = delete;
  SshServer& operator=(const SshServer&) = delete;

  int port() const { return port_; }
  // The account sshd logs the client into: the one running the tests.
  const std::string& user() const { return user_; }
  // ssh://<user>@127.0.0.1:<port><abs_repo_path>
  std::string Url(const std::string& abs_repo_path) const;
  // The server's host key, "ssh-ed25519 <base64> <comment>".
  const std::string& host_public_key() const { return host_key_.public_key; }
  // "[127.0.0.1]:<port> ssh-ed25519 <base64>", as ssh would record it.
  std::string KnownHostsLine() const;
  // Lets `public_key` log in and run git-upload-pack (read per connection,
  // so it applies at once).
  void Authorize(const std::string& public_key);
  // sshd's log so far (for test failure messages).
  std::string Log() const;

 private:
  std::string dir_;
  std::string user_;
  SshKey host_key_;
  int port_ = 0;
  int pid_ = -1;
};

}  // namespace flotilla::testing
