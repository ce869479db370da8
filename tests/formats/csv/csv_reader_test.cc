#include "formats/csv/csv_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <map>
#include <mutex>
#include <random>
#include <set>

#include "csv_test_util.h"
#include "io/local_store.h"
#include "support/test_support.h"

namespace saleslake::csv {
namespace {

using testutil::MakeSchema;
using testutil::ReadText;

ReadOptions Opts(Schema s) {
  ReadOptions o;
  o.schema = std::move(s);
  return o;
}

Schema TwoText() { return MakeSchema({{"a", DataType::Varchar()}, {"b", DataType::Varchar()}}); }

TEST(CsvReaderTest, PlainRowsWithHeader) {
  auto out = ReadText("a,b\nx,y\n1,2\n", Opts(TwoText()));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.rows, (std::vector<std::string>{"x|y", "1|2"}));
  EXPECT_EQ(out.stats.rows_read, 2u);
  EXPECT_EQ(out.stats.rows_loaded, 2u);
  EXPECT_EQ(out.stats.rows_rejected, 0u);
}

TEST(CsvReaderTest, QuotedFieldsWithDelimitersNewlinesAndDoubledQuotes) {
  std::string text = "a,b\n\"x,1\",\"say \"\"hi\"\"\"\n\"multi\nline\",\"\"\"\"\n";
  auto out = ReadText(text, Opts(TwoText()));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.rows, (std::vector<std::string>{"x,1|say \"hi\"", "multi\nline|\""}));
}

TEST(CsvReaderTest, CrlfLineEndingsAndNoFinalNewline) {
  auto out = ReadText("a,b\r\nx,y\r\n\"q\r\nr\",z\r\nlast,row", Opts(TwoText()));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.rows, (std::vector<std::string>{"x|y", "q\r\nr|z", "last|row"}));
}

TEST(CsvReaderTest, QuotedFieldFollowedByCrlf) {
  auto out = ReadText("a,b\r\n\"x\",\"y\"\r\n\"p\",\"q\"", Opts(TwoText()));
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"x|y", "p|q"}));
}

TEST(CsvReaderTest, BomIsSkipped) {
  auto out = ReadText("\xEF\xBB\xBF" "a,b\nx,y\n", Opts(TwoText()));
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"x|y"}));
  // Without a header the BOM must not leak into the first value either.
  ReadOptions o = Opts(TwoText());
  o.dialect.header = false;
  out = ReadText("\xEF\xBB\xBF" "x,y\n", o);
  EXPECT_EQ(out.rows, (std::vector<std::string>{"x|y"}));
}

TEST(CsvReaderTest, BlankLinesSkippedAndCounted) {
  auto out = ReadText("a,b\n\nx,y\r\n\r\n\n1,2\n\n", Opts(TwoText()));
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"x|y", "1|2"}));
  EXPECT_EQ(out.stats.blank_lines, 4u);
  EXPECT_EQ(out.stats.rows_read, 2u);
}

TEST(CsvReaderTest, NullTokensAndQuotedNullsAreText) {
  Schema s = MakeSchema({{"a", DataType::Varchar()}, {"n", DataType::Int64()}});
  auto out = ReadText("a,n\nNA,1\n\"NA\",\nNULL,N/A\n\"\",\"\"\nx,\"7\"\n", Opts(s));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.rows, (std::vector<std::string>{"NULL|1", "NA|NULL", "NULL|NULL", "|NULL", "x|7"}));
  ReadOptions o = Opts(s);
  o.dialect.null_tokens = {"-"};
  out = ReadText("a,n\n-,-\nNA,2\n", o);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"NULL|NULL", "NA|2"}));
}

