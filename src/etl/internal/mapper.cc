#include "etl/internal/mapper.h"

#include <cctype>
#include <cstring>

namespace saleslake::etl::internal {
namespace {

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

struct Mapper::Target {
  size_t source_column = 0;  // for copies
};

Mapper::Mapper(Schema output, std::vector<Target> targets)
    : output_(std::move(output)), targets_(std::move(targets)) {}
Mapper::~Mapper() = default;

Result<std::unique_ptr<Mapper>> Mapper::Make(
    const Schema& source, const std::vector<std::pair<std::string, std::string>>& columns) {
  Schema out;
  std::vector<Target> targets;
  if (columns.empty()) {
    for (size_t i = 0; i < source.size(); ++i) {
      out.fields.push_back(source[i]);
      targets.push_back({i});
    }
    return std::unique_ptr<Mapper>(new Mapper(std::move(out), std::move(targets)));
  }
  for (const auto& [name, expr] : columns) {
    auto bare = BareColumn(expr);
    if (!bare) {
      return Status::NotImplemented("column '" + name + "' = '" + expr +
                                    "': expressions need the SQL engine's evaluator, which this "
                                    "build does not have yet; map a source column by name");
    }
    auto idx = source.FindField(*bare);
    if (!idx) return Status::InvalidArgument("column '" + name + "' = '" + expr + "': no source column '" + *bare + "'");
    out.fields.push_back({name, source[*idx].type, true});
    targets.push_back({*idx});
  }
  return std::unique_ptr<Mapper>(new Mapper(std::move(out), std::move(targets)));
}

void ShallowCopy(const ColumnVector& src, size_t n, ColumnVector* dst) {
  dst->Reset();
  dst->Resize(n);
  if (src.encoding() != VectorEncoding::kFlat) {
    for (size_t i = 0; i < n; ++i) {  // rare: the reader produces flat vectors
      dst->Resize(i);
      dst->AppendFrom(src, i);
    }
    dst->Resize(n);
    return;
  }
  std::memcpy(dst->data<uint8_t>(), src.data<uint8_t>(), n * src.type().byte_width());
  if (const uint64_t* v = src.validity()) std::memcpy(dst->EnsureValidity(), v, (n + 63) / 64 * 8);
}

Status Mapper::Map(const Batch& in, Batch* out) const {
  const size_t n = in.num_rows;
  if (out->columns.size() != targets_.size()) *out = Batch(output_, std::max<size_t>(n, 1));
  for (size_t t = 0; t < targets_.size(); ++t) ShallowCopy(in.columns[targets_[t].source_column], n, &out->columns[t]);
  out->num_rows = n;
  out->selection.reset();
  return Status::OK();
}

}  // namespace saleslake::etl::internal
