#include "text_model.h"

#include "sambay/base/error.h"

namespace sambay::cli {

SamplingParams SamplingOptions::params(const GenerationDefaults& defaults, uint64_t seed) const {
  SamplingParams p = defaults.sampling;
  if (temperature) p.temperature = *temperature;
  if (top_p) p.top_p = *top_p;
  if (top_k) p.top_k = *top_k;
  if (min_p) p.min_p = *min_p;
  if (repetition_penalty) p.repetition_penalty = *repetition_penalty;
  if (presence_penalty) p.presence_penalty = *presence_penalty;
  if (frequency_penalty) p.frequency_penalty = *frequency_penalty;
  if (greedy) p.greedy = true;
  p.seed = seed;
  p.validate();
  return p;
}

StopConfig SamplingOptions::stop_config(const GenerationDefaults& defaults) const {
  StopConfig s;
  s.max_tokens = max_tokens;
  s.eos_ids = defaults.eos_ids;
  s.stop_strings = stop;
  s.ignore_eos = ignore_eos;
  return s;
}

void add_sampling_options(CLI::App& cmd, SamplingOptions& o) {
  cmd.add_option("-n,--max-tokens", o.max_tokens, "tokens to generate at most")->check(CLI::NonNegativeNumber);
  cmd.add_option("--temperature", o.temperature, "sampling temperature (0: greedy; default from the model folder, else 0.6)");
  cmd.add_option("--top-p", o.top_p, "nucleus sampling mass (default from the model folder, else 0.95)");
  cmd.add_option("--top-k", o.top_k, "keep the k most likely tokens (0: off)");
  cmd.add_option("--min-p", o.min_p, "drop tokens below min-p times the most likely one's probability");
  cmd.add_option("--repetition-penalty", o.repetition_penalty, "divide logits of seen tokens (1: off)");
  cmd.add_option("--presence-penalty", o.presence_penalty, "OpenAI presence penalty");
  cmd.add_option("--frequency-penalty", o.frequency_penalty, "OpenAI frequency penalty");
  cmd.add_flag("--greedy", o.greedy, "always pick the most likely token");
  cmd.add_flag("--ignore-eos", o.ignore_eos, "do not stop at end-of-sequence tokens (benchmarks)");
  cmd.add_option("--stop", o.stop, "stop before this text (repeatable)");
}

}  // namespace sambay::cli
