// The SambaY forward pass (arXiv 2507.06607; Phi4FlashForCausalLM). Every layer is
//   x += Mixer(LayerNorm_in(x));  x += MLP(LayerNorm_post(x))
// with a float32 residual stream x; the mixer depends on the layer kind (layer_table.h).
// The self-decoder (layers up to n/2 + 1) sees every new token; it leaves the shared K/V and the
// GMU memory behind. The cross-decoder only needs the rows whose logits are wanted.
#include "sambay/model/sambay_model.h"

#include <cmath>

#include "sambay/base/error.h"
#include "sambay/model/cost_model.h"

namespace sambay {

struct SambaModel::Step {
  StateCache& cache;
  std::vector<SeqChunk> chunks;  // the sequences' rows in x (after keep_logit_rows: only logit rows)
  std::vector<uint8_t> all_logits;
  int64_t rows = 0;
  OwnedTensor x;       // [rows, h] F32 residual stream
  OwnedTensor u;       // [rows, h] normed mixer / MLP input
  OwnedTensor memory;  // [rows, E] GMU memory: the memory layer's scan output, before its gate
  bool compacted = false;
};

SambaModel::SambaModel(SambaConfig config, std::unique_ptr<WeightSource> source, Ops& ops)
    : config_(std::move(config)),
      info_(model_info(config_)),
      table_(build_layer_table(config_)),
      source_(std::move(source)),
      ops_(ops) {
  w_ = load_samba_weights(config_, table_, *source_, ops_);
  warn_unused_tensors(*source_, config_.tie_word_embeddings);
}

std::unique_ptr<SambaModel> SambaModel::load(const std::filesystem::path& dir, Ops& ops, const LoadOptions& options) {
  SambaConfig config = load_samba_config(dir);
  auto source = open_model_weights(dir, config.torch_dtype, count_samba_tensors(config, build_layer_table(config)), options);
  return std::make_unique<SambaModel>(std::move(config), std::move(source), ops);
}

OwnedTensor SambaModel::forward(const StepBatch& batch, StateCache& cache) {
  check_step(batch, config_.vocab_size);
  reserve_step(batch, cache);

  const int64_t T = static_cast<int64_t>(batch.tokens.size());
  Step s{.cache = cache, .chunks = batch.chunks, .all_logits = batch.all_logits, .rows = T, .x = {}, .u = {}, .memory = {}};
  for (SeqChunk& c : s.chunks) c.pos0 = cache.length(c.slot);
  ops_.set_step_inputs(batch.tokens, s.chunks);

  OwnedTensor logits;
  if (graphs_.applies(ops_, s.chunks)) {
    const std::vector<SeqChunk> chunks = s.chunks;
    logits = graphs_.replay(ops_, cache.id(), static_cast<int>(chunks.size()), config_.vocab_size,
                            [&](const Tensor& out) {
                              s.chunks = chunks;
                              s.rows = T;
                              s.compacted = false;
                              ops_.copy(out, *run_layers(s, batch.tokens));
                              // Free the step's buffers inside the capture, so every replay frees what it allocates.
                              s.x = {};
                              s.u = {};
                              s.memory = {};
                            });
  } else {
    logits = run_layers(s, batch.tokens);
  }
  for (const SeqChunk& c : batch.chunks) cache.commit(c.slot, c.len);
  return logits;
}

double SambaModel::decode_bytes_per_step(int batch, double context, int kv_bytes_per_value) const {
  return sambay::decode_bytes_per_step(config_, table_, static_cast<double>(weight_bytes()), batch, context,
                                       kv_bytes_per_value);
}

double SambaModel::prefill_flops(int64_t prompt, bool all_logits) const {
  return sambay::prefill_flops(config_, table_, prompt, all_logits);
}

// The widest activations of a step: the residual stream and norms, Mamba's [x | z] and scan
// buffers, the MLP's [gate | up], as float32 (an estimate with room to spare).
size_t SambaModel::activation_bytes_per_token() const {
  return static_cast<size_t>(8 * config_.hidden_size + 4 * config_.intermediate_size + 6 * config_.d_inner) * 4;
}

OwnedTensor SambaModel::run_layers(Step& s, std::span<const int32_t> tokens) {
  const int64_t h = config_.hidden_size;
  s.x = ops_.empty(s.rows, h, DType::F32);
  s.u = ops_.empty(s.rows, h, ops_.activation_dtype());
  ops_.embedding(*s.x, tokens, w_.embed);

  // x += sub-block output is deferred to the next norm, which does both in one pass.
  const float eps = static_cast<float>(config_.layer_norm_eps);
  OwnedTensor pending;
  bool has_pending = false;
  auto norm = [&](const Tensor& w, const Tensor& b) {
    if (has_pending) ops_.add_layer_norm(*s.x, *pending, *s.u, w, b, eps);
    else ops_.layer_norm(*s.u, *s.x, w, b, eps);
    pending = {};
    has_pending = false;
  };
  auto add_pending = [&] {
    if (has_pending) ops_.add(*s.x, *pending);
    pending = {};
    has_pending = false;
  };
  for (const LayerInfo& L : table_.layers) {
    if (L.index == table_.first_cross_decoder_layer) {
      add_pending();
      keep_logit_rows(s);
    }
    const LayerWeights& lw = w_.layers[L.index];
    norm(lw.ln_in_w, lw.ln_in_b);
    switch (L.kind) {
      case LayerKind::Mamba:
      case LayerKind::MambaMemory: pending = mamba(L, lw, s); break;
      case LayerKind::Gmu: pending = gmu(lw, s); break;
      default: pending = attention(L, lw, s); break;
    }
    has_pending = true;
    norm(lw.ln_post_w, lw.ln_post_b);
    pending = mlp(lw, s);
    has_pending = true;
  }
  if (!s.compacted) {
    add_pending();
    keep_logit_rows(s);
  }
  norm(w_.final_ln_w, w_.final_ln_b);

  OwnedTensor logits = ops_.empty(s.rows, config_.vocab_size, DType::F32);
  ops_.linear(*logits, *s.u, w_.lm_head, nullptr);
  return logits;
}

// Mamba-1: in_proj -> [x | z]; causal conv + silu; x_proj -> [dt_low | B | C]; dt_proj; selective
// scan; gate with silu(z); out_proj. The memory layer keeps the scan output before the gate.
OwnedTensor SambaModel::mamba(const LayerInfo& L, const LayerWeights& lw, Step& s) {
  const MambaWeights& w = lw.mamba;
  const int64_t E = config_.d_inner, N = config_.mamba_d_state, R = config_.dt_rank();
  const DType act = ops_.activation_dtype();
  const MambaStateRef state = s.cache.mamba(L.state_index);

  OwnedTensor xz = ops_.empty(s.rows, 2 * E, act);
  ops_.linear(*xz, *s.u, w.in_proj, nullptr);
  const Tensor xs = xz->cols_slice(0, E), z = xz->cols_slice(E, E);
  OwnedTensor conv = ops_.empty(s.rows, E, act);
  ops_.mamba_conv(*conv, xs, w.conv_w, w.conv_b, state, s.chunks);
  OwnedTensor dbc = ops_.empty(s.rows, R + 2 * N, act);
  ops_.linear(*dbc, *conv, w.x_proj, nullptr);
  OwnedTensor dt = ops_.empty(s.rows, E, act);
  ops_.linear(*dt, dbc->cols_slice(0, R), w.dt_proj, nullptr);

  OwnedTensor y = ops_.empty(s.rows, E, act);
  const Tensor B = dbc->cols_slice(R, N), C = dbc->cols_slice(R + N, N);
  const bool memory_layer = L.kind == LayerKind::MambaMemory;
  ops_.mamba_scan(*y, *conv, *dt, w.A, B, C, w.D, w.dt_bias, memory_layer ? nullptr : &z, state, s.chunks);
  if (memory_layer) {
    s.memory = y;
    y = ops_.empty(s.rows, E, act);
    ops_.silu_mul(*y, z, *s.memory);
  }
  OwnedTensor out = ops_.empty(s.rows, config_.hidden_size, act);
  ops_.linear(*out, *y, w.out_proj, nullptr);
  return out;
}

// Differential attention. SWA layers read their own ring plus the new K/V; the full layer stores its
// K/V in the shared pages first and reads them; cross layers project only Q and read those pages.
OwnedTensor SambaModel::attention(const LayerInfo& L, const LayerWeights& lw, Step& s) {
  const AttentionWeights& w = lw.attn;
  const int64_t H = config_.num_attention_heads, Hkv = config_.num_key_value_heads, dh = config_.head_dim();
  const DType act = ops_.activation_dtype();

  OwnedTensor qkv = ops_.empty(s.rows, w.wqkv.rows, act);
  ops_.linear(*qkv, *s.u, w.wqkv, &w.bqkv);
  const Tensor q = qkv->cols_slice(0, H * dh);

  DiffAttnParams p;
  p.num_heads = H;
  p.num_kv_heads = Hkv;
  p.head_dim = dh;
  p.scale = 1.0f / std::sqrt(static_cast<float>(dh));
  p.lambda = w.lambda;
  p.out_scale = 1.0f - w.lambda_init;
  p.subln = w.subln;

  OwnedTensor o = ops_.empty(s.rows, H * dh, act);
  const KvPagesRef pages = s.cache.pages();
  DiffAttnKv kv;
  if (L.kind == LayerKind::CrossAttn) {
    kv.pages = &pages;
    ops_.diff_attention(*o, q, kv, s.chunks, p);
  } else {
    const Tensor k = qkv->cols_slice(H * dh, Hkv * dh), v = qkv->cols_slice((H + Hkv) * dh, Hkv * dh);
    if (L.kind == LayerKind::FullAttnKv) {
      ops_.kv_pages_write(pages, k, v, s.chunks);
      kv.pages = &pages;
      ops_.diff_attention(*o, q, kv, s.chunks, p);
    } else {
      const KvRingRef ring = s.cache.ring(L.state_index);
      kv.ring = &ring;
      kv.k_cur = k;
      kv.v_cur = v;
      kv.window = config_.sliding_window;
      ops_.diff_attention(*o, q, kv, s.chunks, p);
      ops_.kv_ring_write(ring, k, v, s.chunks);
    }
  }
  OwnedTensor out = ops_.empty(s.rows, config_.hidden_size, act);
  ops_.linear(*out, *o, w.out_proj, &w.out_bias);
  return out;
}

// Gated memory unit: out_proj(silu(in_proj(u)) * memory).
OwnedTensor SambaModel::gmu(const LayerWeights& lw, Step& s) {
  const int64_t E = config_.d_inner;
  const DType act = ops_.activation_dtype();
  OwnedTensor g = ops_.empty(s.rows, E, act);
  ops_.linear(*g, *s.u, lw.gmu.in_proj, nullptr);
  ops_.silu_mul(*g, *g, *s.memory);
  OwnedTensor out = ops_.empty(s.rows, config_.hidden_size, act);
  ops_.linear(*out, *g, lw.gmu.out_proj, nullptr);
  return out;
}

// SwiGLU MLP: fc2(silu(gate) * up) with [gate | up] = fc1(u).
OwnedTensor SambaModel::mlp(const LayerWeights& lw, Step& s) {
  const int64_t I = config_.intermediate_size;
  const DType act = ops_.activation_dtype();
  OwnedTensor a = ops_.empty(s.rows, I, act);
  ops_.linear_swiglu(*a, *s.u, lw.fc1);
  OwnedTensor out = ops_.empty(s.rows, config_.hidden_size, act);
  ops_.linear(*out, *a, lw.fc2, nullptr);
  return out;
}

// Drops the rows whose logits nobody asked for. Nothing after the self-decoder mixes positions
// except the cross-attention over the already written shared K/V, so the kept rows are unchanged.
void SambaModel::keep_logit_rows(Step& s) {
  if (s.compacted) return;
  s.compacted = true;
  std::vector<int32_t> keep;
  std::vector<SeqChunk> chunks;
  for (size_t i = 0; i < s.chunks.size(); ++i) {
    SeqChunk c = s.chunks[i];
    const int32_t n = s.all_logits[i] ? c.len : 1;
    for (int32_t t = c.len - n; t < c.len; ++t) keep.push_back(c.row0 + t);
    c.pos0 += c.len - n;
    c.row0 = static_cast<int32_t>(keep.size()) - n;
    c.len = n;
    chunks.push_back(c);
  }
  s.chunks = std::move(chunks);
  if (static_cast<int64_t>(keep.size()) == s.rows) return;

  auto gather = [&](OwnedTensor& t) {
    if (!t.memory) return;
    OwnedTensor g = ops_.empty(static_cast<int64_t>(keep.size()), t->cols, t->dtype);
    ops_.gather_rows(*g, *t, keep);
    t = std::move(g);
  };
  gather(s.x);
  gather(s.memory);
  s.rows = static_cast<int64_t>(keep.size());
  s.u = ops_.empty(s.rows, config_.hidden_size, ops_.activation_dtype());
}

}  // namespace sambay
