// Private repositories: credentials over HTTP(S) and SSH, TLS trust, SSH host
// keys, and how fetches fail (auth, certificates, silent or broken servers),
// all against real servers on loopback: git http-backend behind
// GitHttpServer, OpenSSH's sshd, raw sockets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/hash.h"
#include "manager/source/git_repository.h"
#include "manager/source/ssh_known_hosts.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/git_http_server.h"
#include "tests/support/sshd_fixture.h"
#include "tests/support/test_pki.h"
#include "tests/support/test_util.h"

namespace flotilla::manager {
namespace {

using flotilla::testing::GitHttpServer;
using flotilla::testing::RunCommand;
using flotilla::testing::SshKey;
using flotilla::testing::SshServer;
using flotilla::testing::TempDir;
using flotilla::testing::TestGitRepo;
using flotilla::testing::TestPki;

constexpr absl::Duration kTimeout = absl::Seconds(30);
constexpr char kUser[] = "fleet-bot";
constexpr char kPassword[] = "s3cret-Pa55word-do-not-log";
constexpr size_t kMiB = size_t{1024} * 1024;

template <typename T>
T Unwrap(absl::StatusOr<T> result) {
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return *std::move(result);
}

std::string Sh(const std::string& command) {
  const flotilla::testing::CommandResult result = RunCommand(command);
  INFO(command << "\n" << result.output);
  REQUIRE(result.exit_code == 0);
  return std::string(absl::StripTrailingAsciiWhitespace(result.output));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Every file below `dir`, with its size: what a failed fetch must not change.
std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    out.push_back(absl::StrCat(e.path().string(), " ", e.file_size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// True if any file below `dir` contains `needle`.
bool AnyFileContains(const std::string& dir, const std::string& needle) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && absl::StrContains(ReadFile(e.path().string()), needle)) {
      return true;
    }
  }
  return false;
}

// A source repository under <tmp>/served/repo with one commit, and a cache.
struct Fixture {
  TempDir tmp;
  TestGitRepo repo{tmp.Sub("served/repo")};
  std::string cache = tmp.Sub("cache");
  std::string first_commit;

  Fixture() {
    repo.WriteFile("apps/web/deploy.yaml", "kind: ConfigMap\n");
    first_commit = repo.Commit("first");
  }

  std::unique_ptr<GitRepository> Open(const std::string& url) const {
    return Unwrap(GitRepository::Open(cache, url));
  }
};

GitAuth BasicAuth(const std::string& password = kPassword) {
  GitAuth auth;
  auth.secret_name = "git-creds";
  auth.username = kUser;
  auth.password = password;
  return auth;
}

// A listener whose backlog nobody accepts from: connections succeed, and
// then the server never says a word.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// ---------------------------------------------------------------------------
// HTTP basic auth.

// Scenario: git http-backend behind Basic auth; the right user and password
// fetch the branch, and nothing about them lands in the cache directory
// (config, refs, logs) or in the URL shown.
TEST_CASE("Fetching over HTTP with the right basic-auth credentials succeeds", "[git][auth]") {
  Fixture f;
  GitHttpServer server(
      {.project_root = f.tmp.Sub("served"), .username = kUser, .password = kPassword});
  auto repo = f.Open(server.Url("repo"));
  CHECK(Unwrap(repo->Fetch("main", false, kTimeout, BasicAuth())) == f.first_commit);
  auto tree = Unwrap(repo->Tree(f.first_commit));
  CHECK(Unwrap(tree->List("")).size() == 1);

  CHECK_FALSE(AnyFileContains(repo->cache_path(), kPassword));
  CHECK_FALSE(AnyFileContains(repo->cache_path(), kUser));
  CHECK_FALSE(absl::StrContains(ReadFile(repo->cache_path() + "/config"), "[remote"));
}

// Scenario: the password is wrong. The server refuses it; libgit2 would ask
// for credentials again and again, but the fetch gives up after one try with
// Unauthenticated naming the URL and the secret, never the password.
TEST_CASE("A wrong password fails once with Unauthenticated and never shows the password",
          "[git][auth][security]") {
  Fixture f;
  GitHttpServer server(
      {.project_root = f.tmp.Sub("served"), .username = kUser, .password = kPassword});
  const std::string url = server.Url("repo");
  auto repo = f.Open(url);
  const absl::Time start = absl::Now();
  const absl::StatusOr<std::string> result =
      repo->Fetch("main", false, kTimeout, BasicAuth("wrong-password-value"));
  CHECK(absl::Now() - start < absl::Seconds(10));
  CHECK(result.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(result.status().message()) ==
        "authentication to " + url + " failed (check the secret git-creds)");
  CHECK_FALSE(absl::StrContains(result.status().message(), "wrong-password-value"));
  // One anonymous request, then one with the wrong password: no retry loop.
  CHECK(server.unauthorized_responses() == 2);
}

// Scenario: the server wants credentials and the GitRepo has none.
TEST_CASE("Fetching a private HTTP repository without credentials fails with Unauthenticated",
          "[git][auth]") {
  Fixture f;
  GitHttpServer server(
      {.project_root = f.tmp.Sub("served"), .username = kUser, .password = kPassword});
  const std::string url = server.Url("repo");
  auto repo = f.Open(url);
  const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout);
  CHECK(result.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(result.status().message()) ==
        "authentication to " + url +
            " failed: the server requires credentials and none are configured");

