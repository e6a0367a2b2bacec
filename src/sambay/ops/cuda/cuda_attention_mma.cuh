#pragma once
// Tensor-core pieces shared by the prompt and the decode differential-attention kernels: one map's
// update for a tile of keys in shared memory.
#include <cuda_bf16.h>

#include "sambay/ops/cuda/cuda_attention.cuh"
#include "sambay/ops/cuda/cuda_mma.cuh"

namespace sambay::cuda::mma {

constexpr int kBQ = 64;  // query rows per block (4 warps x 16)
constexpr int kBK = 32;  // keys per tile (64 would spill registers at head dim 64)

// A key tile's row addresses, one key per lane: lane l of every warp looks up key k0 + l's keys and
// values (`any` from `end` on), and a copy takes its row's address from the owning lane by shuffle.
// The page-table load and the index arithmetic then happen once per key, not once per 16-byte piece,
// and no copy waits on a table load of its own. Every lane of a warp must call key() and value()
// together.
struct TileRows {
  unsigned long long k, v;
  __device__ __forceinline__ const bf16* key(int kr) const {
    return reinterpret_cast<const bf16*>(__shfl_sync(0xffffffffu, k, kr));
  }
  __device__ __forceinline__ const bf16* value(int kr) const {
    return reinterpret_cast<const bf16*>(__shfl_sync(0xffffffffu, v, kr));
  }
};
static_assert(kBK == 32, "a tile's keys are one per lane");

__device__ __forceinline__ TileRows tile_rows(const KvSource& kv, const SeqChunk& c, int j, int64_t k0, int64_t end,
                                              const bf16* any) {
  const int64_t own = k0 + (threadIdx.x & 31);
  const bool ok = own < end;
  return {reinterpret_cast<unsigned long long>(ok ? kv.pair(c, own, false, j) : any),
          reinterpret_cast<unsigned long long>(ok ? kv.pair(c, own, true, j) : any)};
}

// The K and V rows of key k0 + kr of a tile being staged: by shuffle from tile_rows() (kShuffle;
// every lane of the warp must call it), else looked up; `any` for keys past the end.
struct KeyRows {
  const bf16 *k, *v;
};
template <bool kShuffle>
__device__ __forceinline__ KeyRows tile_key_rows(const TileRows& rows, const KvSource& kv, const SeqChunk& c, int j,
                                                 int64_t k0, int kr, bool ok, const bf16* any) {
  if constexpr (kShuffle) return {rows.key(kr), rows.value(kr)};
  return {ok ? kv.pair(c, k0 + kr, false, j) : any, ok ? kv.pair(c, k0 + kr, true, j) : any};
}

// Stages the keys k0 .. k0 + kBK - 1 of kv pair j into one stage's tiles (sK: [map][key][d],
// sV: [key][v1 | v2]) by cp.async, zero-filling keys from `end` on; thread tid of nthreads takes
// every nthreads-th 16-byte piece (a warp's lanes all take one or none: kBK * DH / 8 is a multiple
// of 32). `any` is a valid address for the zero-filled copies. Commits one group.
// kShuffle: row addresses from tile_rows(); else each piece looks its row up (the prompt kernel, at
// its register limit, whose lookups are shared by 64 query rows).
template <int DH, bool kShuffle = true>
__device__ __forceinline__ void stage_kv_tile(const KvSource& kv, const SeqChunk& c, int j, int64_t k0, int64_t end,
                                              bf16 (*sK)[kBK][DH + 8], bf16 (*sV)[2 * DH + 8], const bf16* any,
                                              int tid, int nthreads) {
  TileRows rows{};
  if constexpr (kShuffle) rows = tile_rows(kv, c, j, k0, end, any);
  for (int i = tid; i < kBK * DH / 8; i += nthreads) {
    const int kr = i / (DH / 8), d8 = (i % (DH / 8)) * 8;
    const bool ok = k0 + kr < end;
    const auto [krow, vrow] = tile_key_rows<kShuffle>(rows, kv, c, j, k0, kr, ok, any);
    const int bytes = ok ? 16 : 0;
    cp_async16(&sK[0][kr][d8], krow + d8, bytes);
    cp_async16(&sK[1][kr][d8], krow + (ok ? DH : 0) + d8, bytes);
    cp_async16(&sV[kr][d8], vrow + d8, bytes);
    cp_async16(&sV[kr][DH + d8], vrow + (ok ? DH : 0) + d8, bytes);
  }
  asm volatile("cp.async.commit_group;\n" ::);
}

// Walks the key tiles k0 = begin, begin + kBK, ... below `end` through two shared-memory stages: the
// next tile's copies (issue(k0, stage), cp.async) are in flight while this one is computed
// (compute(k0, stage)). The caller has issued the first tile into stage 0. kBlock: the stages are
// shared by the block's warps (__syncthreads), else by one warp (__syncwarp).
template <bool kBlock, class Issue, class Compute>
__device__ __forceinline__ void pipelined_key_tiles(int64_t begin, int64_t end, const Issue& issue,
                                                    const Compute& compute) {
  auto sync = [] {
    if constexpr (kBlock) __syncthreads();
    else __syncwarp();
  };
  int stage = 0;
  for (int64_t k0 = begin; k0 < end; k0 += kBK, stage ^= 1) {
    if (k0 + kBK < end) {
      issue(k0 + kBK, stage ^ 1);
      asm volatile("cp.async.wait_group 1;\n" ::);
    } else {
      asm volatile("cp.async.wait_group 0;\n" ::);
    }
    sync();  // every thread's copies of this stage have landed
    compute(k0, stage);
    sync();  // this stage is refilled two tiles later
  }
}

// One map's share of a key tile for this warp's 16 rows: scores, online softmax, O += P V, where V
// is VW wide ([v1 | v2] for differential attention, one head's values for plain attention).
// keep(query row, kd + key within the tile) says which scores count; the others are -inf.
template <int DH, int VW, class Keep>
__device__ __forceinline__ void map_tile(float scale, const uint32_t (&qf)[DH / 16][4], const bf16 (*sK_m)[DH + 8],
                                         const bf16 (*sV)[VW + 8], float (&om)[VW / 8][4], float (&mrow_m)[2],
                                         float (&lrow_m)[2], int kd, const Keep& keep, int ra, int rb, int gq, int tq) {
  constexpr int KS = DH / 16;
  constexpr int ON = VW / 8;
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

    // Scale, mask, row maxima over the quad.
    float mx_a = -INFINITY, mx_b = -INFINITY;
#pragma unroll
    for (int n = 0; n < kBK / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int kp = kd + 8 * n + 2 * tq + (e & 1);
        const int qr = e < 2 ? ra : rb;
        s[n][e] = keep(qr, kp) ? s[n][e] * scale : -INFINITY;
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
    // O_m += P V: the score accumulators are already in the A-operand layout.
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

}  // namespace sambay::cuda::mma
