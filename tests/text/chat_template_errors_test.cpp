// Errors name the construct and its line:column; unsupported Jinja fails instead of misrendering;
// limits stop hostile templates.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "sambay/base/error.h"
#include "sambay/text/chat_template.h"

namespace sambay {
namespace {

const nlohmann::json kHi = nlohmann::json::array({{{"role", "user"}, {"content", "hi"}}});

// The error text of parsing and rendering `source`, or "" if it rendered.
std::string error_of(const std::string& source, const ChatTemplateOptions& options = {}) {
  try {
    ChatTemplate t(source, {}, "t");
    t.set_options(options);
    t.render(kHi, true);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ChatTemplateErrors, SyntaxErrorsNamePosition) {
  EXPECT_EQ(error_of("{{ x|frobnicate }}"), "t:1:6: unknown filter 'frobnicate'");
  EXPECT_EQ(error_of("{{ x is frobnicate }}"), "t:1:9: unknown test 'frobnicate'");
  EXPECT_EQ(error_of("line1\n{% if x %}\nbody"), "t:2:1: unclosed '{% if %}' tag: missing '{% endif %}'");
  EXPECT_EQ(error_of("{% for m in messages %}{% if m %}{% endfor %}"),
            "t:1:37: unexpected '{% endfor %}': the innermost open block is '{% if %}' from line 1:24");
  EXPECT_EQ(error_of("a\n  {{ 'abc }}"), "t:2:6: unterminated string literal");
  EXPECT_EQ(error_of("{% endif %}"), "t:1:4: unexpected '{% endif %}' outside any block");
  EXPECT_EQ(error_of("{{ 1 + }}"), "t:1:8: unexpected end of print statement");
  EXPECT_EQ(error_of("{{ x "), "t:1:1: unclosed '{{' tag: missing '}}'");
  EXPECT_EQ(error_of("{# x"), "t:1:1: missing end of comment tag");
  EXPECT_EQ(error_of("{{ (1 }}"), "t:1:7: unexpected '}', expected ')'");
  EXPECT_EQ(error_of("{{ 1 $ 2 }}"), "t:1:6: unexpected character '$' in tag");
  EXPECT_EQ(error_of("{% frob %}"), "t:1:4: unknown tag '{% frob %}'");
  EXPECT_EQ(error_of("{% break %}"), "t:1:4: 'break' outside a for loop");
  EXPECT_EQ(error_of("{{ 99999999999999999999 }}"),
            "t:1:4: integer literal 99999999999999999999 is too large (templates use 64-bit integers)");
  EXPECT_EQ(error_of(std::string("{{ 'a\xff' }}")), "t:1:6: template is not valid UTF-8");
}

TEST(ChatTemplateErrors, UnsupportedJinjaIsRejected) {
  EXPECT_EQ(error_of("{% macro m() %}x{% endmacro %}"), "t:1:4: unsupported tag '{% macro %}'");
  EXPECT_EQ(error_of("{% include 'x' %}"), "t:1:4: unsupported tag '{% include %}'");
  EXPECT_EQ(error_of("{{ 1.5|round }}"), "t:1:8: filter 'round' is not supported");
  EXPECT_EQ(error_of("{% for x in y recursive %}{% endfor %}"), "t:1:15: recursive for loops are not supported");
  EXPECT_EQ(error_of("{{ f(*a) }}"), "t:1:6: *args and **kwargs in calls are not supported");
  EXPECT_EQ(error_of("{% set x | upper %}a{% endset %}"),
            "t:1:10: filtered block assignment ({% set x | filter %}) is not supported");
  EXPECT_EQ(error_of("{{ '%y' % 1 }}"), "t:1:9: unsupported format character 'y' at index 1");
  EXPECT_EQ(error_of("{{ 'x'.format(1) }}"), "t:1:7: str.format() is not supported");
  EXPECT_EQ(error_of("{{ 2 ** 64 }}"), "t:1:6: integer overflow (template integers are 64-bit)");
  EXPECT_EQ(error_of("{{ {1: 2} }}"), "t:1:4: dict keys must be strings here, got int");
}

TEST(ChatTemplateErrors, RuntimeErrorsNamePositionAndCause) {
  EXPECT_EQ(error_of("{{ 'a' }}\n  {{ 1 + 'a' }}"), "t:2:8: unsupported operand type(s) for +: 'int' and 'str'");
  EXPECT_EQ(error_of("{{ foo.bar }}"), "t:1:7: 'foo' is undefined");
  EXPECT_EQ(error_of("{{ messages[0].nope.x }}"), "t:1:20: 'dict object' has no attribute 'nope'");
  EXPECT_EQ(error_of("{% if messages|length > 1 %}{% else %}{{ raise_exception('need two') }}{% endif %}"),
            "t:1:42: raise_exception: need two");
  EXPECT_EQ(error_of("{% for a, b, c in messages %}{% endfor %}"),
            "t:1:1: not enough values to unpack (expected 3, got 2)");
}

TEST(ChatTemplateErrors, LimitsStopRunawayTemplates) {
  ChatTemplateOptions small;
  small.max_output_bytes = 1000;
  EXPECT_NE(error_of("{% for i in range(1000) %}xxxxxxxxxx{% endfor %}", small).find("output exceeds the limit of 1000"),
            std::string::npos);
  ChatTemplateOptions steps;
  steps.max_steps = 100000;
  EXPECT_NE(error_of("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", steps)
                .find("evaluation steps"),
            std::string::npos);
  EXPECT_NE(error_of("{{ 'x' * 100000000000 }}").find("exceeds the limit"), std::string::npos);
  ChatTemplateOptions work;
  work.max_work_bytes = 100 << 20;
  EXPECT_NE(error_of("{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{% set t = s ~ s %}{% endfor %}", work)
                .find("work limit"),
            std::string::npos);
  EXPECT_NE(error_of("{{ range(10**9)|length }}").find("Range too big"), std::string::npos);
  // Shared structure multiplies in repr/tojson: the bound applies to the string as it is built.
  ChatTemplateOptions tight;
  tight.max_value_bytes = 1 << 20;
  EXPECT_NE(error_of("{% set s = 'x' * 100000 %}{% set l = [s] * 60 %}{{ [l] * 1000 }}", tight).find("exceeds the limit"),
            std::string::npos);
  EXPECT_NE(error_of("{% set s = 'x' * 100000 %}{% set l = [s] * 60 %}{{ ([l] * 1000)|tojson }}", tight)
                .find("exceeds the limit"),
            std::string::npos);
  EXPECT_NE(error_of("{% set s = 'x' * 100000 %}{% for i in range(100000) %}{% set t = [s, s]|string %}{% endfor %}", work)
                .find("work limit"),
            std::string::npos);
}

TEST(ChatTemplateErrors, NestingIsBounded) {
  EXPECT_NE(error_of("{{ " + std::string(1000, '(') + "1" + std::string(1000, ')') + " }}").find("nested deeper"),
            std::string::npos);
  std::string ifs;
  for (int i = 0; i < 200; ++i) ifs += "{% if true %}";
  EXPECT_NE(error_of(ifs).find("nested deeper"), std::string::npos);
  std::string sum = "{{ 1";
  for (int i = 0; i < 2000; ++i) sum += " + 1";
  EXPECT_NE(error_of(sum + " }}").find("expression nested deeper"), std::string::npos);
  EXPECT_NE(error_of("{{ " + std::string(500, '-') + "1 }}").find("nested deeper"), std::string::npos);
  EXPECT_NE(error_of("{% set ns = namespace(x=[]) %}{% for i in range(200) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}")
                .find("value nested deeper than 100 levels"),
            std::string::npos);
  // Within the bounds, deep but legal templates work.
  EXPECT_EQ(error_of("{{ " + std::string(20, '(') + "1" + std::string(20, ')') + " }}"), "");
}

}  // namespace
}  // namespace sambay
