#include "sql/internal/system_tables.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

#include "sql/exec/executor.h"
#include "sql/sql.h"

namespace saleslake::sql {
namespace {

constexpr std::string_view kPrefix = "system.";

struct Entry {
  uint64_t id;
  std::string name;
  SystemTableFn rows;
};

struct Registry {
  std::mutex mu;
  uint64_t next_id = 1;
  std::vector<Entry> entries;  // later registrations shadow earlier ones of the same name
};

Registry& TheRegistry() {
  static Registry* r = new Registry();  // never destroyed: handles may outlive static teardown
  return *r;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

SystemTableFn Lookup(const std::string& name) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (auto it = r.entries.rbegin(); it != r.entries.rend(); ++it) {
    if (it->name == name) return it->rows;
  }
  return nullptr;
}

class SystemCatalog final : public Catalog {
 public:
  explicit SystemCatalog(std::shared_ptr<const Catalog> inner) : inner_(std::move(inner)) {}

  Result<std::shared_ptr<const Table>> GetTable(const std::string& name) const override {
    std::string lower = Lower(name);
    if (lower.rfind(kPrefix, 0) == 0) {
      std::string base = lower.substr(kPrefix.size());
      if (SystemTableFn fn = Lookup(base)) {
        SL_ASSIGN_OR_RETURN(SystemTableRows rows, fn());
        return std::shared_ptr<const Table>(
            MemoryTable::Make(std::string(kPrefix) + base, std::move(rows.schema), std::move(rows.batches)));
      }
      return Status::NotFound("table '" + name + "' not found (system tables: " +
                              [] {
                                std::string s;
                                for (const auto& n : SystemTableNames()) s += (s.empty() ? "" : ", ") + n;
                                return s.empty() ? std::string("none") : s;
                              }() +
                              ")");
    }
    return inner_->GetTable(name);
  }
  std::optional<ViewDefinition> GetView(const std::string& name) const override {
    if (Lower(name).rfind(kPrefix, 0) == 0) return std::nullopt;
    return inner_->GetView(name);
  }
  std::vector<std::string> ListTables() const override { return inner_->ListTables(); }

 private:
  std::shared_ptr<const Catalog> inner_;
};

}  // namespace

SystemTableHandle::~SystemTableHandle() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.entries.erase(std::remove_if(r.entries.begin(), r.entries.end(), [&](const Entry& e) { return e.id == id_; }),
                  r.entries.end());
}

std::unique_ptr<SystemTableHandle> RegisterSystemTable(const std::string& name, SystemTableFn rows) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  uint64_t id = r.next_id++;
  r.entries.push_back({id, Lower(name), std::move(rows)});
  return std::make_unique<SystemTableHandle>(id);
}

std::vector<std::string> SystemTableNames() {
  Registry& r = TheRegistry();
  std::vector<std::string> out;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    for (const auto& e : r.entries) out.push_back(std::string(kPrefix) + e.name);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace internal {

std::shared_ptr<const Catalog> WithSystemTables(std::shared_ptr<const Catalog> inner) {
  return std::make_shared<SystemCatalog>(std::move(inner));
}

}  // namespace internal
}  // namespace saleslake::sql
