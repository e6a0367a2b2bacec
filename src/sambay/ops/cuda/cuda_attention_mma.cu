// Differential attention for prompts on tensor cores with mma.sync (BF16 in, float32 accumulate),
// FlashAttention-2 style: each warp owns 16 query rows and keeps scores, probabilities and both
// maps' outputs in registers. Per tile of 64 keys the block stages k1, k2 and [v1 | v2]ᵀ in shared
// memory once; both maps read them:
//   S_m = Q_m K_mᵀ  ->  mask, online softmax  ->  O_m = O_m * c + P_m [v1 | v2]
// then out = RMSNorm(O_1 / l_1 - lambda O_2 / l_2) * subln * (1 - lambda_init).
// Head dims 16, 32 and 64 (the SambaY family's); others use the WMMA or split-key kernels.
#include <cuda_bf16.h>

#include "sambay/ops/cuda/cuda_attention.cuh"
#include "sambay/ops/cuda/cuda_attention_prefill.h"
#include "sambay/ops/cuda/cuda_check.h"

namespace sambay::cuda {
namespace {

constexpr int kBQ = 64;  // query rows per block (4 warps x 16)
constexpr int kBK = 32;  // keys per tile (64 would spill registers at head dim 64)

__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

__device__ __forceinline__ uint32_t load32(const bf16* p) { return *reinterpret_cast<const uint32_t*>(p); }

__device__ __forceinline__ uint32_t smem_addr(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

// 16 bytes global -> shared without registers; `bytes` 0 fills zeros (keys past the prompt).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(bytes));
}

// B fragments of two n8 tiles of P·V from row-major V in shared memory: four 8x8 matrices (keys
// k..k+7 and k+8..k+15, at columns n0 and n0+8), transposed on load into the mma B layout.
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const bf16* row_ptr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(row_ptr)));
}

