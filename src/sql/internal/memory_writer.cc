#include "sql/internal/memory_writer.h"

#include <mutex>

namespace saleslake::sql {

namespace {

class MemoryWriter final : public CatalogWriter {
 public:
  explicit MemoryWriter(std::shared_ptr<MemoryCatalog> c) : c_(std::move(c)) {}
  Status CreateView(const std::string& name, const std::string& sql, bool or_replace) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!or_replace && (c_->GetView(name) || c_->GetTable(name).ok()))
      return Status::AlreadyExists("view '" + name + "' already exists");
    c_->AddView(name, sql);
    return Status::OK();
  }
  Status DropView(const std::string& name, bool if_exists) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!c_->DropView(name) && !if_exists) return Status::NotFound("view '" + name + "' not found");
    return Status::OK();
  }
  Status CreateTable(const std::string& name, const Schema& schema, const std::vector<Batch>& data,
                     const std::vector<std::pair<std::string, std::string>>&, bool if_not_exists) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (c_->GetTable(name).ok() || c_->GetView(name)) {
      if (if_not_exists) return Status::OK();
      return Status::AlreadyExists("table '" + name + "' already exists");
    }
    std::vector<Batch> copy;
    copy.push_back(ConcatBatches(schema, data));
    c_->AddTable(MemoryTable::Make(name, schema, std::move(copy)));
    return Status::OK();
  }
  Status InsertInto(const std::string& name, const Schema& schema, const std::vector<Batch>& data) override {
    std::lock_guard<std::mutex> lock(mu_);
    SL_ASSIGN_OR_RETURN(auto t, c_->GetTable(name));
    std::vector<Batch> all;
    SL_ASSIGN_OR_RETURN(auto ms, t->Morsels());
    std::vector<int> cols;
    for (size_t i = 0; i < t->schema().size(); ++i) cols.push_back(static_cast<int>(i));
    for (const auto& m : ms) {
      SL_RETURN_IF_ERROR(t->ReadMorsel(m, cols, [&](Batch& b) {
        all.push_back(std::move(b));
        return Status::OK();
      }));
    }
    all.push_back(ConcatBatches(schema, data));
    c_->AddTable(MemoryTable::Make(t->name(), t->schema(), std::move(all)));
    return Status::OK();
  }
  Status DropTable(const std::string& name, bool if_exists) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!c_->DropTable(name) && !if_exists) return Status::NotFound("table '" + name + "' not found");
    return Status::OK();
  }

 private:
  std::shared_ptr<MemoryCatalog> c_;
  std::mutex mu_;
};

}  // namespace

std::shared_ptr<CatalogWriter> MakeMemoryCatalogWriter(std::shared_ptr<MemoryCatalog> catalog) {
  return std::make_shared<MemoryWriter>(std::move(catalog));
}

}  // namespace saleslake::sql
