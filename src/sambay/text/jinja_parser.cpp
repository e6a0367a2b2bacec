#include "sambay/text/jinja_parser.h"

#include <algorithm>
#include <initializer_list>

#include "sambay/base/error.h"
#include "sambay/text/jinja_builtins.h"
#include "sambay/text/jinja_lexer.h"

namespace sambay::jinja {

namespace {

bool is_constant_name(std::string_view name) {
  return name == "true" || name == "false" || name == "True" || name == "False" || name == "none" ||
         name == "None";
}

bool is_unsupported_tag(std::string_view name) {
  static constexpr std::string_view kTags[] = {"macro", "call",    "filter", "block", "extends",   "include",
                                               "import", "from",   "with",   "autoescape", "do", "trans"};
  return std::find(std::begin(kTags), std::end(kTags), name) != std::end(kTags);
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::string& origin) : toks_(std::move(tokens)), origin_(origin) {}

  Body parse_root() { return parse_body({}, nullptr); }

 private:
  // ---- token stream ----
  const Token& cur() const { return toks_[i_]; }
  const Token& look(size_t k = 1) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  void advance() {
    if (cur().type != Tok::End) ++i_;
  }
  bool at_op(std::string_view op) const { return cur().type == Tok::Op && cur().text == op; }
  bool at_name(std::string_view name) const { return cur().type == Tok::Name && cur().text == name; }
  bool skip_op(std::string_view op) {
    if (!at_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!at_name(name)) return false;
    advance();
    return true;
  }

  static std::string describe_token(const Token& t) {
    switch (t.type) {
      case Tok::Name:
      case Tok::Op:
      case Tok::Integer:
      case Tok::Float:
        return "'" + t.text + "'";
      case Tok::String:
        return "string";
      default:
        return describe(t.type);
    }
  }

  template <class... Args>
  [[noreturn]] void fail_at(Pos pos, fmt::format_string<Args...> format, Args&&... args) const {
    fail("{}:{}:{}: {}", origin_, pos.line, pos.col, fmt::format(format, std::forward<Args>(args)...));
  }

  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail_at(cur().pos, "expected '{}', got {}", op, describe_token(cur()));
  }
  void expect(Tok type) {
    if (cur().type != type) fail_at(cur().pos, "expected {}, got {}", describe(type), describe_token(cur()));
    advance();
  }
  // Ends a tag; jinja2 tolerates a Python-style ':' before `%}`.
  void expect_block_end() {
    skip_op(":");
    expect(Tok::BlockEnd);
  }
  std::string expect_name() {
    if (cur().type != Tok::Name) fail_at(cur().pos, "expected a name, got {}", describe_token(cur()));
    std::string name = cur().text;
    advance();
    return name;
  }

  // ---- nesting bounds ----
  struct DepthGuard {
    DepthGuard(Parser& p, Pos pos) : p(p) {
      if (++p.depth_ > kMaxNesting) p.fail_at(pos, "template nested deeper than {} levels", kMaxNesting);
    }
    ~DepthGuard() { --p.depth_; }
    Parser& p;
  };

  ExprPtr node(ExprKind kind, Pos pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }

  ExprPtr finish(ExprPtr e) {
    int h = 0;
    for (const auto& a : e->args)
      if (a) h = std::max(h, a->height);
    for (const auto& [k, a] : e->kwargs) h = std::max(h, a->height);
    for (const auto& [k, v] : e->dict_items) h = std::max({h, k->height, v->height});
    e->height = h + 1;
    if (e->height > kMaxExprHeight) fail_at(e->pos, "expression nested deeper than {} levels", kMaxExprHeight);
    return e;
  }

  ExprPtr unary(ExprKind kind, Pos pos, ExprPtr operand) {
    auto e = node(kind, pos);
    e->args.push_back(std::move(operand));
    return finish(std::move(e));
  }

  ExprPtr binary(ExprKind kind, Pos pos, ExprPtr a, ExprPtr b) {
    auto e = node(kind, pos);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return finish(std::move(e));
  }

  // ---- statements ----
  struct OpenBlock {
    std::string name;
    Pos pos;
  };

