#include "sql/sql.h"

#include <algorithm>
#include <cctype>

#include "sql/exec/executor.h"
#include "sql/functions/functions.h"
#include "sql/internal/system_catalog.h"

namespace saleslake::sql {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

namespace {

// "lake.system.queries" -> "system.queries": the catalog in front is optional.
std::string Unqualified(const std::string& qualified_name) {
  std::string name = Lower(qualified_name);
  if (name.rfind("lake.", 0) == 0) name = name.substr(5);
  return name;
}

}  // namespace

bool SystemTables::IsSystemName(const std::string& qualified_name) {
  std::string name = Unqualified(qualified_name);
  return name.rfind("system.", 0) == 0 || name.rfind("information_schema.", 0) == 0;
}

Status SystemTables::Register(const std::string& name, Schema schema, SystemTableProducer rows) {
  std::string key = Lower(name);
  if (!IsSystemName(key) || key.rfind("lake.", 0) == 0 || schema.size() == 0) {
    return Status::InvalidArgument("a system table is named system.<name> or information_schema.<name> and has columns");
  }
  MutexLock lock(mu_);
  if (tables_.count(key)) return Status::AlreadyExists("system table " + key + " exists");
  tables_[key] = Entry{key, std::move(schema), std::move(rows)};
  return Status::OK();
}

void SystemTables::Unregister(const std::string& name) {
  MutexLock lock(mu_);
  tables_.erase(Lower(name));
}

std::vector<std::string> SystemTables::Names() const {
  MutexLock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, e] : tables_) out.push_back(name);
  return out;
}

std::optional<SystemTables::Entry> SystemTables::Find(const std::string& qualified_name) const {
  std::string name = Unqualified(qualified_name);
  MutexLock lock(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) return std::nullopt;
  return it->second;
}

namespace internal {
namespace {

class SystemTablesCatalog final : public Catalog {
 public:
  SystemTablesCatalog(std::shared_ptr<const Catalog> base, std::shared_ptr<const SystemTables> tables)
      : base_(std::move(base)), tables_(std::move(tables)) {}

  Result<std::shared_ptr<const Table>> GetTable(const std::string& name) const override {
    auto entry = tables_->Find(name);
    if (!entry) {
      if (SystemTables::IsSystemName(name)) return Status::NotFound("table '" + name + "' not found");
      return base_->GetTable(name);
    }
    SL_ASSIGN_OR_RETURN(SystemTableRows rows, entry->rows());
    const Schema& schema = entry->schema;
    Batch batch;
    batch.num_rows = rows.size();
    for (size_t c = 0; c < schema.size(); ++c) {
      ColumnVector col(schema[c].type, std::max<size_t>(rows.size(), 1));
      col.Resize(rows.size());
      for (size_t r = 0; r < rows.size(); ++r) {
        if (rows[r].size() != schema.size()) {
          return Status::Internal(entry->name + ": a row has " + std::to_string(rows[r].size()) +
                                  " values for " + std::to_string(schema.size()) + " columns");
        }
        const Value& v = rows[r][c];
        if (v.is_null()) {
          col.SetNull(r);
        } else if (v.type() != schema[c].type) {
          return Status::Internal(entry->name + ": column " + schema[c].name + " holds a value of another type");
        } else {
          SetValueAt(col, r, v);
        }
      }
      batch.columns.push_back(std::move(col));
    }
    std::vector<Batch> batches;
    batches.push_back(std::move(batch));
    return std::shared_ptr<const Table>(MemoryTable::Make(entry->name, schema, std::move(batches)));
  }

  std::optional<ViewDefinition> GetView(const std::string& name) const override {
    if (tables_->Find(name)) return std::nullopt;  // a system table shadows nothing and is no view
    return base_->GetView(name);
  }

  std::vector<std::string> ListTables() const override { return base_->ListTables(); }

 private:
  std::shared_ptr<const Catalog> base_;
  std::shared_ptr<const SystemTables> tables_;
};

}  // namespace

std::shared_ptr<const Catalog> WithSystemTables(std::shared_ptr<const Catalog> base,
                                                std::shared_ptr<const SystemTables> tables) {
  return std::make_shared<SystemTablesCatalog>(std::move(base), std::move(tables));
}

}  // namespace internal
}  // namespace saleslake::sql
