#include "common/render/kustomize.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/subprocess.h"
#include "common/yaml.h"

namespace flotilla::common {
namespace {

constexpr const char* kKustomizationNames[] = {"kustomization.yaml", "kustomization.yml",
                                               "Kustomization"};
// Kustomization fields whose entries may name a directory (another
// kustomization) as well as a file.
constexpr const char* kDirectoryFields[] = {"resources",  "bases",        "components",
                                            "generators", "transformers", "validators"};
// How much of the tool's stderr is kept, and how much of it goes into an error.
constexpr size_t kMaxStderrBytes = 256 << 10;
constexpr size_t kMaxMessageBytes = 4000;

std::shared_ptr<spdlog::logger> Log() { return Logger("render.kustomize"); }

std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// ---------------------------------------------------------------------------
// Paths.

// Resolves `rel` against the bundle directory `base` ("." = root), applying
// "." and ".." components. nullopt when the result would leave the bundle.
std::optional<std::string> ResolveInBundle(absl::string_view base, absl::string_view rel) {
  std::vector<std::string> parts;
  for (absl::string_view p : absl::StrSplit(base, '/', absl::SkipEmpty())) {
    if (p != ".") parts.emplace_back(p);
  }
  for (absl::string_view p : absl::StrSplit(rel, '/', absl::SkipEmpty())) {
    if (p == ".") continue;
    if (p == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.emplace_back(p);
  }
  if (parts.empty()) return ".";
  return absl::StrJoin(parts, "/");
}

// A bundle-relative path without "." or empty components ("." for the root).
// Paths with ".." components or NUL bytes are refused; leading "/" is an error
// unless `allow_leading_slash`.
absl::StatusOr<std::string> CleanBundlePath(absl::string_view path, absl::string_view what,
                                            bool allow_leading_slash) {
  if (absl::StrContains(path, '\0')) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", Quote(path), " contains a NUL byte"));
  }
  if (!allow_leading_slash && absl::StartsWith(path, "/")) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", Quote(path), " is absolute; bundle paths are relative"));
  }
  for (absl::string_view p : absl::StrSplit(path, '/')) {
    if (p == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " ", Quote(path), " has a \"..\" component; it must stay inside the bundle"));
    }
  }
  return *ResolveInBundle(".", path);
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  return dir == "." ? std::string(name) : absl::StrCat(dir, "/", name);
}

// The bundle's files under clean paths, and every directory that holds them.
struct BundleTree {
  std::map<std::string, const std::string*> files;  // clean path -> content
  std::set<std::string> dirs;                       // includes "."

  bool IsDir(const std::string& path) const { return dirs.count(path) > 0; }
};

