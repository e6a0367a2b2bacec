// Seeded random weights with the scales a freshly initialised model has (SambaY or a Phi-3-family
// transformer), so that activations stay in a realistic range through all layers.
#include <cmath>
#include <cstdlib>
#include <memory>

#include "sambay/base/error.h"
#include "sambay/base/half.h"
#include "sambay/base/host_memory.h"
#include "sambay/base/random.h"
#include "sambay/io/weight_source.h"

namespace sambay {
namespace {

// FNV-1a: a stable name hash, so dummy weights are the same on every platform.
uint64_t name_hash(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// How the values of one tensor are drawn: center + (2u - 1) * half_width for u uniform in [0, 1),
// or one of the structured initialisations of the Mamba parameters.
struct ValueRule {
  enum Kind { Uniform, Constant, LogStateIndex, DtBias } kind = Uniform;
  float center = 0, half_width = 0;
  int64_t n_state = 1;

  float operator()(int64_t i, float u) const {
    switch (kind) {
      case Uniform: return center + (2.0f * u - 1.0f) * half_width;
      case Constant: return center;
      case LogStateIndex: return std::log(static_cast<float>(i % n_state + 1));
      case DtBias: {  // softplus^-1 of dt, log-uniform in [1e-3, 1e-1]
        const float dt = std::exp(u * (std::log(0.1f) - std::log(0.001f)) + std::log(0.001f));
        return dt + std::log(-std::expm1(-dt));
      }
    }
    return 0;
  }
};

ValueRule value_rule(const std::string& name, const std::vector<int64_t>& shape) {
  constexpr float kSqrt3 = 1.7320508f;  // uniform(-a, a) has std a / sqrt(3)
  constexpr float kInitStd = 0.02f;     // initializer_range of the released config
  ValueRule r;
  r.half_width = kInitStd * kSqrt3;
  if (ends_with(name, ".A_log")) {  // S4D-real: A[e, n] = -(n + 1)
    r.kind = ValueRule::LogStateIndex;
    r.n_state = shape.back();
  } else if (ends_with(name, ".D") || ends_with(name, "subln.weight")) {
    r.kind = ValueRule::Constant;
    r.center = 1.0f;
  } else if (ends_with(name, "dt_proj.bias")) {
    r.kind = ValueRule::DtBias;
  } else if (name.find("conv1d") != std::string::npos) {
    r.half_width = 1.0f / std::sqrt(static_cast<float>(shape.back()));
  } else if (name.find("lambda_") != std::string::npos) {
    r.half_width = 0.1f * kSqrt3;
  } else if (name.find("layernorm.weight") != std::string::npos || name == "model.norm.weight") {
    r.center = 1.0f;
    r.half_width = 0.05f;
  } else if (name.find("layernorm.bias") != std::string::npos) {
    r.half_width = 0.02f;
  }
  return r;
}

template <class Store>
void fill(int64_t n, uint64_t seed, uint64_t stream, const ValueRule& rule, Store store) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) store(i, rule(i, random_unit(seed, stream, static_cast<uint64_t>(i))));
}

class DummySource final : public WeightSource {
 public:
  DummySource(DType dtype, uint64_t seed) : dtype_(dtype), seed_(seed) {}

  HostTensor get(const std::string& name, const std::vector<int64_t>& shape) override {
    const bool keep_f32 = ends_with(name, ".A_log") || name.find("lambda_") != std::string::npos;
    const DType dt = keep_f32 ? DType::F32 : dtype_;
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    const size_t bytes = static_cast<size_t>(n) * dtype_size(dt);
    storage_.push_back(alloc_host(bytes));
    void* p = storage_.back().get();
    bytes_ += bytes;

    const uint64_t stream = name_hash(name);
    const ValueRule rule = value_rule(name, shape);
    if (dt == DType::F32) fill(n, seed_, stream, rule, [p](int64_t i, float v) { static_cast<float*>(p)[i] = v; });
    if (dt == DType::BF16)
      fill(n, seed_, stream, rule, [p](int64_t i, float v) { static_cast<uint16_t*>(p)[i] = f32_to_bf16(v); });
    if (dt == DType::F16)
      fill(n, seed_, stream, rule, [p](int64_t i, float v) { static_cast<uint16_t*>(p)[i] = f32_to_f16(v); });
    return HostTensor{dt, shape, p, "dummy: " + name};
  }

  std::vector<std::string> unused() const override { return {}; }
  uint64_t bytes() const override { return bytes_; }

 private:
  DType dtype_;
  uint64_t seed_;
  uint64_t bytes_ = 0;
  std::vector<std::shared_ptr<void>> storage_;
};

}  // namespace

std::unique_ptr<WeightSource> make_dummy_source(DType dtype, uint64_t seed) {
  SAMBAY_CHECK(dtype == DType::BF16 || dtype == DType::F16 || dtype == DType::F32,
               "dummy weights: dtype {} is not supported", dtype_name(dtype));
  return std::make_unique<DummySource>(dtype, seed);
}

}  // namespace sambay
