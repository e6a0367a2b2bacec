// Engine invariants on the CPU with small models: continuous batching, chunked prefill and
// preemption change nothing in the output, and the state cache is empty again after completions,
// cancellations and errors. The reference for every generation is a plain greedy loop over
// SambaModel::forward, one sequence at a time, with no engine involved.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "sambay/base/error.h"
#include "sambay/engine/engine.h"
#include "sambay/model/sambay_model.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "sambay/sample/sampler.h"
#include "request_output.h"
#include "test_util.h"

namespace sambay {
namespace {

using namespace std::chrono_literals;

using test::collect;
using test::Output;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = SambaModel::load(test::golden_dir() / "small-l12-h128-w16", ops_, {});
    SafetensorsFile golden(test::golden_dir() / "small-l12-h128-w16" / "golden.safetensors");
    const auto ids = test::read_array(golden, "input_ids");
    for (int64_t p = 0; p < ids.dim(1); ++p) corpus_.push_back(static_cast<int32_t>(ids.i[p]));
  }

  // Prompts of different lengths (below, at and above the window of 16) cut from the golden input.
  std::vector<int32_t> prompt(size_t offset, size_t len) const {
    std::vector<int32_t> p;
    for (size_t i = 0; i < len; ++i) p.push_back(corpus_[(offset + i) % corpus_.size()]);
    return p;
  }

  // The reference: greedy decoding of one sequence straight over the model, with its logits.
  std::vector<int32_t> reference(const std::vector<int32_t>& prompt, int n,
                                 std::vector<std::vector<float>>* logits = nullptr) {
    StateCache cache = model_->make_cache({1, 512, 16, 0});
    const int slot = cache.acquire();
    std::vector<int32_t> out;
    std::vector<float> host(model_->config().vocab_size);
    std::span<const int32_t> feed = prompt;
    int32_t last = -1;
    for (int t = 0; t < n; ++t) {
      StepBatch b;
      b.add(slot, feed, false);
      ops_.to_host(*model_->forward(b, cache), host.data());
      if (logits) logits->push_back(host);
      last = argmax_token(host);
      out.push_back(last);
      feed = std::span<const int32_t>(&out.back(), 1);
    }
    return out;
  }

  static GenerationRequest greedy(std::vector<int32_t> prompt, int max_tokens) {
    return test::greedy_request(std::move(prompt), max_tokens);
  }

  // Drives an engine by hand until every request is done.
  static void run_to_completion(Engine& e) {
    for (int i = 0; i < 100000 && e.step(); ++i) {
    }
  }

  static void expect_empty(const Engine& e) {
    const EngineStats s = e.stats();
    EXPECT_EQ(s.running, 0);
    EXPECT_EQ(s.waiting, 0);
    EXPECT_EQ(s.slots_used, 0);
    EXPECT_EQ(s.pages_used, 0);
  }

  CpuOps ops_{CpuOpsOptions{.poison_allocations = true}};
  std::unique_ptr<SambaModel> model_;
  std::vector<int32_t> corpus_;
};

TEST_F(EngineTest, BatchedRequestsGiveTheTokensOfEachAlone) {
  const std::vector<std::vector<int32_t>> prompts = {prompt(0, 40), prompt(3, 5), prompt(7, 1), prompt(11, 17),
                                                     prompt(2, 16)};
  const int n = 12;
  Engine engine(*model_, nullptr, {.max_seqs = 8, .max_seq_len = 128, .max_batch_tokens = 256});
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const auto& p : prompts) streams.push_back(engine.submit(greedy(p, n)));
  run_to_completion(engine);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const Output o = collect(*streams[i]);
    EXPECT_EQ(o.tokens, reference(prompts[i], n)) << "request " << i;
    EXPECT_EQ(o.finish.finish_reason, "length");
    EXPECT_EQ(o.finish.completion_tokens, n);
    EXPECT_EQ(o.finish.prompt_tokens, static_cast<int>(prompts[i].size()));
  }
  expect_empty(engine);
}

