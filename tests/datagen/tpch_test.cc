#include "datagen/tpch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/batch.h"
#include "formats/parquet/parquet.h"
#include "io/object_store.h"
#include "support/test_support.h"

namespace saleslake::datagen {
namespace {

constexpr double kScale = 0.01;

// The Parquet files of one table: DIR/<t>.parquet, or DIR/<t>/*.parquet in name order.
std::vector<std::string> FilesOf(const std::string& dir, const std::string& table) {
  std::string single = dir + "/" + table + ".parquet";
  if (std::filesystem::exists(single)) return {single};
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/" + table)) files.push_back(e.path());
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;  // t-2 before t-10
  });
  return files;
}

// Calls fn(batch, row) for every row of `table`, in file and row order, with all its columns.
void ForEachRow(const std::string& dir, const std::string& table,
                const std::function<void(const Batch&, size_t)>& fn, Schema* schema = nullptr) {
  for (const std::string& path : FilesOf(dir, table)) {
    auto file = io::OpenLocalFile(path);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto reader = parquet::ParquetReader::Open(std::shared_ptr<const io::RandomAccessFile>(std::move(*file)));
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    if (schema) *schema = (*reader)->schema();
    std::vector<int> cols;
    for (size_t c = 0; c < (*reader)->schema().size(); ++c) cols.push_back(static_cast<int>(c));
    for (int rg = 0; rg < (*reader)->num_row_groups(); ++rg) {
      Status s = (*reader)->ReadRowGroup(rg, cols, [&](Batch& b) {
        for (size_t i = 0; i < b.num_rows; ++i) fn(b, i);
        return Status::OK();
      });
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }
}

int64_t I64(const Batch& b, int col, size_t row) {
  const ColumnVector& v = b.columns[col];
  return v.type().id == TypeId::kInt64 || v.type().id == TypeId::kDecimal ? v.GetValue<int64_t>(row)
                                                                          : v.GetValue<int32_t>(row);
}
std::string_view Str(const Batch& b, int col, size_t row) { return b.columns[col].GetValue<std::string_view>(row); }

class TpchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    auto stats = GenerateTpch({.scale = kScale, .seed = 7, .row_group_rows = 10'000, .threads = 2}, dir_->path());
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    stats_ = new std::vector<TpchTableStats>(*stats);
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete stats_;
  }
  static std::string dir() { return dir_->path(); }
  static testing::TempDir* dir_;
  static std::vector<TpchTableStats>* stats_;
};
testing::TempDir* TpchTest::dir_ = nullptr;
std::vector<TpchTableStats>* TpchTest::stats_ = nullptr;

TEST_F(TpchTest, CardinalitiesAndSchemas) {
  ASSERT_EQ(stats_->size(), 8u);
  std::map<std::string, int64_t> expected = {{"part", 2000},    {"supplier", 100}, {"partsupp", 8000},
                                             {"customer", 1500}, {"orders", 15000}, {"nation", 25},
                                             {"region", 5}};
  for (const TpchTableStats& s : *stats_) {
    int64_t rows = 0;
    Schema schema;
    ForEachRow(dir(), s.table, [&](const Batch&, size_t) { ++rows; }, &schema);
    EXPECT_EQ(rows, s.rows) << s.table;
    EXPECT_EQ(s.files, 1) << s.table;
    EXPECT_GT(s.bytes, 0u) << s.table;
    auto want = TpchSchema(s.table);
    ASSERT_TRUE(want.ok());
    EXPECT_EQ(schema, *want) << s.table;
    if (s.table == "lineitem") {
      // 1..7 lines per order, 4 on average.
      EXPECT_GT(rows, 15000 * 3.8);
      EXPECT_LT(rows, 15000 * 4.2);
    } else {
      EXPECT_EQ(rows, expected.at(s.table)) << s.table;
      EXPECT_EQ(TpchRowCount(s.table, kScale), rows) << s.table;
    }
  }
  EXPECT_EQ(TpchRowCount("lineitem", kScale), -1);
  EXPECT_EQ(TpchRowCount("orders", 10), 15'000'000);
  EXPECT_FALSE(TpchSchema("nope").ok());
}

TEST_F(TpchTest, TypesMatchTheSharedDuckDbFiles) {
  auto li = TpchSchema("lineitem");
  ASSERT_TRUE(li.ok());
  EXPECT_EQ(li->fields[0].type, DataType::Int64());         // l_orderkey
  EXPECT_EQ(li->fields[1].type, DataType::Int32());         // l_partkey
  EXPECT_EQ(li->fields[5].type, DataType::Decimal(15, 2));  // l_extendedprice
  EXPECT_EQ(li->fields[10].type, DataType::Date());         // l_shipdate
  // When the shared files are present, every table's names and types equal theirs.
  std::string shared = std::string(SALESLAKE_SHARED_TESTDATA) + "/tpch-sf0.1";
  if (!std::filesystem::exists(shared)) GTEST_SKIP() << shared << " is absent";
  for (const std::string& t : TpchTables()) {
    auto file = io::OpenLocalFile(shared + "/" + t + ".parquet");
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto reader = parquet::ParquetReader::Open(std::shared_ptr<const io::RandomAccessFile>(std::move(*file)));
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    const Schema& theirs = (*reader)->schema();
    auto ours = TpchSchema(t);
    ASSERT_TRUE(ours.ok());
    ASSERT_EQ(theirs.size(), ours->size()) << t;
    for (size_t c = 0; c < theirs.size(); ++c) {
      EXPECT_EQ(theirs[c].name, (*ours)[c].name) << t;
      EXPECT_EQ(theirs[c].type, (*ours)[c].type) << t << "." << theirs[c].name;
    }
  }
}

TEST_F(TpchTest, KeysRelateAsTheSpecSays) {
  const int64_t parts = 2000, suppliers = 100, customers = 1500;
  std::set<std::pair<int64_t, int64_t>> partsupp;
  ForEachRow(dir(), "partsupp", [&](const Batch& b, size_t r) {
    partsupp.insert({I64(b, 0, r), I64(b, 1, r)});
  });
  EXPECT_EQ(partsupp.size(), 8000u);  // four distinct suppliers per part
  std::unordered_map<int32_t, int32_t> supplier_nation;
  ForEachRow(dir(), "supplier", [&](const Batch& b, size_t r) {
    supplier_nation[static_cast<int32_t>(I64(b, 0, r))] = static_cast<int32_t>(I64(b, 3, r));
    int64_t n = I64(b, 3, r);
    EXPECT_TRUE(n >= 0 && n < 25);
    // The phone's country code is the nation + 10 (Q22 selects customers by it).
    EXPECT_EQ(std::stoi(std::string(Str(b, 4, r).substr(0, 2))), n + 10);
  });
  EXPECT_EQ(supplier_nation.size(), 100u);

  struct Order {
    int32_t date;
    int64_t total;
    std::string status;
    int lines = 0, shipped = 0;
    int64_t sum = 0;
  };
  std::unordered_map<int64_t, Order> orders;
  ForEachRow(dir(), "orders", [&](const Batch& b, size_t r) {
    int64_t key = I64(b, 0, r), cust = I64(b, 1, r);
    EXPECT_EQ((key - 1) % 32 < 8, true) << key;  // sparse keys: 8 of every 32
    EXPECT_TRUE(cust >= 1 && cust <= customers);
    EXPECT_NE(cust % 3, 0) << "a third of the customers never order";
    int32_t date = static_cast<int32_t>(I64(b, 4, r));
    EXPECT_GE(date, DaysFromCivil(1992, 1, 1));
    EXPECT_LE(date, DaysFromCivil(1998, 12, 31) - 151);
    orders[key] = Order{date, I64(b, 3, r), std::string(Str(b, 2, r)), 0, 0, 0};
  });
  EXPECT_EQ(orders.size(), 15000u);

  const int32_t current = DaysFromCivil(1995, 6, 17);
  int64_t lines = 0, returned = 0;
  ForEachRow(dir(), "lineitem", [&](const Batch& b, size_t r) {
    ++lines;
    auto it = orders.find(I64(b, 0, r));
    ASSERT_NE(it, orders.end()) << "l_orderkey " << I64(b, 0, r) << " not in orders";
    Order& o = it->second;
    int64_t part = I64(b, 1, r), supp = I64(b, 2, r);
    EXPECT_TRUE(part >= 1 && part <= parts);
    EXPECT_TRUE(supp >= 1 && supp <= suppliers);
    EXPECT_TRUE(partsupp.count({part, supp})) << "(" << part << "," << supp << ") not in partsupp";
    EXPECT_EQ(I64(b, 3, r), ++o.lines);  // line numbers 1..n in order
    int64_t qty = I64(b, 4, r), price = I64(b, 5, r), disc = I64(b, 6, r), tax = I64(b, 7, r);
    EXPECT_TRUE(qty >= 100 && qty <= 5000 && qty % 100 == 0);
    int64_t retail = 90000 + (part / 10) % 20001 + 100 * (part % 1000);
    EXPECT_EQ(price, qty / 100 * retail);
    EXPECT_TRUE(disc >= 0 && disc <= 10 && tax >= 0 && tax <= 8);
    int32_t ship = static_cast<int32_t>(I64(b, 10, r)), commit = static_cast<int32_t>(I64(b, 11, r)),
            receipt = static_cast<int32_t>(I64(b, 12, r));
    EXPECT_TRUE(ship > o.date && ship <= o.date + 121);
    EXPECT_TRUE(commit >= o.date + 30 && commit <= o.date + 90);
    EXPECT_TRUE(receipt > ship && receipt <= ship + 30);
    EXPECT_LE(receipt, DaysFromCivil(1998, 12, 31));
    std::string_view flag = Str(b, 8, r), status = Str(b, 9, r);
    if (receipt <= current) {
      EXPECT_TRUE(flag == "R" || flag == "A") << flag;
      returned += flag == "R";
    } else {
      EXPECT_EQ(flag, "N");
    }
    EXPECT_EQ(status, ship > current ? "O" : "F");
    o.shipped += status == "F";
    o.sum += (price * (100 + tax) * (100 - disc) + 5000) / 10000;
  });
  EXPECT_GT(returned, lines / 10);
  for (const auto& [key, o] : orders) {
    ASSERT_GE(o.lines, 1) << key;
    ASSERT_LE(o.lines, 7) << key;
    EXPECT_EQ(o.total, o.sum) << key;
    EXPECT_EQ(o.status, o.shipped == o.lines ? "F" : o.shipped == 0 ? "O" : "P") << key;
  }
}

TEST_F(TpchTest, ValuesTheQueriesSelectOn) {
  int brass15 = 0, green = 0, forest = 0, brand45 = 0;
  std::set<std::string> brands, containers, types;
  ForEachRow(dir(), "part", [&](const Batch& b, size_t r) {
    std::string name(Str(b, 1, r)), type(Str(b, 4, r));
    std::set<std::string> words;
    size_t at = 0;
    for (size_t sp; (sp = name.find(' ', at)) != std::string::npos; at = sp + 1) words.insert(name.substr(at, sp - at));
    words.insert(name.substr(at));
    EXPECT_EQ(words.size(), 5u) << name;  // five distinct colours
    green += name.find("green") != std::string::npos;
    forest += name.rfind("forest", 0) == 0;
    brass15 += I64(b, 5, r) == 15 && type.size() > 5 && type.ends_with("BRASS");
    std::string brand(Str(b, 3, r)), mfgr(Str(b, 2, r));
    EXPECT_EQ(brand.substr(6, 1), mfgr.substr(13, 1)) << "Brand#MN belongs to Manufacturer#M";
    brand45 += brand == "Brand#45";
    brands.insert(brand);
    containers.insert(std::string(Str(b, 6, r)));
    types.insert(type);
  });
  EXPECT_GT(brass15, 0);   // Q2
  EXPECT_GT(green, 0);     // Q9
  EXPECT_GT(forest, 0);    // Q20
  EXPECT_GT(brand45, 0);   // Q16
  EXPECT_EQ(brands.size(), 25u);
  EXPECT_EQ(containers.size(), 40u);
  EXPECT_EQ(types.size(), 150u);
  EXPECT_TRUE(containers.count("SM CASE") && containers.count("LG PKG") && containers.count("MED BAG"));  // Q19
  int special_requests = 0;
  ForEachRow(dir(), "orders", [&](const Batch& b, size_t r) {
    std::string_view c = Str(b, 8, r);
    size_t s = c.find("special");
    special_requests += s != std::string_view::npos && c.find("requests", s) != std::string_view::npos;
  });
  EXPECT_GT(special_requests, 0);  // Q13
  std::set<std::string> nations;
  ForEachRow(dir(), "nation", [&](const Batch& b, size_t r) { nations.insert(std::string(Str(b, 1, r))); });
  EXPECT_TRUE(nations.count("SAUDI ARABIA") && nations.count("GERMANY") && nations.count("BRAZIL"));
}

std::map<std::string, std::string> ReadAll(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files[std::filesystem::relative(e.path(), dir)] = testing::ReadFile(e.path());
  return files;
}

TEST_F(TpchTest, DeterministicForASeedWhateverTheThreads) {
  testing::TempDir again, other;
  ASSERT_TRUE(GenerateTpch({.scale = kScale, .seed = 7, .row_group_rows = 10'000, .threads = 1}, again.path()).ok());
  auto a = ReadAll(dir()), b = ReadAll(again.path());
  ASSERT_EQ(a.size(), 8u);
  EXPECT_TRUE(a == b) << "same seed, other thread count: different bytes";
  ASSERT_TRUE(GenerateTpch({.scale = kScale, .seed = 8, .row_group_rows = 10'000, .threads = 2}, other.path()).ok());
  auto c = ReadAll(other.path());
  EXPECT_NE(a["lineitem.parquet"], c["lineitem.parquet"]);
  EXPECT_EQ(a["region.parquet"].empty(), false);
}

TEST_F(TpchTest, SeveralFilesHoldTheSameRows) {
  testing::TempDir split;
  auto stats = GenerateTpch({.scale = kScale, .seed = 7, .files = 3, .row_group_rows = 10'000, .threads = 2},
                            split.path());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  for (const char* t : {"orders", "lineitem", "partsupp"}) {
    EXPECT_EQ(FilesOf(split.path(), t).size(), 3u) << t;
    std::vector<std::string> one, three;
    auto collect = [](std::vector<std::string>* out) {
      return [out](const Batch& b, size_t r) {
        std::string row;
        for (size_t c = 0; c < b.num_columns(); ++c) {
          const ColumnVector& v = b.columns[c];
          row += v.type().id == TypeId::kVarchar ? std::string(v.GetValue<std::string_view>(r))
                                                 : std::to_string(I64(b, static_cast<int>(c), r));
          row += '|';
        }
        out->push_back(std::move(row));
      };
    };
    ForEachRow(dir(), t, collect(&one));
    ForEachRow(split.path(), t, collect(&three));
    EXPECT_TRUE(one == three) << t << ": " << one.size() << " vs " << three.size() << " rows";
  }
  EXPECT_TRUE(std::filesystem::exists(split.Join("supplier.parquet")));
}

TEST(TpchOptionsTest, BadOptionsAreRefused) {
  testing::TempDir dir;
  EXPECT_EQ(GenerateTpch({.scale = 0}, dir.path()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GenerateTpch({.scale = -1}, dir.path()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GenerateTpch({.scale = 0.01, .files = 0}, dir.path()).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace saleslake::datagen
