#pragma once
// The CUDA backend: BF16 weights and activations, float32 where precision needs it (residual
// stream, norms, scan state, softmax, accumulation). All work is issued on one stream; memory for
// activations comes from the stream-ordered allocator, so allocations are cheap and reused.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "sambay/ops/ops.h"

namespace sambay {

class CudaOps final : public Ops {
 public:
  explicit CudaOps(int device = 0);
  ~CudaOps() override;
  CudaOps(const CudaOps&) = delete;
  CudaOps& operator=(const CudaOps&) = delete;

  Device device() const override { return Device::Cuda; }
  DType activation_dtype() const override { return DType::BF16; }

  OwnedTensor empty(int64_t rows, int64_t cols, DType dtype) override;
  void zero(const Tensor& t) override;
  OwnedTensor place(const Tensor& host, std::shared_ptr<void> keep, Placement kind) override;
  void to_host(const Tensor& t, void* dst) override;
  void from_host(const Tensor& t, const void* src) override;
  void synchronize() override;
  void copy(const Tensor& dst, const Tensor& src) override;
  void set_step_inputs(std::span<const int32_t> tokens, std::span<const SeqChunk> chunks) override;
  bool supports_graphs() const override { return true; }
  void begin_capture() override;
  std::shared_ptr<void> end_capture() override;
  void abort_capture() override;
  void launch_graph(const std::shared_ptr<void>& graph) override;
  int64_t mark() override;
  double marks_elapsed_ms(int64_t from, int64_t to) override;
  void reset_marks() override { next_mark_ = 0; }

  void embedding(const Tensor& out, std::span<const int32_t> ids, const Tensor& table) override;
  void layer_norm(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor& b, float eps) override;
  void linear(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor* bias) override;
  void add(const Tensor& x, const Tensor& y) override;
  void add_layer_norm(const Tensor& x, const Tensor& y, const Tensor& out, const Tensor& w, const Tensor& b,
                      float eps) override;
  void silu_mul(const Tensor& out, const Tensor& gate, const Tensor& x) override;
  void rms_norm(const Tensor& out, const Tensor& in, const Tensor& w, float eps) override;
  void add_rms_norm(const Tensor& x, const Tensor& y, const Tensor& out, const Tensor& w, float eps) override;
  void rope(const Tensor& x, std::span<const SeqChunk> chunks, const RopeParams& p) override;
  void rope_kv_write(const Tensor& qk, const Tensor& v, const KvPagesRef& pages, std::span<const SeqChunk> chunks,
                     const RopeParams& p) override;
  void attention(const Tensor& out, const Tensor& q, const KvPagesRef& pages, std::span<const SeqChunk> chunks,
                 const AttentionParams& p) override;
  void linear_swiglu(const Tensor& out, const Tensor& in, const Tensor& w) override;
  void linear_residual(const Tensor& x, const Tensor& in, const Tensor& w, const Tensor& normed,
                       const Tensor& norm_w) override;
  void rms_linear(const Tensor& out, const Tensor& x, const Tensor& normed, const Tensor& norm_w, float eps,
                  const Tensor& w) override;
  void rms_linear_swiglu(const Tensor& out, const Tensor& x, const Tensor& normed, const Tensor& norm_w, float eps,
                         const Tensor& w) override;
  void gather_rows(const Tensor& out, const Tensor& in, std::span<const int32_t> rows) override;
  void argmax_rows(const Tensor& logits, std::span<int32_t> ids) override;

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

  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }
  const cudaDeviceProp& properties() const { return props_; }
  // Bytes of device memory this process holds (weights, state, the allocator's pool).
  size_t device_bytes_in_use() const;

 private:
  // Small per-step tables (chunks, ids, row lists) on the device. The chunk table is re-uploaded
  // only when its content changes: every op of a step passes the same one.
  const SeqChunk* device_chunks(std::span<const SeqChunk> chunks);
  // A device copy of `values`; freeing it is stream-ordered, so it may be dropped right after the
  // launch that reads it.
  OwnedTensor device_ints(std::span<const int32_t> values);
  // The step's token ids on the device if `ids` are they, else a fresh upload.
  const int32_t* device_ids(std::span<const int32_t> ids, OwnedTensor& keep);

  // Step memory of captured graphs (cuda_ops.cu says why).
  struct CaptureArena;
  std::shared_ptr<CaptureArena> arena_;

  int device_ = 0;
  cudaDeviceProp props_{};
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  void* cublas_workspace_ = nullptr;
  std::vector<SeqChunk> chunks_host_;
  OwnedTensor chunks_device_;
  // Step inputs at fixed addresses (capacity fixed at construction).
  static constexpr int64_t kStepCapacity = 4096;
  std::vector<int32_t> step_ids_host_;
  std::vector<SeqChunk> step_chunks_host_;
  void* step_ids_ = nullptr;
  void* step_chunks_ = nullptr;
  bool capturing_ = false;
  std::vector<cudaEvent_t> marks_;
  size_t next_mark_ = 0;
};

// True when a CUDA device can be used (a driver, a device, and this build's kernels run on it).
bool cuda_device_usable();

}  // namespace sambay
