// Grouped-query decode attention on CUDA cores for head dim 128 and up to four query heads per kv
// head (Phi-4-mini: 3), an alternative to the tensor-core decode kernel, whose 16 MMA rows carry only
// the group's few query heads and whose key tiles go through shared memory.
//
// One block of eight warps per (row, kv head, key split); each warp takes its own 8-key rounds. A
// half-warp holds one key at a time, a lane 8 of its 128 values: one 16-byte load of K and one of V
// per lane and key, four keys per half-warp in flight, straight into registers. With no shared-memory
// stages, many warps fit on an SM and keep loads in flight. The block writes the same per-split
// partial results (max, sum, unnormalized output) as the tensor-core kernel, and its merge kernel
// combines the splits.
#include <cuda_bf16.h>

#include <algorithm>

#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_gqa_attention.cuh"
#include "sambay/ops/cuda/cuda_kernels.cuh"
#include "sambay/ops/cuda/cuda_launch.h"

namespace sambay::cuda {
namespace {

constexpr int kDh = 128;     // 16 lanes x 8 values
constexpr int kWarps = 8;    // warps per block, each on its own keys
constexpr int kPerHalf = 4;  // keys per half-warp per round: 8 16-byte loads in flight per lane
constexpr int kRoundKeys = 2 * kPerHalf;

// Sixteen bytes of a K or V row, or zeros past the split's end.
__device__ __forceinline__ uint4 load_row16(const bf16* p, bool ok) {
  return ok ? load16_stream(p) : make_uint4(0u, 0u, 0u, 0u);
}

template <int G>
__global__ void __launch_bounds__(kWarps * 32) gqa_decode_vec_kernel(GqaArgs a) {
  __shared__ float sml[kWarps][G][2];
  __shared__ float sacc[kWarps][G][kDh];

  const int ri = blockIdx.x, row = a.rows ? a.rows[ri] : ri;
  const SeqChunk c = a.chunks[find_chunk(a.chunks, a.num_chunks, row)];
  const int64_t pos = c.pos0 + (row - c.row0);
  const int j = blockIdx.y, h0 = j * G;
  const int64_t per_split = (pos + 1 + a.splits - 1) / a.splits;
  const int64_t kb = blockIdx.z * per_split, ke = min(pos + 1, kb + per_split);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, half = lane >> 4, d0 = (lane & 15) * 8;
  const KvSource& kv = a.kv;

  // A round's K and V rows: key k0 + 2 p + half for each p (zeros from ke on).
  uint4 kr[kPerHalf], vr[kPerHalf];
  bool ok[kPerHalf];
  auto load_round = [&](int64_t k0) {
#pragma unroll
    for (int p = 0; p < kPerHalf; ++p) {
      const int64_t key = k0 + 2 * p + half;
      ok[p] = key < ke;
      // One page lookup for the key's K and V rows (a valid key past the end: its loads are skipped).
      const int64_t off = kv.page_offset(c, ok[p] ? key : kb, j) + d0;
      kr[p] = load_row16(kv.k_pages + off, ok[p]);
      vr[p] = load_row16(kv.v_pages + off, ok[p]);
    }
  };
  // Keys before the chunk's first position were stored by earlier steps (the previous kernel stores
  // only the chunk's own): a first round wholly before them is loaded before waiting for that
  // kernel, so its memory round trip overlaps the previous kernel's tail.
  const int64_t first = kb + warp * kRoundKeys;
  const bool early = first < ke && min(first + kRoundKeys, ke) <= c.pos0;
  if (early) load_round(first);
  enter_dependent_kernel();  // the queries (and this step's key) come from the previous kernel
  float q[G][8];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    load8(a.q + row * a.q_stride + static_cast<int64_t>(h0 + g) * kDh + d0, q[g]);
#pragma unroll
    for (int i = 0; i < 8; ++i) q[g][i] *= a.scale;
  }
  float m[G], l[G], acc[G][8];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = -INFINITY;
    l[g] = 0.0f;
#pragma unroll
    for (int i = 0; i < 8; ++i) acc[g][i] = 0.0f;
  }