  // An SSH key is no use to an HTTP server.
  GitAuth ssh_only;
  ssh_only.secret_name = "ssh-creds";
  ssh_only.ssh_private_key = "not used";
  const absl::StatusOr<std::string> wrong_kind = repo->Fetch("main", false, kTimeout, ssh_only);
  CHECK(wrong_kind.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(wrong_kind.status().message()) ==
        "authentication to " + url +
            " failed: the server accepts a username and password, which the credentials do not "
            "hold (check the secret ssh-creds)");
}

// Scenario: the credentials are written into the repo URL itself. They work,
// and every message shows the URL with them replaced by ***.
TEST_CASE("Credentials in the URL are used but never shown", "[git][auth][security]") {
  Fixture f;
  GitHttpServer server(
      {.project_root = f.tmp.Sub("served"), .username = kUser, .password = kPassword});
  const std::string port = std::to_string(server.port());
  const std::string url =
      absl::StrCat("http://", kUser, ":", kPassword, "@127.0.0.1:", port, "/repo");
  auto repo = f.Open(url);
  CHECK(repo->display_url() == "http://***@127.0.0.1:" + port + "/repo");
  CHECK(Unwrap(repo->Fetch("main", false, kTimeout)) == f.first_commit);
  const absl::StatusOr<std::string> missing = repo->Fetch("nope", false, kTimeout);
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()) ==
        "branch \"nope\" not found in http://***@127.0.0.1:" + port + "/repo");
  CHECK_FALSE(AnyFileContains(repo->cache_path(), kPassword));
}

// ---------------------------------------------------------------------------
// HTTPS trust.

