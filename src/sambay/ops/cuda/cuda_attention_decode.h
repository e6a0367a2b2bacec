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
  bool kv_aligned;  // K/V rows start on 16 bytes (cp.async); the tensor-core kernel needs it
};

// Whether decode rows with key splits take the tensor-core kernel (head dims 16, 32 and 64, K/V rows
// on 16 bytes); it wants more splits than the lanes-over-keys kernel (see the caller).
bool diff_attention_decode_mma(int dh, bool kv_aligned);

// Tensor-core kernel where diff_attention_decode_mma says so and splits > 1, else the
// lanes-over-keys kernel for head dims 16, 32, 64 and 128; false for other head dims.
bool launch_diff_attention_decode(cudaStream_t stream, const DecodeArgs& a, int rows, int kv_pairs);

}  // namespace sambay::cuda
