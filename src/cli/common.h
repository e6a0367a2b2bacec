#pragma once
// Options and helpers shared by the subcommands.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "sambay/model/sambay_model.h"
#include "sambay/ops/ops.h"

namespace sambay::cli {

struct ModelOptions {
  std::string model_dir;
  std::string device = "auto";
  bool dummy = false;
  uint64_t seed = 0;
  int threads = 0;  // 0: all cores
};

// Adds --model/-m, --device, --dummy, --seed, --threads.
void add_model_options(CLI::App& cmd, ModelOptions& o);

struct LoadedModel {
  std::unique_ptr<Ops> ops;
  std::unique_ptr<SambaModel> model;
  double load_seconds = 0;
};

LoadedModel load_model(const ModelOptions& o);

// Peak resident memory of this process, in bytes.
size_t peak_rss_bytes();

}  // namespace sambay::cli