// Scenario: an HTTPS server with a certificate from a private CA. Without a
// caBundle the fetch fails naming the certificate problem; with the CA as
// caBundle it succeeds; with insecureSkipTLSVerify it succeeds too; with
// another CA, or a certificate for another name, it fails.
TEST_CASE("HTTPS trusts the caBundle, refuses unknown CAs and can skip verification",
          "[git][auth][tls]") {
  Fixture f;
  TestPki pki;
  GitHttpServer server({.project_root = f.tmp.Sub("served"),
                        .username = kUser,
                        .password = kPassword,
                        .tls_cert_pem = pki.cert_pem,
                        .tls_key_pem = pki.key_pem});
  const std::string url = server.Url("repo");
  REQUIRE(absl::StartsWith(url, "https://127.0.0.1:"));
  auto repo = f.Open(url);

  SECTION("no caBundle: the certificate is not trusted") {
    const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout, BasicAuth());
    CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(result.status().message()) ==
          "fetching branch \"main\" from " + url +
              ": the TLS certificate of 127.0.0.1 is not trusted: unable to get local issuer "
              "certificate (no caBundle given)");
    CHECK(server.requests() == 0);  // nothing, credentials least of all, was sent
  }
  SECTION("the CA as caBundle") {
    GitAuth auth = BasicAuth();
    auth.ca_bundle_pem = pki.ca_pem;
    CHECK(Unwrap(repo->Fetch("main", false, kTimeout, auth)) == f.first_commit);
  }
  SECTION("the CA among other certificates in the bundle") {
    GitAuth auth = BasicAuth();
    auth.ca_bundle_pem = TestPki().ca_pem + "\n# comment\n" + pki.ca_pem;
    CHECK(Unwrap(repo->Fetch("main", false, kTimeout, auth)) == f.first_commit);
  }
  SECTION("insecureSkipTLSVerify") {
    GitAuth auth = BasicAuth();
    auth.insecure_skip_tls_verify = true;
    CHECK(Unwrap(repo->Fetch("main", false, kTimeout, auth)) == f.first_commit);
    CHECK(Unwrap(repo->Fetch("main", false, kTimeout, auth)) == f.first_commit);
  }
  SECTION("another CA as caBundle") {
    GitAuth auth = BasicAuth();
    auth.ca_bundle_pem = TestPki().ca_pem;
    const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout, auth);
    CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(absl::StrContains(result.status().message(),
                            "the TLS certificate of 127.0.0.1 is not trusted: unable to get local "
                            "issuer certificate (checked against the caBundle"));
  }
  SECTION("a caBundle that is not PEM") {
    GitAuth auth = BasicAuth();
    auth.ca_bundle_pem =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n";
    const absl::StatusOr<std::string> bad = repo->Fetch("main", false, kTimeout, auth);
    CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(bad.status().message(), "caBundle has an unreadable certificate"));
    auth.ca_bundle_pem = "just text";
    const absl::StatusOr<std::string> empty = repo->Fetch("main", false, kTimeout, auth);
    CHECK(empty.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(empty.status().message()) == "caBundle holds no PEM certificate");
  }
}

// Scenario: the server's certificate is valid but names another host.
TEST_CASE("HTTPS refuses a certificate issued for another host name", "[git][auth][tls]") {
  Fixture f;
  TestPki pki({"git.example.test"});
  GitHttpServer server({.project_root = f.tmp.Sub("served"),
                        .tls_cert_pem = pki.cert_pem,
                        .tls_key_pem = pki.key_pem});
  auto repo = f.Open(server.Url("repo"));
  GitAuth auth;
  auth.ca_bundle_pem = pki.ca_pem;
  const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout, auth);
  CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(result.status().message(),
                          "the TLS certificate of 127.0.0.1 is not trusted: IP address mismatch"));
}

// ---------------------------------------------------------------------------
// SSH host keys (no server needed).

// Builds the wire-format blob of an ssh-ed25519 public key from 32 bytes.
std::string Ed25519Blob(char fill) {
  std::string blob;
  const auto put = [&blob](const std::string& s) {
    const uint32_t n = static_cast<uint32_t>(s.size());
    blob += static_cast<char>(n >> 24);
    blob += static_cast<char>(n >> 16);
    blob += static_cast<char>(n >> 8);
    blob += static_cast<char>(n);
    blob += s;
  };
  put("ssh-ed25519");
  put(std::string(32, fill));
  return blob;
}

std::string KnownHostsLine(const std::string& hosts, const std::string& blob) {
  return absl::StrCat(hosts, " ssh-ed25519 ", common::Base64Encode(blob));
}

