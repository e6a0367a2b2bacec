// The Phi-3 forward pass (design document phi4-mini-baseline.md §3): per layer
//   x += o_proj(attention(rope(q), rope(k), v));  x += down(silu(gate) * up)
// on RMSNorm-ed inputs, with a float32 residual stream; logits from the tied embedding.
#include "sambay/model/phi3_model.h"

#include <cmath>
#include <set>

#include "sambay/base/error.h"

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
    : config_(std::move(config)), source_(std::move(source)), ops_(ops) {
  w_ = load_phi3_weights(config_, *source_, ops_);
  warn_unused_tensors(*source_, config_.tie_word_embeddings);
}

std::unique_ptr<Phi3Model> Phi3Model::load(const std::filesystem::path& dir, Ops& ops, const LoadOptions& options) {
  Phi3Config config = load_phi3_config(dir);
  auto source = open_model_weights(dir, config.torch_dtype, count_phi3_tensors(config), options);
  return std::make_unique<Phi3Model>(std::move(config), std::move(source), ops);
}

bool Phi3Model::needs_recompute(int64_t cached, int64_t new_tokens) const {
  const int64_t limit = config_.original_max_position_embeddings;
  return config_.longrope() && cached > 0 && cached <= limit && cached + new_tokens > limit;
}

OwnedTensor Phi3Model::forward(const StepBatch& batch, StateCache& cache) {
  const Phi3Config& c = config_;
  const int64_t T = static_cast<int64_t>(batch.tokens.size());
  for (int64_t i = 0; i < T; ++i)
    if (batch.tokens[i] < 0 || batch.tokens[i] >= c.vocab_size)
      fail("token id {} (input position {}) is outside the vocabulary [0, {})", batch.tokens[i], i, c.vocab_size);
  std::set<int> slots;
  int64_t next_row = 0;
  for (const SeqChunk& ch : batch.chunks) {
    SAMBAY_CHECK(ch.len > 0 && ch.row0 == next_row, "forward: chunks must be non-empty and packed in order");
    SAMBAY_CHECK(slots.insert(ch.slot).second, "forward: slot {} appears twice in one step", ch.slot);
    if (needs_recompute(cache.length(ch.slot), ch.len))
      fail("forward: the sequence in slot {} passes {} positions with keys rotated by the short factors; "
           "run it again from position 0",
           ch.slot, c.original_max_position_embeddings);
    next_row += ch.len;
  }
  SAMBAY_CHECK(next_row == T && T > 0, "forward: the chunks do not cover the {} tokens", T);
  for (const SeqChunk& ch : batch.chunks)
    if (!cache.reserve(ch.slot, ch.len))
      fail("state cache: no free pages for {} more positions of the sequence in slot {}", ch.len, ch.slot);
  cache.sync_page_table();

  std::vector<SeqChunk> chunks = batch.chunks;
  for (SeqChunk& ch : chunks) {
    ch.pos0 = cache.length(ch.slot);
    ch.rope_set = c.longrope() && ch.pos0 + ch.len > c.original_max_position_embeddings ? 1 : 0;
  }
  ops_.set_step_inputs(batch.tokens, chunks);

  const int64_t h = c.hidden_size, H = c.num_attention_heads, Hkv = c.num_key_value_heads, dh = c.head_dim();
  const DType act = ops_.activation_dtype();
  const float eps = static_cast<float>(c.rms_norm_eps);
  // Q and K heads sit side by side in the qkv projection: one rotation covers both.
  const RopeParams rope{H + Hkv, dh, c.rotary_dim(), w_.inv_freq, static_cast<float>(c.attention_factor)};
  const AttentionParams attn{H, Hkv, dh, 1.0f / std::sqrt(static_cast<float>(dh))};

  OwnedTensor x = ops_.empty(T, h, DType::F32), u = ops_.empty(T, h, act);
  ops_.embedding(*x, batch.tokens, w_.embed);
  OwnedTensor pending;  // the last sub-block's output, added to x by the next norm
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const Phi3LayerWeights& lw = w_.layers[i];
    if (pending.memory) ops_.add_rms_norm(*x, *pending, *u, lw.norm_in, eps);
    else ops_.rms_norm(*u, *x, lw.norm_in, eps);

    OwnedTensor qkv = ops_.empty(T, lw.qkv.rows, act);
    ops_.linear(*qkv, *u, lw.qkv, nullptr);
    const Tensor q = qkv->cols_slice(0, H * dh), k = qkv->cols_slice(H * dh, Hkv * dh);
    const Tensor v = qkv->cols_slice((H + Hkv) * dh, Hkv * dh);
    ops_.rope(qkv->cols_slice(0, (H + Hkv) * dh), chunks, rope);
    const KvPagesRef pages = cache.pages(static_cast<int>(i));
    ops_.kv_pages_write(pages, k, v, chunks);
    OwnedTensor o = ops_.empty(T, H * dh, act);
    ops_.attention(*o, q, pages, chunks, attn);
    pending = ops_.empty(T, h, act);
    ops_.linear(*pending, *o, lw.out, nullptr);

    ops_.add_rms_norm(*x, *pending, *u, lw.norm_post, eps);
    OwnedTensor a = ops_.empty(T, c.intermediate_size, act);
    ops_.linear_swiglu(*a, *u, lw.gate_up);
    pending = ops_.empty(T, h, act);
    ops_.linear(*pending, *a, lw.down, nullptr);
  }
  ops_.add(*x, *pending);

  // Only the rows whose logits were asked for go through the final norm and the LM head.
  std::vector<int32_t> keep;
  for (size_t i = 0; i < chunks.size(); ++i)
    for (int32_t t = batch.all_logits[i] ? 0 : chunks[i].len - 1; t < chunks[i].len; ++t) keep.push_back(chunks[i].row0 + t);
  const int64_t rows = static_cast<int64_t>(keep.size());
  if (rows != T) {
    OwnedTensor kept = ops_.empty(rows, h, DType::F32);
    ops_.gather_rows(*kept, *x, keep);
    x = std::move(kept);
    u = ops_.empty(rows, h, act);
  }
  ops_.rms_norm(*u, *x, w_.final_norm, eps);
  OwnedTensor logits = ops_.empty(rows, c.vocab_size, DType::F32);
  ops_.linear(*logits, *u, w_.lm_head, nullptr);
  for (const SeqChunk& ch : batch.chunks) cache.commit(ch.slot, ch.len);
  return logits;
}

}  // namespace sambay
