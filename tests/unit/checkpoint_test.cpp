// Model folders: single-file and sharded checkpoints, and what happens when the index lies.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "sambay/base/error.h"
#include "sambay/io/checkpoint.h"
#include "sambay/model/sambay_model.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "test_util.h"

namespace sambay {
namespace {

// Splits the tiny golden model into two shards plus an index, in a fresh folder.
class ShardedModel : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto src = test::golden_dir() / "tiny-l8-h64-w8";
    std::filesystem::copy_file(src / "config.json", dir_ / "config.json");
    // A stray safetensors file that must never be read.
    std::ofstream(dir_ / "golden.safetensors") << "not a safetensors file";
    SafetensorsFile f(src / "model.safetensors");
    SafetensorsWriter a, b;
    index_ = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
    for (const auto& t : f.tensors()) {
      const bool first = t.name.find("layers.") == std::string::npos || t.name.find("layers.0.") != std::string::npos;
      (first ? a : b).add(t.name, t.dtype, t.shape, f.data(t));
      index_["weight_map"][t.name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    }
    a.write(dir_ / "model-00001-of-00002.safetensors");
    b.write(dir_ / "model-00002-of-00002.safetensors");
    write_index();
  }
  void write_index() { std::ofstream(dir_ / "model.safetensors.index.json") << index_.dump(2); }
  std::string load_error() {
    try {
      Checkpoint c(dir_.path());
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  test::TempDir dir_;
  nlohmann::json index_;
};

TEST_F(ShardedModel, LoadsAndMatchesSingleFile) {
  CpuOps ops;
  auto sharded = SambaModel::load(dir_.path(), ops, {});
  auto single = SambaModel::load(test::golden_dir() / "tiny-l8-h64-w8", ops, {});
  std::vector<float> a, b;
  for (auto* m : {sharded.get(), single.get()}) {
    StateCache cache = m->make_cache({1, 16, 4, 0});
    StepBatch batch;
    const std::vector<int32_t> ids = {5, 6, 7, 8};
    batch.add(cache.acquire(), ids, true);
    OwnedTensor t = m->forward(batch, cache);
    auto& out = m == sharded.get() ? a : b;
    out.resize(t->numel());
    ops.to_host(*t, out.data());
  }
  EXPECT_EQ(a, b);
}

TEST_F(ShardedModel, MissingShard) {
  std::filesystem::remove(dir_ / "model-00002-of-00002.safetensors");
  EXPECT_NE(load_error().find("model-00002-of-00002.safetensors', which is missing"), std::string::npos) << load_error();
}

TEST_F(ShardedModel, TensorNotInItsShard) {
  index_["weight_map"]["model.layers.3.attn.Wqkv.weight"] = "model-00001-of-00002.safetensors";
  write_index();
  EXPECT_NE(load_error().find("'model.layers.3.attn.Wqkv.weight' is mapped to 'model-00001-of-00002.safetensors', but"),
            std::string::npos)
      << load_error();
}

TEST_F(ShardedModel, ShardOutsideTheFolder) {
  index_["weight_map"]["model.embed_tokens.weight"] = "../elsewhere.safetensors";
  write_index();
  EXPECT_NE(load_error().find("not a file inside the model folder"), std::string::npos) << load_error();
}

TEST_F(ShardedModel, BadIndexJson) {
  std::ofstream(dir_ / "model.safetensors.index.json") << "{\"weight_map\": ";
  EXPECT_NE(load_error().find("model.safetensors.index.json: not valid JSON"), std::string::npos) << load_error();
  std::ofstream(dir_ / "model.safetensors.index.json") << "{\"weight_map\": []}";
  EXPECT_NE(load_error().find("'weight_map' is missing or not an object"), std::string::npos) << load_error();
}

// The released model's index names exactly the tensors this engine reads (so the real two shards
// load), with nothing left over.
TEST(ReleasedModelIndex, NamesEveryTensorTheModelReads) {
  const auto dir = test::source_dir() / "models/phi4-mini-flash-reasoning";
  std::ifstream in(dir / "model.safetensors.index.json");
  const auto index = nlohmann::json::parse(in);
  std::set<std::string> in_index;
  for (const auto& [name, file] : index["weight_map"].items()) in_index.insert(name);

  // A source that records the requested names and hands out shared zero storage (large matrices
  // are only referenced by the CPU backend, never read at load, so a small buffer is enough).
  struct Recorder final : WeightSource {
    std::set<std::string> asked;
    std::vector<float> zeros = std::vector<float>(1 << 20);
    HostTensor get(const std::string& name, const std::vector<int64_t>& shape) override {
      asked.insert(name);
      return HostTensor{DType::F32, shape, zeros.data(), name};
    }
    std::vector<std::string> unused() const override { return {}; }
    uint64_t bytes() const override { return 0; }
  };
  auto rec = std::make_unique<Recorder>();
  Recorder* r = rec.get();
  CpuOps ops;
  SambaModel model(load_samba_config(dir), std::move(rec), ops);
  EXPECT_EQ(r->asked, in_index);
  EXPECT_EQ(in_index.size(), 434u);
  EXPECT_EQ(count_samba_tensors(model.config(), model.layer_table()), 434);
}

}  // namespace
}  // namespace sambay
