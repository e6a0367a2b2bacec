#include "sambay/model/decode_graphs.h"

#include <algorithm>

#include "sambay/base/error.h"

namespace sambay {

bool DecodeGraphs::applies(const Ops& ops, std::span<const SeqChunk> chunks) const {
  return enabled_ && ops.supports_graphs() &&
         std::all_of(chunks.begin(), chunks.end(), [](const SeqChunk& c) { return c.len == 1; });
}

OwnedTensor DecodeGraphs::replay(Ops& ops, uint64_t cache_id, int batch, int64_t vocab,
                                 const std::function<void(const Tensor& logits)>& issue_step) {
  const auto key = std::make_pair(cache_id, batch);
  auto it = graphs_.find(key);
  if (it == graphs_.end()) {
    Graph g;
    g.logits = ops.empty(batch, vocab, DType::F32);
    // end_capture() returns null when the backend had to make room for the graph's buffers first.
    for (int attempt = 0; attempt < 2 && !g.graph; ++attempt) {
      ops.begin_capture();
      try {
        issue_step(*g.logits);
      } catch (...) {
        ops.abort_capture();
        throw;
      }
      g.graph = ops.end_capture();
    }
    SAMBAY_CHECK(g.graph, "decode graph capture failed twice for a batch of {} sequences", batch);
    it = graphs_.emplace(key, std::move(g)).first;
  }
  ops.launch_graph(it->second.graph);
  return it->second.logits;
}

}  // namespace sambay
