// Hostile input: truncated files, bad magic, lying lengths, flipped bytes, absurd counts. Every
// case must end in a clear Status (never a crash, hang or huge allocation); run under ASan in CI.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "formats/parquet/internal/encoding.h"
#include "formats/parquet/internal/metadata.h"
#include "formats/parquet/internal/thrift.h"
#include "formats/parquet/parquet.h"
#include "formats/parquet/parquet_test_util.h"
#include "support/test_support.h"

namespace saleslake::parquet {
namespace {

using testutil::StringOutputStream;

std::string SampleFile(Compression codec, bool v2) {
  Schema schema{{Field{"id", DataType::Int64(), false}, Field{"s", DataType::Varchar(), true},
                 Field{"d", DataType::Decimal(38, 2), true}, Field{"b", DataType::Boolean(), true}}};
  WriterOptions o;
  o.compression = codec;
  o.data_page_v2 = v2;
  o.page_size = 512;
  o.row_group_rows = 300;
  StringOutputStream out;
  auto w = ParquetWriter::Open(&out, schema, o);
  Batch b(schema, 700);
  b.SetRows(700);
  for (size_t r = 0; r < 700; ++r) {
    b.columns[0].data<int64_t>()[r] = static_cast<int64_t>(r * r);
    if (r % 5 == 0) b.columns[1].SetNull(r);
    else b.columns[1].SetString(r, "str" + std::to_string(r % 40));
    __int128 v = static_cast<__int128>(r) * 1000000000000LL;
    std::memcpy(b.columns[2].data<uint8_t>() + r * 16, &v, 16);
    b.columns[3].data<uint8_t>()[r] = r % 3 == 0;
  }
  EXPECT_TRUE((*w)->Write(b).ok());
  EXPECT_TRUE((*w)->Close().ok());
  return out.data();
}

// Opens and fully reads `bytes`; returns the first error (or OK).
Status ReadEverything(const std::string& bytes) {
  std::shared_ptr<const io::RandomAccessFile> f(io::MakeMemoryFile(bytes, "hostile.parquet"));
  SL_ASSIGN_OR_RETURN(auto r, ParquetReader::Open(f));
  (void)r->file_stats();
  (void)r->DescribeMetadata(false);
  std::vector<int> cols;
  for (size_t i = 0; i < r->schema().size(); ++i) cols.push_back(static_cast<int>(i));
  for (int g = 0; g < r->num_row_groups(); ++g) {
    SL_RETURN_IF_ERROR(r->ReadRowGroup(g, cols, [](Batch&) { return Status::OK(); }));
  }
  return Status::OK();
}

TEST(ParquetHostile, TruncationsAreCleanErrors) {
  std::string good = SampleFile(Compression::kSnappy, false);
  ASSERT_TRUE(ReadEverything(good).ok());
  for (size_t len = 0; len < good.size(); len += 1 + len / 16) {
    Status s = ReadEverything(good.substr(0, len));
    ASSERT_FALSE(s.ok()) << len;
    EXPECT_NE(s.message().find("hostile.parquet"), std::string::npos) << s.ToString();
  }
}

TEST(ParquetHostile, BadMagicAndFooterLength) {
  std::string good = SampleFile(Compression::kZstd, true);
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_NE(ReadEverything(bad).message().find("magic"), std::string::npos);
  bad = good;
  uint32_t huge = 0x7fffffff;
  std::memcpy(bad.data() + bad.size() - 8, &huge, 4);
  Status s = ReadEverything(bad);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("footer length"), std::string::npos) << s.ToString();
  EXPECT_EQ(ReadEverything("PAR1PAR1").code(), StatusCode::kCorruption);
}

TEST(ParquetHostile, RandomByteFlipsNeverCrash) {
  std::mt19937_64 rng(7);
  int failures = 0, total = 0;
  for (auto codec : {Compression::kUncompressed, Compression::kSnappy, Compression::kZstd, Compression::kGzip}) {
    for (bool v2 : {false, true}) {
      std::string good = SampleFile(codec, v2);
      for (int i = 0; i < 150; ++i) {
        std::string bad = good;
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
        failures += !ReadEverything(bad).ok();
        ++total;
      }
    }
  }
  EXPECT_GT(failures, total / 10);  // many flips must be detected (not all: PLAIN values may just change)
}

TEST(ParquetHostile, AbsurdCountsAreRefused) {
  // A footer whose only row group claims 2^40 rows: refused before any allocation.
  internal::FileMetaData md;
  internal::SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  internal::SchemaElement col;
  col.name = "x";
  col.type = internal::kInt32;
  col.repetition = internal::kOptional;
  md.schema = {root, col};
  internal::RowGroup rg;
  rg.num_rows = int64_t{1} << 40;
  internal::ColumnChunk cc;
  internal::ColumnMetaData m;
  m.type = internal::kInt32;
  m.path = {"x"};
  m.num_values = rg.num_rows;
  m.data_page_offset = 4;
  m.total_compressed_size = 10;
  cc.meta_data = m;
  rg.columns = {cc};
  md.row_groups = {rg};
  md.num_rows = rg.num_rows;
  std::string file = "PAR1" + std::string(10, '\x15');
  std::string footer;
  internal::EncodeFileMetaData(md, &footer);
  uint32_t len = static_cast<uint32_t>(footer.size());
  file += footer + std::string(reinterpret_cast<const char*>(&len), 4) + "PAR1";
  Status s = ReadEverything(file);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_NE(s.message().find("column 'x'"), std::string::npos) << s.ToString();

  // A Thrift list claiming a billion elements in a few bytes.
  std::string lie = "\x19\xfc\xff\xff\xff\x0f";  // field 1: list<struct>, count 2^32-1
  internal::FileMetaData out;
  EXPECT_EQ(internal::DecodeFileMetaData(reinterpret_cast<const uint8_t*>(lie.data()), lie.size(), &out).code(),
            StatusCode::kCorruption);
  // Deeply nested structs.
  std::string deep(5000, '\x1c');
  EXPECT_FALSE(internal::DecodeFileMetaData(reinterpret_cast<const uint8_t*>(deep.data()), deep.size(), &out).ok());
}

TEST(ParquetHostile, SharedBadDataFiles) {
  SL_REQUIRE_SHARED(dir, "parquet-testing/bad_data/PARQUET-1481.parquet");
  for (const char* f : {"PARQUET-1481.parquet", "ARROW-GH-41317.parquet", "ARROW-GH-41321.parquet",
                        "ARROW-GH-45185.parquet", "ARROW-GH-47662.parquet",
                        "ARROW-RS-GH-6229-DICTHEADER.parquet", "ARROW-RS-GH-6229-LEVELS.parquet"}) {
    std::string bytes = testing::ReadFile(testing::SharedTestData(std::string("parquet-testing/bad_data/") + f));
    ASSERT_FALSE(bytes.empty());
    EXPECT_FALSE(ReadEverything(bytes).ok()) << f;
  }
}

// Every shared test file through the library (the conformance test goes through the CLI): this
// is what the ASan build exercises for the decoders. Valid files read fully or are refused as
// nested; every failure is a Status.
TEST(ParquetHostile, EverySharedFileDecodesOrFailsCleanly) {
  SL_REQUIRE_SHARED(manifest, "parquet-testing/MANIFEST.tsv");
  int ok = 0, failed = 0;
  for (const char* sub : {"parquet-testing/data", "parquet-testing/bad_data", "parquet-generated/data"}) {
    for (const auto& e : std::filesystem::directory_iterator(testing::SharedTestData(sub))) {
      if (e.path().extension() != ".parquet") continue;
      Status s = ReadEverything(testing::ReadFile(e.path().string()));
      if (s.ok()) ++ok;
      else ++failed;
    }
  }
  EXPECT_GE(ok, 50);
  EXPECT_LE(failed, 26);
}

TEST(ParquetEncoding, RleRoundTripAndTruncation) {
  std::mt19937_64 rng(3);
  for (int bw : {0, 1, 3, 8, 13, 20, 32}) {
    std::vector<uint32_t> v(5000);
    uint64_t mask = bw == 32 ? 0xffffffffULL : ((1ULL << bw) - 1);
    for (size_t i = 0; i < v.size(); ++i) v[i] = (i / 100) % 2 ? static_cast<uint32_t>(rng() & mask) : 5u & mask;
    std::string enc;
    internal::RleEncode(v.data(), v.size(), bw, &enc);
    std::vector<uint32_t> back(v.size());
    internal::RleDecoder dec(reinterpret_cast<const uint8_t*>(enc.data()), enc.size(), bw);
    ASSERT_TRUE(dec.Get(back.data(), back.size())) << bw;
    EXPECT_EQ(back, v) << bw;
    if (bw > 0) {
      internal::RleDecoder shortdec(reinterpret_cast<const uint8_t*>(enc.data()), enc.size() / 2, bw);
      EXPECT_FALSE(shortdec.Get(back.data(), back.size())) << bw;
    }
  }
}

TEST(ParquetThrift, VarintAndSkip) {
  std::string buf;
  internal::ThriftWriter w(&buf);
  w.StructBegin();
  w.I64Field(1, -123456789012345);
  w.BinaryField(3, "hello");
  w.I32Field(40, 7);  // long delta
  w.StructEnd();
  internal::ThriftReader r(reinterpret_cast<const uint8_t*>(buf.data()), buf.size());
  r.StructBegin();
  int16_t id;
  internal::TType t;
  ASSERT_TRUE(r.ReadFieldBegin(&id, &t));
  EXPECT_EQ(id, 1);
  EXPECT_EQ(r.ReadI64(), -123456789012345);
  ASSERT_TRUE(r.ReadFieldBegin(&id, &t));
  EXPECT_EQ(id, 3);
  r.Skip(t);
  ASSERT_TRUE(r.ReadFieldBegin(&id, &t));
  EXPECT_EQ(id, 40);
  EXPECT_EQ(r.ReadI32(), 7);
  EXPECT_FALSE(r.ReadFieldBegin(&id, &t));
  EXPECT_TRUE(r.ok());
}

}  // namespace
}  // namespace saleslake::parquet
