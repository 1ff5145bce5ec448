// Template execution, following text/template/exec.go step by step so that
// results and error messages (including which node an error points at) are
// Go's. Go unwinds errors with panics; here every step returns a Status.
#include "common/template/exec.h"

#include <pthread.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/template/format.h"
#include "common/template/semver.h"
#include "common/template/strconv.h"
#include "common/template/time_format.h"

namespace flotilla::common::tmpl {

namespace {

// Shared by every state (template call) of one execution.
struct Shared {
  const Options* options;
  ExecSession* session;
  int64_t steps = 0;
  int64_t iterations = 0;
  // The lowest stack address execution may reach (0: unknown). Depth limits
  // bound recursion in nodes; this bounds it in bytes, which is what a
  // thread with a small stack, or a sanitizer build, actually runs out of.
  uintptr_t stack_floor = 0;
};

// Room kept free below the deepest template frame for the functions it
// calls (formatting, regex compilation, value walkers).
constexpr size_t kStackReserve = 512 << 10;

uintptr_t CurrentStackPosition() {
  char probe = 0;
  return reinterpret_cast<uintptr_t>(&probe);
}

// The lowest usable stack address of the calling thread, cached per thread.
uintptr_t StackFloor() {
  static thread_local uintptr_t floor = [] {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return uintptr_t{0};
    void* addr = nullptr;
    size_t size = 0;
    int rc = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0 || size <= kStackReserve) return uintptr_t{0};
    return reinterpret_cast<uintptr_t>(addr) + kStackReserve;
  }();
  return floor;
}

enum class Flow { kNormal, kBreak, kContinue };

// The arguments of a command after its first word.
struct Args {
  const std::unique_ptr<Node>* data = nullptr;
  size_t size = 0;
  const Node* operator[](size_t i) const { return data[i].get(); }
};

struct Var {
  std::string name;
  Value value;
};

Value Dig(Value v) {
  if (v.boxed()) {
    if (v.is_nil()) return Value::Missing();
    v.set_boxed(false);
  }
  return v;
}

// A bound method of a time.Time or *semver.Version value.
absl::StatusOr<Function> MethodOf(const Value& receiver, absl::string_view name) {
  using PT = ParamType;
  auto nullary = [](auto f) {
    return Function{
        Sig({}), [f](std::vector<Value>&, CallContext&) -> absl::StatusOr<Value> { return f(); }};
  };
  if (receiver.kind() == Value::Kind::kTime) {
    absl::Time t = receiver.time();
    absl::TimeZone zone = receiver.time_zone();
    absl::TimeZone::CivilInfo ci = zone.At(t);
    if (name == "Unix")
      return nullary([t] { return Value::Int(absl::ToUnixSeconds(t), IntType::kInt64); });
    if (name == "UnixMilli")
      return nullary([t] { return Value::Int(absl::ToUnixMillis(t), IntType::kInt64); });
    if (name == "UnixNano")
      return nullary([t] { return Value::Int(absl::ToUnixNanos(t), IntType::kInt64); });
    if (name == "Year") return nullary([ci] { return Value::Int(ci.cs.year()); });
    if (name == "Day") return nullary([ci] { return Value::Int(ci.cs.day()); });
    if (name == "Hour") return nullary([ci] { return Value::Int(ci.cs.hour()); });
    if (name == "Minute") return nullary([ci] { return Value::Int(ci.cs.minute()); });
    if (name == "Second") return nullary([ci] { return Value::Int(ci.cs.second()); });
    if (name == "YearDay") {
      return nullary([ci] { return Value::Int(absl::GetYearDay(absl::CivilDay(ci.cs))); });
    }
    if (name == "UTC") return nullary([t] { return Value::Time(t, absl::UTCTimeZone()); });
    if (name == "IsZero") {
      return nullary([t] {
        return Value::Bool(t == absl::FromCivil(absl::CivilSecond(1, 1, 1), absl::UTCTimeZone()));
      });
    }
    if (name == "String") {
      return nullary([t, zone] { return Value::String(FormatGoTime(t, zone, kTimeStringLayout)); });
    }
    if (name == "Format") {
      return Function{Sig({PT::kString}),
                      [t, zone](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
                        return Value::String(FormatGoTime(t, zone, a[0].str()));
                      }};
    }
  }
  if (receiver.kind() == Value::Kind::kSemver) {
    SemverVersion v = receiver.semver();
    if (name == "Major") return nullary([v] { return Value::Uint(v.major); });
    if (name == "Minor") return nullary([v] { return Value::Uint(v.minor); });
    if (name == "Patch") return nullary([v] { return Value::Uint(v.patch); });
    if (name == "Prerelease") return nullary([v] { return Value::String(v.prerelease); });
    if (name == "Metadata") return nullary([v] { return Value::String(v.metadata); });
    if (name == "Original") return nullary([v] { return Value::String(v.original); });
    if (name == "String") return nullary([v] { return Value::String(v.String()); });
    auto compare = [v](auto pred) {
      return Function{Sig({PT::kSemver}),
                      [v, pred](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
                        return pred(CompareSemver(v, a[0].semver()));
                      }};
    };
    if (name == "Compare") return compare([](int c) { return Value::Int(c); });
    if (name == "LessThan") return compare([](int c) { return Value::Bool(c < 0); });
    if (name == "GreaterThan") return compare([](int c) { return Value::Bool(c > 0); });
    if (name == "Equal") return compare([](int c) { return Value::Bool(c == 0); });
  }
  return absl::NotFoundError("no such method");
}

class State;

class CallContextImpl : public CallContext {
 public:
  explicit CallContextImpl(State* state) : state_(state) {}
  const Limits& limits() const override;
  absl::Status Charge(int64_t units) override;
  void NoteMutation(const Value& map) override;
  absl::StatusOr<std::string> ExecuteTemplate(absl::string_view name, const Value& data) override;
  absl::StatusOr<std::string> ExecuteText(absl::string_view name, absl::string_view text,
                                          const Value& data) override;

