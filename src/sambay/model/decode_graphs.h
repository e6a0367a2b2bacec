#pragma once
// Decode steps replayed from captured graphs, for any model family. A decode step (one new token
// per sequence, last logits only) issues the same kernels every time for a given state cache and
// batch size; only the step inputs (ids, positions, slots, factor sets) and the page table change,
// and those live at fixed device addresses. So each (cache, batch size) is captured once and
// replayed afterwards.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <utility>

#include "sambay/ops/ops.h"

namespace sambay {

class DecodeGraphs {
 public:
  void set_enabled(bool on) { enabled_ = on; }

  // Whether a step of these chunks is replayed: graphs on, a backend that has them, and one token
  // per sequence.
  bool applies(const Ops& ops, std::span<const SeqChunk> chunks) const;

  // The logits [batch, vocab] F32 of one decode step, from the graph of (cache_id, batch); the
  // first step of a key captures it. `issue_step(logits)` issues the ops of one decode step, copies
  // its logits into `logits` and frees every buffer it allocated (so that every replay frees what it
  // allocates). It is called once more when the backend asks for the capture to be repeated.
  // The returned tensor is rewritten by every replay of the same graph.
  OwnedTensor replay(Ops& ops, uint64_t cache_id, int batch, int64_t vocab,
                     const std::function<void(const Tensor& logits)>& issue_step);

 private:
  struct Graph {
    std::shared_ptr<void> graph;
    OwnedTensor logits;
  };
  bool enabled_ = true;
  std::map<std::pair<uint64_t, int>, Graph> graphs_;  // (cache id, batch size)
};

}  // namespace sambay
