// `saleslake init` and `saleslake upload`: the lake's layout and its landing zone.
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "auth/auth.h"
#include "catalog/crawler.h"
#include "cli/command.h"
#include "stack/dashboard.h"
#include "common/logging.h"
#include "common/progress.h"
#include "common/types.h"
#include "io/s3_store.h"

namespace saleslake::cli {
namespace {

constexpr const char* kLayout[] = {"raw_data",  "processed_data", "quarantine", "catalog",
                                   "jobs",      "queries",        "dashboards", "streams",
                                   "_system"};

constexpr const char* kDefaultPipeline = R"(# saleslake pipeline: the declarative definition of this lake.
# Every command reads it; edit it to add tables, crawlers and jobs. Paths are keys inside the lake.
version: 1

# Crawlers discover files and register their schema in the catalog (Glue crawler's role).
crawlers:
  - name: raw-crawler
    path: raw_data/              # everything under this folder...
    table: raw_sales             # ...becomes this table
    format: auto                 # csv | parquet | jsonl | auto (classify by content)
    # when a file changes the schema: update (new columns, widenings; a type conflict is reported
    # and the file left out) | log | fail | varchar (conflicting columns become text)
    schema_change_policy: update

# ETL jobs turn raw tables into clean, partitioned Parquet (Glue ETL job's role).
jobs:
  - name: my-etl-job
    source: raw_sales
    target:
      table: sales_data
      location: processed_data/sales_data/
      format: parquet
      compression: zstd
      partition_by: [region, purchase_month]   # purchase_month = 'YYYY-MM' of purchase_date
      target_file_size_mb: 128
    # target column: SQL expression over the source columns (same-name columns by default)
    columns:
      purchase_date: purchase_date
      customer_id: customer_id
      product_id: product_id
      amount: amount
      region: region
      status: upper(trim(status))
      purchase_month: date_format(purchase_date, '%Y-%m')
    # per-column checks: not_null | range | allowed | regex, each with action reject | flag | fix
    rules:
      - {column: purchase_date, check: not_null, action: reject}
      - {column: amount, check: range, min: 0, action: flag, name: negative_amount}
    flag_values:                 # kept, flagged in quality_flags and counted in the report
      status: [OUT]
    pii:
      tokenize: [customer_id]    # keyed HMAC-SHA-256 with the lake secret (_system/secret.key)
      scan_strings: mask         # mask | tokenize | off: e-mails, phones, cards, IBANs, SSNs
    counts:                      # figures of the loaded rows in the run report
      missing_amount: {column: amount, is: null}
      out_rows: {column: status, equals: OUT}
      negative_amounts: {column: amount, is: negative}
    date_range: purchase_date    # first and last date in the run report
    quality:                     # share thresholds (<count>_share, quarantined_share,
                                 # duplicate_share): warn raises an alert, fail fails the run
      missing_amount_share: {warn: 0.10, fail: 0.20}   # > 10% of a run's rows lack an amount
      quarantined_share: {warn: 0.01}                  # > 1% of a run's rows quarantined
    alert_topic: data-quality
    # Raw files are known by their content: re-uploads, copies and renames load nothing twice.
    append_only: false           # a loaded file whose content changes: false = its rows are
                                 # replaced in one commit; true = refused with an alert
    dedupe: false                # true: rows equal to rows already loaded -> quarantine

# Rules react to the lake's events (EventBridge's role; `saleslake serve` runs them): an upload
# into raw_data/ runs the crawler, a crawl that registered something runs the job, a failure or
# a quality violation is published to pipeline-alerts. Patterns: exact values, prefix,
# anything-but, numeric, exists; schedules: rate(5 minutes) or cron(0/15 * * * ? *) in UTC.
rules:
  - name: crawl-on-upload
    pattern:
      type: [object.created]
      key: [{prefix: raw_data/}]
    targets:
      - crawler: raw-crawler
  - name: etl-after-crawl
    pattern:
      type: [crawler.succeeded]
      crawler: [raw-crawler]
      committed: [true]
    targets:
      - job: my-etl-job
  - name: alert-on-failure
    pattern:
      type: [job.failed, crawler.failed, quality.violation]
    targets:
      - topic: pipeline-alerts
  - name: refresh-rollups      # the dashboards' rollups (materialized views), every 5 minutes
    schedule: rate(5 minutes)
    targets:
      - materialized_view: "*"   # every materialized view; or name one

# Topics deliver messages to their subscribers (SNS's role).
topics:
  - name: pipeline-alerts
    subscriptions:
      - protocol: file                     # JSON lines in the lake
        endpoint: _system/alerts/pipeline-alerts.jsonl
      # - protocol: https                  # SNS's JSON envelope, POSTed
      #   endpoint: https://hooks.example.com/saleslake
      #   filter_policy: {type: [job.failed]}
      # - protocol: email                  # the alert as an e-mail, through smtp: below
      #   endpoint: data-team@example.com

# The mail server e-mail subscriptions go through (libcurl): smtp:// with STARTTLS, or smtps://.
# smtp:
#   url: smtp://mail.example.com:587
#   from: saleslake@example.com
#   starttls: required           # off | try | required
#   username: alerts
#   password_env: SMTP_PASSWORD  # the password comes from this environment variable

# Athena workgroups of `saleslake serve` (Athena's API): per-query limits. `primary` always exists.
# workgroups:
#   - name: analysts
#     bytes_scanned_cutoff_per_query: 10000000   # a query that would read more is cancelled
#     max_concurrent_queries: 2                  # the rest wait QUEUED
#     query_time_limit_seconds: 600              # default 1800

# Kinesis streams served by `saleslake serve` (created when it starts) and delivered into a
# table through the crawler and job above, exactly once (Firehose's role).
streams:
  - name: sales-events
    shards: 4
    table: sales_data            # delivered by the job whose target is this table
    format: json                 # json objects with the raw columns | csv lines
    buffer_mb: 64                # a delivery at this size (1..128)...
    buffer_seconds: 60           # ...or this often (1..900)
)";

// 32 random bytes as hex and a newline: the PII tokenization key.
Result<std::string> NewSecretHex() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::Internal("no randomness available for the lake secret");
  char hex[65];
  for (int i = 0; i < 32; ++i) std::snprintf(hex + 2 * i, 3, "%02x", raw[i]);
  return std::string(hex, 64) + "\n";
}

