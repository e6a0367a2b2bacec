#include <fmt/ranges.h>

#include "sambay/base/error.h"
#include "sambay/io/checkpoint.h"
#include "sambay/io/weight_source.h"

namespace sambay {
namespace {

class CheckpointSource final : public WeightSource {
 public:
  explicit CheckpointSource(const std::filesystem::path& dir) : ckpt_(dir), dir_(dir) {}

  HostTensor get(const std::string& name, const std::vector<int64_t>& shape) override {
    auto e = ckpt_.find(name);
    if (!e) fail("{}: tensor '{}' is missing from the checkpoint", dir_.string(), name);
    used_.insert(name);
    const TensorInfo& t = *e->info;
    if (t.shape != shape)
      fail("{}: tensor '{}' has shape [{}], expected [{}]", ckpt_.source(*e), name, fmt::join(t.shape, ", "),
           fmt::join(shape, ", "));
    if (!is_float(t.dtype) || t.dtype == DType::F8_E4M3 || t.dtype == DType::F8_E5M2)
      fail("{}: tensor '{}' has dtype {}; expected BF16, F16, F32 or F64", ckpt_.source(*e), name,
           dtype_name(t.dtype));
    return HostTensor{t.dtype, t.shape, e->bytes().data(), ckpt_.source(*e) + ": " + name};
  }

  std::vector<std::string> unused() const override {
    std::vector<std::string> out;
    for (const auto& n : ckpt_.names())
      if (!used_.count(n)) out.push_back(n);
    return out;
  }

  uint64_t bytes() const override { return ckpt_.total_bytes(); }

 private:
  Checkpoint ckpt_;
  std::filesystem::path dir_;
  std::set<std::string> used_;
};

}  // namespace

std::unique_ptr<WeightSource> open_checkpoint_source(const std::filesystem::path& model_dir) {
  return std::make_unique<CheckpointSource>(model_dir);
}

}  // namespace sambay
