#include "etl/job_spec.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "common/yaml.h"

namespace saleslake::etl {
namespace {

// Errors carry "path:line:col: ". yaml-cpp marks are 0-based.
class Ctx {
 public:
  explicit Ctx(std::string_view path) : path_(path) {}
  Status Error(const YAML::Node& n, const std::string& msg) const {
    YAML::Mark m = n.Mark();
    if (m.line < 0) return Status::InvalidArgument(path_ + ": " + msg);
    return Status::InvalidArgument(YamlAt(path_, m) + msg);
  }

 const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Result<std::string> Scalar(const Ctx& ctx, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) return ctx.Error(n, what + " must be a single value");
  return n.Scalar();
}

Result<std::vector<std::string>> StringList(const Ctx& ctx, const YAML::Node& n,
                                            const std::string& what) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) return ctx.Error(n, what + " must be a list");
  for (const auto& item : n) {
    SL_ASSIGN_OR_RETURN(std::string s, Scalar(ctx, item, what + " entries"));
    out.push_back(std::move(s));
  }
  return out;
}

Result<double> Number(const Ctx& ctx, const YAML::Node& n, const std::string& what) {
  SL_ASSIGN_OR_RETURN(std::string s, Scalar(ctx, n, what));
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return ctx.Error(n, what + " must be a number, not '" + s + "'");
}

Result<bool> Bool(const Ctx& ctx, const YAML::Node& n, const std::string& what) {
  SL_ASSIGN_OR_RETURN(std::string s, Scalar(ctx, n, what));
  if (s == "true" || s == "yes") return true;
  if (s == "false" || s == "no") return false;
  return ctx.Error(n, what + " must be true or false, not '" + s + "'");
}

Status CheckKeys(const Ctx& ctx, const YAML::Node& map, const std::vector<std::string>& allowed,
                 const std::string& where) {
  const std::vector<YamlProblem> unknown = UnknownKeys(map, allowed);
  if (unknown.empty()) return Status::OK();
  return Status::InvalidArgument(YamlAt(ctx.path(), unknown[0].mark) + where + ": " + unknown[0].message);
}

Result<ColumnRule> ParseRule(const Ctx& ctx, const YAML::Node& n, const std::string& where) {
  if (!n.IsMap()) return ctx.Error(n, where + ": a rule must be a map");
  SL_RETURN_IF_ERROR(CheckKeys(
      ctx, n, {"column", "check", "action", "name", "min", "max", "values", "pattern", "fix"}, where));
  ColumnRule r;
  if (!n["column"]) return ctx.Error(n, where + ": a rule needs 'column'");
  SL_ASSIGN_OR_RETURN(r.column, Scalar(ctx, n["column"], "column"));
  if (!n["check"]) return ctx.Error(n, where + ": a rule needs 'check'");
  SL_ASSIGN_OR_RETURN(std::string check, Scalar(ctx, n["check"], "check"));
  if (check == "not_null") r.check = RuleCheck::kNotNull;
  else if (check == "range") r.check = RuleCheck::kRange;
  else if (check == "allowed") r.check = RuleCheck::kAllowed;
  else if (check == "regex") r.check = RuleCheck::kRegex;
  else return ctx.Error(n["check"], where + ": unknown check '" + check + "' (not_null, range, allowed, regex)");
  std::string action = "reject";
  if (n["action"]) {
    SL_ASSIGN_OR_RETURN(action, Scalar(ctx, n["action"], "action"));
  }
  if (action == "reject") r.action = RuleAction::kReject;
  else if (action == "flag") r.action = RuleAction::kFlag;
  else if (action == "fix") r.action = RuleAction::kFix;
  else return ctx.Error(n["action"], where + ": unknown action '" + action + "' (reject, flag, fix)");
  r.name = r.column + "_" + check;
  if (n["name"]) {
    SL_ASSIGN_OR_RETURN(r.name, Scalar(ctx, n["name"], "name"));
  }
  if (n["min"]) {
    SL_ASSIGN_OR_RETURN(r.min, Number(ctx, n["min"], "min"));
  }
  if (n["max"]) {
    SL_ASSIGN_OR_RETURN(r.max, Number(ctx, n["max"], "max"));
  }
  if (n["values"]) {
    SL_ASSIGN_OR_RETURN(r.values, StringList(ctx, n["values"], "values"));
  }
  if (n["pattern"]) {
    SL_ASSIGN_OR_RETURN(r.pattern, Scalar(ctx, n["pattern"], "pattern"));
  }
  if (n["fix"]) {
    SL_ASSIGN_OR_RETURN(std::string fix, Scalar(ctx, n["fix"], "fix"));
    r.fix_value = fix;
  }
  if (r.check == RuleCheck::kRange && !r.min && !r.max)
    return ctx.Error(n, where + ": a range rule needs min and/or max");
  if (r.check == RuleCheck::kAllowed && r.values.empty())
    return ctx.Error(n, where + ": an allowed rule needs values");
  if (r.check == RuleCheck::kRegex && r.pattern.empty())
    return ctx.Error(n, where + ": a regex rule needs a pattern");
  return r;
}

