#include "sambay/text/jinja_render.h"

#include <algorithm>

#include "sambay/base/error.h"
#include "sambay/text/jinja_builtins.h"
#include "sambay/text/jinja_unicode.h"

namespace sambay::jinja {

Renderer::Renderer(const Template& t, const RenderOptions& options) : tmpl_(t), options_(options) {}

void Renderer::step() {
  if (++steps_ > options_.limits.max_steps)
    eval_fail("template exceeded its limit of {} evaluation steps", options_.limits.max_steps);
}

void Renderer::charge(uint64_t bytes) {
  if (bytes > options_.limits.max_value_bytes)
    eval_fail("a string or list of {} bytes exceeds the limit of {}", bytes, options_.limits.max_value_bytes);
  budget_.work += bytes;
  if (budget_.work > options_.limits.max_work_bytes)
    eval_fail("template exceeded its work limit of {} bytes built", options_.limits.max_work_bytes);
}

Str Renderer::render(std::vector<std::pair<std::string, Value>> globals) {
  budget_ = StringBudget{};
  // The output builder is itself bounded: by the larger of the two limits, max_output_bytes
  // being checked separately below.
  budget_.max_bytes = std::max(options_.limits.max_value_bytes, options_.limits.max_output_bytes);
  budget_.max_work = options_.limits.max_work_bytes;
  StringBudgetScope scope(&budget_);
  frames_.clear();
  frames_.emplace_back();
  for (auto& [name, value] : globals) assign(name, std::move(value));
  out_ = StrBuilder();
  steps_ = 0;
  exec(tmpl_.body);
  return out_.take();
}

// ---- scopes ----

const Value* Renderer::lookup(std::string_view name) const {
  for (auto frame = frames_.rbegin(); frame != frames_.rend(); ++frame)
    for (const auto& [k, v] : *frame)
      if (k == name) return &v;
  return nullptr;
}

void Renderer::assign(const std::string& name, Value v) {
  auto& frame = frames_.back();
  for (auto& [k, slot] : frame) {
    if (k == name) {
      slot = std::move(v);
      return;
    }
  }
  frame.emplace_back(name, std::move(v));
}

void Renderer::assign_targets(const Stmt& s, const Value& v) {
  if (!s.unpack) {
    assign(s.targets[0], v);
    return;
  }
  std::vector<Value> items = iterate(v);
  if (items.size() < s.targets.size())
    eval_fail("not enough values to unpack (expected {}, got {})", s.targets.size(), items.size());
  if (items.size() > s.targets.size()) eval_fail("too many values to unpack (expected {})", s.targets.size());
  for (size_t i = 0; i < items.size(); ++i) assign(s.targets[i], std::move(items[i]));
}

// ---- statements ----

void Renderer::emit_text(std::string_view text) {
  if (out_.size() + text.size() > options_.limits.max_output_bytes)
    eval_fail("rendered output exceeds the limit of {} bytes", options_.limits.max_output_bytes);
  charge(text.size());
  out_.append(text);
}

void Renderer::emit(const Value& v) {
  if (v.is_string()) {
    const Str& s = v.as_str();
    if (out_.size() + s.text.size() > options_.limits.max_output_bytes)
      eval_fail("rendered output exceeds the limit of {} bytes", options_.limits.max_output_bytes);
    charge(s.text.size());
    out_.append(s);
    return;
  }
  StrBuilder b;
  append_str(b, v);
  emit(Value::string(b.take()));
}

namespace {

struct FrameGuard {
  explicit FrameGuard(std::vector<std::vector<std::pair<std::string, Value>>>& frames) : frames(frames) {
    frames.emplace_back();
  }
  ~FrameGuard() { frames.pop_back(); }
  std::vector<std::vector<std::pair<std::string, Value>>>& frames;
};

}  // namespace

Renderer::Flow Renderer::exec(const Body& body) {
  for (const StmtPtr& s : body) {
    const Flow flow = exec(*s);
    if (flow != Flow::Normal) return flow;
  }
  return Flow::Normal;
}

Renderer::Flow Renderer::exec(const Stmt& s) {
  try {
    step();
    switch (s.kind) {
      case StmtKind::Text:
        emit_text(s.text);
        return Flow::Normal;
      case StmtKind::Output:
        emit(eval(*s.expr));
        return Flow::Normal;
      case StmtKind::If:
        for (const auto& [cond, body] : s.branches)
          if (truthy(eval(*cond))) return exec(body);
        return exec(s.else_body);
      case StmtKind::For:
        return exec_for(s);
      case StmtKind::Set:
        assign_targets(s, eval(*s.expr));
        return Flow::Normal;
      case StmtKind::SetNamespace: {
        const Value* ns = lookup(s.text);
        Value value = eval(*s.expr);
        if (!ns || ns->kind() != Kind::Object || !ns->as_object().is_namespace())
          eval_fail("cannot assign attribute '{}' on '{}': not a namespace()", s.attr, s.text);
        ns->as_object().set(s.attr, std::move(value));
        return Flow::Normal;
      }
      case StmtKind::SetBlock: {
        StrBuilder saved = std::move(out_);
        out_ = StrBuilder();
        {
          FrameGuard frame(frames_);  // like jinja2, assignments inside the block stay inside
          exec(s.body);
        }
        Str captured = out_.take();
        out_ = std::move(saved);
        assign(s.targets[0], Value::string(std::move(captured)));
        return Flow::Normal;
      }
      case StmtKind::Break:
        return Flow::Break;
      case StmtKind::Continue:
        return Flow::Continue;
      case StmtKind::Block:
        return exec(s.body);
    }
  } catch (const EvalError& e) {
    fail("{}:{}:{}: {}", tmpl_.origin, s.pos.line, s.pos.col, e.what());
  }
  return Flow::Normal;
}

namespace {



Value make_loop(const std::vector<Value>& items, size_t i) {
  const size_t n = items.size();
  auto loop = std::make_shared<Object>();
  loop->type = "LoopContext";
  loop->repr = fmt::format("<LoopContext {}/{}>", i + 1, n);
  auto& a = loop->attrs;
  a.reserve(12);
  a.emplace_back("index", Value::integer(static_cast<int64_t>(i + 1)));
  a.emplace_back("index0", Value::integer(static_cast<int64_t>(i)));
  a.emplace_back("revindex", Value::integer(static_cast<int64_t>(n - i)));
  a.emplace_back("revindex0", Value::integer(static_cast<int64_t>(n - i - 1)));
  a.emplace_back("first", Value::boolean(i == 0));
  a.emplace_back("last", Value::boolean(i + 1 == n));
  a.emplace_back("length", Value::integer(static_cast<int64_t>(n)));
  a.emplace_back("depth", Value::integer(1));
  a.emplace_back("depth0", Value::integer(0));
  a.emplace_back("previtem", i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
  a.emplace_back("nextitem", i + 1 < n ? items[i + 1] : Value::undefined("there is no next item"));
  a.emplace_back("cycle", Value::callable("cycle", [i](Renderer&, CallArgs& args) -> Value {
                   if (args.positional.empty()) eval_fail("no items for cycling given");
                   if (!args.keyword.empty()) eval_fail("loop.cycle() takes no keyword arguments");
                   return args.positional[i % args.positional.size()];
                 }));
  return Value::object(std::move(loop));
}

}  // namespace

Renderer::Flow Renderer::exec_for(const Stmt& s) {
  std::vector<Value> items = iterate(eval(*s.expr));
  charge(items.size() * sizeof(Value));
  if (s.cond) {
    std::vector<Value> kept;
    for (Value& item : items) {
      step();
      FrameGuard frame(frames_);
      assign_targets(s, item);
      if (truthy(eval(*s.cond))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  // jinja2's else runs unless some iteration reached the end of the body: an iteration left by
  // {% break %} or {% continue %} does not count (its compiled code clears a flag at body end).
  bool completed = false;
  for (size_t i = 0; i < items.size(); ++i) {
    step();
    FrameGuard frame(frames_);
    assign_targets(s, items[i]);
    assign("loop", make_loop(items, i));
    const Flow flow = exec(s.body);
    if (flow == Flow::Break) break;
    completed = completed || flow == Flow::Normal;
  }
  if (!completed && !s.else_body.empty()) {
    FrameGuard frame(frames_);
    exec(s.else_body);
  }
  return Flow::Normal;
}

// ---- expressions ----

Value Renderer::eval(const Expr& e) {
  try {
    step();
    return eval_inner(e);
  } catch (const EvalError& err) {
    fail("{}:{}:{}: {}", tmpl_.origin, e.pos.line, e.pos.col, err.what());
  }
}

CallArgs Renderer::eval_args(const Expr& e, size_t first) {
  CallArgs args;
  for (size_t i = first; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i]));
  for (const auto& [name, expr] : e.kwargs) args.keyword.emplace_back(name, eval(*expr));
  return args;
}

namespace {

// Python's slice.indices(): clamps start/stop for a sequence of length n.
void slice_indices(int64_t n, const Value& start_v, const Value& stop_v, const Value& step_v, int64_t& start,
                   int64_t& stop, int64_t& step) {
  step = step_v.is_none() ? 1 : step_v.as_int();
  if (step == 0) eval_fail("slice step cannot be zero");
  auto adjust = [&](const Value& v, int64_t dflt) -> int64_t {
    if (v.is_none()) return dflt;
    int64_t x = v.as_int();
    if (x < 0) {
      x += n;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= n) {
      x = step < 0 ? n - 1 : n;
    }
    return x;
  };
  start = adjust(start_v, step < 0 ? n - 1 : 0);
  stop = adjust(stop_v, step < 0 ? -1 : n);
}

}  // namespace

Value Renderer::eval_slice(const Expr& e) {
  const Value obj = eval(*e.args[0]);
  Value parts[3];
  for (int k = 0; k < 3; ++k) parts[k] = e.args[k + 1] ? eval(*e.args[k + 1]) : Value::none();
  // jinja2 compiles slices to plain Python subscripts, so failures raise instead of giving Undefined.
  require_defined(obj);
  if (!obj.is_list() && !obj.is_string()) {
    if (obj.is_dict()) eval_fail("unhashable type: 'slice'");
    eval_fail("'{}' object is not subscriptable", type_name(obj));
  }
  for (const Value& p : parts)
    if (!p.is_none() && !p.is_integral())
      eval_fail("slice indices must be integers or None or have an __index__ method");
  int64_t start, stop, step;
  if (obj.is_list()) {
    const auto& items = obj.as_list().items;
    slice_indices(static_cast<int64_t>(items.size()), parts[0], parts[1], parts[2], start, stop, step);
    std::vector<Value> out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(items[static_cast<size_t>(i)]);
    charge(out.size() * sizeof(Value));
    return Value::list(std::move(out), obj.as_list().tuple);
  }
  if (obj.is_string()) {
    const Str& s = obj.as_str();
    const std::vector<size_t> offsets = code_point_offsets(s.text);
    const int64_t n = static_cast<int64_t>(offsets.size()) - 1;
    slice_indices(n, parts[0], parts[1], parts[2], start, stop, step);
    StrBuilder b;
    if (step == 1) {
      if (start < stop) b.append(s, offsets[static_cast<size_t>(start)], offsets[static_cast<size_t>(stop)]);
    } else {
      for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
        b.append(s, offsets[static_cast<size_t>(i)], offsets[static_cast<size_t>(i) + 1]);
    }
    charge(b.size());
    return Value::string(b.take());
  }
  eval_fail("'{}' object is not subscriptable", type_name(obj));
}

Value Renderer::eval_inner(const Expr& e) {
  switch (e.kind) {
    case ExprKind::Const:
      return e.value;
    case ExprKind::Name: {
      if (const Value* v = lookup(e.name)) return *v;
      Value global = find_global(e.name);
      if (!global.is_undefined()) return global;
      return Value::undefined(fmt::format("'{}' is undefined", e.name));
    }
    case ExprKind::List:
    case ExprKind::Tuple: {
      std::vector<Value> items;
      items.reserve(e.args.size());
      for (const auto& a : e.args) items.push_back(eval(*a));
      return Value::list(std::move(items), e.kind == ExprKind::Tuple);
    }
    case ExprKind::Dict: {
      std::vector<std::pair<Str, Value>> entries;
      for (const auto& [k, v] : e.dict_items) {
        Value key = eval(*k);
        Value value = eval(*v);
        if (!key.is_string()) eval_fail("dict keys must be strings here, got {}", type_name(key));
        auto it = std::find_if(entries.begin(), entries.end(),
                               [&](const auto& entry) { return entry.first.text == key.as_str().text; });
        if (it != entries.end()) {
          it->second = std::move(value);  // Python keeps the first position, takes the last value
        } else {
          Str s = key.as_str();
          s.markup = false;
          entries.emplace_back(std::move(s), std::move(value));
        }
      }
      return Value::dict(std::move(entries));
    }
    case ExprKind::GetAttr:
      return getattr(eval(*e.args[0]), e.name);
    case ExprKind::GetItem: {
      Value obj = eval(*e.args[0]);
      return getitem(obj, eval(*e.args[1]));
    }
    case ExprKind::Slice:
      return eval_slice(e);
    case ExprKind::Call: {
      Value fn = eval(*e.args[0]);
      CallArgs args = eval_args(e, 1);
      if (fn.kind() == Kind::Callable) return fn.as_callable().fn(*this, args);
      require_defined(fn);
      eval_fail("'{}' object is not callable", type_name(fn));
    }
    case ExprKind::Filter: {
      Value input = eval(*e.args[0]);
      CallArgs args = eval_args(e, 1);
      return e.filter(*this, input, args);
    }
    case ExprKind::Test: {
      Value input = eval(*e.args[0]);
      CallArgs args = eval_args(e, 1);
      return Value::boolean(e.test(*this, input, args) != e.negated);
    }
    case ExprKind::Neg:
      return negate(eval(*e.args[0]));
    case ExprKind::Plus:
      return unary_plus(eval(*e.args[0]));
    case ExprKind::Not:
      return Value::boolean(!truthy(eval(*e.args[0])));
    case ExprKind::And: {
      Value a = eval(*e.args[0]);
      if (!truthy(a)) return a;
      return eval(*e.args[1]);
    }
    case ExprKind::Or: {
      Value a = eval(*e.args[0]);
      if (truthy(a)) return a;
      return eval(*e.args[1]);
    }
    case ExprKind::Binary: {
      Value a = eval(*e.args[0]);
      Value b = eval(*e.args[1]);
      return binary_op(*this, e.binop, a, b);
    }
    case ExprKind::Concat: {
      StrBuilder b;
      for (const auto& a : e.args) {
        Value v = eval(*a);
        append_str(b, v);
        charge(b.size());
      }
      return Value::string(b.take());
    }
    case ExprKind::Compare: {
      Value a = eval(*e.args[0]);
      for (size_t i = 0; i < e.cmp_ops.size(); ++i) {
        Value b = eval(*e.args[i + 1]);
        bool ok = false;
        switch (e.cmp_ops[i]) {
          case CmpOp::Eq:
            ok = equals(a, b);
            break;
          case CmpOp::Ne:
            ok = !equals(a, b);
            break;
          case CmpOp::Lt:
            ok = compare(CompareOp::Lt, a, b);
            break;
          case CmpOp::Le:
            ok = compare(CompareOp::Le, a, b);
            break;
          case CmpOp::Gt:
            ok = compare(CompareOp::Gt, a, b);
            break;
          case CmpOp::Ge:
            ok = compare(CompareOp::Ge, a, b);
            break;
          case CmpOp::In:
            ok = contains(b, a);
            break;
          case CmpOp::NotIn:
            ok = !contains(b, a);
            break;
        }
        if (!ok) return Value::boolean(false);
        a = std::move(b);
      }
      return Value::boolean(true);
    }
    case ExprKind::Cond:
      if (truthy(eval(*e.args[0]))) return eval(*e.args[1]);
      if (e.args[2]) return eval(*e.args[2]);
      return Value::undefined(fmt::format(
          "the inline if-expression on line {} evaluated to false and no else section was defined.", e.pos.line));
  }
  eval_fail("unknown expression kind");
}

// ---- attribute and item access (jinja2's sandboxed getattr/getitem) ----

Value Renderer::getattr(const Value& obj, std::string_view name) {
  require_defined(obj);
  switch (obj.kind()) {
    case Kind::String: {
      Value m = find_method(obj, name);
      if (!m.is_undefined()) return m;
      break;
    }
    case Kind::Dict: {
      Value m = find_method(obj, name);
      if (!m.is_undefined()) return m;
      if (const Value* v = obj.as_dict().find(name)) return *v;
      break;
    }
    case Kind::List: {
      Value m = find_method(obj, name);
      if (!m.is_undefined()) return m;
      break;
    }
    case Kind::Object:
      if (const Value* v = obj.as_object().find(name)) return *v;
      break;
    default:
      break;
  }
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", object_type_repr(obj), name));
}

Value Renderer::getitem(const Value& obj, const Value& key) {
  require_defined(obj);
  if (key.is_string()) {
    if (obj.is_dict()) {
      if (const Value* v = obj.as_dict().find(key.as_str().text)) return *v;
    }
    return getattr(obj, key.as_str().text);
  }
  if (key.is_integral() && (obj.is_list() || obj.is_string())) {
    int64_t i = key.as_int();
    if (obj.is_list()) {
      const auto& items = obj.as_list().items;
      const auto n = static_cast<int64_t>(items.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
    } else {
      const Str& s = obj.as_str();
      const std::vector<size_t> offsets = code_point_offsets(s.text);
      const auto n = static_cast<int64_t>(offsets.size()) - 1;
      if (i < 0) i += n;
      if (i >= 0 && i < n) {
        StrBuilder b;
        b.append(s, offsets[static_cast<size_t>(i)], offsets[static_cast<size_t>(i) + 1]);
        return Value::string(b.take());
      }
    }
  }
  StrBuilder k;
  append_repr(k, key);
  return Value::undefined(fmt::format("{} has no element {}", object_type_repr(obj), k.take().text));
}

}  // namespace sambay::jinja
