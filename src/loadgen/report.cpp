#include "loadgen/report.h"

#include <fmt/format.h>

namespace sambay::loadgen {
namespace {

using nlohmann::json;

json distribution_json(const Distribution& d) {
  return {{"count", d.count}, {"mean", d.mean}, {"min", d.min}, {"p50", d.p50},
          {"p90", d.p90},     {"p99", d.p99},   {"max", d.max}};
}

std::string distribution_row(std::string_view name, const Distribution& d, double scale) {
  if (d.count == 0) return fmt::format("{:<22}{:>11}\n", name, "-");
  return fmt::format("{:<22}{:>11.2f}{:>11.2f}{:>11.2f}{:>11.2f}{:>11.2f}\n", name, d.mean * scale, d.p50 * scale,
                     d.p90 * scale, d.p99 * scale, d.max * scale);
}

std::string range_text(int64_t mean, double ratio) {
  const LengthRange r = length_range(mean, ratio);
  return r.low == r.high ? fmt::format("{}", r.low) : fmt::format("{} in [{}, {}]", mean, r.low, r.high);
}

}  // namespace

std::string format_report(const RunDescription& run, const Summary& s) {
  const LoadOptions& o = run.options;
  const WorkloadSpec& w = o.workload;
  std::string out;
  auto line = [&](std::string_view name, const std::string& value) { out += fmt::format("{:<22}{}\n", name, value); };
  out += "==================== sambay loadgen ====================\n";
  line("server", fmt::format("{} (model {})", o.endpoint.url, run.model));
  line("workload", fmt::format("{}: prompt {}, generation {} tokens", run.workload_name,
                               range_text(w.prompt_len, w.range_ratio), range_text(w.gen_len, w.range_ratio)));
  line("load", fmt::format("{} clients, {} requests{}", o.concurrency, o.requests > 0 ? o.requests : o.concurrency,
                           o.duration_s > 0 ? fmt::format(", {:g} s cap", o.duration_s) : ""));
  line("wall time", fmt::format("{:.2f} s", s.wall_s));
  line("requests", fmt::format("{} completed, {} failed{} ({:.3f} req/s)", s.completed, s.failed,
                               s.cancelled > 0 ? fmt::format(", {} cancelled at the time limit", s.cancelled) : "",
                               s.request_throughput));
  line("tokens",
       fmt::format(
           "{} prompt, {} generated{}", s.prompt_tokens, s.generated_tokens,
           s.partial_tokens > 0 ? fmt::format(" (and {} by requests that did not complete)", s.partial_tokens) : ""));
  if (s.length_mismatches > 0)
    line("", fmt::format("{} requests did not generate the tokens asked for", s.length_mismatches));
  line("output throughput", fmt::format("{:.1f} tok/s", s.output_throughput));
  if (s.partial_tokens > 0)
    line("streamed throughput",
         fmt::format("{:.1f} tok/s (counting the unfinished requests' tokens)", s.streamed_throughput));
  line("decode throughput", fmt::format("{:.1f} tok/s ({} tokens after the first, over {:.2f} s of decoding)",
                                        s.decode_throughput, s.decode_tokens, s.decode_active_s));
  if (s.full_load_requests > 0)
    line("at full load", fmt::format("{:.1f} tok/s ({} tokens while {} requests were decoding at once, {:.2f} s)",
                                     s.full_load_throughput, s.full_load_tokens, s.full_load_requests,
                                     s.full_load_s));
  out += fmt::format("{:<22}{:>11}{:>11}{:>11}{:>11}{:>11}\n", "", "mean", "p50", "p90", "p99", "max");
  out += distribution_row("latency (s)", s.latency_s, 1);
  out += distribution_row("TTFT (ms)", s.ttft_s, 1e3);
  out += distribution_row("TPOT (ms)", s.tpot_s, 1e3);
  out += distribution_row("ITL (ms)", s.itl_s, 1e3);
  out += "========================================================\n";
  return out;
}

std::vector<std::pair<int64_t, double>> token_timeline(const RequestResult& r, int64_t every) {
  std::vector<std::pair<int64_t, double>> out;
  if (r.chunks == 0 || r.ttft_s < 0) return out;
  double t = r.ttft_s;  // chunk 1 arrived here; chunk n + 1 arrived itl_s[n - 1] after chunk n
  out.emplace_back(1, t);
  for (size_t i = 0; i < r.itl_s.size(); ++i) {
    t += r.itl_s[i];
    const int64_t n = static_cast<int64_t>(i) + 2;
    if (n % every == 0 || i + 1 == r.itl_s.size()) out.emplace_back(n, t);
  }
  return out;
}

json report_json(const RunDescription& run, const Summary& s, std::span<const RequestResult> results, bool with_itl) {
  const LoadOptions& o = run.options;
  const WorkloadSpec& w = o.workload;
  const LengthRange prompt_range = length_range(w.prompt_len, w.range_ratio);
  const LengthRange gen_range = length_range(w.gen_len, w.range_ratio);
  json j = {
      {"command_line", run.command_line},
      {"url", o.endpoint.url},
      {"model", run.model},
      {"workload",
       {{"name", run.workload_name},
        {"prompt_len", w.prompt_len},
        {"gen_len", w.gen_len},
        {"range_ratio", w.range_ratio},
        {"prompt_len_range", {prompt_range.low, prompt_range.high}},
        {"gen_len_range", {gen_range.low, gen_range.high}},
        {"token_id_range", {w.token_min, w.token_max}},
        {"seed", w.seed}}},
      {"load",
       {{"concurrency", o.concurrency},
        {"requests", o.requests > 0 ? o.requests : o.concurrency},
        {"duration_s", o.duration_s},
        {"temperature", o.temperature}}},
      {"summary",
       {{"wall_s", s.wall_s},
        {"requests", s.requests},
        {"completed", s.completed},
        {"failed", s.failed},
        {"cancelled", s.cancelled},
        {"prompt_tokens", s.prompt_tokens},
        {"generated_tokens", s.generated_tokens},
        {"length_mismatches", s.length_mismatches},
        {"request_throughput", s.request_throughput},
        {"output_throughput", s.output_throughput},
        {"partial_tokens", s.partial_tokens},
        {"streamed_throughput", s.streamed_throughput},
        {"decode_tokens", s.decode_tokens},
        {"decode_active_s", s.decode_active_s},
        {"decode_throughput", s.decode_throughput},
        {"full_load_requests", s.full_load_requests},
        {"full_load_s", s.full_load_s},
        {"full_load_tokens", s.full_load_tokens},
        {"full_load_throughput", s.full_load_throughput},
        {"latency_s", distribution_json(s.latency_s)},
        {"ttft_s", distribution_json(s.ttft_s)},
        {"tpot_s", distribution_json(s.tpot_s)},
        {"itl_s", distribution_json(s.itl_s)}}},
  };
  json rows = json::array();
  for (const auto& r : results) {
    const Distribution itl = distribution(r.itl_s);
    json row = {{"index", r.index},
                {"client", r.client},
                {"prompt_len", r.prompt_len},
                {"gen_len", r.gen_len},
                {"ok", r.ok},
                {"cancelled", r.cancelled},
                {"error", r.error},
                {"http_status", r.http_status},
                {"start_s", r.start_s},
                {"ttft_s", r.ttft_s},
                {"latency_s", r.latency_s},
                {"chunks", r.chunks},
                {"prompt_tokens", r.prompt_tokens},
                {"completion_tokens", r.completion_tokens},
                {"itl_s", distribution_json(itl)}};
    row["timeline"] = token_timeline(r);
    if (with_itl) row["itl_all_s"] = r.itl_s;
    rows.push_back(std::move(row));
  }
  j["requests"] = std::move(rows);
  return j;
}

}  // namespace sambay::loadgen
