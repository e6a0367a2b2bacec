#include "sambay/text/tokenizer.h"

#include "sambay/base/error.h"
#include "sambay/text/byte_level.h"
#include "sambay/text/tokenizer_impl.h"
#include "sambay/text/utf8.h"

namespace sambay {

Tokenizer Tokenizer::from_file(const std::filesystem::path& tokenizer_json) {
  if (std::filesystem::is_directory(tokenizer_json)) {
    fail("{}: is a folder; expected a tokenizer.json file", tokenizer_json.string());
  }
  return Tokenizer(build_tokenizer(read_tokenizer_json(tokenizer_json)));
}

Tokenizer Tokenizer::from_model_dir(const std::filesystem::path& dir) { return from_file(dir / "tokenizer.json"); }

Tokenizer Tokenizer::from_json_text(std::string_view text, const std::string& origin) {
  return Tokenizer(build_tokenizer(parse_tokenizer_json(text, origin)));
}

namespace {

// Invalid UTF-8 is repaired (U+FFFD per maximal invalid subpart) before anything else sees it:
// the regex engine requires valid UTF-8, and this is what a lossy conversion to a Python str or a
// Rust String would hand to Hugging Face.
std::string_view repaired(std::string_view text, std::string& storage) {
  if (utf8::is_valid(text)) return text;
  storage = utf8::to_lossy(text);
  return storage;
}

}  // namespace

void Tokenizer::encode_into(std::string_view text, std::vector<int32_t>& out) const {
  std::string storage;
  text = repaired(text, storage);
  const Impl& m = *impl_;
  if (m.matcher.empty()) {
    m.encode_plain_valid(text, out);
    return;
  }
  const ByteRange all{0, text.size()};
  std::vector<TextSpan> spans;
  m.matcher.split(text, std::span<const ByteRange>(&all, 1), spans);
  for (const TextSpan& s : spans) {
    if (s.id >= 0) {
      out.push_back(s.id);
    } else if (s.end > s.begin) {
      m.encode_plain_valid(text.substr(s.begin, s.end - s.begin), out);
    }
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_into(text, out);
  return out;
}

void Tokenizer::encode_plain_into(std::string_view text, std::vector<int32_t>& out) const {
  std::string storage;
  impl_->encode_plain_valid(repaired(text, storage), out);
}

std::vector<int32_t> Tokenizer::encode_plain(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_plain_into(text, out);
  return out;
}

std::vector<int32_t> Tokenizer::encode_segments(std::span<const Segment> segments) const {
  // Work on the concatenation, allowing token matches only inside template segments.
  std::string text;
  std::vector<ByteRange> allowed;
  for (const Segment& s : segments) {
    const size_t begin = text.size();
    if (utf8::is_valid(s.text)) {
      text += s.text;
    } else {
      utf8::append_lossy(text, s.text);
    }
    if (s.kind == Segment::Kind::kTemplate && text.size() > begin) allowed.push_back({begin, text.size()});
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  const Impl& m = *impl_;
  std::vector<TextSpan> spans;
  m.matcher.split(text, allowed, spans);
  for (const TextSpan& s : spans) {
    if (s.id >= 0) {
      out.push_back(s.id);
    } else if (s.end > s.begin) {
      m.encode_plain_valid(std::string_view(text).substr(s.begin, s.end - s.begin), out);
    }
  }
  return out;
}

std::string Tokenizer::decode_bytes(std::span<const int32_t> ids, bool skip_special_tokens) const {
  const Impl& m = *impl_;
  std::string out;
  out.reserve(ids.size() * 4);
  for (int32_t id : ids) {
    if (skip_special_tokens && is_special(id)) continue;
    out += m.bytes(id);
  }
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::string bytes = decode_bytes(ids, skip_special_tokens);
  if (utf8::is_valid(bytes)) return bytes;
  return utf8::to_lossy(bytes);
}

std::string_view Tokenizer::token_bytes(int32_t id) const { return impl_->bytes(id); }

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  const auto it = impl_->added_by_content.find(std::string(token));
  if (it != impl_->added_by_content.end()) return it->second;
  if (!utf8::is_valid(token)) return std::nullopt;
  return impl_->bpe->find_vocab_string(token);
}

std::optional<int32_t> Tokenizer::bytes_to_id(std::string_view bytes) const {
  const auto it = impl_->added_by_content.find(std::string(bytes));
  if (it != impl_->added_by_content.end()) return it->second;
  return impl_->bpe->find_vocab_string(byte_level::from_bytes(bytes));
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < impl_->vocab_size && (impl_->flags[id] & Impl::kSpecial);
}

bool Tokenizer::is_added(int32_t id) const {
  return id >= 0 && id < impl_->vocab_size && (impl_->flags[id] & Impl::kAdded);
}

int32_t Tokenizer::vocab_size() const { return impl_->vocab_size; }

const std::vector<AddedToken>& Tokenizer::added_tokens() const { return impl_->added; }

}  // namespace sambay
