#pragma once
// One conversation with a model, token ids in and text out: it owns a state-cache slot, streams
// the generated text (UTF-8 safe, stop strings that may span tokens) and stops on end-of-sequence
// ids, a stop string, the token limit or cancellation. A new prompt that extends the tokens already
// fed (the next turn of a chat) continues from the kept state instead of starting over — unless the
// model says that state is unfit for the longer sequence (LongRoPE's short-to-long switch), which
// then is fed again from its first token, as also happens when generation crosses that point.
#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sambay/engine/stop_config.h"
#include "sambay/model/language_model.h"
#include "sambay/sample/sampling_params.h"
#include "sambay/text/tokenizer.h"

namespace sambay {

struct GenerationResult {
  std::vector<int32_t> tokens;  // generated ids, an ending eos id included
  std::string text;             // what was streamed
  std::string finish_reason;    // "stop" (eos or stop string), "length", "cancelled"
  int prompt_tokens = 0;
  int reused_tokens = 0;        // prompt tokens whose state was kept from the previous call
  double prefill_seconds = 0, decode_seconds = 0;
};

class TextSession {
 public:
  TextSession(LanguageModel& model, Tokenizer tokenizer, int64_t context_length, int64_t prefill_chunk = 4096);
  ~TextSession();
  TextSession(const TextSession&) = delete;
  TextSession& operator=(const TextSession&) = delete;

  // Feeds `prompt` (only its new part when it extends what was fed before) and generates. `on_text`
  // receives each piece of text as it becomes final; returning false stops generation. Throws
  // sambay::Error when prompt + max_tokens exceeds the context.
  GenerationResult generate(std::span<const int32_t> prompt, const SamplingParams& sampling, const StopConfig& stop,
                            const std::function<bool(std::string_view)>& on_text,
                            const std::atomic<bool>* cancel = nullptr);

  // Forgets the conversation's state.
  void reset();
  int64_t context_length() const { return context_length_; }
  // Times the whole conversation was fed again because the model found its state unfit.
  int recomputes() const { return recomputes_; }

 private:
  // Feeds `tokens` after those fed before and returns the logits of the last one.
  OwnedTensor feed(std::span<const int32_t> tokens);

  LanguageModel& model_;
  Tokenizer tokenizer_;
  int64_t context_length_, prefill_chunk_;
  StateCache cache_;
  int slot_ = -1;
  std::vector<int32_t> fed_;  // every token whose state is in the slot
  int recomputes_ = 0;
};

}  // namespace sambay
