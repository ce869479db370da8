// Byte offset -> line and column, for errors that point into a text (STYLE.md rule 6: every
// error says where). The SQL lexer counts lines as it scans and gives the same numbers.
// Thread safety: plain functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace saleslake {

// 1-based; the column counts bytes from the start of the line.
struct TextPosition {
  size_t line = 1;
  size_t column = 1;
};

// Where `offset` falls in `text` (an offset past the end counts to the end).
TextPosition PositionOf(std::string_view text, size_t offset);
// "line:column", e.g. "3:14".
std::string LineColumn(std::string_view text, size_t offset);

}  // namespace saleslake
