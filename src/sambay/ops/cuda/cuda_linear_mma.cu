// out = in · wᵀ (+ bias) for decode batches of 9..16 rows on tensor cores, reading each weight once;
// also the SwiGLU form silu(in · gateᵀ) * (in · upᵀ), which saves the MLP a launch and a round trip.
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
#include "sambay/ops/cuda/cuda_launch.h"
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
// Gated (SwiGLU): w is [gate; up] with 2N rows; the warp runs the k loop over the gate rows of its
// tile, then over the up rows, and stores silu(gate) * up for its N features (each product rounded
// to BF16 first, as the two separate ops would).
template <int S, bool Gated, class Out>
__global__ void __launch_bounds__(kWarps * 32, 2)
    linear_mma_kernel(Out* out, int64_t out_stride, const bf16* x, int64_t x_stride, const bf16* w,
                      int64_t w_stride, const float* bias, int T, int N, int K) {
  constexpr int kTilesPerBlock = kWarps / S;
  constexpr int kHalves = Gated ? 2 : 1;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int g = lane >> 2, t = lane & 3;
  const int part = warp % S;
  const int chunks = K / 32, groups = (chunks + kUnroll - 1) / kUnroll;
  const int c0 = part * groups / S * kUnroll, c1 = min(chunks, (part + 1) * groups / S * kUnroll);
  // Token rows past T repeat the last one: their columns of the product are never stored.
  const bf16* xa = x + static_cast<int64_t>(min(g, T - 1)) * x_stride + 8 * t;
  const bf16* xb = x + static_cast<int64_t>(min(g + 8, T - 1)) * x_stride + 8 * t;
  const int tiles = (N + 15) / 16;
  __shared__ float partial[S > 1 ? kWarps : 1][32][8 * kHalves];
  // Feature rows past N (and whole tiles past the last) repeat the last row and are not stored.
  auto weight_row = [&](int tile, int r, int half) {
    return w + static_cast<int64_t>(min(tile * 16 + r, N - 1) + half * N) * w_stride + 8 * t;
  };

  uint4 ua[kUnroll], ub[kUnroll], va[kUnroll], vb[kUnroll];
  // The weights do not depend on the previous kernel: the first group's loads go out before
  // waiting for it (cuda_launch.h), so they overlap its tail instead of starting this kernel cold.
  bool prefetched = false;
  if (blockIdx.x * kTilesPerBlock < tiles && c0 + kUnroll <= c1) {
    const int tile = blockIdx.x * kTilesPerBlock + warp / S;
    const bf16 *wa = weight_row(tile, g, 0), *wb = weight_row(tile, g + 8, 0);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      ua[u] = load16_stream(wa + (c0 + u) * 32);
      ub[u] = load16_stream(wb + (c0 + u) * 32);
    }
    prefetched = true;
  }
  enter_dependent_kernel();

  for (int tb = blockIdx.x; tb * kTilesPerBlock < tiles; tb += gridDim.x) {
    const int tile = tb * kTilesPerBlock + warp / S;
    float acc[kHalves][2][4] = {};
#pragma unroll
    for (int h = 0; h < kHalves; ++h) {
      const bf16 *wa = weight_row(tile, g, h), *wb = weight_row(tile, g + 8, h);
      int c = c0;
      for (; c + kUnroll <= c1; c += kUnroll) {
        if (!prefetched) {
#pragma unroll
          for (int u = 0; u < kUnroll; ++u) {
            ua[u] = load16_stream(wa + (c + u) * 32);
            ub[u] = load16_stream(wb + (c + u) * 32);
          }
        }
        prefetched = false;
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
          va[u] = load16(xa + (c + u) * 32);
          vb[u] = load16(xb + (c + u) * 32);
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) mma_chunk(acc[h], ua[u], ub[u], va[u], vb[u]);
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
          if (c + u < c1) mma_chunk(acc[h], ua[u], ub[u], va[u], vb[u]);
      }
    }

    if constexpr (S > 1) {
#pragma unroll
      for (int i = 0; i < 8 * kHalves; ++i) partial[warp][lane][i] = acc[i / 8][(i / 4) % 2][i % 4];
      __syncthreads();
      if (part == 0)
        for (int p = 1; p < S; ++p)
#pragma unroll
          for (int i = 0; i < 8 * kHalves; ++i) acc[i / 8][(i / 4) % 2][i % 4] += partial[warp + p][lane][i];
      __syncthreads();  // partial is reused by the next tile
    }
    if (part == 0 && tile < tiles) {
      // acc[h][j][e]: feature tile*16 + g (+8 for e >= 2), token 8j + 2t + (e & 1).
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int f = tile * 16 + g + (e >= 2 ? 8 : 0);
        if (f >= N) continue;
        const float b = bias ? bias[f] : 0.0f;
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const int tok = 8 * j + 2 * t + (e & 1);
          if (tok >= T) continue;
          if constexpr (Gated) {
            const float gate = to_float(from_float<bf16>(acc[0][j][e])), up = to_float(from_float<bf16>(acc[1][j][e]));
            out[tok * out_stride + f] = from_float<Out>(silu(gate) * up);
          } else {
            out[tok * out_stride + f] = from_float<Out>(acc[0][j][e] + b);
          }
        }
      }
    }
  }
}

