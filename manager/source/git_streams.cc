#include "manager/source/git_streams.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace flotilla::manager {
namespace {

thread_local const StreamSettings* current_settings = nullptr;

absl::Time CurrentDeadline() {
  return current_settings != nullptr ? current_settings->deadline : absl::InfiniteFuture();
}

void SetError(int klass, const std::string& message) { git_error_set_str(klass, message.c_str()); }

// ---------------------------------------------------------------------------
// Deadline watch for descriptors that libssh2 reads and writes itself.
//
// One thread for the process, started with the first socket that has a
// deadline. At the deadline it shuts the socket down, which wakes a blocked
// recv()/send() with an error. Owners unwatch before they close(), and the
// thread only touches descriptors it still watches (under the same mutex), so
// it never shuts down a reused descriptor number.

class SocketDeadlineWatch {
 public:
  static SocketDeadlineWatch& Get() {
    static SocketDeadlineWatch* watch = new SocketDeadlineWatch();  // never destroyed
    return *watch;
  }

  uint64_t Watch(int fd, absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    if (!started_) {
      started_ = true;
      std::thread([this] { Run(); }).detach();
    }
    const uint64_t id = ++next_id_;
    sockets_[id] = Watched{fd, deadline};
    changed_.Signal();
    return id;
  }

  void Unwatch(uint64_t id) {
    absl::MutexLock lock(&mu_);
    sockets_.erase(id);
  }

 private:
  struct Watched {
    int fd;
    absl::Time deadline;
  };

  void Run() {
    absl::MutexLock lock(&mu_);
    for (;;) {
      const absl::Time now = common::RealClock::Get()->Now();
      absl::Time next = absl::InfiniteFuture();
      for (auto it = sockets_.begin(); it != sockets_.end();) {
        if (it->second.deadline <= now) {
          shutdown(it->second.fd, SHUT_RDWR);
          it = sockets_.erase(it);
        } else {
          next = std::min(next, it->second.deadline);
          ++it;
        }
      }
      changed_.WaitWithDeadline(&mu_, next);
    }
  }

  absl::Mutex mu_;
  absl::CondVar changed_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, Watched> sockets_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------
// Plain socket stream with a deadline.

// The first four members mirror libgit2 1.5's internal git_socket_stream: its
// ssh transport reaches into the stream for the file descriptor.
struct DeadlineSocketStream {
  git_stream parent;
  char* host;
  char* port;
  int fd;
  absl::Time deadline;  // InfiniteFuture when opened outside a fetch
  uint64_t watch_id;    // 0 when not watched
};
static_assert(std::is_standard_layout_v<DeadlineSocketStream>);

DeadlineSocketStream* AsDeadlineStream(git_stream* stream) {
  return reinterpret_cast<DeadlineSocketStream*>(stream);
}

void SetNetError(const std::string& message) { SetError(GIT_ERROR_NET, message); }

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

void CloseSocket(DeadlineSocketStream* st) {
  if (st->watch_id != 0) SocketDeadlineWatch::Get().Unwatch(st->watch_id);
  st->watch_id = 0;
  if (st->fd >= 0) close(st->fd);
  st->fd = -1;
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
          CloseSocket(st);
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
      // back to blocking mode for transports (ssh) that use it directly, and
      // is shut down at the deadline for their sake.
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      if (st->deadline != absl::InfiniteFuture()) {
        st->watch_id = SocketDeadlineWatch::Get().Watch(fd, st->deadline);
      }
      freeaddrinfo(info);
      return 0;
    }
    last_error = std::strerror(connect_errno);
    CloseSocket(st);
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
  CloseSocket(AsDeadlineStream(stream));
  return 0;
}

void DeadlineStreamFree(git_stream* stream) {
  DeadlineSocketStream* st = AsDeadlineStream(stream);
  CloseSocket(st);
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
  st->deadline = CurrentDeadline();
  st->watch_id = 0;
  *out = &st->parent;
  return 0;
}

// ---------------------------------------------------------------------------
// OpenSSL TLS stream over any git_stream.

template <auto kFree>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    if (p != nullptr) kFree(p);
  }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslDeleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslDeleter<SSL_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;

