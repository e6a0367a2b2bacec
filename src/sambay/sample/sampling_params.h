#pragma once
// Per-request sampling settings, with the meaning vLLM and Hugging Face give them. The pipeline,
// in order (see sampler.h): penalties -> temperature -> top-k -> top-p -> min-p -> draw.
#include <cstdint>

namespace sambay {

struct SamplingParams {
  float temperature = 0.6f;  // <= 0 means greedy
  float top_p = 0.95f;       // (0, 1]; 1 = off
  int top_k = 0;             // 0 = off
  float min_p = 0;           // [0, 1]; 0 = off
  float repetition_penalty = 1;  // > 0; 1 = off (HF/CTRL, over prompt and output tokens)
  float presence_penalty = 0;    // OpenAI, over output tokens only
  float frequency_penalty = 0;   // OpenAI, over output tokens only
  uint64_t seed = 0;
  bool greedy = false;  // argmax, lowest token id on ties

  bool is_greedy() const { return greedy || temperature <= 0; }
  // Throws sambay::Error naming the first field out of range (NaN included).
  void validate() const;
};

}  // namespace sambay
