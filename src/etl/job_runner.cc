#include "etl/job_runner.h"

#include <re2/re2.h>
#include <signal.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/logging.h"
#include "common/thread_pool.h"
#include "etl/clean.h"
#include "etl/internal/mapper.h"
#include "formats/csv/csv_reader.h"
#include "formats/csv/csv_writer.h"
#include "formats/csv/sniffer.h"
#include "formats/parquet/parquet.h"

namespace saleslake::etl {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kFlagsColumn = "quality_flags";
constexpr const char* kHiveNull = "__HIVE_DEFAULT_PARTITION__";

// ASCII-only upper case (flag values are ASCII words); std::toupper is a locale-aware call.
char AsciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string NewRunId() {
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-%06x", static_cast<unsigned>(rd() & 0xffffff));
  return UtcNow("%Y%m%dT%H%M%SZ") + suffix;
}

std::string BookmarkProperty(const std::string& job) { return "etl.bookmark." + job; }

// ---- the job lock: one run of a job at a time, taken over from dead processes ----

class JobLock {
 public:
  static Result<JobLock> Acquire(io::ObjectStore& store, const std::string& job, const std::string& run_id) {
    std::string key = "_system/locks/job-" + job + ".lock";
    nlohmann::json body = {{"pid", static_cast<int64_t>(getpid())}, {"run_id", run_id}, {"since", UtcNow()}};
    for (int attempt = 0; attempt < 3; ++attempt) {
      Status s = store.PutIfAbsent(key, body.dump());
      if (s.ok()) return JobLock(&store, key);
      if (s.code() != StatusCode::kAlreadyExists) return s;
      auto held = store.Get(key);
      if (!held.ok()) continue;  // released meanwhile
      int64_t pid = 0;
      std::string holder;
      try {
        auto j = nlohmann::json::parse(*held);
        pid = j.value("pid", int64_t{0});
        holder = j.value("run_id", std::string());
      } catch (const std::exception&) {
      }
      if (pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM))
        return Status::Aborted("job '" + job + "' is already running (run " + holder + ", pid " + std::to_string(pid) + ")");
      Log(LogLevel::kWarn, "taking over the lock of a dead run", {{"job", job}, {"run_id", holder}});
      (void)store.Delete(key);
    }
    return Status::Aborted("could not take the lock of job '" + job + "'");
  }
  JobLock(JobLock&& o) noexcept : store_(o.store_), key_(std::move(o.key_)) { o.store_ = nullptr; }
  ~JobLock() {
    if (store_) (void)store_->Delete(key_);
  }

 private:
  JobLock(io::ObjectStore* store, std::string key) : store_(store), key_(std::move(key)) {}
  io::ObjectStore* store_;
  std::string key_;
};

// ---- per-run shared state ----

struct Quarantined {
  std::string file;
  uint64_t line;
  uint32_t column;
  std::string raw;
  std::string reason;
};

struct Counters {  // accumulated per batch, merged under a lock
  uint64_t loaded = 0, quarantined = 0, missing_amount = 0, out_rows = 0, negative = 0;
  uint64_t tokenized = 0;
  int32_t date_min = INT32_MAX, date_max = INT32_MIN;
  std::map<std::string, uint64_t> by_reason, flagged, fixed;
  PiiCounts pii;
  void Merge(const Counters& o) {
    loaded += o.loaded;
    quarantined += o.quarantined;
    missing_amount += o.missing_amount;
    out_rows += o.out_rows;
    negative += o.negative;
    tokenized += o.tokenized;
    date_min = std::min(date_min, o.date_min);
    date_max = std::max(date_max, o.date_max);
    for (const auto& [k, v] : o.by_reason) by_reason[k] += v;
    for (const auto& [k, v] : o.flagged) flagged[k] += v;
    for (const auto& [k, v] : o.fixed) fixed[k] += v;
    pii.Add(o.pii);
  }
};

struct PartitionFile {
  std::mutex mu;
  std::vector<catalog::PartitionValue> values;
  std::string path;  // "region=EU/purchase_month=2025-03"
  std::unique_ptr<io::OutputStream> stream;
  std::unique_ptr<parquet::ParquetWriter> writer;
  uint64_t rows_in_file = 0;
  uint64_t rows = 0;
  int seq = 0;
  std::vector<catalog::DataFile> done;
};

struct Run {
  const JobSpec& job;
  catalog::Catalog& cat;
  io::ObjectStore& store;
  std::string run_id;
  parquet::WriterOptions writer_options;
  std::optional<Tokenizer> tokenizer;

  Schema source_schema;              // typed, from the source table
  std::vector<Cleaner> cleaners;     // per source column
  std::unique_ptr<internal::Mapper> mapper;
  Schema output_schema;              // mapped columns (+ quality_flags)
  std::vector<size_t> partition_cols;  // indices into output_schema
  std::vector<size_t> data_cols;       // the rest, in order
  Schema file_schema;                  // data columns only
  std::vector<bool> tokenize_col;      // per output column
  std::vector<bool> scan_col;          // per output column
  bool has_flags = false;
  std::vector<std::unique_ptr<RE2>> rule_regex;  // per rule (kRegex only)
  std::optional<size_t> amount_col, status_col, date_col;  // in source_schema, for the report

