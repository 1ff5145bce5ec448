// Sprig's encodings, hashes and random values (sprig/strings.go, crypto.go):
// b64enc/b64dec, b32enc/b32dec, sha1sum, sha256sum, adler32sum, uuidv4 and
// the rand* family. Decoding errors come back as the result text, as in
// Sprig ("illegal base64 data at input byte 4").
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/template/sprig_internal.h"

namespace flotilla::common::tmpl::sprig {

namespace {

using PT = ParamType;

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

Value Str(std::string s) { return Value::String(std::move(s)); }

std::string Base64Encode(absl::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// encoding/base64's StdEncoding.DecodeString for well-formed and malformed
// input: newlines are skipped; the first bad byte is reported.
std::string Base64Decode(absl::string_view src, bool* ok) {
  auto corrupt = [&](size_t at) {
    *ok = false;
    return absl::StrCat("illegal base64 data at input byte ", at);
  };
  *ok = true;
  std::string out;
  size_t si = 0;
  while (true) {
    uint32_t dbuf[4] = {0, 0, 0, 0};
    size_t dlen = 4;
    for (size_t j = 0; j < 4; ++j) {
      while (si < src.size() && (src[si] == '\n' || src[si] == '\r')) ++si;
      if (si == src.size()) {
        if (j == 0) return out;
        return corrupt(si - j);
      }
      char c = src[si++];
      if (c == '=') {
        if (j == 0 || j == 1) return corrupt(si - 1);
        if (j == 2) {
          while (si < src.size() && (src[si] == '\n' || src[si] == '\r')) ++si;
          if (si == src.size()) return corrupt(src.size());
          if (src[si] != '=') return corrupt(si - 1);
          ++si;
        }
        while (si < src.size() && (src[si] == '\n' || src[si] == '\r')) ++si;
        if (si < src.size()) return corrupt(si);
        dlen = j;
        break;
      }
      const char* p = strchr(kB64, c);
      if (p == nullptr || c == '\0') return corrupt(si - 1);
      dbuf[j] = static_cast<uint32_t>(p - kB64);
    }
    uint32_t v = (dbuf[0] << 18) | (dbuf[1] << 12) | (dbuf[2] << 6) | dbuf[3];
    out.push_back(static_cast<char>((v >> 16) & 0xFF));
    if (dlen > 2) out.push_back(static_cast<char>((v >> 8) & 0xFF));
    if (dlen > 3) out.push_back(static_cast<char>(v & 0xFF));
    if (dlen < 4) return out;
  }
}

std::string Base32Encode(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); i += 5) {
    uint64_t v = 0;
    size_t n = std::min<size_t>(5, in.size() - i);
    for (size_t j = 0; j < 5; ++j) {
      v = (v << 8) | (j < n ? static_cast<unsigned char>(in[i + j]) : 0);
    }
    static constexpr size_t kChars[] = {0, 2, 4, 5, 7, 8};
    size_t chars = kChars[n];
    for (size_t j = 0; j < 8; ++j) {
      out.push_back(j < chars ? kB32[(v >> (35 - 5 * j)) & 31] : '=');
    }
  }
  return out;
}

std::string Base32Decode(absl::string_view src, bool* ok) {
  *ok = true;
  std::string clean;
  std::vector<size_t> pos;
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\n' || src[i] == '\r') continue;
    clean.push_back(src[i]);
    pos.push_back(i);
  }
  auto corrupt = [&](size_t at) {
    *ok = false;
    return absl::StrCat("illegal base32 data at input byte ", at);
  };
  if (clean.size() % 8 != 0) return corrupt((clean.size() / 8) * 8);
  std::string out;
  for (size_t i = 0; i < clean.size(); i += 8) {
    uint64_t v = 0;
    size_t data = 8;
    for (size_t j = 0; j < 8; ++j) {
      char c = clean[i + j];
      if (c == '=') {
        if (j < 2 || i + 8 != clean.size()) return corrupt(pos[i + j]);
        for (size_t k = j; k < 8; ++k) {
          if (clean[i + k] != '=') return corrupt(pos[i + k]);
        }
        data = j;
        break;
      }
      const char* p = strchr(kB32, c);
      if (p == nullptr || c == '\0') return corrupt(pos[i + j]);
      v |= static_cast<uint64_t>(p - kB32) << (35 - 5 * j);
    }
    static constexpr size_t kBytes[] = {0, 0, 1, 1, 2, 3, 3, 4, 5};
    if (data != 8 && (data == 1 || data == 3 || data == 6)) return corrupt(pos[i + data]);
    size_t n = kBytes[data];
    for (size_t j = 0; j < n; ++j) out.push_back(static_cast<char>((v >> (32 - 8 * j)) & 0xFF));
  }
  return out;
}

