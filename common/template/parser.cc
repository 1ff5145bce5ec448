#include "common/template/parser.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/template/lexer.h"
#include "common/template/strconv.h"
#include "common/template/unicode.h"

namespace flotilla::common::tmpl {

namespace {

class Parser {
 public:
  Parser(std::shared_ptr<ParseSource> source, const ParseOptions& options)
      : source_(std::move(source)),
        options_(options),
        lexer_(source_->text, options.left_delim, options.right_delim,
               !HasFunction(options, "break"), !HasFunction(options, "continue")) {}

  absl::StatusOr<std::vector<std::unique_ptr<Tree>>> Run() {
    vars_ = {"$"};
    ASSIGN_OR_RETURN(std::unique_ptr<ListNode> root, ParseTop());
    auto top = std::make_unique<Tree>();
    top->name = source_->name;
    top->source = source_;
    top->root = std::move(root);
    RETURN_IF_ERROR(Add(std::move(top)));
    return std::move(trees_);
  }

 private:
  using NodePtr = std::unique_ptr<Node>;

  static bool HasFunction(const ParseOptions& o, absl::string_view name) {
    return o.has_function && o.has_function(name);
  }

  const ParseSource* src() const { return source_.get(); }

  // --- tokens, with Go's three-token lookahead ---
  Item Next() {
    if (peek_count_ > 0) {
      --peek_count_;
    } else {
      token_[0] = lexer_.Next();
    }
    return token_[peek_count_];
  }
  void Backup() { ++peek_count_; }
  void Backup2(const Item& t1) {
    token_[1] = t1;
    peek_count_ = 2;
  }
  void Backup3(const Item& t2, const Item& t1) {
    token_[1] = t1;
    token_[2] = t2;
    peek_count_ = 3;
  }
  Item Peek() {
    if (peek_count_ > 0) return token_[peek_count_ - 1];
    peek_count_ = 1;
    token_[0] = lexer_.Next();
    return token_[0];
  }
  Item NextNonSpace() {
    Item t;
    do {
      t = Next();
    } while (t.type == ItemType::kSpace);
    return t;
  }
  Item PeekNonSpace() {
    Item t = NextNonSpace();
    Backup();
    return t;
  }

  absl::Status Errorf(absl::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat("template: ", SourceLocation(*source_, token_[0].pos), ": ", message));
  }
  absl::Status TooDeep(absl::string_view what) const {
    return absl::ResourceExhaustedError(
        absl::StrCat("template: ", SourceLocation(*source_, token_[0].pos), ": ", what,
                     " nested more than ", options_.max_depth, " levels deep"));
  }
  absl::Status Unexpected(const Item& token, absl::string_view context) const {
    return Errorf(absl::StrCat("unexpected ", token.String(), " in ", context));
  }
  absl::StatusOr<Item> Expect(ItemType expected, absl::string_view context) {
    Item t = NextNonSpace();
    if (t.type != expected) return Unexpected(t, context);
    return t;
  }

  absl::Status Add(std::unique_ptr<Tree> tree) {
    for (auto& existing : trees_) {
      if (existing->name != tree->name) continue;
      if (IsEmptyTree(existing->root.get())) {
        existing = std::move(tree);
        return absl::OkStatus();
      }
      if (!IsEmptyTree(tree->root.get())) {
        return Errorf(
            absl::StrCat("template: multiple definition of template ", GoQuote(tree->name)));
      }
      return absl::OkStatus();
    }
    trees_.push_back(std::move(tree));
    return absl::OkStatus();
  }

  // --- grammar ---
  absl::StatusOr<std::unique_ptr<ListNode>> ParseTop() {
    auto root = std::make_unique<ListNode>(Peek().pos, src());
    while (Peek().type != ItemType::kEOF) {
      if (Peek().type == ItemType::kLeftDelim) {
        Item delim = Next();
        if (NextNonSpace().type == ItemType::kDefine) {
          RETURN_IF_ERROR(ParseDefinition());
          continue;
        }
        Backup2(delim);
      }
      ASSIGN_OR_RETURN(NodePtr n, TextOrAction());
      if (n->type == NodeType::kEnd || n->type == NodeType::kElse) {
        return Errorf(absl::StrCat("unexpected ", n->String()));
      }
      root->nodes.push_back(std::move(n));
    }
    return root;
  }

