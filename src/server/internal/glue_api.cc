#include "server/internal/glue_api.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "catalog/crawler.h"
#include "common/logging.h"
#include "common/thread_annotations.h"
#include "etl/job_runner.h"
#include "etl/job_spec.h"
#include "etl/report.h"
#include "server/internal/aws_json.h"
#include "server/internal/util.h"

namespace saleslake::server::internal {

using nlohmann::json;

std::string GlueTypeName(const DataType& type) {
  switch (type.id) {
    case TypeId::kBoolean: return "boolean";
    case TypeId::kInt32: return "int";
    case TypeId::kInt64: return "bigint";
    case TypeId::kFloat: return "float";
    case TypeId::kDouble: return "double";
    case TypeId::kDecimal: return fmt::format("decimal({},{})", type.precision, type.scale);
    case TypeId::kDate: return "date";
    case TypeId::kTimestamp: return "timestamp";
    case TypeId::kNull:
    case TypeId::kVarchar:
    case TypeId::kInterval: return "string";
  }
  return "string";
}

namespace {

constexpr const char* kDatabase = "sales";

// One background thread running tasks in order (crawls on one, job runs on another, so a long
// job never delays a crawl). Stop() lets the current task finish and drops the rest.
class Worker {
 public:
  void Post(std::function<void()> task) {
    MutexLock lock(mu_);
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    tasks_.push_back(std::move(task));
    cv_.notify_all();
  }
  void Stop() {
    {
      MutexLock lock(mu_);
      stopping_ = true;
      tasks_.clear();
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> task;
      {
        MutexLock lock(mu_);
        while (!stopping_ && tasks_.empty()) cv_.wait(mu_.native());
        if (stopping_) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::function<void()>> tasks_ SL_GUARDED_BY(mu_);
  bool stopping_ SL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

struct CrawlerRun {
  bool running = false;
  std::optional<TimePoint> started, finished;
  std::string status;  // SUCCEEDED | FAILED ("" = never ran)
  std::string error;
  std::string message;
  int tables_created = 0, tables_updated = 0;
  double last_seconds = 0;
};

struct JobRun {
  std::string id, job;
  std::string state = "RUNNING";  // STARTING | RUNNING | SUCCEEDED | FAILED
  std::string error;
  TimePoint started{};
  std::optional<TimePoint> finished;
  json arguments = json::object();
  // BatchStopJobRun sets it; the ETL checks it between files and before its commit.
  std::shared_ptr<std::atomic<bool>> stop = std::make_shared<std::atomic<bool>>(false);
};

class GlueService final : public Service {
 public:
  GlueService(const ServiceContext& context, LakeSqlService* sql) : context_(context), sql_(sql) {}
  ~GlueService() override { Stop(); }
  std::string name() const override { return "glue"; }

  Status Register(Dispatcher& d) override {
    auto catalog_arn = [this](const json&) { return Arn("catalog"); };
    auto db_arn = [this](const json&) { return Arn(std::string("database/") + kDatabase); };
    auto table_arn = [this](const json& in) {
      std::string t = StringField(in, "Name");
      if (t.empty()) t = StringField(in, "TableName");
      return Arn(std::string("table/") + kDatabase + "/" + t);
    };
    auto crawler_arn = [this](const json& in) { return Arn("crawler/" + StringField(in, "Name")); };
    auto any_crawler = [this](const json&) { return Arn("crawler/*"); };
    auto job_arn = [this](const json& in) { return Arn("job/" + StringField(in, "JobName")); };
    auto any_job = [this](const json&) { return Arn("job/*"); };
    Add(d, "GetDatabases", catalog_arn, &GlueService::GetDatabases);
    Add(d, "GetDatabase", db_arn, &GlueService::GetDatabase);
    Add(d, "GetTables", db_arn, &GlueService::GetTables);
    Add(d, "GetTable", table_arn, &GlueService::GetTable);
    Add(d, "GetPartitions", table_arn, &GlueService::GetPartitions);
    Add(d, "BatchGetPartition", table_arn, &GlueService::BatchGetPartition);
    Add(d, "CreateTable", [this](const json& in) {
      std::string t;
      if (auto ti = in.find("TableInput"); ti != in.end() && ti->is_object()) t = StringField(*ti, "Name");
      return Arn(std::string("table/") + kDatabase + "/" + t);
    }, &GlueService::CreateTable);
    Add(d, "DeleteTable", table_arn, &GlueService::DeleteTable);
    Add(d, "StartCrawler", crawler_arn, &GlueService::StartCrawler);
    Add(d, "GetCrawler", crawler_arn, &GlueService::GetCrawler);
    Add(d, "GetCrawlers", any_crawler, &GlueService::GetCrawlers);
    Add(d, "ListCrawlers", any_crawler, &GlueService::ListCrawlers);
    Add(d, "GetCrawlerMetrics", any_crawler, &GlueService::GetCrawlerMetrics);
    Add(d, "GetJobs", any_job, &GlueService::GetJobs);
    Add(d, "GetJob", job_arn, &GlueService::GetJob);
    Add(d, "StartJobRun", job_arn, &GlueService::StartJobRun);
    Add(d, "GetJobRun", job_arn, &GlueService::GetJobRun);
    Add(d, "GetJobRuns", job_arn, &GlueService::GetJobRuns);
    Add(d, "BatchStopJobRun", job_arn, &GlueService::BatchStopJobRun);
    Add(d, "GetJobBookmark", job_arn, &GlueService::GetJobBookmark);
    Add(d, "ResetJobBookmark", job_arn, &GlueService::ResetJobBookmark);
    return Status::OK();
  }

  void Stop() override {
    crawls_.Stop();
    jobs_.Stop();
  }

 private:
  using Handler = Outcome (GlueService::*)(const json&, const Principal&, const HttpRequest&);

  void Add(Dispatcher& d, const std::string& op, std::function<std::string(const json&)> resource,
           Handler handler) {
    AddMemberOperation(d, this, "glue", "AWSGlue.", op, std::move(resource), handler);
  }

  std::string Arn(const std::string& what) const {
    return "arn:aws:glue:" + sql_->region() + ":" + sql_->account_id() + ":" + what;
  }

  static ApiError Invalid(std::string m) { return JsonError("InvalidInputException", std::move(m)); }
  static ApiError NotFound(std::string m) { return JsonError("EntityNotFoundException", std::move(m)); }
  static ApiError Internal(const Status& s) { return JsonError("InternalServiceException", s.ToString(), 500); }

  Outcome CheckDatabase(const json& in, const char* field) const {
    std::string db = StringField(in, field);
    if (db != kDatabase) return NotFound("Database " + db + " not found.");
    return HttpResponse{};
  }

  // ---- databases and tables ----

  json Database() const {
    return {{"Name", kDatabase}, {"CatalogId", sql_->account_id()},
            {"Description", "The lake's tables"},
            {"LocationUri", "s3://" + context_.options->bucket + "/"}, {"CreateTime", 0.0}};
  }

  Outcome GetDatabases(const json&, const Principal&, const HttpRequest&) {
    return JsonOk({{"DatabaseList", json::array({Database()})}});
  }

  Outcome GetDatabase(const json& in, const Principal&, const HttpRequest&) {
    if (StringField(in, "Name") != kDatabase) return NotFound("Database " + StringField(in, "Name") + " not found.");
    return JsonOk({{"Database", Database()}});
  }

  std::string S3Uri(const std::string& key) const { return "s3://" + context_.options->bucket + "/" + key; }

  // A Glue Column: Name, Type and, when the catalog has one, Comment.
  static json ColumnJson(const catalog::TableMetadata& t, const Field& f) {
    json c = {{"Name", f.name}, {"Type", GlueTypeName(f.type)}};
    auto comment = t.spec.properties.find(catalog::ColumnCommentProperty(f.name));
    if (comment != t.spec.properties.end()) c["Comment"] = comment->second;
    return c;
  }

  // The StorageDescriptor as Glue's crawler writes it for the table's format.
  json StorageDescriptor(const catalog::TableMetadata& t, const std::string& location) const {
    json columns = json::array();
    for (const Field& f : t.schema().fields) {
      if (std::find(t.spec.partition_keys.begin(), t.spec.partition_keys.end(), f.name) != t.spec.partition_keys.end()) {
        continue;
      }
      columns.push_back(ColumnJson(t, f));
    }
    json sd = {{"Columns", columns}, {"Location", location}, {"Compressed", false},
               {"NumberOfBuckets", -1}, {"BucketColumns", json::array()}, {"SortColumns", json::array()},
               {"StoredAsSubDirectories", false}};
    switch (t.spec.format) {
      case catalog::FileFormat::kCsv:
        sd["InputFormat"] = "org.apache.hadoop.mapred.TextInputFormat";
        sd["OutputFormat"] = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";
        sd["SerdeInfo"] = {{"SerializationLibrary", "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"},
                           {"Parameters", {{"field.delim", std::string(1, t.spec.csv.delimiter)}}}};
        break;
      case catalog::FileFormat::kParquet:
        sd["InputFormat"] = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
        sd["OutputFormat"] = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
        sd["SerdeInfo"] = {{"SerializationLibrary", "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
                           {"Parameters", {{"serialization.format", "1"}}}};
        break;
      case catalog::FileFormat::kJsonl:
        sd["InputFormat"] = "org.apache.hadoop.mapred.TextInputFormat";
        sd["OutputFormat"] = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";
        sd["SerdeInfo"] = {{"SerializationLibrary", "org.openx.data.jsonserde.JsonSerDe"},
                           {"Parameters", {{"paths", ""}}}};
        break;
    }
    sd["Parameters"] = TableParameters(t);
    return sd;
  }

  static json TableParameters(const catalog::TableMetadata& t) {
    json p = json::object();
    switch (t.spec.format) {
      case catalog::FileFormat::kCsv:
        p["classification"] = "csv";
        p["delimiter"] = std::string(1, t.spec.csv.delimiter);
        p["skip.header.line.count"] = t.spec.csv.has_header ? "1" : "0";
        p["areColumnsQuoted"] = "false";
        p["columnsOrdered"] = "true";
        p["compressionType"] = "none";
        break;
      case catalog::FileFormat::kParquet:
        p["classification"] = "parquet";
        p["compressionType"] = "none";
        break;
      case catalog::FileFormat::kJsonl:
        p["classification"] = "json";
        p["compressionType"] = "none";
        break;
    }
    p["typeOfData"] = "file";
    if (const auto* snap = t.current_snapshot()) {
      p["recordCount"] = std::to_string(snap->total_rows);
      p["sizeKey"] = std::to_string(snap->total_bytes);
      p["objectCount"] = std::to_string(snap->total_files);
    }
    for (const auto& [k, v] : t.spec.properties) {
      if (k.rfind("etl.bookmark.", 0) == 0) continue;  // GetJobBookmark shows it
      if (k.rfind(catalog::ColumnCommentProperty(""), 0) == 0) continue;  // the column's Comment
      p[k] = v;
    }
    return p;
  }

  json TableJson(const catalog::TableMetadata& t) const {
    json keys = json::array();
    for (const std::string& k : t.spec.partition_keys) {
      auto i = t.schema().FindField(k);
      keys.push_back(i ? ColumnJson(t, t.schema()[*i]) : json{{"Name", k}, {"Type", "string"}});
    }
    return {{"Name", t.name()}, {"DatabaseName", kDatabase}, {"CatalogId", sql_->account_id()},
            {"Owner", "owner"},
            {"CreateTime", static_cast<double>(t.created_ms) / 1000.0},
            {"UpdateTime", static_cast<double>(t.updated_ms) / 1000.0},
            {"Retention", 0}, {"StorageDescriptor", StorageDescriptor(t, S3Uri(t.spec.location))},
            {"PartitionKeys", keys}, {"TableType", "EXTERNAL_TABLE"}, {"Parameters", TableParameters(t)},
            {"CreatedBy", "saleslake"}, {"IsRegisteredWithLakeFormation", false},
            {"VersionId", std::to_string(t.version)}};
  }

  Outcome GetTables(const json& in, const Principal&, const HttpRequest&) {
    if (StringField(in, "DatabaseName") != kDatabase) {
      return NotFound("Database " + StringField(in, "DatabaseName") + " not found.");
    }
    auto max = IntField(in, "MaxResults");
    if (!max.ok()) return Invalid(max.status().message());
    const int64_t limit = max->value_or(100);
    if (limit < 1 || limit > 100) return Invalid("MaxResults must be between 1 and 100");
    uint64_t offset = 0;
    if (std::string token = StringField(in, "NextToken"); !token.empty()) {
      auto parsed = ParsePageToken(token, "tables");
      if (!parsed) return Invalid("Invalid NextToken");
      offset = *parsed;
    }
    std::string expression = StringField(in, "Expression");
    auto names = sql_->catalog().ListTables();
    if (!names.ok()) return Internal(names.status());
    json tables = json::array();
    size_t i = offset;
    for (; i < names->size() && tables.size() < static_cast<size_t>(limit); ++i) {
      if (!expression.empty() && !MatchesGlob(expression, (*names)[i])) continue;
      auto t = sql_->catalog().LoadTable((*names)[i]);
      if (!t.ok()) continue;  // dropped meanwhile
      tables.push_back(TableJson(**t));
    }
    json out = {{"TableList", tables}};
    if (i < names->size()) out["NextToken"] = PageToken("tables", i);
    return JsonOk(out);
  }

  // Glue's table-name Expression: a regular expression where '*' matches anything; we take
  // '*' and '|' alternatives, which is what consoles and CLIs send.
  static bool MatchesGlob(const std::string& pattern, const std::string& name) {
    size_t start = 0;
    while (start <= pattern.size()) {
      size_t bar = pattern.find('|', start);
      std::string alt = pattern.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
      if (GlobMatch(alt, name)) return true;
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    return false;
  }
  static bool GlobMatch(std::string_view p, std::string_view s) {
    if (p.empty()) return s.empty();
    if (p[0] == '*') {
      for (size_t i = 0; i <= s.size(); ++i) {
        if (GlobMatch(p.substr(1), s.substr(i))) return true;
      }
      return false;
    }
    if (p.size() >= 2 && p[0] == '.' && p[1] == '*') return GlobMatch(p.substr(1), s);
    return !s.empty() && p[0] == s[0] && GlobMatch(p.substr(1), s.substr(1));
  }

  Result<std::shared_ptr<const catalog::TableMetadata>> LoadTable(const json& in, const char* field) const {
    std::string db = StringField(in, "DatabaseName");
    if (db != kDatabase) return Status::NotFound("Database " + db + " not found.");
    std::string name = StringField(in, field);
    auto t = sql_->catalog().LoadTable(name);
    if (!t.ok() && t.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("Table " + name + " not found.");
    }
    return t;
  }

  Outcome TableError(const Status& s) const {
    return s.code() == StatusCode::kNotFound ? Outcome(NotFound(s.message())) : Outcome(Internal(s));
  }

  Outcome GetTable(const json& in, const Principal&, const HttpRequest&) {
    auto t = LoadTable(in, "Name");
    if (!t.ok()) return TableError(t.status());
    return JsonOk({{"Table", TableJson(**t)}});
  }

  // The table's partitions as Glue lists them, in partition-path order, each with its values
  // (Hive's __HIVE_DEFAULT_PARTITION__ for NULL) by key.
  struct PartitionEntry {
    std::vector<std::string> values;
    std::map<std::string, std::string> by_key;
    json glue;
  };
  Result<std::vector<PartitionEntry>> Partitions(const catalog::TableMetadata& t) const {
    SL_ASSIGN_OR_RETURN(auto files, sql_->catalog().ListFiles(t));
    std::map<std::string, const catalog::DataFile*> partitions;  // path -> a file of it
    for (const catalog::DataFile& f : files) {
      if (!f.partition_values.empty()) partitions.emplace(f.PartitionPath(), &f);
    }
    std::vector<PartitionEntry> out;
    for (const auto& [path, file] : partitions) {
      PartitionEntry e;
      for (const auto& pv : file->partition_values) {
        std::string v = pv.value.value_or("__HIVE_DEFAULT_PARTITION__");
        e.values.push_back(v);
        e.by_key[pv.key] = v;
      }
      json sd = StorageDescriptor(t, S3Uri(t.spec.location + path + "/"));
      e.glue = {{"Values", e.values}, {"DatabaseName", kDatabase}, {"TableName", t.name()},
                {"CatalogId", sql_->account_id()}, {"StorageDescriptor", sd},
                {"CreationTime", static_cast<double>(t.created_ms) / 1000.0}};
      out.push_back(std::move(e));
    }
    return out;
  }

  Outcome GetPartitions(const json& in, const Principal&, const HttpRequest&) {
    auto t = LoadTable(in, "TableName");
    if (!t.ok()) return TableError(t.status());
    auto filter = ParsePartitionFilter(StringField(in, "Expression"), (*t)->spec.partition_keys);
    if (!filter.ok()) return Invalid(filter.status().message());
    auto partitions = Partitions(**t);
    if (!partitions.ok()) return Internal(partitions.status());
    json out = json::array();
    for (const PartitionEntry& p : *partitions) {
      if (filter->Matches(p.by_key)) out.push_back(p.glue);
    }
    return JsonOk({{"Partitions", out}});
  }

  // PartitionsToGet: up to 1000 value lists; those not found are left out, as Glue does
  // (UnprocessedKeys is for throttling, never used here).
  Outcome BatchGetPartition(const json& in, const Principal&, const HttpRequest&) {
    auto t = LoadTable(in, "TableName");
    if (!t.ok()) return TableError(t.status());
    auto wanted = in.find("PartitionsToGet");
    if (wanted == in.end() || !wanted->is_array()) return Invalid("PartitionsToGet is required");
    if (wanted->size() > 1000) return Invalid("PartitionsToGet: at most 1000 entries");
    std::vector<std::vector<std::string>> keys;
    for (const json& w : *wanted) {
      auto values = w.is_object() ? w.find("Values") : w.end();
      if (values == w.end() || !values->is_array()) return Invalid("PartitionsToGet: each entry needs Values");
      std::vector<std::string> v;
      for (const json& x : *values) {
        if (!x.is_string()) return Invalid("PartitionsToGet: Values are strings");
        v.push_back(x.get<std::string>());
      }
      if (v.size() != (*t)->spec.partition_keys.size()) {
        return Invalid(fmt::format("PartitionsToGet: {} values given, the table has {} partition keys", v.size(),
                                   (*t)->spec.partition_keys.size()));
      }
      keys.push_back(std::move(v));
    }
    auto partitions = Partitions(**t);
    if (!partitions.ok()) return Internal(partitions.status());
    json out = json::array();
    std::set<std::vector<std::string>> sent;
    for (const auto& k : keys) {
      if (!sent.insert(k).second) continue;
      for (const PartitionEntry& p : *partitions) {
        if (p.values == k) out.push_back(p.glue);
      }
    }
    return JsonOk({{"Partitions", out}, {"UnprocessedKeys", json::array()}});
  }

  // ---- external tables ----

  // A Glue/Hive column type as the catalog's type: string, varchar(n), char(n), int, bigint,
  // double, decimal(p,s), date, timestamp, boolean, ...
  static Result<DataType> FromGlueType(std::string type) {
    for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (type == "string" || type.rfind("varchar", 0) == 0 || type.rfind("char", 0) == 0) return DataType::Varchar();
    if (type == "tinyint" || type == "smallint" || type == "int" || type == "integer") return DataType::Int32();
    auto t = ParseDataType(type);
    if (!t.ok()) return Status::InvalidArgument("unsupported column type '" + type + "'");
    return t;
  }

  // CreateTable of an external table over a prefix of the lake (Location s3://<bucket>/<prefix>/):
  // the catalog table as declared (columns, partition keys, CSV/Parquet/JSON from the SerDe or
  // the classification parameter), then its files registered by the crawler under the `log`
  // policy, so the declared schema stays and the files' columns match it by name, as the
  // crawler matches them. Glue's default for CSV is no header row (skip.header.line.count 0).
  Outcome CreateTable(const json& in, const Principal&, const HttpRequest&) {
    if (StringField(in, "DatabaseName") != kDatabase) {
      return NotFound("Database " + StringField(in, "DatabaseName") + " not found.");
    }
    auto ti = in.find("TableInput");
    if (ti == in.end() || !ti->is_object()) return Invalid("TableInput is required");
    catalog::TableSpec spec;
    spec.name = StringField(*ti, "Name");
    if (auto valid = catalog::ValidateTableName(spec.name); !valid.ok()) return Invalid(valid.message());
    std::string table_type = StringField(*ti, "TableType");
    if (!table_type.empty() && table_type != "EXTERNAL_TABLE") {
      return Invalid("TableType " + table_type + ": only EXTERNAL_TABLE (files under a lake prefix) is supported");
    }
    json sd = ti->value("StorageDescriptor", json::object());
    if (!sd.is_object()) return Invalid("StorageDescriptor must be an object");
    const std::string location = StringField(sd, "Location");
    const std::string bucket_uri = "s3://" + context_.options->bucket + "/";
    if (location.rfind(bucket_uri, 0) != 0 || location.size() == bucket_uri.size()) {
      return Invalid("StorageDescriptor.Location must be a prefix of " + bucket_uri + " (got '" + location + "')");
    }
    spec.location = location.substr(bucket_uri.size());
    if (spec.location.back() != '/') spec.location += '/';
    for (const char* reserved : {"catalog/", "_system/", "queries/", "athena_results/"}) {
      if (spec.location.rfind(reserved, 0) == 0) return Invalid("Location: " + std::string(reserved) + " is not table data");
    }
    auto add_columns = [&](const json& cols, bool partition) -> Status {
      if (cols.is_null()) return Status::OK();
      if (!cols.is_array()) return Status::InvalidArgument("Columns must be a list");
      for (const json& c : cols) {
        std::string name = c.is_object() ? StringField(c, "Name") : "";
        if (name.empty()) return Status::InvalidArgument("every column needs a Name");
        SL_ASSIGN_OR_RETURN(DataType type, FromGlueType(c.is_object() ? StringField(c, "Type") : ""));
        if (spec.schema.FindField(name)) return Status::InvalidArgument("column " + name + " is declared twice");
        spec.schema.fields.push_back(Field{name, type, true});
        if (partition) spec.partition_keys.push_back(name);
        if (std::string comment = StringField(c, "Comment"); !comment.empty()) {
          spec.properties[catalog::ColumnCommentProperty(name)] = comment;
        }
      }
      return Status::OK();
    };
    if (auto st = add_columns(sd.value("Columns", json()), false); !st.ok()) return Invalid(st.message());
    if (auto st = add_columns(ti->value("PartitionKeys", json()), true); !st.ok()) return Invalid(st.message());
    if (spec.schema.size() == spec.partition_keys.size()) return Invalid("StorageDescriptor.Columns is required");
    json params = ti->value("Parameters", json::object());
    json serde = sd.value("SerdeInfo", json::object());
    std::string library = serde.is_object() ? StringField(serde, "SerializationLibrary") : "";
    std::string classification = params.is_object() ? StringField(params, "classification") : "";
    std::string input_format = StringField(sd, "InputFormat");
    if (classification == "parquet" || library.find("Parquet") != std::string::npos ||
        input_format.find("Parquet") != std::string::npos) {
      spec.format = catalog::FileFormat::kParquet;
    } else if (classification == "json" || library.find("Json") != std::string::npos ||
               library.find("JSON") != std::string::npos) {
      spec.format = catalog::FileFormat::kJsonl;
    } else {
      spec.format = catalog::FileFormat::kCsv;
      json sp = serde.is_object() ? serde.value("Parameters", json::object()) : json::object();
      std::string delim = sp.is_object() ? StringField(sp, "field.delim") : "";
      if (delim.empty() && sp.is_object()) delim = StringField(sp, "separatorChar");
      if (delim.size() > 1) return Invalid("field.delim must be one character");
      if (!delim.empty()) spec.csv.delimiter = delim[0];
      std::string skip = params.is_object() ? StringField(params, "skip.header.line.count") : "";
      if (skip != "" && skip != "0" && skip != "1") return Invalid("skip.header.line.count must be 0 or 1");
      spec.csv.has_header = skip == "1";
    }
    if (params.is_object()) {
      for (const auto& [k, v] : params.items()) {
        if (v.is_string() && k.rfind("etl.", 0) != 0) spec.properties[k] = v.get<std::string>();
      }
    }
    spec.properties["glue.created"] = "CreateTable";
    auto created = sql_->catalog().CreateTable(spec);
    if (!created.ok()) {
      if (created.status().code() == StatusCode::kAlreadyExists) {
        return JsonError("AlreadyExistsException", "Table already exists.");
      }
      return Internal(created.status());
    }
    catalog::CrawlerConfig crawl{.name = "glue-table-" + spec.name, .path = spec.location, .table = spec.name,
                                 .format = spec.format, .policy = catalog::SchemaChangePolicy::kLog};
    auto report = catalog::Crawl(sql_->catalog(), crawl);
    if (!report.ok()) {
      (void)sql_->catalog().DropTable(spec.name);
      return Invalid("Location " + location + ": " + report.status().message());
    }
    return JsonOk(json::object());
  }

  // Glue's DeleteTable: the table leaves the catalog; its files stay where they are.
  Outcome DeleteTable(const json& in, const Principal&, const HttpRequest&) {
    auto t = LoadTable(in, "Name");
    if (!t.ok()) return TableError(t.status());
    auto dropped = sql_->catalog().DropTable((*t)->name());
    if (!dropped.ok()) return TableError(dropped);
    return JsonOk(json::object());
  }

  // Glue's partition Expression: comparisons of a partition key with a literal ('text' or a
  // number), joined by AND (key = 'EU' AND month >= '2025-08'). Other forms are refused.
  struct PartitionFilter {
    struct Term {
      std::string key, op, value;
    };
    std::vector<Term> terms;
    bool Matches(const std::map<std::string, std::string>& values) const {
      for (const Term& t : terms) {
        auto it = values.find(t.key);
        if (it == values.end()) return false;
        int c = it->second.compare(t.value);
        bool numeric = !t.value.empty() && t.value.find_first_not_of("0123456789") == std::string::npos &&
                       !it->second.empty() && it->second.find_first_not_of("0123456789") == std::string::npos &&
                       it->second.size() < 19 && t.value.size() < 19;
        if (numeric) {
          int64_t a = std::stoll(it->second), b = std::stoll(t.value);
          c = a < b ? -1 : a > b ? 1 : 0;
        }
        bool ok = t.op == "=" ? c == 0 : (t.op == "!=" || t.op == "<>") ? c != 0 : t.op == "<" ? c < 0
                : t.op == "<=" ? c <= 0 : t.op == ">" ? c > 0 : c >= 0;
        if (!ok) return false;
      }
      return true;
    }
  };

  static Result<PartitionFilter> ParsePartitionFilter(const std::string& text, const std::vector<std::string>& keys) {
    PartitionFilter f;
    size_t i = 0;
    auto skip = [&] { while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i; };
    skip();
    if (i == text.size()) return f;
    while (true) {
      skip();
      size_t start = i;
      while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) ++i;
      PartitionFilter::Term term;
      term.key = text.substr(start, i - start);
      if (term.key.empty() || std::find(keys.begin(), keys.end(), term.key) == keys.end()) {
        return Status::InvalidArgument(fmt::format("Expression: unknown partition key at position {}", start + 1));
      }
      skip();
      for (const char* op : {"<=", ">=", "<>", "!=", "=", "<", ">"}) {
        if (text.compare(i, std::strlen(op), op) == 0) {
          term.op = op;
          i += std::strlen(op);
          break;
        }
      }
      if (term.op.empty()) return Status::InvalidArgument(fmt::format("Expression: expected a comparison at position {}", i + 1));
      skip();
      if (i < text.size() && text[i] == '\'') {
        ++i;
        while (i < text.size() && text[i] != '\'') term.value += text[i++];
        if (i == text.size()) return Status::InvalidArgument("Expression: unterminated string");
        ++i;
      } else {
        size_t v = i;
        while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '-' || text[i] == '.')) ++i;
        term.value = text.substr(v, i - v);
        if (term.value.empty()) return Status::InvalidArgument(fmt::format("Expression: expected a value at position {}", i + 1));
      }
      f.terms.push_back(std::move(term));
      skip();
      if (i == text.size()) return f;
      if (text.size() - i >= 3 && (text.compare(i, 3, "AND") == 0 || text.compare(i, 3, "and") == 0)) {
        i += 3;
        continue;
      }
      return Status::InvalidArgument(fmt::format("Expression: only AND of comparisons is supported (position {})", i + 1));
    }
  }

  // ---- crawlers ----

  Result<std::vector<catalog::CrawlerConfig>> Crawlers() const {
    return catalog::LoadCrawlerConfigs(*context_.lake);
  }

  json CrawlerJson(const catalog::CrawlerConfig& c) const SL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    const CrawlerRun& run = crawler_runs_[c.name];
    json out = {{"Name", c.name},
                {"Role", "saleslake"},
                {"DatabaseName", kDatabase},
                {"Targets", {{"S3Targets", json::array({{{"Path", S3Uri(c.path)}, {"Exclusions", json::array()}}})}}},
                {"State", run.running ? "RUNNING" : "READY"},
                {"SchemaChangePolicy",
                 {{"UpdateBehavior", c.policy == catalog::SchemaChangePolicy::kLog ? "LOG" : "UPDATE_IN_DATABASE"},
                  {"DeleteBehavior", "LOG"}}},
                {"CrawlElapsedTime", 0},
                {"CreationTime", 0.0},
                {"LastUpdated", 0.0},
                {"Version", 1}};
    if (run.running && run.started) {
      out["CrawlElapsedTime"] = ToEpochMs(context_.clock->Now()) - ToEpochMs(*run.started);
    }
    if (!run.status.empty()) {
      json last = {{"Status", run.status}, {"MessagePrefix", run.message}};
      if (run.started) last["StartTime"] = EpochSeconds(*run.started);
      if (!run.error.empty()) last["ErrorMessage"] = run.error;
      out["LastCrawl"] = last;
    }
    return out;
  }

  Outcome CrawlerError(const Status& s) const { return Invalid("pipeline.yaml: " + s.message()); }

  Result<catalog::CrawlerConfig> FindCrawler(const std::string& name) const {
    SL_ASSIGN_OR_RETURN(auto all, Crawlers());
    for (auto& c : all) {
      if (c.name == name) return c;
    }
    return Status::NotFound("Crawler with name " + name + " not found");
  }

  Outcome StartCrawler(const json& in, const Principal&, const HttpRequest&) {
    auto c = FindCrawler(StringField(in, "Name"));
    if (!c.ok()) return c.status().code() == StatusCode::kNotFound ? Outcome(NotFound(c.status().message())) : CrawlerError(c.status());
    {
      MutexLock lock(mu_);
      CrawlerRun& run = crawler_runs_[c->name];
      if (run.running) return JsonError("CrawlerRunningException", "Crawler with name " + c->name + " has already started");
      run.running = true;
      run.started = context_.clock->Now();
    }
    crawls_.Post([this, config = *c] {
      auto report = catalog::Crawl(sql_->catalog(), config);
      MutexLock lock(mu_);
      CrawlerRun& run = crawler_runs_[config.name];
      run.running = false;
      run.finished = context_.clock->Now();
      run.last_seconds = static_cast<double>(ToEpochMs(*run.finished) - ToEpochMs(*run.started)) / 1000.0;
      if (report.ok()) {
        run.status = "SUCCEEDED";
        run.error = report->conflicts.empty() ? "" : report->ToText();
        run.message = "crawl of " + config.path + " into " + config.table;
        run.tables_created = report->table_created ? 1 : 0;
        run.tables_updated = !report->table_created && report->committed ? 1 : 0;
      } else {
        run.status = "FAILED";
        run.error = report.status().ToString();
      }
    });
    return JsonOk(json::object());
  }

  Outcome GetCrawler(const json& in, const Principal&, const HttpRequest&) {
    auto c = FindCrawler(StringField(in, "Name"));
    if (!c.ok()) return c.status().code() == StatusCode::kNotFound ? Outcome(NotFound(c.status().message())) : CrawlerError(c.status());
    return JsonOk({{"Crawler", CrawlerJson(*c)}});
  }

  Outcome GetCrawlers(const json&, const Principal&, const HttpRequest&) {
    auto all = Crawlers();
    if (!all.ok()) return CrawlerError(all.status());
    json list = json::array();
    for (const auto& c : *all) list.push_back(CrawlerJson(c));
    return JsonOk({{"Crawlers", list}});
  }

  Outcome ListCrawlers(const json&, const Principal&, const HttpRequest&) {
    auto all = Crawlers();
    if (!all.ok()) return CrawlerError(all.status());
    json names = json::array();
    for (const auto& c : *all) names.push_back(c.name);
    return JsonOk({{"CrawlerNames", names}});
  }

  Outcome GetCrawlerMetrics(const json&, const Principal&, const HttpRequest&) {
    auto all = Crawlers();
    if (!all.ok()) return CrawlerError(all.status());
    json list = json::array();
    MutexLock lock(mu_);
    for (const auto& c : *all) {
      const CrawlerRun& run = crawler_runs_[c.name];
      list.push_back({{"CrawlerName", c.name}, {"TimeLeftSeconds", 0.0}, {"StillEstimating", false},
                      {"LastRuntimeSeconds", run.last_seconds}, {"MedianRuntimeSeconds", run.last_seconds},
                      {"TablesCreated", run.tables_created}, {"TablesUpdated", run.tables_updated},
                      {"TablesDeleted", 0}});
    }
    return JsonOk({{"CrawlerMetricsList", list}});
  }

  // ---- jobs ----

  Result<std::vector<etl::JobSpec>> Jobs() const {
    SL_ASSIGN_OR_RETURN(std::string text, context_.lake->Get("pipeline.yaml"));
    return etl::ParseJobs("pipeline.yaml", text);
  }

  Outcome JobsError(const Status& s) const {
    return s.code() == StatusCode::kNotFound ? Outcome(NotFound(s.message())) : Outcome(Invalid(s.message()));
  }

  json JobJson(const etl::JobSpec& j) const {
    return {{"Name", j.name},
            {"Description", "ETL " + j.source_table + " -> " + j.target_table},
            {"Role", "saleslake"},
            {"Command", {{"Name", "glueetl"}, {"ScriptLocation", S3Uri("pipeline.yaml")}, {"PythonVersion", "3"}}},
            {"DefaultArguments", {{"--job-bookmark-option", "job-bookmark-enable"},
                                  {"--source_table", j.source_table},
                                  {"--target_table", j.target_table},
                                  {"--target_path", S3Uri(j.target_location)}}},
            {"ExecutionProperty", {{"MaxConcurrentRuns", 1}}},
            {"MaxRetries", 0},
            {"Timeout", 2880},
            {"GlueVersion", "4.0"},
            {"CreatedOn", 0.0},
            {"LastModifiedOn", 0.0}};
  }

  Outcome GetJobs(const json&, const Principal&, const HttpRequest&) {
    auto jobs = Jobs();
    if (!jobs.ok()) return JobsError(jobs.status());
    json list = json::array();
    for (const auto& j : *jobs) list.push_back(JobJson(j));
    return JsonOk({{"Jobs", list}});
  }

  Result<etl::JobSpec> FindJob(const std::string& name) const {
    SL_ASSIGN_OR_RETURN(auto jobs, Jobs());
    auto j = etl::FindJob(jobs, name);
    if (!j.ok() && j.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("Job with name " + name + " not found");
    }
    return j;
  }

  Outcome GetJob(const json& in, const Principal&, const HttpRequest&) {
    auto j = FindJob(StringField(in, "JobName"));
    if (!j.ok()) return JobsError(j.status());
    return JsonOk({{"Job", JobJson(*j)}});
  }

  Outcome StartJobRun(const json& in, const Principal&, const HttpRequest&) {
    auto j = FindJob(StringField(in, "JobName"));
    if (!j.ok()) return JobsError(j.status());
    json args = json::object();
    if (auto a = in.find("Arguments"); a != in.end()) {
      if (!a->is_object()) return Invalid("Arguments must be a map of strings");
      args = *a;
    }
    if (auto b = args.find("--job-bookmark-option"); b != args.end()) {
      // The ETL's bookmark is its exactly-once promise (content identity), so only "enable"
      // runs; Glue's disable (reload everything) and pause (do not advance) are refused rather
      // than silently ignored.
      if (!b->is_string() || *b != "job-bookmark-enable") {
        return Invalid("--job-bookmark-option: only job-bookmark-enable is supported (the bookmark "
                       "makes every raw row load exactly once; use ResetJobBookmark to reload)");
      }
    }
    auto run = std::make_shared<JobRun>();
    run->id = "jr_" + RandomHex(32);
    run->job = j->name;
    run->started = context_.clock->Now();
    run->arguments = args;
    {
      MutexLock lock(mu_);
      for (const auto& [id, r] : job_runs_) {
        if (r->job == j->name && (r->state == "RUNNING" || r->state == "STARTING" || r->state == "STOPPING")) {
          return JsonError("ConcurrentRunsExceededException",
                           "Concurrent runs exceeded for " + j->name + ": run " + id + " is running");
        }
      }
      job_runs_[run->id] = run;
    }
    jobs_.Post([this, run, spec = *j] {
      etl::RunOptions options;
      options.run_id = run->id;
      options.stop = run->stop.get();
      options.pause_before_commit_ms = context_.options ? context_.options->test_job_pause_ms : 0;
      auto report = run->stop->load() ? Result<etl::RunReport>(Status::Cancelled("stopped before it started"))
                                      : etl::RunJob(sql_->catalog(), spec, options);
      MutexLock lock(mu_);
      run->finished = context_.clock->Now();
      if (report.ok() && report->status != "failed") {
        run->state = "SUCCEEDED";
      } else if (!report.ok() && report.status().code() == StatusCode::kCancelled && run->stop->load()) {
        run->state = "STOPPED";
      } else {
        run->state = "FAILED";
        run->error = report.ok() ? report->error : report.status().ToString();
      }
    });
    return JsonOk({{"JobRunId", run->id}});
  }

  json RunJson(const JobRun& r) const {
    json out = {{"Id", r.id}, {"Attempt", 0}, {"JobName", r.job}, {"StartedOn", EpochSeconds(r.started)},
                {"JobRunState", r.state}, {"Arguments", r.arguments}, {"GlueVersion", "4.0"},
                {"WorkerType", "G.1X"}, {"NumberOfWorkers", 2}, {"Timeout", 2880}};
    TimePoint last = r.finished.value_or(r.started);
    out["LastModifiedOn"] = EpochSeconds(last);
    if (r.finished) {
      out["CompletedOn"] = EpochSeconds(*r.finished);
      out["ExecutionTime"] = std::chrono::duration_cast<std::chrono::seconds>(*r.finished - r.started).count();
    } else {
      out["ExecutionTime"] = std::chrono::duration_cast<std::chrono::seconds>(context_.clock->Now() - r.started).count();
    }
    if (!r.error.empty()) out["ErrorMessage"] = r.error;
    return out;
  }

  // Runs of `job`: those this server started, then the run reports of earlier runs (the CLI's,
  // or this server's before a restart). Newest first.
  std::vector<JobRun> RunsOf(const std::string& job) const SL_EXCLUDES(mu_) {
    std::vector<JobRun> runs;
    std::set<std::string> seen;
    {
      MutexLock lock(mu_);
      for (const auto& [id, r] : job_runs_) {
        if (r->job == job) {
          runs.push_back(*r);
          seen.insert(id);
        }
      }
    }
    auto reports = etl::LoadRunReports(*context_.lake, job);
    if (reports.ok()) {
      for (const std::string& line : *reports) {
        json j = json::parse(line, nullptr, false);
        if (!j.is_object()) continue;
        JobRun r;
        r.id = StringField(j, "run_id");
        if (r.id.empty() || seen.count(r.id)) continue;
        r.job = job;
        std::string status = StringField(j, "status");
        r.state = status == "failed" ? "FAILED" : status == "running" ? "RUNNING" : "SUCCEEDED";
        r.error = StringField(j, "error");
        auto started = ParseIsoTimestamp(StringField(j, "started_at"));
        r.started = started ? FromEpochMs(*started / 1000) : TimePoint{};
        if (auto d = j.find("duration_s"); d != j.end() && d->is_number() && r.state != "RUNNING") {
          r.finished = r.started + std::chrono::milliseconds(static_cast<int64_t>(d->get<double>() * 1000));
        }
        runs.push_back(std::move(r));
      }
    }
    std::sort(runs.begin(), runs.end(), [](const JobRun& a, const JobRun& b) { return a.started > b.started; });
    return runs;
  }

  Outcome GetJobRun(const json& in, const Principal&, const HttpRequest&) {
    std::string job = StringField(in, "JobName"), id = StringField(in, "RunId");
    auto j = FindJob(job);
    if (!j.ok()) return JobsError(j.status());
    for (const JobRun& r : RunsOf(job)) {
      if (r.id == id) return JsonOk({{"JobRun", RunJson(r)}});
    }
    return NotFound("Job run " + id + " of job " + job + " not found");
  }

  Outcome GetJobRuns(const json& in, const Principal&, const HttpRequest&) {
    std::string job = StringField(in, "JobName");
    auto j = FindJob(job);
    if (!j.ok()) return JobsError(j.status());
    auto max = IntField(in, "MaxResults");
    if (!max.ok()) return Invalid(max.status().message());
    const int64_t limit = max->value_or(100);
    if (limit < 1 || limit > 200) return Invalid("MaxResults must be between 1 and 200");
    uint64_t offset = 0;
    if (std::string token = StringField(in, "NextToken"); !token.empty()) {
      auto parsed = ParsePageToken(token, "runs:" + job);
      if (!parsed) return Invalid("Invalid NextToken");
      offset = *parsed;
    }
    std::vector<JobRun> runs = RunsOf(job);
    json list = json::array();
    size_t i = offset;
    for (; i < runs.size() && list.size() < static_cast<size_t>(limit); ++i) list.push_back(RunJson(runs[i]));
    json out = {{"JobRuns", list}};
    if (i < runs.size()) out["NextToken"] = PageToken("runs:" + job, i);
    return JsonOk(out);
  }

  // Stops runs this server started: a running one is told to stop (STOPPING until the ETL
  // notices, then STOPPED; nothing is committed). Runs that ended, or unknown ids, come back
  // in Errors, as Glue reports them.
  Outcome BatchStopJobRun(const json& in, const Principal&, const HttpRequest&) {
    std::string job = StringField(in, "JobName");
    auto j = FindJob(job);
    if (!j.ok()) return JobsError(j.status());
    auto ids = in.find("JobRunIds");
    if (ids == in.end() || !ids->is_array() || ids->empty()) return Invalid("JobRunIds is required");
    if (ids->size() > 25) return Invalid("JobRunIds: at most 25 ids");
    json ok = json::array(), errors = json::array();
    MutexLock lock(mu_);
    for (const json& id_json : *ids) {
      std::string id = id_json.is_string() ? id_json.get<std::string>() : "";
      auto error = [&](const char* code, const std::string& message) {
        errors.push_back({{"JobName", job}, {"JobRunId", id},
                          {"ErrorDetail", {{"ErrorCode", code}, {"ErrorMessage", message}}}});
      };
      auto it = job_runs_.find(id);
      if (it == job_runs_.end() || it->second->job != job) {
        error("EntityNotFoundException", "Job run " + id + " of job " + job + " not found");
        continue;
      }
      JobRun& r = *it->second;
      if (r.state != "RUNNING" && r.state != "STARTING" && r.state != "STOPPING") {
        error("InvalidInputException", "Job run " + id + " is " + r.state + " and cannot be stopped");
        continue;
      }
      r.stop->store(true);
      r.state = "STOPPING";
      ok.push_back({{"JobName", job}, {"JobRunId", id}});
    }
    return JsonOk({{"SuccessfulSubmissions", ok}, {"Errors", errors}});
  }

  Outcome GetJobBookmark(const json& in, const Principal&, const HttpRequest&) {
    auto j = FindJob(StringField(in, "JobName"));
    if (!j.ok()) return JobsError(j.status());
    auto t = sql_->catalog().LoadTable(j->target_table);
    std::string bookmark;
    int64_t version = 0;
    if (t.ok()) {
      auto it = (*t)->spec.properties.find("etl.bookmark." + j->name);
      if (it != (*t)->spec.properties.end()) bookmark = it->second;
      version = (*t)->version;
    } else if (t.status().code() != StatusCode::kNotFound) {
      return Internal(t.status());
    }
    std::vector<JobRun> runs = RunsOf(j->name);
    json entry = {{"JobName", j->name}, {"Version", version}, {"Run", static_cast<int64_t>(runs.size())},
                  {"Attempt", 0}, {"JobBookmark", bookmark}};
    if (!runs.empty()) entry["RunId"] = runs.front().id;
    if (runs.size() > 1) entry["PreviousRunId"] = runs[1].id;
    return JsonOk({{"JobBookmarkEntry", entry}});
  }

  Outcome ResetJobBookmark(const json& in, const Principal&, const HttpRequest&) {
    auto j = FindJob(StringField(in, "JobName"));
    if (!j.ok()) return JobsError(j.status());
    const std::string key = "etl.bookmark." + j->name;
    auto t = sql_->catalog().LoadTable(j->target_table);
    if (t.ok() && (*t)->spec.properties.count(key) && !(*t)->spec.properties.at(key).empty()) {
      // The empty text is the empty bookmark: the next run loads every raw file again, as
      // Glue's reset does.
      auto committed = sql_->catalog().Commit(j->target_table, [&](const catalog::TableMetadata&) {
        catalog::TableChange change;
        change.operation = "append";
        change.set_properties[key] = "";
        return Result<catalog::TableChange>(std::move(change));
      });
      if (!committed.ok()) return Internal(committed.status());
    } else if (!t.ok() && t.status().code() != StatusCode::kNotFound) {
      return Internal(t.status());
    }
    return JsonOk({{"JobBookmarkEntry", {{"JobName", j->name}, {"Version", 0}, {"Run", 0}, {"Attempt", 0},
                                         {"JobBookmark", ""}}}});
  }

  ServiceContext context_;
  LakeSqlService* sql_;
  mutable Mutex mu_;
  mutable std::map<std::string, CrawlerRun> crawler_runs_ SL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<JobRun>> job_runs_ SL_GUARDED_BY(mu_);
  Worker crawls_, jobs_;
};

}  // namespace

std::unique_ptr<Service> MakeGlueService(const ServiceContext& context, LakeSqlService* sql) {
  return std::make_unique<GlueService>(context, sql);
}

}  // namespace saleslake::server::internal
