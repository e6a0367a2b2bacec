// sambay bench: the engine alone (no HTTP) on random prompts: prefill time and TFLOP/s, decode
// tok/s per sequence and in aggregate with achieved GB/s, peak device memory, against the
// device's ceilings measured in the same run.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "commands.h"
#include "common.h"
#include "sambay/base/error.h"
#include "sambay/base/timer.h"
#ifdef SAMBAY_HAVE_CUDA
#include "sambay/ops/cuda/cuda_ceilings.h"
#include "sambay/ops/cuda/cuda_ops.h"
#endif

namespace sambay::cli {
namespace {

struct Options {
  ModelOptions model;
  int64_t prompt_len = 512;
  int gen_len = 64;
  int batch = 1;
  int64_t prefill_chunk = 16384;
  bool json = false;
  bool measure_ceilings = true;
  bool graphs = true;
  bool zero_context = false;  // decode after prompt_len positions of zeroed state instead of a prefill
  std::string profile_range;  // "prefill" or "decode": the phase an external CUDA profiler records
};

void profiler_range(const Options& o, const char* phase, bool start) {
#ifdef SAMBAY_HAVE_CUDA
  if (o.profile_range == phase) cuda_profiler_range(start);
#endif
}

struct Ceilings {
  std::string device = "cpu";
  double bytes_per_s = 0, flops_per_s = 0;
};

Ceilings ceilings_of(Ops& ops, bool measure) {
  Ceilings c;
#ifdef SAMBAY_HAVE_CUDA
  if (auto* cuda = dynamic_cast<CudaOps*>(&ops)) {
    c.device = cuda->properties().name;
    if (measure) {
      const DeviceCeilings d = measure_device_ceilings(*cuda);
      c.bytes_per_s = d.copy_bytes_per_s;
      c.flops_per_s = d.gemm_flops_per_s;
    }
  }
#endif
  return c;
}

size_t device_bytes(Ops& ops) {
#ifdef SAMBAY_HAVE_CUDA
  if (auto* cuda = dynamic_cast<CudaOps*>(&ops)) return cuda->device_bytes_in_use();
#endif
  return peak_rss_bytes();
}

void run(const Options& o) {
  LoadedModel lm = load_model(o.model);
  LanguageModel& model = *lm.model;
  Ops& ops = *lm.ops;
  const Ceilings ceil = ceilings_of(*lm.backend, o.measure_ceilings);
  model.set_use_graphs(o.graphs);

  StateCache cache = model.make_cache({o.batch, o.prompt_len + o.gen_len + 8, 16, 0});
  std::mt19937_64 rng(o.model.seed + 1);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(model.info().vocab_size) - 1);
  std::vector<int32_t> next(o.batch);

  // Every sequence is read up to prompt + generated tokens: a model whose rotary factors depend on
  // the length (LongRoPE) then uses the set of the whole run from the first token, as a
  // benchmark of steady decoding should (no re-prefill at the switch inside the timed decode).
  const int64_t run_length = o.prompt_len + o.gen_len;

  // Warm-up: kernels, cuBLAS heuristics, allocator pool.
  {
    const int slot = cache.acquire();
    std::vector<int32_t> warm(std::min<int64_t>(o.prompt_len, 256));
    for (auto& t : warm) t = token(rng);
    constexpr int kWarmSteps = 3;
    StepBatch b;
    b.add(slot, warm, false, std::max<int64_t>(run_length, static_cast<int64_t>(warm.size()) + kWarmSteps));
    ops.argmax_rows(*model.forward(b, cache), std::span(next).first(1));
    for (int i = 0; i < kWarmSteps; ++i) {
      StepBatch d;
      d.add(slot, std::span(next).first(1), false);
      ops.argmax_rows(*model.forward(d, cache), std::span(next).first(1));
    }
    cache.release(slot);
  }
  if (lm.profiler) lm.profiler->reset();