  for (int64_t k0 = first; k0 < ke; k0 += kWarps * kRoundKeys) {
    if (k0 != first || !early) load_round(k0);
    // Scores: each lane's 8-value dot products, summed over its half-warp.
    float s[kPerHalf][G];
#pragma unroll
    for (int p = 0; p < kPerHalf; ++p) {
      float kf[8];
      bf16x8_to_float(kr[p], kf);
#pragma unroll
      for (int g = 0; g < G; ++g) {
        float t = 0.0f;
#pragma unroll
        for (int i = 0; i < 8; ++i) t = fmaf(q[g][i], kf[i], t);
        s[p][g] = t;
      }
    }
#pragma unroll
    for (int o = 8; o >= 1; o >>= 1)
#pragma unroll
      for (int p = 0; p < kPerHalf; ++p)
#pragma unroll
        for (int g = 0; g < G; ++g) s[p][g] += __shfl_xor_sync(0xffffffffu, s[p][g], o);
    // Online softmax per query head over this half-warp's keys of the round.
#pragma unroll
    for (int g = 0; g < G; ++g) {
      float mx = m[g];
#pragma unroll
      for (int p = 0; p < kPerHalf; ++p) mx = ok[p] ? fmaxf(mx, s[p][g]) : mx;
      if (mx == -INFINITY) continue;  // no key yet (the same for the whole half-warp)
      const float corr = __expf(m[g] - mx);  // 0 while m is still -inf
      float pr[kPerHalf], sum = 0.0f;
#pragma unroll
      for (int p = 0; p < kPerHalf; ++p) {
        pr[p] = ok[p] ? __expf(s[p][g] - mx) : 0.0f;
        sum += pr[p];
      }
      l[g] = l[g] * corr + sum;
      m[g] = mx;
#pragma unroll
      for (int i = 0; i < 8; ++i) acc[g][i] *= corr;
#pragma unroll
      for (int p = 0; p < kPerHalf; ++p) {
        float vf[8];
        bf16x8_to_float(vr[p], vf);
#pragma unroll
        for (int i = 0; i < 8; ++i) acc[g][i] = fmaf(pr[p], vf[i], acc[g][i]);
      }
    }
  }

  // The two half-warps (same values of the head, different keys), then the eight warps.
#pragma unroll
  for (int g = 0; g < G; ++g) {
    const float mo = __shfl_xor_sync(0xffffffffu, m[g], 16), lo = __shfl_xor_sync(0xffffffffu, l[g], 16);
    const float M = fmaxf(m[g], mo);
    const float f = m[g] == -INFINITY ? 0.0f : __expf(m[g] - M), fo = mo == -INFINITY ? 0.0f : __expf(mo - M);
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const float other = __shfl_xor_sync(0xffffffffu, acc[g][i], 16);
      acc[g][i] = acc[g][i] * f + other * fo;
    }
    l[g] = l[g] * f + lo * fo;
    m[g] = M;
    if (half == 0) {
#pragma unroll
      for (int i = 0; i < 8; ++i) sacc[warp][g][d0 + i] = acc[g][i];
      if (lane == 0) {
        sml[warp][g][0] = m[g];
        sml[warp][g][1] = l[g];
      }
    }
  }
  __syncthreads();
  // One output value (query head g, dim d) per thread and pass.
  for (int idx = threadIdx.x; idx < G * kDh; idx += kWarps * 32) {
    const int g = idx / kDh, d = idx % kDh;
    float M = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sml[w][g][0]);
    float L = 0.0f, A = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      const float mw = sml[w][g][0];
      const float e = mw == -INFINITY ? 0.0f : __expf(mw - M);
      L += sml[w][g][1] * e;
      A += sacc[w][g][d] * e;
    }
    const int64_t part = (static_cast<int64_t>(ri) * a.H + h0 + g) * a.splits + blockIdx.z;
    if (d == 0) {
      a.part_ml[part * 2] = M;
      a.part_ml[part * 2 + 1] = L;
    }
    a.part_acc[part * kDh + d] = A;
  }
}

template <int G>
int blocks_per_sm() {
  int n = 0;
  SAMBAY_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, gqa_decode_vec_kernel<G>, kWarps * 32, 0));
  return std::max(n, 1);
}

}  // namespace

bool gqa_decode_vec_fits(int dh, int group) { return dh == kDh && group >= 1 && group <= 4; }

int gqa_decode_vec_blocks_per_sm(int group) {
  // Per group size, asked once.
  static const int n1 = blocks_per_sm<1>(), n2 = blocks_per_sm<2>(), n3 = blocks_per_sm<3>(),
                   n4 = blocks_per_sm<4>();
  return group == 1 ? n1 : group == 2 ? n2 : group == 3 ? n3 : n4;
}

void launch_gqa_decode_vec(cudaStream_t s, const GqaArgs& a, int num_rows, int kv_heads) {
  const dim3 grid(num_rows, kv_heads, a.splits), block(kWarps * 32);
  switch (a.group) {
    case 1: launch_overlapped(s, grid, block, 0, gqa_decode_vec_kernel<1>, a); break;
    case 2: launch_overlapped(s, grid, block, 0, gqa_decode_vec_kernel<2>, a); break;
    case 3: launch_overlapped(s, grid, block, 0, gqa_decode_vec_kernel<3>, a); break;
    case 4: launch_overlapped(s, grid, block, 0, gqa_decode_vec_kernel<4>, a); break;
    default: SAMBAY_CUDA_REQUIRE(false, "attention: the CUDA-core decode kernel takes 1 to 4 query heads per kv head");
  }
  launch_gqa_combine(s, a, num_rows);
}

}  // namespace sambay::cuda
