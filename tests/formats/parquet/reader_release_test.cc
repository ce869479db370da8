// The reader reads compressed column chunks with ReadAt into reused buffers, also from mapped
// files, so nothing of them stays mapped; a row group read through the mapping (uncompressed
// chunks) leaves the process once its chunks are decoded (RandomAccessFile::DoneWith), and only
// when no decoded value points into it.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <utility>
#include <vector>

#include "formats/parquet/internal/reader_internal.h"
#include "formats/parquet/parquet.h"
#include "io/object_store.h"
#include "support/test_support.h"
#include "formats/parquet/parquet_test_util.h"

namespace saleslake::parquet {
namespace {

// A "mapped" in-memory file that records the ranges it is told are done with.
class RecordingFile final : public io::RandomAccessFile {
 public:
  explicit RecordingFile(std::string data) : data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  const std::string& name() const override { return name_; }
  const uint8_t* mapped_data() const override { return reinterpret_cast<const uint8_t*>(data_.data()); }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    if (offset > data_.size() || out.size() > data_.size() - offset) return Status::IOError("past the end");
    std::memcpy(out.data(), data_.data() + offset, out.size());
    std::lock_guard<std::mutex> lock(mu_);
    reads_.emplace_back(offset, out.size());
    return Status::OK();
  }
  std::vector<std::pair<uint64_t, uint64_t>> reads() const {
    std::lock_guard<std::mutex> lock(mu_);
    return reads_;
  }
  void DoneWith(uint64_t offset, uint64_t n) const override {
    std::lock_guard<std::mutex> lock(mu_);
    done_.emplace_back(offset, n);
  }
  std::vector<std::pair<uint64_t, uint64_t>> done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

