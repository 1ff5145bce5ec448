#include "tests/support/e2e_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/prom_text.h"
#include "tests/support/test_util.h"

extern char** environ;

namespace flotilla::testing {
namespace {

namespace fs = std::filesystem;

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return argv;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string ReadStream(FILE* f) {
  std::string out;
  std::rewind(f);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  return out;
}

std::string Tail(const std::string& text, size_t lines) {
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (size_t seen = 0; pos > 0; --pos) {
    if (text[pos - 1] == '\n' && ++seen == lines) break;
  }
  return text.substr(pos);
}

// Parses one sample line "name{k="v",...} value [timestamp]".
bool ParseSample(const std::string& line, std::string* name,
                 std::map<std::string, std::string>* labels, double* value) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  *name = line.substr(0, i);
  labels->clear();
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      size_t eq = line.find('=', i);
      if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
      std::string key(absl::StripAsciiWhitespace(line.substr(i, eq - i)));
      std::string val;
      size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          val += line[j] == 'n' ? '\n' : line[j];
        } else {
          val += line[j];
        }
      }
      if (j >= line.size()) return false;
      (*labels)[key] = val;
      i = j + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;  // '}'
  }
  std::vector<std::string> rest = absl::StrSplit(line.substr(i), ' ', absl::SkipWhitespace());
  if (rest.empty()) return false;
  if (rest[0] == "+Inf" || rest[0] == "-Inf" || rest[0] == "NaN") return false;
  return absl::SimpleAtod(rest[0], value);
}

}  // namespace

// ---------------------------------------------------------------- Process

Process::Process(std::string binary, std::vector<std::string> args, std::string log_path)
    : binary_(std::move(binary)), log_path_(std::move(log_path)) {
  std::vector<std::string> all = {binary_};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv = Argv(all);
  const int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    throw std::runtime_error("opening " + log_path_ + ": " + std::strerror(errno));
  }
  {
    // A header, so a log with several runs (restarts) reads clearly.
    const std::string header = "=== " + absl::StrJoin(all, " ") + "\n";
    (void)!write(log_fd, header.data(), header.size());
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    setpgid(0, 0);
    // Dies with the test, even when the test itself is killed (a ctest
    // timeout, a closed pipe) and no destructor runs.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    const std::string message = std::string("exec ") + argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!write(STDERR_FILENO, message.data(), message.size());
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so the group exists whichever runs first
  close(log_fd);
  pid_ = pid;
}

Process::~Process() {
  if (pid_ > 0 && !exit_code_.has_value()) Stop();
}

void Process::Reap(int status) { exit_code_ = ExitCodeOf(status); }

bool Process::Running() {
  if (exit_code_.has_value()) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    Reap(status);
    return false;
  }
  return r == 0;
}

std::optional<int> Process::WaitForExit(absl::Duration timeout) {
  PollUntil([this] { return !Running(); }, timeout);
  return exit_code_;
}

int Process::Stop(absl::Duration grace) {
  if (!Running()) return exit_code_.value_or(-1);
  kill(-pid_, SIGTERM);
  if (WaitForExit(grace).has_value()) return *exit_code_;
  return Kill();
}

int Process::Kill() {
  if (!Running()) return exit_code_.value_or(-1);
  kill(-pid_, SIGKILL);
  int status = 0;
  if (waitpid(pid_, &status, 0) == pid_) Reap(status);
  return exit_code_.value_or(-1);
}

std::string Process::Log() const { return ReadWholeFile(log_path_); }

std::string Process::LogTail(size_t lines) const { return Tail(Log(), lines); }

// ---------------------------------------------------------------- helpers

