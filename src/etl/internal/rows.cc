// The rows of a run: CSV text -> typed values -> rules and flags -> mappings -> PII ->
// partition files, with every rejected row sent to quarantine with its reason.
#include "etl/internal/run.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "formats/csv/csv_reader.h"
#include "formats/csv/csv_writer.h"
#include "formats/csv/csv_reader.h"

namespace saleslake::etl::internal {
namespace {

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

// How many of `rows` of `v` the count counts (a loop per kind and type).
uint64_t CountRows(const RowCount& rc, const ColumnVector& v, const std::vector<uint32_t>& rows) {
  uint64_t n = 0;
  auto count_if = [&](auto pred) {
    for (uint32_t r : rows) n += v.IsValid(r) && pred(r);
    return n;
  };
  const TypeId type = v.type().id;
  switch (rc.kind) {
    case CountKind::kNull:
      for (uint32_t r : rows) n += !v.IsValid(r);
      return n;
    case CountKind::kNegative:
      if (type == TypeId::kDouble) return count_if([&](uint32_t r) { return v.data<double>()[r] < 0; });
      if (type == TypeId::kInt64) return count_if([&](uint32_t r) { return v.data<int64_t>()[r] < 0; });
      if (type == TypeId::kInt32) return count_if([&](uint32_t r) { return v.data<int32_t>()[r] < 0; });
      return 0;
    case CountKind::kEquals: {
      if (type == TypeId::kVarchar)
        return count_if([&](uint32_t r) { return csv::TrimSpaces(v.GetValue<std::string_view>(r)) == rc.value; });
      char* end = nullptr;
      double want = std::strtod(rc.value.c_str(), &end);
      if (end == rc.value.c_str() || *end != '\0') return 0;  // no number equals it
      if (type == TypeId::kDouble) return count_if([&](uint32_t r) { return v.data<double>()[r] == want; });
      if (type == TypeId::kInt64) return count_if([&](uint32_t r) { return static_cast<double>(v.data<int64_t>()[r]) == want; });
      if (type == TypeId::kInt32) return count_if([&](uint32_t r) { return static_cast<double>(v.data<int32_t>()[r]) == want; });
      return 0;
    }
  }
  return 0;
}

// One batch's rows between the stages of ProcessBatch.
struct BatchRows {
  size_t n = 0;
  Batch typed;
  std::vector<uint8_t> bad;          // 1 = goes to quarantine
  std::vector<std::string> reason;   // why, for bad rows ("type:amount: ...", "rule:name")
  std::vector<uint32_t> bad_column;  // 1-based file column of the reason, 0 = the whole row
  std::vector<std::string> flags;    // ';'-separated flag names per row (jobs with flags)
  Counters local;
};

// Typing: one typed column per source column (columns the file lacks stay NULL); values that
// cannot be read mark their row bad; with dedupe, rows already seen are bad too.
void TypeRows(Run& run, const Batch& text, const std::vector<int>& file_to_source,
              const std::vector<uint64_t>& hashes, BatchRows& b) {
  const size_t n = b.n;
  auto& typed = b.typed;
  auto& bad = b.bad;
  auto& reason = b.reason;
  auto& bad_column = b.bad_column;
  auto& local = b.local;
  typed.SetRows(n);
  if (run.seen) {
    for (size_t r = 0; r < n; ++r) {
      if (run.seen->Insert(hashes[r])) continue;
      bad[r] = 1;
      reason[r] = "duplicate:exact: the same raw row as one loaded before (dedupe)";
    }
  }
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
}

// Rules and flag values, on the typed values of the rows still good.
void ApplyRules(Run& run, BatchRows& b) {
  const size_t n = b.n;
  auto& typed = b.typed;
  auto& bad = b.bad;
  auto& reason = b.reason;
  auto& bad_column = b.bad_column;
  auto& local = b.local;
  auto& flags = b.flags;
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
}

// PII: declared columns tokenized; entities found in the other strings masked or tokenized.
void RedactPii(Run& run, Batch& mapped, Counters& local) {
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
}

// Partitioning: rows grouped by their partition values (hashed from the typed values; the
// folder text is built once per group), each group written to its partition file with a
// selection.
Status WritePartitions(Run& run, Batch& mapped) {
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
    MutexLock lock(run.mu);
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
  return Status::OK();
}

// Processes one batch of text rows from `file`: everything between the CSV reader and the
// partition writers. Called concurrently for different morsels.
Status ProcessBatch(Run& run, const std::string& file, const std::vector<int>& file_to_source,
                    char delimiter, Batch& text) {
  const size_t n = text.num_rows;
  const size_t fields = file_to_source.size();  // then "__line", added by the reader
  const ColumnVector& lines = text.columns[fields];
  std::vector<Quarantined> rejected;
  std::vector<uint64_t> hashes(n);

  // Exact-duplicate detection hashes the raw fields (NULL differs from any text).
  std::string scratch;
  for (size_t r = 0; r < n; ++r) hashes[r] = RawRowHash(text, fields, r, delimiter, scratch);

  BatchRows b;
  b.n = n;
  b.typed = Batch(run.source_schema, std::max<size_t>(n, 1));
  b.bad.assign(n, 0);
  b.reason.resize(n);
  b.bad_column.assign(n, 0);
  b.flags.resize(run.has_flags ? n : 0);
  TypeRows(run, text, file_to_source, hashes, b);
  ApplyRules(run, b);
  Counters& local = b.local;
  Batch& typed = b.typed;
  const auto& bad = b.bad;
  const auto& reason = b.reason;
  const auto& bad_column = b.bad_column;
  const auto& flags = b.flags;

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

  // Report figures over the loaded rows: the job's declared counts, one column at a time.
  local.counts.assign(run.job.counts.size(), 0);
  for (size_t i = 0; i < run.job.counts.size(); ++i)
    if (run.count_cols[i]) local.counts[i] = CountRows(run.job.counts[i], typed.columns[*run.count_cols[i]], keep);
  if (run.date_col && typed.columns[*run.date_col].type().id == TypeId::kDate) {
    const ColumnVector& d = typed.columns[*run.date_col];
    for (uint32_t r : keep) {
      if (!d.IsValid(r)) continue;
      int32_t v = d.data<int32_t>()[r];
      local.date_min = std::min(local.date_min, v);
      local.date_max = std::max(local.date_max, v);
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
  RedactPii(run, mapped, local);
  SL_RETURN_IF_ERROR(WritePartitions(run, mapped));

  MutexLock lock(run.mu);
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
    MutexLock lock(run_->mu);
    run_->counters.by_reason["malformed_row"]++;
    run_->counters.quarantined++;
    run_->quarantine.push_back({row.file, row.line, row.column, std::move(row.raw), "malformed_row: " + row.reason});
  }

 private:
  Run* run_;
};

}  // namespace

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
  for (const RowCount& rc : job.counts) {
    run.count_cols.push_back(run.source_schema.FindField(rc.column));
    if (!run.count_cols.back() && job.counts_declared)
      return Status::InvalidArgument("job '" + job.name + "': count '" + rc.name + "' names column '" +
                                     rc.column + "', which source table '" + job.source_table + "' does not have");
  }
  if (!job.date_range_column.empty()) {
    run.date_col = run.source_schema.FindField(job.date_range_column);
    if (!run.date_col && job.counts_declared)
      return Status::InvalidArgument("job '" + job.name + "': date_range names column '" + job.date_range_column +
                                     "', which source table '" + job.source_table + "' does not have");
  }
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
  // Progress: a morsel's bytes once its last batch is processed (the last morsel may be short;
  // the file's exact size is counted when it ends).
  const uint64_t file_start = run.bytes_read.load();
  if (run.on_progress) {
    ro.on_morsel_end = [&run, &ro, file_start, size = shared->size()](size_t) {
      uint64_t now = run.bytes_read.fetch_add(ro.morsel_bytes) + ro.morsel_bytes;
      run.on_progress(std::min(now, file_start + size), run.bytes_total);
      return Status::OK();
    };
  }
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
  run.bytes_read = file_start + shared->size();
  if (run.on_progress) run.on_progress(run.bytes_read.load(), run.bytes_total);
  return Status::OK();
}

// Dedupe: the raw row hashes of a file loaded by an earlier run (the same hash ProcessBatch
// computes), so that rows equal to them are recognised.
Status HashLoadedRows(Run& run, const catalog::DataFile& df) {
  SL_ASSIGN_OR_RETURN(auto file, run.store.OpenRead(df.key));
  SL_ASSIGN_OR_RETURN(csv::SniffResult sniff, csv::Sniff(*file));
  csv::ReadOptions ro;
  ro.dialect = sniff.dialect;
  for (const csv::ColumnSniff& c : sniff.columns) ro.schema.fields.push_back({c.name, DataType::Varchar(), true});
  ro.borrow_strings = true;
  const size_t fields = ro.schema.size();
  class Ignore final : public csv::RejectSink {
    void Reject(csv::RejectedRow) override {}
  } ignore;
  auto stats = csv::ReadCsv(*file, ro, [&](size_t, Batch& batch) -> Status {
    std::string scratch;
    for (size_t r = 0; r < batch.num_rows; ++r)
      run.seen->Insert(RawRowHash(batch, fields, r, ro.dialect.delimiter, scratch));
    return Status::OK();
  }, &ignore);
  return stats.ok() ? Status::OK() : stats.status().WithContext(df.key);
}

}  // namespace saleslake::etl::internal