 private:
  std::string data_;
  std::string name_ = "recording.parquet";
  mutable std::mutex mu_;
  mutable std::vector<std::pair<uint64_t, uint64_t>> done_;
  mutable std::vector<std::pair<uint64_t, uint64_t>> reads_;  // ReadAt calls
};

// An int64 column and a string column, `rows` rows; row r holds r % period.
std::string WriteFile(const WriterOptions& opts, size_t rows, size_t period = SIZE_MAX) {
  Schema schema{{Field{"k", DataType::Int64(), true}, Field{"s", DataType::Varchar(), true}}};
  testutil::StringOutputStream out;
  auto w = ParquetWriter::Open(&out, schema, opts);
  EXPECT_TRUE(w.ok());
  for (size_t done = 0; done < rows; done += kBatchRows) {
    const size_t n = std::min(kBatchRows, rows - done);
    Batch b(schema, n);
    b.SetRows(n);
    for (size_t r = 0; r < n; ++r) {
      b.columns[0].data<int64_t>()[r] = static_cast<int64_t>((done + r) % period);
      b.columns[1].SetString(r, "value-" + std::to_string((done + r) % period % 1000));
    }
    EXPECT_TRUE((*w)->Write(b).ok());
  }
  EXPECT_TRUE((*w)->Close().ok());
  return out.data();
}

// Reads every row group of both columns and checks every value, then returns the ranges the
// reader released.
std::vector<std::pair<uint64_t, uint64_t>> ReadAndCheck(const std::string& bytes, int* groups,
                                                        uint64_t* chunk_bytes,
                                                        std::vector<std::pair<uint64_t, uint64_t>>* reads = nullptr) {
  auto file = std::make_shared<RecordingFile>(bytes);
  auto reader = ParquetReader::Open(file);
  EXPECT_TRUE(reader.ok());
  if (!reader.ok()) return {};
  *groups = (*reader)->num_row_groups();
  *chunk_bytes = 0;
  int64_t next = 0;
  for (int g = 0; g < *groups; ++g) {
    *chunk_bytes += (*reader)->column_chunk_bytes(g, 0) + (*reader)->column_chunk_bytes(g, 1);
    std::vector<Batch> kept;  // batches outlive the read: their strings must stay valid
    Status s = (*reader)->ReadRowGroup(g, {0, 1}, [&](Batch& b) {
      kept.push_back(std::move(b));
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    for (const Batch& b : kept) {
      for (size_t r = 0; r < b.num_rows; ++r, ++next) {
        EXPECT_EQ(b.columns[0].GetValue<int64_t>(r), next);
        EXPECT_EQ(b.columns[1].GetValue<std::string_view>(r), "value-" + std::to_string(next % 1000));
      }
    }
  }
  EXPECT_EQ(next, 50000);
  if (reads) {  // the chunks' reads, not Open's of the footer's length at the end
    *reads = file->reads();
    std::erase_if(*reads, [&](const auto& r) { return r.first + r.second == bytes.size(); });
  }
  return file->done();
}

// Sets ReaderLimits::resident_mapped_bytes for one test.
class ResidentBudget {
 public:
  explicit ResidentBudget(uint64_t bytes) : saved_(internal::MutableReaderLimits().resident_mapped_bytes) {
    internal::MutableReaderLimits().resident_mapped_bytes = bytes;
  }
  ~ResidentBudget() { internal::MutableReaderLimits().resident_mapped_bytes = saved_; }

 private:
  uint64_t saved_;
};

// A compressed chunk of a mapped file is read with one ReadAt of exactly its bytes (into a
// reused buffer), never through the mapping: nothing is left mapped, so nothing is released.
TEST(ParquetReaderRelease, CompressedChunksAreReadNotMapped) {
  ResidentBudget none(0);
  for (Compression codec : {Compression::kZstd, Compression::kSnappy}) {
    WriterOptions opts;
    opts.row_group_rows = 10000;
    opts.compression = codec;
    int groups = 0;
    uint64_t chunk_bytes = 0;
    std::vector<std::pair<uint64_t, uint64_t>> reads;
    auto done = ReadAndCheck(WriteFile(opts, 50000), &groups, &chunk_bytes, &reads);
    ASSERT_EQ(groups, 5);
    EXPECT_TRUE(done.empty());
    // Two columns of five row groups: ten reads that cover the chunks, which lie back to back
    // from byte 4.
    EXPECT_EQ(reads.size(), 10u);
    std::sort(reads.begin(), reads.end());
    uint64_t at = 4;
    for (auto& [offset, n] : reads) {
      EXPECT_EQ(offset, at);
      at = offset + n;
    }
    EXPECT_EQ(at, 4 + chunk_bytes);
  }
}

// Uncompressed chunks are read through the mapping; once decoded into copies (v2 pages without
// a dictionary), each row group is released whole, in 64 KB blocks (the kernel maps a fault's
// block along), covering the chunks.
TEST(ParquetReaderRelease, MappedRowGroupsAreReleasedOnceDecoded) {
  ResidentBudget none(0);
  WriterOptions opts;
  opts.row_group_rows = 10000;
  opts.compression = Compression::kUncompressed;
  opts.data_page_v2 = true;
  opts.dictionary = false;
  int groups = 0;
  uint64_t chunk_bytes = 0;
  std::vector<std::pair<uint64_t, uint64_t>> reads;
  auto done = ReadAndCheck(WriteFile(opts, 50000), &groups, &chunk_bytes, &reads);
  ASSERT_EQ(groups, 5);
  EXPECT_TRUE(reads.empty());
  EXPECT_EQ(done.size(), 5u);
  std::sort(done.begin(), done.end());
  uint64_t covered = 0;
  for (auto& [offset, n] : done) {
    EXPECT_EQ(offset % 65536, 0u);
    EXPECT_GT(n, 0u);
    EXPECT_LE(offset, covered) << "a gap before " << offset;
    covered = std::max(covered, offset + n);
  }
  EXPECT_GE(covered, 4 + chunk_bytes);
}

// Uncompressed v1 pages (dictionary pages among them) are decoded in place: string views and
// dictionaries point into the mapped bytes, so they are never released. v2 data pages are
// copied first, so a chunk of only those is.
TEST(ParquetReaderRelease, UncompressedPagesThatValuesPointIntoAreKept) {
  ResidentBudget none(0);
  WriterOptions opts;
  opts.row_group_rows = 10000;
  opts.compression = Compression::kUncompressed;
  int groups = 0;
  uint64_t chunk_bytes = 0;
  EXPECT_TRUE(ReadAndCheck(WriteFile(opts, 50000), &groups, &chunk_bytes).empty());
  opts.data_page_v2 = true;  // the dictionary pages still point in
  EXPECT_TRUE(ReadAndCheck(WriteFile(opts, 50000), &groups, &chunk_bytes).empty());
  opts.dictionary = false;
  EXPECT_EQ(ReadAndCheck(WriteFile(opts, 50000), &groups, &chunk_bytes).size(), 5u);
}

// Released row groups wait until more than the budget of decoded chunks is read after them,
// oldest first; reading one that waits again keeps it (a re-read does not fault it back in).
TEST(ParquetReaderRelease, RecentRowGroupsStayWithinTheBudget) {
  WriterOptions opts;
  opts.row_group_rows = 10000;
  opts.compression = Compression::kUncompressed;  // read through the mapping
  opts.data_page_v2 = true;  // decoded into copies
  opts.dictionary = false;
  const std::string bytes = WriteFile(opts, 50000, 10000);  // every row group the same bytes
  auto file = std::make_shared<RecordingFile>(bytes);
  auto reader = ParquetReader::Open(file);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ((*reader)->num_row_groups(), 5);
  auto weight = [&](int g) { return (*reader)->column_chunk_bytes(g, 0) + (*reader)->column_chunk_bytes(g, 1); };
  for (int g = 1; g < 5; ++g) ASSERT_EQ(weight(g), weight(0));
  ResidentBudget two(2 * weight(0));  // room for two row groups, not three
  auto read = [&](int g) {
    ASSERT_TRUE((*reader)->ReadRowGroup(g, {0, 1}, [](Batch&) { return Status::OK(); }).ok());
  };
  read(0);
  read(1);
  EXPECT_TRUE(file->done().empty());
  read(2);
  ASSERT_EQ(file->done().size(), 1u);  // row group 0
  read(2);  // waits already: moves to the back, nothing released
  read(1);  // waits already
  EXPECT_EQ(file->done().size(), 1u);
  read(3);
  read(4);
  EXPECT_EQ(file->done().size(), 3u);  // then 2 and 1, the two read longest ago
}

uint64_t RssFileKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("RssFile:", 0) == 0) {
      std::istringstream fields(line.substr(8));
      uint64_t kb = 0;
      fields >> kb;
      return kb;
    }
  }
  return 0;
}

