// The Phi-3 forward pass (design document phi4-mini-baseline.md §3): per layer
//   x += o_proj(attention(rope(q), rope(k), v));  x += down(silu(gate) * up)
// on RMSNorm-ed inputs, with a float32 residual stream; logits from the tied embedding.
#include "sambay/model/phi3_model.h"

#include <cmath>

#include "sambay/base/error.h"
#include "sambay/model/cost_model.h"

namespace sambay {

StateLayout phi3_state_layout(const Phi3Config& c) {
  StateLayout l;
  l.paged_layers = static_cast<int>(c.num_hidden_layers);
  l.kv_row = c.num_key_value_heads * c.head_dim();
  l.head_dim = c.head_dim();
  l.kv_group_heads = 1;
  return l;
}

Phi3Model::Phi3Model(Phi3Config config, std::unique_ptr<WeightSource> source, Ops& ops)
    : config_(std::move(config)), info_(model_info(config_)), source_(std::move(source)), ops_(ops) {
  w_ = load_phi3_weights(config_, *source_, ops_);
  warn_unused_tensors(*source_, config_.tie_word_embeddings);
}

std::unique_ptr<Phi3Model> Phi3Model::load(const std::filesystem::path& dir, Ops& ops, const LoadOptions& options) {
  Phi3Config config = load_phi3_config(dir);
  auto source = open_model_weights(dir, config.torch_dtype, count_phi3_tensors(config), options);
  return std::make_unique<Phi3Model>(std::move(config), std::move(source), ops);
}

bool Phi3Model::needs_recompute(const StateCache& cache, int slot, int64_t length) const {
  return config_.longrope() && cache.length(slot) > 0 && cache.rope_set(slot) == 0 &&
         length > config_.original_max_position_embeddings;
}

int32_t Phi3Model::rope_set(const StateCache& cache, int slot, int64_t length) const {
  if (!config_.longrope()) return 0;
  if (cache.length(slot) > 0) return cache.rope_set(slot);  // the set of the keys already cached
  return length > config_.original_max_position_embeddings ? 1 : 0;
}

OwnedTensor Phi3Model::forward(const StepBatch& batch, StateCache& cache) {
  check_step(batch, config_.vocab_size);
  std::vector<SeqChunk> chunks = batch.chunks;
  for (size_t i = 0; i < chunks.size(); ++i) {
    SeqChunk& ch = chunks[i];
    ch.pos0 = cache.length(ch.slot);
    const int64_t length = batch.read_length(i, ch.pos0);
    if (needs_recompute(cache, ch.slot, length))
      fail("forward: the sequence in slot {} is read at {} positions, past {}, with keys rotated by the short "
           "factors; run it again from position 0",
           ch.slot, length, config_.original_max_position_embeddings);
    ch.rope_set = rope_set(cache, ch.slot, length);
  }
  reserve_step(batch, cache);
  ops_.set_step_inputs(batch.tokens, chunks);

  OwnedTensor logits;
  if (graphs_.applies(ops_, chunks)) {
    logits = graphs_.replay(ops_, cache.id(), static_cast<int>(chunks.size()), config_.vocab_size,
                            [&](const Tensor& out) {
                              // run_layers' buffers are freed when it returns, inside the capture.
                              ops_.copy(out, *run_layers(batch.tokens, chunks, batch.all_logits, cache));
                            });
  } else {
    logits = run_layers(batch.tokens, chunks, batch.all_logits, cache);
  }
  for (const SeqChunk& ch : chunks) {
    if (ch.pos0 == 0) cache.set_rope_set(ch.slot, ch.rope_set);
    cache.commit(ch.slot, ch.len);
  }
  return logits;
}

double Phi3Model::decode_bytes_per_step(int batch, double context, int kv_bytes_per_value) const {
  return sambay::decode_bytes_per_step(config_, static_cast<double>(weight_bytes()), batch, context,
                                       kv_bytes_per_value);
}

double Phi3Model::prefill_flops(int64_t prompt, bool all_logits) const {
  return sambay::prefill_flops(config_, prompt, all_logits);
}

// The widest activations of a step: the residual stream and norms, the fused qkv projection and
// the attention output, the MLP's [gate | up], as float32 (an estimate with room to spare).
size_t Phi3Model::activation_bytes_per_token() const {
  const int64_t qkv = (config_.num_attention_heads + 2 * config_.num_key_value_heads) * config_.head_dim();
  return static_cast<size_t>(8 * config_.hidden_size + 4 * config_.intermediate_size + 2 * qkv) * 4;
}

OwnedTensor Phi3Model::run_layers(std::span<const int32_t> tokens, std::span<const SeqChunk> chunks,
                                  std::span<const uint8_t> all_logits, const StateCache& cache) {
  const Phi3Config& c = config_;
  const int64_t T = static_cast<int64_t>(tokens.size());
  const int64_t h = c.hidden_size, H = c.num_attention_heads, Hkv = c.num_key_value_heads, dh = c.head_dim();
  const DType act = ops_.activation_dtype();
  const float eps = static_cast<float>(c.rms_norm_eps);
  // Q and K heads sit side by side in the qkv projection: one rotation covers both, and the rotated
  // keys go to the pages with the values in the same pass.
  const RopeParams rope{H + Hkv, dh, c.rotary_dim(), w_.inv_freq, static_cast<float>(c.attention_factor)};
  const AttentionParams attn{H, Hkv, dh, 1.0f / std::sqrt(static_cast<float>(dh))};

  OwnedTensor x = ops_.empty(T, h, DType::F32), u = ops_.empty(T, h, act);
  ops_.embedding(*x, tokens, w_.embed);
  // Each sub-block's output projection adds its rows to x and prepares the next norm in u
  // (linear_residual); the projection after the norm completes it (rms_linear): a backend may run
  // no norm of its own. Only the first layer's input norm runs alone.
  ops_.rms_norm(*u, *x, w_.layers.front().norm_in, eps);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const Phi3LayerWeights& lw = w_.layers[i];
    OwnedTensor qkv = ops_.empty(T, lw.qkv.rows, act);
    if (i == 0) ops_.linear(*qkv, *u, lw.qkv, nullptr);
    else ops_.rms_linear(*qkv, *x, *u, lw.norm_in, eps, lw.qkv);
    const Tensor q = qkv->cols_slice(0, H * dh), v = qkv->cols_slice((H + Hkv) * dh, Hkv * dh);
    const KvPagesRef pages = cache.pages(static_cast<int>(i));
    ops_.rope_kv_write(qkv->cols_slice(0, (H + Hkv) * dh), v, pages, chunks, rope);
    OwnedTensor o = ops_.empty(T, H * dh, act);
    ops_.attention(*o, q, pages, chunks, attn);
    ops_.linear_residual(*x, *o, lw.out, *u, lw.norm_post);

    OwnedTensor a = ops_.empty(T, c.intermediate_size, act);
    ops_.rms_linear_swiglu(*a, *x, *u, lw.norm_post, eps, lw.gate_up);
    const Tensor& next_norm = i + 1 < c.num_hidden_layers ? w_.layers[i + 1].norm_in : w_.final_norm;
    ops_.linear_residual(*x, *a, lw.down, *u, next_norm);
  }

  // Only the rows whose logits were asked for go through the final norm and the LM head.
  std::vector<int32_t> keep;
  for (size_t i = 0; i < chunks.size(); ++i)
    for (int32_t t = all_logits[i] ? 0 : chunks[i].len - 1; t < chunks[i].len; ++t) keep.push_back(chunks[i].row0 + t);
  const int64_t rows = static_cast<int64_t>(keep.size());
  OwnedTensor logits = ops_.empty(rows, c.vocab_size, DType::F32);
  if (rows == T) {
    ops_.rms_linear(*logits, *x, *u, w_.final_norm, eps, w_.lm_head);
    return logits;
  }
  OwnedTensor kept = ops_.empty(rows, h, DType::F32), normed = ops_.empty(rows, h, act);
  ops_.gather_rows(*kept, *x, keep);
  ops_.rms_norm(*normed, *kept, w_.final_norm, eps);
  ops_.linear(*logits, *normed, w_.lm_head, nullptr);
  return logits;
}

}  // namespace sambay
