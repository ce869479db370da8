// `saleslake convert IN.csv OUT.parquet`: sniff a CSV file (plain, .gz or .zst), read it in
// parallel with the typed CSV reader and write one Parquet file, rows in file order. The output
// appears atomically, and only when every row was converted (or the rejected rows stayed within
// --max-errors, each reported on stderr with file:line: column and reason).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>

#include "cli/command.h"
#include "common/progress.h"
#include "formats/csv/csv_reader.h"
#include "formats/parquet/parquet.h"
#include "io/object_store.h"

namespace saleslake::cli {
namespace {

constexpr size_t kShownRejects = 10;

struct ConvertOptions {
  std::string in;
  std::string out;
  std::string compression = "zstd";
  int64_t row_group_size = 1 << 20;
  uint64_t max_errors = 0;
  std::string delimiter;  // empty = sniffed
  int threads = 0;
  size_t morsel_bytes = 8 << 20;
};

// Restores file order over the reader's concurrent deliveries and feeds the (single-owner)
// Parquet writer. Batches of the lowest unfinished morsel are written at once; later morsels wait
// until every earlier one ended. Thread safety: every method takes mu_.
class OrderedWriter {
 public:
  explicit OrderedWriter(parquet::ParquetWriter* writer) : writer_(writer) {}

  Status Add(size_t morsel, Batch& batch) {
    std::lock_guard<std::mutex> lock(mu_);
    if (morsel == next_) return writer_->Write(batch);
    pending_[morsel].push_back(std::move(batch));
    return Status::OK();
  }

  Status End(size_t morsel) {
    std::lock_guard<std::mutex> lock(mu_);
    ended_[morsel] = true;
    for (;;) {
      // Held-back batches of `next_` go first: its later batches are written directly.
      auto it = pending_.find(next_);
      if (it != pending_.end()) {
        for (Batch& b : it->second) SL_RETURN_IF_ERROR(writer_->Write(b));
        pending_.erase(it);
      }
      if (!ended_.count(next_)) return Status::OK();
      ended_.erase(next_);
      ++next_;
    }
  }

