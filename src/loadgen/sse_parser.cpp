#include "loadgen/sse_parser.h"

namespace sambay::loadgen {

bool SseParser::feed(std::string_view bytes) {
  if (stopped_) return false;
  for (char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // the second half of "\r\n"
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      if (!end_line()) return false;
    } else {
      line_ += c;
    }
  }
  return true;
}

bool SseParser::finish() {
  if (stopped_) return false;
  if (!line_.empty() && !end_line()) return false;
  return has_data_ ? dispatch() : true;
}

bool SseParser::end_line() {
  if (line_.empty()) return has_data_ ? dispatch() : true;  // a blank line ends the event
  const std::string_view line = line_;
  if (line.front() != ':') {  // ':' starts a comment (keep-alive pings)
    const size_t colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") {
      if (has_data_) data_ += '\n';
      data_ += value;
      has_data_ = true;
    }
  }
  line_.clear();
  return true;
}

bool SseParser::dispatch() {
  has_data_ = false;
  const bool go_on = on_event_(data_);
  data_.clear();
  if (!go_on) stopped_ = true;
  return go_on;
}

}  // namespace sambay::loadgen
