// Differential attention for few queries per sequence (decode) over long contexts, split over keys
// (a combine kernel merges the splits). Two kernels:
// - on tensor cores (head dims 16, 32, 64; the usual path): one block of two warps (one per map) per
//   (row, kv pair, split), the GQA group's query pairs as MMA rows, key tiles staged in shared memory
//   by cp.async (see below);
// - lanes over keys (any head dim up to 128, and the unsplit case): one block per (query row, kv
//   head pair, group of query pairs, key split); each warp takes 32 keys at a time, one key per lane.
//   A lane reads its key's k1 and k2 rows with 16-byte loads and computes the full dot products
//   with every query of the group (queries staged in shared memory), so scores need no shuffles;
//   the softmax update is one warp reduction per 32 keys; then lanes switch to head-dim slices to
//   accumulate [v1 | v2] weighted by the 32 probabilities.
// Both read each K/V byte once for both maps.
#include <cuda_bf16.h>

#include "sambay/ops/cuda/cuda_attention.cuh"
#include "sambay/ops/cuda/cuda_attention_mma.cuh"
#include "sambay/ops/cuda/cuda_attention_decode.h"
#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_launch.h"

namespace sambay::cuda {
namespace {

constexpr int kWarps = 4;

// kGroupMax query pairs per block share the kv pair; sized to the model's group so that the
// per-lane state takes no more registers than needed (occupancy is what hides the load latency).
template <int DH, int kGroupMax>
__global__ void __launch_bounds__(kWarps * 32) diff_attn_decode_kernel(DecodeArgs a) {
  constexpr int VPL = 2 * DH / 32;  // [v1 | v2] values per lane
  __shared__ __align__(16) float sq[kGroupMax][2][DH];       // scaled queries
  __shared__ float sp[kWarps][kGroupMax][2][32];             // probabilities of the warp's 32 keys
  __shared__ float sml[kWarps][kGroupMax][2][2];             // per-warp (max, sum)
  __shared__ float sacc[kWarps][kGroupMax][2][2 * DH];       // per-warp accumulators

  enter_dependent_kernel();
  const int row = blockIdx.x;
  const SeqChunk c = a.chunks[find_chunk(a.chunks, a.num_chunks, row)];
  const int64_t pos = c.pos0 + (row - c.row0);
  const int64_t lo = a.window > 0 ? max(int64_t{0}, pos - a.window + 1) : 0;
  const int64_t nkeys = pos - lo + 1;
  const int j = blockIdx.y / a.pair_blocks;
  const int g0 = j * a.group + (blockIdx.y % a.pair_blocks) * kGroupMax;  // pair_blocks = ceil(group / kGroupMax)
  const int ng = min(kGroupMax, j * a.group + a.group - g0);
  const int64_t per_split = (nkeys + a.splits - 1) / a.splits;
  const int64_t kb = lo + blockIdx.z * per_split, ke = min(pos + 1, kb + per_split);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;

  for (int i = threadIdx.x; i < kGroupMax * 2 * DH; i += blockDim.x) {
    const int gi = i / (2 * DH), m = (i / DH) % 2, d = i % DH;
    sq[gi][m][d] = gi < ng ? to_float(a.q[row * a.q_stride + static_cast<int64_t>(2 * (g0 + gi) + m) * DH + d]) * a.scale
                           : 0.0f;
  }
  __syncthreads();

  float mx[kGroupMax][2], sum[kGroupMax][2], acc[kGroupMax][2][VPL];
#pragma unroll
  for (int gi = 0; gi < kGroupMax; ++gi)
#pragma unroll
    for (int m = 0; m < 2; ++m) {
      mx[gi][m] = -INFINITY;
      sum[gi][m] = 0.0f;
#pragma unroll
      for (int v = 0; v < VPL; ++v) acc[gi][m][v] = 0.0f;
    }

  for (int64_t base = kb + warp * 32; base < ke; base += kWarps * 32) {
    const int64_t key = base + lane;
    const bool valid = key < ke;
    // Each lane locates its key's K and V rows once; the V loop below gets them by shuffle, so its
    // loads do not wait on page-table lookups.
    const bf16* kr = valid ? a.kv.pair(c, key, false, j) : nullptr;
    const bf16* my_v = valid ? a.kv.pair(c, key, true, j) : nullptr;
    float s[kGroupMax][2];
#pragma unroll
    for (int gi = 0; gi < kGroupMax; ++gi) s[gi][0] = s[gi][1] = 0.0f;
    if (valid) {
#pragma unroll
      for (int m = 0; m < 2; ++m)
#pragma unroll
        for (int d8 = 0; d8 < DH; d8 += 8) {
          float kf[8];
          load8(kr + m * DH + d8, kf);
#pragma unroll
          for (int gi = 0; gi < kGroupMax; ++gi) {
            if (gi < ng) {
              const float4 qa = *reinterpret_cast<const float4*>(&sq[gi][m][d8]);
              const float4 qb = *reinterpret_cast<const float4*>(&sq[gi][m][d8 + 4]);
              s[gi][m] += qa.x * kf[0] + qa.y * kf[1] + qa.z * kf[2] + qa.w * kf[3] + qb.x * kf[4] + qb.y * kf[5] +
                          qb.z * kf[6] + qb.w * kf[7];
            }
          }
        }
    }
#pragma unroll
    for (int gi = 0; gi < kGroupMax; ++gi) {
      if (gi >= ng) break;
#pragma unroll
      for (int m = 0; m < 2; ++m) {
        const float sv = valid ? s[gi][m] : -INFINITY;
        const float bm = warp_max(sv);
        const float nm = fmaxf(mx[gi][m], bm);  // finite: every 32-key block has a valid key
        const float corr = __expf(mx[gi][m] - nm);
        const float p = valid ? __expf(sv - nm) : 0.0f;
        sum[gi][m] = sum[gi][m] * corr + warp_sum(p);
        mx[gi][m] = nm;
#pragma unroll
        for (int v = 0; v < VPL; ++v) acc[gi][m][v] *= corr;
        sp[warp][gi][m][lane] = p;
      }
    }
    __syncwarp();
    const int nk = static_cast<int>(ke - base < 32 ? ke - base : 32);
    constexpr int kUnroll = 8;  // V rows in flight per lane
    for (int k0 = 0; k0 < 32; k0 += kUnroll) {
      if (k0 >= nk) break;
      float vf[kUnroll][VPL];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const bf16* vr = reinterpret_cast<const bf16*>(
            __shfl_sync(0xffffffffu, reinterpret_cast<uintptr_t>(my_v), k0 + u));
#pragma unroll
        for (int v = 0; v < VPL; ++v) vf[u][v] = k0 + u < nk ? to_float(vr[lane * VPL + v]) : 0.0f;
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
#pragma unroll
        for (int gi = 0; gi < kGroupMax; ++gi) {
          if (gi >= ng) break;
#pragma unroll
          for (int m = 0; m < 2; ++m) {
            const float p = sp[warp][gi][m][k0 + u];  // 0 for keys past the end
#pragma unroll
            for (int v = 0; v < VPL; ++v) acc[gi][m][v] = fmaf(p, vf[u][v], acc[gi][m][v]);
          }
        }
      }
    }
    __syncwarp();
  }

