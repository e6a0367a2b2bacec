#pragma once
// Arguments of the split-key (decode) differential-attention kernels.
#include "sambay/ops/cuda/cuda_attention.cuh"

namespace sambay::cuda {

struct DecodeArgs {
  bf16* out;
  int64_t out_stride;
  const bf16* q;
  int64_t q_stride;
  KvSource kv;
  const SeqChunk* chunks;
  int num_chunks;
  int dh, group, pair_blocks, splits, window;
  float scale, lambda, out_scale, eps;
  const float* subln;
  float* part_ml;   // [rows, G, splits, 2 maps, 2] (max, sum)
  float* part_acc;  // [rows, G, splits, 2 maps, 2 dh]
  int G;
};

// Lanes-over-keys kernel for head dims 16, 32, 64 and 128; false for other head dims.
bool launch_diff_attention_decode(cudaStream_t stream, const DecodeArgs& a, int rows, int kv_pairs);

}  // namespace sambay::cuda
