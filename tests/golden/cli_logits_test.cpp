// `sambay logits` run as a user runs it: on every golden case folder of both model families (the
// command-line contract of the parity checks), and on broken inputs, which must fail with one clear
// line and a non-zero exit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "process.h"
#include "sambay/io/safetensors.h"
#include "test_util.h"

namespace sambay {
namespace {

using test::Array;
using test::read_array;
using test::run_process;
using test::TempDir;

// Writes input_ids / attention_mask / tokens of a golden case to `path`.
void write_inputs(const std::filesystem::path& golden, const std::filesystem::path& path, bool with_mask = true,
                  bool with_tokens = true) {
  SafetensorsFile g(golden);
  const Array ids = read_array(g, "input_ids"), mask = read_array(g, "attention_mask"), tokens = read_array(g, "tokens");
  SafetensorsWriter w;
  w.add("input_ids", DType::I64, ids.shape, ids.i);
  if (with_mask) w.add("attention_mask", DType::I64, mask.shape, mask.i);
  if (with_tokens) w.add("tokens", DType::I64, tokens.shape, tokens.i);
  w.write(path);
}

// Runs `sambay logits` on a golden case folder as the parity checks do and returns the largest
// |difference| from the case's `mode` logits over real prompt positions and all steps.
double cli_logits_max_abs(const std::filesystem::path& dir, const std::string& mode) {
  TempDir tmp;
  write_inputs(dir / "golden.safetensors", tmp / "in.safetensors");
  const auto r = run_process(
      {SAMBAY_BINARY, "logits", "--model", dir.string(), "--input", (tmp / "in.safetensors").string(), "--out",
       (tmp / "out.safetensors").string(), "--device", "cpu"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return INFINITY;

  SafetensorsFile g(dir / "golden.safetensors"), o(tmp / "out.safetensors");
  const Array mask = read_array(g, "attention_mask");
  const Array ref_p = read_array(g, mode + ".prefill_logits"), got_p = read_array(o, "prefill_logits");
  const Array ref_s = read_array(g, mode + ".step_logits"), got_s = read_array(o, "step_logits");
  EXPECT_EQ(got_p.shape, ref_p.shape);
  EXPECT_EQ(got_s.shape, ref_s.shape);
  if (got_p.shape != ref_p.shape || got_s.shape != ref_s.shape) return INFINITY;
  const int64_t V = ref_p.dim(2);
  double worst = 0;
  for (size_t i = 0; i < ref_p.f.size(); ++i) {
    if (!std::isfinite(got_p.f[i])) return INFINITY;  // prefill_logits must be finite everywhere
    if (mask.i[i / V]) worst = std::max<double>(worst, std::abs(got_p.f[i] - ref_p.f[i]));
  }
  for (size_t i = 0; i < ref_s.f.size(); ++i) worst = std::max<double>(worst, std::abs(got_s.f[i] - ref_s.f[i]));
  return worst;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

class CliLogits : public ::testing::TestWithParam<std::string> {};

TEST_P(CliLogits, MatchesGoldenFp32Pure) { EXPECT_LE(cli_logits_max_abs(test::golden_dir() / GetParam(), "fp32_pure"), 1e-3); }

INSTANTIATE_TEST_SUITE_P(AllCases, CliLogits, ::testing::ValuesIn(test::golden_cases()), test_name);

// Phi-4-mini (Phi3ForCausalLM) against `fp32.*`: the switch case's steps are the recompute behaviour
// (the sequence run again on the long factors once it passes original_max_position_embeddings).
class CliLogitsPhi3 : public ::testing::TestWithParam<std::string> {};

TEST_P(CliLogitsPhi3, MatchesGoldenFp32) { EXPECT_LE(cli_logits_max_abs(test::phi3_golden_dir() / GetParam(), "fp32"), 1e-3); }

INSTANTIATE_TEST_SUITE_P(AllCases, CliLogitsPhi3, ::testing::ValuesIn(test::phi3_golden_cases()), test_name);

TEST(CliLogitsShapes, WithoutTokensAndMask) {
  const auto dir = test::golden_dir() / "tiny-l8-h64-w8";
  TempDir tmp;
  write_inputs(dir / "golden.safetensors", tmp / "in.safetensors", false, false);
  const auto r = run_process({SAMBAY_BINARY, "logits", "--model", dir.string(), "--input",
                              (tmp / "in.safetensors").string(), "--out", (tmp / "out.safetensors").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  SafetensorsFile o(tmp / "out.safetensors");
  EXPECT_EQ(o.find("step_logits")->shape, (std::vector<int64_t>{1, 1, 512}));
  EXPECT_EQ(o.find("prefill_logits")->shape, (std::vector<int64_t>{1, 48, 512}));
}

// A copy of the tiny golden model that a test may break.
class BrokenModel : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto src = test::golden_dir() / "tiny-l8-h64-w8";
    std::filesystem::create_directory(tmp_ / "model");
    std::filesystem::copy_file(src / "config.json", model() / "config.json");
    std::filesystem::copy_file(src / "model.safetensors", model() / "model.safetensors");
    write_inputs(src / "golden.safetensors", tmp_ / "in.safetensors");
  }
  std::filesystem::path model() const { return tmp_ / "model"; }

  test::ProcessResult run_logits(const std::filesystem::path& input) const {
    return run_process({SAMBAY_BINARY, "logits", "--model", model().string(), "--input", input.string(), "--out",
                        (tmp_ / "out.safetensors").string()});
  }
  test::ProcessResult run_logits() const { return run_logits(tmp_ / "in.safetensors"); }

  // Rewrites the model's weights with `edit` applied to the list of (name, info, bytes).
  template <class Edit>
  void rewrite_weights(Edit edit) {
    const auto path = model() / "model.safetensors";
    std::vector<std::pair<TensorInfo, std::vector<uint8_t>>> tensors;
    {
      SafetensorsFile f(path);
      for (const auto& t : f.tensors()) {
        auto bytes = f.data(t);
        tensors.emplace_back(t, std::vector<uint8_t>(bytes.begin(), bytes.end()));
      }
    }
    edit(tensors);
    SafetensorsWriter w;
    for (const auto& [info, bytes] : tensors) w.add(info.name, info.dtype, info.shape, bytes);
    w.write(path);
  }

  void write_config(const std::string& from, const std::string& to) {
    std::ifstream in(model() / "config.json");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    const auto at = s.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    std::ofstream(model() / "config.json") << s;
  }

  // One line on stderr that contains every fragment; exit status 1; no crash.
  void expect_error(const test::ProcessResult& r, std::initializer_list<std::string> fragments) {
    EXPECT_EQ(r.signal, 0) << "crashed: " << r.err;
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    for (const auto& f : fragments) EXPECT_NE(r.err.find(f), std::string::npos) << "'" << f << "' not in: " << r.err;
  }

  TempDir tmp_;
};

TEST_F(BrokenModel, TruncatedWeights) {
  std::filesystem::resize_file(model() / "model.safetensors", std::filesystem::file_size(model() / "model.safetensors") / 2);
  expect_error(run_logits(), {"model.safetensors", "past the end"});
}

TEST_F(BrokenModel, HeaderLengthOverflow) {
  std::fstream f(model() / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
  const uint64_t huge = ~uint64_t{0} - 3;
  f.write(reinterpret_cast<const char*>(&huge), 8);
  f.close();
  expect_error(run_logits(), {"model.safetensors", "header length"});
}

TEST_F(BrokenModel, MissingTensor) {
  rewrite_weights([](auto& ts) {
    std::erase_if(ts, [](const auto& t) { return t.first.name == "model.layers.3.attn.Wqkv.bias"; });
  });
  expect_error(run_logits(), {"model.layers.3.attn.Wqkv.bias", "missing"});
}

TEST_F(BrokenModel, WrongShape) {
  rewrite_weights([](auto& ts) {
    for (auto& [info, bytes] : ts)
      if (info.name == "model.layers.0.attn.D") {
        info.shape = {64, 2};
      }
  });
  expect_error(run_logits(), {"model.layers.0.attn.D", "[64, 2]", "expected [128]"});
}

TEST_F(BrokenModel, WrongDtype) {
  rewrite_weights([](auto& ts) {
    for (auto& [info, bytes] : ts)
      if (info.name == "model.layers.0.attn.A_log") info.dtype = DType::I32;
  });
  expect_error(run_logits(), {"model.layers.0.attn.A_log", "I32"});
}

TEST_F(BrokenModel, UnknownArchitecture) {
  write_config("\"Phi4FlashForCausalLM\"", "\"LlamaForCausalLM\"");
  expect_error(run_logits(), {"config.json", "architectures", "LlamaForCausalLM"});
}

TEST_F(BrokenModel, InconsistentConfig) {
  write_config("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3");
  expect_error(run_logits(), {"config.json", "num_key_value_heads"});
}

TEST_F(BrokenModel, BadJson) {
  write_config("\"vocab_size\": 512", "\"vocab_size\": 512,,");
  expect_error(run_logits(), {"config.json", "JSON"});
}

TEST_F(BrokenModel, InputWithoutIds) {
  SafetensorsWriter w;
  const std::vector<int64_t> v = {1, 2, 3};
  w.add("tokens", DType::I64, {1, 3}, v);
  w.write(tmp_ / "bad.safetensors");
  expect_error(run_logits(tmp_ / "bad.safetensors"), {"bad.safetensors", "input_ids", "missing"});
}

TEST_F(BrokenModel, InputTokenOutOfVocabulary) {
  SafetensorsWriter w;
  const std::vector<int64_t> v = {1, 2, 512};
  w.add("input_ids", DType::I64, {1, 3}, v);
  w.write(tmp_ / "bad.safetensors");
  expect_error(run_logits(tmp_ / "bad.safetensors"), {"input_ids[0, 2] = 512", "vocabulary"});
}

TEST_F(BrokenModel, RightPaddedMask) {
  SafetensorsWriter w;
  const std::vector<int64_t> ids = {1, 2, 3}, mask = {1, 1, 0};
  w.add("input_ids", DType::I64, {1, 3}, ids);
  w.add("attention_mask", DType::I64, {1, 3}, mask);
  w.write(tmp_ / "bad.safetensors");
  expect_error(run_logits(tmp_ / "bad.safetensors"), {"attention_mask row 0", "left padded"});
}

TEST_F(BrokenModel, NoWeightsWithoutDummy) {
  std::filesystem::remove(model() / "model.safetensors");
  expect_error(run_logits(), {"no weights", "--dummy"});
}

}  // namespace
}  // namespace sambay