TEST_F(EngineTest, RequestsJoiningMidwayGiveTheSameTokens) {
  const int n = 10;
  Engine engine(*model_, nullptr, {.max_seqs = 4, .max_seq_len = 128, .max_batch_tokens = 64});
  const auto p0 = prompt(0, 20), p1 = prompt(5, 9), p2 = prompt(9, 33);
  auto s0 = engine.submit(greedy(p0, n));
  engine.step();
  engine.step();
  auto s1 = engine.submit(greedy(p1, n));
  for (int i = 0; i < 5; ++i) engine.step();
  auto s2 = engine.submit(greedy(p2, n));
  run_to_completion(engine);
  EXPECT_EQ(collect(*s0).tokens, reference(p0, n));
  EXPECT_EQ(collect(*s1).tokens, reference(p1, n));
  EXPECT_EQ(collect(*s2).tokens, reference(p2, n));
  expect_empty(engine);
}

TEST_F(EngineTest, ChunkedPrefillEqualsWholePrefill) {
  const auto p = prompt(1, 45);
  const int n = 8;
  for (int64_t budget : {1, 3, 7, 16, 17}) {
    Engine engine(*model_, nullptr, {.max_seqs = 2, .max_seq_len = 128, .max_batch_tokens = budget});
    auto s = engine.submit(greedy(p, n));
    auto other = engine.submit(greedy(prompt(4, 30), n));  // competes for the same budget
    run_to_completion(engine);
    EXPECT_EQ(collect(*s).tokens, reference(p, n)) << "budget " << budget;
    EXPECT_EQ(collect(*other).tokens, reference(prompt(4, 30), n)) << "budget " << budget;
    expect_empty(engine);
  }
}

TEST_F(EngineTest, PreemptedAndResumedEqualsUninterrupted) {
  // 6 pages of 4 positions hold 24 positions: three sequences growing to ~26 each cannot all stay,
  // so the newest are preempted (state dropped, recomputed later) and must still give the same output.
  const int n = 16;
  const std::vector<std::vector<int32_t>> prompts = {prompt(0, 10), prompt(6, 9), prompt(12, 11)};
  Engine engine(*model_, nullptr,
                {.max_seqs = 3, .max_seq_len = 28, .num_pages = 7, .page_size = 4, .max_batch_tokens = 64});
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const auto& p : prompts) streams.push_back(engine.submit(greedy(p, n)));
  run_to_completion(engine);
  int preemptions = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const Output o = collect(*streams[i]);
    EXPECT_EQ(o.tokens, reference(prompts[i], n)) << "request " << i;
    preemptions += o.finish.preemptions;
  }
  EXPECT_GT(preemptions, 0) << "the pool was meant to be too small for all three";
  EXPECT_EQ(engine.stats().preemptions, static_cast<uint64_t>(preemptions));
  expect_empty(engine);
}

TEST_F(EngineTest, CancelledRequestsFreeTheirStateAtOnce) {
  Engine engine(*model_, nullptr, {.max_seqs = 4, .max_seq_len = 128, .max_batch_tokens = 64});
  auto keep = engine.submit(greedy(prompt(0, 12), 20));
  auto cancel_running = engine.submit(greedy(prompt(3, 40), 20));
  auto cancel_queued = engine.submit(greedy(prompt(5, 4), 20));
  for (int i = 0; i < 3; ++i) engine.step();
  cancel_running->cancel();
  cancel_queued->cancel();
  engine.step();
  EXPECT_EQ(engine.stats().slots_used, 1);
  run_to_completion(engine);
  EXPECT_EQ(collect(*cancel_running).finish.finish_reason, "cancelled");
  EXPECT_EQ(collect(*cancel_queued).finish.finish_reason, "cancelled");
  EXPECT_EQ(collect(*keep).tokens, reference(prompt(0, 12), 20));
  EXPECT_EQ(engine.stats().requests_cancelled, 2u);
  expect_empty(engine);
}

