#include "sql/exec/lake_catalog.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <system_error>

#include <fmt/format.h>

#include "common/thread_annotations.h"
#include "common/thread_pool.h"
#include "formats/csv/csv_reader.h"
#include "formats/parquet/parquet.h"
#include "io/s3_store.h"
#include "sql/exec/executor.h"
#include "sql/exec/internal/eval.h"
#include "sql/functions/functions.h"

namespace saleslake::sql {

namespace {

constexpr const char* kViewPrefix = "queries/views/";

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string BaseName(const std::string& name) {
  auto dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

Value PartitionValueAs(const std::optional<std::string>& v, const DataType& type) {
  if (!v) return Value::Null(type);
  if (type.id == TypeId::kVarchar) return Value::Varchar(*v);
  auto r = CastValue(Value::Varchar(*v), type, /*try_cast=*/true);
  return r.ok() ? *r : Value::Null(type);
}

// A Parquet file of more rows than this is read as several morsels, each the row groups whose
// first row falls in its share of the file's rows, so that the cores share one large file (one
// file per table is what DuckDB's COPY, a coalesced Spark write and generate-tpch give) instead
// of one worker reading all of it. DuckDB's row group: smaller groups are combined into a part.
constexpr int64_t kPartRows = 122'880;

// Readers (footers parsed) of the split files read lately, per table: every part of a file and
// every later query over it reuse one instead of parsing the footer again.
constexpr size_t kCachedReaders = 16;

// On a remote store (S3) every file's footer is a round trip before its first column chunk can
// be asked for, and a scan's workers (one per core) would each wait for one at a time. A scan
// hints its files (Table::WillRead) and kAheadFetchers threads open them (fetch the end, parse
// the footer) in the order the workers take them, at most kMaxAhead files per hint (a footer
// and its parsed metadata are a few KB each).
constexpr size_t kAheadFetchers = 4;
constexpr size_t kMaxAhead = 512;
// Files opened ahead stay open for the table's later scans (footers are not fetched twice), up
// to this many per table.
constexpr size_t kMaxOpenKept = 1024;
// Then the column chunks: a worker starting a morsel hints its own chunks (the row groups that
// survive pruning; the store fetches them coalesced and in parallel) and those of the next
// kAheadMorsels morsels in the workers' order whose footers are open, so that the chunks arrive
// while the workers decode (the store bounds the bytes held ahead).
constexpr size_t kAheadMorsels = 8;

class LakeTable final : public Table {
 public:
  LakeTable(io::ObjectStore* store, std::shared_ptr<const catalog::TableMetadata> meta,
            std::vector<catalog::DataFile> files, int64_t snapshot = -2)
      : store_(store), meta_(std::move(meta)), files_(std::move(files)),
        snapshot_(snapshot == -2 ? meta_->current_snapshot_id : snapshot) {
    version_ = meta_->version;
    name_ = meta_->name();
    const Schema& s = meta_->schema();
    for (size_t i = 0; i < s.size(); ++i) {
      bool part = std::find_if(meta_->spec.partition_keys.begin(), meta_->spec.partition_keys.end(),
                               [&](const std::string& k) { return IEquals(k, s[i].name); }) !=
                  meta_->spec.partition_keys.end();
      is_partition_.push_back(part);
      if (!part) data_columns_.push_back(static_cast<int>(i));
    }
  }

  ~LakeTable() override {
    // The fetchers of WillRead use this table's store and name: they finish first.
    std::vector<std::future<void>> fetchers;
    {
      MutexLock lock(ahead_mu_);
      fetchers.swap(fetchers_);
    }
    for (auto& f : fetchers) f.wait();
  }

  const std::string& name() const override { return name_; }
  int64_t version() const { return version_; }
  const Schema& schema() const override { return meta_->schema(); }
  int64_t snapshot_id() const override { return snapshot_; }

  Result<std::vector<Morsel>> Morsels() const override {
    MutexLock lock(mu_);
    if (!loaded_) {
      SL_RETURN_IF_ERROR(Load());
      loaded_ = true;
    }
    return morsels_;
  }

  void WillRead(const std::vector<Morsel>& morsels, const std::vector<int>& columns) const override {
    if (!remote_ || meta_->spec.format != catalog::FileFormat::kParquet) return;
    // Reads of only partition columns, or of none, open no file.
    bool opens = false;
    for (int c : columns) opens |= !is_partition_[static_cast<size_t>(c)];
    if (!opens) return;
    auto job = std::make_shared<AheadJob>();
    {
      MutexLock lock(mu_);
      if (!loaded_) return;
      MutexLock ahead(ahead_mu_);
      for (const Morsel& m : morsels) {
        if (job->files.size() >= kMaxAhead) break;
        if (m.index >= pieces_.size()) continue;
        const size_t file = pieces_[m.index].file;
        if (job->file_pos.count(file) != 0) continue;
        job->file_pos[file] = job->files.size();
        job->files.push_back(file);
        // A file an earlier scan of this table opened (or is opening) is not opened again: its
        // footer is the same (a table version's files never change). One that failed is.
        auto it = ahead_.find(file);
        const bool failed = it != ahead_.end() && it->second.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
                            !it->second.get().ok();
        if (it != ahead_.end() && !failed) {
          job->readers.push_back(it->second);
          continue;
        }
        job->to_open.push_back(job->files.size() - 1);
        job->readers.emplace_back();
      }
      if (job->files.empty()) return;
      job->opened.resize(job->to_open.size());
      for (size_t k = 0; k < job->to_open.size(); ++k) {
        const size_t i = job->to_open[k];
        ahead_[job->files[i]] = job->opened[k].get_future().share();
        job->readers[i] = ahead_[job->files[i]];
      }
      // The readers kept for later scans stay bounded: past kMaxOpenKept, only this hint's stay.
      if (ahead_.size() > kMaxOpenKept)
        std::erase_if(ahead_, [&](const auto& e) { return job->file_pos.count(e.first) == 0; });
      for (const Morsel& m : morsels) {
        if (m.index >= pieces_.size() || job->file_pos.count(pieces_[m.index].file) == 0) continue;
        job->morsel_pos.emplace(m.index, job->morsels.size());
        job->morsels.push_back(m.index);
        job->morsel_file.push_back(pieces_[m.index].file);
      }
      chunks_job_ = job;
      // Finished fetchers of earlier hints go (a long-lived server's table sees many queries).
      std::erase_if(fetchers_, [](std::future<void>& f) { return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
      for (size_t t = 0; t < std::min(kAheadFetchers, job->to_open.size()); ++t) {
        fetchers_.push_back(std::async(std::launch::async, [this, job] {
          for (size_t k; (k = job->next.fetch_add(1)) < job->to_open.size();)
            job->opened[k].set_value(OpenFile(job->files[job->to_open[k]]));
        }));
      }
    }
  }

  Status ReadMorsel(const Morsel& m, const std::vector<int>& columns,
                    const std::function<Status(Batch&)>& sink) const override {
    return ReadMorselPruned(m, columns, nullptr, nullptr, nullptr, sink);
  }

  Status ReadMorselPruned(const Morsel& m, const std::vector<int>& columns, const StatsFilter& may_match,
                          const RowFilter* row_filter, PartCounts* counts,
                          const std::function<Status(Batch&)>& sink) const override {
    Piece piece{m.index, 0, 1};
    {
      MutexLock lock(mu_);
      if (loaded_) {
        if (m.index >= pieces_.size()) return Status::Internal("bad morsel");
        piece = pieces_[m.index];
      }
    }
    if (piece.file >= files_.size()) return Status::Internal("bad morsel");
    const catalog::DataFile& file = files_[piece.file];
    const Schema& s = schema();
    // Partition values of this file, per table column.
    auto partition_value = [&](int c) -> Value {
      for (const auto& pv : file.partition_values)
        if (IEquals(pv.key, s[static_cast<size_t>(c)].name)) return PartitionValueAs(pv.value, s[static_cast<size_t>(c)].type);
      return Value::Null(s[static_cast<size_t>(c)].type);
    };
    if (meta_->spec.format == catalog::FileFormat::kParquet && columns.empty() && file.row_count >= 0) {
      // No column asked (count(*)): the row count the writer committed answers without opening
      // the file, in one batch of no columns, from the file's first part. (Not for CSV, whose
      // catalog count comes from the crawler's record count.)
      if (file.row_count == 0 || piece.part != 0) return Status::OK();
      Batch b;
      b.num_rows = static_cast<size_t>(file.row_count);
      return sink(b);
    }
    bool only_partitions = true;
    for (int c : columns) only_partitions &= is_partition_[static_cast<size_t>(c)];
    if (meta_->spec.format == catalog::FileFormat::kParquet && only_partitions && file.row_count >= 0) {
      // Only partition columns asked: constants over the committed row count, no file read
      // (by the file's first part).
      if (piece.part != 0) return Status::OK();
      for (int64_t left = file.row_count; left > 0; left -= static_cast<int64_t>(kBatchRows)) {
        Batch b;
        b.num_rows = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(kBatchRows)));
        for (int c : columns) {
          ColumnVector col(s[static_cast<size_t>(c)].type, 1);
          FillConstant(col, partition_value(c), b.num_rows);
          b.columns.push_back(std::move(col));
        }
        SL_RETURN_IF_ERROR(sink(b));
      }
      return Status::OK();
    }
    if (meta_->spec.format == catalog::FileFormat::kParquet) {
      // Footers are read here, by the worker that reads the file, and only for files that
      // survived pruning on the catalog's per-file stats and partition values.
      SL_ASSIGN_OR_RETURN(std::shared_ptr<const parquet::ParquetReader> reader, OpenParquet(piece));
      std::vector<int> pos_of;  // position in the reader's batch
      const std::vector<int> file_cols = FileColumns(*reader, columns, &pos_of);  // columns asked of the reader
      // The reader's batch in the table's column order: partition values and missing columns as
      // constants, other file types cast to the table's.
      auto to_table = [&](Batch& b) -> Result<Batch> {
        Batch out;
        out.num_rows = b.num_rows;
        out.selection = std::move(b.selection);
        for (size_t k = 0; k < columns.size(); ++k) {
          const DataType& t = s[static_cast<size_t>(columns[k])].type;
          ColumnVector col;
          if (pos_of[k] < 0) {
            Value v = is_partition_[static_cast<size_t>(columns[k])] ? partition_value(columns[k]) : Value::Null(t);
            col = ColumnVector(t, 1);
            FillConstant(col, v, b.num_rows);
          } else {
            ColumnVector& src = b.columns[static_cast<size_t>(pos_of[k])];
            if (src.type() == t) {
              col = std::move(src);
            } else {
              if (src.encoding() == VectorEncoding::kDictionary) src.Flatten();
              col = ColumnVector(t, std::max<size_t>(b.num_rows, 1));
              SL_RETURN_IF_ERROR(CastVector(src, t, b.num_rows, col, false)
                                     .WithContext(file.key + ": column " + s[static_cast<size_t>(columns[k])].name));
            }
          }
          out.columns.push_back(std::move(col));
        }
        return out;
      };
      auto emit = [&](Batch& b) -> Status {
        SL_ASSIGN_OR_RETURN(Batch out, to_table(b));
        return sink(out);
      };
      // Late materialisation: the filter's file columns first; the others only for batches
      // where some row may pass.
      parquet::ParquetReader::BatchFilter late;
      if (row_filter) {
        bool usable = true;
        for (size_t k : row_filter->columns) {
          if (k >= columns.size()) usable = false;
          else if (pos_of[k] >= 0) late.positions.push_back(static_cast<size_t>(pos_of[k]));
        }
        if (usable && !late.positions.empty() && late.positions.size() < file_cols.size()) {
          late.any_row = [&](Batch& probe) {
            auto out = to_table(probe);
            if (!out.ok()) return true;  // a failing cast is the Filter's to report
            const bool any = row_filter->any_row(*out);
            probe.selection = std::move(out->selection);  // the rows it selected, if it says
            return any;
          };
        }
      }
      auto read_group = [&](int rg) -> Status {
        auto skipped = reader->ReadRowGroupFiltered(rg, file_cols, late, emit);
        if (!skipped.ok()) return skipped.status().WithContext(file.key);
        if (counts) counts->batches_skipped += *skipped;
        return Status::OK();
      };
      const auto [rg_begin, rg_end] = RowGroupsOf(*reader, piece);
      std::vector<int> groups;  // those that survive pruning on their statistics
      for (int rg = rg_begin; rg < rg_end; ++rg) {
        if (may_match && !may_match(RowGroupStats(m, *reader, rg))) {
          if (counts) ++counts->skipped;
          continue;
        }
        groups.push_back(rg);
      }
      if (remote_) {
        // A scan that reads its filter's columns first (late materialisation) hints only those:
        // the others are read only for batches where some row may pass, and fetching them all
        // ahead made a point lookup wait for every column's chunks.
        std::vector<int> hint_file_cols = file_cols, hint_columns = columns;
        if (late.any_row) {
          hint_file_cols.clear();
          hint_columns.clear();
          for (size_t k : row_filter->columns) {
            if (pos_of[k] < 0) continue;
            hint_file_cols.push_back(file_cols[static_cast<size_t>(pos_of[k])]);
            hint_columns.push_back(columns[k]);
          }
        }
        reader->WillRead(groups, hint_file_cols);
        ChunksAhead(m.index, hint_columns, may_match);
      }
      for (int rg : groups) {
        if (counts) {
          ++counts->read;
          for (int c : file_cols) counts->bytes_read += reader->column_chunk_bytes(rg, c);
        }
        SL_RETURN_IF_ERROR(read_group(rg));
      }
      return Status::OK();
    }
    if (meta_->spec.format == catalog::FileFormat::kCsv) {
      SL_ASSIGN_OR_RETURN(auto f, store_->OpenRead(file.key));
      if (counts) counts->bytes_read += f->size();
      csv::ReadOptions opts;
      const catalog::CsvDialect& d = meta_->spec.csv;
      opts.dialect.delimiter = d.delimiter;
      opts.dialect.quote = d.quote;
      opts.dialect.escape = d.escape;
      opts.dialect.header = d.has_header;
      opts.dialect.null_tokens = d.null_tokens;
      opts.threads = 1;
      std::vector<int> data_index(s.size(), -1);  // table column -> CSV field index
      for (size_t i = 0; i < data_columns_.size(); ++i) {
        const Field& fld = s[static_cast<size_t>(data_columns_[i])];
        opts.schema.fields.push_back(fld);
        data_index[static_cast<size_t>(data_columns_[i])] = static_cast<int>(i);
        auto it = meta_->spec.properties.find("csv.format." + fld.name);
        opts.formats.push_back(it == meta_->spec.properties.end() ? "" : it->second);
      }
      std::vector<int> pos_of(columns.size(), -1);
      for (size_t k = 0; k < columns.size(); ++k) {
        int di = data_index[static_cast<size_t>(columns[k])];
        if (di < 0) continue;
        pos_of[k] = static_cast<int>(opts.projection.size());
        opts.projection.push_back(static_cast<size_t>(di));
      }
      if (opts.projection.empty() && !opts.schema.fields.empty()) opts.projection.push_back(0);
      csv::CollectingRejectSink rejects;
      opts.max_rejected_rows = 0;
      std::mutex sink_mu;
      auto r = csv::ReadCsv(*f, opts, [&](size_t, Batch& b) -> Status {
        std::lock_guard<std::mutex> lock(sink_mu);
        Batch out;
        out.num_rows = b.num_rows;
        out.selection = std::move(b.selection);
        for (size_t k = 0; k < columns.size(); ++k) {
          const DataType& t = s[static_cast<size_t>(columns[k])].type;
          if (pos_of[k] < 0) {
            ColumnVector col(t, 1);
            FillConstant(col, partition_value(columns[k]), b.num_rows);
            out.columns.push_back(std::move(col));
          } else {
            out.columns.push_back(std::move(b.columns[static_cast<size_t>(pos_of[k])]));
          }
        }
        return sink(out);
      }, &rejects);
      if (!r.ok()) {
        auto rows = rejects.TakeSorted();
        if (!rows.empty())
          return Status::InvalidArgument(fmt::format("{}:{}: {}", file.key, rows[0].line, rows[0].reason));
        return r.status().WithContext(file.key);
      }
      return Status::OK();
    }
    return Status::NotImplemented("table '" + name_ + "': format " +
                                  std::string(catalog::FileFormatName(meta_->spec.format)) +
                                  " cannot be queried yet");
  }

 private:
  // A morsel: part `part` of `parts` of file `file` (parts > 1 only for large Parquet files).
  struct Piece {
    size_t file;
    int part, parts;
  };

  // The reader of the piece's file: for a split file, from the cache (parsed once for all its
  // parts); otherwise opened for this read alone.
  Result<std::shared_ptr<const parquet::ParquetReader>> OpenParquet(const Piece& piece) const {
    if (piece.parts > 1) {
      MutexLock lock(reader_mu_);
      for (auto& c : readers_) {
        if (c.file == piece.file) {
          c.used = ++reader_clock_;
          return c.reader;
        }
      }
    }
    std::shared_ptr<const parquet::ParquetReader> reader;
    std::optional<std::shared_future<ReaderResult>> ahead;
    {
      // The entry stays (see ahead_): the next scan, and another part of a split file read
      // meanwhile, take the same reader (and the chunks fetched ahead into its file) instead of
      // opening the file again.
      MutexLock lock(ahead_mu_);
      if (auto it = ahead_.find(piece.file); it != ahead_.end()) ahead = it->second;
    }
    if (ahead) {
      const ReaderResult& got = ahead->get();
      if (!got.ok()) {
        MutexLock lock(ahead_mu_);
        ahead_.erase(piece.file);  // the next scan tries again
        return got.status();
      }
      reader = *got;
    } else {
      SL_ASSIGN_OR_RETURN(reader, OpenFile(piece.file));
    }
    if (piece.parts > 1) {
      // Two parts may open the file at once; both readers are good, one is kept.
      MutexLock lock(reader_mu_);
      if (readers_.size() >= kCachedReaders) {
        auto oldest = std::min_element(readers_.begin(), readers_.end(),
                                       [](const auto& a, const auto& b) { return a.used < b.used; });
        readers_.erase(oldest);
      }
      readers_.push_back({piece.file, reader, ++reader_clock_});
    }
    return reader;
  }

  using ReaderResult = Result<std::shared_ptr<const parquet::ParquetReader>>;

  // The reader's columns for the table's `columns` (partition columns and columns the file lacks
  // are not read; when none is left, the first column, to count rows); `pos_of` gets each
  // table column's position among them, -1 for none.
  std::vector<int> FileColumns(const parquet::ParquetReader& reader, const std::vector<int>& columns,
                               std::vector<int>* pos_of) const {
    const Schema& s = schema();
    const Schema& fs = reader.schema();
    std::vector<int> file_cols;
    pos_of->assign(columns.size(), -1);
    for (size_t k = 0; k < columns.size(); ++k) {
      int c = columns[k];
      if (is_partition_[static_cast<size_t>(c)]) continue;
      auto f = fs.FindField(s[static_cast<size_t>(c)].name);
      if (!f) continue;
      (*pos_of)[k] = static_cast<int>(file_cols.size());
      file_cols.push_back(static_cast<int>(*f));
    }
    if (file_cols.empty() && fs.size() > 0) file_cols.push_back(0);
    return file_cols;
  }

  struct AheadJob;
  // The job's copy of the reader of morsels[q]'s file is dropped once the file's last morsel is
  // past (the reader stays in ahead_ for later scans; a block fetched ahead into its file is
  // freed once every range hinted in it has been read).
  static void Release(AheadJob& job, size_t q) {
    const size_t file = job.morsel_file[q];
    if (q + 1 == job.morsels.size() || job.morsel_file[q + 1] != file) job.readers[job.file_pos.at(file)] = {};
  }

  // Hints the column chunks of the morsels after `morsel` (in the order of the last WillRead)
  // up to kAheadMorsels ahead, each once, as far as their footers are open; the row groups
  // pruned on their statistics are left out, as the read will leave them.
  void ChunksAhead(size_t morsel, const std::vector<int>& columns, const StatsFilter& may_match) const {
    std::shared_ptr<AheadJob> job;
    {
      MutexLock lock(ahead_mu_);
      job = chunks_job_;
    }
    if (!job) return;
    std::lock_guard<std::mutex> lock(job->chunks_mu);
    auto at = job->morsel_pos.find(morsel);
    if (at == job->morsel_pos.end()) return;
    for (; job->chunks_next <= at->second; ++job->chunks_next) Release(*job, job->chunks_next);  // this one its reader hinted
    for (; job->chunks_next < job->morsels.size() && job->chunks_next <= at->second + kAheadMorsels; ++job->chunks_next) {
      const size_t index = job->morsels[job->chunks_next];
      Piece piece;
      Morsel m;
      {
        // Copied out: the statistics test below runs without the table's lock.
        MutexLock tl(mu_);
        piece = pieces_[index];
        m = morsels_[index];
      }
      const std::shared_future<ReaderResult> opened = job->readers[job->file_pos.at(piece.file)];
      if (!opened.valid()) continue;
      if (opened.wait_for(std::chrono::seconds(0)) != std::future_status::ready) break;  // the next worker's turn
      Release(*job, job->chunks_next);
      if (!opened.get().ok()) continue;
      const parquet::ParquetReader& reader = **opened.get();
      std::vector<int> pos_of;
      const std::vector<int> file_cols = FileColumns(reader, columns, &pos_of);
      std::vector<int> groups;
      const auto [rg_begin, rg_end] = RowGroupsOf(reader, piece);
      for (int rg = rg_begin; rg < rg_end; ++rg)
        if (!may_match || may_match(RowGroupStats(m, reader, rg))) groups.push_back(rg);
      reader.WillRead(groups, file_cols);
    }
  }

  // Opens file `file` (its footer read and parsed). On a remote lake the open fetches the
  // file's end sized by the footers of the files opened before (FooterTail).
  ReaderResult OpenFile(size_t file) const {
    SL_ASSIGN_OR_RETURN(auto opened, remote_ ? store_->OpenReadTail(files_[file].key, FooterTail(file))
                                             : store_->OpenRead(files_[file].key));
    std::shared_ptr<const io::RandomAccessFile> shared(std::move(opened));
    auto rd = parquet::ParquetReader::Open(shared);
    if (!rd.ok()) return rd.status().WithContext("table " + name_);
    if (remote_) LearnFooter(*shared, **rd);
    return std::shared_ptr<const parquet::ParquetReader>(std::move(*rd));
  }

  // The bytes at the end of file `file` that hold its footer, predicted from the files of this
  // table opened so far (0 = none yet: the store's guess). A file's footer grows with its row
  // groups (their column chunks' offsets and statistics), and its row groups with its rows,
  // which the catalog knows: the longest footer seen for that many row groups, or extrapolated
  // from the nearest count seen, plus a little for statistics of other lengths. A fixed guess
  // either over-reads (q6 of the dashboard suite read 178 KB of ends for 87 KB of footers) or
  // costs a second GET per larger footer.
  uint64_t FooterTail(size_t file) const {
    const int64_t rows = files_[file].row_count;
    MutexLock lock(footer_mu_);
    // Rows per row group: the fewest a split file's first group held (writers cut groups by
    // bytes, so they vary; counting too many groups over-reads a little, too few costs a GET),
    // else the most a file of one group held.
    const int64_t group_rows = first_group_rows_ > 0 ? first_group_rows_ : single_group_rows_;
    if (rows <= 0 || footers_.empty() || group_rows <= 0) return 0;
    const int groups = static_cast<int>(std::max<int64_t>(1, (rows + group_rows - 1) / group_rows));
    // The nearest row-group count seen, and the bytes each row group adds to a footer.
    auto near = footers_.lower_bound(groups);
    if (near == footers_.end() || (near != footers_.begin() && near->first != groups)) --near;
    int64_t per_group = static_cast<int64_t>(footers_.rbegin()->second / static_cast<uint64_t>(footers_.rbegin()->first));
    if (footers_.size() >= 2) {
      const auto& [g0, f0] = *footers_.begin();
      const auto& [g1, f1] = *footers_.rbegin();
      per_group = std::max<int64_t>(0, (static_cast<int64_t>(f1) - static_cast<int64_t>(f0)) / (g1 - g0));
    }
    const int64_t footer = static_cast<int64_t>(near->second) + per_group * (groups - near->first);
    constexpr int64_t kSlack = 64;  // statistics (min/max strings) of other lengths
    return static_cast<uint64_t>(std::max<int64_t>(footer, 0) + 8 + kSlack);  // + length and magic
  }

  // Records an opened file's footer length and row groups for FooterTail.
  void LearnFooter(const io::RandomAccessFile& f, const parquet::ParquetReader& reader) const {
    uint8_t len[4];
    if (f.size() < 12 || !f.ReadAt(f.size() - 8, std::span<uint8_t>(len, 4)).ok()) return;  // in the end fetched at open
    const uint64_t footer = uint64_t{len[0]} | uint64_t{len[1]} << 8 | uint64_t{len[2]} << 16 | uint64_t{len[3]} << 24;
    const int groups = reader.num_row_groups();
    if (groups <= 0) return;
    MutexLock lock(footer_mu_);
    uint64_t& longest = footers_[groups];
    longest = std::max(longest, footer);
    if (groups == 1) {
      single_group_rows_ = std::max(single_group_rows_, reader.row_group_num_rows(0));
    } else {
      const int64_t first = reader.row_group_num_rows(0);
      if (first > 0 && (first_group_rows_ == 0 || first < first_group_rows_)) first_group_rows_ = first;
    }
  }

  // The row groups [begin, end) of the piece: those whose first row r has
  // floor(r * parts / rows) == part, so the parts cover every row group once, in file order.
  static std::pair<int, int> RowGroupsOf(const parquet::ParquetReader& reader, const Piece& piece) {
    const int n = reader.num_row_groups();
    if (piece.parts <= 1) return {0, n};
    const int64_t rows = reader.num_rows();
    auto part_of = [&](int64_t first_row) {
      if (rows <= 0) return 0;
      return static_cast<int>(static_cast<__int128>(first_row) * piece.parts / rows);
    };
    int begin = n, end = n;
    int64_t first = 0;
    for (int rg = 0; rg < n; ++rg) {
      const int p = part_of(first);
      if (p == piece.part && begin == n) begin = rg;
      if (p > piece.part) {
        end = rg;
        break;
      }
      first += reader.row_group_num_rows(rg);
    }
    if (begin == n) return {n, n};
    return {begin, end};
  }

  // Statistics of row group `rg` per table column: the file's (partition values, catalog
  // stats) overridden by the row group's own min/max/null count where the file column has the
  // table column's type (a widened column keeps the file-level figures).
  std::vector<ColumnStats> RowGroupStats(const Morsel& m, const parquet::ParquetReader& reader, int rg) const {
    const Schema& s = schema();
    const Schema& fs = reader.schema();
    std::vector<ColumnStats> st = m.stats;
    st.resize(s.size());
    for (size_t c = 0; c < s.size(); ++c) {
      if (is_partition_[c]) continue;
      auto f = fs.FindField(s[c].name);
      if (!f || !(fs[*f].type == s[c].type)) continue;
      parquet::ColumnStats rs = reader.row_group_stats(rg, static_cast<int>(*f));
      st[c].min = rs.min;
      st[c].max = rs.max;
      st[c].null_count = rs.has_null_count ? rs.null_count : -1;
    }
    return st;
  }

  // REQUIRES: mu_ held.
  Status Load() const SL_REQUIRES(mu_) {
    const Schema& s = schema();
    for (size_t fi = 0; fi < files_.size(); ++fi) {
      const catalog::DataFile& file = files_[fi];
      std::vector<ColumnStats> part_stats(s.size());
      for (size_t c = 0; c < s.size(); ++c) {
        if (is_partition_[c]) {
          Value v = Value::Null(s[c].type);
          for (const auto& pv : file.partition_values)
            if (IEquals(pv.key, s[c].name)) v = PartitionValueAs(pv.value, s[c].type);
          part_stats[c].min = v;
          part_stats[c].max = v;
          part_stats[c].null_count = v.is_null() ? file.row_count : 0;
        } else if (const catalog::ColumnStats* cs = file.FindStats(s[c].name)) {
          part_stats[c].min = cs->min;
          part_stats[c].max = cs->max;
          part_stats[c].null_count = cs->null_count;
        }
      }
      const int parts = meta_->spec.format == catalog::FileFormat::kParquet && file.row_count > kPartRows
                            ? static_cast<int>((file.row_count + kPartRows - 1) / kPartRows)
                            : 1;
      for (int part = 0; part < parts; ++part) {
        Morsel m;
        m.index = pieces_.size();
        // The part's share of the rows (its row groups are known once the footer is read).
        m.rows = file.row_count < 0 ? -1 : file.row_count * (part + 1) / parts - file.row_count * part / parts;
        m.file = file.key;
        m.part = part;
        m.stats = part_stats;
        morsels_.push_back(std::move(m));
        pieces_.push_back({fi, part, parts});
      }
    }
    return Status::OK();
  }

  io::ObjectStore* store_;
  std::shared_ptr<const catalog::TableMetadata> meta_;
  std::vector<catalog::DataFile> files_;
  int64_t snapshot_;
  int64_t version_ = 0;  // the catalog metadata version these files belong to
  std::string name_;
  std::vector<bool> is_partition_;
  std::vector<int> data_columns_;
  mutable Mutex mu_;
  mutable bool loaded_ SL_GUARDED_BY(mu_) = false;
  mutable std::vector<Morsel> morsels_ SL_GUARDED_BY(mu_);
  mutable std::vector<Piece> pieces_ SL_GUARDED_BY(mu_);  // per morsel index
  struct CachedReader {
    size_t file;
    std::shared_ptr<const parquet::ParquetReader> reader;
    uint64_t used;  // reader_clock_ at the last use (the least recent goes first)
  };
  // Files opened ahead of their readers (WillRead), kept (at most kMaxOpenKept, footers parsed)
  // for every later scan of this table version: a second scan of the table in one query (a self
  // join, a CROSS JOIN of two aggregates), or a later query in a long-lived server, fetches no
  // footer again. A failed open is not kept.
  struct AheadJob {
    std::vector<size_t> files;                     // in the order the workers take them
    std::vector<size_t> to_open;                   // the files[i] (by i) this job opens: not open yet
    std::vector<std::promise<ReaderResult>> opened;  // per to_open[k]
    std::atomic<size_t> next{0};                   // the next to_open[k] a fetcher opens
    std::vector<std::shared_future<ReaderResult>> readers;  // per files[i]
    std::map<size_t, size_t> file_pos;             // file -> i
    std::vector<size_t> morsels;                   // the hint's morsels (indexes) whose files are here
    std::vector<size_t> morsel_file;               // per morsels[q]: its file
    std::map<size_t, size_t> morsel_pos;           // morsel index -> position in `morsels`
    std::mutex chunks_mu;
    size_t chunks_next = 0;                        // morsels[] from here have not had their chunks hinted
  };
  const bool remote_ = io::IsS3Uri(store_->uri());
  mutable Mutex ahead_mu_;
  mutable std::map<size_t, std::shared_future<ReaderResult>> ahead_ SL_GUARDED_BY(ahead_mu_);
  mutable std::vector<std::future<void>> fetchers_ SL_GUARDED_BY(ahead_mu_);
  mutable std::shared_ptr<AheadJob> chunks_job_ SL_GUARDED_BY(ahead_mu_);  // the last WillRead's
  // Footers of the files opened (FooterTail): the longest per row-group count; the fewest rows
  // the first row group of a file of several held, and the most rows of a file of one group.
  mutable Mutex footer_mu_;
  mutable std::map<int, uint64_t> footers_ SL_GUARDED_BY(footer_mu_);
  mutable int64_t first_group_rows_ SL_GUARDED_BY(footer_mu_) = 0;
  mutable int64_t single_group_rows_ SL_GUARDED_BY(footer_mu_) = 0;
  mutable Mutex reader_mu_;
  mutable std::vector<CachedReader> readers_ SL_GUARDED_BY(reader_mu_);
  mutable uint64_t reader_clock_ SL_GUARDED_BY(reader_mu_) = 0;
};

using MetaResult = Result<std::shared_ptr<const catalog::TableMetadata>>;

// The table lookup the last LakeCatalog::GetView on this thread started (see there), tagged with
// its catalog's id (never reused, unlike an address).
struct StartedLookup {
  uint64_t catalog = 0;
  std::string name;
  std::chrono::steady_clock::time_point at;
  std::shared_future<MetaResult> meta;
};
thread_local StartedLookup t_lookup;

class LakeCatalog final : public Catalog {
 public:
  LakeCatalog(io::ObjectStore* store, catalog::Catalog* cat) : store_(store), cat_(cat) {}

  // The table's latest committed version: a long-lived engine (the server's) sees every commit
  // made after it opened; the file list is reused while the version is unchanged.
  Result<std::shared_ptr<const Table>> GetTable(const std::string& name) const override {
    std::string base = BaseName(name);
    // The lookup GetView started for this name just before, on this thread (see GetView).
    std::shared_future<MetaResult> started;
    if (t_lookup.catalog == id_ && t_lookup.name == name && std::chrono::steady_clock::now() - t_lookup.at < kLookupFresh)
      started = std::move(t_lookup.meta);
    t_lookup = {};
    SL_ASSIGN_OR_RETURN(auto meta, started.valid() ? started.get() : LoadByName(name, base));
    MutexLock lock(mu_);
    auto it = tables_.find(Lower(base));
    if (it != tables_.end() && it->second->version() == meta->version) return std::shared_ptr<const Table>(it->second);
    SL_ASSIGN_OR_RETURN(auto files, cat_->ListFiles(*meta));
    auto t = std::make_shared<LakeTable>(store_, meta, std::move(files));
    tables_[Lower(base)] = t;
    return std::shared_ptr<const Table>(t);
  }

  // The table named `base` in any letter case: as written, then in lower case (what the
  // crawler and the jobs create), and only then by listing every table (a listing of the whole
  // catalog, each table's versions, snapshots and manifests: one or more round trips to S3).
  Result<std::shared_ptr<const catalog::TableMetadata>> LoadByName(const std::string& name, const std::string& base) const {
    for (const std::string& guess : {base, Lower(base)}) {
      if (!catalog::ValidateTableName(guess).ok()) break;
      auto meta = cat_->LoadTable(guess);
      if (meta.ok() || meta.status().code() != StatusCode::kNotFound) return meta;
      if (guess == Lower(base)) break;
    }
    SL_ASSIGN_OR_RETURN(std::vector<std::string> names, cat_->ListTables());
    std::string actual;
    for (const auto& n : names)
      if (IEquals(n, base)) actual = n;
    if (actual.empty()) return Status::NotFound("table '" + name + "' not found");
    return cat_->LoadTable(actual);
  }

  // Every caller (the binder, SHOW COLUMNS, the system tables' catalog) asks for a view first
  // and, when there is none, right away for the table of that name, on the same thread. On a
  // remote lake each is a chain of round trips, so the table's lookup (a listing of its
  // metadata/, then its latest version) starts here, alongside the view's GET, and GetTable
  // takes its result when it asks for that name next on this thread (not later: a lookup is
  // never older than the statement that uses it).
  std::optional<ViewDefinition> GetView(const std::string& name) const override {
    t_lookup = {};
    std::shared_future<MetaResult> table;
    const std::string base = BaseName(name);
    if (remote_ && catalog::ValidateTableName(base).ok()) {
      try {
        table = std::async(std::launch::async, [this, name, base] { return LoadByName(name, base); }).share();
        MutexLock lock(mu_);
        std::erase_if(lookups_, [](const auto& f) { return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
        lookups_.push_back(table);
      } catch (const std::system_error&) {
        table = {};  // no thread to spare: GetTable looks the table up itself
      }
    }
    auto text = store_->Get(kViewPrefix + Lower(base) + ".sql");
    if (!text.ok()) {
      if (table.valid()) t_lookup = {id_, name, std::chrono::steady_clock::now(), std::move(table)};
      return std::nullopt;
    }
    return ViewDefinition{*text};
  }

  ~LakeCatalog() override {
    // The lookups GetView started use this catalog: they finish first.
    MutexLock lock(mu_);
    for (const auto& f : lookups_) f.wait();
  }

  std::vector<std::string> ListTables() const override {
    std::vector<std::string> out;
    if (auto names = cat_->ListTables(); names.ok()) out = *names;
    if (auto views = store_->List(kViewPrefix); views.ok()) {
      for (const auto& v : *views) {
        std::string k = v.key.substr(std::string(kViewPrefix).size());
        if (k.size() > 4 && k.ends_with(".sql")) out.push_back(k.substr(0, k.size() - 4));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  static constexpr std::chrono::seconds kLookupFresh{5};  // a bound for a GetView no GetTable followed
  static inline std::atomic<uint64_t> next_id_{1};

  io::ObjectStore* store_;
  catalog::Catalog* cat_;
  const bool remote_ = io::IsS3Uri(store_->uri());
  const uint64_t id_ = next_id_.fetch_add(1);
  mutable Mutex mu_;
  mutable std::map<std::string, std::shared_ptr<LakeTable>> tables_ SL_GUARDED_BY(mu_);
  mutable std::vector<std::shared_future<MetaResult>> lookups_ SL_GUARDED_BY(mu_);  // started by GetView
};

// ---------------------------------------------------------------- writer

std::string RandomHex(size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s;
  while (s.size() < n) s += fmt::format("{:016x}", rng());
  return s.substr(0, n);
}

class LakeWriter final : public CatalogWriter {
 public:
  LakeWriter(io::ObjectStore* store, catalog::Catalog* cat) : store_(store), cat_(cat) {}

  Status CreateView(const std::string& name, const std::string& sql, bool or_replace) override {
    std::string base = Lower(BaseName(name));
    SL_RETURN_IF_ERROR(catalog::ValidateTableName(base));
    if (cat_->LoadTable(base).ok()) return Status::AlreadyExists("a table named '" + base + "' exists");
    std::string key = kViewPrefix + base + ".sql";
    if (or_replace) return store_->Put(key, sql);
    Status s = store_->PutIfAbsent(key, sql);
    if (s.code() == StatusCode::kAlreadyExists) return Status::AlreadyExists("view '" + base + "' already exists");
    return s;
  }

  Status DropView(const std::string& name, bool if_exists) override {
    Status s = store_->Delete(kViewPrefix + Lower(BaseName(name)) + ".sql");
    if (s.code() == StatusCode::kNotFound) {
      return if_exists ? Status::OK() : Status::NotFound("view '" + name + "' not found");
    }
    return s;
  }

  Status CreateTable(const std::string& name, const Schema& schema, const std::vector<Batch>& data,
                     const std::vector<std::pair<std::string, std::string>>& properties,
                     bool if_not_exists) override {
    std::string base = BaseName(name);
    SL_RETURN_IF_ERROR(catalog::ValidateTableName(base));
    if (cat_->LoadTable(base).ok()) {
      if (if_not_exists) return Status::OK();
      return Status::AlreadyExists("table '" + base + "' already exists");
    }
    std::vector<std::string> partition_keys;
    for (const auto& [k, v] : properties) {
      if (k == "format") {
        if (Lower(v) != "parquet") return Status::NotImplemented("CREATE TABLE AS writes PARQUET only, not '" + v + "'");
      } else if (k == "partitioned_by") {
        partition_keys = SplitPartitionList(v);
      } else if (k != "location" && k != "external_location") {
        return Status::InvalidArgument("unknown table property '" + k + "' (known: format, partitioned_by)");
      }
    }
    for (const auto& p : partition_keys)
      if (!schema.FindField(p)) return Status::InvalidArgument("partition column '" + p + "' is not in the query's columns");
    // Partition columns go last, as in Hive/Trino.
    catalog::TableSpec spec;
    spec.name = base;
    spec.format = catalog::FileFormat::kParquet;
    spec.location = "processed_data/" + base + "/";
    spec.partition_keys = partition_keys;
    for (const auto& f : schema.fields)
      if (std::find(partition_keys.begin(), partition_keys.end(), Lower(f.name)) == partition_keys.end())
        spec.schema.fields.push_back(f);
    for (const auto& p : partition_keys) spec.schema.fields.push_back(schema[*schema.FindField(p)]);
    SL_ASSIGN_OR_RETURN(std::vector<catalog::DataFile> files, WriteFiles(spec, schema, data));
    SL_RETURN_IF_ERROR(cat_->CreateTable(spec).status());
    return cat_->Commit(base, [&](const catalog::TableMetadata&) -> Result<catalog::TableChange> {
      catalog::TableChange ch;
      ch.operation = "append";
      ch.add_files = files;
      ch.allow_empty = true;
      return ch;
    }).status();
  }

  Status InsertInto(const std::string& name, const Schema& schema, const std::vector<Batch>& data) override {
    SL_ASSIGN_OR_RETURN(auto meta, cat_->LoadTable(BaseName(name)));
    if (meta->spec.format != catalog::FileFormat::kParquet)
      return Status::NotImplemented("INSERT INTO a " + std::string(catalog::FileFormatName(meta->spec.format)) + " table");
    SL_ASSIGN_OR_RETURN(std::vector<catalog::DataFile> files, WriteFiles(meta->spec, schema, data));
    return cat_->Commit(meta->name(), [&](const catalog::TableMetadata&) -> Result<catalog::TableChange> {
      catalog::TableChange ch;
      ch.operation = "append";
      ch.add_files = files;
      return ch;
    }).status();
  }

  Result<std::vector<catalog::DataFile>> WriteFilesOf(const catalog::TableSpec& spec, const Schema& schema,
                                                      const std::vector<Batch>& data, bool unsynced) {
    return WriteFiles(spec, schema, data, unsynced);
  }

  Status DropTable(const std::string& name, bool) override {
    return Status::NotImplemented("DROP TABLE '" + name + "': lake tables keep their history; "
                                  "remove them with the catalog tools");
  }

 private:
  // Writes `data` (columns in `schema` order) as one Parquet file per partition of `spec`.
  Result<std::vector<catalog::DataFile>> WriteFiles(const catalog::TableSpec& spec, const Schema& schema,
                                                    const std::vector<Batch>& data, bool unsynced = false) {
    std::vector<int> data_cols, part_cols;
    Schema file_schema;
    for (const auto& f : spec.schema.fields) {
      auto idx = schema.FindField(f.name);
      if (!idx) return Status::InvalidArgument("column '" + f.name + "' missing from the data");
      bool is_part = std::find(spec.partition_keys.begin(), spec.partition_keys.end(), Lower(f.name)) !=
                     spec.partition_keys.end();
      (is_part ? part_cols : data_cols).push_back(static_cast<int>(*idx));
      if (!is_part) file_schema.fields.push_back(Field{f.name, schema[*idx].type, true});
    }
    // Rows per partition path.
    std::map<std::string, std::vector<Batch>> parts;
    std::map<std::string, std::vector<catalog::PartitionValue>> part_values;
    for (const auto& b : data) {
      std::map<std::string, std::vector<uint32_t>> rows;
      for (size_t i = 0; i < b.num_rows; ++i) {
        std::string path;
        std::vector<catalog::PartitionValue> pv;
        for (size_t k = 0; k < part_cols.size(); ++k) {
          const ColumnVector& c = b.columns[static_cast<size_t>(part_cols[k])];
          std::optional<std::string> v;
          if (c.IsValid(i)) v = ValueText(c, i);
          path += spec.partition_keys[k] + "=" + (v ? catalog::EscapePartitionValue(*v) : "__HIVE_DEFAULT_PARTITION__") + "/";
          pv.push_back({spec.partition_keys[k], v});
        }
        rows[path].push_back(static_cast<uint32_t>(i));
        part_values[path] = pv;
      }
      for (auto& [path, r] : rows) {
        Batch sub;
        sub.num_rows = r.size();
        for (int c : data_cols) {
          ColumnVector col;
          internal::GatherColumn(b.columns[static_cast<size_t>(c)], r.data(), r.size(), col);
          sub.columns.push_back(std::move(col));
        }
        parts[path].push_back(std::move(sub));
      }
    }
    // One file per partition, written in parallel: encoding overlaps, and so do the file and
    // folder syncs that make each durable (milliseconds each on a local disk) unless the
    // caller's commit syncs them (`unsynced`).
    std::vector<const std::pair<const std::string, std::vector<Batch>>*> todo;
    for (const auto& part : parts) todo.push_back(&part);
    std::vector<Result<catalog::DataFile>> written(todo.size(), catalog::DataFile{});
    ThreadPool::Default().ParallelFor(todo.size(), [&](size_t i) {
      written[i] = WriteFile(spec, file_schema, todo[i]->first, todo[i]->second, part_values.at(todo[i]->first),
                             unsynced);
    });
    std::vector<catalog::DataFile> files;
    for (auto& w : written) {
      SL_RETURN_IF_ERROR(w.status());
      files.push_back(std::move(*w));
    }
    return files;
  }

  // One partition's rows as one Parquet file.
  Result<catalog::DataFile> WriteFile(const catalog::TableSpec& spec, const Schema& file_schema,
                                      const std::string& path, const std::vector<Batch>& batches,
                                      const std::vector<catalog::PartitionValue>& values, bool unsynced) {
    std::string key = spec.location + path + "part-" + RandomHex(16) + ".parquet";
    SL_ASSIGN_OR_RETURN(auto out, unsynced ? store_->OpenWriteUnsynced(key) : store_->OpenWrite(key));
    parquet::WriterOptions wo;
    if (auto it = spec.properties.find(kCompressionProperty); it != spec.properties.end()) {
      SL_ASSIGN_OR_RETURN(wo.compression, parquet::ParseCompression(it->second));
    }
    SL_ASSIGN_OR_RETURN(auto writer, parquet::ParquetWriter::Open(out.get(), file_schema, wo));
    int64_t rows = 0;
    for (auto& b : batches) {
      SL_RETURN_IF_ERROR(writer->Write(b));
      rows += static_cast<int64_t>(b.num_rows);
    }
    SL_ASSIGN_OR_RETURN(parquet::FileStats st, writer->Close());
    SL_RETURN_IF_ERROR(out->Commit());
    catalog::DataFile df;
    df.key = key;
    df.size = st.file_size;
    df.row_count = rows;
    df.partition_values = values;
    for (size_t c = 0; c < file_schema.size() && c < st.columns.size(); ++c) {
      catalog::ColumnStats cs;
      cs.column = file_schema[c].name;
      cs.min = st.columns[c].min;
      cs.max = st.columns[c].max;
      cs.null_count = st.columns[c].has_null_count ? st.columns[c].null_count : -1;
      df.column_stats.push_back(std::move(cs));
    }
    return df;
  }

  io::ObjectStore* store_;
  catalog::Catalog* cat_;
};

}  // namespace

Result<std::shared_ptr<Catalog>> OpenLakeCatalog(io::ObjectStore* store, catalog::Catalog* cat) {
  if (store == nullptr || cat == nullptr) return Status::InvalidArgument("OpenLakeCatalog: null store or catalog");
  return std::shared_ptr<Catalog>(std::make_shared<LakeCatalog>(store, cat));
}

std::shared_ptr<CatalogWriter> MakeLakeCatalogWriter(io::ObjectStore* store, catalog::Catalog* cat) {
  return std::make_shared<LakeWriter>(store, cat);
}

std::vector<std::string> SplitPartitionList(const std::string& v) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t comma = v.find(',', pos);
    std::string part = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!part.empty()) out.push_back(Lower(part));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::shared_ptr<const Table> MakeLakeTable(io::ObjectStore* store,
                                           std::shared_ptr<const catalog::TableMetadata> meta,
                                           std::vector<catalog::DataFile> files, int64_t snapshot) {
  return std::make_shared<LakeTable>(store, std::move(meta), std::move(files), snapshot);
}

Result<std::vector<catalog::DataFile>> WriteLakeFiles(io::ObjectStore* store, const catalog::TableSpec& spec,
                                                      const Schema& schema, const std::vector<Batch>& data,
                                                      bool unsynced) {
  return LakeWriter(store, nullptr).WriteFilesOf(spec, schema, data, unsynced);
}

}  // namespace saleslake::sql
