// Each CPU kernel against a float64 loop written from the op's definition (ops.h), on fresh random
// inputs of several shapes, with every output buffer poisoned (NaN) before the call.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "sambay/base/half.h"
#include "sambay/ops/cpu/cpu_ops.h"

namespace sambay {
namespace {

class CpuOpsTest : public ::testing::Test {
 protected:
  CpuOps ops{CpuOpsOptions{.poison_allocations = true}};
  std::mt19937_64 rng{std::random_device{}()};

  float uniform(float lo = -1, float hi = 1) { return std::uniform_real_distribution<float>(lo, hi)(rng); }

  // A random F32 matrix; with extra > 0 it is a column slice of a wider one (row stride > cols).
  OwnedTensor random(int64_t rows, int64_t cols, int64_t extra = 0, float scale = 1) {
    OwnedTensor t = ops.empty(rows, cols + extra, DType::F32);
    for (int64_t i = 0; i < t->numel(); ++i) t->ptr<float>()[i] = uniform() * scale;
    t.view.cols = cols;
    return t;
  }
  // The rows of the chunks packed one after another: chunk i's rows are positions pos0 ... of the
  // whole-sequence tensor src[seq_of[i]] (seq_of empty: chunk i is sequence i).
  OwnedTensor pack(const std::vector<SeqChunk>& chunks, const std::vector<size_t>& seq_of,
                   const std::vector<OwnedTensor>& src, int64_t cols) {
    int64_t rows = 0;
    for (const SeqChunk& c : chunks) rows += c.len;
    OwnedTensor t = ops.empty(rows, cols, DType::F32);
    for (size_t i = 0; i < chunks.size(); ++i)
      for (int32_t r = 0; r < chunks[i].len; ++r)
        for (int64_t c = 0; c < cols; ++c)
          t->row<float>(chunks[i].row0 + r)[c] = src[seq_of.empty() ? i : seq_of[i]]->row<float>(chunks[i].pos0 + r)[c];
    return t;
  }
  static double at(const Tensor& t, int64_t r, int64_t c) {
    switch (t.dtype) {
      case DType::F32: return t.row<const float>(r)[c];
      case DType::BF16: return bf16_to_f32(t.row<const uint16_t>(r)[c]);
      case DType::F16: return f16_to_f32(t.row<const uint16_t>(r)[c]);
      default: return NAN;
    }
  }
};

double silu64(double x) { return x / (1 + std::exp(-x)); }
double softplus64(double x) { return x > 20 ? x : std::log1p(std::exp(x)); }

TEST_F(CpuOpsTest, LinearAgainstFloat64) {
  struct Shape {
    int64_t T, N, K;
  };
  for (const Shape s : {Shape{1, 37, 70}, Shape{3, 64, 128}, Shape{4, 5, 4}, Shape{16, 33, 257}, Shape{17, 100, 96},
                        Shape{40, 130, 33}, Shape{2, 1, 1000}}) {
    for (DType wt : {DType::BF16, DType::F16, DType::F32}) {
      for (bool with_bias : {false, true}) {
        OwnedTensor x = random(s.T, s.K, 3);
        OwnedTensor w = ops.empty(s.N, s.K, wt);
        for (int64_t i = 0; i < s.N * s.K; ++i) {
          const float v = uniform();
          if (wt == DType::F32) w->ptr<float>()[i] = v;
          if (wt == DType::BF16) w->ptr<uint16_t>()[i] = f32_to_bf16(v);
          if (wt == DType::F16) w->ptr<uint16_t>()[i] = f32_to_f16(v);
        }
        OwnedTensor bias = random(1, s.N);
        OwnedTensor y = ops.empty(s.T, s.N, DType::F32);
        ops.linear(*y, *x, *w, with_bias ? &bias.view : nullptr);
        for (int64_t t = 0; t < s.T; ++t)
          for (int64_t n = 0; n < s.N; ++n) {
            double ref = with_bias ? at(*bias, 0, n) : 0, mag = 0;
            for (int64_t k = 0; k < s.K; ++k) {
              ref += at(*x, t, k) * at(*w, n, k);
              mag += std::abs(at(*x, t, k) * at(*w, n, k));
            }
            ASSERT_NEAR(at(*y, t, n), ref, 1e-6 * (mag + 1))
                << "T=" << s.T << " N=" << s.N << " K=" << s.K << " " << dtype_name(wt) << " at " << t << "," << n;
          }
      }
    }
  }
}

TEST_F(CpuOpsTest, LayerNormAddSiluMulGather) {
  const int64_t T = 7, H = 300;
  OwnedTensor x = random(T, H, 5, 3), w = random(1, H), b = random(1, H), y = ops.empty(T, H, DType::F32);
  ops.layer_norm(*y, *x, *w, *b, 1e-5f);
  for (int64_t t = 0; t < T; ++t) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < H; ++i) mean += at(*x, t, i) / H;
    for (int64_t i = 0; i < H; ++i) var += (at(*x, t, i) - mean) * (at(*x, t, i) - mean) / H;
    for (int64_t i = 0; i < H; ++i)
      ASSERT_NEAR(at(*y, t, i), (at(*x, t, i) - mean) / std::sqrt(var + 1e-5) * at(*w, 0, i) + at(*b, 0, i), 1e-5);
  }
  OwnedTensor g = random(T, H, 2, 4), v = random(T, H), o = ops.empty(T, H, DType::F32);
  ops.silu_mul(*o, *g, *v);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < H; ++i) ASSERT_NEAR(at(*o, t, i), silu64(at(*g, t, i)) * at(*v, t, i), 1e-6);
  OwnedTensor before = ops.empty(T, H, DType::F32);
  ops.to_host(*o, before->data);
  ops.add(*o, *v);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < H; ++i) ASSERT_FLOAT_EQ(at(*o, t, i), at(*before, t, i) + at(*v, t, i));
  const std::vector<int32_t> rows = {6, 0, 3};
  OwnedTensor picked = ops.empty(3, H, DType::F32);
  ops.gather_rows(*picked, *x, rows);
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t i = 0; i < H; ++i) ASSERT_EQ(at(*picked, r, i), at(*x, rows[r], i));
}

