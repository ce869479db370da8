// Partition files of the target table: open, close, orphans of unfinished runs.
#include "etl/internal/run.h"

#include <set>
#include <vector>

#include "common/logging.h"
#include "common/thread_pool.h"

namespace saleslake::etl::internal {

// A partition folder value: Hive's escapes plus spaces as %20, as DuckDB writes them (every
// Hive-style reader decodes %XX, so "region=North%20America" reads back as "North America").
std::string EscapeForPath(const std::string& value) {
  std::string hive = catalog::EscapePartitionValue(value), out;
  for (char c : hive) out += c == ' ' ? std::string("%20") : std::string(1, c);
  return out;
}

// Hive partition value text of one row of a column.
std::optional<std::string> PartitionText(const ColumnVector& v, size_t row) {
  if (!v.IsValid(row)) return std::nullopt;
  switch (v.type().id) {
    case TypeId::kVarchar: return std::string(v.GetValue<std::string_view>(row));
    case TypeId::kDate: return FormatDate(v.GetValue<int32_t>(row));
    case TypeId::kInt32: return std::to_string(v.GetValue<int32_t>(row));
    case TypeId::kInt64: return std::to_string(v.GetValue<int64_t>(row));
    case TypeId::kBoolean: return v.GetValue<uint8_t>(row) ? "true" : "false";
    case TypeId::kTimestamp: return FormatTimestamp(v.GetValue<int64_t>(row));
    default: return std::nullopt;
  }
}

Status OpenPartitionFile(Run& run, PartitionFile& p) {
  std::string key = run.job.target_location + (p.path.empty() ? "" : p.path + "/") + "part-" +
                    run.run_id + "-" + std::to_string(p.seq++) + ".parquet";
  SL_ASSIGN_OR_RETURN(p.stream, run.store.OpenWrite(key));
  SL_ASSIGN_OR_RETURN(p.writer, parquet::ParquetWriter::Open(p.stream.get(), run.file_schema, run.writer_options));
  p.rows_in_file = 0;
  p.done.push_back(catalog::DataFile{.key = key, .partition_values = p.values});
  return Status::OK();
}

Status ClosePartitionFile(Run& run, PartitionFile& p) {
  if (!p.writer) return Status::OK();
  SL_ASSIGN_OR_RETURN(parquet::FileStats stats, p.writer->Close());
  SL_RETURN_IF_ERROR(p.stream->Commit());
  catalog::DataFile& f = p.done.back();
  f.size = stats.file_size;
  f.row_count = stats.num_rows;
  for (size_t c = 0; c < stats.columns.size() && c < run.file_schema.size(); ++c) {
    f.column_stats.push_back(catalog::ColumnStats{.column = run.file_schema[c].name,
                                                  .min = stats.columns[c].min,
                                                  .max = stats.columns[c].max,
                                                  .null_count = stats.columns[c].has_null_count ? stats.columns[c].null_count : -1});
  }
  auto info = run.store.Stat(f.key);
  if (info.ok()) f.etag = info->etag;
  p.writer.reset();
  p.stream.reset();
  return Status::OK();
}

// Closes every open partition file (the last row groups are encoded and compressed here, so in
// parallel); their data files stay in PartitionFile::done.
Status CloseAllPartitionFiles(Run& run) {
  std::vector<PartitionFile*> open_files;
  {
    MutexLock lock(run.mu);
    for (auto& [path, p] : run.partitions) open_files.push_back(p.get());
  }
  std::vector<Status> closed(open_files.size());
  ThreadPool::Default().ParallelFor(open_files.size(), [&](size_t i) { closed[i] = ClosePartitionFile(run, *open_files[i]); });
  for (const Status& st : closed) SL_RETURN_IF_ERROR(st);
  return Status::OK();
}

// Deletes data files under the target location that no retained snapshot references and that
// an earlier, unfinished run left behind (their names carry a run id that never committed).
Status RemoveOrphans(Run& run, const catalog::TableMetadata* target) {
  std::set<std::string> referenced;
  if (target) {
    for (const catalog::SnapshotInfo& s : target->snapshots) {
      auto files = run.cat.ListFiles(*target, s.id);
      if (!files.ok()) continue;
      for (const auto& f : *files) referenced.insert(f.key);
    }
  }
  // Under the job lock no other writer of this job is active: temporaries there are dead.
  SL_RETURN_IF_ERROR(run.store.RemoveTemporaries(run.job.target_location, 0));
  SL_ASSIGN_OR_RETURN(auto objects, run.store.List(run.job.target_location));
  for (const io::ObjectInfo& o : objects) {
    std::string_view name = std::string_view(o.key).substr(o.key.rfind('/') + 1);
    if (name.rfind("part-", 0) != 0 || referenced.count(o.key)) continue;
    Log(LogLevel::kInfo, "removing a data file of an unfinished run", {{"key", o.key}});
    (void)run.store.Delete(o.key);
  }
  return Status::OK();
}

}  // namespace saleslake::etl::internal
