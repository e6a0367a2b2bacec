#pragma once
// A model's chat template: the Jinja2 template a Hugging Face model ships (tokenizer_config.json's
// "chat_template", or chat_template.jinja beside it), rendered the way transformers'
// apply_chat_template renders it: jinja2 with trim_blocks and lstrip_blocks, the loopcontrols
// extension ({% break %}, {% continue %}), {% generation %} blocks, raise_exception() and
// strftime_now(), and the variables
//   messages, add_generation_prompt, tools (None unless given), documents (None unless given),
//   the special tokens (bos_token, eos_token, ...), and every key of `extra`.
// The interpreter (jinja_*.h) covers the part of Jinja2 that chat templates use; anything else is
// rejected with its line:column rather than rendered differently from Python.
//
// Provenance. render_segments() splits the output into text the template wrote and text that came
// from the caller's data, so a tokenizer can match special tokens such as <|user|> only in the
// former and encode user text as plain text (no prompt injection of role tokens). The rule:
//   - content: every string in `messages` and in `extra` (message content, tool definitions and
//     tool calls, names, ...), and the keys of objects there, EXCEPT
//   - template text: a message's "role" value (roles are the template's vocabulary, decorated as
//     '<|' + role + '|>'; callers must validate roles), the special tokens, literals and text in
//     the template, and numbers, booleans and None however they got into the output.
// Provenance follows the bytes: concatenation, slicing, join, replace, trim/strip, upper/lower,
// split and the like keep each byte's origin; str() of a list or dict, and tojson, mark the whole
// result as content when anything inside it is content.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sambay {

namespace jinja {
struct Template;
}

// Special tokens by variable name ("bos_token" -> "<|endoftext|>").
using SpecialTokens = std::map<std::string, std::string>;

struct RenderedSegment {
  std::string text;
  bool from_content = false;
};

struct ChatTemplateOptions {
  // Bounds on one render; exceeding one is an error. They keep hostile templates from hanging the
  // server or exhausting its memory.
  size_t max_output_bytes = size_t{64} << 20;
  size_t max_value_bytes = size_t{64} << 20;    // any one string or list built on the way
  uint64_t max_steps = 50'000'000;              // expressions evaluated plus loop iterations
  uint64_t max_work_bytes = uint64_t{4} << 30;  // bytes built by string and list operations
  // transformers overrides jinja2's tojson with json.dumps(ensure_ascii=False, sort_keys=False) and
  // no HTML escaping. false (the default) keeps jinja2's own tojson: keys sorted, non-ASCII and
  // <>&' escaped as \uXXXX, and a Markup result.
  bool transformers_tojson = false;
};

class ChatTemplate {
 public:
  // Reads <dir>/chat_template.jinja if present, else tokenizer_config.json's chat_template (a
  // string, or a list of {name, template} from which `name` is taken). Special tokens come from
  // tokenizer_config.json, then special_tokens_map.json for those it lacks. Renders with
  // transformers_tojson, as transformers' apply_chat_template does.
  static ChatTemplate from_model_dir(const std::filesystem::path& dir, const std::string& name = "default");

  // Parses the template now; throws sambay::Error "<origin>:<line>:<col>: <what>" if malformed or
  // outside the supported subset. `origin` names the template in error messages.
  ChatTemplate(std::string source, SpecialTokens tokens, std::string origin = "chat template");

  // `messages` is a JSON array of message objects ({"role", "content", ...}); `extra` an object of
  // further variables (tools, documents, enable_thinking, ...). Throws sambay::Error.
  std::string render(const nlohmann::json& messages, bool add_generation_prompt,
                     const nlohmann::json& extra = nlohmann::json::object()) const;
  std::vector<RenderedSegment> render_segments(const nlohmann::json& messages, bool add_generation_prompt,
                                               const nlohmann::json& extra = nlohmann::json::object()) const;
  // The same for ordered_json, whose objects keep their key order as Python dicts do (this shows in
  // templates that iterate over a dict, e.g. tool parameters); nlohmann::json sorts keys.
  std::string render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                     const nlohmann::ordered_json& extra = nlohmann::ordered_json::object()) const;
  std::vector<RenderedSegment> render_segments(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                               const nlohmann::ordered_json& extra = nlohmann::ordered_json::object()) const;

  void set_options(const ChatTemplateOptions& options) { options_ = options; }
  const ChatTemplateOptions& options() const { return options_; }
  const std::string& source() const { return source_; }
  const SpecialTokens& special_tokens() const { return tokens_; }

 private:
  static ChatTemplate load_from_model_dir(const std::filesystem::path& dir, const std::string& name);
  template <class Json>
  std::vector<RenderedSegment> render_impl(const Json& messages, bool add_generation_prompt, const Json& extra) const;

  std::string source_;
  SpecialTokens tokens_;
  std::string origin_;
  ChatTemplateOptions options_;
  std::shared_ptr<const jinja::Template> tmpl_;
};

}  // namespace sambay
