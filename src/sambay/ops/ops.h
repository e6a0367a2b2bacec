#pragma once
// The operations the SambaY forward pass is written in. The CPU backend is the reference; every
// other backend implements the same functions and is tested against it.
//
// Activations are packed: the new tokens of all sequences of a step are rows of one matrix, and a
// SeqChunk says which rows belong to which sequence, at which absolute positions, in which
// state-cache slot. Prefill, chunked prefill, decode and mixes of them are the same call.
#include <cstdint>
#include <span>

#include "sambay/ops/tensor.h"

namespace sambay {

struct SeqChunk {
  int32_t row0 = 0;  // first row of this sequence in the packed activations
  int32_t len = 0;   // rows (tokens) of this sequence in this step
  int64_t pos0 = 0;  // absolute position of the first of them
  int32_t slot = 0;  // state-cache slot of the sequence
  int32_t rope_set = 0;  // rotary factor set of the sequence (LongRoPE: 0 short, 1 long); only rope reads it

  bool operator==(const SeqChunk&) const = default;  // field by field: the struct has padding
};

// Mamba state of one layer, for every slot: conv inputs [slots, d_inner * (d_conv - 1)] (oldest
// column first) and SSM state [slots, d_inner * d_state].
struct MambaStateRef {
  Tensor conv;
  Tensor ssm;
  int64_t d_conv = 0;
  int64_t d_state = 0;
};

// K/V of the last `window` positions of a sliding-window layer: per slot [window, kv_heads * head_dim],
// position p in row p % window. k and v are [slots, window * kv_heads * head_dim].
struct KvRingRef {
  Tensor k, v;
  int64_t window = 0;
};

// The shared K/V of the full-attention layer in pages of `page_size` positions:
// k, v are [num_pages, page_size * kv_heads * head_dim]; position p of the sequence in `slot` lives in
// page page_table[slot * table_stride + p / page_size]. Where in the page is the backend's choice
// (only its kv_pages_write and attention kernels read or write pages): the CPU keeps row
// p % page_size of [kv_heads * head_dim]; CUDA groups a page's rows by `group_heads` kv heads (2:
// the pairs differential attention reads together; 1: one head, for plain attention).
struct KvPagesRef {
  Tensor k, v;
  int64_t page_size = 0;
  const int32_t* page_table = nullptr;  // host memory
  Tensor page_table_device;             // the same table on the backend's device, I32 [slots, table_stride]
  int64_t table_stride = 0;
  int64_t head_dim = 0;
  int64_t group_heads = 2;
};

// Where differential attention reads keys and values.
struct DiffAttnKv {
  // Sliding-window layer: positions before a chunk's pos0 come from `ring`, the chunk's own positions
  // from the rows of k_cur / v_cur ([tokens, kv_heads * head_dim], same rows as the queries).
  const KvRingRef* ring = nullptr;
  Tensor k_cur, v_cur;
  // Full and cross layers: every position from the pages (written before the call).
  const KvPagesRef* pages = nullptr;
  int64_t window = 0;  // keys p - window + 1 .. p for a query at p; 0 = all keys 0 .. p
};

struct DiffAttnParams {
  int64_t num_heads = 0;     // query heads H (pairs: H / 2)
  int64_t num_kv_heads = 0;  // key/value heads (pairs: kv / 2)
  int64_t head_dim = 0;
  float scale = 0;        // softmax scale, 1 / sqrt(head_dim)
  float lambda = 0;       // lambda_1 - lambda_2 + lambda_init
  float out_scale = 0;    // 1 - lambda_init
  Tensor subln;           // [1, 2 * head_dim] f32 RMSNorm gain
  float eps = 1e-5f;
};

// Rotary position embedding of a plain transformer (Phi-3 family, NeoX pairing).
struct RopeParams {
  int64_t num_heads = 0;   // heads of the tensor rotated (query or key heads)
  int64_t head_dim = 0;
  int64_t rotary_dim = 0;  // the first rotary_dim dims of each head rotate, dim j with j + rotary_dim / 2
  Tensor inv_freq;         // F32 [2, rotary_dim / 2]: row 0 the short factor set, row 1 the long one
  float magnitude = 1;     // multiplies cos and sin (LongRoPE's attention factor)
};

struct AttentionParams {
  int64_t num_heads = 0;     // query heads
  int64_t num_kv_heads = 0;  // query head h reads kv head h / (num_heads / num_kv_heads)
  int64_t head_dim = 0;
  float scale = 0;           // softmax scale, 1 / sqrt(head_dim)
};

class Ops {
 public:
  virtual ~Ops() = default;

  virtual Device device() const = 0;
  // Element type of activations between ops (the residual stream is always F32).
  virtual DType activation_dtype() const = 0;