// Empties this thread's OpenSSL error queue into one readable string.
std::string DrainOpenSslErrors() {
  std::string out;
  while (const unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

// Every certificate in a PEM bundle; InvalidArgument if there is none or one
// is unreadable.
absl::StatusOr<std::vector<X509Ptr>> ReadPemCertificates(std::string_view pem) {
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  std::vector<X509Ptr> certs;
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    certs.push_back(std::move(cert));
  }
  // Running out of input is how the loop ends; anything else is a bad block.
  const unsigned long err = ERR_peek_last_error();
  if (err != 0 &&
      !(ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) {
    return absl::InvalidArgumentError(
        absl::StrCat("caBundle has an unreadable certificate: ", DrainOpenSslErrors()));
  }
  ERR_clear_error();
  if (certs.empty()) {
    return absl::InvalidArgumentError("caBundle holds no PEM certificate");
  }
  return certs;
}

struct TlsStream;

// What libgit2 holds: a git_stream at a standard-layout address, pointing back
// at the C++ object.
struct TlsStreamHandle {
  git_stream parent;
  TlsStream* self;
};
static_assert(std::is_standard_layout_v<TlsStreamHandle>);

struct TlsStream {
  TlsStreamHandle handle{};
  git_stream* io = nullptr;
  bool owned = false;  // io was opened by us (not a proxy tunnel handed to wrap)
  std::string host;
  std::string ca_bundle_pem;
  bool insecure = false;
  SslCtxPtr ctx;
  SslPtr ssl;
  bool connected = false;
  // The last failure came from `io`, whose git error message stands.
  bool io_failed = false;
  std::string peer_der;
  git_cert_x509 cert{};
};

TlsStream* AsTlsStream(git_stream* stream) {
  return reinterpret_cast<TlsStreamHandle*>(stream)->self;
}

// A BIO that reads and writes the underlying git_stream (blocking, within the
// socket stream's deadline).
int BioWrite(BIO* bio, const char* data, int len) {
  auto* st = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const ssize_t n = st->io->write(st->io, data, static_cast<size_t>(len), 0);
  if (n < 0) {
    st->io_failed = true;
    return -1;
  }
  return static_cast<int>(n);
}

int BioRead(BIO* bio, char* data, int len) {
  auto* st = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const ssize_t n = st->io->read(st->io, data, static_cast<size_t>(len));
  if (n < 0) {
    st->io_failed = true;
    return -1;
  }
  return static_cast<int>(n);
}

long BioCtrl(BIO* /*bio*/, int cmd, long /*num*/, void* /*ptr*/) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int BioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int BioDestroy(BIO* /*bio*/) { return 1; }

BIO_METHOD* StreamBioMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "libgit2 stream");
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_ctrl(m, BioCtrl);
    BIO_meth_set_create(m, BioCreate);
    BIO_meth_set_destroy(m, BioDestroy);
    return m;
  }();
  return method;
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Sets libgit2's error for a failed SSL call, unless the socket underneath
// failed (timeout, reset), whose message is the better one.
int TlsFailure(TlsStream* st, int ssl_rc, const char* doing) {
  if (st->io_failed) {
    ERR_clear_error();
    return -1;
  }
  const int err = SSL_get_error(st->ssl.get(), ssl_rc);
  std::string detail;
  if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    detail = "the connection was closed";
  } else {
    detail = DrainOpenSslErrors();
  }
  SetError(GIT_ERROR_SSL, absl::StrCat("TLS ", doing, " ", st->host, " failed: ", detail));
  return -1;
}

