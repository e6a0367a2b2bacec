#pragma once
// GPT-2's byte-level alphabet: each of the 256 byte values is written as one printable code point
// (bytes that are already printable Latin-1 stand for themselves, the other 68 are moved to
// U+0100..U+0143), so that a BPE vocabulary can be stored as JSON strings. We tokenize raw bytes
// and only meet this alphabet when reading tokenizer.json, so it lives at the edge of the code.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sambay::byte_level {

// The code point that stands for byte b.
char32_t char_of(uint8_t b);
// The byte that code point c stands for, or -1 when c is not in the alphabet.
int byte_of(char32_t c);

// The raw bytes a vocabulary string stands for, or nullopt when the string holds a character
// outside the alphabet (then it cannot come out of byte-level BPE).
std::optional<std::string> to_bytes(std::string_view token);
// The same, appending to out; returns false (out then holds a partial result) when a character is
// outside the alphabet. Lets a loop over many strings reuse one buffer.
bool append_bytes(std::string_view token, std::string& out);

// Hugging Face's ByteLevel decoder, per token: the bytes the string stands for, or the string's
// own UTF-8 when any character is outside the alphabet (e.g. an added token's content).
std::string decode_token(std::string_view token);

// The vocabulary string for raw bytes (the inverse of to_bytes).
std::string from_bytes(std::string_view bytes);

}  // namespace sambay::byte_level