 private:
  State* state_;
};

class State {
 public:
  State(const TemplateSet* set, const Tree* tmpl, Shared* shared, std::string* out, int depth)
      : set_(set), tmpl_(tmpl), shared_(shared), out_(out), depth_(depth) {}

  absl::Status Run(const Value& data) {
    vars_.push_back(Var{"$", data});
    if (tmpl_->root == nullptr) {
      return Errorf(absl::StrCat(GoQuote(tmpl_->name), " is an incomplete or empty template"));
    }
    return Walk(data, tmpl_->root.get()).status();
  }

  const Limits& limits() const { return shared_->options->limits; }
  Shared* shared() { return shared_; }
  const TemplateSet* set() const { return set_; }
  int depth() const { return depth_; }

  absl::Status ChargeSteps(int64_t units) {
    shared_->steps += units;
    if (shared_->steps > limits().max_steps) {
      return Errorf(absl::StrCat("execution exceeded the limit of ", limits().max_steps, " steps"),
                    absl::StatusCode::kResourceExhausted);
    }
    return absl::OkStatus();
  }

  absl::Status Errorf(absl::string_view message,
                      absl::StatusCode code = absl::StatusCode::kInvalidArgument) const {
    std::string text;
    if (node_ == nullptr) {
      text = absl::StrCat("template: ", tmpl_->name, ": ", message);
    } else {
      text = absl::StrCat("template: ", NodeLocation(*node_), ": executing ", GoQuote(tmpl_->name),
                          " at <", node_->String(), ">: ", message);
    }
    return absl::Status(code, text);
  }

  // A nested call of template `tree` (from {{template}} or include).
  absl::StatusOr<std::string> CallTemplate(const TemplateSet* set, const Tree* tree,
                                           const Value& dot) {
    if (depth_ + 1 >= limits().max_template_depth) {
      return Errorf(
          absl::StrCat("exceeded maximum template depth (", limits().max_template_depth, ")"),
          absl::StatusCode::kResourceExhausted);
    }
    std::string buf;
    State inner(set, tree, shared_, &buf, depth_ + 1);
    RETURN_IF_ERROR(inner.Run(dot));
    return buf;
  }

 private:
  void At(const Node* n) { node_ = n; }

  absl::Status Write(absl::string_view s) {
    if (out_->size() + s.size() > limits().max_output_bytes) {
      return Errorf(
          absl::StrCat("output exceeds the limit of ", limits().max_output_bytes, " bytes"),
          absl::StatusCode::kResourceExhausted);
    }
    out_->append(s.data(), s.size());
    return absl::OkStatus();
  }