  virtual OwnedTensor empty(int64_t rows, int64_t cols, DType dtype) = 0;
  virtual void zero(const Tensor& t) = 0;
  // Makes a host weight usable by this backend. The CPU backend uses it in place (`keep` holds the
  // host memory alive as long as the returned tensor); a device backend copies it, and may store a
  // matrix (an operand of linear or embedding) in its own compute dtype.
  enum class Placement { Matrix, Vector };
  virtual OwnedTensor place(const Tensor& host, std::shared_ptr<void> keep, Placement kind) = 0;
  // Copies a tensor into contiguous host memory of the same dtype.
  virtual void to_host(const Tensor& t, void* dst) = 0;
  // Copies contiguous host rows of the same dtype into a tensor.
  virtual void from_host(const Tensor& t, const void* src) = 0;
  // Waits until every op issued so far has finished (a no-op for synchronous backends).
  virtual void synchronize() {}
  // dst = src (same dtype and shape, on this backend).
  virtual void copy(const Tensor& dst, const Tensor& src) = 0;

  // The packed token ids and chunk table of the step about to run. A device backend keeps them at
  // fixed addresses, so a captured graph reads each step's values; ops given the same spans use them.
  virtual void set_step_inputs(std::span<const int32_t> tokens, std::span<const SeqChunk> chunks) {}
  // Capture of the ops issued between begin_capture() and end_capture() as one replayable graph
  // (CUDA graphs). Nothing runs while capturing. Backends without graphs return false here.
  // end_capture() returns null when the backend needs the same ops captured once more (it has just
  // learned how much memory the graph's tensors take and made room for them).
  virtual bool supports_graphs() const { return false; }
  virtual void begin_capture() {}
  virtual std::shared_ptr<void> end_capture() { return nullptr; }
  virtual void abort_capture() {}
  virtual void launch_graph(const std::shared_ptr<void>& graph) {}

  // Markers on the device timeline, to time ops without synchronising after each one. A backend
  // without one returns -1 (profiling then uses wall time).
  virtual int64_t mark() { return -1; }
  virtual double marks_elapsed_ms(int64_t from, int64_t to) { return 0; }  // waits for both
  virtual void reset_marks() {}

  // out[r] = table[ids[r]]  (ids on the host, already range-checked)
  virtual void embedding(const Tensor& out, std::span<const int32_t> ids, const Tensor& table) = 0;
  // out = (in - mean) / sqrt(var + eps) * w + b over each row
  virtual void layer_norm(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor& b, float eps) = 0;
  // out = in · wᵀ (+ bias); w is [out_features, in_features] in its stored dtype
  virtual void linear(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor* bias) = 0;
  // x += y
  virtual void add(const Tensor& x, const Tensor& y) = 0;
  // x += y, then out = LayerNorm(x): a residual update and the next pre-norm in one pass.
  virtual void add_layer_norm(const Tensor& x, const Tensor& y, const Tensor& out, const Tensor& w, const Tensor& b,
                              float eps) {
    add(x, y);
    layer_norm(out, x, w, b, eps);
  }
  // out = silu(gate) * x
  virtual void silu_mul(const Tensor& out, const Tensor& gate, const Tensor& x) = 0;
  // The SwiGLU MLP's first half: out = silu(in · gateᵀ) * (in · upᵀ) with w = [gate; up], i.e.
  // linear() into [gate | up] and silu_mul() (a backend may fuse them, with the same roundings).
  virtual void linear_swiglu(const Tensor& out, const Tensor& in, const Tensor& w) {
    OwnedTensor gu = empty(in.rows, w.rows, activation_dtype());
    linear(*gu, in, w, nullptr);
    silu_mul(out, gu->cols_slice(0, out.cols), gu->cols_slice(out.cols, out.cols));
  }
  // out[i] = in[rows[i]]
  virtual void gather_rows(const Tensor& out, const Tensor& in, std::span<const int32_t> rows) = 0;