  Body parse_body(std::initializer_list<std::string_view> ends, std::string* ended) {
    Body body;
    while (true) {
      const Token& t = cur();
      switch (t.type) {
        case Tok::Text: {
          auto s = std::make_unique<Stmt>();
          s->kind = StmtKind::Text;
          s->pos = t.pos;
          s->text = t.text;
          body.push_back(std::move(s));
          advance();
          break;
        }
        case Tok::VarBegin: {
          auto s = std::make_unique<Stmt>();
          s->kind = StmtKind::Output;
          s->pos = t.pos;
          advance();
          s->expr = parse_tuple(true, false, {});
          expect(Tok::VarEnd);
          body.push_back(std::move(s));
          break;
        }
        case Tok::BlockBegin: {
          const Pos pos = t.pos;
          advance();
          if (cur().type != Tok::Name) fail_at(cur().pos, "expected a tag name, got {}", describe_token(cur()));
          const std::string name = cur().text;
          if (std::find(ends.begin(), ends.end(), name) != ends.end()) {
            advance();
            *ended = name;
            return body;
          }
          body.push_back(parse_statement(pos));
          break;
        }
        case Tok::End:
          if (ends.size() != 0) {
            const OpenBlock& open = blocks_.back();
            fail_at(open.pos, "unclosed '{{% {} %}}' tag: missing '{{% end{} %}}'", open.name, open.name);
          }
          return body;
        default:
          fail_at(t.pos, "unexpected {}", describe_token(t));
      }
    }
  }