RunResult RunBinary(const std::string& binary, const std::vector<std::string>& args,
                    absl::Duration timeout, const std::vector<std::string>& env) {
  RunResult result;
  std::vector<std::string> all = {binary};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv = Argv(all);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> envp = Argv(env_strings);

  FILE* out = std::tmpfile();
  FILE* err = std::tmpfile();
  if (out == nullptr || err == nullptr) {
    result.err = std::string("tmpfile: ") + std::strerror(errno);
    if (out != nullptr) std::fclose(out);
    if (err != nullptr) std::fclose(err);
    return result;
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    result.err = std::string("fork: ") + std::strerror(errno);
    std::fclose(out);
    std::fclose(err);
    return result;
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(fileno(out), STDOUT_FILENO);
    dup2(fileno(err), STDERR_FILENO);
    execvpe(argv[0], argv.data(), envp.data());
    const std::string message = std::string("exec ") + argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!write(STDERR_FILENO, message.data(), message.size());
    _exit(127);
  }
  setpgid(pid, pid);
  int status = 0;
  bool exited = PollUntil([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!exited) {
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  result.exit_code = ExitCodeOf(status);
  result.out = ReadStream(out);
  result.err = ReadStream(err);
  if (!exited) {
    result.err += absl::StrCat("\n[killed after ", absl::FormatDuration(timeout), "]\n");
  }
  std::fclose(out);
  std::fclose(err);
  return result;
}

HttpResponse HttpGet(const std::string& host_port, const std::string& path) {
  return HttpRequest(host_port, "GET", path, {}, "");
}

HttpResponse HttpRequest(const std::string& host_port, const std::string& method,
                         const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body) {
  HttpResponse response;
  const size_t colon = host_port.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(host_port.substr(colon + 1), &port)) {
    response.body = "bad address " + host_port;
    return response;
  }
  const std::string host = host_port.substr(0, colon);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    response.body = std::string("socket: ") + std::strerror(errno);
    return response;
  }
  timeval tv{};
  tv.tv_sec = 10;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    response.body = "connect " + host_port + ": " + std::strerror(errno);
    close(fd);
    return response;
  }
  std::string request =
      method + " " + path + " HTTP/1.0\r\nHost: " + host_port + "\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  if (method != "GET") request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      response.body = std::string("send: ") + std::strerror(errno);
      close(fd);
      return response;
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[8192];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const size_t header_end = raw.find("\r\n\r\n");
  const size_t space = raw.find(' ');
  if (header_end == std::string::npos || space == std::string::npos ||
      !absl::SimpleAtoi(raw.substr(space + 1, 3), &response.status)) {
    response.status = 0;
    response.body = "malformed HTTP response: " + raw.substr(0, 200);
    return response;
  }
  response.body = raw.substr(header_end + 4);
  return response;
}

std::optional<double> FindMetric(const std::string& metrics, const std::string& name,
                                 const std::map<std::string, std::string>& labels) {
  for (absl::string_view line_view : absl::StrSplit(metrics, '\n')) {
    std::string line(absl::StripAsciiWhitespace(line_view));
    if (line.empty() || line[0] == '#') continue;
    std::string sample_name;
    std::map<std::string, std::string> sample_labels;
    double value = 0;
    if (!ParseSample(line, &sample_name, &sample_labels, &value)) continue;
    if (sample_name != name) continue;
    bool match = true;
    for (const auto& [key, want] : labels) {
      auto it = sample_labels.find(key);
      if (it == sample_labels.end() || it->second != want) {
        match = false;
        break;
      }
    }
    if (match) return value;
  }
  return std::nullopt;
}

bool PollEvery(absl::Duration interval, absl::Duration timeout, const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (done()) return true;
    const absl::Time now = absl::Now();
    if (now >= deadline) return false;
    absl::SleepFor(std::min(interval, deadline - now));
  }
}

// ---------------------------------------------------------------- manager

ManagerProcess::ManagerProcess(std::string dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
  process_ = std::make_unique<Process>(
      BinaryPath("flotilla-manager"),
      std::vector<std::string>{"--data-dir", data_dir(), "--listen", "127.0.0.1:0", "--http-listen",
                               "127.0.0.1:0", "--log-level", "debug"},
      dir_ + "/manager.log");
  const std::string endpoints = data_dir() + "/endpoints.json";
  const bool up = PollUntil(
      [&] {
        if (!process_->Running()) return true;
        std::error_code ec;
        if (!fs::exists(endpoints, ec)) return false;
        nlohmann::json parsed =
            nlohmann::json::parse(ReadWholeFile(endpoints), nullptr, /*allow_exceptions=*/false);
        if (!parsed.is_object() || !parsed.contains("grpc") || !parsed.contains("http") ||
            !parsed["grpc"].is_string() || !parsed["http"].is_string()) {
          return false;
        }
        grpc_address_ = parsed["grpc"].get<std::string>();
        http_address_ = parsed["http"].get<std::string>();
        return true;
      },
      absl::Seconds(30));
  if (!up || !process_->Running()) {
    const std::string why = !process_->Running()
                                ? absl::StrCat("exited with ", process_->exit_code().value_or(-1))
                                : "did not write " + endpoints + " within 30s";
    throw std::runtime_error("flotilla-manager " + why + "; log tail:\n" + process_->LogTail());
  }
}

RunResult ManagerProcess::Cli(const std::vector<std::string>& args) const {
  std::vector<std::string> all = {"--server", grpc_address_,  "--ca-file",
                                  ca_file(),  "--token-file", token_file()};
  all.insert(all.end(), args.begin(), args.end());
  return RunBinary(BinaryPath("flotilla"), all);
}

std::optional<nlohmann::json> ManagerProcess::TryGetJson(const std::string& kind) const {
  RunResult r = Cli({"get", kind, "-o", "json"});
  if (r.exit_code != 0) return std::nullopt;
  nlohmann::json parsed = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("items") || !parsed["items"].is_array()) {
    return std::nullopt;
  }
  return parsed["items"];
}

