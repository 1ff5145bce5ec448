#include "manager/source/git_repository.h"

#include <fcntl.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace flotilla::manager {
namespace {

// ---------------------------------------------------------------------------
// libgit2 handles.

template <auto Free>
struct GitDeleter {
  template <typename T>
  void operator()(T* p) const {
    if (p != nullptr) Free(p);
  }
};

using RepoPtr = std::unique_ptr<git_repository, GitDeleter<git_repository_free>>;
using RemotePtr = std::unique_ptr<git_remote, GitDeleter<git_remote_free>>;
using ObjectPtr = std::unique_ptr<git_object, GitDeleter<git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, GitDeleter<git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, GitDeleter<git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, GitDeleter<git_tree_entry_free>>;
using OdbPtr = std::unique_ptr<git_odb, GitDeleter<git_odb_free>>;
using OdbObjectPtr = std::unique_ptr<git_odb_object, GitDeleter<git_odb_object_free>>;

// The message libgit2 left for the failed call on this thread.
std::string LastGitError(int code) {
  const git_error* error = git_error_last();
  if (error != nullptr && error->message != nullptr && error->message[0] != '\0') {
    return error->message;
  }
  return absl::StrCat("libgit2 error ", code);
}

absl::Status GitStatus(absl::StatusCode status_code, int git_code, absl::string_view doing) {
  return absl::Status(status_code, absl::StrCat(doing, ": ", LastGitError(git_code)));
}

std::string ShortId(absl::string_view id) { return std::string(id.substr(0, 12)); }

std::string OidHex(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof(buf), oid);
  return buf;
}

// A full 40-hex object id; git_oid_fromstr itself would read past a short string.
std::optional<git_oid> ParseFullOid(absl::string_view hex) {
  if (hex.size() != GIT_OID_HEXSZ) return std::nullopt;
  if (!std::all_of(hex.begin(), hex.end(), [](char c) { return absl::ascii_isxdigit(c); })) {
    return std::nullopt;
  }
  git_oid oid;
  if (git_oid_fromstrn(&oid, hex.data(), hex.size()) != 0) return std::nullopt;
  return oid;
}

// ---------------------------------------------------------------------------
// Fetch deadline.
//
// libgit2 1.5 has no network timeout, and its transfer callbacks only run when
// data arrives, so a server that accepts a connection and then says nothing
// would block a fetch forever. We therefore replace libgit2's plain socket
// stream (used by git://, http:// and, underneath TLS, https://) with one that
// waits in poll() against the deadline of the fetch running on the calling
// thread. libgit2 fetches synchronously on the caller's thread, so a
// thread_local carries the deadline from Fetch() to the streams it opens. The
// registration is process-wide; streams opened outside Fetch() have no deadline.

thread_local const absl::Time* current_fetch_deadline = nullptr;

class ScopedFetchDeadline {
 public:
  explicit ScopedFetchDeadline(const absl::Time* deadline) : previous_(current_fetch_deadline) {
    current_fetch_deadline = deadline;
  }
  ~ScopedFetchDeadline() { current_fetch_deadline = previous_; }
  ScopedFetchDeadline(const ScopedFetchDeadline&) = delete;
  ScopedFetchDeadline& operator=(const ScopedFetchDeadline&) = delete;

 private:
  const absl::Time* previous_;
};

// The first four members mirror libgit2 1.5's internal git_socket_stream: its
// ssh transport reaches into the stream for the file descriptor.
struct DeadlineSocketStream {
  git_stream parent;
  char* host;
  char* port;
  int fd;
  absl::Time deadline;  // InfiniteFuture when opened outside a Fetch()
};
static_assert(std::is_standard_layout_v<DeadlineSocketStream>);

DeadlineSocketStream* AsDeadlineStream(git_stream* stream) {
  return reinterpret_cast<DeadlineSocketStream*>(stream);
}

void SetNetError(const std::string& message) { git_error_set_str(GIT_ERROR_NET, message.c_str()); }

