#include "sambay/text/chat_template.h"

#include <fstream>
#include <sstream>

#include "sambay/base/error.h"
#include "sambay/text/jinja_json.h"
#include "sambay/text/jinja_parser.h"
#include "sambay/text/jinja_render.h"

namespace sambay {

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read {}", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json read_json(const std::filesystem::path& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", path.string(), e.what());
  }
}

// transformers' SPECIAL_TOKENS_ATTRIBUTES, written as a string or as a serialised AddedToken.
void collect_special_tokens(const nlohmann::json& config, SpecialTokens& tokens) {
  static const char* kNames[] = {"bos_token", "eos_token", "unk_token", "pad_token",
                                 "sep_token", "cls_token", "mask_token"};
  if (!config.is_object()) return;
  for (const char* name : kNames) {
    if (tokens.count(name) || !config.contains(name)) continue;
    const auto& v = config[name];
    if (v.is_string()) {
      tokens[name] = v.get<std::string>();
    } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
      tokens[name] = v["content"].get<std::string>();
    }
  }
}

}  // namespace

ChatTemplate ChatTemplate::from_model_dir(const std::filesystem::path& dir, const std::string& name) {
  // A model folder's template is rendered the way transformers renders it (its own tojson).
  ChatTemplate t = load_from_model_dir(dir, name);
  ChatTemplateOptions options = t.options();
  options.transformers_tojson = true;
  t.set_options(options);
  return t;
}

ChatTemplate ChatTemplate::load_from_model_dir(const std::filesystem::path& dir, const std::string& name) {
  const auto config_path = dir / "tokenizer_config.json";
  nlohmann::json config;
  if (std::filesystem::exists(config_path)) config = read_json(config_path);
  SpecialTokens tokens;
  collect_special_tokens(config, tokens);
  const auto map_path = dir / "special_tokens_map.json";
  if (std::filesystem::exists(map_path)) collect_special_tokens(read_json(map_path), tokens);

  const auto named_path = dir / "additional_chat_templates" / (name + ".jinja");
  if (name != "default" && std::filesystem::exists(named_path))
    return ChatTemplate(read_file(named_path), std::move(tokens), named_path.string());
  const auto jinja_path = dir / "chat_template.jinja";
  if (name == "default" && std::filesystem::exists(jinja_path))
    return ChatTemplate(read_file(jinja_path), std::move(tokens), jinja_path.string());

  const std::string origin = config_path.string() + " chat_template";
  if (!config.is_object() || !config.contains("chat_template") || config["chat_template"].is_null())
    fail("{} has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja)", dir.string());
  const auto& ct = config["chat_template"];
  if (ct.is_string()) {
    if (name != "default") fail("{} has a single chat template, not one named '{}'", dir.string(), name);
    return ChatTemplate(ct.get<std::string>(), std::move(tokens), origin);
  }
  if (!ct.is_array()) fail("{}: chat_template must be a string or a list of {{name, template}}", config_path.string());
  std::string names;
  for (const auto& entry : ct) {
    if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") || !entry["name"].is_string() ||
        !entry["template"].is_string())
      fail("{}: chat_template list entries must be {{\"name\": ..., \"template\": ...}}", config_path.string());
    const std::string entry_name = entry["name"].get<std::string>();
    if (entry_name == name)
      return ChatTemplate(entry["template"].get<std::string>(), std::move(tokens), origin + " '" + name + "'");
    names += (names.empty() ? "" : ", ") + entry_name;
  }
  fail("{}: no chat template named '{}' (have: {})", config_path.string(), name, names);
}

ChatTemplate::ChatTemplate(std::string source, SpecialTokens tokens, std::string origin)
    : source_(std::move(source)), tokens_(std::move(tokens)), origin_(std::move(origin)) {
  tmpl_ = std::make_shared<jinja::Template>(jinja::parse_template(source_, origin_));
}

template <class Json>
std::vector<RenderedSegment> ChatTemplate::render_impl(const Json& messages, bool add_generation_prompt,
                                                       const Json& extra) const {
  std::vector<std::pair<std::string, jinja::Value>> globals;
  try {
    for (const auto& [name, text] : tokens_) globals.emplace_back(name, jinja::Value::string(text, false));
    globals.emplace_back("tools", jinja::Value::none());
    globals.emplace_back("documents", jinja::Value::none());
    globals.emplace_back("messages", jinja::messages_from_json(messages));
    globals.emplace_back("add_generation_prompt", jinja::Value::boolean(add_generation_prompt));
    if (!extra.is_null()) {
      if (!extra.is_object()) fail("{}: extra template variables must be a JSON object", origin_);
      for (auto it = extra.begin(); it != extra.end(); ++it) {
        if (it.key() == "messages" || it.key() == "add_generation_prompt")
          fail("{}: extra variable '{}' would replace a template argument", origin_, it.key());
        globals.emplace_back(it.key(), jinja::value_from_json(it.value(), true));
      }
    }
  } catch (const jinja::EvalError& e) {
    fail("{}: {}", origin_, e.what());
  }

  jinja::RenderOptions options;
  options.limits.max_output_bytes = options_.max_output_bytes;
  options.limits.max_value_bytes = options_.max_value_bytes;
  options.limits.max_steps = options_.max_steps;
  options.limits.max_work_bytes = options_.max_work_bytes;
  options.transformers_tojson = options_.transformers_tojson;
  jinja::Renderer renderer(*tmpl_, options);
  const jinja::Str out = renderer.render(std::move(globals));

  std::vector<RenderedSegment> segments;
  if (!out.has_content()) {
    if (!out.text.empty()) segments.push_back({out.text, false});
    return segments;
  }
  size_t start = 0;
  for (const jinja::Run& run : out.runs) {
    segments.push_back({out.text.substr(start, run.end - start), run.content});
    start = run.end;
  }
  return segments;
}

std::string ChatTemplate::render(const nlohmann::json& messages, bool add_generation_prompt,
                                 const nlohmann::json& extra) const {
  std::string out;
  for (const auto& s : render_impl(messages, add_generation_prompt, extra)) out += s.text;
  return out;
}

std::vector<RenderedSegment> ChatTemplate::render_segments(const nlohmann::json& messages, bool add_generation_prompt,
                                                           const nlohmann::json& extra) const {
  return render_impl(messages, add_generation_prompt, extra);
}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                 const nlohmann::ordered_json& extra) const {
  std::string out;
  for (const auto& s : render_impl(messages, add_generation_prompt, extra)) out += s.text;
  return out;
}

std::vector<RenderedSegment> ChatTemplate::render_segments(const nlohmann::ordered_json& messages,
                                                           bool add_generation_prompt,
                                                           const nlohmann::ordered_json& extra) const {
  return render_impl(messages, add_generation_prompt, extra);
}

}  // namespace sambay
