// Positions and key checks shared by every parser of pipeline.yaml's sections (crawlers, jobs,
// workgroups, the stack and its iam/dashboards sections), so that their errors read alike.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace saleslake {

// "FILE:LINE:COL: " for a yaml-cpp mark (0-based there, 1-based here): the prefix of every
// error about a YAML file.
std::string YamlAt(std::string_view file, const YAML::Mark& mark);

struct YamlProblem {
  YAML::Mark mark;
  std::string message;
};

// The keys of the mapping `map` that are not `known` (in file order), each "unknown key 'K'"
// followed by "(did you mean 'X'?)" when a known key is close, else "(expected one of: a, b)".
// Empty when `map` is not a mapping.
std::vector<YamlProblem> UnknownKeys(const YAML::Node& map, const std::vector<std::string>& known);

}  // namespace saleslake
