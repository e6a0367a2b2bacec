// Phi-3 (LongRoPE) sequences through the engine and a text session, against the golden-phi3 cases:
// their `tokens` are the greedy continuation of the reference's recompute behaviour (argmax of
// `fp32.step_logits` at every step, top-2 margins >= 0.016 while the CPU path is within 4e-5), so
// free-running greedy generation must reproduce them — across the short-to-long switch in the
// middle of a generation, for prompts that start at or beyond the switch point, in chunks of any
// size, after preemption, and in a chat whose next turn crosses the switch.
#include <gtest/gtest.h>

#include "sambay/engine/engine.h"
#include "sambay/engine/text_session.h"
#include "sambay/model/phi3_model.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "request_output.h"
#include "test_util.h"

namespace sambay {
namespace {

using test::collect;
using test::greedy_request;

// A golden-phi3 case: its model, the first row's prompt and greedy continuation.
class LongRopeCase {
 public:
  explicit LongRopeCase(const std::string& name) {
    const auto dir = test::phi3_golden_dir() / name;
    model_ = Phi3Model::load(dir, ops_, {});
    SafetensorsFile golden(dir / "golden.safetensors");
    const auto ids = test::read_array(golden, "input_ids"), tokens = test::read_array(golden, "tokens");
    prompt_ = test::golden_prompts(ids, test::read_array(golden, "attention_mask")).rows[0];
    for (int64_t t = 0; t < tokens.dim(1); ++t) golden_.push_back(static_cast<int32_t>(tokens.i[t]));
  }
  Phi3Model& model() { return *model_; }
  int64_t switch_length() const { return model_->config().original_max_position_embeddings; }
  int n() const { return static_cast<int>(golden_.size()); }
  // The prompt followed by the first `k` golden tokens, and the golden tokens after those.
  std::vector<int32_t> prompt(int k = 0) const {
    std::vector<int32_t> p = prompt_;
    p.insert(p.end(), golden_.begin(), golden_.begin() + k);
    return p;
  }
  std::vector<int32_t> continuation(int k = 0) const { return {golden_.begin() + k, golden_.end()}; }
  // The golden tokens k .. k + n - 1.
  std::vector<int32_t> golden(int k, int n) const { return {golden_.begin() + k, golden_.begin() + k + n}; }

