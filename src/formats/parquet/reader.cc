// ParquetReader, the public surface: Open, the accessors, and reading a row group into batches
// (columns of one row group decode in parallel; late materialization skips batches a filter
// rules out before the other columns are decoded). The parts: internal/reader_impl.h.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "common/thread_pool.h"
#include "formats/parquet/internal/reader_impl.h"

namespace saleslake::parquet {

using namespace internal;  // NOLINT: this file is the module's inside

ParquetReader::ParquetReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParquetReader::~ParquetReader() = default;

Result<std::unique_ptr<ParquetReader>> ParquetReader::Open(std::shared_ptr<const io::RandomAccessFile> file) {
  auto impl = std::make_unique<Impl>();
  impl->name = file->name();
  impl->file = std::move(file);
  SL_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<ParquetReader>(new ParquetReader(std::move(impl)));
}

const Schema& ParquetReader::schema() const { return impl_->schema; }
const ColumnInfo& ParquetReader::column_info(int column) const { return impl_->leaves[column].info; }
int64_t ParquetReader::num_rows() const { return impl_->num_rows; }
int ParquetReader::num_row_groups() const { return static_cast<int>(impl_->md.row_groups.size()); }
int64_t ParquetReader::row_group_num_rows(int rg) const { return impl_->md.row_groups[rg].num_rows; }
std::string ParquetReader::created_by() const { return impl_->md.created_by.value_or(""); }
const std::vector<std::pair<std::string, std::string>>& ParquetReader::key_value_metadata() const {
  return impl_->kv;
}

void ParquetReader::WillRead(const std::vector<int>& row_groups, const std::vector<int>& columns) const {
  if (impl_->file->mapped_data()) return;
  std::vector<io::ByteRange> ranges;
  for (int rg : row_groups) {
    if (rg < 0 || rg >= num_row_groups()) continue;
    const RowGroup& group = impl_->md.row_groups[rg];
    for (int c : columns) {
      if (c < 0 || static_cast<size_t>(c) >= impl_->leaves.size() || !group.columns[c].meta_data) continue;
      // The chunk's bytes as DecodeChunk reads them: from the dictionary page when it comes first.
      const ColumnMetaData& m = *group.columns[c].meta_data;
      int64_t start = m.data_page_offset;
      if (m.dictionary_page_offset && *m.dictionary_page_offset > 0 && *m.dictionary_page_offset < start)
        start = *m.dictionary_page_offset;
      const int64_t len = m.total_compressed_size;
      if (start < 4 || len <= 0 || static_cast<uint64_t>(start) > impl_->footer_start ||
          static_cast<uint64_t>(len) > impl_->footer_start - static_cast<uint64_t>(start))
        continue;
      ranges.push_back({static_cast<uint64_t>(start), static_cast<uint64_t>(len)});
    }
  }
  if (!ranges.empty()) impl_->file->WillRead(ranges);
}

namespace {

// Row groups decoded from mapped files whose pages are still resident, oldest first: a query
// that reads again what it (or the one before, in a server) read keeps it mapped and does not
// fault it in again (q06 4 times in one process at SF1: 25% more CPU when every row group was
// released at once), while a scan larger than the budget holds no more than it.
struct Waiting {
  std::weak_ptr<const io::RandomAccessFile> file;
  const void* key;  // the file and the row group, to recognise a re-read
  int rg;
  uint64_t begin, n, weight;
};
struct ReleaseQueue {
  std::mutex mu;
  std::deque<Waiting> q;  // GUARDED_BY(mu)
  uint64_t weight = 0;    // GUARDED_BY(mu)
};
ReleaseQueue& Released() {
  static ReleaseQueue* queue = new ReleaseQueue();  // never destroyed: used until exit
  return *queue;
}
constexpr size_t kMaxWaiting = 4096;

}  // namespace

void ParquetReader::Impl::ReleaseRowGroup(int rg, uint64_t weight) const {
  if (!file->mapped_data()) return;
  uint64_t begin = footer_start, end = 0;
  for (const auto& c : md.row_groups[rg].columns) {
    if (!c.meta_data) continue;
    const ColumnMetaData& m = *c.meta_data;
    int64_t start = m.data_page_offset;
    if (m.dictionary_page_offset && *m.dictionary_page_offset > 0 && *m.dictionary_page_offset < start)
      start = *m.dictionary_page_offset;
    if (start < 4 || m.total_compressed_size < 0 || static_cast<uint64_t>(start) > footer_start) continue;
    begin = std::min(begin, static_cast<uint64_t>(start));
    end = std::max(end, std::min(footer_start, static_cast<uint64_t>(start) + static_cast<uint64_t>(m.total_compressed_size)));
  }
  if (end <= begin) return;
  // The whole row group, the columns this read did not ask for too, and out to 64 KB blocks: a
  // page fault maps the cached pages around it along (the kernel's fault-around, or a whole
  // large folio of the page cache), which reach into the neighbouring columns.
  constexpr uint64_t kBlock = 64 << 10;
  begin = begin / kBlock * kBlock;
  end = std::min(file_size, (end + kBlock - 1) / kBlock * kBlock);
  const uint64_t budget = MutableReaderLimits().resident_mapped_bytes;
  if (budget == 0) {
    file->DoneWith(begin, end - begin);
    return;
  }
  std::vector<Waiting> now;  // released outside the lock
  {
    ReleaseQueue& r = Released();
    std::lock_guard<std::mutex> lock(r.mu);
    for (auto it = r.q.begin(); it != r.q.end();) {
      // Gone files, and this row group when it waits already (it moves to the back).
      if (it->file.expired() || (it->key == file.get() && it->rg == rg)) {
        r.weight -= it->weight;
        it = r.q.erase(it);
      } else {
        ++it;
      }
    }
    r.q.push_back({file, file.get(), rg, begin, end - begin, weight});
    r.weight += weight;
    while (!r.q.empty() && (r.weight > budget || r.q.size() > kMaxWaiting)) {
      r.weight -= r.q.front().weight;
      now.push_back(std::move(r.q.front()));
      r.q.pop_front();
    }
  }
  for (const Waiting& w : now)
    if (auto f = w.file.lock()) f->DoneWith(w.begin, w.n);
}

Status ParquetReader::ReadRowGroup(int rg, const std::vector<int>& columns,
                                   const std::function<Status(Batch&)>& sink) const {
  return ReadRowGroupFiltered(rg, columns, BatchFilter{}, sink).status();
}

Result<size_t> ParquetReader::ReadRowGroupFiltered(int rg, const std::vector<int>& columns,
                                                   const BatchFilter& filter,
                                                   const std::function<Status(Batch&)>& sink) const {
  if (rg < 0 || rg >= num_row_groups()) {
    return Status::InvalidArgument(fmt::format("{}: row group {} does not exist ({} row groups)",
                                               impl_->name, rg, num_row_groups()));
  }
  for (int c : columns) {
    if (c < 0 || static_cast<size_t>(c) >= impl_->leaves.size()) {
      return Status::InvalidArgument(fmt::format("{}: column {} does not exist", impl_->name, c));
    }
  }
  for (size_t p : filter.positions) {
    if (p >= columns.size()) return Status::InvalidArgument("filter column position out of range");
  }
  const size_t rows = static_cast<size_t>(row_group_num_rows(rg));
  std::vector<Chunk> chunks(columns.size());
  std::vector<std::shared_ptr<uint64_t[]>> buffers(columns.size());
  // Decodes the listed positions; columns of one row group decode in parallel, callers add
  // row-group parallelism on top. Batches are slices of the decoded chunks (no copy).
  auto decode = [&](const std::vector<size_t>& which) -> Status {
    std::vector<Status> statuses(which.size());
    auto one = [&](size_t i) { statuses[i] = impl_->DecodeChunk(rg, columns[which[i]], &chunks[which[i]]); };
    if (which.size() > 1 && rows >= 8192) {
      ThreadPool::Default().ParallelFor(which.size(), one);
    } else {
      for (size_t i = 0; i < which.size(); ++i) one(i);
    }
    for (auto& s : statuses) SL_RETURN_IF_ERROR(s);
    for (size_t p : which) buffers[p] = std::shared_ptr<uint64_t[]>(std::move(chunks[p].data));
    return Status::OK();
  };
  // Batch [begin, begin + n) with the decoded columns; the others as all-null constants.
  auto make_batch = [&](size_t begin, size_t n, const std::vector<bool>& decoded) {
    Batch batch;
    batch.columns.reserve(columns.size());
    for (size_t i = 0; i < columns.size(); ++i) {
      Chunk& ch = chunks[i];
      if (!decoded[i]) {
        ColumnVector& v = batch.columns.emplace_back(impl_->leaves[static_cast<size_t>(columns[i])].type, 1);
        v.SetNull(0);
        v.MakeConstant(n);
        continue;
      }
      // begin is a multiple of 2048, so every slice starts 8-byte aligned.
      uint64_t* slice = buffers[i].get() + begin * ch.width / 8;
      ColumnVector& v = batch.columns.emplace_back(ch.type, buffers[i], slice, n);
      if (ch.dict_mode) {
        v.MakeDictionary(ch.dict, n);
      } else if (ch.type.id == TypeId::kVarchar) {
        for (auto& k : ch.keep) v.KeepAlive(k);
      }
      if (!ch.validity.empty()) {
        uint64_t* dst = v.EnsureValidity();
        std::memcpy(dst, ch.validity.data() + begin / 64, (n + 63) / 64 * 8);
      }
    }
    batch.num_rows = n;
    return batch;
  };

  std::vector<bool> decoded(columns.size(), false);
  // Compressed chunks are read with ReadAt and leave nothing mapped (DecodeChunk). When some
  // chunk was read through the mapping (uncompressed ones) and every chunk is decoded into
  // copies, the row group's mapped pages leave the process: a scan of a file much larger than
  // memory would otherwise keep every page it touched resident (q06 at SF10: 466 of 495 MB of
  // its peak RSS were such file pages). The page cache keeps them, so a re-read faults them back
  // in without I/O. Once per row group, not per chunk: columns of one row group decode in
  // parallel, and a release per chunk took pages from under its siblings' decodes (minor faults
  // again) at several times the system time. Not at once either: the last
  // resident_mapped_bytes of decoded chunks stay (ReleaseRowGroup).
  auto release = [&] {
    uint64_t weight = 0;
    bool mapped = false;
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (chunks[i].refers_to_file) return;
      mapped = mapped || chunks[i].read_mapped;
      if (decoded[i]) weight += column_chunk_bytes(rg, columns[i]);
    }
    if (mapped) impl_->ReleaseRowGroup(rg, weight);
  };
  const size_t num_batches = (rows + kBatchRows - 1) / kBatchRows;
  // Per-batch state is sized only once a decode has shown the row count to be real: a footer
  // may claim 2^40 rows, which the decoder refuses, but a vector per batch would take GBs first.
  std::vector<bool> wanted;
  // The rows of each batch the filter selected, when it says (it sets the probe's selection).
  std::vector<std::optional<SelectionVector>> selected;
  size_t skipped = 0;
  const bool late = filter.any_row && !filter.positions.empty() && filter.positions.size() < columns.size();
  if (late) {
    std::vector<size_t> first(filter.positions);
    std::sort(first.begin(), first.end());
    first.erase(std::unique(first.begin(), first.end()), first.end());
    SL_RETURN_IF_ERROR(decode(first));
    wanted.assign(num_batches, true);
    selected.resize(num_batches);
    for (size_t p : first) decoded[p] = true;
    for (size_t b = 0; b < num_batches; ++b) {
      Batch probe = make_batch(b * kBatchRows, std::min(kBatchRows, rows - b * kBatchRows), decoded);
      wanted[b] = filter.any_row(probe);
      skipped += wanted[b] ? 0 : 1;
      if (wanted[b] && probe.selection) selected[b] = std::move(probe.selection);
    }
    if (skipped == num_batches) {  // the other columns are never decoded
      release();  // (decoded: the filter's columns)
      return skipped;
    }
  }
  std::vector<size_t> rest;
  for (size_t i = 0; i < columns.size(); ++i)
    if (!decoded[i]) rest.push_back(i);
  SL_RETURN_IF_ERROR(decode(rest));
  std::fill(decoded.begin(), decoded.end(), true);
  release();
  for (size_t b = 0; b < num_batches; ++b) {
    if (late && !wanted[b]) continue;
    Batch batch = make_batch(b * kBatchRows, std::min(kBatchRows, rows - b * kBatchRows), decoded);
    if (late) batch.selection = std::move(selected[b]);
    SL_RETURN_IF_ERROR(sink(batch));
  }
  return skipped;
}

}  // namespace saleslake::parquet
