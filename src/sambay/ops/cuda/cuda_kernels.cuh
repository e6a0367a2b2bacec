#pragma once
// Device helpers shared by the kernels.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "sambay/ops/ops.h"

namespace sambay::cuda {

using bf16 = __nv_bfloat16;

__device__ __forceinline__ float to_float(bf16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(float x) { return x; }

template <class T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ bf16 from_float<bf16>(float x) { return __float2bfloat16(x); }  // round to nearest even

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

__device__ __forceinline__ float silu(float x) { return x / (1.0f + __expf(-x)); }
__device__ __forceinline__ float softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }
// Approximate softplus (MUFU ex2/lg2): absolute error ~1e-7, which only matters where softplus is ~0.
__device__ __forceinline__ float softplus_fast(float x) { return x > 20.0f ? x : __logf(1.0f + __expf(x)); }
// 2^x on the special-function unit (one instruction; relative error ~2^-22).
__device__ __forceinline__ float exp2_fast(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// The chunk that packed row `row` belongs to (chunks are sorted by row0 and contiguous).
__device__ __forceinline__ int find_chunk(const SeqChunk* chunks, int n, int row) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (chunks[mid].row0 <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// Eight bf16 values from one 16-byte load.
__device__ __forceinline__ void load8(const bf16* p, float* out) {
  const uint4 v = __ldg(reinterpret_cast<const uint4*>(p));
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __bfloat1622float2(h[i]);
    out[2 * i] = f.x;
    out[2 * i + 1] = f.y;
  }
}

// Sixteen bytes (eight bf16 values) by a streaming load: read once, not kept in L1.
__device__ __forceinline__ uint4 load16_stream(const bf16* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

// The eight bf16 values packed in v, as floats.
__device__ __forceinline__ void bf16x8_to_float(const uint4& v, float* out) {
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __bfloat1622float2(h[i]);
    out[2 * i] = f.x;
    out[2 * i + 1] = f.y;
  }
}

// Eight bf16 values from one 16-byte streaming load.
__device__ __forceinline__ void load8_stream(const bf16* p, float* out) { bf16x8_to_float(load16_stream(p), out); }

// The device side of launch_overlapped() (cuda_launch.h). Both are no-ops in a kernel launched the
// plain way.
// Waits until the previous kernel in the stream has finished and its writes are visible.
__device__ __forceinline__ void grid_dependency_wait() { asm volatile("griddepcontrol.wait;" ::: "memory"); }
// Lets the next kernel in the stream start launching (call after grid_dependency_wait()).
__device__ __forceinline__ void allow_dependent_launch() { asm volatile("griddepcontrol.launch_dependents;" ::: "memory"); }
// Both, for kernels with nothing to do before the wait.
__device__ __forceinline__ void enter_dependent_kernel() {
  grid_dependency_wait();
  allow_dependent_launch();
}

inline unsigned blocks_for(int64_t n, int threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

}  // namespace sambay::cuda