TEST_F(CpuOpsTest, EmbeddingWidensRows) {
  OwnedTensor table = ops.empty(10, 33, DType::BF16);
  for (int64_t i = 0; i < table->numel(); ++i) table->ptr<uint16_t>()[i] = f32_to_bf16(uniform());
  const std::vector<int32_t> ids = {3, 9, 0, 3};
  OwnedTensor out = ops.empty(4, 33, DType::F32);
  ops.embedding(*out, ids, *table);
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t i = 0; i < 33; ++i) ASSERT_EQ(at(*out, r, i), at(*table, ids[r], i));
}

// Mamba conv + scan over two sequences, each fed in two chunks (state carried between calls),
// against float64 loops over the whole sequences from a zero state.
TEST_F(CpuOpsTest, MambaConvAndScanContinueFromState) {
  for (const int64_t Kc : {int64_t{4}, int64_t{2}, int64_t{1}}) {
    const int64_t E = 37, N = 5, slots = 3;
    const std::vector<int64_t> lens = {11, 6};  // sequence lengths
    const std::vector<int> slot_of = {2, 0};
    const std::vector<int64_t> split = {4, 1};   // first chunk sizes
    OwnedTensor conv_state = ops.empty(slots, E * (Kc - 1), DType::F32), ssm = ops.empty(slots, E * N, DType::F32);
    ops.zero(*conv_state);
    ops.zero(*ssm);
    const MambaStateRef state{*conv_state, *ssm, Kc, N};
    OwnedTensor w = random(E, Kc), b = random(1, E), A = random(E, N), D = random(1, E), dt_bias = random(1, E);
    for (int64_t i = 0; i < E * N; ++i) A->ptr<float>()[i] = -std::abs(A->ptr<float>()[i]) - 0.1f;
    std::vector<OwnedTensor> xs, dts, Bs, Cs, zs;
    for (int64_t L : lens) {
      xs.push_back(random(L, E, 0, 2));
      dts.push_back(random(L, E));
      Bs.push_back(random(L, N));
      Cs.push_back(random(L, N));
      zs.push_back(random(L, E));
    }
    // Engine: two calls, each with one chunk of each sequence packed together.
    std::vector<std::vector<double>> got_c(2), got_y(2);
    for (int call = 0; call < 2; ++call) {
      std::vector<SeqChunk> chunks;
      int32_t rows = 0;
      for (size_t s = 0; s < lens.size(); ++s) {
        const int32_t n = static_cast<int32_t>(call == 0 ? split[s] : lens[s] - split[s]);
        chunks.push_back({rows, n, call == 0 ? 0 : split[s], slot_of[s]});
        rows += n;
      }
      OwnedTensor x = pack(chunks, {}, xs, E), dt = pack(chunks, {}, dts, E), B = pack(chunks, {}, Bs, N),
                  C = pack(chunks, {}, Cs, N), z = pack(chunks, {}, zs, E);
      OwnedTensor c = ops.empty(rows, E, DType::F32), y = ops.empty(rows, E, DType::F32);
      ops.mamba_conv(*c, *x, *w, *b, state, chunks);
      ops.mamba_scan(*y, *c, *dt, *A, *B, *C, *D, *dt_bias, &z.view, state, chunks);
      for (size_t s = 0; s < lens.size(); ++s)
        for (int32_t r = 0; r < chunks[s].len; ++r)
          for (int64_t e = 0; e < E; ++e) {
            got_c[s].push_back(at(*c, chunks[s].row0 + r, e));
            got_y[s].push_back(at(*y, chunks[s].row0 + r, e));
          }
    }
    // Reference over whole sequences; the engine's conv output feeds the scan reference so that the
    // two checks are independent.
    for (size_t s = 0; s < lens.size(); ++s) {
      std::vector<double> h(E * N, 0.0);
      for (int64_t t = 0; t < lens[s]; ++t)
        for (int64_t e = 0; e < E; ++e) {
          double acc = at(*b, 0, e);
          for (int64_t k = 0; k < Kc; ++k) {
            const int64_t src = t - (Kc - 1) + k;
            if (src >= 0) acc += at(*w, e, k) * at(*xs[s], src, e);
          }
          ASSERT_NEAR(got_c[s][t * E + e], silu64(acc), 1e-5) << "conv Kc=" << Kc << " seq " << s << " t " << t;
          const double u = got_c[s][t * E + e];
          const double delta = softplus64(at(*dts[s], t, e) + at(*dt_bias, 0, e));
          double y = at(*D, 0, e) * u;
          for (int64_t n = 0; n < N; ++n) {
            h[e * N + n] = std::exp(delta * at(*A, e, n)) * h[e * N + n] + delta * u * at(*Bs[s], t, n);
            y += h[e * N + n] * at(*Cs[s], t, n);
          }
          y *= silu64(at(*zs[s], t, e));
          ASSERT_NEAR(got_y[s][t * E + e], y, 1e-5 * (1 + std::abs(y))) << "scan seq " << s << " t " << t;
        }
      // The state left behind is the last d_conv - 1 inputs and the final SSM state.
      for (int64_t e = 0; e < E; ++e) {
        for (int64_t j = 0; j < Kc - 1; ++j) {
          const int64_t src = lens[s] - (Kc - 1) + j;
          ASSERT_EQ(conv_state->row<float>(slot_of[s])[e * (Kc - 1) + j], src >= 0 ? at(*xs[s], src, e) : 0.0);
        }
        for (int64_t n = 0; n < N; ++n)
          ASSERT_NEAR(ssm->row<float>(slot_of[s])[e * N + n], h[e * N + n], 1e-5 * (1 + std::abs(h[e * N + n])));
      }
    }
  }
}

