#include "cli/args.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace flotilla::cli {
namespace {

const FlagSpec* FindLong(absl::Span<const FlagSpec> specs, absl::string_view name) {
  for (const FlagSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const FlagSpec* FindShort(absl::Span<const FlagSpec> specs, char name) {
  for (const FlagSpec& spec : specs) {
    if (spec.short_name != '\0' && spec.short_name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

bool ParsedArgs::Has(absl::string_view name) const {
  for (const auto& [flag, value] : flags_) {
    if (flag == name) return true;
  }
  return false;
}

std::optional<std::string> ParsedArgs::Value(absl::string_view name) const {
  std::optional<std::string> last;
  for (const auto& [flag, value] : flags_) {
    if (flag == name) last = value;
  }
  return last;
}

std::vector<std::string> ParsedArgs::Values(absl::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [flag, value] : flags_) {
    if (flag == name) values.push_back(value);
  }
  return values;
}

void ParsedArgs::PrependFlags(const ParsedArgs& earlier) {
  flags_.insert(flags_.begin(), earlier.flags_.begin(), earlier.flags_.end());
}

absl::StatusOr<ParsedArgs> ParseFlags(absl::Span<const std::string> args,
                                      absl::Span<const FlagSpec> specs,
                                      bool stop_at_first_positional) {
  ParsedArgs parsed;
  size_t i = 0;
  bool flags_ended = false;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_ended || arg == "-" || !absl::StartsWith(arg, "-")) {
      if (stop_at_first_positional) break;
      parsed.positionals_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      if (stop_at_first_positional) {
        ++i;
        break;
      }
      continue;
    }

    // Split the flag into its spec and, when attached ("=v" or "-ov"), its value.
    const FlagSpec* spec = nullptr;
    std::optional<std::string> attached;
    std::string shown;  // the flag as the user wrote it, for errors
    if (absl::StartsWith(arg, "--")) {
      absl::string_view body = absl::string_view(arg).substr(2);
      size_t eq = body.find('=');
      absl::string_view name = body.substr(0, eq);
      if (eq != absl::string_view::npos) attached = std::string(body.substr(eq + 1));
      shown = absl::StrCat("--", name);
      spec = FindLong(specs, name);
    } else {
      shown = arg.substr(0, 2);
      spec = FindShort(specs, arg[1]);
      if (arg.size() > 2) {
        attached = arg[2] == '=' ? arg.substr(3) : arg.substr(2);
      }
    }
    if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag ", shown));

    std::string value;
    if (!spec->takes_value) {
      if (attached.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("flag ", shown, " takes no value"));
      }
    } else if (attached.has_value()) {
      value = *attached;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag ", shown, " needs a value (", shown, " ", spec->value_name, ")"));
    }
    parsed.flags_.emplace_back(spec->name, std::move(value));
  }
  parsed.consumed_ = i;
  return parsed;
}

}  // namespace flotilla::cli
