#include "catalog/internal/file_inspect.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <set>

#include "catalog/internal/schema_merge.h"

#include "formats/csv/csv_reader.h"
#include "formats/parquet/parquet.h"

namespace saleslake::catalog::internal {

namespace {

constexpr size_t kChunk = 1 << 20;
constexpr int64_t kTypeSampleRows = 100'000;  // rows whose values vote on column types

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Calls fn(chunk) over the file in order, zero-copy when mapped.
template <typename Fn>
Status ForEachChunk(const io::RandomAccessFile& file, Fn&& fn) {
  if (const uint8_t* m = file.mapped_data()) {
    fn(std::string_view(reinterpret_cast<const char*>(m), file.size()));
    return Status::OK();
  }
  std::string buf;
  for (uint64_t off = 0; off < file.size();) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, file.size() - off));
    buf.resize(n);
    SL_RETURN_IF_ERROR(file.ReadAt(off, std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), n)));
    if (!fn(std::string_view(buf))) break;
    off += n;
  }
  return Status::OK();
}

// ---- value classification shared by CSV and JSON strings ----

struct TypeVotes {
  int64_t non_null = 0, boolean = 0, integer = 0, floating = 0, date = 0, timestamp = 0;

  void Add(std::string_view v) {
    ++non_null;
    std::string l = v.size() <= 5 ? Lower(v) : std::string();
    if (l == "true" || l == "false") ++boolean;
    int64_t i;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), i);
    if (ec == std::errc() && p == v.data() + v.size()) {
      ++integer;
      ++floating;
      return;
    }
    double d;
    std::string_view dv = v;
    if (!dv.empty() && dv[0] == '+') dv.remove_prefix(1);
    auto [p2, ec2] = std::from_chars(dv.data(), dv.data() + dv.size(), d);
    if (ec2 == std::errc() && p2 == dv.data() + dv.size() && !dv.empty()) {
      ++floating;
      return;
    }
    if (v.size() >= 8 && v.size() <= 10 && ParseIsoDate(v)) {
      ++date;
      ++timestamp;
      return;
    }
    if (v.size() >= 16 && ParseIsoTimestamp(v)) ++timestamp;
  }

  // The most specific type >= 99% of the non-null values conform to; sets *non_conforming.
  DataType Decide(int64_t* non_conforming) const {
    *non_conforming = 0;
    if (non_null == 0) return DataType::Varchar();
    auto enough = [&](int64_t n) { return n * 100 >= non_null * 99; };
    std::pair<int64_t, DataType> order[] = {{boolean, DataType::Boolean()},
                                            {integer, DataType::Int64()},
                                            {floating, DataType::Double()},
                                            {date, DataType::Date()},
                                            {timestamp, DataType::Timestamp()}};
    for (const auto& [n, t] : order) {
      if (n > 0 && enough(n)) {
        *non_conforming = non_null - n;
        return t;
      }
    }
    return DataType::Varchar();
  }
};

// ---- CSV CLASSIFICATION PATH (fallback sniffer until csv::Sniff lands) ----

// Streaming RFC 4180 record splitter: quoted fields, "" escapes, embedded delimiters and
// newlines, LF and CRLF, a leading UTF-8 BOM. Blank lines are skipped.
class CsvRecords {
 public:
  explicit CsvRecords(const CsvDialect& d) : d_(d) {}

