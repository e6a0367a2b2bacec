#pragma once
// One golden case run the way its reference logits were computed, for the parity tests of both
// model families on every backend: the left-padded prompts of `input_ids` as one prefill (logits at
// every real position), then teacher-forced decode steps that feed tokens[:, t - 1]. A row the
// model must recompute (LongRoPE's short-to-long switch) is cleared and run again from its first
// token, as the reference's "recompute" logits were made.
#include <algorithm>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "sambay/model/language_model.h"
#include "test_util.h"

namespace sambay::test {

// A golden case folder and the name prefix of the reference logits it is checked against.
struct GoldenCase {
  std::filesystem::path dir;
  std::string reference;  // "fp32_pure" (SambaY cases), "fp32" (Phi-3 cases)
  int recomputes = 0;     // rows that cross the LongRoPE switch during the decode

  std::string name() const {
    std::string s = dir.filename().string();
    std::replace(s.begin(), s.end(), '-', '_');
    return s;
  }
};

// How gtest shows a case in test names' parameters.
inline void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.dir.filename().string() << " vs " << c.reference; }

inline std::vector<GoldenCase> all_golden_cases() {
  std::vector<GoldenCase> cases;
  for (const auto& c : golden_cases()) cases.push_back({golden_dir() / c, "fp32_pure", 0});
  for (const auto& c : phi3_golden_cases())
    cases.push_back({phi3_golden_dir() / c, "fp32", c == "switch-l4-h192-o48" ? 1 : 0});  // the README's schedule
  return cases;
}

// Called with the model's logits and the reference's for one position: `vocab` floats each.
using CompareRow = std::function<void(const float* got, const float* ref)>;

// on_prefill for every real prompt position, on_step for every step of every row (step 0: the last
// prompt position). Returns how many rows were recomputed.
inline int run_golden(LanguageModel& model, const GoldenCase& gc, const CompareRow& on_prefill,
                      const CompareRow& on_step) {
  SafetensorsFile golden(gc.dir / "golden.safetensors");
  const Array ids = read_array(golden, "input_ids"), mask = read_array(golden, "attention_mask");
  const Array tokens = read_array(golden, "tokens");
  const Array ref_prefill = read_array(golden, gc.reference + ".prefill_logits");
  const Array ref_steps = read_array(golden, gc.reference + ".step_logits");
  const int64_t B = ids.dim(0), P = ids.dim(1), N = tokens.dim(1), V = model.info().vocab_size;
  EXPECT_EQ(ref_prefill.dim(2), V);
  auto prefill_ref = [&](int64_t b, int64_t p) { return &ref_prefill.f[(b * P + p) * V]; };
  auto step_ref = [&](int64_t b, int64_t t) { return &ref_steps.f[(b * N + t) * V]; };
  int recomputes = 0;

  StateCache cache = model.make_cache({static_cast<int>(B), P + N, 4, 0});
  GoldenPrompts prompts = golden_prompts(ids, mask);
  std::vector<std::vector<int32_t>>& seq = prompts.rows;  // each row's real tokens so far
  std::vector<int> slots;
  StepBatch prefill;
  for (int64_t b = 0; b < B; ++b) {
    slots.push_back(cache.acquire());
    prefill.add(slots.back(), seq[b], true);
  }
  std::vector<float> host;
  auto forward = [&](const StepBatch& batch) {
    OwnedTensor t = model.forward(batch, cache);
    host.resize(t->numel());
    model.ops().to_host(*t, host.data());
  };
  forward(prefill);
  for (int64_t b = 0, r = 0; b < B; ++b) {
    for (int64_t p = prompts.first[b]; p < P; ++p, ++r) on_prefill(&host[r * V], prefill_ref(b, p));
    on_step(&host[(r - 1) * V], step_ref(b, 0));
  }
  for (int64_t t = 1; t < N; ++t) {
    StepBatch step;
    std::vector<int64_t> stepping;
    for (int64_t b = 0; b < B; ++b) {
      seq[b].push_back(static_cast<int32_t>(tokens.i[b * N + t - 1]));
      if (model.needs_recompute(cache, slots[b], static_cast<int64_t>(seq[b].size()))) {
        cache.clear(slots[b]);
        StepBatch again;
        again.add(slots[b], seq[b], false);
        forward(again);
        on_step(&host[0], step_ref(b, t));
        ++recomputes;
        continue;
      }
      step.add(slots[b], std::span<const int32_t>(&seq[b].back(), 1), false);
      stepping.push_back(b);
    }
    if (stepping.empty()) continue;
    forward(step);
    for (size_t i = 0; i < stepping.size(); ++i) on_step(&host[i * V], step_ref(stepping[i], t));
  }
  for (int slot : slots) cache.release(slot);
  EXPECT_EQ(cache.free_slots(), B);
  EXPECT_EQ(cache.free_pages(), cache.options().num_pages);
  return recomputes;
}

}  // namespace sambay::test
