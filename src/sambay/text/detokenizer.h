#pragma once
// Streaming decode: ids arrive one at a time (from the sampler), text leaves as soon as it is
// complete. A token may end in the middle of a UTF-8 character (byte-level BPE splits emoji and CJK
// characters across tokens), so the unfinished tail is held back until the bytes that complete
// it arrive. Bytes that can never become valid are replaced by U+FFFD at once, and finish()
// replaces an unfinished tail the same way, so that the concatenation of everything a stream
// returns equals Tokenizer::decode of all its ids (HF's decode, errors replaced).
#include <cstdint>
#include <string>

#include "sambay/text/tokenizer.h"

namespace sambay {

class DetokenizerStream {
 public:
  // Special added tokens (e.g. <|end|>) produce no text when `skip_special_tokens` is set.
  explicit DetokenizerStream(Tokenizer tokenizer, bool skip_special_tokens = false);

  // Adds one id and returns the text it completes (often empty or the token's own text). Ids that
  // name no token add nothing.
  std::string push(int32_t id);
  // The same, appending to `out`.
  void push(int32_t id, std::string& out);

  // Ends the stream: returns what was held back (U+FFFD for an unfinished character) and resets.
  std::string finish();

  // Bytes held back waiting for the rest of a character (0..3).
  size_t pending_bytes() const { return pending_.size(); }

  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  Tokenizer tokenizer_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace sambay