TEST_F(EngineTest, InvalidRequestsAreRefusedWithTheirReason) {
  Engine engine(*model_, nullptr, {.max_seqs = 2, .max_seq_len = 64});
  auto refused = [&](GenerationRequest r, const std::string& what) {
    try {
      engine.submit(std::move(r));
      ADD_FAILURE() << "accepted; expected an error mentioning " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  refused(greedy({}, 4), "empty");
  refused(greedy({1, static_cast<int32_t>(model_->config().vocab_size)}, 4), "vocabulary");
  refused(greedy({1, -3}, 4), "vocabulary");
  refused(greedy(prompt(0, 60), 5), "context length");
  refused(greedy(prompt(0, 3), 0), "max_tokens");
  GenerationRequest bad_top_p = greedy(prompt(0, 3), 4);
  bad_top_p.sampling.top_p = 1.5f;
  refused(bad_top_p, "top_p");
  GenerationRequest bad_min = greedy(prompt(0, 3), 4);
  bad_min.min_tokens = 9;
  refused(bad_min, "min_tokens");
  EXPECT_FALSE(engine.step());
  EXPECT_EQ(engine.stats().requests_submitted, 0u);
  expect_empty(engine);
}

TEST_F(EngineTest, EosEndsGenerationAndMinTokensMasksIt) {
  const auto p = prompt(2, 14);
  const auto ref = reference(p, 6);
  {
    GenerationRequest r = greedy(p, 6);
    r.stop.eos_ids = {ref[3]};
    Engine engine(*model_, nullptr, {.max_seqs = 1, .max_seq_len = 64});
    auto s = engine.submit(r);
    run_to_completion(engine);
    const Output o = collect(*s);
    const auto first = std::find(ref.begin(), ref.end(), ref[3]);  // the earliest occurrence ends it
    EXPECT_EQ(o.tokens, std::vector<int32_t>(ref.begin(), first + 1));
    EXPECT_EQ(o.finish.finish_reason, "stop");
  }
  {
    GenerationRequest r = greedy(p, 6);
    r.stop.eos_ids = {ref[0]};
    r.min_tokens = 2;
    Engine engine(*model_, nullptr, {.max_seqs = 1, .max_seq_len = 64});
    auto s = engine.submit(r);
    run_to_completion(engine);
    const Output o = collect(*s);
    ASSERT_GE(o.tokens.size(), 2u);
    EXPECT_NE(o.tokens[0], ref[0]);
    EXPECT_NE(o.tokens[1], ref[0]);
  }
}

TEST_F(EngineTest, LogprobsAreThoseOfTheRawLogits) {
  const auto p = prompt(8, 21);
  std::vector<std::vector<float>> logits;
  const auto ref = reference(p, 5, &logits);
  GenerationRequest r = greedy(p, 5);
  r.logprobs = 3;
  Engine engine(*model_, nullptr, {.max_seqs = 1, .max_seq_len = 64});
  auto s = engine.submit(r);
  run_to_completion(engine);
  const Output o = collect(*s);
  ASSERT_EQ(o.tokens, ref);
  for (size_t t = 0; t < ref.size(); ++t) {
    double mx = -INFINITY, sum = 0;  // log_softmax in double, straight from the definition
    for (float x : logits[t]) mx = std::max<double>(mx, x);
    for (float x : logits[t]) sum += std::exp(x - mx);
    const double expected = logits[t][ref[t]] - mx - std::log(sum);
    EXPECT_NEAR(o.logprobs[t], expected, 1e-4) << "step " << t;
  }
}

TEST_F(EngineTest, SeededSamplingIsReproducibleAcrossBatchings) {
  GenerationRequest r;
  r.prompt = prompt(1, 9);
  r.sampling.temperature = 1.0f;
  r.sampling.top_p = 0.9f;
  r.sampling.seed = 1234;
  r.stop.max_tokens = 12;
  auto run = [&](int neighbours) {
    Engine engine(*model_, nullptr, {.max_seqs = 4, .max_seq_len = 64, .max_batch_tokens = 8});
    auto s = engine.submit(r);
    for (int k = 0; k < neighbours; ++k) engine.submit(greedy(prompt(10 + k, 13), 12));
    run_to_completion(engine);
    return collect(*s).tokens;
  };
  const auto alone = run(0);
  EXPECT_EQ(run(3), alone);
  r.sampling.seed = 99;
  EXPECT_NE(run(0), alone) << "a different seed should change 12 tokens sampled at temperature 1";
}

TEST_F(EngineTest, ThreadedLoopServesConcurrentClientsAndDrains) {
  Engine engine(*model_, nullptr, {.max_seqs = 4, .max_seq_len = 96, .max_batch_tokens = 32});
  engine.start();
  const int clients = 8;
  std::vector<std::thread> threads;
  std::vector<Output> outputs(clients);
  std::vector<std::vector<int32_t>> prompts;
  for (int c = 0; c < clients; ++c) prompts.push_back(prompt(c * 3, 5 + c * 4));
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      auto s = engine.submit(greedy(prompts[c], 10));
      if (c % 3 == 2) {
        s->next(60s);  // first token, then leave
        s->cancel();
      }
      outputs[c] = collect(*s);
    });
  for (auto& t : threads) t.join();
  for (int c = 0; c < clients; ++c) {
    if (c % 3 == 2) {
      EXPECT_TRUE(outputs[c].finish.finish_reason == "cancelled" || outputs[c].finish.finish_reason == "length");
    } else {
      EXPECT_EQ(outputs[c].tokens, reference(prompts[c], 10)) << "client " << c;
    }
  }
  auto late = engine.submit(greedy(prompt(0, 7), 30));
  engine.stop(true);  // drains: the late request completes
  EXPECT_EQ(collect(*late).finish.finish_reason, "length");
  EXPECT_THROW(engine.submit(greedy(prompt(0, 3), 2)), Error);
  expect_empty(engine);
}

