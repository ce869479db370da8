// `saleslake deploy` (pipeline.yaml as a stack: validate, diff, apply, roll back) and
// `saleslake export aws` (Athena DDL and a CloudFormation template). The work is in src/stack.
#include <sys/stat.h>

#include <cstdio>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "auth/auth.h"
#include "cli/command.h"
#include "stack/deploy.h"
#include "stack/export_aws.h"
#include "stack/stack.h"

namespace saleslake::cli {
namespace {

struct DeployOpts {
  std::string file = "pipeline.yaml";
  bool dry_run = false;
  bool rollback = false;
  bool history = false;
  std::string format = "text";
};

// An invalid file: every error on its own line, then the one-line failure.
int FailInvalid(const Status& s, const std::string& what) {
  if (s.code() != StatusCode::kInvalidArgument || s.message().find('\n') == std::string::npos) return Fail(s);
  size_t n = 1;
  for (char c : s.message()) n += c == '\n';
  std::fprintf(stderr, "%s\n", s.message().c_str());
  return Fail(what + ": " + std::to_string(n) + " errors; nothing was deployed");
}

int PrintResult(const stack::DeployResult& r, const DeployOpts& o, const std::string& source) {
  if (o.format == "json") {
    nlohmann::json j = nlohmann::json::parse(r.changes.ToJson());
    j["dry_run"] = o.dry_run;
    j["generation"] = r.generation;
    j["id"] = r.id;
    j["previous"] = r.previous_key;
    j["notices"] = r.notices;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  if (r.changes.empty()) {
    std::printf("No changes: %s is what the lake runs.\n", source.c_str());
    return 0;
  }
  std::fputs(r.changes.ToText().c_str(), stdout);
  if (o.dry_run) {
    std::printf("Dry run: nothing was deployed.\n");
  } else if (r.generation > 0) {
    std::printf("Deployed generation %lld (%s); the previous version is kept at %s\n",
                static_cast<long long>(r.generation), r.id.c_str(), r.previous_key.c_str());
    // A running serve reloads rules, topics and alarms by itself; its Kinesis service reads
    // streams: when it starts (as with SIGHUP).
    for (const std::string& n : r.notices) Notice(n);
    for (const stack::Change& c : r.changes.changes) {
      if (c.kind != "stream") continue;
      Notice("stream changes take effect when a running `saleslake serve` restarts");
      break;
    }
  }
  return 0;
}

int RunDeploy(const Context& ctx, const DeployOpts& o) {
  auto lake = ctx.OpenLake(/*create=*/false);
  if (!lake.ok()) return Fail(lake.status());
  stack::DeployOptions options{.dry_run = o.dry_run};
  if (o.history) {
    auto h = stack::History(**lake);
    if (!h.ok()) return Fail(h.status());
    if (o.format == "json") {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& r : *h)
        j.push_back({{"generation", r.generation}, {"id", r.id}, {"time", r.time}, {"action", r.action},
                     {"source", r.source}, {"previous", r.previous}, {"changes", r.changes}});
      std::printf("%s\n", j.dump(2).c_str());
      return 0;
    }
    std::printf("%-10s  %-20s  %-8s  %-12s  %7s  %s\n", "generation", "time (UTC)", "action", "id", "changes", "source");
    for (const auto& r : *h)
      std::printf("%-10lld  %-20s  %-8s  %-12s  %7d  %s\n", static_cast<long long>(r.generation), r.time.c_str(),
                  r.action.c_str(), r.id.c_str(), r.changes, r.source.c_str());
    return 0;
  }
  if (o.rollback) {
    auto r = stack::Rollback(**lake, options);
    if (!r.ok()) return FailInvalid(r.status(), "rollback");
    return PrintResult(*r, o, "the previous version");
  }
  auto text = io::ReadLocalFile(o.file);
  if (!text.ok()) return Fail(text.status());
  auto r = stack::Deploy(**lake, o.file, *text, options);
  if (!r.ok()) return FailInvalid(r.status(), o.file);
  return PrintResult(*r, o, o.file);
}

struct ExportOpts {
  std::string out = "aws-export";
  std::string location_uri;
  std::string database = "saleslake";
};

int RunExportAws(const Context& ctx, const ExportOpts& o) {
  auto lake = ctx.OpenLake(/*create=*/false);
  if (!lake.ok()) return Fail(lake.status());
  io::ObjectStore& store = **lake;
  auto text = store.Get("pipeline.yaml");
  if (!text.ok()) return Fail(text.status().WithContext("pipeline.yaml"));

  // Where the lake is on S3: the flag, the lake itself, else pipeline.yaml's bucket + "/lake".
  std::string location = o.location_uri;
  if (location.empty() && store.uri().rfind("s3://", 0) == 0) location = store.uri();
  if (location.empty()) {
    std::string bucket = "my-analytics-bucket";
    try {
      YAML::Node root = YAML::Load(*text);
      if (root.IsMap() && root["bucket"] && root["bucket"].IsScalar()) bucket = root["bucket"].Scalar();
    } catch (const YAML::Exception&) {
      // ExportAws reports the file's errors with their positions.
    }
    location = "s3://" + bucket + "/lake";
  }

  auto catalog = ctx.OpenCatalog(&store);
  if (!catalog.ok()) return Fail(catalog.status());
  auto names = (*catalog)->ListTables();
  if (!names.ok()) return Fail(names.status());
  std::vector<std::shared_ptr<const catalog::TableMetadata>> tables;
  for (const std::string& n : *names) {
    auto t = (*catalog)->LoadTable(n);
    if (!t.ok()) return Fail(t.status());
    tables.push_back(*t);
  }

  std::vector<stack::IamUserExport> users;
  auto iam = auth::Iam::Open(store, auth::IamOptions{});
  if (iam.ok()) {
    auto list = (*iam)->ListUsers();
    if (!list.ok()) return Fail(list.status());
    for (const auth::UserInfo& u : *list) {
      stack::IamUserExport e{u.user_name, u.path, {}};
      auto pols = (*iam)->ListUserPolicies(u.user_name);
      if (!pols.ok()) return Fail(pols.status());
      for (const std::string& p : *pols) {
        auto doc = (*iam)->GetUserPolicy(u.user_name, p);
        if (!doc.ok()) return Fail(doc.status());
        e.policies.emplace_back(p, *doc);
      }
      users.push_back(std::move(e));
    }
  } else if (iam.status().code() != StatusCode::kNotFound) {
    return Fail(iam.status().WithContext("IAM store"));
  }

  stack::AwsExportOptions options{.location_uri = location, .database = o.database};
  auto out = stack::ExportAws("pipeline.yaml", *text, tables, users, options);
  if (!out.ok()) return FailInvalid(out.status(), "pipeline.yaml");

  ::mkdir(o.out.c_str(), 0755);
  const std::string ddl_dir = o.out + "/athena";
  ::mkdir(ddl_dir.c_str(), 0755);
  std::vector<std::string> written;
  auto write = [&](const std::string& path, const std::string& data) {
    Status s = io::WriteLocalFileAtomic(path, data);
    if (s.ok()) written.push_back(path);
    return s;
  };
  if (Status s = write(o.out + "/cloudformation.json", out->template_json); !s.ok()) return Fail(s);
  std::string all;
  for (const auto& [table, ddl] : out->ddl) {
    if (Status s = write(ddl_dir + "/" + table + ".sql", ddl); !s.ok()) return Fail(s);
    all += "-- " + table + "\n" + ddl + "\n";
  }
  if (Status s = write(ddl_dir + "/all.sql", all); !s.ok()) return Fail(s);
  std::printf("Exported the lake at %s for AWS (database %s):\n", location.c_str(), o.database.c_str());
  for (const std::string& w : written) std::printf("  %s\n", w.c_str());
  if (!out->skipped.empty()) {
    std::printf("Not exported, or only in part (also in the template's Metadata):\n");
    for (const std::string& s : out->skipped) std::printf("  %s\n", s.c_str());
  }
  return 0;
}

void Register(CLI::App& root, Context& ctx) {
  auto d = std::make_shared<DeployOpts>();
  auto* deploy = root.add_subcommand(
      "deploy",
      "Apply a pipeline.yaml as a whole: every error at once, the change set, atomic apply, --rollback");
  deploy->add_option("file", d->file, "The pipeline file to deploy (default ./pipeline.yaml)");
  deploy->add_flag("--dry-run", d->dry_run, "Validate and print the change set; change nothing");
  deploy->add_flag("--rollback", d->rollback, "Restore the version the last deploy replaced (itself a deploy)");
  deploy->add_flag("--history", d->history, "List the deploys of this lake");
  deploy->add_option("--format", d->format, "text | json (default text)")->check(CLI::IsMember({"text", "json"}));
  deploy->footer(
      "Validates the whole file (every error as FILE:LINE:COL), prints the change set against the lake's\n"
      "pipeline.yaml (add/modify/remove per table, crawler, job, stream, rule, topic, alarm, setting),\n"
      "then replaces it atomically; a running `saleslake serve` reloads it. docs/cli.md\n\n"
      "Examples:\n"
      "  saleslake deploy pipeline.yaml --dry-run     # what would change: add/modify/remove per resource\n"
      "  saleslake deploy pipeline.yaml               # apply (previous kept under _system/deploy/versions/)\n"
      "  saleslake deploy --rollback                  # back to the version before the last deploy\n"
      "  saleslake deploy --history --format json");
  deploy->callback([&ctx, d] { ctx.action = [&ctx, d] { return RunDeploy(ctx, *d); }; });

  auto e = std::make_shared<ExportOpts>();
  auto* exp = root.add_subcommand("export", "Export the lake's definition for another platform: aws");
  exp->require_subcommand(1);
  auto* aws = exp->add_subcommand(
      "aws", "Athena DDL of every table and a CloudFormation template (Glue, Kinesis, SNS, EventBridge, IAM) "
             "from pipeline.yaml (docs/export-aws.md)");
  aws->add_option("--out", e->out, "Output folder (default aws-export): cloudformation.json, athena/<table>.sql");
  aws->add_option("--location-uri", e->location_uri,
                  "Where the lake is on S3 (default: the lake when it is s3://..., else s3://<pipeline.yaml's "
                  "bucket>/lake)");
  aws->add_option("--database", e->database, "Glue database name (default saleslake)");
  aws->footer(
      "Example:\n"
      "  saleslake export aws --out aws/ --location-uri s3://my-analytics-bucket/lake\n"
      "  aws cloudformation deploy --template-file aws/cloudformation.json --stack-name saleslake \\\n"
      "      --capabilities CAPABILITY_NAMED_IAM");
  aws->callback([&ctx, e] { ctx.action = [&ctx, e] { return RunExportAws(ctx, *e); }; });
}

const CommandRegistrar kRegistrar(85, &Register);

}  // namespace
}  // namespace saleslake::cli
