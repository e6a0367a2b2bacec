// sambay logits: teacher-forced logits of a batch of left-padded prompts and continuations, for
// parity checks against a reference implementation.
//   IN:  input_ids int64 [B, P] (left padded), attention_mask int64 [B, P] (optional, 1 = real),
//        tokens int64 [B, N] (optional)
//   OUT: prefill_logits f32 [B, P, V] (every real prompt position; padded positions are 0),
//        step_logits f32 [B, N, V]: [:, 0] = last prompt position, [:, t] = after feeding tokens[:, t-1]
// Rows are independent sequences. A row whose state the model cannot continue from (Phi-3's LongRoPE
// switch from the short to the long factors) is run again from its first token at that step, so
// every step equals a cache-free forward over the row's tokens so far ("recompute" semantics).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "commands.h"
#include "common.h"
#include "sambay/base/error.h"
#include "sambay/io/safetensors.h"

namespace sambay::cli {
namespace {

struct IntMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> v;
  int64_t at(int64_t r, int64_t c) const { return v[r * cols + c]; }
};

std::optional<IntMatrix> read_ints(const SafetensorsFile& f, const std::string& name) {
  const TensorInfo* t = f.find(name);
  if (!t) return std::nullopt;
  if (t->shape.size() != 2) fail("{}: tensor '{}' must be 2-D [B, L], got {}", f.path().string(), name, t->describe());
  if (t->dtype != DType::I64 && t->dtype != DType::I32)
    fail("{}: tensor '{}' must be I64 (or I32), got {}", f.path().string(), name, t->describe());
  IntMatrix m{t->shape[0], t->shape[1], {}};
  m.v.resize(static_cast<size_t>(m.rows * m.cols));
  const auto bytes = f.data(*t);
  for (size_t i = 0; i < m.v.size(); ++i) {
    if (t->dtype == DType::I64) {
      std::memcpy(&m.v[i], bytes.data() + i * 8, 8);
    } else {
      int32_t x;
      std::memcpy(&x, bytes.data() + i * 4, 4);
      m.v[i] = x;
    }
  }
  return m;
}

struct Options {
  ModelOptions model;
  std::string input, output;
};

void run(const Options& o) {
  SafetensorsFile in(o.input);
  const std::string src = in.path().string();
  auto ids = read_ints(in, "input_ids");
  if (!ids) fail("{}: tensor 'input_ids' is missing", src);
  const int64_t B = ids->rows, P = ids->cols;
  if (B == 0 || P == 0) fail("{}: tensor 'input_ids' is empty ([{}, {}])", src, B, P);
  auto mask = read_ints(in, "attention_mask");
  if (mask && (mask->rows != B || mask->cols != P))
    fail("{}: tensor 'attention_mask' is [{}, {}], but input_ids is [{}, {}]", src, mask->rows, mask->cols, B, P);
  auto tokens = read_ints(in, "tokens");
  if (tokens && tokens->rows != B) fail("{}: tensor 'tokens' has {} rows, input_ids has {}", src, tokens->rows, B);
  const int64_t N = tokens ? std::max<int64_t>(tokens->cols, 1) : 1;

  // Each row's real tokens are a suffix (left padding).
  std::vector<int64_t> first(B, 0);
  for (int64_t b = 0; b < B && mask; ++b) {
    int64_t p = 0;
    while (p < P && mask->at(b, p) == 0) ++p;
    first[b] = p;
    for (int64_t q = 0; q < P; ++q) {
      const int64_t m = mask->at(b, q);
      if (m != 0 && m != 1) fail("{}: attention_mask[{}, {}] is {}; expected 0 or 1", src, b, q, m);
      if ((q < p) != (m == 0)) fail("{}: attention_mask row {} is not left padded (0s then 1s)", src, b);
    }
    if (p == P) fail("{}: attention_mask row {} has no real token", src, b);
  }

  // Validate every id against the config before the (slow) weight load.
  const int64_t V = read_model_info(o.model.model_dir).vocab_size;
  auto check_id = [&](const char* tensor, int64_t b, int64_t p, int64_t id) {
    if (id < 0 || id >= V) fail("{}: {}[{}, {}] = {} is outside the vocabulary [0, {})", src, tensor, b, p, id, V);
    return static_cast<int32_t>(id);
  };
  std::vector<std::vector<int32_t>> rows(B);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = first[b]; p < P; ++p) rows[b].push_back(check_id("input_ids", b, p, ids->at(b, p)));
  if (tokens)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t + 1 < tokens->cols; ++t) check_id("tokens", b, t, tokens->at(b, t));

  LoadedModel lm = load_model(o.model);
  LanguageModel& model = *lm.model;

  StateCache cache = model.make_cache({static_cast<int>(B), P + N, 16, 0});
  std::vector<int> slots;
  StepBatch prefill;
  for (int64_t b = 0; b < B; ++b) {
    slots.push_back(cache.acquire());
    prefill.add(slots.back(), rows[b], true);
  }

  std::vector<float> prefill_logits(static_cast<size_t>(B * P * V), 0.0f);
  std::vector<float> step_logits(static_cast<size_t>(B * N * V), 0.0f);
  std::vector<float> host;
  auto fetch = [&](const OwnedTensor& t) {
    host.resize(static_cast<size_t>(t->numel()));
    model.ops().to_host(*t, host.data());
  };

  fetch(model.forward(prefill, cache));
  for (int64_t b = 0, r = 0; b < B; ++b) {
    for (int64_t p = first[b]; p < P; ++p, ++r)
      std::copy_n(&host[r * V], V, &prefill_logits[(b * P + p) * V]);
    std::copy_n(&prefill_logits[(b * P + P - 1) * V], V, &step_logits[(b * N) * V]);
  }
  std::vector<std::vector<int32_t>> fed = std::move(rows);  // each row's tokens so far
  for (int64_t t = 1; t < N; ++t) {
    StepBatch step;
    for (int64_t b = 0; b < B; ++b) {
      fed[b].push_back(static_cast<int32_t>(tokens->at(b, t - 1)));
      if (model.needs_recompute(cache, slots[b], static_cast<int64_t>(fed[b].size()))) {
        cache.clear(slots[b]);
        step.add(slots[b], fed[b], false);
      } else {
        step.add(slots[b], std::span(fed[b]).last(1), false);
      }
    }
    fetch(model.forward(step, cache));
    for (int64_t b = 0; b < B; ++b) std::copy_n(&host[b * V], V, &step_logits[(b * N + t) * V]);
  }

  SafetensorsWriter w;
  w.add("prefill_logits", DType::F32, {B, P, V}, prefill_logits);
  w.add("step_logits", DType::F32, {B, N, V}, step_logits);
  w.write(o.output);
  spdlog::info("wrote {}: prefill_logits [{}, {}, {}], step_logits [{}, {}, {}]", o.output, B, P, V, B, N, V);
}

}  // namespace

void add_logits_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("logits", "teacher-forced logits of prompts and continuations (parity checks)");
  add_model_options(*cmd, opts->model);
  cmd->add_option("--input", opts->input, "safetensors with input_ids [B,P], attention_mask, tokens [B,N]")->required();
  cmd->add_option("--out", opts->output, "safetensors to write prefill_logits and step_logits to")->required();
  cmd->callback([opts] { run(*opts); });
}

}  // namespace sambay::cli
