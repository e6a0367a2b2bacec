#pragma once
// The input of one forward step: the new tokens of several sequences, packed one sequence after
// another. Each sequence says whether it wants logits for all its new tokens (scoring, parity
// checks) or only for the last one (generation: the cross-decoder then runs for that row alone).
#include <cstdint>
#include <span>
#include <vector>

#include "sambay/ops/ops.h"

namespace sambay {

struct StepBatch {
  std::vector<int32_t> tokens;
  std::vector<SeqChunk> chunks;  // row0 and len set by add(); pos0 filled in by the model
  std::vector<uint8_t> all_logits;

  void add(int slot, std::span<const int32_t> new_tokens, bool want_all_logits) {
    SeqChunk c;
    c.row0 = static_cast<int32_t>(tokens.size());
    c.len = static_cast<int32_t>(new_tokens.size());
    c.slot = slot;
    chunks.push_back(c);
    all_logits.push_back(want_all_logits ? 1 : 0);
    tokens.insert(tokens.end(), new_tokens.begin(), new_tokens.end());
  }

  // Rows of the logits a forward over this batch returns, sequence after sequence.
  int64_t logit_rows() const {
    int64_t n = 0;
    for (size_t i = 0; i < chunks.size(); ++i) n += all_logits[i] ? chunks[i].len : 1;
    return n;
  }
};

}  // namespace sambay
