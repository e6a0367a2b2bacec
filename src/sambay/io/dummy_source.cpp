// Seeded random weights with the scales a freshly initialised SambaY model has, so that activations
// stay in a realistic range through all layers.
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>

#include "sambay/base/error.h"
#include "sambay/base/half.h"
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

// value(index, u) with u uniform in [0, 1), per tensor kind.
using ValueFn = std::function<float(int64_t index, float u)>;

ValueFn value_rule(const std::string& name, const std::vector<int64_t>& shape) {
  auto uniform = [](float half_width, float center = 0.0f) {
    return [=](int64_t, float u) { return center + (2.0f * u - 1.0f) * half_width; };
  };
  const float std_init = 0.02f;                     // initializer_range of the released config
  const float uniform_for_std = std_init * 1.7320508f;  // uniform(-a, a) has std a / sqrt(3)
  if (ends_with(name, ".A_log")) {  // S4D-real: A[e, n] = -(n + 1)
    const int64_t n_state = shape.back();
    return [=](int64_t i, float) { return std::log(static_cast<float>(i % n_state + 1)); };
  }
  if (ends_with(name, ".D") || ends_with(name, "subln.weight")) return [](int64_t, float) { return 1.0f; };
  if (ends_with(name, "dt_proj.bias")) {  // softplus^-1 of dt log-uniform in [1e-3, 1e-1]
    return [](int64_t, float u) {
      const float dt = std::exp(u * (std::log(0.1f) - std::log(0.001f)) + std::log(0.001f));
      return dt + std::log(-std::expm1(-dt));
    };
  }
  if (name.find("conv1d") != std::string::npos) return uniform(1.0f / std::sqrt(static_cast<float>(shape.back())));
  if (name.find("lambda_") != std::string::npos) return uniform(0.1f * 1.7320508f);
  if (name.find("layernorm.weight") != std::string::npos) return uniform(0.05f, 1.0f);
  if (name.find("layernorm.bias") != std::string::npos) return uniform(0.02f);
  return uniform(uniform_for_std);
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
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!p) fail("dummy weights: out of memory for '{}' ({} bytes)", name, bytes);
    storage_.emplace_back(p, [](void* q) { std::free(q); });
    bytes_ += bytes;

    const uint64_t stream = name_hash(name);
    const ValueFn value = value_rule(name, shape);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const float v = value(i, random_unit(seed_, stream, static_cast<uint64_t>(i)));
      switch (dt) {
        case DType::F32: static_cast<float*>(p)[i] = v; break;
        case DType::BF16: static_cast<uint16_t*>(p)[i] = f32_to_bf16(v); break;
        case DType::F16: static_cast<uint16_t*>(p)[i] = f32_to_f16(v); break;
        default: break;
      }
    }
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
