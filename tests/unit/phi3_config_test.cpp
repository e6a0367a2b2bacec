// Phi-3-family config.json parsing: the released Phi-4-mini's numbers (design document §1, §4.2),
// the golden cases' LongRoPE settings against what their golden.json says transformers used, the
// transformers 5 spelling, and one clear error per unsupported field.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sambay/base/error.h"
#include "sambay/model/phi3_config.h"
#include "test_util.h"

namespace sambay {
namespace {

using json = nlohmann::json;

json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

std::filesystem::path phi3_golden(const char* name) { return test::source_dir() / "tests/data/golden-phi3" / name; }

std::string error_of(const json& j) {
  try {
    parse_phi3_config(j, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Phi3Config, ReleasedPhi4Mini) {
  const Phi3Config c = load_phi3_config(test::source_dir() / "models/phi4-mini-instruct");
  EXPECT_EQ(c.vocab_size, 200064);
  EXPECT_EQ(c.hidden_size, 3072);
  EXPECT_EQ(c.num_hidden_layers, 32);
  EXPECT_EQ(c.head_dim(), 128);
  EXPECT_EQ(c.group(), 3);
  EXPECT_EQ(c.rotary_dim(), 96);
  EXPECT_EQ(c.intermediate_size, 8192);
  EXPECT_EQ(c.original_max_position_embeddings, 4096);
  EXPECT_TRUE(c.tie_word_embeddings);
  ASSERT_EQ(c.long_factor.size(), 48u);
  EXPECT_FLOAT_EQ(c.long_factor.back(), 47.77f);
  EXPECT_FLOAT_EQ(c.short_factor.front(), 1.0f);
  EXPECT_NEAR(c.attention_factor, std::sqrt(17.0 / 12.0), 1e-12);  // §4.2: m = 1.1902380714
}

TEST(Phi3Config, GoldenCasesMatchTheirReference) {
  for (const char* name : {"switch-l4-h192-o48", "batch2-l3-h144-o64", "long-l2-h96-o32"}) {
    const Phi3Config c = load_phi3_config(phi3_golden(name));
    const json rope = read_json(phi3_golden(name) / "golden.json")["rope"];
    EXPECT_EQ(c.rotary_dim(), rope["rotary_dim"].get<int64_t>()) << name;
    EXPECT_EQ(c.original_max_position_embeddings, rope["original_max_position_embeddings"].get<int64_t>()) << name;
    EXPECT_NEAR(c.attention_factor, rope["attention_factor"].get<double>(), 1e-9) << name;
    ASSERT_EQ(c.long_factor.size(), rope["long_factor"].size()) << name;
    for (size_t i = 0; i < c.long_factor.size(); ++i) {
      EXPECT_FLOAT_EQ(c.long_factor[i], rope["long_factor"][i].get<float>()) << name;
      EXPECT_FLOAT_EQ(c.short_factor[i], rope["short_factor"][i].get<float>()) << name;
    }
  }
}

// transformers >= 5 re-saves the rotary settings as rope_parameters, with theta, the partial factor
// and the original length inside.
TEST(Phi3Config, RopeParametersSpelling) {
  json legacy = read_json(phi3_golden("switch-l4-h192-o48") / "config.json");
  json modern = legacy;
  json rope = modern["rope_scaling"];
  rope.erase("type");
  rope["rope_type"] = "longrope";
  rope["rope_theta"] = modern["rope_theta"];
  rope["partial_rotary_factor"] = modern["partial_rotary_factor"];
  rope["original_max_position_embeddings"] = modern["original_max_position_embeddings"];
  for (const char* k : {"rope_scaling", "rope_theta", "partial_rotary_factor", "original_max_position_embeddings"})
    modern.erase(k);
  modern["rope_parameters"] = rope;
  const Phi3Config a = parse_phi3_config(legacy, "legacy"), b = parse_phi3_config(modern, "modern");
  EXPECT_EQ(a.rotary_dim(), b.rotary_dim());
  EXPECT_EQ(a.original_max_position_embeddings, b.original_max_position_embeddings);
  EXPECT_EQ(a.long_factor, b.long_factor);
  EXPECT_EQ(a.short_factor, b.short_factor);
  EXPECT_DOUBLE_EQ(a.attention_factor, b.attention_factor);

  json plain = legacy;
  plain.erase("rope_scaling");
  const Phi3Config p = parse_phi3_config(plain, "plain");
  EXPECT_FALSE(p.longrope());
  EXPECT_DOUBLE_EQ(p.attention_factor, 1.0);
  json su = legacy;
  su["rope_scaling"]["type"] = "su";
  EXPECT_TRUE(parse_phi3_config(su, "su").longrope());
}

TEST(Phi3Config, ErrorsNameTheField) {
  const json base = read_json(phi3_golden("switch-l4-h192-o48") / "config.json");
  struct Case {
    const char* field;
    json value;
    const char* expect;
  };
  const Case cases[] = {
      {"architectures", json::array({"Phi4FlashForCausalLM"}), "'architectures' is [\"Phi4FlashForCausalLM\"]"},
      {"num_key_value_heads", 4, "'num_key_value_heads' (4) must divide num_attention_heads (6)"},
      {"num_attention_heads", 7, "'num_attention_heads' (7) must divide hidden_size (192)"},
      {"hidden_act", "gelu", "'hidden_act' is \"gelu\""},
      {"attention_bias", true, "'attention_bias' is true"},
      {"partial_rotary_factor", 1.5, "'partial_rotary_factor' must be in (0, 1]"},
      {"rms_norm_eps", -1, "'rms_norm_eps' must be a positive number"},
      {"head_dim", 64, "'head_dim' is 64"},
  };
  for (const Case& c : cases) {
    json j = base;
    j[c.field] = c.value;
    EXPECT_NE(error_of(j).find(c.expect), std::string::npos) << c.field << ": " << error_of(j);
  }
  json j = base;
  j["rope_scaling"]["long_factor"] = json::array({1.0, 2.0});
  EXPECT_NE(error_of(j).find("'long_factor' must list 12 numbers"), std::string::npos) << error_of(j);
  j = base;
  j["rope_scaling"]["type"] = "dynamic";
  EXPECT_NE(error_of(j).find("has type \"dynamic\""), std::string::npos) << error_of(j);
  j = base;
  j["rope_scaling"]["short_factor"][3] = -1;
  EXPECT_NE(error_of(j).find("'short_factor' must hold positive numbers"), std::string::npos) << error_of(j);
}

}  // namespace
}  // namespace sambay