Status InitLake(io::ObjectStore& w, std::vector<std::string>* created) {
  auto* local = dynamic_cast<io::LocalStore*>(&w);
  // A bucket has no folders (a key prefix exists once an object is under it).
  for (const char* dir : kLayout) {
    if (local == nullptr) break;
    struct stat st;
    bool existed = stat(local->PathOf(dir).c_str(), &st) == 0;
    SL_RETURN_IF_ERROR(local->MakeDir(dir));
    if (!existed) created->push_back(std::string(dir) + "/");
  }
  SL_ASSIGN_OR_RETURN(bool have_pipeline, w.Exists("pipeline.yaml"));
  if (!have_pipeline) {
    // PutIfAbsent: a concurrent init or a user's file is never overwritten.
    Status s = w.PutIfAbsent("pipeline.yaml", kDefaultPipeline);
    if (s.ok()) created->push_back("pipeline.yaml");
    else if (s.code() != StatusCode::kAlreadyExists) return s;
  }
  // The default dashboard of the web console, over the table the default job writes.
  Status dash = w.PutIfAbsent(stack::kDefaultDashboardKey, stack::DefaultDashboardJson());
  if (dash.ok()) created->push_back(std::string(stack::kDefaultDashboardKey));
  else if (dash.code() != StatusCode::kAlreadyExists) return dash;
  if (local == nullptr) {
    // On S3 the bucket's access policy guards the secret; put-if-absent keeps an existing one.
    SL_ASSIGN_OR_RETURN(std::string hex, NewSecretHex());
    Status s = w.PutIfAbsent("_system/secret.key", hex);
    if (s.ok()) created->push_back("_system/secret.key");
    else if (s.code() != StatusCode::kAlreadyExists) return s;
    return Status::OK();
  }
  // The PII tokenization key, readable by the owner only. Created with O_EXCL and mode 0600
  // from the start so it is never briefly readable by others.
  std::string key_path = local->PathOf("_system/secret.key");
  int fd = open(key_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    auto hex = NewSecretHex();
    if (!hex.ok()) {
      close(fd);
      unlink(key_path.c_str());
      return hex.status();
    }
    bool ok = write(fd, hex->data(), hex->size()) == static_cast<ssize_t>(hex->size()) && fsync(fd) == 0;
    close(fd);
    if (!ok) {
      unlink(key_path.c_str());
      return Status::IOError("could not write " + key_path);
    }
    created->push_back("_system/secret.key");
  } else if (errno != EEXIST) {
    return Status::FromErrno(errno, key_path);
  }
  return Status::OK();
}

// Writes the admin's AWS credentials file: mode 0600 locally, an object under _system/ on S3.
// Returns where it went.
Result<std::string> WriteAdminCredentials(io::ObjectStore& store, const std::string& text) {
  auto* local = dynamic_cast<io::LocalStore*>(&store);
  if (local == nullptr) {
    SL_RETURN_IF_ERROR(store.Put("_system/admin-credentials", text));
    return store.uri() + "/_system/admin-credentials";
  }
  std::string cred_path = local->PathOf("_system/admin-credentials");
  int fd = open(cred_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, cred_path);
  bool ok = fchmod(fd, 0600) == 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  close(fd);
  if (!ok) return Status::IOError("could not write " + cred_path);
  return cred_path;
}

