#include "sambay/text/tokenizer_json.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "sambay/base/error.h"

namespace sambay {

namespace {

using json = nlohmann::json;

// Builds the DOM for everything but model.vocab / model.merges, which it streams into `out`.
class Reader : public nlohmann::json_sax<json> {
 public:
  explicit Reader(TokenizerJson& out) : out_(out) {}

  bool null() override { return value(json(nullptr), "null"); }
  bool boolean(bool v) override { return value(json(v), "a boolean"); }
  bool number_integer(number_integer_t v) override {
    if (mode_ == Mode::kVocab) fail("{}: model.vocab[\"{}\"]: id {} is negative", out_.path, key_, v);
    return value(json(v), "a number");
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (mode_ == Mode::kVocab) {
      if (v > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
        fail("{}: model.vocab[\"{}\"]: id {} is too large", out_.path, key_, v);
      }
      out_.vocab.push_back({vocab_key_, static_cast<int32_t>(v)});
      return true;
    }
    return value(json(v), "a number");
  }
  bool number_float(number_float_t v, const string_t&) override { return value(json(v), "a number"); }
  bool binary(binary_t&) override { return value(json(nullptr), "binary data"); }

  bool string(string_t& s) override {
    if (mode_ == Mode::kMerges) {
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        fail("{}: model.merges[{}]: \"{}\" is not two tokens separated by one space", out_.path,
             out_.merges.size(), s);
      }
      out_.merges.push_back({store(std::string_view(s).substr(0, space)), store(std::string_view(s).substr(space + 1))});
      return true;
    }
    if (mode_ == Mode::kMergePair) {
      if (pair_count_ >= 2) fail("{}: model.merges[{}]: a merge pair has more than two tokens", out_.path, out_.merges.size());
      pair_[pair_count_++] = store(s);
      return true;
    }
    return value(json(std::move(s)), "a string");
  }

  bool start_object(std::size_t) override {
    if (expect_ == Mode::kVocab) {
      expect_ = Mode::kDom;
      mode_ = Mode::kVocab;
      out_.has_vocab = true;
      return true;
    }
    check_not_special("an object");
    open(json::object());
    return true;
  }
  bool key(string_t& k) override {
    if (mode_ == Mode::kVocab) {
      key_ = k;
      vocab_key_ = store(k);
      return true;
    }
    // model.vocab / model.merges: the next value is streamed, not stored in the DOM.
    if (stack_.size() == 2 && stack_keys_[1] == "model" && (k == "vocab" || k == "merges")) {
      expect_ = k == "vocab" ? Mode::kVocab : Mode::kMerges;
    }
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kDom;
      return true;
    }
    close();
    return true;
  }
  bool start_array(std::size_t) override {
    if (expect_ == Mode::kMerges) {
      expect_ = Mode::kDom;
      mode_ = Mode::kMerges;
      out_.has_merges = true;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kMergePair;
      pair_count_ = 0;
      return true;
    }
    check_not_special("an array");
    open(json::array());
    return true;
  }
  bool end_array() override {
    if (mode_ == Mode::kMergePair) {
      if (pair_count_ != 2) fail("{}: model.merges[{}]: a merge pair needs two tokens", out_.path, out_.merges.size());
      out_.merges.push_back({pair_[0], pair_[1]});
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kDom;
      return true;
    }
    close();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) override {
    fail("{}: not valid JSON: {}", out_.path, ex.what());
  }

 private:
  enum class Mode { kDom, kVocab, kMerges, kMergePair };

  TokenizerJson::Str store(std::string_view s) {
    const TokenizerJson::Str r{static_cast<uint32_t>(out_.strings.size()), static_cast<uint32_t>(s.size())};
    out_.strings.append(s);
    return r;
  }

  // A value where vocab / merges content was expected is a type error naming the field.
  void check_not_special(const char* what) {
    if (expect_ == Mode::kVocab) fail("{}: model.vocab: expected an object of token -> id, got {}", out_.path, what);
    if (expect_ == Mode::kMerges) fail("{}: model.merges: expected an array, got {}", out_.path, what);
    if (mode_ == Mode::kVocab) fail("{}: model.vocab[\"{}\"]: expected an integer id, got {}", out_.path, key_, what);
    if (mode_ == Mode::kMerges || mode_ == Mode::kMergePair) {
      fail("{}: model.merges[{}]: expected \"a b\" or [\"a\", \"b\"], got {}", out_.path, out_.merges.size(), what);
    }
  }

  bool value(json v, const char* what) {
    check_not_special(what);
    if (stack_.empty()) {
      out_.doc = std::move(v);
    } else if (stack_.back()->is_object()) {
      (*stack_.back())[key_] = std::move(v);
    } else {
      stack_.back()->push_back(std::move(v));
    }
    return true;
  }

  void open(json container) {
    json* slot;
    if (stack_.empty()) {
      out_.doc = std::move(container);
      slot = &out_.doc;
    } else if (stack_.back()->is_object()) {
      slot = &((*stack_.back())[key_] = std::move(container));
    } else {
      stack_.back()->push_back(std::move(container));
      slot = &stack_.back()->back();
    }
    // Remember under which key each child of the root sits, to recognise root.model.
    stack_keys_.push_back(stack_.size() == 1 && stack_.back()->is_object() ? key_ : std::string());
    stack_.push_back(slot);
  }
  void close() {
    stack_.pop_back();
    stack_keys_.pop_back();
  }

  TokenizerJson& out_;
  std::vector<json*> stack_;
  std::vector<std::string> stack_keys_;  // [1]: the root key that container stack_[1] hangs from
  std::string key_;
  TokenizerJson::Str vocab_key_;
  Mode mode_ = Mode::kDom;
  Mode expect_ = Mode::kDom;
  TokenizerJson::Str pair_[2];
  int pair_count_ = 0;
};

}  // namespace

TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& path) {
  TokenizerJson out;
  out.path = path;
  // A symbolic link stored as a plain file (git with core.symlinks=false, some copy tools) holds a
  // path instead of JSON: say so instead of reporting a JSON syntax error.
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] != '{' && text.size() < 4096 &&
      text.find('\n', first) == std::string_view::npos && text.find("tokenizer.json") != std::string_view::npos) {
    fail("{}: not a tokenizer.json: the file holds only the text '{}' (a symbolic link saved as a plain file?)",
         path, text.substr(first));
  }
  out.strings.reserve(text.size() / 2);
  out.vocab.reserve(1 << 18);
  out.merges.reserve(1 << 18);
  Reader reader(out);
  json::sax_parse(text.begin(), text.end(), &reader);
  if (!out.doc.is_object()) fail("{}: expected a JSON object at the top level", path);
  return out;
}

TokenizerJson read_tokenizer_json(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("cannot open {}: {}", path.string(), std::strerror(errno));
  std::string data;
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  data.resize(size > 0 ? static_cast<size_t>(size) : 0);
  const size_t got = data.empty() ? 0 : std::fread(data.data(), 1, data.size(), f);
  const bool failed = size < 0 || got != data.size() || std::ferror(f);
  std::fclose(f);
  if (failed) fail("cannot read {}", path.string());
  return parse_tokenizer_json(data, path.string());
}

}  // namespace sambay
