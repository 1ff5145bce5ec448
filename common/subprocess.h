// Running a helper program (kustomize, kubectl, a credential plugin) safely:
// no shell, its own process group, stdin on /dev/null, no inherited file
// descriptors, SIGPIPE back to its default, bounded output and a deadline,
// and everything it started killed when it is done.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace flotilla::common {

struct SubprocessOptions {
  // argv[0] is looked up on the PATH of this process unless it has a slash.
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value" entries: the whole environment
  std::string cwd;               // "" keeps this process's
  // Real time: it bounds waiting on a real process.
  absl::Duration timeout = absl::Seconds(60);
  size_t max_stdout = size_t{1} << 20;
  size_t max_stderr = size_t{256} << 10;  // the rest is read and dropped
};

struct SubprocessResult {
  int wait_status = 0;  // as waitpid reports it
  std::string out;
  std::string err;
  bool timed_out = false;         // killed at the deadline
  bool output_too_large = false;  // killed when stdout passed max_stdout
};

// Runs the program until it exits and closes its output, or until the
// deadline or the output limit; the whole process group is killed then.
// A program that cannot be started is FailedPrecondition with the reason
// ("No such file or directory"); its exit status is for the caller to judge.
absl::StatusOr<SubprocessResult> RunSubprocess(SubprocessOptions options);

}  // namespace flotilla::common
