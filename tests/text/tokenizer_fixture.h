#pragma once
// Fixtures of the tokenizer tests: the model folder's tokenizer.json (loaded once per process)
// and the reference encodings produced by Hugging Face tokenizers (tests/data/tokenizer).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sambay/text/tokenizer.h"

namespace sambay::test {

// The tokenizer.json under test: the tiny model folder's, unless the build names another
// (CMake cache variable SAMBAY_TOKENIZER_JSON).
inline std::filesystem::path tokenizer_json_path() {
#ifdef SAMBAY_TOKENIZER_JSON
  return SAMBAY_TOKENIZER_JSON;
#else
  return std::filesystem::path(SAMBAY_SOURCE_DIR) / "models/tiny-flash/tokenizer.json";
#endif
}

inline const Tokenizer& shared_tokenizer() {
  static const Tokenizer tokenizer = Tokenizer::from_file(tokenizer_json_path());
  return tokenizer;
}

inline std::filesystem::path tokenizer_data_dir() {
  return std::filesystem::path(SAMBAY_SOURCE_DIR) / "tests/data/tokenizer";
}

inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One JSON object per line. Lines are split on "\n" only: the texts hold raw U+2028 and U+0085,
// which other line splitters treat as line ends.
inline std::vector<nlohmann::json> read_jsonl(const std::string& name) {
  const std::string text = read_text_file(tokenizer_data_dir() / name);
  std::vector<nlohmann::json> rows;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) rows.push_back(nlohmann::json::parse(text.substr(start, end - start)));
    start = end + 1;
  }
  return rows;
}

inline std::vector<int32_t> ids_of(const nlohmann::json& row) { return row.at("ids").get<std::vector<int32_t>>(); }

// A readable report of the first difference between two id lists.
inline std::string first_difference(const std::vector<int32_t>& got, const std::vector<int32_t>& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  std::ostringstream os;
  os << "sizes " << got.size() << " vs " << want.size() << ", first difference at index " << i << ": got [";
  for (size_t k = i; k < std::min(got.size(), i + 8); ++k) os << got[k] << ' ';
  os << "] want [";
  for (size_t k = i; k < std::min(want.size(), i + 8); ++k) os << want[k] << ' ';
  os << "]";
  return os.str();
}

}  // namespace sambay::test
