#include "common/scan/go_filepath.h"

namespace flotilla::common {
namespace {

constexpr char32_t kRuneError = 0xFFFD;

unsigned char Byte(absl::string_view s, size_t i) { return static_cast<unsigned char>(s[i]); }

// One segment of a pattern: a run of non-'*' terms, maybe after stars.
struct Chunk {
  bool star = false;
  absl::string_view text;
  absl::string_view rest;
};

// filepath's scanChunk: a '*' inside [...] belongs to the class.
Chunk ScanChunk(absl::string_view pattern) {
  Chunk c;
  while (!pattern.empty() && pattern[0] == '*') {
    pattern.remove_prefix(1);
    c.star = true;
  }
  bool in_range = false;
  size_t i = 0;
  for (; i < pattern.size(); ++i) {
    const char ch = pattern[i];
    if (ch == '\\') {
      if (i + 1 < pattern.size()) ++i;  // a lone trailing '\' is reported by MatchChunk
    } else if (ch == '[') {
      in_range = true;
    } else if (ch == ']') {
      in_range = false;
    } else if (ch == '*' && !in_range) {
      break;
    }
  }
  c.text = pattern.substr(0, i);
  c.rest = pattern.substr(i);
  return c;
}

enum class ChunkResult { kNoMatch, kMatch, kBadPattern, kOverBudget };

bool Charge(uint64_t* budget) {
  if (*budget == 0) return false;
  --*budget;
  return true;
}

// filepath's getEsc: one possibly escaped character of a class; false for a
// malformed class.
bool GetEsc(absl::string_view* chunk, char32_t* r) {
  if (chunk->empty() || (*chunk)[0] == '-' || (*chunk)[0] == ']') return false;
  if ((*chunk)[0] == '\\') {
    chunk->remove_prefix(1);
    if (chunk->empty()) return false;
  }
  const auto [rune, n] = DecodeRune(*chunk);
  chunk->remove_prefix(n);
  *r = rune;
  return !(rune == kRuneError && n == 1) && !chunk->empty();
}

// filepath's matchChunk: does `chunk` match a prefix of `s`? On a match
// `*rest` is what follows. After a mismatch the rest of the chunk is still
// parsed, so a malformed chunk is always reported.
ChunkResult MatchChunk(absl::string_view chunk, absl::string_view s, absl::string_view* rest,
                       uint64_t* budget) {
  bool failed = false;
  while (!chunk.empty()) {
    if (!Charge(budget)) return ChunkResult::kOverBudget;
    if (!failed && s.empty()) failed = true;
    switch (chunk[0]) {
      case '[': {
        char32_t r = 0;
        if (!failed) {
          const auto [rune, n] = DecodeRune(s);
          r = rune;
          s.remove_prefix(n);
        }
        chunk.remove_prefix(1);
        bool negated = false;
        if (!chunk.empty() && chunk[0] == '^') {
          negated = true;
          chunk.remove_prefix(1);
        }
        bool match = false;
        int ranges = 0;
        for (;;) {
          if (!chunk.empty() && chunk[0] == ']' && ranges > 0) {
            chunk.remove_prefix(1);
            break;
          }
          if (!Charge(budget)) return ChunkResult::kOverBudget;
          char32_t lo = 0;
          if (!GetEsc(&chunk, &lo)) return ChunkResult::kBadPattern;
          char32_t hi = lo;
          if (chunk[0] == '-') {
            chunk.remove_prefix(1);
            if (!GetEsc(&chunk, &hi)) return ChunkResult::kBadPattern;
          }
          if (lo <= r && r <= hi) match = true;
          ++ranges;
        }
        if (match == negated) failed = true;
        break;
      }
      case '?':
        if (!failed) {
          if (s[0] == '/') failed = true;
          s.remove_prefix(DecodeRune(s).second);
        }
        chunk.remove_prefix(1);
        break;
      case '\\':
        chunk.remove_prefix(1);
        if (chunk.empty()) return ChunkResult::kBadPattern;
        [[fallthrough]];
      default:
        if (!failed) {
          if (chunk[0] != s[0]) failed = true;
          s.remove_prefix(1);
        }
        chunk.remove_prefix(1);
        break;
    }
  }
  if (failed) return ChunkResult::kNoMatch;
  *rest = s;
  return ChunkResult::kMatch;
}

}  // namespace

std::pair<char32_t, size_t> DecodeRune(absl::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  const unsigned char b0 = Byte(s, 0);
  if (b0 < 0x80) return {b0, 1};
  auto cont = [&s](size_t i, unsigned char lo, unsigned char hi) {
    return i < s.size() && Byte(s, i) >= lo && Byte(s, i) <= hi;
  };
  auto low6 = [&s](size_t i) { return static_cast<char32_t>(Byte(s, i) & 0x3F); };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (cont(1, 0x80, 0xBF)) return {(static_cast<char32_t>(b0 & 0x1F) << 6) | low6(1), 2};
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    // E0 excludes overlong forms, ED the UTF-16 surrogates.
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
    if (cont(1, lo, hi) && cont(2, 0x80, 0xBF)) {
      return {(static_cast<char32_t>(b0 & 0x0F) << 12) | (low6(1) << 6) | low6(2), 3};
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    // F0 excludes overlong forms, F4 anything above U+10FFFF.
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF)) {
      return {(static_cast<char32_t>(b0 & 0x07) << 18) | (low6(1) << 12) | (low6(2) << 6) | low6(3),
              4};
    }
  }
  return {kRuneError, 1};
}

