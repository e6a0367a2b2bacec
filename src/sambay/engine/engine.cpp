#include "sambay/engine/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "sambay/base/error.h"
#include "sambay/base/timer.h"
#include "sambay/sample/sampler.h"
#include "sambay/text/detokenizer.h"
#include "sambay/text/stop_strings.h"

namespace sambay {

CacheBudget plan_cache(const StateLayout& layout, DType kv_dtype, size_t bytes, int max_seqs, int64_t max_seq_len,
                       int64_t page_size) {
  SAMBAY_CHECK(max_seqs > 0 && max_seq_len > 0 && page_size > 0, "plan_cache: invalid arguments");
  const StateSizes s = StateCache::sizes(layout, kv_dtype);
  const size_t per_slot = s.mamba_per_seq + s.rings_per_seq;
  const size_t page_bytes = static_cast<size_t>(page_size) * s.kv_per_token;
  const int64_t pages_per_seq = (max_seq_len + page_size - 1) / page_size;
  // At least one sequence must fit at full length, or a request within the context could never run.
  const size_t one_seq = per_slot + static_cast<size_t>(pages_per_seq) * page_bytes;
  if (bytes < one_seq)
    fail("state memory: {:.1f} MiB is not enough for one sequence of {} positions ({:.1f} MiB); lower the "
         "context length or give the cache more memory",
         bytes / 1048576.0, max_seq_len, one_seq / 1048576.0);
  CacheBudget b;
  const size_t for_slots = bytes - static_cast<size_t>(pages_per_seq - 1) * page_bytes;  // keep one full sequence
  b.max_seqs = static_cast<int>(std::min<size_t>(static_cast<size_t>(max_seqs), for_slots / (per_slot + page_bytes)));
  b.num_pages = static_cast<int64_t>((bytes - b.max_seqs * per_slot) / page_bytes);
  b.num_pages = std::min(b.num_pages, pages_per_seq * b.max_seqs);  // more than every slot at full length is waste
  b.bytes = b.max_seqs * per_slot + static_cast<size_t>(b.num_pages) * page_bytes;
  b.full_length_seqs = static_cast<int>(std::min<size_t>(static_cast<size_t>(max_seqs), bytes / one_seq));
  return b;
}

// A request inside the engine: its tokens (prompt, then generated) and how many of them the
// state in its slot covers. Tokens past `computed` are fed at the next steps; when the last one is
// fed, the logits of that step give the next token.
struct Engine::Sequence {
  std::shared_ptr<RequestStream> stream;
  GenerationRequest req;
  Sampler sampler;
  std::optional<DetokenizerStream> detok;
  StopStringMatcher stops;
  std::vector<int32_t> tokens;
  int64_t computed = 0;
  int slot = -1;
  int generated = 0;
  int preemptions = 0;
  Timer since_submit;
  double queue_seconds = -1, first_token_seconds = -1;

