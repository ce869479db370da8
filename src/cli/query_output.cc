#include "cli/query_output.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/json.h"
#include "common/progress.h"
#include "formats/parquet/parquet.h"
#include "io/object_store.h"
#include "sql/result_format.h"

namespace saleslake::cli {
namespace {

std::string Extension(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

Status WriteStdout(std::string_view text) {
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) {
    return Status::IOError("cannot write to stdout");
  }
  return Status::OK();
}

CellKind KindOf(const DataType& t) {
  if (t.id == TypeId::kBoolean) return CellKind::kBoolean;
  return t.is_numeric() ? CellKind::kNumber : CellKind::kText;
}

// Pulls every batch of `r` into `renderer`; `sink` gets the text as it grows (after each batch),
// so a large result streams through (a truncated table keeps only the rows it will show).
Status RenderRows(sql::QueryResult& r, Renderer& renderer, bool display_doubles,
                  const std::function<Status(std::string)>& sink) {
  Batch b;
  for (;;) {
    SL_ASSIGN_OR_RETURN(bool more, r.Next(&b));
    if (!more) break;
    for (size_t i = 0; i < b.num_rows; ++i) {
      for (const ColumnVector& v : b.columns) {
        if (!v.IsValid(i)) {
          renderer.AddNull();
        } else if (display_doubles && v.type().id == TypeId::kDouble) {
          renderer.AddCell(DisplayDouble(v.GetValue<double>(i)));
        } else if (display_doubles && v.type().id == TypeId::kFloat) {
          renderer.AddCell(DisplayDouble(v.GetValue<float>(i)));
        } else {
          renderer.AddCell(sql::CellText(v, i));
        }
      }
      renderer.EndRow();
    }
    SL_RETURN_IF_ERROR(sink(renderer.TakeText()));
  }
  return Status::OK();
}

// Parquet has no column type for a bare NULL (SELECT NULL AS n): such columns are written as
// all-null INT32, as DuckDB does.
Status WriteParquet(sql::QueryResult& r, const std::string& path) {
  Schema schema = r.schema();
  std::vector<size_t> null_columns;
  for (size_t c = 0; c < schema.size(); ++c) {
    if (schema.fields[c].type.id == TypeId::kNull) {
      schema.fields[c].type = DataType::Int32();
      schema.fields[c].nullable = true;
      null_columns.push_back(c);
    }
  }
  SL_ASSIGN_OR_RETURN(auto out, io::OpenLocalWrite(path));
  parquet::WriterOptions wo;
  SL_ASSIGN_OR_RETURN(auto writer, parquet::ParquetWriter::Open(out.get(), schema, wo));
  Batch b;
  for (;;) {
    SL_ASSIGN_OR_RETURN(bool more, r.Next(&b));
    if (!more) break;
    if (null_columns.empty()) {
      SL_RETURN_IF_ERROR(writer->Write(b));
      continue;
    }
    Batch copy(schema, std::max<size_t>(b.num_rows, 1));
    for (size_t c = 0; c < schema.size(); ++c) {
      ColumnVector& dst = copy.columns[c];
      dst.Resize(0);
      if (std::find(null_columns.begin(), null_columns.end(), c) != null_columns.end()) {
        dst.Resize(b.num_rows);
        for (size_t i = 0; i < b.num_rows; ++i) dst.SetNull(i);
      } else {
        for (size_t i = 0; i < b.num_rows; ++i) dst.AppendFrom(b.columns[c], i);
      }
    }
    copy.num_rows = b.num_rows;
    SL_RETURN_IF_ERROR(writer->Write(copy));
  }
  SL_RETURN_IF_ERROR(writer->Close().status());
  return out->Commit();
}

// What the statement's scans read from lake files (the column chunks they needed, as Athena's
// "data scanned"), before its run time: "(12 rows, 45.3 MB scanned, 0.138 s)". The run time stays
// last, where scripts look for it. Nothing when no lake file was read.
std::string ScannedText(uint64_t bytes) {
  if (bytes == 0) return "";
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1000 && u + 1 < std::size(kUnits)) {
    v /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{} B scanned, ", bytes) : fmt::format("{:.{}f} {} scanned, ", v, v < 10 ? 2 : v < 100 ? 1 : 0, kUnits[u]);
}

// A progress line while a statement scans the lake (on a terminal only; see common/progress.h):
// the bytes its scans have read so far and their rate, polled from the result every 100 ms
// until the statement's first output is written, so the line never mixes with the rows.
class ScanProgress {
 public:
  explicit ScanProgress(const sql::QueryResult& r) : progress_("query", Progress::Unit::kBytes, 0) {
    if (!progress_.enabled()) return;
    progress_.Update(r.bytes_read(), 0);
    poller_ = std::thread([this, &r] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; })) {
        progress_.Update(r.bytes_read(), 0);
      }
    });
  }
  ~ScanProgress() { Stop(); }
  ScanProgress(const ScanProgress&) = delete;
  ScanProgress& operator=(const ScanProgress&) = delete;
  // Stops polling and erases the line (once; later calls do nothing).
  void Stop() {
    if (poller_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
      }
      wake_.notify_all();
      poller_.join();
    }
    progress_.Finish();
  }

 private:
  Progress progress_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread poller_;
};

}  // namespace

