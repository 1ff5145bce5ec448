#include "common/template/lexer.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/template/strconv.h"
#include "common/template/unicode.h"

namespace flotilla::common::tmpl {

namespace {

constexpr int32_t kEof = -1;
constexpr absl::string_view kLeftComment = "/*";
constexpr absl::string_view kRightComment = "*/";
constexpr size_t kTrimMarkerLen = 2;  // the marker and the space next to it

// Space inside actions (and what trim markers remove): Go's lexer set.
bool IsSpaceChar(int32_t r) { return r == ' ' || r == '\t' || r == '\r' || r == '\n'; }

bool IsAlphaNumeric(int32_t r) { return r == '_' || IsLetter(r) || IsDigit(r); }

bool HasLeftTrimMarker(absl::string_view s) {
  return s.size() >= 2 && s[0] == '-' && IsSpaceChar(static_cast<unsigned char>(s[1]));
}

bool HasRightTrimMarker(absl::string_view s) {
  return s.size() >= 2 && IsSpaceChar(static_cast<unsigned char>(s[0])) && s[1] == '-';
}

size_t RightTrimLength(absl::string_view s) {
  size_t n = 0;
  while (n < s.size() && IsSpaceChar(static_cast<unsigned char>(s[s.size() - 1 - n]))) ++n;
  return n;
}

size_t LeftTrimLength(absl::string_view s) {
  size_t n = 0;
  while (n < s.size() && IsSpaceChar(static_cast<unsigned char>(s[n]))) ++n;
  return n;
}

ItemType KeywordType(absl::string_view word) {
  if (word == ".") return ItemType::kDot;
  if (word == "block") return ItemType::kBlock;
  if (word == "break") return ItemType::kBreak;
  if (word == "continue") return ItemType::kContinue;
  if (word == "define") return ItemType::kDefine;
  if (word == "else") return ItemType::kElse;
  if (word == "end") return ItemType::kEnd;
  if (word == "if") return ItemType::kIf;
  if (word == "range") return ItemType::kRange;
  if (word == "nil") return ItemType::kNil;
  if (word == "template") return ItemType::kTemplate;
  if (word == "with") return ItemType::kWith;
  return ItemType::kError;
}

}  // namespace

std::string FormatRuneU(int32_t r) {
  std::string out = absl::StrFormat("U+%04X", r);
  if (IsPrint(r)) absl::StrAppend(&out, " '", RuneToString(r), "'");
  return out;
}

std::string Item::String() const {
  switch (type) {
    case ItemType::kEOF:
      return "EOF";
    case ItemType::kError:
      return error;
    default:
      break;
  }
  if (type > ItemType::kKeyword) return absl::StrCat("<", val, ">");
  if (RuneCount(val) > 10) {
    absl::string_view rest = val;
    for (int i = 0; i < 10; ++i) {
      size_t w;
      DecodeRune(rest, &w);
      rest.remove_prefix(w);
    }
    return GoQuote(val.substr(0, val.size() - rest.size())) + "...";
  }
  return GoQuote(val);
}

Lexer::Lexer(absl::string_view input, absl::string_view left_delim, absl::string_view right_delim,
             bool break_ok, bool continue_ok)
    : input_(input),
      left_delim_(left_delim.empty() ? "{{" : std::string(left_delim)),
      right_delim_(right_delim.empty() ? "}}" : std::string(right_delim)),
      break_ok_(break_ok),
      continue_ok_(continue_ok) {}

int32_t Lexer::NextRune() {
  if (pos_ >= input_.size()) {
    width_ = 0;
    return kEof;
  }
  size_t w;
  int32_t r = DecodeRune(input_.substr(pos_), &w);
  width_ = w;
  pos_ += w;
  return r;
}

int32_t Lexer::PeekRune() {
  int32_t r = NextRune();
  Backup();
  return r;
}

bool Lexer::Accept(absl::string_view valid) {
  int32_t r = NextRune();
  if (r >= 0 && r < 0x80 && valid.find(static_cast<char>(r)) != absl::string_view::npos) {
    return true;
  }
  Backup();
  return false;
}

void Lexer::AcceptRun(absl::string_view valid) {
  while (Accept(valid)) {
  }
}

Item Lexer::Emit(ItemType type) {
  Item item;
  item.type = type;
  item.pos = start_;
  item.val = input_.substr(start_, pos_ - start_);
  start_ = pos_;
  return item;
}

Item Lexer::Errorf(std::string message) {
  Item item;
  item.type = ItemType::kError;
  item.pos = start_;
  item.error = std::move(message);
  done_ = true;
  last_ = item;
  return item;
}

Item Lexer::Next() {
  if (done_) return last_;
  if (inside_action_) return LexInsideAction();
  return LexText();
}

Item Lexer::LexText() {
  size_t x = input_.find(left_delim_, pos_);
  if (x != absl::string_view::npos) {
    if (x > pos_) {
      size_t trim = 0;
      size_t delim_end = x + left_delim_.size();
      if (HasLeftTrimMarker(input_.substr(delim_end))) {
        trim = RightTrimLength(input_.substr(start_, x - start_));
      }
      Item text;
      text.type = ItemType::kText;
      text.pos = start_;
      text.val = input_.substr(start_, x - trim - start_);
      pos_ = x;
      start_ = x;
      if (!text.val.empty()) return text;
    }
    return LexLeftDelim();
  }
  pos_ = input_.size();
  if (pos_ > start_) return Emit(ItemType::kText);
  Item eof;
  eof.type = ItemType::kEOF;
  eof.pos = pos_;
  done_ = true;
  last_ = eof;
  return eof;
}

Item Lexer::LexLeftDelim() {
  pos_ += left_delim_.size();
  bool trim = HasLeftTrimMarker(input_.substr(pos_));
  size_t after_marker = trim ? kTrimMarkerLen : 0;
  if (absl::StartsWith(input_.substr(pos_ + after_marker), kLeftComment)) {
    pos_ += after_marker;
    start_ = pos_;
    return LexComment();
  }
  Item item;
  item.type = ItemType::kLeftDelim;
  item.pos = start_;
  item.val = input_.substr(start_, pos_ - start_);
  inside_action_ = true;
  pos_ += after_marker;
  start_ = pos_;
  paren_depth_ = 0;
  return item;
}

void Lexer::AtRightDelim(bool* delim, bool* trim) const {
  absl::string_view rest = input_.substr(pos_);
  if (HasRightTrimMarker(rest) && absl::StartsWith(rest.substr(kTrimMarkerLen), right_delim_)) {
    *delim = true;
    *trim = true;
    return;
  }
  *delim = absl::StartsWith(rest, right_delim_);
  *trim = false;
}

Item Lexer::LexComment() {
  pos_ += kLeftComment.size();
  size_t x = input_.find(kRightComment, pos_);
  if (x == absl::string_view::npos) return Errorf("unclosed comment");
  pos_ = x + kRightComment.size();
  bool delim, trim;
  AtRightDelim(&delim, &trim);
  if (!delim) return Errorf("comment ends before closing delimiter");
  if (trim) pos_ += kTrimMarkerLen;
  pos_ += right_delim_.size();
  if (trim) pos_ += LeftTrimLength(input_.substr(pos_));
  start_ = pos_;
  return LexText();
}

Item Lexer::LexRightDelim() {
  bool delim, trim;
  AtRightDelim(&delim, &trim);
  if (trim) {
    pos_ += kTrimMarkerLen;
    start_ = pos_;
  }
  pos_ += right_delim_.size();
  Item item = Emit(ItemType::kRightDelim);
  if (trim) {
    pos_ += LeftTrimLength(input_.substr(pos_));
    start_ = pos_;
  }
  inside_action_ = false;
  return item;
}

Item Lexer::LexInsideAction() {
  bool delim, trim;
  AtRightDelim(&delim, &trim);
  if (delim) {
    if (paren_depth_ == 0) return LexRightDelim();
    return Errorf("unclosed left paren");
  }
  int32_t r = NextRune();
  if (r == kEof) return Errorf("unclosed action");
  if (IsSpaceChar(r)) {
    Backup();
    return LexSpace();
  }
  switch (r) {
    case '=':
      return Emit(ItemType::kAssign);
    case ':':
      if (NextRune() != '=') return Errorf("expected :=");
      return Emit(ItemType::kDeclare);
    case '|':
      return Emit(ItemType::kPipe);
    case '"':
      return LexQuote();
    case '`':
      return LexRawQuote();
    case '$':
      if (AtTerminator()) return Emit(ItemType::kVariable);
      return LexFieldOrVariable(ItemType::kVariable);
    case '\'':
      return LexChar();
    case '.':
      if (pos_ < input_.size()) {
        char c = input_[pos_];
        if (c < '0' || c > '9') return LexFieldOrVariable(ItemType::kField);
      }
      Backup();
      return LexNumber();
    case '(':
      ++paren_depth_;
      return Emit(ItemType::kLeftParen);
    case ')':
      --paren_depth_;
      if (paren_depth_ < 0) return Errorf("unexpected right paren");
      return Emit(ItemType::kRightParen);
    default:
      break;
  }
  if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
    Backup();
    return LexNumber();
  }
  if (IsAlphaNumeric(r)) {
    Backup();
    return LexIdentifier();
  }
  if (r < 0x80 && IsPrint(r)) return Emit(ItemType::kChar);
  return Errorf(absl::StrCat("unrecognized character in action: ", FormatRuneU(r)));
}