// Waits until `fd` is ready for `events` or the stream's deadline passes.
int WaitForSocket(const DeadlineSocketStream* st, short events, const char* doing) {
  for (;;) {
    int timeout_ms = -1;
    if (st->deadline != absl::InfiniteFuture()) {
      const absl::Duration left = st->deadline - common::RealClock::Get()->Now();
      if (left <= absl::ZeroDuration()) {
        SetNetError(absl::StrCat("timed out ", doing, " ", st->host, ":", st->port));
        return -1;
      }
      timeout_ms = static_cast<int>(std::min<int64_t>(
          absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), INT_MAX));
    }
    pollfd pfd{st->fd, events, 0};
    const int ready = poll(&pfd, 1, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      SetNetError(absl::StrCat("poll failed ", doing, ": ", std::strerror(errno)));
      return -1;
    }
    // On POLLERR/POLLHUP the following send/recv reports the actual error.
    if (ready > 0) return 0;
  }
}

int DeadlineStreamConnect(git_stream* stream) {
  DeadlineSocketStream* st = AsDeadlineStream(stream);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* info = nullptr;
  if (const int rc = getaddrinfo(st->host, st->port, &hints, &info); rc != 0) {
    SetNetError(absl::StrCat("failed to resolve address for ", st->host, ": ", gai_strerror(rc)));
    return -1;
  }
  std::string last_error = "no address";
  for (addrinfo* ai = info; ai != nullptr; ai = ai->ai_next) {
    const int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    st->fd = fd;
    int connect_errno = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      connect_errno = errno;
      if (connect_errno == EINPROGRESS) {
        if (WaitForSocket(st, POLLOUT, "connecting to") != 0) {
          close(fd);
          st->fd = -1;
          freeaddrinfo(info);
          return -1;
        }
        socklen_t len = sizeof(connect_errno);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &connect_errno, &len) != 0) {
          connect_errno = errno;
        }
      }
    }
    if (connect_errno == 0) {
      // Our own reads and writes pass MSG_DONTWAIT; the descriptor itself goes
      // back to blocking mode for transports (ssh) that use it directly.
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      freeaddrinfo(info);
      return 0;
    }
    last_error = std::strerror(connect_errno);
    close(fd);
    st->fd = -1;
  }
  freeaddrinfo(info);
  SetNetError(absl::StrCat("failed to connect to ", st->host, ":", st->port, ": ", last_error));
  return -1;
}

