// `saleslake deploy`: a pipeline.yaml applied to the lake as a whole, or not at all.
//
// Deploy validates the new file completely first (stack.h: every error at once); an invalid
// file changes nothing. It then diffs the file against the lake's current pipeline.yaml (the
// deployed version) and, unless it is a dry run or nothing changes:
//   1. makes the lake's IAM store hold the groups and users the `iam:` section declares
//      (stack/internal/iam_section.h), dropping those only the replaced version declared;
//      idempotent, so a deploy stopped after it is completed by running it again (a file
//      declaring IAM on a lake without an IAM store is refused here, nothing written);
//      then makes dashboards/ hold the dashboards the `dashboards:` section declares
//      (stack/internal/dashboards_section.h), removing those only the replaced version declared;
//   2. keeps the current version under _system/deploy/versions/<generation>-<id>.yaml
//      (generation 1, 2, ...; id = the first 12 hex digits of the new file's SHA-256);
//   3. claims the generation with a put-if-absent record _system/deploy/versions/<generation>.json
//      {"generation","id","time","action","source","previous","sha256","changes"}: of two
//      deploys racing for one generation exactly one wins, the other is kAborted and writes
//      nothing more (deploys also hold _system/deploy/lock, so this is the second guard);
//   4. replaces pipeline.yaml in one atomic put.
// A running `saleslake serve` notices the new pipeline.yaml (its events loop compares the
// file's size and mtime a few times a second, as on SIGHUP) and reloads its rules, topics and
// alarms; the Glue and console APIs read pipeline.yaml and dashboards/ on each call; its Kinesis
// service reads `streams:` when it starts.
//
// Rollback restores the version the last deploy replaced, itself as a deploy (a new generation,
// action "rollback"), so a second rollback undoes the first.
// Thread safety: functions over the store; concurrent deploys are arbitrated by the lock and step 3.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "io/object_store.h"
#include "stack/stack.h"

namespace saleslake::stack {

constexpr std::string_view kPipelineKey = "pipeline.yaml";
constexpr std::string_view kVersionsPrefix = "_system/deploy/versions/";

struct DeployOptions {
  bool dry_run = false;
  Clock* clock = nullptr;  // nullptr: ProcessClock()
};

struct DeployResult {
  ChangeSet changes;
  int64_t generation = 0;  // the generation written; 0 for a dry run or when nothing changed
  std::string id;
  std::string previous_key;  // where the replaced version was kept
  // What deploy did not do although the file asked for it (an IAM user kept because it still
  // has access keys, ...).
  std::vector<std::string> notices;
};

// Deploys `text` (read from `source`, named in messages and in the record). kInvalidArgument
// with every error of the file, one per line; kAborted when another deploy won the generation.
Result<DeployResult> Deploy(io::ObjectStore& lake, std::string_view source, std::string_view text,
                            const DeployOptions& options = {});

// Restores the version the last deploy replaced. kNotFound when nothing was deployed yet;
// kInvalidArgument when that version no longer validates (its errors, nothing changes).
Result<DeployResult> Rollback(io::ObjectStore& lake, const DeployOptions& options = {});

struct DeployRecord {
  int64_t generation = 0;
  std::string id, time, action, source, previous, sha256;
  int changes = 0;
};

// The deploys recorded in the lake, oldest first.
Result<std::vector<DeployRecord>> History(const io::ObjectStore& lake);

}  // namespace saleslake::stack
