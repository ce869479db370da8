#include "catalog/crawler.h"

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <unordered_map>

#include "catalog/internal/file_inspect.h"
#include "catalog/internal/schema_merge.h"
#include "common/yaml.h"
#include "common/logging.h"

namespace saleslake::catalog {

std::string_view SchemaChangePolicyName(SchemaChangePolicy p) {
  switch (p) {
    case SchemaChangePolicy::kUpdate: return "update";
    case SchemaChangePolicy::kLog: return "log";
    case SchemaChangePolicy::kFail: return "fail";
    case SchemaChangePolicy::kVarchar: return "varchar";
  }
  return "?";
}

// ---- pipeline.yaml ----

namespace {


}  // namespace

Result<std::vector<CrawlerConfig>> ParseCrawlerConfigs(std::string_view yaml_text,
                                                       std::string_view file_name) {
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    std::vector<CrawlerConfig> out;
    if (!root || root.IsNull()) return out;
    if (!root.IsMap())
      return Status::InvalidArgument(YamlAt(file_name, root.Mark()) + "the pipeline must be a mapping");
    // A newer format must not be half-understood: only version 1 (or none) is read.
    if (const YAML::Node v = root["version"]; v && !(v.IsScalar() && v.Scalar() == "1")) {
      return Status::InvalidArgument(YamlAt(file_name, v.Mark()) + "pipeline version '" +
                                     (v.IsScalar() ? v.Scalar() : std::string("?")) +
                                     "' is not supported: this saleslake reads version 1");
    }
    const YAML::Node crawlers = root["crawlers"];
    if (!crawlers || crawlers.IsNull()) return out;
    if (!crawlers.IsSequence())
      return Status::InvalidArgument(YamlAt(file_name, crawlers.Mark()) +
                                     "'crawlers' must be a list of crawler definitions");
    std::set<std::string> names;
    for (auto cit = crawlers.begin(); cit != crawlers.end(); ++cit) {
      const YAML::Node item = *cit;
      if (!item.IsMap())
        return Status::InvalidArgument(YamlAt(file_name, item.Mark()) +
                                       "a crawler must be a mapping with name, path and table");
      CrawlerConfig c;
      bool has_name = false, has_path = false, has_table = false;
      for (auto it = item.begin(); it != item.end(); ++it) {
        // Copies: yaml-cpp's iterator hands out a temporary pair; references into it dangle.
        const YAML::Node key_node = it->first;
        const YAML::Node v = it->second;
        std::string k = key_node.as<std::string>();
        std::string where = YamlAt(file_name, v.Mark());
        if (!v.IsScalar())
          return Status::InvalidArgument(where + "crawler key '" + k + "' must be a plain value");
        std::string s = v.as<std::string>();
        if (k == "name") {
          c.name = s;
          has_name = true;
        } else if (k == "path") {
          if (!s.empty() && s.back() != '/') s += '/';
          Status valid = s.size() > 1 ? io::ValidateKey(s.substr(0, s.size() - 1))
                                      : Status::InvalidArgument("empty path");
          if (!valid.ok())
            return Status::InvalidArgument(where + "crawler path '" + s + "': " + valid.message());
          c.path = s;
          has_path = true;
        } else if (k == "table") {
          Status valid = ValidateTableName(s);
          if (!valid.ok()) return Status::InvalidArgument(where + valid.message());
          c.table = s;
          has_table = true;
        } else if (k == "format") {
          if (s == "auto") {
            c.format.reset();
          } else {
            auto f = ParseFileFormat(s);
            if (!f.ok())
              return Status::InvalidArgument(where + "unknown crawler format '" + s +
                                             "' (expected auto, csv, parquet or jsonl)");
            c.format = *f;
          }
        } else if (k == "schema_change_policy") {
          if (s == "update") c.policy = SchemaChangePolicy::kUpdate;
          else if (s == "log") c.policy = SchemaChangePolicy::kLog;
          else if (s == "fail") c.policy = SchemaChangePolicy::kFail;
          else if (s == "varchar") c.policy = SchemaChangePolicy::kVarchar;
          else
            return Status::InvalidArgument(where + "unknown schema_change_policy '" + s +
                                           "' (expected update, log, fail or varchar)");
        } else if (k == "description") {
          // free text
        } else {
          return Status::InvalidArgument(YamlAt(file_name, key_node.Mark()) + "unknown crawler key '" +
                                         k + "' (expected name, path, table, format, schema_change_policy)");
        }
      }
      std::string where = YamlAt(file_name, item.Mark());
      if (!has_name) return Status::InvalidArgument(where + "crawler has no 'name'");
      if (!has_path) return Status::InvalidArgument(where + "crawler '" + c.name + "' has no 'path'");
      if (!has_table) return Status::InvalidArgument(where + "crawler '" + c.name + "' has no 'table'");
      if (!names.insert(c.name).second)
        return Status::InvalidArgument(where + "crawler name '" + c.name + "' is used twice");
      out.push_back(std::move(c));
    }
    return out;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(YamlAt(file_name, e.mark) + e.msg);
  }
}

