// pipeline.yaml as a stack (CloudFormation's role): the whole file loaded and validated at once,
// its resources, and the change set between two versions of it.
//
// Resources are what the file declares, one per named item of its sections, plus the tables the
// crawlers and jobs define:
//   table    (a crawler's `table`, a job's `target.table`: location, format, partitioning)
//   crawler, job, stream, rule, topic, alarm, workgroup   (the items of crawlers:, jobs:, streams:,
//                                                          rules:, topics:, alarms:, workgroups:)
//   dashboard  (the items of dashboards:, written to dashboards/NAME.json by deploy)
//   iam-group, iam-user  (the iam: section)
//   setting  (the top-level version:, bucket:, smtp:)
// Dashboards made in the console and IAM users made with `saleslake iam` alone are not part of
// the stack (`export aws` still exports the IAM policies).
//
// Each resource's fields are its YAML mapping flattened to paths ("target.partition_by",
// "columns.status", "rules[0].action"), a list of scalars being one field ("[region, month]"):
// a change set names the fields that change, in the file's own terms, and ignores comments,
// layout and key order.
//
// Validation reports every error, not the first: each item of each section is checked on its
// own by the parser its module owns (catalog's crawlers, etl's jobs, stream's deliveries,
// events' rules, topics, alarms and smtp, sql's workgroups, the dashboards' checks). To do that with parsers that stop at their first
// error, the item is parsed from a copy of the file where every other line is blanked, so
// line:column positions stay those of the file. Then come the checks across items (names
// declared twice, rule targets that name no crawler or job, a stream whose table no job loads).
// Thread safety: pure functions over values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake::stack {

struct Resource {
  std::string kind;  // table | crawler | ... | workgroup | dashboard | iam-group | iam-user | setting
  std::string name;
  std::map<std::string, std::string> fields;
  int line = 0;  // 1-based line of its declaration (0 = derived or unknown)
};

struct Pipeline {
  std::string path;  // names the file in messages
  std::string text;
  std::vector<Resource> resources;  // in kind order (above), then by name
  const Resource* Find(std::string_view kind, std::string_view name) const;
};

// Every problem of the file, each "path:line:col: why", in file order (empty = valid). A YAML
// syntax error is the only one reported (nothing after it can be read).
std::vector<std::string> ValidatePipeline(std::string_view path, std::string_view text);

// Validates, then lists the resources. kInvalidArgument with every error, one per line.
Result<Pipeline> LoadPipeline(std::string_view path, std::string_view text);

// The resources of a file without validating it (the deployed version, which may have been
// edited by hand): only YAML syntax errors fail. Empty text = no resources.
Result<Pipeline> ReadPipeline(std::string_view path, std::string_view text);

enum class ChangeAction { kAdd, kModify, kRemove };
std::string_view ChangeActionName(ChangeAction a);  // add | modify | remove

struct FieldChange {
  std::string field;
  std::optional<std::string> before, after;  // nullopt = absent
};

struct Change {
  ChangeAction action = ChangeAction::kAdd;
  std::string kind, name;
  std::vector<FieldChange> fields;  // every field for add and remove; the changed ones for modify
};

struct ChangeSet {
  std::vector<Change> changes;  // in kind order, then by name
  bool empty() const { return changes.empty(); }
  int Count(ChangeAction a) const;
  // "Change set: 2 to add, 1 to modify, 0 to remove", then one block per change:
  //   + crawler raw2            (fields: "    path: raw_data2/")
  //   ~ job my-etl-job          (fields: "    target.compression: zstd -> snappy")
  //   - topic old-alerts
  std::string ToText() const;
  // {"summary":{"add":N,"modify":N,"remove":N},"changes":[{"action","kind","name",
  //  "fields":[{"field","before","after"}]}]} (before/after null when absent).
  std::string ToJson() const;
};

// What changes from `deployed` to `next`.
ChangeSet Diff(const Pipeline& deployed, const Pipeline& next);

}  // namespace saleslake::stack
