// The ops of a plain transformer (Phi-3 family) on the CPU: RMSNorm, rotary embedding with
// per-sequence factor sets, and causal grouped-query attention over paged K/V. float32 arithmetic,
// softmax sums in double.
#include <algorithm>
#include <cmath>
#include <vector>

#include "sambay/base/error.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "sambay/ops/cpu/cpu_util.h"

namespace sambay {

void CpuOps::rms_norm(const Tensor& out, const Tensor& in, const Tensor& w, float eps) {
  SAMBAY_CHECK(out.rows == in.rows && out.cols == in.cols && w.cols == in.cols && in.dtype == DType::F32 &&
                   out.dtype == DType::F32 && w.dtype == DType::F32,
               "cpu rms_norm: shape mismatch");
  const int64_t n = in.cols;
  const float* wp = w.ptr<const float>();
#pragma omp parallel for schedule(static) if (in.numel() > kParallelWork)
  for (int64_t r = 0; r < in.rows; ++r) {
    const float* x = in.row<const float>(r);
    float* y = out.row<float>(r);
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
    const float rinv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * rinv * wp[i];
  }
}

void CpuOps::rope(const Tensor& x, std::span<const SeqChunk> chunks, const RopeParams& p) {
  const int64_t half = p.rotary_dim / 2;
  SAMBAY_CHECK(x.dtype == DType::F32 && x.cols == p.num_heads * p.head_dim && p.rotary_dim % 2 == 0 &&
                   p.rotary_dim <= p.head_dim && p.inv_freq.rows == 2 && p.inv_freq.cols == half,
               "cpu rope: shape mismatch");
  std::vector<float> cs(static_cast<size_t>(2 * half));
  for (size_t ci = 0; ci < chunks.size(); ++ci) {
    const SeqChunk& c = chunks[ci];
    const float* inv = p.inv_freq.row<const float>(c.rope_set ? 1 : 0);
    for (int32_t t = 0; t < c.len; ++t) {
      // The angle is a float32 product, cos and sin are taken in float32 and scaled, as the
      // reference computes them.
      const float pos = static_cast<float>(c.pos0 + t);
      for (int64_t j = 0; j < half; ++j) {
        const float a = pos * inv[j];
        cs[2 * j] = std::cos(a) * p.magnitude;
        cs[2 * j + 1] = std::sin(a) * p.magnitude;
      }
      float* row = x.row<float>(c.row0 + t);
      for (int64_t h = 0; h < p.num_heads; ++h) {
        float* v = row + h * p.head_dim;
        for (int64_t j = 0; j < half; ++j) {
          const float a = v[j], b = v[j + half];
          v[j] = a * cs[2 * j] - b * cs[2 * j + 1];
          v[j + half] = b * cs[2 * j] + a * cs[2 * j + 1];
        }
      }
    }
  }
}

void CpuOps::attention(const Tensor& out, const Tensor& q, const KvPagesRef& pages, std::span<const SeqChunk> chunks,
                       const AttentionParams& p) {
  const int64_t H = p.num_heads, Hkv = p.num_kv_heads, dh = p.head_dim, row_elems = Hkv * dh;
  SAMBAY_CHECK(H > 0 && Hkv > 0 && H % Hkv == 0 && q.cols == H * dh && out.cols == H * dh && out.rows == q.rows &&
                   pages.k.cols == pages.page_size * row_elems,
               "cpu attention: shape mismatch");
  const int64_t group = H / Hkv;
  std::vector<int32_t> chunk_of, offset_in;  // query index -> chunk, index within the chunk
  int64_t work = 0;
  for (size_t c = 0; c < chunks.size(); ++c) {
    for (int32_t t = 0; t < chunks[c].len; ++t) {
      chunk_of.push_back(static_cast<int32_t>(c));
      offset_in.push_back(t);
    }
    work += chunks[c].len * (chunks[c].pos0 + chunks[c].len) * H * dh;
  }
  const int64_t tasks = static_cast<int64_t>(chunk_of.size()) * H;
#pragma omp parallel if (work > kParallelWork)
  {
    std::vector<float> s;
    std::vector<double> acc(dh);
#pragma omp for schedule(dynamic, 4)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t qi = task / H, h = task % H, kvh = h / group;
      const SeqChunk& c = chunks[chunk_of[qi]];
      const int64_t row = c.row0 + offset_in[qi], pos = c.pos0 + offset_in[qi], n = pos + 1;
      auto kv_row = [&](int64_t key, bool value) {
        const int32_t page = pages.page_table[c.slot * pages.table_stride + key / pages.page_size];
        return (value ? pages.v : pages.k).row<const float>(page) + (key % pages.page_size) * row_elems + kvh * dh;
      };
      const float* qh = q.row<const float>(row) + h * dh;
      s.resize(n);
      float m = -INFINITY;
      for (int64_t i = 0; i < n; ++i) {
        const float* k = kv_row(i, false);
        float d = 0;
        for (int64_t e = 0; e < dh; ++e) d += qh[e] * k[e];
        s[i] = d * p.scale;
        m = std::max(m, s[i]);
      }
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        s[i] = std::exp(s[i] - m);
        sum += s[i];
      }
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t i = 0; i < n; ++i) {
        const float* v = kv_row(i, true);
        for (int64_t e = 0; e < dh; ++e) acc[e] += static_cast<double>(s[i]) * v[e];
      }
      float* o = out.row<float>(row) + h * dh;
      for (int64_t e = 0; e < dh; ++e) o[e] = static_cast<float>(acc[e] / sum);
    }
  }
}

}  // namespace sambay
