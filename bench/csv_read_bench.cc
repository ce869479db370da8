// CSV reader kernels. The file comes from $SALESLAKE_BENCH_CSV (bench/csv_vs_duckdb.sh passes
// the 10M-row generated file); without it a 1M-row file is generated under $TMPDIR once.
//   BM_CsvCountSumAmount   Sniff + ReadCsv projecting `amount`: count(*), sum(amount)
//   BM_CsvReadAllColumns   Sniff + ReadCsv of every column (strings copied into batches)
//   BM_CsvSniff            the sniffer alone (3 x 256 KiB samples)
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "datagen/generator.h"
#include "formats/csv/csv_reader.h"
#include "formats/csv/csv_reader.h"
#include "io/object_store.h"

namespace saleslake {
namespace {

const std::string& BenchFile() {
  static const std::string path = [] {
    if (const char* p = std::getenv("SALESLAKE_BENCH_CSV"); p && *p) return std::string(p);
    const char* tmp = std::getenv("TMPDIR");
    std::string out = std::string(tmp ? tmp : "/tmp") + "/saleslake_csv_bench_1m.csv";
    if (!io::OpenLocalFile(out).ok()) {
      datagen::GenerateOptions g;
      g.rows = 1'000'000;
      auto stream = io::OpenLocalWrite(out);
      if (!stream.ok() || !datagen::Generate(g, stream->get()).ok() || !(*stream)->Commit().ok())
        std::abort();
    }
    return out;
  }();
  return path;
}

void CountSum(benchmark::State& state, bool all_columns) {
  auto file = io::OpenLocalFile(BenchFile());
  if (!file.ok()) {
    state.SkipWithError(file.status().ToString().c_str());
    return;
  }
  uint64_t rows = 0;
  double sum = 0;
  for (auto _ : state) {
    auto sniff = csv::Sniff(**file);
    if (!sniff.ok()) {
      state.SkipWithError(sniff.status().ToString().c_str());
      return;
    }
    csv::ReadOptions o = sniff->ToReadOptions();
    auto amount = sniff->schema.FindField("amount");
    if (!amount) {
      state.SkipWithError("no amount column");
      return;
    }
    size_t amount_col = *amount;
    if (!all_columns) {
      o.projection = {*amount};
      amount_col = 0;
    }
    std::atomic<uint64_t> n{0};
    std::mutex mu;
    double total = 0;
    csv::CollectingRejectSink rejects;
    auto st = csv::ReadCsv(
        **file, o,
        [&](size_t, Batch& b) {
          const ColumnVector& c = b.columns[amount_col];
          const double* v = c.data<double>();
          double s = 0;
          if (const uint64_t* valid = c.validity()) {
            for (size_t i = 0; i < b.num_rows; ++i)
              if ((valid[i >> 6] >> (i & 63)) & 1) s += v[i];
          } else {
            for (size_t i = 0; i < b.num_rows; ++i) s += v[i];
          }
          n += b.num_rows;
          std::lock_guard<std::mutex> lock(mu);
          total += s;
          return Status::OK();
        },
        &rejects);
    if (!st.ok()) {
      state.SkipWithError(st.status().ToString().c_str());
      return;
    }
    rows = n.load();
    sum = total;
    state.SetBytesProcessed(state.bytes_processed() + static_cast<int64_t>(st->bytes));
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["sum_amount"] = sum;
}

void BM_CsvCountSumAmount(benchmark::State& state) { CountSum(state, false); }
void BM_CsvReadAllColumns(benchmark::State& state) { CountSum(state, true); }

void BM_CsvSniff(benchmark::State& state) {
  auto file = io::OpenLocalFile(BenchFile());
  if (!file.ok()) {
    state.SkipWithError(file.status().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    auto sniff = csv::Sniff(**file);
    benchmark::DoNotOptimize(sniff);
  }
}

BENCHMARK(BM_CsvCountSumAmount)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_CsvReadAllColumns)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_CsvSniff)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace saleslake

BENCHMARK_MAIN();
