#include "stack/export_aws.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "catalog/crawler.h"
#include "catalog/describe.h"
#include "etl/job_spec.h"
#include "events/rules.h"
#include "sql/workgroups.h"
#include "stack/stack.h"
#include "stream/delivery.h"

namespace saleslake::stack {
namespace {

using nlohmann::json;

// A CloudFormation logical id: the name's letters and digits, each word capitalised.
std::string LogicalId(std::string_view prefix, std::string_view name) {
  std::string out(prefix);
  bool up = true;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

json Ref(const std::string& id) { return {{"Ref", id}}; }
json Arn(const std::string& id) { return {{"Fn::GetAtt", json::array({id, "Arn"})}}; }

// The string values of a pattern field (a scalar or a list of scalars).
std::vector<std::string> Values(const json& pattern, const char* field) {
  std::vector<std::string> out;
  if (!pattern.is_object() || !pattern.contains(field)) return out;
  const json& v = pattern[field];
  if (v.is_string()) out.push_back(v.get<std::string>());
  if (v.is_array())
    for (const json& e : v)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

// rate(N unit) as the cron() Glue triggers take; "" when there is no exact equivalent.
std::string GlueSchedule(const std::string& expr) {
  if (expr.rfind("cron(", 0) == 0) return expr;
  int n = 0;
  char unit[16] = {};
  if (std::sscanf(expr.c_str(), "rate(%d %15[a-z])", &n, unit) != 2 || n <= 0) return "";
  std::string u = unit;
  if ((u == "minute" || u == "minutes") && 60 % n == 0) return "cron(0/" + std::to_string(n) + " * * * ? *)";
  if ((u == "hour" || u == "hours") && 24 % n == 0) return "cron(0 0/" + std::to_string(n) + " * * ? *)";
  if ((u == "day" || u == "days") && n == 1) return "cron(0 0 * * ? *)";
  return "";
}

struct Builder {
  std::string uri;     // s3://bucket/prefix, no trailing '/'
  std::string bucket;  // bucket
  std::string prefix;  // prefix inside it, no slashes at the ends ("" = the bucket's root)
  json resources = json::object();
  std::vector<std::string> skipped;

  std::string S3(std::string_view key) const { return uri + "/" + std::string(key); }
  std::string LakeKey(std::string_view key) const { return prefix.empty() ? std::string(key) : prefix + "/" + std::string(key); }

  // An EventBridge pattern for saleslake event types: S3 and Glue events where AWS has them,
  // the rest as custom events of source "saleslake" (detail-type = the saleslake type).
  json EventPattern(const json& pattern) const {
    std::vector<std::string> types = Values(pattern, "type");
    std::set<std::string> sources, detail_types, states;
    json detail = json::object();
    bool glue_only = !types.empty();
    for (const std::string& t : types) {
      if (t == "object.created") {
        sources.insert("aws.s3");
        detail_types.insert("Object Created");
        detail["bucket"] = {{"name", json::array({bucket})}};
        glue_only = false;
        if (pattern.contains("key") && pattern["key"].is_array()) {
          json keys = json::array();
          for (const json& k : pattern["key"]) {
            if (k.is_object() && k.contains("prefix") && k["prefix"].is_string())
              keys.push_back({{"prefix", LakeKey(k["prefix"].get<std::string>())}});
            else if (k.is_string())
              keys.push_back(LakeKey(k.get<std::string>()));
          }
          if (!keys.empty()) detail["object"] = {{"key", keys}};
        }
      } else if (t == "crawler.succeeded" || t == "crawler.failed") {
        sources.insert("aws.glue");
        detail_types.insert("Glue Crawler State Change");
        states.insert(t == "crawler.succeeded" ? "Succeeded" : "Failed");
      } else if (t == "job.succeeded" || t == "job.failed") {
        sources.insert("aws.glue");
        detail_types.insert("Glue Job State Change");
        states.insert(t == "job.succeeded" ? "SUCCEEDED" : "FAILED");
      } else {
        sources.insert("saleslake");
        detail_types.insert(t);
        glue_only = false;
      }
    }
    if (types.empty()) sources.insert("saleslake");
    json out = {{"source", json(std::vector<std::string>(sources.begin(), sources.end()))}};
    if (!detail_types.empty()) out["detail-type"] = std::vector<std::string>(detail_types.begin(), detail_types.end());
    if (glue_only) {
      detail["state"] = std::vector<std::string>(states.begin(), states.end());
      if (auto c = Values(pattern, "crawler"); !c.empty()) detail["crawlerName"] = c;
      if (auto j = Values(pattern, "job"); !j.empty()) detail["jobName"] = j;
    }
    if (!detail.empty()) out["detail"] = detail;
    return out;
  }

  // A Glue trigger for a rule's crawler and job targets, when Glue can express its condition.
  void GlueTrigger(const events::Rule& rule, const json& actions) {
    json props = {{"Name", rule.name}, {"Actions", actions}, {"StartOnCreation", true}};
    if (rule.schedule) {
      std::string cron = GlueSchedule(rule.schedule->expression());
      if (cron.empty()) {
        skipped.push_back("rule " + rule.name + ": Glue triggers take cron(); " + rule.schedule->expression() +
                          " has no exact cron form (write one by hand)");
        return;
      }
      props["Type"] = "SCHEDULED";
      props["Schedule"] = cron;
    } else {
      const json& p = rule.pattern ? rule.pattern->json() : json::object();
      std::vector<std::string> types = Values(p, "type");
      json conditions = json::array();
      bool expressible = !types.empty();
      for (const std::string& t : types) {
        if (t == "crawler.succeeded" || t == "crawler.failed") {
          for (const std::string& c : Values(p, "crawler"))
            conditions.push_back({{"LogicalOperator", "EQUALS"}, {"CrawlerName", c},
                                  {"CrawlState", t == "crawler.succeeded" ? "SUCCEEDED" : "FAILED"}});
        } else if (t == "job.succeeded" || t == "job.failed") {
          for (const std::string& j : Values(p, "job"))
            conditions.push_back({{"LogicalOperator", "EQUALS"}, {"JobName", j},
                                  {"State", t == "job.succeeded" ? "SUCCEEDED" : "FAILED"}});
        } else {
          expressible = false;
        }
      }
      if (!expressible || conditions.empty()) {
        skipped.push_back("rule " + rule.name +
                          ": Glue triggers fire on schedules and on crawler/job states only; for uploads give the "
                          "crawler a Schedule or S3 event mode (RecrawlPolicy CRAWL_EVENT_MODE with an SQS queue)");
        return;
      }
      props["Type"] = "CONDITIONAL";
      props["Predicate"] = {{"Logical", conditions.size() > 1 ? "ANY" : "AND"}, {"Conditions", conditions}};
    }
    resources[LogicalId("Trigger", rule.name)] = {{"Type", "AWS::Glue::Trigger"}, {"Properties", props}};
  }
};

}  // namespace

Result<AwsExport> ExportAws(std::string_view pipeline_path, std::string_view pipeline_text,
                            const std::vector<std::shared_ptr<const catalog::TableMetadata>>& tables,
                            const std::vector<IamUserExport>& users, const AwsExportOptions& options) {
  SL_RETURN_IF_ERROR(LoadPipeline(pipeline_path, pipeline_text).status());
  SL_ASSIGN_OR_RETURN(auto crawlers, catalog::ParseCrawlerConfigs(pipeline_text, pipeline_path));
  SL_ASSIGN_OR_RETURN(auto jobs, etl::ParseJobs(pipeline_path, pipeline_text));
  SL_ASSIGN_OR_RETURN(auto streams, stream::ParseDeliveries(pipeline_text));
  SL_ASSIGN_OR_RETURN(auto events_config, events::ParseEventsConfig(pipeline_path, pipeline_text));
  SL_ASSIGN_OR_RETURN(auto workgroups, sql::ParseWorkGroups(pipeline_text, pipeline_path));

  Builder b;
  b.uri = options.location_uri;
  while (!b.uri.empty() && b.uri.back() == '/') b.uri.pop_back();
  if (b.uri.rfind("s3://", 0) != 0 || b.uri.size() <= 5)
    return Status::InvalidArgument("export aws needs the lake's S3 location (s3://bucket/prefix), not '" +
                                   options.location_uri + "'");
  std::string rest = b.uri.substr(5);
  size_t slash = rest.find('/');
  b.bucket = rest.substr(0, slash);
  b.prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  AwsExport out;
  json& res = b.resources;
  const std::string db = "GlueDatabase", role = "GlueServiceRole";

  res[db] = {{"Type", "AWS::Glue::Database"},
             {"Properties", {{"CatalogId", Ref("AWS::AccountId")},
                             {"DatabaseInput", {{"Name", options.database},
                                                {"Description", "saleslake lake at " + b.uri}}}}}};
  json lake_objects = "arn:aws:s3:::" + b.bucket + "/" + (b.prefix.empty() ? "*" : b.prefix + "/*");
  res[role] = {{"Type", "AWS::IAM::Role"},
               {"Properties",
                {{"AssumeRolePolicyDocument",
                  {{"Version", "2012-10-17"},
                   {"Statement", json::array({{{"Effect", "Allow"},
                                               {"Principal", {{"Service", "glue.amazonaws.com"}}},
                                               {"Action", "sts:AssumeRole"}}})}}},
                 {"ManagedPolicyArns", json::array({"arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole"})},
                 {"Policies",
                  json::array({{{"PolicyName", "saleslake-lake-access"},
                                {"PolicyDocument",
                                 {{"Version", "2012-10-17"},
                                  {"Statement",
                                   json::array({{{"Effect", "Allow"},
                                                 {"Action", json::array({"s3:GetObject", "s3:PutObject", "s3:DeleteObject"})},
                                                 {"Resource", lake_objects}},
                                                {{"Effect", "Allow"},
                                                 {"Action", "s3:ListBucket"},
                                                 {"Resource", "arn:aws:s3:::" + b.bucket}}})}}}}})}}}};

  std::set<std::string> catalog_tables;
  for (const auto& t : tables) {
    catalog_tables.insert(t->name());
    res[LogicalId("Table", t->name())] = {
        {"Type", "AWS::Glue::Table"},
        {"Properties", {{"CatalogId", Ref("AWS::AccountId")},
                        {"DatabaseName", Ref(db)},
                        {"TableInput", catalog::ExportGlueTableInput(*t, b.uri)}}}};
    out.ddl.emplace_back(t->name(), catalog::ExportDdl(*t, b.uri, catalog::DdlDialect::kAthena));
  }

  for (const catalog::CrawlerConfig& c : crawlers) {
    json targets;
    if (catalog_tables.count(c.table)) {
      // Crawling the declared table keeps its name (an S3 target would name it after the folder).
      targets = {{"CatalogTargets", json::array({{{"DatabaseName", Ref(db)}, {"Tables", json::array({c.table})}}})}};
    } else {
      targets = {{"S3Targets", json::array({{{"Path", b.S3(c.path)}}})}};
      b.skipped.push_back("crawler " + c.name + ": table " + c.table +
                          " is not in the catalog yet; Glue names the table it creates after the folder " + c.path);
    }
    bool update = c.policy == catalog::SchemaChangePolicy::kUpdate || c.policy == catalog::SchemaChangePolicy::kVarchar;
    res[LogicalId("Crawler", c.name)] = {
        {"Type", "AWS::Glue::Crawler"},
        {"Properties", {{"Name", c.name},
                        {"Role", Arn(role)},
                        {"DatabaseName", Ref(db)},
                        {"Targets", targets},
                        {"SchemaChangePolicy", {{"UpdateBehavior", update ? "UPDATE_IN_DATABASE" : "LOG"},
                                                {"DeleteBehavior", "LOG"}}}}}};
    if (c.policy == catalog::SchemaChangePolicy::kFail)
      b.skipped.push_back("crawler " + c.name + ": schema_change_policy fail has no Glue equivalent; exported as LOG");
  }

  for (const etl::JobSpec& j : jobs) {
    std::string parts;
    for (const std::string& p : j.partition_by) parts += (parts.empty() ? "" : ",") + p;
    res[LogicalId("Job", j.name)] = {
        {"Type", "AWS::Glue::Job"},
        {"Properties", {{"Name", j.name},
                        {"Role", Arn(role)},
                        {"GlueVersion", options.glue_version},
                        {"WorkerType", "G.1X"},
                        {"NumberOfWorkers", 2},
                        {"Command", {{"Name", "glueetl"},
                                     {"ScriptLocation", b.S3("jobs/" + j.name + ".py")},
                                     {"PythonVersion", "3"}}},
                        {"DefaultArguments", {{"--job-bookmark-option", "job-bookmark-enable"},
                                              {"--enable-glue-datacatalog", "true"},
                                              {"--source_database", options.database},
                                              {"--source_table", j.source_table},
                                              {"--target_table", j.target_table},
                                              {"--target_path", b.S3(j.target_location)},
                                              {"--partition_keys", parts},
                                              {"--compression", j.compression}}}}}};
    b.skipped.push_back("job " + j.name + ": its script jobs/" + j.name +
                        ".py is not generated (columns, rules, PII tokenization and quality checks run in saleslake)");
  }

  for (const stream::DeliverySpec& s : streams) {
    res[LogicalId("Stream", s.stream)] = {
        {"Type", "AWS::Kinesis::Stream"},
        {"Properties", {{"Name", s.stream},
                        {"ShardCount", s.shards},
                        {"StreamModeDetails", {{"StreamMode", "PROVISIONED"}}}}}};
    b.skipped.push_back("stream " + s.stream + ": delivery into table " + s.table +
                        " needs a Firehose delivery stream or a job reading the stream");
  }

  std::set<std::string> topics;
  for (const events::TopicSpec& t : events_config.topics) {
    const std::string id = LogicalId("Topic", t.name);
    topics.insert(t.name);
    res[id] = {{"Type", "AWS::SNS::Topic"}, {"Properties", {{"TopicName", t.name}}}};
    for (size_t i = 0; i < t.subscriptions.size(); ++i) {
      const events::SubscriptionSpec& s = t.subscriptions[i];
      static const std::set<std::string> kAws = {"http", "https", "email", "email-json"};
      if (!kAws.count(s.protocol)) {
        b.skipped.push_back("topic " + t.name + ": the " + s.protocol + " subscription " + s.endpoint +
                            " has no SNS protocol (use sqs, lambda or firehose)");
        continue;
      }
      json props = {{"TopicArn", Ref(id)}, {"Protocol", s.protocol}, {"Endpoint", s.endpoint}};
      if (s.raw_message_delivery) props["RawMessageDelivery"] = true;
      if (s.filter_policy) {
        props["FilterPolicy"] = s.filter_policy->json();
        props["FilterPolicyScope"] = s.filter_on_body ? "MessageBody" : "MessageAttributes";
      }
      res[id + "Subscription" + std::to_string(i + 1)] = {{"Type", "AWS::SNS::Subscription"}, {"Properties", props}};
    }
  }

  std::set<std::string> published;  // topics EventBridge rules publish to
  for (const events::Rule& r : events_config.rules) {
    json glue_actions = json::array(), targets = json::array();
    for (const events::Target& t : r.targets) {
      switch (t.kind) {
        case events::Target::Kind::kCrawler: glue_actions.push_back({{"CrawlerName", t.name}}); break;
        case events::Target::Kind::kJob: glue_actions.push_back({{"JobName", t.name}}); break;
        case events::Target::Kind::kTopic:
          if (!topics.count(t.name)) {
            b.skipped.push_back("rule " + r.name + ": topic " + t.name + " is not declared in pipeline.yaml");
            break;
          }
          targets.push_back({{"Arn", Ref(LogicalId("Topic", t.name))}, {"Id", t.name.substr(0, 64)}});
          published.insert(t.name);
          break;
        case events::Target::Kind::kCommand:
          b.skipped.push_back("rule " + r.name + ": command target '" + t.name + "' (a Lambda function on AWS)");
          break;
        case events::Target::Kind::kMatview:
          b.skipped.push_back("rule " + r.name + ": materialized view refresh '" + t.name +
                              "' stays in saleslake (Athena has no materialized views)");
          break;
      }
    }
    if (!glue_actions.empty()) b.GlueTrigger(r, glue_actions);
    if (targets.empty()) continue;
    json props = {{"Name", r.name}, {"State", "ENABLED"}, {"Targets", targets}};
    if (r.schedule) props["ScheduleExpression"] = r.schedule->expression();
    if (r.pattern) props["EventPattern"] = b.EventPattern(r.pattern->json());
    res[LogicalId("Rule", r.name)] = {{"Type", "AWS::Events::Rule"}, {"Properties", props}};
  }
  for (const std::string& t : published) {
    const std::string id = LogicalId("Topic", t);
    res[id + "Policy"] = {
        {"Type", "AWS::SNS::TopicPolicy"},
        {"Properties", {{"Topics", json::array({Ref(id)})},
                        {"PolicyDocument", {{"Version", "2012-10-17"},
                                            {"Statement", json::array({{{"Effect", "Allow"},
                                                                        {"Principal", {{"Service", "events.amazonaws.com"}}},
                                                                        {"Action", "sns:Publish"},
                                                                        {"Resource", Ref(id)}}})}}}}}};
  }
  for (const events::AlarmSpec& a : events_config.alarms)
    b.skipped.push_back("alarm " + a.name + ": over saleslake's " + a.event_type + " figures (" + a.metric +
                        "); a CloudWatch alarm needs that metric published to CloudWatch");

  // Athena workgroups. Their results go where saleslake writes them (athena_results/ in the lake).
  // Athena has no per-workgroup concurrency or run-time limit (both are account quotas), and
  // `primary` exists in every account, so CloudFormation cannot create it.
  constexpr uint64_t kAthenaMinCutoff = 10'000'000;  // BytesScannedCutoffPerQuery's minimum
  for (const sql::WorkGroup& w : workgroups) {
    const std::string what = "workgroup " + w.name + ": ";
    if (w.max_concurrent_queries > 0)
      b.skipped.push_back(what + "max_concurrent_queries has no Athena equivalent (an account quota)");
    if (w.query_time_limit_seconds > 0)
      b.skipped.push_back(what + "query_time_limit_seconds has no Athena equivalent (the DML timeout is an account quota)");
    if (w.name == "primary") {
      if (w.bytes_scanned_cutoff_per_query > 0)
        b.skipped.push_back(what + "Athena's primary workgroup exists in every account; set its cutoff there");
      continue;
    }
    json config = {{"EnforceWorkGroupConfiguration", true},
                   {"PublishCloudWatchMetricsEnabled", true},
                   {"ResultConfiguration", {{"OutputLocation", b.uri + "/athena_results/"}}}};
    if (w.bytes_scanned_cutoff_per_query > 0) {
      config["BytesScannedCutoffPerQuery"] = std::max(w.bytes_scanned_cutoff_per_query, kAthenaMinCutoff);
      if (w.bytes_scanned_cutoff_per_query < kAthenaMinCutoff)
        b.skipped.push_back(what + "bytes_scanned_cutoff_per_query " + std::to_string(w.bytes_scanned_cutoff_per_query) +
                            " raised to Athena's minimum of 10000000");
    }
    res[LogicalId("WorkGroup", w.name)] = {
        {"Type", "AWS::Athena::WorkGroup"},
        {"Properties", {{"Name", w.name}, {"State", "ENABLED"}, {"WorkGroupConfiguration", config}}}};
  }

  for (const IamUserExport& u : users) {
    const std::string uid = LogicalId("User", u.name);
    res[uid] = {{"Type", "AWS::IAM::User"}, {"Properties", {{"UserName", u.name}, {"Path", u.path}}}};
    for (const auto& [name, document] : u.policies) {
      json doc = json::parse(document, nullptr, false);
      if (doc.is_discarded()) {
        b.skipped.push_back("user " + u.name + ": policy " + name + " is not JSON");
        continue;
      }
      res[LogicalId("Policy", u.name + "-" + name)] = {
          {"Type", "AWS::IAM::Policy"},
          {"Properties", {{"PolicyName", name}, {"PolicyDocument", doc}, {"Users", json::array({Ref(uid)})}}}};
    }
  }

  json tmpl = {{"AWSTemplateFormatVersion", "2010-09-09"},
               {"Description", "saleslake pipeline (" + std::string(pipeline_path) + ") for the lake at " + b.uri},
               {"Metadata", {{"saleslake", {{"source", std::string(pipeline_path)}, {"lake", b.uri}, {"skipped", b.skipped}}}}},
               {"Resources", res}};
  out.template_json = tmpl.dump(2) + "\n";
  out.skipped = std::move(b.skipped);
  return out;
}

}  // namespace saleslake::stack
