#include "formats/csv/csv_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "formats/csv/internal/tokenizer.h"
#include "formats/csv/value_parse.h"

namespace saleslake::csv {

ReadOptions SniffResult::ToReadOptions() const {
  ReadOptions o;
  o.dialect = dialect;
  o.schema = schema;
  for (const auto& c : columns) o.formats.push_back(c.format);
  return o;
}

namespace {

using internal::Tokenizer;

constexpr size_t kMaxExamples = 5;

enum class Cand : uint8_t { kBool, kInt, kDouble, kDate, kTimestamp };

struct Candidate {
  Cand kind;
  const char* format;  // DATE/TIMESTAMP only
};

// In order of specificity; within a type, earlier formats win ties (M/D before D/M, and the
// shortest time format that still matches every value).
constexpr Candidate kCandidates[] = {
    {Cand::kBool, ""},
    {Cand::kInt, ""},
    {Cand::kDouble, ""},
    {Cand::kDate, "%Y-%m-%d"},
    {Cand::kDate, "%Y/%m/%d"},
    {Cand::kDate, "%m/%d/%Y"},
    {Cand::kDate, "%d/%m/%Y"},
    {Cand::kDate, "%d.%m.%Y"},
    {Cand::kTimestamp, "%Y-%m-%d %H:%M:%S"},
    {Cand::kTimestamp, "%Y/%m/%d %H:%M:%S"},
    {Cand::kTimestamp, "%m/%d/%Y %H:%M"},
    {Cand::kTimestamp, "%m/%d/%Y %H:%M:%S"},
    {Cand::kTimestamp, "%d/%m/%Y %H:%M"},
    {Cand::kTimestamp, "%d/%m/%Y %H:%M:%S"},
    {Cand::kTimestamp, "%m/%d/%Y %I:%M %p"},
    {Cand::kTimestamp, "%m/%d/%Y %I:%M:%S %p"},
    {Cand::kTimestamp, "%d.%m.%Y %H:%M:%S"},
};
constexpr size_t kNumCandidates = sizeof(kCandidates) / sizeof(kCandidates[0]);

struct Formats {
  std::vector<DateTimeFormat> compiled;
  Formats() {
    for (const Candidate& c : kCandidates) {
      if (c.kind == Cand::kDate || c.kind == Cand::kTimestamp)
        compiled.push_back(std::move(DateTimeFormat::Compile(c.format)).value());
      else
        compiled.emplace_back();
    }
  }
};

const Formats& CompiledFormats() {
  static const Formats f;
  return f;
}

bool IsSniffBool(std::string_view s) {
  s = TrimSpaces(s);
  if (s.size() != 4 && s.size() != 5) return false;
  std::string l(s);
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return l == "true" || l == "false";
}

// Plain fixed-point text: [+-]digits[.digits]; returns the digit counts.
bool PlainDecimal(std::string_view s, int* int_digits, int* frac_digits) {
  s = TrimSpaces(s);
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) ++i;
  int a = 0, b = 0;
  bool point = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.' && !point) {
      point = true;
    } else if (c >= '0' && c <= '9') {
      (point ? b : a)++;
    } else {
      return false;
    }
  }
  if (a + b == 0) return false;
  *int_digits = a;
  *frac_digits = b;
  return true;
}

// Letters then digits, or digits then letters (an identifier such as C536379 or 85123A).
bool IsCodeLike(std::string_view v) {
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t i = 0, n = v.size();
  if (n < 2) return false;
  if (alpha(v[0])) {
    while (i < n && alpha(v[i])) ++i;
    if (i == n) return false;
    while (i < n && digit(v[i])) ++i;
    return i == n;
  }
  if (digit(v[0])) {
    while (i < n && digit(v[i])) ++i;
    if (i == n) return false;
    while (i < n && alpha(v[i])) ++i;
    return i == n;
  }
  return false;
}

bool Conforms(size_t cand, std::string_view v) {
  switch (kCandidates[cand].kind) {
    case Cand::kBool: return IsSniffBool(v);
    case Cand::kInt: {
      int64_t x;
      return ParseInt64(v, &x);
    }
    case Cand::kDouble: {
      double d;
      return ParseFiniteDouble(v, &d);
    }
    case Cand::kDate: return CompiledFormats().compiled[cand].ParseDate(v).has_value();
    case Cand::kTimestamp: return CompiledFormats().compiled[cand].ParseTimestamp(v).has_value();
  }
  return false;
}

