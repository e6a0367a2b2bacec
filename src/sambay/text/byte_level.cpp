#include "sambay/text/byte_level.h"

#include <array>

#include "sambay/text/utf8.h"

namespace sambay::byte_level {

namespace {

struct Tables {
  std::array<char32_t, 256> char_of{};
  std::array<int16_t, 0x144> byte_of{};  // the alphabet ends at U+0143
};

const Tables& tables() {
  static const Tables t = [] {
    Tables t;
    t.byte_of.fill(-1);
    auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; };
    char32_t next_free = 0x100;
    for (int b = 0; b < 256; ++b) {
      const char32_t c = printable(b) ? static_cast<char32_t>(b) : next_free++;
      t.char_of[b] = c;
      t.byte_of[c] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return t;
}

}  // namespace

char32_t char_of(uint8_t b) { return tables().char_of[b]; }

int byte_of(char32_t c) { return c < 0x144 ? tables().byte_of[c] : -1; }

bool append_bytes(std::string_view token, std::string& out) {
  const Tables& t = tables();
  for (size_t i = 0; i < token.size();) {
    const char32_t c = utf8::next(token, i);
    const int b = c < 0x144 ? t.byte_of[c] : -1;
    if (b < 0) return false;
    out.push_back(static_cast<char>(b));
  }
  return true;
}

std::optional<std::string> to_bytes(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  if (!append_bytes(token, out)) return std::nullopt;
  return out;
}

std::string decode_token(std::string_view token) {
  if (auto bytes = to_bytes(token)) return std::move(*bytes);
  return std::string(token);
}

std::string from_bytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char b : bytes) utf8::append(out, char_of(static_cast<uint8_t>(b)));
  return out;
}

}  // namespace sambay::byte_level
