// Plain (grouped-query) causal attention over pages on the GPU: which kernel takes which rows, and
// the CUDA-core kernel for head dims the tensor-core kernels (cuda_gqa_mma.cu) do not take.
//
// Chunks of at least kPromptRows rows go to the prompt kernel in 64-row tiles; shorter ones (decode
// rows) to the split-key decode kernel, so that a decode row in a mixed step still spreads its long
// context over many blocks.
#include <algorithm>
#include <cstdlib>
#include <vector>

#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_gqa_attention.cuh"
#include "sambay/ops/cuda/cuda_kernels.cuh"
#include "sambay/ops/cuda/cuda_launch.h"
#include "sambay/ops/cuda/cuda_ops.h"

namespace sambay {
namespace cuda {
namespace {

constexpr int kPromptRows = 16;

// The most key splits a decode row's kv head gets: kGqaMaxSplits, or SAMBAY_GQA_SPLITS (1..128) to
// measure the trade between fewer, longer splits and the merge's reads.
int max_decode_splits() {
  static const int n = [] {
    const char* env = std::getenv("SAMBAY_GQA_SPLITS");
    const int v = env ? std::atoi(env) : 0;
    return v >= 1 && v <= kGqaMaxSplits ? v : kGqaMaxSplits;
  }();
  return n;
}

constexpr int kWarps = 4;

// One block per (row, query head): each warp walks every kWarps-th key with lanes over head-dim
// elements (EPL per lane), online softmax in float32; the warps' states merge in shared memory.
template <int EPL>
__global__ void __launch_bounds__(kWarps * 32) gqa_generic_kernel(GqaArgs a) {
  __shared__ float sml[kWarps][2];
  __shared__ float sacc[kWarps][EPL * 32];
  enter_dependent_kernel();
  const int row = blockIdx.x, h = blockIdx.y, j = h / a.group;
  const SeqChunk c = a.chunks[find_chunk(a.chunks, a.num_chunks, row)];
  const int64_t pos = c.pos0 + (row - c.row0);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, dh = a.dh;
  const bf16* qr = a.q + row * a.q_stride + static_cast<int64_t>(h) * dh;
  float q[EPL], acc[EPL];
#pragma unroll
  for (int i = 0; i < EPL; ++i) {
    const int e = i * 32 + lane;
    q[i] = e < dh ? to_float(qr[e]) * a.scale : 0.0f;
    acc[i] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  for (int64_t key = warp; key <= pos; key += kWarps) {
    const bf16* kr = a.kv.pair(c, key, false, j);
    const bf16* vr = a.kv.pair(c, key, true, j);
    float s = 0;
#pragma unroll
    for (int i = 0; i < EPL; ++i) {
      const int e = i * 32 + lane;
      if (e < dh) s = fmaf(q[i], to_float(kr[e]), s);
    }
    s = warp_sum(s);
    const float nm = fmaxf(m, s), corr = __expf(m - nm), p = __expf(s - nm);
    m = nm;
    l = l * corr + p;
#pragma unroll
    for (int i = 0; i < EPL; ++i) {
      const int e = i * 32 + lane;
      acc[i] = fmaf(acc[i], corr, e < dh ? p * to_float(vr[e]) : 0.0f);
    }
  }
  if (lane == 0) {
    sml[warp][0] = m;
    sml[warp][1] = l;
  }
#pragma unroll
  for (int i = 0; i < EPL; ++i) sacc[warp][i * 32 + lane] = acc[i];
  __syncthreads();
  if (warp != 0) return;
  float M = -INFINITY;
  for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sml[w][0]);
  float L = 0, out[EPL] = {};
  for (int w = 0; w < kWarps; ++w) {
    if (sml[w][0] == -INFINITY) continue;  // a warp that had no key (positions below kWarps)
    const float f = __expf(sml[w][0] - M);
    L += sml[w][1] * f;
#pragma unroll
    for (int i = 0; i < EPL; ++i) out[i] += sacc[w][i * 32 + lane] * f;
  }
  bf16* o = a.out + row * a.out_stride + static_cast<int64_t>(h) * dh;
#pragma unroll
  for (int i = 0; i < EPL; ++i) {
    const int e = i * 32 + lane;
    if (e < dh) o[e] = from_float<bf16>(out[i] / L);
  }
}

bool aligned16(const void* ptr, int64_t stride_elems) {
  return reinterpret_cast<uintptr_t>(ptr) % 16 == 0 && stride_elems % 8 == 0;
}

}  // namespace

bool launch_gqa_generic(cudaStream_t s, const GqaArgs& a, int num_rows) {
  const dim3 grid(num_rows, a.H), block(kWarps * 32);
  if (a.dh <= 32) launch_overlapped(s, grid, block, 0, gqa_generic_kernel<1>, a);
  else if (a.dh <= 64) launch_overlapped(s, grid, block, 0, gqa_generic_kernel<2>, a);
  else if (a.dh <= 128) launch_overlapped(s, grid, block, 0, gqa_generic_kernel<4>, a);
  else if (a.dh <= 256) launch_overlapped(s, grid, block, 0, gqa_generic_kernel<8>, a);
  else return false;
  return true;
}

}  // namespace cuda

using namespace cuda;

void CudaOps::attention(const Tensor& out, const Tensor& q, const KvPagesRef& pages, std::span<const SeqChunk> chunks,
                        const AttentionParams& p) {
  SAMBAY_CUDA_REQUIRE(q.dtype == DType::BF16 && out.dtype == DType::BF16 && pages.k.dtype == DType::BF16,
                      "attention: q, out and the pages must be BF16");
  SAMBAY_CUDA_REQUIRE(p.num_kv_heads > 0 && p.num_heads % p.num_kv_heads == 0 && q.cols == p.num_heads * p.head_dim &&
                          out.rows == q.rows && out.cols == q.cols,
                      "attention: shape mismatch");
  SAMBAY_CUDA_REQUIRE(pages.head_dim == p.head_dim && pages.group_heads == 1,
                      "attention: the pages were not written one kv head per group with this head_dim");
  if (chunks.empty() || q.rows == 0) return;

  GqaArgs a{};
  a.out = out.ptr<bf16>();
  a.out_stride = out.stride;
  a.q = q.ptr<const bf16>();
  a.q_stride = q.stride;
  a.kv.paged = true;
  a.kv.kv_row = static_cast<int>(p.num_kv_heads * p.head_dim);
  a.kv.pair_width = static_cast<int>(p.head_dim);
  a.kv.k_pages = pages.k.ptr<const bf16>();
  a.kv.v_pages = pages.v.ptr<const bf16>();
  a.kv.table = pages.page_table_device.ptr<const int32_t>();
  a.kv.table_stride = pages.table_stride;
  a.kv.page_size = static_cast<int>(pages.page_size);
  a.chunks = device_chunks(chunks);
  a.num_chunks = static_cast<int>(chunks.size());
  a.H = static_cast<int>(p.num_heads);
  a.group = static_cast<int>(p.num_heads / p.num_kv_heads);
  a.dh = static_cast<int>(p.head_dim);
  a.scale = p.scale;

  const bool mma = gqa_mma_head_dim(a.dh) && aligned16(q.data, q.stride) && aligned16(out.data, out.stride) &&
                   aligned16(pages.k.data, 0) && aligned16(pages.v.data, 0);
  if (!mma) {
    SAMBAY_CUDA_REQUIRE(launch_gqa_generic(stream_, a, static_cast<int>(q.rows)),
                        "attention: head_dim above 256 is not supported on CUDA");
    return;
  }

  std::vector<int32_t> tiles;  // (chunk, first row) pairs
  std::vector<int32_t> short_rows;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const SeqChunk& c = chunks[i];
    if (c.len >= kPromptRows) {
      for (int t = 0; t < c.len; t += kGqaTileRows) tiles.insert(tiles.end(), {static_cast<int32_t>(i), t});
    } else {
      for (int t = 0; t < c.len; ++t) short_rows.push_back(c.row0 + t);
    }
  }
  if (!tiles.empty()) {
    OwnedTensor d_tiles = device_ints(tiles);  // stream-ordered free: safe to drop after the launch
    a.tiles = reinterpret_cast<const int2*>(d_tiles->ptr<int32_t>());
    launch_gqa_prefill(stream_, a, static_cast<int>(tiles.size() / 2));
  }
  if (short_rows.empty()) return;

