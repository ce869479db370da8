// Catalog commit and read costs on a LocalStore (fsync included): an append commit must stay
// O(changed files) in bytes written however big the table is, and reading a snapshot must stay
// a handful of objects. Counters: bytes_written/commit, objects_written/commit.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "catalog/catalog.h"
#include "catalog/crawler.h"
#include "io/local_store.h"

namespace saleslake::catalog {
namespace {

class ByteCountingStore final : public io::ObjectStore {
 public:
  explicit ByteCountingStore(io::ObjectStore* inner) : inner_(inner) {}
  std::atomic<uint64_t> bytes{0}, objects{0};
  Status Put(std::string_view k, std::string_view d) override {
    bytes += d.size();
    ++objects;
    return inner_->Put(k, d);
  }
  Status PutIfAbsent(std::string_view k, std::string_view d) override {
    bytes += d.size();
    ++objects;
    return inner_->PutIfAbsent(k, d);
  }
  Result<std::unique_ptr<io::OutputStream>> OpenWrite(std::string_view k) override { return inner_->OpenWrite(k); }
  Result<std::string> Get(std::string_view k) const override { return inner_->Get(k); }
  Result<std::string> GetRange(std::string_view k, uint64_t o, uint64_t n) const override { return inner_->GetRange(k, o, n); }
  Result<std::unique_ptr<io::RandomAccessFile>> OpenRead(std::string_view k) const override { return inner_->OpenRead(k); }
  Result<std::vector<io::ObjectInfo>> List(std::string_view p) const override { return inner_->List(p); }
  Status Delete(std::string_view k) override { return inner_->Delete(k); }
  Result<bool> Exists(std::string_view k) const override { return inner_->Exists(k); }
  Result<io::ObjectInfo> Stat(std::string_view k) const override { return inner_->Stat(k); }
  std::string uri() const override { return inner_->uri(); }

 private:
  io::ObjectStore* inner_;
};

std::string FreshDir() {
  std::string tmpl = std::filesystem::temp_directory_path().string() + "/sl-catalog-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

DataFile File(int64_t i) {
  DataFile f;
  f.key = "processed_data/t/region=EU/part-" + std::to_string(i) + ".parquet";
  f.size = 1 << 20;
  f.row_count = 10000;
  f.etag = "e" + std::to_string(i);
  f.partition_values = {{"region", std::string("EU")}};
  for (const char* c : {"purchase_date", "amount", "customer_id", "product_id", "status"})
    f.column_stats.push_back({c, Value::Int64(i), Value::Int64(i + 1000), 0, 0});
  return f;
}

TableSpec Spec() {
  TableSpec s;
  s.name = "t";
  s.location = "processed_data/t/";
  s.schema.fields = {{"purchase_date", DataType::Date(), true}, {"amount", DataType::Double(), true},
                     {"customer_id", DataType::Varchar(), true}, {"product_id", DataType::Varchar(), true},
                     {"status", DataType::Varchar(), true}, {"region", DataType::Varchar(), true}};
  s.partition_keys = {"region"};
  return s;
}

// Appends one file per commit to a table that already holds state.range(0) files.
void BM_AppendCommit(benchmark::State& state) {
  std::string dir = FreshDir();
  auto local = io::LocalStore::Open(dir, true);
  ByteCountingStore store(local->get());
  auto cat = Catalog::Open(&store);
  (void)(*cat)->CreateTable(Spec());
  int64_t existing = state.range(0);
  std::vector<DataFile> seed;
  for (int64_t i = 0; i < existing; ++i) seed.push_back(File(i));
  if (!seed.empty()) {
    TableChange c;
    c.add_files = seed;
    auto base = (*cat)->LoadTable("t");
    (void)(*cat)->CommitOnce(**base, c);
  }
  int64_t next = existing;
  store.bytes = 0;
  store.objects = 0;
  for (auto _ : state) {
    DataFile f = File(next++);
    auto r = (*cat)->Commit("t", [&](const TableMetadata&) -> Result<TableChange> {
      TableChange c;
      c.add_files = {f};
      return c;
    });
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  state.counters["bytes_written/commit"] =
      benchmark::Counter(static_cast<double>(store.bytes.load()) / static_cast<double>(state.iterations()));
  state.counters["objects_written/commit"] =
      benchmark::Counter(static_cast<double>(store.objects.load()) / static_cast<double>(state.iterations()));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AppendCommit)->Arg(0)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(200);

// LoadTable + ListFiles of the current snapshot of a table with state.range(0) files.
void BM_LoadAndListFiles(benchmark::State& state) {
  std::string dir = FreshDir();
  auto local = io::LocalStore::Open(dir, true);
  auto cat = Catalog::Open(local->get());
  (void)(*cat)->CreateTable(Spec());
  std::vector<DataFile> seed;
  for (int64_t i = 0; i < state.range(0); ++i) seed.push_back(File(i));
  TableChange c;
  c.add_files = seed;
  (void)(*cat)->CommitOnce(**(*cat)->LoadTable("t"), c);
  for (auto _ : state) {
    auto t = (*cat)->LoadTable("t");
    auto files = (*cat)->ListFiles(**t);
    benchmark::DoNotOptimize(files->size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_LoadAndListFiles)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// A crawl of state.range(0) small CSV files when nothing changed (reads no data file).
void BM_CrawlNothingNew(benchmark::State& state) {
  std::string dir = FreshDir();
  auto local = io::LocalStore::Open(dir, true);
  auto cat = Catalog::Open(local->get());
  for (int64_t i = 0; i < state.range(0); ++i)
    (void)(*local)->Put("raw_data/f" + std::to_string(i) + ".csv", "a,b,c\n1,x,2025-08-01\n2,y,2025-08-02\n");
  CrawlerConfig cfg{"c", "raw_data/", "raw", std::nullopt, SchemaChangePolicy::kUpdate};
  (void)Crawl(**cat, cfg);
  for (auto _ : state) {
    auto r = Crawl(**cat, cfg);
    if (!r.ok() || r->files_read != 0) state.SkipWithError("crawl read files");
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CrawlNothingNew)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace saleslake::catalog

BENCHMARK_MAIN();
