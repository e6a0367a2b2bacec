#pragma once
// Arguments of the tiled (prompt) differential-attention kernels.
#include "sambay/ops/cuda/cuda_attention.cuh"

namespace sambay::cuda {

struct PrefillArgs {
  bf16* out;
  int64_t out_stride;
  const bf16* q;
  int64_t q_stride;
  KvSource kv;
  const SeqChunk* chunks;
  const int2* tiles;  // (chunk index, first row of the tile within the chunk)
  int group, window;
  float scale, lambda, out_scale, eps;
  const float* subln;
};

// The mma.sync kernel for head dims 16, 32 and 64 with 64-query tiles; false for other head dims.
bool launch_diff_attention_mma(cudaStream_t stream, const PrefillArgs& a, int num_tiles, int G, int dh);

}  // namespace sambay::cuda