  // Decode rows: a row list only when some rows went to the prompt kernel (a decode step, the one
  // that graphs capture, uploads nothing). Splits depend on the row count and the cache's capacity
  // only, so a captured graph stays valid as contexts grow: as many as fill the GPU's resident
  // block slots in one wave (latency, not bandwidth, bounds a warp's few key tiles at small
  // batches), at most one per key tile the cache can hold.
  OwnedTensor d_rows;
  const int n = static_cast<int>(short_rows.size());
  if (n != q.rows) {
    d_rows = device_ints(short_rows);
    a.rows = d_rows->ptr<int32_t>();
  }
  const int kv_heads = static_cast<int>(p.num_kv_heads);
  const bool vec = gqa_decode_vec_fits(a.dh, a.group);
  a.head_blocks = vec ? 1 : (a.group + 15) / 16;
  const int64_t blocks = static_cast<int64_t>(n) * kv_heads * a.head_blocks;
  const int per_sm = vec ? gqa_decode_vec_blocks_per_sm(a.group) : gqa_decode_blocks_per_sm(a.dh);
  const int64_t slots = static_cast<int64_t>(per_sm) * props_.multiProcessorCount;
  const int64_t capacity = pages.table_stride * pages.page_size;
  const int64_t tiles_held = (capacity + kGqaKeyTile - 1) / kGqaKeyTile;
  a.splits = static_cast<int>(std::clamp<int64_t>(std::min(slots / blocks, tiles_held), 1, max_decode_splits()));
  const int64_t parts = static_cast<int64_t>(n) * a.H * a.splits;
  OwnedTensor ml = empty(1, parts * 2, DType::F32), acc = empty(1, parts * a.dh, DType::F32);
  a.part_ml = ml->ptr<float>();
  a.part_acc = acc->ptr<float>();
  if (vec) launch_gqa_decode_vec(stream_, a, n, kv_heads);
  else launch_gqa_decode(stream_, a, n, kv_heads);
}

}  // namespace sambay