// Scenario: host patterns as OpenSSH writes them: a bare name means port
// 22, [host]:port another port; wildcards and negations; comments.
TEST_CASE("known_hosts matches hosts by name, [host]:port, wildcards and negation",
          "[git][ssh][security]") {
  const std::string key = Ed25519Blob('a');
  const std::string text = absl::StrCat("# comment\n\n", KnownHostsLine("git.example.com", key),
                                        "\n", KnownHostsLine("[git.example.com]:2222", key), "\n",
                                        KnownHostsLine("*.corp.test,!evil.corp.test", key), "\n");
  const SshKnownHosts hosts = Unwrap(SshKnownHosts::Parse(text));
  CHECK(hosts.Verify("git.example.com", 22, key).ok());
  CHECK(hosts.Verify("GIT.example.com", 22, key).ok());
  CHECK(hosts.Verify("git.example.com", 2222, key).ok());
  CHECK(hosts.Verify("a.corp.test", 22, key).ok());

  const absl::Status other_port = hosts.Verify("git.example.com", 2200, key);
  CHECK(other_port.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(other_port.message()) ==
        "host key verification failed for git.example.com:2200: the host is not in known_hosts "
        "(the server's ssh-ed25519 key " +
            SshFingerprint(key) + ")");
  CHECK(hosts.Verify("evil.corp.test", 22, key).code() == absl::StatusCode::kFailedPrecondition);
}

// Scenario: a server presents a different key than known_hosts lists for it
// (replaced key or man in the middle); and a revoked key.
TEST_CASE("known_hosts refuses a different key and a revoked one, naming fingerprints",
          "[git][ssh][security]") {
  const std::string good = Ed25519Blob('a');
  const std::string bad = Ed25519Blob('b');
  const SshKnownHosts hosts = Unwrap(SshKnownHosts::Parse(
      KnownHostsLine("git.example.com", good) + "\n@revoked " + KnownHostsLine("*", bad)));
  const absl::Status mismatch = hosts.Verify("git.example.com", 22, bad);
  CHECK(mismatch.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(mismatch.message(), "is marked @revoked"));

  const SshKnownHosts plain = Unwrap(SshKnownHosts::Parse(KnownHostsLine("git.example.com", good)));
  const absl::Status replaced = plain.Verify("git.example.com", 22, bad);
  CHECK(replaced.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(replaced.message()) ==
        "host key verification failed for git.example.com:22: the server's ssh-ed25519 key " +
            SshFingerprint(bad) + " does not match known_hosts (ssh-ed25519 " +
            SshFingerprint(good) +
            "); the key may have been replaced, or someone may be intercepting the connection");

  const SshKnownHosts none = Unwrap(SshKnownHosts::Parse(""));
  CHECK(std::string(none.Verify("git.example.com", 22, good).message()) ==
        "host key verification failed for git.example.com:22: no known_hosts were given (the "
        "server's ssh-ed25519 key " +
            SshFingerprint(good) + ")");
}

// Scenario: lines hashed by `ssh-keygen -H` match the same hosts as before,
// and the fingerprint we print is the one `ssh-keygen -l` prints.
TEST_CASE("Hashed known_hosts lines from ssh-keygen -H match, fingerprints match ssh-keygen -l",
          "[git][ssh][security]") {
  TempDir tmp;
  const SshKey key = flotilla::testing::GenerateSshKey(tmp.path(), "host");
  const std::vector<std::string> fields = absl::StrSplit(key.public_key, ' ');
  REQUIRE(fields.size() >= 2);
  const std::string blob = Unwrap(common::Base64Decode(fields[1]));
  const std::string file = tmp.Sub("known_hosts");
  {
    std::ofstream out(file);
    out << "[127.0.0.1]:2222 " << fields[0] << " " << fields[1] << "\n"
        << "git.example.com " << fields[0] << " " << fields[1] << "\n";
  }
  Sh("ssh-keygen -q -H -f " + file);
  const std::string hashed = ReadFile(file);
  REQUIRE(absl::StartsWith(hashed, "|1|"));
  REQUIRE_FALSE(absl::StrContains(hashed, "127.0.0.1"));

  const SshKnownHosts hosts = Unwrap(SshKnownHosts::Parse(hashed));
  CHECK(hosts.Verify("127.0.0.1", 2222, blob).ok());
  CHECK(hosts.Verify("git.example.com", 22, blob).ok());
  CHECK_FALSE(hosts.Verify("127.0.0.1", 22, blob).ok());
  CHECK_FALSE(hosts.Verify("git.example.org", 22, blob).ok());

  const std::string listed = Sh("ssh-keygen -l -f " + tmp.Sub("host.pub"));
  CHECK(absl::StrContains(listed, " " + SshFingerprint(blob) + " "));
}

