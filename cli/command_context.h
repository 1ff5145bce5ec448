// What a command runs with: its parsed arguments, its streams, the manager
// (connected on first use), and the exit-code conventions every command shares.
#pragma once

#include <istream>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/args.h"
#include "cli/connection.h"
#include "cli/fleet_api.h"
#include "common/clock.h"

namespace flotilla::cli {

// Exit codes scripts can rely on (documented in `flotilla --help`).
enum ExitCode : int {
  kExitOk = 0,
  kExitServerError = 1,    // the manager refused or failed the request
  kExitUsage = 2,          // bad command, flag or argument; unreadable input or credentials
  kExitUnreachable = 3,    // the manager could not be reached (UNAVAILABLE, DEADLINE_EXCEEDED)
  kExitNotAuthorized = 4,  // the manager refused the token (UNAUTHENTICATED) or its role
                           // may not make the call (PERMISSION_DENIED)
};

// Prints "error: <message>" and "Run 'flotilla <command_path> --help' for
// usage." (no command path: "flotilla --help"); returns kExitUsage.
int PrintUsageError(std::ostream& err, absl::string_view command_path, absl::string_view message);

// One invocation's context. Not thread-safe; lives for one RunCli call and
// borrows the streams, environment, factory and clock it is given.
class CommandContext {
 public:
  CommandContext(std::string command_path, ParsedArgs args, std::istream& in, std::ostream& out,
                 std::ostream& err, const Environment& env, FleetApiFactory& factory,
                 const common::Clock& clock);

  // "get", "token": what `flotilla ... --help` hints name.
  const std::string& command_path() const { return command_path_; }
  const ParsedArgs& args() const { return args_; }
  // The environment RunCli was given (FLOTILLA_CA_FILE and friends).
  const Environment& env() const { return env_; }
  std::istream& in() { return in_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  absl::Time Now() const { return clock_.Now(); }

  // The manager's API, connected on the first call. InvalidArgument when the
  // connection flags, variables or files are wrong (a usage error).
  absl::StatusOr<FleetApi*> Api();

  // Connects to `connection` (instead of what Api() would resolve), for
  // `login`, which checks credentials not yet saved; later Api() calls
  // return the same connection. ApiError names its server and token source.
  FleetApi* Connect(const ResolvedConnection& connection);

  // Prints "error: <message>" and a hint to run --help; returns kExitUsage.
  int UsageError(const absl::Status& status);

  // Prints a failed call as "error: <CODE>: <message>" and returns
  // kExitServerError; for UNAVAILABLE and DEADLINE_EXCEEDED it says which
  // server was tried and returns kExitUnreachable; for UNAUTHENTICATED and
  // PERMISSION_DENIED it adds where the token came from and returns
  // kExitNotAuthorized. `context` (may be empty) is appended in parentheses,
  // e.g. which document failed.
  int ApiError(const absl::Status& status, const std::string& context = "");

 private:
  std::string command_path_;
  ParsedArgs args_;
  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  const Environment& env_;
  FleetApiFactory& factory_;
  const common::Clock& clock_;
  std::unique_ptr<FleetApi> api_;
  // Of the connection api_ uses; empty before it connects.
  std::string server_;
  std::string token_source_;
};

}  // namespace flotilla::cli