TEST(CsvReaderTest, TypedColumns) {
  Schema s = MakeSchema({{"b", DataType::Boolean()},
                         {"i", DataType::Int64()},
                         {"d", DataType::Double()},
                         {"m", DataType::Decimal(10, 2)},
                         {"dt", DataType::Date()},
                         {"ts", DataType::Timestamp()},
                         {"i32", DataType::Int32()}});
  auto out = ReadText(
      "b,i,d,m,dt,ts,i32\n"
      "true,-42,1.5,12.345,2025-08-01,2025-08-01 10:11:12,7\n"
      "F, 9223372036854775807 ,-2e3,-0.5,2024-02-29,2024-02-29T23:59:59.25Z,-2147483648\n",
      Opts(s));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_TRUE(out.rejects.empty()) << out.rejects[0].reason;
  EXPECT_EQ(out.rows, (std::vector<std::string>{
                          "true|-42|1.5|12.35|2025-08-01|2025-08-01 10:11:12|7",
                          "false|9223372036854775807|-2000|-0.50|2024-02-29|2024-02-29 23:59:59.250000|-2147483648"}));
}

TEST(CsvReaderTest, DateAndTimestampFormats) {
  Schema s = MakeSchema({{"d", DataType::Date()}, {"t", DataType::Timestamp()}});
  ReadOptions o = Opts(s);
  o.formats = {"%d/%m/%Y", "%m/%d/%Y %H:%M"};
  auto out = ReadText("d,t\n31/12/2024,12/1/2010 08:26\n1/2/2023,1/31/2011 8:05\n", o);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_TRUE(out.rejects.empty()) << out.rejects[0].reason;
  EXPECT_EQ(out.rows, (std::vector<std::string>{"2024-12-31|2010-12-01 08:26:00",
                                                "2023-02-01|2011-01-31 08:05:00"}));
}

TEST(CsvReaderTest, BadValuesAreRejectedWithLineColumnAndReason) {
  Schema s = MakeSchema({{"name", DataType::Varchar()}, {"amount", DataType::Double()},
                         {"day", DataType::Date()}});
  std::string text =
      "name,amount,day\n"
      "ok,1.5,2025-01-01\n"
      "bad,abc,2025-01-02\n"
      "\"multi\nline\",2,2025-02-30\n"
      "short,3\n"
      "long,4,2025-01-03,extra\n"
      "fine,5,2025-01-04\n";
  auto out = ReadText(text, Opts(s));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.rows, (std::vector<std::string>{"ok|1.5|2025-01-01", "fine|5|2025-01-04"}));
  EXPECT_EQ(out.stats.rows_read, 6u);
  EXPECT_EQ(out.stats.rows_loaded, 2u);
  EXPECT_EQ(out.stats.rows_rejected, 4u);
  ASSERT_EQ(out.rejects.size(), 4u);
  EXPECT_EQ(out.rejects[0].file, "t.csv");
  EXPECT_EQ(out.rejects[0].line, 3u);
  EXPECT_EQ(out.rejects[0].column, 2u);
  EXPECT_EQ(out.rejects[0].raw, "bad,abc,2025-01-02");
  EXPECT_EQ(out.rejects[0].reason, "cannot parse 'abc' as DOUBLE in column amount");
  EXPECT_EQ(out.rejects[1].line, 4u);
  EXPECT_EQ(out.rejects[1].column, 3u);
  EXPECT_EQ(out.rejects[1].raw, "\"multi\nline\",2,2025-02-30");
  EXPECT_EQ(out.rejects[2].line, 6u);
  EXPECT_EQ(out.rejects[2].column, 0u);
  EXPECT_EQ(out.rejects[2].reason, "expected 3 fields, found 2");
  EXPECT_EQ(out.rejects[3].line, 7u);
  EXPECT_EQ(out.rejects[3].reason, "expected 3 fields, found 4");
}

TEST(CsvReaderTest, UnterminatedQuoteAndTextAfterQuote) {
  auto out = ReadText("a,b\n\"x\"y,1\nok,2\n\"never closed,3\nz,4\n", Opts(TwoText()));
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"ok|2"}));
  ASSERT_EQ(out.rejects.size(), 2u);
  EXPECT_EQ(out.rejects[0].line, 2u);
  EXPECT_EQ(out.rejects[0].column, 1u);
  EXPECT_EQ(out.rejects[0].reason, "unexpected character 'y' after the closing quote");
  EXPECT_EQ(out.rejects[1].line, 4u);
  EXPECT_EQ(out.rejects[1].reason, "unterminated quoted field");
}