// Scenario: malformed known_hosts text is refused up front, naming the line.
TEST_CASE("Malformed known_hosts lines are refused with their line number", "[git][ssh]") {
  const std::string key = Ed25519Blob('a');
  const absl::StatusOr<SshKnownHosts> short_line = SshKnownHosts::Parse("\nhost ssh-ed25519\n");
  CHECK(short_line.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(short_line.status().message()) ==
        "known_hosts line 2: expected \"hostnames keytype base64-key\"");
  const absl::StatusOr<SshKnownHosts> wrong_type =
      SshKnownHosts::Parse("host ssh-rsa " + common::Base64Encode(key));
  CHECK(std::string(wrong_type.status().message()) ==
        "known_hosts line 1: the key is not a ssh-rsa key");
  CHECK(SshKnownHosts::Parse("host ssh-ed25519 !!!").status().code() ==
        absl::StatusCode::kInvalidArgument);
  // Host certificates are not supported: skipped, not an error.
  CHECK(Unwrap(SshKnownHosts::Parse("@cert-authority * " + KnownHostsLine("", key).substr(1)))
            .empty());
}

// ---------------------------------------------------------------------------
// SSH against a real sshd.

struct SshFixture : Fixture {
  std::unique_ptr<SshServer> server;
  SshKey client_key;

  bool Start() {
    const std::string reason = SshServer::UnavailableReason();
    if (!reason.empty()) {
      WARN("skipping: " << reason);
      return false;
    }
    server = std::make_unique<SshServer>(tmp.Sub("sshd"));
    client_key = flotilla::testing::GenerateSshKey(tmp.Sub("keys"), "client");
    server->Authorize(client_key.public_key);
    return true;
  }

  GitAuth Auth() const {
    GitAuth auth;
    auth.secret_name = "ssh-creds";
    auth.ssh_private_key = client_key.private_key;
    auth.ssh_known_hosts = server->KnownHostsLine() + "\n";
    return auth;
  }
};

// Scenario: the authorized key and the server's host key in known_hosts:
// the fetch succeeds, for OpenSSH and PEM key formats, with or without a
// passphrase, and with a hashed known_hosts line.
TEST_CASE("Fetching over SSH with the right key and known_hosts succeeds", "[git][ssh]") {
  SshFixture f;
  if (!f.Start()) return;
  const std::string url = f.server->Url(f.repo.dir());
  auto repo = f.Open(url);
  INFO(f.server->Log());

  SECTION("ed25519 key in OpenSSH format") {
    CHECK(Unwrap(repo->Fetch("main", false, kTimeout, f.Auth())) == f.first_commit);
    CHECK(Unwrap(repo->Tree(f.first_commit))->commit() == f.first_commit);
  }
  SECTION("ed25519 key in OpenSSH format with a passphrase") {
    const SshKey key =
        flotilla::testing::GenerateSshKey(f.tmp.Sub("keys"), "locked", "ed25519", "key passphrase");
    f.server->Authorize(key.public_key);
    GitAuth auth = f.Auth();
    auth.ssh_private_key = key.private_key;
    auth.ssh_passphrase = "key passphrase";
    CHECK(Unwrap(repo->Fetch("main", false, kTimeout, auth)) == f.first_commit);
  }
  SECTION("ECDSA key in PEM format with a passphrase") {
    const SshKey key = flotilla::testing::GenerateSshKey(f.tmp.Sub("keys"), "ecdsa", "ecdsa",
                                                         "key passphrase", /*pem=*/true);
    f.server->Authorize(key.public_key);
    GitAuth auth = f.Auth();
    auth.ssh_private_key = key.private_key;
    auth.ssh_passphrase = "key passphrase";
    CHECK(Unwrap(repo->Fetch("main", false, kTimeout, auth)) == f.first_commit);
  }
  SECTION("a hashed known_hosts line") {
    const std::string file = f.tmp.Sub("known_hosts");
    std::ofstream(file) << f.server->KnownHostsLine() << "\n";
    Sh("ssh-keygen -q -H -f " + file);
    GitAuth auth = f.Auth();
    auth.ssh_known_hosts = ReadFile(file);
    REQUIRE(absl::StartsWith(auth.ssh_known_hosts, "|1|"));
    CHECK(Unwrap(repo->Fetch("main", false, kTimeout, auth)) == f.first_commit);
  }
  SECTION("the user from GitAuth when the URL has none") {
    auto no_user = f.Open(absl::StrCat("ssh://127.0.0.1:", f.server->port(), f.repo.dir()));
    GitAuth auth = f.Auth();
    auth.username = f.server->user();
    CHECK(Unwrap(no_user->Fetch("main", false, kTimeout, auth)) == f.first_commit);
  }
}