struct ColumnStats {
  uint64_t non_null = 0;
  uint64_t conforming[kNumCandidates] = {};
  std::vector<std::string> failures[kNumCandidates];
  uint64_t plain_decimal = 0;
  uint64_t code_like = 0;  // letters glued to digits: C536379, 85123A
  int max_int_digits = 0, max_frac_digits = 0;

  void Add(std::string_view v) {
    ++non_null;
    // Every candidate but BOOLEAN starts with a digit, a sign or a point: free text only
    // tries BOOLEAN (the counts are the same, the parsers are just not run).
    std::string_view t = TrimSpaces(v);
    char c0 = t.empty() ? ' ' : t[0];
    bool numeric_start = (c0 >= '0' && c0 <= '9') || c0 == '-' || c0 == '+' || c0 == '.';
    for (size_t c = 0; c < kNumCandidates; ++c) {
      bool ok = (numeric_start || kCandidates[c].kind == Cand::kBool) && Conforms(c, v);
      if (ok) {
        ++conforming[c];
      } else if (failures[c].size() < kMaxExamples) {
        failures[c].emplace_back(v.substr(0, 200));
      }
    }
    if (IsCodeLike(v)) ++code_like;
    int a, b;
    if (PlainDecimal(v, &a, &b)) {
      ++plain_decimal;
      max_int_digits = std::max(max_int_digits, a);
      max_frac_digits = std::max(max_frac_digits, b);
    }
  }
};

struct Sample {
  std::vector<std::string_view> windows;  // record-aligned windows of text
  std::vector<bool> window_at_eof;
  std::string owned;  // backing store when the file is not mapped
  bool has_bom = false;
  bool whole_file = false;
};

Result<Sample> TakeSample(const io::RandomAccessFile& file, const SniffOptions& options) {
  Sample s;
  const uint64_t size = file.size();
  const uint8_t* mapped = file.mapped_data();
  auto read = [&](uint64_t off, uint64_t n) -> Result<std::string_view> {
    if (mapped) return std::string_view(reinterpret_cast<const char*>(mapped) + off, n);
    SL_ASSIGN_OR_RETURN(std::string part, file.ReadString(off, n));
    s.owned += part;
    return std::string_view();  // fixed up below from `owned`
  };
  const uint64_t window = options.sample_bytes_per_chunk;
  const int chunks = std::max(options.chunks, 1);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  if (window == 0 || window * static_cast<uint64_t>(chunks) >= size) {
    ranges.push_back({0, size});
    s.whole_file = true;
  } else {
    for (int k = 0; k < chunks; ++k) {
      uint64_t off = chunks == 1 ? 0 : (size - window) * static_cast<uint64_t>(k) /
                                           static_cast<uint64_t>(chunks - 1);
      if (!ranges.empty() && off < ranges.back().first + ranges.back().second) {
        // Overlap with the previous window: extend it instead.
        ranges.back().second = std::max(ranges.back().second, off + window - ranges.back().first);
        continue;
      }
      ranges.push_back({off, window});
    }
  }
  std::vector<std::pair<size_t, size_t>> owned_spans;
  for (auto [off, n] : ranges) {
    size_t before = s.owned.size();
    SL_ASSIGN_OR_RETURN(std::string_view v, read(off, n));
    if (!mapped) v = std::string_view();  // resolved after all reads (owned may reallocate)
    owned_spans.push_back({before, s.owned.size() - before});
    s.windows.push_back(v);
    s.window_at_eof.push_back(off + n == size);
  }
  for (size_t i = 0; i < s.windows.size(); ++i) {
    if (!mapped) s.windows[i] = std::string_view(s.owned).substr(owned_spans[i].first,
                                                                 owned_spans[i].second);
    std::string_view& w = s.windows[i];
    if (ranges[i].first == 0) {
      if (w.size() >= 3 && static_cast<unsigned char>(w[0]) == 0xEF &&
          static_cast<unsigned char>(w[1]) == 0xBB && static_cast<unsigned char>(w[2]) == 0xBF) {
        s.has_bom = true;
        w.remove_prefix(3);
      }
    } else {
      // Start at the first record boundary we can see (a guess; bad records are skipped).
      size_t nl = w.find('\n');
      w = nl == std::string_view::npos ? std::string_view() : w.substr(nl + 1);
    }
  }
  return s;
}