  // Runs `body` as the parse of a new tree (define or block): its own
  // variables and range depth.
  template <typename F>
  absl::Status InNewTree(F body) {
    std::vector<std::string> saved_vars = std::move(vars_);
    int saved_range = range_depth_;
    vars_ = {"$"};
    range_depth_ = 0;
    absl::Status s = body();
    vars_ = std::move(saved_vars);
    range_depth_ = saved_range;
    return s;
  }

  absl::Status ParseDefinition() {
    constexpr absl::string_view kContext = "define clause";
    Item name = NextNonSpace();
    if (name.type != ItemType::kString && name.type != ItemType::kRawString) {
      return Unexpected(name, kContext);
    }
    absl::StatusOr<std::string> unquoted = GoUnquote(name.val);
    if (!unquoted.ok()) return Errorf(unquoted.status().message());
    RETURN_IF_ERROR(Expect(ItemType::kRightDelim, kContext).status());
    return InNewTree([&]() -> absl::Status {
      NodePtr end;
      ASSIGN_OR_RETURN(std::unique_ptr<ListNode> root, ItemList(&end));
      if (end->type != NodeType::kEnd) {
        return Errorf(absl::StrCat("unexpected ", end->String(), " in ", kContext));
      }
      auto tree = std::make_unique<Tree>();
      tree->name = *unquoted;
      tree->source = source_;
      tree->root = std::move(root);
      return Add(std::move(tree));
    });
  }

  // textOrAction* up to {{end}} or {{else}}, which is returned in *next.
  absl::StatusOr<std::unique_ptr<ListNode>> ItemList(NodePtr* next) {
    auto list = std::make_unique<ListNode>(PeekNonSpace().pos, src());
    while (PeekNonSpace().type != ItemType::kEOF) {
      ASSIGN_OR_RETURN(NodePtr n, TextOrAction());
      if (n->type == NodeType::kEnd || n->type == NodeType::kElse) {
        *next = std::move(n);
        return list;
      }
      list->nodes.push_back(std::move(n));
    }
    return Errorf("unexpected EOF");
  }

  absl::StatusOr<NodePtr> TextOrAction() {
    Item token = NextNonSpace();
    switch (token.type) {
      case ItemType::kText:
        return NodePtr(std::make_unique<TextNode>(token.pos, src(), std::string(token.val)));
      case ItemType::kLeftDelim:
        return Action();
      case ItemType::kError:
        return Errorf(token.error);
      default:
        return Unexpected(token, "input");
    }
  }

  absl::StatusOr<NodePtr> Action() {
    Item token = NextNonSpace();
    switch (token.type) {
      case ItemType::kBlock:
        return BlockControl();
      case ItemType::kBreak:
      case ItemType::kContinue:
        return LoopControl(token);
      case ItemType::kElse:
        return ElseControl();
      case ItemType::kEnd: {
        ASSIGN_OR_RETURN(Item t, Expect(ItemType::kRightDelim, "end"));
        return NodePtr(std::make_unique<KeywordNode>(NodeType::kEnd, t.pos, src()));
      }
      case ItemType::kIf:
        return Control(NodeType::kIf, "if");
      case ItemType::kRange:
        return Control(NodeType::kRange, "range");
      case ItemType::kTemplate:
        return TemplateControl();
      case ItemType::kWith:
        return Control(NodeType::kWith, "with");
      case ItemType::kError:
        return Errorf(token.error);
      default:
        break;
    }
    Backup();
    Item first = Peek();
    ASSIGN_OR_RETURN(std::unique_ptr<PipeNode> pipe, Pipeline("command", ItemType::kRightDelim));
    return NodePtr(std::make_unique<ActionNode>(first.pos, src(), std::move(pipe)));
  }

