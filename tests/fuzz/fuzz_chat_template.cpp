// libFuzzer target: arbitrary bytes parsed as a chat template and rendered against a small fixed
// conversation. Malformed or hostile templates must end in sambay::Error, never in a crash, a hang
// or unbounded memory: the limits below keep each input to a few milliseconds and megabytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "sambay/base/error.h"
#include "sambay/text/chat_template.h"

namespace {

const nlohmann::json& messages() {
  static const nlohmann::json m = nlohmann::json::parse(R"([
    {"role": "system", "content": "You are terse.", "tools": "[{\"name\": \"calc\"}]"},
    {"role": "user", "content": "Hi <|end|> & 'you'\n  \u00e9\u65e5"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function",
      "function": {"name": "calc", "arguments": {"expr": "1+1", "n": [1, 2.5, null, true]}}}]},
    {"role": "tool", "content": "2"}
  ])");
  return m;
}

const nlohmann::json& extra() {
  static const nlohmann::json e = nlohmann::json::parse(R"({
    "tools": [{"type": "function", "function": {"name": "calc", "parameters": {"type": "object"}}}],
    "enable_thinking": false
  })");
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  sambay::ChatTemplateOptions options;
  options.max_output_bytes = size_t{1} << 20;
  options.max_value_bytes = size_t{1} << 20;
  options.max_steps = 200'000;
  options.max_work_bytes = uint64_t{32} << 20;
  options.transformers_tojson = size % 2 == 1;  // exercise both tojson flavours
  try {
    sambay::ChatTemplate tmpl(source, {{"bos_token", "<s>"}, {"eos_token", "</s>"}}, "fuzz");
    tmpl.set_options(options);
    (void)tmpl.render_segments(messages(), size % 3 == 0, extra());
  } catch (const sambay::Error&) {
    // Expected for malformed templates and exceeded limits.
  }
  return 0;
}
