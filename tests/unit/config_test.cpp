// config.json parsing: the reference class's defaults for absent fields, and one clear error per
// unsupported or inconsistent field.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "sambay/base/error.h"
#include "sambay/model/config.h"
#include "sambay/model/layer_table.h"
#include "test_util.h"

namespace sambay {
namespace {

using json = nlohmann::json;

json released() {
  std::ifstream in(test::source_dir() / "models/phi4-mini-flash-reasoning/config.json");
  return json::parse(in);
}

std::string error_of(const json& j) {
  try {
    parse_samba_config(j, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ReleasedModel) {
  const SambaConfig c = load_samba_config(test::source_dir() / "models/phi4-mini-flash-reasoning");
  EXPECT_EQ(c.vocab_size, 200064);
  EXPECT_EQ(c.hidden_size, 2560);
  EXPECT_EQ(c.intermediate_size, 10240);
  EXPECT_EQ(c.num_hidden_layers, 32);
  EXPECT_EQ(c.num_attention_heads, 40);
  EXPECT_EQ(c.num_key_value_heads, 20);
  EXPECT_EQ(c.head_dim(), 64);
  EXPECT_EQ(c.sliding_window, 512);
  EXPECT_EQ(c.mamba_d_state, 16);  // class defaults: absent from config.json
  EXPECT_EQ(c.mamba_d_conv, 4);
  EXPECT_EQ(c.d_inner, 5120);
  EXPECT_EQ(c.dt_rank(), 160);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-5);
}

TEST(Config, DefaultsOfTheReferenceClass) {
  const SambaConfig c = parse_samba_config(json{{"architectures", {"Phi4FlashForCausalLM"}}}, "config.json");
  EXPECT_EQ(c.vocab_size, 51200);
  EXPECT_EQ(c.hidden_size, 2560);
  EXPECT_EQ(c.intermediate_size, 9216);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.sliding_window, 2047);
  EXPECT_EQ(c.d_inner, 5120);
}

TEST(Config, DtRankIgnoresTheConfigField) {
  json j = released();
  j["mamba_dt_rank"] = 7;
  j["hidden_size"] = 100;
  j["num_attention_heads"] = 4;
  j["num_key_value_heads"] = 2;
  EXPECT_EQ(parse_samba_config(j, "config.json").dt_rank(), 7);  // ceil(100 / 16)
}

TEST(Config, PerLayerSlidingWindowList) {
  json j = released();
  json list = json::array();
  for (int i = 0; i < 32; ++i) list.push_back(i < 16 && i % 2 == 1 ? json(512) : json(nullptr));
  j["sliding_window"] = list;
  EXPECT_EQ(parse_samba_config(j, "config.json").sliding_window, 512);
  list[3] = 256;
  j["sliding_window"] = list;
  EXPECT_NE(error_of(j).find("'sliding_window' entry 3"), std::string::npos) << error_of(j);
}

TEST(Config, ErrorsNameTheField) {
  struct Case {
    const char* field;
    json value;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"architectures", json::array({"LlamaForCausalLM"}), "'architectures' is [\"LlamaForCausalLM\"]"},
      {"model_type", "llama", "'model_type' is \"llama\""},
      {"num_hidden_layers", 30, "'num_hidden_layers' is 30; SambaY needs a multiple of 4"},
      {"num_attention_heads", 3, "'num_attention_heads' (3) must divide hidden_size"},
      {"num_attention_heads", 10, "must divide num_attention_heads (10) in pairs"},  // 5 pairs, 10 kv pairs
      {"num_key_value_heads", 5, "'num_key_value_heads' is 5"},
      {"num_key_value_heads", 12, "'num_key_value_heads' (12) must divide"},
      {"hidden_size", "2560", "'hidden_size' must be a positive integer"},
      {"vocab_size", 0, "'vocab_size' must be a positive integer"},
      {"sliding_window", -1, "'sliding_window' must be a positive integer"},
      {"mamba_expand", 0.1234, "'mamba_expand' (0.1234) times hidden_size"},
      {"mb_per_layer", 3, "'mb_per_layer' is 3"},
      {"hidden_act", "gelu", "'hidden_act' is \"gelu\""},
      {"layer_norm_eps", -1.0, "'layer_norm_eps'"},
      {"tie_word_embeddings", "yes", "'tie_word_embeddings' must be true or false"},
      {"eos_token_id", "x", "'eos_token_id'"},
  };
  for (const auto& c : cases) {
    json j = released();
    j[c.field] = c.value;
    const std::string msg = error_of(j);
    EXPECT_NE(msg.find("config.json"), std::string::npos) << c.field << ": " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.field << ": " << msg;
  }
  json j = released();
  j.erase("architectures");
  j.erase("model_type");
  EXPECT_NE(error_of(j).find("'architectures' is missing"), std::string::npos);
  EXPECT_NE(error_of(json::array()).find("not a JSON object"), std::string::npos);
}

// The layer schedule and lambda_init of the released model (design document §2 and §5.6), and
// the schedules recorded in the golden cases.
TEST(LayerTable, ReleasedModelSchedule) {
  const LayerTable t = build_layer_table(load_samba_config(test::source_dir() / "models/phi4-mini-flash-reasoning"));
  ASSERT_EQ(t.layers.size(), 32u);
  for (int i = 0; i < 32; ++i) {
    const LayerKind want = i < 16 ? (i % 2 == 0 ? LayerKind::Mamba : LayerKind::SwaAttn)
                           : i == 16 ? LayerKind::MambaMemory
                           : i == 17 ? LayerKind::FullAttnKv
                           : i % 2 == 0 ? LayerKind::Gmu
                                        : LayerKind::CrossAttn;
    EXPECT_EQ(t.layers[i].kind, want) << i;
  }
  EXPECT_EQ(t.num_mamba_states, 9);
  EXPECT_EQ(t.num_swa_rings, 8);
  EXPECT_EQ(t.first_cross_decoder_layer, 18);
  const std::vector<std::pair<int, double>> lambda_init = {{1, 0.355509}, {3, 0.556058}, {9, 0.759677},
                                                            {17, 0.796342}, {31, 0.799945}};
  for (auto [i, v] : lambda_init) EXPECT_NEAR(t.layers[i].lambda_init, v, 1e-6) << i;
}

TEST(LayerTable, GoldenCaseSchedules) {
  for (const auto& name : test::golden_cases()) {
    std::ifstream in(test::golden_dir() / name / "golden.json");
    const json g = json::parse(in);
    const LayerTable t = build_layer_table(load_samba_config(test::golden_dir() / name));
    ASSERT_EQ(t.layers.size(), g["layer_schedule"].size()) << name;
    for (size_t i = 0; i < t.layers.size(); ++i)
      EXPECT_EQ(layer_kind_name(t.layers[i].kind), g["layer_schedule"][i].get<std::string>()) << name << " " << i;
  }
}

}  // namespace
}  // namespace sambay
