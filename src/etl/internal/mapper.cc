#include "etl/internal/mapper.h"

#include <cctype>

#include "sql/sql.h"

namespace saleslake::etl::internal {
namespace {

constexpr const char* kSourceTable = "src";

std::string Quote(const std::string& name) {
  std::string q = "\"";
  for (char c : name) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// A bare identifier, optionally double-quoted: the expression names one source column.
std::optional<std::string> BareColumn(std::string_view expr) {
  while (!expr.empty() && std::isspace(static_cast<unsigned char>(expr.front()))) expr.remove_prefix(1);
  while (!expr.empty() && std::isspace(static_cast<unsigned char>(expr.back()))) expr.remove_suffix(1);
  if (expr.size() >= 2 && expr.front() == '"' && expr.back() == '"') {
    std::string_view inner = expr.substr(1, expr.size() - 2);
    if (inner.find('"') != std::string_view::npos) return std::nullopt;
    return std::string(inner);
  }
  if (expr.empty() || !(std::isalpha(static_cast<unsigned char>(expr[0])) || expr[0] == '_'))
    return std::nullopt;
  for (char c : expr)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return std::nullopt;
  return std::string(expr);
}

// Runs `sql` over one batch registered as table "src". The result's columns keep the input
// alive (their strings may point into it) and are flat.
Result<sql::QueryResult> RunOver(const Schema& schema, std::vector<Batch> batches, const std::string& sql_text) {
  auto catalog = std::make_shared<sql::MemoryCatalog>();
  catalog->AddTable(sql::MemoryTable::Make(kSourceTable, schema, std::move(batches), SIZE_MAX));
  // One thread: the mapper already runs inside the job's parallel morsels.
  SL_ASSIGN_OR_RETURN(auto engine, sql::Engine::Open({.catalog = catalog, .exec = {.max_threads = 1}}));
  SL_ASSIGN_OR_RETURN(sql::StatementResult r, engine->Execute(sql_text));
  for (Batch& b : r.result.batches) {
    for (ColumnVector& c : b.columns) {
      c.Flatten();
      if (c.type().id == TypeId::kVarchar) c.KeepAlive(catalog);
    }
  }
  return std::move(r.result);
}

}  // namespace

Mapper::~Mapper() = default;

Result<std::unique_ptr<Mapper>> Mapper::Make(
    const Schema& source, const std::vector<std::pair<std::string, std::string>>& columns,
    const std::vector<std::string>& passthrough) {
  std::unique_ptr<Mapper> m(new Mapper());
  m->source_ = source;
  std::vector<std::pair<std::string, std::string>> targets = columns;
  if (targets.empty()) {
    for (const Field& f : source.fields) {
      if (std::find(passthrough.begin(), passthrough.end(), f.name) == passthrough.end())
        targets.emplace_back(f.name, Quote(f.name));
    }
  }
  for (const std::string& p : passthrough) targets.emplace_back(p, Quote(p));

  bool identity = true;
  std::string select;
  for (const auto& [name, expr] : targets) {
    auto bare = BareColumn(expr);
    std::optional<size_t> idx = bare ? source.FindField(*bare) : std::nullopt;
    if (idx) m->identity_.push_back(*idx);
    else identity = false;
    select += (select.empty() ? "SELECT " : ", ") + expr + " AS " + Quote(name);
  }
  select += std::string(" FROM ") + kSourceTable;
  if (identity) {
    for (size_t i = 0; i < targets.size(); ++i)
      m->output_.fields.push_back({targets[i].first, source[m->identity_[i]].type, true});
    return m;
  }
  m->select_sql_ = select;
  // Bind every expression once on an empty batch, to report errors up front and learn the types.
  for (const auto& [name, expr] : targets) {
    auto r = RunOver(source, {}, "SELECT " + expr + " FROM " + kSourceTable);
    if (!r.ok()) return r.status().WithContext("column '" + name + "' = '" + expr + "'");
  }
  SL_ASSIGN_OR_RETURN(sql::QueryResult empty, RunOver(source, {}, select));
  m->output_ = empty.schema;
  for (size_t i = 0; i < targets.size(); ++i) m->output_.fields[i].name = targets[i].first;
  return m;
}

Status Mapper::Map(Batch&& in, Batch* out) const {
  if (select_sql_.empty()) {
    out->columns.clear();
    // Each source column moves to its (first) target; a column used twice is copied.
    std::vector<bool> moved(in.columns.size(), false);
    for (size_t idx : identity_) {
      ColumnVector& src = in.columns[idx];
      if (!moved[idx]) {
        out->columns.push_back(std::move(src));
        moved[idx] = true;
        continue;
      }
      const ColumnVector& first = out->columns[static_cast<size_t>(
          std::find(identity_.begin(), identity_.end(), idx) - identity_.begin())];
      ColumnVector copy(first.type(), std::max<size_t>(in.num_rows, 1));
      for (size_t r = 0; r < in.num_rows; ++r) copy.AppendFrom(first, r);
      out->columns.push_back(std::move(copy));
    }
    out->num_rows = in.num_rows;
    out->selection.reset();
    return Status::OK();
  }
  const size_t n = in.num_rows;
  std::vector<Batch> batches;
  batches.push_back(std::move(in));
  SL_ASSIGN_OR_RETURN(sql::QueryResult r, RunOver(source_, std::move(batches), select_sql_));
  if (r.num_rows() != n)
    return Status::Internal("column mapping returned " + std::to_string(r.num_rows()) + " rows for " + std::to_string(n));
  *out = r.batches.size() == 1 ? std::move(r.batches[0]) : sql::ConcatBatches(r.schema, r.batches);
  return Status::OK();
}

}  // namespace saleslake::etl::internal