  // Feeds bytes; calls on_record(fields) for every complete record. on_record returns false to
  // stop early; Feed then returns false.
  template <typename Fn>
  bool Feed(std::string_view data, Fn&& on_record) {
    size_t i = 0;
    if (first_) {
      first_ = false;
      if (data.size() >= 3 && std::memcmp(data.data(), "\xEF\xBB\xBF", 3) == 0) i = 3;
    }
    for (; i < data.size(); ++i) {
      char c = data[i];
      if (cr_at_end_) {  // the previous chunk ended in CR: a lone CR ends the record
        cr_at_end_ = false;
        if (c != '\n' && !EndRecord(on_record)) return false;
      }
      if (in_quotes_) {
        if (quote_pending_) {
          quote_pending_ = false;
          if (c == d_.quote) {
            field_ += c;
            continue;
          }
          in_quotes_ = false;  // the quote closed the field; fall through to handle c
        } else if (c == d_.quote) {
          quote_pending_ = true;
          continue;
        } else {
          field_ += c;
          continue;
        }
      }
      if (c == d_.quote && field_.empty() && !field_started_) {
        in_quotes_ = true;
        field_started_ = true;
        continue;
      }
      if (c == d_.delimiter) {
        EndField();
      } else if (c == '\n') {
        if (!EndRecord(on_record)) return false;
      } else if (c == '\r') {
        // CR before LF is dropped; a lone CR ends the record too.
        if (i + 1 < data.size() && data[i + 1] == '\n') continue;
        if (i + 1 == data.size()) {
          cr_at_end_ = true;
          continue;
        }
        if (!EndRecord(on_record)) return false;
      } else {
        field_ += c;
        field_started_ = true;
      }
    }
    return true;
  }

  template <typename Fn>
  void Finish(Fn&& on_record) {
    quote_pending_ = false;
    in_quotes_ = false;
    if (field_started_ || !fields_.empty()) EndRecord(on_record);
  }

  bool unterminated_quote() const { return in_quotes_ && !quote_pending_; }

 private:
  void EndField() {
    fields_.push_back(std::move(field_));
    field_.clear();
    field_started_ = false;
  }
  template <typename Fn>
  bool EndRecord(Fn&& on_record) {
    cr_at_end_ = false;
    if (fields_.empty() && !field_started_ && field_.empty()) return true;  // blank line
    EndField();
    bool go = on_record(fields_);
    fields_.clear();
    return go;
  }

  CsvDialect d_;
  bool first_ = true;
  bool in_quotes_ = false;
  bool quote_pending_ = false;
  bool field_started_ = false;
  bool cr_at_end_ = false;
  std::string field_;
  std::vector<std::string> fields_;
};

char GuessDelimiter(std::string_view head) {
  const char candidates[] = {',', ';', '\t', '|'};
  char best = ',';
  int best_score = -1;
  for (char d : candidates) {
    std::vector<int> counts;
    int count = 0;
    bool quoted = false;
    for (char c : head) {
      if (c == '"') quoted = !quoted;
      else if (!quoted && c == d) ++count;
      else if (!quoted && c == '\n') {
        counts.push_back(count);
        count = 0;
        if (counts.size() >= 20) break;
      }
    }
    if (counts.empty()) counts.push_back(count);
    if (counts[0] == 0) continue;
    int consistent = static_cast<int>(std::count(counts.begin(), counts.end(), counts[0]));
    int score = consistent * 1000 + counts[0];
    if (score > best_score) {
      best_score = score;
      best = d;
    }
  }
  return best;
}

}  // namespace

