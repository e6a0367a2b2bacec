#include "loadgen/completion_stream.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace sambay::loadgen {
namespace {

double seconds(CompletionStream::Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string excerpt(std::string_view s, size_t limit = 200) {
  return s.size() <= limit ? std::string(s) : fmt::format("{}... ({} bytes)", s.substr(0, limit), s.size());
}

}  // namespace

CompletionStream::CompletionStream(RequestResult& result, Clock::time_point sent, std::atomic<int64_t>* live_tokens)
    : result_(result),
      sent_(sent),
      live_tokens_(live_tokens),
      parser_([this](std::string_view data) { return on_event(data); }) {}

bool CompletionStream::on_bytes(std::string_view bytes, Clock::time_point now) {
  now_ = now;
  return parser_.feed(bytes);
}

void CompletionStream::finish(Clock::time_point now, const std::string& transport_error) {
  now_ = now;
  if (failure_.empty() && transport_error.empty()) parser_.finish();
  result_.latency_s = seconds(now - sent_);
  if (!failure_.empty()) {
    result_.error = failure_;
  } else if (!transport_error.empty()) {
    result_.error = transport_error;
  } else if (events_ == 0) {
    result_.error = "the response held no server-sent events (not a streamed answer?)";
  } else if (!done_) {
    result_.error = "the stream ended without \"data: [DONE]\"";
  }
  result_.ok = result_.error.empty();
}

bool CompletionStream::on_event(std::string_view data) {
  ++events_;
  if (done_) return true;  // nothing follows [DONE] in the protocol; ignore rather than fail
  if (data == "[DONE]") {
    done_ = true;
    return true;
  }
  const auto chunk = nlohmann::json::parse(data, nullptr, false);
  if (chunk.is_discarded() || !chunk.is_object()) {
    failure_ = fmt::format("malformed SSE chunk (not a JSON object): {}", excerpt(data));
    return false;
  }
  if (auto e = chunk.find("error"); e != chunk.end() && !e->is_null()) {
    const auto message = e->is_object() && e->contains("message") && (*e)["message"].is_string()
                             ? (*e)["message"].get<std::string>()
                             : e->dump();
    failure_ = fmt::format("error event in the stream: {}", message);
    return false;
  }
  if (auto choices = chunk.find("choices"); choices != chunk.end() && choices->is_array() && !choices->empty()) {
    const auto& choice = choices->front();
    const auto text = choice.find("text");
    const bool empty_text = text == choice.end() || !text->is_string() || text->get_ref<const std::string&>().empty();
    const auto finish = choice.find("finish_reason");
    const bool finishes = finish != choice.end() && !finish->is_null();
    if (!(empty_text && finishes)) {
      if (result_.chunks == 0) {
        result_.ttft_s = seconds(now_ - sent_);
      } else {
        result_.itl_s.push_back(seconds(now_ - last_token_));
      }
      last_token_ = now_;
      ++result_.chunks;
      if (live_tokens_) live_tokens_->fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
    if (auto p = usage->find("prompt_tokens"); p != usage->end() && p->is_number_integer())
      result_.prompt_tokens = p->get<int64_t>();
    if (auto c = usage->find("completion_tokens"); c != usage->end() && c->is_number_integer())
      result_.completion_tokens = c->get<int64_t>();
  }
  return true;
}

}  // namespace sambay::loadgen