// Differential attention through a sliding-window ring and through pages, against float64 loops
// over the full K/V history. Sequences arrive in two chunks, so keys come from the cache and from
// the current chunk.
TEST_F(CpuOpsTest, DiffAttentionRingAndPages) {
  struct Case {
    int64_t H, Hkv, dh, window;
  };
  for (const Case cs : {Case{4, 2, 16, 5}, Case{8, 2, 8, 0}, Case{6, 6, 4, 3}, Case{12, 4, 24, 0}, Case{4, 2, 16, 64}}) {
    const int64_t H = cs.H, Hkv = cs.Hkv, dh = cs.dh, G = H / 2, group = G / (Hkv / 2), kv_row = Hkv * dh;
    const std::vector<int64_t> lens = {13, 4};
    const std::vector<int64_t> split = {6, 4};
    const std::vector<int> slot_of = {1, 0};
    const int64_t page = 4, pages_per_seq = 4, W = cs.window > 0 ? cs.window : 1;
    OwnedTensor pk = ops.empty(8, page * kv_row, DType::F32), pv = ops.empty(8, page * kv_row, DType::F32);
    std::vector<int32_t> table = {7, 6, 5, 4, 0, 1, 2, 3};  // slot 0: pages 7..4, slot 1: pages 0..3
    const KvPagesRef pages{*pk, *pv, page, table.data(), Tensor(table.data(), DType::I32, 2, pages_per_seq),
                           pages_per_seq, dh};
    OwnedTensor rk = ops.empty(2, W * kv_row, DType::F32), rv = ops.empty(2, W * kv_row, DType::F32);
    const KvRingRef ring{*rk, *rv, W};
    OwnedTensor subln = random(1, 2 * dh);
    DiffAttnParams p{H, Hkv, dh, 1.0f / std::sqrt(static_cast<float>(dh)), 0.37f, 0.8f, *subln, 1e-5f};

    std::vector<OwnedTensor> q, k, v;
    for (int64_t L : lens) {
      q.push_back(random(L, H * dh, 0, 2));
      k.push_back(random(L, kv_row, 0, 2));
      v.push_back(random(L, kv_row));
    }
    for (bool use_ring : {true, false}) {
      if (use_ring && cs.window == 0) continue;
      for (int call = 0; call < 2; ++call) {
        std::vector<SeqChunk> chunks;
        int32_t rows = 0;
        for (size_t s = 0; s < lens.size(); ++s) {
          const int32_t n = static_cast<int32_t>(call == 0 ? split[s] : lens[s] - split[s]);
          if (n == 0) continue;
          chunks.push_back({rows, n, call == 0 ? 0 : split[s], slot_of[s]});
          rows += n;
        }
        std::vector<size_t> seq_of;
        for (size_t s = 0; s < lens.size(); ++s)
          if ((call == 0 ? split[s] : lens[s] - split[s]) > 0) seq_of.push_back(s);
        OwnedTensor qc = pack(chunks, seq_of, q, H * dh), kc = pack(chunks, seq_of, k, kv_row), vc = pack(chunks, seq_of, v, kv_row);
        OwnedTensor out = ops.empty(rows, H * dh, DType::F32);
        DiffAttnKv kv;
        kv.window = cs.window;
        if (use_ring) {
          kv.ring = &ring;
          kv.k_cur = *kc;
          kv.v_cur = *vc;
          ops.diff_attention(*out, *qc, kv, chunks, p);
          ops.kv_ring_write(ring, *kc, *vc, chunks);
        } else {
          ops.kv_pages_write(pages, *kc, *vc, chunks);
          kv.pages = &pages;
          ops.diff_attention(*out, *qc, kv, chunks, p);
        }
        for (size_t i = 0; i < chunks.size(); ++i) {
          const size_t s = seq_of[i];
          for (int32_t r = 0; r < chunks[i].len; ++r) {
            const int64_t pos = chunks[i].pos0 + r;
            const int64_t lo = cs.window > 0 ? std::max<int64_t>(0, pos - cs.window + 1) : 0;
            for (int64_t g = 0; g < G; ++g) {
              const int64_t j = g / group;
              std::vector<double> a[2];
              for (int m = 0; m < 2; ++m) {  // map m: query head 2g + m against key head 2j + m
                std::vector<double> sc;
                for (int64_t key = lo; key <= pos; ++key) {
                  double d = 0;
                  for (int64_t e = 0; e < dh; ++e) d += at(*q[s], pos, (2 * g + m) * dh + e) * at(*k[s], key, (2 * j + m) * dh + e);
                  sc.push_back(d * p.scale);
                }
                const double mx = *std::max_element(sc.begin(), sc.end());
                double sum = 0;
                for (double& x : sc) sum += (x = std::exp(x - mx));
                a[m].assign(2 * dh, 0.0);
                for (int64_t key = lo; key <= pos; ++key)
                  for (int64_t e = 0; e < 2 * dh; ++e) a[m][e] += sc[key - lo] / sum * at(*v[s], key, 2 * j * dh + e);
              }
              double ss = 0;
              std::vector<double> d(2 * dh);
              for (int64_t e = 0; e < 2 * dh; ++e) ss += (d[e] = a[0][e] - p.lambda * a[1][e]) * d[e];
              const double rinv = 1 / std::sqrt(ss / (2 * dh) + p.eps);
              for (int64_t e = 0; e < 2 * dh; ++e)
                ASSERT_NEAR(at(*out, chunks[i].row0 + r, g * 2 * dh + e), d[e] * rinv * at(*subln, 0, e) * p.out_scale, 1e-4)
                    << (use_ring ? "ring" : "pages") << " H=" << H << " Hkv=" << Hkv << " dh=" << dh
                    << " window=" << cs.window << " seq " << s << " pos " << pos << " pair " << g;
            }
          }
        }
      }
    }
  }
}