  for (int gi = 0; gi < ng; ++gi)
    for (int m = 0; m < 2; ++m) {
      if (lane == 0) {
        sml[warp][gi][m][0] = mx[gi][m];
        sml[warp][gi][m][1] = sum[gi][m];
      }
#pragma unroll
      for (int v = 0; v < VPL; ++v) sacc[warp][gi][m][lane * VPL + v] = acc[gi][m][v];
    }
  __syncthreads();

  // Warp gi merges the warps' states of query pair gi; lanes over [v1 | v2] values.
  if (warp >= ng) return;
  const int gi = warp, g = g0 + gi;
  float A[2][VPL], M[2], L[2];
#pragma unroll
  for (int m = 0; m < 2; ++m) {
    M[m] = -INFINITY;
    for (int w = 0; w < kWarps; ++w) M[m] = fmaxf(M[m], sml[w][gi][m][0]);
    L[m] = 0.0f;
#pragma unroll
    for (int v = 0; v < VPL; ++v) A[m][v] = 0.0f;
    if (M[m] == -INFINITY) continue;
    for (int w = 0; w < kWarps; ++w) {
      const float f = __expf(sml[w][gi][m][0] - M[m]);
      L[m] += sml[w][gi][m][1] * f;
#pragma unroll
      for (int v = 0; v < VPL; ++v) A[m][v] += sacc[w][gi][m][lane * VPL + v] * f;
    }
  }
  if (a.splits > 1) {
    const int64_t part = (static_cast<int64_t>(row) * a.G + g) * a.splits + blockIdx.z;
#pragma unroll
    for (int m = 0; m < 2; ++m) {
      if (lane == 0) {
        a.part_ml[(part * 2 + m) * 2] = M[m];
        a.part_ml[(part * 2 + m) * 2 + 1] = L[m];
      }
#pragma unroll
      for (int v = 0; v < VPL; ++v) a.part_acc[(part * 2 + m) * 2 * DH + lane * VPL + v] = A[m][v];
    }
    return;
  }
  float d[VPL], ss = 0;
#pragma unroll
  for (int v = 0; v < VPL; ++v) {
    d[v] = A[0][v] / L[0] - a.lambda * A[1][v] / L[1];
    ss += d[v] * d[v];
  }
  const float rinv = rsqrtf(warp_sum(ss) / (2 * DH) + a.eps) * a.out_scale;
  bf16* o = a.out + row * a.out_stride + static_cast<int64_t>(g) * 2 * DH;
#pragma unroll
  for (int v = 0; v < VPL; ++v) o[lane * VPL + v] = from_float<bf16>(d[v] * rinv * a.subln[lane * VPL + v]);
}

// The same on tensor cores, for head dims 16, 32 and 64: one block per (row, kv pair, key split),
// two warps, one per map: each warp's 16 MMA rows hold the query pairs that share the kv pair (the
// GQA group), so each K/V byte is read once for all of them. Key tiles stream through two
// shared-memory stages by cp.async, issued by both warps: loads in flight hold no registers, so
// bytes in flight per SM are not bound by occupancy. Splitting the maps over two warps halves each
// warp's accumulators and the dependent work per tile, and two warps share one tile's shared memory.
// Always writes per-split partial results (the combine kernel merges them); needs splits > 1.
template <int DH>
__global__ void __launch_bounds__(64) diff_attn_decode_mma_kernel(DecodeArgs a) {
  using namespace mma;
  constexpr int KP = DH + 8, VP = 2 * DH + 8, KS = DH / 16, ON = 2 * DH / 8;
  __shared__ __align__(16) bf16 sK[2][2][kBK][KP];  // [stage][map][key][d]
  __shared__ __align__(16) bf16 sV[2][kBK][VP];     // [stage][key][v1 | v2]

  enter_dependent_kernel();
  const int row = blockIdx.x;
  const SeqChunk c = a.chunks[find_chunk(a.chunks, a.num_chunks, row)];
  const int64_t pos = c.pos0 + (row - c.row0);
  const int64_t lo = a.window > 0 ? max(int64_t{0}, pos - a.window + 1) : 0;
  const int64_t nkeys = pos - lo + 1;
  const int j = blockIdx.y / a.pair_blocks;
  const int g0 = j * a.group + (blockIdx.y % a.pair_blocks) * 16;  // pair_blocks = ceil(group / 16)
  const int ng = min(16, j * a.group + a.group - g0);
  const int64_t per_split = (nkeys + a.splits - 1) / a.splits;
  const int64_t kb = lo + blockIdx.z * per_split, ke = min(pos + 1, kb + per_split);
  const int m = threadIdx.x >> 5, lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
  const int ra = gq, rb = gq + 8;  // this lane's two MMA rows: query pairs g0 + ra, g0 + rb

  auto issue_tile = [&](int64_t k0, int stage) {
    stage_kv_tile<DH>(a.kv, c, j, k0, ke, sK[stage], sV[stage], a.q, threadIdx.x, 64);
  };

  if (kb < ke) issue_tile(kb, 0);

  uint32_t qf[KS][4];
  {
    const bf16* qa = a.q + row * a.q_stride + static_cast<int64_t>(2 * (g0 + ra)) * DH;
    const bf16* qb = a.q + row * a.q_stride + static_cast<int64_t>(2 * (g0 + rb)) * DH;
#pragma unroll
    for (int kk = 0; kk < KS; ++kk) {
      const int col = m * DH + kk * 16 + 2 * tq;
      qf[kk][0] = ra < ng ? load32(qa + col) : 0u;
      qf[kk][1] = rb < ng ? load32(qb + col) : 0u;
      qf[kk][2] = ra < ng ? load32(qa + col + 8) : 0u;
      qf[kk][3] = rb < ng ? load32(qb + col + 8) : 0u;
    }
  }

  float o[ON][4];
  float mrow[2] = {-INFINITY, -INFINITY}, lrow[2] = {0.0f, 0.0f};  // [row a / b]
#pragma unroll
  for (int n = 0; n < ON; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;

  pipelined_key_tiles<true>(kb, ke, issue_tile, [&](int64_t k0, int stage) {
    const int kd = static_cast<int>(k0 - ke);  // key kd + t is in range while negative
    auto keep = [ng](int qr, int kp) { return qr < ng && kp < 0; };
    map_tile<DH, 2 * DH>(a.scale, qf, sK[stage][m], sV[stage], o, mrow, lrow, kd, keep, ra, rb, gq, tq);
  });

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int r = h == 0 ? ra : rb;
    if (r >= ng) continue;
    const int64_t part = (static_cast<int64_t>(row) * a.G + g0 + r) * a.splits + blockIdx.z;
    if (tq == 0) {
      a.part_ml[(part * 2 + m) * 2] = mrow[h];
      a.part_ml[(part * 2 + m) * 2 + 1] = lrow[h];
    }
#pragma unroll
    for (int n = 0; n < ON; ++n) {
      const int col = 8 * n + 2 * tq;
      a.part_acc[(part * 2 + m) * 2 * DH + col] = o[n][2 * h];
      a.part_acc[(part * 2 + m) * 2 * DH + col + 1] = o[n][2 * h + 1];
    }
  }
}

// Merges the splits of one (row, pair): warp 0 finds each map's global max and the splits'
// weights; then every thread owns one of the 2 dh output values and sums over the splits.
template <int DH>
__global__ void __launch_bounds__(2 * DH) diff_attn_decode_combine_kernel(DecodeArgs a) {
  __shared__ float weight[2][64];  // [map][split] = exp(m_s - M) / L
  __shared__ float partial[(2 * DH + 31) / 32];
  enter_dependent_kernel();
  const int row = blockIdx.x, g = blockIdx.y, tid = threadIdx.x;
  const int64_t base = (static_cast<int64_t>(row) * a.G + g) * a.splits;
  if (tid < 32) {
    for (int m = 0; m < 2; ++m) {
      float ms[2], ls[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int sp = tid + 32 * h;
        ms[h] = sp < a.splits ? a.part_ml[((base + sp) * 2 + m) * 2] : -INFINITY;
        ls[h] = sp < a.splits ? a.part_ml[((base + sp) * 2 + m) * 2 + 1] : 0.0f;
      }
      const float M = warp_max(fmaxf(ms[0], ms[1]));
      float f[2], L = 0;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        f[h] = ms[h] == -INFINITY ? 0.0f : __expf(ms[h] - M);
        L += ls[h] * f[h];
      }
      L = warp_sum(L);
#pragma unroll
      for (int h = 0; h < 2; ++h)
        if (tid + 32 * h < 64) weight[m][tid + 32 * h] = f[h] / L;
    }
  }
  __syncthreads();
  float A[2] = {0.0f, 0.0f};
  for (int sp = 0; sp < a.splits; ++sp)
#pragma unroll
    for (int m = 0; m < 2; ++m) A[m] += a.part_acc[((base + sp) * 2 + m) * 2 * DH + tid] * weight[m][sp];
  const float d = A[0] - a.lambda * A[1];
  const float ss = warp_sum(d * d);
  if ((tid & 31) == 0) partial[tid >> 5] = ss;
  __syncthreads();
  float total = 0;
#pragma unroll
  for (int w = 0; w < (2 * DH + 31) / 32; ++w) total += partial[w];
  const float rinv = rsqrtf(total / (2 * DH) + a.eps) * a.out_scale;
  a.out[row * a.out_stride + static_cast<int64_t>(g) * 2 * DH + tid] = from_float<bf16>(d * rinv * a.subln[tid]);
}

