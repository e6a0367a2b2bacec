// out = in · wᵀ (+ bias) for decode batches of 9..16 rows on tensor cores, reading each weight once.
//
// A warp owns 16 output features (the mma's M) and all 16 tokens (two n8 tiles). The order in which
// a dot product visits k does not matter, so each lane loads 8 consecutive weights of a feature row
// with one 16-byte load and feeds them to the mma as if they were the fragment's k positions; it
// loads the same 8 k of its token row, so A and B agree. Every load is 16 bytes. Matrices with few
// row tiles split k over up to 8 warps of a block and add the parts in shared memory, so that
// enough warps stream weights to fill the GPU.
#include <algorithm>

#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_kernels.cuh"
#include "sambay/ops/cuda/cuda_linear_mma.h"
#include "sambay/ops/cuda/cuda_mma.cuh"

namespace sambay::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kUnroll = 4;       // 32-wide k chunks whose loads are in flight together
constexpr int kMinWarps = 1024;  // warp tasks wanted per launch (~8 per SM) before splitting k further

__device__ __forceinline__ uint4 load16_stream(const bf16* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

__device__ __forceinline__ uint4 load16(const bf16* p) { return __ldg(reinterpret_cast<const uint4*>(p)); }

// One 32-wide k chunk: two k16 steps, each for both token tiles.
__device__ __forceinline__ void mma_chunk(float (&acc)[2][4], const uint4& wa, const uint4& wb, const uint4& xa,
                                          const uint4& xb) {
  const uint32_t a0[4] = {wa.x, wb.x, wa.y, wb.y}, a1[4] = {wa.z, wb.z, wa.w, wb.w};
  mma::mma16816(acc[0], a0, xa.x, xa.y);
  mma::mma16816(acc[1], a0, xb.x, xb.y);
  mma::mma16816(acc[0], a1, xa.z, xa.w);
  mma::mma16816(acc[1], a1, xb.z, xb.w);
}

// S warps of a block share one 16-feature tile, each taking a contiguous share of the k chunks in
// whole groups of kUnroll, so that only the last part can end with a partial group. A warp issues a
// group's weight and activation loads before using any: the bytes in flight set the bandwidth.
// (Deeper groups with the activations loaded as used, or weights staged through shared memory by
// cp.async, measured slower: the activation loads then wait one after another.)
template <int S, class Out>
__global__ void __launch_bounds__(kWarps * 32, 2)
    linear_mma_kernel(Out* out, int64_t out_stride, const bf16* x, int64_t x_stride, const bf16* w,
                      int64_t w_stride, const float* bias, int T, int N, int K) {
  constexpr int kTilesPerBlock = kWarps / S;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int g = lane >> 2, t = lane & 3;
  const int part = warp % S;
  const int chunks = K / 32, groups = (chunks + kUnroll - 1) / kUnroll;
  const int c0 = part * groups / S * kUnroll, c1 = min(chunks, (part + 1) * groups / S * kUnroll);
  // Token rows past T repeat the last one: their columns of the product are never stored.
  const bf16* xa = x + static_cast<int64_t>(min(g, T - 1)) * x_stride + 8 * t;
  const bf16* xb = x + static_cast<int64_t>(min(g + 8, T - 1)) * x_stride + 8 * t;
  const int tiles = (N + 15) / 16;
  __shared__ float partial[S > 1 ? kWarps : 1][32][8];

  for (int tb = blockIdx.x; tb * kTilesPerBlock < tiles; tb += gridDim.x) {
    const int tile = tb * kTilesPerBlock + warp / S;
    // Feature rows past N (and whole tiles past the last) repeat the last row and are not stored.
    const int fa = min(tile * 16 + g, N - 1), fb = min(tile * 16 + g + 8, N - 1);
    const bf16* wa = w + static_cast<int64_t>(fa) * w_stride + 8 * t;
    const bf16* wb = w + static_cast<int64_t>(fb) * w_stride + 8 * t;
    float acc[2][4] = {};
    uint4 ua[kUnroll], ub[kUnroll], va[kUnroll], vb[kUnroll];
    int c = c0;
    for (; c + kUnroll <= c1; c += kUnroll) {
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        ua[u] = load16_stream(wa + (c + u) * 32);
        ub[u] = load16_stream(wb + (c + u) * 32);
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        va[u] = load16(xa + (c + u) * 32);
        vb[u] = load16(xb + (c + u) * 32);
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) mma_chunk(acc, ua[u], ub[u], va[u], vb[u]);
    }
    if (c < c1) {  // a partial last group, its loads still issued together
#pragma unroll
      for (int u = 0; u < kUnroll - 1; ++u)
        if (c + u < c1) {
          ua[u] = load16_stream(wa + (c + u) * 32);
          ub[u] = load16_stream(wb + (c + u) * 32);
          va[u] = load16(xa + (c + u) * 32);
          vb[u] = load16(xb + (c + u) * 32);
        }
#pragma unroll
      for (int u = 0; u < kUnroll - 1; ++u)
        if (c + u < c1) mma_chunk(acc, ua[u], ub[u], va[u], vb[u]);
    }

    if constexpr (S > 1) {
#pragma unroll
      for (int i = 0; i < 8; ++i) partial[warp][lane][i] = acc[i / 4][i % 4];
      __syncthreads();
      if (part == 0)
        for (int p = 1; p < S; ++p)
#pragma unroll
          for (int i = 0; i < 8; ++i) acc[i / 4][i % 4] += partial[warp + p][lane][i];
      __syncthreads();  // partial is reused by the next tile
    }
    if (part == 0 && tile < tiles) {
      // acc[j][e]: feature tile*16 + g (+8 for e >= 2), token 8j + 2t + (e & 1).
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int f = tile * 16 + g + (e >= 2 ? 8 : 0);
        if (f >= N) continue;
        const float b = bias ? bias[f] : 0.0f;
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const int tok = 8 * j + 2 * t + (e & 1);
          if (tok < T) out[tok * out_stride + f] = from_float<Out>(acc[j][e] + b);
        }
      }
    }
  }
}

