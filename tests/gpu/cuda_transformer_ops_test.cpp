// The plain-transformer CUDA ops (RMSNorm, rotary embedding, grouped-query attention over pages)
// against the CPU reference on random inputs, outputs poisoned with NaN.
#include <gtest/gtest.h>

#include <numeric>
#include <string>

#include "gpu_test_util.h"

namespace sambay {
namespace {

using test::Pair;

constexpr double kBf16Out = 6e-3;   // ||err|| / ||ref|| for BF16 outputs of float32 math
constexpr double kAttention = 2e-2; // plus BF16 probabilities in the tensor-core kernels

class CudaTransformerOps : public test::GpuTest {};

TEST_F(CudaTransformerOps, RmsNorms) {
  for (int64_t cols : {64, 3072, 333, 5000}) {  // 5000: wider than the register-resident kernel
    Pair x = random(7, cols, 3, DType::F32), w = random(1, cols, 1, DType::F32), y = output(7, cols);
    cpu.rms_norm(*y.cpu, *x.cpu, *w.cpu, 1e-5f);
    gpu->rms_norm(*y.gpu, *x.gpu, *w.gpu, 1e-5f);
    EXPECT_LE(rel_error(y), kBf16Out) << "rms_norm " << cols;
    for (DType yt : {DType::BF16, DType::F32}) {
      Pair x2 = random(7, cols, 3, DType::F32), y2 = random(7, cols, 1, yt), u2 = output(7, cols);
      cpu.add_rms_norm(*x2.cpu, *y2.cpu, *u2.cpu, *w.cpu, 1e-5f);
      gpu->add_rms_norm(*x2.gpu, *y2.gpu, *u2.gpu, *w.gpu, 1e-5f);
      EXPECT_LE(rel_error(x2), 1e-6) << "add_rms_norm residual " << cols;
      EXPECT_LE(rel_error(u2), kBf16Out) << "add_rms_norm output " << cols;
    }
  }
}

// The residual update and the RMSNorm GEMV after it (linear_residual, then rms_linear or
// rms_linear_swiglu) against the CPU's composition (linear, add, rms_norm, linear): folded into the
// GEMVs for one row (from one warp per output row to eight, an F32 output for the LM head, row
// strides wider than the rows), composed for more.
TEST_F(CudaTransformerOps, RmsNormFoldedIntoLinears) {
  struct Shape {
    int64_t T, K, K_in, N;  // x [T, K], the residual projection [K, K_in], the next one [N, K]
  };
  // At least a few hundred outputs each: the bound is on a norm of the error, which a handful of
  // values near a SwiGLU's zero can exceed by chance.
  for (const Shape s : {Shape{1, 3072, 8192, 5120}, Shape{1, 3072, 3072, 200064 / 16}, Shape{1, 256, 96, 400},
                        Shape{1, 512, 64, 1000}, Shape{1, 1536, 64, 1500}, Shape{1, 64, 64, 256}, Shape{3, 256, 96, 400}, Shape{12, 256, 128, 300}}) {
    for (int64_t extra : {int64_t{0}, int64_t{8}}) {
      const std::string at = "T=" + std::to_string(s.T) + " K=" + std::to_string(s.K) + " N=" +
                             std::to_string(s.N) + " stride+" + std::to_string(extra);
      Pair norm_w = random(1, s.K, 2, DType::F32), w_res = random(s.K, s.K_in, 0.05f), in = random(s.T, s.K_in);
      Pair w = random(s.N, s.K, 0.05f), w_gu = random(2 * s.N, s.K, 0.05f);
      Pair x = random(s.T, s.K, 3, DType::F32, extra), normed = output(s.T, s.K);
      Pair out = output(s.T, s.N, DType::F32), gated = output(s.T, s.N);
      for (Ops* ops : {static_cast<Ops*>(&cpu), static_cast<Ops*>(gpu.get())}) {
        const bool on_gpu = ops != &cpu;
        auto pick = [&](Pair& p) -> const Tensor& { return on_gpu ? p.gpu.view : p.cpu.view; };
        ops->linear_residual(pick(x), pick(in), pick(w_res), pick(normed), pick(norm_w));
        ops->rms_linear(pick(out), pick(x), pick(normed), pick(norm_w), 1e-5f, pick(w));
        // A second update for the gated form, so that each consumer follows its own producer.
        ops->linear_residual(pick(x), pick(in), pick(w_res), pick(normed), pick(norm_w));
        ops->rms_linear_swiglu(pick(gated), pick(x), pick(normed), pick(norm_w), 1e-5f, pick(w_gu));
      }
      EXPECT_LE(rel_error(x), kBf16Out) << "residual, " << at;
      EXPECT_LE(rel_error(out), kBf16Out) << "rms_linear, " << at;
      EXPECT_LE(rel_error(gated), kBf16Out) << "rms_linear_swiglu, " << at;
    }
  }
}

// Partial rotary with both factor sets, on a column slice (the Q and K heads of a qkv row), at
// positions up to 131071 (angles where fast sine intrinsics would be wrong).
TEST_F(CudaTransformerOps, Rope) {
  struct Case {
    int64_t heads, dh, rot;
  };
  for (const Case cs : {Case{32, 128, 96}, Case{8, 24, 18}, Case{8, 16, 12}, Case{3, 64, 64}}) {
    const int64_t half = cs.rot / 2;
    std::vector<float> inv(static_cast<size_t>(2 * half));
    for (int64_t j = 0; j < half; ++j) {
      const float base = std::pow(10000.0f, static_cast<float>(2 * j) / static_cast<float>(cs.rot));
      inv[j] = 1.0f / base;
      inv[half + j] = 1.0f / (base * (1.0f + static_cast<float>(j)));
    }
    Pair freq = from_values(inv, 2, half, DType::F32);
    const RopeParams pc{cs.heads, cs.dh, cs.rot, *freq.cpu, 1.19f};
    RopeParams pg = pc;
    pg.inv_freq = *freq.gpu;
    const std::vector<SeqChunk> chunks = {{0, 5, 0, 0, 0}, {5, 1, 4095, 1, 0}, {6, 3, 131068, 2, 1}, {9, 2, 7, 3, 1}};
    Pair x = random(11, cs.heads * cs.dh, 2, DType::BF16, 40);
    cpu.rope(*x.cpu, chunks, pc);
    gpu->rope(*x.gpu, chunks, pg);
    EXPECT_LE(rel_error(x), kBf16Out) << "heads " << cs.heads << " dh " << cs.dh << " rot " << cs.rot;
  }
}

// Grouped-query attention over pages for two sequences: prompts (tensor-core tiles where the head
// dim allows, 64-row tiles and a short chunk), a mixed step (a chunk beside a decode row), then
// decode steps (split keys). Head dims 16, 32, 64, 128 take the tensor cores; 24 and 40 the
// CUDA-core kernel. Decode rows at head dim 128 with 1 to 4 query heads per kv head take the
// CUDA-core decode kernel (5: the tensor-core one).
TEST_F(CudaTransformerOps, Attention) {
  struct Case {
    int64_t H, Hkv, dh;
  };
  for (const Case cs : {Case{24, 8, 128}, Case{6, 2, 16}, Case{6, 2, 24}, Case{6, 2, 32}, Case{8, 8, 64},
                        Case{34, 1, 32}, Case{4, 2, 40}, Case{4, 4, 128}, Case{4, 2, 128}, Case{8, 2, 128},
                        Case{10, 2, 128}}) {
    const int64_t H = cs.H, Hkv = cs.Hkv, dh = cs.dh, kv_row = Hkv * dh;
    // Room for 3200 positions: the decode split count follows the cache's capacity (one split per
    // 32-key tile, up to the resident blocks), so the merge sees 49 to 100 splits.
    const int64_t page = 16, pages_per_seq = 200;
    const auto pages = paged_kv(kv_row, page, pages_per_seq, dh, 1);
    const KvPagesRef &pc = pages->cpu, &pg = pages->gpu;
    const AttentionParams p{H, Hkv, dh, 1.0f / std::sqrt(static_cast<float>(dh))};

    // (length of sequence 0's chunk, of sequence 1's) per step.
    const std::vector<std::pair<int32_t, int32_t>> steps = {{900, 5}, {40, 1}, {1, 1}, {1, 70}, {1, 1}};
    int64_t len[2] = {0, 0};
    for (size_t step = 0; step < steps.size(); ++step) {
      std::vector<SeqChunk> chunks;
      int32_t rows = 0;
      for (int s = 0; s < 2; ++s) {
        const int32_t n = s == 0 ? steps[step].first : steps[step].second;
        chunks.push_back({rows, n, len[s], 1 - s});
        rows += n;
        len[s] += n;
      }
      Pair qkv = random(rows, (H + 2 * Hkv) * dh, 2);
      const auto slice = [&](const OwnedTensor& t, int64_t c0, int64_t n) { return t->cols_slice(c0, n); };
      cpu.kv_pages_write(pc, slice(qkv.cpu, H * dh, kv_row), slice(qkv.cpu, (H + Hkv) * dh, kv_row), chunks);
      gpu->kv_pages_write(pg, slice(qkv.gpu, H * dh, kv_row), slice(qkv.gpu, (H + Hkv) * dh, kv_row), chunks);
      Pair out = output(rows, H * dh);
      cpu.attention(*out.cpu, slice(qkv.cpu, 0, H * dh), pc, chunks, p);
      gpu->attention(*out.gpu, slice(qkv.gpu, 0, H * dh), pg, chunks, p);
      EXPECT_LE(rel_error(out), kAttention) << "H=" << H << " Hkv=" << Hkv << " dh=" << dh << " step " << step;
    }
  }
}

// The fused rotation and K/V store against the CPU's rope + kv_pages_write: the rotated queries, and
// attention over what each side stored, for a prompt, a mixed step and decode steps; both factor
// sets; head dims on and off the tensor cores.
TEST_F(CudaTransformerOps, RopeKvWriteThenAttention) {
  struct Case {
    int64_t H, Hkv, dh, rot;
  };
  for (const Case cs : {Case{24, 8, 128, 96}, Case{6, 2, 24, 18}, Case{6, 2, 16, 12}}) {
    const int64_t H = cs.H, Hkv = cs.Hkv, dh = cs.dh, kv_row = Hkv * dh, half = cs.rot / 2;
    const int64_t page = 16, pages_per_seq = 80;
    const auto pages = paged_kv(kv_row, page, pages_per_seq, dh, 1);
    const KvPagesRef &pc = pages->cpu, &pg = pages->gpu;
    std::vector<float> inv(static_cast<size_t>(2 * half));
    for (int64_t j = 0; j < half; ++j) {
      inv[j] = 1.0f / std::pow(10000.0f, static_cast<float>(2 * j) / static_cast<float>(cs.rot));
      inv[half + j] = inv[j] / (1.0f + 0.5f * static_cast<float>(j));
    }
    Pair freq = from_values(inv, 2, half, DType::F32);
    RopeParams rc{H + Hkv, dh, cs.rot, *freq.cpu, 1.2f}, rg = rc;
    rg.inv_freq = *freq.gpu;
    const AttentionParams p{H, Hkv, dh, 1.0f / std::sqrt(static_cast<float>(dh))};

    const std::vector<std::pair<int32_t, int32_t>> steps = {{300, 5}, {40, 1}, {1, 1}, {1, 1}};
    int64_t len[2] = {0, 0};
    for (size_t step = 0; step < steps.size(); ++step) {
      std::vector<SeqChunk> chunks;
      int32_t rows = 0;
      for (int s = 0; s < 2; ++s) {
        const int32_t n = s == 0 ? steps[step].first : steps[step].second;
        chunks.push_back({rows, n, len[s], 1 - s, s});  // sequence 1 on the long factor set
        rows += n;
        len[s] += n;
      }
      Pair qkv = random(rows, (H + 2 * Hkv) * dh, 2);
      const auto slice = [&](const OwnedTensor& t, int64_t c0, int64_t n) { return t->cols_slice(c0, n); };
      cpu.rope_kv_write(slice(qkv.cpu, 0, (H + Hkv) * dh), slice(qkv.cpu, (H + Hkv) * dh, kv_row), pc, chunks, rc);
      gpu->rope_kv_write(slice(qkv.gpu, 0, (H + Hkv) * dh), slice(qkv.gpu, (H + Hkv) * dh, kv_row), pg, chunks, rg);
      EXPECT_LE(rel_error(qkv), kBf16Out) << "rotated q and k, dh=" << dh << " step " << step;
      Pair out = output(rows, H * dh);
      cpu.attention(*out.cpu, slice(qkv.cpu, 0, H * dh), pc, chunks, p);
      gpu->attention(*out.gpu, slice(qkv.gpu, 0, H * dh), pg, chunks, p);
      EXPECT_LE(rel_error(out), kAttention) << "attention, dh=" << dh << " step " << step;
    }
  }
}

}  // namespace
}  // namespace sambay
