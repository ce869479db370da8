#include "catalog/crawler.h"

#include <gtest/gtest.h>

#include <atomic>

#include "catalog/internal/file_inspect.h"
#include "catalog/internal/schema_merge.h"
#include "io/local_store.h"
#include "support/test_support.h"

namespace saleslake::catalog {
namespace {

using saleslake::testing::TempDir;

// Wraps a store and counts the reads of data objects (anything outside catalog/ and the content
// records of _system/content/).
class CountingStore final : public io::ObjectStore {
 public:
  explicit CountingStore(io::ObjectStore* inner) : inner_(inner) {}
  int reads() const { return reads_.load(); }
  int writes() const { return writes_.load(); }
  void Reset() { reads_ = 0; writes_ = 0; }

  Status Put(std::string_view k, std::string_view d) override {
    ++writes_;
    return inner_->Put(k, d);
  }
  Status PutIfAbsent(std::string_view k, std::string_view d) override {
    ++writes_;
    return inner_->PutIfAbsent(k, d);
  }
  Result<std::unique_ptr<io::OutputStream>> OpenWrite(std::string_view k) override { return inner_->OpenWrite(k); }
  Result<std::string> Get(std::string_view k) const override {
    Count(k);
    return inner_->Get(k);
  }
  Result<std::string> GetRange(std::string_view k, uint64_t o, uint64_t n) const override {
    Count(k);
    return inner_->GetRange(k, o, n);
  }
  Result<std::unique_ptr<io::RandomAccessFile>> OpenRead(std::string_view k) const override {
    Count(k);
    return inner_->OpenRead(k);
  }
  Result<std::vector<io::ObjectInfo>> List(std::string_view p) const override { return inner_->List(p); }
  Status Delete(std::string_view k) override { return inner_->Delete(k); }
  Result<bool> Exists(std::string_view k) const override { return inner_->Exists(k); }
  Result<io::ObjectInfo> Stat(std::string_view k) const override { return inner_->Stat(k); }
  std::string uri() const override { return inner_->uri(); }

 private:
  void Count(std::string_view k) const {
    if (k.substr(0, 8) != "catalog/" && k.substr(0, 16) != "_system/content/") ++reads_;
  }
  io::ObjectStore* inner_;
  mutable std::atomic<int> reads_{0};
  std::atomic<int> writes_{0};
};

constexpr const char* kSalesCsv =
    "purchase_date,customer_id,product_id,amount,region,status\n"
    "2025-08-01,C001,P01,12.50,EU,completed\n"
    "2025-08-02,C002,P02,7.25,US,pending\n"
    "2025-08-03,C003,P01,100.00,EU,completed\n";

class CrawlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = io::LocalStore::Open(dir_.path(), true);
    ASSERT_TRUE(s.ok());
    local_ = std::move(*s);
    store_ = std::make_unique<CountingStore>(local_.get());
    auto c = Catalog::Open(store_.get());
    ASSERT_TRUE(c.ok());
    catalog_ = std::move(*c);
    config_.name = "raw-crawler";
    config_.path = "raw_data/";
    config_.table = "raw_sales";
  }
  void PutFile(const std::string& key, const std::string& data) {
    ASSERT_TRUE(local_->Put(key, data).ok());
  }
  CrawlReport MustCrawl() {
    auto r = Crawl(*catalog_, config_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : CrawlReport{};
  }
  std::shared_ptr<const TableMetadata> Table() {
    auto t = catalog_->LoadTable("raw_sales");
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : nullptr;
  }
  std::vector<DataFile> Files() {
    auto t = Table();
    if (!t) return {};
    auto f = catalog_->ListFiles(*t);
    EXPECT_TRUE(f.ok());
    return f.ok() ? *f : std::vector<DataFile>{};
  }
  std::string TypeOf(const std::string& column) {
    auto t = Table();
    auto i = t->schema().FindField(column);
    return i ? t->schema()[*i].type.ToString() : "<missing>";
  }

  TempDir dir_;
  std::unique_ptr<io::LocalStore> local_;
  std::unique_ptr<CountingStore> store_;
  std::unique_ptr<Catalog> catalog_;
  CrawlerConfig config_;
};

TEST_F(CrawlerTest, FirstCrawlCreatesTheTable) {
  PutFile("raw_data/sales.csv", kSalesCsv);
  PutFile("raw_data/_SUCCESS", "");
  PutFile("raw_data/.hidden/x.csv", "a\n1\n");
  CrawlReport r = MustCrawl();
  EXPECT_TRUE(r.table_created);
  EXPECT_TRUE(r.committed);
  EXPECT_EQ(r.added, std::vector<std::string>{"raw_data/sales.csv"});
  EXPECT_EQ(r.files_seen, 1);
  EXPECT_EQ(r.files_read, 1);
  EXPECT_EQ(r.snapshot_id, 1);
  auto t = Table();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->spec.format, FileFormat::kCsv);
  EXPECT_EQ(t->spec.location, "raw_data/");
  EXPECT_TRUE(t->spec.partition_keys.empty());
  EXPECT_TRUE(t->spec.csv.has_header);
  EXPECT_EQ(t->spec.csv.delimiter, ',');
  ASSERT_EQ(t->schema().size(), 6u);
  EXPECT_EQ(t->schema()[0].name, "purchase_date");
  EXPECT_EQ(TypeOf("purchase_date"), "DATE");
  EXPECT_EQ(TypeOf("amount"), "DOUBLE");
  EXPECT_EQ(TypeOf("customer_id"), "VARCHAR");
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].row_count, 3);
  EXPECT_EQ(files[0].size, std::string(kSalesCsv).size());
  EXPECT_EQ(files[0].file_columns, (std::vector<std::string>{"purchase_date", "customer_id", "product_id",
                                                             "amount", "region", "status"}));
  EXPECT_NE(r.ToText().find("added     raw_data/sales.csv"), std::string::npos);
}

