#include "sambay/text/utf8.h"

#include <cstring>

namespace sambay::utf8 {

namespace {

inline bool is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

}  // namespace

Seq classify(const uint8_t* p, size_t n) {
  const uint8_t b0 = p[0];
  if (b0 < 0x80) return {SeqKind::kValid, 1};
  // The range of the second byte depends on the lead (Unicode Table 3-7): this is what rules out
  // overlong forms, surrogates and code points above U+10FFFF at the earliest possible byte.
  uint8_t need, lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {SeqKind::kInvalid, 1};
  }
  for (uint8_t k = 1; k <= need; ++k) {
    if (k >= n) return {SeqKind::kIncomplete, k};
    const uint8_t b = p[k];
    const bool ok = k == 1 ? (b >= lo && b <= hi) : is_cont(b);
    if (!ok) return {SeqKind::kInvalid, k};
  }
  return {SeqKind::kValid, static_cast<uint8_t>(need + 1)};
}

size_t valid_prefix(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Most text is ASCII: test eight bytes at once.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const Seq q = classify(p + i, n - i);
    if (q.kind != SeqKind::kValid) return i;
    i += q.length;
  }
  return n;
}

namespace {

// Shared by the lossy and streaming paths: `stop_at_incomplete` decides whether an unfinished tail
// becomes U+FFFD (end of input) or is left unconsumed (a stream waiting for more bytes).
size_t append_repaired(std::string& out, std::string_view s, bool stop_at_incomplete) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const size_t valid = valid_prefix(s.substr(i));
    out.append(s.data() + i, valid);
    i += valid;
    if (i == n) break;
    const Seq q = classify(p + i, n - i);
    if (q.kind == SeqKind::kIncomplete && stop_at_incomplete) return i;
    out.append(kReplacement);
    i += q.length;
  }
  return n;
}

}  // namespace

void append_lossy(std::string& out, std::string_view s) { append_repaired(out, s, false); }

std::string to_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  append_lossy(out, s);
  return out;
}

size_t append_complete(std::string& out, std::string_view s) { return append_repaired(out, s, true); }

char32_t next(std::string_view s, size_t& i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
  char32_t cp = b0 & (0x7F >> len);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
  i += len;
  return cp;
}

char32_t prev(std::string_view s, size_t& i) {
  size_t j = i - 1;
  while (j > 0 && is_cont(static_cast<uint8_t>(s[j]))) --j;
  size_t k = j;
  const char32_t cp = next(s, k);
  i = j;
  return cp;
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_white_space(char32_t c) {
  // Unicode PropList.txt White_Space (stable since Unicode 6.3, when U+180E left the set).
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D);
  if (c < 0x85) return false;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace sambay::utf8