// Field counts of the first records of `text` under a dialect: (modal count, records with it).
std::pair<size_t, size_t> Consistency(std::string_view text, bool at_eof, const Dialect& d) {
  Tokenizer tok(d);
  std::map<size_t, size_t> counts;
  const char* p = text.data();
  const char* end = p + text.size();
  for (int n = 0; n < 200;) {
    const char* next = nullptr;
    auto o = tok.Next(p, end, at_eof, &next);
    if (o == Tokenizer::Outcome::kEnd || o == Tokenizer::Outcome::kNeedMore) break;
    p = next;
    if (o == Tokenizer::Outcome::kBlank) continue;
    ++n;
    if (!tok.has_error()) ++counts[tok.num_fields()];
  }
  std::pair<size_t, size_t> best{0, 0};
  for (auto [fields, n] : counts)
    if (n > best.second || (n == best.second && fields > best.first)) best = {fields, n};
  return best;
}

Dialect DetectDialect(std::string_view text, bool at_eof) {
  Dialect best;
  size_t best_fields = 0, best_n = 0;
  bool first = true;
  for (char quote : {'"', '\''}) {
    for (char delim : {',', ';', '\t', '|'}) {
      Dialect d;
      d.delimiter = delim;
      d.quote = quote;
      d.escape = quote;
      auto [fields, n] = Consistency(text, at_eof, d);
      // Prefer more than one field, then more consistent records, then more fields; the
      // double quote and the comma win ties (they come first).
      bool better;
      if (first) better = true;
      else if ((fields > 1) != (best_fields > 1)) better = fields > 1;
      else if (n != best_n) better = n > best_n;
      else better = fields > best_fields;
      if (better) {
        best = d;
        best_fields = fields;
        best_n = n;
      }
      first = false;
    }
  }
  return best;
}

}  // namespace

