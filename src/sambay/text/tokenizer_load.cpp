// Turns a parsed tokenizer.json into a Tokenizer's tables, refusing every structure we do not
// implement exactly: a tokenizer that silently encodes differently from its reference is worse
// than one that does not load. Errors read "<file>: <json field>: <problem>".
#include <algorithm>

#include "sambay/base/error.h"
#include "sambay/text/byte_level.h"
#include "sambay/text/tokenizer_impl.h"

namespace sambay {

namespace {

using json = nlohmann::json;

// GPT-2's split, which a ByteLevel pre-tokenizer with use_regex = true applies (Isolated).
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class Fields {
 public:
  explicit Fields(const std::string& file) : file_(file) {}

  [[noreturn]] void bad(const std::string& field, const std::string& problem) const {
    fail("{}: {}: {}", file_, field, problem);
  }
  static const char* kind(const json& v) {
    switch (v.type()) {
      case json::value_t::null: return "null";
      case json::value_t::boolean: return "a boolean";
      case json::value_t::string: return "a string";
      case json::value_t::object: return "an object";
      case json::value_t::array: return "an array";
      default: return "a number";
    }
  }
  // obj[key] or nullptr when absent or null.
  static const json* get(const json& obj, const char* key) {
    const auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }
  const json& object(const json& obj, const char* key, const std::string& field) const {
    const json* v = get(obj, key);
    if (!v) bad(field, "missing");
    if (!v->is_object()) bad(field, std::string("expected an object, got ") + kind(*v));
    return *v;
  }
  std::string string(const json& obj, const char* key, const std::string& field) const {
    const json* v = get(obj, key);
    if (!v) bad(field, "missing");
    if (!v->is_string()) bad(field, std::string("expected a string, got ") + kind(*v));
    return v->get<std::string>();
  }
  bool boolean(const json& obj, const char* key, const std::string& field, bool fallback) const {
    const json* v = get(obj, key);
    if (!v) return fallback;
    if (!v->is_boolean()) bad(field, std::string("expected a boolean, got ") + kind(*v));
    return v->get<bool>();
  }
  const std::string& file() const { return file_; }

 private:
  const std::string& file_;
};

BpeOptions read_model(const Fields& f, const TokenizerJson& tj) {
  const json& model = f.object(tj.doc, "model", "model");
  const std::string type = f.string(model, "type", "model.type");
  if (type != "BPE") f.bad("model.type", "'" + type + "' is not supported (only BPE)");
  if (!tj.has_vocab) f.bad("model.vocab", "missing");
  if (!tj.has_merges) f.bad("model.merges", "missing");
  if (const json* d = Fields::get(model, "dropout")) {
    if (!d->is_number()) f.bad("model.dropout", std::string("expected a number, got ") + Fields::kind(*d));
    if (d->get<double>() > 0) f.bad("model.dropout", "BPE dropout is not supported (encoding must be deterministic)");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (Fields::get(model, key) && !f.string(model, key, std::string("model.") + key).empty()) {
      f.bad(std::string("model.") + key, "is not supported (byte-level BPE does not use it)");
    }
  }
  if (f.boolean(model, "byte_fallback", "model.byte_fallback", false)) {
    f.bad("model.byte_fallback", "true is not supported (byte-level BPE covers every byte)");
  }
  BpeOptions o;
  if (Fields::get(model, "unk_token")) o.unk_token = f.string(model, "unk_token", "model.unk_token");
  o.fuse_unk = f.boolean(model, "fuse_unk", "model.fuse_unk", false);
  o.ignore_merges = f.boolean(model, "ignore_merges", "model.ignore_merges", false);
  return o;
}

void read_pre_tokenizer(const Fields& f, const json& v, const std::string& field, std::vector<SplitStage>& stages,
                        bool& saw_byte_level) {
  if (!v.is_object()) f.bad(field, std::string("expected an object, got ") + Fields::kind(v));
  const std::string type = f.string(v, "type", field + ".type");
  if (saw_byte_level) f.bad(field, "a pre-tokenizer after ByteLevel is not supported");
  if (type == "Sequence") {
    const json* list = Fields::get(v, "pretokenizers");
    if (!list) f.bad(field + ".pretokenizers", "missing");
    if (!list->is_array()) f.bad(field + ".pretokenizers", std::string("expected an array, got ") + Fields::kind(*list));
    for (size_t i = 0; i < list->size(); ++i) {
      read_pre_tokenizer(f, (*list)[i], field + ".pretokenizers[" + std::to_string(i) + "]", stages, saw_byte_level);
    }
  } else if (type == "Split") {
    const json& pattern = f.object(v, "pattern", field + ".pattern");
    const bool literal = Fields::get(pattern, "String") != nullptr;
    if (!literal && !Fields::get(pattern, "Regex")) f.bad(field + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
    const std::string key = literal ? "String" : "Regex";
    const std::string where = field + ".pattern." + key;
    const std::string text = f.string(pattern, key.c_str(), where);
    SplitStage stage;
    stage.regex = SplitRegex::compile(text, literal, f.file() + ": " + where);
    const std::string behavior = f.string(v, "behavior", field + ".behavior");
    if (behavior == "Removed") {
      stage.behavior = SplitBehavior::kRemoved;
    } else if (behavior == "Isolated") {
      stage.behavior = SplitBehavior::kIsolated;
    } else if (behavior == "MergedWithPrevious") {
      stage.behavior = SplitBehavior::kMergedWithPrevious;
    } else if (behavior == "MergedWithNext") {
      stage.behavior = SplitBehavior::kMergedWithNext;
    } else if (behavior == "Contiguous") {
      stage.behavior = SplitBehavior::kContiguous;
    } else {
      f.bad(field + ".behavior", "'" + behavior + "' is not a split behavior");
    }
    stage.invert = f.boolean(v, "invert", field + ".invert", false);
    stages.push_back(std::move(stage));
  } else if (type == "ByteLevel") {
    // HF's defaults when a flag is absent: add_prefix_space = true, use_regex = true.
    if (f.boolean(v, "add_prefix_space", field + ".add_prefix_space", true)) {
      f.bad(field + ".add_prefix_space", "true (or absent) is not supported");
    }
    if (f.boolean(v, "use_regex", field + ".use_regex", true)) {
      SplitStage stage;
      stage.regex = SplitRegex::compile(kGpt2Pattern, false, f.file() + ": " + field + " (GPT-2 regex)");
      stage.behavior = SplitBehavior::kIsolated;
      stages.push_back(std::move(stage));
    }
    saw_byte_level = true;
  } else {
    f.bad(field + ".type", "'" + type + "' is not supported (only Sequence, Split and ByteLevel)");
  }
}

std::vector<AddedToken> read_added_tokens(const Fields& f, const TokenizerJson& tj, const BpeModel& bpe) {
  std::vector<AddedToken> out;
  const json* list = Fields::get(tj.doc, "added_tokens");
  if (!list) return out;
  if (!list->is_array()) f.bad("added_tokens", std::string("expected an array, got ") + Fields::kind(*list));
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string field = "added_tokens[" + std::to_string(i) + "]";
    const json& t = (*list)[i];
    if (!t.is_object()) f.bad(field, std::string("expected an object, got ") + Fields::kind(t));
    AddedToken a;
    const json* id = Fields::get(t, "id");
    if (!id) f.bad(field + ".id", "missing");
    if (!id->is_number_unsigned()) {
      f.bad(field + ".id", std::string("expected a non-negative integer, got ") + Fields::kind(*id));
    }
    if (id->get<uint64_t>() > static_cast<uint64_t>(MergeTable::kMaxId)) {
      f.bad(field + ".id", fmt::format("{} exceeds the supported maximum {}", id->get<uint64_t>(), MergeTable::kMaxId));
    }
    a.content = f.string(t, "content", field + ".content");
    a.special = f.boolean(t, "special", field + ".special", false);
    a.single_word = f.boolean(t, "single_word", field + ".single_word", false);
    a.lstrip = f.boolean(t, "lstrip", field + ".lstrip", false);
    a.rstrip = f.boolean(t, "rstrip", field + ".rstrip", false);
    a.normalized = f.boolean(t, "normalized", field + ".normalized", !a.special);
    // HF gives an added token the id its content has in the model vocabulary when it has one
    // (warning if the file says otherwise); otherwise the id the file gives.
    a.id = bpe.find_vocab_string(a.content).value_or(static_cast<int32_t>(id->get<uint64_t>()));
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

std::shared_ptr<const Tokenizer::Impl> build_tokenizer(const TokenizerJson& tj) {
  const Fields f(tj.path);
  auto impl = std::make_shared<Tokenizer::Impl>();

  BpeModel::Source src;
  src.options = read_model(f, tj);
  src.vocab_strings.reserve(tj.vocab.size());
  src.vocab_ids.reserve(tj.vocab.size());
  for (const auto& e : tj.vocab) {
    src.vocab_strings.push_back(tj.str(e.token));
    src.vocab_ids.push_back(e.id);
  }
  src.merges.reserve(tj.merges.size());
  for (const auto& [a, b] : tj.merges) src.merges.emplace_back(tj.str(a), tj.str(b));
  impl->bpe = BpeModel::build(src, tj.path);

  if (const json* n = Fields::get(tj.doc, "normalizer")) {
    const std::string type = n->is_object() && n->contains("type") && (*n)["type"].is_string()
                                 ? (*n)["type"].get<std::string>() : Fields::kind(*n);
    f.bad("normalizer", "'" + type + "' is not supported (only null)");
  }
  const json* pre = Fields::get(tj.doc, "pre_tokenizer");
  if (!pre) f.bad("pre_tokenizer", "missing (byte-level BPE needs a ByteLevel pre-tokenizer)");
  std::vector<SplitStage> stages;
  bool saw_byte_level = false;
  read_pre_tokenizer(f, *pre, "pre_tokenizer", stages, saw_byte_level);
  if (!saw_byte_level) f.bad("pre_tokenizer", "no ByteLevel stage (only byte-level BPE is supported)");
  impl->pre_tokenizer = PreTokenizer(std::move(stages));

  const json* dec = Fields::get(tj.doc, "decoder");
  if (!dec) f.bad("decoder", "missing (only ByteLevel is supported)");
  if (!dec->is_object()) f.bad("decoder", std::string("expected an object, got ") + Fields::kind(*dec));
  const std::string dec_type = f.string(*dec, "type", "decoder.type");
  if (dec_type != "ByteLevel") f.bad("decoder.type", "'" + dec_type + "' is not supported (only ByteLevel)");
  // post_processor only matters for encode(add_special_tokens=True), which we do not offer;
  // truncation and padding are batch options the engine applies itself.

  impl->added = read_added_tokens(f, tj, *impl->bpe);
  impl->matcher = AddedTokenMatcher(impl->added);
  int32_t max_id = impl->bpe->max_id();
  for (const AddedToken& a : impl->added) {
    max_id = std::max(max_id, a.id);
    impl->added_by_content[a.content] = a.id;
  }
  impl->vocab_size = max_id + 1;

  // Decode table: HF looks an id up among added tokens first, then in the model vocabulary, and
  // its ByteLevel decoder maps each token string back to bytes (strings outside the byte
  // alphabet are taken as UTF-8 as they are).
  std::vector<const std::string*> added_of(impl->vocab_size, nullptr);
  impl->flags.assign(impl->vocab_size, 0);
  for (const AddedToken& a : impl->added) {
    added_of[a.id] = &a.content;
    impl->flags[a.id] |= Tokenizer::Impl::kAdded | (a.special ? Tokenizer::Impl::kSpecial : 0);
  }
  std::vector<int32_t> entry_of(impl->vocab_size, -1);
  for (size_t i = 0; i < tj.vocab.size(); ++i) entry_of[tj.vocab[i].id] = static_cast<int32_t>(i);
  impl->decode_offsets.resize(impl->vocab_size + 1);
  impl->decode_arena.reserve(impl->vocab_size * 8);
  for (int32_t id = 0; id < impl->vocab_size; ++id) {
    impl->decode_offsets[id] = static_cast<uint32_t>(impl->decode_arena.size());
    if (added_of[id]) {
      impl->decode_arena += byte_level::decode_token(*added_of[id]);
    } else if (const std::string_view b = impl->bpe->bytes_of(id); !b.empty()) {
      impl->decode_arena += b;
    } else if (entry_of[id] >= 0) {
      impl->decode_arena += byte_level::decode_token(tj.str(tj.vocab[entry_of[id]].token));
    }
  }
  impl->decode_offsets[impl->vocab_size] = static_cast<uint32_t>(impl->decode_arena.size());
  return impl;
}

}  // namespace sambay
