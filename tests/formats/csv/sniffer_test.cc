#include "formats/csv/csv_reader.h"

#include <gtest/gtest.h>

#include "csv_test_util.h"

namespace saleslake::csv {
namespace {

Result<SniffResult> SniffText(const std::string& text, SniffOptions o = {}) {
  auto f = io::MakeMemoryFile(text, "s.csv");
  return Sniff(*f, o);
}

std::string Types(const SniffResult& r) {
  std::string out;
  for (const auto& c : r.columns) {
    if (!out.empty()) out += ",";
    out += c.name + ":" + c.type.ToString();
  }
  return out;
}

TEST(SnifferTest, BasicTypesAndHeader) {
  auto r = SniffText(
      "flag,n,x,day,ts,name\n"
      "true,1,1.5,2025-08-01,2025-08-01 10:00:00,alice\n"
      "false,-2,2,2025-08-02,2025-08-02T11:30:00.5,bob\n"
      "TRUE,3,1e3,2025-08-03,2025-08-03 12:00,carol\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Types(*r), "flag:BOOLEAN,n:BIGINT,x:DOUBLE,day:DATE,ts:TIMESTAMP,name:VARCHAR");
  EXPECT_TRUE(r->dialect.header);
  EXPECT_EQ(r->dialect.delimiter, ',');
  EXPECT_EQ(r->sampled_rows, 3u);
  EXPECT_EQ(r->columns[3].format, "%Y-%m-%d");
  EXPECT_EQ(r->columns[4].format, "%Y-%m-%d %H:%M:%S");
  EXPECT_TRUE(r->sampled_whole_file);
}

TEST(SnifferTest, Delimiters) {
  auto r = SniffText("a;b;c\n1;x,y;3\n4;z;6\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->dialect.delimiter, ';');
  EXPECT_EQ(Types(*r), "a:BIGINT,b:VARCHAR,c:BIGINT");
  r = SniffText("a\tb\n1\t2\n3\t4\n");
  EXPECT_EQ(r->dialect.delimiter, '\t');
  r = SniffText("a|b\n1|2\n3|4\n");
  EXPECT_EQ(r->dialect.delimiter, '|');
  r = SniffText("x,\"y;z\"\n\"1,5\",2\n3,4\n");
  EXPECT_EQ(r->dialect.delimiter, ',');
}

TEST(SnifferTest, NoHeaderWhenFirstRowIsData) {
  auto r = SniffText("1,2025-01-01\n2,2025-01-02\n3,2025-01-03\n");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->dialect.header);
  EXPECT_EQ(Types(*r), "column0:BIGINT,column1:DATE");
  EXPECT_EQ(r->sampled_rows, 3u);
}

TEST(SnifferTest, DayMonthOrderDecidedByEvidence) {
  auto r = SniffText("d\n01/02/2024\n03/04/2024\n25/12/2024\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->columns[0].type, DataType::Date());
  EXPECT_EQ(r->columns[0].format, "%d/%m/%Y");
  r = SniffText("d\n01/02/2024\n12/25/2024\n");
  EXPECT_EQ(r->columns[0].format, "%m/%d/%Y");
  r = SniffText("d\n01/02/2024\n03/04/2024\n");  // ambiguous: month first
  EXPECT_EQ(r->columns[0].format, "%m/%d/%Y");
  r = SniffText("t\n12/1/2010 8:26\n12/13/2010 17:05\n");
  EXPECT_EQ(r->columns[0].type, DataType::Timestamp());
  EXPECT_EQ(r->columns[0].format, "%m/%d/%Y %H:%M");
  r = SniffText("t\n1/2/2010 8:26 PM\n1/3/2010 11:05 AM\n");
  EXPECT_EQ(r->columns[0].format, "%m/%d/%Y %I:%M %p");
}

TEST(SnifferTest, NonConformingValuesAreCountedNotHidden) {
  std::string text = "amount,day\n";
  for (int i = 0; i < 300; ++i) text += std::to_string(i) + ".5,2025-01-0" + std::to_string(i % 9 + 1) + "\n";
  text += "abc,soon\n";
  auto r = SniffText(text);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->columns[0].type, DataType::Double());
  EXPECT_EQ(r->columns[0].non_null, 301u);
  EXPECT_EQ(r->columns[0].non_conforming, 1u);
  EXPECT_EQ(r->columns[0].non_conforming_examples, std::vector<std::string>{"abc"});
  EXPECT_EQ(r->columns[1].type, DataType::Date());
  EXPECT_EQ(r->columns[1].non_conforming, 1u);
  // Two bad values in 100 is more than 1%: the column stays VARCHAR.
  text = "amount\n";
  for (int i = 0; i < 98; ++i) text += "1.5\n";
  text += "x\ny\n";
  r = SniffText(text);
  EXPECT_EQ(r->columns[0].type, DataType::Varchar());
}

TEST(SnifferTest, IntegersMixedWithDecimalsAreDouble) {
  auto r = SniffText("v\n1\n2\n3.5\n");
  EXPECT_EQ(r->columns[0].type, DataType::Double());
  EXPECT_EQ(r->columns[0].non_conforming, 0u);
  SniffOptions o;
  o.prefer_decimal = true;
  r = SniffText("v\n1\n2.25\n3.5\n", o);
  EXPECT_EQ(r->columns[0].type, DataType::Decimal(18, 2));
}

TEST(SnifferTest, RareCodesMakeAnIdColumnText) {
  std::string text = "invoice,qty\n";
  for (int i = 0; i < 1000; ++i) text += std::to_string(536365 + i) + ",1\n";
  text += "C536379,-1\n";
  auto r = SniffText(text);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Types(*r), "invoice:VARCHAR,qty:BIGINT");
  // A stray word in a numeric column is dirt, not an identifier: the column stays numeric.
  text = "amount\n";
  for (int i = 0; i < 1000; ++i) text += std::to_string(i) + ".5\n";
  text += "unknown\n";
  r = SniffText(text);
  EXPECT_EQ(Types(*r), "amount:DOUBLE");
  EXPECT_EQ(r->columns[0].non_conforming, 1u);
}

TEST(SnifferTest, NullsAndAllNullColumn) {
  auto r = SniffText("a,b\n1,\nNA,\n3,NULL\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Types(*r), "a:BIGINT,b:VARCHAR");
  EXPECT_EQ(r->columns[0].non_null, 2u);
  EXPECT_EQ(r->columns[1].non_null, 0u);
}

TEST(SnifferTest, BomAndNamesAreCleaned) {
  auto r = SniffText("\xEF\xBB\xBF" "Invoice,Customer ID,,Invoice\n1,2,3,4\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has_bom);
  EXPECT_EQ(Types(*r), "Invoice:BIGINT,Customer ID:BIGINT,column2:BIGINT,Invoice_2:BIGINT");
}

TEST(SnifferTest, AllTextColumnsHeaderHeuristic) {
  auto r = SniffText("name,city\nann,paris\nbob,rome\n");
  EXPECT_TRUE(r->dialect.header);
  EXPECT_EQ(Types(*r), "name:VARCHAR,city:VARCHAR");
}

TEST(SnifferTest, GivenDialectIsKept) {
  SniffOptions o;
  Dialect d;
  d.header = false;
  d.delimiter = ';';
  o.dialect = d;
  auto r = SniffText("a;b\n1;2\n", o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->dialect.header);
  EXPECT_EQ(r->dialect.delimiter, ';');
  EXPECT_EQ(r->sampled_rows, 2u);
  EXPECT_EQ(Types(*r), "column0:VARCHAR,column1:VARCHAR");
}

TEST(SnifferTest, SamplesStartMiddleAndEnd) {
  // The middle of the file changes the type: a sniff of the start alone would say BIGINT.
  std::string text = "id,v\n";
  for (int i = 0; i < 20000; ++i) text += std::to_string(i) + "," + std::to_string(i) + "\n";
  for (int i = 0; i < 20000; ++i) text += std::to_string(i) + ",x" + std::to_string(i) + "\n";
  SniffOptions o;
  o.sample_bytes_per_chunk = 4096;
  auto r = SniffText(text, o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->sampled_whole_file);
  EXPECT_EQ(r->columns[1].type, DataType::Varchar());
  EXPECT_EQ(r->columns[0].type, DataType::Int64());
  EXPECT_LT(r->sampled_rows, 2000u);
  EXPECT_GT(r->sampled_rows, 500u);
}

TEST(SnifferTest, SniffThenReadRoundTrip) {
  std::string text = "d,t,n\n31/12/2024,12/1/2010 08:26,5\n01/02/2023,1/31/2011 8:05,6\n";
  auto f = io::MakeMemoryFile(text, "r.csv");
  auto r = Sniff(*f);
  ASSERT_TRUE(r.ok());
  auto out = testutil::ReadFileRows(*f, r->ToReadOptions());
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.rows, (std::vector<std::string>{"2024-12-31|2010-12-01 08:26:00|5",
                                                "2023-02-01|2011-01-31 08:05:00|6"}));
}

TEST(SnifferTest, EmptyAndGarbageInputs) {
  EXPECT_EQ(SniffText("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SniffText("\n\n\n").status().code(), StatusCode::kInvalidArgument);
  SniffOptions o;
  o.dialect = Dialect{};
  auto r = SniffText("\"unterminated\nstuff", o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  // Without a fixed dialect the single quote is tried too and the text reads as two rows.
  r = SniffText("\"unterminated\nstuff");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->columns.size(), 1u);
  r = SniffText("just one line without newline");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->columns.size(), 1u);
}

}  // namespace
}  // namespace saleslake::csv
