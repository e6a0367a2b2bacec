#pragma once
// Executes a parsed template against variables, with jinja2's semantics and scoping: a for loop
// body gets a fresh scope per iteration ({% set %} inside it does not leak out, hence namespace()),
// if-blocks share the enclosing scope. Work is bounded by Limits so that no template can hang the
// caller or exhaust its memory; exceeding a limit is an error.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sambay/text/jinja_ast.h"
#include "sambay/text/jinja_value.h"

namespace sambay::jinja {

struct Limits {
  size_t max_output_bytes = size_t{64} << 20;  // the rendered text
  size_t max_value_bytes = size_t{64} << 20;   // any one string or list built while rendering
  uint64_t max_steps = 50'000'000;             // expressions evaluated plus loop iterations
  uint64_t max_work_bytes = uint64_t{4} << 30; // bytes built by string and list operations, in total
};

struct RenderOptions {
  Limits limits;
  // transformers' apply_chat_template replaces jinja2's tojson with json.dumps(ensure_ascii=False,
  // sort_keys=False) and no HTML escaping; false keeps jinja2's own filter.
  bool transformers_tojson = false;
};

class Renderer {
 public:
  Renderer(const Template& t, const RenderOptions& options);

  // `globals` are the template's variables; later entries with the same name win.
  Str render(std::vector<std::pair<std::string, Value>> globals);

  // ---- services for built-ins ----
  const RenderOptions& options() const { return options_; }
  void step();                 // one unit of work
  void charge(uint64_t bytes); // about to build a string or list of `bytes` bytes
  Value getattr(const Value& obj, std::string_view name);
  Value getitem(const Value& obj, const Value& key);

 private:
  enum class Flow { Normal, Break, Continue };
  Flow exec(const Body& body);
  Flow exec(const Stmt& s);
  Flow exec_for(const Stmt& s);
  Value eval(const Expr& e);
  Value eval_inner(const Expr& e);
  CallArgs eval_args(const Expr& e, size_t first);
  Value eval_slice(const Expr& e);
  void emit(const Value& v);
  void emit_text(std::string_view text);

  const Value* lookup(std::string_view name) const;
  void assign(const std::string& name, Value v);
  void assign_targets(const Stmt& s, const Value& v);

  const Template& tmpl_;
  const RenderOptions& options_;
  std::vector<std::vector<std::pair<std::string, Value>>> frames_;
  StrBuilder out_;
  StringBudget budget_;  // bounds strings and counts all work; StrBuilder appends count too
  uint64_t steps_ = 0;
};

// Python's arithmetic on template values (+ - * / // % **), unary minus and plus.
Value binary_op(Renderer& r, BinOp op, const Value& a, const Value& b);
Value negate(const Value& v);
// Python's printf-style `format % args` (format is a string).
Value percent_format(Renderer& r, const Value& format, const Value& args);
Value unary_plus(const Value& v);

}  // namespace sambay::jinja
