#include "tests/support/sshd_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "tests/support/loopback_server.h"
#include "tests/support/test_util.h"

namespace flotilla::testing {
namespace {

constexpr const char* kSshd = "/usr/sbin/sshd";

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& content, bool append = false) {
  std::ofstream out(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  out << content;
  if (!out) throw std::runtime_error("writing " + path);
}

}  // namespace

SshKey GenerateSshKey(const std::string& dir, const std::string& name, const std::string& type,
                      const std::string& passphrase, bool pem) {
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/" + name;
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".pub");
  const CommandResult result =
      RunCommand("ssh-keygen -q -t " + type + (pem ? " -m PEM" : "") + " -N " +
                 ShellQuote(passphrase) + " -C " + ShellQuote(name) + " -f " + ShellQuote(path));
  if (result.exit_code != 0) throw std::runtime_error("ssh-keygen: " + result.output);
  return SshKey{ReadFile(path),
                std::string(absl::StripTrailingAsciiWhitespace(ReadFile(path + ".pub")))};
}

std::string SshServer::UnavailableReason() {
  if (access(kSshd, X_OK) == 0) return "";
  return absl::StrCat(kSshd,
                      " not found: ssh:// fetch tests need the OpenSSH server "
                      "(apt-get install openssh-server)");
}

SshServer::SshServer(std::string dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  const passwd* pw = getpwuid(geteuid());
  if (pw == nullptr) throw std::runtime_error("no passwd entry for the test user");
  user_ = pw->pw_name;
  host_key_ = GenerateSshKey(dir_, "host_ed25519", "ed25519");
  WriteFile(dir_ + "/authorized_keys", "");
  // sshd started as root insists on its privilege separation directory.
  if (geteuid() == 0 && !std::filesystem::exists("/run/sshd")) {
    std::filesystem::create_directories("/run/sshd");
    chmod("/run/sshd", 0755);
  }

  const std::string config = dir_ + "/sshd_config";
  try {
    LoopbackServer server = StartLoopbackServer(
        "sshd",
        [&](int port) {
          WriteFile(config, absl::StrCat("Port ", port, "\n",
                                         "ListenAddress 127.0.0.1\n"
                                         "HostKey ",
                                         dir_,
                                         "/host_ed25519\n"
                                         "PidFile none\n"
                                         "AuthorizedKeysFile ",
                                         dir_,
                                         "/authorized_keys\n"
                                         "StrictModes no\n"
                                         "UsePAM no\n"
                                         "PasswordAuthentication no\n"
                                         "KbdInteractiveAuthentication no\n"
                                         "PubkeyAuthentication yes\n"
                                         "PermitRootLogin prohibit-password\n"
                                         "AllowTcpForwarding no\n"
                                         "AllowAgentForwarding no\n"
                                         "X11Forwarding no\n"
                                         "PermitTTY no\n"
                                         "PrintMotd no\n"
                                         "LogLevel VERBOSE\n"));
          return std::vector<std::string>{kSshd, "-D", "-e", "-f", config};
        },
        dir_ + "/sshd.log");
    port_ = server.port;
    pid_ = server.pid;
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + "; log:\n" + Log());
  }
}

SshServer::~SshServer() { StopLoopbackServer({pid_, port_}); }

std::string SshServer::Url(const std::string& abs_repo_path) const {
  return absl::StrCat("ssh://", user_, "@127.0.0.1:", port_, abs_repo_path);
}

std::string SshServer::KnownHostsLine() const {
  std::vector<std::string> fields = absl::StrSplit(host_key_.public_key, ' ');
  if (fields.size() < 2) throw std::runtime_error("malformed host key " + host_key_.public_key);
  return absl::StrCat("[127.0.0.1]:", port_, " ", fields[0], " ", fields[1]);
}

void SshServer::Authorize(const std::string& public_key) {
  // git-shell allows git-upload-pack and friends only; the fetch's command
  // arrives in SSH_ORIGINAL_COMMAND.
  WriteFile(dir_ + "/authorized_keys",
            "command=\"git-shell -c \\\"$SSH_ORIGINAL_COMMAND\\\"\",no-port-forwarding,"
            "no-agent-forwarding,no-X11-forwarding,no-pty " +
                public_key + "\n",
            /*append=*/true);
}

std::string SshServer::Log() const { return ReadFile(dir_ + "/sshd.log"); }

}  // namespace flotilla::testing