 private:
  CpuOps ops_{CpuOpsOptions{.poison_allocations = true}};
  std::unique_ptr<Phi3Model> model_;
  std::vector<int32_t> prompt_, golden_;
};

void run_to_completion(Engine& e) {
  for (int i = 0; i < 100000 && e.step(); ++i) {
  }
}

// switch-l4-h192-o48: original_max_position_embeddings 48, a 40-token prompt, 24 greedy tokens.
// Three requests on the same continuation: from the 40-token prompt (its 9th step reads 49
// positions: re-run on the long factors), from a 48-token prompt (short prefill, re-run at its
// second step) and from a 52-token prompt (long from its first chunk, never re-run).
TEST(EngineLongRope, GenerationAcrossTheSwitchGivesTheGoldenTokens) {
  LongRopeCase c("switch-l4-h192-o48");
  ASSERT_EQ(c.switch_length(), 48);
  ASSERT_EQ(c.prompt().size(), 40u);
  const std::vector<int> starts = {0, 8, 12};  // golden tokens already in the prompt
  for (int64_t budget : {3, 17, 256}) {
    Engine engine(c.model(), nullptr, {.max_seqs = 3, .max_seq_len = 64, .page_size = 4, .max_batch_tokens = budget});
    std::vector<std::shared_ptr<RequestStream>> streams;
    for (int k : starts) streams.push_back(engine.submit(greedy_request(c.prompt(k), c.n() - k)));
    run_to_completion(engine);
    for (size_t i = 0; i < starts.size(); ++i) {
      const test::Output o = collect(*streams[i]);
      EXPECT_EQ(o.tokens, c.continuation(starts[i])) << "prompt of " << c.prompt(starts[i]).size() << ", budget "
                                                      << budget;
      EXPECT_EQ(o.finish.finish_reason, "length");
    }
    const EngineStats stats = engine.stats();
    EXPECT_EQ(stats.recomputes, 2u) << "budget " << budget;
    EXPECT_EQ(stats.preemptions, 0u);
    EXPECT_EQ(stats.slots_used, 0);
    EXPECT_EQ(stats.pages_used, 0);
  }
}

// long-l2-h96-o32: a 40-token prompt beyond original_max_position_embeddings 32, prefilled in
// chunks as small as one token: every chunk on the long factors, as the one-call prefill.
TEST(EngineLongRope, ChunkedPrefillOfALongPromptEqualsOneShot) {
  LongRopeCase c("long-l2-h96-o32");
  ASSERT_GT(static_cast<int64_t>(c.prompt().size()), c.switch_length());
  for (int64_t budget : {1, 7, 40, 256}) {
    Engine engine(c.model(), nullptr, {.max_seqs = 1, .max_seq_len = 64, .max_batch_tokens = budget});
    auto s = engine.submit(greedy_request(c.prompt(), c.n()));
    run_to_completion(engine);
    EXPECT_EQ(collect(*s).tokens, c.continuation()) << "budget " << budget;
    EXPECT_EQ(engine.stats().recomputes, 0u);
  }
}

// A page pool too small for both sequences: the newer one is preempted and later fed again from its
// first token, which must put it on the factor set of its whole length.
TEST(EngineLongRope, PreemptedSequencesResumeOnTheRightFactorSet) {
  LongRopeCase c("switch-l4-h192-o48");
  Engine engine(c.model(), nullptr,
                {.max_seqs = 2, .max_seq_len = 64, .num_pages = 20, .page_size = 4, .max_batch_tokens = 64});
  auto a = engine.submit(greedy_request(c.prompt(0), c.n()));
  auto b = engine.submit(greedy_request(c.prompt(4), c.n() - 4));
  run_to_completion(engine);
  const test::Output oa = collect(*a), ob = collect(*b);
  EXPECT_EQ(oa.tokens, c.continuation(0));
  EXPECT_EQ(ob.tokens, c.continuation(4));
  EXPECT_GT(oa.finish.preemptions + ob.finish.preemptions, 0) << "20 pages of 4 cannot hold two sequences of 64";
  EXPECT_EQ(engine.stats().pages_used, 0);
}

// A chat on the switch case's model (token ids below 512 are tokens of the tiny model's tokenizer
// too): a turn that stays short keeps its state; a next turn whose prompt passes the switch point
// starts over on the long factors; a single long generation crosses it once.
TEST(TextSessionLongRope, TurnsAndGenerationAcrossTheSwitch) {
  LongRopeCase c("switch-l4-h192-o48");
  const Tokenizer tokenizer = Tokenizer::from_model_dir(test::source_dir() / "models/tiny-flash");
  SamplingParams greedy;
  greedy.greedy = true;
  auto none = [](std::string_view) { return true; };
  auto stop_after = [](int n) {
    StopConfig s;
    s.max_tokens = n;
    return s;
  };

  TextSession chat(c.model(), tokenizer, 64);
  GenerationResult r = chat.generate(c.prompt(0), greedy, stop_after(5), none);
  EXPECT_EQ(r.tokens, c.golden(0, 5));
  EXPECT_EQ(chat.recomputes(), 0);
  // The prompt and 4 generated tokens were fed (the 5th was sampled, not fed).
  r = chat.generate(c.prompt(5), greedy, stop_after(2), none);
  EXPECT_EQ(r.reused_tokens, 44);
  EXPECT_EQ(r.tokens, c.golden(5, 2));
  EXPECT_EQ(chat.recomputes(), 0);
  r = chat.generate(c.prompt(10), greedy, stop_after(8), none);  // 50 tokens: past 48
  EXPECT_EQ(r.reused_tokens, 0);
  EXPECT_EQ(chat.recomputes(), 1);
  EXPECT_EQ(r.tokens, c.golden(10, 8));

  TextSession one(c.model(), tokenizer, 64);
  r = one.generate(c.prompt(0), greedy, stop_after(c.n()), none);
  EXPECT_EQ(r.tokens, c.continuation(0));
  EXPECT_EQ(one.recomputes(), 1);
}

}  // namespace
}  // namespace sambay