  std::mutex mu;
  Counters counters;                          // GUARDED_BY(mu)
  std::vector<Quarantined> quarantine;        // GUARDED_BY(mu)
  // Row hashes for exact-duplicate counting, split by their top bits so that the buckets can be
  // sorted in parallel at the end.
  static constexpr int kHashBucketBits = 8;
  std::vector<std::vector<uint64_t>> row_hashes{size_t{1} << kHashBucketBits};  // GUARDED_BY(mu)
  std::map<std::string, std::unique_ptr<PartitionFile>> partitions;  // GUARDED_BY(mu)
  std::atomic<bool> failed{false};
  size_t buffer_budget = 0;                  // RunOptions::buffer_budget_bytes
  std::atomic<size_t> partition_budget{0};   // its share per open partition

  Run(const JobSpec& j, catalog::Catalog& c) : job(j), cat(c), store(*c.store()) {}
};

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

// How many values of v repeat an earlier one (an open-addressing set; 0 marks an empty slot,
// so a zero hash is counted apart). Linear in v, unlike sorting.
uint64_t CountRepeats(const std::vector<uint64_t>& v) {
  size_t cap = 16;
  while (cap < v.size() * 2) cap <<= 1;
  std::vector<uint64_t> slots(cap, 0);
  uint64_t repeats = 0, zeros = 0;
  for (uint64_t h : v) {
    if (h == 0) {
      repeats += zeros++ > 0;
      continue;
    }
    size_t i = static_cast<size_t>(h) & (cap - 1);  // the bucket came from the top bits
    while (slots[i] != 0 && slots[i] != h) i = (i + 1) & (cap - 1);
    if (slots[i] == h) ++repeats;
    else slots[i] = h;
  }
  return repeats;
}

// Hash of row r's first `fields` text fields, for counting exact duplicates. Equal fields give
// equal hashes however the rows were quoted: the hashed bytes are the fields joined by the
// delimiter when none is NULL or holds the delimiter - for unquoted fields exactly the record's
// bytes in the file, hashed in place with one call - and otherwise each field length-prefixed
// (NULL marked apart) under another seed. Files with other delimiters hash apart.
uint64_t RawRowHash(const Batch& text, size_t fields, size_t r, char delimiter, std::string& scratch) {
  if (fields == 0) return 0;
  bool joinable = true, contiguous = true;
  const char* begin = nullptr;
  const char* prev_end = nullptr;
  for (size_t f = 0; f < fields; ++f) {
    const ColumnVector& c = text.columns[f];
    if (!c.IsValid(r)) {
      joinable = false;
      break;
    }
    std::string_view s = c.GetValue<std::string_view>(r);
    // Contiguous: one byte (the delimiter, as fields are unquoted) between this and the last.
    if (f == 0) begin = s.data();
    else contiguous &= s.data() == prev_end + 1 && prev_end[0] == delimiter;
    prev_end = s.data() + s.size();
  }
  if (joinable && contiguous) return XXH3_64bits(begin, static_cast<size_t>(prev_end - begin));
  scratch.clear();
  if (joinable) {
    for (size_t f = 0; f < fields && joinable; ++f) {
      std::string_view s = text.columns[f].GetValue<std::string_view>(r);
      if (s.find(delimiter) != std::string_view::npos) joinable = false;
      if (f > 0) scratch.push_back(delimiter);
      scratch.append(s);
    }
    if (joinable) return XXH3_64bits(scratch.data(), scratch.size());
    scratch.clear();
  }
  for (size_t f = 0; f < fields; ++f) {
    const ColumnVector& c = text.columns[f];
    if (!c.IsValid(r)) {
      scratch.push_back('\x01');  // NULL
      continue;
    }
    std::string_view s = c.GetValue<std::string_view>(r);
    uint32_t len = static_cast<uint32_t>(s.size());
    scratch.push_back('\x02');
    scratch.append(reinterpret_cast<const char*>(&len), sizeof len);
    scratch.append(s);
  }
  return XXH3_64bits_withSeed(scratch.data(), scratch.size(), 0x51ed27);
}

// Hash of one row's value (any encoding; NULL hashes apart from every value).
uint64_t RowHash(const ColumnVector& v, size_t row) {
  if (!v.IsValid(row)) return 0x9ae16a3b2f90404fULL;
  switch (v.type().id) {
    case TypeId::kVarchar: {
      std::string_view s = v.GetValue<std::string_view>(row);
      return XXH3_64bits(s.data(), s.size());
    }
    case TypeId::kDate:
    case TypeId::kInt32: return XXH3_64bits_withSeed(nullptr, 0, static_cast<uint64_t>(v.GetValue<int32_t>(row)));
    case TypeId::kBoolean: return v.GetValue<uint8_t>(row) ? 1 : 2;
    default: return XXH3_64bits_withSeed(nullptr, 0, static_cast<uint64_t>(v.GetValue<int64_t>(row)));
  }
}

// Whether rows a and b have the same values in every partition column.
bool SamePartition(const Batch& b, const std::vector<size_t>& cols, size_t a, size_t r) {
  for (size_t c : cols) {
    const ColumnVector& v = b.columns[c];
    bool va = v.IsValid(a), vr = v.IsValid(r);
    if (va != vr) return false;
    if (!va) continue;
    switch (v.type().id) {
      case TypeId::kVarchar:
        if (v.GetValue<std::string_view>(a) != v.GetValue<std::string_view>(r)) return false;
        break;
      case TypeId::kDate:
      case TypeId::kInt32:
        if (v.GetValue<int32_t>(a) != v.GetValue<int32_t>(r)) return false;
        break;
      case TypeId::kBoolean:
        if (v.GetValue<uint8_t>(a) != v.GetValue<uint8_t>(r)) return false;
        break;
      default:
        if (v.GetValue<int64_t>(a) != v.GetValue<int64_t>(r)) return false;
    }
  }
  return true;
}

