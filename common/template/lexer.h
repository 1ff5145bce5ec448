// The template lexer: Go's text/template/parse lexer, token for token
// (trim markers "{{- " and " -}}", comments, custom delimiters, Go literals).
// It is pulled by the parser one item at a time; after an error or EOF it
// keeps returning that item.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace flotilla::common::tmpl {

enum class ItemType {
  kError,
  kBool,
  kChar,  // a printable ASCII character inside an action (',' and such)
  kCharConstant,
  kComplex,
  kAssign,   // '='
  kDeclare,  // ':='
  kEOF,
  kField,       // .Name
  kIdentifier,  // function name
  kLeftDelim,
  kLeftParen,
  kNumber,
  kPipe,
  kRawString,
  kRightDelim,
  kRightParen,
  kSpace,
  kString,
  kText,
  kVariable,  // $ or $name
  // Keywords follow.
  kKeyword,
  kBlock,
  kBreak,
  kContinue,
  kDot,
  kDefine,
  kElse,
  kEnd,
  kIf,
  kNil,
  kRange,
  kTemplate,
  kWith,
};

struct Item {
  ItemType type = ItemType::kEOF;
  size_t pos = 0;         // byte offset of the item in the input
  absl::string_view val;  // the item's text (an error's message is in `error`)
  std::string error;

  // How Go's parser names the item in "unexpected ..." messages.
  std::string String() const;
};

class Lexer {
 public:
  // `input` must outlive the lexer. Empty delimiters mean "{{" and "}}".
  Lexer(absl::string_view input, absl::string_view left_delim, absl::string_view right_delim,
        bool break_ok, bool continue_ok);

  Item Next();

 private:
  Item LexText();
  Item LexLeftDelim();
  Item LexComment();
  Item LexRightDelim();
  Item LexInsideAction();
  Item LexSpace();
  Item LexIdentifier();
  Item LexFieldOrVariable(ItemType type);
  Item LexChar();
  Item LexNumber();
  Item LexQuote();
  Item LexRawQuote();
  bool ScanNumber();
  bool AtTerminator() const;
  void AtRightDelim(bool* delim, bool* trim) const;

  int32_t NextRune();
  int32_t PeekRune();
  void Backup() { pos_ -= width_; }
  bool Accept(absl::string_view valid);
  void AcceptRun(absl::string_view valid);
  Item Emit(ItemType type);
  Item Errorf(std::string message);

  absl::string_view input_;
  std::string left_delim_;
  std::string right_delim_;
  bool break_ok_;
  bool continue_ok_;
  size_t pos_ = 0;
  size_t start_ = 0;
  size_t width_ = 0;
  int paren_depth_ = 0;
  bool inside_action_ = false;
  bool done_ = false;
  Item last_;
};

// Go's %#U: "U+0023 '#'" (the quoted rune only when printable).
std::string FormatRuneU(int32_t r);

}  // namespace flotilla::common::tmpl
