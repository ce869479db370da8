// Helpers shared by the ETL integration tests.
#pragma once

#include <filesystem>
#include <string>

namespace saleslake::testing {

// True when a non-empty data file of a run other than `except_run_id` exists under the lake's
// processed_data/ (a run paused before its commit has written its files).
inline bool OtherRunWroteDataFiles(const std::string& lake, const std::string& except_run_id) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(lake + "/processed_data", ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const auto& p = it->path();
    if (p.filename().string().rfind("part-", 0) == 0 && p.string().find(except_run_id) == std::string::npos &&
        std::filesystem::file_size(p, ec) > 0)
      return true;
  }
  return false;
}

}  // namespace saleslake::testing