// Builds the raw text of a record from its text fields (for quarantine when the reader had
// parsed the row fine but a value could not be typed).
std::string RawRecord(const Batch& text, size_t fields, size_t row) {
  std::string r;
  for (size_t c = 0; c < fields; ++c) {
    if (c) r += ',';
    const ColumnVector& v = text.columns[c];
    if (!v.IsValid(row)) continue;
    csv::AppendField(r, v.GetValue<std::string_view>(row), csv::Dialect{});
  }
  return r;
}

// Gathers rows `keep` of every column of `in` into `out` (flat vectors).
void Compact(Batch& in, const std::vector<uint32_t>& keep, Batch* out) {
  out->columns.clear();
  for (ColumnVector& src : in.columns) {
    ColumnVector dst(src.type(), std::max<size_t>(keep.size(), 1));
    dst.Resize(keep.size());
    const size_t w = src.type().byte_width();
    const uint8_t* s = src.data<uint8_t>();
    uint8_t* d = dst.data<uint8_t>();
    // A fixed width per loop: memcpy with a run-time size is a libc call per value.
    auto gather = [&]<size_t kWidth>() {
      for (size_t i = 0; i < keep.size(); ++i) std::memcpy(d + i * kWidth, s + keep[i] * kWidth, kWidth);
    };
    switch (w) {
      case 1: gather.template operator()<1>(); break;
      case 4: gather.template operator()<4>(); break;
      case 8: gather.template operator()<8>(); break;
      case 16: gather.template operator()<16>(); break;
      default:
        for (size_t i = 0; i < keep.size(); ++i) std::memcpy(d + i * w, s + keep[i] * w, w);
    }
    if (src.validity()) {
      for (size_t i = 0; i < keep.size(); ++i)
        if (!src.IsValid(keep[i])) dst.SetNull(i);
    }
    if (src.type().id == TypeId::kVarchar) {
      // The views point into `src`; move its string storage along by keeping `src` alive.
      auto holder = std::make_shared<ColumnVector>(std::move(src));
      dst.KeepAlive(holder);
    }
    out->columns.push_back(std::move(dst));
  }
  out->num_rows = keep.size();
  out->selection.reset();
}

bool RuleFails(const ColumnRule& rule, const RE2* re, const ColumnVector& v, size_t row) {
  const bool valid = v.IsValid(row);
  switch (rule.check) {
    case RuleCheck::kNotNull: return !valid;
    case RuleCheck::kRange: {
      if (!valid) return false;
      double x;
      switch (v.type().id) {
        case TypeId::kDouble: x = v.GetValue<double>(row); break;
        case TypeId::kInt64: x = static_cast<double>(v.GetValue<int64_t>(row)); break;
        case TypeId::kInt32: x = v.GetValue<int32_t>(row); break;
        default: return false;
      }
      return (rule.min && x < *rule.min) || (rule.max && x > *rule.max);
    }
    case RuleCheck::kAllowed: {
      if (!valid || v.type().id != TypeId::kVarchar) return false;
      std::string_view s = v.GetValue<std::string_view>(row);
      return std::find(rule.values.begin(), rule.values.end(), s) == rule.values.end();
    }
    case RuleCheck::kRegex: {
      if (!valid || v.type().id != TypeId::kVarchar || re == nullptr) return false;
      std::string_view s = v.GetValue<std::string_view>(row);
      return !RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *re);
    }
  }
  return false;
}

// Applies a kFix rule to one value: ranges clamp, the other checks take fix_value (or NULL).
void FixValue(const ColumnRule& rule, ColumnVector& v, size_t row) {
  if (rule.check == RuleCheck::kRange && v.IsValid(row) && v.type().id == TypeId::kDouble) {
    double& x = v.data<double>()[row];
    if (rule.min) x = std::max(x, *rule.min);
    if (rule.max) x = std::min(x, *rule.max);
    return;
  }
  if (rule.fix_value && v.type().id == TypeId::kVarchar) {
    v.SetString(row, *rule.fix_value);
    v.SetValid(row);
  } else {
    v.SetNull(row);
  }
}