// One map's share of a key tile for this warp's 16 rows: scores, online softmax, O += P [v1 | v2].
template <int DH>
__device__ __forceinline__ void map_tile(const PrefillArgs& a, const uint32_t (&qf)[DH / 16][4], const bf16 (*sK_m)[DH + 8],
                                         const bf16 (*sV)[2 * DH + 8], float (&om)[2 * DH / 8][4], float (&mrow_m)[2],
                                         float (&lrow_m)[2], int64_t k0, int64_t pos_first, int rows, int ra, int rb,
                                         int gq, int tq) {
  constexpr int KS = DH / 16;
  constexpr int ON = 2 * DH / 8;
    float s[kBK / 8][4];
#pragma unroll
    for (int n = 0; n < kBK / 8; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < KS; ++kk) {
      const int col = kk * 16 + 2 * tq;
#pragma unroll
      for (int n = 0; n < kBK / 8; ++n)
        mma16816(s[n], qf[kk], load32(&sK_m[8 * n + gq][col]), load32(&sK_m[8 * n + gq][col + 8]));
    }

    // Scale, mask (causal, window, rows past the chunk), row maxima over the quad. Positions are
    // relative to the tile's first query, in 32 bits.
    float mx_a = -INFINITY, mx_b = -INFINITY;
    const int kd = static_cast<int>(k0 - pos_first);
#pragma unroll
    for (int n = 0; n < kBK / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int kp = kd + 8 * n + 2 * tq + (e & 1);
        const int qr = e < 2 ? ra : rb;
        const bool ok = qr < rows && kp <= qr && (a.window == 0 || kp > qr - a.window);
        s[n][e] = ok ? s[n][e] * a.scale : -INFINITY;
        if (e < 2) mx_a = fmaxf(mx_a, s[n][e]);
        else mx_b = fmaxf(mx_b, s[n][e]);
      }
#pragma unroll
    for (int o2 = 1; o2 <= 2; o2 <<= 1) {
      mx_a = fmaxf(mx_a, __shfl_xor_sync(0xffffffffu, mx_a, o2));
      mx_b = fmaxf(mx_b, __shfl_xor_sync(0xffffffffu, mx_b, o2));
    }
    const float new_a = fmaxf(mrow_m[0], mx_a), new_b = fmaxf(mrow_m[1], mx_b);
    const float corr_a = new_a == -INFINITY ? 1.0f : __expf(mrow_m[0] - new_a);
    const float corr_b = new_b == -INFINITY ? 1.0f : __expf(mrow_m[1] - new_b);
    float sum_a = 0, sum_b = 0;
#pragma unroll
    for (int n = 0; n < kBK / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float mref = e < 2 ? new_a : new_b;
        const float p = mref == -INFINITY ? 0.0f : __expf(s[n][e] - mref);
        s[n][e] = p;
        if (e < 2) sum_a += p;
        else sum_b += p;
      }
#pragma unroll
    for (int o2 = 1; o2 <= 2; o2 <<= 1) {
      sum_a += __shfl_xor_sync(0xffffffffu, sum_a, o2);
      sum_b += __shfl_xor_sync(0xffffffffu, sum_b, o2);
    }
    mrow_m[0] = new_a;
    mrow_m[1] = new_b;
    lrow_m[0] = lrow_m[0] * corr_a + sum_a;
    lrow_m[1] = lrow_m[1] * corr_b + sum_b;
#pragma unroll
    for (int n = 0; n < ON; ++n) {
      om[n][0] *= corr_a;
      om[n][1] *= corr_a;
      om[n][2] *= corr_b;
      om[n][3] *= corr_b;
    }
    // O_m += P [v1 | v2]: the score accumulators are already in the A-operand layout.
#pragma unroll
    for (int kk = 0; kk < kBK / 16; ++kk) {
      const uint32_t pa[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]), pack_bf16(s[2 * kk][2], s[2 * kk][3]),
                              pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                              pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
      const int lane = gq * 4 + tq, mi = lane >> 3;
#pragma unroll
      for (int n = 0; n < ON; n += 2) {
        uint32_t b[4];
        ldmatrix_x4_trans(b, &sV[kk * 16 + (mi & 1) * 8 + (lane & 7)][8 * (n + (mi >> 1))]);
        mma16816(om[n], pa, b[0], b[1]);
        mma16816(om[n + 1], pa, b[2], b[3]);
      }
    }
}

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
    for (int i = threadIdx.x; i < kBK * DH / 8; i += blockDim.x) {
      const int kr = i / (DH / 8), d8 = (i % (DH / 8)) * 8;
      const int64_t kpos = k0 + kr;
      const bool ok = kpos <= pos_last;
      const bf16* krow = ok ? a.kv.row(c, kpos, false) + static_cast<int64_t>(2 * j) * DH : a.q;
      const bf16* vrow = ok ? a.kv.row(c, kpos, true) + static_cast<int64_t>(2 * j) * DH : a.q;
      const int bytes = ok ? 16 : 0;
      cp_async16(&sK[stage][0][kr][d8], krow + d8, bytes);
      cp_async16(&sK[stage][1][kr][d8], krow + (ok ? DH : 0) + d8, bytes);
      cp_async16(&sV[stage][kr][d8], vrow + d8, bytes);
      cp_async16(&sV[stage][kr][DH + d8], vrow + (ok ? DH : 0) + d8, bytes);
    }
    asm volatile("cp.async.commit_group;\n" ::);
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

  int stage = 0;
  for (int64_t k0 = key_lo; k0 <= pos_last; k0 += kBK, stage ^= 1) {
    if (k0 + kBK <= pos_last) {
      issue_tile(k0 + kBK, stage ^ 1);
      asm volatile("cp.async.wait_group 1;\n" ::);
    } else {
      asm volatile("cp.async.wait_group 0;\n" ::);
    }
    __syncthreads();
    map_tile<DH>(a, qf[0], sK[stage][0], sV[stage], o[0], mrow[0], lrow[0], k0, pos_first, rows, ra, rb, gq, tq);
    map_tile<DH>(a, qf[1], sK[stage][1], sV[stage], o[1], mrow[1], lrow[1], k0, pos_first, rows, ra, rb, gq, tq);
    __syncthreads();  // this stage is refilled two tiles later
  }

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
