#pragma once
// How a model folder is loaded (shared by the model families).
#include <cstdint>

#include "sambay/io/progress_source.h"

namespace sambay {

struct LoadOptions {
  bool dummy = false;   // random weights at the checkpoint's shapes instead of reading safetensors
  uint64_t seed = 0;    // for dummy weights
  LoadProgress progress;  // called after each tensor with (tensors loaded, tensors in the model)
};

}  // namespace sambay