  std::vector<int> slots;
  if (o.zero_context) {
    // Decode timing at a long context and a large batch without the prefills: each sequence runs
    // one real token (so the model records how its state was computed, e.g. the rotary factor set
    // for the whole run), then takes the rest of the context as positions of zeroed K/V. Every
    // decode kernel then reads and computes exactly what it would after a real prompt; the logits
    // are meaningless.
    const StateLayout layout = model.state_layout();
    for (int l = 0; l < layout.paged_layers; ++l) {
      ops.zero(cache.pages(l).k);
      ops.zero(cache.pages(l).v);
    }
    for (int l = 0; l < layout.ring_layers; ++l) {
      ops.zero(cache.ring(l).k);
      ops.zero(cache.ring(l).v);
    }
    for (int b = 0; b < o.batch; ++b) {
      slots.push_back(cache.acquire());
      StepBatch first;
      first.add(slots.back(), std::span(next).subspan(b, 1), false, run_length);
      ops.argmax_rows(*model.forward(first, cache), std::span(next).subspan(b, 1));
      if (!cache.reserve(slots.back(), o.prompt_len - 1)) fail("bench: the state cache cannot hold the context");
      cache.commit(slots.back(), o.prompt_len - 1);
    }
  }

  // Prefill, one sequence at a time, in chunks of at most prefill_chunk tokens.
  double prefill_s = 0;
  profiler_range(o, "prefill", true);
  size_t peak = 0;
  for (int b = 0; b < o.batch && !o.zero_context; ++b) {
    slots.push_back(cache.acquire());
    std::vector<int32_t> prompt(o.prompt_len);
    for (auto& t : prompt) t = token(rng);
    ops.synchronize();
    Timer t;
    for (int64_t p0 = 0; p0 < o.prompt_len; p0 += o.prefill_chunk) {
      StepBatch chunk;
      chunk.add(slots.back(), std::span(prompt).subspan(p0, std::min(o.prefill_chunk, o.prompt_len - p0)), false,
                run_length);
      OwnedTensor logits = model.forward(chunk, cache);
      if (p0 + o.prefill_chunk >= o.prompt_len) ops.argmax_rows(*logits, std::span(next).subspan(b, 1));
    }
    prefill_s += t.seconds();
    peak = std::max(peak, device_bytes(*lm.backend));
  }
  profiler_range(o, "prefill", false);
  const double prefill_per_seq = o.zero_context ? 0.0 : prefill_s / o.batch;
  if (lm.profiler) {
    fmt::print(stderr, "prefill ops:\n{}", lm.profiler->report());
    lm.profiler->reset();
  }
  const double flops = model.prefill_flops(o.prompt_len, false);

  // Decode: every sequence one token per step, greedy on the device.
  ops.synchronize();
  profiler_range(o, "decode", true);
  Timer t;
  for (int step = 0; step < o.gen_len; ++step) {
    StepBatch d;
    for (int b = 0; b < o.batch; ++b) d.add(slots[b], std::span(next).subspan(b, 1), false);
    ops.argmax_rows(*model.forward(d, cache), next);
  }
  const double decode_s = t.seconds();
  profiler_range(o, "decode", false);
  peak = std::max(peak, device_bytes(*lm.backend));
  const double per_seq_tps = o.gen_len / decode_s;
  const double mean_context = o.prompt_len + o.gen_len / 2.0;
  const int kv_bytes = static_cast<int>(dtype_size(ops.activation_dtype()));
  const double bytes_step = model.decode_bytes_per_step(o.batch, mean_context, kv_bytes);
  const double decode_bw = bytes_step * o.gen_len / decode_s;
  const double prefill_flops_s = prefill_per_seq > 0 ? flops / prefill_per_seq : 0.0;
  // The floor a perfect implementation would reach: every byte once at the measured bandwidth.
  const double floor_tps = ceil.bytes_per_s > 0 ? ceil.bytes_per_s / bytes_step : 0;

