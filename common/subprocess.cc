#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status_macros.h"

namespace flotilla::common {
namespace {

// An fd closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

absl::Status Pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  return absl::OkStatus();
}

// posix_spawn's attributes and file actions, destroyed with the object.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

int PollTimeoutMs(absl::Time deadline) {
  const absl::Duration left = deadline - RealClock::Get()->Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), INT_MAX));
}

}  // namespace

absl::StatusOr<SubprocessResult> RunSubprocess(SubprocessOptions options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return absl::InvalidArgumentError("no program to run");
  }
  std::vector<char*> argv, envp;
  for (std::string& a : options.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : options.env) envp.push_back(e.data());
  envp.push_back(nullptr);

  Fd out_r, out_w, err_r, err_w;
  RETURN_IF_ERROR(Pipe(out_r, out_w));
  RETURN_IF_ERROR(Pipe(err_r, err_w));
  SpawnSetup setup;
  // dup2 clears close-on-exec on 1 and 2; every other descriptor of this
  // process (TLS keys, sockets, other threads' files) is closed in the child.
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_w.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err_w.get(), STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, options.cwd.c_str());
  }
  // Its own process group (kill(-pid) reaches what it started), no blocked
  // signals, and SIGPIPE back to its default (servers ignore it).
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const absl::Time deadline = RealClock::Get()->Now() + options.timeout;
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &setup.actions, &setup.attr, argv.data(), envp.data());
  if (rc != 0) return absl::FailedPreconditionError(std::strerror(rc));
  out_w.Reset();
  err_w.Reset();

  SubprocessResult result;
  bool out_open = true, err_open = true;
  std::vector<char> buf(64 << 10);
  while ((out_open || err_open) && !result.output_too_large) {
    const int timeout_ms = PollTimeoutMs(deadline);
    if (timeout_ms == 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[2];
    nfds_t n = 0;
    if (out_open) fds[n++] = {out_r.get(), POLLIN, 0};
    if (err_open) fds[n++] = {err_r.get(), POLLIN, 0};
    const int ready = poll(fds, n, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      result.timed_out = true;  // cannot wait any more: treat as a hang
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      const bool is_out = fds[i].fd == out_r.get();
      const ssize_t len = read(fds[i].fd, buf.data(), buf.size());
      if (len < 0 && errno == EINTR) continue;
      if (len <= 0) {
        (is_out ? out_open : err_open) = false;
        continue;
      }
      const size_t size = static_cast<size_t>(len);
      if (is_out) {
        if (result.out.size() + size > options.max_stdout) {
          result.output_too_large = true;
          break;
        }
        result.out.append(buf.data(), size);
      } else if (result.err.size() < options.max_stderr) {
        result.err.append(buf.data(), std::min(size, options.max_stderr - result.err.size()));
      }
    }
  }
  // Both pipes closed: wait, without reaping (the group id stays ours), for
  // the program itself to exit.
  while (!result.timed_out && !result.output_too_large) {
    siginfo_t info{};
    if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) break;
    const int timeout_ms = PollTimeoutMs(deadline);
    if (timeout_ms == 0) {
      result.timed_out = true;
      break;
    }
    poll(nullptr, 0, std::min(timeout_ms, 10));
  }
  // Whatever it left behind in its group goes too.
  kill(-pid, SIGKILL);
  while (waitpid(pid, &result.wait_status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

}  // namespace flotilla::common
