// Describing a table: to people (`saleslake describe`), to scripts (`describe --format json`)
// and to other engines (`catalog export-ddl`: CREATE TABLE statements for Athena, Trino and
// Hive over the same files). Pure functions of catalog values; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"

namespace saleslake::catalog {

// Exactly one JSON object (no trailing newline):
// {"name","format","location","columns":[{"name","type","nullable","non_conforming"}],
//  "partition_keys":[...],"row_count","files","snapshot_id"}
// Types are SQL names in upper case (DataType::ToString). non_conforming sums the per-file
// counts (values the sniffer could not read as the column type); row_count sums the known row
// counts of `files`. `schema` is the schema to show (the table's, or a snapshot's for time
// travel); `snapshot_id` the snapshot `files` belong to (0 = none).
std::string DescribeJson(const TableMetadata& table, const Schema& schema,
                         const std::vector<DataFile>& files, int64_t snapshot_id);
// The same facts as aligned text, plus properties and the partitions present.
std::string DescribeText(const TableMetadata& table, const Schema& schema,
                         const std::vector<DataFile>& files, int64_t snapshot_id);

enum class DdlDialect : uint8_t { kAthena, kTrino, kHive };
// "athena", "trino", "hive" (case-insensitive).
Result<DdlDialect> ParseDdlDialect(std::string_view name);

// CREATE statement for `table`, whose files live at `base_uri` + "/" + location
// (e.g. "s3://bucket/lake" or the local lake directory).
//   athena/hive: CREATE EXTERNAL TABLE ... PARTITIONED BY (...) ROW FORMAT ... STORED AS
//                PARQUET|TEXTFILE LOCATION '...' [TBLPROPERTIES ('skip.header.line.count'='1')]
//   trino:       CREATE TABLE ... WITH (external_location = '...', format = '...',
//                partitioned_by = ARRAY[...], ...)  (Hive connector; partition columns last)
// CSV DATE/TIMESTAMP columns stored in a non-ISO text format ("csv.format.<col>" property) are
// declared as strings there, with a comment, since those engines' text readers only parse ISO.
std::string ExportDdl(const TableMetadata& table, std::string_view base_uri, DdlDialect dialect);

// The same table as Glue's TableInput (the body of glue CreateTable, and the TableInput of an
// AWS::Glue::Table in CloudFormation): Name, TableType EXTERNAL_TABLE, Parameters
// (classification, skip.header.line.count), PartitionKeys and StorageDescriptor (Columns with
// the lower-case Hive types of the athena dialect, Location, InputFormat, OutputFormat,
// SerdeInfo with the SerDe ExportDdl names).
nlohmann::json ExportGlueTableInput(const TableMetadata& table, std::string_view base_uri);

}  // namespace saleslake::catalog
