#pragma once
// The hyper-parameters of a Phi-3-family transformer (Phi3ForCausalLM, e.g. Phi-4-mini), read from
// config.json: both spellings of the rotary settings (legacy `rope_scaling` with `type`, and
// transformers 5's `rope_parameters` with `rope_type`), LongRoPE's short and long factor lists and
// its magnitude factor.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sambay {

struct Phi3Config {
  int64_t vocab_size = 32064;
  int64_t hidden_size = 3072;
  int64_t intermediate_size = 8192;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 32;
  double rms_norm_eps = 1e-5;
  bool tie_word_embeddings = false;
  int64_t max_position_embeddings = 4096;
  std::string torch_dtype = "bfloat16";
  std::vector<int64_t> eos_token_ids;

  // Rotary embedding over the first rotary_dim() dims of every query and key head (NeoX pairing:
  // dim j with dim j + rotary_dim / 2).
  double rope_theta = 10000.0;
  double partial_rotary_factor = 1.0;
  // LongRoPE: per-pair frequency divisors, the short set up to original_max_position_embeddings
  // positions, the long set beyond; empty = plain RoPE (all 1).
  std::vector<float> short_factor, long_factor;
  int64_t original_max_position_embeddings = 4096;
  double attention_factor = 1.0;  // multiplies cos and sin, for both factor sets

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  int64_t rotary_dim() const { return static_cast<int64_t>(static_cast<double>(head_dim()) * partial_rotary_factor); }
  int64_t group() const { return num_attention_heads / num_key_value_heads; }  // query heads per kv head
  bool longrope() const { return !long_factor.empty(); }
};

// Parses and validates; `source` names the file in error messages.
Phi3Config parse_phi3_config(const nlohmann::json& j, const std::string& source);
Phi3Config load_phi3_config(const std::filesystem::path& model_dir);

}  // namespace sambay
