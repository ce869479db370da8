#include "catalog/describe.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace saleslake::catalog {
namespace {

TableMetadata PartitionedParquet() {
  TableMetadata t;
  t.version = 3;
  t.spec.name = "sales_data";
  t.spec.format = FileFormat::kParquet;
  t.spec.location = "processed_data/sales_data/";
  t.spec.schema.fields = {{"purchase_date", DataType::Date(), true},
                          {"amount", DataType::Decimal(12, 2), false},
                          {"customer_id", DataType::Varchar(), true},
                          {"region", DataType::Varchar(), true},
                          {"purchase_month", DataType::Varchar(), true}};
  t.spec.partition_keys = {"region", "purchase_month"};
  t.current_snapshot_id = 2;
  return t;
}

std::vector<DataFile> TwoFiles() {
  DataFile a;
  a.key = "processed_data/sales_data/region=EU/purchase_month=2025-08/part-1.parquet";
  a.row_count = 10;
  a.partition_values = {{"region", "EU"}, {"purchase_month", "2025-08"}};
  a.column_stats = {{"amount", Value(), Value(), 0, 2}};
  DataFile b = a;
  b.key = "processed_data/sales_data/region=US/purchase_month=2025-08/part-2.parquet";
  b.row_count = 5;
  b.partition_values = {{"region", "US"}, {"purchase_month", "2025-08"}};
  b.column_stats = {{"amount", Value(), Value(), 1, 3}};
  return {a, b};
}

TEST(DescribeTest, JsonHasExactlyTheContractFields) {
  TableMetadata t = PartitionedParquet();
  std::string text = DescribeJson(t, t.schema(), TwoFiles(), 2);
  auto j = nlohmann::json::parse(text);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 8u);
  EXPECT_EQ(j["name"], "sales_data");
  EXPECT_EQ(j["format"], "parquet");
  EXPECT_EQ(j["location"], "processed_data/sales_data/");
  ASSERT_EQ(j["columns"].size(), 5u);
  EXPECT_EQ(j["columns"][0], (nlohmann::json{{"name", "purchase_date"}, {"type", "DATE"}, {"nullable", true}, {"non_conforming", 0}}));
  EXPECT_EQ(j["columns"][1]["type"], "DECIMAL(12,2)");
  EXPECT_EQ(j["columns"][1]["nullable"], false);
  EXPECT_EQ(j["columns"][1]["non_conforming"], 5);
  EXPECT_EQ(j["partition_keys"], (nlohmann::json{"region", "purchase_month"}));
  EXPECT_EQ(j["row_count"], 15);
  EXPECT_EQ(j["files"], 2);
  EXPECT_EQ(j["snapshot_id"], 2);
  EXPECT_EQ(text.find('\n'), std::string::npos);
}

TEST(DescribeTest, TextListsPartitions) {
  TableMetadata t = PartitionedParquet();
  std::string text = DescribeText(t, t.schema(), TwoFiles(), 2);
  EXPECT_NE(text.find("rows       15"), std::string::npos) << text;
  EXPECT_NE(text.find("partitions (2)"), std::string::npos);
  EXPECT_NE(text.find("region=US/purchase_month=2025-08"), std::string::npos);
  EXPECT_NE(text.find("(partition key)"), std::string::npos);
}

TEST(ExportDdlTest, AthenaParquetPartitioned) {
  std::string ddl = ExportDdl(PartitionedParquet(), "s3://bucket/lake/", DdlDialect::kAthena);
  EXPECT_EQ(ddl,
            "CREATE EXTERNAL TABLE `sales_data` (\n"
            "  `purchase_date` DATE,\n"
            "  `amount` DECIMAL(12,2),\n"
            "  `customer_id` STRING\n"
            ")\n"
            "PARTITIONED BY (\n"
            "  `region` STRING,\n"
            "  `purchase_month` STRING\n"
            ")\n"
            "STORED AS PARQUET\n"
            "LOCATION 's3://bucket/lake/processed_data/sales_data/';\n"
            "-- then load the partitions: MSCK REPAIR TABLE `sales_data`;\n");
}

TEST(ExportDdlTest, TrinoParquetPartitioned) {
  std::string ddl = ExportDdl(PartitionedParquet(), "s3://bucket/lake", DdlDialect::kTrino);
  EXPECT_EQ(ddl,
            "CREATE TABLE \"sales_data\" (\n"
            "  \"purchase_date\" DATE,\n"
            "  \"amount\" DECIMAL(12,2),\n"
            "  \"customer_id\" VARCHAR,\n"
            "  \"region\" VARCHAR,\n"
            "  \"purchase_month\" VARCHAR\n"
            ")\n"
            "WITH (\n"
            "  external_location = 's3://bucket/lake/processed_data/sales_data/',\n"
            "  format = 'PARQUET',\n"
            "  partitioned_by = ARRAY['region', 'purchase_month']\n"
            ");\n");
}

TEST(ExportDdlTest, HiveCsvWithHeaderAndNonIsoTimestamp) {
  TableMetadata t;
  t.spec.name = "raw_sales";
  t.spec.format = FileFormat::kCsv;
  t.spec.location = "raw_data/";
  t.spec.schema.fields = {{"InvoiceDate", DataType::Timestamp(), true},
                          {"purchase_date", DataType::Date(), true},
                          {"odd`name", DataType::Int64(), true}};
  t.spec.properties = {{"csv.format.InvoiceDate", "%m/%d/%Y %H:%M"},
                       {"csv.format.purchase_date", "%Y-%m-%d"}};
  t.spec.csv.delimiter = ';';
  std::string ddl = ExportDdl(t, "/srv/lake", DdlDialect::kHive);
  EXPECT_NE(ddl.find("-- InvoiceDate: TIMESTAMP stored as text '%m/%d/%Y %H:%M'; declared as a string\n"), std::string::npos) << ddl;
  EXPECT_NE(ddl.find("  `InvoiceDate` STRING,\n  `purchase_date` DATE,\n  `odd``name` BIGINT\n"), std::string::npos) << ddl;
  EXPECT_NE(ddl.find("'field.delim' = ';'"), std::string::npos);
  EXPECT_NE(ddl.find("STORED AS TEXTFILE\nLOCATION '/srv/lake/raw_data/'\nTBLPROPERTIES ('skip.header.line.count' = '1');\n"), std::string::npos) << ddl;
  EXPECT_EQ(ddl.find("PARTITIONED BY"), std::string::npos);
  std::string trino = ExportDdl(t, "/srv/lake", DdlDialect::kTrino);
  EXPECT_NE(trino.find("format = 'TEXTFILE'"), std::string::npos);
  EXPECT_NE(trino.find("textfile_field_separator = ';'"), std::string::npos);
  EXPECT_NE(trino.find("skip_header_line_count = 1"), std::string::npos);
}

TEST(ExportDdlTest, DialectNames) {
  EXPECT_EQ(*ParseDdlDialect("ATHENA"), DdlDialect::kAthena);
  EXPECT_EQ(*ParseDdlDialect("trino"), DdlDialect::kTrino);
  EXPECT_EQ(ParseDdlDialect("oracle").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace saleslake::catalog
