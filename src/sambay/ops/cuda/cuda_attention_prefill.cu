// Differential attention for prompts, head dim 128: tiles of BQ queries of one differential head pair against
// tiles of 64 keys, on tensor cores (WMMA, BF16 in, float32 accumulate). For each key tile the block
// loads k1, k2 and [v1 | v2] once into shared memory and updates both maps:
//   S_m = Q_m K_mᵀ (scaled, causal / window mask), online softmax, O_m = O_m * c + P_m [v1 | v2].
// Each warp owns 16 query rows, so after the tile loads all work is warp-local.
#include <mma.h>

#include <algorithm>
#include <vector>

#include "sambay/ops/cuda/cuda_attention.cuh"
#include "sambay/ops/cuda/cuda_attention_prefill.h"
#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_ops.h"

namespace sambay::cuda {
namespace {

using namespace nvcuda;

constexpr int kBK = 64;  // keys per tile

template <int DH, int BQ>
struct Smem {
  static constexpr int kWarps = BQ / 16;
  static constexpr int q = BQ * DH;            // bf16, per map
  static constexpr int k = kBK * DH;           // bf16, per map
  static constexpr int v = kBK * 2 * DH;       // bf16
  static constexpr int s = BQ * kBK;           // float
  static constexpr int p = BQ * kBK;           // bf16
  static constexpr int o = BQ * 2 * DH;        // float, per map
  static constexpr size_t bytes = (2 * q + 2 * k + v + p) * 2 + (s + 2 * o + 4 * BQ) * 4;
};

template <int DH, int BQ>
__global__ void __launch_bounds__(BQ * 2) diff_attn_prefill_kernel(PrefillArgs a) {
  using S = Smem<DH, BQ>;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  bf16* sQ = reinterpret_cast<bf16*>(smem_raw);    // [2][BQ][DH]
  bf16* sK = sQ + 2 * S::q;                        // [2][BK][DH]
  bf16* sV = sK + 2 * S::k;                        // [BK][2 DH]
  bf16* sP = sV + S::v;                            // [BQ][BK]
  float* sS = reinterpret_cast<float*>(sP + S::p);  // [BQ][BK]
  float* sO = sS + S::s;                           // [2][BQ][2 DH]
  float* sM = sO + 2 * S::o;                       // [2][BQ] running max
  float* sL = sM + 2 * BQ;                         // [2][BQ] running sum

  const int2 tile = a.tiles[blockIdx.x];
  const SeqChunk c = a.chunks[tile.x];
  const int g = blockIdx.y, j = g / a.group;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int nthreads = blockDim.x;
  const int rows = min(BQ, c.len - tile.y);
  const int64_t pos_first = c.pos0 + tile.y, pos_last = pos_first + rows - 1;
  const int64_t key_lo = a.window > 0 ? max(int64_t{0}, pos_first - a.window + 1) : 0;

  // Q tiles (rows past the chunk are zero) and the running state.
  for (int i = threadIdx.x; i < BQ * DH / 8; i += nthreads) {
    const int r = i / (DH / 8), d8 = (i % (DH / 8)) * 8;
    uint4 q1 = make_uint4(0, 0, 0, 0), q2 = q1;
    if (r < rows) {
      const bf16* qr = a.q + (c.row0 + tile.y + r) * a.q_stride + static_cast<int64_t>(2 * g) * DH;
      q1 = *reinterpret_cast<const uint4*>(qr + d8);
      q2 = *reinterpret_cast<const uint4*>(qr + DH + d8);
    }
    *reinterpret_cast<uint4*>(sQ + r * DH + d8) = q1;
    *reinterpret_cast<uint4*>(sQ + S::q + r * DH + d8) = q2;
  }
  for (int i = threadIdx.x; i < 2 * S::o; i += nthreads) sO[i] = 0.0f;
  for (int i = threadIdx.x; i < 2 * BQ; i += nthreads) {
    sM[i] = -INFINITY;
    sL[i] = 0.0f;
  }

  for (int64_t k0 = key_lo; k0 <= pos_last; k0 += kBK) {
    __syncthreads();  // previous tile fully consumed
    for (int i = threadIdx.x; i < kBK * DH / 8; i += nthreads) {
      const int kr = i / (DH / 8), d8 = (i % (DH / 8)) * 8;
      const int64_t kpos = k0 + kr;
      uint4 k1 = make_uint4(0, 0, 0, 0), k2 = k1, v1 = k1, v2 = k1;
      if (kpos <= pos_last) {
        const bf16* krow = a.kv.pair(c, kpos, false, j);
        const bf16* vrow = a.kv.pair(c, kpos, true, j);
        k1 = *reinterpret_cast<const uint4*>(krow + d8);
        k2 = *reinterpret_cast<const uint4*>(krow + DH + d8);
        v1 = *reinterpret_cast<const uint4*>(vrow + d8);
        v2 = *reinterpret_cast<const uint4*>(vrow + DH + d8);
      }
      *reinterpret_cast<uint4*>(sK + kr * DH + d8) = k1;
      *reinterpret_cast<uint4*>(sK + S::k + kr * DH + d8) = k2;
      *reinterpret_cast<uint4*>(sV + kr * 2 * DH + d8) = v1;
      *reinterpret_cast<uint4*>(sV + kr * 2 * DH + DH + d8) = v2;
    }
    __syncthreads();

    const int r0 = warp * 16;  // this warp's query rows
    for (int map = 0; map < 2; ++map) {
      // S = Q_map K_mapᵀ for this warp's 16 rows.
      for (int n = 0; n < kBK / 16; ++n) {
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
        wmma::fill_fragment(acc, 0.0f);
        for (int kk = 0; kk < DH / 16; ++kk) {
          wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> qa;
          wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> kb;
          wmma::load_matrix_sync(qa, sQ + map * S::q + r0 * DH + kk * 16, DH);
          wmma::load_matrix_sync(kb, sK + map * S::k + n * 16 * DH + kk * 16, DH);
          wmma::mma_sync(acc, qa, kb, acc);
        }
        wmma::store_matrix_sync(sS + r0 * kBK + n * 16, acc, kBK, wmma::mem_row_major);
      }
      __syncwarp();
      // Online softmax over the tile, row by row; lanes hold two keys each.
      float* m = sM + map * BQ;
      float* l = sL + map * BQ;
      float* o = sO + map * S::o;
      for (int r = r0; r < r0 + 16; ++r) {
        const int64_t qpos = pos_first + r;
        const int64_t lo = a.window > 0 ? qpos - a.window + 1 : 0;
        float sv[2];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int col = lane + 32 * h;
          const int64_t kpos = k0 + col;
          const bool ok = r < rows && kpos <= qpos && kpos >= lo;
          sv[h] = ok ? sS[r * kBK + col] * a.scale : -INFINITY;
        }
        const float m_old = m[r];
        const float m_new = fmaxf(m_old, warp_max(fmaxf(sv[0], sv[1])));
        const bool any = m_new != -INFINITY;
        float psum = 0;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const float p = any ? __expf(sv[h] - m_new) : 0.0f;
          psum += p;
          sP[r * kBK + lane + 32 * h] = from_float<bf16>(p);
        }
        psum = warp_sum(psum);
        const float corr = any ? __expf(m_old - m_new) : 1.0f;
        for (int d = lane; d < 2 * DH; d += 32) o[r * 2 * DH + d] *= corr;
        if (lane == 0) {
          m[r] = m_new;
          l[r] = l[r] * corr + psum;
        }
      }
      __syncwarp();
      // O_map += P [v1 | v2] for this warp's rows.
      for (int n = 0; n < 2 * DH / 16; ++n) {
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
        wmma::load_matrix_sync(acc, o + r0 * 2 * DH + n * 16, 2 * DH, wmma::mem_row_major);
        for (int kk = 0; kk < kBK / 16; ++kk) {
          wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> pa;
          wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> vb;
          wmma::load_matrix_sync(pa, sP + r0 * kBK + kk * 16, kBK);
          wmma::load_matrix_sync(vb, sV + kk * 16 * 2 * DH + n * 16, 2 * DH);
          wmma::mma_sync(acc, pa, vb, acc);
        }
        wmma::store_matrix_sync(o + r0 * 2 * DH + n * 16, acc, 2 * DH, wmma::mem_row_major);
      }
      __syncwarp();
    }
  }
  __syncthreads();

