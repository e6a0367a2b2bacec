// libFuzzer target: any byte string given to the safetensors parser either fails with an Error or
// yields tensors whose data ranges lie inside the file and do not overlap.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "sambay/base/error.h"
#include "sambay/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sambay;
  std::span<const uint8_t> file(data, size);
  try {
    const SafetensorsHeader h = parse_safetensors(file, "fuzz.safetensors");
    uint64_t prev_end = 0;
    for (const TensorInfo& t : h.tensors) {
      if (h.data_offset + t.end > size) std::abort();
      if (t.begin != t.end && t.begin < prev_end) std::abort();
      if (t.begin != t.end) prev_end = t.end;
      uint8_t acc = 0;  // read every 64th byte: ASan checks the range is inside the input
      for (uint64_t i = t.begin; i < t.end; i += 64) acc ^= data[h.data_offset + i];
      [[maybe_unused]] static volatile uint8_t sink;  // only written: keeps the reads
      sink = acc;
    }
  } catch (const Error&) {
  }
  return 0;
}
