#pragma once
// What every model family's config says that the engine, the CLI and the server use, whatever the
// family: the vocabulary, the main widths, the context the model was built for, its stop ids.
#include <cstdint>
#include <string>
#include <vector>

#include "sambay/model/config.h"
#include "sambay/model/phi3_config.h"

namespace sambay {

struct ModelInfo {
  std::string architecture;  // the Hugging Face class, as config.json's `architectures` names it
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t max_position_embeddings = 0;
  std::vector<int64_t> eos_token_ids;  // config.json's eos_token_id
  std::string torch_dtype;             // the checkpoint's dtype
};

ModelInfo model_info(const SambaConfig& c);
ModelInfo model_info(const Phi3Config& c);

}  // namespace sambay