  absl::StatusOr<NodePtr> LoopControl(const Item& keyword) {
    bool is_break = keyword.type == ItemType::kBreak;
    Item t = NextNonSpace();
    if (t.type != ItemType::kRightDelim) {
      return Unexpected(t, is_break ? "{{break}}" : "{{continue}}");
    }
    if (range_depth_ == 0) {
      return Errorf(is_break ? "{{break}} outside {{range}}" : "{{continue}} outside {{range}}");
    }
    return NodePtr(std::make_unique<KeywordNode>(is_break ? NodeType::kBreak : NodeType::kContinue,
                                                 keyword.pos, src()));
  }

  absl::StatusOr<NodePtr> ElseControl() {
    Item peek = PeekNonSpace();
    if (peek.type == ItemType::kIf || peek.type == ItemType::kWith) {
      return NodePtr(std::make_unique<KeywordNode>(NodeType::kElse, peek.pos, src()));
    }
    ASSIGN_OR_RETURN(Item t, Expect(ItemType::kRightDelim, "else"));
    return NodePtr(std::make_unique<KeywordNode>(NodeType::kElse, t.pos, src()));
  }

  // if / range / with, including "else if" and "else with" chains.
  absl::StatusOr<NodePtr> Control(NodeType type, absl::string_view context) {
    if (++depth_ > options_.max_depth) return TooDeep("control structures");
    size_t saved_vars = vars_.size();
    ASSIGN_OR_RETURN(std::unique_ptr<PipeNode> pipe, Pipeline(context, ItemType::kRightDelim));
    if (type == NodeType::kRange) ++range_depth_;
    NodePtr next;
    absl::StatusOr<std::unique_ptr<ListNode>> list = ItemList(&next);
    if (type == NodeType::kRange) --range_depth_;
    if (!list.ok()) return list.status();
    auto node = std::make_unique<BranchNode>(type, pipe->pos, src());
    node->pipe = std::move(pipe);
    node->list = std::move(*list);
    if (next->type == NodeType::kElse) {
      if (type == NodeType::kIf && Peek().type == ItemType::kIf) {
        Next();
        auto else_list = std::make_unique<ListNode>(next->pos, src());
        ASSIGN_OR_RETURN(NodePtr inner, Control(NodeType::kIf, "if"));
        else_list->nodes.push_back(std::move(inner));
        node->else_list = std::move(else_list);
      } else if (type == NodeType::kWith && Peek().type == ItemType::kWith) {
        Next();
        auto else_list = std::make_unique<ListNode>(next->pos, src());
        ASSIGN_OR_RETURN(NodePtr inner, Control(NodeType::kWith, "with"));
        else_list->nodes.push_back(std::move(inner));
        node->else_list = std::move(else_list);
      } else {
        NodePtr end;
        ASSIGN_OR_RETURN(node->else_list, ItemList(&end));
        if (end->type != NodeType::kEnd) {
          return Errorf(absl::StrCat("expected end; found ", end->String()));
        }
      }
    }
    vars_.resize(saved_vars);
    --depth_;
    return NodePtr(std::move(node));
  }

  absl::StatusOr<std::string> TemplateName(const Item& token, absl::string_view context) {
    if (token.type != ItemType::kString && token.type != ItemType::kRawString) {
      return Unexpected(token, context);
    }
    absl::StatusOr<std::string> s = GoUnquote(token.val);
    if (!s.ok()) return Errorf(s.status().message());
    return s;
  }

  absl::StatusOr<NodePtr> TemplateControl() {
    constexpr absl::string_view kContext = "template clause";
    Item token = NextNonSpace();
    ASSIGN_OR_RETURN(std::string name, TemplateName(token, kContext));
    std::unique_ptr<PipeNode> pipe;
    if (NextNonSpace().type != ItemType::kRightDelim) {
      Backup();
      ASSIGN_OR_RETURN(pipe, Pipeline(kContext, ItemType::kRightDelim));
    }
    return NodePtr(std::make_unique<TemplateNode>(token.pos, src(), name, std::move(pipe)));
  }