int TlsStreamConnect(git_stream* stream) {
  TlsStream* st = AsTlsStream(stream);
  if (st->owned) {
    if (const int rc = st->io->connect(st->io); rc < 0) return rc;
  }
  ERR_clear_error();
  st->ctx.reset(SSL_CTX_new(TLS_client_method()));
  if (st->ctx == nullptr || SSL_CTX_set_min_proto_version(st->ctx.get(), TLS1_2_VERSION) != 1) {
    SetError(GIT_ERROR_SSL, absl::StrCat("creating a TLS context: ", DrainOpenSslErrors()));
    return -1;
  }
  if (!st->insecure) {
    if (SSL_CTX_set_default_verify_paths(st->ctx.get()) != 1) {
      SetError(GIT_ERROR_SSL,
               absl::StrCat("loading the system's CA certificates: ", DrainOpenSslErrors()));
      return -1;
    }
    if (!st->ca_bundle_pem.empty()) {
      absl::StatusOr<std::vector<X509Ptr>> certs = ReadPemCertificates(st->ca_bundle_pem);
      if (!certs.ok()) {
        SetError(GIT_ERROR_SSL, std::string(certs.status().message()));
        return -1;
      }
      X509_STORE* store = SSL_CTX_get_cert_store(st->ctx.get());
      for (const X509Ptr& cert : *certs) {
        // A certificate the system store already has is not an error.
        if (X509_STORE_add_cert(store, cert.get()) != 1) ERR_clear_error();
      }
    }
  }
  st->ssl.reset(SSL_new(st->ctx.get()));
  BIO* bio = st->ssl != nullptr ? BIO_new(StreamBioMethod()) : nullptr;
  if (bio == nullptr) {
    SetError(GIT_ERROR_SSL, absl::StrCat("creating a TLS session: ", DrainOpenSslErrors()));
    return -1;
  }
  BIO_set_data(bio, st);
  SSL_set_bio(st->ssl.get(), bio, bio);  // the SSL owns the BIO now

  // We check the verification result ourselves after the handshake, to say
  // what is wrong; the hostname check is part of that result.
  SSL_set_verify(st->ssl.get(), SSL_VERIFY_NONE, nullptr);
  if (IsIpAddress(st->host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(st->ssl.get()), st->host.c_str());
  } else {
    // SSL_set_tlsext_host_name() is a macro with a C cast.
    SSL_ctrl(st->ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(st->host.c_str()));
    SSL_set1_host(st->ssl.get(), st->host.c_str());
  }

  st->io_failed = false;
  if (const int rc = SSL_connect(st->ssl.get()); rc != 1) {
    return TlsFailure(st, rc, "handshake with");
  }
  st->connected = true;

  X509Ptr peer(SSL_get1_peer_certificate(st->ssl.get()));
  if (peer == nullptr) {
    SetError(GIT_ERROR_SSL, absl::StrCat("the server ", st->host, " sent no TLS certificate"));
    return -1;
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_X509(peer.get(), &der);
  if (der_len > 0) {
    st->peer_der.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len));
    OPENSSL_free(der);
  }
  st->cert.parent.cert_type = GIT_CERT_X509;
  st->cert.data = st->peer_der.data();
  st->cert.len = st->peer_der.size();

  if (!st->insecure) {
    const long verify = SSL_get_verify_result(st->ssl.get());
    if (verify != X509_V_OK) {
      SetError(GIT_ERROR_SSL,
               absl::StrCat("the TLS certificate of ", st->host,
                            " is not trusted: ", X509_verify_cert_error_string(verify),
                            st->ca_bundle_pem.empty() ? " (no caBundle given)"
                                                      : " (checked against the caBundle and the "
                                                        "system's CAs)"));
      return GIT_ECERTIFICATE;
    }
  }
  return 0;
}

int TlsStreamCertificate(git_cert** out, git_stream* stream) {
  TlsStream* st = AsTlsStream(stream);
  if (st->peer_der.empty()) {
    SetError(GIT_ERROR_SSL, "no TLS certificate");
    return -1;
  }
  *out = &st->cert.parent;
  return 0;
}

int TlsStreamSetProxy(git_stream* stream, const git_proxy_options* proxy_opts) {
  TlsStream* st = AsTlsStream(stream);
  if (st->io->set_proxy == nullptr) {
    SetError(GIT_ERROR_NET, "the stream does not support proxies");
    return -1;
  }
  return st->io->set_proxy(st->io, proxy_opts);
}

ssize_t TlsStreamRead(git_stream* stream, void* data, size_t len) {
  TlsStream* st = AsTlsStream(stream);
  ERR_clear_error();
  st->io_failed = false;
  const int n = SSL_read(st->ssl.get(), data, static_cast<int>(std::min<size_t>(len, INT_MAX)));
  if (n > 0) return n;
  if (SSL_get_error(st->ssl.get(), n) == SSL_ERROR_ZERO_RETURN) return 0;
  return TlsFailure(st, n, "read from");
}