// The figures a job gets when it declares no `counts:` (pipelines written before counts could
// be declared; the init pipeline declares them).
const std::vector<RowCount> kSalesCounts = {
    {.name = "missing_amount", .column = "amount", .kind = CountKind::kNull},
    {.name = "out_rows", .column = "status", .kind = CountKind::kEquals, .value = "OUT"},
    {.name = "negative_amounts", .column = "amount", .kind = CountKind::kNegative},
};

Result<JobSpec> ParseJob(const Ctx& ctx, const YAML::Node& n, size_t index) {
  std::string where = "jobs[" + std::to_string(index) + "]";
  if (!n.IsMap()) return ctx.Error(n, where + " must be a map");
  if (!n["name"]) return ctx.Error(n, where + ": a job needs a 'name'");
  JobSpec job;
  SL_ASSIGN_OR_RETURN(job.name, Scalar(ctx, n["name"], "name"));
  where = "job '" + job.name + "'";
  SL_RETURN_IF_ERROR(CheckKeys(ctx, n,
                               {"name", "source", "target", "columns", "rules", "flag_values",
                                "pii", "quality", "alert_topic", "append_only", "dedupe", "counts",
                                "date_range"},
                               where));
  if (!n["source"]) return ctx.Error(n, where + ": needs a 'source' table");
  SL_ASSIGN_OR_RETURN(job.source_table, Scalar(ctx, n["source"], "source"));
  const YAML::Node t = n["target"];
  if (!t || !t.IsMap()) return ctx.Error(t ? t : n, where + ": needs a 'target' map");
  SL_RETURN_IF_ERROR(CheckKeys(ctx, t,
                               {"table", "location", "format", "compression", "partition_by",
                                "target_file_size_mb"},
                               where + " target"));
  if (!t["table"]) return ctx.Error(t, where + ": target needs a 'table'");
  SL_ASSIGN_OR_RETURN(job.target_table, Scalar(ctx, t["table"], "target table"));
  job.target_location = "processed_data/" + job.target_table + "/";
  if (t["location"]) {
    SL_ASSIGN_OR_RETURN(job.target_location, Scalar(ctx, t["location"], "location"));
  }
  if (job.target_location.empty() || job.target_location.back() != '/') job.target_location += '/';
  if (t["format"]) {
    SL_ASSIGN_OR_RETURN(std::string f, Scalar(ctx, t["format"], "format"));
    if (f != "parquet") return ctx.Error(t["format"], where + ": target format must be parquet");
  }
  if (t["compression"]) {
    SL_ASSIGN_OR_RETURN(job.compression, Scalar(ctx, t["compression"], "compression"));
  }
  if (t["partition_by"]) {
    SL_ASSIGN_OR_RETURN(job.partition_by, StringList(ctx, t["partition_by"], "partition_by"));
  }
  if (t["target_file_size_mb"]) {
    SL_ASSIGN_OR_RETURN(double mb, Number(ctx, t["target_file_size_mb"], "target_file_size_mb"));
    if (mb < 1 || mb > 4096) return ctx.Error(t["target_file_size_mb"], where + ": target_file_size_mb must be 1..4096");
    job.target_file_size_mb = static_cast<uint64_t>(mb);
  }
  if (const YAML::Node a = n["append_only"]) {
    SL_ASSIGN_OR_RETURN(job.append_only, Bool(ctx, a, "append_only"));
  }
  if (const YAML::Node d = n["dedupe"]) {
    SL_ASSIGN_OR_RETURN(job.dedupe, Bool(ctx, d, "dedupe"));
  }
  if (const YAML::Node c = n["columns"]) {
    if (!c.IsMap()) return ctx.Error(c, where + ": columns must be a map of target: expression");
    std::set<std::string> seen;
    for (const auto& kv : c) {
      const std::string& col = kv.first.Scalar();
      if (!seen.insert(col).second) return ctx.Error(kv.first, where + ": column '" + col + "' twice");
      SL_ASSIGN_OR_RETURN(std::string expr, Scalar(ctx, kv.second, "column expression"));
      job.columns.emplace_back(col, expr);
    }
  }
  if (const YAML::Node r = n["rules"]) {
    if (!r.IsSequence()) return ctx.Error(r, where + ": rules must be a list");
    size_t i = 0;
    for (const auto& rule : r) {
      SL_ASSIGN_OR_RETURN(ColumnRule cr, ParseRule(ctx, rule, where + " rules[" + std::to_string(i++) + "]"));
      job.rules.push_back(std::move(cr));
    }
  }
  if (const YAML::Node f = n["flag_values"]) {
    if (!f.IsMap()) return ctx.Error(f, where + ": flag_values must be a map of column: [values]");
    for (const auto& kv : f) {
      SL_ASSIGN_OR_RETURN(auto vals, StringList(ctx, kv.second, "flag_values"));
      job.flag_values[kv.first.Scalar()] = std::move(vals);
    }
  }
  if (const YAML::Node p = n["pii"]) {
    if (!p.IsMap()) return ctx.Error(p, where + ": pii must be a map");
    SL_RETURN_IF_ERROR(CheckKeys(ctx, p, {"tokenize", "scan_strings"}, where + " pii"));
    if (p["tokenize"]) {
    SL_ASSIGN_OR_RETURN(job.pii_tokenize, StringList(ctx, p["tokenize"], "tokenize"));
  }
    if (p["scan_strings"]) {
      SL_ASSIGN_OR_RETURN(std::string a, Scalar(ctx, p["scan_strings"], "scan_strings"));
      auto action = ParsePiiAction(a);
      if (!action.ok()) return ctx.Error(p["scan_strings"], where + ": " + action.status().message());
      job.pii_scan = *action;
    }
  }
  if (const YAML::Node c = n["counts"]) {
    if (!c.IsMap()) return ctx.Error(c, where + ": counts must be a map of name: {column, is|equals}");
    job.counts_declared = true;
    for (const auto& kv : c) {
      RowCount rc;
      rc.name = kv.first.Scalar();
      std::string in = where + " count '" + rc.name + "'";
      if (!kv.second.IsMap()) return ctx.Error(kv.second, in + " needs {column: c, is: null|negative} or {column: c, equals: v}");
      SL_RETURN_IF_ERROR(CheckKeys(ctx, kv.second, {"column", "is", "equals"}, in));
      if (!kv.second["column"]) return ctx.Error(kv.second, in + " needs a 'column'");
      SL_ASSIGN_OR_RETURN(rc.column, Scalar(ctx, kv.second["column"], "column"));
      if (kv.second["equals"]) {
        rc.kind = CountKind::kEquals;
        SL_ASSIGN_OR_RETURN(rc.value, Scalar(ctx, kv.second["equals"], "equals"));
      } else if (kv.second["is"]) {
        std::string is = "null";  // YAML reads a bare `null` as no value
        if (!kv.second["is"].IsNull()) {
          SL_ASSIGN_OR_RETURN(is, Scalar(ctx, kv.second["is"], "is"));
        }
        if (is == "null") rc.kind = CountKind::kNull;
        else if (is == "negative") rc.kind = CountKind::kNegative;
        else return ctx.Error(kv.second["is"], in + ": 'is' must be null or negative, not '" + is + "'");
      } else {
        return ctx.Error(kv.second, in + " needs 'is: null|negative' or 'equals: value'");
      }
      job.counts.push_back(std::move(rc));
    }
  }
  if (const YAML::Node d = n["date_range"]) {
    job.counts_declared = true;
    SL_ASSIGN_OR_RETURN(job.date_range_column, Scalar(ctx, d, "date_range"));
  }
  if (!job.counts_declared) job.counts = kSalesCounts, job.date_range_column = "purchase_date";
  if (const YAML::Node q = n["quality"]) {
    if (!q.IsMap()) return ctx.Error(q, where + ": quality must be a map of metric: {warn, fail}");
    std::set<std::string> metrics = {"quarantined_share", "duplicate_share"};
    for (const RowCount& rc : job.counts) metrics.insert(rc.name + "_share");
    for (const auto& kv : q) {
      QualityThreshold th;
      th.metric = kv.first.Scalar();
      // Names from before counts were declared.
      if (th.metric == "out_share") th.metric = "out_rows_share";
      if (th.metric == "negative_amount_share") th.metric = "negative_amounts_share";
      const auto& kMetrics = metrics;
      if (!kMetrics.count(th.metric)) {
        std::string list;
        for (const auto& m : kMetrics) list += (list.empty() ? "" : ", ") + m;
        return ctx.Error(kv.first, where + ": unknown quality metric '" + th.metric + "' (" + list + ")");
      }
      if (!kv.second.IsMap()) return ctx.Error(kv.second, where + ": " + th.metric + " needs {warn: x, fail: y}");
      SL_RETURN_IF_ERROR(CheckKeys(ctx, kv.second, {"warn", "fail"}, where + " " + th.metric));
      if (kv.second["warn"]) {
    SL_ASSIGN_OR_RETURN(th.warn, Number(ctx, kv.second["warn"], "warn"));
  }
      if (kv.second["fail"]) {
    SL_ASSIGN_OR_RETURN(th.fail, Number(ctx, kv.second["fail"], "fail"));
  }
      job.quality.push_back(th);
    }
  }
  if (n["alert_topic"]) {
    SL_ASSIGN_OR_RETURN(job.alert_topic, Scalar(ctx, n["alert_topic"], "alert_topic"));
  }
  return job;
}

}  // namespace