// Processes one batch of text rows from `file`: everything between the CSV reader and the
// partition writers. Called concurrently for different morsels.
Status ProcessBatch(Run& run, const std::string& file, const std::vector<int>& file_to_source,
                    char delimiter, Batch& text) {
  const size_t n = text.num_rows;
  const size_t fields = file_to_source.size();  // then "__line", added by the reader
  const ColumnVector& lines = text.columns[fields];
  Counters local;
  std::vector<Quarantined> rejected;
  std::vector<uint64_t> hashes(n);

  // Exact-duplicate detection hashes the raw fields (NULL differs from any text).
  std::string scratch;
  for (size_t r = 0; r < n; ++r) hashes[r] = RawRowHash(text, fields, r, delimiter, scratch);

  // Typing: one typed column per source column; columns the file lacks stay NULL.
  Batch typed(run.source_schema, std::max<size_t>(n, 1));
  typed.SetRows(n);
  std::vector<uint8_t> bad(n, 0);
  std::vector<std::string> reason(n);
  std::vector<uint32_t> bad_column(n, 0);
  for (size_t s = 0; s < run.source_schema.size(); ++s) {
    ColumnVector& out = typed.columns[s];
    int f = -1;
    for (size_t k = 0; k < file_to_source.size(); ++k)
      if (file_to_source[k] == static_cast<int>(s)) f = static_cast<int>(k);
    if (f < 0) {
      for (size_t r = 0; r < n; ++r) out.SetNull(r);
      continue;
    }
    const ColumnVector& in = text.columns[static_cast<size_t>(f)];
    const Cleaner& cl = run.cleaners[s];
    const std::string& name = run.source_schema[s].name;
    uint64_t fixed = 0;
    auto fail = [&](size_t r, std::string_view raw) {
      if (!bad[r]) {
        bad[r] = 1;
        reason[r] = "type:" + name + ": " + cl.ErrorReason(raw);
        bad_column[r] = static_cast<uint32_t>(f + 1);
      }
      out.SetNull(r);
    };
    for (size_t r = 0; r < n; ++r) {
      if (!in.IsValid(r)) {
        out.SetNull(r);
        continue;
      }
      std::string_view raw = in.GetValue<std::string_view>(r);
      CleanOutcome o = CleanOutcome::kValue;
      switch (out.type().id) {
        case TypeId::kVarchar:  // a view into `text`, which outlives every use in this call
          out.data<std::string_view>()[r] = raw;
          break;
        case TypeId::kDouble: o = cl.CleanDouble(raw, &out.data<double>()[r]); break;
        case TypeId::kInt64: o = cl.CleanInt64(raw, &out.data<int64_t>()[r]); break;
        case TypeId::kDate: o = cl.CleanDate(raw, &out.data<int32_t>()[r]); break;
        case TypeId::kTimestamp: o = cl.CleanTimestamp(raw, &out.data<int64_t>()[r]); break;
        case TypeId::kBoolean: {
          bool b = false;
          o = cl.CleanBool(raw, &b);
          out.data<uint8_t>()[r] = b;
          break;
        }
        default: {
          // Other types (DECIMAL, INTEGER, REAL) are read as DOUBLE by the cleaner's rules.
          double d;
          o = cl.CleanDouble(raw, &d);
          if (o == CleanOutcome::kValue || o == CleanOutcome::kFixed) {
            if (out.type().id == TypeId::kInt32) out.data<int32_t>()[r] = static_cast<int32_t>(d);
            else if (out.type().id == TypeId::kFloat) out.data<float>()[r] = static_cast<float>(d);
            else o = CleanOutcome::kError;
          }
        }
      }
      if (o == CleanOutcome::kNull) out.SetNull(r);
      else if (o == CleanOutcome::kError) fail(r, raw);
      else if (o == CleanOutcome::kFixed) ++fixed;
    }
    if (fixed) local.fixed[name] += fixed;
  }

  // Rules and flags, on the typed values.
  std::vector<std::string> flags(run.has_flags ? n : 0);
  auto add_flag = [&](size_t r, const std::string& name) {
    local.flagged[name]++;
    if (!run.has_flags) return;
    if (!flags[r].empty()) flags[r] += ';';
    flags[r] += name;
  };
  for (size_t k = 0; k < run.job.rules.size(); ++k) {
    const ColumnRule& rule = run.job.rules[k];
    auto col = run.source_schema.FindField(rule.column);
    if (!col) continue;  // validated at start
    ColumnVector& v = typed.columns[*col];
    for (size_t r = 0; r < n; ++r) {
      if (bad[r] || !RuleFails(rule, run.rule_regex[k].get(), v, r)) continue;
      switch (rule.action) {
        case RuleAction::kReject:
          bad[r] = 1;
          reason[r] = "rule:" + rule.name;
          bad_column[r] = static_cast<uint32_t>(*col + 1);
          break;
        case RuleAction::kFlag: add_flag(r, rule.name); break;
        case RuleAction::kFix:
          FixValue(rule, v, r);
          local.fixed[rule.column]++;
          break;
      }
    }
  }
  for (const auto& [column, values] : run.job.flag_values) {
    auto col = run.source_schema.FindField(column);
    if (!col || typed.columns[*col].type().id != TypeId::kVarchar) continue;
    const ColumnVector& v = typed.columns[*col];
    for (size_t r = 0; r < n; ++r) {
      if (bad[r] || !v.IsValid(r)) continue;
      std::string_view s = csv::TrimSpaces(v.GetValue<std::string_view>(r));
      for (const std::string& want : values) {
        if (s.size() == want.size() && std::equal(s.begin(), s.end(), want.begin(), [](char a, char b) {
              return AsciiUpper(a) == AsciiUpper(b);
            })) {
          add_flag(r, column + "_" + want);
          break;
        }
      }
    }
  }

  std::vector<uint32_t> keep;
  keep.reserve(n);
  for (size_t r = 0; r < n; ++r) {
    if (!bad[r]) {
      keep.push_back(static_cast<uint32_t>(r));
      continue;
    }
    std::string code = reason[r].substr(0, reason[r].find(':', reason[r].find(':') + 1));
    local.by_reason[code]++;
    rejected.push_back({file, static_cast<uint64_t>(lines.GetValue<int64_t>(r)), bad_column[r],
                        RawRecord(text, fields, r), reason[r]});
  }
  local.quarantined = n - keep.size();
  local.loaded = keep.size();

  // Report figures over the loaded rows.
  for (uint32_t r : keep) {
    if (run.amount_col) {
      const ColumnVector& a = typed.columns[*run.amount_col];
      if (!a.IsValid(r)) local.missing_amount++;
      else if (a.type().id == TypeId::kDouble && a.data<double>()[r] < 0) local.negative++;
    }
    if (run.status_col) {
      const ColumnVector& s = typed.columns[*run.status_col];
      if (s.IsValid(r) && csv::TrimSpaces(s.GetValue<std::string_view>(r)) == "OUT") local.out_rows++;
    }
    if (run.date_col) {
      const ColumnVector& d = typed.columns[*run.date_col];
      if (d.IsValid(r) && d.type().id == TypeId::kDate) {
        int32_t v = d.data<int32_t>()[r];
        local.date_min = std::min(local.date_min, v);
        local.date_max = std::max(local.date_max, v);
      }
    }
  }

  // Mapping over the kept rows; the flags travel as a column so they stay with their rows.
  Batch kept;
  if (keep.size() == n) kept = std::move(typed);  // nothing quarantined: no gather needed
  else Compact(typed, keep, &kept);
  if (run.has_flags) {
    ColumnVector fv(DataType::Varchar(), std::max<size_t>(keep.size(), 1));
    fv.Resize(keep.size());
    for (size_t i = 0; i < keep.size(); ++i) {
      const std::string& f = flags[keep[i]];
      if (f.empty()) fv.SetNull(i);
      else fv.SetString(i, f);
    }
    kept.columns.push_back(std::move(fv));
  }
  Batch mapped;
  SL_RETURN_IF_ERROR(run.mapper->Map(std::move(kept), &mapped));

  // PII: tokenize declared columns; mask/tokenize entities found in the other strings.
  std::string redacted;
  std::vector<uint32_t> valid_rows;
  std::vector<std::string_view> to_tokenize;
  for (size_t c = 0; c < mapped.columns.size(); ++c) {
    ColumnVector& v = mapped.columns[c];
    if (v.type().id != TypeId::kVarchar) continue;
    auto* views = v.data<std::string_view>();
    if (run.tokenize_col[c]) {
      // All tokens of the column in one call (two values hashed at once), written straight into
      // the column's string heap.
      valid_rows.clear();
      to_tokenize.clear();
      for (size_t r = 0; r < mapped.num_rows; ++r) {
        if (!v.IsValid(r)) continue;
        valid_rows.push_back(static_cast<uint32_t>(r));
        to_tokenize.push_back(views[r]);
      }
      if (to_tokenize.empty()) continue;
      char* tokens = v.heap().Allocate(to_tokenize.size() * Tokenizer::kTokenSize);
      run.tokenizer->TokensInto(to_tokenize.data(), to_tokenize.size(), tokens);
      for (size_t i = 0; i < valid_rows.size(); ++i)
        views[valid_rows[i]] = std::string_view(tokens + i * Tokenizer::kTokenSize, Tokenizer::kTokenSize);
      local.tokenized += valid_rows.size();
    } else if (run.scan_col[c]) {
      for (size_t r = 0; r < mapped.num_rows; ++r) {
        if (!v.IsValid(r)) continue;
        if (PiiScanner::Redact(views[r], run.job.pii_scan,
                               run.tokenizer ? &*run.tokenizer : nullptr, &redacted, &local.pii))
          views[r] = v.AddString(redacted);
      }
    }
  }

  // Partitioning: rows grouped by their partition values (hashed from the typed values; the
  // folder text is built once per group), each group written with a selection.
  struct Group {
    size_t first_row;
    std::vector<uint32_t> rows;
  };
  std::vector<Group> groups;
  {
    std::vector<uint64_t> key_hash(mapped.num_rows, 0x2545f4914f6cdd1dULL);
    for (size_t pc : run.partition_cols) {
      const ColumnVector& v = mapped.columns[pc];
      for (size_t r = 0; r < mapped.num_rows; ++r) key_hash[r] = XXH3_64bits_withSeed(nullptr, 0, key_hash[r] ^ RowHash(v, r));
    }
    std::unordered_map<uint64_t, std::vector<size_t>> by_hash;  // hash -> groups (collisions)
    for (size_t r = 0; r < mapped.num_rows; ++r) {
      std::vector<size_t>& candidates = by_hash[key_hash[r]];
      size_t g = SIZE_MAX;
      for (size_t c : candidates) {
        if (SamePartition(mapped, run.partition_cols, groups[c].first_row, r)) {
          g = c;
          break;
        }
      }
      if (g == SIZE_MAX) {
        g = groups.size();
        candidates.push_back(g);
        groups.push_back(Group{r, {}});
      }
      groups[g].rows.push_back(static_cast<uint32_t>(r));
    }
  }
  Batch data;
  for (size_t c : run.data_cols) data.columns.push_back(std::move(mapped.columns[c]));
  data.num_rows = mapped.num_rows;
  std::vector<PartitionFile*> files(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    std::string path;
    std::vector<catalog::PartitionValue> values;
    for (size_t k = 0; k < run.partition_cols.size(); ++k) {
      auto text_value = PartitionText(mapped.columns[run.partition_cols[k]], groups[g].first_row);
      const std::string& key = run.output_schema[run.partition_cols[k]].name;
      if (k) path += '/';
      path += key + "=" + (text_value ? EscapeForPath(*text_value) : kHiveNull);
      values.push_back({key, text_value});
    }
    std::lock_guard<std::mutex> lock(run.mu);
    auto& slot = run.partitions[path];
    if (!slot) {
      slot = std::make_unique<PartitionFile>();
      slot->path = path;
      slot->values = std::move(values);
      run.partition_budget = run.buffer_budget / run.partitions.size();
    }
    files[g] = slot.get();
  }
  // Every thread's batch touches most partitions: take the free ones first rather than queueing
  // behind another thread on the same partition lock.
  auto write_group = [&](size_t g, std::unique_lock<std::mutex>& held) -> Status {
    PartitionFile* p = files[g];
    const std::vector<uint32_t>& rows = groups[g].rows;
    SelectionVector sel(rows.size());
    sel.Resize(rows.size());
    std::copy(rows.begin(), rows.end(), sel.data());
    data.selection = std::move(sel);
    if (!p->writer) SL_RETURN_IF_ERROR(OpenPartitionFile(run, *p));
    SL_RETURN_IF_ERROR(p->writer->Write(data));
    p->rows += rows.size();
    p->rows_in_file += rows.size();
    if (p->writer->buffered_bytes() > run.partition_budget.load(std::memory_order_relaxed))
      SL_RETURN_IF_ERROR(p->writer->FlushRowGroup());
    if (p->stream->bytes_written() >= run.job.target_file_size_mb << 20) SL_RETURN_IF_ERROR(ClosePartitionFile(run, *p));
    held.unlock();
    return Status::OK();
  };
  std::vector<size_t> busy;
  for (size_t g = 0; g < groups.size(); ++g) {
    std::unique_lock<std::mutex> held(files[g]->mu, std::try_to_lock);
    if (!held.owns_lock()) {
      busy.push_back(g);
      continue;
    }
    SL_RETURN_IF_ERROR(write_group(g, held));
  }
  for (size_t g : busy) {
    std::unique_lock<std::mutex> held(files[g]->mu);
    SL_RETURN_IF_ERROR(write_group(g, held));
  }

  std::lock_guard<std::mutex> lock(run.mu);
  run.counters.Merge(local);
  for (auto& q : rejected) run.quarantine.push_back(std::move(q));
  for (uint64_t h : hashes) run.row_hashes[h >> (64 - Run::kHashBucketBits)].push_back(h);
  return Status::OK();
}