TEST_F(CrawlerTest, SecondCrawlWithNothingNewReadsNoFile) {
  PutFile("raw_data/a.csv", kSalesCsv);
  PutFile("raw_data/b.csv", std::string(kSalesCsv) + "2025-08-04,C004,P02,1.00,US,pending\n");
  PutFile("raw_data/junk.bin", std::string("\x00\x01\x02garbage", 10));
  MustCrawl();
  store_->Reset();
  CrawlReport r = MustCrawl();
  EXPECT_EQ(store_->reads(), 0);
  EXPECT_EQ(store_->writes(), 0);  // nothing committed, state unchanged
  EXPECT_EQ(r.files_read, 0);
  EXPECT_EQ(r.files_unchanged, 3);  // two in the table, one remembered as skipped
  EXPECT_FALSE(r.committed);
  EXPECT_TRUE(r.added.empty());
  EXPECT_EQ(r.snapshot_id, 1);
  EXPECT_NE(r.ToText().find("no changes"), std::string::npos);
  EXPECT_EQ(Table()->version, 2);  // create + one commit; the second crawl published nothing
}

TEST_F(CrawlerTest, NewFileInNewPartitionFolderAppearsAsPartition) {
  PutFile("raw_data/region=EU/month=2025-08/a.csv", kSalesCsv);
  CrawlReport r1 = MustCrawl();
  EXPECT_EQ(r1.new_partitions, std::vector<std::string>{"region=EU/month=2025-08"});
  auto t = Table();
  EXPECT_EQ(t->spec.partition_keys, (std::vector<std::string>{"region", "month"}));
  // Partition columns come last; the file's own 'region' column is the partition's.
  ASSERT_EQ(t->schema().size(), 7u);
  EXPECT_EQ(t->schema()[5].name, "region");
  EXPECT_EQ(t->schema()[6].name, "month");
  EXPECT_EQ(t->schema()[6].type.ToString(), "VARCHAR");

  store_->Reset();
  PutFile("raw_data/region=US%20West/month=2025-09/b.csv", std::string(kSalesCsv) + "2025-09-01,C9,P9,1.00,US,pending\n");
  CrawlReport r2 = MustCrawl();
  EXPECT_EQ(store_->reads(), 2);  // only the new file: hashed once, inspected once
  EXPECT_EQ(r2.added, std::vector<std::string>{"raw_data/region=US%20West/month=2025-09/b.csv"});
  EXPECT_EQ(r2.new_partitions, std::vector<std::string>{"region=US West/month=2025-09"});
  auto files = Files();
  ASSERT_EQ(files.size(), 2u);
  ASSERT_EQ(files[1].partition_values.size(), 2u);
  EXPECT_EQ(files[1].partition_values[0].key, "region");
  EXPECT_EQ(*files[1].partition_values[0].value, "US West");  // unescaped
  EXPECT_EQ(*files[1].partition_values[1].value, "2025-09");
  EXPECT_NE(r2.ToText().find("partition region=US West/month=2025-09 (new)"), std::string::npos);

  // A file outside the partition layout is skipped with the reason.
  PutFile("raw_data/stray.csv", kSalesCsv);
  CrawlReport r3 = MustCrawl();
  ASSERT_EQ(r3.skipped.size(), 1u);
  EXPECT_NE(r3.skipped[0].reason.find("partition keys"), std::string::npos);
}