Item Lexer::LexSpace() {
  int num_spaces = 0;
  while (IsSpaceChar(PeekRune())) {
    NextRune();
    ++num_spaces;
  }
  absl::string_view before = input_.substr(pos_ - 1);
  if (HasRightTrimMarker(before) && absl::StartsWith(before.substr(kTrimMarkerLen), right_delim_)) {
    Backup();
    if (num_spaces == 1) return LexRightDelim();
  }
  return Emit(ItemType::kSpace);
}

bool Lexer::AtTerminator() const {
  if (pos_ >= input_.size()) return true;
  size_t w;
  int32_t r = DecodeRune(input_.substr(pos_), &w);
  if (IsSpaceChar(r)) return true;
  switch (r) {
    case '.':
    case ',':
    case '|':
    case ':':
    case ')':
    case '(':
      return true;
    default:
      break;
  }
  return absl::StartsWith(input_.substr(pos_), right_delim_);
}

Item Lexer::LexIdentifier() {
  while (true) {
    int32_t r = NextRune();
    if (IsAlphaNumeric(r)) continue;
    Backup();
    absl::string_view word = input_.substr(start_, pos_ - start_);
    if (!AtTerminator()) return Errorf(absl::StrCat("bad character ", FormatRuneU(r)));
    ItemType kw = KeywordType(word);
    if (kw != ItemType::kError && kw > ItemType::kKeyword) {
      if ((kw == ItemType::kBreak && !break_ok_) || (kw == ItemType::kContinue && !continue_ok_)) {
        return Emit(ItemType::kIdentifier);
      }
      return Emit(kw);
    }
    if (word == "true" || word == "false") return Emit(ItemType::kBool);
    return Emit(ItemType::kIdentifier);
  }
}