  // --- variables ---
  size_t Mark() const { return vars_.size(); }
  void Pop(size_t mark) { vars_.resize(mark); }
  void Push(const std::string& name, Value v) { vars_.push_back(Var{name, std::move(v)}); }
  absl::Status SetVar(const std::string& name, Value v) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].name == name) {
        vars_[i].value = std::move(v);
        return absl::OkStatus();
      }
    }
    return Errorf(absl::StrCat("undefined variable: ", name));
  }
  void SetTopVar(size_t n, Value v) { vars_[vars_.size() - n].value = std::move(v); }
  absl::StatusOr<Value> VarValue(const std::string& name) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].name == name) return vars_[i].value;
    }
    return Errorf(absl::StrCat("undefined variable: ", name));
  }

  // --- walking ---
  absl::StatusOr<Flow> Walk(const Value& dot, const Node* node) {
    At(node);
    RETURN_IF_ERROR(ChargeSteps(1));
    if (CurrentStackPosition() < shared_->stack_floor) {
      return Errorf("template nesting exceeds the thread's stack",
                    absl::StatusCode::kResourceExhausted);
    }
    switch (node->type) {
      case NodeType::kAction: {
        const auto* action = static_cast<const ActionNode*>(node);
        ASSIGN_OR_RETURN(Value val, EvalPipeline(dot, action->pipe.get()));
        if (action->pipe->decl.empty()) RETURN_IF_ERROR(PrintValue(node, val));
        return Flow::kNormal;
      }
      case NodeType::kBreak:
        return Flow::kBreak;
      case NodeType::kContinue:
        return Flow::kContinue;
      case NodeType::kComment:
        return Flow::kNormal;
      case NodeType::kIf:
      case NodeType::kWith:
        return WalkIfOrWith(dot, static_cast<const BranchNode*>(node));
      case NodeType::kList:
        for (const auto& child : static_cast<const ListNode*>(node)->nodes) {
          ASSIGN_OR_RETURN(Flow f, Walk(dot, child.get()));
          if (f != Flow::kNormal) return f;
        }
        return Flow::kNormal;
      case NodeType::kRange:
        RETURN_IF_ERROR(WalkRange(dot, static_cast<const BranchNode*>(node)));
        return Flow::kNormal;
      case NodeType::kTemplate:
        RETURN_IF_ERROR(WalkTemplate(dot, static_cast<const TemplateNode*>(node)));
        return Flow::kNormal;
      case NodeType::kText:
        RETURN_IF_ERROR(Write(static_cast<const TextNode*>(node)->text));
        return Flow::kNormal;
      default:
        return Errorf(absl::StrCat("unknown node: ", node->String()));
    }
  }

  absl::StatusOr<Flow> WalkIfOrWith(const Value& dot, const BranchNode* node) {
    size_t mark = Mark();
    ASSIGN_OR_RETURN(Value val, EvalPipeline(dot, node->pipe.get()));
    absl::StatusOr<Flow> flow = Flow::kNormal;
    if (IsTrue(Dig(val))) {
      flow = Walk(node->type == NodeType::kWith ? val : dot, node->list.get());
    } else if (node->else_list != nullptr) {
      flow = Walk(dot, node->else_list.get());
    }
    Pop(mark);
    return flow;
  }

  absl::Status WalkRange(const Value& dot, const BranchNode* r) {
    At(r);
    size_t outer_mark = Mark();
    ASSIGN_OR_RETURN(Value val, EvalPipeline(dot, r->pipe.get()));
    val = Dig(val);
    size_t mark = Mark();
    const PipeNode* pipe = r->pipe.get();
    bool done = false;
    auto one_iteration = [&](const Value& index, const Value& elem) -> absl::Status {
      if (++shared_->iterations > limits().max_range_iterations) {
        return Errorf(
            absl::StrCat("range iterations exceed the limit of ", limits().max_range_iterations),
            absl::StatusCode::kResourceExhausted);
      }
      if (!pipe->decl.empty()) {
        if (pipe->is_assign) {
          RETURN_IF_ERROR(SetVar(pipe->decl[0]->ident[0], pipe->decl.size() > 1 ? index : elem));
        } else {
          SetTopVar(1, elem);
        }
      }
      if (pipe->decl.size() > 1) {
        if (pipe->is_assign) {
          RETURN_IF_ERROR(SetVar(pipe->decl[1]->ident[0], elem));
        } else {
          SetTopVar(2, index);
        }
      }
      absl::StatusOr<Flow> flow = Walk(elem, r->list.get());
      Pop(mark);
      if (!flow.ok()) return flow.status();
      if (*flow == Flow::kBreak) done = true;
      return absl::OkStatus();
    };
    bool ran = false;
    absl::Status status;
    switch (val.kind()) {
      case Value::Kind::kList: {
        const ListRep* list = val.list();
        if (list == nullptr || list->items.empty()) break;
        ran = true;
        for (size_t i = 0; i < list->items.size() && !done; ++i) {
          status = one_iteration(Value::Int(static_cast<int64_t>(i)), ListElem(*list, i));
          if (!status.ok()) break;
        }
        break;
      }
      case Value::Kind::kMap: {
        const MapRep* map = val.map();
        if (map == nullptr || map->entries.empty()) break;
        ran = true;
        // Iterate over a snapshot, as Go does: the body may change the map.
        std::vector<std::pair<std::string, Value>> entries(map->entries.begin(),
                                                           map->entries.end());
        bool boxed = map->elem == ElemType::kInterface;
        for (auto& [k, v] : entries) {
          if (done) break;
          status = one_iteration(Value::String(k), Value(v).set_boxed(boxed));
          if (!status.ok()) break;
        }
        break;
      }
      case Value::Kind::kInt:
      case Value::Kind::kUint: {
        if (pipe->decl.size() > 1) {
          return Errorf(
              absl::StrCat("can't use ", FormatV(val), " to iterate over more than one variable"));
        }
        int64_t n = val.kind() == Value::Kind::kInt
                        ? val.int_value()
                        : static_cast<int64_t>(std::min<uint64_t>(val.uint_value(), INT64_MAX));
        if (n <= 0) break;
        ran = true;
        for (int64_t i = 0; i < n && !done; ++i) {
          Value elem = val.kind() == Value::Kind::kInt ? Value::Int(i, val.int_type())
                                                       : Value::Uint(static_cast<uint64_t>(i));
          status = one_iteration(Value::Missing(), elem);
          if (!status.ok()) break;
        }
        break;
      }
      case Value::Kind::kMissing:
        break;
      default:
        return Errorf(absl::StrCat("range can't iterate over ", FormatV(val)));
    }
    if (!status.ok()) return status;
    if (!ran && r->else_list != nullptr) {
      ASSIGN_OR_RETURN(Flow f, Walk(dot, r->else_list.get()));
      (void)f;
    }
    Pop(outer_mark);
    return absl::OkStatus();
  }

  absl::Status WalkTemplate(const Value& dot, const TemplateNode* t) {
    At(t);
    const Tree* tree = set_->Lookup(t->name);
    if (tree == nullptr) {
      return Errorf(absl::StrCat("template ", GoQuote(t->name), " not defined"));
    }
    if (depth_ + 1 >= limits().max_template_depth) {
      return Errorf(
          absl::StrCat("exceeded maximum template depth (", limits().max_template_depth, ")"),
          absl::StatusCode::kResourceExhausted);
    }
    ASSIGN_OR_RETURN(Value new_dot, EvalPipeline(dot, t->pipe.get()));
    State inner(set_, tree, shared_, out_, depth_ + 1);
    return inner.Run(new_dot);
  }

  absl::Status PrintValue(const Node* n, const Value& v) {
    At(n);
    FormatLimits fl{limits().max_output_bytes, limits().max_value_depth};
    absl::StatusOr<std::string> s = FormatForOutput(v, fl);
    if (!s.ok()) return Errorf(s.status().message(), s.status().code());
    return Write(*s);
  }

  // --- evaluation ---
  absl::StatusOr<Value> EvalPipeline(const Value& dot, const PipeNode* pipe) {
    if (pipe == nullptr) return Value::Missing();
    At(pipe);
    Value value;
    Value prev;
    bool have_final = false;
    for (const auto& cmd : pipe->cmds) {
      ASSIGN_OR_RETURN(value, EvalCommand(dot, cmd.get(), have_final ? &prev : nullptr));
      value = Dig(std::move(value));
      prev = value;
      have_final = true;
    }
    for (const auto& var : pipe->decl) {
      if (pipe->is_assign) {
        RETURN_IF_ERROR(SetVar(var->ident[0], value));
      } else {
        Push(var->ident[0], value);
      }
    }
    return value;
  }

  absl::Status NotAFunction(const CommandNode* cmd, const Value* final) {
    if (cmd->args.size() > 1 || final != nullptr) {
      return Errorf(absl::StrCat("can't give argument to non-function ", cmd->args[0]->String()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Value> EvalCommand(const Value& dot, const CommandNode* cmd, const Value* final) {
    RETURN_IF_ERROR(ChargeSteps(1));
    const Node* first = cmd->args[0].get();
    Args args{cmd->args.data() + 1, cmd->args.size() - 1};
    switch (first->type) {
      case NodeType::kField:
        return EvalFieldNode(dot, static_cast<const FieldNode*>(first), args, final);
      case NodeType::kChain:
        return EvalChainNode(dot, static_cast<const ChainNode*>(first), args, final);
      case NodeType::kIdentifier:
        return EvalFunction(dot, static_cast<const IdentifierNode*>(first), cmd, args, final);
      case NodeType::kPipe:
        RETURN_IF_ERROR(NotAFunction(cmd, final));
        return EvalPipeline(dot, static_cast<const PipeNode*>(first));
      case NodeType::kVariable:
        return EvalVariableNode(dot, static_cast<const VariableNode*>(first), args, final);
      default:
        break;
    }
    At(first);
    RETURN_IF_ERROR(NotAFunction(cmd, final));
    switch (first->type) {
      case NodeType::kBool:
        return Value::Bool(static_cast<const BoolNode*>(first)->value);
      case NodeType::kDot:
        return dot;
      case NodeType::kNil:
        return Errorf("nil is not a command");
      case NodeType::kNumber:
        return IdealConstant(static_cast<const NumberNode*>(first));
      case NodeType::kString:
        return Value::String(static_cast<const StringNode*>(first)->text);
      default:
        return Errorf(absl::StrCat("can't evaluate command ", GoQuote(first->String())));
    }
  }

  absl::StatusOr<Value> IdealConstant(const NumberNode* n) {
    At(n);
    const std::string& text = n->text;
    bool hex_int = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') &&
                   text.find_first_of("pP") == std::string::npos;
    bool rune_int = !text.empty() && text[0] == '\'';
    if (n->is_float && !hex_int && !rune_int && text.find_first_of(".eEpP") != std::string::npos) {
      return Value::Float(n->float_value);
    }
    if (n->is_int) return Value::Int(n->int_value);
    if (n->is_uint) return Errorf(absl::StrCat(text, " overflows int"));
    return Value::Missing();
  }

  absl::StatusOr<Value> EvalFieldNode(const Value& dot, const FieldNode* field, Args args,
                                      const Value* final) {
    At(field);
    return EvalFieldChain(dot, dot, field, field->ident, 0, args, final);
  }

  absl::StatusOr<Value> EvalChainNode(const Value& dot, const ChainNode* chain, Args args,
                                      const Value* final) {
    At(chain);
    if (chain->node->type == NodeType::kNil) {
      return Errorf(absl::StrCat("indirection through explicit nil in ", chain->String()));
    }
    ASSIGN_OR_RETURN(Value pipe, EvalArg(dot, ParamType::kValue, chain->node.get(), true));
    return EvalFieldChain(dot, pipe, chain, chain->field, 0, args, final);
  }

  absl::StatusOr<Value> EvalVariableNode(const Value& dot, const VariableNode* variable, Args args,
                                         const Value* final) {
    At(variable);
    ASSIGN_OR_RETURN(Value value, VarValue(variable->ident[0]));
    if (variable->ident.size() == 1) {
      if (args.size > 0 || final != nullptr) {
        return Errorf(absl::StrCat("can't give argument to non-function ", variable->String()));
      }
      return value;
    }
    return EvalFieldChain(dot, value, variable, variable->ident, 1, args, final);
  }

  absl::StatusOr<Value> EvalFieldChain(const Value& dot, Value receiver, const Node* node,
                                       const std::vector<std::string>& ident, size_t from,
                                       Args args, const Value* final) {
    size_t n = ident.size();
    for (size_t i = from; i + 1 < n; ++i) {
      ASSIGN_OR_RETURN(receiver, EvalField(dot, ident[i], node, Args{}, nullptr, receiver));
    }
    return EvalField(dot, ident[n - 1], node, args, final, receiver);
  }

  absl::StatusOr<Value> EvalFunction(const Value& dot, const IdentifierNode* node, const Node* cmd,
                                     Args args, const Value* final) {
    At(node);
    const std::string& name = node->ident;
    bool builtin = false;
    const Function* fn = set_->funcs().Find(name);
    if (fn == nullptr) {
      fn = BuiltinFunctions().Find(name);
      builtin = fn != nullptr;
    }
    if (fn == nullptr) return Errorf(absl::StrCat(GoQuote(name), " is not a defined function"));
    return EvalCall(dot, *fn, builtin, cmd, name, args, final);
  }

  absl::StatusOr<Value> EvalField(const Value& dot, const std::string& field_name, const Node* node,
                                  Args args, const Value* final, const Value& receiver) {
    if (receiver.is_missing()) {
      if (shared_->options->missing_key == MissingKey::kError) {
        return Errorf(absl::StrCat("nil data; no entry for key ", GoQuote(field_name)));
      }
      return Value::Missing();
    }
    std::string typ = StaticTypeName(receiver);
    if (receiver.is_nil()) {
      return Errorf(absl::StrCat("nil pointer evaluating ", typ, ".", field_name));
    }
    Value concrete = receiver.Unboxed();
    if (concrete.kind() == Value::Kind::kTime || concrete.kind() == Value::Kind::kSemver) {
      absl::StatusOr<Function> method = MethodOf(concrete, field_name);
      if (method.ok()) return EvalCall(dot, *method, false, node, field_name, args, final);
    }
    bool has_args = args.size > 0 || final != nullptr;
    if (concrete.is_map()) {
      const MapRep* rep = concrete.map();
      if (rep != nullptr && rep->methods != nullptr) {
        auto it = rep->methods->methods.find(field_name);
        if (it != rep->methods->methods.end()) {
          return EvalCall(dot, it->second, false, node, field_name, args, final);
        }
      }
      if (has_args) {
        return Errorf(absl::StrCat(field_name, " is not a method but has arguments"));
      }
      const MapRep* map = concrete.map();
      Value result = map == nullptr ? Value::Missing() : MapGet(*map, field_name);
      if (result.is_missing()) {
        switch (shared_->options->missing_key) {
          case MissingKey::kDefault:
            break;
          case MissingKey::kZero:
            result = concrete.elem_type() == ElemType::kString ? Value::String("")
                                                               : Value::Nil().set_boxed(true);
            break;
          case MissingKey::kError:
            return Errorf(absl::StrCat("map has no entry for key ", GoQuote(field_name)));
        }
      }
      return result;
    }
    return Errorf(absl::StrCat("can't evaluate field ", field_name, " in type ", typ));
  }

  absl::StatusOr<Value> EvalCall(const Value& dot, const Function& fn, bool builtin,
                                 const Node* node, absl::string_view name, Args args,
                                 const Value* final) {
    const Signature& sig = fn.signature;
    size_t num_in = args.size + (final != nullptr ? 1 : 0);
    size_t num_fixed = args.size;
    if (sig.variadic) {
      num_fixed = sig.params.size() - 1;
      if (num_in < num_fixed) {
        return Errorf(absl::StrCat("wrong number of args for ", name, ": want at least ",
                                   sig.params.size() - 1, " got ", args.size));
      }
    } else if (num_in != sig.params.size()) {
      return Errorf(absl::StrCat("wrong number of args for ", name, ": want ", sig.params.size(),
                                 " got ", num_in));
    }
    if (builtin && (name == "and" || name == "or")) {
      bool want = name == "or";
      Value v;
      for (size_t i = 0; i < args.size; ++i) {
        ASSIGN_OR_RETURN(v, EvalArg(dot, ParamType::kValue, args[i]));
        if (IsTrue(Dig(v)) == want) return v;
      }
      if (final != nullptr) v = *final;
      return v;
    }
    std::vector<Value> argv;
    argv.reserve(num_in);
    size_t i = 0;
    for (; i < num_fixed && i < args.size; ++i) {
      ASSIGN_OR_RETURN(Value a, EvalArg(dot, sig.params[i], args[i]));
      argv.push_back(std::move(a));
    }
    if (sig.variadic) {
      ParamType t = sig.params.back();
      for (; i < args.size; ++i) {
        ASSIGN_OR_RETURN(Value a, EvalArg(dot, t, args[i]));
        argv.push_back(std::move(a));
      }
    }
    if (final != nullptr) {
      ParamType t = sig.params.back();
      if (sig.variadic && num_in - 1 < num_fixed) t = sig.params[num_in - 1];
      ASSIGN_OR_RETURN(Value a, ValidateType(*final, t));
      argv.push_back(std::move(a));
    }
    RETURN_IF_ERROR(ChargeSteps(1));
    CallContextImpl ctx(this);
    absl::StatusOr<Value> result = fn.fn(argv, ctx);
    if (!result.ok()) {
      At(node);
      absl::StatusCode code = result.status().code() == absl::StatusCode::kResourceExhausted
                                  ? absl::StatusCode::kResourceExhausted
                                  : absl::StatusCode::kInvalidArgument;
      return Errorf(absl::StrCat("error calling ", name, ": ", result.status().message()), code);
    }
    Value v = std::move(*result);
    if (v.is_string() && v.str().size() > limits().max_output_bytes) {
      At(node);
      return Errorf(absl::StrCat("error calling ", name, ": result exceeds the limit of ",
                                 limits().max_output_bytes, " bytes"),
                    absl::StatusCode::kResourceExhausted);
    }
    if (v.is_nil()) v.set_boxed(true);
    return v;
  }

  static bool CanBeNil(ParamType t) {
    return t == ParamType::kAny || t == ParamType::kValue || t == ParamType::kMap ||
           t == ParamType::kSemver;
  }

  absl::StatusOr<Value> ValidateType(const Value& value, ParamType t) {
    if (t == ParamType::kValue) return value;
    if (value.is_missing()) {
      if (t == ParamType::kAny) return Value::Nil();
      if (t == ParamType::kMap) return Value::NilMap();
      return Errorf(absl::StrCat("invalid value; expected ", ParamTypeName(t)));
    }
    if (t == ParamType::kAny) return value.Unboxed();
    if (value.is_nil()) {
      return Errorf(absl::StrCat("wrong type for value; expected ", ParamTypeName(t), "; got ",
                                 value.boxed() ? "interface {}" : "<nil>"));
    }
    bool ok = false;
    switch (t) {
      case ParamType::kString:
        ok = value.is_string();
        break;
      case ParamType::kBool:
        ok = value.kind() == Value::Kind::kBool;
        break;
      case ParamType::kInt:
        ok = value.is_int() && value.int_type() == IntType::kInt;
        break;
      case ParamType::kInt64:
        ok = value.is_int() && value.int_type() == IntType::kInt64;
        break;
      case ParamType::kFloat64:
        ok = value.kind() == Value::Kind::kFloat;
        break;
      case ParamType::kMap:
        ok = value.is_map() && value.elem_type() == ElemType::kInterface;
        break;
      case ParamType::kTime:
        ok = value.kind() == Value::Kind::kTime;
        break;
      case ParamType::kSemver:
        ok = value.kind() == Value::Kind::kSemver;
        break;
      default:
        ok = true;
    }
    if (!ok) {
      return Errorf(absl::StrCat("wrong type for value; expected ", ParamTypeName(t), "; got ",
                                 GoTypeName(value)));
    }
    return value.Unboxed();
  }

  // `chain_receiver`: evaluating the node before a chain's fields, where Go
  // passes a nil type (no conversion).
  absl::StatusOr<Value> EvalArg(const Value& dot, ParamType t, const Node* n,
                                bool chain_receiver = false) {
    At(n);
    switch (n->type) {
      case NodeType::kDot:
        return ValidateType(dot, t);
      case NodeType::kNil:
        if (t == ParamType::kValue) return Value::Missing();
        if (t == ParamType::kAny) return Value::Nil();
        if (t == ParamType::kMap) return Value::NilMap();
        if (t == ParamType::kSemver) return Value::Missing();
        return Errorf(absl::StrCat("cannot assign nil to ", ParamTypeName(t)));
      case NodeType::kField: {
        ASSIGN_OR_RETURN(Value v,
                         EvalFieldNode(dot, static_cast<const FieldNode*>(n), Args{}, nullptr));
        return ValidateType(v, t);
      }
      case NodeType::kVariable: {
        ASSIGN_OR_RETURN(
            Value v, EvalVariableNode(dot, static_cast<const VariableNode*>(n), Args{}, nullptr));
        return ValidateType(v, t);
      }
      case NodeType::kPipe: {
        ASSIGN_OR_RETURN(Value v, EvalPipeline(dot, static_cast<const PipeNode*>(n)));
        return ValidateType(v, t);
      }
      case NodeType::kIdentifier: {
        ASSIGN_OR_RETURN(
            Value v, EvalFunction(dot, static_cast<const IdentifierNode*>(n), n, Args{}, nullptr));
        return ValidateType(v, t);
      }
      case NodeType::kChain: {
        ASSIGN_OR_RETURN(Value v,
                         EvalChainNode(dot, static_cast<const ChainNode*>(n), Args{}, nullptr));
        return ValidateType(v, t);
      }
      default:
        break;
    }
    if (chain_receiver) return EvalEmptyInterface(dot, n);
    switch (t) {
      case ParamType::kBool:
        if (n->type == NodeType::kBool) return Value::Bool(static_cast<const BoolNode*>(n)->value);
        return Errorf(absl::StrCat("expected bool; found ", n->String()));
      case ParamType::kFloat64:
        if (n->type == NodeType::kNumber && static_cast<const NumberNode*>(n)->is_float) {
          return Value::Float(static_cast<const NumberNode*>(n)->float_value);
        }
        return Errorf(absl::StrCat("expected float; found ", n->String()));
      case ParamType::kInt:
      case ParamType::kInt64:
        if (n->type == NodeType::kNumber && static_cast<const NumberNode*>(n)->is_int) {
          return Value::Int(static_cast<const NumberNode*>(n)->int_value,
                            t == ParamType::kInt ? IntType::kInt : IntType::kInt64);
        }
        return Errorf(absl::StrCat("expected integer; found ", n->String()));
      case ParamType::kString:
        if (n->type == NodeType::kString) {
          return Value::String(static_cast<const StringNode*>(n)->text);
        }
        return Errorf(absl::StrCat("expected string; found ", n->String()));
      case ParamType::kAny:
      case ParamType::kValue:
        return EvalEmptyInterface(dot, n);
      default:
        return Errorf(
            absl::StrCat("can't handle ", n->String(), " for arg of type ", ParamTypeName(t)));
    }
  }

  absl::StatusOr<Value> EvalEmptyInterface(const Value& dot, const Node* n) {
    At(n);
    switch (n->type) {
      case NodeType::kBool:
        return Value::Bool(static_cast<const BoolNode*>(n)->value);
      case NodeType::kDot:
        return dot;
      case NodeType::kNumber:
        return IdealConstant(static_cast<const NumberNode*>(n));
      case NodeType::kString:
        return Value::String(static_cast<const StringNode*>(n)->text);
      default:
        return Errorf(absl::StrCat("can't handle assignment of ", n->String(),
                                   " to empty interface argument"));
    }
  }

  const TemplateSet* set_;
  const Tree* tmpl_;
  Shared* shared_;
  std::string* out_;
  int depth_;
  const Node* node_ = nullptr;
  std::vector<Var> vars_;
};

const Limits& CallContextImpl::limits() const { return state_->limits(); }

absl::Status CallContextImpl::Charge(int64_t units) { return state_->ChargeSteps(units); }

void CallContextImpl::NoteMutation(const Value& map) {
  state_->shared()->session->NoteMutation(map);
}

absl::StatusOr<std::string> CallContextImpl::ExecuteTemplate(absl::string_view name,
                                                             const Value& data) {
  const Tree* tree = state_->set()->Lookup(name);
  if (tree == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("template: no template ", GoQuote(name), " defined"));
  }
  return state_->CallTemplate(state_->set(), tree, data);
}

absl::StatusOr<std::string> CallContextImpl::ExecuteText(absl::string_view name,
                                                         absl::string_view text,
                                                         const Value& data) {
  TemplateSet copy = *state_->set();
  RETURN_IF_ERROR(copy.Parse(name, text));
  const Tree* tree = copy.Lookup(name);
  if (tree == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("template: no template ", GoQuote(name), " defined"));
  }
  return state_->CallTemplate(&copy, tree, data);
}

}  // namespace

absl::StatusOr<std::string> ExecuteTree(const TemplateSet& set, const Tree& tree, const Value& data,
                                        ExecSession* session) {
  Shared shared{&set.options(), session};
  shared.stack_floor = StackFloor();
  std::string out;
  State state(&set, &tree, &shared, &out, 0);
  RETURN_IF_ERROR(state.Run(data));
  return out;
}

}  // namespace flotilla::common::tmpl