  absl::StatusOr<NodePtr> BlockControl() {
    constexpr absl::string_view kContext = "block clause";
    Item token = NextNonSpace();
    ASSIGN_OR_RETURN(std::string name, TemplateName(token, kContext));
    ASSIGN_OR_RETURN(std::unique_ptr<PipeNode> pipe, Pipeline(kContext, ItemType::kRightDelim));
    if (++depth_ > options_.max_depth) return TooDeep("control structures");
    RETURN_IF_ERROR(InNewTree([&]() -> absl::Status {
      NodePtr end;
      ASSIGN_OR_RETURN(std::unique_ptr<ListNode> root, ItemList(&end));
      if (end->type != NodeType::kEnd) {
        return Errorf(absl::StrCat("unexpected ", end->String(), " in ", kContext));
      }
      auto tree = std::make_unique<Tree>();
      tree->name = name;
      tree->source = source_;
      tree->root = std::move(root);
      return Add(std::move(tree));
    }));
    --depth_;
    return NodePtr(std::make_unique<TemplateNode>(token.pos, src(), name, std::move(pipe)));
  }

  // declarations? command ('|' command)*
  absl::StatusOr<std::unique_ptr<PipeNode>> Pipeline(absl::string_view context, ItemType end) {
    Item first = PeekNonSpace();
    auto pipe = std::make_unique<PipeNode>(first.pos, src());
    while (true) {
      Item v = PeekNonSpace();
      if (v.type != ItemType::kVariable) break;
      Next();
      Item after_variable = Peek();
      Item next = PeekNonSpace();
      if (next.type == ItemType::kAssign || next.type == ItemType::kDeclare) {
        pipe->is_assign = next.type == ItemType::kAssign;
        NextNonSpace();
        pipe->decl.push_back(std::make_unique<VariableNode>(
            v.pos, src(), std::vector<std::string>{std::string(v.val)}));
        vars_.emplace_back(v.val);
        break;
      }
      if (next.type == ItemType::kChar && next.val == ",") {
        NextNonSpace();
        pipe->decl.push_back(std::make_unique<VariableNode>(
            v.pos, src(), std::vector<std::string>{std::string(v.val)}));
        vars_.emplace_back(v.val);
        if (context == "range" && pipe->decl.size() < 2) {
          ItemType t = PeekNonSpace().type;
          if (t == ItemType::kVariable || t == ItemType::kRightDelim ||
              t == ItemType::kRightParen) {
            continue;  // the second variable of a range
          }
          return Errorf("range can only initialize variables");
        }
        return Errorf(absl::StrCat("too many declarations in ", context));
      }
      if (after_variable.type == ItemType::kSpace) {
        Backup3(v, after_variable);
      } else {
        Backup2(v);
      }
      break;
    }
    while (true) {
      Item token = NextNonSpace();
      if (token.type == end) {
        RETURN_IF_ERROR(CheckPipeline(*pipe, context));
        return pipe;
      }
      switch (token.type) {
        case ItemType::kBool:
        case ItemType::kCharConstant:
        case ItemType::kComplex:
        case ItemType::kDot:
        case ItemType::kField:
        case ItemType::kIdentifier:
        case ItemType::kNumber:
        case ItemType::kNil:
        case ItemType::kRawString:
        case ItemType::kString:
        case ItemType::kVariable:
        case ItemType::kLeftParen: {
          Backup();
          ASSIGN_OR_RETURN(std::unique_ptr<CommandNode> cmd, Command());
          pipe->cmds.push_back(std::move(cmd));
          break;
        }
        case ItemType::kError:
          return Errorf(token.error);
        default:
          return Unexpected(token, context);
      }
    }
  }