Result<ResultFormat> ChooseFormat(const std::string& format, const std::string& path) {
  std::string name = format;
  if (name.empty()) {
    const std::string ext = Extension(path);
    name = ext == "csv" || ext == "json" || ext == "parquet" ? ext : "table";
  }
  if (name == "parquet") return ResultFormat::kParquet;
  auto mode = ParseOutputMode(name);
  if (!mode) {
    return Status::InvalidArgument("unknown output format '" + format +
                                   "' (use table, csv, json, line or parquet)");
  }
  switch (*mode) {
    case OutputMode::kTable: return ResultFormat::kTable;
    case OutputMode::kCsv: return ResultFormat::kCsv;
    case OutputMode::kJson: return ResultFormat::kJson;
    case OutputMode::kLine: return ResultFormat::kLine;
  }
  return ResultFormat::kTable;
}

QueryOutput::QueryOutput(OutputSpec spec, size_t statements)
    : spec_(std::move(spec)), statements_(statements) {}

QueryOutput::~QueryOutput() = default;

std::string QueryOutput::PathFor(size_t index) const {
  if (statements_ <= 1) return spec_.path;
  const std::string ext = Extension(spec_.path);
  if (ext.empty()) return fmt::format("{}-{}", spec_.path, index);
  return fmt::format("{}-{}.{}", spec_.path.substr(0, spec_.path.size() - ext.size() - 1), index, ext);
}

Status QueryOutput::Emit(const std::string& text) {
  if (spec_.path.empty()) return WriteStdout(text);
  file_text_ += text;
  return Status::OK();
}

Status QueryOutput::Add(size_t index, sql::QueryResult& r, Clock::time_point started) {
  const bool json_list = spec_.format == ResultFormat::kJson && statements_ > 1;
  const bool first = results_ == 0;
  ++results_;
  if (json_list) SL_RETURN_IF_ERROR(Emit(first ? "[\n" : ",\n"));
  if (r.schema().size() == 0) {  // DDL: its message, no rows (its run time under it, as for rows)
    if (json_list) return Emit("{\"message\": " + JsonQuote(r.message()) + "}");
    if (!spec_.timing) return WriteStdout(r.message() + "\n");
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return WriteStdout(fmt::format("{}\n({:.3f} s)\n", r.message(), seconds));
  }
  if (spec_.format == ResultFormat::kParquet) {
    ScanProgress scanning(r);  // the rows go to a file: the line stays until the end
    return WriteParquet(r, PathFor(index)).WithContext("--output " + PathFor(index));
  }
  RenderOptions ro;
  ro.mode = spec_.format == ResultFormat::kCsv    ? OutputMode::kCsv
            : spec_.format == ResultFormat::kJson ? OutputMode::kJson
            : spec_.format == ResultFormat::kLine ? OutputMode::kLine
                                                  : OutputMode::kTable;
  if (spec_.path.empty()) {
    ro.max_rows = spec_.max_rows;
    ro.max_width = spec_.max_width;
  }
  std::vector<Column> columns;
  for (const Field& f : r.schema().fields) columns.push_back({f.name, KindOf(f.type)});
  Renderer renderer(std::move(columns), ro);
  const bool separate_file = spec_.format == ResultFormat::kCsv && !spec_.path.empty();
  std::unique_ptr<io::OutputStream> file;
  if (separate_file) {
    SL_ASSIGN_OR_RETURN(file, io::OpenLocalWrite(PathFor(index)));
  } else if (row_results_ > 0 && !json_list && ro.mode != OutputMode::kJson) {
    SL_RETURN_IF_ERROR(Emit("\n"));  // a blank line between results with rows
  }
  ++row_results_;
  ScanProgress scanning(r);
  auto sink = [&](std::string text) -> Status {
    scanning.Stop();
    if (file) return file->Append(text);
    return Emit(text);
  };
  SL_RETURN_IF_ERROR(RenderRows(r, renderer, ro.mode == OutputMode::kTable, sink));
  scanning.Stop();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const std::string timing = spec_.timing ? ScannedText(r.bytes_read()) + fmt::format("{:.3f} s", seconds) : "";
  std::string rest = renderer.Finish(timing);
  if (!timing.empty() && ro.mode != OutputMode::kTable) {
    // CSV, JSON and line output have no footer: the figures go to stderr and the data stay clean.
    std::fprintf(stderr, "(%s row%s, %s)\n", Thousands(renderer.rows()).c_str(), renderer.rows() == 1 ? "" : "s",
                 timing.c_str());
  }
  if (json_list && !rest.empty() && rest.back() == '\n') rest.pop_back();
  SL_RETURN_IF_ERROR(sink(std::move(rest)));
  if (file) return file->Commit().WithContext("--output " + PathFor(index));
  return Status::OK();
}

Status QueryOutput::Finish() {
  if (spec_.format == ResultFormat::kJson && statements_ > 1 && results_ > 0) {
    SL_RETURN_IF_ERROR(Emit("\n]\n"));
  }
  if (spec_.path.empty() || spec_.format == ResultFormat::kCsv || spec_.format == ResultFormat::kParquet) {
    return Status::OK();
  }
  if (results_ == 0) return Status::OK();
  return io::WriteLocalFileAtomic(spec_.path, file_text_).WithContext("--output " + spec_.path);
}

}  // namespace saleslake::cli
