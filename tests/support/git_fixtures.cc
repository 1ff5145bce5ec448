#include "tests/support/git_fixtures.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "tests/support/loopback_server.h"
#include "tests/support/test_util.h"

namespace flotilla::testing {
namespace {

// Single-quotes `s` for /bin/sh.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

// Runs `git -C dir args`; throws with git's output on failure.
std::string Git(const std::string& dir, const std::string& args) {
  const std::string command = "git -C " + ShellQuote(dir) + " " + args;
  CommandResult result = RunCommand(command);
  if (result.exit_code != 0) {
    throw std::runtime_error(command + " exited with " + std::to_string(result.exit_code) + ": " +
                             result.output);
  }
  return result.output;
}

}  // namespace

TestGitRepo::TestGitRepo(std::string dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  Git(dir_, "init -q -b main");
  Git(dir_, "config user.name 'Flotilla Test'");
  Git(dir_, "config user.email test@flotilla.invalid");
  Git(dir_, "config commit.gpgsign false");
  Git(dir_, "config tag.gpgsign false");
}

void TestGitRepo::WriteFile(const std::string& rel_path, const std::string& content) {
  const std::filesystem::path path = std::filesystem::path(dir_) / rel_path;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("writing " + path.string());
}

void TestGitRepo::RemoveFile(const std::string& rel_path) {
  std::error_code ec;
  std::filesystem::remove(std::filesystem::path(dir_) / rel_path, ec);
  if (ec) throw std::runtime_error("removing " + rel_path + ": " + ec.message());
}

void TestGitRepo::CopyTree(const std::string& src, const std::string& dest_rel) {
  const std::string dest = dir_ + "/" + dest_rel;
  std::filesystem::create_directories(dest);
  const CommandResult result =
      RunCommand("cp -a " + ShellQuote(src + "/.") + " " + ShellQuote(dest + "/"));
  if (result.exit_code != 0) {
    throw std::runtime_error("copying " + src + " to " + dest + ": " + result.output);
  }
}

std::string TestGitRepo::Commit(const std::string& message) {
  Git(dir_, "add -A");
  Git(dir_, "commit -q -m " + ShellQuote(message));
  return Head();
}

std::string TestGitRepo::Head() const {
  return std::string(absl::StripAsciiWhitespace(Git(dir_, "rev-parse HEAD")));
}

GitDaemon::GitDaemon(std::string base_path) : base_path_(std::move(base_path)) {
  // Quiet (stderr to /dev/null): every readiness probe would log "the remote
  // end hung up".
  LoopbackServer server = StartLoopbackServer("git daemon for " + base_path_, [&](int port) {
    return std::vector<std::string>{"git",
                                    "daemon",
                                    "--reuseaddr",
                                    "--export-all",
                                    "--base-path=" + base_path_,
                                    "--listen=127.0.0.1",
                                    "--port=" + std::to_string(port),
                                    "--informative-errors",
                                    base_path_};
  });
  port_ = server.port;
  pid_ = server.pid;
}

GitDaemon::~GitDaemon() { StopLoopbackServer({pid_, port_}); }

std::string GitDaemon::Url(const std::string& repo_rel_path) const {
  return "git://127.0.0.1:" + std::to_string(port_) + "/" + repo_rel_path;
}

}  // namespace flotilla::testing
