// UTF-8 and rune classes with Go's definitions (unicode/utf8, unicode), which
// Go's fmt, strings and Sprig's case functions are written against.
//
// Classification outside ASCII uses glibc's C.UTF-8 tables, which follow the
// same Unicode data; IsSpace is Go's exact White_Space list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace flotilla::common::tmpl {

constexpr int32_t kRuneError = 0xFFFD;
constexpr int32_t kMaxRune = 0x10FFFF;

// Decodes the first rune of `s` like utf8.DecodeRuneInString: an invalid or
// truncated sequence gives (kRuneError, 1), an empty string (kRuneError, 0).
int32_t DecodeRune(absl::string_view s, size_t* width);
// The last rune, like utf8.DecodeLastRuneInString.
int32_t DecodeLastRune(absl::string_view s, size_t* width);
// Appends the UTF-8 form of `r` (invalid runes become U+FFFD).
void AppendRune(std::string* out, int32_t r);
std::string RuneToString(int32_t r);
size_t RuneCount(absl::string_view s);
bool ValidUtf8(absl::string_view s);
bool ValidRune(int32_t r);

bool IsSpace(int32_t r);
bool IsUpper(int32_t r);
bool IsLower(int32_t r);
bool IsTitle(int32_t r);
bool IsLetter(int32_t r);
bool IsDigit(int32_t r);
bool IsNumber(int32_t r);
bool IsPunct(int32_t r);
// strconv.IsPrint: letters, marks, numbers, punctuation, symbols and ' '.
bool IsPrint(int32_t r);
int32_t ToUpper(int32_t r);
int32_t ToLower(int32_t r);
int32_t ToTitle(int32_t r);

// strings.ToUpper / ToLower / TrimSpace.
std::string StrToUpper(absl::string_view s);
std::string StrToLower(absl::string_view s);
absl::string_view TrimSpace(absl::string_view s);

}  // namespace flotilla::common::tmpl