// Scenario: the server's host key is not the one known_hosts lists, or the
// host is not listed at all, or no known_hosts were given: refused before
// any credential is offered, naming the key's fingerprint.
TEST_CASE("SSH refuses a host key that known_hosts does not list", "[git][ssh][security]") {
  SshFixture f;
  if (!f.Start()) return;
  const std::string url = f.server->Url(f.repo.dir());
  auto repo = f.Open(url);
  const std::vector<std::string> fields = absl::StrSplit(f.server->host_public_key(), ' ');
  const std::string fingerprint = SshFingerprint(Unwrap(common::Base64Decode(fields.at(1))));
  const std::string where = "127.0.0.1:" + std::to_string(f.server->port());
  GitAuth auth = f.Auth();

  SECTION("another key for this host") {
    const SshKey other = flotilla::testing::GenerateSshKey(f.tmp.Sub("keys"), "other");
    const std::vector<std::string> other_fields = absl::StrSplit(other.public_key, ' ');
    auth.ssh_known_hosts =
        absl::StrCat("[127.0.0.1]:", f.server->port(), " ", other_fields[0], " ", other_fields[1]);
    const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout, auth);
    CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(absl::StrContains(result.status().message(), "host key verification failed for " + where +
                                                           ": the server's ssh-ed25519 key " +
                                                           fingerprint +
                                                           " does not match known_hosts"));
  }
  SECTION("the host is not listed") {
    auth.ssh_known_hosts =
        absl::StrCat("[127.0.0.1]:", f.server->port() + 1, " ", fields[0], " ", fields[1]);
    const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout, auth);
    CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(result.status().message()) ==
          "fetching branch \"main\" from " + url + ": host key verification failed for " + where +
              ": the host is not in known_hosts (the server's ssh-ed25519 key " + fingerprint +
              ")");
  }
  SECTION("no known_hosts") {
    auth.ssh_known_hosts.clear();
    const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout, auth);
    CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(absl::StrContains(result.status().message(), "no known_hosts were given"));
  }
  CHECK_FALSE(absl::StrContains(f.server->Log(), "Accepted publickey"));
}

