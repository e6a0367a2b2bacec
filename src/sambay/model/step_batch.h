#pragma once
// The input of one forward step: the new tokens of several sequences, packed one sequence after
// another. Each sequence says whether it wants logits for all its new tokens (scoring, parity
// checks) or only for the last one (generation: the cross-decoder then runs for that row alone).
#include <cstdint>
#include <span>
#include <vector>

#include "sambay/cache/state_cache.h"
#include "sambay/ops/ops.h"

namespace sambay {

struct StepBatch {
  std::vector<int32_t> tokens;
  std::vector<SeqChunk> chunks;  // row0 and len set by add(); pos0 and rope_set filled in by the model
  std::vector<uint8_t> all_logits;
  // Per sequence: the length it will have where the caller reads the logits this chunk leads to — for
  // one chunk of a chunked prefill, the whole prompt's length; 0: the end of this chunk. A model
  // whose position encoding depends on the sequence's length (LongRoPE) picks it from this at the
  // sequence's first chunk, so that every chunk computes what one chunk over the whole would.
  std::vector<int64_t> read_lengths;

  void add(int slot, std::span<const int32_t> new_tokens, bool want_all_logits, int64_t read_length = 0) {
    SeqChunk c;
    c.row0 = static_cast<int32_t>(tokens.size());
    c.len = static_cast<int32_t>(new_tokens.size());
    c.slot = slot;
    chunks.push_back(c);
    all_logits.push_back(want_all_logits ? 1 : 0);
    read_lengths.push_back(read_length);
    tokens.insert(tokens.end(), new_tokens.begin(), new_tokens.end());
  }

  // Rows of the logits a forward over this batch returns, sequence after sequence.
  int64_t logit_rows() const {
    int64_t n = 0;
    for (size_t i = 0; i < chunks.size(); ++i) n += all_logits[i] ? chunks[i].len : 1;
    return n;
  }

  // The length at which the logits of chunk `i` are read, for a sequence that holds `cached`
  // positions before it: the hint, and never less than the chunk's end.
  int64_t read_length(size_t i, int64_t cached) const {
    const int64_t end = cached + chunks[i].len;
    return read_lengths[i] > end ? read_lengths[i] : end;
  }
};

// Fails (naming the token or the chunk) unless every token is in [0, vocab_size) and the chunks are
// non-empty, packed in order, cover every token, and name each slot once.
void check_step(const StepBatch& batch, int64_t vocab_size);

// Makes room in `cache` for every chunk's new positions and brings the device's page table up to
// date; fails when the page pool cannot hold them.
void reserve_step(const StepBatch& batch, StateCache& cache);

}  // namespace sambay
