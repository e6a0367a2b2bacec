#pragma once
// Reports loading progress (tensors handed out so far / expected) of another weight source.
#include <functional>
#include <memory>

#include "sambay/io/weight_source.h"

namespace sambay {

using LoadProgress = std::function<void(int done, int total)>;

std::unique_ptr<WeightSource> with_progress(std::unique_ptr<WeightSource> inner, int total_tensors,
                                            LoadProgress progress);

}  // namespace sambay
