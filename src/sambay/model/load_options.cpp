#include "sambay/model/load_options.h"

#include <spdlog/spdlog.h>

namespace sambay {

std::unique_ptr<WeightSource> open_model_weights(const std::filesystem::path& dir, const std::string& torch_dtype,
                                                 int tensors, const LoadOptions& options) {
  std::unique_ptr<WeightSource> source;
  if (options.dummy) {
    DType dtype = DType::BF16;
    if (torch_dtype == "float32") dtype = DType::F32;
    if (torch_dtype == "float16") dtype = DType::F16;
    source = make_dummy_source(dtype, options.seed);
  } else {
    source = open_checkpoint_source(dir);
  }
  return with_progress(std::move(source), tensors, options.progress);
}

void warn_unused_tensors(const WeightSource& source, bool tied_embeddings) {
  for (const auto& name : source.unused()) {
    if (name == "lm_head.weight" && tied_embeddings)
      spdlog::warn("checkpoint tensor 'lm_head.weight' is ignored: tie_word_embeddings is true");
    else
      spdlog::warn("checkpoint tensor '{}' is not used by this model", name);
  }
}

}  // namespace sambay
