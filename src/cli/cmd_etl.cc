// `saleslake start-job` and `saleslake runs`: ETL jobs from pipeline.yaml and their history.
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "cli/command.h"
#include "common/progress.h"
#include "etl/job_runner.h"
#include "etl/job_spec.h"
#include "etl/report.h"

namespace saleslake::cli {
namespace {

struct JobOpts {
  std::string name;
  std::string format = "table";
  double buffer_mb = 256;
  bool dedupe = false;
};

int RunStartJob(const Context& ctx, const JobOpts& o) {
  auto store = ctx.OpenLake(/*create=*/false);
  if (!store.ok()) return Fail(store.status());
  auto text = (*store)->Get("pipeline.yaml");
  if (!text.ok()) return Fail(text.status().WithContext("pipeline.yaml"));
  auto jobs = etl::ParseJobs("pipeline.yaml", *text);
  if (!jobs.ok()) return Fail(jobs.status());
  auto job = etl::FindJob(*jobs, o.name);
  if (!job.ok()) return Fail(job.status());
  auto cat = ctx.OpenCatalog(store->get());
  if (!cat.ok()) return Fail(cat.status());
  etl::RunOptions run_options;
  run_options.buffer_budget_bytes = static_cast<size_t>(o.buffer_mb * 1048576.0);
  run_options.dedupe = o.dedupe;
  run_options.pause_before_commit_ms = ctx.test_job_pause_ms;
  Progress progress("start-job " + o.name, Progress::Unit::kBytes, 0);
  if (progress.enabled()) run_options.on_progress = [&progress](uint64_t done, uint64_t total) { progress.Update(done, total); };
  auto report = etl::RunJob(**cat, *job, run_options);
  progress.Finish();
  if (!report.ok()) {
    // Most runner errors already start with "job 'NAME'": name the job only when they do not.
    const Status& s = report.status();
    if (s.message().find("job '" + o.name + "'") != std::string::npos) return Fail(s);
    return Fail(s.WithContext("job '" + o.name + "'"));
  }
  if (o.format == "json") std::printf("%s\n", report->ToJson().c_str());
  else std::fputs(report->ToText().c_str(), stdout);
  if (!report->files_refused.empty()) {
    std::fflush(stdout);
    return Fail("job " + o.name + ": " + std::to_string(report->files_refused.size()) +
                " raw file(s) refused: " + report->files_refused[0]);
  }
  return 0;
}

int RunRuns(const Context& ctx, const std::string& job, const std::string& format) {
  auto store = ctx.OpenLake(/*create=*/false);
  if (!store.ok()) return Fail(store.status());
  auto runs = etl::LoadRunReports(**store, job);
  if (!runs.ok()) return Fail(runs.status());
  if (format == "json") {
    std::printf("[");
    for (size_t i = 0; i < runs->size(); ++i) std::printf("%s%s", i ? ",\n" : "", (*runs)[i].c_str());
    std::printf("]\n");
    return 0;
  }
  std::printf("%-14s %-24s %-10s %9s %12s %12s %12s %10s %9s\n", "job", "run_id", "status",
              "duration", "rows_read", "rows_loaded", "quarantined", "MB_written", "MB/s");
  for (const std::string& line : *runs) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) continue;
    std::printf("%-14s %-24s %-10s %8.2fs %12llu %12llu %12llu %10.1f %9.1f\n",
                j.value("job", "").c_str(), j.value("run_id", "").c_str(),
                j.value("status", "").c_str(), j.value("duration_s", 0.0),
                static_cast<unsigned long long>(j.value("rows_read", 0ULL)),
                static_cast<unsigned long long>(j.value("rows_loaded", 0ULL)),
                static_cast<unsigned long long>(j.value("rows_quarantined", 0ULL)),
                j.value("bytes_written", 0ULL) / 1e6, j.value("mb_per_s", 0.0));
    // A failed run says why, on the next line, so the table stays aligned.
    if (const std::string error = j.value("error", ""); !error.empty()) {
      std::printf("  %s: %s\n", j.value("status", "").c_str(), error.c_str());
    }
  }
  std::printf("(%zu runs)\n", runs->size());
  return 0;
}

void Register(CLI::App& root, Context& ctx) {
  auto opts = std::make_shared<JobOpts>();
  auto* start = root.add_subcommand("start-job", "Run an ETL job from pipeline.yaml and print its run summary");
  start->add_option("--job-name", opts->name, "Job name (jobs: in pipeline.yaml)")->required();
  start->add_option("--format", opts->format, "Summary format")->check(CLI::IsMember({"table", "json"}));
  start->add_option("--buffer-mb", opts->buffer_mb,
                    "Memory the open partition files may buffer together; a partition past its "
                    "share writes its row group out (smaller = less memory, smaller row groups)")
      ->check(CLI::PositiveNumber);
  start->add_flag("--dedupe", opts->dedupe,
                  "Quarantine rows equal (as raw text) to a row already loaded from a raw file still "
                  "in the lake, or to an earlier row of this run, as duplicate:exact (default off; "
                  "`dedupe: true` in the job sets it for every run)");
  start->callback([&ctx, opts] { ctx.action = [&ctx, opts] { return RunStartJob(ctx, *opts); }; });

  auto job = std::make_shared<std::string>();
  auto fmt = std::make_shared<std::string>("table");
  auto* runs = root.add_subcommand("runs", "List job run history (status, duration, rows, bytes, MB/s)");
  runs->add_option("--job", *job, "Only this job");
  runs->add_option("--format", *fmt, "Output format")->check(CLI::IsMember({"table", "json"}));
  runs->callback([&ctx, job, fmt] { ctx.action = [&ctx, job, fmt] { return RunRuns(ctx, *job, *fmt); }; });
}

const CommandRegistrar kRegistrar(50, &Register);

}  // namespace
}  // namespace saleslake::cli