  absl::Status CheckPipeline(const PipeNode& pipe, absl::string_view context) {
    if (pipe.cmds.empty()) return Errorf(absl::StrCat("missing value for ", context));
    for (size_t i = 1; i < pipe.cmds.size(); ++i) {
      switch (pipe.cmds[i]->args[0]->type) {
        case NodeType::kBool:
        case NodeType::kDot:
        case NodeType::kNil:
        case NodeType::kNumber:
        case NodeType::kString:
          return Errorf(absl::StrCat("non executable command in pipeline stage ", i + 1));
        default:
          break;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<CommandNode>> Command() {
    auto cmd = std::make_unique<CommandNode>(PeekNonSpace().pos, src());
    while (true) {
      PeekNonSpace();
      ASSIGN_OR_RETURN(NodePtr operand, Operand());
      if (operand != nullptr) cmd->args.push_back(std::move(operand));
      Item token = Next();
      if (token.type == ItemType::kSpace) continue;
      if (token.type == ItemType::kRightDelim || token.type == ItemType::kRightParen) {
        Backup();
      } else if (token.type == ItemType::kError) {
        return Errorf(token.error);
      } else if (token.type != ItemType::kPipe) {
        return Unexpected(token, "operand");
      }
      break;
    }
    if (cmd->args.empty()) return Errorf("empty command");
    return cmd;
  }

  absl::StatusOr<NodePtr> Operand() {
    ASSIGN_OR_RETURN(NodePtr node, Term());
    if (node == nullptr) return node;
    if (Peek().type == ItemType::kField) {
      size_t chain_pos = Peek().pos;
      std::vector<std::string> fields;
      while (Peek().type == ItemType::kField) fields.emplace_back(Next().val.substr(1));
      switch (node->type) {
        case NodeType::kField: {
          auto* f = static_cast<FieldNode*>(node.get());
          std::vector<std::string> ident = f->ident;
          ident.insert(ident.end(), fields.begin(), fields.end());
          return NodePtr(std::make_unique<FieldNode>(chain_pos, src(), std::move(ident)));
        }
        case NodeType::kVariable: {
          auto* v = static_cast<VariableNode*>(node.get());
          std::vector<std::string> ident = v->ident;
          ident.insert(ident.end(), fields.begin(), fields.end());
          return NodePtr(std::make_unique<VariableNode>(chain_pos, src(), std::move(ident)));
        }
        case NodeType::kBool:
        case NodeType::kString:
        case NodeType::kNumber:
        case NodeType::kNil:
        case NodeType::kDot:
          return Errorf(absl::StrCat("unexpected . after term ", GoQuote(node->String())));
        default: {
          auto chain = std::make_unique<ChainNode>(chain_pos, src(), std::move(node));
          chain->field = std::move(fields);
          return NodePtr(std::move(chain));
        }
      }
    }
    return node;
  }

  absl::StatusOr<NodePtr> Term() {
    Item token = NextNonSpace();
    switch (token.type) {
      case ItemType::kError:
        return Errorf(token.error);
      case ItemType::kIdentifier:
        if (!HasFunction(options_, token.val)) {
          return Errorf(absl::StrCat("function ", GoQuote(token.val), " not defined"));
        }
        return NodePtr(std::make_unique<IdentifierNode>(token.pos, src(), std::string(token.val)));
      case ItemType::kDot:
        return NodePtr(std::make_unique<DotNode>(token.pos, src()));
      case ItemType::kNil:
        return NodePtr(std::make_unique<NilNode>(token.pos, src()));
      case ItemType::kVariable: {
        std::string name(token.val);
        for (const std::string& v : vars_) {
          if (v == name) {
            return NodePtr(
                std::make_unique<VariableNode>(token.pos, src(), std::vector<std::string>{name}));
          }
        }
        return Errorf(absl::StrCat("undefined variable ", GoQuote(name)));
      }
      case ItemType::kField: {
        std::vector<std::string> ident = absl::StrSplit(token.val.substr(1), '.');
        return NodePtr(std::make_unique<FieldNode>(token.pos, src(), std::move(ident)));
      }
      case ItemType::kBool:
        return NodePtr(std::make_unique<BoolNode>(token.pos, src(), token.val == "true"));
      case ItemType::kCharConstant:
      case ItemType::kComplex:
      case ItemType::kNumber:
        return NewNumber(token);
      case ItemType::kLeftParen: {
        if (++depth_ > options_.max_depth) return TooDeep("parenthesized pipelines");
        ASSIGN_OR_RETURN(std::unique_ptr<PipeNode> pipe,
                         Pipeline("parenthesized pipeline", ItemType::kRightParen));
        --depth_;
        return NodePtr(std::move(pipe));
      }
      case ItemType::kString:
      case ItemType::kRawString: {
        absl::StatusOr<std::string> s = GoUnquote(token.val);
        if (!s.ok()) return Errorf(s.status().message());
        return NodePtr(
            std::make_unique<StringNode>(token.pos, src(), std::string(token.val), std::move(*s)));
      }
      default:
        Backup();
        return NodePtr();
    }
  }

  absl::StatusOr<NodePtr> NewNumber(const Item& token) {
    std::string text(token.val);
    auto n = std::make_unique<NumberNode>(token.pos, src(), text);
    if (token.type == ItemType::kComplex ||
        (!text.empty() && text.back() == 'i' && text.rfind("0x", 0) != 0)) {
      return Errorf(absl::StrCat("complex numbers are not supported: ", text));
    }
    if (token.type == ItemType::kCharConstant) {
      absl::StatusOr<std::string> s = GoUnquote(text);
      if (!s.ok() || s->empty()) {
        return Errorf(absl::StrCat("malformed character constant: ", text));
      }
      // GoUnquote accepts exactly one character between the quotes.
      size_t w;
      int32_t r;
      absl::string_view body = absl::string_view(text).substr(1, text.size() - 2);
      if (!body.empty() && body[0] == '\\') {
        // An escape: its value is the decoded text (a byte for \x and octal).
        r = s->size() == 1 ? static_cast<unsigned char>((*s)[0]) : DecodeRune(*s, &w);
      } else {
        r = DecodeRune(*s, &w);
      }
      n->is_int = n->is_uint = n->is_float = true;
      n->int_value = r;
      n->uint_value = static_cast<uint64_t>(r);
      n->float_value = r;
      return NodePtr(std::move(n));
    }
    ParseError err;
    uint64_t u = GoParseUint(text, 0, &err);
    if (err == ParseError::kNone) {
      n->is_uint = true;
      n->uint_value = u;
    }
    int64_t i = GoParseInt(text, 0, &err);
    if (err == ParseError::kNone) {
      n->is_int = true;
      n->int_value = i;
      if (i == 0) {
        n->is_uint = true;
        n->uint_value = 0;
      }
    }
    if (n->is_int) {
      n->is_float = true;
      n->float_value = static_cast<double>(n->int_value);
    } else if (n->is_uint) {
      n->is_float = true;
      n->float_value = static_cast<double>(n->uint_value);
    } else {
      double f = GoParseFloat(text, &err);
      if (err == ParseError::kNone) {
        if (text.find_first_of(".eEpP") == std::string::npos) {
          return Errorf(absl::StrCat("integer overflow: ", GoQuote(text)));
        }
        n->is_float = true;
        n->float_value = f;
        if (f >= -9.2233720368547758e18 && f < 9.2233720368547758e18 &&
            static_cast<double>(static_cast<int64_t>(f)) == f) {
          n->is_int = true;
          n->int_value = static_cast<int64_t>(f);
        }
        if (f >= 0 && f < 1.8446744073709552e19 &&
            static_cast<double>(static_cast<uint64_t>(f)) == f) {
          n->is_uint = true;
          n->uint_value = static_cast<uint64_t>(f);
        }
      }
    }
    if (!n->is_int && !n->is_uint && !n->is_float) {
      return Errorf(absl::StrCat("illegal number syntax: ", GoQuote(text)));
    }
    return NodePtr(std::move(n));
  }

  std::shared_ptr<ParseSource> source_;
  const ParseOptions& options_;
  Lexer lexer_;
  Item token_[3];
  int peek_count_ = 0;
  std::vector<std::string> vars_;
  int range_depth_ = 0;
  int depth_ = 0;
  std::vector<std::unique_ptr<Tree>> trees_;
};

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<Tree>>> ParseTemplateText(absl::string_view name,
                                                                     absl::string_view text,
                                                                     const ParseOptions& options) {
  auto source = std::make_shared<ParseSource>();
  source->name = std::string(name);
  source->text = std::string(text);
  Parser parser(source, options);
  return parser.Run();
}

}  // namespace flotilla::common::tmpl
