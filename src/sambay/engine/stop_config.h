#pragma once
// When a generation ends: a token limit, end-of-sequence ids, stop strings.
#include <cstdint>
#include <string>
#include <vector>

namespace sambay {

struct StopConfig {
  int max_tokens = 256;
  std::vector<int32_t> eos_ids;        // generation ends on these (unless ignore_eos)
  std::vector<std::string> stop_strings;  // generation ends before the first occurrence of any
  bool ignore_eos = false;
};

}  // namespace sambay