  StmtPtr make_stmt(StmtKind kind, Pos pos) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->pos = pos;
    return s;
  }

  // The cursor is on the tag name, just after `{%`.
  StmtPtr parse_statement(Pos pos) {
    DepthGuard guard(*this, pos);
    const std::string name = cur().text;
    if (name == "for") return parse_for(pos);
    if (name == "if") return parse_if(pos);
    if (name == "set") return parse_set(pos);
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) fail_at(cur().pos, "'{}' outside a for loop", name);
      advance();
      expect(Tok::BlockEnd);
      return make_stmt(name == "break" ? StmtKind::Break : StmtKind::Continue, pos);
    }
    if (name == "generation") {
      advance();
      expect_block_end();
      auto s = make_stmt(StmtKind::Block, pos);
      blocks_.push_back({name, pos});
      std::string ended;
      s->body = parse_body({"endgeneration"}, &ended);
      blocks_.pop_back();
      expect(Tok::BlockEnd);
      return s;
    }
    if (name == "print") {
      advance();
      auto s = make_stmt(StmtKind::Output, pos);
      s->expr = parse_tuple(true, false, {});
      expect(Tok::BlockEnd);
      return s;
    }
    if (name.rfind("end", 0) == 0 || name == "elif" || name == "else") {
      if (blocks_.empty()) fail_at(cur().pos, "unexpected '{{% {} %}}' outside any block", name);
      const OpenBlock& open = blocks_.back();
      fail_at(cur().pos, "unexpected '{{% {} %}}': the innermost open block is '{{% {} %}}' from line {}:{}", name,
              open.name, open.pos.line, open.pos.col);
    }
    if (is_unsupported_tag(name)) fail_at(cur().pos, "unsupported tag '{{% {} %}}'", name);
    fail_at(cur().pos, "unknown tag '{{% {} %}}'", name);
  }

  // `name`, `a, b`, `(a, b)`: fills targets, sets unpack for tuples.
  void parse_assign_target(Stmt& s, std::string_view extra_end) {
    auto one = [&] {
      const Token& t = cur();
      if (t.type != Tok::Name) fail_at(t.pos, "expected a variable name to assign to, got {}", describe_token(t));
      if (is_constant_name(t.text)) fail_at(t.pos, "cannot assign to '{}'", t.text);
      s.targets.push_back(t.text);
      advance();
    };
    if (at_op("(")) {
      advance();
      s.unpack = true;
      while (!at_op(")")) {
        if (!s.targets.empty()) expect_op(",");
        if (at_op(")")) break;
        one();
      }
      advance();
      return;
    }
    while (true) {
      one();
      if (!skip_op(",")) break;
      s.unpack = true;
      if (cur().type == Tok::BlockEnd || at_op("=") || (!extra_end.empty() && at_name(extra_end))) break;
    }
  }

  StmtPtr parse_for(Pos pos) {
    advance();
    auto s = make_stmt(StmtKind::For, pos);
    parse_assign_target(*s, "in");
    if (!skip_name("in")) fail_at(cur().pos, "expected 'in' in for loop, got {}", describe_token(cur()));
    s->expr = parse_tuple(false, false, "recursive");
    if (skip_name("if")) s->cond = parse_expression();
    if (at_name("recursive")) fail_at(cur().pos, "recursive for loops are not supported");
    expect_block_end();
    blocks_.push_back({"for", pos});
    ++loop_depth_;
    std::string ended;
    s->body = parse_body({"endfor", "else"}, &ended);
    --loop_depth_;
    if (ended == "else") {
      expect_block_end();
      s->else_body = parse_body({"endfor"}, &ended);
    }
    blocks_.pop_back();
    expect(Tok::BlockEnd);
    return s;
  }

  StmtPtr parse_if(Pos pos) {
    advance();
    auto s = make_stmt(StmtKind::If, pos);
    blocks_.push_back({"if", pos});
    std::string ended = "elif";
    while (ended == "elif") {
      ExprPtr cond = parse_tuple(false, false, {});
      expect_block_end();
      Body body = parse_body({"elif", "else", "endif"}, &ended);
      s->branches.emplace_back(std::move(cond), std::move(body));
    }
    if (ended == "else") {
      expect_block_end();
      s->else_body = parse_body({"endif"}, &ended);
    }
    blocks_.pop_back();
    expect(Tok::BlockEnd);
    return s;
  }

  StmtPtr parse_set(Pos pos) {
    advance();
    if (cur().type == Tok::Name && look().type == Tok::Op && look().text == ".") {
      auto s = make_stmt(StmtKind::SetNamespace, pos);
      s->text = cur().text;
      advance();
      advance();
      s->attr = expect_name();
      expect_op("=");
      s->expr = parse_tuple(true, false, {});
      expect(Tok::BlockEnd);
      return s;
    }
    auto s = make_stmt(StmtKind::Set, pos);
    parse_assign_target(*s, {});
    if (skip_op("=")) {
      s->expr = parse_tuple(true, false, {});
      expect(Tok::BlockEnd);
      return s;
    }
    if (at_op("|")) fail_at(cur().pos, "filtered block assignment ({{% set x | filter %}}) is not supported");
    if (s->unpack) fail_at(cur().pos, "a block assignment takes a single name");
    expect(Tok::BlockEnd);
    s->kind = StmtKind::SetBlock;
    blocks_.push_back({"set", pos});
    std::string ended;
    s->body = parse_body({"endset"}, &ended);
    blocks_.pop_back();
    expect(Tok::BlockEnd);
    return s;
  }

  // ---- expressions (jinja2's precedence, loosest first) ----

  bool is_tuple_end(std::string_view extra_end) const {
    if (cur().type == Tok::VarEnd || cur().type == Tok::BlockEnd || at_op(")")) return true;
    return !extra_end.empty() && at_name(extra_end);
  }

  ExprPtr parse_tuple(bool with_condexpr, bool explicit_parens, std::string_view extra_end) {
    const Pos pos = cur().pos;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      items.push_back(with_condexpr ? parse_expression() : parse_or());
      if (at_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) fail_at(cur().pos, "expected an expression, got {}", describe_token(cur()));
    }
    auto e = node(ExprKind::Tuple, pos);
    e->args = std::move(items);
    return finish(std::move(e));
  }

  ExprPtr parse_expression() {
    DepthGuard guard(*this, cur().pos);
    return parse_condexpr();
  }

  ExprPtr parse_condexpr() {
    ExprPtr e1 = parse_or();
    while (at_name("if")) {
      const Pos pos = cur().pos;
      advance();
      ExprPtr e2 = parse_or();
      ExprPtr e3;
      if (skip_name("else")) e3 = parse_condexpr();
      auto e = node(ExprKind::Cond, pos);
      e->args.push_back(std::move(e2));
      e->args.push_back(std::move(e1));
      e->args.push_back(std::move(e3));
      e1 = finish(std::move(e));
    }
    return e1;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (at_name("or")) {
      const Pos pos = cur().pos;
      advance();
      left = binary(ExprKind::Or, pos, std::move(left), parse_and());
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (at_name("and")) {
      const Pos pos = cur().pos;
      advance();
      left = binary(ExprKind::And, pos, std::move(left), parse_not());
    }
    return left;
  }

  ExprPtr parse_not() {
    if (at_name("not")) {
      const Pos pos = cur().pos;
      DepthGuard guard(*this, pos);
      advance();
      return unary(ExprKind::Not, pos, parse_not());
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const Pos pos = cur().pos;
    ExprPtr first = parse_math1();
    std::vector<CmpOp> ops;
    std::vector<ExprPtr> operands;
    while (true) {
      CmpOp op;
      if (at_op("==")) {
        op = CmpOp::Eq;
      } else if (at_op("!=")) {
        op = CmpOp::Ne;
      } else if (at_op("<")) {
        op = CmpOp::Lt;
      } else if (at_op("<=")) {
        op = CmpOp::Le;
      } else if (at_op(">")) {
        op = CmpOp::Gt;
      } else if (at_op(">=")) {
        op = CmpOp::Ge;
      } else if (at_name("in")) {
        op = CmpOp::In;
      } else if (at_name("not") && look().type == Tok::Name && look().text == "in") {
        advance();
        op = CmpOp::NotIn;
      } else {
        break;
      }
      advance();
      ops.push_back(op);
      operands.push_back(parse_math1());
    }
    if (ops.empty()) return first;
    auto e = node(ExprKind::Compare, pos);
    e->args.push_back(std::move(first));
    for (auto& o : operands) e->args.push_back(std::move(o));
    e->cmp_ops = std::move(ops);
    return finish(std::move(e));
  }

  ExprPtr arith(BinOp op, Pos pos, ExprPtr a, ExprPtr b) {
    auto e = binary(ExprKind::Binary, pos, std::move(a), std::move(b));
    e->binop = op;
    return e;
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (at_op("+") || at_op("-")) {
      const BinOp op = at_op("+") ? BinOp::Add : BinOp::Sub;
      const Pos pos = cur().pos;
      advance();
      left = arith(op, pos, std::move(left), parse_concat());
    }
    return left;
  }

  ExprPtr parse_concat() {
    const Pos pos = cur().pos;
    ExprPtr first = parse_math2();
    if (!at_op("~")) return first;
    auto e = node(ExprKind::Concat, pos);
    e->args.push_back(std::move(first));
    while (skip_op("~")) e->args.push_back(parse_math2());
    return finish(std::move(e));
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (true) {
      BinOp op;
      if (at_op("*")) {
        op = BinOp::Mul;
      } else if (at_op("/")) {
        op = BinOp::Div;
      } else if (at_op("//")) {
        op = BinOp::FloorDiv;
      } else if (at_op("%")) {
        op = BinOp::Mod;
      } else {
        break;
      }
      const Pos pos = cur().pos;
      advance();
      left = arith(op, pos, std::move(left), parse_pow());
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (at_op("**")) {
      const Pos pos = cur().pos;
      advance();
      left = arith(BinOp::Pow, pos, std::move(left), parse_unary(true));
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    const Pos pos = cur().pos;
    DepthGuard guard(*this, pos);
    ExprPtr e;
    if (at_op("-")) {
      advance();
      e = unary(ExprKind::Neg, pos, parse_unary(false));
    } else if (at_op("+")) {
      advance();
      e = unary(ExprKind::Plus, pos, parse_unary(false));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr constant(Pos pos, Value v) {
    auto e = node(ExprKind::Const, pos);
    e->value = std::move(v);
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    const Pos pos = t.pos;
    switch (t.type) {
      case Tok::Name: {
        ExprPtr e;
        if (t.text == "true" || t.text == "True") {
          e = constant(pos, Value::boolean(true));
        } else if (t.text == "false" || t.text == "False") {
          e = constant(pos, Value::boolean(false));
        } else if (t.text == "none" || t.text == "None") {
          e = constant(pos, Value::none());
        } else {
          e = node(ExprKind::Name, pos);
          e->name = t.text;
        }
        advance();
        return e;
      }
      case Tok::String: {
        std::string text;
        while (cur().type == Tok::String) {  // adjacent literals concatenate, as in Python
          text += cur().text;
          advance();
        }
        return constant(pos, Value::string(std::move(text)));
      }
      case Tok::Integer: {
        auto e = constant(pos, Value::integer(t.int_value));
        advance();
        return e;
      }
      case Tok::Float: {
        auto e = constant(pos, Value::number(t.float_value));
        advance();
        return e;
      }
      case Tok::Op:
        if (t.text == "(") {
          advance();
          ExprPtr e = parse_tuple(true, true, {});
          expect_op(")");
          return e;
        }
        if (t.text == "[") return parse_list();
        if (t.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    fail_at(pos, "unexpected {}", describe_token(t));
  }

  ExprPtr parse_list() {
    auto e = node(ExprKind::List, cur().pos);
    advance();
    while (!at_op("]")) {
      if (!e->args.empty()) expect_op(",");
      if (at_op("]")) break;
      e->args.push_back(parse_expression());
    }
    advance();
    return finish(std::move(e));
  }

  ExprPtr parse_dict() {
    auto e = node(ExprKind::Dict, cur().pos);
    advance();
    while (!at_op("}")) {
      if (!e->dict_items.empty()) expect_op(",");
      if (at_op("}")) break;
      ExprPtr key = parse_expression();
      expect_op(":");
      ExprPtr value = parse_expression();
      e->dict_items.emplace_back(std::move(key), std::move(value));
    }
    advance();
    return finish(std::move(e));
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (at_op(".") || at_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (at_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (at_op("|")) {
        e = parse_filter(std::move(e));
      } else if (at_name("is")) {
        e = parse_test(std::move(e));
      } else if (at_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  struct Subscript {
    bool is_slice = false;
    ExprPtr expr;
    ExprPtr parts[3];
  };

  Subscript parse_subscribed() {
    Subscript s;
    if (at_op(":")) {
      advance();
    } else {
      ExprPtr e = parse_expression();
      if (!at_op(":")) {
        s.expr = std::move(e);
        return s;
      }
      advance();
      s.parts[0] = std::move(e);
    }
    s.is_slice = true;
    if (!at_op(":") && !at_op("]") && !at_op(",")) s.parts[1] = parse_expression();
    if (skip_op(":")) {
      if (!at_op("]") && !at_op(",")) s.parts[2] = parse_expression();
    }
    return s;
  }

  ExprPtr parse_subscript(ExprPtr subject) {
    const Pos pos = cur().pos;
    if (skip_op(".")) {
      const Token& t = cur();
      if (t.type == Tok::Name) {
        auto e = node(ExprKind::GetAttr, pos);
        e->args.push_back(std::move(subject));
        e->name = t.text;
        advance();
        return finish(std::move(e));
      }
      if (t.type != Tok::Integer) fail_at(t.pos, "expected a name or number after '.', got {}", describe_token(t));
      auto e = node(ExprKind::GetItem, pos);
      e->args.push_back(std::move(subject));
      e->args.push_back(constant(t.pos, Value::integer(t.int_value)));
      advance();
      return finish(std::move(e));
    }
    advance();  // '['
    std::vector<Subscript> subs;
    while (!at_op("]")) {
      if (!subs.empty()) expect_op(",");
      subs.push_back(parse_subscribed());
    }
    advance();
    if (subs.empty()) fail_at(pos, "empty subscript");
    if (subs.size() == 1 && subs[0].is_slice) {
      auto e = node(ExprKind::Slice, pos);
      e->args.push_back(std::move(subject));
      for (auto& part : subs[0].parts) e->args.push_back(std::move(part));
      return finish(std::move(e));
    }
    auto e = node(ExprKind::GetItem, pos);
    e->args.push_back(std::move(subject));
    if (subs.size() == 1) {
      e->args.push_back(std::move(subs[0].expr));
    } else {
      auto key = node(ExprKind::Tuple, pos);
      for (auto& sub : subs) {
        if (sub.is_slice) fail_at(pos, "slices inside a multi-part subscript are not supported");
        key->args.push_back(std::move(sub.expr));
      }
      e->args.push_back(finish(std::move(key)));
    }
    return finish(std::move(e));
  }

  // Fills e->args (after the subject already there) and e->kwargs from `( ... )`.
  void parse_call_args(Expr& e) {
    expect_op("(");
    bool require_comma = false;
    bool any_kw = false;
    while (!at_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (at_op(")")) break;
      }
      if (at_op("*") || at_op("**")) fail_at(cur().pos, "*args and **kwargs in calls are not supported");
      if (cur().type == Tok::Name && look().type == Tok::Op && look().text == "=") {
        const Pos pos = cur().pos;
        std::string key = cur().text;
        advance();
        advance();
        for (const auto& [k, v] : e.kwargs)
          if (k == key) fail_at(pos, "keyword argument '{}' repeated", key);
        e.kwargs.emplace_back(std::move(key), parse_expression());
        any_kw = true;
      } else {
        if (any_kw) fail_at(cur().pos, "positional argument follows keyword argument");
        e.args.push_back(parse_expression());
      }
      require_comma = true;
    }
    advance();
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto e = node(ExprKind::Call, callee->pos);
    e->args.push_back(std::move(callee));
    parse_call_args(*e);
    return finish(std::move(e));
  }

  std::string parse_dotted_name() {
    std::string name = expect_name();
    while (at_op(".")) {
      advance();
      name += '.';
      name += expect_name();
    }
    return name;
  }

  ExprPtr parse_filter(ExprPtr subject) {
    advance();  // '|'
    const Pos pos = cur().pos;
    auto e = node(ExprKind::Filter, pos);
    e->name = parse_dotted_name();
    e->filter = find_filter(e->name);
    if (!e->filter) {
      if (is_unsupported_jinja_filter(e->name)) fail_at(pos, "filter '{}' is not supported", e->name);
      fail_at(pos, "unknown filter '{}'", e->name);
    }
    e->args.push_back(std::move(subject));
    if (at_op("(")) parse_call_args(*e);
    return finish(std::move(e));
  }

  ExprPtr parse_test(ExprPtr subject) {
    advance();  // 'is'
    auto e = node(ExprKind::Test, cur().pos);
    e->negated = skip_name("not");
    const Pos pos = cur().pos;
    e->pos = pos;
    e->name = parse_dotted_name();
    e->test = find_test(e->name);
    if (!e->test) {
      if (is_unsupported_jinja_test(e->name)) fail_at(pos, "test '{}' is not supported", e->name);
      fail_at(pos, "unknown test '{}'", e->name);
    }
    e->args.push_back(std::move(subject));
    const Token& t = cur();
    if (at_op("(")) {
      parse_call_args(*e);
    } else if ((t.type == Tok::Name || t.type == Tok::String || t.type == Tok::Integer || t.type == Tok::Float ||
                at_op("[") || at_op("{")) &&
               !at_name("else") && !at_name("or") && !at_name("and")) {
      if (at_name("is")) fail_at(t.pos, "tests cannot be chained with 'is'");
      e->args.push_back(parse_postfix(parse_primary()));
    }
    return finish(std::move(e));
  }

  std::vector<Token> toks_;
  size_t i_ = 0;
  const std::string& origin_;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::vector<OpenBlock> blocks_;
};

}  // namespace

Template parse_template(std::string_view source, std::string origin) {
  Template t;
  t.origin = std::move(origin);
  Parser parser(lex_template(source, t.origin), t.origin);
  t.body = parser.parse_root();
  return t;
}

}  // namespace sambay::jinja