Result<InspectedFile> InspectCsvFallback(const io::RandomAccessFile& file) {
  InspectedFile out;
  out.format = FileFormat::kCsv;
  SL_ASSIGN_OR_RETURN(std::string head, file.ReadString(0, std::min<uint64_t>(file.size(), 64 * 1024)));
  out.csv.delimiter = GuessDelimiter(head);
  CsvRecords records(out.csv);
  std::vector<std::string> header;
  std::vector<std::string> first_row;
  std::vector<TypeVotes> votes;
  std::vector<int64_t> nulls;
  int64_t rows = 0;
  bool first = true;
  auto is_null = [&](const std::string& v) {
    return std::find(out.csv.null_tokens.begin(), out.csv.null_tokens.end(), v) !=
           out.csv.null_tokens.end();
  };
  auto on_record = [&](std::vector<std::string>& fields) {
    if (first) {
      first = false;
      header = fields;
      votes.resize(fields.size());
      nulls.resize(fields.size());
      return true;
    }
    if (fields.size() > votes.size()) {
      votes.resize(fields.size());
      nulls.resize(fields.size());
    }
    ++rows;
    if (rows <= kTypeSampleRows) {
      for (size_t c = 0; c < votes.size(); ++c) {
        if (c >= fields.size() || is_null(fields[c])) {
          ++nulls[c];
          continue;
        }
        votes[c].Add(fields[c]);
      }
    }
    return true;
  };
  SL_RETURN_IF_ERROR(ForEachChunk(file, [&](std::string_view chunk) {
    return records.Feed(chunk, on_record);
  }));
  bool unterminated = records.unterminated_quote();
  records.Finish(on_record);
  if (unterminated)
    return Status::InvalidArgument("CSV has an unterminated quoted field at the end of the file");
  if (header.empty()) return Status::InvalidArgument("CSV file has no records");

  // Header detection: a first row whose value is typed where its column is typed is data.
  std::vector<DataType> types(votes.size());
  std::vector<int64_t> bad(votes.size());
  for (size_t c = 0; c < votes.size(); ++c) types[c] = votes[c].Decide(&bad[c]);
  bool header_is_data = false;
  for (size_t c = 0; c < header.size() && c < types.size(); ++c) {
    if (types[c].id == TypeId::kVarchar || is_null(header[c])) continue;
    TypeVotes one;
    one.Add(header[c]);
    int64_t nc;
    if (one.Decide(&nc).id != TypeId::kVarchar) header_is_data = true;
  }
  std::set<std::string> seen;
  for (size_t c = 0; c < votes.size(); ++c) {
    Field f;
    if (!header_is_data && c < header.size() && !header[c].empty()) f.name = header[c];
    else f.name = "col" + std::to_string(c + 1);
    while (!seen.insert(f.name).second) f.name += "_" + std::to_string(c + 1);
    f.type = types[c];
    f.nullable = true;
    out.schema.fields.push_back(f);
    ColumnStats st;
    st.column = f.name;
    st.non_conforming = bad[c];
    st.null_count = rows <= kTypeSampleRows ? nulls[c] : -1;
    out.stats.push_back(std::move(st));
  }
  if (header_is_data) {
    out.csv.has_header = false;
    ++rows;
  }
  out.row_count = rows;
  return out;
}

namespace {

bool IsCompressed(const io::RandomAccessFile& file) {
  if (file.size() < 4) return false;
  auto head = file.ReadString(0, 4);
  if (!head.ok()) return false;
  const auto* b = reinterpret_cast<const unsigned char*>(head->data());
  return (b[0] == 0x1f && b[1] == 0x8b) || (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd);
}

// Records in an uncompressed CSV file: line ends outside quotes, blank lines not counted.
[[maybe_unused]] Result<int64_t> CountCsvRecords(const io::RandomAccessFile& file, char quote) {
  int64_t records = 0;
  bool in_quotes = false, content = false;
  SL_RETURN_IF_ERROR(ForEachChunk(file, [&](std::string_view chunk) {
    for (char c : chunk) {
      if (c == quote) {
        in_quotes = !in_quotes;  // "" inside quotes toggles twice: no effect
        content = true;
      } else if (c == '\n' && !in_quotes) {
        if (content) ++records;
        content = false;
      } else if (c != '\r') {
        content = true;
      }
    }
    return true;
  }));
  if (content) ++records;
  return records;
}

}  // namespace

