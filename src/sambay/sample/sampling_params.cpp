#include "sambay/sample/sampling_params.h"

#include <cmath>

#include "sambay/base/error.h"

namespace sambay {

void SamplingParams::validate() const {
  SAMBAY_CHECK(!std::isnan(temperature) && temperature < INFINITY, "temperature must be a finite number, got {}",
               temperature);
  SAMBAY_CHECK(top_p > 0 && top_p <= 1, "top_p must be in (0, 1], got {}", top_p);
  SAMBAY_CHECK(top_k >= 0, "top_k must be >= 0 (0 = off), got {}", top_k);
  SAMBAY_CHECK(min_p >= 0 && min_p <= 1, "min_p must be in [0, 1], got {}", min_p);
  SAMBAY_CHECK(repetition_penalty > 0 && std::isfinite(repetition_penalty),
               "repetition_penalty must be a finite number > 0, got {}", repetition_penalty);
  SAMBAY_CHECK(std::isfinite(presence_penalty), "presence_penalty must be finite, got {}", presence_penalty);
  SAMBAY_CHECK(std::isfinite(frequency_penalty), "frequency_penalty must be finite, got {}", frequency_penalty);
}

}  // namespace sambay
