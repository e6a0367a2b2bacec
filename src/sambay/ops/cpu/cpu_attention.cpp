// Differential attention on the CPU. For each query and differential head pair, both attention maps
// (q1 against the pair's first key head, q2 against its second) are computed in one pass over the
// visible keys; each visible value pair [v1 | v2] is read once and feeds both maps. Then
//   out = RMSNorm(A1 - lambda * A2) * subln * (1 - lambda_init).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "sambay/base/error.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "sambay/ops/cpu/cpu_util.h"

namespace sambay {
namespace {

// Locates the K/V row ([kv_heads * head_dim] floats) of a key position for one chunk.
struct KvLocator {
  const DiffAttnKv& kv;
  const SeqChunk& chunk;
  int64_t row_elems;

  const float* row(int64_t pos, bool value) const {
    if (kv.pages) {
      const KvPagesRef& p = *kv.pages;
      const int32_t page = p.page_table[chunk.slot * p.table_stride + pos / p.page_size];
      const Tensor& t = value ? p.v : p.k;
      return t.row<const float>(page) + (pos % p.page_size) * row_elems;
    }
    if (pos >= chunk.pos0) return (value ? kv.v_cur : kv.k_cur).row<const float>(chunk.row0 + (pos - chunk.pos0));
    const KvRingRef& r = *kv.ring;
    return (value ? r.v : r.k).row<const float>(chunk.slot) + (pos % r.window) * row_elems;
  }
};

inline float dot(const float* a, const float* b, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Turns scores into probabilities in place (stable softmax).
inline void softmax(float* s, int64_t n) {
  float m = s[0];
  for (int64_t i = 1; i < n; ++i) m = std::max(m, s[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    s[i] = std::exp(s[i] - m);
    sum += s[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) s[i] *= inv;
}

}  // namespace

void CpuOps::diff_attention(const Tensor& out, const Tensor& q, const DiffAttnKv& kv, std::span<const SeqChunk> chunks,
                            const DiffAttnParams& p) {
  const int64_t H = p.num_heads, Hkv = p.num_kv_heads, dh = p.head_dim;
  const int64_t G = H / 2, group = G / (Hkv / 2), row_elems = Hkv * dh;
  SAMBAY_CHECK(q.cols == H * dh && out.cols == H * dh && out.rows == q.rows && p.subln.cols == 2 * dh,
               "cpu diff_attention: shape mismatch");
  SAMBAY_CHECK((kv.pages != nullptr) != (kv.ring != nullptr), "cpu diff_attention: need exactly one K/V source");
  SAMBAY_CHECK(!kv.ring || kv.window > 0, "cpu diff_attention: a ring needs a window");

  std::vector<int32_t> chunk_of;  // query index -> chunk index
  std::vector<int32_t> offset_in;  // query index -> index within its chunk
  for (size_t c = 0; c < chunks.size(); ++c)
    for (int32_t t = 0; t < chunks[c].len; ++t) {
      chunk_of.push_back(static_cast<int32_t>(c));
      offset_in.push_back(t);
    }
  const int64_t tasks = static_cast<int64_t>(chunk_of.size()) * G;
  const float* gain = p.subln.ptr<const float>();

  int64_t work = 0;  // keys visited by all queries and pairs, times the head dim
  for (const SeqChunk& c : chunks)
    work += c.len * (kv.window > 0 ? std::min<int64_t>(kv.window, c.pos0 + c.len) : c.pos0 + c.len) * G * dh;
#pragma omp parallel if (work > kParallelWork)
  {
    std::vector<float> s1, s2, a1(2 * dh), a2(2 * dh);
#pragma omp for schedule(dynamic, 4)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t qi = task / G, g = task % G;
      const SeqChunk& c = chunks[chunk_of[qi]];
      const KvLocator loc{kv, c, row_elems};
      const int64_t row = c.row0 + offset_in[qi];
      const int64_t pos = c.pos0 + offset_in[qi];
      const int64_t lo = kv.window > 0 ? std::max<int64_t>(0, pos - kv.window + 1) : 0;
      const int64_t n = pos - lo + 1;
      const int64_t j = g / group;  // kv head pair: heads 2j (map 1) and 2j + 1 (map 2)
      const float* q1 = q.row<const float>(row) + (2 * g) * dh;
      const float* q2 = q1 + dh;

      s1.resize(n);
      s2.resize(n);
      for (int64_t i = 0; i < n; ++i) {
        const float* k = loc.row(lo + i, false);
        s1[i] = dot(q1, k + (2 * j) * dh, dh) * p.scale;
        s2[i] = dot(q2, k + (2 * j + 1) * dh, dh) * p.scale;
      }
      softmax(s1.data(), n);
      softmax(s2.data(), n);

      std::fill(a1.begin(), a1.end(), 0.0f);
      std::fill(a2.begin(), a2.end(), 0.0f);
      for (int64_t i = 0; i < n; ++i) {
        const float* v = loc.row(lo + i, true) + (2 * j) * dh;  // [v1 | v2], contiguous
        for (int64_t d = 0; d < 2 * dh; ++d) {
          a1[d] += s1[i] * v[d];
          a2[d] += s2[i] * v[d];
        }
      }

      double ss = 0;
      for (int64_t d = 0; d < 2 * dh; ++d) {
        a1[d] -= p.lambda * a2[d];
        ss += static_cast<double>(a1[d]) * a1[d];
      }
      const float rinv = static_cast<float>(1.0 / std::sqrt(ss / (2 * dh) + p.eps));
      float* o = out.row<float>(row) + g * 2 * dh;
      for (int64_t d = 0; d < 2 * dh; ++d) o[d] = a1[d] * rinv * gain[d] * p.out_scale;
    }
  }
}

void CpuOps::kv_ring_write(const KvRingRef& ring, const Tensor& k, const Tensor& v, std::span<const SeqChunk> chunks) {
  const int64_t row_elems = k.cols;
  SAMBAY_CHECK(v.cols == row_elems && ring.k.cols == ring.window * row_elems, "cpu kv_ring_write: shape mismatch");
  for (const SeqChunk& c : chunks) {
    for (int64_t t = std::max<int64_t>(0, c.len - ring.window); t < c.len; ++t) {
      const int64_t slot_row = (c.pos0 + t) % ring.window;
      std::memcpy(ring.k.row<float>(c.slot) + slot_row * row_elems, k.row<const float>(c.row0 + t), row_elems * 4);
      std::memcpy(ring.v.row<float>(c.slot) + slot_row * row_elems, v.row<const float>(c.row0 + t), row_elems * 4);
    }
  }
}

void CpuOps::kv_pages_write(const KvPagesRef& pages, const Tensor& k, const Tensor& v, std::span<const SeqChunk> chunks) {
  const int64_t row_elems = k.cols;
  SAMBAY_CHECK(v.cols == row_elems && pages.k.cols == pages.page_size * row_elems, "cpu kv_pages_write: shape mismatch");
  for (const SeqChunk& c : chunks) {
    for (int64_t t = 0; t < c.len; ++t) {
      const int64_t pos = c.pos0 + t;
      const int32_t page = pages.page_table[c.slot * pages.table_stride + pos / pages.page_size];
      const int64_t off = (pos % pages.page_size) * row_elems;
      std::memcpy(pages.k.row<float>(page) + off, k.row<const float>(c.row0 + t), row_elems * 4);
      std::memcpy(pages.v.row<float>(page) + off, v.row<const float>(c.row0 + t), row_elems * 4);
    }
  }
}

}  // namespace sambay
