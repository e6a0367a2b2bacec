// Differential attention on the GPU, and the K/V stores.
//
// diff_attn_kernel: one block per (query row, kv head pair, group of query pairs, key split). Each
// warp walks a quarter of the block's keys; lanes hold head-dim elements. For every key the block
// reads k1, k2, v1, v2 once and updates both maps of every query pair that shares the kv pair
// (online softmax in float32). With one split the block finishes the output itself
// (A1 - lambda A2, RMSNorm, gain, 1 - lambda_init); with several, a combine kernel merges them.
#include <algorithm>
#include <cmath>

#include "sambay/ops/cuda/cuda_attention.cuh"
#include "sambay/ops/cuda/cuda_attention_decode.h"
#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_launch.h"
#include "sambay/ops/cuda/cuda_ops.h"

namespace sambay {

namespace cuda {
// The tiled tensor-core kernel for long prompts (cuda_attention_prefill.cu); false if it does not
// apply to these shapes.
bool diff_attention_prefill(CudaOps& ops, const Tensor& out, const Tensor& q, const KvSource& kv,
                            std::span<const SeqChunk> chunks, const SeqChunk* d_chunks, const DiffAttnParams& p,
                            int window);

namespace {

constexpr int kWarps = 4;
constexpr int kGroupMax = 4;  // query pairs per block sharing one kv pair

// The lanes-over-head-dim kernel below serves head dims that the lanes-over-keys kernel
// (cuda_attention_decode.cu) does not (not a multiple of 16, e.g. 24).
using AttnArgs = DecodeArgs;

// Final step for one (row, pair): D = A1 - lambda A2 over 2 dh values held as lane-strided slices.
template <int EPL>
__device__ void finish_pair(const AttnArgs& a, int row, int g, const float (&A1)[2 * EPL], const float (&A2)[2 * EPL],
                            int lane) {
  float d[2 * EPL], ss = 0;
#pragma unroll
  for (int i = 0; i < 2 * EPL; ++i) {
    const int e = (i % EPL) * 32 + lane;
    d[i] = A1[i] - a.lambda * A2[i];
    if (e < a.dh) ss += d[i] * d[i];
  }
  ss = warp_sum(ss);
  const float rinv = rsqrtf(ss / (2 * a.dh) + a.eps);
  bf16* o = a.out + row * a.out_stride + static_cast<int64_t>(g) * 2 * a.dh;
#pragma unroll
  for (int i = 0; i < 2 * EPL; ++i) {
    const int e = (i % EPL) * 32 + lane, col = (i / EPL) * a.dh + e;
    if (e < a.dh) o[col] = from_float<bf16>(d[i] * rinv * a.subln[col] * a.out_scale);
  }
}

template <int EPL>
__global__ void __launch_bounds__(kWarps * 32) diff_attn_kernel(AttnArgs a) {
  enter_dependent_kernel();
  const int row = blockIdx.x;
  const SeqChunk c = a.chunks[find_chunk(a.chunks, a.num_chunks, row)];
  const int64_t pos = c.pos0 + (row - c.row0);
  const int64_t lo = a.window > 0 ? max(int64_t{0}, pos - a.window + 1) : 0;
  const int64_t nkeys = pos - lo + 1;
  const int j = blockIdx.y / a.pair_blocks;
  const int g0 = j * a.group + (blockIdx.y % a.pair_blocks) * kGroupMax;
  const int ng = min(kGroupMax, j * a.group + a.group - g0);
  const int64_t per_split = (nkeys + a.splits - 1) / a.splits;
  const int64_t k_begin = lo + blockIdx.z * per_split, k_end = min(pos + 1, k_begin + per_split);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int dh = a.dh;

  float q1[kGroupMax][EPL], q2[kGroupMax][EPL];
#pragma unroll
  for (int gi = 0; gi < kGroupMax; ++gi)
#pragma unroll
    for (int i = 0; i < EPL; ++i) {
      const int e = i * 32 + lane;
      const bool ok = gi < ng && e < dh;
      const bf16* qr = a.q + row * a.q_stride + static_cast<int64_t>(2 * (g0 + gi)) * dh;
      q1[gi][i] = ok ? to_float(qr[e]) * a.scale : 0.0f;
      q2[gi][i] = ok ? to_float(qr[dh + e]) * a.scale : 0.0f;
    }

  float m1[kGroupMax], l1[kGroupMax], m2[kGroupMax], l2[kGroupMax];
  float acc1[kGroupMax][2 * EPL], acc2[kGroupMax][2 * EPL];
#pragma unroll
  for (int gi = 0; gi < kGroupMax; ++gi) {
    m1[gi] = m2[gi] = -INFINITY;
    l1[gi] = l2[gi] = 0.0f;
#pragma unroll
    for (int i = 0; i < 2 * EPL; ++i) acc1[gi][i] = acc2[gi][i] = 0.0f;
  }

  for (int64_t key = k_begin + warp; key < k_end; key += kWarps) {
    const bf16* kr = a.kv.pair(c, key, false, j);
    const bf16* vr = a.kv.pair(c, key, true, j);
    float k1[EPL], k2[EPL], v[2 * EPL];
#pragma unroll
    for (int i = 0; i < EPL; ++i) {
      const int e = i * 32 + lane;
      const bool ok = e < dh;
      k1[i] = ok ? to_float(kr[e]) : 0.0f;
      k2[i] = ok ? to_float(kr[dh + e]) : 0.0f;
      v[i] = ok ? to_float(vr[e]) : 0.0f;
      v[EPL + i] = ok ? to_float(vr[dh + e]) : 0.0f;
    }
#pragma unroll
    for (int gi = 0; gi < kGroupMax; ++gi) {
      if (gi >= ng) break;
      float s1 = 0, s2 = 0;
#pragma unroll
      for (int i = 0; i < EPL; ++i) {
        s1 = fmaf(q1[gi][i], k1[i], s1);
        s2 = fmaf(q2[gi][i], k2[i], s2);
      }
      s1 = warp_sum(s1);
      s2 = warp_sum(s2);
      const float n1 = fmaxf(m1[gi], s1), n2 = fmaxf(m2[gi], s2);
      const float c1 = __expf(m1[gi] - n1), c2 = __expf(m2[gi] - n2);
      const float p1 = __expf(s1 - n1), p2 = __expf(s2 - n2);
      m1[gi] = n1;
      m2[gi] = n2;
      l1[gi] = l1[gi] * c1 + p1;
      l2[gi] = l2[gi] * c2 + p2;
#pragma unroll
      for (int i = 0; i < 2 * EPL; ++i) {
        acc1[gi][i] = fmaf(acc1[gi][i], c1, p1 * v[i]);
        acc2[gi][i] = fmaf(acc2[gi][i], c2, p2 * v[i]);
      }
    }
  }

  // Merge the warps' running states in shared memory.
  __shared__ float sm_ml[kWarps][kGroupMax][2][2];
  __shared__ float sm_acc[kWarps][kGroupMax][2][2 * EPL * 32];
  for (int gi = 0; gi < ng; ++gi) {
    if (lane == 0) {
      sm_ml[warp][gi][0][0] = m1[gi];
      sm_ml[warp][gi][0][1] = l1[gi];
      sm_ml[warp][gi][1][0] = m2[gi];
      sm_ml[warp][gi][1][1] = l2[gi];
    }
#pragma unroll
    for (int i = 0; i < 2 * EPL; ++i) {
      sm_acc[warp][gi][0][i * 32 + lane] = acc1[gi][i];
      sm_acc[warp][gi][1][i * 32 + lane] = acc2[gi][i];
    }
  }
  __syncthreads();
  // Warp gi finishes query pair gi.
  if (warp >= ng) return;
  const int gi = warp;
  float A[2][2 * EPL], mm[2], ll[2];
#pragma unroll
  for (int map = 0; map < 2; ++map) {
    float M = -INFINITY;
    for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sm_ml[w][gi][map][0]);
    float L = 0;
#pragma unroll
    for (int i = 0; i < 2 * EPL; ++i) A[map][i] = 0.0f;
    if (M != -INFINITY) {
      for (int w = 0; w < kWarps; ++w) {
        const float f = __expf(sm_ml[w][gi][map][0] - M);
        L += sm_ml[w][gi][map][1] * f;
#pragma unroll
        for (int i = 0; i < 2 * EPL; ++i) A[map][i] += sm_acc[w][gi][map][i * 32 + lane] * f;
      }
    }
    mm[map] = M;
    ll[map] = L;
  }
  const int g = g0 + gi;
  if (a.splits == 1) {
#pragma unroll
    for (int i = 0; i < 2 * EPL; ++i) {
      A[0][i] /= ll[0];
      A[1][i] /= ll[1];
    }
    finish_pair<EPL>(a, row, g, A[0], A[1], lane);
    return;
  }
  const int64_t part = (static_cast<int64_t>(row) * a.G + g) * a.splits + blockIdx.z;
#pragma unroll
  for (int map = 0; map < 2; ++map) {
    if (lane == 0) {
      a.part_ml[(part * 2 + map) * 2] = mm[map];
      a.part_ml[(part * 2 + map) * 2 + 1] = ll[map];
    }
#pragma unroll
    for (int i = 0; i < 2 * EPL; ++i) {
      const int e = (i % EPL) * 32 + lane;
      if (e < dh) a.part_acc[(part * 2 + map) * 2 * dh + (i / EPL) * dh + e] = A[map][i];
    }
  }
}

// Merges the key splits of one (row, pair) and finishes it. One warp per (row, pair).
template <int EPL>
__global__ void diff_attn_combine_kernel(AttnArgs a) {
  enter_dependent_kernel();
  const int row = blockIdx.x, g = blockIdx.y, lane = threadIdx.x;
  float A[2][2 * EPL];
#pragma unroll
  for (int map = 0; map < 2; ++map) {
    float M = -INFINITY;
    for (int s = 0; s < a.splits; ++s) {
      const int64_t part = (static_cast<int64_t>(row) * a.G + g) * a.splits + s;
      M = fmaxf(M, a.part_ml[(part * 2 + map) * 2]);
    }
    float L = 0;
#pragma unroll
    for (int i = 0; i < 2 * EPL; ++i) A[map][i] = 0.0f;
    for (int s = 0; s < a.splits; ++s) {
      const int64_t part = (static_cast<int64_t>(row) * a.G + g) * a.splits + s;
      const float m = a.part_ml[(part * 2 + map) * 2];
      if (m == -INFINITY) continue;
      const float f = __expf(m - M);
      L += a.part_ml[(part * 2 + map) * 2 + 1] * f;
#pragma unroll
      for (int i = 0; i < 2 * EPL; ++i) {
        const int e = (i % EPL) * 32 + lane;
        if (e < a.dh) A[map][i] += a.part_acc[(part * 2 + map) * 2 * a.dh + (i / EPL) * a.dh + e] * f;
      }
    }
#pragma unroll
    for (int i = 0; i < 2 * EPL; ++i) A[map][i] /= L;
  }
  finish_pair<EPL>(a, row, g, A[0], A[1], lane);
}

template <int EPL>
void launch_attention(CudaOps& ops, const AttnArgs& a, int rows, int kv_pairs) {
  const dim3 grid(rows, kv_pairs * a.pair_blocks, a.splits);
  launch_overlapped(ops.stream(), grid, dim3(kWarps * 32), 0, diff_attn_kernel<EPL>, a);
  if (a.splits > 1) launch_overlapped(ops.stream(), dim3(rows, a.G), dim3(32), 0, diff_attn_combine_kernel<EPL>, a);
}

__global__ void kv_ring_write_kernel(bf16* ring_k, bf16* ring_v, int window, int kv_row, const bf16* k,
                                     int64_t k_stride, const bf16* v, int64_t v_stride, const SeqChunk* chunks,
                                     int num_chunks) {
  enter_dependent_kernel();
  const int row = blockIdx.x;
  const SeqChunk c = chunks[find_chunk(chunks, num_chunks, row)];
  const int t = row - c.row0;
  if (t < c.len - window) return;  // overwritten later in the same chunk
  const int64_t dst = (static_cast<int64_t>(c.slot) * window + (c.pos0 + t) % window) * kv_row;
  for (int i = threadIdx.x; i < kv_row; i += blockDim.x) {
    ring_k[dst + i] = k[row * k_stride + i];
    ring_v[dst + i] = v[row * v_stride + i];
  }
}

// Stores each row's kv heads pair-major in its page (see KvSource).
__global__ void kv_pages_write_kernel(bf16* pages_k, bf16* pages_v, const int32_t* table, int64_t table_stride,
                                      int page_size, int kv_row, int pair_width, const bf16* k, int64_t k_stride,
                                      const bf16* v, int64_t v_stride, const SeqChunk* chunks, int num_chunks) {
  enter_dependent_kernel();
  const int row = blockIdx.x;
  const SeqChunk c = chunks[find_chunk(chunks, num_chunks, row)];
  const int64_t pos = c.pos0 + (row - c.row0);
  const int32_t page = table[c.slot * table_stride + pos / page_size];
  const int64_t base = static_cast<int64_t>(page) * page_size * kv_row + (pos % page_size) * pair_width;
  for (int i = threadIdx.x; i < kv_row; i += blockDim.x) {
    const int64_t dst = base + static_cast<int64_t>(i / pair_width) * page_size * pair_width + i % pair_width;
    pages_k[dst] = k[row * k_stride + i];
    pages_v[dst] = v[row * v_stride + i];
  }
}

}  // namespace
}  // namespace cuda

