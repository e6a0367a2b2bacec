#pragma once
// Reads a Hugging Face tokenizer.json. The file is mostly model.vocab (200k entries) and
// model.merges (200k pairs): a full DOM of those costs ~200 ms in nlohmann-json (a std::map node
// and a string per entry), so a SAX pass streams them into one string arena and builds a DOM only
// for the small rest (pre_tokenizer, decoder, added_tokens, model options, ...).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sambay {

struct TokenizerJson {
  struct Str {
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  struct VocabEntry {
    Str token;
    int32_t id = 0;
  };

  std::string path;     // the file, for error messages
  std::string strings;  // arena holding every vocab and merge string
  std::vector<VocabEntry> vocab;
  std::vector<std::pair<Str, Str>> merges;
  bool has_vocab = false;
  bool has_merges = false;
  nlohmann::json doc;  // the whole file except model.vocab and model.merges

  std::string_view str(Str s) const { return std::string_view(strings).substr(s.offset, s.length); }
};

// Parses `text` (the content of `path`); throws sambay::Error naming the file and the JSON field.
TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& path);
// Reads and parses a file.
TokenizerJson read_tokenizer_json(const std::filesystem::path& path);

}  // namespace sambay
