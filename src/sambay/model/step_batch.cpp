#include "sambay/model/step_batch.h"

#include <set>

#include "sambay/base/error.h"

namespace sambay {

void check_step(const StepBatch& batch, int64_t vocab_size) {
  const int64_t T = static_cast<int64_t>(batch.tokens.size());
  for (int64_t i = 0; i < T; ++i)
    if (batch.tokens[i] < 0 || batch.tokens[i] >= vocab_size)
      fail("token id {} (input position {}) is outside the vocabulary [0, {})", batch.tokens[i], i, vocab_size);
  std::set<int> slots;
  int64_t next_row = 0;
  for (const SeqChunk& c : batch.chunks) {
    SAMBAY_CHECK(c.len > 0 && c.row0 == next_row, "forward: chunks must be non-empty and packed in order");
    SAMBAY_CHECK(slots.insert(c.slot).second, "forward: slot {} appears twice in one step", c.slot);
    next_row += c.len;
  }
  SAMBAY_CHECK(next_row == T && T > 0, "forward: the chunks do not cover the {} tokens", T);
}

void reserve_step(const StepBatch& batch, StateCache& cache) {
  for (const SeqChunk& c : batch.chunks)
    if (!cache.reserve(c.slot, c.len))
      fail("state cache: no free pages for {} more positions of the sequence in slot {}", c.len, c.slot);
  cache.sync_page_table();
}

}  // namespace sambay