 private:
  std::mutex mu_;
  parquet::ParquetWriter* writer_;               // GUARDED_BY(mu_)
  size_t next_ = 0;                              // GUARDED_BY(mu_): lowest morsel not ended
  std::map<size_t, std::vector<Batch>> pending_;  // GUARDED_BY(mu_)
  std::map<size_t, bool> ended_;                 // GUARDED_BY(mu_)
};

int RunConvert(const ConvertOptions& o) {
  auto in = io::OpenLocalFile(o.in);
  if (!in.ok()) return Fail(in.status());
  auto compression = parquet::ParseCompression(o.compression);
  if (!compression.ok()) return Fail(compression.status());
  if (o.row_group_size <= 0) return Fail("--row-group-size must be positive");

  csv::SniffOptions so;
  if (!o.delimiter.empty()) {
    std::string d = o.delimiter == "\\t" || o.delimiter == "tab" ? "\t" : o.delimiter;
    if (d.size() != 1) return Fail("--delimiter must be one character (or \\t)");
    // Only the delimiter is fixed; the header and the types are still sniffed.
    auto first = csv::Sniff(**in, so);
    csv::Dialect dialect = first.ok() ? first->dialect : csv::Dialect{};
    dialect.delimiter = d[0];
    so.dialect = dialect;
  }
  auto sniff = csv::Sniff(**in, so);
  if (!sniff.ok()) return Fail(sniff.status());

  auto stream = io::OpenLocalWrite(o.out);
  if (!stream.ok()) return Fail(stream.status());
  parquet::WriterOptions wo;
  wo.compression = *compression;
  wo.row_group_rows = o.row_group_size;
  auto writer = parquet::ParquetWriter::Open(stream->get(), sniff->schema, wo);
  if (!writer.ok()) return Fail(writer.status().WithContext(o.out));

  OrderedWriter ordered(writer->get());
  csv::ReadOptions ro = sniff->ToReadOptions();
  ro.max_rejected_rows = o.max_errors;
  ro.threads = o.threads;
  ro.morsel_bytes = o.morsel_bytes;
  Progress progress("convert " + o.out, Progress::Unit::kBytes, (*in)->size());
  ro.on_morsel_end = [&](size_t m) {
    progress.Update(std::min<uint64_t>((m + 1) * ro.morsel_bytes, (*in)->size()), (*in)->size());
    return ordered.End(m);
  };
  csv::CollectingRejectSink rejects;
  auto stats = csv::ReadCsv(
      **in, ro, [&](size_t m, Batch& b) { return ordered.Add(m, b); },
      o.max_errors > 0 ? &rejects : nullptr);
  progress.Finish();
  std::vector<csv::RejectedRow> rejected = rejects.TakeSorted();
  // The first few rejected rows, then one summary line: a messy file must not flood the terminal.
  for (size_t i = 0; i < rejected.size() && i < kShownRejects; ++i) {
    const auto& r = rejected[i];
    std::fprintf(stderr, "saleslake: rejected: %s:%llu: %s\n", r.file.c_str(),
                 static_cast<unsigned long long>(r.line), r.reason.c_str());
  }
  if (rejected.size() > kShownRejects) {
    std::fprintf(stderr, "saleslake: rejected: ... and %zu more rows (%zu in all; the first %zu are shown)\n",
                 rejected.size() - kShownRejects, rejected.size(), kShownRejects);
  }
  if (!stats.ok()) {
    Status s = stats.status();
    // A bad row with the default --max-errors 0: name the flag that lets the rest through.
    if (s.code() == StatusCode::kInvalidArgument && rejected.size() >= o.max_errors) {
      return Fail(fmt::format("{}; to convert the other rows and skip up to N bad ones, pass --max-errors N "
                              "(now {})",
                              s.message(), o.max_errors));
    }
    return Fail(s);
  }
  auto file_stats = (*writer)->Close();
  if (!file_stats.ok()) return Fail(file_stats.status().WithContext(o.out));
  Status committed = (*stream)->Commit();
  if (!committed.ok()) return Fail(committed);

  std::string cols;
  for (const auto& c : sniff->columns) {
    if (!cols.empty()) cols += ", ";
    cols += c.name + " " + c.type.ToString();
  }
  std::printf("converted %s -> %s: %llu rows (%llu rejected, %llu blank lines), %llu bytes, %s\n",
              o.in.c_str(), o.out.c_str(),
              static_cast<unsigned long long>(stats->rows_loaded),
              static_cast<unsigned long long>(stats->rows_rejected),
              static_cast<unsigned long long>(stats->blank_lines),
              static_cast<unsigned long long>(file_stats->file_size),
              std::string(parquet::CompressionName(*compression)).c_str());
  std::printf("columns: %s\n", cols.c_str());
  return 0;
}

void Register(CLI::App& root, Context& ctx) {
  auto opts = std::make_shared<ConvertOptions>();
  auto* cmd = root.add_subcommand(
      "convert", "Convert a CSV file (.csv, .csv.gz, .csv.zst) to Parquet, types sniffed");
  cmd->add_option("input", opts->in, "CSV file")->required();
  cmd->add_option("output", opts->out, "Parquet file to write (atomically)")->required();
  cmd->add_option("--compression", opts->compression,
                  "zstd (default), snappy, gzip, lz4, brotli or none");
  cmd->add_option("--row-group-size", opts->row_group_size, "Rows per row group (default 1048576)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-errors", opts->max_errors,
                  "Rows that may be rejected (reported on stderr) before the conversion fails "
                  "(default 0)");
  cmd->add_option("--delimiter", opts->delimiter, "Field delimiter (default: sniffed; \\t for tab)");
  cmd->add_option("--threads", opts->threads, "Parser threads (default: all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--morsel-bytes", opts->morsel_bytes,
                  "Bytes of CSV per parallel parse task (default 8 MiB)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40));
  cmd->callback([&ctx, opts] { ctx.action = [opts] { return RunConvert(*opts); }; });
}

const CommandRegistrar kRegistrar(45, &Register);

}  // namespace
}  // namespace saleslake::cli
