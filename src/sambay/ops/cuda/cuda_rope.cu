// Rotary position embedding of a plain transformer on the GPU (NeoX pairing, partial rotary,
// LongRoPE factor sets chosen per chunk). One block per (row, head), one thread per value: every
// thread reads its value and its rotation partner, then writes its result, so a block costs one
// round trip (a block per row walking the heads took a dozen dependent ones). The fused form then
// stores the rotated key heads and the value heads in the pages (kv_pages_write's layout:
// `group_width` values per head group).
#include <cuda_bf16.h>

#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_kernels.cuh"
#include "sambay/ops/cuda/cuda_launch.h"
#include "sambay/ops/cuda/cuda_ops.h"

namespace sambay {
namespace cuda {
namespace {

constexpr int kMaxHeadDim = 1024;  // one thread per value of a head

unsigned rope_threads(int64_t head_dim) { return static_cast<unsigned>((head_dim + 31) / 32 * 32); }

// Where the fused form stores a row's keys and values; null pages: rotation only.
struct PageStore {
  bf16 *k = nullptr, *v = nullptr;
  const int32_t* table = nullptr;
  int64_t table_stride = 0;
  int page_size = 0, kv_row = 0, group_width = 0;
  const bf16* v_src = nullptr;
  int64_t v_stride = 0;
};

// blockDim.x >= head_dim; grid (rows, num_heads). Key heads are the row's last kv_row / head_dim.
__global__ void rope_kernel(bf16* x, int64_t stride, const SeqChunk* chunks, int num_chunks, const float* inv_freq,
                            int64_t inv_stride, int num_heads, int head_dim, int half, float magnitude,
                            PageStore store) {
  enter_dependent_kernel();
  const int row = blockIdx.x, h = blockIdx.y, d = threadIdx.x;
  const SeqChunk c = chunks[find_chunk(chunks, num_chunks, row)];
  const int64_t pos = c.pos0 + (row - c.row0);
  bf16* head = x + row * stride + static_cast<int64_t>(h) * head_dim;
  const bool active = d < head_dim, rotated = d < 2 * half;
  float value = 0.0f;
  if (active) {
    value = to_float(head[d]);
    if (rotated) {
      // The angle is a float32 product and cos/sin are full-precision float32, as the reference
      // computes them (angles reach 1e5 rad at long contexts, where the fast intrinsics are wrong).
      const int j = d < half ? d : d - half;
      const float partner = to_float(head[d < half ? d + half : d - half]);
      const float* inv = inv_freq + (c.rope_set ? inv_stride : 0);
      float s, co;
      sincosf(static_cast<float>(pos) * inv[j], &s, &co);
      const float cs = co * magnitude, sn = s * magnitude;
      value = d < half ? value * cs - partner * sn : value * cs + partner * sn;
    }
  }
  __syncthreads();  // every partner has been read before any value is overwritten
  if (!active) return;
  const bf16 out = from_float<bf16>(value);
  if (rotated) head[d] = out;
  const int kv_heads = store.kv_row / head_dim, key_head = h - (num_heads - kv_heads);
  if (!store.k || key_head < 0) return;
  const int32_t page = store.table[c.slot * store.table_stride + static_cast<int>(pos) / store.page_size];
  const int i = key_head * head_dim + d;  // index within the row's kv_row keys (and values)
  const int64_t dst = static_cast<int64_t>(page) * store.page_size * store.kv_row +
                      static_cast<int64_t>(i / store.group_width) * store.page_size * store.group_width +
                      static_cast<int64_t>(static_cast<int>(pos) % store.page_size) * store.group_width +
                      i % store.group_width;
  store.k[dst] = out;
  store.v[dst] = store.v_src[row * store.v_stride + i];
}

}  // namespace
}  // namespace cuda

using namespace cuda;

namespace {

void check_rope(const Tensor& x, const RopeParams& p) {
  const int64_t half = p.rotary_dim / 2;
  SAMBAY_CUDA_REQUIRE(x.dtype == DType::BF16 && x.cols == p.num_heads * p.head_dim && p.rotary_dim % 2 == 0 &&
                          p.rotary_dim <= p.head_dim && p.head_dim <= kMaxHeadDim && p.inv_freq.rows == 2 &&
                          p.inv_freq.cols == half && p.inv_freq.dtype == DType::F32,
                      "rope: shape mismatch");
}

}  // namespace

void CudaOps::rope(const Tensor& x, std::span<const SeqChunk> chunks, const RopeParams& p) {
  check_rope(x, p);
  if (x.rows == 0) return;
  launch_overlapped(stream_, dim3(x.rows, p.num_heads), dim3(rope_threads(p.head_dim)), 0, rope_kernel, x.ptr<bf16>(),
                    x.stride, device_chunks(chunks), static_cast<int>(chunks.size()), p.inv_freq.ptr<const float>(),
                    p.inv_freq.stride, static_cast<int>(p.num_heads), static_cast<int>(p.head_dim),
                    static_cast<int>(p.rotary_dim / 2), p.magnitude, PageStore{});
}

void CudaOps::rope_kv_write(const Tensor& qk, const Tensor& v, const KvPagesRef& pages,
                            std::span<const SeqChunk> chunks, const RopeParams& p) {
  check_rope(qk, p);
  const int64_t group_width = pages.group_heads * pages.head_dim;
  SAMBAY_CUDA_REQUIRE(v.dtype == DType::BF16 && pages.k.dtype == DType::BF16 && v.rows == qk.rows &&
                          v.cols <= qk.cols && group_width > 0 && v.cols % group_width == 0 &&
                          v.cols % p.head_dim == 0,
                      "rope_kv_write: shape mismatch");
  if (qk.rows == 0) return;
  PageStore store;
  store.k = pages.k.ptr<bf16>();
  store.v = pages.v.ptr<bf16>();
  store.table = pages.page_table_device.ptr<const int32_t>();
  store.table_stride = pages.table_stride;
  store.page_size = static_cast<int>(pages.page_size);
  store.kv_row = static_cast<int>(v.cols);
  store.group_width = static_cast<int>(group_width);
  store.v_src = v.ptr<const bf16>();
  store.v_stride = v.stride;
  launch_overlapped(stream_, dim3(qk.rows, p.num_heads), dim3(rope_threads(p.head_dim)), 0, rope_kernel,
                    qk.ptr<bf16>(), qk.stride, device_chunks(chunks), static_cast<int>(chunks.size()),
                    p.inv_freq.ptr<const float>(), p.inv_freq.stride, static_cast<int>(p.num_heads),
                    static_cast<int>(p.head_dim), static_cast<int>(p.rotary_dim / 2), p.magnitude, store);
}

}  // namespace sambay
