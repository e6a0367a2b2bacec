// libFuzzer target for the tokenizer: arbitrary bytes (valid UTF-8 or not) through encode,
// encode_plain, encode_segments, decode and the streaming detokenizer.
//
// Behaviour on invalid UTF-8 (documented in tokenizer.h): each invalid sequence is replaced by
// U+FFFD before encoding, so encode(x) == encode(lossy(x)) and decode(encode(x)) == lossy(x),
// where lossy() is the from_utf8_lossy / errors="replace" repair. The target checks exactly that,
// which for valid input is the round trip decode(encode(x)) == x.
//
// Needs: SAMBAY_SOURCE_DIR (a string literal of the repository root) or SAMBAY_TOKENIZER_JSON
// (the path of a tokenizer.json) defined at compile time, and linking with sambay_core.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "sambay/text/detokenizer.h"
#include "sambay/text/tokenizer.h"
#include "sambay/text/utf8.h"

namespace {

const sambay::Tokenizer& tokenizer() {
#ifdef SAMBAY_TOKENIZER_JSON
  static const sambay::Tokenizer t = sambay::Tokenizer::from_file(SAMBAY_TOKENIZER_JSON);
#else
  static const sambay::Tokenizer t = sambay::Tokenizer::from_file(SAMBAY_SOURCE_DIR "/models/tiny-flash/tokenizer.json");
#endif
  return t;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_tokenizer: %s\n", what);
    std::abort();
  }
}

// With added tokens recognised, rstrip/lstrip may drop white space next to them, so the exact
// checks apply only to encodings without added tokens.
bool has_added_token(const sambay::Tokenizer& tok, const std::vector<int32_t>& ids) {
  for (int32_t id : ids) {
    if (tok.is_added(id)) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const sambay::Tokenizer& tok = tokenizer();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string repaired = sambay::utf8::to_lossy(input);

  // Plain text: an exact round trip of the repaired text, and identical to encoding it directly.
  const std::vector<int32_t> plain = tok.encode_plain(input);
  check(tok.decode(plain) == repaired, "decode(encode_plain(x)) != lossy(x)");
  check(plain == tok.encode_plain(repaired), "encode_plain(x) != encode_plain(lossy(x))");
  for (int32_t id : plain) check(id >= 0 && id < tok.vocab_size() && !tok.token_bytes(id).empty(), "bad id");

  // With added tokens recognised: exact unless an added token swallowed white space.
  const std::vector<int32_t> ids = tok.encode(input);
  if (!has_added_token(tok, ids)) {
    check(ids == plain, "encode != encode_plain without added tokens");
  }

  // Segments: the first half as template text, the second as content.
  const std::vector<sambay::Tokenizer::Segment> segments = {
      sambay::Tokenizer::Segment::template_text(input.substr(0, size / 2)),
      sambay::Tokenizer::Segment::content(input.substr(size / 2))};
  const std::vector<int32_t> seg_ids = tok.encode_segments(segments);
  (void)seg_ids;

  // Streaming: the pieces are valid UTF-8 and add up to decode(). The input bytes also serve as
  // raw ids (4 bytes each), including negative and out-of-range ones.
  std::vector<int32_t> stream_ids = plain;
  for (size_t i = 0; i + 4 <= size; i += 4) {
    int32_t id;
    __builtin_memcpy(&id, data + i, 4);
    stream_ids.push_back(id % 4 == 0 ? id : id % 200100);
  }
  sambay::DetokenizerStream stream(tok, size % 2 == 1);
  std::string streamed;
  for (int32_t id : stream_ids) {
    const std::string piece = stream.push(id);
    check(sambay::utf8::is_valid(piece), "stream produced invalid UTF-8");
    streamed += piece;
  }
  streamed += stream.finish();
  check(streamed == tok.decode(stream_ids, size % 2 == 1), "stream != decode");
  return 0;
}
