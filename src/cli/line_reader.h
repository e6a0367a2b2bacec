#pragma once
// Reads lines from standard input so that Ctrl-C (SIGINT) interrupts a read instead of ending
// the program: the interactive chat treats it as "discard this line".
#include <string>

namespace sambay::cli {

enum class ReadResult { kLine, kEnd, kInterrupted };

ReadResult read_line(std::string& line);

}  // namespace sambay::cli
