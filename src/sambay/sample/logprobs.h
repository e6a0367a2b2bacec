#pragma once
// Log-probabilities for the API's `logprobs`: log_softmax of one position's raw logits (before
// penalties, temperature and truncation, as vLLM reports by default), computed in double.
#include <cstdint>
#include <span>
#include <vector>

namespace sambay {

struct TokenLogprob {
  int32_t token;
  float logprob;
};

// The n most likely tokens, most likely first (ties: lower id first). NaN logits count as -inf.
std::vector<TokenLogprob> top_logprobs(std::span<const float> logits, int n);
float token_logprob(std::span<const float> logits, int32_t token);

}  // namespace sambay