TEST(CsvReaderTest, QuoteInsideUnquotedFieldIsLiteral) {
  auto out = ReadText("a,b\n5\" screen,x\n", Opts(TwoText()));
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"5\" screen|x"}));
}

TEST(CsvReaderTest, InvalidUtf8IsRejected) {
  auto out = ReadText("a,b\nok,\xC3\xA9t\xC3\xA9\nbad,x\xFFy\nover,\xC0\xAF\n", Opts(TwoText()));
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"ok|\xC3\xA9t\xC3\xA9"}));
  ASSERT_EQ(out.rejects.size(), 2u);
  EXPECT_EQ(out.rejects[0].line, 3u);
  EXPECT_EQ(out.rejects[0].column, 2u);
  EXPECT_EQ(out.rejects[0].reason, "invalid UTF-8 in column b (byte 0xff at offset 1)");
  EXPECT_EQ(out.rejects[1].line, 4u);
}

TEST(CsvReaderTest, OtherDialects) {
  ReadOptions o = Opts(TwoText());
  o.dialect.delimiter = ';';
  o.dialect.quote = '\'';
  o.dialect.escape = '\\';
  o.dialect.header = false;
  auto out = ReadText("'it\\'s';b\n'x;y';'a\\\\b'\n", o);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"it's|b", "x;y|a\\b"}));
  o = Opts(TwoText());
  o.dialect.delimiter = '\t';
  out = ReadText("a\tb\n1,5\t\"q\"\n", o);
  EXPECT_EQ(out.rows, (std::vector<std::string>{"1,5|q"}));
}

TEST(CsvReaderTest, TrailingEmptyFieldAndEmptyFile) {
  auto out = ReadText("a,b\nx,\n", Opts(TwoText()));
  EXPECT_EQ(out.rows, (std::vector<std::string>{"x|NULL"}));
  out = ReadText("", Opts(TwoText()));
  ASSERT_TRUE(out.status.ok());
  EXPECT_TRUE(out.rows.empty());
  out = ReadText("a,b", Opts(TwoText()));
  ASSERT_TRUE(out.status.ok());
  EXPECT_TRUE(out.rows.empty());
}

TEST(CsvReaderTest, HeaderMismatchAndBadOptionsAreErrors) {
  auto out = ReadText("a,b,c\n1,2,3\n", Opts(TwoText()));
  EXPECT_EQ(out.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status.message(), "t.csv:1: header has 3 fields but the schema has 2 columns");
  out = ReadText("a,b\n", Opts(Schema{}));
  EXPECT_EQ(out.status.code(), StatusCode::kInvalidArgument);
  ReadOptions o = Opts(TwoText());
  o.dialect.delimiter = '"';
  EXPECT_EQ(ReadText("a,b\n", o).status.code(), StatusCode::kInvalidArgument);
  o = Opts(TwoText());
  o.projection = {5};
  EXPECT_EQ(ReadText("a,b\n", o).status.code(), StatusCode::kInvalidArgument);
  o = Opts(MakeSchema({{"d", DataType::Date()}}));
  o.formats = {"%Q"};
  EXPECT_EQ(ReadText("d\n", o).status.code(), StatusCode::kInvalidArgument);
}

TEST(CsvReaderTest, NoRejectSinkMeansFirstBadRowFails) {
  Schema s = MakeSchema({{"a", DataType::Int64()}});
  auto out = ReadText("a\n1\nx\n3\n", Opts(s), /*with_sink=*/false);
  EXPECT_EQ(out.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status.message(), "t.csv:3: cannot parse 'x' as BIGINT in column a");
}

TEST(CsvReaderTest, MaxRejectedRows) {
  Schema s = MakeSchema({{"a", DataType::Int64()}});
  ReadOptions o = Opts(s);
  o.max_rejected_rows = 2;
  auto out = ReadText("a\nx\ny\n5\n", o);
  EXPECT_TRUE(out.status.ok());
  out = ReadText("a\nx\ny\nz\n5\n", o);
  EXPECT_EQ(out.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status.message().find("too many rejected rows (more than 2); line 4"),
            std::string::npos)
      << out.status.message();
  EXPECT_EQ(out.rejects.size(), 2u);
}