Result<std::vector<JobSpec>> ParseJobs(std::string_view path, std::string_view yaml_text) {
  Ctx ctx(path);
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    std::vector<JobSpec> jobs;
    if (!root || root.IsNull()) return jobs;
    if (!root.IsMap()) return ctx.Error(root, "the pipeline must be a map at the top level");
    // A newer format must not be half-understood: only version 1 (or none) is read.
    if (const YAML::Node v = root["version"]; v && !(v.IsScalar() && v.Scalar() == "1")) {
      return ctx.Error(v, "pipeline version '" + (v.IsScalar() ? v.Scalar() : std::string("?")) +
                              "' is not supported: this saleslake reads version 1");
    }
    const YAML::Node list = root["jobs"];
    if (!list || list.IsNull()) return jobs;
    if (!list.IsSequence()) return ctx.Error(list, "'jobs' must be a list");
    std::set<std::string> names;
    size_t i = 0;
    for (const auto& n : list) {
      SL_ASSIGN_OR_RETURN(JobSpec job, ParseJob(ctx, n, i++));
      if (!names.insert(job.name).second) return ctx.Error(n, "job '" + job.name + "' is defined twice");
      jobs.push_back(std::move(job));
    }
    return jobs;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(YamlAt(path, e.mark) + e.msg);
  }
}

