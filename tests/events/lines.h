// The non-empty lines of a text (JSON-lines files: the journal, alerts, dead letters).
#pragma once

#include <string>
#include <vector>

namespace saleslake::testing {

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (nl > pos) out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

}  // namespace saleslake::testing
