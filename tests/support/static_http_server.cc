#include "tests/support/static_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace flotilla::testing {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

StaticHttpServer::StaticHttpServer() {
  if (pipe(stop_pipe_) != 0) throw std::runtime_error("pipe failed");
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("StaticHttpServer: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

StaticHttpServer::~StaticHttpServer() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  (void)!write(stop_pipe_[1], "x", 1);
  accept_thread_.join();
  {
    absl::MutexLock lock(&mu_);
    threads = std::move(threads_);
  }
  for (std::thread& t : threads) t.join();
  close(listen_fd_);
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

void StaticHttpServer::Serve(const std::string& path, std::string body, int status) {
  absl::MutexLock lock(&mu_);
  responses_[path] = Response{status, std::move(body)};
}

std::string StaticHttpServer::Url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

std::string StaticHttpServer::last_authorization() {
  absl::MutexLock lock(&mu_);
  return last_authorization_;
}

void StaticHttpServer::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      close(fd);
      return;
    }
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Handle(fd); });
  }
}

void StaticHttpServer::Handle(int fd) {
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < (1 << 16)) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, 10000) <= 0 || fds[1].revents != 0) break;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  ++requests_;
  std::vector<std::string> lines = absl::StrSplit(request, "\r\n");
  std::string path;
  if (!lines.empty()) {
    std::vector<std::string> words = absl::StrSplit(lines[0], ' ');
    if (words.size() >= 2) path = words[1].substr(0, words[1].find('?'));
  }
  std::string authorization;
  for (const std::string& line : lines) {
    if (absl::StartsWithIgnoreCase(line, "authorization:")) {
      authorization = std::string(absl::StripAsciiWhitespace(line.substr(14)));
    }
  }
  Response response{404, "not found\n"};
  {
    absl::MutexLock lock(&mu_);
    last_authorization_ = authorization;
    auto it = responses_.find(path);
    if (it != responses_.end()) response = it->second;
  }
  if (hang_) {
    pollfd stop{stop_pipe_[0], POLLIN, 0};
    while (poll(&stop, 1, -1) <= 0) {
    }
  } else {
    WriteAll(fd, absl::StrCat("HTTP/1.1 ", response.status, " ", Reason(response.status),
                              "\r\nContent-Length: ", response.body.size(),
                              "\r\nConnection: close\r\n\r\n", response.body));
  }
  absl::MutexLock lock(&mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  close(fd);
}

}  // namespace flotilla::testing
