#pragma once
// How a model folder is loaded (shared by the model families).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "sambay/io/progress_source.h"
#include "sambay/io/weight_source.h"

namespace sambay {

struct LoadOptions {
  bool dummy = false;   // random weights at the checkpoint's shapes instead of reading safetensors
  uint64_t seed = 0;    // for dummy weights
  LoadProgress progress;  // called after each tensor with (tensors loaded, tensors in the model)
};

// The weights of a model folder: its checkpoint, or seeded dummy weights in the config's
// torch_dtype; reporting progress over `tensors` tensors.
std::unique_ptr<WeightSource> open_model_weights(const std::filesystem::path& dir, const std::string& torch_dtype,
                                                 int tensors, const LoadOptions& options);

// Warns about every checkpoint tensor the model did not read.
void warn_unused_tensors(const WeightSource& source, bool tied_embeddings);

}  // namespace sambay
