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
    absl::StatusOr<ResolvedConnection> connection = ResolveConnection(args_, env_);
    if (!connection.ok()) return connection.status();
    return Connect(*connection);
  }
  return api_.get();
}

FleetApi* CommandContext::Connect(const ResolvedConnection& connection) {
  api_ = factory_.Connect(connection.config);
  server_ = connection.config.server;
  token_source_ = connection.token_source;
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
    std::string server = server_.empty() ? ResolveServer(args_, env_) : server_;
    err_ << "error: cannot reach the manager at " << server << ": " << code << ": "
         << status.message() << suffix << "\n";
    return kExitUnreachable;
  }
  err_ << "error: " << code << ": " << status.message() << suffix << "\n";
  std::string token_source = token_source_.empty()
                                 ? absl::StrCat("--", kTokenFileFlag, " / ", kTokenFileEnv)
                                 : token_source_;
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    err_ << "Check the API token in " << token_source << ".\n";
    return kExitNotAuthorized;
  }
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    err_ << "The API token in " << token_source
         << " may not do this: use a token whose role allows it.\n";
    return kExitNotAuthorized;
  }
  return kExitServerError;
}

}  // namespace flotilla::cli
