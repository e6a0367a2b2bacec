#pragma once
// The text <-> token id mapping of a Hugging Face model folder's tokenizer.json, reproducing what
// Hugging Face `tokenizers` produces (encode without adding BOS/EOS, decode with invalid UTF-8
// replaced by U+FFFD). Supported: a byte-level BPE model, no normalizer, a pre-tokenizer made of
// Split stages ending in ByteLevel, a ByteLevel decoder, added tokens with all their flags. Any
// other structure is refused at load with an error naming the file and the JSON field.
//
// A Tokenizer is immutable after loading: copies share the tables, and every method may be
// called from several threads at once.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sambay/text/added_tokens.h"

namespace sambay {

class Tokenizer {
 public:
  static Tokenizer from_file(const std::filesystem::path& tokenizer_json);
  static Tokenizer from_model_dir(const std::filesystem::path& dir);  // dir / "tokenizer.json"
  // `text` is the content of a tokenizer.json; `origin` names it in error messages.
  static Tokenizer from_json_text(std::string_view text, const std::string& origin);

  // HF `encode(text, add_special_tokens=False)`: added tokens are found in the text first (with
  // their lstrip / rstrip / single_word rules), the rest is pre-tokenized and BPE-encoded.
  // Invalid UTF-8 cannot reach HF (its input is a str); here each invalid sequence is first
  // replaced by U+FFFD, as from_utf8_lossy / errors="replace" would, and the result encoded.
  std::vector<int32_t> encode(std::string_view text) const;

  // The whole text as plain text: added-token contents are encoded like any other text.
  std::vector<int32_t> encode_plain(std::string_view text) const;

  // A text assembled from pieces of two kinds, for chat templates that must not let message
  // content inject role tokens:
  //   kTemplate: text the template itself emits; added tokens are recognised in it.
  //   kContent:  user- or model-supplied text; added-token contents in it are plain text.
  // Apart from where tokens may be recognised, the result is that of encode() on the
  // concatenation: a token is recognised only when its whole content lies inside template text
  // (adjacent template segments count as one), but its lstrip / rstrip still swallow the white
  // space next to it in whatever segment that lies (an rstrip token ending a template segment
  // swallows the white space that starts the following content, as HF does on the rendered
  // prompt), and plain text is pre-tokenized across segment boundaries. So when no content
  // segment contains an added-token string, encode_segments(s) == encode(concatenation of s).
  struct Segment {
    enum class Kind : uint8_t { kTemplate, kContent };
    Kind kind = Kind::kContent;
    std::string_view text;
    static Segment template_text(std::string_view t) { return {Kind::kTemplate, t}; }
    static Segment content(std::string_view t) { return {Kind::kContent, t}; }
  };
  std::vector<int32_t> encode_segments(std::span<const Segment> segments) const;

  // Appending forms of the above, for callers that reuse one buffer.
  void encode_into(std::string_view text, std::vector<int32_t>& out) const;
  void encode_plain_into(std::string_view text, std::vector<int32_t>& out) const;

  // HF `decode(ids)`: token texts concatenated, invalid UTF-8 replaced by U+FFFD. Ids that name no
  // token (gaps in the vocabulary, negative, beyond the vocabulary) add nothing.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;
  // The same without the UTF-8 repair: exactly the bytes of the tokens.
  std::string decode_bytes(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // The raw bytes of a token (empty when the id names none). Added tokens give their content.
  std::string_view token_bytes(int32_t id) const;
  // The id of a token given as HF writes it: an added token's content or a vocabulary string in
  // the byte-level alphabet (e.g. "Ġhello" for " hello"), as HF's token_to_id.
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // The id of the vocabulary token whose bytes are exactly `bytes`, or of an added token.
  std::optional<int32_t> bytes_to_id(std::string_view bytes) const;

  bool is_special(int32_t id) const;  // an added token marked "special"
  bool is_added(int32_t id) const;
  int32_t vocab_size() const;         // 1 + the largest id that names a token
  const std::vector<AddedToken>& added_tokens() const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace sambay
