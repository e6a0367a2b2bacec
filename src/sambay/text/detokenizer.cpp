#include "sambay/text/detokenizer.h"

#include "sambay/text/utf8.h"

namespace sambay {

DetokenizerStream::DetokenizerStream(Tokenizer tokenizer, bool skip_special_tokens)
    : tokenizer_(std::move(tokenizer)), skip_special_(skip_special_tokens) {}

void DetokenizerStream::push(int32_t id, std::string& out) {
  if (skip_special_ && tokenizer_.is_special(id)) return;
  const std::string_view bytes = tokenizer_.token_bytes(id);
  if (bytes.empty()) return;
  if (pending_.empty()) {
    // The common case: nothing held back, so emit straight from the token's bytes.
    const size_t used = utf8::append_complete(out, bytes);
    pending_.assign(bytes.substr(used));
    return;
  }
  // Whether a sequence is valid depends only on its own bytes, so repairing the held-back tail
  // together with the new bytes gives the same result as repairing the whole text at the end.
  pending_ += bytes;
  const size_t used = utf8::append_complete(out, pending_);
  pending_.erase(0, used);
}

std::string DetokenizerStream::push(int32_t id) {
  std::string out;
  push(id, out);
  return out;
}

std::string DetokenizerStream::finish() {
  std::string out;
  utf8::append_lossy(out, pending_);
  pending_.clear();
  return out;
}

}  // namespace sambay
