#include "sql/workgroups.h"

#include <algorithm>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/yaml.h"

namespace saleslake::sql {
namespace {

// "pipeline.yaml:L:C: " for a YAML position (0-based in yaml-cpp).

}  // namespace

Result<std::vector<WorkGroup>> ParseWorkGroups(std::string_view yaml_text, std::string_view file_name) {
  static const std::vector<std::string> kKeys = {"name", "bytes_scanned_cutoff_per_query", "max_concurrent_queries",
                                                 "query_time_limit_seconds"};
  std::vector<WorkGroup> out = {WorkGroup{.name = "primary"}};
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root.IsMap() || !root["workgroups"]) return out;
    const YAML::Node list = root["workgroups"];
    if (!list.IsSequence()) return Status::InvalidArgument(YamlAt(file_name, list.Mark()) + "workgroups: must be a list");
    std::set<std::string> declared;
    for (const auto& n : list) {
      if (!n.IsMap() || !n["name"]) return Status::InvalidArgument(YamlAt(file_name, n.Mark()) + "every workgroup needs a name");
      WorkGroup w{.name = n["name"].as<std::string>()};
      const std::string what = "workgroup " + w.name + ": ";
      static const std::regex kName("[A-Za-z0-9._-]{1,128}");
      if (!std::regex_match(w.name, kName)) {
        return Status::InvalidArgument(YamlAt(file_name, n["name"].Mark()) + what + "names are 1-128 of A-Z a-z 0-9 . _ -");
      }
      // A misspelt limit would otherwise be a limit silently not applied.
      if (auto unknown = UnknownKeys(n, kKeys); !unknown.empty())
        return Status::InvalidArgument(YamlAt(file_name, unknown[0].mark) + what + unknown[0].message);
      if (const YAML::Node cutoff = n["bytes_scanned_cutoff_per_query"]) {
        const int64_t v = cutoff.as<int64_t>();
        if (v < 0) return Status::InvalidArgument(YamlAt(file_name, cutoff.Mark()) + what + "bytes_scanned_cutoff_per_query must be >= 0");
        w.bytes_scanned_cutoff_per_query = static_cast<uint64_t>(v);
      }
      if (const YAML::Node max = n["max_concurrent_queries"]) {
        w.max_concurrent_queries = max.as<int>();
        if (w.max_concurrent_queries < 0) {
          return Status::InvalidArgument(YamlAt(file_name, max.Mark()) + what + "max_concurrent_queries must be >= 0");
        }
      }
      if (const YAML::Node limit = n["query_time_limit_seconds"]) {
        w.query_time_limit_seconds = limit.as<int64_t>();
        if (w.query_time_limit_seconds < 0) {
          return Status::InvalidArgument(YamlAt(file_name, limit.Mark()) + what + "query_time_limit_seconds must be >= 0");
        }
      }
      if (!declared.insert(w.name).second) return Status::InvalidArgument(YamlAt(file_name, n.Mark()) + what + "declared twice");
      if (w.name == "primary") {
        out[0] = std::move(w);  // the declared limits replace primary's defaults
      } else {
        out.push_back(std::move(w));
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(YamlAt(file_name, e.mark) + e.msg);
  }
  return out;
}

}  // namespace saleslake::sql