size_t FirstInvalidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (Byte(s, i) < 0x80) {
      ++i;
      continue;
    }
    const auto [rune, n] = DecodeRune(s.substr(i));
    if (rune == kRuneError && n == 1) return i;
    i += n;
  }
  return absl::string_view::npos;
}

GoMatchResult GoMatch(absl::string_view pattern, absl::string_view name, uint64_t* budget) {
  while (!pattern.empty()) {
    const Chunk c = ScanChunk(pattern);
    pattern = c.rest;
    if (c.star && c.text.empty()) {
      // A trailing '*' matches the rest unless it holds a '/'.
      return name.find('/') == absl::string_view::npos ? GoMatchResult::kMatch
                                                       : GoMatchResult::kNoMatch;
    }
    absl::string_view rest;
    ChunkResult r = MatchChunk(c.text, name, &rest, budget);
    if (r == ChunkResult::kOverBudget) return GoMatchResult::kOverBudget;
    // The last chunk must use up the name; otherwise a star may still help.
    if (r == ChunkResult::kMatch && (rest.empty() || !pattern.empty())) {
      name = rest;
      continue;
    }
    if (r == ChunkResult::kBadPattern) return GoMatchResult::kBadPattern;
    if (c.star) {
      // Leftmost match after skipping i+1 bytes; a star never skips a '/'.
      bool advanced = false;
      for (size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
        r = MatchChunk(c.text, name.substr(i + 1), &rest, budget);
        if (r == ChunkResult::kOverBudget) return GoMatchResult::kOverBudget;
        if (r == ChunkResult::kMatch) {
          if (pattern.empty() && !rest.empty()) continue;
          name = rest;
          advanced = true;
          break;
        }
        if (r == ChunkResult::kBadPattern) return GoMatchResult::kBadPattern;
      }
      if (advanced) continue;
    }
    // No match; like Go, still report a malformed remainder.
    while (!pattern.empty()) {
      const Chunk next = ScanChunk(pattern);
      pattern = next.rest;
      r = MatchChunk(next.text, "", &rest, budget);
      if (r == ChunkResult::kOverBudget) return GoMatchResult::kOverBudget;
      if (r == ChunkResult::kBadPattern) return GoMatchResult::kBadPattern;
    }
    return GoMatchResult::kNoMatch;
  }
  return name.empty() ? GoMatchResult::kMatch : GoMatchResult::kNoMatch;
}

bool HasGlobMeta(absl::string_view path) {
  return path.find_first_of("*?[\\") != absl::string_view::npos;
}

absl::string_view GoExt(absl::string_view path) {
  for (size_t i = path.size(); i > 0 && path[i - 1] != '/'; --i) {
    if (path[i - 1] == '.') return path.substr(i - 1);
  }
  return {};
}

}  // namespace flotilla::common
