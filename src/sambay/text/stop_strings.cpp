#include "sambay/text/stop_strings.h"

#include <algorithm>
#include <deque>

#include "sambay/base/error.h"
#include "sambay/text/utf8.h"

namespace sambay {

StopStringMatcher::StopStringMatcher(const std::vector<std::string>& stops) : stops_(stops) {
  nodes_.emplace_back();
  for (size_t k = 0; k < stops_.size(); ++k) {
    const std::string& s = stops_[k];
    // The UTF-8 argument in the header needs valid stop strings; one that is not valid could also
    // never match the (valid) output in a sensible place.
    if (!utf8::is_valid(s)) fail("stop string {} is not valid UTF-8", k);
    if (s.empty()) continue;  // would match before any text: OpenAI and vLLM ignore it too
    max_len_ = std::max(max_len_, s.size());
    int32_t node = 0;
    for (char ch : s) {
      const auto byte = static_cast<uint8_t>(ch);
      int32_t c = child(node, byte);
      if (c < 0) {
        c = static_cast<int32_t>(nodes_.size());
        nodes_.emplace_back();
        nodes_.back().depth = nodes_[node].depth + 1;
        nodes_[node].next.emplace_back(byte, c);
      }
      node = c;
    }
    if (nodes_[node].match_index < 0) {  // the first of duplicates names the match
      nodes_[node].match_len = static_cast<int32_t>(s.size());
      nodes_[node].match_index = static_cast<int32_t>(k);
    }
  }
  // Failure links in breadth-first order, so a node's suffixes (shallower) are done before it.
  std::deque<int32_t> queue;
  for (const auto& [byte, c] : nodes_[0].next) queue.push_back(c);  // fail = root
  while (!queue.empty()) {
    const int32_t u = queue.front();
    queue.pop_front();
    for (const auto& [byte, v] : nodes_[u].next) {
      nodes_[v].fail = step(nodes_[u].fail, byte);
      // A node that is itself a stop string already holds the longest match ending here.
      if (nodes_[v].match_len == 0) {
        nodes_[v].match_len = nodes_[nodes_[v].fail].match_len;
        nodes_[v].match_index = nodes_[nodes_[v].fail].match_index;
      }
      queue.push_back(v);
    }
  }
}

int32_t StopStringMatcher::child(int32_t node, uint8_t byte) const {
  for (const auto& [b, c] : nodes_[node].next)
    if (b == byte) return c;
  return -1;
}

// The node after reading `byte`: the longest suffix of (text + byte) that is a trie node. Each
// failure step shortens the suffix, and each byte lengthens it by at most one, so a push of n bytes
// takes at most n + max_len_ failure steps.
int32_t StopStringMatcher::step(int32_t node, uint8_t byte) const {
  for (;;) {
    const int32_t c = child(node, byte);
    if (c >= 0) return c;
    if (node == 0) return 0;
    node = nodes_[node].fail;
  }
}

StopStringMatcher::Result StopStringMatcher::push(std::string_view piece) {
  Result r;
  if (stopped()) {
    r.stopped = true;
    return r;
  }
  // The text under consideration is held() (it spells state_) followed by the piece; the first
  // `n` bytes of it are `head(n)`. Nothing is copied that is not emitted or kept.
  const std::string_view held = std::string_view(held_).substr(held_begin_);
  auto head = [&](size_t n) {
    std::string out(held.substr(0, n));
    if (n > held.size()) out.append(piece.substr(0, n - held.size()));
    return out;
  };
  int32_t s = state_;
  for (size_t i = 0; i < piece.size(); ++i) {
    s = step(s, static_cast<uint8_t>(piece[i]));
    if (nodes_[s].match_len > 0) {
      // The match lies within held + piece: a start before the held text would mean a longer
      // suffix than the held one was a prefix of a stop string, and the held text is the longest.
      r.emit = head(held.size() + i + 1 - static_cast<size_t>(nodes_[s].match_len));
      r.stopped = true;
      r.consumed = i + 1;
      matched_ = nodes_[s].match_index;
      state_ = 0;
      held_.clear();
      held_begin_ = 0;
      return r;
    }
  }
  state_ = s;
  r.consumed = piece.size();
  const size_t keep = static_cast<size_t>(nodes_[s].depth);
  const size_t cut = held.size() + piece.size() - keep;
  r.emit = head(cut);
  if (cut >= held.size()) {
    held_.assign(piece.substr(cut - held.size()));
    held_begin_ = 0;
  } else {
    // The held text grows at its end and is released from its front: drop the released bytes only
    // once they outnumber the kept ones, so a push costs O(piece) amortized, not O(longest stop).
    held_begin_ += cut;
    held_.append(piece);
    if (held_begin_ >= held_.size() - held_begin_) {
      held_.erase(0, held_begin_);
      held_begin_ = 0;
    }
  }
  return r;
}

std::string StopStringMatcher::finish() {
  state_ = 0;
  std::string out = held_.substr(held_begin_);
  held_.clear();
  held_begin_ = 0;
  return out;
}

std::optional<size_t> StopStringMatcher::matched_index() const {
  if (matched_ < 0) return std::nullopt;
  return static_cast<size_t>(matched_);
}

std::string_view StopStringMatcher::matched_string() const {
  return matched_ < 0 ? std::string_view() : std::string_view(stops_[matched_]);
}

}  // namespace sambay