TEST_F(CpuOpsTest, RmsNormAgainstFloat64) {
  for (int64_t cols : {1, 7, 96, 3072}) {
    OwnedTensor x = random(5, cols, 2, 3), w = random(1, cols), y = ops.empty(5, cols, DType::F32);
    ops.rms_norm(*y, *x, *w, 1e-5f);
    for (int64_t r = 0; r < 5; ++r) {
      double ss = 0;
      for (int64_t c = 0; c < cols; ++c) ss += at(*x, r, c) * at(*x, r, c);
      const double rinv = 1 / std::sqrt(ss / cols + 1e-5);
      for (int64_t c = 0; c < cols; ++c) ASSERT_NEAR(at(*y, r, c), at(*x, r, c) * rinv * at(*w, 0, c), 2e-5) << cols;
    }
  }
}

// Rotary embedding: dims j and j + rotary_dim / 2 of every head turn by position * inv_freq[j] of
// the chunk's factor set, scaled by the magnitude; the dims past rotary_dim stay as they were.
TEST_F(CpuOpsTest, RopeRotatesPairsPerChunkFactorSet) {
  const int64_t heads = 3, dh = 16, rot = 12, half = rot / 2;
  OwnedTensor inv = random(2, half, 0, 0.5f);
  for (int64_t i = 0; i < inv->numel(); ++i) inv->ptr<float>()[i] = std::abs(inv->ptr<float>()[i]) + 1e-3f;
  const RopeParams p{heads, dh, rot, *inv, 1.3f};
  const std::vector<SeqChunk> chunks = {{0, 3, 5, 0, 0}, {3, 1, 4000, 1, 1}, {4, 2, 0, 2, 1}};
  OwnedTensor x = random(6, heads * dh, 4), before = ops.empty(6, heads * dh, DType::F32);
  ops.copy(*before, *x);
  ops.rope(*x, chunks, p);
  for (size_t ci = 0; ci < chunks.size(); ++ci)
    for (int32_t t = 0; t < chunks[ci].len; ++t) {
      const int64_t r = chunks[ci].row0 + t;
      const double pos = static_cast<double>(chunks[ci].pos0 + t);
      for (int64_t h = 0; h < heads; ++h) {
        for (int64_t j = 0; j < half; ++j) {
          const double a = pos * at(*inv, chunks[ci].rope_set, j), c = std::cos(a) * 1.3, sn = std::sin(a) * 1.3;
          const double x0 = at(*before, r, h * dh + j), x1 = at(*before, r, h * dh + j + half);
          // Angles up to ~2000 rad: float32 angle rounding (~1e-4 rad) bounds the agreement.
          ASSERT_NEAR(at(*x, r, h * dh + j), x0 * c - x1 * sn, 2e-3) << "row " << r << " head " << h << " pair " << j;
          ASSERT_NEAR(at(*x, r, h * dh + j + half), x1 * c + x0 * sn, 2e-3);
        }
        for (int64_t d = rot; d < dh; ++d) ASSERT_EQ(at(*x, r, h * dh + d), at(*before, r, h * dh + d));
      }
    }
}

