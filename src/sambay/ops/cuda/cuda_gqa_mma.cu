// Grouped-query causal attention on tensor cores (mma.sync, BF16 in, float32 accumulate), for head
// dims 16, 32, 64 and 128.
// - Prompt kernel, FlashAttention-2 style: a block of four warps owns 64 query rows of one head;
//   each warp keeps its 16 rows' scores, probabilities and output in registers. Key and value tiles
//   of 32 positions stream through two shared-memory stages by cp.async.
// - Decode kernel: one warp per (row, kv head, key split); its 16 MMA rows are the query heads of
//   the GQA group (3 of 16 for Phi-4-mini), so each K/V byte is read once for the whole group. It
//   writes per-split partial results that the combine kernel merges. The split count depends only
//   on the batch and the cache, so a captured decode graph stays valid as contexts grow.
#include <cuda_bf16.h>

#include <algorithm>

#include "sambay/ops/cuda/cuda_attention_mma.cuh"
#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_gqa_attention.cuh"
#include "sambay/ops/cuda/cuda_kernels.cuh"
#include "sambay/ops/cuda/cuda_launch.h"

namespace sambay::cuda {
namespace {

using namespace mma;
static_assert(kBQ == kGqaTileRows && kBK == kGqaKeyTile);

// Stages keys and values k0 .. k0 + kBK - 1 of kv head j by cp.async, zero-filling from `end` on;
// thread tid of nthreads takes every nthreads-th 16-byte piece. `any` is a valid address for the
// zero-filled copies. Commits one group. kShuffle: as in stage_kv_tile (row addresses from
// tile_rows(), or one lookup per piece in the prompt kernel, where 64 query rows share them).
template <int DH, bool kShuffle = true>
__device__ __forceinline__ void stage_head_tile(const KvSource& kv, const SeqChunk& c, int j, int64_t k0, int64_t end,
                                                bf16 (*sK)[DH + 8], bf16 (*sV)[DH + 8], const bf16* any, int tid,
                                                int nthreads) {
  TileRows rows{};
  if constexpr (kShuffle) rows = tile_rows(kv, c, j, k0, end, any);
  for (int i = tid; i < kBK * DH / 8; i += nthreads) {
    const int kr = i / (DH / 8), d8 = (i % (DH / 8)) * 8;
    const bool ok = k0 + kr < end;
    const auto [krow, vrow] = tile_key_rows<kShuffle>(rows, kv, c, j, k0, kr, ok, any);
    cp_async16(&sK[kr][d8], krow + d8, ok ? 16 : 0);
    cp_async16(&sV[kr][d8], vrow + d8, ok ? 16 : 0);
  }
  asm volatile("cp.async.commit_group;\n" ::);
}

// Q fragments (A operand) of rows ra and rb (null: zero rows) for head dims 0 .. DH - 1.
template <int DH>
__device__ __forceinline__ void load_q_fragments(uint32_t (&qf)[DH / 16][4], const bf16* qa, const bf16* qb, int tq) {
#pragma unroll
  for (int kk = 0; kk < DH / 16; ++kk) {
    const int col = kk * 16 + 2 * tq;
    qf[kk][0] = qa ? load32(qa + col) : 0u;
    qf[kk][1] = qb ? load32(qb + col) : 0u;
    qf[kk][2] = qa ? load32(qa + col + 8) : 0u;
    qf[kk][3] = qb ? load32(qb + col + 8) : 0u;
  }
}

template <int DH>
__global__ void __launch_bounds__(128) gqa_prefill_kernel(GqaArgs a) {
  constexpr int KP = DH + 8, ON = DH / 8;
  __shared__ __align__(16) bf16 sK[2][kBK][KP];
  __shared__ __align__(16) bf16 sV[2][kBK][KP];

  enter_dependent_kernel();
  const int2 tile = a.tiles[blockIdx.x];
  const SeqChunk c = a.chunks[tile.x];
  const int h = blockIdx.y, j = h / a.group;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
  const int rows = min(kBQ, c.len - tile.y);
  const int64_t pos_first = c.pos0 + tile.y, pos_last = pos_first + rows - 1;
  const int ra = warp * 16 + gq, rb = ra + 8;  // this thread's two query rows within the tile

  auto issue_tile = [&](int64_t k0, int stage) {
    stage_head_tile<DH, false>(a.kv, c, j, k0, pos_last + 1, sK[stage], sV[stage], a.q, threadIdx.x, blockDim.x);
  };
  issue_tile(0, 0);

  uint32_t qf[DH / 16][4];
  const bf16* q0 = a.q + (c.row0 + tile.y) * a.q_stride + static_cast<int64_t>(h) * DH;
  load_q_fragments<DH>(qf, ra < rows ? q0 + ra * a.q_stride : nullptr, rb < rows ? q0 + rb * a.q_stride : nullptr, tq);

  float o[ON][4];
  float mrow[2] = {-INFINITY, -INFINITY}, lrow[2] = {0.0f, 0.0f};
#pragma unroll
  for (int n = 0; n < ON; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;

  pipelined_key_tiles<true>(0, pos_last + 1, issue_tile, [&](int64_t k0, int stage) {
    const int kd = static_cast<int>(k0 - pos_first);  // key positions relative to the tile's first query
    auto keep = [rows](int qr, int kp) { return qr < rows && kp <= qr; };
    map_tile<DH, DH>(a.scale, qf, sK[stage], sV[stage], o, mrow, lrow, kd, keep, ra, rb, gq, tq);
  });

#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    const int r = hh == 0 ? ra : rb;
    if (r >= rows) continue;
    const float inv = 1.0f / lrow[hh];
    bf16* orow = a.out + (c.row0 + tile.y + r) * a.out_stride + static_cast<int64_t>(h) * DH;
#pragma unroll
    for (int n = 0; n < ON; ++n)
      *reinterpret_cast<__nv_bfloat162*>(orow + 8 * n + 2 * tq) =
          __floats2bfloat162_rn(o[n][2 * hh] * inv, o[n][2 * hh + 1] * inv);
  }
}

template <int DH>
__global__ void __launch_bounds__(32) gqa_decode_kernel(GqaArgs a) {
  constexpr int KP = DH + 8, ON = DH / 8;
  __shared__ __align__(16) bf16 sK[2][kBK][KP];
  __shared__ __align__(16) bf16 sV[2][kBK][KP];

  // The row list, chunk table and page table come from host copies made before the step's kernels.
  const int ri = blockIdx.x, row = a.rows ? a.rows[ri] : ri;
  const SeqChunk c = a.chunks[find_chunk(a.chunks, a.num_chunks, row)];
  const int64_t pos = c.pos0 + (row - c.row0);
  const int j = blockIdx.y / a.head_blocks;
  const int h0 = j * a.group + (blockIdx.y % a.head_blocks) * 16;
  const int nh = min(16, j * a.group + a.group - h0);
  const int64_t per_split = (pos + 1 + a.splits - 1) / a.splits;
  const int64_t kb = blockIdx.z * per_split, ke = min(pos + 1, kb + per_split);
  const int lane = threadIdx.x, gq = lane >> 2, tq = lane & 3;
  const int ra = gq, rb = gq + 8;  // this lane's two MMA rows: query heads h0 + ra, h0 + rb

  auto issue_tile = [&](int64_t k0, int stage) {
    stage_head_tile<DH>(a.kv, c, j, k0, ke, sK[stage], sV[stage], a.q, lane, 32);
  };
  // Keys and values before the chunk's first position were stored by earlier steps; the previous
  // kernel stores only the chunk's own. A first tile wholly before them is staged before waiting
  // for that kernel, so its memory round trip overlaps the previous kernel's tail.
  const bool early = kb < ke && min(kb + kBK, ke) <= c.pos0;
  if (early) issue_tile(kb, 0);
  enter_dependent_kernel();
  if (kb < ke && !early) issue_tile(kb, 0);

  uint32_t qf[DH / 16][4];
  const bf16* qrow = a.q + row * a.q_stride;
  load_q_fragments<DH>(qf, ra < nh ? qrow + static_cast<int64_t>(h0 + ra) * DH : nullptr,
                       rb < nh ? qrow + static_cast<int64_t>(h0 + rb) * DH : nullptr, tq);

  float o[ON][4];
  float mrow[2] = {-INFINITY, -INFINITY}, lrow[2] = {0.0f, 0.0f};
#pragma unroll
  for (int n = 0; n < ON; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;

  pipelined_key_tiles<false>(kb, ke, issue_tile, [&](int64_t k0, int stage) {
    const int kd = static_cast<int>(k0 - ke);  // key kd + t is in range while negative
    auto keep = [nh](int qr, int kp) { return qr < nh && kp < 0; };
    map_tile<DH, DH>(a.scale, qf, sK[stage], sV[stage], o, mrow, lrow, kd, keep, ra, rb, gq, tq);
  });

#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    const int r = hh == 0 ? ra : rb;
    if (r >= nh) continue;
    const int64_t part = (static_cast<int64_t>(ri) * a.H + h0 + r) * a.splits + blockIdx.z;
    if (tq == 0) {
      a.part_ml[part * 2] = mrow[hh];
      a.part_ml[part * 2 + 1] = lrow[hh];
    }
#pragma unroll
    for (int n = 0; n < ON; ++n) {
      a.part_acc[part * DH + 8 * n + 2 * tq] = o[n][2 * hh];
      a.part_acc[part * DH + 8 * n + 2 * tq + 1] = o[n][2 * hh + 1];
    }
  }
}

// Merges the key splits of one (row, query head). Warp 0 weighs the splits by exp(m_s - M) / L; then
// each of the kCombineWarps warps sums every kCombineWarps-th split, a lane taking four values with
// one 16-byte load, and the warps' sums are added in shared memory. Many loads are in flight at once:
// the merge costs a few memory round trips, not one per split.
constexpr int kCombineWarps = 8;
__global__ void __launch_bounds__(kCombineWarps * 32) gqa_combine_kernel(GqaArgs a) {
  constexpr int kPerLane = kGqaMaxSplits / 32;
  constexpr int kPerWarp = kGqaMaxSplits / kCombineWarps;
  __shared__ float weight[kGqaMaxSplits];
  __shared__ __align__(16) float partial[kCombineWarps][128];
  enter_dependent_kernel();
  const int ri = blockIdx.x, h = blockIdx.y, tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int row = a.rows ? a.rows[ri] : ri;
  const int64_t base = (static_cast<int64_t>(ri) * a.H + h) * a.splits;
  const int d = lane * 4;  // the mma kernels' head dims (16 .. 128) are multiples of 4, at most 128
  // Every warp's split outputs are loaded before the weights are known (they do not depend on
  // them), so the kernel pays one memory round trip, not one for the weights and one after.
  float4 v[kPerWarp];
#pragma unroll
  for (int k = 0; k < kPerWarp; ++k) {
    const int sp = warp + kCombineWarps * k;
    v[k] = sp < a.splits && d < a.dh ? *reinterpret_cast<const float4*>(a.part_acc + (base + sp) * a.dh + d)
                                     : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  }
  if (warp == 0) {
    float ms[kPerLane], ls[kPerLane];
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int sp = lane + 32 * k;
      ms[k] = sp < a.splits ? a.part_ml[(base + sp) * 2] : -INFINITY;
      ls[k] = sp < a.splits ? a.part_ml[(base + sp) * 2 + 1] : 0.0f;
    }
    float m = ms[0];
#pragma unroll
    for (int k = 1; k < kPerLane; ++k) m = fmaxf(m, ms[k]);
    const float M = warp_max(m);  // finite: split 0 always holds key 0
    float f[kPerLane], L = 0;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      f[k] = ms[k] == -INFINITY ? 0.0f : __expf(ms[k] - M);
      L += ls[k] * f[k];
    }
    L = warp_sum(L);
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) weight[lane + 32 * k] = f[k] / L;
  }
  __syncthreads();
  if (d < a.dh) {
    float4 acc = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
    for (int k = 0; k < kPerWarp; ++k) {
      const int sp = warp + kCombineWarps * k;
      const float wt = sp < a.splits ? weight[sp] : 0.0f;
      acc.x = fmaf(v[k].x, wt, acc.x);
      acc.y = fmaf(v[k].y, wt, acc.y);
      acc.z = fmaf(v[k].z, wt, acc.z);
      acc.w = fmaf(v[k].w, wt, acc.w);
    }
    *reinterpret_cast<float4*>(&partial[warp][d]) = acc;
  }
  __syncthreads();
  if (tid < a.dh) {
    float sum = 0;
#pragma unroll
    for (int w = 0; w < kCombineWarps; ++w) sum += partial[w][tid];
    a.out[row * a.out_stride + static_cast<int64_t>(h) * a.dh + tid] = from_float<bf16>(sum);
  }
}

