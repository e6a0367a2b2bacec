#pragma once
// The hyper-parameters of a SambaY model (Phi4FlashForCausalLM), read from config.json with the
// defaults of the reference configuration class for absent fields.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sambay {

struct SambaConfig {
  int64_t vocab_size = 51200;
  int64_t hidden_size = 2560;
  int64_t intermediate_size = 9216;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 40;
  int64_t num_key_value_heads = 4;
  int64_t sliding_window = 2047;
  int64_t mamba_d_state = 16;
  int64_t mamba_d_conv = 4;
  int64_t d_inner = 5120;  // int(mamba_expand * hidden_size)
  double layer_norm_eps = 1e-5;
  bool tie_word_embeddings = true;
  int64_t max_position_embeddings = 4096;
  std::string torch_dtype = "bfloat16";
  std::vector<int64_t> eos_token_ids;  // config.json's eos_token_id (int or list)

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  int64_t dt_rank() const { return (hidden_size + 15) / 16; }  // always ceil(hidden/16), whatever the config says
  int64_t diff_pairs() const { return num_attention_heads / 2; }
  int64_t kv_pairs() const { return num_key_value_heads / 2; }
};

// Parses and validates; `source` names the file in error messages.
SambaConfig parse_samba_config(const nlohmann::json& j, const std::string& source);
SambaConfig load_samba_config(const std::filesystem::path& model_dir);

}  // namespace sambay
