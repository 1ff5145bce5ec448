// Real Git for tests: repositories made with the git CLI and served by
// `git daemon` on loopback.
#pragma once

#include <map>
#include <string>

namespace flotilla::testing {

// A non-bare repository with branch "main", built with the git CLI.
class TestGitRepo {
 public:
  explicit TestGitRepo(std::string dir);
  const std::string& dir() const { return dir_; }
  void WriteFile(const std::string& rel_path, const std::string& content);
  void RemoveFile(const std::string& rel_path);
  // Copies a directory tree into the repository (cp -a src/. dir/dest).
  void CopyTree(const std::string& src, const std::string& dest_rel = ".");
  // git add -A && git commit; returns the new commit id.
  std::string Commit(const std::string& message);
  std::string Head() const;

 private:
  std::string dir_;
};

// `git daemon` serving every repository below `base_path` on a free loopback
// port; stopped (SIGTERM, then SIGKILL) on destruction.
class GitDaemon {
 public:
  explicit GitDaemon(std::string base_path);
  ~GitDaemon();
  GitDaemon(const GitDaemon&) = delete;
  GitDaemon& operator=(const GitDaemon&) = delete;
  int port() const { return port_; }
  // git://127.0.0.1:<port>/<relative path below base_path>
  std::string Url(const std::string& repo_rel_path) const;

 private:
  std::string base_path_;
  int port_ = 0;
  int pid_ = -1;
};

}  // namespace flotilla::testing