// A 16 MB Parquet file of random int64 values (so that ZSTD leaves it that large) in `dir`,
// opened as the lake opens files: mapped. Null when the platform does not map it.
std::shared_ptr<const io::RandomAccessFile> MappedRandomFile(const testing::TempDir& dir) {
  const std::string path = dir.Join("big.parquet");
  {
    Schema schema{{Field{"k", DataType::Int64(), false}}};
    WriterOptions opts;
    opts.row_group_rows = 1 << 17;
    opts.compression = Compression::kZstd;
    std::ofstream os(path, std::ios::binary);
    testutil::StringOutputStream out;
    auto w = ParquetWriter::Open(&out, schema, opts);
    EXPECT_TRUE(w.ok());
    if (!w.ok()) return nullptr;
    std::mt19937_64 rng(7);
    for (size_t done = 0; done < (size_t{2} << 20); done += kBatchRows) {
      Batch b(schema, kBatchRows);
      b.SetRows(kBatchRows);
      for (size_t r = 0; r < kBatchRows; ++r) b.columns[0].data<int64_t>()[r] = static_cast<int64_t>(rng());
      EXPECT_TRUE((*w)->Write(b).ok());
    }
    EXPECT_TRUE((*w)->Close().ok());
    os << out.data();
  }
  auto opened = io::OpenLocalFile(path);
  EXPECT_TRUE(opened.ok());
  if (!opened.ok() || (*opened)->mapped_data() == nullptr) return nullptr;
  EXPECT_GT((*opened)->size(), uint64_t{15} << 20);
  return std::shared_ptr<const io::RandomAccessFile>(std::move(*opened));
}

// Scans every row group of column 0; returns the wrapping sum of its values.
uint64_t ScanAll(const ParquetReader& reader) {
  uint64_t sum = 0;
  for (int g = 0; g < reader.num_row_groups(); ++g) {
    EXPECT_TRUE(reader.ReadRowGroup(g, {0}, [&](Batch& b) {
      for (size_t r = 0; r < b.num_rows; ++r) sum += static_cast<uint64_t>(b.columns[0].data<int64_t>()[r]);
      return Status::OK();
    }).ok());
  }
  return sum;
}

// End to end through a real mapping: a scan of a 16 MB file of compressed chunks grows the
// process's file-backed resident set by far less than the file, with no release at all (its
// chunks are read, not mapped).
TEST(ParquetReaderRelease, ScanOfAMappedFileDoesNotKeepItResident) {
  if (RssFileKb() == 0) GTEST_SKIP() << "no RssFile in /proc/self/status";
  testing::TempDir dir;
  auto file = MappedRandomFile(dir);
  if (!file) GTEST_SKIP() << "the file is not mapped";
  ResidentBudget unlimited(UINT64_MAX);
  auto reader = ParquetReader::Open(file);
  ASSERT_TRUE(reader.ok());
  const uint64_t before = RssFileKb();
  EXPECT_NE(ScanAll(**reader), 0u);  // wraps: the values are random 64-bit integers
  const uint64_t after = RssFileKb();
  // Through the mapping the growth is the whole file (16 MB); read, the pages of the footer and
  // code faulted in on first use.
  EXPECT_LT(after > before ? after - before : 0, file->size() / 1024 / 4) << "RssFile " << before << " -> " << after << " KB";
}

}  // namespace
}  // namespace saleslake::parquet