template <int S, class Out>
void launch(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, const float* bias, int sms) {
  const int N = static_cast<int>(w.rows);
  const int tiles = (N + 15) / 16;
  // One resident wave of blocks (two per SM) walks all tile groups: no tail wave.
  const unsigned blocks = std::min<unsigned>(blocks_for(tiles, kWarps / S), 2u * sms);
  linear_mma_kernel<S, Out><<<blocks, kWarps * 32, 0, s>>>(out.ptr<Out>(), out.stride, in.ptr<const bf16>(),
                                                             in.stride, w.ptr<const bf16>(), w.stride, bias,
                                                             static_cast<int>(in.rows), N, static_cast<int>(w.cols));
}

template <class Out>
void dispatch(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, const float* bias, int sms) {
  const int64_t tiles = (w.rows + 15) / 16;
  if (tiles >= kMinWarps) return launch<1, Out>(s, out, in, w, bias, sms);
  if (tiles * 2 >= kMinWarps) return launch<2, Out>(s, out, in, w, bias, sms);
  if (tiles * 4 >= kMinWarps) return launch<4, Out>(s, out, in, w, bias, sms);
  launch<8, Out>(s, out, in, w, bias, sms);
}

}  // namespace

bool linear_mma(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, const float* bias, int sms) {
  const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  if (in.rows > kLinearMmaMaxRows || in.rows < 1 || w.cols % 32 != 0 || w.stride % 8 != 0 || in.stride % 8 != 0 ||
      !aligned(w.data) || !aligned(in.data) || w.rows > (int64_t{1} << 30))
    return false;
  if (out.dtype == DType::BF16) dispatch<bf16>(s, out, in, w, bias, sms);
  else dispatch<float>(s, out, in, w, bias, sms);
  return true;
}

}  // namespace sambay::cuda
