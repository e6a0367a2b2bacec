#pragma once
// Turns one position's logits into a token, one Sampler per sequence. The pipeline, as vLLM and
// Hugging Face apply it:
//   1. NaN logits count as -inf.
//   2. repetition_penalty (HF/CTRL) on every token seen in the prompt or the output: a positive
//      logit is divided by it, a zero or negative one multiplied.
//   3. presence and frequency penalties (OpenAI) on output tokens only:
//      logit -= presence * [count > 0] + frequency * count.
//   4. greedy (params.greedy or temperature <= 0): argmax, lowest token id on ties. Done.
//   5. logits / temperature, then top-k, top-p, min-p (truncation.h).
//   6. one draw from the kept tokens' softmax.
// The draw uses a counter-based generator: the n-th sample() of a Sampler seeded with s uses
// random_bits(s, kSamplerStream, n) (splitmix64, sambay/base/random.h) as a 53-bit uniform: the
// stream depends on nothing but the seed, so the same seed and logits give the same tokens on
// every run and thread (and across machines, as far as their float arithmetic agrees). Greedy
// calls do not advance the counter. The penalty state is per sequence: make one Sampler each.
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "sambay/sample/sampling_params.h"
#include "sambay/sample/truncation.h"

namespace sambay {

inline constexpr uint64_t kSamplerStream = 0x53616d706c6572ull;  // "Sampler"

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);  // validates params

  // Prompt tokens: seen by the repetition penalty only.
  void accept_prompt(std::span<const int32_t> tokens);
  // A generated token: seen by all three penalties.
  void accept(int32_t token);

  // logits: one position, host memory, one entry per vocabulary id.
  int32_t sample(std::span<const float> logits);

  // Steps 1-3 and, unless greedy, the temperature of step 5, in place: the logits whose softmax
  // the truncation and the draw see.
  void process_logits(std::span<float> logits) const;

  const SamplingParams& params() const { return params_; }
  uint64_t draws() const { return draws_; }

 private:
  struct Seen {
    int32_t output_count = 0;
    bool in_prompt = false;
  };
  Seen& seen(int32_t token);
  float penalised(float x, const Seen& s) const;
  void prepare(std::span<const float> in, std::vector<float>& out) const;  // process_logits into out

  SamplingParams params_;
  std::unordered_map<int32_t, Seen> seen_;
  uint64_t draws_ = 0;
  std::vector<float> work_;            // reused across calls: no per-token allocation
  std::vector<Candidate> candidates_;
};

// Argmax with the lowest id on ties; NaN never wins. Throws if every logit is -inf or NaN.
int32_t argmax_token(std::span<const float> logits);

}  // namespace sambay