TEST_F(CrawlerTest, IntegerPartitionValuesGetBigint) {
  PutFile("raw_data/year=2024/a.csv", kSalesCsv);
  PutFile("raw_data/year=2025/b.csv", kSalesCsv);
  MustCrawl();
  EXPECT_EQ(TypeOf("year"), "BIGINT");
}

constexpr const char* kExtraColumnCsv =
    "purchase_date,customer_id,product_id,amount,region,status,channel\n"
    "2025-09-01,C009,P03,5.00,EU,completed,web\n";

TEST_F(CrawlerTest, ExtraColumnWithPolicyUpdate) {
  PutFile("raw_data/a.csv", kSalesCsv);
  MustCrawl();
  PutFile("raw_data/b.csv", kExtraColumnCsv);
  CrawlReport r = MustCrawl();
  EXPECT_TRUE(r.schema_updated);
  ASSERT_EQ(r.schema_changes.size(), 1u);
  EXPECT_NE(r.schema_changes[0].find("new column channel VARCHAR"), std::string::npos);
  auto t = Table();
  EXPECT_EQ(t->schema().size(), 7u);
  EXPECT_EQ(TypeOf("channel"), "VARCHAR");
  EXPECT_EQ(t->schemas.size(), 2u);  // history keeps the old schema
  EXPECT_EQ(Files().size(), 2u);
}

TEST_F(CrawlerTest, ExtraColumnWithPolicyLog) {
  config_.policy = SchemaChangePolicy::kLog;
  PutFile("raw_data/a.csv", kSalesCsv);
  MustCrawl();
  PutFile("raw_data/b.csv", kExtraColumnCsv);
  CrawlReport r = MustCrawl();
  EXPECT_FALSE(r.schema_updated);
  ASSERT_EQ(r.schema_changes.size(), 1u);
  EXPECT_NE(r.schema_changes[0].find("logged, not applied"), std::string::npos);
  EXPECT_EQ(Table()->schema().size(), 6u);
  EXPECT_EQ(Files().size(), 2u);  // the file fits: its extra column is ignored
}

TEST_F(CrawlerTest, ExtraColumnWithPolicyFail) {
  config_.policy = SchemaChangePolicy::kFail;
  PutFile("raw_data/a.csv", kSalesCsv);
  MustCrawl();
  int64_t version = Table()->version;
  PutFile("raw_data/b.csv", kExtraColumnCsv);
  auto r = Crawl(*catalog_, config_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("raw_data/b.csv"), std::string::npos);
  EXPECT_NE(r.status().message().find("new column channel"), std::string::npos);
  EXPECT_EQ(Table()->version, version);
  EXPECT_EQ(Files().size(), 1u);
}

