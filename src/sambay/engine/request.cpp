#include "sambay/engine/request.h"

namespace sambay {

std::optional<RequestEvent> RequestStream::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
  RequestEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void RequestStream::push(RequestEvent e) {
  {
    std::lock_guard lock(mu_);
    if (finished_) return;  // nothing follows the finish event
    finished_ = e.finish.has_value();
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

}  // namespace sambay