Result<SniffResult> Sniff(const io::RandomAccessFile& input, const SniffOptions& options) {
  SL_ASSIGN_OR_RETURN(std::unique_ptr<io::RandomAccessFile> decompressed, OpenDecompressed(input));
  const io::RandomAccessFile& file = decompressed ? *decompressed : input;
  const std::string& name = input.name();
  SL_ASSIGN_OR_RETURN(Sample sample, TakeSample(file, options));
  if (sample.windows.empty() || sample.windows[0].empty())
    return Status::InvalidArgument(name + ": empty file: nothing to sniff");

  SniffResult result;
  result.has_bom = sample.has_bom;
  result.sampled_whole_file = sample.whole_file;
  Dialect dialect = options.dialect ? *options.dialect
                                    : DetectDialect(sample.windows[0], sample.window_at_eof[0]);
  size_t expected = Consistency(sample.windows[0], sample.window_at_eof[0], dialect).first;
  if (expected == 0)
    return Status::InvalidArgument(name + ": no parseable record in the first " +
                                   std::to_string(sample.windows[0].size()) + " bytes");

  std::vector<std::string> first_record;
  std::vector<bool> first_quoted;
  std::vector<ColumnStats> stats(expected);
  std::set<std::string_view> nulls;
  for (const auto& t : dialect.null_tokens) nulls.insert(t);
  const bool empty_is_null = nulls.count("") > 0;

  Tokenizer tok(dialect);
  auto add_record = [&](Tokenizer& t) {
    for (size_t c = 0; c < expected; ++c) {
      const internal::FieldRef& f = t.field(c);
      size_t len = static_cast<size_t>(f.end - f.begin);
      if (len == 0 && (f.quoted || empty_is_null)) continue;
      if (!f.quoted && nulls.count(std::string_view(f.begin, len))) continue;
      stats[c].Add(t.Text(c));
    }
  };
  bool have_first = false;
  for (size_t w = 0; w < sample.windows.size(); ++w) {
    std::string_view text = sample.windows[w];
    const char* p = text.data();
    const char* end = p + text.size();
    for (;;) {
      const char* next = nullptr;
      auto o = tok.Next(p, end, sample.window_at_eof[w], &next);
      if (o == Tokenizer::Outcome::kEnd || o == Tokenizer::Outcome::kNeedMore) break;
      p = next;
      if (o == Tokenizer::Outcome::kBlank) continue;
      if (w == 0 && !have_first) {
        have_first = true;
        if (tok.num_fields() == expected && !tok.has_error()) {
          for (size_t c = 0; c < expected; ++c) {
            first_record.emplace_back(tok.Text(c));
            first_quoted.push_back(tok.field(c).quoted);
          }
        } else {
          ++result.rejected_rows;
        }
        continue;
      }
      if (tok.has_error() || tok.num_fields() != expected) {
        ++result.rejected_rows;
        continue;
      }
      ++result.sampled_rows;
      add_record(tok);
    }
  }

  // Types from the records after the first.
  auto choose = [&](const ColumnStats& st, size_t* chosen) -> bool {
    if (st.non_null == 0) return false;
    uint64_t best = 0;
    for (size_t c = 0; c < kNumCandidates; ++c) best = std::max(best, st.conforming[c]);
    if (best == 0 || static_cast<double>(best) < options.min_conforming * st.non_null)
      return false;
    for (size_t c = 0; c < kNumCandidates; ++c)
      if (st.conforming[c] == best) {
        *chosen = c;
        return true;
      }
    return false;
  };

  bool header;
  if (options.dialect) {
    header = options.dialect->header;
  } else if (first_record.empty()) {
    header = false;
  } else {
    header = false;
    bool any_typed = false;
    for (size_t c = 0; c < expected; ++c) {
      size_t cand;
      if (!choose(stats[c], &cand)) continue;
      any_typed = true;
      const std::string& v = first_record[c];
      bool is_null = (v.empty() && (first_quoted[c] || empty_is_null)) ||
                     (!first_quoted[c] && nulls.count(v));
      if (!is_null && !Conforms(cand, v)) header = true;
    }
    if (!any_typed) {
      std::set<std::string> seen;
      header = true;
      for (const auto& v : first_record)
        if (v.empty() || !seen.insert(v).second) header = false;
    }
  }
  dialect.header = header;
  if (!header && !first_record.empty()) {
    // The first record is data: count it like the others.
    ++result.sampled_rows;
    for (size_t c = 0; c < expected; ++c) {
      const std::string& v = first_record[c];
      bool is_null = (v.empty() && (first_quoted[c] || empty_is_null)) ||
                     (!first_quoted[c] && nulls.count(v));
      if (!is_null) stats[c].Add(v);
    }
  }

  std::set<std::string> used;
  for (size_t c = 0; c < expected; ++c) {
    ColumnSniff col;
    std::string base = header && c < first_record.size() ? std::string(TrimSpaces(first_record[c]))
                                                         : std::string();
    if (base.empty()) base = "column" + std::to_string(c);
    std::string nm = base;
    for (int k = 2; !used.insert(nm).second; ++k) nm = base + "_" + std::to_string(k);
    col.name = nm;
    const ColumnStats& st = stats[c];
    col.non_null = st.non_null;
    size_t cand;
    // An identifier column (numbers mixed with codes such as C536379) is text even when the
    // codes are under 1% of the sample: an ID is not a number, and loading it as BIGINT would
    // reject every code row.
    bool id_column = choose(st, &cand) && st.code_like > 0 &&
                     (kCandidates[cand].kind == Cand::kInt || kCandidates[cand].kind == Cand::kDouble);
    if (id_column || !choose(st, &cand)) {
      col.type = DataType::Varchar();
    } else {
      switch (kCandidates[cand].kind) {
        case Cand::kBool: col.type = DataType::Boolean(); break;
        case Cand::kInt: col.type = DataType::Int64(); break;
        case Cand::kDouble: col.type = DataType::Double(); break;
        case Cand::kDate: col.type = DataType::Date(); break;
        case Cand::kTimestamp: col.type = DataType::Timestamp(); break;
      }
      if (kCandidates[cand].kind == Cand::kDate || kCandidates[cand].kind == Cand::kTimestamp)
        col.format = kCandidates[cand].format;
      if (col.type.id == TypeId::kDouble && options.prefer_decimal &&
          st.plain_decimal == st.conforming[cand] && st.max_frac_digits <= 4 &&
          st.max_int_digits + st.max_frac_digits <= 18)
        col.type = DataType::Decimal(18, static_cast<uint8_t>(st.max_frac_digits));
      col.non_conforming = st.non_null - st.conforming[cand];
      col.non_conforming_examples = st.failures[cand];
    }
    result.schema.fields.push_back({col.name, col.type, true});
    result.columns.push_back(std::move(col));
  }
  result.dialect = dialect;
  return result;
}

}  // namespace saleslake::csv