TEST(CsvReaderTest, Projection) {
  Schema s = MakeSchema({{"a", DataType::Varchar()}, {"n", DataType::Int64()},
                         {"c", DataType::Double()}});
  ReadOptions o = Opts(s);
  o.projection = {2, 0};
  // The bad BIGINT in the unprojected column does not reject the row.
  auto out = ReadText("a,n,c\nx,oops,1.5\ny,2,2.5\n", o);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"1.5|x", "2.5|y"}));
  EXPECT_EQ(out.stats.rows_rejected, 0u);
}

TEST(CsvReaderTest, LineAndRawColumns) {
  ReadOptions o = Opts(TwoText());
  o.line_column = true;
  o.raw_column = true;
  o.projection = {1};
  auto out = ReadText("a,b\nx,y\n\n\"p\nq\",\"r\"\r\nlast,z", o);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"y|2|x,y", "r|4|\"p\nq\",\"r\"", "z|6|last,z"}));
}

TEST(CsvReaderTest, MorselEndLetsAConsumerRestoreFileOrder) {
  std::string text = "i\n";
  for (int i = 0; i < 20000; ++i) text += std::to_string(i) + "\n";
  ReadOptions o = Opts(MakeSchema({{"i", DataType::Int64()}}));
  o.morsel_bytes = 997;
  std::mutex mu;
  std::map<size_t, std::vector<int64_t>> pending;
  std::set<size_t> ended;
  size_t next = 0;
  std::vector<int64_t> in_order;
  auto release = [&] {
    while (ended.count(next)) {
      for (int64_t v : pending[next]) in_order.push_back(v);
      pending.erase(next++);
    }
  };
  o.on_morsel_end = [&](size_t m) {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(ended.insert(m).second) << "morsel " << m << " ended twice";
    release();
    return Status::OK();
  };
  auto file = io::MakeMemoryFile(text, "t.csv");
  auto r = ReadCsv(*file, o, [&](size_t m, Batch& b) {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_FALSE(ended.count(m));
    for (size_t i = 0; i < b.num_rows; ++i) pending[m].push_back(b.columns[0].data<int64_t>()[i]);
    return Status::OK();
  }, nullptr);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(in_order.size(), 20000u);
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(in_order[i], i);
  EXPECT_GT(ended.size(), 50u);
}

