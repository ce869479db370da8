#include "sql/sql.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "io/s3_store.h"
#include "sql/exec/executor.h"
#include "sql/exec/lake_catalog.h"
#include "sql/internal/matview.h"
#include "sql/internal/system_catalog.h"
#include "sql/optimizer/optimizer.h"
#include "sql/parser/parser.h"
#include "sql/planner/binder.h"

namespace saleslake::sql {

namespace {

std::string JoinName(const std::vector<std::string>& parts) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? "." : "") + parts[i];
  return s;
}

MaterializedResult TextResult(const std::vector<std::string>& names, const std::vector<std::vector<std::string>>& rows) {
  MaterializedResult r;
  Batch b;
  b.num_rows = rows.size();
  for (size_t c = 0; c < names.size(); ++c) {
    r.schema.fields.push_back(Field{names[c], DataType::Varchar(), true});
    ColumnVector col(DataType::Varchar(), std::max<size_t>(rows.size(), 1));
    col.Resize(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) col.SetString(i, rows[i][c]);
    b.columns.push_back(std::move(col));
  }
  r.batches.push_back(std::move(b));
  return r;
}

// Binds through `base` and notes what the statement reads, for QueryResult::reuse_key: every
// table with the snapshot and schema it is bound to, and every view with its text (a redefined
// view changes the answer without touching a table). A table without a snapshot (a system
// table, whose rows are made at each read) makes the answer not reusable. One bind at a time.
class ReadRecorder final : public Catalog {
 public:
  explicit ReadRecorder(const Catalog& base) : base_(base) {}

  Result<std::shared_ptr<const Table>> GetTable(const std::string& name) const override {
    auto t = base_.GetTable(name);
    if (t.ok()) {
      const Table& table = **t;
      if (table.snapshot_id() < 0) reusable_ = false;
      std::string read = fmt::format("table {} snapshot {}:", table.name(), table.snapshot_id());
      for (const Field& f : table.schema().fields) read += " " + f.name + " " + f.type.ToString();
      reads_.insert(std::move(read));
    }
    return t;
  }
  std::optional<ViewDefinition> GetView(const std::string& name) const override {
    auto view = base_.GetView(name);
    if (view) reads_.insert("view " + name + ": " + view->sql);
    return view;
  }
  std::vector<std::string> ListTables() const override { return base_.ListTables(); }

  std::string Key() const {
    if (!reusable_) return "";
    std::string key = "reads";  // never empty for a query, also one that reads no table
    for (const std::string& r : reads_) key += "\n" + r;
    return key;
  }

 private:
  const Catalog& base_;
  mutable std::set<std::string> reads_;
  mutable bool reusable_ = true;
};

