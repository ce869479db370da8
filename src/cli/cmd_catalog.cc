// `saleslake crawl`, `tables`, `describe` and `catalog ...`: the catalog seen from the shell.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/crawler.h"
#include "catalog/describe.h"
#include "cli/command.h"
#include "cli/render.h"
#include "common/progress.h"

namespace saleslake::cli {
namespace {

struct Lake {
  std::unique_ptr<io::ObjectStore> store;
  std::unique_ptr<catalog::Catalog> catalog;
};

Result<Lake> OpenCatalog(const Context& ctx) {
  Lake lake;
  SL_ASSIGN_OR_RETURN(lake.store, ctx.OpenLake(/*create=*/false));
  SL_ASSIGN_OR_RETURN(lake.catalog, ctx.OpenCatalog(lake.store.get()));
  return lake;
}

int RunCrawl(const Context& ctx, const std::string& only) {
  auto lake = OpenCatalog(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto configs = catalog::LoadCrawlerConfigs(*lake->store);
  if (!configs.ok()) return Fail(configs.status());
  std::vector<catalog::CrawlerConfig> run;
  for (const auto& c : *configs)
    if (only.empty() || c.name == only) run.push_back(c);
  if (run.empty()) {
    if (only.empty()) return Fail("pipeline.yaml defines no crawlers");
    std::string names;
    for (const auto& c : *configs) names += (names.empty() ? "" : ", ") + c.name;
    return Fail("no crawler named '" + only + "' in pipeline.yaml (crawlers: " +
                (names.empty() ? "none" : names) + ")");
  }
  int rc = 0;
  for (const auto& c : run) {
    Progress progress("crawl " + c.name, Progress::Unit::kFiles, 0);
    catalog::CrawlOptions options;
    if (progress.enabled()) options.on_progress = [&progress](uint64_t done, uint64_t total) { progress.Update(done, total); };
    auto report = catalog::Crawl(*lake->catalog, c, options);
    progress.Finish();
    if (!report.ok()) {
      rc = Fail(report.status());
      continue;
    }
    std::fputs(report->ToText().c_str(), stdout);
    if (!report->conflicts.empty()) {
      std::fflush(stdout);
      rc = Fail("crawler " + c.name + ": " + std::to_string(report->conflicts.size()) +
                " file(s) conflict with the types of table " + c.table + " (first: " +
                report->conflicts[0].key + ": " + report->conflicts[0].reason + ")");
    }
  }
  std::fflush(stdout);
  return rc;
}

int RunTables(const Context& ctx, const std::string& format) {
  auto lake = OpenCatalog(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto names = lake->catalog->ListTables();
  if (!names.ok()) return Fail(names.status());
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  std::vector<std::vector<std::string>> rows;
  for (const std::string& n : *names) {
    auto t = lake->catalog->LoadTable(n);
    if (!t.ok()) return Fail(t.status());
    const catalog::SnapshotInfo* s = (*t)->current_snapshot();
    int64_t files = s ? s->total_files : 0, rows_n = s ? s->total_rows : 0;
    if (format == "json") {
      nlohmann::ordered_json j;
      j["name"] = n;
      j["format"] = std::string(catalog::FileFormatName((*t)->spec.format));
      j["location"] = (*t)->spec.location;
      j["files"] = files;
      j["row_count"] = rows_n;
      j["snapshot_id"] = (*t)->current_snapshot_id;
      arr.push_back(std::move(j));
    } else {
      rows.push_back({n, std::string(catalog::FileFormatName((*t)->spec.format)), std::to_string(files),
                      std::to_string(rows_n), std::to_string((*t)->current_snapshot_id),
                      (*t)->spec.location});
    }
  }
  if (format == "json") {
    std::printf("%s\n", arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  if (rows.empty()) {
    std::printf("no tables (run 'saleslake crawl')\n");
    return 0;
  }
  Renderer table({{"table"}, {"format"}, {"files", CellKind::kNumber}, {"rows", CellKind::kNumber},
                  {"snapshot", CellKind::kNumber}, {"location"}},
                 RenderOptions{.mode = OutputMode::kTable, .footer = false});
  for (const auto& r : rows) {
    for (const std::string& cell : r) table.AddCell(cell);
    table.EndRow();
  }
  std::fputs(table.Finish().c_str(), stdout);
  return 0;
}

struct DescribeOpts {
  std::string table;
  std::string format = "text";
  int64_t snapshot = -1;
};

int RunDescribe(const Context& ctx, const DescribeOpts& o) {
  auto lake = OpenCatalog(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto t = lake->catalog->LoadTable(o.table);
  if (!t.ok()) return Fail(t.status());
  const catalog::TableMetadata& table = **t;
  int64_t snap = o.snapshot >= 0 ? o.snapshot : table.current_snapshot_id;
  Schema schema = table.schema();
  std::vector<catalog::DataFile> files;
  if (o.snapshot >= 0 || snap != 0) {
    auto f = lake->catalog->ListFiles(table, snap);
    if (!f.ok()) return Fail(f.status());
    files = std::move(*f);
    if (const catalog::SnapshotInfo* s = table.FindSnapshot(snap))
      if (const catalog::SchemaVersion* sv = table.FindSchema(s->schema_id)) schema = sv->schema;
  }
  if (o.format == "json") {
    std::printf("%s\n", catalog::DescribeJson(table, schema, files, snap).c_str());
  } else {
    std::fputs(catalog::DescribeText(table, schema, files, snap).c_str(), stdout);
  }
  return 0;
}

struct DdlOpts {
  std::string table;
  std::string dialect;
  std::string location_uri;
};

int RunExportDdl(const Context& ctx, const DdlOpts& o) {
  auto lake = OpenCatalog(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto dialect = catalog::ParseDdlDialect(o.dialect);
  if (!dialect.ok()) return Fail(dialect.status());
  auto t = lake->catalog->LoadTable(o.table);
  if (!t.ok()) return Fail(t.status());
  std::string base = o.location_uri.empty() ? lake->store->uri() : o.location_uri;
  std::fputs(catalog::ExportDdl(**t, base, *dialect).c_str(), stdout);
  return 0;
}

int RunSnapshots(const Context& ctx, const std::string& name) {
  auto lake = OpenCatalog(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto t = lake->catalog->LoadTable(name);
  if (!t.ok()) return Fail(t.status());
  std::printf("%8s  %8s  %-19s  %-9s  %6s  %6s  %6s  %10s\n", "snapshot", "parent", "time (UTC)",
              "operation", "+files", "-files", "files", "rows");
  for (const catalog::SnapshotInfo& s : (*t)->snapshots) {
    std::string when = FormatTimestamp(s.timestamp_ms * 1000).substr(0, 19);
    std::printf("%8lld  %8lld  %-19s  %-9s  %6lld  %6lld  %6lld  %10lld%s\n",
                static_cast<long long>(s.id), static_cast<long long>(s.parent_id), when.c_str(),
                s.operation.c_str(), static_cast<long long>(s.added_files),
                static_cast<long long>(s.removed_files), static_cast<long long>(s.total_files),
                static_cast<long long>(s.total_rows),
                s.id == (*t)->current_snapshot_id ? "  (current)" : "");
  }
  return 0;
}

int RunExpire(const Context& ctx, const std::string& name) {
  auto lake = OpenCatalog(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto before = lake->catalog->LoadTable(name);
  if (!before.ok()) return Fail(before.status());
  auto r = lake->catalog->ExpireSnapshots(name);
  if (!r.ok()) return Fail(r.status());
  size_t dropped = (*before)->snapshots.size() > r->metadata->snapshots.size()
                       ? (*before)->snapshots.size() - r->metadata->snapshots.size()
                       : 0;
  std::printf("table %s: %zu snapshot(s) expired, %zu kept\n", name.c_str(), dropped,
              r->metadata->snapshots.size());
  return 0;
}

void Register(CLI::App& root, Context& ctx) {
  auto crawler = std::make_shared<std::string>();
  auto* crawl = root.add_subcommand("crawl", "Discover files, schemas and partitions into the catalog (crawlers in pipeline.yaml)");
  crawl->add_option("--crawler", *crawler, "Run only this crawler (default: all)");
  crawl->callback([&ctx, crawler] { ctx.action = [&ctx, crawler] { return RunCrawl(ctx, *crawler); }; });

  auto tables_format = std::make_shared<std::string>("table");
  auto* tables = root.add_subcommand("tables", "List the catalog's tables");
  tables->add_option("--format", *tables_format, "table | json")->check(CLI::IsMember({"table", "text", "json"}));
  tables->callback([&ctx, tables_format] {
    ctx.action = [&ctx, tables_format] { return RunTables(ctx, *tables_format); };
  });

  auto dopts = std::make_shared<DescribeOpts>();
  auto* describe = root.add_subcommand("describe", "Show a table's schema, files and partitions");
  describe->add_option("table", dopts->table, "Table name")->required();
  describe->add_option("--format", dopts->format, "text | json")->check(CLI::IsMember({"text", "table", "json"}));
  describe->add_option("--snapshot", dopts->snapshot, "Describe this snapshot id (time travel)")
      ->check(CLI::NonNegativeNumber);
  describe->callback([&ctx, dopts] { ctx.action = [&ctx, dopts] { return RunDescribe(ctx, *dopts); }; });

  auto* cat = root.add_subcommand("catalog", "Catalog tools: export-ddl, snapshots, expire");
  cat->require_subcommand(1);
  auto ddl = std::make_shared<DdlOpts>();
  auto* export_ddl = cat->add_subcommand("export-ddl", "Print CREATE TABLE for Athena, Trino or Hive over the same files");
  export_ddl->add_option("table", ddl->table, "Table name")->required();
  export_ddl->add_option("--dialect", ddl->dialect, "athena | trino | hive")
      ->required()
      ->check(CLI::IsMember({"athena", "trino", "hive"}, CLI::ignore_case));
  export_ddl->add_option("--location-uri", ddl->location_uri,
                         "Where the lake is seen by the engine, e.g. s3://bucket/lake (default: the lake's path)");
  export_ddl->callback([&ctx, ddl] { ctx.action = [&ctx, ddl] { return RunExportDdl(ctx, *ddl); }; });

  auto snap_table = std::make_shared<std::string>();
  auto* snaps = cat->add_subcommand("snapshots", "List a table's retained snapshots (for time travel)");
  snaps->add_option("table", *snap_table, "Table name")->required();
  snaps->callback([&ctx, snap_table] { ctx.action = [&ctx, snap_table] { return RunSnapshots(ctx, *snap_table); }; });

  auto exp_table = std::make_shared<std::string>();
  auto* expire = cat->add_subcommand("expire", "Drop snapshots past the table's retention now");
  expire->add_option("table", *exp_table, "Table name")->required();
  expire->callback([&ctx, exp_table] { ctx.action = [&ctx, exp_table] { return RunExpire(ctx, *exp_table); }; });
}

const CommandRegistrar kRegistrar(30, &Register);

}  // namespace
}  // namespace saleslake::cli