Result<JobSpec> FindJob(const std::vector<JobSpec>& jobs, std::string_view name) {
  std::string names;
  for (const JobSpec& j : jobs) {
    if (j.name == name) return j;
    names += (names.empty() ? "" : ", ") + j.name;
  }
  return Status::NotFound("no job named '" + std::string(name) + "' in pipeline.yaml" +
                          (names.empty() ? std::string(" (it defines no jobs)") : " (jobs: " + names + ")"));
}

std::string_view PiiEntityName(PiiEntity e) {
  switch (e) {
    case PiiEntity::kEmail: return "email";
    case PiiEntity::kPhone: return "phone";
    case PiiEntity::kCard: return "card";
    case PiiEntity::kIban: return "iban";
    case PiiEntity::kSsn: return "ssn";
  }
  return "pii";
}

Result<PiiAction> ParsePiiAction(std::string_view s) {
  if (s == "mask") return PiiAction::kMask;
  if (s == "tokenize") return PiiAction::kTokenize;
  if (s == "off") return PiiAction::kOff;
  return Status::InvalidArgument("unknown PII action '" + std::string(s) +
                                 "' (expected mask, tokenize or off)");
}

uint64_t PiiCounts::total() const {
  uint64_t t = 0;
  for (uint64_t c : by_entity) t += c;
  return t;
}

void PiiCounts::Add(const PiiCounts& o) {
  for (int i = 0; i < kNumPiiEntities; ++i) by_entity[i] += o.by_entity[i];
}

}  // namespace saleslake::etl