Result<std::vector<CrawlerConfig>> LoadCrawlerConfigs(const io::ObjectStore& store,
                                                      std::string_view key) {
  auto text = store.Get(key);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return Status::NotFound(std::string(key) + " not found in lake " + store.uri() +
                              " (run 'saleslake init')");
    return text.status();
  }
  return ParseCrawlerConfigs(*text, key);
}

// ---- crawl ----

namespace {

struct StateEntry {
  uint64_t size = 0;
  std::string etag;
  bool skipped = false;
  std::string reason;
  std::string policy;
  bool operator==(const StateEntry&) const = default;
};

using State = std::map<std::string, StateEntry>;

State LoadState(const io::ObjectStore& store, const std::string& key) {
  State st;
  auto text = store.Get(key);
  if (!text.ok()) return st;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("files") || !j["files"].is_object()) {
    Log(LogLevel::kWarn, "crawler state is unreadable; every file will be read again", {{"key", key}});
    return st;
  }
  for (auto it = j["files"].begin(); it != j["files"].end(); ++it) {
    const nlohmann::json& e = it.value();
    if (!e.is_object()) continue;
    StateEntry s;
    s.size = e.value("size", uint64_t{0});
    s.etag = e.value("etag", std::string());
    s.skipped = e.value("skipped", false);
    s.reason = e.value("reason", std::string());
    s.policy = e.value("policy", std::string());
    st[it.key()] = std::move(s);
  }
  return st;
}

std::string EncodeState(const State& st) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [k, s] : st) {
    nlohmann::json e{{"size", s.size}, {"etag", s.etag}, {"skipped", s.skipped}};
    if (s.skipped) {
      e["reason"] = s.reason;
      e["policy"] = s.policy;
    }
    files[k] = std::move(e);
  }
  nlohmann::json j{{"format_version", 1}, {"files", std::move(files)}};
  return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool HiddenSegment(std::string_view rel) {
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    if (end > start && (rel[start] == '.' || rel[start] == '_')) return true;
    start = end + 1;
  }
  return false;
}

// Hive partition folders of a key relative to the crawl path: "region=EU/m=2025-08/x.csv".
std::vector<PartitionValue> ParsePartitions(std::string_view rel) {
  std::vector<PartitionValue> out;
  size_t start = 0;
  for (;;) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) break;  // the last segment is the file name
    std::string_view seg = rel.substr(start, end - start);
    size_t eq = seg.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      PartitionValue pv;
      pv.key = UnescapePartitionValue(seg.substr(0, eq));
      std::string v = UnescapePartitionValue(seg.substr(eq + 1));
      if (v != "__HIVE_DEFAULT_PARTITION__") pv.value = std::move(v);
      out.push_back(std::move(pv));
    }
    start = end + 1;
  }
  return out;
}

std::vector<std::string> KeysOf(const std::vector<PartitionValue>& pv) {
  std::vector<std::string> k;
  for (const PartitionValue& p : pv) k.push_back(p.key);
  return k;
}

DataType PartitionValueType(const std::string& v) {
  int64_t i;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), i);
  if (ec == std::errc() && p == v.data() + v.size() && !v.empty()) return DataType::Int64();
  if (ParseIsoDate(v)) return DataType::Date();
  return DataType::Varchar();
}

struct Listed {
  io::ObjectInfo info;
  std::vector<PartitionValue> partitions;
  std::string sha256;        // hex SHA-256 of the bytes ("" when it could not be computed)
  std::string id;            // DataFile::ContentId(): the content and the partition
  std::string hash_error;    // why there is no sha256
};

struct Plan {
  TableChange change;
  Schema schema;  // full: data columns then partition columns
  std::vector<std::string> partition_keys;
  std::optional<FileFormat> format;
  CsvDialect csv;
  CrawlReport report;
  State state;
};

}  // namespace

