#include "etl/job_runner.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "catalog/crawler.h"
#include "common/logging.h"
#include "common/thread_pool.h"
#include "etl/internal/bookmark.h"
#include "etl/internal/job_lock.h"
#include "etl/internal/run.h"
#include "sql/sql.h"

namespace saleslake::etl {
namespace {

// One mutex per job name for the life of the process (never erased: job names are few).
std::mutex& InProcessJobMutex(const std::string& job) {
  static std::mutex registry_mu;
  static std::map<std::string, std::unique_ptr<std::mutex>> registry;
  std::lock_guard<std::mutex> lock(registry_mu);
  auto& m = registry[job];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

using Clock = std::chrono::steady_clock;
using namespace internal;

std::string NewRunId() {
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-%06x", static_cast<unsigned>(rd() & 0xffffff));
  return UtcNow("%Y%m%dT%H%M%SZ") + suffix;
}

std::string BookmarkProperty(const std::string& job) { return "etl.bookmark." + job; }

// A source file as the crawler registered it must still be there with the same content.
Result<io::ObjectInfo> VerifySource(io::ObjectStore& store, const catalog::DataFile& f) {
  auto info = store.Stat(f.key);
  if (!info.ok()) {
    if (info.status().code() == StatusCode::kNotFound)
      return Status::NotFound(f.key + " vanished since the last crawl; run 'saleslake crawl' and the job again");
    return info.status();
  }
  if (f.sha256.empty()) return info;  // registered before content identity
  SL_ASSIGN_OR_RETURN(std::string sha, catalog::ContentHash(store, *info));
  if (sha != f.sha256)
    return Status::Aborted(f.key + " changed since the last crawl (sha256 " + sha.substr(0, 12) +
                           "..., the catalog has " + f.sha256.substr(0, 12) +
                           "...); run 'saleslake crawl' and the job again; nothing was committed");
  return info;
}

Result<RunReport> Execute(Run& run, const RunOptions& options, RunReport& report) {
  const JobSpec& job = run.job;
  SL_ASSIGN_OR_RETURN(auto source, run.cat.LoadTable(job.source_table));
  if (source->spec.format != catalog::FileFormat::kCsv)
    return Status::NotImplemented("job '" + job.name + "': source table '" + job.source_table +
                                  "' is " + std::string(catalog::FileFormatName(source->spec.format)) +
                                  "; jobs read CSV sources today");
  std::shared_ptr<const catalog::TableMetadata> target;
  auto loaded = run.cat.LoadTable(job.target_table);
  if (loaded.ok()) target = *loaded;
  else if (loaded.status().code() != StatusCode::kNotFound) return loaded.status();

  // The bookmark: the raw contents earlier runs committed (internal/bookmark.h). Its text is
  // compared at commit time: if another run committed meanwhile, this run must not commit on top.
  std::string bookmark_text;
  if (target && target->spec.properties.count(BookmarkProperty(job.name)))
    bookmark_text = target->spec.properties.at(BookmarkProperty(job.name));
  auto bookmark = internal::Bookmark::Parse(bookmark_text);
  if (!bookmark.ok())
    return bookmark.status().WithContext("job '" + job.name + "', table '" + job.target_table + "'");
  std::set<std::string> tagged;  // raw contents whose rows the target's files are tagged with
  if (target) {
    SL_ASSIGN_OR_RETURN(auto target_files, run.cat.ListFiles(*target));
    for (const auto& f : target_files)
      if (!f.source_id.empty()) tagged.insert(f.source_id);
  }
  SL_ASSIGN_OR_RETURN(auto files, run.cat.ListFiles(*source));
  internal::LoadPlan plan = internal::PlanLoad(*bookmark, files, tagged, job.append_only);
  std::vector<catalog::DataFile> todo;
  for (const internal::PlannedFile& p : plan.files) {
    switch (p.action) {
      case internal::FileAction::kUnchanged: ++report.files_unchanged; break;
      case internal::FileAction::kNew:
        report.files_new.push_back(p.file.key);
        todo.push_back(p.file);
        break;
      case internal::FileAction::kReplace:
        report.files_replaced.push_back(p.file.key);
        todo.push_back(p.file);
        break;
      case internal::FileAction::kRefuse:
        report.files_refused.push_back(p.file.key + ": " + p.reason);
        report.alerts.push_back({"warn", "refused_file", 1, 0, p.file.key + ": " + p.reason});
        break;
    }
  }
  SL_RETURN_IF_ERROR(RemoveOrphans(run, target.get()));
  if (todo.empty()) {
    report.status = report.files_refused.empty() ? "no_op" : "warned";
    report.snapshot_id = target ? target->current_snapshot_id : 0;
    return report;
  }

  SL_RETURN_IF_ERROR(Prepare(run, *source, options));
  if (job.dedupe || options.dedupe) {
    run.seen = std::make_unique<SeenRows>();
    for (const internal::PlannedFile& p : plan.files)
      if (p.action == internal::FileAction::kUnchanged) SL_RETURN_IF_ERROR(HashLoadedRows(run, p.file));
  }
  auto stopped = [&] { return options.stop != nullptr && options.stop->load(); };
  // A stopped run leaves nothing behind: the files it wrote so far are deleted.
  auto stop_run = [&]() -> Status {
    MutexLock lock(run.mu);
    for (auto& [path, p] : run.partitions)
      for (const catalog::DataFile& d : p->done) (void)run.store.Delete(d.key);
    return Status::Cancelled("job run stopped; nothing was committed");
  };
  run.on_progress = options.on_progress;
  for (const catalog::DataFile& f : todo) run.bytes_total += f.size;
  for (const catalog::DataFile& f : todo) {
    if (stopped()) return stop_run();
    // What is read must be what the crawler registered: the same content, unchanged while read.
    SL_ASSIGN_OR_RETURN(io::ObjectInfo before, VerifySource(run.store, f));
    SL_RETURN_IF_ERROR(ReadOneFile(run, f, report));
    auto after = run.store.Stat(f.key);
    if (!after.ok() || after->size != before.size || after->mtime_ns != before.mtime_ns)
      return Status::Aborted(f.key + " changed while the job read it; nothing was committed (run the job again)");
    // Each raw file's rows go to files of their own, tagged with its content, so that a later
    // version of that file can replace exactly them.
    SL_RETURN_IF_ERROR(CloseAllPartitionFiles(run));
    MutexLock lock(run.mu);
    for (auto& [path, p] : run.partitions)
      for (catalog::DataFile& d : p->done)
        if (d.source_id.empty()) d.source_id = f.ContentId();
  }

  std::vector<catalog::DataFile> written;
  std::vector<std::vector<uint64_t>> row_hashes;
  {
    // Every file is read: what the workers merged under run.mu is taken out (the lock is
    // uncontended now).
    MutexLock lock(run.mu);
    for (auto& [path, p] : run.partitions) {
      report.rows_per_partition[path] = p->rows;
      for (auto& f : p->done) {
        report.bytes_written += f.size;
        written.push_back(std::move(f));
      }
    }
    report.files_written = written.size();

    report.rows_loaded = run.counters.loaded;
    report.rows_quarantined = run.counters.quarantined;
    report.quarantined_by_reason = run.counters.by_reason;
    report.flagged = run.counters.flagged;
    report.fixed_values = run.counters.fixed;
    for (size_t i = 0; i < job.counts.size(); ++i)
      report.counts.emplace_back(job.counts[i].name, i < run.counters.counts.size() ? run.counters.counts[i] : 0);
    report.pii_detections = run.counters.pii;
    report.tokenized_values = run.counters.tokenized;
    if (run.counters.date_min <= run.counters.date_max) {
      report.date_min = FormatDate(run.counters.date_min);
      report.date_max = FormatDate(run.counters.date_max);
    }
    row_hashes.swap(run.row_hashes);
  }
  std::vector<uint64_t> duplicates(row_hashes.size(), 0);
  ThreadPool::Default().ParallelFor(row_hashes.size(), [&](size_t b) {
    duplicates[b] = CountRepeats(row_hashes[b]);
    std::vector<uint64_t>().swap(row_hashes[b]);
  });
  for (uint64_t d : duplicates) report.exact_duplicates += d;
  if (report.rows_read != report.rows_loaded + report.rows_quarantined)
    return Status::Internal("row accounting broke: read " + std::to_string(report.rows_read) + " != loaded " +
                            std::to_string(report.rows_loaded) + " + quarantined " + std::to_string(report.rows_quarantined));

  EvaluateQuality(job, report);
  SL_RETURN_IF_ERROR(WriteQuarantine(run, report));
  for (const Alert& a : report.alerts) {
    if (a.level == "fail") {
      for (const auto& f : written) (void)run.store.Delete(f.key);
      return Status::Aborted("quality check failed: " + a.message + "; nothing was committed");
    }
  }

  if (options.pause_before_commit_ms > 0) {
    // A test hook; a stop ends the pause early.
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.pause_before_commit_ms);
    while (!stopped() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (stopped()) {
    for (const auto& f : written) (void)run.store.Delete(f.key);
    return Status::Cancelled("job run stopped; nothing was committed");
  }

  // One commit: the data files and the new bookmark, atomically.
  if (!target) {
    catalog::TableSpec spec;
    spec.name = job.target_table;
    spec.format = catalog::FileFormat::kParquet;
    spec.location = job.target_location;
    spec.schema = run.file_schema;
    for (size_t pc : run.partition_cols) spec.schema.fields.push_back(run.output_schema[pc]);
    spec.partition_keys = job.partition_by;
    auto created = run.cat.CreateTable(spec);
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) return created.status();
  }
  auto committed = run.cat.Commit(job.target_table, [&](const catalog::TableMetadata& base) -> Result<catalog::TableChange> {
    auto prop = base.spec.properties.find(BookmarkProperty(job.name));
    std::string base_text = prop == base.spec.properties.end() ? std::string() : prop->second;
    if (base_text != bookmark_text)
      return Status::Aborted("another run of job '" + job.name + "' committed meanwhile; run it again");
    catalog::TableChange change;
    change.operation = plan.replaced.empty() ? "append" : "replace";
    change.add_files = written;
    // The rows of replaced contents leave in the same commit that adds their new version.
    report.rows_replaced = 0;
    if (!plan.replaced.empty()) {
      SL_ASSIGN_OR_RETURN(auto base_files, run.cat.ListFiles(base));
      for (const auto& f : base_files) {
        if (!plan.replaced.count(f.source_id)) continue;
        change.remove_files.push_back(f.key);
        report.rows_replaced += static_cast<uint64_t>(std::max<int64_t>(f.row_count, 0));
      }
    }
    change.set_properties[BookmarkProperty(job.name)] = plan.next.Encode();
    // The tokenized columns say so in the catalog (SHOW COLUMNS' Comment, Glue's Column.Comment),
    // unless someone commented them already.
    for (const std::string& column : job.pii_tokenize) {
      const std::string key = catalog::ColumnCommentProperty(column);
      if (run.output_schema.FindField(column) && !base.spec.properties.count(key)) {
        change.set_properties[key] = "PII: tokenized by job " + job.name;
      }
    }
    change.allow_empty = true;
    return change;
  });
  if (!committed.ok()) {
    for (const auto& f : written) (void)run.store.Delete(f.key);
    return committed.status();
  }
  report.snapshot_id = committed->metadata->current_snapshot_id;
  // Materialized views with refresh = 'on_commit' follow the commit; a failed refresh leaves
  // the view's previous version (stale, SHOW MATERIALIZED VIEWS says so) and warns.
  if (committed->committed) {
    auto refreshed = sql::RefreshOnCommitViews(&run.store, &run.cat, job.target_table);
    if (!refreshed.ok())
      report.alerts.push_back({"warn", "view_refresh_failed", 1, 0, refreshed.status().message()});
  }
  report.status = report.alerts.empty() ? "succeeded" : "warned";
  return report;
}

}  // namespace

Result<RunReport> RunJob(catalog::Catalog& catalog, const JobSpec& job, const RunOptions& options) {
  Run run(job, catalog);
  run.run_id = options.run_id.empty() ? NewRunId() : options.run_id;
  RunReport report;
  report.job = job.name;
  report.run_id = run.run_id;
  report.started_at = UtcNow();
  auto start = Clock::now();
  Result<RunReport> result = Status::Internal("not run");
  {
    // Runs of one job inside one process (the server's event rules, stream deliveries and the
    // Glue API all start my-etl-job) queue behind each other here; the lock object below then
    // keeps other processes out.
    std::unique_lock<std::mutex> in_process(InProcessJobMutex(job.name));
    auto lock = JobLock::Acquire(run.store, job.name, run.run_id);
    if (!lock.ok()) return lock.status();
    result = Execute(run, options, report);
  }
  report.duration_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (!result.ok()) {
    report.status = "failed";
    report.error = result.status().message();
  } else {
    result->duration_s = report.duration_s;
  }
  RunReport& final_report = result.ok() ? *result : report;
  Status saved = SaveRunReport(run.store, final_report);
  Status alerted = AppendAlerts(run.store, job, final_report);
  if (!result.ok()) return result.status();
  if (!saved.ok()) return saved;
  if (!alerted.ok()) return alerted;
  return result;
}

}  // namespace saleslake::etl