  Sequence(std::shared_ptr<RequestStream> s, GenerationRequest r, const Tokenizer* tokenizer)
      : stream(std::move(s)), req(std::move(r)), sampler(req.sampling), stops(req.stop.stop_strings) {
    tokens = req.prompt;
    sampler.accept_prompt(req.prompt);
    if (tokenizer) detok.emplace(*tokenizer, true);
  }
  int64_t pending() const { return static_cast<int64_t>(tokens.size()) - computed; }
  // Whether the host must see this sequence's logits (anything but a plain argmax).
  bool needs_host_logits() const {
    const SamplingParams& p = req.sampling;
    return !p.is_greedy() || p.repetition_penalty != 1 || p.presence_penalty != 0 || p.frequency_penalty != 0 ||
           req.logprobs >= 0 || masks_eos();
  }
  bool masks_eos() const { return !req.stop.ignore_eos && generated < req.min_tokens && !req.stop.eos_ids.empty(); }
};

Engine::Engine(LanguageModel& model, const Tokenizer* tokenizer, EngineOptions options)
    : model_(model),
      tokenizer_(tokenizer),
      options_(options),
      cache_(model.make_cache({options.max_seqs, options.max_seq_len, options.page_size, options.num_pages})) {
  SAMBAY_CHECK(options_.max_batch_tokens > 0, "engine: max_batch_tokens must be positive");
  SAMBAY_CHECK(cache_.options().num_pages * options_.page_size >= options_.max_seq_len,
               "engine: {} pages of {} positions cannot hold one sequence of {} positions", cache_.options().num_pages,
               options_.page_size, options_.max_seq_len);
  stats_.slots_total = options_.max_seqs;
  stats_.pages_total = cache_.options().num_pages;
}

Engine::~Engine() { stop(false); }

std::shared_ptr<RequestStream> Engine::submit(GenerationRequest r) {
  if (r.prompt.empty()) fail("the prompt is empty");
  const int64_t vocab = model_.info().vocab_size;
  for (size_t i = 0; i < r.prompt.size(); ++i)
    if (r.prompt[i] < 0 || r.prompt[i] >= vocab)
      fail("prompt token {} (at position {}) is outside the vocabulary [0, {})", r.prompt[i], i, vocab);
  r.sampling.validate();
  if (r.stop.max_tokens < 1) fail("max_tokens must be at least 1 (got {})", r.stop.max_tokens);
  if (r.min_tokens < 0 || r.min_tokens > r.stop.max_tokens)
    fail("min_tokens must be between 0 and max_tokens ({}), got {}", r.stop.max_tokens, r.min_tokens);
  if (r.logprobs > 20) fail("logprobs must be at most 20 (got {})", r.logprobs);
  const int64_t need = static_cast<int64_t>(r.prompt.size()) + r.stop.max_tokens;
  if (need > options_.max_seq_len)
    fail("the prompt ({} tokens) plus max_tokens ({}) is {} tokens, more than the context length of {}",
         r.prompt.size(), r.stop.max_tokens, need, options_.max_seq_len);
  for (const auto& s : r.stop.stop_strings)
    if (s.empty()) fail("stop strings must not be empty");

  std::shared_ptr<RequestStream> stream;
  {
    std::lock_guard lock(mu_);
    if (!accepting_) fail("the engine is shutting down");
    if (static_cast<int>(incoming_.size() + waiting_size_) >= options_.max_waiting)
      fail("too many queued requests ({})", options_.max_waiting);
    stream = std::make_shared<RequestStream>(next_id_++);
    incoming_.push_back(std::make_unique<Sequence>(stream, std::move(r), tokenizer_));
    ++stats_.requests_submitted;
  }
  wake_.notify_all();
  return stream;
}

void Engine::finish(Sequence& s, const std::string& reason, const std::string& error) {
  if (s.slot >= 0) {
    cache_.release(s.slot);
    s.slot = -1;
  }
  if (reason != "error" && s.detok) {  // release held-back text (nothing follows a stop string)
    std::string tail;
    if (!s.stops.stopped()) {
      const auto t = s.stops.push(s.detok->finish());
      tail = t.emit;
      if (!t.stopped) tail += s.stops.finish();
    }
    if (!tail.empty()) s.stream->push({TokenEvent{-1, std::move(tail), 0, {}}, std::nullopt});
  }
  FinishEvent f;
  f.finish_reason = reason;
  f.error = error;
  f.prompt_tokens = static_cast<int>(s.req.prompt.size());
  f.completion_tokens = s.generated;
  f.preemptions = s.preemptions;
  f.queue_seconds = std::max(0.0, s.queue_seconds);
  f.first_token_seconds = std::max(0.0, s.first_token_seconds);
  f.total_seconds = s.since_submit.seconds();
  s.stream->push({std::nullopt, std::move(f)});
  std::lock_guard lock(mu_);
  ++stats_.requests_finished;
  if (reason == "cancelled") ++stats_.requests_cancelled;
  if (reason == "error") ++stats_.requests_failed;
}

void Engine::preempt(Sequence& s) {
  // Recompute: drop the state; its tokens (prompt and output so far) are fed again when it is
  // readmitted. The sampler and the text streams keep their place, so the output continues as if
  // nothing happened.
  cache_.release(s.slot);
  s.slot = -1;
  s.computed = 0;
  ++s.preemptions;
  std::lock_guard lock(mu_);
  ++stats_.preemptions;
}

void Engine::recompute(Sequence& s) {
  // The model cannot continue from this state (LongRoPE: keys rotated by the short factors, logits
  // wanted past the switch): drop it and feed every token again from position 0 in the same slot.
  // As with a preemption, the sampler and the text streams keep their place.
  cache_.clear(s.slot);
  s.computed = 0;
  std::lock_guard lock(mu_);
  ++stats_.recomputes;
}

bool Engine::step() {
  {
    std::lock_guard lock(mu_);
    while (!incoming_.empty()) {
      waiting_.push_back(std::move(incoming_.front()));
      incoming_.pop_front();
    }
  }
  if (waiting_.empty() && running_.empty()) return false;
  run_step();
  publish_usage();
  return true;
}

void Engine::run_step() {
  Timer step_timer;
  // 1. Cancelled requests leave at once, freeing their state.
  auto drop_cancelled = [&](auto& list) {
    for (auto& s : list)
      if (s && s->stream->cancelled()) {
        finish(*s, "cancelled");
        s.reset();
      }
    std::erase(list, nullptr);
  };
  drop_cancelled(running_);
  drop_cancelled(waiting_);
  // Sequences whose next logits the model cannot compute from their state start over; they are
  // planned below as prefilling sequences.
  for (auto& s : running_)
    if (s->computed > 0 && model_.needs_recompute(cache_, s->slot, static_cast<int64_t>(s->tokens.size())))
      recompute(*s);

  // 2. Plan the step. Running sequences first, in admission order (decoding ones take one token,
  // prefilling ones a chunk of what the budget leaves); then queued ones are admitted while there
  // is a slot, budget and room in the page pool. When the pool cannot hold a running sequence's
  // next tokens, the newest running sequence is preempted (possibly that one itself).
  struct Planned {
    Sequence* seq;
    int64_t n;
  };
  std::vector<Planned> plan;
  int64_t budget = options_.max_batch_tokens;
  bool preempted = false;
  auto reserve_or_preempt = [&](Sequence& s, int64_t n) {
    while (!cache_.reserve(s.slot, n)) {
      Sequence* victim = running_.back().get();
      for (auto it = plan.begin(); it != plan.end(); ++it)  // a newer decoding sequence planned in pass 0
        if (it->seq == victim) {
          budget += it->n;
          plan.erase(it);
          break;
        }
      preempt(*victim);
      preempted = true;
      waiting_.push_front(std::move(running_.back()));
      running_.pop_back();
      if (victim == &s) return false;
    }
    return true;
  };
  for (int pass = 0; pass < 2; ++pass) {  // pass 0: decoding sequences, pass 1: prefilling ones
    for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
      Sequence& s = *running_[i];
      const bool decoding = s.pending() == 1 && s.generated > 0;
      if (decoding != (pass == 0)) continue;
      const int64_t n = std::min(s.pending(), budget);
      if (!reserve_or_preempt(s, n)) break;  // it was the newest: nothing after it runs either
      plan.push_back({&s, n});
      budget -= n;
    }
  }
  // Admission keeps a page of headroom per running sequence, so that decoding sequences rarely
  // need preempting; none is admitted in a step that had to preempt (it would thrash).
  while (!preempted && !waiting_.empty() && budget > 0 && cache_.free_slots() > 0) {
    Sequence& s = *waiting_.front();
    s.slot = cache_.acquire();
    const int64_t n = std::min(s.pending(), budget);
    const int64_t headroom = static_cast<int64_t>(running_.size());
    if (!cache_.reserve(s.slot, n) || (cache_.free_pages() < headroom && !running_.empty())) {
      cache_.release(s.slot);
      s.slot = -1;
      break;
    }
    if (s.queue_seconds < 0) s.queue_seconds = s.since_submit.seconds();
    plan.push_back({&s, n});
    budget -= n;
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
  if (plan.empty()) return;

  // 3. One forward over every planned chunk; each yields one logits row (its last position). The
  // logits a sequence samples from are read once all its tokens are in: that length goes with
  // every chunk.
  StepBatch batch;
  for (const Planned& p : plan)
    batch.add(p.seq->slot, std::span(p.seq->tokens).subspan(p.seq->computed, p.n), false,
              static_cast<int64_t>(p.seq->tokens.size()));
  OwnedTensor logits;
  try {
    logits = model_.forward(batch, cache_);
  } catch (const std::exception& e) {
    spdlog::error("forward step failed: {}", e.what());
    for (const Planned& p : plan) {
      finish(*p.seq, "error", e.what());
      std::erase_if(running_, [&](const auto& r) { return r.get() == p.seq; });
    }
    return;
  }
  for (const Planned& p : plan) p.seq->computed += p.n;  // forward() committed them to the cache

  // 4. Sample for the sequences whose chunk reached their last token: an argmax on the device for
  // all rows, the logits on the host only when some sequence samples, penalises or wants logprobs.
  const int64_t vocab = model_.info().vocab_size;
  std::vector<int32_t> argmax(plan.size());
  model_.ops().argmax_rows(*logits, argmax);
  std::vector<size_t> host_rows;
  for (size_t i = 0; i < plan.size(); ++i)
    if (plan[i].seq->pending() == 0 && plan[i].seq->needs_host_logits()) host_rows.push_back(i);
  std::vector<float> host;
  if (!host_rows.empty()) {
    host.resize(plan.size() * static_cast<size_t>(vocab));
    model_.ops().to_host(*logits, host.data());
  }
  std::vector<TokenEvent> events(plan.size());
  std::vector<std::string> errors(plan.size());
#pragma omp parallel for schedule(dynamic, 1) if (host_rows.size() > 1)
  for (size_t k = 0; k < host_rows.size(); ++k) {
    const size_t i = host_rows[k];
    Sequence& s = *plan[i].seq;
    std::span<float> row(host.data() + i * vocab, static_cast<size_t>(vocab));
    try {
      if (s.req.logprobs >= 0) events[i].top = top_logprobs(row, s.req.logprobs);
      std::vector<std::pair<int32_t, float>> masked;  // logprobs are reported from the raw logits
      if (s.masks_eos())
        for (int32_t id : s.req.stop.eos_ids)
          if (id >= 0 && id < vocab) {
            masked.emplace_back(id, row[id]);
            row[id] = -std::numeric_limits<float>::infinity();
          }
      events[i].token = s.sampler.sample(row);
      for (const auto& [id, x] : masked) row[id] = x;
      if (s.req.logprobs >= 0) events[i].logprob = token_logprob(row, events[i].token);
    } catch (const std::exception& e) {  // no exception may leave an OpenMP region
      errors[i] = e.what();
    }
  }

  // 5. Append, stream, and end what is finished.
  uint64_t generated = 0, prompt_done = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    Sequence& s = *plan[i].seq;
    if (s.pending() > 0) continue;  // a prefill chunk that did not reach the end
    if (!errors[i].empty()) {
      finish(s, "error", "sampling failed: " + errors[i]);
      continue;
    }
    TokenEvent& ev = events[i];
    if (ev.token < 0) ev.token = argmax[i];
    const int32_t token = ev.token;
    s.tokens.push_back(token);
    ++s.generated;
    ++generated;
    if (s.generated == 1) prompt_done += s.req.prompt.size();
    if (s.first_token_seconds < 0) s.first_token_seconds = s.since_submit.seconds();
    s.sampler.accept(token);
    const auto& eos = s.req.stop.eos_ids;
    const bool is_eos = !s.req.stop.ignore_eos && std::find(eos.begin(), eos.end(), token) != eos.end();
    bool stopped = false;
    if (s.detok && !is_eos) {
      auto piece = s.stops.push(s.detok->push(token));
      ev.text = std::move(piece.emit);
      stopped = piece.stopped;
    }
    s.stream->push({std::move(ev), std::nullopt});
    if (is_eos || stopped) {
      finish(s, "stop");
    } else if (s.generated >= s.req.stop.max_tokens) {
      finish(s, "length");
    }
  }
  // Finished sequences released their slot in finish(); remove them from the running list.
  std::erase_if(running_, [](const std::unique_ptr<Sequence>& s) { return s->slot < 0; });

