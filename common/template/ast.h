// Parse trees of templates, shaped like Go's text/template/parse nodes.
// String() renders a node the way Go does; execution errors quote it
// ("executing "t" at <.Values.x>: ...").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace flotilla::common::tmpl {

// The text one Parse call read: every tree it produced points here, so
// errors can name the file, line and column of any node.
struct ParseSource {
  std::string name;
  std::string text;
};

enum class NodeType {
  kText,
  kAction,
  kBool,
  kChain,
  kCommand,
  kDot,
  kField,
  kIdentifier,
  kIf,
  kList,
  kNil,
  kNumber,
  kPipe,
  kRange,
  kString,
  kTemplate,
  kVariable,
  kWith,
  kComment,
  kBreak,
  kContinue,
  kElse,  // parser-internal
  kEnd,   // parser-internal
};

struct Node {
  Node(NodeType t, size_t p, const ParseSource* s) : type(t), pos(p), source(s) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  virtual void WriteTo(std::string* out) const = 0;
  std::string String() const;

  NodeType type;
  size_t pos;  // byte offset in source->text
  const ParseSource* source;
};

struct ListNode : Node {
  ListNode(size_t p, const ParseSource* s) : Node(NodeType::kList, p, s) {}
  void WriteTo(std::string* out) const override;
  std::vector<std::unique_ptr<Node>> nodes;
};

struct TextNode : Node {
  TextNode(size_t p, const ParseSource* s, std::string t)
      : Node(NodeType::kText, p, s), text(std::move(t)) {}
  void WriteTo(std::string* out) const override;
  std::string text;
};

struct VariableNode : Node {
  VariableNode(size_t p, const ParseSource* s, std::vector<std::string> i)
      : Node(NodeType::kVariable, p, s), ident(std::move(i)) {}
  void WriteTo(std::string* out) const override;
  std::vector<std::string> ident;  // "$x", then field names
};

struct CommandNode : Node {
  CommandNode(size_t p, const ParseSource* s) : Node(NodeType::kCommand, p, s) {}
  void WriteTo(std::string* out) const override;
  std::vector<std::unique_ptr<Node>> args;
};

struct PipeNode : Node {
  PipeNode(size_t p, const ParseSource* s) : Node(NodeType::kPipe, p, s) {}
  void WriteTo(std::string* out) const override;
  bool is_assign = false;
  std::vector<std::unique_ptr<VariableNode>> decl;
  std::vector<std::unique_ptr<CommandNode>> cmds;
};

struct ActionNode : Node {
  ActionNode(size_t p, const ParseSource* s, std::unique_ptr<PipeNode> pp)
      : Node(NodeType::kAction, p, s), pipe(std::move(pp)) {}
  void WriteTo(std::string* out) const override;
  std::unique_ptr<PipeNode> pipe;
};

struct IdentifierNode : Node {
  IdentifierNode(size_t p, const ParseSource* s, std::string i)
      : Node(NodeType::kIdentifier, p, s), ident(std::move(i)) {}
  void WriteTo(std::string* out) const override;
  std::string ident;
};

struct DotNode : Node {
  DotNode(size_t p, const ParseSource* s) : Node(NodeType::kDot, p, s) {}
  void WriteTo(std::string* out) const override;
};

struct NilNode : Node {
  NilNode(size_t p, const ParseSource* s) : Node(NodeType::kNil, p, s) {}
  void WriteTo(std::string* out) const override;
};

struct FieldNode : Node {
  FieldNode(size_t p, const ParseSource* s, std::vector<std::string> i)
      : Node(NodeType::kField, p, s), ident(std::move(i)) {}
  void WriteTo(std::string* out) const override;
  std::vector<std::string> ident;
};

struct ChainNode : Node {
  ChainNode(size_t p, const ParseSource* s, std::unique_ptr<Node> n)
      : Node(NodeType::kChain, p, s), node(std::move(n)) {}
  void WriteTo(std::string* out) const override;
  std::unique_ptr<Node> node;
  std::vector<std::string> field;
};

struct BoolNode : Node {
  BoolNode(size_t p, const ParseSource* s, bool v) : Node(NodeType::kBool, p, s), value(v) {}
  void WriteTo(std::string* out) const override;
  bool value;
};

struct NumberNode : Node {
  NumberNode(size_t p, const ParseSource* s, std::string t)
      : Node(NodeType::kNumber, p, s), text(std::move(t)) {}
  void WriteTo(std::string* out) const override;
  bool is_int = false;
  bool is_uint = false;
  bool is_float = false;
  int64_t int_value = 0;
  uint64_t uint_value = 0;
  double float_value = 0;
  std::string text;
};

struct StringNode : Node {
  StringNode(size_t p, const ParseSource* s, std::string q, std::string t)
      : Node(NodeType::kString, p, s), quoted(std::move(q)), text(std::move(t)) {}
  void WriteTo(std::string* out) const override;
  std::string quoted;
  std::string text;
};

// if, range and with.
struct BranchNode : Node {
  BranchNode(NodeType t, size_t p, const ParseSource* s) : Node(t, p, s) {}
  void WriteTo(std::string* out) const override;
  std::unique_ptr<PipeNode> pipe;
  std::unique_ptr<ListNode> list;
  std::unique_ptr<ListNode> else_list;  // may be null
};

struct TemplateNode : Node {
  TemplateNode(size_t p, const ParseSource* s, std::string n, std::unique_ptr<PipeNode> pp)
      : Node(NodeType::kTemplate, p, s), name(std::move(n)), pipe(std::move(pp)) {}
  void WriteTo(std::string* out) const override;
  std::string name;
  std::unique_ptr<PipeNode> pipe;  // may be null
};

// break, continue, and the parser's else/end markers.
struct KeywordNode : Node {
  KeywordNode(NodeType t, size_t p, const ParseSource* s) : Node(t, p, s) {}
  void WriteTo(std::string* out) const override;
};

// One named template: the body of a file or of a {{define}}/{{block}}.
struct Tree {
  std::string name;
  std::shared_ptr<const ParseSource> source;
  std::unique_ptr<ListNode> root;
};

// Go's parse.IsEmptyTree: only whitespace text (such a definition does not
// replace an existing one).
bool IsEmptyTree(const Node* n);

// "NAME:LINE:COL" of a node as Go's ErrorContext computes it (the column is
// the byte offset within the line, counted from 0).
std::string NodeLocation(const Node& n);
std::string SourceLocation(const ParseSource& source, size_t pos);

}  // namespace flotilla::common::tmpl
