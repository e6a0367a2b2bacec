#pragma once
// Command-line options for sampling and stopping. The text side of a model folder (TextModel) lives
// in the library: sambay/engine/text_model.h.
#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "sambay/engine/generation_defaults.h"
#include "sambay/engine/text_model.h"
#include "sambay/engine/text_session.h"

namespace sambay::cli {

// Sampling and stopping flags; values left unset keep the model folder's defaults.
struct SamplingOptions {
  std::optional<float> temperature, top_p, min_p, repetition_penalty, presence_penalty, frequency_penalty;
  std::optional<int> top_k;
  bool greedy = false;
  bool ignore_eos = false;
  std::vector<std::string> stop;
  int max_tokens = 512;

  SamplingParams params(const GenerationDefaults& defaults, uint64_t seed) const;
  StopConfig stop_config(const GenerationDefaults& defaults) const;
};

void add_sampling_options(CLI::App& cmd, SamplingOptions& o);

}  // namespace sambay::cli
