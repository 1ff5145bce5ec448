#include "tests/support/loopback_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "absl/time/time.h"
#include "tests/support/test_util.h"

namespace flotilla::testing {
namespace {

bool AcceptsConnections(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

LoopbackServer StartLoopbackServer(
    const std::string& what, const std::function<std::vector<std::string>(int)>& args_for_port,
    const std::string& stderr_path) {
  std::string last_failure;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = FreePort();
    // Everything the child needs is built before fork().
    std::vector<std::string> args = args_for_port(port);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      setpgid(0, 0);
      // A test binary that dies (crash, ctest timeout) takes the server along.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int devnull = open("/dev/null", O_RDWR);
      const int err_fd = stderr_path.empty()
                             ? devnull
                             : open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
      }
      if (err_fd >= 0) dup2(err_fd, STDERR_FILENO);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    setpgid(pid, pid);  // also here, so the group exists whichever runs first

    bool exited = false;
    const bool ready = PollUntil(
        [&] {
          if (waitpid(pid, nullptr, WNOHANG) == pid) {
            exited = true;
            return true;
          }
          return AcceptsConnections(port);
        },
        absl::Seconds(10));
    if (ready && !exited) return {pid, port};
    if (!exited) {
      kill(-pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    last_failure = exited ? "exited early" : "did not accept connections within 10s";
  }
  throw std::runtime_error(what + " " + last_failure + " (5 attempts)");
}

void StopLoopbackServer(const LoopbackServer& server) {
  if (server.pid <= 0) return;
  kill(-server.pid, SIGTERM);
  if (!PollUntil([&] { return waitpid(server.pid, nullptr, WNOHANG) == server.pid; },
                 absl::Seconds(5))) {
    kill(-server.pid, SIGKILL);
    waitpid(server.pid, nullptr, 0);
  }
}

}  // namespace flotilla::testing
