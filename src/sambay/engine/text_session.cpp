#include "sambay/engine/text_session.h"

#include <algorithm>
#include <vector>

#include "sambay/base/error.h"
#include "sambay/base/timer.h"
#include "sambay/sample/sampler.h"
#include "sambay/text/detokenizer.h"
#include "sambay/text/stop_strings.h"

namespace sambay {

TextSession::TextSession(LanguageModel& model, Tokenizer tokenizer, int64_t context_length, int64_t prefill_chunk)
    : model_(model),
      tokenizer_(std::move(tokenizer)),
      context_length_(context_length),
      prefill_chunk_(prefill_chunk),
      cache_(model.make_cache({1, context_length, 16, 0})) {
  slot_ = cache_.acquire();
}

TextSession::~TextSession() = default;

void TextSession::reset() {
  cache_.clear(slot_);
  fed_.clear();
}

OwnedTensor TextSession::feed(std::span<const int32_t> tokens) {
  const int64_t length = static_cast<int64_t>(fed_.size() + tokens.size());  // where the logits are read
  std::vector<int32_t> all;
  if (model_.needs_recompute(cache_, slot_, length)) {
    all = fed_;
    all.insert(all.end(), tokens.begin(), tokens.end());
    reset();
    ++recomputes_;
    tokens = all;
  }
  OwnedTensor logits;
  for (size_t p = 0; p < tokens.size(); p += static_cast<size_t>(prefill_chunk_)) {
    StepBatch b;
    b.add(slot_, tokens.subspan(p, std::min<size_t>(prefill_chunk_, tokens.size() - p)), false, length);
    logits = model_.forward(b, cache_);
  }
  fed_.insert(fed_.end(), tokens.begin(), tokens.end());
  return logits;
}

GenerationResult TextSession::generate(std::span<const int32_t> prompt, const SamplingParams& sampling,
                                       const StopConfig& stop, const std::function<bool(std::string_view)>& on_text,
                                       const std::atomic<bool>* cancel) {
  if (prompt.empty()) fail("generate: the prompt is empty");
  if (stop.max_tokens < 0) fail("generate: max_tokens must not be negative");
  if (static_cast<int64_t>(prompt.size()) + stop.max_tokens > context_length_)
    fail("prompt ({} tokens) + max_tokens ({}) exceeds the context length of {}", prompt.size(), stop.max_tokens,
         context_length_);
  GenerationResult r;
  r.prompt_tokens = static_cast<int>(prompt.size());
  Sampler sampler(sampling);
  sampler.accept_prompt(prompt);

  // Keep the state when the prompt extends what was fed (a recurrent state cannot be rolled back,
  // so anything else starts over) and the model can continue from it at the new length.
  const bool extends = !fed_.empty() && prompt.size() > fed_.size() &&
                       std::equal(fed_.begin(), fed_.end(), prompt.begin());
  if (!extends && !fed_.empty()) reset();
  if (extends && model_.needs_recompute(cache_, slot_, static_cast<int64_t>(prompt.size()))) {
    reset();
    ++recomputes_;
  }
  r.reused_tokens = static_cast<int>(fed_.size());

  Timer timer;
  OwnedTensor logits = feed(prompt.subspan(r.reused_tokens));
  std::vector<float> host(static_cast<size_t>(model_.info().vocab_size));
  model_.ops().to_host(*logits, host.data());
  r.prefill_seconds = timer.seconds();
  timer.reset();

  DetokenizerStream detok(tokenizer_);
  StopStringMatcher stops(stop.stop_strings);
  auto emit = [&](std::string_view text) {
    if (text.empty()) return true;
    r.text.append(text);
    return on_text(text);
  };
  r.finish_reason = "length";
  bool stopped_by_string = false;
  for (int n = 0; n < stop.max_tokens; ++n) {
    if (cancel && cancel->load()) {
      r.finish_reason = "cancelled";
      break;
    }
    const int32_t token = sampler.sample(host);
    r.tokens.push_back(token);
    if (!stop.ignore_eos && std::find(stop.eos_ids.begin(), stop.eos_ids.end(), token) != stop.eos_ids.end()) {
      r.finish_reason = "stop";
      break;
    }
    sampler.accept(token);
    const auto piece = stops.push(detok.push(token));
    if (!emit(piece.emit)) {
      r.finish_reason = "cancelled";
      break;
    }
    if (piece.stopped) {
      r.finish_reason = "stop";
      stopped_by_string = true;
      break;
    }
    if (n + 1 == stop.max_tokens) break;
    model_.ops().to_host(*feed(std::span<const int32_t>(&token, 1)), host.data());
  }
  if (!stopped_by_string) {  // flush what the detokenizer and the stop matcher held back
    const auto tail = stops.push(detok.finish());
    emit(tail.emit);
    if (!tail.stopped) emit(stops.finish());
  }
  r.decode_seconds = timer.seconds();
  return r;
}

}  // namespace sambay
