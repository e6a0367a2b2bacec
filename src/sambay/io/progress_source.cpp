#include "sambay/io/progress_source.h"

namespace sambay {
namespace {

class ProgressSource final : public WeightSource {
 public:
  ProgressSource(std::unique_ptr<WeightSource> inner, int total, LoadProgress progress)
      : inner_(std::move(inner)), total_(total), progress_(std::move(progress)) {}

  HostTensor get(const std::string& name, const std::vector<int64_t>& shape) override {
    HostTensor t = inner_->get(name, shape);
    progress_(++done_, total_);
    return t;
  }
  std::vector<std::string> unused() const override { return inner_->unused(); }
  uint64_t bytes() const override { return inner_->bytes(); }

 private:
  std::unique_ptr<WeightSource> inner_;
  int total_, done_ = 0;
  LoadProgress progress_;
};

}  // namespace

std::unique_ptr<WeightSource> with_progress(std::unique_ptr<WeightSource> inner, int total_tensors,
                                            LoadProgress progress) {
  if (!progress) return inner;
  return std::make_unique<ProgressSource>(std::move(inner), total_tensors, std::move(progress));
}

}  // namespace sambay