using namespace cuda;

void CudaOps::kv_ring_write(const KvRingRef& ring, const Tensor& k, const Tensor& v, std::span<const SeqChunk> chunks) {
  SAMBAY_CUDA_REQUIRE(ring.k.dtype == DType::BF16 && k.dtype == DType::BF16, "kv_ring_write: K/V must be BF16");
  if (k.rows == 0) return;
  launch_overlapped(stream_, dim3(k.rows), dim3(128), 0, kv_ring_write_kernel, ring.k.ptr<bf16>(), ring.v.ptr<bf16>(),
                    static_cast<int>(ring.window), static_cast<int>(k.cols), k.ptr<const bf16>(), k.stride,
                    v.ptr<const bf16>(), v.stride, device_chunks(chunks), static_cast<int>(chunks.size()));
}

void CudaOps::kv_pages_write(const KvPagesRef& pages, const Tensor& k, const Tensor& v,
                             std::span<const SeqChunk> chunks) {
  SAMBAY_CUDA_REQUIRE(pages.k.dtype == DType::BF16 && k.dtype == DType::BF16, "kv_pages_write: K/V must be BF16");
  const int64_t group_width = pages.group_heads * pages.head_dim;
  SAMBAY_CUDA_REQUIRE(group_width > 0 && k.cols % group_width == 0,
                      "kv_pages_write: pages need a head_dim that divides the K/V row into head groups");
  if (k.rows == 0) return;
  launch_overlapped(stream_, dim3(k.rows), dim3(128), 0, kv_pages_write_kernel, pages.k.ptr<bf16>(),
                    pages.v.ptr<bf16>(), pages.page_table_device.ptr<const int32_t>(), pages.table_stride,
                    static_cast<int>(pages.page_size), static_cast<int>(k.cols), static_cast<int>(group_width),
                    k.ptr<const bf16>(), k.stride, v.ptr<const bf16>(), v.stride, device_chunks(chunks),
                    static_cast<int>(chunks.size()));
}

