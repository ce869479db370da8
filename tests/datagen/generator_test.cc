#include "datagen/generator.h"

#include <gtest/gtest.h>

#include <charconv>
#include <map>
#include <set>

#include "common/types.h"
#include "io/object_store.h"
#include "support/test_support.h"

namespace saleslake::datagen {
namespace {

// Collects a generated file in memory through a real OutputStream (a local temp file).
std::string GenerateToString(const GenerateOptions& o, GenerateStats* stats = nullptr) {
  testing::TempDir dir;
  std::string path = dir.Join("out.csv");
  auto out = io::OpenLocalWrite(path);
  EXPECT_TRUE(out.ok());
  auto s = Generate(o, out->get());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE((*out)->Commit().ok());
  if (stats) *stats = *s;
  return testing::ReadFile(path);
}

// RFC 4180 split of one line (no embedded newlines in generated data).
std::vector<std::string> SplitCsv(std::string_view line) {
  std::vector<std::string> f(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        f.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        f.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      f.emplace_back();
    } else {
      f.back() += c;
    }
  }
  return f;
}

std::vector<std::string_view> Lines(const std::string& text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    out.emplace_back(text.data() + start, nl - start);
    start = nl + 1;
  }
  return out;
}

TEST(GeneratorTest, SameSeedSameBytesWhateverTheThreads) {
  std::string a = GenerateToString({.rows = 150'000, .seed = 7, .messy = true, .threads = 1});
  std::string b = GenerateToString({.rows = 150'000, .seed = 7, .messy = true, .threads = 2});
  std::string c = GenerateToString({.rows = 150'000, .seed = 8, .messy = true, .threads = 2});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(GeneratorTest, CleanRowsParseAndCarryTheSignal) {
  const uint64_t kRows = 200'000;
  GenerateStats stats;
  std::string text = GenerateToString({.rows = kRows, .seed = 42}, &stats);
  auto lines = Lines(text);
  ASSERT_EQ(lines.size(), kRows + 1);
  EXPECT_EQ(lines[0], "purchase_date,customer_id,product_id,amount,region,status");
  std::set<std::string> regions(Regions().begin(), Regions().end());
  std::map<std::string, uint64_t> status_count;
  std::map<int, double> revenue_by_dow;
  std::set<std::string> products, customers;
  uint64_t missing = 0;
  int32_t min_day = INT32_MAX, max_day = INT32_MIN, prev_day = 0;
  bool sorted = true;
  double max_out = 0, max_completed = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto f = SplitCsv(lines[i]);
    ASSERT_EQ(f.size(), 6u) << "line " << i + 1 << ": " << lines[i];
    auto day = ParseIsoDate(f[0]);
    ASSERT_TRUE(day) << f[0];
    min_day = std::min(min_day, *day);
    max_day = std::max(max_day, *day);
    if (i > 1 && *day < prev_day) sorted = false;
    prev_day = *day;
    ASSERT_TRUE(regions.count(f[4])) << f[4];
    status_count[f[5]]++;
    products.insert(f[2]);
    customers.insert(f[1]);
    if (f[3].empty()) {
      ++missing;
      continue;
    }
    double amount = 0;
    auto r = std::from_chars(f[3].data(), f[3].data() + f[3].size(), amount);
    ASSERT_TRUE(r.ec == std::errc() && r.ptr == f[3].data() + f[3].size()) << f[3];
    ASSERT_GT(amount, 0);
    if (f[5] == "OUT") max_out = std::max(max_out, amount);
    if (f[5] == "COMPLETED") {
      max_completed = std::max(max_completed, amount);
      revenue_by_dow[IsoDayOfWeek(*day)] += amount;
    }
  }
  EXPECT_EQ(FormatDate(min_day), "2025-01-01");
  EXPECT_EQ(FormatDate(max_day), "2025-08-25");
  EXPECT_FALSE(sorted);
  double missing_share = static_cast<double>(missing) / kRows;
  EXPECT_GE(missing_share, 0.04);
  EXPECT_LE(missing_share, 0.06);
  EXPECT_GT(status_count["OUT"], 0u);
  EXPECT_GT(status_count["REFUNDED"], 0u);
  EXPECT_GT(status_count["PENDING"], 0u);
  EXPECT_EQ(status_count.size(), 4u);
  EXPECT_GT(max_out, 5000);  // OUT rows carry extreme amounts
  EXPECT_GT(products.size(), 3000u);
  EXPECT_GT(customers.size(), 50'000u);
  // Weekly seasonality: Saturday sells clearly more than Monday.
  EXPECT_GT(revenue_by_dow[6], 1.2 * revenue_by_dow[1]);
  // ~110-160 bytes a row.
  double bytes_per_row = static_cast<double>(text.size()) / kRows;
  EXPECT_GT(bytes_per_row, 110);
  EXPECT_LT(bytes_per_row, 200);
}

TEST(GeneratorTest, MessyDirtAppearsAtTheDocumentedRate) {
  const uint64_t kRows = 400'000;
  GenerateStats stats;
  std::string text = GenerateToString({.rows = kRows, .seed = 3, .messy = true}, &stats);
  uint64_t seen[kNumDirtKinds] = {};
  auto lines = Lines(text);
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      seen[static_cast<int>(DirtKind::kBlankLine)]++;
      continue;
    }
    auto f = SplitCsv(lines[i]);
    if (f.size() != 6) {
      seen[static_cast<int>(DirtKind::kWrongFieldCount)]++;
      continue;
    }
    if (f[0].size() == 10 && f[0][4] == '/' && f[0][7] == '/')
      seen[static_cast<int>(DirtKind::kSlashDate)]++;
    else if (!ParseIsoDate(f[0])) seen[static_cast<int>(DirtKind::kUnparseableDate)]++;
    if (f[1].find('@') != std::string::npos) seen[static_cast<int>(DirtKind::kEmailCustomer)]++;
    if (f[2].find(',') != std::string::npos) seen[static_cast<int>(DirtKind::kEmbeddedComma)]++;
    if (!f[3].empty() && f[3][0] == '$') seen[static_cast<int>(DirtKind::kCurrencyAmount)]++;
    if (f[3].find(',') != std::string::npos) seen[static_cast<int>(DirtKind::kThousandsAmount)]++;
    if (!f[3].empty() && f[3][0] == '-') seen[static_cast<int>(DirtKind::kNegativeAmount)]++;
    if (!f[5].empty() && f[5][0] == ' ') seen[static_cast<int>(DirtKind::kWhitespace)]++;
  }
  const double expected = kDirtRatePerKind * kRows;  // 200 per kind
  for (int k = 0; k < kNumDirtKinds; ++k) {
    SCOPED_TRACE(std::string(DirtKindName(static_cast<DirtKind>(k))));
    EXPECT_EQ(seen[k], stats.dirt[k]);  // what the generator says it did is what the file shows
    EXPECT_GT(seen[k], 0.7 * expected);
    EXPECT_LT(seen[k], 1.3 * expected);
  }
}

TEST(GeneratorTest, ZeroRowsIsJustTheHeader) {
  EXPECT_EQ(GenerateToString({.rows = 0}), "purchase_date,customer_id,product_id,amount,region,status\n");
}

}  // namespace
}  // namespace saleslake::datagen