  if (lm.profiler) fmt::print(stderr, "decode ops:\n{}", lm.profiler->report());
  nlohmann::json j = {{"device", ceil.device},
                      {"architecture", model.info().architecture},
                      {"prompt_len", o.prompt_len},
                      {"gen_len", o.gen_len},
                      {"batch", o.batch},
                      {"graphs", o.graphs && lm.backend->supports_graphs() && !lm.profiler},
                      {"zero_context", o.zero_context},
                      {"prefill_seconds_per_sequence", prefill_per_seq},
                      {"prefill_tokens_per_second", prefill_per_seq > 0 ? o.prompt_len / prefill_per_seq : 0.0},
                      {"prefill_tflops", prefill_flops_s / 1e12},
                      {"decode_tokens_per_second_per_sequence", per_seq_tps},
                      {"decode_tokens_per_second", per_seq_tps * o.batch},
                      {"decode_gb_per_second", decode_bw / 1e9},
                      {"decode_bytes_per_step", bytes_step},
                      {"decode_floor_tokens_per_second_per_sequence", floor_tps},
                      {"ceiling_copy_gb_per_second", ceil.bytes_per_s / 1e9},
                      {"ceiling_gemm_tflops", ceil.flops_per_s / 1e12},
                      {"peak_device_bytes", peak},
                      {"weight_bytes", model.weight_bytes()}};
  if (o.json) {
    fmt::print("{}\n", j.dump());
    return;
  }
  auto pct = [](double x, double c) { return c > 0 ? fmt::format(" ({:.0f}% of {:.0f})", 100 * x / c, c) : std::string(); };
  fmt::print("device            {}\n", ceil.device);
  fmt::print("shape             batch {} x prompt {} + {} generated\n", o.batch, o.prompt_len, o.gen_len);
  if (o.zero_context)
    fmt::print("prefill           none (--zero-context: {} positions of zeroed state)\n", o.prompt_len);
  else
    fmt::print("prefill           {:.2f} ms per sequence, {:.0f} tok/s, {:.1f} TFLOP/s{}\n", prefill_per_seq * 1e3,
               o.prompt_len / prefill_per_seq, prefill_flops_s / 1e12, pct(prefill_flops_s / 1e12, ceil.flops_per_s / 1e12));
  fmt::print("decode            {:.1f} tok/s per sequence, {:.1f} tok/s in aggregate\n", per_seq_tps, per_seq_tps * o.batch);
  fmt::print("decode bandwidth  {:.0f} GB/s{}; floor {:.1f} tok/s per sequence\n", decode_bw / 1e9,
             pct(decode_bw / 1e9, ceil.bytes_per_s / 1e9), floor_tps);
  fmt::print("peak memory       {:.2f} GB\n", peak / 1e9);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("bench", "benchmark prefill and decode of the engine alone (no HTTP)");
  add_model_options(*cmd, opts->model);
  cmd->add_option("--prompt-len", opts->prompt_len, "prompt tokens per sequence")->check(CLI::PositiveNumber);
  cmd->add_option("--gen-len", opts->gen_len, "generated tokens per sequence")->check(CLI::PositiveNumber);
  cmd->add_option("--batch", opts->batch, "sequences decoding together")->check(CLI::PositiveNumber);
  cmd->add_option("--prefill-chunk", opts->prefill_chunk, "largest prefill step in tokens")->check(CLI::PositiveNumber);
  cmd->add_flag("!--no-ceilings", opts->measure_ceilings, "skip measuring the device's bandwidth and GEMM ceilings");
  cmd->add_flag("--zero-context", opts->zero_context,
                "decode after prompt-len positions of zeroed state instead of prefilling (steady-state decode "
                "at long contexts and large batches; the logits are meaningless)");
  cmd->add_flag("!--no-graphs", opts->graphs, "run decode steps op by op instead of replaying captured graphs");
  cmd->add_option("--profile-range", opts->profile_range,
                  "record only this phase in an external CUDA profiler (ncu --profile-from-start off)")
      ->check(CLI::IsMember({"prefill", "decode"}));
  cmd->add_flag("--json", opts->json, "print one JSON object");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace sambay::cli
