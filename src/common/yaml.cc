#include "common/yaml.h"

#include <algorithm>

#include "common/suggest.h"

namespace saleslake {

std::string YamlAt(std::string_view file, const YAML::Mark& mark) {
  return std::string(file) + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
}

std::vector<YamlProblem> UnknownKeys(const YAML::Node& map, const std::vector<std::string>& known) {
  std::vector<YamlProblem> out;
  if (!map.IsMap()) return out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = "unknown key '" + key + "'";
    if (std::string hint = ClosestName(key, known); !hint.empty()) {
      message += " (did you mean '" + hint + "'?)";
    } else {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      message += " (expected one of: " + list + ")";
    }
    out.push_back({it->first.Mark(), std::move(message)});
  }
  return out;
}

}  // namespace saleslake
