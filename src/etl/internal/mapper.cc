#include "etl/internal/mapper.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "sql/expression.h"

namespace saleslake::etl::internal {
namespace {

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

}  // namespace

Mapper::~Mapper() = default;

Result<std::unique_ptr<Mapper>> Mapper::Make(
    const Schema& source, const std::vector<std::pair<std::string, std::string>>& columns,
    const std::vector<std::string>& passthrough) {
  std::unique_ptr<Mapper> m(new Mapper());
  std::vector<std::pair<std::string, std::string>> targets = columns;
  if (targets.empty()) {
    for (const Field& f : source.fields) {
      if (std::find(passthrough.begin(), passthrough.end(), f.name) == passthrough.end())
        targets.emplace_back(f.name, Quote(f.name));
    }
  }
  for (const std::string& p : passthrough) targets.emplace_back(p, Quote(p));

  // Compile everything first (errors up front, and to learn which columns expressions read).
  std::vector<std::pair<std::string, std::string>> exprs;
  std::vector<std::optional<size_t>> bare(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    auto name = BareColumn(targets[i].second);
    if (name) bare[i] = source.FindField(*name);
    if (!bare[i]) exprs.push_back(targets[i]);
  }
  std::vector<size_t> read;
  if (!exprs.empty()) {
    SL_ASSIGN_OR_RETURN(m->computed_, sql::CompiledExpressions::Compile(source, exprs));
    read = m->computed_->input_columns();
  }
  // A bare column moves when no expression reads it and no earlier target took it; otherwise
  // it is computed as a column reference (a copy).
  std::vector<bool> taken(source.size(), false);
  for (size_t i : read) taken[i] = true;
  exprs.clear();
  for (size_t i = 0; i < targets.size(); ++i) {
    if (bare[i] && !taken[*bare[i]]) {
      taken[*bare[i]] = true;
      m->move_from_.push_back(static_cast<int>(*bare[i]));
      m->output_.fields.push_back(Field{targets[i].first, source[*bare[i]].type, true});
    } else {
      m->move_from_.push_back(-1);
      exprs.push_back(targets[i]);
      m->output_.fields.push_back(Field{targets[i].first, DataType(), true});
    }
  }
  m->computed_.reset();
  if (!exprs.empty()) {
    SL_ASSIGN_OR_RETURN(m->computed_, sql::CompiledExpressions::Compile(source, exprs));
    size_t k = 0;
    for (size_t i = 0; i < targets.size(); ++i)
      if (m->move_from_[i] < 0) m->output_.fields[i].type = m->computed_->output_schema()[k++].type;
  }
  return m;
}

Status Mapper::Map(Batch&& in, Batch* out) const {
  if (in.selection) return Status::Internal("column mapping input has a selection");
  const size_t n = in.num_rows;
  out->columns.clear();
  out->columns.resize(move_from_.size());
  out->selection.reset();
  // Moved columns are never read by an expression, so they can leave `in` first.
  for (size_t i = 0; i < move_from_.size(); ++i)
    if (move_from_[i] >= 0) out->columns[i] = std::move(in.columns[static_cast<size_t>(move_from_[i])]);
  if (computed_) {
    Batch computed;
    SL_RETURN_IF_ERROR(computed_->Evaluate(std::make_shared<const Batch>(std::move(in)), &computed));
    size_t k = 0;
    for (size_t i = 0; i < move_from_.size(); ++i) {
      if (move_from_[i] >= 0) continue;
      ColumnVector& c = computed.columns[k++];
      c.Flatten();  // literals come back constant; the writers and PII steps want flat columns
      out->columns[i] = std::move(c);
    }
  }
  out->num_rows = n;
  return Status::OK();
}

}  // namespace saleslake::etl::internal
