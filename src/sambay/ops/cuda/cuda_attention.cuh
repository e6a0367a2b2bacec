#pragma once
// Shared pieces of the differential-attention kernels: where keys and values live.
#include "sambay/ops/cuda/cuda_kernels.cuh"

namespace sambay::cuda {

// Keys and values of one layer: all in pages (full and cross layers), or the chunk's own rows plus
// a ring of the last `window` positions (sliding-window layers).
struct KvSource {
  bool paged = false;
  int kv_row = 0;  // kv_heads * head_dim
  const bf16 *k_pages = nullptr, *v_pages = nullptr;
  const int32_t* table = nullptr;
  int64_t table_stride = 0;
  int page_size = 0;
  const bf16 *ring_k = nullptr, *ring_v = nullptr;
  int ring_window = 0;
  const bf16 *k_cur = nullptr, *v_cur = nullptr;
  int64_t k_cur_stride = 0, v_cur_stride = 0;

  __device__ __forceinline__ const bf16* row(const SeqChunk& c, int64_t pos, bool value) const {
    if (paged) {
      const int32_t page = table[c.slot * table_stride + pos / page_size];
      return (value ? v_pages : k_pages) + (static_cast<int64_t>(page) * page_size + pos % page_size) * kv_row;
    }
    if (pos >= c.pos0) {
      const int64_t r = c.row0 + (pos - c.pos0);
      return value ? v_cur + r * v_cur_stride : k_cur + r * k_cur_stride;
    }
    return (value ? ring_v : ring_k) + (static_cast<int64_t>(c.slot) * ring_window + pos % ring_window) * kv_row;
  }
};

}  // namespace sambay::cuda
