#include "manager/source/ssh_known_hosts.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/hash.h"

namespace flotilla::manager {
namespace {

// Debian's Abseil has its own string_view, not an alias of std::string_view.
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The first length-prefixed string of an SSH wire-format blob.
bool ReadSshString(absl::string_view* blob, absl::string_view* out) {
  if (blob->size() < 4) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(blob->data());
  const uint32_t len =
      (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  if (blob->size() - 4 < len) return false;
  *out = blob->substr(4, len);
  blob->remove_prefix(4 + len);
  return true;
}

// OpenSSH's match_pattern(): `*` any run, `?` one character.
bool WildcardMatch(absl::string_view s, absl::string_view pattern) {
  size_t si = 0, pi = 0, star = absl::string_view::npos, star_si = 0;
  while (si < s.size()) {
    if (pi < pattern.size() && (pattern[pi] == '?' || pattern[pi] == s[si])) {
      ++si;
      ++pi;
    } else if (pi < pattern.size() && pattern[pi] == '*') {
      star = pi++;
      star_si = si;
    } else if (star != absl::string_view::npos) {
      pi = star + 1;
      si = ++star_si;
    } else {
      return false;
    }
  }
  while (pi < pattern.size() && pattern[pi] == '*') ++pi;
  return pi == pattern.size();
}

// `|1|<base64 salt>|<base64 HMAC-SHA1(salt, name)>`, as `ssh-keygen -H` writes.
bool HashedMatch(absl::string_view name, absl::string_view pattern) {
  if (!absl::ConsumePrefix(&pattern, "|1|")) return false;
  const size_t bar = pattern.find('|');
  if (bar == absl::string_view::npos) return false;
  std::string salt, hash;
  if (!absl::Base64Unescape(pattern.substr(0, bar), &salt) ||
      !absl::Base64Unescape(pattern.substr(bar + 1), &hash) || hash.size() != 20) {
    return false;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha1(), salt.data(), static_cast<int>(salt.size()),
           reinterpret_cast<const unsigned char*>(name.data()), name.size(), mac,
           &mac_len) == nullptr ||
      mac_len != hash.size()) {
    return false;
  }
  return CRYPTO_memcmp(mac, hash.data(), hash.size()) == 0;
}

// OpenSSH's match_hostname(): a negated pattern that matches vetoes the line.
bool HostMatches(absl::string_view name, const std::vector<std::string>& patterns) {
  bool matched = false;
  for (const std::string& raw : patterns) {
    absl::string_view pattern = raw;
    const bool negated = absl::ConsumePrefix(&pattern, "!");
    const bool hit = absl::StartsWith(pattern, "|")
                         ? HashedMatch(name, pattern)
                         : WildcardMatch(name, absl::AsciiStrToLower(pattern));
    if (hit && negated) return false;
    matched = matched || hit;
  }
  return matched;
}

}  // namespace

std::string SshFingerprint(std::string_view key_blob) {
  std::string b64 = absl::Base64Escape(common::Sha256Raw(AbslView(key_blob)));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return absl::StrCat("SHA256:", b64);
}

std::string SshKeyBlobType(std::string_view key_blob) {
  absl::string_view blob = AbslView(key_blob);
  absl::string_view type;
  if (!ReadSshString(&blob, &type)) return "";
  return std::string(type);
}

std::string SshPrivateKeyType(std::string_view private_key) {
  const absl::string_view key = AbslView(private_key);
  if (absl::StrContains(key, "-----BEGIN RSA PRIVATE KEY-----")) return "ssh-rsa";
  constexpr absl::string_view kBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
  const size_t begin = key.find(kBegin);
  if (begin == absl::string_view::npos) return "";
  const size_t end = key.find("-----END", begin + kBegin.size());
  if (end == absl::string_view::npos) return "";
  std::string base64;
  for (char c : key.substr(begin + kBegin.size(), end - begin - kBegin.size())) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) base64 += c;
  }
  std::string raw;
  if (!absl::Base64Unescape(base64, &raw)) return "";
  // PROTOCOL.key: "openssh-key-v1\0", cipher, kdf, kdf options, key count,
  // then the first public key in the clear.
  absl::string_view rest = raw;
  if (!absl::ConsumePrefix(&rest, absl::string_view("openssh-key-v1\0", 15))) return "";
  absl::string_view field;
  for (int i = 0; i < 3; ++i) {
    if (!ReadSshString(&rest, &field)) return "";
  }
  if (rest.size() < 4) return "";
  rest.remove_prefix(4);
  absl::string_view public_key;
  if (!ReadSshString(&rest, &public_key)) return "";
  return SshKeyBlobType(std::string_view(public_key.data(), public_key.size()));
}