// Causal grouped-query attention over pages, each sequence in two calls (the second sees the keys
// the first wrote), against a float64 loop over the whole sequence.
TEST_F(CpuOpsTest, AttentionOverPagesAgainstFloat64) {
  struct Case {
    int64_t H, Hkv, dh;
  };
  for (const Case cs : {Case{6, 2, 16}, Case{4, 4, 8}, Case{8, 1, 4}}) {
    const int64_t H = cs.H, Hkv = cs.Hkv, dh = cs.dh, kv_row = Hkv * dh, group = H / Hkv;
    const std::vector<int64_t> lens = {13, 4}, split = {6, 3};
    const std::vector<int> slot_of = {1, 0};
    const int64_t page = 4, pages_per_seq = 4;
    OwnedTensor pk = ops.empty(8, page * kv_row, DType::F32), pv = ops.empty(8, page * kv_row, DType::F32);
    std::vector<int32_t> table = {7, 6, 5, 4, 0, 1, 2, 3};
    const KvPagesRef pages{*pk, *pv, page, table.data(), Tensor(table.data(), DType::I32, 2, pages_per_seq),
                           pages_per_seq, dh};
    const AttentionParams p{H, Hkv, dh, 1.0f / std::sqrt(static_cast<float>(dh))};
    std::vector<OwnedTensor> q, k, v;
    for (int64_t L : lens) {
      q.push_back(random(L, H * dh, 0, 2));
      k.push_back(random(L, kv_row, 0, 2));
      v.push_back(random(L, kv_row));
    }
    for (int call = 0; call < 2; ++call) {
      std::vector<SeqChunk> chunks;
      std::vector<size_t> seq_of;
      int32_t rows = 0;
      for (size_t s = 0; s < lens.size(); ++s) {
        const int32_t n = static_cast<int32_t>(call == 0 ? split[s] : lens[s] - split[s]);
        chunks.push_back({rows, n, call == 0 ? 0 : split[s], slot_of[s]});
        seq_of.push_back(s);
        rows += n;
      }
      OwnedTensor qc = pack(chunks, seq_of, q, H * dh), kc = pack(chunks, seq_of, k, kv_row), vc = pack(chunks, seq_of, v, kv_row);
      OwnedTensor out = ops.empty(rows, H * dh, DType::F32);
      ops.kv_pages_write(pages, *kc, *vc, chunks);
      ops.attention(*out, *qc, pages, chunks, p);
      for (size_t i = 0; i < chunks.size(); ++i) {
        const size_t s = seq_of[i];
        for (int32_t r = 0; r < chunks[i].len; ++r) {
          const int64_t pos = chunks[i].pos0 + r;
          for (int64_t h = 0; h < H; ++h) {
            const int64_t g = h / group;
            std::vector<double> sc;
            for (int64_t key = 0; key <= pos; ++key) {
              double d = 0;
              for (int64_t e = 0; e < dh; ++e) d += at(*q[s], pos, h * dh + e) * at(*k[s], key, g * dh + e);
              sc.push_back(d * p.scale);
            }
            const double mx = *std::max_element(sc.begin(), sc.end());
            double sum = 0;
            for (double& x : sc) sum += (x = std::exp(x - mx));
            for (int64_t e = 0; e < dh; ++e) {
              double o = 0;
              for (int64_t key = 0; key <= pos; ++key) o += sc[key] / sum * at(*v[s], key, g * dh + e);
              ASSERT_NEAR(at(*out, chunks[i].row0 + r, h * dh + e), o, 1e-5)
                  << "H=" << H << " Hkv=" << Hkv << " seq " << s << " pos " << pos << " head " << h;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sambay