  const double seconds = step_timer.seconds();
  std::lock_guard lock(mu_);
  ++stats_.steps;
  stats_.prompt_tokens += prompt_done;
  stats_.generated_tokens += generated;
  stats_.step_seconds_total += seconds;
  stats_.last_step_seconds = seconds;
}

EngineStats Engine::stats() const {
  std::lock_guard lock(mu_);
  EngineStats s = stats_;
  s.running = running_count_;
  s.waiting = static_cast<int>(incoming_.size() + waiting_size_);
  s.slots_used = slots_used_;
  s.pages_used = pages_used_;
  return s;
}

void Engine::start() {
  SAMBAY_CHECK(!thread_.joinable(), "engine: already started");
  stop_loop_ = false;
  thread_ = std::thread([this] {
    while (true) {
      {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [&] {
          return stop_loop_.load() || !incoming_.empty() || waiting_size_ > 0 || running_count_ > 0;
        });
        if (stop_loop_ && !(drain_ && (!incoming_.empty() || waiting_size_ > 0 || running_count_ > 0))) break;
      }
      try {
        step();
      } catch (const std::exception& e) {
        spdlog::error("engine step: {}", e.what());
      }
    }
  });
}

void Engine::publish_usage() {
  std::lock_guard lock(mu_);
  running_count_ = static_cast<int>(running_.size());
  waiting_size_ = waiting_.size();
  slots_used_ = options_.max_seqs - cache_.free_slots();
  pages_used_ = cache_.options().num_pages - cache_.free_pages();
}

void Engine::stop(bool drain) {
  {
    std::lock_guard lock(mu_);
    accepting_ = false;
    drain_ = drain;
    stop_loop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Whatever is left ends here.
  {
    std::lock_guard lock(mu_);
    while (!incoming_.empty()) {
      waiting_.push_back(std::move(incoming_.front()));
      incoming_.pop_front();
    }
  }
  for (auto& s : running_) finish(*s, "cancelled");
  for (auto& s : waiting_) finish(*s, "cancelled");
  running_.clear();
  waiting_.clear();
  publish_usage();
}

}  // namespace sambay