// Copies a local file into the lake through the raw-object door (atomic, hashed, journaled);
// returns the hex SHA-256.
Result<std::string> CopyIn(const std::string& path, io::ObjectStore& store, const std::string& key) {
  SL_ASSIGN_OR_RETURN(auto in, io::OpenLocalFile(path));
  SL_ASSIGN_OR_RETURN(auto out, catalog::RawObjectWriter::Open(store, key));
  Progress progress("upload " + key, Progress::Unit::kBytes, in->size());
  std::string buf;
  for (uint64_t off = 0; off < in->size();) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(uint64_t{1} << 20, in->size() - off));
    std::string_view piece;
    if (const uint8_t* mapped = in->mapped_data()) {  // straight from the mapping: no copy here
      piece = std::string_view(reinterpret_cast<const char*>(mapped) + off, n);
    } else {
      buf.resize(n);
      SL_RETURN_IF_ERROR(in->ReadAt(off, std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), n)));
      piece = buf;
    }
    SL_RETURN_IF_ERROR(out->Append(piece));
    in->DoneWith(off, n);
    off += n;
    progress.Add(n);
  }
  progress.Finish();
  SL_RETURN_IF_ERROR(out->Commit());
  return out->sha256();
}

void Register(CLI::App& root, Context& ctx) {
  auto* init = root.add_subcommand("init", "Create the lake layout, a default pipeline.yaml and the PII secret (idempotent)");
  init->callback([&ctx] {
    ctx.action = [&ctx] {
      auto store = ctx.OpenLake(/*create=*/true);
      if (!store.ok()) return Fail(store.status());
      std::vector<std::string> created;
      Status s = InitLake(**store, &created);
      if (!s.ok()) return Fail(s);
      // IAM: the account and its first user, "admin", whose key is shown only now and kept in
      // an AWS credentials file readable by the owner only.
      auto iam = auth::Iam::Open(**store, auth::IamOptions{.create = true});
      if (!iam.ok()) return Fail(iam.status());
      auto admin = auth::EnsureAdmin(**iam);
      if (!admin.ok()) return Fail(admin.status());
      std::string cred_path;
      if (*admin) {
        std::string text = "# saleslake admin key (account " + (*iam)->account_id() +
                           "); use with AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE=saleslake\n"
                           "[saleslake]\naws_access_key_id = " + (*admin)->access_key_id +
                           "\naws_secret_access_key = " + (*admin)->secret_access_key + "\n";
        auto where = WriteAdminCredentials(**store, text);
        if (!where.ok()) return Fail(where.status());
        cred_path = *where;
        created.push_back("_system/iam/ (account " + (*iam)->account_id() + ", user admin)");
        created.push_back("_system/admin-credentials");
      }
      std::printf("lake %s ready", (*store)->uri().c_str());
      if (created.empty()) std::printf(" (nothing to create)\n");
      else {
        std::printf("; created:");
        for (const auto& c : created) std::printf(" %s", c.c_str());
        std::printf("\n");
      }
      if (*admin) {
        std::printf("admin access key (shown only now; also in %s%s):\n"
                    "  AccessKeyId:     %s\n  SecretAccessKey: %s\n",
                    cred_path.c_str(), io::IsS3Uri(ctx.lake) ? "" : ", mode 0600", (*admin)->access_key_id.c_str(),
                    (*admin)->secret_access_key.c_str());
      }
      return 0;
    };
  });

  struct UploadOpts {
    std::vector<std::string> files;
    std::string to = "raw_data/";
  };
  auto opts = std::make_shared<UploadOpts>();
  auto* up = root.add_subcommand("upload", "Copy files into the lake atomically and record an object.created event");
  up->add_option("files", opts->files, "Local files to upload")->required()->check(CLI::ExistingFile);
  up->add_option("--to", opts->to, "Folder in the lake (default raw_data/)");
  up->callback([&ctx, opts] {
    ctx.action = [&ctx, opts] {
      auto store = ctx.OpenLake(/*create=*/false);
      if (!store.ok()) return Fail(store.status());
      std::string prefix = opts->to;
      if (!prefix.empty() && prefix.back() != '/') prefix += '/';
      for (const std::string& f : opts->files) {
        std::string base = f.substr(f.rfind('/') == std::string::npos ? 0 : f.rfind('/') + 1);
        std::string key = prefix + base;
        Status valid = io::ValidateKey(key);
        if (!valid.ok()) return Fail(valid);
        auto sha = CopyIn(f, **store, key);
        if (!sha.ok()) return Fail(sha.status().WithContext("upload " + f));
        auto info = (*store)->Stat(key);
        if (!info.ok()) return Fail(info.status());
        std::printf("uploaded %s -> %s (%llu bytes, sha256 %s)\n", f.c_str(), key.c_str(),
                    static_cast<unsigned long long>(info->size), sha->c_str());
      }
      return 0;
    };
  });
}

const CommandRegistrar kRegistrar(10, &Register);

}  // namespace
}  // namespace saleslake::cli