TEST_F(CrawlerTest, IncompatibleTypeChange) {
  PutFile("raw_data/a.csv", "id,amount\n1,10\n2,20\n");
  MustCrawl();
  EXPECT_EQ(TypeOf("amount"), "BIGINT");
  PutFile("raw_data/b.csv", "id,amount\n3,2.5\n");
  CrawlReport widened = MustCrawl();
  EXPECT_EQ(TypeOf("amount"), "DOUBLE");
  ASSERT_EQ(widened.schema_changes.size(), 1u);
  EXPECT_NE(widened.schema_changes[0].find("widened BIGINT -> DOUBLE"), std::string::npos);
  // Under the default policy a real conflict is reported with the file and the column, and the
  // table keeps its type and leaves the file out.
  PutFile("raw_data/c.csv", "id,amount\n4,2025-01-01\n");
  CrawlReport r = MustCrawl();
  EXPECT_EQ(TypeOf("amount"), "DOUBLE");
  ASSERT_EQ(r.conflicts.size(), 1u);
  EXPECT_EQ(r.conflicts[0].key, "raw_data/c.csv");
  EXPECT_NE(r.conflicts[0].reason.find("amount"), std::string::npos);
  EXPECT_EQ(Files().size(), 2u);
  // schema_change_policy: varchar reads such a column as text instead.
  config_.policy = SchemaChangePolicy::kVarchar;
  CrawlReport v = MustCrawl();
  EXPECT_EQ(TypeOf("amount"), "VARCHAR");
  ASSERT_EQ(v.schema_changes.size(), 1u);
  EXPECT_NE(v.schema_changes[0].find("incompatible"), std::string::npos);
  EXPECT_EQ(Files().size(), 3u);
}

TEST_F(CrawlerTest, ContentIdentityDecidesNotKeysOrEtags) {
  PutFile("raw_data/a.csv", kSalesCsv);
  MustCrawl();
  // A copy under another name is skipped; a rename keeps the content's place; a changed key is
  // updated.
  PutFile("raw_data/copy.csv", kSalesCsv);
  CrawlReport copy = MustCrawl();
  ASSERT_EQ(copy.skipped.size(), 1u);
  EXPECT_EQ(copy.skipped[0].reason, "same content as raw_data/a.csv, skipped");
  EXPECT_EQ(Files().size(), 1u);
  ASSERT_TRUE(store_->Delete("raw_data/a.csv").ok());
  CrawlReport renamed = MustCrawl();
  EXPECT_EQ(renamed.renamed, std::vector<std::string>{"raw_data/a.csv -> raw_data/copy.csv"});
  EXPECT_TRUE(renamed.removed.empty());
  ASSERT_EQ(Files().size(), 1u);
  EXPECT_EQ(Files()[0].key, "raw_data/copy.csv");
  EXPECT_EQ(Files()[0].row_count, 3);
  PutFile("raw_data/copy.csv", "purchase_date,customer_id,product_id,amount,region,status\n2025-08-09,C9,P9,1.00,EU,completed\n");
  CrawlReport changed = MustCrawl();
  EXPECT_EQ(changed.updated, std::vector<std::string>{"raw_data/copy.csv"});
  EXPECT_EQ(Files()[0].row_count, 1);
  EXPECT_EQ(Files()[0].sha256.size(), 64u);
}

TEST_F(CrawlerTest, HeaderOnlyFileIsNoEvidenceOfTypes) {
  PutFile("raw_data/a.csv", kSalesCsv);
  MustCrawl();
  PutFile("raw_data/header.csv", "purchase_date,customer_id,product_id,amount,region,status\n");
  CrawlReport r = MustCrawl();
  EXPECT_TRUE(r.conflicts.empty());
  EXPECT_TRUE(r.schema_changes.empty()) << r.ToText();
  EXPECT_EQ(TypeOf("amount"), "DOUBLE");
  EXPECT_EQ(TypeOf("purchase_date"), "DATE");
}

TEST_F(CrawlerTest, IncompatibleFileIsSkippedUnderLog) {
  config_.policy = SchemaChangePolicy::kLog;
  PutFile("raw_data/a.csv", "id,amount\n1,10\n2,20\n");
  MustCrawl();
  PutFile("raw_data/c.csv", "id,amount\n4,2025-01-01\n");
  CrawlReport r = MustCrawl();
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].key, "raw_data/c.csv");
  EXPECT_EQ(TypeOf("amount"), "BIGINT");
  EXPECT_EQ(Files().size(), 1u);
  // Remembered: the next crawl does not read it again.
  store_->Reset();
  MustCrawl();
  EXPECT_EQ(store_->reads(), 0);
}