ssize_t DeadlineStreamRead(git_stream* stream, void* data, size_t len) {
  DeadlineSocketStream* st = AsDeadlineStream(stream);
  for (;;) {
    if (WaitForSocket(st, POLLIN, "waiting for data from") != 0) return -1;
    const ssize_t n = recv(st->fd, data, len, MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
    SetNetError(absl::StrCat("error receiving socket data: ", std::strerror(errno)));
    return -1;
  }
}

ssize_t DeadlineStreamWrite(git_stream* stream, const char* data, size_t len, int flags) {
  DeadlineSocketStream* st = AsDeadlineStream(stream);
  for (;;) {
    if (WaitForSocket(st, POLLOUT, "sending data to") != 0) return -1;
    const ssize_t n = send(st->fd, data, len, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
    SetNetError(absl::StrCat("error sending data: ", std::strerror(errno)));
    return -1;
  }
}

int DeadlineStreamClose(git_stream* stream) {
  DeadlineSocketStream* st = AsDeadlineStream(stream);
  int rc = 0;
  if (st->fd >= 0) rc = close(st->fd);
  st->fd = -1;
  return rc;
}

void DeadlineStreamFree(git_stream* stream) {
  DeadlineSocketStream* st = AsDeadlineStream(stream);
  if (st->fd >= 0) close(st->fd);
  std::free(st->host);
  std::free(st->port);
  delete st;
}

int DeadlineStreamNew(git_stream** out, const char* host, const char* port) {
  if (out == nullptr || host == nullptr || port == nullptr) {
    SetNetError("invalid socket stream arguments");
    return -1;
  }
  auto* st = new DeadlineSocketStream{};
  st->parent.version = GIT_STREAM_VERSION;
  st->parent.connect = DeadlineStreamConnect;
  st->parent.read = DeadlineStreamRead;
  st->parent.write = DeadlineStreamWrite;
  st->parent.close = DeadlineStreamClose;
  st->parent.free = DeadlineStreamFree;
  st->host = strdup(host);
  st->port = strdup(port);
  st->fd = -1;
  st->deadline =
      current_fetch_deadline != nullptr ? *current_fetch_deadline : absl::InfiniteFuture();
  *out = &st->parent;
  return 0;
}

// Returns libgit2's error if initialisation failed, once per process.
absl::Status InitLibgit2() {
  static std::once_flag once;
  static absl::Status* status = nullptr;
  std::call_once(once, [] {
    const int rc = git_libgit2_init();
    if (rc < 0) {
      status = new absl::Status(GitStatus(absl::StatusCode::kInternal, rc, "initialising libgit2"));
      return;
    }
    static git_stream_registration registration{};
    registration.version = GIT_STREAM_VERSION;
    registration.init = DeadlineStreamNew;
    const int reg = git_stream_register(GIT_STREAM_STANDARD, &registration);
    status = new absl::Status(
        reg < 0 ? GitStatus(absl::StatusCode::kInternal, reg, "registering the socket stream")
                : absl::OkStatus());
  });
  return *status;
}

// Aborts a fetch from libgit2's progress callbacks once the deadline passed.
struct FetchWatchdog {
  absl::Time deadline;
  bool fired = false;

  bool Expired() {
    if (!fired && common::RealClock::Get()->Now() >= deadline) fired = true;
    return fired;
  }
};

int WatchdogTransferProgress(const git_indexer_progress* /*stats*/, void* payload) {
  return static_cast<FetchWatchdog*>(payload)->Expired() ? GIT_EUSER : 0;
}

int WatchdogSideband(const char* /*str*/, int /*len*/, void* payload) {
  return static_cast<FetchWatchdog*>(payload)->Expired() ? GIT_EUSER : 0;
}

// A name libgit2 accepted as a tree entry but that we refuse to handle.
bool IsSafeEntryName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("\\/\0", 3)) == std::string_view::npos;
}

// "", ".", "/a/b/", "./a/b" -> "", "", "a/b", "a/b".
std::string NormalizeDir(absl::string_view dir) {
  for (;;) {
    if (absl::ConsumePrefix(&dir, "/")) continue;
    if (absl::ConsumePrefix(&dir, "./")) continue;
    break;
  }
  while (absl::ConsumeSuffix(&dir, "/")) {
  }
  if (dir == ".") return "";
  return std::string(dir);
}

// ---------------------------------------------------------------------------
// CommitTree on its own repository handle: libgit2 objects and repositories
// are not safe to use from several threads at once, so each tree owns a handle
// (independent of fetches on the GitRepository) and serialises calls on it.

class GitCommitTree final : public CommitTree {
 public:
  GitCommitTree(std::string commit, RepoPtr repo, TreePtr root)
      : commit_(std::move(commit)), repo_(std::move(repo)), root_(std::move(root)) {}

  const std::string& commit() const override { return commit_; }

  absl::StatusOr<std::vector<TreeEntry>> List(std::string_view dir) const override {
    const absl::string_view requested(dir.data(), dir.size());
    const std::string prefix = NormalizeDir(requested);
    const absl::Status not_found = absl::NotFoundError(absl::StrCat(
        "path \"", absl::CEscape(requested), "\" not found in commit ", ShortId(commit_)));
    absl::MutexLock lock(&mu_);

    TreePtr start;
    if (prefix.empty()) {
      git_tree* copy = nullptr;
      if (const int rc = git_tree_dup(&copy, root_.get()); rc < 0) {
        return GitStatus(absl::StatusCode::kInternal, rc, "copying the root tree");
      }
      start.reset(copy);
    } else {
      git_tree_entry* raw_entry = nullptr;
      const int rc = git_tree_entry_bypath(&raw_entry, root_.get(), prefix.c_str());
      if (rc == GIT_ENOTFOUND) return not_found;
      if (rc < 0) {
        return GitStatus(absl::StatusCode::kInternal, rc,
                         absl::StrCat("looking up \"", absl::CEscape(prefix), "\" in commit ",
                                      ShortId(commit_)));
      }
      TreeEntryPtr entry(raw_entry);
      if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) return not_found;
      ASSIGN_OR_RETURN(start, LookupTree(git_tree_entry_id(entry.get()), prefix));
    }