// borrow_strings: unescaped text is a view into the input bytes; text with doubled quotes is
// unescaped into the batch. Values are the same either way.
TEST(CsvReaderTest, BorrowedStringsPointIntoTheInput) {
  const std::string text = "a,b\nplain,\"quoted\"\n\"say \"\"hi\"\"\",x\n";
  auto file = io::MakeMemoryFile(text, "t.csv");
  const char* lo = reinterpret_cast<const char*>(file->mapped_data());
  ASSERT_NE(lo, nullptr);
  const char* hi = lo + text.size();
  auto inside = [&](std::string_view v) { return v.data() >= lo && v.data() + v.size() <= hi; };
  for (bool borrow : {false, true}) {
    ReadOptions o = Opts(TwoText());
    o.borrow_strings = borrow;
    std::vector<std::string> values;
    std::vector<bool> borrowed;
    auto r = ReadCsv(*file, o, [&](size_t, Batch& b) {
      for (size_t i = 0; i < b.num_rows; ++i)
        for (size_t c = 0; c < 2; ++c) {
          std::string_view v = b.columns[c].data<std::string_view>()[i];
          values.emplace_back(v);
          borrowed.push_back(inside(v));
        }
      return Status::OK();
    }, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(values, (std::vector<std::string>{"plain", "quoted", "say \"hi\"", "x"}));
    EXPECT_EQ(borrowed, (std::vector<bool>{borrow, borrow, false, borrow})) << "borrow " << borrow;
  }
}

TEST(CsvReaderTest, SinkErrorStopsTheRead) {
  auto file = io::MakeMemoryFile("a,b\n1,2\n", "t.csv");
  auto r = ReadCsv(*file, Opts(TwoText()),
                   [](size_t, Batch&) { return Status::Cancelled("enough"); }, nullptr);
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
}

TEST(CsvReaderTest, ManyRowsSpanSeveralBatches) {
  std::string text = "i,s\n";
  for (int i = 0; i < 5000; ++i) text += std::to_string(i) + ",v" + std::to_string(i) + "\n";
  Schema s = MakeSchema({{"i", DataType::Int64()}, {"s", DataType::Varchar()}});
  auto out = ReadText(text, Opts(s));
  ASSERT_EQ(out.rows.size(), 5000u);
  EXPECT_EQ(out.rows[0], "0|v0");
  EXPECT_EQ(out.rows[4999], "4999|v4999");
}

// Random files full of quoted newlines, CRLFs, blank lines and bad rows: every morsel size and
// thread count must give exactly the single-threaded result (rows, rejects with lines, stats).
std::string RandomCsv(std::mt19937& rng, int rows) {
  std::string text = "id,txt,amount\r\n";
  std::uniform_int_distribution<int> pick(0, 9);
  for (int i = 0; i < rows; ++i) {
    std::string txt;
    switch (pick(rng)) {
      case 0: txt = "\"line\nbreak " + std::to_string(i) + "\""; break;
      case 1: txt = "\"a,\"\"b\"\"\r\n,c\n\n\""; break;
      case 2: txt = "plain" + std::to_string(i); break;
      case 3: txt = "\"\""; break;
      default: txt = "t" + std::to_string(i); break;
    }
    std::string amount = pick(rng) == 0 ? "bad" : std::to_string(i) + ".25";
    text += std::to_string(i) + "," + txt + "," + amount + (pick(rng) < 5 ? "\r\n" : "\n");
    if (pick(rng) == 0) text += "\n";
    if (pick(rng) == 0) text += "x,y\n";  // wrong field count
  }
  return text;
}

TEST(CsvReaderTest, ParallelEqualsSerialAcrossQuotedNewlines) {
  std::mt19937 rng(42);
  Schema s = MakeSchema({{"id", DataType::Int64()}, {"txt", DataType::Varchar()},
                         {"amount", DataType::Double()}});
  for (int round = 0; round < 3; ++round) {
    std::string text = RandomCsv(rng, 3000);
    ReadOptions serial = Opts(s);
    serial.threads = 1;
    serial.morsel_bytes = 1 << 30;
    auto want = ReadText(text, serial);
    ASSERT_TRUE(want.status.ok());
    ASSERT_GT(want.rows.size(), 2000u);
    ASSERT_GT(want.rejects.size(), 100u);
    // Line numbers of the loaded rows from the serial read (exact values: LineAndRawColumns).
    std::vector<uint64_t> want_lines;
    {
      ReadOptions lo = serial;
      lo.line_column = true;
      auto lines = ReadText(text, lo);
      for (const auto& r : lines.rows) want_lines.push_back(std::stoull(r.substr(r.rfind('|') + 1)));
      ASSERT_EQ(want_lines.size(), want.rows.size());
    }
    for (size_t morsel : {7, 61, 256, 1000, 4093}) {
      for (int threads : {1, 2, 4}) {
        ReadOptions o = Opts(s);
        o.line_column = threads == 2;  // line numbers must survive speculation too
        o.morsel_bytes = morsel;
        o.threads = threads;
        auto got = ReadText(text, o);
        ASSERT_TRUE(got.status.ok()) << got.status.ToString();
        if (o.line_column) {
          ASSERT_EQ(got.rows.size(), want.rows.size());
          for (size_t i = 0; i < got.rows.size(); ++i) {
            std::string_view g = got.rows[i];
            size_t bar = g.rfind('|');
            ASSERT_EQ(g.substr(0, bar), want.rows[i]);
            ASSERT_EQ(g.substr(bar + 1), std::to_string(want_lines[i])) << i;
          }
          continue;
        }
        ASSERT_EQ(got.rows, want.rows) << "morsel " << morsel << " threads " << threads;
        ASSERT_EQ(got.stats.rows_read, want.stats.rows_read);
        ASSERT_EQ(got.stats.blank_lines, want.stats.blank_lines);
        ASSERT_EQ(got.rejects.size(), want.rejects.size());
        for (size_t i = 0; i < want.rejects.size(); ++i) {
          ASSERT_EQ(got.rejects[i].line, want.rejects[i].line);
          ASSERT_EQ(got.rejects[i].raw, want.rejects[i].raw);
          ASSERT_EQ(got.rejects[i].reason, want.rejects[i].reason);
        }
      }
    }
  }
}

TEST(CsvReaderTest, GiantQuotedFieldAcrossManyMorsels) {
  std::string big = "\"" + std::string(20000, 'x') + "\n" + std::string(20000, 'y') + "\"";
  std::string text = "a,b\n1," + big + "\n2,z\n";
  ReadOptions o = Opts(TwoText());
  o.morsel_bytes = 1000;
  auto out = ReadText(text, o);
  ASSERT_TRUE(out.status.ok());
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[0].size(), 2 + 40001u);
  EXPECT_EQ(out.rows[1], "2|z");
}

