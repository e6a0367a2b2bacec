// sambay generate: token ids in, token ids out, with prompt and generation speed.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "sambay/base/error.h"
#include "sambay/base/timer.h"

namespace sambay::cli {
namespace {

struct Options {
  ModelOptions model;
  std::string ids;
  int max_tokens = 32;
  bool greedy = false;
  float temperature = 0;
  bool json = false;
};

std::vector<int32_t> parse_ids(const std::string& text, int64_t vocab) {
  std::string s = text;
  std::replace(s.begin(), s.end(), ',', ' ');
  std::istringstream in(s);
  std::vector<int32_t> ids;
  std::string word;
  while (in >> word) {
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size()) fail("--ids: '{}' is not a token id", word);
    if (v < 0 || v >= vocab) fail("--ids: token id {} is outside the vocabulary [0, {})", v, vocab);
    ids.push_back(static_cast<int32_t>(v));
  }
  if (ids.empty()) fail("--ids: no token ids given");
  return ids;
}

// Greedy (lowest id on ties) or sampling at a temperature.
int32_t pick(const float* logits, int64_t n, float temperature, std::mt19937_64& rng) {
  if (temperature <= 0) return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
  const float m = *std::max_element(logits, logits + n);
  std::vector<double> p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = std::exp((logits[i] - m) / temperature);
  std::discrete_distribution<int32_t> dist(p.begin(), p.end());
  return dist(rng);
}

void run(const Options& o) {
  LoadedModel lm = load_model(o.model);
  LanguageModel& model = *lm.model;
  const int64_t V = model.info().vocab_size;
  const std::vector<int32_t> prompt = parse_ids(o.ids, V);
  const float temperature = o.greedy ? 0.0f : o.temperature;
  std::mt19937_64 rng(o.model.seed);

  StateCache cache = model.make_cache({1, static_cast<int64_t>(prompt.size()) + o.max_tokens + 1, 16, 0});
  const int slot = cache.acquire();
  std::vector<float> logits(V);
  std::vector<int32_t> out;

  Timer timer;
  StepBatch prefill;
  prefill.add(slot, prompt, false);
  model.ops().to_host(*model.forward(prefill, cache), logits.data());
  const double prefill_s = timer.seconds();
  if (o.max_tokens > 0) out.push_back(pick(logits.data(), V, temperature, rng));

  timer.reset();
  int recomputes = 0;
  std::vector<int32_t> sequence = prompt;  // every token fed so far, for a run from the first one
  while (static_cast<int>(out.size()) < o.max_tokens) {
    sequence.push_back(out.back());
    StepBatch step;
    if (model.needs_recompute(cache, slot, static_cast<int64_t>(sequence.size()))) {
      // LongRoPE's switch to the long factors: the whole sequence again, from position 0.
      cache.clear(slot);
      step.add(slot, sequence, false);
      ++recomputes;
    } else {
      step.add(slot, std::span<const int32_t>(&out.back(), 1), false);
    }
    model.ops().to_host(*model.forward(step, cache), logits.data());
    out.push_back(pick(logits.data(), V, temperature, rng));
  }
  const double decode_s = timer.seconds();
  const int decode_steps = std::max(0, static_cast<int>(out.size()) - 1);  // the first token came from the prefill
  const double prompt_tps = prompt.size() / prefill_s;
  const double decode_tps = decode_steps > 0 ? decode_steps / decode_s : 0.0;
  const double rss_gb = peak_rss_bytes() / 1e9;

  if (lm.profiler) fmt::print(stderr, "{}", lm.profiler->report());
  if (o.json) {
    nlohmann::json j = {{"prompt_tokens", prompt.size()},   {"generated_tokens", out.size()},
                        {"ids", out},                       {"prefill_seconds", prefill_s},
                        {"prompt_tokens_per_second", prompt_tps}, {"decode_seconds", decode_s},
                        {"decode_tokens_per_second", decode_tps}, {"recomputes", recomputes},
                        {"load_seconds", lm.load_seconds},
                        {"peak_rss_bytes", peak_rss_bytes()}};
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("{}\n", fmt::join(out, " "));
  fmt::print(stderr, "prompt: {} tokens in {:.3f} s ({:.2f} tok/s); generation: {} tokens, {:.2f} tok/s; peak RSS {:.2f} GB\n",
             prompt.size(), prefill_s, prompt_tps, out.size(), decode_tps, rss_gb);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("generate", "generate token ids from prompt token ids");
  add_model_options(*cmd, opts->model);
  cmd->add_option("--ids", opts->ids, "prompt token ids, e.g. \"1 2 3\"")->required();
  cmd->add_option("-n,--max-tokens", opts->max_tokens, "tokens to generate")->check(CLI::NonNegativeNumber);
  auto* greedy = cmd->add_flag("--greedy", opts->greedy, "pick the most likely token (the default)");
  cmd->add_option("--temperature", opts->temperature, "sample at this temperature")
      ->check(CLI::NonNegativeNumber)
      ->excludes(greedy);
  cmd->add_flag("--json", opts->json, "print one JSON object with ids and timings");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace sambay::cli