void CudaOps::diff_attention(const Tensor& out, const Tensor& q, const DiffAttnKv& kv, std::span<const SeqChunk> chunks,
                             const DiffAttnParams& p) {
  const int dh = static_cast<int>(p.head_dim), G = static_cast<int>(p.num_heads / 2);
  const int kv_pairs = static_cast<int>(p.num_kv_heads / 2);
  SAMBAY_CUDA_REQUIRE(dh <= 128, "diff_attention: head_dim above 128 is not supported on CUDA");
  SAMBAY_CUDA_REQUIRE(q.dtype == DType::BF16 && out.dtype == DType::BF16, "diff_attention: q/out must be BF16");
  SAMBAY_CUDA_REQUIRE((kv.pages != nullptr) != (kv.ring != nullptr), "diff_attention: need exactly one K/V source");
  if (chunks.empty() || q.rows == 0) return;

  KvSource src;
  src.kv_row = static_cast<int>(p.num_kv_heads * p.head_dim);
  src.pair_width = static_cast<int>(2 * p.head_dim);
  if (kv.pages) {
    SAMBAY_CUDA_REQUIRE(kv.pages->head_dim == p.head_dim && kv.pages->group_heads == 2,
                        "diff_attention: pages were written with another head_dim or not in head pairs");
    src.paged = true;
    src.k_pages = kv.pages->k.ptr<const bf16>();
    src.v_pages = kv.pages->v.ptr<const bf16>();
    src.table = kv.pages->page_table_device.ptr<const int32_t>();
    src.table_stride = kv.pages->table_stride;
    src.page_size = static_cast<int>(kv.pages->page_size);
  } else {
    src.ring_k = kv.ring->k.ptr<const bf16>();
    src.ring_v = kv.ring->v.ptr<const bf16>();
    src.ring_window = static_cast<int>(kv.ring->window);
    src.k_cur = kv.k_cur.ptr<const bf16>();
    src.v_cur = kv.v_cur.ptr<const bf16>();
    src.k_cur_stride = kv.k_cur.stride;
    src.v_cur_stride = kv.v_cur.stride;
  }
  const SeqChunk* d_chunks = device_chunks(chunks);
  const int window = static_cast<int>(kv.window);
  if (diff_attention_prefill(*this, out, q, src, chunks, d_chunks, p, window)) return;

  AttnArgs a{};
  a.out = out.ptr<bf16>();
  a.out_stride = out.stride;
  a.q = q.ptr<const bf16>();
  a.q_stride = q.stride;
  a.kv = src;
  a.chunks = d_chunks;
  a.num_chunks = static_cast<int>(chunks.size());
  a.dh = dh;
  a.G = G;
  a.group = G / kv_pairs;
  a.pair_blocks = (a.group + kGroupMax - 1) / kGroupMax;
  a.window = window;
  a.scale = p.scale;
  a.lambda = p.lambda;
  a.out_scale = p.out_scale;
  a.eps = p.eps;
  a.subln = p.subln.ptr<const float>();
  auto aligned16 = [](const void* ptr, int64_t stride) {
    return reinterpret_cast<uintptr_t>(ptr) % 16 == 0 && stride % 8 == 0;
  };
  a.kv_aligned = src.kv_row % 8 == 0 && (src.paged || (aligned16(src.k_cur, src.k_cur_stride) &&
                                                       aligned16(src.v_cur, src.v_cur_stride))) &&
                 (src.paged ? aligned16(src.k_pages, 0) && aligned16(src.v_pages, 0)
                            : aligned16(src.ring_k, 0) && aligned16(src.ring_v, 0));

  // Split the keys when the grid alone would not fill the GPU (decode). The split count depends on
  // the shape only, not on the context length, so a captured decode graph stays valid as the
  // context grows; each block computes its key range on the device.
  // At most one split per 64 keys the cache can hold for a sequence (also fixed per cache).
  const int rows = static_cast<int>(q.rows);
  const int64_t blocks = static_cast<int64_t>(rows) * kv_pairs * a.pair_blocks;
  // Blocks to aim for per SM: the tensor-core kernel runs one warp per block and its loads in
  // flight hold no registers, so it gains from many more, shorter splits (measured: 48).
  const int64_t per_sm = diff_attention_decode_mma(dh, a.kv_aligned) ? 48 : 8;
  const int64_t want = (per_sm * static_cast<int64_t>(props_.multiProcessorCount) + blocks - 1) / blocks;
  const int64_t capacity = kv.ring ? kv.ring->window : kv.pages->table_stride * kv.pages->page_size;
  a.splits = static_cast<int>(std::clamp<int64_t>(std::min(want, (capacity + 63) / 64), 1, 64));

  OwnedTensor ml, acc;  // per-split partial results, merged by a combine kernel
  if (a.splits > 1) {
    const int64_t parts = static_cast<int64_t>(rows) * a.G * a.splits * 2;
    ml = empty(1, parts * 2, DType::F32);
    acc = empty(1, parts * 2 * a.dh, DType::F32);
    a.part_ml = ml->ptr<float>();
    a.part_acc = acc->ptr<float>();
  }
  if (launch_diff_attention_decode(stream_, a, rows, kv_pairs)) return;
  if (dh <= 32) launch_attention<1>(*this, a, rows, kv_pairs);
  else if (dh <= 64) launch_attention<2>(*this, a, rows, kv_pairs);
  else launch_attention<4>(*this, a, rows, kv_pairs);
}

}  // namespace sambay