// Scenario: a client key the server does not accept: one attempt, then
// Unauthenticated naming the secret.
TEST_CASE("SSH with a key the server does not accept fails with Unauthenticated",
          "[git][ssh][auth]") {
  SshFixture f;
  if (!f.Start()) return;
  const std::string url = f.server->Url(f.repo.dir());
  auto repo = f.Open(url);
  GitAuth auth = f.Auth();
  auth.ssh_private_key =
      flotilla::testing::GenerateSshKey(f.tmp.Sub("keys"), "stranger").private_key;
  const absl::Time start = absl::Now();
  const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout, auth);
  CHECK(absl::Now() - start < absl::Seconds(10));
  INFO(f.server->Log());
  CHECK(result.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(result.status().message()) ==
        "authentication to " + url + " failed (check the secret ssh-creds)");

  SECTION("an RSA key, which libssh2 1.10 signs with SHA-1 only") {
    const SshKey rsa = flotilla::testing::GenerateSshKey(f.tmp.Sub("keys"), "rsa", "rsa");
    f.server->Authorize(rsa.public_key);
    auth.ssh_private_key = rsa.private_key;
    const absl::StatusOr<std::string> refused = repo->Fetch("main", false, kTimeout, auth);
    CHECK(refused.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(std::string(refused.status().message()) ==
          "authentication to " + url +
              " failed (check the secret ssh-creds); RSA keys are signed with SHA-1 (ssh-rsa) "
              "here, which many servers refuse: use an ed25519 or ECDSA key");
  }
  SECTION("a wrong passphrase") {
    const SshKey locked = flotilla::testing::GenerateSshKey(f.tmp.Sub("keys"), "locked", "ed25519",
                                                            "right passphrase");
    f.server->Authorize(locked.public_key);
    auth.ssh_private_key = locked.private_key;
    auth.ssh_passphrase = "wrong passphrase";
    const absl::StatusOr<std::string> refused = repo->Fetch("main", false, kTimeout, auth);
    CHECK(refused.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(absl::StartsWith(refused.status().message(),
                           "authentication to " + url +
                               " failed: the SSH private key could not be used (check the secret "
                               "ssh-creds): "));
    CHECK_FALSE(absl::StrContains(refused.status().message(), "wrong passphrase"));
  }
  SECTION("no key at all") {
    auth.ssh_private_key.clear();
    const absl::StatusOr<std::string> none = repo->Fetch("main", false, kTimeout, auth);
    CHECK(none.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(std::string(none.status().message()) ==
          "authentication to " + url +
              " failed: the server requires credentials and none are configured");
  }
}

// Scenario: the manager runs without $HOME (a bare systemd unit), which
// libgit2 1.5 needs for every ssh:// connection: a clear error up front
// instead of libgit2's "error loading known_hosts".
TEST_CASE("Fetching over SSH without $HOME fails with FailedPrecondition", "[git][ssh]") {
  Fixture f;
  const std::string url = "ssh://git@127.0.0.1:1/repo";
  auto repo = f.Open(url);
  const char* saved = std::getenv("HOME");
  const std::string home = saved != nullptr ? saved : "";
  unsetenv("HOME");
  const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout);
  if (saved != nullptr) setenv("HOME", home.c_str(), 1);
  CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(result.status().message()) ==
        "cannot fetch " + url +
            ": libgit2 1.5 needs $HOME to be set for ssh:// (set it in the manager's "
            "environment)");
}

// ---------------------------------------------------------------------------
// Faults.

// Scenario: the server accepts the connection and says nothing, over each
// transport: plain HTTP, the TLS handshake of HTTPS, and the SSH banner
// (where libssh2 reads the socket itself). The fetch ends at its deadline.
TEST_CASE("A fetch from a silent server ends at its deadline over http, https and ssh",
          "[git][fault]") {
  Fixture f;
  SilentListener listener;
  const std::string port = std::to_string(listener.port());
  GitAuth auth;
  auth.ssh_known_hosts = "127.0.0.1 ssh-ed25519 " + common::Base64Encode(Ed25519Blob('a'));
  for (const std::string& url :
       {"http://127.0.0.1:" + port + "/repo", "https://127.0.0.1:" + port + "/repo",
        "ssh://git@127.0.0.1:" + port + "/repo"}) {
    INFO(url);
    auto repo = f.Open(url);
    const absl::Time start = absl::Now();
    const absl::StatusOr<std::string> result =
        repo->Fetch("main", false, absl::Milliseconds(300), auth);
    const absl::Duration took = absl::Now() - start;
    CHECK(result.status().code() == absl::StatusCode::kDeadlineExceeded);
    CHECK(std::string(result.status().message()) == "fetch from " + url + " timed out after 300ms");
    CHECK(took >= absl::Milliseconds(300));
    CHECK(took < absl::Seconds(5));
  }
}