ssize_t TlsStreamWrite(git_stream* stream, const char* data, size_t len, int /*flags*/) {
  TlsStream* st = AsTlsStream(stream);
  ERR_clear_error();
  st->io_failed = false;
  const int n = SSL_write(st->ssl.get(), data, static_cast<int>(std::min<size_t>(len, INT_MAX)));
  if (n > 0) return n;
  return TlsFailure(st, n, "write to");
}

int TlsStreamClose(git_stream* stream) {
  TlsStream* st = AsTlsStream(stream);
  if (st->connected) {
    // Best effort close_notify; the peer's answer is not awaited.
    SSL_shutdown(st->ssl.get());
    ERR_clear_error();
    st->connected = false;
  }
  return st->owned ? st->io->close(st->io) : 0;
}

void TlsStreamFree(git_stream* stream) {
  TlsStream* st = AsTlsStream(stream);
  st->ssl.reset();
  st->ctx.reset();
  if (st->owned) st->io->free(st->io);
  delete st;
}

int TlsStreamWrap(git_stream** out, git_stream* in, const char* host) {
  if (out == nullptr || in == nullptr || host == nullptr) {
    SetError(GIT_ERROR_SSL, "invalid TLS stream arguments");
    return -1;
  }
  auto* st = new TlsStream();
  git_stream& parent = st->handle.parent;
  parent.version = GIT_STREAM_VERSION;
  parent.encrypted = 1;
  parent.proxy_support = in->proxy_support;
  parent.connect = TlsStreamConnect;
  parent.certificate = TlsStreamCertificate;
  parent.set_proxy = TlsStreamSetProxy;
  parent.read = TlsStreamRead;
  parent.write = TlsStreamWrite;
  parent.close = TlsStreamClose;
  parent.free = TlsStreamFree;
  st->handle.self = st;
  st->io = in;
  // libgit2 hands IPv6 literals over in brackets.
  absl::string_view h = host;
  if (absl::ConsumePrefix(&h, "[")) absl::ConsumeSuffix(&h, "]");
  st->host = std::string(h);
  if (current_settings != nullptr) {
    st->ca_bundle_pem = current_settings->ca_bundle_pem;
    st->insecure = current_settings->insecure_skip_tls_verify;
  }
  *out = &parent;
  return 0;
}

int TlsStreamNew(git_stream** out, const char* host, const char* port) {
  git_stream* io = nullptr;
  if (const int rc = DeadlineStreamNew(&io, host, port); rc < 0) return rc;
  if (const int rc = TlsStreamWrap(out, io, host); rc < 0) {
    io->free(io);
    return rc;
  }
  AsTlsStream(*out)->owned = true;
  return 0;
}

}  // namespace

ScopedStreamSettings::ScopedStreamSettings(const StreamSettings* settings)
    : previous_(current_settings) {
  current_settings = settings;
}

ScopedStreamSettings::~ScopedStreamSettings() { current_settings = previous_; }

absl::Status RegisterGitStreams() {
  static git_stream_registration socket_registration{};
  socket_registration.version = GIT_STREAM_VERSION;
  socket_registration.init = DeadlineStreamNew;
  if (const int rc = git_stream_register(GIT_STREAM_STANDARD, &socket_registration); rc < 0) {
    const git_error* e = git_error_last();
    return absl::InternalError(absl::StrCat("registering the socket stream: ",
                                            e != nullptr ? e->message : "libgit2 error"));
  }
  static git_stream_registration tls_registration{};
  tls_registration.version = GIT_STREAM_VERSION;
  tls_registration.init = TlsStreamNew;
  tls_registration.wrap = TlsStreamWrap;
  if (const int rc = git_stream_register(GIT_STREAM_TLS, &tls_registration); rc < 0) {
    const git_error* e = git_error_last();
    return absl::InternalError(
        absl::StrCat("registering the TLS stream: ", e != nullptr ? e->message : "libgit2 error"));
  }
  return absl::OkStatus();
}

absl::Status CheckCaBundle(std::string_view pem) { return ReadPemCertificates(pem).status(); }

}  // namespace flotilla::manager
