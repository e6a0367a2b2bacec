#pragma once
// The parsed form of a template: statements and expressions with their source positions.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sambay/text/jinja_value.h"

namespace sambay::jinja {

struct Pos {
  int line = 0;
  int col = 0;  // 1-based, in code points
};

enum class ExprKind : uint8_t {
  Const,    // value
  Name,     // name
  List,     // args = items
  Tuple,    // args = items
  Dict,     // dict_items
  GetAttr,  // args[0].name
  GetItem,  // args[0][args[1]]
  Slice,    // args[0][args[1]:args[2]:args[3]], absent parts null
  Call,     // args[0](args[1:], kwargs)
  Filter,   // args[0] | filter(args[1:], kwargs)
  Test,     // args[0] is [not] test(args[1:], kwargs)
  Neg,
  Plus,
  Not,
  And,
  Or,
  Binary,   // args[0] binop args[1]
  Concat,   // args joined with ~
  Compare,  // args[0] cmp_ops[0] args[1] cmp_ops[1] args[2] ...
  Cond,     // args[1] if args[0] else args[2] (args[2] may be null)
};

enum class BinOp : uint8_t { Add, Sub, Mul, Div, FloorDiv, Mod, Pow };
enum class CmpOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };

using FilterFn = Value (*)(Renderer&, const Value& input, CallArgs& args);
using TestFn = bool (*)(Renderer&, const Value& input, CallArgs& args);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind;
  Pos pos;
  Value value;
  std::string name;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::pair<ExprPtr, ExprPtr>> dict_items;
  std::vector<CmpOp> cmp_ops;
  BinOp binop = BinOp::Add;
  bool negated = false;  // `is not`
  int height = 1;        // longest path to a leaf, bounded by the parser
  FilterFn filter = nullptr;
  TestFn test = nullptr;
};

enum class StmtKind : uint8_t {
  Text,          // text
  Output,        // {{ expr }}
  If,            // branches, else_body
  For,           // targets in expr [if cond]: body [else else_body]
  Set,           // targets = expr
  SetNamespace,  // text.attr = expr
  SetBlock,      // {% set targets[0] %}body{% endset %}
  Break,
  Continue,
  Block,         // a body rendered as is ({% generation %})
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  StmtKind kind;
  Pos pos;
  std::string text;
  std::string attr;
  ExprPtr expr;
  ExprPtr cond;
  std::vector<std::string> targets;
  bool unpack = false;  // the target was a tuple: unpack each item into `targets`
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
};

struct Template {
  std::string origin;  // names the template in error messages
  Body body;
};

}  // namespace sambay::jinja
