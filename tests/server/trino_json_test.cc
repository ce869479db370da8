// trino_json: result rows written straight from typed batches as Trino's JSON, against the text
// path they replaced (sql::CellText, then the text's JSON encoding) for every type, NULLs,
// constant and redacted columns; and decoded back into the cell text Athena and the console
// show. Then the result spool that keeps those rows: memory and disk, reads from any offset.
#include "server/internal/trino_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "server/internal/result_spool.h"
#include "sql/result_format.h"
#include "support/test_support.h"

namespace saleslake::server::internal {
namespace {

// One column of `n` rows: value i from `set(v, i)`, NULL where `null(i)`.
template <typename Set>
ColumnVector MakeColumn(DataType type, size_t n, Set set, bool (*null)(size_t)) {
  ColumnVector v(type, n);
  v.Resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (null(i)) {
      v.SetNull(i);
    } else {
      set(v, i);
    }
  }
  return v;
}

bool EveryFifth(size_t i) { return i % 5 == 3; }
bool Never(size_t) { return false; }

Batch EveryType() {
  const std::vector<double> doubles = {2.0,
                                       0.1,
                                       -0.0,
                                       1e20,
                                       1.5e-7,
                                       123456789.125,
                                       -3.75,
                                       std::numeric_limits<double>::quiet_NaN(),
                                       std::numeric_limits<double>::infinity(),
                                       -std::numeric_limits<double>::infinity(),
                                       1e300,
                                       5e-324};
  const std::vector<std::string> strings = {"",
                                            "plain",
                                            "q\"uote",
                                            "back\\slash",
                                            "new\nline\r\t",
                                            std::string("ctl\x01\x1f", 5),
                                            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                                            "null",
                                            "true",
                                            "12"};
  const std::vector<int32_t> days = {0, 20089, -1, -719528, 2932896, 2932897, -800000, 19000};
  const size_t n = 40;
  Batch b;
  b.num_rows = n;
  b.columns.push_back(MakeColumn(
      DataType::Boolean(), n, [](ColumnVector& v, size_t i) { v.data<uint8_t>()[i] = i % 2; },
      EveryFifth));
  b.columns.push_back(MakeColumn(
      DataType::Int32(), n,
      [](ColumnVector& v, size_t i) {
        v.data<int32_t>()[i] =
            i == 0 ? std::numeric_limits<int32_t>::min() : static_cast<int32_t>(i * 7919) - 100000;
      },
      EveryFifth));
  b.columns.push_back(MakeColumn(
      DataType::Int64(), n,
      [](ColumnVector& v, size_t i) {
        v.data<int64_t>()[i] = i == 1 ? std::numeric_limits<int64_t>::max()
                                      : static_cast<int64_t>(i) * -123456789012LL;
      },
      EveryFifth));
  b.columns.push_back(MakeColumn(
      DataType::Float(), n,
      [](ColumnVector& v, size_t i) { v.data<float>()[i] = static_cast<float>(i) / 3.0f - 2.0f; },
      EveryFifth));
  b.columns.push_back(MakeColumn(
      DataType::Double(), n,
      [&](ColumnVector& v, size_t i) { v.data<double>()[i] = doubles[i % doubles.size()]; },
      EveryFifth));
  b.columns.push_back(MakeColumn(
      DataType::Decimal(10, 2), n,
      [](ColumnVector& v, size_t i) {
        v.data<int64_t>()[i] = (static_cast<int64_t>(i) - 20) * 1234 + (i % 3 == 0 ? 5 : 0);
      },
      EveryFifth));
  b.columns.push_back(MakeColumn(
      DataType::Decimal(38, 6), n,
      [](ColumnVector& v, size_t i) {
        __int128 x = static_cast<__int128>(i) * 1000000007 * 1000000007 * 1000;
        if (i % 2) x = -x;
        std::memcpy(v.data<char>() + i * sizeof x, &x, sizeof x);
      },
      EveryFifth));
  b.columns.push_back(MakeColumn(
      DataType::Decimal(5, 0), n,
      [](ColumnVector& v, size_t i) { v.data<int64_t>()[i] = static_cast<int64_t>(i) - 7; },
      Never));
  b.columns.push_back(MakeColumn(
      DataType::Date(), n,
      [&](ColumnVector& v, size_t i) { v.data<int32_t>()[i] = days[i % days.size()]; },
      EveryFifth));
  b.columns.push_back(MakeColumn(
      DataType::Timestamp(), n,
      [](ColumnVector& v, size_t i) {
        v.data<int64_t>()[i] = 1735689600000000LL + static_cast<int64_t>(i) * 1000001 -
                               (i == 2 ? 1735689600000000LL * 2 : 0);
      },
      EveryFifth));
  b.columns.push_back(MakeColumn(
      DataType::IntervalType(), n,
      [](ColumnVector& v, size_t i) {
        v.data<Interval>()[i] =
            Interval{0, static_cast<int32_t>(i), static_cast<int64_t>(i) * 3600000000LL + 5};
      },
      EveryFifth));
  b.columns.push_back(MakeColumn(
      DataType::Varchar(), n,
      [&](ColumnVector& v, size_t i) { v.SetString(i, strings[i % strings.size()]); }, EveryFifth));
  // A constant column (one value for every row) and a NULL constant.
  ColumnVector constant(DataType::Varchar(), 1);
  constant.Resize(1);
  constant.SetString(0, "EU-West");
  constant.MakeConstant(n);
  b.columns.push_back(std::move(constant));
  ColumnVector null_constant(DataType::Int64(), 1);
  null_constant.Resize(1);
  null_constant.SetNull(0);
  null_constant.MakeConstant(n);
  b.columns.push_back(std::move(null_constant));
  return b;
}

// The text path the typed one replaced: each cell's sql::CellText, then its JSON encoding.
std::string ReferenceRow(const Batch& b, size_t r, const std::vector<bool>& redacted = {}) {
  std::string out = "[";
  for (size_t c = 0; c < b.num_columns(); ++c) {
    if (c) out += ',';
    const ColumnVector& v = b.columns[c];
    const bool hidden = c < redacted.size() && redacted[c];
    std::optional<std::string> text;
    if (!hidden && v.IsValid(r)) text = sql::CellText(v, r);
    AppendTrinoCellFromText(v.type(), text ? std::optional<std::string_view>(*text) : std::nullopt,
                            &out);
  }
  return out + "]\n";
}

TEST(TrinoJsonTest, EveryTypeEncodesAsTheTextPathDid) {
  const Batch b = EveryType();
  std::string all;
  AppendTrinoRows(b, 0, b.num_rows, {}, &all);
  std::string want;
  for (size_t r = 0; r < b.num_rows; ++r) want += ReferenceRow(b, r);
  ASSERT_EQ(all, want);
  // A slice in the middle, appended after what the buffer holds.
  std::string some = "x";
  AppendTrinoRows(b, 7, 9, {}, &some);
  EXPECT_EQ(some, "x" + ReferenceRow(b, 7) + ReferenceRow(b, 8));

  // Each line is one JSON array of a cell per column; '\n' is only the row's end.
  size_t lines = 0;
  for (size_t pos = 0; pos < all.size(); ++lines) {
    const size_t nl = all.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    auto row = nlohmann::json::parse(all.substr(pos, nl - pos));
    ASSERT_TRUE(row.is_array());
    EXPECT_EQ(row.size(), b.num_columns());
    pos = nl + 1;
  }
  EXPECT_EQ(lines, b.num_rows);
}

TEST(TrinoJsonTest, ValuesAsTrinoClientsExpectThem) {
  Batch b;
  b.num_rows = 1;
  auto one = [&](DataType t, auto set) {
    ColumnVector v(t, 1);
    v.Resize(1);
    set(v);
    b.columns.push_back(std::move(v));
  };
  one(DataType::Double(), [](ColumnVector& v) { v.data<double>()[0] = 2; });
  one(DataType::Double(),
      [](ColumnVector& v) { v.data<double>()[0] = std::numeric_limits<double>::infinity(); });
  one(DataType::Double(), [](ColumnVector& v) { v.data<double>()[0] = std::nan(""); });
  one(DataType::Decimal(10, 2), [](ColumnVector& v) { v.data<int64_t>()[0] = -5; });
  one(DataType::Decimal(10, 2), [](ColumnVector& v) { v.data<int64_t>()[0] = 1250; });
  one(DataType::Date(), [](ColumnVector& v) { v.data<int32_t>()[0] = 20089; });
  one(DataType::Boolean(), [](ColumnVector& v) { v.data<uint8_t>()[0] = 1; });
  one(DataType::Int64(), [](ColumnVector& v) { v.data<int64_t>()[0] = -7; });
  one(DataType::Varchar(), [](ColumnVector& v) { v.SetString(0, "a\"b"); });
  one(DataType::Varchar(), [](ColumnVector& v) { v.SetString(0, "bad \xff byte"); });
  one(DataType::Int64(), [](ColumnVector& v) { v.data<int64_t>()[0] = 99; });
  std::string row;
  AppendTrinoRows(
      b, 0, 1, {false, false, false, false, false, false, false, false, false, false, true}, &row);
  EXPECT_EQ(row,
            "[2.0,\"Infinity\",\"NaN\",\"-0.05\",\"12.50\",\"2025-01-01\",true,-7,\"a\\\"b\","
            "\"bad \xef\xbf\xbd byte\",null]\n");
}

TEST(TrinoJsonTest, DecodesBackToTheCellText) {
  const Batch b = EveryType();
  std::string all;
  AppendTrinoRows(b, 0, b.num_rows, {}, &all);
  std::vector<std::optional<std::string>> cells;
  size_t r = 0;
  for (size_t pos = 0; pos < all.size(); ++r) {
    const size_t nl = all.find('\n', pos);
    ASSERT_TRUE(DecodeTrinoRow(std::string_view(all).substr(pos, nl - pos), &cells).ok());
    ASSERT_EQ(cells.size(), b.num_columns());
    for (size_t c = 0; c < b.num_columns(); ++c) {
      const ColumnVector& v = b.columns[c];
      if (!v.IsValid(r)) {
        EXPECT_FALSE(cells[c].has_value()) << r << "," << c;
      } else {
        EXPECT_EQ(cells[c], sql::CellText(v, r)) << r << "," << c;
      }
    }
    pos = nl + 1;
  }
  // Escapes a client-side encoder may use, surrogate pairs included.
  ASSERT_TRUE(DecodeTrinoRow(R"(["\u00e9\/\b\f\ud83d\ude00",1.5e-7,false,null,""])", &cells).ok());
  EXPECT_EQ(cells, (std::vector<std::optional<std::string>>{"\xc3\xa9/\b\f\xf0\x9f\x98\x80",
                                                            "1.5e-7", "false", std::nullopt, ""}));
  ASSERT_TRUE(DecodeTrinoRow("[]", &cells).ok());
  EXPECT_TRUE(cells.empty());
  for (const char* bad :
       {"", "1", "[", "[1", "[1,]", "[\"a]", "[\"\\x\"]", "[\"\\u12\"]", "[1]x", "[,1]",
        // a lone surrogate (no encoder of ours writes one) and a raw control character
        "[\"\\ud800x\"]", "[\"a\nb\"]"}) {
    EXPECT_EQ(DecodeTrinoRow(bad, &cells).code(), StatusCode::kCorruption) << bad;
  }
}

// Lines "[i,\"xxx...\"]\n" with lengths across a read's byte limit.
std::string Line(uint64_t i) {
  return "[" + std::to_string(i) + ",\"" + std::string(i % 300, 'x') + "\"]\n";
}

TEST(ResultSpoolTest, ReadsRowsFromMemoryAndDiskFromAnyOffset) {
  testing::TempDir dir;
  auto spool = ResultSpool::Make(dir.path(), 20000);
  uint64_t n = 0;
  for (size_t batch : {1u, 255u, 40u, 1000u, 3u, 2048u, 700u}) {
    std::string text;
    for (size_t i = 0; i < batch; ++i) text += Line(n++);
    ASSERT_TRUE(spool->Append(text, batch).ok());
  }
  EXPECT_EQ(spool->rows(), n);
  // The first batches fit in memory; then the file, unlinked at once.
  EXPECT_GT(spool->spooled_rows(), 0u);
  EXPECT_LT(spool->spooled_rows(), n);
  EXPECT_GT(spool->file_bytes(), 0u);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  for (uint64_t first : std::vector<uint64_t>{0, 1, 255, 256, 257, 295, 296, 1300, 3300, n - 1}) {
    for (uint64_t max_bytes : std::vector<uint64_t>{1, 500, 1 << 20}) {
      std::string out = "prefix";
      auto got = spool->Read(first, 600, max_bytes, &out);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      std::string want = "prefix";
      uint64_t k = 0;
      while (first + k < n && k < 600 &&
             (k == 0 || want.size() - 6 + Line(first + k).size() <= max_bytes)) {
        want += Line(first + k++);
      }
      EXPECT_EQ(*got, k) << first << " " << max_bytes;
      ASSERT_EQ(out, want) << first << " " << max_bytes;
    }
  }
  std::string out;
  auto past = spool->Read(n, 10, 1 << 20, &out);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(*past, 0u);
  EXPECT_TRUE(out.empty());
}

TEST(ResultSpoolTest, AFileThatCannotBeMadeFailsTheAppend) {
  testing::TempDir dir;
  auto spool = ResultSpool::Make(dir.Join("no/such/folder"), 8);
  ASSERT_TRUE(spool->Append("[1]\n", 1).ok());  // in memory
  Status s = spool->Append("[2,\"more than eight bytes\"]\n", 1);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("result spool"), std::string::npos);
  EXPECT_EQ(spool->rows(), 1u);
}

}  // namespace
}  // namespace saleslake::server::internal