    git_odb* raw_odb = nullptr;
    if (const int rc = git_repository_odb(&raw_odb, repo_.get()); rc < 0) {
      return GitStatus(absl::StatusCode::kInternal, rc, "opening the object database");
    }
    OdbPtr odb(raw_odb);

    // Iterative walk: a hostile repository can nest trees deeper than our stack.
    std::vector<TreeEntry> entries;
    std::vector<std::pair<TreePtr, std::string>> pending;
    pending.emplace_back(std::move(start), prefix);
    while (!pending.empty()) {
      auto [tree, tree_path] = std::move(pending.back());
      pending.pop_back();
      const size_t count = git_tree_entrycount(tree.get());
      for (size_t i = 0; i < count; ++i) {
        const git_tree_entry* e = git_tree_entry_byindex(tree.get(), i);
        const std::string name = git_tree_entry_name(e);
        std::string path = tree_path.empty() ? name : absl::StrCat(tree_path, "/", name);
        if (!IsSafeEntryName(name)) {
          return absl::InvalidArgumentError(absl::StrCat("unsafe path \"", absl::CEscape(path),
                                                         "\" in commit ", ShortId(commit_)));
        }
        const git_oid* oid = git_tree_entry_id(e);
        const git_filemode_t mode = git_tree_entry_filemode(e);
        TreeEntry out;
        out.path = std::move(path);
        out.blob_id = OidHex(oid);
        switch (mode) {
          case GIT_FILEMODE_TREE: {
            ASSIGN_OR_RETURN(TreePtr sub, LookupTree(oid, out.path));
            pending.emplace_back(std::move(sub), std::move(out.path));
            continue;
          }
          case GIT_FILEMODE_COMMIT:
            out.kind = TreeEntry::Kind::kSubmodule;
            break;
          case GIT_FILEMODE_LINK:
          case GIT_FILEMODE_BLOB:
          case GIT_FILEMODE_BLOB_EXECUTABLE: {
            out.kind =
                mode == GIT_FILEMODE_LINK ? TreeEntry::Kind::kSymlink : TreeEntry::Kind::kFile;
            out.executable = mode == GIT_FILEMODE_BLOB_EXECUTABLE;
            ASSIGN_OR_RETURN(out.size, BlobSize(odb.get(), oid, out.path));
            break;
          }
          default:
            return absl::InvalidArgumentError(
                absl::StrCat("\"", absl::CEscape(out.path), "\" in commit ", ShortId(commit_),
                             " has unsupported mode ", absl::Hex(static_cast<int>(mode))));
        }
        entries.push_back(std::move(out));
      }
    }
    std::sort(entries.begin(), entries.end(),
              [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
    return entries;
  }

  absl::StatusOr<std::string> Read(const TreeEntry& entry, uint64_t max_size) const override {
    if (entry.kind == TreeEntry::Kind::kSubmodule) {
      return absl::FailedPreconditionError(absl::StrCat(entry.path, " is a submodule"));
    }
    const std::optional<git_oid> oid = ParseFullOid(entry.blob_id);
    if (!oid) {
      return absl::InvalidArgumentError(
          absl::StrCat(entry.path, ": invalid blob id \"", absl::CEscape(entry.blob_id), "\""));
    }
    absl::MutexLock lock(&mu_);
    git_odb* raw_odb = nullptr;
    if (const int rc = git_repository_odb(&raw_odb, repo_.get()); rc < 0) {
      return GitStatus(absl::StatusCode::kInternal, rc, "opening the object database");
    }
    OdbPtr odb(raw_odb);
    ASSIGN_OR_RETURN(const uint64_t size, BlobSize(odb.get(), &*oid, entry.path));
    if (size > max_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          entry.path, ": blob of ", size, " bytes exceeds the limit of ", max_size, " bytes"));
    }
    git_odb_object* raw_object = nullptr;
    if (const int rc = git_odb_read(&raw_object, odb.get(), &*oid); rc < 0) {
      return GitStatus(
          rc == GIT_ENOTFOUND ? absl::StatusCode::kNotFound : absl::StatusCode::kInternal, rc,
          absl::StrCat("reading ", entry.path, " in commit ", ShortId(commit_)));
    }
    OdbObjectPtr object(raw_object);
    return std::string(static_cast<const char*>(git_odb_object_data(object.get())),
                       git_odb_object_size(object.get()));
  }

 private:
  absl::StatusOr<TreePtr> LookupTree(const git_oid* oid, const std::string& path) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    git_tree* tree = nullptr;
    if (const int rc = git_tree_lookup(&tree, repo_.get(), oid); rc < 0) {
      return GitStatus(
          absl::StatusCode::kInternal, rc,
          absl::StrCat("reading tree \"", absl::CEscape(path), "\" in commit ", ShortId(commit_)));
    }
    return TreePtr(tree);
  }

  // The size from the object header, without reading the content.
  absl::StatusOr<uint64_t> BlobSize(git_odb* odb, const git_oid* oid,
                                    const std::string& path) const {
    size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (const int rc = git_odb_read_header(&size, &type, odb, oid); rc < 0) {
      return GitStatus(
          rc == GIT_ENOTFOUND ? absl::StatusCode::kNotFound : absl::StatusCode::kInternal, rc,
          absl::StrCat("reading the header of \"", absl::CEscape(path), "\" in commit ",
                       ShortId(commit_)));
    }
    if (type != GIT_OBJECT_BLOB) {
      return absl::InvalidArgumentError(absl::StrCat("\"", absl::CEscape(path), "\" in commit ",
                                                     ShortId(commit_), " is a ",
                                                     git_object_type2string(type), ", not a blob"));
    }
    return static_cast<uint64_t>(size);
  }

  const std::string commit_;
  mutable absl::Mutex mu_;
  // Declared before root_ so that the tree is freed before its repository.
  RepoPtr repo_ ABSL_GUARDED_BY(mu_);
  TreePtr root_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<RepoPtr> OpenBare(const std::string& path, const std::string& url) {
  git_repository* repo = nullptr;
  if (const int rc = git_repository_open_bare(&repo, path.c_str()); rc < 0) {
    return GitStatus(absl::StatusCode::kFailedPrecondition, rc,
                     absl::StrCat("opening the cache ", path, " of ", url));
  }
  return RepoPtr(repo);
}

}  // namespace

