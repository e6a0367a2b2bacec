// Rotary position embedding of a plain transformer on the GPU (NeoX pairing, partial rotary,
// LongRoPE factor sets chosen per chunk). One block per row: the row's cos and sin are computed
// once into shared memory and applied to every head.
#include <cuda_bf16.h>

#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_kernels.cuh"
#include "sambay/ops/cuda/cuda_launch.h"
#include "sambay/ops/cuda/cuda_ops.h"

namespace sambay {
namespace cuda {
namespace {

constexpr int kMaxHalf = 256;  // rotary_dim / 2 up to this

__global__ void rope_kernel(bf16* x, int64_t stride, const SeqChunk* chunks, int num_chunks, const float* inv_freq,
                            int64_t inv_stride, int num_heads, int head_dim, int half, float magnitude) {
  __shared__ float cs[kMaxHalf], sn[kMaxHalf];
  enter_dependent_kernel();
  const int row = blockIdx.x;
  const SeqChunk c = chunks[find_chunk(chunks, num_chunks, row)];
  // The angle is a float32 product and cos/sin are full-precision float32, as the reference
  // computes them (angles reach 1e5 rad at long contexts, where the fast intrinsics are wrong).
  const float pos = static_cast<float>(c.pos0 + (row - c.row0));
  const float* inv = inv_freq + (c.rope_set ? inv_stride : 0);
  for (int j = threadIdx.x; j < half; j += blockDim.x) {
    float s, co;
    sincosf(pos * inv[j], &s, &co);
    cs[j] = co * magnitude;
    sn[j] = s * magnitude;
  }
  __syncthreads();
  bf16* r = x + row * stride;
  for (int i = threadIdx.x; i < num_heads * half; i += blockDim.x) {
    const int h = i / half, j = i % half;
    bf16* v = r + static_cast<int64_t>(h) * head_dim;
    const float a = to_float(v[j]), b = to_float(v[j + half]);
    v[j] = from_float<bf16>(a * cs[j] - b * sn[j]);
    v[j + half] = from_float<bf16>(b * cs[j] + a * sn[j]);
  }
}

}  // namespace
}  // namespace cuda

using namespace cuda;

void CudaOps::rope(const Tensor& x, std::span<const SeqChunk> chunks, const RopeParams& p) {
  const int64_t half = p.rotary_dim / 2;
  SAMBAY_CUDA_REQUIRE(x.dtype == DType::BF16 && x.cols == p.num_heads * p.head_dim && p.rotary_dim % 2 == 0 &&
                          p.rotary_dim <= p.head_dim && half <= kMaxHalf && p.inv_freq.rows == 2 &&
                          p.inv_freq.cols == half && p.inv_freq.dtype == DType::F32,
                      "rope: shape mismatch");
  if (x.rows == 0 || half == 0) return;
  launch_overlapped(stream_, dim3(x.rows), dim3(128), 0, rope_kernel, x.ptr<bf16>(), x.stride, device_chunks(chunks),
                    static_cast<int>(chunks.size()), p.inv_freq.ptr<const float>(), p.inv_freq.stride, static_cast<int>(p.num_heads),
                    static_cast<int>(p.head_dim), static_cast<int>(half), p.magnitude);
}

}  // namespace sambay
