// The model families behind LanguageModel: config.json's `architectures` picks the family, the
// figures callers use come from the config, Phi-3's rotary factor set follows a step's read length
// (a prompt longer than original_max_position_embeddings is long-rotated from its first chunk, as
// the golden prefill is), and the cost figures of the released Phi-4-mini are the design
// document's (phi4-mini-baseline.md §2, §3.5, §7).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sambay/base/error.h"
#include "sambay/model/cost_model.h"
#include "sambay/model/language_model.h"
#include "sambay/model/phi3_model.h"
#include "sambay/model/sambay_model.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "test_util.h"

namespace sambay {
namespace {

TEST(LoadLanguageModel, PicksTheFamilyFromArchitectures) {
  CpuOps ops;
  const auto samba_dir = test::golden_dir() / "tiny-l8-h64-w8";
  auto samba = load_language_model(samba_dir, ops, {});
  ASSERT_NE(dynamic_cast<SambaModel*>(samba.get()), nullptr);
  const SambaConfig sc = load_samba_config(samba_dir);
  EXPECT_EQ(samba->info().architecture, "Phi4FlashForCausalLM");
  EXPECT_EQ(samba->info().vocab_size, sc.vocab_size);
  EXPECT_EQ(samba->info().hidden_size, sc.hidden_size);
  EXPECT_EQ(samba->info().num_layers, sc.num_hidden_layers);
  EXPECT_EQ(samba->state_layout().paged_layers, 1);

  const auto phi3_dir = test::phi3_golden_dir() / "switch-l4-h192-o48";
  auto phi3 = load_language_model(phi3_dir, ops, {});
  ASSERT_NE(dynamic_cast<Phi3Model*>(phi3.get()), nullptr);
  const Phi3Config pc = load_phi3_config(phi3_dir);
  const ModelInfo& info = phi3->info();
  EXPECT_EQ(info.architecture, "Phi3ForCausalLM");
  EXPECT_EQ(info.vocab_size, pc.vocab_size);
  EXPECT_EQ(info.hidden_size, pc.hidden_size);
  EXPECT_EQ(info.num_layers, pc.num_hidden_layers);
  EXPECT_EQ(info.max_position_embeddings, pc.max_position_embeddings);
  EXPECT_EQ(info.eos_token_ids, pc.eos_token_ids);
  EXPECT_EQ(info.torch_dtype, pc.torch_dtype);
  EXPECT_EQ(phi3->state_layout().paged_layers, pc.num_hidden_layers);
  EXPECT_EQ(phi3->state_layout().mamba_layers + phi3->state_layout().ring_layers, 0);

  EXPECT_EQ(read_model_info(phi3_dir).architecture, "Phi3ForCausalLM");
  EXPECT_EQ(read_model_info(samba_dir).vocab_size, sc.vocab_size);
}

// A copy of a golden config.json edited by `edit`, in a folder of its own.
class EditedConfig : public ::testing::Test {
 protected:
  template <class Edit>
  std::filesystem::path folder(const std::filesystem::path& from, Edit edit) {
    nlohmann::json j = nlohmann::json::parse(std::ifstream(from / "config.json"));
    edit(j);
    std::ofstream(tmp_ / "config.json") << j.dump(2);
    return tmp_.path();
  }
  static std::string error_of(const std::filesystem::path& dir) {
    try {
      read_model_info(dir);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }
  test::TempDir tmp_;
};

TEST_F(EditedConfig, AnArchitectureOfNoSupportedFamilyIsNamed) {
  const auto dir = folder(test::phi3_golden_dir() / "long-l2-h96-o32",
                          [](auto& j) { j["architectures"] = {"LlamaForCausalLM"}; });
  const std::string msg = error_of(dir);
  for (const char* part : {"config.json", "'architectures'", "LlamaForCausalLM", "Phi3ForCausalLM"})
    EXPECT_NE(msg.find(part), std::string::npos) << part << " not in: " << msg;
  CpuOps ops;
  EXPECT_THROW(load_language_model(dir, ops, {}), Error);
}

TEST_F(EditedConfig, WithoutArchitecturesTheModelTypeDecides) {
  const auto dir = folder(test::phi3_golden_dir() / "long-l2-h96-o32", [](auto& j) { j.erase("architectures"); });
  EXPECT_EQ(read_model_info(dir).architecture, "Phi3ForCausalLM");
  folder(test::phi3_golden_dir() / "long-l2-h96-o32", [](auto& j) {
    j.erase("architectures");
    j.erase("model_type");
  });
  EXPECT_NE(error_of(dir).find("'architectures' is missing"), std::string::npos) << error_of(dir);
  folder(test::phi3_golden_dir() / "long-l2-h96-o32", [](auto& j) {
    j.erase("architectures");
    j["model_type"] = "llama";
  });
  EXPECT_NE(error_of(dir).find("\"llama\""), std::string::npos) << error_of(dir);
}

// long-l2-h96-o32: a 40-token prompt over original_max_position_embeddings 32, so the golden
// prefill uses the long factors at every position. Fed in chunks with the prompt's length as the
// read length, every chunk is long-rotated and every row equals the one-call prefill.
TEST(Phi3ReadLength, ChunksOfALongPromptUseTheLongSetFromTheFirst) {
  const auto dir = test::phi3_golden_dir() / "long-l2-h96-o32";
  CpuOps ops(CpuOpsOptions{.poison_allocations = true});
  auto model = Phi3Model::load(dir, ops, {});
  SafetensorsFile golden(dir / "golden.safetensors");
  const auto prompts = test::golden_prompts(test::read_array(golden, "input_ids"),
                                            test::read_array(golden, "attention_mask"));
  const auto ref = test::read_array(golden, "fp32.prefill_logits");
  const std::vector<int32_t>& prompt = prompts.rows[0];
  const int64_t P = static_cast<int64_t>(prompt.size()), V = model->info().vocab_size;
  const int64_t limit = model->config().original_max_position_embeddings;
  ASSERT_GT(P, limit);
  ASSERT_EQ(prompts.first[0], 0);

  for (int64_t chunk : {1, 7, 32, 40}) {
    StateCache cache = model->make_cache({1, P, 4, 0});
    const int slot = cache.acquire();
    double worst = 0;
    for (int64_t p0 = 0; p0 < P; p0 += chunk) {
      const int64_t n = std::min(chunk, P - p0);
      StepBatch b;
      b.add(slot, std::span(prompt).subspan(p0, n), true, P);
      OwnedTensor logits = model->forward(b, cache);
      for (int64_t t = 0; t < n; ++t)
        for (int64_t v = 0; v < V; ++v)
          worst = std::max<double>(worst, std::abs(logits->row<float>(t)[v] - ref.f[(p0 + t) * V + v]));
    }
    EXPECT_LE(worst, 1e-3) << "chunks of " << chunk;
    EXPECT_EQ(cache.rope_set(slot), 1);
  }

  // Without the read length the first 32 positions are short-rotated, and the chunk that would
  // pass 32 is refused, leaving the sequence as it was.
  StateCache cache = model->make_cache({1, P, 4, 0});
  const int slot = cache.acquire();
  StepBatch first;
  first.add(slot, std::span(prompt).first(limit), false);
  model->forward(first, cache);
  EXPECT_EQ(cache.rope_set(slot), 0);
  EXPECT_TRUE(model->needs_recompute(cache, slot, P));
  StepBatch rest;
  rest.add(slot, std::span(prompt).subspan(limit), false);
  EXPECT_THROW(model->forward(rest, cache), Error);
  EXPECT_EQ(cache.length(slot), limit);
}

TEST(SambaModel, NeverNeedsRecompute) {
  CpuOps ops;
  auto model = load_language_model(test::golden_dir() / "tiny-l8-h64-w8", ops, {});
  StateCache cache = model->make_cache({1, 64, 4, 0});
  const int slot = cache.acquire();
  const std::vector<int32_t> prompt = {1, 2, 3, 4, 5};
  StepBatch b;
  b.add(slot, prompt, false, 1 << 20);
  model->forward(b, cache);
  EXPECT_FALSE(model->needs_recompute(cache, slot, int64_t{1} << 40));
}

// The released Phi-4-mini: per layer 100,663,296 matrix weights (qkv 15,728,640, o 9,437,184,
// gate_up 50,331,648, down 25,165,824), 32 layers, the tied 200064 x 3072 head; K/V 128 KiB per
// token in bf16; attention 4 * 32 * 3072 FLOPs per query and key.
TEST(Phi3CostModel, ReleasedModelFigures) {
  const Phi3Config c = load_phi3_config(test::source_dir() / "models/phi4-mini-instruct");
  EXPECT_EQ(StateCache::sizes(phi3_state_layout(c), DType::BF16).kv_per_token, 131072u);

  const double weight_bytes = 7672043520.0;  // §2: 3,836,021,760 bf16 parameters
  EXPECT_DOUBLE_EQ(decode_bytes_per_step(c, weight_bytes, 1, 4096, 2), weight_bytes + 4096.0 * 131072);
  EXPECT_DOUBLE_EQ(decode_bytes_per_step(c, weight_bytes, 16, 1000, 2), weight_bytes + 16 * 1000.0 * 131072);

  const double layers = 32.0 * 100663296, head = 200064.0 * 3072;
  for (int64_t P : {1, 4096}) {
    const double attention = 4.0 * 32 * 3072 * (P * (P + 1.0) / 2);
    EXPECT_DOUBLE_EQ(prefill_flops(c, P, false), 2 * (layers * P + head) + attention) << P;
    EXPECT_DOUBLE_EQ(prefill_flops(c, P, true), 2 * (layers + head) * P + attention) << P;
  }
  EXPECT_NEAR(prefill_flops(c, 1, false) / 1e9, 7.67, 0.01);  // §7: about 7.7 GFLOP per token
}

}  // namespace
}  // namespace sambay
