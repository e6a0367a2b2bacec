#include "sambay/model/model_info.h"

namespace sambay {

ModelInfo model_info(const SambaConfig& c) {
  return {"Phi4FlashForCausalLM", c.vocab_size,  c.hidden_size, c.num_hidden_layers, c.max_position_embeddings,
          c.eos_token_ids,        c.torch_dtype};
}

ModelInfo model_info(const Phi3Config& c) {
  return {"Phi3ForCausalLM", c.vocab_size,  c.hidden_size, c.num_hidden_layers, c.max_position_embeddings,
          c.eos_token_ids,   c.torch_dtype};
}

}  // namespace sambay
