#include "line_reader.h"

#include <unistd.h>

#include <cerrno>

namespace sambay::cli {

ReadResult read_line(std::string& line) {
  line.clear();
  char c;
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n == 1) {
      if (c == '\n') return ReadResult::kLine;
      line.push_back(c);
      continue;
    }
    if (n == 0) return line.empty() ? ReadResult::kEnd : ReadResult::kLine;
    if (errno == EINTR) return ReadResult::kInterrupted;
    return ReadResult::kEnd;
  }
}

}  // namespace sambay::cli
