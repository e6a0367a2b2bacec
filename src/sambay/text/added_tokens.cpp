#include "sambay/text/added_tokens.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "sambay/text/split_regex.h"
#include "sambay/text/utf8.h"

namespace sambay {

namespace {

// Rust regex's Unicode `\w`, which HF's single_word test uses (not PCRE2's narrower \w).
bool is_word_char(std::string_view one_char) {
  static const SplitRegex word =
      SplitRegex::compile("[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]", false, "single_word test");
  size_t b, e;
  return word.find(one_char, 0, b, e) && b == 0;
}

bool ends_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t i = s.size();
  utf8::prev(s, i);
  return is_word_char(s.substr(i));
}

bool starts_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  utf8::next(s, i);
  return is_word_char(s.substr(0, i));
}

// Start of the white space run that ends s (s.size() when s does not end with white space).
size_t trailing_space_start(std::string_view s) {
  size_t i = s.size();
  while (i > 0) {
    size_t j = i;
    if (!utf8::is_white_space(utf8::prev(s, j))) break;
    i = j;
  }
  return i;
}

// Length of the white space run that starts s.
size_t leading_space_length(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    if (!utf8::is_white_space(utf8::next(s, j))) break;
    i = j;
  }
  return i;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens) : tokens_(tokens) {
  // One entry per content: a later token with the same content replaces the earlier one, as the
  // content -> id map of HF does. Empty contents never match.
  std::map<std::string, int32_t> by_content;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (!tokens_[i].content.empty()) by_content[tokens_[i].content] = static_cast<int32_t>(i);
  }
  std::vector<int32_t> members[2];
  for (const auto& [content, index] : by_content) members[tokens_[index].normalized ? 1 : 0].push_back(index);
  for (int pass = 0; pass < 2; ++pass) tries_[pass] = build_trie(tokens_, members[pass]);
}

AddedTokenMatcher::Trie AddedTokenMatcher::build_trie(const std::vector<AddedToken>& tokens,
                                                      const std::vector<int32_t>& members) {
  // Build with maps, then flatten into sorted edge lists (small and cache-friendly to walk).
  struct TempNode {
    std::map<uint8_t, uint32_t> children;
    int32_t token = -1;
  };
  std::vector<TempNode> temp(1);
  for (int32_t index : members) {
    uint32_t node = 0;
    for (char c : tokens[index].content) {
      const auto b = static_cast<uint8_t>(c);
      auto it = temp[node].children.find(b);
      if (it == temp[node].children.end()) {
        temp.push_back({});
        it = temp[node].children.emplace(b, static_cast<uint32_t>(temp.size() - 1)).first;
      }
      node = it->second;
    }
    temp[node].token = index;
  }
  Trie trie;
  trie.nodes.resize(temp.size());
  for (size_t i = 0; i < temp.size(); ++i) {
    trie.nodes[i].first_edge = static_cast<uint32_t>(trie.edges.size());
    trie.nodes[i].edge_count = static_cast<uint16_t>(temp[i].children.size());
    trie.nodes[i].token = temp[i].token;
    for (const auto& [b, child] : temp[i].children) trie.edges.push_back({b, child});
  }
  for (const auto& [b, child] : temp[0].children) trie.first_byte[b] = true;
  if (temp[0].children.size() == 1) trie.single_first_byte = temp[0].children.begin()->first;
  return trie;
}

int32_t AddedTokenMatcher::longest_at(const Trie& trie, std::string_view text, size_t pos, size_t limit,
                                      size_t& length) {
  int32_t best = -1;
  uint32_t node = 0;
  for (size_t i = pos; i < limit; ++i) {
    const Node& n = trie.nodes[node];
    const auto b = static_cast<uint8_t>(text[i]);
    const Edge* first = trie.edges.data() + n.first_edge;
    const Edge* last = first + n.edge_count;
    const Edge* e = std::lower_bound(first, last, b, [](const Edge& x, uint8_t v) { return x.byte < v; });
    if (e == last || e->byte != b) break;
    node = e->child;
    if (trie.nodes[node].token >= 0) {
      best = trie.nodes[node].token;
      length = i + 1 - pos;
    }
  }
  return best;
}

void AddedTokenMatcher::find_matches(const Trie& trie, std::string_view text, size_t lo, size_t hi,
                                     std::span<const ByteRange> allowed, std::vector<TextSpan>& out) const {
  // A literal transcription of HF's find_matches (added_vocabulary.rs), over the "sentence"
  // text[lo, hi): matches are consumed left to right and the search resumes at the end of the
  // matched content, not of the white space an rstrip swallowed.
  size_t start_offset = lo;
  const bool any_tokens = trie.nodes.size() > 1;
  for (size_t r = 0; any_tokens && r < allowed.size(); ++r) {
    size_t range_begin = std::max(allowed[r].begin, lo);
    size_t range_end = std::min(allowed[r].end, hi);
    while (r + 1 < allowed.size() && allowed[r + 1].begin == allowed[r].end) {  // adjacent: one range
      ++r;
      range_end = std::min(allowed[r].end, hi);
    }
    for (size_t p = range_begin; p < range_end;) {
      if (trie.single_first_byte >= 0) {
        const void* q = std::memchr(text.data() + p, trie.single_first_byte, range_end - p);
        if (!q) break;
        p = static_cast<size_t>(static_cast<const char*>(q) - text.data());
      } else if (!trie.first_byte[static_cast<uint8_t>(text[p])]) {
        ++p;
        continue;
      }
      size_t length = 0;
      const int32_t index = longest_at(trie, text, p, range_end, length);
      if (index < 0) {
        ++p;
        continue;
      }
      const AddedToken& token = tokens_[index];
      size_t start = p;
      size_t stop = p + length;
      p = stop;
      if (token.single_word) {
        const bool start_space = start == lo || !ends_with_word(text.substr(lo, start - lo));
        const bool stop_space = stop == hi || !starts_with_word(text.substr(stop, hi - stop));
        if (!start_space || !stop_space) continue;
      }
      if (token.lstrip) start = std::max(lo + trailing_space_start(text.substr(lo, start - lo)), start_offset);
      if (token.rstrip) stop += leading_space_length(text.substr(stop, hi - stop));
      if (start_offset < start) out.push_back({start_offset, start, -1});
      out.push_back({start, stop, token.id});
      start_offset = stop;
    }
  }
  if (start_offset != hi) out.push_back({start_offset, hi, -1});
}

void AddedTokenMatcher::split(std::string_view text, std::span<const ByteRange> allowed,
                              std::vector<TextSpan>& out) const {
  // Pass 1: non-normalized tokens over the whole text. Pass 2: normalized tokens inside each plain
  // span of pass 1 (HF slices the text, so strips cannot cross into a pass-1 token).
  std::vector<TextSpan> first;
  find_matches(tries_[0], text, 0, text.size(), allowed, first);
  if (tries_[1].nodes.size() <= 1) {
    out.insert(out.end(), first.begin(), first.end());
    return;
  }
  for (const TextSpan& s : first) {
    if (s.id >= 0 || s.begin >= s.end) {
      out.push_back(s);
    } else {
      find_matches(tries_[1], text, s.begin, s.end, allowed, out);
    }
  }
}

}  // namespace sambay
