#include "common/text_position.h"

namespace saleslake {

TextPosition PositionOf(std::string_view text, size_t offset) {
  TextPosition p;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

std::string LineColumn(std::string_view text, size_t offset) {
  TextPosition p = PositionOf(text, offset);
  return std::to_string(p.line) + ":" + std::to_string(p.column);
}

}  // namespace saleslake
