#include "loadgen/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sambay::loadgen {

double percentile(std::span<const double> sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
}

Distribution distribution(std::vector<double> values) {
  Distribution d;
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  d.count = static_cast<int64_t>(values.size());
  d.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  d.min = values.front();
  d.max = values.back();
  d.p50 = percentile(values, 50);
  d.p90 = percentile(values, 90);
  d.p99 = percentile(values, 99);
  return d;
}

double covered_length(std::vector<std::pair<double, double>> intervals) {
  std::sort(intervals.begin(), intervals.end());
  double total = 0, begin = 0, end = 0;
  bool open = false;
  for (const auto& [b, e] : intervals) {
    if (e <= b) continue;
    if (open && b <= end) {
      end = std::max(end, e);
      continue;
    }
    if (open) total += end - begin;
    begin = b;
    end = e;
    open = true;
  }
  if (open) total += end - begin;
  return total;
}

namespace {

// Fills the full-load figures from the completed requests' token times: the first chunk at
// start + ttft, each later one an inter-token gap after the previous.
void full_load(std::span<const RequestResult> results, Summary& s) {
  std::vector<std::pair<double, int>> events;  // (time, +1 first token / -1 last token)
  for (const auto& r : results) {
    if (!r.ok || r.ttft_s < 0 || r.itl_s.empty()) continue;
    double last = r.start_s + r.ttft_s;
    events.emplace_back(last, +1);
    for (double gap : r.itl_s) last += gap;
    events.emplace_back(last, -1);
  }
  std::sort(events.begin(), events.end());  // at equal times an end (-1) comes before a start
  std::vector<std::pair<double, double>> full;
  int active = 0, peak = 0;
  for (const auto& [at, delta] : events) peak = std::max(peak, active += delta);
  if (peak == 0) return;
  active = 0;
  for (const auto& [at, delta] : events) {
    if (active == peak) full.back().second = at;
    active += delta;
    if (active == peak) full.emplace_back(at, at);
  }
  s.full_load_requests = peak;
  for (const auto& [b, e] : full) s.full_load_s += e - b;
  for (const auto& r : results) {
    if (!r.ok || r.ttft_s < 0) continue;
    double t = r.start_s + r.ttft_s;
    size_t i = 0;
    for (double gap : r.itl_s) {
      t += gap;
      while (i < full.size() && full[i].second < t) ++i;
      if (i < full.size() && full[i].first < t) ++s.full_load_tokens;
    }
  }
  if (s.full_load_s > 0) s.full_load_throughput = static_cast<double>(s.full_load_tokens) / s.full_load_s;
}

}  // namespace

Summary summarize(std::span<const RequestResult> results, double wall_s) {
  Summary s;
  s.wall_s = wall_s;
  s.requests = static_cast<int64_t>(results.size());
  std::vector<double> latency, ttft, itl, tpot;
  std::vector<std::pair<double, double>> decoding;
  for (const auto& r : results) {
    if (!r.ok) {
      ++(r.cancelled ? s.cancelled : s.failed);
      s.partial_tokens += r.chunks;
      continue;
    }
    ++s.completed;
    const int64_t tokens = r.tokens();
    s.prompt_tokens += r.prompt_tokens >= 0 ? r.prompt_tokens : r.prompt_len;
    s.generated_tokens += tokens;
    if (tokens != r.gen_len) ++s.length_mismatches;
    latency.push_back(r.latency_s);
    itl.insert(itl.end(), r.itl_s.begin(), r.itl_s.end());
    if (r.ttft_s < 0) continue;  // no token chunk (a zero-length answer): no first-token figures
    ttft.push_back(r.ttft_s);
    if (tokens > 1) {
      tpot.push_back((r.latency_s - r.ttft_s) / static_cast<double>(tokens - 1));
      s.decode_tokens += tokens - 1;
      decoding.emplace_back(r.start_s + r.ttft_s, r.start_s + r.latency_s);
    }
  }
  if (wall_s > 0) {
    s.request_throughput = static_cast<double>(s.completed) / wall_s;
    s.output_throughput = static_cast<double>(s.generated_tokens) / wall_s;
    s.streamed_throughput = static_cast<double>(s.generated_tokens + s.partial_tokens) / wall_s;
  }
  s.decode_active_s = covered_length(std::move(decoding));
  if (s.decode_active_s > 0) s.decode_throughput = static_cast<double>(s.decode_tokens) / s.decode_active_s;
  full_load(results, s);
  s.latency_s = distribution(std::move(latency));
  s.ttft_s = distribution(std::move(ttft));
  s.itl_s = distribution(std::move(itl));
  s.tpot_s = distribution(std::move(tpot));
  return s;
}

}  // namespace sambay::loadgen