absl::StatusOr<BundleTree> IndexBundle(const std::map<std::string, std::string>& files) {
  BundleTree tree;
  tree.dirs.insert(".");
  for (const auto& [path, content] : files) {
    ASSIGN_OR_RETURN(std::string clean, CleanBundlePath(path, "bundle file", false));
    if (clean == ".") {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle file ", Quote(path), " does not name a file"));
    }
    if (!tree.files.emplace(clean, &content).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle file ", Quote(path), " is listed twice (as ", Quote(clean), ")"));
    }
    for (size_t slash = clean.find('/'); slash != std::string::npos;
         slash = clean.find('/', slash + 1)) {
      tree.dirs.insert(clean.substr(0, slash));
    }
  }
  for (const auto& [path, content] : tree.files) {
    if (tree.IsDir(path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle path ", Quote(path), " is both a file and a directory"));
    }
  }
  return tree;
}

// The kustomization files present in `dir` (normally one; the tool rejects more).
std::vector<std::string> KustomizationsIn(const BundleTree& tree, const std::string& dir) {
  std::vector<std::string> found;
  for (const char* name : kKustomizationNames) {
    std::string path = JoinPath(dir, name);
    if (tree.files.count(path) > 0) found.push_back(std::move(path));
  }
  return found;
}

// ---------------------------------------------------------------------------
// Remote references.

// What kustomize (v2.0.3 to v5) would try to clone or download: any scheme
// (https, http, ssh, file, ...), go-getter's git:: and gh:, bare github.com
// paths and scp-style user@host:path.
bool IsRemoteReference(absl::string_view entry) {
  entry = absl::StripAsciiWhitespace(entry);
  if (absl::StrContains(entry, "://")) return true;
  for (absl::string_view prefix : {"git::", "gh:", "github.com/", "github.com:"}) {
    if (absl::StartsWithIgnoreCase(entry, prefix)) return true;
  }
  // user@host..., with kustomize's user name syntax.
  if (!entry.empty() && absl::ascii_isalpha(entry[0])) {
    size_t i = 1;
    while (i < entry.size() && (absl::ascii_isalnum(entry[i]) || entry[i] == '-')) ++i;
    if (i < entry.size() && entry[i] == '@') return true;
  }
  return false;
}

// kustomize's file loader downloads http(s) URLs in any file field.
bool IsHttpUrl(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  return absl::StartsWithIgnoreCase(value, "http://") ||
         absl::StartsWithIgnoreCase(value, "https://");
}

absl::Status RemoteError(const std::string& file, absl::string_view field,
                         absl::string_view entry) {
  return absl::InvalidArgumentError(absl::StrCat(
      file, ": ", field, " entry ", Quote(entry),
      " is a remote URL; remote bases and resources are not fetched (copy them into the "
      "repository)"));
}

// Strings of `node[field]` (a string or a list of strings), with a label for errors.
void CollectStrings(const Json& node, const std::string& field, const std::string& label,
                    std::vector<std::pair<std::string, std::string>>& out) {
  if (!node.is_object() || !node.contains(field)) return;
  const Json& value = node[field];
  if (value.is_string()) {
    out.emplace_back(label, value.get<std::string>());
  } else if (value.is_array()) {
    for (const Json& item : value) {
      if (item.is_string()) out.emplace_back(label, item.get<std::string>());
    }
  }
}

// Every file reference outside kDirectoryFields, as (field label, value).
std::vector<std::pair<std::string, std::string>> FileReferences(const Json& k) {
  std::vector<std::pair<std::string, std::string>> refs;
  for (const char* field : {"patchesStrategicMerge", "crds", "configurations"}) {
    CollectStrings(k, field, field, refs);
  }
  for (const char* field : {"patches", "patchesJson6902", "replacements"}) {
    if (!k.contains(field) || !k[field].is_array()) continue;
    for (const Json& item : k[field]) CollectStrings(item, "path", field, refs);
  }
  CollectStrings(k.value("openapi", Json()), "path", "openapi", refs);
  for (const char* field : {"configMapGenerator", "secretGenerator"}) {
    if (!k.contains(field) || !k[field].is_array()) continue;
    for (const Json& item : k[field]) {
      std::vector<std::pair<std::string, std::string>> sources;
      for (const char* sub : {"files", "envs", "env"}) CollectStrings(item, sub, field, sources);
      for (auto& [label, value] : sources) {
        // files entries may read "key=path".
        size_t eq = value.find('=');
        if (eq != std::string::npos && !IsHttpUrl(value)) value = value.substr(eq + 1);
        refs.emplace_back(label, value);
      }
    }
  }
  return refs;
}

absl::Status CheckKustomizationTree(const BundleTree& tree, const std::string& dir,
                                    std::set<std::string>& visited);

absl::Status CheckKustomizationFile(const BundleTree& tree, const std::string& dir,
                                    const std::string& file, std::set<std::string>& visited) {
  ASSIGN_OR_RETURN(Json k, ParseYaml(*tree.files.at(file), file));
  if (!k.is_object()) return absl::OkStatus();  // the tool says what is wrong
  for (const char* field : kDirectoryFields) {
    std::vector<std::pair<std::string, std::string>> entries;
    CollectStrings(k, field, field, entries);
    for (const auto& [label, entry] : entries) {
      // Inline generator/transformer configuration, not a path.
      if (absl::StrContains(entry, '\n')) continue;
      std::optional<std::string> target = ResolveInBundle(dir, entry);
      // kustomize reads an entry as a file before it tries it as a repository,
      // but downloads anything with a scheme.
      const bool is_bundle_file =
          target && tree.files.count(*target) > 0 && !absl::StrContains(entry, "://");
      if (IsRemoteReference(entry) && !is_bundle_file) return RemoteError(file, label, entry);
      if (absl::StartsWith(entry, "/")) {
        return absl::InvalidArgumentError(
            absl::StrCat(file, ": ", label, " entry ", Quote(entry),
                         " is an absolute path; use a path relative to the kustomization"));
      }
      if (!target) {
        return absl::InvalidArgumentError(
            absl::StrCat(file, ": ", label, " entry ", Quote(entry), " points outside the bundle"));
      }
      if (tree.IsDir(*target)) RETURN_IF_ERROR(CheckKustomizationTree(tree, *target, visited));
    }
  }
  for (const auto& [label, value] : FileReferences(k)) {
    if (IsHttpUrl(value)) return RemoteError(file, label, value);
  }
  return absl::OkStatus();
}

// Checks every kustomization reachable from `dir` for remote or escaping
// references. Cycles are left to the tool to report.
absl::Status CheckKustomizationTree(const BundleTree& tree, const std::string& dir,
                                    std::set<std::string>& visited) {
  if (!visited.insert(dir).second) return absl::OkStatus();
  for (const std::string& file : KustomizationsIn(tree, dir)) {
    RETURN_IF_ERROR(CheckKustomizationFile(tree, dir, file, visited));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// The private directory.

class PrivateDir {
 public:
  PrivateDir() = default;
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;
  ~PrivateDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec) Log()->warn("cannot remove {}: {}", path_, ec.message());
  }

  absl::Status Create(const std::string& work_root) {
    std::string root = work_root;
    if (root.empty()) {
      const char* tmpdir = std::getenv("TMPDIR");
      root = (tmpdir != nullptr && tmpdir[0] != '\0') ? tmpdir : "/tmp";
    }
    std::string pattern = root + "/flotilla-kustomize-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {  // mode 0700
      return absl::UnavailableError(
          absl::StrCat("cannot create a directory in ", root, ": ", std::strerror(errno)));
    }
    path_ = buf.data();
    return absl::OkStatus();
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat("mkdir ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status WriteNewFile(const std::string& path, const std::string& content) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("create ", path, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      return absl::UnavailableError(absl::StrCat("write ", path, ": ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0) {
    return absl::UnavailableError(absl::StrCat("write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status WriteBundle(const BundleTree& tree, const std::string& root) {
  RETURN_IF_ERROR(MakeDir(root));
  // std::set order puts every directory before the directories below it.
  for (const std::string& dir : tree.dirs) {
    if (dir != ".") RETURN_IF_ERROR(MakeDir(absl::StrCat(root, "/", dir)));
  }
  for (const auto& [path, content] : tree.files) {
    RETURN_IF_ERROR(WriteNewFile(absl::StrCat(root, "/", path), *content));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Finding the tool.

struct Tool {
  std::string path;
  bool is_kubectl = false;
  std::string Describe(absl::string_view dir) const {
    return is_kubectl ? absl::StrCat("`kubectl kustomize ", dir, "`")
                      : absl::StrCat("`kustomize build ", dir, "`");
  }
};

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

std::optional<std::string> SearchPath(const std::string& search_path, const std::string& name) {
  for (absl::string_view dir : absl::StrSplit(search_path, ':', absl::SkipEmpty())) {
    if (!absl::StartsWith(dir, "/")) continue;  // never the current directory
    std::string candidate = absl::StrCat(dir, "/", name);
    if (IsExecutableFile(candidate)) return candidate;
  }
  return std::nullopt;
}

absl::StatusOr<Tool> FindTool(const KustomizeOptions& options, const std::string& search_path,
                              const std::string& dir) {
  Tool tool;
  if (options.binary.empty()) {
    if (auto found = SearchPath(search_path, "kustomize")) {
      tool.path = *found;
    } else if (auto kubectl = SearchPath(search_path, "kubectl")) {
      tool.path = *kubectl;
      tool.is_kubectl = true;
    } else {
      return absl::FailedPreconditionError(
          absl::StrCat("kustomize.dir ", Quote(dir),
                       " needs `kustomize` or `kubectl` on PATH (Debian: apt-get install "
                       "kubernetes-client); searched PATH=",
                       Quote(search_path)));
    }
    return tool;
  }
  if (!absl::StrContains(options.binary, '/')) {
    auto found = SearchPath(search_path, options.binary);
    if (!found) {
      return absl::FailedPreconditionError(
          absl::StrCat("kustomize.dir ", Quote(dir), " needs ", Quote(options.binary),
                       ", which is not on PATH=", Quote(search_path)));
    }
    tool.path = *found;
  } else {
    tool.path = options.binary;
    if (!absl::StartsWith(tool.path, "/")) {
      std::error_code ec;
      tool.path = (std::filesystem::current_path(ec) / tool.path).string();
    }
    if (!IsExecutableFile(tool.path)) {
      return absl::FailedPreconditionError(
          absl::StrCat("kustomize.dir ", Quote(dir), ": the kustomize tool ", Quote(options.binary),
                       " is not an executable file"));
    }
  }
  const std::string name = std::filesystem::path(tool.path).filename().string();
  tool.is_kubectl = absl::StartsWith(name, "kubectl");
  return tool;
}

// ---------------------------------------------------------------------------
// Running it.

absl::Time Now() { return RealClock::Get()->Now(); }

// Go's strconv.Quote escapes, undone enough for a message.
std::string GoUnquote(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char c = s[++i];
    switch (c) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// Strips a klog header ("E1123 05:53:18.522239   23845 run.go:72] "), which
// kubectl ≥ 1.2x puts before its error.
absl::string_view StripKlogHeader(absl::string_view line) {
  if (line.size() < 22 || !absl::StrContains("IWEF", line[0])) return line;
  for (size_t i = 1; i <= 4; ++i) {
    if (!absl::ascii_isdigit(line[i])) return line;
  }
  if (line[5] != ' ') return line;
  const size_t end = line.find("] ");
  if (end == absl::string_view::npos || end > 80) return line;
  return line.substr(end + 2);
}

// The tool's stderr as a readable message: klog wrapping and Go quoting
// removed, deprecation warnings dropped, the private directory replaced by
// bundle-relative paths, capped.
std::string CleanStderr(const std::string& raw, const std::string& bundle_root) {
  std::string text = absl::StrReplaceAll(raw, {{bundle_root + "/", ""}, {bundle_root, "."}});
  std::vector<std::string> lines;
  bool in_block = false;  // klog's multi-line form: err=<\n\t...\n >
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (in_block) {
      if (absl::StripAsciiWhitespace(line) == ">") {
        in_block = false;
      } else {
        lines.emplace_back(absl::StripPrefix(line, "\t"));
      }
      continue;
    }
    line = StripKlogHeader(line);
    constexpr absl::string_view kFailed = "\"command failed\" err=";
    if (absl::StartsWith(line, kFailed)) {
      absl::string_view rest = line.substr(kFailed.size());
      if (rest == "<") {
        in_block = true;
        continue;
      }
      if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"') {
        lines.push_back(GoUnquote(rest.substr(1, rest.size() - 2)));
        continue;
      }
    }
    if (absl::StartsWith(line, "# Warning: ")) continue;
    lines.emplace_back(line);
  }
  std::string message(absl::StripAsciiWhitespace(absl::StrJoin(lines, "\n")));
  if (message.empty()) message = std::string(absl::StripAsciiWhitespace(text));
  if (message.empty()) message = "(no output on stderr)";
  if (message.size() > kMaxMessageBytes) {
    message.resize(kMaxMessageBytes);
    message += " ... (truncated)";
  }
  return message;
}

}  // namespace

bool HasKustomization(const std::map<std::string, std::string>& files, const std::string& dir) {
  return KustomizationFile(files, dir).has_value();
}

std::optional<std::string> KustomizationFile(const std::map<std::string, std::string>& files,
                                             const std::string& dir) {
  absl::StatusOr<std::string> clean = CleanBundlePath(dir, "kustomize.dir", true);
  if (!clean.ok()) return std::nullopt;
  // The tool's order of preference.
  for (const char* name : kKustomizationNames) {
    const std::string wanted = JoinPath(*clean, name);
    for (const auto& [path, content] : files) {
      absl::StatusOr<std::string> file = CleanBundlePath(path, "bundle file", false);
      if (file.ok() && *file == wanted) return path;
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::string> RunKustomize(const std::map<std::string, std::string>& files,
                                         const std::string& dir, const KustomizeOptions& options) {
  ASSIGN_OR_RETURN(const std::string kdir, CleanBundlePath(dir, "kustomize.dir", true));
  ASSIGN_OR_RETURN(const BundleTree tree, IndexBundle(files));
  if (KustomizationsIn(tree, kdir).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kustomize.dir ", Quote(dir),
                     " has no kustomization.yaml, kustomization.yml or Kustomization"));
  }
  std::set<std::string> visited;
  RETURN_IF_ERROR(CheckKustomizationTree(tree, kdir, visited));

  std::string search_path;
  if (options.search_path) {
    search_path = *options.search_path;
  } else if (const char* path = std::getenv("PATH")) {
    search_path = path;
  }
  ASSIGN_OR_RETURN(const Tool tool, FindTool(options, search_path, dir));

  PrivateDir work;
  RETURN_IF_ERROR(work.Create(options.work_root));
  const std::string bundle_root = work.path() + "/bundle";
  const std::string home = work.path() + "/home";
  RETURN_IF_ERROR(MakeDir(home));
  RETURN_IF_ERROR(WriteBundle(tree, bundle_root));

  std::vector<std::string> args = {tool.path};
  if (tool.is_kubectl) {
    args.insert(args.end(), {"kustomize", kdir});
  } else {
    args.insert(args.end(), {"build", kdir});
  }
  // A closed local port: Go's HTTP client and git use these, so a download
  // that slipped past the checks fails instead of reaching the network.
  const std::string no_proxy = "http://127.0.0.1:9";
  std::vector<std::string> env = {
      "PATH=" + search_path,     "HOME=" + home,
      "TMPDIR=" + home,          "HTTP_PROXY=" + no_proxy,
      "HTTPS_PROXY=" + no_proxy, "http_proxy=" + no_proxy,
      "https_proxy=" + no_proxy, "GIT_ALLOW_PROTOCOL=none",
      "GIT_CONFIG_NOSYSTEM=1",   "GIT_TERMINAL_PROMPT=0",
  };
  const std::string what = tool.Describe(kdir);
  const absl::Time start = Now();
  SubprocessOptions process;
  process.argv = std::move(args);
  process.env = std::move(env);
  process.cwd = bundle_root;
  process.timeout = options.timeout;
  process.max_stdout = options.max_output_bytes;
  process.max_stderr = kMaxStderrBytes;
  absl::StatusOr<SubprocessResult> started = RunSubprocess(std::move(process));
  if (!started.ok()) {
    return absl::Status(started.status().code(),
                        absl::StrCat("cannot run ", tool.path, ": ", started.status().message()));
  }
  SubprocessResult run = *std::move(started);
  Log()->debug("kustomize.dir \"{}\": {} ({}) took {}", dir, what, tool.path,
               absl::FormatDuration(Now() - start));

  const std::string prefix = absl::StrCat("kustomize.dir ", Quote(dir), ": ");
  if (run.timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(prefix, what, " did not finish within ",
                                                    absl::FormatDuration(options.timeout),
                                                    " and was killed"));
  }
  if (run.output_too_large) {
    return absl::ResourceExhaustedError(
        absl::StrCat(prefix, "the output of ", what, " exceeds the limit of ",
                     options.max_output_bytes, " bytes; it was stopped"));
  }
  if (WIFSIGNALED(run.wait_status)) {
    return absl::UnavailableError(absl::StrCat(prefix, what, " was killed by signal ",
                                               WTERMSIG(run.wait_status), ": ",
                                               CleanStderr(run.err, bundle_root)));
  }
  const int code = WIFEXITED(run.wait_status) ? WEXITSTATUS(run.wait_status) : -1;
  if (code != 0) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, what, " failed (exit status ", code,
                                                   "): ", CleanStderr(run.err, bundle_root)));
  }
  if (!run.err.empty()) {
    Log()->debug("kustomize.dir \"{}\": {} said: {}", dir, what,
                 absl::StripAsciiWhitespace(run.err));
  }
  return std::move(run.out);
}

}  // namespace flotilla::common