bool LikeSimple(std::string_view s, std::string_view p) {
  // SHOW TABLES LIKE: % and _ only.
  if (p.empty()) return s.empty();
  if (p[0] == '%') {
    for (size_t i = 0; i <= s.size(); ++i)
      if (LikeSimple(s.substr(i), p.substr(1))) return true;
    return false;
  }
  if (s.empty()) return false;
  if (p[0] == '_' || p[0] == s[0]) return LikeSimple(s.substr(1), p.substr(1));
  return false;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// (catalog, schema) pairs, sorted, as information_schema.schemata lists them. The engine knows
// no catalog or schema names of its own: the module that registers information_schema (the
// server) decides them, as Trino answers SHOW CATALOGS/SCHEMAS from its metadata tables.
Result<std::vector<std::pair<std::string, std::string>>> Schemata(const SystemTables* tables, SourcePos pos) {
  std::optional<SystemTables::Entry> entry;
  if (tables) entry = tables->Find("information_schema.schemata");
  if (!entry || entry->schema.size() < 2)
    return Status::NotImplemented("line " + pos.ToString() +
                                  ": SHOW CATALOGS/SCHEMAS need information_schema.schemata (saleslake serve has it)");
  SL_ASSIGN_OR_RETURN(SystemTableRows rows, entry->rows());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& row : rows) {
    if (row.size() < 2 || row[0].is_null() || row[1].is_null()) continue;
    out.emplace_back(row[0].ToString(), row[1].ToString());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool HasCatalog(const std::vector<std::pair<std::string, std::string>>& schemata, const std::string& name) {
  for (const auto& s : schemata)
    if (IEquals(s.first, name)) return true;
  return false;
}

// SHOW TABLES FROM [catalog.]schema: the system tables of `system`/`information_schema`, else
// the lake's tables (its one schema; the name is checked against information_schema.schemata
// when that is registered).
Result<std::vector<std::string>> TablesOfSchema(const std::vector<std::string>& name, const EngineOptions& options,
                                                SourcePos pos) {
  const std::string& schema = name.back();
  auto schemata = Schemata(options.system_tables.get(), pos);
  if (schemata.ok()) {
    if (name.size() == 2 && !HasCatalog(*schemata, name[0]))
      return Status::NotFound("line " + pos.ToString() + ": Catalog '" + name[0] + "' does not exist");
    bool found = false;
    for (const auto& s : *schemata)
      if ((name.size() == 1 || IEquals(s.first, name[0])) && IEquals(s.second, schema)) found = true;
    if (!found) return Status::NotFound("line " + pos.ToString() + ": Schema '" + schema + "' does not exist");
  }
  if (!IEquals(schema, "system") && !IEquals(schema, "information_schema")) return options.catalog->ListTables();
  std::vector<std::string> names;
  if (!options.system_tables) return names;
  std::string prefix = schema + ".";
  for (char& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& full : options.system_tables->Names()) {
    if (full.rfind(prefix, 0) != 0) continue;
    std::string rest = full.substr(prefix.size());
    if (rest.find('.') == std::string::npos) names.push_back(rest);
  }
  return names;
}

std::string PropertyText(const AstExpr& e) {
  if (e.kind == AstKind::kLiteral) return e.text;
  if (e.kind == AstKind::kFunction && e.text == "array") {
    std::string s;
    for (size_t i = 0; i < e.args.size(); ++i) s += (i ? "," : "") + PropertyText(*e.args[i]);
    return s;
  }
  if (e.kind == AstKind::kColumn) return e.names.back();
  return "";
}

// The SELECT text after "AS" of a CREATE [MATERIALIZED] VIEW.
std::string QueryText(std::string_view sql, const Statement& st) {
  std::string text(sql);
  size_t q = st.query->pos.line == 1 ? st.query->pos.column - 1 : 0;
  if (st.query->pos.line != 1) {
    size_t line = 1;
    for (size_t i = 0; i < text.size(); ++i) {
      if (line == st.query->pos.line) {
        q = i + st.query->pos.column - 1;
        break;
      }
      if (text[i] == '\n') ++line;
    }
  }
  std::string body = text.substr(std::min(q, text.size()));
  while (!body.empty() && (body.back() == ';' || std::isspace(static_cast<unsigned char>(body.back())))) body.pop_back();
  return body;
}

internal::MatViewContext MatViewCtx(io::ObjectStore* store, catalog::Catalog* lake, const EngineOptions& o) {
  internal::MatViewContext ctx;
  ctx.store = store;
  ctx.lake = lake;
  ctx.catalog = o.catalog.get();
  ctx.exec = o.exec;
  ctx.max_staleness_ms = o.materialized_view_max_staleness_ms;
  return ctx;
}

// The context of a query's rewrite by materialized views, made before the query is bound: on a
// remote lake the listing of the views goes out now, alongside the binding's catalog requests.
internal::MatViewContext RewriteContext(io::ObjectStore* store, catalog::Catalog* lake, const EngineOptions& o) {
  internal::MatViewContext ctx = MatViewCtx(store, lake, o);
  if (store != nullptr && lake != nullptr && o.use_materialized_views && io::IsS3Uri(store->uri()))
    ctx.markers = internal::StartListingViews(store);
  return ctx;
}

}  // namespace

Result<std::vector<std::string>> RefreshOnCommitViews(io::ObjectStore* store, catalog::Catalog* catalog,
                                                      std::string_view table) {
  EngineOptions o;
  SL_ASSIGN_OR_RETURN(o.catalog, OpenLakeCatalog(store, catalog));
  return internal::RefreshOnCommit(MatViewCtx(store, catalog, o), std::string(table));
}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(EngineOptions options) {
  if (!options.catalog) return Status::InvalidArgument("sql::Engine needs a catalog");
  if (options.system_tables) options.catalog = internal::WithSystemTables(options.catalog, options.system_tables);
  return std::unique_ptr<Engine>(new Engine(std::move(options)));
}

Result<std::unique_ptr<Engine>> Engine::OpenLake(io::ObjectStore* store, catalog::Catalog* catalog,
                                                 EngineOptions options) {
  SL_ASSIGN_OR_RETURN(options.catalog, OpenLakeCatalog(store, catalog));
  options.writer = MakeLakeCatalogWriter(store, catalog);
  SL_ASSIGN_OR_RETURN(auto engine, Open(std::move(options)));
  engine->store_ = store;
  engine->lake_ = catalog;
  return engine;
}

Status Engine::CreateTable(const std::string& name, const Schema& schema,
                           const std::vector<Batch>& data,
                           const std::vector<std::pair<std::string, std::string>>& properties) const {
  if (!options_.writer) return Status::NotImplemented("CREATE TABLE needs a writable catalog");
  return options_.writer->CreateTable(name, schema, data, properties, /*if_not_exists=*/false);
}

Status Engine::InsertInto(const std::string& name, const Schema& schema,
                          const std::vector<Batch>& data) const {
  if (!options_.writer) return Status::NotImplemented("INSERT needs a writable catalog");
  return options_.writer->InsertInto(name, schema, data);
}

Result<StatementResult> Engine::Execute(std::string_view sql) const {
  auto t0 = std::chrono::steady_clock::now();
  SL_ASSIGN_OR_RETURN(auto st, ParseStatement(sql));
  StatementResult out;
  std::vector<std::string> mv_notes;  // EXPLAIN: which materialized view answered, and why not others
  auto plan_query = [&](const sql::Query& q) -> Result<PlanPtr> {
    internal::MatViewContext mv = RewriteContext(store_, lake_, options_);
    SL_ASSIGN_OR_RETURN(PlanPtr plan, BindQuery(q, *options_.catalog));
    if (lake_ && options_.use_materialized_views) {
      SL_ASSIGN_OR_RETURN(plan, internal::RewriteWithMaterializedViews(mv, plan, &mv_notes));
    }
    if (options_.optimize) {
      SL_ASSIGN_OR_RETURN(plan, Optimize(plan));
    }
    return plan;
  };
  switch (st->kind) {
    case Statement::Kind::kQuery: {
      SL_ASSIGN_OR_RETURN(PlanPtr plan, plan_query(*st->query));
      SL_ASSIGN_OR_RETURN(out.result, ExecutePlan(plan, options_.exec));
      break;
    }
    case Statement::Kind::kExplain: {
      SL_ASSIGN_OR_RETURN(PlanPtr plan, plan_query(*st->query));
      std::vector<std::vector<std::string>> rows;
      if (!st->analyze) {
        std::string text = ExplainPlan(*plan);
        size_t pos = 0;
        while (pos < text.size()) {
          size_t nl = text.find('\n', pos);
          rows.push_back({text.substr(pos, nl - pos)});
          pos = nl + 1;
        }
        for (const auto& n : mv_notes) rows.push_back({n});
      } else {
        ExecOptions opts = options_.exec;
        opts.collect_stats = true;
        ExecStats stats;
        auto t1 = std::chrono::steady_clock::now();
        SL_ASSIGN_OR_RETURN(MaterializedResult r, ExecutePlan(plan, opts, &stats));
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        for (const auto& op : stats.operators) {
          std::string line = std::string(static_cast<size_t>(op.depth) * 2, ' ') + "- " + op.name +
                             fmt::format("  (rows: {}, time: {:.3f} ms", op.rows_out, op.seconds * 1e3);
          if (op.morsels_read || op.morsels_skipped)
            line += fmt::format(", files read: {}, skipped: {}", op.morsels_read, op.morsels_skipped);
          if (op.row_groups_read || op.row_groups_skipped)
            line += fmt::format(", row groups read: {}, skipped: {}", op.row_groups_read, op.row_groups_skipped);
          if (op.batches_skipped)
            line += fmt::format(", batches skipped by filters: {}", op.batches_skipped);
          if (op.spill_partitions)
            line += fmt::format(", spilled: {} partitions, {} KB", op.spill_partitions, op.spill_bytes / 1024);
          if (op.build_bytes) line += fmt::format(", build: {} KB", op.build_bytes / 1024);
          line += ")";
          rows.push_back({line});
        }
        rows.push_back({fmt::format("total: {} rows in {:.3f} ms, peak memory {} KB", r.num_rows(),
                                    secs * 1e3, stats.peak_memory_bytes / 1024)});
      }
      out.result = TextResult({"Query Plan"}, rows);
      break;
    }
    case Statement::Kind::kShowCatalogs:
    case Statement::Kind::kShowSchemas: {
      SL_ASSIGN_OR_RETURN(auto schemata, Schemata(options_.system_tables.get(), st->pos));
      std::vector<std::vector<std::string>> rows;
      const bool catalogs = st->kind == Statement::Kind::kShowCatalogs;
      if (!catalogs && !st->name.empty() && !HasCatalog(schemata, st->name[0]))
        return Status::NotFound("line " + st->pos.ToString() + ": Catalog '" + st->name[0] + "' does not exist");
      for (const auto& [catalog, schema] : schemata) {
        if (!catalogs && !st->name.empty() && !IEquals(catalog, st->name[0])) continue;
        const std::string& shown = catalogs ? catalog : schema;
        if (!st->like_pattern.empty() && !LikeSimple(shown, st->like_pattern)) continue;
        if (rows.empty() || rows.back()[0] != shown) rows.push_back({shown});
      }
      out.result = TextResult({catalogs ? "Catalog" : "Schema"}, rows);
      break;
    }
    case Statement::Kind::kShowTables: {
      std::vector<std::string> names;
      if (st->name.empty()) {
        names = options_.catalog->ListTables();
      } else {
        SL_ASSIGN_OR_RETURN(names, TablesOfSchema(st->name, options_, st->pos));
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& t : names)
        if (st->like_pattern.empty() || LikeSimple(t, st->like_pattern)) rows.push_back({t});
      out.result = TextResult({"Table"}, rows);
      break;
    }
    case Statement::Kind::kShowColumns: {
      std::string name = JoinName(st->name);
      Schema schema;
      // Trino's columns: Extra says "partition key" for a Hive partition column, Comment is the
      // catalog's column comment (ColumnCommentProperty), both '' when there is none.
      std::shared_ptr<const catalog::TableMetadata> meta;
      if (auto view = options_.catalog->GetView(name)) {
        SL_ASSIGN_OR_RETURN(auto vs, ParseStatement(view->sql));
        if (!vs->query) return Status::InvalidArgument("view '" + name + "' is not a query");
        SL_ASSIGN_OR_RETURN(PlanPtr plan, BindQuery(*vs->query, *options_.catalog));
        schema = OutputSchema(*plan);
      } else {
        auto t = options_.catalog->GetTable(name);
        if (!t.ok())
          return Status::NotFound("line " + st->pos.ToString() + ": table '" + name + "' not found");
        schema = (*t)->schema();
        if (lake_ && (*t)->snapshot_id() >= 0) {
          if (auto loaded = lake_->LoadTable((*t)->name()); loaded.ok()) meta = *loaded;
        }
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& f : schema.fields) {
        std::string type = f.type.ToString();
        for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string extra, comment;
        if (meta) {
          const auto& keys = meta->spec.partition_keys;
          if (std::any_of(keys.begin(), keys.end(), [&](const std::string& k) { return IEquals(k, f.name); }))
            extra = "partition key";
          auto it = meta->spec.properties.find(catalog::ColumnCommentProperty(f.name));
          if (it != meta->spec.properties.end()) comment = it->second;
        }
        rows.push_back({f.name, type, extra, comment});
      }
      out.result = TextResult({"Column", "Type", "Extra", "Comment"}, rows);
      break;
    }
    case Statement::Kind::kCreateView: {
      if (!options_.writer) return Status::NotImplemented("CREATE VIEW needs a writable catalog");
      // Validate the view now so that a broken view is never stored.
      SL_RETURN_IF_ERROR(plan_query(*st->query).status());
      SL_RETURN_IF_ERROR(options_.writer->CreateView(JoinName(st->name), QueryText(sql, *st), st->or_replace));
      out.has_rows = false;
      out.message = "CREATE VIEW";
      break;
    }
    case Statement::Kind::kCreateMatView:
    case Statement::Kind::kRefreshMatView:
    case Statement::Kind::kDropMatView:
    case Statement::Kind::kShowMatViews:
    case Statement::Kind::kExplainRefresh: {
      if (!lake_) return Status::NotImplemented("materialized views need a lake engine (Engine::OpenLake)");
      auto ctx = MatViewCtx(store_, lake_, options_);
      std::string name = JoinName(st->name);
      out.has_rows = false;
      if (st->kind == Statement::Kind::kCreateMatView) {
        std::vector<std::pair<std::string, std::string>> props;
        for (const auto& [k, v] : st->properties) props.emplace_back(k, PropertyText(*v));
        SL_ASSIGN_OR_RETURN(out.message, internal::CreateMaterializedView(ctx, name, QueryText(sql, *st), props,
                                                                          st->if_not_exists));
      } else if (st->kind == Statement::Kind::kRefreshMatView) {
        SL_ASSIGN_OR_RETURN(out.message, internal::RefreshMaterializedView(ctx, name, st->full));
      } else if (st->kind == Statement::Kind::kDropMatView) {
        SL_RETURN_IF_ERROR(internal::DropMaterializedView(ctx, name, st->if_exists));
        out.message = "DROP MATERIALIZED VIEW";
      } else if (st->kind == Statement::Kind::kShowMatViews) {
        SL_ASSIGN_OR_RETURN(auto shown, internal::ShowMaterializedViews(ctx));
        out.result = TextResult(shown.first, shown.second);
        out.has_rows = true;
      } else {
        SL_ASSIGN_OR_RETURN(auto lines, internal::ExplainRefresh(ctx, name));
        std::vector<std::vector<std::string>> rows;
        for (auto& l : lines) rows.push_back({l});
        out.result = TextResult({"Refresh Plan"}, rows);
        out.has_rows = true;
      }
      break;
    }
    case Statement::Kind::kDropView:
    case Statement::Kind::kDropTable: {
      if (!options_.writer) return Status::NotImplemented("DROP needs a writable catalog");
      if (lake_) {
        auto ctx = MatViewCtx(store_, lake_, options_);
        std::string name = JoinName(st->name);
        if (internal::IsMaterializedView(ctx, name))
          return Status::InvalidArgument("'" + name + "' is a materialized view: use DROP MATERIALIZED VIEW");
        if (st->kind == Statement::Kind::kDropTable) {
          SL_ASSIGN_OR_RETURN(auto deps, internal::DependentViews(ctx, name));
          if (!deps.empty()) {
            std::string list;
            for (const auto& d : deps) list += (list.empty() ? "" : ", ") + d;
            return Status::InvalidArgument("cannot drop table '" + name + "': materialized views depend on it (" +
                                           list + "); drop them first");
          }
        }
      }
      if (st->kind == Statement::Kind::kDropView) {
        SL_RETURN_IF_ERROR(options_.writer->DropView(JoinName(st->name), st->if_exists));
        out.message = "DROP VIEW";
      } else {
        SL_RETURN_IF_ERROR(options_.writer->DropTable(JoinName(st->name), st->if_exists));
        out.message = "DROP TABLE";
      }
      out.has_rows = false;
      break;
    }
    case Statement::Kind::kCreateTableAs:
    case Statement::Kind::kInsert: {
      if (!options_.writer) return Status::NotImplemented("CREATE TABLE AS and INSERT need a writable catalog");
      SL_ASSIGN_OR_RETURN(PlanPtr plan, plan_query(*st->query));
      SL_ASSIGN_OR_RETURN(MaterializedResult data, ExecutePlan(plan, options_.exec));
      size_t rows = data.num_rows();
      if (st->kind == Statement::Kind::kCreateTableAs) {
        std::vector<std::pair<std::string, std::string>> props;
        for (const auto& [k, v] : st->properties) props.emplace_back(k, PropertyText(*v));
        SL_RETURN_IF_ERROR(options_.writer->CreateTable(JoinName(st->name), data.schema, data.batches, props, st->if_not_exists));
        out.message = fmt::format("CREATE TABLE: {} rows", rows);
      } else {
        std::string name = JoinName(st->name);
        auto t = options_.catalog->GetTable(name);
        if (!t.ok()) return Status::NotFound("line " + st->pos.ToString() + ": table '" + name + "' not found");
        const Schema& target = (*t)->schema();
        // Map the query's columns onto the table's (by the column list, else by position).
        std::vector<int> target_of;
        if (st->insert_columns.empty()) {
          if (data.schema.size() != target.size())
            return Status::InvalidArgument(fmt::format("INSERT has {} columns but table '{}' has {}",
                                                       data.schema.size(), name, target.size()));
          for (size_t i = 0; i < target.size(); ++i) target_of.push_back(static_cast<int>(i));
        } else {
          if (st->insert_columns.size() != data.schema.size())
            return Status::InvalidArgument("INSERT column list and query have different widths");
          for (const auto& c : st->insert_columns) {
            auto f = target.FindField(c);
            if (!f) return Status::NotFound("INSERT: column '" + c + "' is not in table '" + name + "'");
            target_of.push_back(static_cast<int>(*f));
          }
        }
        MaterializedResult shaped;
        shaped.schema = target;
        for (const auto& b : data.batches) {
          Batch nb;
          nb.num_rows = b.num_rows;
          for (size_t c = 0; c < target.size(); ++c) {
            ColumnVector col(target[c].type, std::max<size_t>(b.num_rows, 1));
            col.Resize(b.num_rows);
            auto it = std::find(target_of.begin(), target_of.end(), static_cast<int>(c));
            if (it == target_of.end()) {
              for (size_t i = 0; i < b.num_rows; ++i) col.SetNull(i);
            } else {
              const ColumnVector& src = b.columns[static_cast<size_t>(it - target_of.begin())];
              SL_RETURN_IF_ERROR(CastVector(src, target[c].type, b.num_rows, col, false));
            }
            nb.columns.push_back(std::move(col));
          }
          shaped.batches.push_back(std::move(nb));
        }
        SL_RETURN_IF_ERROR(options_.writer->InsertInto(name, shaped.schema, shaped.batches));
        out.message = fmt::format("INSERT: {} rows", rows);
        if (lake_) {  // views with refresh = 'on_commit' follow the commit
          SL_ASSIGN_OR_RETURN(auto refreshed, internal::RefreshOnCommit(MatViewCtx(store_, lake_, options_), name));
          for (const auto& r : refreshed) out.message += "; " + r;
        }
      }
      out.has_rows = false;
      break;
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

Result<std::vector<StatementResult>> Engine::ExecuteScript(std::string_view sql) const {
  // Split on ';' outside quotes and comments, then run each piece (positions stay per piece).
  std::vector<StatementResult> out;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      cur.push_back(c);
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      cur.push_back(c);
      continue;
    }
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;
      cur.push_back('\n');
      continue;
    }
    if (c == ';') {
      bool blank = cur.find_first_not_of(" \t\r\n") == std::string::npos;
      if (!blank) {
        SL_ASSIGN_OR_RETURN(StatementResult r, Execute(cur));
        out.push_back(std::move(r));
      }
      cur.clear();
      continue;
    }
    cur.push_back(c);
  }
  if (cur.find_first_not_of(" \t\r\n") != std::string::npos) {
    SL_ASSIGN_OR_RETURN(StatementResult r, Execute(cur));
    out.push_back(std::move(r));
  }
  return out;
}

// ---------------------------------------------------------------- QueryResult

struct QueryResult::State {
  Schema schema;
  std::string message;
  PlanPtr plan;        // null once run (or for statements run by Engine::Query)
  std::string reuse_key;  // see QueryResult::reuse_key
  ExecOptions exec;
  std::atomic<bool> cancelled{false};
  std::atomic<uint64_t> bytes_read{0};  // exec.bytes_read points here
  Status failed;       // sticky: every Next() after a failure returns it
  MaterializedResult rows;
  size_t next = 0;     // the first batch of `rows` not yet handed out
};

QueryResult::QueryResult(std::unique_ptr<State> state) : state_(std::move(state)) {}
QueryResult::~QueryResult() = default;

const Schema& QueryResult::schema() const { return state_->schema; }
const std::string& QueryResult::message() const { return state_->message; }
void QueryResult::Cancel() { state_->cancelled.store(true); }
uint64_t QueryResult::bytes_read() const { return state_->bytes_read.load(); }
const std::string& QueryResult::reuse_key() const { return state_->reuse_key; }
void QueryResult::LimitBytesRead(uint64_t max_bytes) { state_->exec.max_bytes_read = max_bytes; }
void QueryResult::LimitTime(std::chrono::milliseconds limit) {
  if (limit.count() > 0) state_->exec.timeout = limit;
}

Result<bool> QueryResult::Next(Batch* out) {
  State& s = *state_;
  if (!s.failed.ok()) return s.failed;
  if (s.cancelled.load()) {
    s.failed = Status::Cancelled("query cancelled");
    return s.failed;
  }
  if (s.plan) {
    auto rows = ExecutePlan(s.plan, s.exec, nullptr, &s.cancelled);
    s.plan.reset();
    if (!rows.ok()) {
      s.failed = rows.status();
      return s.failed;
    }
    s.rows = std::move(*rows);
  }
  while (s.next < s.rows.batches.size()) {
    Batch& b = s.rows.batches[s.next++];
    if (b.num_rows == 0) continue;
    *out = std::move(b);
    b = Batch();  // handed out: release what the move left behind
    return true;
  }
  return false;
}

Result<MaterializedResult> QueryResult::Materialize() {
  MaterializedResult all;
  all.schema = state_->schema;
  Batch b;
  while (true) {
    SL_ASSIGN_OR_RETURN(bool more, Next(&b));
    if (!more) break;
    all.batches.push_back(std::move(b));
  }
  return all;
}

Result<std::unique_ptr<QueryResult>> Engine::Query(std::string_view sql) const {
  auto state = std::make_unique<QueryResult::State>();
  SL_ASSIGN_OR_RETURN(auto st, ParseStatement(sql));
  if (st->kind == Statement::Kind::kQuery) {
    ReadRecorder reads(*options_.catalog);
    internal::MatViewContext mv = RewriteContext(store_, lake_, options_);
    SL_ASSIGN_OR_RETURN(PlanPtr plan, BindQuery(*st->query, reads));
    state->reuse_key = reads.Key();
    if (lake_ && options_.use_materialized_views) {
      SL_ASSIGN_OR_RETURN(plan, internal::RewriteWithMaterializedViews(mv, plan, nullptr));
    }
    if (options_.optimize) {
      SL_ASSIGN_OR_RETURN(plan, Optimize(plan));
    }
    state->schema = OutputSchema(*plan);
    state->plan = std::move(plan);
    state->exec = options_.exec;
    state->exec.bytes_read = &state->bytes_read;
  } else {
    SL_ASSIGN_OR_RETURN(StatementResult r, Execute(sql));
    state->message = std::move(r.message);
    if (r.has_rows) state->rows = std::move(r.result);
    state->schema = state->rows.schema;
  }
  return std::unique_ptr<QueryResult>(new QueryResult(std::move(state)));
}

std::vector<std::string> FunctionNames() { return AllFunctionNames(); }

bool IsReadOnlyStatement(std::string_view sql) {
  size_t i = 0;
  for (;;) {  // skip blanks, comments and opening parentheses
    while (i < sql.size() && (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(')) ++i;
    if (sql.substr(i, 2) == "--") {
      while (i < sql.size() && sql[i] != '\n') ++i;
    } else if (sql.substr(i, 2) == "/*") {
      size_t e = sql.find("*/", i + 2);
      i = e == std::string_view::npos ? sql.size() : e + 2;
    } else {
      break;
    }
  }
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i]))) {
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i++])));
  }
  // Statements that write are refused; anything else goes to the engine, whose parser reports
  // misspellings with their position.
  static const std::set<std::string> kWrite = {"create", "insert", "drop", "delete", "update", "alter", "merge",
                                               "grant", "revoke", "call", "set", "reset", "use", "truncate",
                                               "refresh", "analyze", "vacuum", "prepare", "execute", "deallocate",
                                               "start", "commit", "rollback", "comment"};
  return kWrite.count(word) == 0;
}

}  // namespace saleslake::sql