TEST_F(CrawlerTest, ChangedAndRemovedFiles) {
  PutFile("raw_data/a.csv", kSalesCsv);
  PutFile("raw_data/b.csv", std::string(kSalesCsv) + "2025-08-05,C005,P03,2.00,EU,completed\n");
  MustCrawl();
  ASSERT_TRUE(local_->Delete("raw_data/b.csv").ok());
  PutFile("raw_data/a.csv", std::string(kSalesCsv) + "2025-08-04,C004,P02,1.00,US,completed\n");
  CrawlReport r = MustCrawl();
  EXPECT_EQ(r.updated, std::vector<std::string>{"raw_data/a.csv"});
  EXPECT_EQ(r.removed, std::vector<std::string>{"raw_data/b.csv"});
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].row_count, 4);
  EXPECT_EQ(Table()->current_snapshot()->total_rows, 4);
}

TEST_F(CrawlerTest, JsonLinesAndFormatMismatch) {
  PutFile("raw_data/events.jsonl",
          "{\"id\": 1, \"price\": 2.5, \"day\": \"2025-08-01\", \"ok\": true, \"tags\": [1]}\n"
          "{\"id\": 2, \"price\": 3, \"day\": \"2025-08-02\", \"ok\": false, \"note\": null}\n");
  CrawlReport r = MustCrawl();
  auto t = Table();
  EXPECT_EQ(t->spec.format, FileFormat::kJsonl);
  EXPECT_EQ(TypeOf("id"), "BIGINT");
  EXPECT_EQ(TypeOf("price"), "DOUBLE");
  EXPECT_EQ(TypeOf("day"), "DATE");
  EXPECT_EQ(TypeOf("ok"), "BOOLEAN");
  EXPECT_EQ(TypeOf("tags"), "VARCHAR");
  EXPECT_EQ(TypeOf("note"), "VARCHAR");
  EXPECT_EQ(Files()[0].row_count, 2);
  PutFile("raw_data/more.csv", kSalesCsv);
  CrawlReport r2 = MustCrawl();
  ASSERT_EQ(r2.skipped.size(), 1u);
  EXPECT_NE(r2.skipped[0].reason.find("format csv differs from table format jsonl"), std::string::npos);
}

TEST_F(CrawlerTest, EmptyFolderCreatesNothing) {
  CrawlReport r = MustCrawl();
  EXPECT_FALSE(r.table_created);
  EXPECT_EQ(catalog_->LoadTable("raw_sales").status().code(), StatusCode::kNotFound);
}

TEST(CrawlerConfigTest, ParsesTheDefaultPipeline) {
  const char* yaml = R"(version: 1
crawlers:
  - name: raw-crawler
    path: raw_data/
    table: raw_sales
    format: auto
    schema_change_policy: update
  - name: json-crawler
    path: events
    table: events
    format: jsonl
    schema_change_policy: fail
jobs:
  - name: my-etl-job
)";
  auto r = ParseCrawlerConfigs(yaml, "pipeline.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "raw-crawler");
  EXPECT_EQ((*r)[0].path, "raw_data/");
  EXPECT_EQ((*r)[0].table, "raw_sales");
  EXPECT_FALSE((*r)[0].format.has_value());
  EXPECT_EQ((*r)[0].policy, SchemaChangePolicy::kUpdate);
  EXPECT_EQ((*r)[1].path, "events/");
  EXPECT_EQ((*r)[1].format, FileFormat::kJsonl);
  EXPECT_EQ((*r)[1].policy, SchemaChangePolicy::kFail);
}

