#include "sambay/model/phi3_weights.h"

#include <cmath>

#include "sambay/model/weight_loader.h"

namespace sambay {

int count_phi3_tensors(const Phi3Config& c) {
  return static_cast<int>(c.num_hidden_layers) * 6 + (c.tie_word_embeddings ? 2 : 3);
}

std::vector<float> phi3_inv_freq(const Phi3Config& c) {
  const int64_t d = c.rotary_dim(), half = d / 2;
  std::vector<float> inv(static_cast<size_t>(2 * half));
  for (int set = 0; set < 2; ++set) {
    const std::vector<float>& f = set == 0 ? c.short_factor : c.long_factor;
    for (int64_t j = 0; j < half; ++j) {
      const float base = std::pow(static_cast<float>(c.rope_theta), static_cast<float>(2 * j) / static_cast<float>(d));
      inv[set * half + j] = 1.0f / ((f.empty() ? 1.0f : f[j]) * base);
    }
  }
  return inv;
}

Phi3Weights load_phi3_weights(const Phi3Config& c, WeightSource& source, Ops& ops) {
  Phi3Weights w;
  WeightLoader ld(source, ops, w.storage);
  const int64_t h = c.hidden_size, V = c.vocab_size, I = c.intermediate_size, dh = c.head_dim();
  const int64_t q_rows = c.num_attention_heads * dh, qkv_rows = q_rows + 2 * c.num_key_value_heads * dh;
  w.embed = ld.matrix("model.embed_tokens.weight", V, h);
  w.final_norm = ld.f32("model.norm.weight", {h}, 1, h);
  w.lm_head = c.tie_word_embeddings ? w.embed : ld.matrix("lm_head.weight", V, h);
  w.inv_freq = ld.place(phi3_inv_freq(c), 2, c.rotary_dim() / 2);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    Phi3LayerWeights l;
    l.norm_in = ld.f32(p + "input_layernorm.weight", {h}, 1, h);
    l.qkv = ld.matrix(p + "self_attn.qkv_proj.weight", qkv_rows, h);
    l.out = ld.matrix(p + "self_attn.o_proj.weight", h, q_rows);
    l.norm_post = ld.f32(p + "post_attention_layernorm.weight", {h}, 1, h);
    l.gate_up = ld.matrix(p + "mlp.gate_up_proj.weight", 2 * I, h);
    l.down = ld.matrix(p + "mlp.down_proj.weight", h, I);
    w.layers.push_back(std::move(l));
  }
  return w;
}

}  // namespace sambay
