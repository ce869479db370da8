// The reader lets a mapped row group's pages leave the process once its chunks are decoded
// (RandomAccessFile::DoneWith), and only when no decoded value points into them.
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
    return Status::OK();
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
                                                        uint64_t* chunk_bytes) {
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

TEST(ParquetReaderRelease, CompressedChunksAreReleasedOnceDecoded) {
  ResidentBudget none(0);
  for (Compression codec : {Compression::kZstd, Compression::kSnappy}) {
    WriterOptions opts;
    opts.row_group_rows = 10000;
    opts.compression = codec;
    int groups = 0;
    uint64_t chunk_bytes = 0;
    auto done = ReadAndCheck(WriteFile(opts, 50000), &groups, &chunk_bytes);
    ASSERT_EQ(groups, 5);
    // One release per row group, of whole 64 KB blocks (the kernel maps a fault's block
    // along); together they cover the column chunks, which lie back to back from byte 4.
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

// End to end through a real mapping: a scan of a 16 MB file (random values, so ZSTD leaves it
// that large) grows the process's file-backed resident set by far less than the file.
TEST(ParquetReaderRelease, ScanOfAMappedFileDoesNotKeepItResident) {
  if (RssFileKb() == 0) GTEST_SKIP() << "no RssFile in /proc/self/status";
  testing::TempDir dir;
  const std::string path = dir.Join("big.parquet");
  {
    Schema schema{{Field{"k", DataType::Int64(), false}}};
    WriterOptions opts;
    opts.row_group_rows = 1 << 17;
    opts.compression = Compression::kZstd;
    std::ofstream os(path, std::ios::binary);
    testutil::StringOutputStream out;
    auto w = ParquetWriter::Open(&out, schema, opts);
    ASSERT_TRUE(w.ok());
    std::mt19937_64 rng(7);
    for (size_t done = 0; done < (size_t{2} << 20); done += kBatchRows) {
      Batch b(schema, kBatchRows);
      b.SetRows(kBatchRows);
      for (size_t r = 0; r < kBatchRows; ++r) b.columns[0].data<int64_t>()[r] = static_cast<int64_t>(rng());
      ASSERT_TRUE((*w)->Write(b).ok());
    }
    ASSERT_TRUE((*w)->Close().ok());
    os << out.data();
  }
  auto opened = io::OpenLocalFile(path);
  ASSERT_TRUE(opened.ok());
  const uint64_t file_kb = (*opened)->size() / 1024;
  ASSERT_GT(file_kb, 15u << 10);
  if ((*opened)->mapped_data() == nullptr) GTEST_SKIP() << "the file is not mapped";
  std::shared_ptr<const io::RandomAccessFile> file(std::move(*opened));
  ResidentBudget small(1 << 20);
  auto reader = ParquetReader::Open(file);
  ASSERT_TRUE(reader.ok());
  const uint64_t before = RssFileKb();
  uint64_t sum = 0;  // wraps: the values are random 64-bit integers
  for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
    ASSERT_TRUE((*reader)->ReadRowGroup(g, {0}, [&](Batch& b) {
      for (size_t r = 0; r < b.num_rows; ++r) sum += static_cast<uint64_t>(b.columns[0].data<int64_t>()[r]);
      return Status::OK();
    }).ok());
  }
  const uint64_t after = RssFileKb();
  EXPECT_NE(sum, 0u);
  // Without the release the growth is the whole file (16 MB); with it, the pages at the chunks'
  // edges and code faulted in on first use.
  EXPECT_LT(after > before ? after - before : 0, file_kb / 4) << "RssFile " << before << " -> " << after << " KB";
}

}  // namespace
}  // namespace saleslake::parquet
