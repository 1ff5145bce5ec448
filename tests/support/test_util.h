// Helpers shared by the tests: temporary directories, shell commands, free
// ports and polling with a deadline (tests never sleep to wait).
#pragma once

#include <functional>
#include <string>

#include "absl/time/time.h"

namespace flotilla::testing {

// A fresh directory under $TMPDIR, removed (recursively) on destruction unless
// FLOTILLA_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs `command` with /bin/sh -c, capturing its output.
CommandResult RunCommand(const std::string& command);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// Calls `done` until it returns true or `timeout` passes; returns its last
// answer. Polls every few milliseconds (this is polling, not waiting blind).
bool PollUntil(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(30));

// Directory of the built binaries (flotilla-manager, flotilla-agent, flotilla).
std::string BinaryPath(const std::string& name);

}  // namespace flotilla::testing
