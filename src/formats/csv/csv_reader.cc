#include "formats/csv/csv_reader.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <fmt/format.h>

#include "common/thread_pool.h"
#include "formats/csv/internal/tokenizer.h"
#include "formats/csv/value_parse.h"

namespace saleslake::csv {

void CollectingRejectSink::Reject(RejectedRow row) {
  MutexLock lock(mu_);
  rows_.push_back(std::move(row));
}

std::vector<RejectedRow> CollectingRejectSink::TakeSorted() {
  MutexLock lock(mu_);
  std::vector<RejectedRow> out = std::move(rows_);
  rows_.clear();
  std::stable_sort(out.begin(), out.end(), [](const RejectedRow& a, const RejectedRow& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return out;
}

namespace {

using internal::Tokenizer;

constexpr size_t kMaxRawBytes = 64 << 10;

// Shows a value in an error message: quoted, shortened, control bytes escaped.
std::string Show(std::string_view v) {
  std::string out = "'";
  size_t n = std::min<size_t>(v.size(), 60);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c < 32 || c == 127) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  if (v.size() > n) out += "...";
  return out + "'";
}

struct ColumnPlan {
  size_t field;  // index in the record
  DataType type;
  std::string name;
  DateTimeFormat format;
};

// Converts one tokenized record into row `row` of a batch. Shared read-only by all morsels.
class RowConverter {
 public:
  RowConverter(const ReadOptions& options, std::vector<ColumnPlan> plan)
      : plan_(std::move(plan)), nulls_(options.dialect.null_tokens), borrow_(options.borrow_strings) {
    for (const auto& t : nulls_) max_null_len_ = std::max(max_null_len_, t.size());
    has_empty_null_ = std::find(nulls_.begin(), nulls_.end(), "") != nulls_.end();
  }
  const std::vector<ColumnPlan>& plan() const { return plan_; }

  // False with the 1-based column and the reason when a value does not fit its column.
  bool Convert(Tokenizer& tok, Batch& batch, size_t row, uint32_t* column,
               std::string* reason) const {
    for (size_t c = 0; c < plan_.size(); ++c) {
      const ColumnPlan& p = plan_[c];
      const internal::FieldRef& f = tok.field(p.field);
      ColumnVector& col = batch.columns[c];
      const size_t len = static_cast<size_t>(f.end - f.begin);
      bool is_null = false;
      if (!f.quoted) {
        if (len == 0) is_null = has_empty_null_;
        else if (len <= max_null_len_) is_null = IsNullToken(std::string_view(f.begin, len));
      } else if (len == 0 && p.type.id != TypeId::kVarchar) {
        is_null = true;
      }
      if (is_null) {
        col.SetNull(row);
        continue;
      }
      std::string_view text = tok.Text(p.field);
      bool ok = true;
      switch (p.type.id) {
        case TypeId::kVarchar: {
          size_t bad = internal::FindInvalidUtf8(text);
          if (bad != std::string_view::npos) {
            *column = static_cast<uint32_t>(p.field + 1);
            *reason = fmt::format("invalid UTF-8 in column {} (byte 0x{:02x} at offset {})",
                                  p.name, static_cast<unsigned char>(text[bad]), bad);
            return false;
          }
          // Unescaped text is a view of the input itself (see ReadOptions::borrow_strings).
          col.data<std::string_view>()[row] = borrow_ && !f.escaped ? text : col.AddString(text);
          break;
        }
        case TypeId::kInt64:
          ok = ParseInt64(text, &col.data<int64_t>()[row]);
          break;
        case TypeId::kInt32:
          ok = ParseInt32(text, &col.data<int32_t>()[row]);
          break;
        case TypeId::kDouble:
          ok = ParseDouble(text, &col.data<double>()[row]);
          break;
        case TypeId::kFloat: {
          double d;
          ok = ParseDouble(text, &d);
          col.data<float>()[row] = static_cast<float>(d);
          break;
        }
        case TypeId::kBoolean: {
          bool b = false;
          ok = ParseBool(text, &b);
          col.data<uint8_t>()[row] = b;
          break;
        }
        case TypeId::kDate: {
          auto d = p.format.ParseDate(text);
          ok = d.has_value();
          if (ok) col.data<int32_t>()[row] = *d;
          break;
        }
        case TypeId::kTimestamp: {
          auto t = p.format.ParseTimestamp(text);
          ok = t.has_value();
          if (ok) col.data<int64_t>()[row] = *t;
          break;
        }
        case TypeId::kDecimal: {
          __int128 v;
          ok = ParseDecimal(text, p.type.precision, p.type.scale, &v);
          if (ok) {
            if (p.type.is_wide_decimal()) std::memcpy(col.data<__int128>() + row, &v, sizeof v);
            else col.data<int64_t>()[row] = static_cast<int64_t>(v);
          }
          break;
        }
        default:
          ok = false;
          break;
      }
      if (!ok) {
        *column = static_cast<uint32_t>(p.field + 1);
        *reason = fmt::format("cannot parse {} as {} in column {}", Show(text),
                              p.type.ToString(), p.name);
        if ((p.type.id == TypeId::kDate || p.type.id == TypeId::kTimestamp) &&
            !p.format.text().empty())
          *reason += fmt::format(" (format {})", p.format.text());
        return false;
      }
      col.SetValid(row);
    }
    return true;
  }

 private:
  bool IsNullToken(std::string_view s) const {
    for (const auto& t : nulls_)
      if (t == s) return true;
    return false;
  }

  std::vector<ColumnPlan> plan_;
  std::vector<std::string> nulls_;
  size_t max_null_len_ = 0;
  bool has_empty_null_ = false;
  bool borrow_ = false;
};

struct Counters {
  uint64_t rows_read = 0, rows_loaded = 0, rows_rejected = 0, blank_lines = 0, newlines = 0;
  void Add(const Counters& o) {
    rows_read += o.rows_read;
    rows_loaded += o.rows_loaded;
    rows_rejected += o.rows_rejected;
    blank_lines += o.blank_lines;
    newlines += o.newlines;
  }
};

struct MorselResult {
  uint64_t start = 0;
  uint64_t end = 0;      // first record start at or past the nominal end, or EOF
  bool aborted = false;  // a speculative parse ran past its look-ahead limit
  Counters counts;
  std::vector<Batch> batches;
  std::vector<RejectedRow> rejects;  // line = newlines before the record within the morsel
  Status error;
};

// Runs one read: the morsel chain (see ReadCsv in the header).
class ReadJob {
 public:
  void set_source(const io::RandomAccessFile* source) { source_ = source; }
  ReadJob(std::string_view data, uint64_t data_start, uint64_t line_base,
          const ReadOptions& options, const RowConverter& conv, const Schema& out_schema,
          size_t expected_fields, const std::string& file_name, const BatchSink& sink,
          RejectSink* rejects)
      : data_(data),
        options_(options),
        conv_(conv),
        out_schema_(out_schema),
        expected_fields_(expected_fields),
        file_name_(file_name),
        sink_(sink),
        rejects_(rejects),
        data_start_(data_start),
        prev_end_(data_start),
        lines_before_(line_base) {
    const uint64_t body = data.size() - data_start;
    const uint64_t mb = std::max<uint64_t>(options.morsel_bytes, 1);
    num_morsels_ = body == 0 ? 1 : static_cast<size_t>((body + mb - 1) / mb);
    morsel_bytes_ = mb;
    results_.resize(num_morsels_);
    int next_col = static_cast<int>(conv.plan().size());
    if (options.line_column) line_col_ = next_col++;
    if (options.raw_column) raw_col_ = next_col++;
  }

  Status Run(size_t threads) {
    ThreadPool::Default().ParallelFor(
        num_morsels_, [this](size_t i) { RunMorsel(i); }, threads);
    MutexLock lock(mu_);
    return error_;
  }

  Counters totals() const {
    MutexLock lock(mu_);
    return totals_;
  }

 private:
  uint64_t NominalStart(size_t i) const {
    return std::min<uint64_t>(data_start_ + i * morsel_bytes_, data_.size());
  }
  uint64_t NominalEnd(size_t i) const {
    return i + 1 == num_morsels_ ? data_.size() : NominalStart(i + 1);
  }

  void RunMorsel(size_t i) {
    if (stop_.load(std::memory_order_relaxed)) return;
    mu_.lock();
    // Back-pressure: speculative morsels buffer their batches until the chain reaches them, so
    // a thread may not run further ahead of the chain than max_ahead_ morsels (a slow sink in
    // the chain would otherwise let the file pile up in memory). The morsel at next_ is always
    // claimed by a thread that does not wait here, so the chain keeps moving.
    while (!stop_.load() && i >= next_ + max_ahead_) ahead_cv_.Wait(mu_);
    if (stop_.load()) {
      mu_.unlock();
      return;
    }
    // Every earlier morsel is done when i is the chain's next: its true start is known. It is
    // still parsed into a buffer and delivered outside the chain (RunChain), so that a slow
    // sink (the ETL's per-batch work) runs on every thread instead of inside the chain.
    const bool exact = next_ == i;
    const uint64_t exact_start = prev_end_;
    mu_.unlock();
    // Guess: the first line start at or after the nominal start.
    uint64_t a = NominalStart(i);
    uint64_t s = exact ? exact_start : a;
    if (!exact && a > 0 && data_[a - 1] != '\n') {
      const void* nl = std::memchr(data_.data() + a, '\n', data_.size() - a);
      s = nl ? static_cast<uint64_t>(static_cast<const char*>(nl) - data_.data()) + 1
             : data_.size();
    }
    auto res = std::make_unique<MorselResult>();
    ParseRange(i, s, /*direct=*/false, res.get());
    mu_.lock();
    results_[i] = std::move(res);
    if (!chain_busy_) {
      chain_busy_ = true;
      RunChain();
    }
    mu_.unlock();
  }

  // REQUIRES: chain_busy_ set by this thread (it is cleared on return).
  void RunChain() SL_REQUIRES(mu_) {
    while (next_ < num_morsels_ && results_[next_] && !stop_.load()) {
      size_t k = next_;
      std::unique_ptr<MorselResult> res = std::move(results_[k]);
      if (res->start == prev_end_ && !res->aborted) {
        // The guess was right: account for it in order, then deliver without holding the chain.
        uint64_t line_base = lines_before_ + 1;
        uint64_t allowed = options_.max_rejected_rows - std::min(options_.max_rejected_rows,
                                                                 totals_.rows_rejected);
        totals_.Add(res->counts);
        lines_before_ += res->counts.newlines;
        prev_end_ = res->end;
        ++next_;
        ahead_cv_.NotifyAll();
        chain_busy_ = false;
        mu_.unlock();
        Deliver(k, *res, line_base, allowed);
        if (source_) source_->DoneWith(res->start, res->end - res->start);
        res.reset();
        mu_.lock();
        if (chain_busy_) return;
        chain_busy_ = true;
        continue;
      }
      // Wrong guess (a quoted newline crossed the boundary): parse again from the true start.
      uint64_t start = prev_end_;
      direct_line_base_ = lines_before_ + 1;  // read here, under mu_ (the chain is ours)
      mu_.unlock();
      res.reset();
      ParseDirect(k, start);
      mu_.lock();
    }
    chain_busy_ = false;
  }

  // Parses morsel i from a known record start, delivering as it goes. Holds the chain.
  void ParseDirect(size_t i, uint64_t start) {
    MorselResult res;
    ParseRange(i, start, /*direct=*/true, &res);
    if (res.error.ok() && !stop_.load() && options_.on_morsel_end) res.error = options_.on_morsel_end(i);
    if (source_ && res.end > start) source_->DoneWith(start, res.end - start);
    MutexLock lock(mu_);
    if (!res.error.ok()) Fail(res.error);
    totals_.Add(res.counts);
    lines_before_ += res.counts.newlines;
    prev_end_ = res.end;
    ++next_;
    ahead_cv_.NotifyAll();
  }

  void Fail(Status s) SL_REQUIRES(mu_) {
    if (error_.ok()) error_ = std::move(s);
    stop_.store(true);
    ahead_cv_.NotifyAll();
  }
  void FailLocked(Status s) {
    MutexLock lock(mu_);
    Fail(std::move(s));
  }

  Status RejectError(const RejectedRow& r) const {
    return Status::InvalidArgument(fmt::format("{}:{}: {}", r.file, r.line, r.reason));
  }

  // Sends a speculative morsel's buffered output.
  void Deliver(size_t k, MorselResult& res, uint64_t line_base, uint64_t allowed) {
    if (!res.error.ok()) {
      FailLocked(res.error);
      return;
    }
    for (size_t j = 0; j < res.rejects.size(); ++j) {
      RejectedRow& r = res.rejects[j];
      r.line += line_base;
      if (rejects_ == nullptr) {
        FailLocked(RejectError(r));
        return;
      }
      if (j >= allowed) {
        FailLocked(TooMany(r));
        return;
      }
      rejects_->Reject(std::move(r));
    }
    for (Batch& b : res.batches) {
      if (stop_.load(std::memory_order_relaxed)) return;
      if (line_col_ >= 0) {
        int64_t* lines = b.columns[line_col_].data<int64_t>();
        for (size_t r = 0; r < b.num_rows; ++r) lines[r] += static_cast<int64_t>(line_base);
      }
      Status s = sink_(k, b);
      if (!s.ok()) {
        FailLocked(std::move(s));
        return;
      }
    }
    if (options_.on_morsel_end && !stop_.load()) {
      Status s = options_.on_morsel_end(k);
      if (!s.ok()) FailLocked(std::move(s));
    }
  }

  Status TooMany(const RejectedRow& r) const {
    return Status::InvalidArgument(fmt::format(
        "{}: too many rejected rows (more than {}); line {}: {}", file_name_,
        options_.max_rejected_rows, r.line, r.reason));
  }

  // The morsel loop. Records that start before the nominal end belong to this morsel.
  void ParseRange(size_t i, uint64_t start, bool direct, MorselResult* res) {
    res->start = start;
    const char* base = data_.data();
    const char* p = base + start;
    const char* nominal = base + std::max<uint64_t>(NominalEnd(i), start);
    const char* file_end = base + data_.size();
    // A speculative parse may look ahead one more morsel for its last record; past that it
    // gives up and the chain re-parses it exactly (protects against quadratic blow-ups).
    const char* end = direct ? file_end
                             : base + std::min<uint64_t>(data_.size(),
                                                         NominalEnd(i) + morsel_bytes_ + 4096);
    const bool at_eof = end == file_end;
    Tokenizer tok(options_.dialect);
    Batch batch(out_schema_);
    size_t row = 0;
    uint64_t rel_lines = 0;
    std::string reason;
    uint32_t column = 0;
    auto flush = [&]() -> bool {
      if (row == 0) return true;
      batch.SetRows(row);
      if (direct) {
        Status s = sink_(i, batch);
        if (!s.ok()) {
          res->error = std::move(s);
          return false;
        }
        batch = Batch(out_schema_);
      } else {
        res->batches.push_back(std::move(batch));
        batch = Batch(out_schema_);
      }
      row = 0;
      return true;
    };
    while (p < nominal) {
      if (direct && stop_.load(std::memory_order_relaxed)) break;
      const char* next = nullptr;
      Tokenizer::Outcome o = tok.Next(p, end, at_eof, &next);
      if (o == Tokenizer::Outcome::kEnd) break;
      if (o == Tokenizer::Outcome::kNeedMore) {
        res->aborted = true;
        return;
      }
      const uint64_t record_line = rel_lines;
      rel_lines += tok.newlines();
      p = next;
      if (o == Tokenizer::Outcome::kBlank) {
        ++res->counts.blank_lines;
        continue;
      }
      ++res->counts.rows_read;
      bool bad = true;
      if (tok.has_error()) {
        column = tok.error_column();
        reason = tok.error();
      } else if (tok.num_fields() != expected_fields_) {
        column = 0;
        reason = internal::FieldCountReason(expected_fields_, tok.num_fields());
      } else if (!conv_.Convert(tok, batch, row, &column, &reason)) {
        // reason and column set
      } else {
        bad = false;
      }
      if (!bad) {
        if (line_col_ >= 0)
          batch.columns[line_col_].data<int64_t>()[row] =
              static_cast<int64_t>(record_line + (direct ? direct_line_base_ : 0));
        if (raw_col_ >= 0) {
          ColumnVector& rc = batch.columns[raw_col_];
          rc.data<std::string_view>()[row] = rc.AddString(tok.raw());
        }
        ++res->counts.rows_loaded;
        if (++row == kBatchRows && !flush()) return;
        continue;
      }
      ++res->counts.rows_rejected;
      std::string_view raw = tok.raw();
      RejectedRow r{file_name_, record_line, column,
                    std::string(raw.substr(0, std::min(raw.size(), kMaxRawBytes))), reason};
      if (!direct) {
        res->rejects.push_back(std::move(r));
        continue;
      }
      r.line += direct_line_base_;
      uint64_t before = ChainRowsRejected() + res->counts.rows_rejected - 1;
      if (rejects_ == nullptr) {
        res->error = RejectError(r);
        return;
      }
      if (before >= options_.max_rejected_rows) {
        res->error = TooMany(r);
        return;
      }
      rejects_->Reject(std::move(r));
    }
    if (!flush()) return;
    res->end = static_cast<uint64_t>(p - base);
    res->counts.newlines = rel_lines;
  }

  std::string_view data_;
  const ReadOptions& options_;
  const RowConverter& conv_;
  const Schema& out_schema_;
  const size_t expected_fields_;
  const std::string& file_name_;
  const BatchSink& sink_;
  RejectSink* rejects_;
  const io::RandomAccessFile* source_ = nullptr;  // mapped input: told when a range is done
  const uint64_t data_start_;
  uint64_t morsel_bytes_ = 0;
  size_t num_morsels_ = 0;
  int line_col_ = -1;  // batch column of "__line", or -1
  int raw_col_ = -1;   // batch column of "__raw", or -1

  // REQUIRES: this thread holds the chain (a direct parse): only the chain holder moves totals_,
  // so it is stable without mu_.
  uint64_t ChainRowsRejected() const SL_NO_THREAD_SAFETY_ANALYSIS { return totals_.rows_rejected; }

  mutable Mutex mu_;
  CondVar ahead_cv_;  // signalled when next_ moves or the read stops
  size_t max_ahead_ = 2 * ThreadPool::Default().size() + 2;
  std::atomic<bool> stop_{false};
  Status error_ SL_GUARDED_BY(mu_);
  bool chain_busy_ SL_GUARDED_BY(mu_) = false;
  size_t next_ SL_GUARDED_BY(mu_) = 0;  // first morsel not accounted
  std::vector<std::unique_ptr<MorselResult>> results_ SL_GUARDED_BY(mu_);
  uint64_t prev_end_ SL_GUARDED_BY(mu_);      // true start of morsel next_
  uint64_t lines_before_ SL_GUARDED_BY(mu_);  // '\n' before prev_end_
  Counters totals_ SL_GUARDED_BY(mu_);
  // Written by the chain holder before a direct parse; read only by it.
  uint64_t direct_line_base_ = 1;
};

}  // namespace

Result<ReadStats> ReadCsv(const io::RandomAccessFile& file, const ReadOptions& options,
                          const BatchSink& sink, RejectSink* rejects) {
  const Schema& schema = options.schema;
  const std::string& name = file.name();
  if (schema.size() == 0)
    return Status::InvalidArgument(name + ": ReadOptions.schema is empty (sniff the file first)");
  const Dialect& d = options.dialect;
  if (d.delimiter == '\n' || d.delimiter == '\r' || d.delimiter == d.quote ||
      d.quote == '\n' || d.quote == '\r' || d.escape == '\n' || d.escape == '\r')
    return Status::InvalidArgument(
        name + ": bad dialect: delimiter, quote and escape must differ and not be CR or LF");
  if (options.formats.size() > schema.size())
    return Status::InvalidArgument(name + ": more formats than schema columns");

  std::vector<size_t> projection = options.projection;
  if (projection.empty())
    for (size_t i = 0; i < schema.size(); ++i) projection.push_back(i);
  std::vector<ColumnPlan> plan;
  Schema out_schema;
  for (size_t idx : projection) {
    if (idx >= schema.size())
      return Status::InvalidArgument(
          fmt::format("{}: projection index {} out of range (schema has {} columns)", name, idx,
                      schema.size()));
    const Field& f = schema[idx];
    switch (f.type.id) {
      case TypeId::kBoolean: case TypeId::kInt32: case TypeId::kInt64: case TypeId::kFloat:
      case TypeId::kDouble: case TypeId::kDecimal: case TypeId::kVarchar: case TypeId::kDate:
      case TypeId::kTimestamp:
        break;
      default:
        return Status::NotImplemented(fmt::format("{}: column {} has type {}, which CSV cannot hold",
                                                  name, f.name, f.type.ToString()));
    }
    ColumnPlan p{idx, f.type, f.name, DateTimeFormat()};
    if (idx < options.formats.size() && !options.formats[idx].empty() &&
        (f.type.id == TypeId::kDate || f.type.id == TypeId::kTimestamp)) {
      auto fmt = DateTimeFormat::Compile(options.formats[idx]);
      if (!fmt.ok()) return fmt.status().WithContext(name + ": column " + f.name);
      p.format = std::move(fmt).value();
    }
    plan.push_back(std::move(p));
    out_schema.fields.push_back(f);
  }
  if (options.line_column) out_schema.fields.push_back({"__line", DataType::Int64(), false});
  if (options.raw_column) out_schema.fields.push_back({"__raw", DataType::Varchar(), false});
  RowConverter conv(options, std::move(plan));

  // The bytes: mapped, decompressed, or read whole.
  SL_ASSIGN_OR_RETURN(std::unique_ptr<io::RandomAccessFile> decompressed, OpenDecompressed(file));
  const io::RandomAccessFile& src = decompressed ? *decompressed : file;
  std::string owned;
  std::string_view data;
  if (src.size() == 0) {
    data = std::string_view();
  } else if (const uint8_t* m = src.mapped_data()) {
    data = std::string_view(reinterpret_cast<const char*>(m), src.size());
  } else {
    SL_ASSIGN_OR_RETURN(owned, src.ReadString(0, src.size()));
    data = owned;
  }

  ReadStats stats;
  stats.bytes = data.size();
  uint64_t pos = 0;
  if (data.size() >= 3 && static_cast<unsigned char>(data[0]) == 0xEF &&
      static_cast<unsigned char>(data[1]) == 0xBB && static_cast<unsigned char>(data[2]) == 0xBF)
    pos = 3;
  uint64_t lines_before = 0;
  uint64_t header_blank = 0;
  uint64_t header_line = 1;
  if (d.header) {
    internal::Tokenizer tok(d);
    for (;;) {
      const char* next = nullptr;
      auto o = tok.Next(data.data() + pos, data.data() + data.size(), true, &next);
      if (o == internal::Tokenizer::Outcome::kEnd) break;  // empty file: no header, no rows
      header_line = lines_before + 1;
      lines_before += tok.newlines();
      pos = static_cast<uint64_t>(next - data.data());
      if (o == internal::Tokenizer::Outcome::kBlank) {
        ++header_blank;
        continue;
      }
      if (tok.has_error())
        return Status::InvalidArgument(fmt::format("{}:{}: header: {}", name, header_line,
                                                   tok.error()));
      if (tok.num_fields() != schema.size())
        return Status::InvalidArgument(fmt::format(
            "{}:{}: header has {} fields but the schema has {} columns", name, header_line,
            tok.num_fields(), schema.size()));
      break;
    }
  }

  int threads = options.threads;
  ReadJob job(data, pos, lines_before, options, conv, out_schema, schema.size(), name, sink,
              rejects);
  if (src.mapped_data() != nullptr) job.set_source(&src);
  Status s = job.Run(threads <= 0 ? 0 : static_cast<size_t>(threads));
  if (!s.ok()) return s;
  Counters c = job.totals();
  stats.rows_read = c.rows_read;
  stats.rows_loaded = c.rows_loaded;
  stats.rows_rejected = c.rows_rejected;
  stats.blank_lines = c.blank_lines + header_blank;
  return stats;
}

}  // namespace saleslake::csv
