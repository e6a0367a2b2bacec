#pragma once
// The reference backend: float32 arithmetic on the host, weights read in their stored dtype
// (BF16, F16 or F32) and widened inside the kernels. OpenMP threads and OpenBLAS.
#include <mutex>
#include <vector>

#include "sambay/ops/ops.h"

namespace sambay {

struct CpuOpsOptions {
  // Fill every new allocation with NaN so that an op that forgets to write an element is caught.
  bool poison_allocations = false;
};

class CpuOps final : public Ops {
 public:
  explicit CpuOps(CpuOpsOptions options = {}) : options_(options) {}

  Device device() const override { return Device::Cpu; }
  DType activation_dtype() const override { return DType::F32; }

  OwnedTensor empty(int64_t rows, int64_t cols, DType dtype) override;
  void zero(const Tensor& t) override;
  OwnedTensor place(const Tensor& host, std::shared_ptr<void> keep, Placement kind) override;
  void to_host(const Tensor& t, void* dst) override;
  void from_host(const Tensor& t, const void* src) override;
  void copy(const Tensor& dst, const Tensor& src) override;

  void embedding(const Tensor& out, std::span<const int32_t> ids, const Tensor& table) override;
  void layer_norm(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor& b, float eps) override;
  void linear(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor* bias) override;
  void add(const Tensor& x, const Tensor& y) override;
  void silu_mul(const Tensor& out, const Tensor& gate, const Tensor& x) override;
  void gather_rows(const Tensor& out, const Tensor& in, std::span<const int32_t> rows) override;
  void argmax_rows(const Tensor& logits, std::span<int32_t> ids) override;

  void rms_norm(const Tensor& out, const Tensor& in, const Tensor& w, float eps) override;
  void rope(const Tensor& x, std::span<const SeqChunk> chunks, const RopeParams& p) override;
  void attention(const Tensor& out, const Tensor& q, const KvPagesRef& pages, std::span<const SeqChunk> chunks,
                 const AttentionParams& p) override;

  void mamba_conv(const Tensor& out, const Tensor& xs, const Tensor& w, const Tensor& b, const MambaStateRef& state,
                  std::span<const SeqChunk> chunks) override;
  void mamba_scan(const Tensor& y, const Tensor& x, const Tensor& dt, const Tensor& A, const Tensor& B,
                  const Tensor& C, const Tensor& D, const Tensor& dt_bias, const Tensor* z,
                  const MambaStateRef& state, std::span<const SeqChunk> chunks) override;

  void kv_ring_write(const KvRingRef& ring, const Tensor& k, const Tensor& v, std::span<const SeqChunk> chunks) override;
  void kv_pages_write(const KvPagesRef& pages, const Tensor& k, const Tensor& v,
                      std::span<const SeqChunk> chunks) override;
  void diff_attention(const Tensor& out, const Tensor& q, const DiffAttnKv& kv, std::span<const SeqChunk> chunks,
                      const DiffAttnParams& p) override;

 private:
  CpuOpsOptions options_;
  std::mutex scratch_mutex_;
  std::vector<float> scratch_;  // widened weight rows for the BLAS path of linear()
  friend void cpu_linear(CpuOps&, const Tensor&, const Tensor&, const Tensor&, const Tensor*);
  std::vector<float>& scratch(size_t n);
};

}  // namespace sambay
