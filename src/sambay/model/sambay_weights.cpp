#include "sambay/model/sambay_weights.h"

#include <cmath>
#include <cstring>

#include "sambay/base/error.h"
#include "sambay/model/weight_loader.h"

namespace sambay {
namespace {

float neg_exp(float x) { return -std::exp(x); }

void load_mamba(WeightLoader& ld, const SambaConfig& c, const std::string& p, MambaWeights& m) {
  const int64_t h = c.hidden_size, E = c.d_inner, N = c.mamba_d_state, Kc = c.mamba_d_conv, R = c.dt_rank();
  m.in_proj = ld.matrix(p + "in_proj.weight", 2 * E, h);
  m.conv_w = ld.f32(p + "conv1d.weight", {E, 1, Kc}, E, Kc);
  m.conv_b = ld.f32(p + "conv1d.bias", {E}, 1, E);
  m.x_proj = ld.matrix(p + "x_proj.weight", R + 2 * N, E);
  m.dt_proj = ld.matrix(p + "dt_proj.weight", E, R);
  m.dt_bias = ld.f32(p + "dt_proj.bias", {E}, 1, E);
  m.A = ld.f32(p + "A_log", {E, N}, E, N, neg_exp);
  m.D = ld.f32(p + "D", {E}, 1, E);
  m.out_proj = ld.matrix(p + "out_proj.weight", h, E);
}

void load_attention(WeightLoader& ld, const SambaConfig& c, const LayerInfo& L, const std::string& p, AttentionWeights& a) {
  const int64_t h = c.hidden_size, dh = c.head_dim();
  const int64_t q_rows = c.num_attention_heads * dh;
  const int64_t rows = L.kind == LayerKind::CrossAttn ? q_rows : q_rows + 2 * c.num_key_value_heads * dh;
  a.wqkv = ld.matrix(p + "Wqkv.weight", rows, h);
  a.bqkv = ld.f32(p + "Wqkv.bias", {rows}, 1, rows);
  a.out_proj = ld.matrix(p + "out_proj.weight", h, q_rows);
  a.out_bias = ld.f32(p + "out_proj.bias", {h}, 1, h);
  const std::string d = p + "inner_cross_attn.";
  a.subln = ld.f32(d + "subln.weight", {2 * dh}, 1, 2 * dh);
  auto lambda_part = [&](const char* q, const char* k) {
    const auto vq = ld.values(d + q, {dh});
    const auto vk = ld.values(d + k, {dh});
    float s = 0;  // summed in float32, as the reference does
    for (int64_t i = 0; i < dh; ++i) s += vq[i] * vk[i];
    return std::exp(s);
  };
  a.lambda_init = static_cast<float>(L.lambda_init);
  a.lambda = lambda_part("lambda_q1", "lambda_k1") - lambda_part("lambda_q2", "lambda_k2") + a.lambda_init;
}

}  // namespace

int count_samba_tensors(const SambaConfig& c, const LayerTable& table) {
  int n = c.tie_word_embeddings ? 3 : 4;  // embedding, final norm weight and bias, untied LM head
  for (const LayerInfo& L : table.layers) {
    n += 6;  // two norms (weight, bias), fc1, fc2
    if (L.kind == LayerKind::Mamba || L.kind == LayerKind::MambaMemory) n += 9;
    else if (L.kind == LayerKind::Gmu) n += 2;
    else n += 9;  // Wqkv and out_proj (weight, bias), four lambdas, subln
  }
  return n;
}

SambaWeights load_samba_weights(const SambaConfig& c, const LayerTable& table, WeightSource& source, Ops& ops) {
  SambaWeights w;
  WeightLoader ld(source, ops, w.storage);
  const int64_t h = c.hidden_size, V = c.vocab_size, I = c.intermediate_size, E = c.d_inner;
  w.embed = ld.matrix("model.embed_tokens.weight", V, h);
  w.final_ln_w = ld.f32("model.final_layernorm.weight", {h}, 1, h);
  w.final_ln_b = ld.f32("model.final_layernorm.bias", {h}, 1, h);
  w.lm_head = c.tie_word_embeddings ? w.embed : ld.matrix("lm_head.weight", V, h);

  for (const LayerInfo& L : table.layers) {
    const std::string p = "model.layers." + std::to_string(L.index) + ".";
    LayerWeights lw;
    lw.ln_in_w = ld.f32(p + "input_layernorm.weight", {h}, 1, h);
    lw.ln_in_b = ld.f32(p + "input_layernorm.bias", {h}, 1, h);
    lw.ln_post_w = ld.f32(p + "post_attention_layernorm.weight", {h}, 1, h);
    lw.ln_post_b = ld.f32(p + "post_attention_layernorm.bias", {h}, 1, h);
    lw.fc1 = ld.matrix(p + "mlp.fc1.weight", 2 * I, h);
    lw.fc2 = ld.matrix(p + "mlp.fc2.weight", h, I);
    switch (L.kind) {
      case LayerKind::Mamba:
      case LayerKind::MambaMemory: load_mamba(ld, c, p + "attn.", lw.mamba); break;
      case LayerKind::Gmu:
        lw.gmu.in_proj = ld.matrix(p + "attn.in_proj.weight", E, h);
        lw.gmu.out_proj = ld.matrix(p + "attn.out_proj.weight", h, E);
        break;
      default: load_attention(ld, c, L, p + "attn.", lw.attn); break;
    }
    w.layers.push_back(std::move(lw));
  }
  return w;
}

}  // namespace sambay