Result<InspectedFile> InspectCsv(const io::RandomAccessFile& file) {
  SL_ASSIGN_OR_RETURN(csv::SniffResult sr, csv::Sniff(file));
  InspectedFile out;
  out.format = FileFormat::kCsv;
  out.schema = sr.schema;
  out.csv.delimiter = sr.dialect.delimiter;
  out.csv.quote = sr.dialect.quote;
  out.csv.escape = sr.dialect.escape;
  out.csv.has_header = sr.dialect.header;
  out.csv.null_tokens = sr.dialect.null_tokens;
  for (size_t c = 0; c < sr.columns.size() && c < out.schema.fields.size(); ++c) {
    const csv::ColumnSniff& col = sr.columns[c];
    ColumnStats st;
    st.column = out.schema.fields[c].name;
    st.non_conforming = static_cast<int64_t>(col.non_conforming);
    if (sr.sampled_whole_file)
      st.null_count = static_cast<int64_t>(sr.sampled_rows) - static_cast<int64_t>(col.non_null);
    out.stats.push_back(std::move(st));
    if (!col.format.empty()) out.column_formats[col.name] = col.format;
  }
  if (sr.sampled_whole_file) {
    out.row_count = static_cast<int64_t>(sr.sampled_rows + sr.rejected_rows);
  } else if (!IsCompressed(file)) {
    SL_ASSIGN_OR_RETURN(int64_t records, CountCsvRecords(file, out.csv.quote));
    out.row_count = records - (out.csv.has_header ? 1 : 0);
  }
  return out;
}

// ---- JSON lines ----

Result<InspectedFile> InspectJsonLines(const io::RandomAccessFile& file) {
  InspectedFile out;
  out.format = FileFormat::kJsonl;
  std::vector<std::string> order;
  std::map<std::string, DataType> types;
  std::map<std::string, TypeVotes> string_votes;
  std::map<std::string, int64_t> non_null;
  int64_t rows = 0, line_no = 0, bad_lines = 0;
  std::string first_error;
  std::string carry;
  auto handle_line = [&](std::string_view line) {
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) return;
    ++rows;
    if (rows > kTypeSampleRows) return;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      ++bad_lines;
      if (first_error.empty()) first_error = "line " + std::to_string(line_no) + " is not a JSON object";
      return;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if (!types.count(k)) {
        order.push_back(k);
        types[k] = DataType::Null();
      }
      DataType t;
      const nlohmann::json& v = it.value();
      if (v.is_null()) continue;
      ++non_null[k];
      if (v.is_boolean()) t = DataType::Boolean();
      else if (v.is_number_integer()) t = DataType::Int64();
      else if (v.is_number()) t = DataType::Double();
      else if (v.is_string()) {
        string_votes[k].Add(v.get_ref<const std::string&>());
        continue;
      } else t = DataType::Varchar();  // nested: kept as JSON text
      auto w = WidenType(types[k], t);
      types[k] = w ? *w : DataType::Varchar();
    }
  };
  SL_RETURN_IF_ERROR(ForEachChunk(file, [&](std::string_view chunk) {
    size_t start = 0;
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (chunk[i] != '\n') continue;
      if (!carry.empty()) {
        carry.append(chunk.substr(start, i - start));
        handle_line(carry);
        carry.clear();
      } else {
        handle_line(chunk.substr(start, i - start));
      }
      start = i + 1;
    }
    carry.append(chunk.substr(start));
    return true;
  }));
  if (!carry.empty()) handle_line(carry);
  if (rows == 0) return Status::InvalidArgument("JSON lines file has no records");
  if (bad_lines * 100 > std::min(rows, kTypeSampleRows))
    return Status::InvalidArgument("not JSON lines: " + first_error + " (" +
                                   std::to_string(bad_lines) + " bad lines)");
  for (const std::string& k : order) {
    DataType t = types[k];
    int64_t nc = 0;
    auto sv = string_votes.find(k);
    if (sv != string_votes.end()) {
      DataType st = sv->second.Decide(&nc);
      if (st.id == TypeId::kBoolean) st = DataType::Varchar(), nc = 0;  // "true" strings stay text
      auto w = WidenType(t, st);
      t = w ? *w : DataType::Varchar();
    }
    if (t.id == TypeId::kNull) t = DataType::Varchar();
    out.schema.fields.push_back({k, t, true});
    ColumnStats cs;
    cs.column = k;
    cs.non_conforming = nc;
    if (rows <= kTypeSampleRows) cs.null_count = rows - non_null[k];
    out.stats.push_back(std::move(cs));
  }
  out.row_count = rows;
  return out;
}

