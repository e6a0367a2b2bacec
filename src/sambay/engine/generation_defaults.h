#pragma once
// What a model folder says about generating text: the stop ids (generation_config.json, else
// config.json), sampling defaults (generation_config.json where it has them, else the model card's
// recommendation for this family: temperature 0.6, top-p 0.95), and the context length
// (tokenizer_config.json model_max_length, else max_position_embeddings).
#include <cstdint>
#include <filesystem>
#include <vector>

#include "sambay/model/model_info.h"
#include "sambay/sample/sampling_params.h"

namespace sambay {

struct GenerationDefaults {
  std::vector<int32_t> eos_ids;
  SamplingParams sampling;
  int64_t context_length = 0;
};

GenerationDefaults load_generation_defaults(const std::filesystem::path& model_dir, const ModelInfo& model);

}  // namespace sambay