TEST(CrawlerConfigTest, ErrorsCarryFileLineColumn) {
  auto bad_policy = ParseCrawlerConfigs(
      "crawlers:\n  - name: c\n    path: raw_data/\n    table: t\n    schema_change_policy: maybe\n",
      "pipeline.yaml");
  ASSERT_FALSE(bad_policy.ok());
  EXPECT_EQ(bad_policy.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_policy.status().message().find("pipeline.yaml:5:27:"), std::string::npos)
      << bad_policy.status().message();
  EXPECT_NE(bad_policy.status().message().find("maybe"), std::string::npos);

  auto syntax = ParseCrawlerConfigs("crawlers:\n  - name: [unclosed\n", "p.yaml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().message().rfind("p.yaml:", 0), 0u) << syntax.status().message();

  auto missing = ParseCrawlerConfigs("crawlers:\n  - name: c\n    path: raw_data/\n", "p.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("p.yaml:2:5: crawler 'c' has no 'table'"), std::string::npos)
      << missing.status().message();

  auto unknown = ParseCrawlerConfigs("crawlers:\n  - name: c\n    pth: x/\n", "p.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("p.yaml:3:5: unknown crawler key 'pth'"), std::string::npos)
      << unknown.status().message();

  auto dup = ParseCrawlerConfigs(
      "crawlers:\n  - {name: c, path: a/, table: t}\n  - {name: c, path: b/, table: u}\n", "p.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("used twice"), std::string::npos);

  auto bad_table = ParseCrawlerConfigs("crawlers:\n  - {name: c, path: a/, table: 'x-y'}\n", "p.yaml");
  ASSERT_FALSE(bad_table.ok());
  auto not_list = ParseCrawlerConfigs("crawlers: 3\n", "p.yaml");
  ASSERT_FALSE(not_list.ok());
  EXPECT_NE(not_list.status().message().find("p.yaml:1:11:"), std::string::npos) << not_list.status().message();
  auto none = ParseCrawlerConfigs("", "p.yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(SchemaMergeTest, WideningRules) {
  using internal::WidenType;
  EXPECT_EQ(*WidenType(DataType::Int32(), DataType::Int64()), DataType::Int64());
  EXPECT_EQ(*WidenType(DataType::Int64(), DataType::Double()), DataType::Double());
  EXPECT_EQ(*WidenType(DataType::Float(), DataType::Double()), DataType::Double());
  EXPECT_EQ(*WidenType(DataType::Decimal(10, 2), DataType::Decimal(8, 4)), DataType::Decimal(12, 4));
  EXPECT_EQ(*WidenType(DataType::Int64(), DataType::Decimal(10, 2)), DataType::Decimal(21, 2));
  EXPECT_EQ(*WidenType(DataType::Decimal(10, 2), DataType::Double()), DataType::Double());
  EXPECT_EQ(*WidenType(DataType::Date(), DataType::Timestamp()), DataType::Timestamp());
  EXPECT_EQ(*WidenType(DataType::Null(), DataType::Date()), DataType::Date());
  EXPECT_FALSE(WidenType(DataType::Int64(), DataType::Varchar()).has_value());
  EXPECT_FALSE(WidenType(DataType::Date(), DataType::Int64()).has_value());
  EXPECT_FALSE(WidenType(DataType::Boolean(), DataType::Int64()).has_value());
}

TEST(SchemaMergeTest, MergeReportsChanges) {
  Schema base{{{"a", DataType::Int64(), false}, {"b", DataType::Varchar(), true}}};
  Schema file{{{"a", DataType::Double(), false}, {"c", DataType::Date(), true}}};
  auto m = internal::MergeSchemas(base, file);
  ASSERT_EQ(m.changes.size(), 2u);
  EXPECT_EQ(m.changes[0].Describe(), "column a widened BIGINT -> DOUBLE");
  EXPECT_EQ(m.changes[1].Describe(), "new column c DATE");
  ASSERT_EQ(m.schema.size(), 3u);
  EXPECT_EQ(m.schema[0].type, DataType::Double());
  EXPECT_TRUE(m.schema[1].nullable);  // 'b' is missing from the file
  // A VARCHAR table column takes anything.
  Schema text{{{"a", DataType::Varchar(), true}}};
  EXPECT_TRUE(internal::MergeSchemas(text, Schema{{{"a", DataType::Int64(), true}}}).changes.empty());
}

TEST(FallbackCsvSnifferTest, QuotesNewlinesBomAndCrlf) {
  std::string data =
      "\xEF\xBB\xBF" "id;note;when\r\n"
      "1;\"semi;colon\";2025-08-01 10:00:00\r\n"
      "\r\n"
      "2;\"multi\nline \"\"quoted\"\"\";2025-08-02 11:30:00\r\n"
      "3;NA;NULL\r\n";
  auto f = io::MakeMemoryFile(data, "mem.csv");
  auto r = internal::InspectCsvFallback(*f);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->csv.delimiter, ';');
  EXPECT_EQ(r->row_count, 3);
  ASSERT_EQ(r->schema.size(), 3u);
  EXPECT_EQ(r->schema[0].name, "id");  // no BOM in the name
  EXPECT_EQ(r->schema[0].type, DataType::Int64());
  EXPECT_EQ(r->schema[1].type, DataType::Varchar());
  EXPECT_EQ(r->schema[2].type, DataType::Timestamp());
  EXPECT_EQ(r->stats[2].null_count, 1);
}

TEST(FallbackCsvSnifferTest, CountsNonConforming) {
  std::string data = "amount\n";
  for (int i = 0; i < 200; ++i) data += std::to_string(i) + ".5\n";
  data += "oops\n";
  auto f = io::MakeMemoryFile(data, "mem.csv");
  auto r = internal::InspectCsvFallback(*f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->schema[0].type, DataType::Double());
  EXPECT_EQ(r->stats[0].non_conforming, 1);
  EXPECT_EQ(r->row_count, 201);
}

TEST(ClassifyTest, ByContent) {
  EXPECT_EQ(*internal::ClassifyFile(*io::MakeMemoryFile("a,b\n1,2\n"), "x.txt"), FileFormat::kCsv);
  EXPECT_EQ(*internal::ClassifyFile(*io::MakeMemoryFile("{\"a\":1}\n"), "x"), FileFormat::kJsonl);
  EXPECT_EQ(*internal::ClassifyFile(*io::MakeMemoryFile("PAR1xxxxxxxxPAR1"), "x"), FileFormat::kParquet);
  EXPECT_FALSE(internal::ClassifyFile(*io::MakeMemoryFile("a,b\n"), "x.parquet").ok());
  EXPECT_FALSE(internal::ClassifyFile(*io::MakeMemoryFile(std::string("\0\1\2", 3)), "x").ok());
}

}  // namespace
}  // namespace saleslake::catalog

#if __has_include("formats/parquet/parquet.h")
namespace saleslake::catalog {
namespace {

TEST_F(CrawlerTest, ParquetFilesWithFooterStats) {
  SL_REQUIRE_SHARED(path, "parquet-generated/data/sales_types_v1_snappy.parquet");
  std::string bytes = saleslake::testing::ReadFile(path);
  PutFile("raw_data/dt=2025-01-01/a.parquet", bytes);
  PutFile("raw_data/dt=2025-01-02/b.parquet", bytes);
  CrawlReport r = MustCrawl();
  ASSERT_EQ(r.added.size(), 2u) << r.ToText();
  auto t = Table();
  EXPECT_EQ(t->spec.format, FileFormat::kParquet);
  EXPECT_EQ(TypeOf("order_date"), "DATE");
  EXPECT_EQ(TypeOf("amount"), "DECIMAL(18,4)");
  EXPECT_EQ(TypeOf("dt"), "DATE");  // partition column typed by its values
  EXPECT_EQ(t->schema().fields.back().name, "dt");
  auto files = Files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].row_count, 5000);
  const ColumnStats* st = files[0].FindStats("line_id");
  ASSERT_NE(st, nullptr);
  EXPECT_FALSE(st->min.is_null());
  EXPECT_LE(st->min.Compare(st->max), 0);
  EXPECT_EQ(t->current_snapshot()->total_rows, 10000);
  // Unchanged Parquet files are not opened again either.
  store_->Reset();
  MustCrawl();
  EXPECT_EQ(store_->reads(), 0);
}

}  // namespace
}  // namespace saleslake::catalog
#endif
