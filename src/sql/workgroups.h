// Athena workgroups: the `workgroups:` section of pipeline.yaml, the per-query limits the server's
// query manager applies to the queries of each. The parser lives here, below both the server
// (which applies the limits) and the stack (which validates and diffs pipeline.yaml on deploy),
// so that one implementation reads the section.
//
//   workgroups:
//     - name: analysts
//       bytes_scanned_cutoff_per_query: 10000000   # BytesScannedCutoffPerQuery (0 = none)
//       max_concurrent_queries: 1                  # queries running at once; the rest QUEUED
//       query_time_limit_seconds: 600              # 0 = the query manager's default (30 minutes)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake::sql {

struct WorkGroup {
  std::string name;
  uint64_t bytes_scanned_cutoff_per_query = 0;
  int max_concurrent_queries = 0;  // 0 = the query manager's runners
  // How long one of its queries may run; 0 = the query manager's default (Athena's 30 minutes).
  int64_t query_time_limit_seconds = 0;
};

// The workgroups of a pipeline.yaml text: `primary` first (always there; its limits replaced when
// it is declared), then the declared ones in order. kInvalidArgument naming the problem with
// `file_name`:line:col (an unknown key with the closest known one).
Result<std::vector<WorkGroup>> ParseWorkGroups(std::string_view yaml_text,
                                               std::string_view file_name = "pipeline.yaml");

}  // namespace saleslake::sql
