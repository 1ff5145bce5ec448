#include "cli/command_context.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace flotilla::cli {

int PrintUsageError(std::ostream& err, absl::string_view command_path, absl::string_view message) {
  std::string command = command_path.empty() ? "" : absl::StrCat(command_path, " ");
  err << "error: " << message << "\n"
      << "Run 'flotilla " << command << "--help' for usage.\n";
  return kExitUsage;
}

CommandContext::CommandContext(std::string command_path, ParsedArgs args, std::istream& in,
                               std::ostream& out, std::ostream& err, const Environment& env,
                               FleetApiFactory& factory, const common::Clock& clock)
    : command_path_(std::move(command_path)),
      args_(std::move(args)),
      in_(in),
      out_(out),
      err_(err),
      env_(env),
      factory_(factory),
      clock_(clock) {}

absl::StatusOr<FleetApi*> CommandContext::Api() {
  if (api_ == nullptr) {
    absl::StatusOr<ConnectionConfig> config = ResolveConnection(args_, env_);
    if (!config.ok()) return config.status();
    api_ = factory_.Connect(*config);
  }
  return api_.get();
}

int CommandContext::UsageError(const absl::Status& status) {
  return PrintUsageError(err_, command_path_, status.message());
}

int CommandContext::ApiError(const absl::Status& status, const std::string& context) {
  std::string suffix = context.empty() ? "" : absl::StrCat(" (", context, ")");
  std::string code = absl::StatusCodeToString(status.code());
  if (status.code() == absl::StatusCode::kUnavailable ||
      status.code() == absl::StatusCode::kDeadlineExceeded) {
    err_ << "error: cannot reach the manager at " << ResolveServer(args_, env_) << ": " << code
         << ": " << status.message() << suffix << "\n";
    return kExitUnreachable;
  }
  err_ << "error: " << code << ": " << status.message() << suffix << "\n";
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    err_ << "Check the API token in --" << kTokenFileFlag << " / " << kTokenFileEnv << ".\n";
  }
  return kExitServerError;
}

}  // namespace flotilla::cli