Result<FileFormat> ClassifyFile(const io::RandomAccessFile& file, std::string_view key) {
  std::string lk = Lower(key);
  uint64_t n = file.size();
  if (n >= 12) {
    SL_ASSIGN_OR_RETURN(std::string head, file.ReadString(0, 4));
    SL_ASSIGN_OR_RETURN(std::string tail, file.ReadString(n - 4, 4));
    if (head == "PAR1" && tail == "PAR1") return FileFormat::kParquet;
  }
  if (EndsWith(lk, ".parquet") || EndsWith(lk, ".parq"))
    return Status::InvalidArgument("named like Parquet but has no PAR1 magic at both ends");
  if (EndsWith(lk, ".csv.gz") || EndsWith(lk, ".csv.zst") || EndsWith(lk, ".tsv.gz") ||
      EndsWith(lk, ".tsv.zst"))
    return FileFormat::kCsv;  // the CSV reader decompresses these transparently
  if (EndsWith(lk, ".gz") || EndsWith(lk, ".zst") || EndsWith(lk, ".bz2") || EndsWith(lk, ".zip"))
    return Status::NotImplemented("compressed files other than .csv.gz/.csv.zst are not classified");
  SL_ASSIGN_OR_RETURN(std::string head, file.ReadString(0, std::min<uint64_t>(n, 4096)));
  if (head.find('\0') != std::string::npos)
    return Status::InvalidArgument("binary content that is neither Parquet, CSV nor JSON lines");
  std::string_view h = head;
  if (h.size() >= 3 && h.substr(0, 3) == "\xEF\xBB\xBF") h.remove_prefix(3);
  while (!h.empty() && std::isspace(static_cast<unsigned char>(h.front()))) h.remove_prefix(1);
  if (!h.empty() && h.front() == '{') return FileFormat::kJsonl;
  if (EndsWith(lk, ".jsonl") || EndsWith(lk, ".ndjson") || EndsWith(lk, ".json"))
    return Status::InvalidArgument("named like JSON lines but does not start with '{'");
  return FileFormat::kCsv;
}

namespace {

Result<InspectedFile> InspectParquet(std::unique_ptr<io::RandomAccessFile> file) {
  std::shared_ptr<const io::RandomAccessFile> shared(std::move(file));
  SL_ASSIGN_OR_RETURN(auto reader, parquet::ParquetReader::Open(shared));
  InspectedFile out;
  out.format = FileFormat::kParquet;
  out.schema = reader->schema();
  out.row_count = reader->num_rows();
  parquet::FileStats fs = reader->file_stats();
  for (size_t c = 0; c < out.schema.fields.size() && c < fs.columns.size(); ++c) {
    ColumnStats st;
    st.column = out.schema.fields[c].name;
    st.min = fs.columns[c].min;
    st.max = fs.columns[c].max;
    st.null_count = fs.columns[c].has_null_count ? fs.columns[c].null_count : -1;
    out.stats.push_back(std::move(st));
  }
  return out;
}

}  // namespace

Result<InspectedFile> InspectFile(const io::ObjectStore& store, std::string_view key,
                                  std::optional<FileFormat> forced) {
  auto run = [&]() -> Result<InspectedFile> {
    SL_ASSIGN_OR_RETURN(auto file, store.OpenRead(key));
    FileFormat format;
    if (forced) {
      format = *forced;
    } else {
      SL_ASSIGN_OR_RETURN(format, ClassifyFile(*file, key));
    }
    switch (format) {
      case FileFormat::kCsv: return InspectCsv(*file);
      case FileFormat::kJsonl: return InspectJsonLines(*file);
      case FileFormat::kParquet:
        return InspectParquet(std::move(file));
    }
    return Status::Internal("unknown format");
  };
  auto r = run();
  if (!r.ok()) return r.status().WithContext(key);
  return r;
}

}  // namespace saleslake::catalog::internal
