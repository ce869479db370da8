// Sniff + read on real exports and on `saleslake generate` output (the acceptance cases of
// issue 4 for the CSV half).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <map>
#include <mutex>

#include "csv_test_util.h"
#include "formats/csv/csv_reader.h"
#include "formats/csv/csv_reader.h"
#include "support/test_support.h"

namespace saleslake::csv {
namespace {

std::string Types(const SniffResult& r) {
  std::string out;
  for (const auto& c : r.columns) {
    if (!out.empty()) out += ",";
    out += c.name + ":" + c.type.ToString();
  }
  return out;
}

TEST(CsvIntegrationTest, UciOnlineRetailSniffAndFullRead) {
  SL_REQUIRE_SHARED(path, "real/uci-online-retail/online_retail.csv");
  auto file = io::OpenLocalFile(path);
  ASSERT_TRUE(file.ok());
  auto sniff = Sniff(**file);
  ASSERT_TRUE(sniff.ok()) << sniff.status().ToString();
  EXPECT_EQ(Types(*sniff),
            "InvoiceNo:VARCHAR,StockCode:VARCHAR,Description:VARCHAR,Quantity:BIGINT,"
            "InvoiceDate:TIMESTAMP,UnitPrice:DOUBLE,CustomerID:BIGINT,Country:VARCHAR");
  EXPECT_TRUE(sniff->dialect.header);
  EXPECT_FALSE(sniff->has_bom);
  EXPECT_EQ(sniff->columns[4].format, "%Y-%m-%d %H:%M:%S");
  EXPECT_FALSE(sniff->sampled_whole_file);

  // The full read: every row, nulls counted, quoted descriptions intact, revenue exact.
  ReadOptions o = sniff->ToReadOptions();
  o.morsel_bytes = 4 << 20;  // several morsels on the 47 MB file
  std::mutex mu;
  uint64_t rows = 0, customer_nulls = 0, description_nulls = 0, quoted_desc = 0;
  long double revenue = 0;
  int64_t min_ts = INT64_MAX, max_ts = INT64_MIN;
  bool saw_record_frame = false;
  CollectingRejectSink rejects;
  auto stats = ReadCsv(
      **file, o,
      [&](size_t, Batch& b) {
        uint64_t cn = b.columns[6].CountNulls(), dn = b.columns[2].CountNulls(), q = 0;
        long double rev = 0;
        bool frame = false;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (size_t i = 0; i < b.num_rows; ++i) {
          rev += static_cast<long double>(b.columns[3].data<int64_t>()[i]) *
                 b.columns[5].data<double>()[i];
          int64_t ts = b.columns[4].data<int64_t>()[i];
          lo = std::min(lo, ts);
          hi = std::max(hi, ts);
          if (b.columns[2].IsValid(i)) {
            std::string_view d = b.columns[2].data<std::string_view>()[i];
            if (d.find(',') != std::string_view::npos) ++q;
            if (d == "RECORD FRAME 7\" SINGLE SIZE ") frame = true;
          }
        }
        std::lock_guard<std::mutex> lock(mu);
        rows += b.num_rows;
        customer_nulls += cn;
        description_nulls += dn;
        quoted_desc += q;
        revenue += rev;
        min_ts = std::min(min_ts, lo);
        max_ts = std::max(max_ts, hi);
        saw_record_frame |= frame;
        return Status::OK();
      },
      &rejects);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  auto rej = rejects.TakeSorted();
  ASSERT_TRUE(rej.empty()) << rej[0].line << ": " << rej[0].reason;
  EXPECT_EQ(stats->rows_read, 541909u);
  EXPECT_EQ(stats->rows_loaded, 541909u);
  EXPECT_EQ(rows, 541909u);
  EXPECT_EQ(customer_nulls, 135080u);
  EXPECT_EQ(description_nulls, 1454u);
  EXPECT_GE(quoted_desc, 4796u);
  EXPECT_TRUE(saw_record_frame);
  EXPECT_NEAR(static_cast<double>(revenue), 9747747.93, 0.01);
  EXPECT_EQ(FormatTimestamp(min_ts), "2010-12-01 08:26:00");
  EXPECT_EQ(FormatTimestamp(max_ts), "2011-12-09 12:50:00");
}

TEST(CsvIntegrationTest, UciOnlineRetailWholeFileSniffCountsNulls) {
  SL_REQUIRE_SHARED(path, "real/uci-online-retail/online_retail.csv");
  auto file = io::OpenLocalFile(path);
  ASSERT_TRUE(file.ok());
  SniffOptions so;
  so.sample_bytes_per_chunk = 0;
  auto sniff = Sniff(**file, so);
  ASSERT_TRUE(sniff.ok()) << sniff.status().ToString();
  EXPECT_TRUE(sniff->sampled_whole_file);
  EXPECT_EQ(sniff->sampled_rows, 541909u);
  EXPECT_EQ(sniff->columns[6].type, DataType::Int64());
  EXPECT_EQ(sniff->columns[6].non_null, 541909u - 135080u);
  EXPECT_EQ(sniff->columns[6].non_conforming, 0u);
  EXPECT_EQ(sniff->columns[2].non_null, 541909u - 1454u);
  EXPECT_EQ(Types(*sniff),
            "InvoiceNo:VARCHAR,StockCode:VARCHAR,Description:VARCHAR,Quantity:BIGINT,"
            "InvoiceDate:TIMESTAMP,UnitPrice:DOUBLE,CustomerID:BIGINT,Country:VARCHAR");
}

TEST(CsvIntegrationTest, OnlineRetailIiSpreadsheetExport) {
  SL_REQUIRE_SHARED(path, "online-retail-ii/online_retail_II.sample99_xq2005.csv");
  auto file = io::OpenLocalFile(path);
  ASSERT_TRUE(file.ok());
  auto sniff = Sniff(**file);
  ASSERT_TRUE(sniff.ok()) << sniff.status().ToString();
  EXPECT_TRUE(sniff->has_bom);
  EXPECT_EQ(sniff->columns[0].name, "Invoice");
  EXPECT_EQ(sniff->columns[6].name, "Customer ID");
  EXPECT_EQ(sniff->columns[4].name, "InvoiceDate");
  EXPECT_EQ(sniff->columns[4].type, DataType::Timestamp());
  EXPECT_EQ(sniff->columns[4].format, "%m/%d/%Y %H:%M");
  EXPECT_EQ(sniff->columns[3].type, DataType::Int64());
  EXPECT_EQ(sniff->columns[5].type, DataType::Double());
  EXPECT_EQ(sniff->columns[6].type, DataType::Int64());
  EXPECT_EQ(sniff->sampled_rows, 99u);

  auto out = testutil::ReadFileRows(**file, sniff->ToReadOptions());
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.rows.size(), 99u);
  EXPECT_TRUE(out.rejects.empty());
  EXPECT_EQ(out.rows[0],
            "536365|85123A|WHITE HANGING HEART T-LIGHT HOLDER|6|2010-12-01 08:26:00|2.55|17850|"
            "United Kingdom");
  // Revenue over the typed columns: 3109.73.
  double revenue = 0;
  ReadOptions o = sniff->ToReadOptions();
  o.projection = {3, 5};
  auto st = ReadCsv(**file, o, [&](size_t, Batch& b) {
    for (size_t i = 0; i < b.num_rows; ++i)
      revenue += b.columns[0].data<int64_t>()[i] * b.columns[1].data<double>()[i];
    return Status::OK();
  }, nullptr);
  ASSERT_TRUE(st.ok());
  EXPECT_NEAR(revenue, 3109.73, 1e-6);
}

std::string Generate(const testing::TempDir& dir, const std::string& name, int rows, bool messy) {
  std::string path = dir.Join(name);
  std::vector<std::string> args = {"generate", "--rows", std::to_string(rows), "--out", path,
                                   "--lake", dir.Join("lake")};
  if (messy) args.push_back("--messy");
  auto r = testing::RunSaleslake(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return path;
}

TEST(CsvIntegrationTest, GeneratedSalesData) {
  testing::TempDir dir;
  std::string path = Generate(dir, "sales.csv", 30000, false);
  auto file = io::OpenLocalFile(path);
  ASSERT_TRUE(file.ok());
  auto sniff = Sniff(**file);
  ASSERT_TRUE(sniff.ok()) << sniff.status().ToString();
  EXPECT_EQ(Types(*sniff),
            "purchase_date:DATE,customer_id:VARCHAR,product_id:VARCHAR,amount:DOUBLE,"
            "region:VARCHAR,status:VARCHAR");
  for (const auto& c : sniff->columns) EXPECT_EQ(c.non_conforming, 0u) << c.name;
  ReadOptions o = sniff->ToReadOptions();
  o.morsel_bytes = 256 << 10;
  auto out = testutil::ReadFileRows(**file, o);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.rows.size(), 30000u);
  EXPECT_TRUE(out.rejects.empty());
}

TEST(CsvIntegrationTest, GeneratedMessyData) {
  testing::TempDir dir;
  std::string path = Generate(dir, "messy.csv", 200000, true);
  auto file = io::OpenLocalFile(path);
  ASSERT_TRUE(file.ok());
  SniffOptions so;
  so.sample_bytes_per_chunk = 0;  // exact counts
  auto sniff = Sniff(**file, so);
  ASSERT_TRUE(sniff.ok()) << sniff.status().ToString();
  EXPECT_EQ(sniff->columns[0].type, DataType::Date());
  EXPECT_EQ(sniff->columns[3].type, DataType::Double());
  EXPECT_GT(sniff->columns[0].non_conforming, 0u);
  EXPECT_GT(sniff->columns[3].non_conforming, 0u);
  EXPECT_FALSE(sniff->columns[0].non_conforming_examples.empty());
  EXPECT_GT(sniff->rejected_rows, 0u);  // wrong field counts

  // Reading with the sniffed schema: every non-conforming value becomes a rejected row with a
  // reason, nothing turns into NULL silently; loaded + rejected = read.
  ReadOptions o = sniff->ToReadOptions();
  o.morsel_bytes = 1 << 20;
  CollectingRejectSink rejects;
  std::atomic<uint64_t> loaded{0};
  auto st = ReadCsv(**file, o, [&](size_t, Batch& b) {
    loaded += b.num_rows;
    return Status::OK();
  }, &rejects);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto rej = rejects.TakeSorted();
  EXPECT_EQ(st->rows_read, st->rows_loaded + st->rows_rejected);
  EXPECT_EQ(loaded.load(), st->rows_loaded);
  EXPECT_EQ(rej.size(), st->rows_rejected);
  EXPECT_GT(st->blank_lines, 0u);
  uint64_t date_rejects = 0, amount_rejects = 0, count_rejects = 0;
  for (const auto& r : rej) {
    if (r.column == 1) ++date_rejects;
    if (r.column == 4) ++amount_rejects;
    if (r.column == 0) ++count_rejects;
  }
  EXPECT_EQ(count_rejects, sniff->rejected_rows);
  EXPECT_GT(date_rejects, 0u);
  EXPECT_GT(amount_rejects, 0u);
  EXPECT_EQ(st->rows_read, 200000u);
}

}  // namespace
}  // namespace saleslake::csv
