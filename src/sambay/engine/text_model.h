#pragma once
// The text side of a model folder: tokenizer, chat template and generation defaults, and the
// rendering of a conversation into prompt ids.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "sambay/engine/generation_defaults.h"
#include "sambay/text/chat_template.h"
#include "sambay/text/tokenizer.h"

namespace sambay {

struct TextModel {
  Tokenizer tokenizer;
  std::optional<ChatTemplate> chat_template;  // absent when the folder has none
  GenerationDefaults defaults;

  // The ids of a conversation rendered with the chat template. Added tokens (role markers) are
  // recognised only in the text the template emits, unless `match_special_in_content` (Hugging
  // Face's behaviour: the rendered string is tokenized as a whole).
  std::vector<int32_t> encode_chat(const nlohmann::json& messages, bool add_generation_prompt,
                                   bool match_special_in_content) const;
};

// The tokenizer and chat template from `text_dir`, the generation defaults from the model folder.
TextModel load_text_model(const std::string& text_dir, const std::string& model_dir, const ModelInfo& model);
inline TextModel load_text_model(const std::string& dir, const ModelInfo& model) { return load_text_model(dir, dir, model); }

}  // namespace sambay
