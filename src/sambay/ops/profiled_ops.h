#pragma once
// A decorator that times every op of another backend (wall clock; the wrapped backend must finish
// its work before returning, e.g. by synchronising) and reports the totals per op.
#include <map>
#include <vector>
#include <string>

#include "sambay/base/timer.h"
#include "sambay/ops/ops.h"

namespace sambay {

class ProfiledOps final : public Ops {
  // Defined first: the overrides below deduce their return type from it. On a device backend the
  // op is bracketed by timeline markers (device time, no synchronisation); otherwise wall time.
  template <class F>
  auto timed(const char* name, F&& f) {
    Timer t;
    struct Record {
      ProfiledOps& self;
      const char* name;
      int64_t start;
      Timer& t;
      ~Record() {
        Entry& e = self.totals_[name];
        ++e.calls;
        if (start >= 0) {
          self.pending_.push_back({name, start, self.inner_.mark()});
        } else {
          e.seconds += t.seconds();
        }
      }
    } record{*this, name, inner_.mark(), t};
    return f();
  }
  struct Pending {
    const char* name;
    int64_t start, end;
  };
  std::vector<Pending> pending_;
  void collect();


 public:
  struct Entry {
    double seconds = 0;
    int64_t calls = 0;
  };

  explicit ProfiledOps(Ops& inner) : inner_(inner) {}
  const std::map<std::string, Entry>& totals() {
    collect();
    return totals_;
  }
  void reset() {
    inner_.synchronize();
    pending_.clear();
    inner_.reset_marks();
    totals_.clear();
  }
  std::string report();

