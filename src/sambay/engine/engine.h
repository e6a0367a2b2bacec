#pragma once
// The serving engine: continuous batching over a model's per-sequence state (any LanguageModel).
// Requests join and leave at every
// step; each step packs the pending tokens of running sequences (one per decoding sequence, a chunk
// of prompt per prefilling one) under a token budget, runs one forward, samples, and streams the
// results. The state cache is budgeted in bytes; when the shared-K/V page pool runs out, the newest
// running sequence is preempted (its state dropped and recomputed from its tokens later), so a full
// pool slows requests down instead of failing them. A running sequence whose state the model finds
// unfit for its next logits (Phi-3's LongRoPE switch from the short to the long factors) is run
// again from its first token in its own slot, keeping its place.
//
// Thread model: one engine thread runs the step loop (start()/stop()); submit(), cancel and the
// stats may be called from any thread. Without start(), step() drives the engine by hand (tests).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sambay/engine/request.h"
#include "sambay/model/language_model.h"
#include "sambay/text/tokenizer.h"

namespace sambay {

struct EngineOptions {
  int max_seqs = 16;                // sequences in the state cache at once (slots)
  int64_t max_seq_len = 4096;       // positions per sequence (the context length)
  int64_t num_pages = 0;            // shared-K/V pages; 0: enough for every slot at max_seq_len
  int64_t page_size = 16;           // positions per page
  int64_t max_batch_tokens = 2048;  // tokens fed per step (decode tokens + prefill chunks)
  int max_waiting = 4096;           // queued requests beyond this are refused
};

// How many slots and pages fit in `bytes` of state memory, for a given context length.
struct CacheBudget {
  int max_seqs = 0;
  int64_t num_pages = 0;
  size_t bytes = 0;  // what they take
  // How many sequences at the full context the whole budget would hold (capped at max_seqs): the
  // largest concurrency a workload of full-length requests can keep running.
  int full_length_seqs = 0;
};
CacheBudget plan_cache(const StateLayout& layout, DType kv_dtype, size_t bytes, int max_seqs, int64_t max_seq_len,
                       int64_t page_size);

struct EngineStats {
  int running = 0, waiting = 0;
  int slots_used = 0, slots_total = 0;
  int64_t pages_used = 0, pages_total = 0;
  uint64_t requests_submitted = 0, requests_finished = 0, requests_cancelled = 0, requests_failed = 0;
  uint64_t prompt_tokens = 0, generated_tokens = 0;  // totals
  uint64_t preemptions = 0;
  uint64_t recomputes = 0;  // sequences run again from their first token at the model's request
  uint64_t steps = 0;
  double step_seconds_total = 0;   // time spent in steps
  double last_step_seconds = 0;
};

class Engine {
 public:
  // `tokenizer` may be null: then events carry token ids only and stop strings never match.
  Engine(LanguageModel& model, const Tokenizer* tokenizer, EngineOptions options);
  ~Engine();  // stops the loop; unfinished requests end with "cancelled"
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request. Throws sambay::Error (nothing queued) on an invalid request: empty prompt,
  // ids outside the vocabulary, bad sampling values, prompt + max_tokens beyond max_seq_len, a
  // full queue, or an engine that is shutting down.
  std::shared_ptr<RequestStream> submit(GenerationRequest request);

  // Runs one step over what is queued and running; false when there was nothing to do.
  bool step();
  // The step loop on its own thread.
  void start();
  // Ends the loop: with `drain`, running and queued requests finish first; without it they end
  // with "cancelled". New submits fail from here on.
  void stop(bool drain);

  EngineStats stats() const;
  const EngineOptions& options() const { return options_; }
  LanguageModel& model() { return model_; }

 private:
  struct Sequence;
  void admit_locked();
  void finish(Sequence& s, const std::string& reason, const std::string& error = {});
  void preempt(Sequence& s);
  void recompute(Sequence& s);
  void run_step();
  void publish_usage();  // the step loop's view of its lists, for stats() and the loop's wake-up test

  LanguageModel& model_;
  const Tokenizer* tokenizer_;
  EngineOptions options_;
  StateCache cache_;

  mutable std::mutex mu_;            // guards incoming_, stats_, accepting_
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Sequence>> incoming_;  // submitted, not yet seen by the step loop
  std::deque<std::unique_ptr<Sequence>> waiting_;   // seen, without state (new or preempted), FCFS
  std::vector<std::unique_ptr<Sequence>> running_;  // with a slot, in admission order
  EngineStats stats_;
  size_t waiting_size_ = 0;
  int running_count_ = 0, slots_used_ = 0;
  int64_t pages_used_ = 0;
  bool accepting_ = true;
  uint64_t next_id_ = 1;

  std::thread thread_;
  std::atomic<bool> stop_loop_{false};
  bool drain_ = false;
};

}  // namespace sambay