template <int DH>
void launch_decode(cudaStream_t s, const GqaArgs& a, int num_rows, int kv_heads) {
  launch_overlapped(s, dim3(num_rows, kv_heads * a.head_blocks, a.splits), dim3(32), 0, gqa_decode_kernel<DH>, a);
  launch_gqa_combine(s, a, num_rows);
}

}  // namespace

void launch_gqa_combine(cudaStream_t s, const GqaArgs& a, int num_rows) {
  launch_overlapped(s, dim3(num_rows, a.H), dim3(kCombineWarps * 32), 0, gqa_combine_kernel, a);
}

bool gqa_mma_head_dim(int dh) { return dh == 16 || dh == 32 || dh == 64 || dh == 128; }

void launch_gqa_prefill(cudaStream_t s, const GqaArgs& a, int num_tiles) {
  const dim3 grid(num_tiles, a.H), block(128);
  switch (a.dh) {
    case 16: launch_overlapped(s, grid, block, 0, gqa_prefill_kernel<16>, a); break;
    case 32: launch_overlapped(s, grid, block, 0, gqa_prefill_kernel<32>, a); break;
    case 64: launch_overlapped(s, grid, block, 0, gqa_prefill_kernel<64>, a); break;
    case 128: launch_overlapped(s, grid, block, 0, gqa_prefill_kernel<128>, a); break;
    default: SAMBAY_CUDA_REQUIRE(false, "attention: no tensor-core prompt kernel for this head_dim");
  }
}

int gqa_decode_blocks_per_sm(int dh) {
  auto per_sm = [](auto kernel) {
    int n = 0;
    SAMBAY_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, 32, 0));
    return std::max(n, 1);
  };
  // Per head dim, asked once.
  static const int n16 = per_sm(gqa_decode_kernel<16>), n32 = per_sm(gqa_decode_kernel<32>),
                   n64 = per_sm(gqa_decode_kernel<64>), n128 = per_sm(gqa_decode_kernel<128>);
  return dh == 16 ? n16 : dh == 32 ? n32 : dh == 64 ? n64 : n128;
}

void launch_gqa_decode(cudaStream_t s, const GqaArgs& a, int num_rows, int kv_heads) {
  switch (a.dh) {
    case 16: launch_decode<16>(s, a, num_rows, kv_heads); break;
    case 32: launch_decode<32>(s, a, num_rows, kv_heads); break;
    case 64: launch_decode<64>(s, a, num_rows, kv_heads); break;
    case 128: launch_decode<128>(s, a, num_rows, kv_heads); break;
    default: SAMBAY_CUDA_REQUIRE(false, "attention: no tensor-core decode kernel for this head_dim");
  }
}

}  // namespace sambay::cuda