  // out = in / sqrt(mean(in²) + eps) * w over each row (RMSNorm; in F32).
  virtual void rms_norm(const Tensor& out, const Tensor& in, const Tensor& w, float eps) { unsupported("rms_norm"); }
  // x += y, then out = RMSNorm(x).
  virtual void add_rms_norm(const Tensor& x, const Tensor& y, const Tensor& out, const Tensor& w, float eps) {
    add(x, y);
    rms_norm(out, x, w, eps);
  }
  // A residual update and the RMSNorm GEMV after it, split so that a backend can fold the norm into
  // the two GEMVs instead of running it on its own: linear_residual() then rms_linear() compute
  //   x += in · wᵀ (rounded to the activation dtype first);  out = RMSNorm(x, norm_w) · w2ᵀ.
  // `normed` [x.rows, x.cols] in the activation dtype belongs to the pair: linear_residual() may
  // leave in it what rms_linear() needs, so both calls name the same x, normed and norm_w, and
  // nothing else writes them in between. By default linear_residual() is linear + add and
  // rms_linear() is rms_norm into `normed` + linear, with exactly their roundings.
  virtual void linear_residual(const Tensor& x, const Tensor& in, const Tensor& w, const Tensor& normed,
                               const Tensor& norm_w) {
    OwnedTensor y = empty(in.rows, w.rows, activation_dtype());
    linear(*y, in, w, nullptr);
    add(x, *y);
  }
  virtual void rms_linear(const Tensor& out, const Tensor& x, const Tensor& normed, const Tensor& norm_w, float eps,
                          const Tensor& w) {
    rms_norm(normed, x, norm_w, eps);
    linear(out, normed, w, nullptr);
  }
  // rms_linear() into linear_swiglu().
  virtual void rms_linear_swiglu(const Tensor& out, const Tensor& x, const Tensor& normed, const Tensor& norm_w,
                                 float eps, const Tensor& w) {
    rms_norm(normed, x, norm_w, eps);
    linear_swiglu(out, normed, w);
  }
  // In place on x [rows, num_heads * head_dim]: rotates each head's first rotary_dim dims by the
  // angle position * inv_freq[set][j] (j < rotary_dim / 2; x[j], x[j + rotary_dim / 2] as a pair),
  // cos and sin times the magnitude. A chunk's rows sit at positions pos0 ... and use the factor
  // set inv_freq[chunk.rope_set].
  virtual void rope(const Tensor& x, std::span<const SeqChunk> chunks, const RopeParams& p) {
    unsupported("rope");
  }
  // rope() over all heads of qk ([rows, (query heads + kv heads) * head_dim], the key heads last and
  // as wide as v), then kv_pages_write() of the rotated keys and v: one pass where a backend fuses
  // them (a decode step saves a launch per layer).
  virtual void rope_kv_write(const Tensor& qk, const Tensor& v, const KvPagesRef& pages,
                             std::span<const SeqChunk> chunks, const RopeParams& p) {
    rope(qk, chunks, p);
    kv_pages_write(pages, qk.cols_slice(qk.cols - v.cols, v.cols), v, chunks);
  }
  // Causal attention of each chunk's queries over positions 0 .. p of its sequence, all read from
  // the pages (written before the call). out [rows, num_heads * head_dim].
  virtual void attention(const Tensor& out, const Tensor& q, const KvPagesRef& pages, std::span<const SeqChunk> chunks,
                         const AttentionParams& p) {
    unsupported("attention");
  }

  // Causal depthwise conv over each chunk, continuing from and updating the slot's conv inputs, then
  // silu: out[t] = silu(b + sum_k w[:, k] * xs[t - d_conv + 1 + k]).
  virtual void mamba_conv(const Tensor& out, const Tensor& xs, const Tensor& w, const Tensor& b,
                          const MambaStateRef& state, std::span<const SeqChunk> chunks) = 0;
  // Selective scan from and into the slot's SSM state:
  //   dt' = softplus(dt + dt_bias);  s = exp(dt' A) s + dt' x B;  y = s · C + D x;  y *= silu(z) if z
  virtual void mamba_scan(const Tensor& y, const Tensor& x, const Tensor& dt, const Tensor& A, const Tensor& B,
                          const Tensor& C, const Tensor& D, const Tensor& dt_bias, const Tensor* z,
                          const MambaStateRef& state, std::span<const SeqChunk> chunks) = 0;

  // Stores the chunks' K/V (the last `window` of them) into the ring.
  virtual void kv_ring_write(const KvRingRef& ring, const Tensor& k, const Tensor& v,
                             std::span<const SeqChunk> chunks) = 0;
  virtual void kv_pages_write(const KvPagesRef& pages, const Tensor& k, const Tensor& v,
                              std::span<const SeqChunk> chunks) = 0;
  // ids[r] = index of the largest value of row r of F32 logits (lowest index on ties); ids on the host.
  virtual void argmax_rows(const Tensor& logits, std::span<int32_t> ids) = 0;

  // Differential attention of the queries of each chunk (causal, window per `kv`), both maps from one
  // read of K/V, then lambda combination, RMSNorm * subln * out_scale. out is [rows, H * head_dim].
  virtual void diff_attention(const Tensor& out, const Tensor& q, const DiffAttnKv& kv,
                              std::span<const SeqChunk> chunks, const DiffAttnParams& p) = 0;

 protected:
  // For ops a backend does not have yet: an error that says which.
  [[noreturn]] void unsupported(const char* op) const;
};

}  // namespace sambay
