#pragma once
// The text side of a model folder (tokenizer, chat template, generation defaults) and the
// command-line options for sampling and stopping.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "sambay/engine/generation_defaults.h"
#include "sambay/engine/text_session.h"
#include "sambay/text/chat_template.h"
#include "sambay/text/tokenizer.h"

namespace sambay::cli {

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

TextModel load_text_model(const std::string& dir, const SambaConfig& config);

// Sampling and stopping flags; values left unset keep the model folder's defaults.
struct SamplingOptions {
  std::optional<float> temperature, top_p, min_p, repetition_penalty, presence_penalty, frequency_penalty;
  std::optional<int> top_k;
  bool greedy = false;
  bool ignore_eos = false;
  std::vector<std::string> stop;
  int max_tokens = 512;

  SamplingParams params(const GenerationDefaults& defaults, uint64_t seed) const;
  StopConfig stop_config(const GenerationDefaults& defaults) const;
};

void add_sampling_options(CLI::App& cmd, SamplingOptions& o);

}  // namespace sambay::cli
