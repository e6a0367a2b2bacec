#include "sambay/model/sambay_weights.h"

#include <cmath>
#include <cstring>

#include "sambay/base/error.h"
#include "sambay/base/half.h"

namespace sambay {
namespace {

float to_f32(DType t, const void* p, int64_t i) {
  switch (t) {
    case DType::F32: return static_cast<const float*>(p)[i];
    case DType::F64: return static_cast<float>(static_cast<const double*>(p)[i]);
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::F16: return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
    default: fail("unsupported weight dtype {}", dtype_name(t));
  }
}

class Loader {
 public:
  Loader(WeightSource& src, Ops& ops, SambaWeights& w) : src_(src), ops_(ops), w_(w) {}

  // A large matrix in its stored dtype (F64 is narrowed to F32: no kernel reads doubles).
  Tensor matrix(const std::string& name, int64_t rows, int64_t cols) {
    HostTensor h = src_.get(name, {rows, cols});
    if (h.dtype == DType::F64) return f32(name, {rows, cols}, rows, cols);
    Tensor view(const_cast<void*>(h.data), h.dtype, rows, cols);
    w_.storage.push_back(ops_.place(view, nullptr, Ops::Placement::Matrix));
    return w_.storage.back().view;
  }

  // Any tensor as float32 [rows, cols] (a fresh copy), optionally transformed element-wise.
  Tensor f32(const std::string& name, const std::vector<int64_t>& shape, int64_t rows, int64_t cols,
             float (*fn)(float) = nullptr) {
    std::vector<float> v = values(name, shape);
    if (fn)
      for (float& x : v) x = fn(x);
    return place(v, rows, cols);
  }

  std::vector<float> values(const std::string& name, const std::vector<int64_t>& shape) {
    HostTensor h = src_.get(name, shape);
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = to_f32(h.dtype, h.data, i);
    return v;
  }

  Tensor place(const std::vector<float>& v, int64_t rows, int64_t cols) {
    auto mem = std::shared_ptr<float[]>(new float[v.size()]);
    std::memcpy(mem.get(), v.data(), v.size() * sizeof(float));
    Tensor view(mem.get(), DType::F32, rows, cols);
    w_.storage.push_back(ops_.place(view, mem, Ops::Placement::Vector));
    return w_.storage.back().view;
  }

 private:
  WeightSource& src_;
  Ops& ops_;
  SambaWeights& w_;
};

float neg_exp(float x) { return -std::exp(x); }

void load_mamba(Loader& ld, const SambaConfig& c, const std::string& p, MambaWeights& m) {
  const int64_t h = c.hidden_size, E = c.d_inner, N = c.mamba_d_state, Kc = c.mamba_d_conv, R = c.dt_rank();
  m.in_proj = ld.matrix(p + "in_proj.weight", 2 * E, h);
  m.conv_w = ld.f32(p + "conv1d.weight", {E, 1, Kc}, E, Kc);
  m.conv_b = ld.f32(p + "conv1d.bias", {E}, 1, E);
  m.x_proj = ld.matrix(p + "x_proj.weight", R + 2 * N, E);
  m.dt_proj = ld.matrix(p + "dt_proj.weight", E, R);
  m.dt_bias = ld.f32(p + "dt_proj.bias", {E}, 1, E);
  m.A = ld.f32(p + "A_log", {E, N}, E, N, neg_exp);
  m.D = ld.f32(p + "D", {E}, 1, E);
  m.out_proj = ld.matrix(p + "out_proj.weight", h, E);
}

void load_attention(Loader& ld, const SambaConfig& c, const LayerInfo& L, const std::string& p, AttentionWeights& a) {
  const int64_t h = c.hidden_size, dh = c.head_dim();
  const int64_t q_rows = c.num_attention_heads * dh;
  const int64_t rows = L.kind == LayerKind::CrossAttn ? q_rows : q_rows + 2 * c.num_key_value_heads * dh;
  a.wqkv = ld.matrix(p + "Wqkv.weight", rows, h);
  a.bqkv = ld.f32(p + "Wqkv.bias", {rows}, 1, rows);
  a.out_proj = ld.matrix(p + "out_proj.weight", h, q_rows);
  a.out_bias = ld.f32(p + "out_proj.bias", {h}, 1, h);
  const std::string d = p + "inner_cross_attn.";
  a.subln = ld.f32(d + "subln.weight", {2 * dh}, 1, 2 * dh);
  auto lambda_part = [&](const char* q, const char* k) {
    const auto vq = ld.values(d + q, {dh});
    const auto vk = ld.values(d + k, {dh});
    float s = 0;  // summed in float32, as the reference does
    for (int64_t i = 0; i < dh; ++i) s += vq[i] * vk[i];
    return std::exp(s);
  };
  a.lambda_init = static_cast<float>(L.lambda_init);
  a.lambda = lambda_part("lambda_q1", "lambda_k1") - lambda_part("lambda_q2", "lambda_k2") + a.lambda_init;
}

}  // namespace

int count_samba_tensors(const SambaConfig& c, const LayerTable& table) {
  int n = c.tie_word_embeddings ? 3 : 4;  // embedding, final norm weight and bias, untied LM head
  for (const LayerInfo& L : table.layers) {
    n += 6;  // two norms (weight, bias), fc1, fc2
    if (L.kind == LayerKind::Mamba || L.kind == LayerKind::MambaMemory) n += 9;
    else if (L.kind == LayerKind::Gmu) n += 2;
    else n += 9;  // Wqkv and out_proj (weight, bias), four lambdas, subln
  }
  return n;
}

SambaWeights load_samba_weights(const SambaConfig& c, const LayerTable& table, WeightSource& source, Ops& ops) {
  SambaWeights w;
  Loader ld(source, ops, w);
  const int64_t h = c.hidden_size, V = c.vocab_size, I = c.intermediate_size, E = c.d_inner;
  w.embed = ld.matrix("model.embed_tokens.weight", V, h);
  w.final_ln_w = ld.f32("model.final_layernorm.weight", {h}, 1, h);
  w.final_ln_b = ld.f32("model.final_layernorm.bias", {h}, 1, h);
  w.lm_head = c.tie_word_embeddings ? w.embed : ld.matrix("lm_head.weight", V, h);

  for (const LayerInfo& L : table.layers) {
    const std::string p = "model.layers." + std::to_string(L.index) + ".";
    LayerWeights lw;
    lw.ln_in_w = ld.f32(p + "input_layernorm.weight", {h}, 1, h);
    lw.ln_in_b = ld.f32(p + "input_layernorm.bias", {h}, 1, h);
    lw.ln_post_w = ld.f32(p + "post_attention_layernorm.weight", {h}, 1, h);
    lw.ln_post_b = ld.f32(p + "post_attention_layernorm.bias", {h}, 1, h);
    lw.fc1 = ld.matrix(p + "mlp.fc1.weight", 2 * I, h);
    lw.fc2 = ld.matrix(p + "mlp.fc2.weight", h, I);
    switch (L.kind) {
      case LayerKind::Mamba:
      case LayerKind::MambaMemory: load_mamba(ld, c, p + "attn.", lw.mamba); break;
      case LayerKind::Gmu:
        lw.gmu.in_proj = ld.matrix(p + "attn.in_proj.weight", E, h);
        lw.gmu.out_proj = ld.matrix(p + "attn.out_proj.weight", h, E);
        break;
      default: load_attention(ld, c, L, p + "attn.", lw.attn); break;
    }
    w.layers.push_back(std::move(lw));
  }
  return w;
}

}  // namespace sambay