nlohmann::json ManagerProcess::GetJson(const std::string& kind) const {
  RunResult r = Cli({"get", kind, "-o", "json"});
  if (r.exit_code != 0) {
    throw std::runtime_error(
        absl::StrCat("flotilla get ", kind, " -o json exited with ", r.exit_code, ": ", r.err));
  }
  nlohmann::json parsed = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("items") || !parsed["items"].is_array()) {
    throw std::runtime_error("flotilla get " + kind +
                             " -o json printed no {\"items\": [...]}: " + r.out);
  }
  return parsed["items"];
}

std::string ManagerProcess::CreateToken(const std::vector<std::string>& args) const {
  std::vector<std::string> all = {"token", "create"};
  all.insert(all.end(), args.begin(), args.end());
  RunResult r = Cli(all);
  if (r.exit_code != 0) {
    throw std::runtime_error(
        absl::StrCat("flotilla token create exited with ", r.exit_code, ": ", r.err));
  }
  std::string first = r.out.substr(0, r.out.find('\n'));
  return std::string(absl::StripAsciiWhitespace(first));
}

std::optional<double> ManagerProcess::Metric(
    const std::string& name, const std::map<std::string, std::string>& labels) const {
  HttpResponse r = Get("/metrics");
  if (r.status != 200) return std::nullopt;
  return FindMetric(r.body, name, labels);
}

std::optional<double> ManagerProcess::MetricSum(
    const std::string& name, const std::map<std::string, std::string>& labels) const {
  HttpResponse r = Get("/metrics");
  if (r.status != 200) return std::nullopt;
  auto parsed = PromExposition::Parse(r.body);
  if (!parsed.ok() || parsed->Count(name) == 0) return std::nullopt;
  return parsed->Sum(name, labels);
}

// ---------------------------------------------------------------- agent

AgentProcess::AgentProcess(const ManagerProcess& manager, AgentOptions options)
    : manager_address_(manager.grpc_address()),
      ca_file_(manager.ca_file()),
      options_(std::move(options)) {
  Start();
}

void AgentProcess::Start() {
  std::vector<std::string> args = {"--manager", manager_address_, "--state-dir", options_.state_dir,
                                   "--name",    options_.name,    "--log-level", "debug"};
  if (!options_.token.empty()) {
    if (options_.token_in_file) {
      const std::string token_file = options_.state_dir + ".token";
      std::ofstream(token_file) << options_.token << "\n";
      args.insert(args.end(), {"--token-file", token_file});
    } else {
      args.insert(args.end(), {"--token", options_.token});
    }
  }
  if (!options_.ca_pin.empty()) {
    args.insert(args.end(), {"--ca-pin", options_.ca_pin});
  } else {
    args.insert(args.end(), {"--ca-file", ca_file_});
  }
  for (const auto& [key, value] : options_.labels) {
    args.insert(args.end(), {"--label", key + "=" + value});
  }
  args.insert(args.end(), {"--target", "dir:" + options_.target_dir});
  if (options_.health) args.insert(args.end(), {"--health-listen", "127.0.0.1:0"});
  process_ = std::make_unique<Process>(BinaryPath("flotilla-agent"), args, options_.log_path);
}

std::string AgentProcess::HealthAddress() const {
  const std::string kMarker = "serving /healthz and /readyz on ";
  std::string address;
  PollUntil([&] {
    const std::string log = process_->Log();
    const size_t at = log.rfind(kMarker);
    if (at == std::string::npos) return false;
    const size_t end = log.find('\n', at);
    address =
        log.substr(at + kMarker.size(), end == std::string::npos ? end : end - at - kMarker.size());
    return true;
  });
  if (address.empty()) {
    throw std::runtime_error("the agent does not serve /healthz:\n" + process_->LogTail());
  }
  return address;
}

void AgentProcess::Restart() {
  if (process_ != nullptr) process_->Stop();
  options_.token.clear();
  Start();
}

// ---------------------------------------------------------------- files

std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path rel = fs::relative(it->path(), dir, ec);
    bool hidden = false;
    for (const fs::path& part : rel) {
      if (!part.empty() && part.string()[0] == '.') hidden = true;
    }
    if (hidden || !it->is_regular_file(ec)) continue;
    files.push_back(rel.generic_string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::map<std::string, std::string> ReadTree(const std::string& dir) {
  std::map<std::string, std::string> tree;
  for (const std::string& rel : ListFiles(dir)) tree[rel] = ReadWholeFile(dir + "/" + rel);
  return tree;
}

std::map<std::string, int64_t> ModTimes(const std::string& dir) {
  std::map<std::string, int64_t> times;
  for (const std::string& rel : ListFiles(dir)) {
    struct stat st {};
    if (stat((dir + "/" + rel).c_str(), &st) != 0) continue;
    times[rel] = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  return times;
}

}  // namespace flotilla::testing