std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(CsvReaderTest, GzipAndZstdAreTransparent) {
  std::string text = "a,b\n\"x\ny\",1\nz,2\n";
  std::string gz = Gzip(text);
  auto out = testutil::ReadFileRows(*io::MakeMemoryFile(gz, "t.csv.gz"), Opts(TwoText()));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.rows, (std::vector<std::string>{"x\ny|1", "z|2"}));
  // Two concatenated members read as one stream.
  out = testutil::ReadFileRows(*io::MakeMemoryFile(gz + Gzip("q,3\n"), "t.csv.gz"),
                               Opts(TwoText()));
  EXPECT_EQ(out.rows.size(), 3u);

  std::string zst(ZSTD_compressBound(text.size()), '\0');
  zst.resize(ZSTD_compress(zst.data(), zst.size(), text.data(), text.size(), 3));
  out = testutil::ReadFileRows(*io::MakeMemoryFile(zst, "t.csv.zst"), Opts(TwoText()));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.rows, (std::vector<std::string>{"x\ny|1", "z|2"}));

  // Truncated streams are a clear corruption error, not a crash.
  out = testutil::ReadFileRows(*io::MakeMemoryFile(gz.substr(0, gz.size() - 6), "t.csv.gz"),
                               Opts(TwoText()));
  EXPECT_EQ(out.status.code(), StatusCode::kCorruption) << out.status.ToString();
  out = testutil::ReadFileRows(*io::MakeMemoryFile(zst.substr(0, zst.size() - 3), "t.csv.zst"),
                               Opts(TwoText()));
  EXPECT_EQ(out.status.code(), StatusCode::kCorruption) << out.status.ToString();
}

TEST(CsvReaderTest, ReadsThroughTheObjectStore) {
  testing::TempDir dir;
  auto store = io::LocalStore::Open(dir.Join("lake"), /*create=*/true);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put("raw_data/sales.csv", "a,b\n\"x\ny\",1\nz,2\n").ok());
  auto f = (*store)->OpenRead("raw_data/sales.csv");
  ASSERT_TRUE(f.ok());
  ReadOptions o = Opts(TwoText());
  o.morsel_bytes = 5;
  auto out = testutil::ReadFileRows(**f, o);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"x\ny|1", "z|2"}));
}

TEST(CsvReaderTest, ReadsLocalFiles) {
  testing::TempDir dir;
  testing::WriteFile(dir.Join("x.csv"), "a,b\n1,2\n");
  auto f = io::OpenLocalFile(dir.Join("x.csv"));
  ASSERT_TRUE(f.ok());
  auto out = testutil::ReadFileRows(**f, Opts(TwoText()));
  EXPECT_EQ(out.rows, (std::vector<std::string>{"1|2"}));
}

}  // namespace
}  // namespace saleslake::csv