absl::StatusOr<SshKnownHosts> SshKnownHosts::Parse(std::string_view text) {
  SshKnownHosts out;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(AbslView(text), '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    Entry entry;
    size_t next = 0;
    if (absl::StartsWith(fields[0], "@")) {
      if (fields[0] == "@revoked") {
        entry.marker = Entry::Marker::kRevoked;
      } else if (fields[0] == "@cert-authority") {
        continue;  // host certificates are not supported
      } else {
        return absl::InvalidArgumentError(absl::StrCat("known_hosts line ", line_number,
                                                       ": unknown marker \"",
                                                       absl::CEscape(fields[0]), "\""));
      }
      next = 1;
    }
    if (fields.size() < next + 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          "known_hosts line ", line_number, ": expected \"hostnames keytype base64-key\""));
    }
    for (absl::string_view pattern : absl::StrSplit(fields[next], ',', absl::SkipEmpty())) {
      entry.patterns.emplace_back(pattern);
    }
    entry.key_type = std::string(fields[next + 1]);
    std::string blob;
    if (!absl::Base64Unescape(fields[next + 2], &blob)) {
      return absl::InvalidArgumentError(
          absl::StrCat("known_hosts line ", line_number, ": the key is not valid base64"));
    }
    if (SshKeyBlobType(blob) != entry.key_type) {
      return absl::InvalidArgumentError(absl::StrCat("known_hosts line ", line_number,
                                                     ": the key is not a ",
                                                     absl::CEscape(entry.key_type), " key"));
    }
    entry.key_sha256 = common::Sha256Raw(blob);
    out.entries_.push_back(std::move(entry));
  }
  return out;
}

absl::Status SshKnownHosts::Verify(std::string_view host, int port,
                                   std::string_view key_blob) const {
  // A non-default port is written "[host]:port"; a bare name means port 22.
  const std::string name =
      port == 22 || port <= 0
          ? absl::AsciiStrToLower(AbslView(host))
          : absl::StrCat("[", absl::AsciiStrToLower(AbslView(host)), "]:", port);
  const std::string where = absl::StrCat(AbslView(host), ":", port <= 0 ? 22 : port);
  const std::string type = SshKeyBlobType(key_blob);
  const std::string sha256 = common::Sha256Raw(AbslView(key_blob));
  const std::string presented =
      absl::StrCat(type.empty() ? "unknown" : type, " key ", SshFingerprint(key_blob));
  if (type.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("host key verification failed for ", where, ": malformed host key"));
  }

  bool known = false;
  std::vector<std::string> others;
  for (const Entry& e : entries_) {
    if (!HostMatches(name, e.patterns)) continue;
    const bool same_key = e.key_type == type && e.key_sha256 == sha256;
    if (e.marker == Entry::Marker::kRevoked) {
      if (same_key) {
        return absl::FailedPreconditionError(absl::StrCat("host key verification failed for ",
                                                          where, ": its ", presented,
                                                          " is marked @revoked in known_hosts"));
      }
      continue;
    }
    if (same_key) {
      known = true;
    } else {
      std::string fp = absl::Base64Escape(e.key_sha256);
      while (!fp.empty() && fp.back() == '=') fp.pop_back();
      others.push_back(absl::StrCat(e.key_type, " SHA256:", fp));
    }
  }
  if (known) return absl::OkStatus();
  if (!others.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "host key verification failed for ", where, ": the server's ", presented,
        " does not match known_hosts (", absl::StrJoin(others, ", "),
        "); the key may have been replaced, or someone may be intercepting the connection"));
  }
  if (entries_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("host key verification failed for ", where,
                                                      ": no known_hosts were given (the server's ",
                                                      presented, ")"));
  }
  return absl::FailedPreconditionError(absl::StrCat("host key verification failed for ", where,
                                                    ": the host is not in known_hosts (the "
                                                    "server's ",
                                                    presented, ")"));
}

}  // namespace flotilla::manager
