#include "sambay/model/cost_model.h"

#include <algorithm>

namespace sambay {
namespace {

// Weight multiply-accumulates per token of one layer (mixer + MLP).
double layer_macs(const SambaConfig& c, LayerKind k) {
  const double h = c.hidden_size, E = c.d_inner, N = c.mamba_d_state, R = c.dt_rank(), I = c.intermediate_size;
  const double q = c.num_attention_heads * c.head_dim(), kv = c.num_key_value_heads * c.head_dim();
  const double mlp = 2 * I * h + h * I;
  switch (k) {
    case LayerKind::Mamba:
    case LayerKind::MambaMemory: return 2 * E * h + (R + 2 * N) * E + E * R + h * E + mlp;
    case LayerKind::SwaAttn:
    case LayerKind::FullAttnKv: return (q + 2 * kv) * h + h * q + mlp;
    case LayerKind::CrossAttn: return q * h + h * q + mlp;
    case LayerKind::Gmu: return 2 * E * h + mlp;
  }
  return 0;
}

}  // namespace

double decode_bytes_per_step(const SambaConfig& c, const LayerTable& t, double weight_bytes, int batch,
                             double context, int kv_bytes_per_value) {
  const double kv_token = 2.0 * c.num_key_value_heads * c.head_dim() * kv_bytes_per_value;
  int shared_readers = 0;
  for (const LayerInfo& L : t.layers)
    if (L.kind == LayerKind::FullAttnKv || L.kind == LayerKind::CrossAttn) ++shared_readers;
  const double rings = t.num_swa_rings * std::min<double>(context, c.sliding_window) * kv_token;
  const double mamba = 2.0 * t.num_mamba_states * c.d_inner * (c.mamba_d_conv - 1 + c.mamba_d_state) * 4;
  return weight_bytes + batch * (shared_readers * context * kv_token + rings + mamba);
}

double prefill_flops(const SambaConfig& c, const LayerTable& t, int64_t prompt, bool all_logits) {
  const double P = static_cast<double>(prompt), W = static_cast<double>(c.sliding_window);
  const double rows_out = all_logits ? P : 1;
  double macs = 0;
  // Keys seen by all queries of the prompt: causal, and windowed for the sliding layers.
  const double causal = P * (P + 1) / 2;
  const double windowed = P <= W ? causal : W * (W + 1) / 2 + (P - W) * W;
  const double attn_per_key = 3.0 * c.num_attention_heads * c.head_dim();  // 2 score maps + 2 value passes
  for (const LayerInfo& L : t.layers) {
    const bool cross = L.index >= t.first_cross_decoder_layer;
    macs += layer_macs(c, L.kind) * (cross ? rows_out : P);
    if (L.kind == LayerKind::SwaAttn) macs += attn_per_key * windowed;
    if (L.kind == LayerKind::FullAttnKv) macs += attn_per_key * causal;
    if (L.kind == LayerKind::CrossAttn) macs += attn_per_key * (all_logits ? causal : P);
  }
  macs += static_cast<double>(c.vocab_size) * c.hidden_size * rows_out;  // LM head
  return 2 * macs;
}

double decode_bytes_per_step(const Phi3Config& c, double weight_bytes, int batch, double context,
                             int kv_bytes_per_value) {
  const double kv_token = 2.0 * c.num_hidden_layers * c.num_key_value_heads * c.head_dim() * kv_bytes_per_value;
  return weight_bytes + batch * context * kv_token;
}

double prefill_flops(const Phi3Config& c, int64_t prompt, bool all_logits) {
  const double P = static_cast<double>(prompt), h = c.hidden_size, I = c.intermediate_size;
  const double q = c.num_attention_heads * c.head_dim(), kv = c.num_key_value_heads * c.head_dim();
  const double layer = (q + 2 * kv) * h + h * q + 2 * I * h + h * I;  // qkv, o, gate_up, down
  const double causal = P * (P + 1) / 2;
  const double attn_per_key = 2 * q;  // q·k and p·v for every query head
  double macs = c.num_hidden_layers * (layer * P + attn_per_key * causal);
  macs += static_cast<double>(c.vocab_size) * h * (all_logits ? P : 1);  // LM head
  return 2 * macs;
}

}  // namespace sambay
