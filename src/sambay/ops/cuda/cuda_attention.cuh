#pragma once
// Shared pieces of the differential-attention kernels: where keys and values live.
#include "sambay/ops/cuda/cuda_kernels.cuh"

namespace sambay::cuda {

// Keys and values of one layer: all in pages (full and cross layers), or the chunk's own rows plus
// a ring of the last `window` positions (sliding-window layers).
//
// Pages are pair-major: a page holds, for each kv head pair, its page_size rows of [k1 | k2] (or
// [v1 | v2]) one after another, so the keys a kernel reads for one pair are contiguous runs of
// page_size * 2 * head_dim values rather than short pieces of every position's row.
struct KvSource {
  bool paged = false;
  int kv_row = 0;      // kv_heads * head_dim
  int pair_width = 0;  // 2 * head_dim
  const bf16 *k_pages = nullptr, *v_pages = nullptr;
  const int32_t* table = nullptr;
  int64_t table_stride = 0;
  int page_size = 0;
  const bf16 *ring_k = nullptr, *ring_v = nullptr;
  int ring_window = 0;
  const bf16 *k_cur = nullptr, *v_cur = nullptr;
  int64_t k_cur_stride = 0, v_cur_stride = 0;

  // Where kv head pair j's row at position pos starts in k_pages (and v_pages): one page-table
  // lookup serves both. 32-bit division (a few instructions where 64-bit takes dozens, once per
  // staged key); positions stay far below 2^31.
  __device__ __forceinline__ int64_t page_offset(const SeqChunk& c, int64_t pos, int j) const {
    const int p = static_cast<int>(pos);
    const int32_t page = table[c.slot * table_stride + p / page_size];
    return static_cast<int64_t>(page) * page_size * kv_row +
           static_cast<int64_t>(j * page_size + p % page_size) * pair_width;
  }

  // The 2 * head_dim keys (or values) of kv head pair j at position pos.
  __device__ __forceinline__ const bf16* pair(const SeqChunk& c, int64_t pos, bool value, int j) const {
    if (paged) return (value ? v_pages : k_pages) + page_offset(c, pos, j);
    const int64_t off = static_cast<int64_t>(j) * pair_width;
    if (pos >= c.pos0) {
      const int64_t r = c.row0 + (pos - c.pos0);
      return (value ? v_cur + r * v_cur_stride : k_cur + r * k_cur_stride) + off;
    }
    return (value ? ring_v : ring_k) + (static_cast<int64_t>(c.slot) * ring_window + pos % ring_window) * kv_row + off;
  }
};

}  // namespace sambay::cuda
