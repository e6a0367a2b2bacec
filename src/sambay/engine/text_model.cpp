#include "sambay/engine/text_model.h"

#include <filesystem>

#include "sambay/base/error.h"

namespace sambay {

std::vector<int32_t> TextModel::encode_chat(const nlohmann::json& messages, bool add_generation_prompt,
                                            bool match_special_in_content) const {
  if (!chat_template) fail("this model folder has no chat template (tokenizer_config.json chat_template)");
  const auto segments = chat_template->render_segments(messages, add_generation_prompt);
  std::vector<Tokenizer::Segment> parts;
  for (const auto& s : segments)
    parts.push_back(s.from_content && !match_special_in_content ? Tokenizer::Segment::content(s.text)
                                                                 : Tokenizer::Segment::template_text(s.text));
  return tokenizer.encode_segments(parts);
}

TextModel load_text_model(const std::string& dir, const std::string& model_dir, const ModelInfo& model) {
  TextModel t{Tokenizer::from_model_dir(dir), std::nullopt, load_generation_defaults(model_dir, model)};
  const auto cfg = std::filesystem::path(dir) / "tokenizer_config.json";
  if (std::filesystem::exists(std::filesystem::path(dir) / "chat_template.jinja") || std::filesystem::exists(cfg)) {
    try {
      t.chat_template = ChatTemplate::from_model_dir(dir);
    } catch (const Error& e) {
      if (std::string(e.what()).find("has no chat template") == std::string::npos) throw;
    }
  }
  return t;
}

}  // namespace sambay