// N: output features (for Gated, half of w's rows).
template <int S, bool Gated, class Out>
void launch(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, const float* bias, int N, int sms) {
  const int tiles = (N + 15) / 16;
  // One resident wave of blocks (two per SM) walks all tile groups: no tail wave.
  const unsigned blocks = std::min<unsigned>(blocks_for(tiles, kWarps / S), 2u * sms);
  launch_overlapped(s, dim3(blocks), dim3(kWarps * 32), 0, linear_mma_kernel<S, Gated, Out>, out.ptr<Out>(),
                    out.stride, in.ptr<const bf16>(), in.stride, w.ptr<const bf16>(), w.stride, bias,
                    static_cast<int>(in.rows), N, static_cast<int>(w.cols));
}

// A warp task is one feature tile (gated: its gate and up rows) and a share of k: bandwidth needs
// enough warps streaming, so k is split until there are kMinWarps of them.
template <bool Gated, class Out>
void dispatch(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, const float* bias, int sms) {
  const int N = static_cast<int>(Gated ? w.rows / 2 : w.rows);
  const int64_t tiles = (N + 15) / 16;
  if (tiles >= kMinWarps) return launch<1, Gated, Out>(s, out, in, w, bias, N, sms);
  if (tiles * 2 >= kMinWarps) return launch<2, Gated, Out>(s, out, in, w, bias, N, sms);
  if (tiles * 4 >= kMinWarps) return launch<4, Gated, Out>(s, out, in, w, bias, N, sms);
  launch<8, Gated, Out>(s, out, in, w, bias, N, sms);
}

bool takes(const Tensor& in, const Tensor& w) {
  const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  return in.rows <= kLinearMmaMaxRows && in.rows >= 1 && w.cols % 32 == 0 && w.stride % 8 == 0 &&
         in.stride % 8 == 0 && aligned(w.data) && aligned(in.data) && w.rows <= (int64_t{1} << 30);
}

}  // namespace

bool linear_mma(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, const float* bias, int sms) {
  if (!takes(in, w)) return false;
  if (out.dtype == DType::BF16) dispatch<false, bf16>(s, out, in, w, bias, sms);
  else dispatch<false, float>(s, out, in, w, bias, sms);
  return true;
}

bool linear_swiglu_mma(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, int sms) {
  if (!takes(in, w) || w.rows % 2 != 0 || out.dtype != DType::BF16) return false;
  dispatch<true, bf16>(s, out, in, w, nullptr, sms);
  return true;
}

}  // namespace sambay::cuda