struct GitRepository::Handles {
  RepoPtr repo;
};

GitRepository::GitRepository(std::string url, std::string cache_path,
                             std::unique_ptr<Handles> handles)
    : url_(std::move(url)), cache_path_(std::move(cache_path)), handles_(std::move(handles)) {}

GitRepository::~GitRepository() = default;

absl::StatusOr<std::unique_ptr<GitRepository>> GitRepository::Open(const std::string& cache_root,
                                                                   const std::string& url) {
  RETURN_IF_ERROR(InitLibgit2());
  if (url.empty()) return absl::InvalidArgumentError("empty repository URL");
  if (cache_root.empty()) return absl::InvalidArgumentError("empty git cache directory");

  std::error_code ec;
  std::filesystem::create_directories(cache_root, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("creating the git cache directory ", cache_root, ": ", ec.message()));
  }
  std::string path = absl::StrCat(cache_root, "/", common::Sha256Hex(url).substr(0, 16), ".git");

  auto handles = std::make_unique<Handles>();
  if (std::filesystem::exists(path, ec)) {
    ASSIGN_OR_RETURN(handles->repo, OpenBare(path, url));
  } else {
    git_repository* repo = nullptr;
    if (const int rc = git_repository_init(&repo, path.c_str(), /*is_bare=*/1); rc < 0) {
      return GitStatus(absl::StatusCode::kFailedPrecondition, rc,
                       absl::StrCat("creating the cache ", path, " of ", url));
    }
    handles->repo.reset(repo);
  }
  return std::unique_ptr<GitRepository>(
      new GitRepository(url, std::move(path), std::move(handles)));
}

