#include "tests/support/git_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "tests/support/http_connection.h"
#include "tests/support/test_util.h"

namespace flotilla::testing {
namespace {

// Runs a CGI program with `env`, feeding `body` to its stdin, and appends its
// stdout to `output`. False if it could not be started.
bool RunCgi(const std::string& program, const std::vector<std::string>& env,
            const std::string& body, std::string* output) {
  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return false;
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    return false;
  }
  // Everything the child needs is built before fork().
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  char* argv[] = {const_cast<char*>(program.c_str()), nullptr};

  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(in_pipe[0], STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    const int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDERR_FILENO);
    execve(program.c_str(), argv, envp.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  int in_fd = in_pipe[1];
  if (body.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  char buf[65536];
  for (;;) {
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (poll(fds, in_fd >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (in_fd >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t n = write(in_fd, body.data() + written, body.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) written = body.size();
      if (written == body.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = read(out_pipe[0], buf, sizeof(buf));
      if (n > 0) {
        output->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        break;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return true;
}

}  // namespace

GitHttpServer::GitHttpServer(Options options) : options_(std::move(options)) {
  const CommandResult exec_path = RunCommand("git --exec-path");
  if (exec_path.exit_code != 0) throw std::runtime_error("git --exec-path: " + exec_path.output);
  backend_path_ =
      std::string(absl::StripTrailingAsciiWhitespace(exec_path.output)) + "/git-http-backend";
  if (access(backend_path_.c_str(), X_OK) != 0) {
    throw std::runtime_error(backend_path_ + " is not executable");
  }

  if (!options_.tls_cert_pem.empty()) {
    tls_ = ServerTls::FromPem("GitHttpServer", options_.tls_cert_pem, options_.tls_key_pem);
  }

  listener_ = std::make_unique<LoopbackListener>("GitHttpServer", [this](int fd) { Serve(fd); });
}

GitHttpServer::~GitHttpServer() { listener_->Stop(); }

std::string GitHttpServer::Url(const std::string& repo_rel_path) const {
  return absl::StrCat(tls_ != nullptr ? "https" : "http", "://127.0.0.1:", listener_->port(), "/",
                      repo_rel_path);
}

void GitHttpServer::Serve(int fd) {
  {
    HttpConnection conn(fd, tls_.get());
    IncomingRequest req;
    if (conn.Handshake() && conn.ReadRequest(&req)) {
      ++requests_;
      const Fault fault = fault_;
      bool authorized = options_.username.empty() && options_.password.empty();
      std::string user;
      if (!authorized) {
        const std::string header = req.Header("authorization");
        absl::string_view auth = header;
        std::string decoded;
        if (absl::ConsumePrefix(&auth, "Basic ") && absl::Base64Unescape(auth, &decoded)) {
          authorized = decoded == options_.username + ":" + options_.password;
          user = options_.username;
        }
      }
      if (fault == Fault::kHang) {
        pollfd stop{listener_->stop_fd(), POLLIN, 0};
        while (poll(&stop, 1, -1) < 0 && errno == EINTR) {
        }
      } else if (!authorized) {
        ++unauthorized_;
        conn.WriteAll(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"flotilla-test\"\r\n"
            "Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\n"
            "unauthorized\n");
      } else {
        const char* path = std::getenv("PATH");
        std::vector<std::string> env = {
            "GIT_PROJECT_ROOT=" + options_.project_root,
            "GIT_HTTP_EXPORT_ALL=1",
            "GIT_CONFIG_NOSYSTEM=1",
            "HOME=" + options_.project_root,
            "PATH=" + std::string(path != nullptr ? path : "/usr/bin:/bin"),
            "GATEWAY_INTERFACE=CGI/1.1",
            "SERVER_PROTOCOL=HTTP/1.1",
            "REMOTE_ADDR=127.0.0.1",
            "REQUEST_METHOD=" + req.method,
            "PATH_INFO=" + req.path,
            "QUERY_STRING=" + req.query,
            "CONTENT_TYPE=" + req.Header("content-type"),
            "CONTENT_LENGTH=" + std::to_string(req.body.size()),
        };
        if (!user.empty()) env.push_back("REMOTE_USER=" + user);
        if (!req.Header("git-protocol").empty()) {
          env.push_back("HTTP_GIT_PROTOCOL=" + req.Header("git-protocol"));
        }
        std::string output;
        if (!RunCgi(backend_path_, env, req.body, &output)) {
          conn.WriteAll(
              "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: "
              "close\r\n\r\n");
        } else {
          // CGI output: headers (with an optional Status:), blank line, body.
          size_t sep = output.find("\r\n\r\n");
          size_t body_start = sep + 4;
          if (sep == std::string::npos) {
            sep = output.find("\n\n");
            body_start = sep + 2;
          }
          if (sep == std::string::npos) sep = body_start = output.size();
          std::string status = "200 OK";
          std::string headers;
          for (absl::string_view line :
               absl::StrSplit(absl::string_view(output).substr(0, sep), '\n')) {
            line = absl::StripTrailingAsciiWhitespace(line);
            if (line.empty()) continue;
            if (absl::ConsumePrefix(&line, "Status:")) {
              status = std::string(absl::StripAsciiWhitespace(line));
            } else {
              absl::StrAppend(&headers, line, "\r\n");
            }
          }
          const std::string body = output.substr(std::min(body_start, output.size()));
          const std::string response_head =
              absl::StrCat("HTTP/1.1 ", status, "\r\n", headers, "Content-Length: ", body.size(),
                           "\r\nConnection: close\r\n\r\n");
          if (fault == Fault::kCloseMidPack && req.method == "POST" &&
              absl::EndsWith(req.path, "/git-upload-pack")) {
            conn.WriteAll(response_head + body.substr(0, body.size() / 2));
          } else {
            conn.WriteAll(response_head + body);
          }
        }
      }
    }
  }
}

}  // namespace flotilla::testing
