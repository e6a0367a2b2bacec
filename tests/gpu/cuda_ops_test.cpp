// Every CUDA op against the CPU reference on fresh random inputs of several shapes, outputs
// poisoned with NaN. Inputs are BF16-representable on both sides, so differences come from BF16
// outputs (relative 2^-9), float32 summation order, and BF16 attention probabilities.
#include <gtest/gtest.h>

#include <numeric>

#include "gpu_test_util.h"

namespace sambay {
namespace {

using test::Pair;

constexpr double kBf16Out = 6e-3;   // ||err|| / ||ref|| for BF16 outputs of float32 math
constexpr double kAttention = 2e-2; // plus BF16 probabilities in the tensor-core prefill kernel

class CudaOps_ : public test::GpuTest {};

TEST_F(CudaOps_, Linear) {
  struct Shape {
    int64_t T, N, K;
  };
  for (const Shape s : {Shape{1, 2560, 2560}, Shape{1, 192, 5120}, Shape{2, 70, 36}, Shape{3, 300, 64},
                        Shape{5, 1000, 96}, Shape{8, 130, 6}, Shape{9, 257, 128}, Shape{33, 96, 40}, Shape{128, 512, 256},
                        // 9..16 rows: the tensor-core GEMV, with 1, 2, 4 and 8 warps per feature tile
                        Shape{16, 20480, 64}, Shape{12, 9000, 96}, Shape{16, 5000, 160}, Shape{11, 2560, 2560},
                        Shape{16, 192, 5120}, Shape{10, 100, 1024}, Shape{16, 70, 40}}) {
    for (DType out_type : {DType::BF16, DType::F32}) {
      for (bool bias : {false, true}) {
        for (int64_t extra : {int64_t{0}, int64_t{8}}) {
          Pair x = random(s.T, s.K, 1, DType::BF16, extra), w = random(s.N, s.K), b = random(1, s.N, 1, DType::F32);
          Pair y = output(s.T, s.N, out_type);
          cpu.linear(*y.cpu, *x.cpu, *w.cpu, bias ? &b.cpu.view : nullptr);
          gpu->linear(*y.gpu, *x.gpu, *w.gpu, bias ? &b.gpu.view : nullptr);
          EXPECT_LE(rel_error(y), out_type == DType::F32 ? 1e-5 : kBf16Out)
              << "T=" << s.T << " N=" << s.N << " K=" << s.K << " bias " << bias << " stride+" << extra;
        }
      }
    }
  }
}

// The SwiGLU form of the GEMV (fused on tensor cores from 9 to 16 rows, two ops below) against the
// CPU's linear + silu_mul, with 1, 2, 4 and 8 warps per feature tile.
TEST_F(CudaOps_, LinearSwiglu) {
  struct Shape {
    int64_t T, N, K;  // N: output features (w has 2N rows)
  };
  for (const Shape s : {Shape{16, 10240, 256}, Shape{16, 16400, 64}, Shape{12, 5000, 96}, Shape{9, 1000, 64}, Shape{16, 300, 2560},
                        Shape{11, 40, 32}, Shape{3, 500, 128}, Shape{1, 64, 64}}) {
    for (int64_t extra : {int64_t{0}, int64_t{8}}) {
      Pair x = random(s.T, s.K, 1, DType::BF16, extra), w = random(2 * s.N, s.K);
      Pair y = output(s.T, s.N, DType::BF16);
      cpu.linear_swiglu(*y.cpu, *x.cpu, *w.cpu);
      gpu->linear_swiglu(*y.gpu, *x.gpu, *w.gpu);
      EXPECT_LE(rel_error(y), kBf16Out) << "T=" << s.T << " N=" << s.N << " K=" << s.K << " stride+" << extra;
    }
  }
}

TEST_F(CudaOps_, NormsAndElementwise) {
  for (int64_t cols : {64, 2560, 333, 5000}) {
    Pair x = random(7, cols, 3, DType::F32), w = random(1, cols, 1, DType::F32), b = random(1, cols, 1, DType::F32);
    Pair y = output(7, cols);
    cpu.layer_norm(*y.cpu, *x.cpu, *w.cpu, *b.cpu, 1e-5f);
    gpu->layer_norm(*y.gpu, *x.gpu, *w.gpu, *b.gpu, 1e-5f);
    EXPECT_LE(rel_error(y), kBf16Out) << "layer_norm " << cols;

    for (DType yt : {DType::BF16, DType::F32}) {
      Pair x2 = random(7, cols, 3, DType::F32), y2 = random(7, cols, 1, yt), u2 = output(7, cols);
      cpu.add_layer_norm(*x2.cpu, *y2.cpu, *u2.cpu, *w.cpu, *b.cpu, 1e-5f);
      gpu->add_layer_norm(*x2.gpu, *y2.gpu, *u2.gpu, *w.gpu, *b.gpu, 1e-5f);
      EXPECT_LE(rel_error(x2), 1e-6) << "add_layer_norm residual " << cols;
      EXPECT_LE(rel_error(u2), kBf16Out) << "add_layer_norm output " << cols;
    }

    Pair g = random(7, cols, 4, DType::BF16, 3), v = random(7, cols), o = output(7, cols);
    cpu.silu_mul(*o.cpu, *g.cpu, *v.cpu);
    gpu->silu_mul(*o.gpu, *g.gpu, *v.gpu);
    EXPECT_LE(rel_error(o), kBf16Out) << "silu_mul";

    Pair acc = random(7, cols, 1, DType::F32), add = random(7, cols);
    cpu.add(*acc.cpu, *add.cpu);
    gpu->add(*acc.gpu, *add.gpu);
    EXPECT_LE(rel_error(acc), 1e-6) << "add";

    const std::vector<int32_t> rows = {6, 0, 3, 3};
    Pair gathered = output(4, cols, DType::F32);
    cpu.gather_rows(*gathered.cpu, *acc.cpu, rows);
    gpu->gather_rows(*gathered.gpu, *acc.gpu, rows);
    EXPECT_EQ(rel_error(gathered), 0.0);
  }
  Pair table = random(50, 96), emb = output(3, 96, DType::F32);
  const std::vector<int32_t> ids = {49, 0, 17};
  cpu.embedding(*emb.cpu, ids, *table.cpu);
  gpu->embedding(*emb.gpu, ids, *table.gpu);
  EXPECT_EQ(rel_error(emb), 0.0);

  Pair logits = random(5, 200064, 5, DType::F32);
  std::vector<int32_t> a(5), b(5);
  cpu.argmax_rows(*logits.cpu, a);
  gpu->argmax_rows(*logits.gpu, b);
  EXPECT_EQ(a, b);
}

// Conv and scan over several sequences, each in calls that carry the state: chunks long enough for
// the parallel-segment scan, then decode steps and short chunks (the step kernel, four lanes per
// channel; E = 99 leaves idle lanes in the last block).
TEST_F(CudaOps_, MambaConvAndScan) {
  for (const int64_t N : {int64_t{16}, int64_t{8}, int64_t{2}}) {
    const int64_t E = 99, Kc = 4, slots = 3;
    const std::vector<int64_t> first = {700, 1, 5}, second = {1, 37, 600}, third = {1, 1, 1}, fourth = {3, 16, 1};
    const std::vector<int> slot_of = {2, 0, 1};
    Pair conv_state = random(slots, E * (Kc - 1), 1, DType::F32), ssm = random(slots, E * N, 0.5f, DType::F32);
    Pair w = random(E, Kc, 0.5f, DType::F32), bias = random(1, E, 0.5f, DType::F32);
    Pair A = random(E, N, 1, DType::F32), D = random(1, E, 1, DType::F32), dt_bias = random(1, E, 1, DType::F32);
    {  // A < 0, as -exp(A_log)
      auto v = values(*A.cpu);
      for (auto& x : v) x = -std::abs(x) - 0.05f;
      A = from_values(v, E, N, DType::F32);
    }
    for (const auto* lens : {&first, &second, &third, &fourth, &third}) {
      std::vector<SeqChunk> chunks;
      int32_t rows = 0;
      for (size_t i = 0; i < lens->size(); ++i) {
        chunks.push_back({rows, static_cast<int32_t>((*lens)[i]), 0, slot_of[i]});
        rows += static_cast<int32_t>((*lens)[i]);
      }
      const MambaStateRef cs{*conv_state.cpu, *ssm.cpu, Kc, N}, gs{*conv_state.gpu, *ssm.gpu, Kc, N};
      Pair xs = random(rows, E, 2, DType::BF16, 8), c = output(rows, E);
      cpu.mamba_conv(*c.cpu, *xs.cpu, *w.cpu, *bias.cpu, cs, chunks);
      gpu->mamba_conv(*c.gpu, *xs.gpu, *w.gpu, *bias.gpu, gs, chunks);
      EXPECT_LE(rel_error(c), kBf16Out) << "conv";
      EXPECT_LE(rel_error(conv_state), 1e-6) << "conv state";

      Pair x = random(rows, E), dt = random(rows, E), bc = random(rows, 2 * N), z = random(rows, E, 2);
      const Tensor Bc = bc.cpu->cols_slice(0, N), Cc = bc.cpu->cols_slice(N, N);
      const Tensor Bg = bc.gpu->cols_slice(0, N), Cg = bc.gpu->cols_slice(N, N);
      Pair y = output(rows, E);
      cpu.mamba_scan(*y.cpu, *x.cpu, *dt.cpu, *A.cpu, Bc, Cc, *D.cpu, *dt_bias.cpu, &z.cpu.view, cs, chunks);
      gpu->mamba_scan(*y.gpu, *x.gpu, *dt.gpu, *A.gpu, Bg, Cg, *D.gpu, *dt_bias.gpu, &z.gpu.view, gs, chunks);
      EXPECT_LE(rel_error(y), kBf16Out) << "scan N=" << N;
      EXPECT_LE(rel_error(ssm), 1e-4) << "ssm state N=" << N;
    }
  }
}

// Differential attention through rings and pages: prompts (tensor-core kernel where the head dim
// allows), then decode steps over long contexts (split keys).
TEST_F(CudaOps_, DiffAttention) {
  struct Case {
    int64_t H, Hkv, dh, window;
  };
  for (const Case cs : {Case{40, 20, 64, 512}, Case{40, 20, 64, 0}, Case{4, 2, 16, 8}, Case{4, 2, 24, 12},
                        Case{4, 2, 32, 0}, Case{8, 2, 16, 0}, Case{12, 4, 128, 0}}) {
    const int64_t H = cs.H, Hkv = cs.Hkv, dh = cs.dh, kv_row = Hkv * dh;
    const std::vector<int64_t> prompt = {900, 70};
    // Room for 3200 positions: without a window the decode split count follows the cache's capacity
    // (one split per 64 keys, up to 64), so the merge sees up to 50 splits.
    const int64_t page = 16, pages_per_seq = 200, W = cs.window > 0 ? cs.window : 1;
    const auto pages = paged_kv(kv_row, page, pages_per_seq, dh, 2);
    const KvPagesRef &pc = pages->cpu, &pg = pages->gpu;
    Pair rk = random(2, W * kv_row), rv = random(2, W * kv_row);
    const KvRingRef rc{*rk.cpu, *rv.cpu, W}, rg{*rk.gpu, *rv.gpu, W};
    Pair subln = random(1, 2 * dh, 1, DType::F32);
    DiffAttnParams p{H, Hkv, dh, 1.0f / std::sqrt(static_cast<float>(dh)), 0.31f, 0.79f, Tensor(), 1e-5f};

    for (int step = 0; step < 3; ++step) {  // step 0: prompts; 1, 2: one token each
      std::vector<SeqChunk> chunks;
      int32_t rows = 0;
      for (int s = 0; s < 2; ++s) {
        const int32_t len = step == 0 ? static_cast<int32_t>(prompt[s]) : 1;
        chunks.push_back({rows, len, step == 0 ? 0 : prompt[s] + step - 1, 1 - s});
        rows += len;
      }
      Pair qkv = random(rows, (H + 2 * Hkv) * dh, 2);
      const auto slice = [&](const OwnedTensor& t, int64_t c0, int64_t n) { return t->cols_slice(c0, n); };
      Pair out = output(rows, H * dh);
      const std::vector<bool> modes = cs.window > 0 ? std::vector<bool>{true, false} : std::vector<bool>{false};
      for (bool ring : modes) {
        DiffAttnKv kc, kg;
        kc.window = kg.window = ring ? cs.window : 0;
        p.subln = *subln.cpu;
        if (ring) {
          kc.ring = &rc;
          kg.ring = &rg;
          kc.k_cur = slice(qkv.cpu, H * dh, kv_row);
          kc.v_cur = slice(qkv.cpu, (H + Hkv) * dh, kv_row);
          kg.k_cur = slice(qkv.gpu, H * dh, kv_row);
          kg.v_cur = slice(qkv.gpu, (H + Hkv) * dh, kv_row);
          cpu.diff_attention(*out.cpu, slice(qkv.cpu, 0, H * dh), kc, chunks, p);
          p.subln = *subln.gpu;
          gpu->diff_attention(*out.gpu, slice(qkv.gpu, 0, H * dh), kg, chunks, p);
          cpu.kv_ring_write(rc, kc.k_cur, kc.v_cur, chunks);
          gpu->kv_ring_write(rg, kg.k_cur, kg.v_cur, chunks);
          EXPECT_EQ(rel_error(rk), 0.0) << "ring keys";
        } else {
          cpu.kv_pages_write(pc, slice(qkv.cpu, H * dh, kv_row), slice(qkv.cpu, (H + Hkv) * dh, kv_row), chunks);
          gpu->kv_pages_write(pg, slice(qkv.gpu, H * dh, kv_row), slice(qkv.gpu, (H + Hkv) * dh, kv_row), chunks);
          kc.pages = &pc;
          kg.pages = &pg;
          cpu.diff_attention(*out.cpu, slice(qkv.cpu, 0, H * dh), kc, chunks, p);
          p.subln = *subln.gpu;
          gpu->diff_attention(*out.gpu, slice(qkv.gpu, 0, H * dh), kg, chunks, p);
        }
        EXPECT_LE(rel_error(out), kAttention) << (ring ? "ring" : "pages") << " H=" << H << " Hkv=" << Hkv
                                              << " dh=" << dh << " window=" << cs.window << " step " << step;
      }
    }
  }
}

}  // namespace
}  // namespace sambay
