// saleslake side of bench/parquet_vs_duckdb.sh: loads the shared source table (a Parquet file
// DuckDB wrote) into memory batches, then times our zstd write of it and a full parallel read of
// the result (best of 3 each). Prints one JSON line.
// Usage: parquet_rw_bench SRC.parquet OUT.parquet
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "common/thread_pool.h"
#include "formats/parquet/parquet.h"
#include "io/object_store.h"

using namespace saleslake;

static double Seconds(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SRC.parquet OUT.parquet\n", argv[0]);
    return 2;
  }
  auto die = [](const Status& s) {
    std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
    return 1;
  };
  auto f = io::OpenLocalFile(argv[1]);
  if (!f.ok()) return die(f.status());
  std::shared_ptr<const io::RandomAccessFile> src(std::move(*f));
  auto reader = parquet::ParquetReader::Open(src);
  if (!reader.ok()) return die(reader.status());
  // Load everything as flat batches (what an ETL job hands the writer).
  Schema schema = (*reader)->schema();
  std::vector<int> cols;
  for (size_t i = 0; i < schema.size(); ++i) cols.push_back(static_cast<int>(i));
  std::vector<Batch> batches;
  for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
    Status s = (*reader)->ReadRowGroup(g, cols, [&](Batch& b) {
      for (auto& c : b.columns) c.Flatten();
      batches.push_back(std::move(b));
      return Status::OK();
    });
    if (!s.ok()) return die(s);
  }
  double best_write = 1e9;
  uint64_t bytes = 0;
  for (int k = 0; k < 3; ++k) {
    auto t = std::chrono::steady_clock::now();
    auto out = io::OpenLocalWrite(argv[2]);
    if (!out.ok()) return die(out.status());
    parquet::WriterOptions opts;
    auto w = parquet::ParquetWriter::Open(out->get(), schema, opts);
    if (!w.ok()) return die(w.status());
    for (auto& b : batches) {
      Status s = (*w)->Write(b);
      if (!s.ok()) return die(s);
    }
    auto st = (*w)->Close();
    if (!st.ok()) return die(st.status());
    Status c = (*out)->Commit();
    if (!c.ok()) return die(c);
    bytes = st->file_size;
    best_write = std::min(best_write, Seconds(t));
  }
  double best_read = 1e9;
  int64_t rows = 0;
  for (int k = 0; k < 3; ++k) {
    auto t = std::chrono::steady_clock::now();
    auto of = io::OpenLocalFile(argv[2]);
    if (!of.ok()) return die(of.status());
    std::shared_ptr<const io::RandomAccessFile> file(std::move(*of));
    auto r = parquet::ParquetReader::Open(file);
    if (!r.ok()) return die(r.status());
    std::atomic<int64_t> seen{0};
    std::vector<Status> st((*r)->num_row_groups());
    ThreadPool::Default().ParallelFor(st.size(), [&](size_t g) {
      st[g] = (*r)->ReadRowGroup(static_cast<int>(g), cols, [&](Batch& b) {
        seen += static_cast<int64_t>(b.num_rows);
        return Status::OK();
      });
    });
    for (auto& s : st) {
      if (!s.ok()) return die(s);
    }
    rows = seen;
    best_read = std::min(best_read, Seconds(t));
  }
  std::printf("{\"write_s\":%.3f,\"read_s\":%.3f,\"bytes\":%llu,\"rows\":%lld}\n", best_write, best_read,
              static_cast<unsigned long long>(bytes), static_cast<long long>(rows));
  return 0;
}