absl::StatusOr<std::string> GitRepository::Fetch(const std::string& ref, bool is_revision,
                                                 absl::Duration timeout) {
  const std::string what =
      absl::StrCat(is_revision ? "revision \"" : "branch \"", absl::CEscape(ref), "\"");
  if (ref.empty()) return absl::InvalidArgumentError(absl::StrCat("empty ", what));

  absl::MutexLock lock(&mu_);
  git_repository* repo = handles_->repo.get();

  // Resolves an object id (commit or tag) to the commit it names.
  const auto peel_to_commit = [&](const git_oid* oid) -> absl::StatusOr<std::string> {
    git_object* raw_object = nullptr;
    if (const int rc = git_object_lookup(&raw_object, repo, oid, GIT_OBJECT_ANY); rc < 0) {
      return GitStatus(
          rc == GIT_ENOTFOUND ? absl::StatusCode::kNotFound : absl::StatusCode::kInternal, rc,
          absl::StrCat("looking up ", what, " (", OidHex(oid), ") fetched from ", url_));
    }
    ObjectPtr object(raw_object);
    git_object* raw_commit = nullptr;
    if (const int rc = git_object_peel(&raw_commit, object.get(), GIT_OBJECT_COMMIT); rc < 0) {
      return GitStatus(absl::StatusCode::kInvalidArgument, rc,
                       absl::StrCat(what, " in ", url_, " does not name a commit"));
    }
    ObjectPtr commit(raw_commit);
    return OidHex(git_object_id(commit.get()));
  };

  const std::optional<git_oid> full_id = is_revision ? ParseFullOid(ref) : std::nullopt;
  std::vector<std::string> refspecs;
  if (full_id) {
    // A commit id names the same content forever: no need to ask the remote
    // when the cache already has it.
    git_commit* raw_commit = nullptr;
    if (git_commit_lookup(&raw_commit, repo, &*full_id) == 0) {
      CommitPtr commit(raw_commit);
      return OidHex(git_commit_id(commit.get()));
    }
    refspecs = {"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"};
  } else {
    const std::string branch_ref = absl::StrCat("refs/heads/", ref);
    int valid = 0;
    if (git_reference_name_is_valid(&valid, branch_ref.c_str()) < 0 || !valid ||
        absl::StrContains(ref, '*')) {
      return absl::InvalidArgumentError(absl::StrCat("invalid ", what));
    }
    refspecs = {absl::StrCat("+", branch_ref, ":refs/remotes/origin/", ref)};
    if (is_revision) refspecs.push_back(absl::StrCat("+refs/tags/", ref, ":refs/tags/", ref));
  }

  // An anonymous remote, as git_remote_create_anonymous() makes, but without
  // url.<base>.insteadOf rewriting: the URL is fetched as configured, and
  // libgit2 1.5 leaks pcre2 match data for every config entry that the
  // insteadOf lookup does not match (tens of KiB per fetch).
  git_remote_create_options create_opts;
  git_remote_create_options_init(&create_opts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
  create_opts.repository = repo;
  create_opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
  git_remote* raw_remote = nullptr;
  if (const int rc = git_remote_create_with_opts(&raw_remote, url_.c_str(), &create_opts); rc < 0) {
    return GitStatus(absl::StatusCode::kInvalidArgument, rc,
                     absl::StrCat("creating a remote for ", url_));
  }
  RemotePtr remote(raw_remote);

  FetchWatchdog watchdog{common::RealClock::Get()->Now() + timeout};
  git_fetch_options opts;
  git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
  opts.prune = GIT_FETCH_PRUNE;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  opts.update_fetchhead = 0;
  opts.callbacks.transfer_progress = WatchdogTransferProgress;
  opts.callbacks.sideband_progress = WatchdogSideband;
  opts.callbacks.payload = &watchdog;

  std::vector<char*> refspec_ptrs;
  refspec_ptrs.reserve(refspecs.size());
  for (std::string& spec : refspecs) refspec_ptrs.push_back(spec.data());
  const git_strarray refspec_array{refspec_ptrs.data(), refspec_ptrs.size()};

  int rc = 0;
  {
    ScopedFetchDeadline scoped_deadline(&watchdog.deadline);
    rc = git_remote_fetch(remote.get(), &refspec_array, &opts, "flotilla fetch");
  }
  if (rc < 0) {
    if (watchdog.Expired()) {
      common::Logger("manager.git")
          ->debug("fetch of {} from {} timed out: {}", what, url_, LastGitError(rc));
      return absl::DeadlineExceededError(
          absl::StrCat("fetch from ", url_, " timed out after ", absl::FormatDuration(timeout)));
    }
    return GitStatus(
        rc == GIT_EAUTH ? absl::StatusCode::kUnauthenticated : absl::StatusCode::kUnavailable, rc,
        absl::StrCat("fetching ", what, " from ", url_));
  }

  if (full_id) {
    git_commit* raw_commit = nullptr;
    if (git_commit_lookup(&raw_commit, repo, &*full_id) != 0) {
      return absl::NotFoundError(absl::StrCat(what, " not found in ", url_));
    }
    CommitPtr commit(raw_commit);
    return OidHex(git_commit_id(commit.get()));
  }

  // Resolve from what the remote advertised in this fetch rather than from
  // local refs, which may be left over from earlier fetches.
  const git_remote_head** heads = nullptr;
  size_t head_count = 0;
  if (const int ls_rc = git_remote_ls(&heads, &head_count, remote.get()); ls_rc < 0) {
    return GitStatus(absl::StatusCode::kUnavailable, ls_rc,
                     absl::StrCat("listing the refs of ", url_));
  }
  const auto advertised = [&](const std::string& name) -> const git_oid* {
    for (size_t i = 0; i < head_count; ++i) {
      if (heads[i]->name != nullptr && name == heads[i]->name) return &heads[i]->oid;
    }
    return nullptr;
  };
  const git_oid* oid = nullptr;
  if (is_revision) oid = advertised(absl::StrCat("refs/tags/", ref));
  if (oid == nullptr) oid = advertised(absl::StrCat("refs/heads/", ref));
  if (oid == nullptr) return absl::NotFoundError(absl::StrCat(what, " not found in ", url_));
  ASSIGN_OR_RETURN(std::string commit, peel_to_commit(oid));
  common::Logger("manager.git")->debug("fetched {} from {}: {}", what, url_, commit);
  return commit;
}

absl::StatusOr<std::unique_ptr<CommitTree>> GitRepository::Tree(const std::string& commit_id) {
  const std::optional<git_oid> oid = ParseFullOid(commit_id);
  if (!oid) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", absl::CEscape(commit_id), "\" is not a full commit id"));
  }
  // A handle of its own (see GitCommitTree), so no need for mu_ here.
  ASSIGN_OR_RETURN(RepoPtr repo, OpenBare(cache_path_, url_));
  git_commit* raw_commit = nullptr;
  if (const int rc = git_commit_lookup(&raw_commit, repo.get(), &*oid); rc < 0) {
    return GitStatus(
        rc == GIT_ENOTFOUND ? absl::StatusCode::kNotFound : absl::StatusCode::kInternal, rc,
        absl::StrCat("looking up commit ", commit_id, " of ", url_));
  }
  CommitPtr commit(raw_commit);
  git_tree* raw_tree = nullptr;
  if (const int rc = git_commit_tree(&raw_tree, commit.get()); rc < 0) {
    return GitStatus(absl::StatusCode::kInternal, rc,
                     absl::StrCat("reading the tree of commit ", commit_id, " of ", url_));
  }
  TreePtr tree(raw_tree);
  std::string id = OidHex(git_commit_id(commit.get()));
  commit.reset();  // before its repository moves into the tree
  return std::unique_ptr<CommitTree>(
      new GitCommitTree(std::move(id), std::move(repo), std::move(tree)));
}

}  // namespace flotilla::manager
