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

// The unpacker reads 8 bytes at a time; at every width and length it must give what a
// bit-by-bit reference gives and never read past `avail` (ASan checks the exact-size buffers).
TEST(ParquetEncoding, UnpackBitsMatchesReferenceAtEveryWidth) {
  std::mt19937_64 rng(11);
  for (int bw = 0; bw <= 32; ++bw) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{63}, size_t{64}, size_t{65}, size_t{1000}}) {
      const size_t bytes = (n * static_cast<size_t>(bw) + 7) / 8;
      auto in = std::make_unique<uint8_t[]>(std::max<size_t>(bytes, 1));  // exactly the bytes needed
      for (size_t i = 0; i < bytes; ++i) in[i] = static_cast<uint8_t>(rng());
      std::vector<uint32_t> got(n + 1, 0xdeadbeef);
      internal::UnpackBits(in.get(), bytes, n, bw, got.data());
      for (size_t i = 0; i < n; ++i) {
        uint32_t want = 0;
        for (int b = 0; b < bw; ++b) {
          size_t bit = i * static_cast<size_t>(bw) + static_cast<size_t>(b);
          want |= static_cast<uint32_t>((in[bit / 8] >> (bit % 8)) & 1) << b;
        }
        ASSERT_EQ(got[i], want) << "bw " << bw << " n " << n << " i " << i;
      }
      EXPECT_EQ(got[n], 0xdeadbeef) << "wrote past n at bw " << bw;
    }
  }
}

// Definition levels straight into a bitmap: same levels as the general decoder for RLE runs,
// bit-packed runs and mixes of both at odd offsets; malformed input is refused.
TEST(ParquetEncoding, BitLevelsMatchTheGeneralDecoder) {
  std::mt19937_64 rng(5);
  for (int pattern = 0; pattern < 6; ++pattern) {
    const size_t n = 1 + rng() % 3000;
    std::vector<uint32_t> levels(n);
    for (size_t i = 0; i < n; ++i) {
      switch (pattern) {
        case 0: levels[i] = 1; break;
        case 1: levels[i] = 0; break;
        case 2: levels[i] = rng() % 2; break;
        case 3: levels[i] = (i / 37) % 2; break;                 // runs, then RLE, at odd offsets
        case 4: levels[i] = rng() % 20 != 0; break;              // mostly present
        default: levels[i] = (i % 200 < 13) ? rng() % 2 : 1; break;  // packed islands in runs
      }
    }
    std::string enc;
    internal::RleEncode(levels.data(), n, 1, &enc);
    const auto* p = reinterpret_cast<const uint8_t*>(enc.data());
    std::vector<uint64_t> bits((n + 63) / 64, ~uint64_t{0});
    auto ones = internal::DecodeBitLevels(p, enc.size(), n, bits.data());
    ASSERT_TRUE(ones.has_value()) << pattern;
    size_t want_ones = 0;
    for (size_t i = 0; i < n; ++i) {
      want_ones += levels[i];
      ASSERT_EQ((bits[i / 64] >> (i % 64)) & 1, levels[i]) << "pattern " << pattern << " row " << i;
    }
    EXPECT_EQ(*ones, want_ones);
    if (n % 64) {
      EXPECT_EQ(bits.back() >> (n % 64), 0u) << "bits past n must be clear";
    }
    EXPECT_FALSE(internal::DecodeBitLevels(p, enc.size() / 3, n, bits.data()).has_value())
        << "truncated levels accepted, pattern " << pattern;
  }
  // An RLE run of level 2 is above the maximum level 1.
  const uint8_t two[] = {static_cast<uint8_t>(10 << 1), 2};
  uint64_t w = 0;
  EXPECT_FALSE(internal::DecodeBitLevels(two, sizeof two, 10, &w).has_value());
}

// The dictionary index check: an index equal to the dictionary size is out of range wherever it
// sits (vector lanes, tail); the largest valid index is not; an empty dictionary has no index.
TEST(ParquetEncoding, DictionaryIndexRangeCheck) {
  for (size_t n : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{100}}) {
    for (size_t at = 0; at < n; ++at) {
      std::vector<uint32_t> v(n, 4);
      EXPECT_FALSE(internal::AnyIndexOutOfRange(v.data(), n, 5));
      v[at] = 5;
      EXPECT_TRUE(internal::AnyIndexOutOfRange(v.data(), n, 5)) << "n " << n << " at " << at;
      v[at] = UINT32_MAX;
      EXPECT_TRUE(internal::AnyIndexOutOfRange(v.data(), n, 5)) << "n " << n << " at " << at;
    }
  }
  const uint32_t zero = 0;
  EXPECT_TRUE(internal::AnyIndexOutOfRange(&zero, 1, 0));
  EXPECT_FALSE(internal::AnyIndexOutOfRange(&zero, 0, 0));
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