TEST_F(EngineTest, StopWithoutDrainCancelsWhatIsLeft) {
  Engine engine(*model_, nullptr, {.max_seqs = 1, .max_seq_len = 96});
  auto a = engine.submit(greedy(prompt(0, 7), 30));
  auto b = engine.submit(greedy(prompt(3, 7), 30));
  engine.step();
  engine.stop(false);
  EXPECT_EQ(collect(*a).finish.finish_reason, "cancelled");
  EXPECT_EQ(collect(*b).finish.finish_reason, "cancelled");
  expect_empty(engine);
}

TEST(CachePlan, FitsTheBudgetAndOneFullSequence) {
  CpuOps ops;
  auto model = SambaModel::load(test::golden_dir() / "small-l12-h128-w16", ops, {});
  const StateLayout layout = model->state_layout();
  const StateSizes s = StateCache::sizes(layout, DType::F32);
  const size_t per_slot = s.mamba_per_seq + s.rings_per_seq, page = 16 * s.kv_per_token;
  for (size_t bytes : {per_slot + 64 * page, 10 * per_slot + 100 * page, size_t{1} << 30}) {
    const CacheBudget b = plan_cache(layout, DType::F32, bytes, 32, 1024, 16);
    EXPECT_LE(b.bytes, bytes);
    EXPECT_EQ(b.bytes, b.max_seqs * per_slot + b.num_pages * page);
    EXPECT_GE(b.max_seqs, 1);
    EXPECT_LE(b.max_seqs, 32);
    EXPECT_GE(b.num_pages, 64);  // one sequence of 1024 positions
    EXPECT_LE(b.num_pages, 64 * b.max_seqs);
    // Full-length sequences, each a slot and 64 pages: that many fit, one more does not (or the cap).
    const size_t one_seq = per_slot + 64 * page;
    EXPECT_GE(b.full_length_seqs, 1);
    EXPECT_LE(b.full_length_seqs * one_seq, bytes);
    if (b.full_length_seqs < 32) {
      EXPECT_GT((b.full_length_seqs + 1) * one_seq, bytes);
    }
  }
  EXPECT_THROW(plan_cache(layout, DType::F32, per_slot + 63 * page, 4, 1024, 16), Error);
}

}  // namespace
}  // namespace sambay
