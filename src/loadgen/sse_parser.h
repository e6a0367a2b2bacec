#pragma once
// Server-sent events (the WHATWG "text/event-stream" format) from a byte stream that arrives in pieces of
// any size: an event's lines may be split anywhere, including between the '\r' and '\n' of a line break.
// Only the `data` field matters to an OpenAI stream; other fields and ':' comment lines are skipped.
#include <functional>
#include <string>
#include <string_view>

namespace sambay::loadgen {

class SseParser {
 public:
  // Called once per event with its data lines joined by '\n' (an OpenAI chunk: one JSON object or "[DONE]").
  // Returning false stops the parse: feed() then returns false and ignores the rest of the piece.
  using EventHandler = std::function<bool(std::string_view data)>;

  explicit SseParser(EventHandler on_event) : on_event_(std::move(on_event)) {}

  bool feed(std::string_view bytes);

  // End of stream. An event cut off without its terminating blank line is still delivered: a server that
  // closes right after its last `data:` line has sent it, and the caller decides whether it is complete.
  bool finish();

  // True when bytes of an unfinished line or event are waiting (so the stream was cut off mid-event).
  bool pending() const { return !line_.empty() || has_data_; }

 private:
  bool end_line();
  bool dispatch();

  EventHandler on_event_;
  std::string line_;
  std::string data_;
  bool has_data_ = false;
  bool after_cr_ = false;  // the last byte was '\r': a following '\n' belongs to the same line break
  bool stopped_ = false;
};

}  // namespace sambay::loadgen