std::string HexDigest(const EVP_MD* md, absl::string_view in) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), digest, &len, md, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

uint32_t Adler32(absl::string_view in) {
  uint32_t a = 1, b = 0;
  for (char c : in) {
    a = (a + static_cast<unsigned char>(c)) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

std::string RandomFrom(RandomSource& r, absl::string_view alphabet, int64_t count) {
  std::string out;
  for (int64_t i = 0; i < count; ++i) {
    out.push_back(alphabet[RandomBelow(r, alphabet.size())]);
  }
  return out;
}

}  // namespace

void AddEncodingFunctions(FuncMap* m, const Env& env) {
  m->Add("b64enc", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(Base64Encode(a[0].str())));
  });
  m->Add("b64dec", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    bool ok;
    return absl::StatusOr<Value>(Str(Base64Decode(a[0].str(), &ok)));
  });
  m->Add("b32enc", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(Base32Encode(a[0].str())));
  });
  m->Add("b32dec", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    bool ok;
    return absl::StatusOr<Value>(Str(Base32Decode(a[0].str(), &ok)));
  });
  m->Add("sha1sum", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(HexDigest(EVP_sha1(), a[0].str())));
  });
  m->Add("sha256sum", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(HexDigest(EVP_sha256(), a[0].str())));
  });
  m->Add("adler32sum", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(std::to_string(Adler32(a[0].str()))));
  });
  m->Add("uuidv4", Sig({}), [env](std::vector<Value>&, CallContext&) -> absl::StatusOr<Value> {
    unsigned char b[16];
    for (int i = 0; i < 2; ++i) {
      uint64_t w = env.random->Next();
      for (int j = 0; j < 8; ++j) b[i * 8 + j] = static_cast<unsigned char>(w >> (8 * j));
    }
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
      out.push_back(kHex[b[i] >> 4]);
      out.push_back(kHex[b[i] & 15]);
    }
    return Str(std::move(out));
  });
  auto rand_fn = [env](std::string alphabet) {
    return [env, alphabet](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
      int64_t count = a[0].int_value();
      if (count < 0) return Str("");
      RETURN_IF_ERROR(CheckStringSize(ctx, static_cast<uint64_t>(count)));
      return Str(RandomFrom(*env.random, alphabet, count));
    };
  };
  const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const std::string digits = "0123456789";
  std::string ascii;
  for (char c = 32; c < 127; ++c) ascii.push_back(c);
  m->Add("randAlphaNum", Sig({PT::kInt}), rand_fn(letters + digits));
  m->Add("randAlpha", Sig({PT::kInt}), rand_fn(letters));
  m->Add("randNumeric", Sig({PT::kInt}), rand_fn(digits));
  m->Add("randAscii", Sig({PT::kInt}), rand_fn(ascii));
  m->Add("randBytes", Sig({PT::kInt}),
         [env](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           int64_t count = a[0].int_value();
           if (count < 0)
             return absl::InvalidArgumentError("runtime error: makeslice: len out of range");
           RETURN_IF_ERROR(CheckStringSize(ctx, static_cast<uint64_t>(count) * 2));
           std::string bytes;
           for (int64_t i = 0; i < count; ++i) {
             bytes.push_back(static_cast<char>(env.random->Next() & 0xFF));
           }
           return Str(Base64Encode(bytes));
         });
}

}  // namespace flotilla::common::tmpl::sprig