// The quarantine sink for rows the CSV reader itself could not parse.
class QuarantineSink final : public csv::RejectSink {
 public:
  explicit QuarantineSink(Run* run) : run_(run) {}
  void Reject(csv::RejectedRow row) override {
    std::lock_guard<std::mutex> lock(run_->mu);
    run_->counters.by_reason["malformed_row"]++;
    run_->counters.quarantined++;
    run_->quarantine.push_back({row.file, row.line, row.column, std::move(row.raw), "malformed_row: " + row.reason});
  }

 private:
  Run* run_;
};

Status Prepare(Run& run, const catalog::TableMetadata& source, const RunOptions& options) {
  const JobSpec& job = run.job;
  run.source_schema = source.schema();
  for (const Field& f : run.source_schema.fields) {
    std::string fmt = source.spec.properties.count("csv.format." + f.name)
                          ? source.spec.properties.at("csv.format." + f.name)
                          : "";
    SL_ASSIGN_OR_RETURN(Cleaner c, Cleaner::Make(f.type, fmt, source.spec.csv.null_tokens));
    run.cleaners.push_back(std::move(c));
  }
  run.amount_col = run.source_schema.FindField("amount");
  run.status_col = run.source_schema.FindField("status");
  run.date_col = run.source_schema.FindField("purchase_date");
  for (const ColumnRule& rule : job.rules) {
    if (!run.source_schema.FindField(rule.column))
      return Status::InvalidArgument("job '" + job.name + "': rule '" + rule.name + "' names column '" +
                                     rule.column + "', which source table '" + source.name() + "' does not have");
    if (rule.check == RuleCheck::kRegex) {
      auto re = std::make_unique<RE2>(rule.pattern, RE2::Quiet);
      if (!re->ok()) return Status::InvalidArgument("job '" + job.name + "': rule '" + rule.name + "': bad regex: " + re->error());
      run.rule_regex.push_back(std::move(re));
    } else {
      run.rule_regex.push_back(nullptr);
    }
  }
  run.has_flags = std::any_of(job.rules.begin(), job.rules.end(), [](const ColumnRule& r) { return r.action == RuleAction::kFlag; }) ||
                  !job.flag_values.empty();
  Schema mapper_input = run.source_schema;
  std::vector<std::string> passthrough;
  if (run.has_flags) {
    mapper_input.fields.push_back({kFlagsColumn, DataType::Varchar(), true});
    passthrough.push_back(kFlagsColumn);
  }
  auto mapper = internal::Mapper::Make(mapper_input, job.columns, passthrough);
  if (!mapper.ok()) return mapper.status().WithContext("job '" + job.name + "'");
  run.mapper = std::move(*mapper);
  run.output_schema = run.mapper->output_schema();
  for (const std::string& key : job.partition_by) {
    auto idx = run.output_schema.FindField(key);
    if (!idx) return Status::InvalidArgument("job '" + job.name + "': partition key '" + key + "' is not a target column");
    switch (run.output_schema[*idx].type.id) {
      case TypeId::kVarchar: case TypeId::kDate: case TypeId::kInt32: case TypeId::kInt64:
      case TypeId::kBoolean: case TypeId::kTimestamp: break;
      default:  // folder names of fractional values would not round-trip
        return Status::InvalidArgument("job '" + job.name + "': partition key '" + key + "' is " +
                                       run.output_schema[*idx].type.ToString() +
                                       "; partition by VARCHAR, DATE, INTEGER, BIGINT, BOOLEAN or TIMESTAMP");
    }
    run.partition_cols.push_back(*idx);
  }
  for (size_t c = 0; c < run.output_schema.size(); ++c) {
    if (std::find(run.partition_cols.begin(), run.partition_cols.end(), c) == run.partition_cols.end()) {
      run.data_cols.push_back(c);
      run.file_schema.fields.push_back(run.output_schema[c]);
    }
  }
  run.tokenize_col.assign(run.output_schema.size(), false);
  run.scan_col.assign(run.output_schema.size(), false);
  for (const std::string& col : job.pii_tokenize) {
    auto idx = run.output_schema.FindField(col);
    if (!idx) return Status::InvalidArgument("job '" + job.name + "': PII column '" + col + "' is not a target column");
    if (run.output_schema[*idx].type.id != TypeId::kVarchar)
      return Status::InvalidArgument("job '" + job.name + "': PII column '" + col + "' must be VARCHAR to be tokenized");
    if (std::find(run.partition_cols.begin(), run.partition_cols.end(), *idx) != run.partition_cols.end())
      return Status::InvalidArgument("job '" + job.name + "': PII column '" + col + "' cannot be a partition key (it would be in the path)");
    run.tokenize_col[*idx] = true;
  }
  for (size_t c = 0; c < run.output_schema.size(); ++c) {
    bool flags_col = run.output_schema[c].name == kFlagsColumn;
    run.scan_col[c] = job.pii_scan != PiiAction::kOff && !run.tokenize_col[c] && !flags_col &&
                      run.output_schema[c].type.id == TypeId::kVarchar;
  }
  bool need_key = !job.pii_tokenize.empty() || job.pii_scan == PiiAction::kTokenize;
  if (need_key) {
    std::string key = options.secret_key_hex;
    if (key.empty()) {
      auto k = run.store.Get("_system/secret.key");
      if (!k.ok()) return k.status().WithContext("the PII secret (_system/secret.key; run 'saleslake init')");
      key = *k;
    }
    SL_ASSIGN_OR_RETURN(Tokenizer t, Tokenizer::FromKeyHex(key));
    run.tokenizer = std::move(t);
  }
  SL_ASSIGN_OR_RETURN(run.writer_options.compression, parquet::ParseCompression(job.compression));
  run.writer_options.row_group_rows = options.row_group_rows;
  run.buffer_budget = options.buffer_budget_bytes;
  run.writer_options.key_value_metadata.emplace_back("saleslake.job", job.name);
  run.writer_options.key_value_metadata.emplace_back("saleslake.run_id", run.run_id);
  return Status::OK();
}