// Scenario: an HTTPS server that completes the handshake, reads the request
// and never answers.
TEST_CASE("A fetch from an HTTPS server that never answers ends at its deadline", "[git][fault]") {
  Fixture f;
  TestPki pki;
  GitHttpServer server({.project_root = f.tmp.Sub("served"),
                        .tls_cert_pem = pki.cert_pem,
                        .tls_key_pem = pki.key_pem});
  server.SetFault(GitHttpServer::Fault::kHang);
  auto repo = f.Open(server.Url("repo"));
  GitAuth auth;
  auth.ca_bundle_pem = pki.ca_pem;
  const absl::Time start = absl::Now();
  const absl::StatusOr<std::string> result =
      repo->Fetch("main", false, absl::Milliseconds(500), auth);
  CHECK(result.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::Now() - start < absl::Seconds(5));
  CHECK(server.requests() == 1);
}

// Scenario: a fetch that worked, a new commit, and then the server closes
// the connection halfway through the pack. The fetch fails with Unavailable;
// the cache is as it was (same files, same ref) and the first commit stays
// readable; once the server behaves, the next fetch gets the new commit.
TEST_CASE("A server closing mid-pack fails the fetch and leaves the cache as it was",
          "[git][fault]") {
  Fixture f;
  GitHttpServer server(
      {.project_root = f.tmp.Sub("served"), .username = kUser, .password = kPassword});
  const std::string url = server.Url("repo");
  auto repo = f.Open(url);
  REQUIRE(Unwrap(repo->Fetch("main", false, kTimeout, BasicAuth())) == f.first_commit);

  // Enough incompressible content that half the pack is a real cut.
  f.repo.WriteFile("apps/web/data.bin", common::RandomBytes(kMiB / 4));
  const std::string second = f.repo.Commit("second");
  const std::vector<std::string> before = Listing(repo->cache_path());

  server.SetFault(GitHttpServer::Fault::kCloseMidPack);
  const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout, BasicAuth());
  CHECK(result.status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(result.status().message()) ==
        "fetching branch \"main\" from " + url +
            ": http parser error: stream ended at an unexpected time");

  CHECK(Listing(repo->cache_path()) == before);
  CHECK(Sh("git -C " + repo->cache_path() + " rev-parse refs/remotes/origin/main") ==
        f.first_commit);
  auto old_tree = Unwrap(repo->Tree(f.first_commit));
  const auto entries = Unwrap(old_tree->List(""));
  REQUIRE(entries.size() == 1);
  CHECK(Unwrap(old_tree->Read(entries[0], 1024)) == "kind: ConfigMap\n");

  server.SetFault(GitHttpServer::Fault::kNone);
  CHECK(Unwrap(repo->Fetch("main", false, kTimeout, BasicAuth())) == second);
}

// ---------------------------------------------------------------------------
// Blob size limits.

// Scenario: a 2 MiB file fetched over authenticated HTTP is listed with its
// size from the object header, and reading it under a 1 MiB limit is refused
// with the path and both sizes before its content is read.
TEST_CASE("An oversize blob is refused from its header, naming the path and size",
          "[git][security]") {
  Fixture f;
  f.repo.WriteFile("apps/web/huge.yaml", std::string(2 * kMiB, 'x'));
  const std::string head = f.repo.Commit("huge");
  GitHttpServer server(
      {.project_root = f.tmp.Sub("served"), .username = kUser, .password = kPassword});
  auto repo = f.Open(server.Url("repo"));
  REQUIRE(Unwrap(repo->Fetch("main", false, kTimeout, BasicAuth())) == head);
  auto tree = Unwrap(repo->Tree(head));
  const auto entries = Unwrap(tree->List("apps/web"));
  REQUIRE(entries.size() == 2);
  const TreeEntry& huge = entries[1];
  REQUIRE(huge.path == "apps/web/huge.yaml");
  CHECK(huge.size == 2 * kMiB);

  const absl::StatusOr<std::string> read = tree->Read(huge, kMiB);
  CHECK(read.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(read.status().message()) ==
        "apps/web/huge.yaml: blob of 2097152 bytes exceeds the limit of 1048576 bytes");
  CHECK(Unwrap(tree->Read(huge, 2 * kMiB)).size() == 2 * kMiB);
}

}  // namespace
}  // namespace flotilla::manager
