#pragma once
// Arguments and launchers of the plain (grouped-query) causal attention kernels over pages:
// query head h reads kv head h / group; every position comes from the pages, one head per page
// row group (KvSource with pair_width = head_dim).
#include "sambay/ops/cuda/cuda_attention.cuh"

namespace sambay::cuda {

constexpr int kGqaTileRows = 64;    // query rows per block of the prompt kernel
constexpr int kGqaKeyTile = 32;     // keys per tile the kernels stage
constexpr int kGqaMaxSplits = 128;  // key splits per (row, kv head) of the decode kernel

struct GqaArgs {
  bf16* out;
  int64_t out_stride;
  const bf16* q;
  int64_t q_stride;
  KvSource kv;
  const SeqChunk* chunks;
  int num_chunks;
  const int2* tiles;    // prompt kernel: (chunk index, first row of the 64-row tile within the chunk)
  const int32_t* rows;  // decode kernel: the rows its blocks take (null: rows 0, 1, ...)
  int H, group, dh;
  int head_blocks;      // decode kernel: blocks per kv head (16 query heads each)
  int splits;           // decode kernel: key ranges per (row, kv head), merged by the combine kernel
  float scale;
  float* part_ml;   // [decode rows, H, splits, 2] (max, sum)
  float* part_acc;  // [decode rows, H, splits, dh]
};

// Head dims the tensor-core kernels take (K/V and query rows must start on 16 bytes).
bool gqa_mma_head_dim(int dh);

// Tensor cores: 64-row query tiles of one head against 32-key tiles (prompts).
void launch_gqa_prefill(cudaStream_t stream, const GqaArgs& a, int num_tiles);
// Blocks of the decode kernel (one warp each) resident per SM at once for this head dim.
int gqa_decode_blocks_per_sm(int dh);
// Tensor cores: one block per (row, kv head, 16 query heads, key split), then the combine kernel.
void launch_gqa_decode(cudaStream_t stream, const GqaArgs& a, int num_rows, int kv_heads);
// Merges the decode kernels' key splits (part_ml, part_acc) into out.
void launch_gqa_combine(cudaStream_t stream, const GqaArgs& a, int num_rows);
// CUDA cores, head dim 128 and 1 to 4 query heads per kv head: one block of four warps per (row, kv
// head, key split), then the merge (cuda_gqa_vec.cu).
bool gqa_decode_vec_fits(int dh, int group);
int gqa_decode_vec_blocks_per_sm(int group);
void launch_gqa_decode_vec(cudaStream_t stream, const GqaArgs& a, int num_rows, int kv_heads);
// Any head dim up to 256 on CUDA cores: one block per (row, query head), no splits.
bool launch_gqa_generic(cudaStream_t stream, const GqaArgs& a, int num_rows);

}  // namespace sambay::cuda