Status ReadOneFile(Run& run, const catalog::DataFile& df, RunReport& report) {
  SL_ASSIGN_OR_RETURN(auto file, run.store.OpenRead(df.key));
  std::shared_ptr<const io::RandomAccessFile> shared(std::move(file));
  SL_ASSIGN_OR_RETURN(csv::SniffResult sniff, csv::Sniff(*shared));
  // File columns are matched to the source table by name.
  std::vector<int> file_to_source;
  Schema text_schema;
  for (const csv::ColumnSniff& c : sniff.columns) {
    auto idx = run.source_schema.FindField(c.name);
    file_to_source.push_back(idx ? static_cast<int>(*idx) : -1);
    text_schema.fields.push_back({c.name, DataType::Varchar(), true});
  }
  csv::ReadOptions ro;
  ro.dialect = sniff.dialect;
  ro.schema = text_schema;
  ro.line_column = true;  // quarantine names the line of every row the ETL rejects
  // No copy of the text: ProcessBatch and the partition writers copy what they keep before the
  // sink returns, and `shared` outlives the read.
  ro.borrow_strings = true;
  QuarantineSink rejects(&run);
  auto stats = csv::ReadCsv(*shared, ro, [&](size_t, Batch& batch) -> Status {
    if (run.failed.load()) return Status::Cancelled("the run failed");
    Status s = ProcessBatch(run, df.key, file_to_source, ro.dialect.delimiter, batch);
    if (!s.ok()) run.failed = true;
    return s;
  }, &rejects);
  if (!stats.ok()) return stats.status().WithContext(df.key);
  report.rows_read += stats->rows_read;
  report.blank_lines += stats->blank_lines;
  report.bytes_read += shared->size();
  report.input_files.push_back(df.key);
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

void EvaluateQuality(const JobSpec& job, RunReport& report) {
  for (const QualityThreshold& t : job.quality) {
    double value = 0;
    if (t.metric == "missing_amount_share") value = report.share(report.missing_amount);
    else if (t.metric == "out_share") value = report.share(report.out_rows);
    else if (t.metric == "negative_amount_share") value = report.share(report.negative_amounts);
    else if (t.metric == "quarantined_share") value = report.rows_read ? static_cast<double>(report.rows_quarantined) / report.rows_read : 0;
    else if (t.metric == "duplicate_share") value = report.rows_read ? static_cast<double>(report.exact_duplicates) / report.rows_read : 0;
    auto raise = [&](const char* level, double threshold) {
      char msg[256];
      std::snprintf(msg, sizeof msg, "%s = %.4f is above the %s threshold %.4f", t.metric.c_str(), value, level, threshold);
      report.alerts.push_back({level, t.metric, value, threshold, msg});
    };
    if (t.fail && value > *t.fail) raise("fail", *t.fail);
    else if (t.warn && value > *t.warn) raise("warn", *t.warn);
  }
}

Status AppendAlerts(io::ObjectStore& store, const JobSpec& job, const RunReport& report) {
  if (report.alerts.empty()) return Status::OK();
  // Alerts go to _system/alerts.jsonl until topics and subscriptions exist; the store has no
  // append, so the object is rewritten (alerts are rare and small).
  std::string text;
  auto old = store.Get("_system/alerts.jsonl");
  if (old.ok()) text = *old;
  for (const Alert& a : report.alerts) {
    nlohmann::ordered_json j = {{"time", UtcNow()}, {"topic", job.alert_topic}, {"job", job.name},
                                {"run_id", report.run_id}, {"level", a.level}, {"metric", a.metric},
                                {"value", a.value}, {"threshold", a.threshold}, {"message", a.message}};
    text += j.dump() + "\n";
  }
  return store.Put("_system/alerts.jsonl", text);
}

Status WriteQuarantine(Run& run, RunReport& report) {
  if (run.quarantine.empty()) return Status::OK();
  std::sort(run.quarantine.begin(), run.quarantine.end(), [](const Quarantined& a, const Quarantined& b) {
    return std::tie(a.file, a.line) < std::tie(b.file, b.line);
  });
  std::string key = "quarantine/" + run.job.name + "/" + run.run_id + "/rejected.jsonl";
  SL_ASSIGN_OR_RETURN(auto out, run.store.OpenWrite(key));
  for (const Quarantined& q : run.quarantine) {
    nlohmann::ordered_json j = {{"file", q.file}, {"line", q.line}, {"column", q.column}, {"reason", q.reason}, {"raw", q.raw}};
    SL_RETURN_IF_ERROR(out->Append(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
  }
  SL_RETURN_IF_ERROR(out->Commit());
  report.quarantine_key = key;
  return Status::OK();
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

  // The bookmark: source files (key + etag) that earlier runs committed. Its text is compared
  // at commit time: if another run committed meanwhile, this run must not commit on top.
  std::map<std::string, std::string> bookmark;
  std::string bookmark_text;
  if (target && target->spec.properties.count(BookmarkProperty(job.name))) {
    bookmark_text = target->spec.properties.at(BookmarkProperty(job.name));
    try {
      bookmark = nlohmann::json::parse(bookmark_text).get<std::map<std::string, std::string>>();
    } catch (const std::exception& e) {
      return Status::Corruption("job '" + job.name + "': unreadable bookmark in table '" + job.target_table + "': " + e.what());
    }
  }
  SL_ASSIGN_OR_RETURN(auto files, run.cat.ListFiles(*source));
  std::vector<catalog::DataFile> todo;
  for (const auto& f : files) {
    auto it = bookmark.find(f.key);
    if (it == bookmark.end() || it->second != f.etag) todo.push_back(f);
  }
  SL_RETURN_IF_ERROR(RemoveOrphans(run, target.get()));
  if (todo.empty()) {
    report.status = "no_op";
    report.snapshot_id = target ? target->current_snapshot_id : 0;
    return report;
  }

  SL_RETURN_IF_ERROR(Prepare(run, *source, options));
  for (const catalog::DataFile& f : todo) SL_RETURN_IF_ERROR(ReadOneFile(run, f, report));

  // Close every partition file (the last row groups are encoded and compressed here, so in
  // parallel), collecting the data files to commit.
  std::vector<PartitionFile*> open_files;
  for (auto& [path, p] : run.partitions) open_files.push_back(p.get());
  std::vector<Status> closed(open_files.size());
  ThreadPool::Default().ParallelFor(open_files.size(), [&](size_t i) { closed[i] = ClosePartitionFile(run, *open_files[i]); });
  for (const Status& st : closed) SL_RETURN_IF_ERROR(st);
  std::vector<catalog::DataFile> written;
  for (auto& [path, p] : run.partitions) {
    report.rows_per_partition[path] = p->rows;
    for (auto& f : p->done) {
      report.bytes_written += f.size;
      written.push_back(std::move(f));
    }
  }
  report.files_written = written.size();

  const Counters& c = run.counters;
  report.rows_loaded = c.loaded;
  report.rows_quarantined = c.quarantined;
  report.quarantined_by_reason = c.by_reason;
  report.flagged = c.flagged;
  report.fixed_values = c.fixed;
  report.missing_amount = c.missing_amount;
  report.out_rows = c.out_rows;
  report.negative_amounts = c.negative;
  report.pii_detections = c.pii;
  report.tokenized_values = c.tokenized;
  if (c.date_min <= c.date_max) {
    report.date_min = FormatDate(c.date_min);
    report.date_max = FormatDate(c.date_max);
  }
  std::vector<uint64_t> duplicates(run.row_hashes.size(), 0);
  ThreadPool::Default().ParallelFor(run.row_hashes.size(), [&](size_t b) {
    duplicates[b] = CountRepeats(run.row_hashes[b]);
    std::vector<uint64_t>().swap(run.row_hashes[b]);
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

  int pause = options.pause_before_commit_ms;
  if (const char* env = std::getenv("SALESLAKE_TEST_PAUSE_BEFORE_COMMIT_MS")) pause = std::atoi(env);
  if (pause > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause));

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
  std::map<std::string, std::string> new_bookmark = bookmark;
  for (const auto& f : todo) new_bookmark[f.key] = f.etag;
  auto committed = run.cat.Commit(job.target_table, [&](const catalog::TableMetadata& base) -> Result<catalog::TableChange> {
    auto prop = base.spec.properties.find(BookmarkProperty(job.name));
    std::string base_text = prop == base.spec.properties.end() ? std::string() : prop->second;
    if (base_text != bookmark_text)
      return Status::Aborted("another run of job '" + job.name + "' committed meanwhile; run it again");
    catalog::TableChange change;
    change.operation = "append";
    change.add_files = written;
    change.set_properties[BookmarkProperty(job.name)] = nlohmann::json(new_bookmark).dump();
    change.allow_empty = true;
    return change;
  });
  if (!committed.ok()) {
    for (const auto& f : written) (void)run.store.Delete(f.key);
    return committed.status();
  }
  report.snapshot_id = committed->metadata->current_snapshot_id;
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