Item Lexer::LexFieldOrVariable(ItemType type) {
  if (AtTerminator())
    return Emit(type == ItemType::kVariable ? ItemType::kVariable : ItemType::kDot);
  int32_t r;
  while (true) {
    r = NextRune();
    if (!IsAlphaNumeric(r)) {
      Backup();
      break;
    }
  }
  if (!AtTerminator()) return Errorf(absl::StrCat("bad character ", FormatRuneU(r)));
  return Emit(type);
}

Item Lexer::LexChar() {
  while (true) {
    int32_t r = NextRune();
    if (r == '\\') {
      int32_t r2 = NextRune();
      if (r2 != kEof && r2 != '\n') continue;
      return Errorf("unterminated character constant");
    }
    if (r == kEof || r == '\n') return Errorf("unterminated character constant");
    if (r == '\'') break;
  }
  return Emit(ItemType::kCharConstant);
}

bool Lexer::ScanNumber() {
  Accept("+-");
  std::string digits = "0123456789_";
  if (Accept("0")) {
    if (Accept("xX")) {
      digits = "0123456789abcdefABCDEF_";
    } else if (Accept("oO")) {
      digits = "01234567_";
    } else if (Accept("bB")) {
      digits = "01_";
    }
  }
  AcceptRun(digits);
  if (Accept(".")) AcceptRun(digits);
  if (digits.size() == 10 + 1 && Accept("eE")) {
    Accept("+-");
    AcceptRun("0123456789_");
  }
  if (digits.size() == 16 + 6 + 1 && Accept("pP")) {
    Accept("+-");
    AcceptRun("0123456789_");
  }
  Accept("i");
  if (IsAlphaNumeric(PeekRune())) {
    NextRune();
    return false;
  }
  return true;
}

Item Lexer::LexNumber() {
  if (!ScanNumber()) {
    return Errorf(
        absl::StrCat("bad number syntax: ", GoQuote(input_.substr(start_, pos_ - start_))));
  }
  int32_t sign = PeekRune();
  if (sign == '+' || sign == '-') {
    if (!ScanNumber() || input_[pos_ - 1] != 'i') {
      return Errorf(
          absl::StrCat("bad number syntax: ", GoQuote(input_.substr(start_, pos_ - start_))));
    }
    return Emit(ItemType::kComplex);
  }
  return Emit(ItemType::kNumber);
}

Item Lexer::LexQuote() {
  while (true) {
    int32_t r = NextRune();
    if (r == '\\') {
      int32_t r2 = NextRune();
      if (r2 != kEof && r2 != '\n') continue;
      return Errorf("unterminated quoted string");
    }
    if (r == kEof || r == '\n') return Errorf("unterminated quoted string");
    if (r == '"') break;
  }
  return Emit(ItemType::kString);
}

Item Lexer::LexRawQuote() {
  while (true) {
    int32_t r = NextRune();
    if (r == kEof) return Errorf("unterminated raw quoted string");
    if (r == '`') break;
  }
  return Emit(ItemType::kRawString);
}

}  // namespace flotilla::common::tmpl
