#include "sambay/ops/profiled_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace sambay {

void ProfiledOps::collect() {
  for (const Pending& p : pending_) totals_[p.name].seconds += inner_.marks_elapsed_ms(p.start, p.end) * 1e-3;
  pending_.clear();
}

std::string ProfiledOps::report() {
  collect();
  std::vector<std::pair<std::string, Entry>> rows(totals_.begin(), totals_.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  double total = 0;
  for (const auto& [_, e] : rows) total += e.seconds;
  std::string out = fmt::format("{:<16} {:>10} {:>8} {:>7}\n", "op", "seconds", "calls", "share");
  for (const auto& [name, e] : rows)
    out += fmt::format("{:<16} {:>10.4f} {:>8} {:>6.1f}%\n", name, e.seconds, e.calls, total > 0 ? 100 * e.seconds / total : 0);
  return out;
}

}  // namespace sambay