  // out = RMSNorm(A1 - lambda A2) * subln * out_scale, one warp per row.
  for (int r = warp; r < rows; r += S::kWarps) {
    const float inv1 = 1.0f / sL[r], inv2 = 1.0f / sL[BQ + r];
    float ss = 0;
    for (int d = lane; d < 2 * DH; d += 32) {
      const float v = sO[r * 2 * DH + d] * inv1 - a.lambda * sO[S::o + r * 2 * DH + d] * inv2;
      ss += v * v;
    }
    const float rinv = rsqrtf(warp_sum(ss) / (2 * DH) + a.eps);
    bf16* orow = a.out + (c.row0 + tile.y + r) * a.out_stride + static_cast<int64_t>(g) * 2 * DH;
    for (int d = lane; d < 2 * DH; d += 32) {
      const float v = sO[r * 2 * DH + d] * inv1 - a.lambda * sO[S::o + r * 2 * DH + d] * inv2;
      orow[d] = from_float<bf16>(v * rinv * a.subln[d] * a.out_scale);
    }
  }
}

template <int DH, int BQ>
void launch(CudaOps& ops, const PrefillArgs& a, int num_tiles, int G) {
  const size_t smem = Smem<DH, BQ>::bytes;
  static bool configured = false;
  if (!configured) {
    SAMBAY_CUDA_CHECK(cudaFuncSetAttribute(diff_attn_prefill_kernel<DH, BQ>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
    configured = true;
  }
  diff_attn_prefill_kernel<DH, BQ><<<dim3(num_tiles, G), BQ * 2, smem, ops.stream()>>>(a);
  SAMBAY_CUDA_LAUNCHED();
}

}  // namespace

bool diff_attention_prefill(CudaOps& ops, const Tensor& out, const Tensor& q, const KvSource& kv,
                            std::span<const SeqChunk> chunks, const SeqChunk* d_chunks, const DiffAttnParams& p,
                            int window) {
  const int dh = static_cast<int>(p.head_dim);
  if (dh != 16 && dh != 32 && dh != 64 && dh != 128) return false;
  int max_len = 0;
  for (const SeqChunk& c : chunks) max_len = std::max(max_len, c.len);
  if (max_len < 64) return false;  // decode-like rows: the split-K kernel wastes no tile rows
  // 16-byte loads of q, k and v rows.
  auto aligned = [](const void* ptr, int64_t stride) {
    return reinterpret_cast<uintptr_t>(ptr) % 16 == 0 && stride % 8 == 0;
  };
  if (!aligned(q.data, q.stride) || kv.kv_row % 8 != 0) return false;
  if (!kv.paged && (!aligned(kv.k_cur, kv.k_cur_stride) || !aligned(kv.v_cur, kv.v_cur_stride))) return false;

  const bool mma = dh <= 64;  // register-resident mma.sync kernel; WMMA with shared-memory state for 128
  const int BQ = mma ? 64 : 32;
  std::vector<int2> tiles;
  for (size_t i = 0; i < chunks.size(); ++i)
    for (int t = 0; t < chunks[i].len; t += BQ) tiles.push_back(make_int2(static_cast<int>(i), t));
  OwnedTensor d_tiles = ops.empty(1, static_cast<int64_t>(tiles.size() * 2), DType::I32);
  SAMBAY_CUDA_CHECK(cudaMemcpyAsync(d_tiles->data, tiles.data(), tiles.size() * sizeof(int2), cudaMemcpyHostToDevice,
                                    ops.stream()));

  PrefillArgs a{};
  a.out = out.ptr<bf16>();
  a.out_stride = out.stride;
  a.q = q.ptr<const bf16>();
  a.q_stride = q.stride;
  a.kv = kv;
  a.chunks = d_chunks;
  a.tiles = static_cast<const int2*>(d_tiles->data);
  const int G = static_cast<int>(p.num_heads / 2);
  a.group = G / static_cast<int>(p.num_kv_heads / 2);
  a.window = window;
  a.scale = p.scale;
  a.lambda = p.lambda;
  a.out_scale = p.out_scale;
  a.eps = p.eps;
  a.subln = p.subln.ptr<const float>();
  const int n = static_cast<int>(tiles.size());
  if (mma) return launch_diff_attention_mma(ops.stream(), a, n, G, dh);
  launch<128, 32>(ops, a, n, G);
  return true;
}

}  // namespace sambay::cuda
