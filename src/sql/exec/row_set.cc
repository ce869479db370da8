#include "sql/exec/row_set.h"

#include "sql/exec/internal/group_table.h"

namespace saleslake::sql {

namespace {

std::vector<const ColumnVector*> Columns(const Batch& b) {
  std::vector<const ColumnVector*> cols;
  cols.reserve(b.columns.size());
  for (const ColumnVector& c : b.columns) cols.push_back(&c);
  return cols;
}

}  // namespace

RowSet::RowSet(const std::vector<DataType>& types) : table_(std::make_unique<internal::GroupTable>(types)) {}

RowSet::~RowSet() = default;

void RowSet::Insert(const Batch& b, std::vector<uint32_t>& ids) { Insert(Columns(b), b.num_rows, ids); }

void RowSet::Find(const Batch& b, std::vector<uint32_t>& ids, std::vector<uint64_t>& hashes) const {
  Find(Columns(b), b.num_rows, ids, hashes);
}

void RowSet::Insert(const std::vector<const ColumnVector*>& cols, size_t n, std::vector<uint32_t>& ids) {
  ids.resize(n);
  if (n > 0) table_->FindOrInsert(cols, n, ids.data());
}

void RowSet::Find(const std::vector<const ColumnVector*>& cols, size_t n, std::vector<uint32_t>& ids,
                  std::vector<uint64_t>& hashes) const {
  ids.resize(n);
  if (n > 0) table_->Find(cols, n, ids.data(), hashes);
}

size_t RowSet::size() const { return table_->size(); }

}  // namespace saleslake::sql