Result<CrawlReport> Crawl(Catalog& catalog, const CrawlerConfig& config, const CrawlOptions& options) {
  SL_RETURN_IF_ERROR(ValidateTableName(config.table));
  if (config.path.empty() || config.path.back() != '/')
    return Status::InvalidArgument("crawler '" + config.name + "': path '" + config.path +
                                   "' must be a folder ending in '/'");
  io::ObjectStore& store = *catalog.store();
  const std::string state_key = options.state_prefix + config.name + "/state.json";
  const std::string policy_name(SchemaChangePolicyName(config.policy));

  SL_ASSIGN_OR_RETURN(auto infos, store.List(config.path));
  std::vector<Listed> listed;
  for (io::ObjectInfo& o : infos) {
    std::string_view rel = std::string_view(o.key).substr(config.path.size());
    if (rel.empty() || HiddenSegment(rel)) continue;
    Listed l;
    l.partitions = ParsePartitions(rel);
    l.info = std::move(o);
    listed.push_back(std::move(l));
  }
  // Content identity first, once per crawl (records make this a small read per file).
  uint64_t hashed = 0;
  for (Listed& l : listed) {
    if (options.on_progress) options.on_progress(hashed++, listed.size());
    auto sha = ContentHash(store, l.info);
    if (sha.ok()) l.sha256 = std::move(*sha);
    else l.hash_error = sha.status().message();
    l.id = DataFile{.sha256 = l.sha256, .partition_values = l.partitions}.ContentId();
  }
  const State old_state = LoadState(store, state_key);

  // Files are read at most once per crawl, even when a commit is retried.
  std::unordered_map<std::string, Result<internal::InspectedFile>> inspected;
  int64_t files_read = 0;
  auto inspect = [&](const io::ObjectInfo& info) -> const Result<internal::InspectedFile>& {
    auto it = inspected.find(info.key);
    if (it == inspected.end()) {
      ++files_read;
      Result<internal::InspectedFile> r =
          info.size == 0 ? Result<internal::InspectedFile>(Status::InvalidArgument("empty file"))
                         : internal::InspectFile(store, info.key, config.format);
      it = inspected.emplace(info.key, std::move(r)).first;
    }
    return it->second;
  };

  // Builds the change against `base` (nullptr = the table does not exist yet).
  auto plan_against = [&](const TableMetadata* base) -> Result<Plan> {
    Plan plan;
    CrawlReport& rep = plan.report;
    rep.crawler = config.name;
    rep.table = config.table;
    rep.files_seen = static_cast<int64_t>(listed.size());
    std::map<std::string, DataFile> base_files;
    Schema data_schema;  // without partition columns
    bool is_new = base == nullptr;
    if (base != nullptr) {
      SL_ASSIGN_OR_RETURN(auto files, catalog.ListFiles(*base));
      for (DataFile& f : files) base_files.emplace(f.key, std::move(f));
      plan.partition_keys = base->spec.partition_keys;
      plan.format = base->spec.format;
      plan.csv = base->spec.csv;
      for (const Field& f : base->schema().fields)
        if (std::find(plan.partition_keys.begin(), plan.partition_keys.end(), f.name) ==
            plan.partition_keys.end())
          data_schema.fields.push_back(f);
    }
    if (config.format && !plan.format) plan.format = config.format;
    bool have_layout = base != nullptr;  // partition keys / dialect fixed?
    std::set<std::string> listed_keys;
    for (const Listed& l : listed) listed_keys.insert(l.info.key);
    // Content already in the table, by hash -> key; and content added by this crawl.
    // Only content that is still where the table says it is (or whose key is gone: a rename
    // candidate) counts; a key whose content changed no longer holds its old content.
    std::map<std::string, std::string> listed_sha;
    for (const Listed& l : listed) listed_sha[l.info.key] = l.sha256;
    std::map<std::string, std::string> base_by_id;
    for (const auto& [key, f] : base_files) {
      auto ls = listed_sha.find(key);
      if (!f.sha256.empty() && (ls == listed_sha.end() || ls->second == f.sha256)) base_by_id.emplace(f.ContentId(), key);
    }
    std::map<std::string, std::string> added_by_id;
    std::set<std::string> renamed_from;
    std::vector<DataFile> adds;
    // A key whose new content duplicates another file: its old content is gone from the lake.
    auto drop_old_content = [&](std::map<std::string, DataFile>::const_iterator bf) {
      if (bf == base_files.end()) return;
      rep.removed.push_back(bf->first);
      plan.change.remove_files.push_back(bf->first);
    };
    for (const Listed& l : listed) {
      const io::ObjectInfo& info = l.info;
      auto bf = base_files.find(info.key);
      if (!l.hash_error.empty()) {
        // Unreadable now: the table keeps what it had for this key.
        rep.skipped.push_back({info.key, "cannot read its content: " + l.hash_error});
        continue;
      }
      if (bf != base_files.end() &&
          (bf->second.sha256 == l.sha256 ||
           (bf->second.sha256.empty() && bf->second.size == info.size && bf->second.etag == info.etag))) {
        ++rep.files_unchanged;
        plan.state[info.key] = StateEntry{info.size, info.etag, false, "", ""};
        if (bf->second.sha256.empty()) {
          // A table registered before content identity: the entry learns its hash (no re-read).
          DataFile df = bf->second;
          df.sha256 = l.sha256;
          plan.change.remove_files.push_back(df.key);
          adds.push_back(std::move(df));
        }
        continue;
      }
      // Content the table already holds under another key: a copy (skipped) or a rename.
      auto same = base_by_id.find(l.id);
      if (same != base_by_id.end() && same->second != info.key) {
        if (listed_keys.count(same->second) || renamed_from.count(same->second)) {
          rep.skipped.push_back({info.key, "same content as " + same->second + ", skipped"});
          drop_old_content(bf);
          continue;
        }
        DataFile df = base_files.at(same->second);
        rep.renamed.push_back(df.key + " -> " + info.key);
        renamed_from.insert(df.key);
        plan.change.remove_files.push_back(df.key);
        if (bf != base_files.end()) plan.change.remove_files.push_back(info.key);
        df.key = info.key;
        df.size = info.size;
        df.etag = info.etag;
        adds.push_back(std::move(df));
        plan.state[info.key] = StateEntry{info.size, info.etag, false, "", ""};
        continue;
      }
      auto dup = added_by_id.find(l.id);
      if (dup != added_by_id.end()) {
        rep.skipped.push_back({info.key, "same content as " + dup->second + ", skipped"});
        drop_old_content(bf);
        continue;
      }
      auto os = old_state.find(info.key);
      if (bf == base_files.end() && os != old_state.end() && os->second.skipped &&
          os->second.size == info.size && os->second.etag == info.etag &&
          os->second.policy == policy_name) {
        ++rep.files_unchanged;
        plan.state[info.key] = os->second;
        continue;
      }
      auto skip = [&](std::string reason) {
        rep.skipped.push_back({info.key, reason});
        plan.state[info.key] = StateEntry{info.size, info.etag, true, std::move(reason), policy_name};
      };
      const Result<internal::InspectedFile>& ins = inspect(info);
      if (!ins.ok()) {
        skip(ins.status().message());
        continue;
      }
      const internal::InspectedFile& f = *ins;
      if (plan.format && *plan.format != f.format) {
        skip("format " + std::string(FileFormatName(f.format)) + " differs from table format " +
             std::string(FileFormatName(*plan.format)));
        continue;
      }
      if (have_layout && KeysOf(l.partitions) != plan.partition_keys) {
        std::string want;
        for (const auto& k : plan.partition_keys) want += (want.empty() ? "" : "/") + k;
        skip("partition folders '" + DataFile{.partition_values = l.partitions}.PartitionPath() +
             "' do not match the table's partition keys '" + want + "'");
        continue;
      }
      if (have_layout && f.format == FileFormat::kCsv && f.csv.delimiter != plan.csv.delimiter) {
        skip(std::string("CSV delimiter '") + f.csv.delimiter + "' differs from the table's '" +
             plan.csv.delimiter + "'");
        continue;
      }
      // The file's data columns (a column named like a partition key is the partition's). A
      // file without data rows has names but no evidence of types: they read as NULL, which
      // widens to anything.
      Schema file_schema;
      for (const Field& fld : f.schema.fields) {
        bool is_part = std::any_of(l.partitions.begin(), l.partitions.end(),
                                   [&](const PartitionValue& p) { return p.key == fld.name; });
        if (is_part) continue;
        file_schema.fields.push_back(fld);
        if (f.row_count == 0) file_schema.fields.back().type = DataType::Null();
      }
      if (!have_layout) {
        // The first file defines the layout of a new table.
        have_layout = true;
        plan.format = f.format;
        plan.csv = f.csv;
        plan.partition_keys = KeysOf(l.partitions);
        if (is_new && data_schema.fields.empty()) data_schema = file_schema;
      }
      internal::MergedSchema merged = internal::MergeSchemas(data_schema, file_schema);
      if (!merged.changes.empty()) {
        std::string desc;
        for (const auto& c : merged.changes) desc += (desc.empty() ? "" : "; ") + c.Describe();
        switch (config.policy) {
          case SchemaChangePolicy::kFail:
            return Status::InvalidArgument(
                "crawler '" + config.name + "': " + info.key + " changes the schema of table '" +
                config.table + "' (" + desc + ") and schema_change_policy is fail; nothing was committed");
          case SchemaChangePolicy::kLog: {
            bool only_new = std::all_of(merged.changes.begin(), merged.changes.end(), [](const auto& c) {
              return c.kind == internal::SchemaChangeKind::kNewColumn;
            });
            rep.schema_changes.push_back(info.key + ": " + desc + " (logged, not applied)");
            Log(LogLevel::kWarn, "schema change not applied (policy log)",
                {{"crawler", config.name}, {"file", info.key}, {"change", desc}});
            if (!only_new) {
              skip("schema change not applied (policy log): " + desc);
              continue;
            }
            break;
          }
          case SchemaChangePolicy::kUpdate: {
            std::string conflict;
            for (const auto& c : merged.changes)
              if (c.kind == internal::SchemaChangeKind::kIncompatible)
                conflict += (conflict.empty() ? "" : "; ") + c.Describe();
            if (!conflict.empty()) {
              rep.conflicts.push_back({info.key, "type conflict: " + conflict +
                                                     " (the table keeps its types; fix the file, or set "
                                                     "schema_change_policy: varchar to read such columns as text)"});
              continue;
            }
            [[fallthrough]];
          }
          case SchemaChangePolicy::kVarchar:
            for (const auto& c : merged.changes) rep.schema_changes.push_back(info.key + ": " + c.Describe());
            data_schema = std::move(merged.schema);
            break;
        }
      } else {
        data_schema = std::move(merged.schema);  // nullability may have widened
      }
      for (const auto& [col, fmt] : f.column_formats) {
        std::string prop = "csv.format." + col;
        if ((base == nullptr || !base->spec.properties.count(prop)) && !plan.change.set_properties.count(prop))
          plan.change.set_properties[prop] = fmt;
      }
      DataFile df;
      df.key = info.key;
      df.size = info.size;
      df.etag = info.etag;
      df.sha256 = l.sha256;
      df.row_count = f.row_count;
      df.partition_values = l.partitions;
      df.column_stats = f.stats;
      if (f.format == FileFormat::kCsv)
        for (const Field& fld : f.schema.fields) df.file_columns.push_back(fld.name);
      adds.push_back(std::move(df));
      added_by_id.emplace(l.id, info.key);
      plan.state[info.key] = StateEntry{info.size, info.etag, false, "", ""};
      if (bf != base_files.end()) {
        rep.updated.push_back(info.key);
        plan.change.remove_files.push_back(info.key);
      } else {
        rep.added.push_back(info.key);
      }
    }
    for (const auto& [key, f] : base_files) {
      if (listed_keys.count(key) || renamed_from.count(key)) continue;
      rep.removed.push_back(key);
      plan.change.remove_files.push_back(key);
    }
    // Columns only header-only files named: no evidence of a type; read as text.
    for (Field& fld : data_schema.fields)
      if (fld.type.id == TypeId::kNull) fld.type = DataType::Varchar();

    // Partition columns: typed by their values (BIGINT, DATE, else VARCHAR), last in the schema.
    std::set<std::string> old_paths;
    for (const auto& [key, f] : base_files)
      if (listed_keys.count(key)) old_paths.insert(f.PartitionPath());
    std::set<std::string> new_paths;
    for (const DataFile& f : adds)
      if (!f.partition_values.empty() && !old_paths.count(f.PartitionPath())) new_paths.insert(f.PartitionPath());
    rep.new_partitions.assign(new_paths.begin(), new_paths.end());
    Schema full = data_schema;
    full.fields.erase(std::remove_if(full.fields.begin(), full.fields.end(),
                                     [&](const Field& fld) {
                                       return std::find(plan.partition_keys.begin(), plan.partition_keys.end(),
                                                        fld.name) != plan.partition_keys.end();
                                     }),
                      full.fields.end());
    for (size_t k = 0; k < plan.partition_keys.size(); ++k) {
      DataType t = DataType::Null();
      auto vote = [&](const DataFile& f) {
        if (k >= f.partition_values.size() || !f.partition_values[k].value) return;
        auto w = internal::WidenType(t, PartitionValueType(*f.partition_values[k].value));
        t = w ? *w : DataType::Varchar();
      };
      for (const auto& [key, f] : base_files)
        if (listed_keys.count(key)) vote(f);
      for (const DataFile& f : adds) vote(f);
      if (t.id == TypeId::kNull) t = DataType::Varchar();
      if (base != nullptr && config.policy != SchemaChangePolicy::kUpdate &&
          config.policy != SchemaChangePolicy::kVarchar) {
        if (auto i = base->schema().FindField(plan.partition_keys[k])) t = base->schema()[*i].type;
      }
      full.fields.push_back({plan.partition_keys[k], t, true});
    }
    plan.schema = std::move(full);
    plan.change.operation = "crawl";
    plan.change.add_files = std::move(adds);
    if (base == nullptr || config.policy == SchemaChangePolicy::kUpdate ||
        config.policy == SchemaChangePolicy::kVarchar)
      plan.change.new_schema = plan.schema;
    if (base != nullptr && plan.change.new_schema && !(*plan.change.new_schema == base->schema()))
      rep.schema_updated = true;
    return plan;
  };

  // Create the table first when it does not exist (a concurrent creator may win: fine).
  bool created = false;
  auto existing = catalog.LoadTable(config.table);
  if (!existing.ok() && existing.status().code() != StatusCode::kNotFound) return existing.status();
  if (!existing.ok()) {
    SL_ASSIGN_OR_RETURN(Plan first, plan_against(nullptr));
    if (!first.format) {
      // Nothing classifiable yet: report without creating an empty table of unknown format.
      CrawlReport rep = std::move(first.report);
      rep.files_read = files_read;
      if (!(first.state == old_state)) (void)store.Put(state_key, EncodeState(first.state));
      return rep;
    }
    TableSpec spec;
    spec.name = config.table;
    spec.format = *first.format;
    spec.location = config.path;
    spec.schema = first.schema;
    spec.partition_keys = first.partition_keys;
    spec.csv = first.csv;
    spec.properties = first.change.set_properties;
    spec.properties["crawler"] = config.name;
    auto c = catalog.CreateTable(spec);
    if (c.ok()) created = true;
    else if (c.status().code() != StatusCode::kAlreadyExists) return c.status();
  }

  Plan final_plan;
  auto committed = catalog.Commit(config.table, [&](const TableMetadata& base) -> Result<TableChange> {
    SL_ASSIGN_OR_RETURN(final_plan, plan_against(&base));
    return final_plan.change;
  });
  if (!committed.ok()) return committed.status();
  CrawlReport rep = std::move(final_plan.report);
  rep.table_created = created;
  rep.committed = committed->committed || created;
  rep.snapshot_id = committed->metadata->current_snapshot_id;
  rep.files_read = files_read;
  if (created) rep.schema_updated = true;
  // The state is a cache: a failure to write it costs re-reads next time, nothing else.
  if (!(final_plan.state == old_state)) {
    Status ss = store.Put(state_key, EncodeState(final_plan.state));
    if (!ss.ok()) Log(LogLevel::kWarn, "could not write crawler state", {{"error", ss.message()}});
  }
  return rep;
}

std::string CrawlReport::ToText() const {
  std::string out = "crawler " + crawler + " -> table " + table;
  if (table_created) out += " (created)";
  out += "\n";
  for (const auto& k : added) out += "  added     " + k + "\n";
  for (const auto& k : updated) out += "  updated   " + k + "\n";
  for (const auto& k : removed) out += "  removed   " + k + "\n";
  for (const auto& k : renamed) out += "  renamed   " + k + " (same content: nothing new)\n";
  for (const auto& s : skipped) out += "  skipped   " + s.key + ": " + s.reason + "\n";
  for (const auto& s : conflicts) out += "  conflict  " + s.key + ": " + s.reason + "\n";
  for (const auto& p : new_partitions) out += "  partition " + p + " (new)\n";
  for (const auto& c : schema_changes) out += "  schema    " + c + "\n";
  bool changed = committed || !added.empty() || !updated.empty() || !removed.empty();
  if (!changed) out += "  no changes\n";
  out += "  " + std::to_string(files_seen) + " files seen, " + std::to_string(files_read) +
         " read, " + std::to_string(files_unchanged) + " unchanged; snapshot " +
         std::to_string(snapshot_id) + "\n";
  return out;
}

}  // namespace saleslake::catalog