  Device device() const override { return inner_.device(); }
  DType activation_dtype() const override { return inner_.activation_dtype(); }
  OwnedTensor empty(int64_t rows, int64_t cols, DType dtype) override { return timed("empty", [&] { return inner_.empty(rows, cols, dtype); }); }
  void zero(const Tensor& t) override { timed("zero", [&] { inner_.zero(t); }); }
  OwnedTensor place(const Tensor& host, std::shared_ptr<void> keep, Placement kind) override {
    return inner_.place(host, keep, kind);
  }
  void to_host(const Tensor& t, void* dst) override { timed("to_host", [&] { inner_.to_host(t, dst); }); }
  void from_host(const Tensor& t, const void* src) override { timed("from_host", [&] { inner_.from_host(t, src); }); }
  void synchronize() override { inner_.synchronize(); }
  void copy(const Tensor& dst, const Tensor& src) override { timed("copy", [&] { inner_.copy(dst, src); }); }
  void set_step_inputs(std::span<const int32_t> tokens, std::span<const SeqChunk> chunks) override {
    inner_.set_step_inputs(tokens, chunks);
  }
  // Graphs are not forwarded: per-op timing needs every op to run on its own.
  void embedding(const Tensor& out, std::span<const int32_t> ids, const Tensor& table) override {
    timed("embedding", [&] { inner_.embedding(out, ids, table); });
  }
  void layer_norm(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor& b, float eps) override {
    timed("layer_norm", [&] { inner_.layer_norm(out, in, w, b, eps); });
  }
  void linear(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor* bias) override {
    timed("linear", [&] { inner_.linear(out, in, w, bias); });
  }
  void add(const Tensor& x, const Tensor& y) override { timed("add", [&] { inner_.add(x, y); }); }
  void add_layer_norm(const Tensor& x, const Tensor& y, const Tensor& out, const Tensor& w, const Tensor& b,
                      float eps) override {
    timed("add_layer_norm", [&] { inner_.add_layer_norm(x, y, out, w, b, eps); });
  }
  void silu_mul(const Tensor& out, const Tensor& gate, const Tensor& x) override {
    timed("silu_mul", [&] { inner_.silu_mul(out, gate, x); });
  }
  void linear_swiglu(const Tensor& out, const Tensor& in, const Tensor& w) override {
    timed("linear_swiglu", [&] { inner_.linear_swiglu(out, in, w); });
  }
  void rms_norm(const Tensor& out, const Tensor& in, const Tensor& w, float eps) override {
    timed("rms_norm", [&] { inner_.rms_norm(out, in, w, eps); });
  }
  void add_rms_norm(const Tensor& x, const Tensor& y, const Tensor& out, const Tensor& w, float eps) override {
    timed("add_rms_norm", [&] { inner_.add_rms_norm(x, y, out, w, eps); });
  }
  void linear_residual(const Tensor& x, const Tensor& in, const Tensor& w, const Tensor& normed,
                       const Tensor& norm_w) override {
    timed("linear_residual", [&] { inner_.linear_residual(x, in, w, normed, norm_w); });
  }
  void rms_linear(const Tensor& out, const Tensor& x, const Tensor& normed, const Tensor& norm_w, float eps,
                  const Tensor& w) override {
    timed("rms_linear", [&] { inner_.rms_linear(out, x, normed, norm_w, eps, w); });
  }
  void rms_linear_swiglu(const Tensor& out, const Tensor& x, const Tensor& normed, const Tensor& norm_w, float eps,
                         const Tensor& w) override {
    timed("rms_linear_swiglu", [&] { inner_.rms_linear_swiglu(out, x, normed, norm_w, eps, w); });
  }
  void rope(const Tensor& x, std::span<const SeqChunk> chunks, const RopeParams& p) override {
    timed("rope", [&] { inner_.rope(x, chunks, p); });
  }
  void attention(const Tensor& out, const Tensor& q, const KvPagesRef& pages, std::span<const SeqChunk> chunks,
                 const AttentionParams& p) override {
    timed("attention", [&] { inner_.attention(out, q, pages, chunks, p); });
  }
  void gather_rows(const Tensor& out, const Tensor& in, std::span<const int32_t> rows) override {
    timed("gather_rows", [&] { inner_.gather_rows(out, in, rows); });
  }
  void argmax_rows(const Tensor& logits, std::span<int32_t> ids) override {
    timed("argmax_rows", [&] { inner_.argmax_rows(logits, ids); });
  }
  void mamba_conv(const Tensor& out, const Tensor& xs, const Tensor& w, const Tensor& b, const MambaStateRef& state,
                  std::span<const SeqChunk> chunks) override {
    timed("mamba_conv", [&] { inner_.mamba_conv(out, xs, w, b, state, chunks); });
  }
  void mamba_scan(const Tensor& y, const Tensor& x, const Tensor& dt, const Tensor& A, const Tensor& B,
                  const Tensor& C, const Tensor& D, const Tensor& dt_bias, const Tensor* z,
                  const MambaStateRef& state, std::span<const SeqChunk> chunks) override {
    timed("mamba_scan", [&] { inner_.mamba_scan(y, x, dt, A, B, C, D, dt_bias, z, state, chunks); });
  }
  void kv_ring_write(const KvRingRef& ring, const Tensor& k, const Tensor& v, std::span<const SeqChunk> chunks) override {
    timed("kv_ring_write", [&] { inner_.kv_ring_write(ring, k, v, chunks); });
  }
  void rope_kv_write(const Tensor& qk, const Tensor& v, const KvPagesRef& pages, std::span<const SeqChunk> chunks,
                     const RopeParams& p) override {
    timed("rope_kv_write", [&] { inner_.rope_kv_write(qk, v, pages, chunks, p); });
  }
  void kv_pages_write(const KvPagesRef& pages, const Tensor& k, const Tensor& v,
                      std::span<const SeqChunk> chunks) override {
    timed("kv_pages_write", [&] { inner_.kv_pages_write(pages, k, v, chunks); });
  }
  void diff_attention(const Tensor& out, const Tensor& q, const DiffAttnKv& kv, std::span<const SeqChunk> chunks,
                      const DiffAttnParams& p) override {
    timed("diff_attention", [&] { inner_.diff_attention(out, q, kv, chunks, p); });
  }


 private:
  Ops& inner_;
  std::map<std::string, Entry> totals_;
};

}  // namespace sambay
