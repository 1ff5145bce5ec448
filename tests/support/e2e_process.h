// Running the real binaries for end-to-end tests: a child process with its
// output in a log file, the manager (with its CLI, HTTP and metrics), and
// agents with directory targets.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace flotilla::testing {

// A child process running `binary` with `args`; stdout and stderr are appended
// to `log_path`. It runs in its own process group. The destructor stops it:
// SIGTERM, then SIGKILL after a grace period.
class Process {
 public:
  Process(std::string binary, std::vector<std::string> args, std::string log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  // True while the process has not exited (reaps it once it has).
  bool Running();
  // The exit code (128 + signal number when killed) once it has exited.
  std::optional<int> exit_code() const { return exit_code_; }
  // Waits up to `timeout` for the process to exit; its exit code if it did.
  std::optional<int> WaitForExit(absl::Duration timeout);
  // SIGTERM, then SIGKILL after `grace`; returns the exit code.
  int Stop(absl::Duration grace = absl::Seconds(5));
  // SIGKILL to the whole process group; returns the exit code.
  int Kill();

  // Everything the process wrote so far, and its last `lines` lines.
  std::string Log() const;
  std::string LogTail(size_t lines = 40) const;

 private:
  void Reap(int status);

  std::string binary_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// The outcome of a command run to completion, stdout and stderr apart.
struct RunResult {
  int exit_code = -1;  // 128 + signal when killed; -1 when it could not run
  std::string out;
  std::string err;
};
// Runs `binary` with `args` (no shell) and waits up to `timeout` for it; a
// command still running then is killed (exit code 128 + SIGKILL).
// `env` entries ("NAME=value") are added to the environment.
RunResult RunBinary(const std::string& binary, const std::vector<std::string>& args,
                    absl::Duration timeout = absl::Seconds(30),
                    const std::vector<std::string>& env = {});

struct HttpResponse {
  int status = 0;  // 0 when the request failed; then `body` says why
  std::string body;
};
// A plain HTTP/1.0 GET to "host:port" on loopback.
HttpResponse HttpGet(const std::string& host_port, const std::string& path);
// Any HTTP/1.0 request with headers and a body (Content-Length is added).
HttpResponse HttpRequest(const std::string& host_port, const std::string& method,
                         const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body);

// The value of the first sample of `name` in Prometheus text `metrics` whose
// labels include all of `labels`.
std::optional<double> FindMetric(const std::string& metrics, const std::string& name,
                                 const std::map<std::string, std::string>& labels = {});

// Calls `done` every `interval` until it returns true or `timeout` passes.
// For checks that are themselves expensive (running the CLI), where
// PollUntil's few milliseconds would keep two cores busy.
bool PollEvery(absl::Duration interval, absl::Duration timeout, const std::function<bool()>& done);

// flotilla-manager on loopback ports, with its data under `dir`/data and its
// log at `dir`/manager.log.
class ManagerProcess {
 public:
  // Starts the manager and waits (up to 30s) for data/endpoints.json; throws
  // std::runtime_error with the log tail if it does not come up.
  explicit ManagerProcess(std::string dir);
  ManagerProcess(const ManagerProcess&) = delete;
  ManagerProcess& operator=(const ManagerProcess&) = delete;

  Process& process() { return *process_; }
  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string ca_file() const { return data_dir() + "/ca.crt"; }
  std::string token_file() const { return data_dir() + "/admin.token"; }
  const std::string& grpc_address() const { return grpc_address_; }
  const std::string& http_address() const { return http_address_; }

  // `flotilla --server ... --ca-file ... --token-file ... args`.
  RunResult Cli(const std::vector<std::string>& args) const;
  // `flotilla get KIND -o json`'s "items"; throws with the CLI's stderr when
  // it fails.
  nlohmann::json GetJson(const std::string& kind) const;
  // The same, nullopt when the CLI fails (for polling).
  std::optional<nlohmann::json> TryGetJson(const std::string& kind) const;
  // `flotilla token create args`'s first line; throws when it fails.
  std::string CreateToken(const std::vector<std::string>& args = {}) const;

  HttpResponse Get(const std::string& path) const { return HttpGet(http_address_, path); }
  // A sample from /metrics (nullopt when absent or unreachable).
  std::optional<double> Metric(const std::string& name,
                               const std::map<std::string, std::string>& labels = {}) const;
  // The sum of every sample of `name` whose labels include `labels`, as
  // PromQL's sum(name{labels}); nullopt when /metrics is unreachable, does
  // not parse strictly (tests/support/prom_text.h) or has no sample `name`.
  std::optional<double> MetricSum(const std::string& name,
                                  const std::map<std::string, std::string>& labels = {}) const;

 private:
  std::string dir_;
  std::unique_ptr<Process> process_;
  std::string grpc_address_;
  std::string http_address_;
};

struct AgentOptions {
  std::string name;
  std::map<std::string, std::string> labels;
  // Registration token; empty to start from the state dir alone.
  std::string token;
  // Pass the token with --token-file rather than --token.
  bool token_in_file = false;
  // Trust the manager by --ca-pin rather than --ca-file.
  std::string ca_pin;
  std::string state_dir;
  std::string target_dir;
  std::string log_path;
  // Serve /healthz and /readyz on a free loopback port (--health-listen).
  bool health = false;
};

// flotilla-agent with a directory target, started at construction.
class AgentProcess {
 public:
  AgentProcess(const ManagerProcess& manager, AgentOptions options);
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  const AgentOptions& options() const { return options_; }
  const std::string& name() const { return options_.name; }
  const std::string& target_dir() const { return options_.target_dir; }
  const std::string& state_dir() const { return options_.state_dir; }
  Process& process() { return *process_; }
  // With options.health: "127.0.0.1:PORT" from the agent's log, once it
  // serves (up to 30s); throws std::runtime_error otherwise.
  std::string HealthAddress() const;

  // Starts it again (after Stop or Kill) with the same options, but without
  // the registration token: a registered agent needs only its state dir.
  void Restart();

 private:
  void Start();

  std::string manager_address_;
  std::string ca_file_;
  AgentOptions options_;
  std::unique_ptr<Process> process_;
};

// Regular files below `dir`, as paths relative to it, sorted; hidden files
// (an atomic write's temporary) are left out. Empty when `dir` is missing.
std::vector<std::string> ListFiles(const std::string& dir);
// Relative path -> content of every file ListFiles lists.
std::map<std::string, std::string> ReadTree(const std::string& dir);
// Relative path -> modification time in nanoseconds.
std::map<std::string, int64_t> ModTimes(const std::string& dir);

}  // namespace flotilla::testing
