#include "common/template/ast.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/template/strconv.h"

namespace flotilla::common::tmpl {

std::string Node::String() const {
  std::string out;
  WriteTo(&out);
  return out;
}

void ListNode::WriteTo(std::string* out) const {
  for (const auto& n : nodes) n->WriteTo(out);
}

void TextNode::WriteTo(std::string* out) const { out->append(text); }

void VariableNode::WriteTo(std::string* out) const {
  for (size_t i = 0; i < ident.size(); ++i) {
    if (i > 0) out->push_back('.');
    out->append(ident[i]);
  }
}

void CommandNode::WriteTo(std::string* out) const {
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out->push_back(' ');
    if (args[i]->type == NodeType::kPipe) {
      out->push_back('(');
      args[i]->WriteTo(out);
      out->push_back(')');
      continue;
    }
    args[i]->WriteTo(out);
  }
}

void PipeNode::WriteTo(std::string* out) const {
  if (!decl.empty()) {
    for (size_t i = 0; i < decl.size(); ++i) {
      if (i > 0) out->append(", ");
      decl[i]->WriteTo(out);
    }
    out->append(is_assign ? " = " : " := ");
  }
  for (size_t i = 0; i < cmds.size(); ++i) {
    if (i > 0) out->append(" | ");
    cmds[i]->WriteTo(out);
  }
}

void ActionNode::WriteTo(std::string* out) const {
  out->append("{{");
  pipe->WriteTo(out);
  out->append("}}");
}

void IdentifierNode::WriteTo(std::string* out) const { out->append(ident); }

void DotNode::WriteTo(std::string* out) const { out->push_back('.'); }

void NilNode::WriteTo(std::string* out) const { out->append("nil"); }

void FieldNode::WriteTo(std::string* out) const {
  for (const std::string& f : ident) {
    out->push_back('.');
    out->append(f);
  }
}

void ChainNode::WriteTo(std::string* out) const {
  if (node->type == NodeType::kPipe) {
    out->push_back('(');
    node->WriteTo(out);
    out->push_back(')');
  } else {
    node->WriteTo(out);
  }
  for (const std::string& f : field) {
    out->push_back('.');
    out->append(f);
  }
}

void BoolNode::WriteTo(std::string* out) const { out->append(value ? "true" : "false"); }

void NumberNode::WriteTo(std::string* out) const { out->append(text); }

void StringNode::WriteTo(std::string* out) const { out->append(quoted); }

void BranchNode::WriteTo(std::string* out) const {
  const char* name = type == NodeType::kIf ? "if" : (type == NodeType::kRange ? "range" : "with");
  absl::StrAppend(out, "{{", name, " ");
  pipe->WriteTo(out);
  out->append("}}");
  list->WriteTo(out);
  if (else_list != nullptr) {
    out->append("{{else}}");
    else_list->WriteTo(out);
  }
  out->append("{{end}}");
}

void TemplateNode::WriteTo(std::string* out) const {
  absl::StrAppend(out, "{{template ", GoQuote(name));
  if (pipe != nullptr) {
    out->push_back(' ');
    pipe->WriteTo(out);
  }
  out->append("}}");
}

void KeywordNode::WriteTo(std::string* out) const {
  switch (type) {
    case NodeType::kBreak:
      out->append("{{break}}");
      break;
    case NodeType::kContinue:
      out->append("{{continue}}");
      break;
    case NodeType::kElse:
      out->append("{{else}}");
      break;
    case NodeType::kEnd:
      out->append("{{end}}");
      break;
    default:
      break;
  }
}

bool IsEmptyTree(const Node* n) {
  if (n == nullptr) return true;
  switch (n->type) {
    case NodeType::kList:
      for (const auto& child : static_cast<const ListNode*>(n)->nodes) {
        if (!IsEmptyTree(child.get())) return false;
      }
      return true;
    case NodeType::kText:
      return absl::StripAsciiWhitespace(static_cast<const TextNode*>(n)->text).empty();
    case NodeType::kComment:
      return true;
    default:
      return false;
  }
}

std::string SourceLocation(const ParseSource& source, size_t pos) {
  absl::string_view text = source.text;
  if (pos > text.size()) pos = text.size();
  absl::string_view before = text.substr(0, pos);
  size_t nl = before.rfind('\n');
  size_t col = nl == absl::string_view::npos ? pos : pos - (nl + 1);
  size_t line = 1;
  for (char c : before) {
    if (c == '\n') ++line;
  }
  return absl::StrCat(source.name, ":", line, ":", col);
}

std::string NodeLocation(const Node& n) { return SourceLocation(*n.source, n.pos); }

}  // namespace flotilla::common::tmpl