template <int DH>
void launch(cudaStream_t s, DecodeArgs a, int rows, int kv_pairs) {
  const dim3 block(kWarps * 32);
  if constexpr (DH <= 64) {
    if (a.splits > 1 && diff_attention_decode_mma(DH, a.kv_aligned)) {
      a.pair_blocks = (a.group + 15) / 16;
      launch_overlapped(s, dim3(rows, kv_pairs * a.pair_blocks, a.splits), dim3(64), 0,
                        diff_attn_decode_mma_kernel<DH>, a);
      launch_overlapped(s, dim3(rows, a.G), dim3(2 * DH), 0, diff_attn_decode_combine_kernel<DH>, a);
      return;
    }
  }
  if (a.group == 1) {
    a.pair_blocks = 1;
    launch_overlapped(s, dim3(rows, kv_pairs, a.splits), block, 0, diff_attn_decode_kernel<DH, 1>, a);
  } else if (a.group == 2) {
    a.pair_blocks = 1;
    launch_overlapped(s, dim3(rows, kv_pairs, a.splits), block, 0, diff_attn_decode_kernel<DH, 2>, a);
  } else {
    a.pair_blocks = (a.group + 3) / 4;
    launch_overlapped(s, dim3(rows, kv_pairs * a.pair_blocks, a.splits), block, 0, diff_attn_decode_kernel<DH, 4>, a);
  }
  if (a.splits > 1) launch_overlapped(s, dim3(rows, a.G), dim3(2 * DH), 0, diff_attn_decode_combine_kernel<DH>, a);
}

}  // namespace

bool diff_attention_decode_mma(int dh, bool kv_aligned) { return kv_aligned && (dh == 16 || dh == 32 || dh == 64); }

bool launch_diff_attention_decode(cudaStream_t stream, const DecodeArgs& a, int rows, int kv_pairs) {
  switch (a.dh) {
    case 16: launch<16>(stream, a, rows, kv_pairs); return true;
    case 32: launch<32>(stream, a, rows, kv_pairs); return true;
    case 64: launch<64>(stream, a, rows, kv_pairs); return true;
    case 128: launch<128>(stream, a, rows, kv_pairs); return true;
    default: return false;
  }
}

}  // namespace sambay::cuda
