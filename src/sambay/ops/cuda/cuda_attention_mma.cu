// Differential attention for prompts on tensor cores with mma.sync (BF16 in, float32 accumulate),
// FlashAttention-2 style: each warp owns 16 query rows and keeps scores, probabilities and both
// maps' outputs in registers. Per tile of 64 keys the block stages k1, k2 and [v1 | v2]ᵀ in shared
// memory once; both maps read them:
//   S_m = Q_m K_mᵀ  ->  mask, online softmax  ->  O_m = O_m * c + P_m [v1 | v2]
// then out = RMSNorm(O_1 / l_1 - lambda O_2 / l_2) * subln * (1 - lambda_init).
// Head dims 16, 32 and 64 (the SambaY family's); others use the WMMA or split-key kernels.
#include <cuda_bf16.h>

#include "sambay/ops/cuda/cuda_attention.cuh"
#include "sambay/ops/cuda/cuda_attention_mma.cuh"
#include "sambay/ops/cuda/cuda_attention_prefill.h"
#include "sambay/ops/cuda/cuda_check.h"

namespace sambay::cuda {
namespace {

using namespace mma;

template <int DH>
__global__ void __launch_bounds__(128, 2) diff_attn_mma_kernel(PrefillArgs a) {
  constexpr int KP = DH + 8;      // padded K row (conflict-free fragment loads)
  constexpr int VP = 2 * DH + 8;  // padded V row (conflict-free ldmatrix)
  constexpr int KS = DH / 16;
  constexpr int ON = 2 * DH / 8;
  // Two stages: the next key tile streams in (cp.async) while this one is computed.
  __shared__ __align__(16) bf16 sK[2][2][kBK][KP];  // [stage][map][key][d]
  __shared__ __align__(16) bf16 sV[2][kBK][VP];     // [stage][key][v1 | v2]

  const int2 tile = a.tiles[blockIdx.x];
  const SeqChunk c = a.chunks[tile.x];
  const int g = blockIdx.y, j = g / a.group;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int gq = lane >> 2, tq = lane & 3;
  const int rows = min(kBQ, c.len - tile.y);
  const int64_t pos_first = c.pos0 + tile.y, pos_last = pos_first + rows - 1;
  const int64_t key_lo = a.window > 0 ? max(int64_t{0}, pos_first - a.window + 1) : 0;
  const int ra = warp * 16 + gq, rb = ra + 8;  // this thread's two query rows within the tile

  auto issue_tile = [&](int64_t k0, int stage) {
    stage_kv_tile<DH, false>(a.kv, c, j, k0, pos_last + 1, sK[stage], sV[stage], a.q, threadIdx.x, blockDim.x);
  };

  issue_tile(key_lo, 0);

  // Q fragments (A operand) of both maps, straight from global memory.
  uint32_t qf[2][KS][4];
  {
    const bf16* qa = a.q + (c.row0 + tile.y + ra) * a.q_stride + static_cast<int64_t>(2 * g) * DH;
    const bf16* qb = a.q + (c.row0 + tile.y + rb) * a.q_stride + static_cast<int64_t>(2 * g) * DH;
#pragma unroll
    for (int m = 0; m < 2; ++m)
#pragma unroll
      for (int kk = 0; kk < KS; ++kk) {
        const int col = m * DH + kk * 16 + 2 * tq;
        qf[m][kk][0] = ra < rows ? load32(qa + col) : 0u;
        qf[m][kk][1] = rb < rows ? load32(qb + col) : 0u;
        qf[m][kk][2] = ra < rows ? load32(qa + col + 8) : 0u;
        qf[m][kk][3] = rb < rows ? load32(qb + col + 8) : 0u;
      }
  }

  float o[2][ON][4];
  float mrow[2][2], lrow[2][2];  // [map][row a / b]
#pragma unroll
  for (int m = 0; m < 2; ++m) {
#pragma unroll
    for (int n = 0; n < ON; ++n) o[m][n][0] = o[m][n][1] = o[m][n][2] = o[m][n][3] = 0.0f;
    mrow[m][0] = mrow[m][1] = -INFINITY;
    lrow[m][0] = lrow[m][1] = 0.0f;
  }

  pipelined_key_tiles<true>(key_lo, pos_last + 1, issue_tile, [&](int64_t k0, int stage) {
    // Causal and window mask, rows past the chunk; positions relative to the tile's first query.
    const int kd = static_cast<int>(k0 - pos_first);
    const int window = a.window;
    auto keep = [rows, window](int qr, int kp) { return qr < rows && kp <= qr && (window == 0 || kp > qr - window); };
    map_tile<DH, 2 * DH>(a.scale, qf[0], sK[stage][0], sV[stage], o[0], mrow[0], lrow[0], kd, keep, ra, rb, gq, tq);
    map_tile<DH, 2 * DH>(a.scale, qf[1], sK[stage][1], sV[stage], o[1], mrow[1], lrow[1], kd, keep, ra, rb, gq, tq);
  });

  // out = RMSNorm(O1 / l1 - lambda O2 / l2) * subln * out_scale, for rows a (h = 0) and b (h = 1).
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int r = h == 0 ? ra : rb;
    const float inv1 = 1.0f / lrow[0][h], inv2 = 1.0f / lrow[1][h];
    float d[ON][2], ss = 0;
#pragma unroll
    for (int n = 0; n < ON; ++n)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        d[n][e] = o[0][n][2 * h + e] * inv1 - a.lambda * o[1][n][2 * h + e] * inv2;
        ss += d[n][e] * d[n][e];
      }
    ss += __shfl_xor_sync(0xffffffffu, ss, 1);
    ss += __shfl_xor_sync(0xffffffffu, ss, 2);
    if (r >= rows) continue;
    const float rinv = rsqrtf(ss / (2 * DH) + a.eps) * a.out_scale;
    bf16* orow = a.out + (c.row0 + tile.y + r) * a.out_stride + static_cast<int64_t>(g) * 2 * DH;
#pragma unroll
    for (int n = 0; n < ON; ++n) {
      const int col = 8 * n + 2 * tq;
      *reinterpret_cast<__nv_bfloat162*>(orow + col) =
          __floats2bfloat162_rn(d[n][0] * rinv * a.subln[col], d[n][1] * rinv * a.subln[col + 1]);
    }
  }
}

}  // namespace

bool launch_diff_attention_mma(cudaStream_t stream, const PrefillArgs& a, int num_tiles, int G, int dh) {
  const dim3 grid(num_tiles, G);
  switch (dh) {
    case 16: diff_attn_mma_kernel<16><<<grid, 128, 0, stream>>>(a); break;
    case 32: diff_attn_mma_kernel<32><<<grid, 128, 0, stream>>>(a); break;
    case 64: diff_attn_mma_kernel<64><<<grid, 128, 0, stream>>>(a); break;
    default: return false;
  }
  SAMBAY_CUDA_LAUNCHED();
  return true;
}

}  // namespace sambay::cuda
