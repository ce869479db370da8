// The engine's view of a lake: catalog tables (Parquet and CSV files, Hive partitions filled in
// as constant columns) and views (SQL text stored at queries/views/<name>.sql).
//
// Morsels are Parquet files (a large one split into parts of its row groups, so that every core
// reads it) and whole CSV files. Their stats combine the partition values
// (min = max = the value) with the row group's min/max/null counts, so a filter on a partition
// column skips whole files and a filter on a data column skips row groups.
//
// Thread safety: safe for concurrent reads; the table list is loaded when the catalog is opened
// (a statement sees one consistent set of snapshots). The footers of split files are cached
// per table.
#pragma once

#include <memory>

#include "catalog/catalog.h"
#include "io/object_store.h"
#include "sql/planner/plan.h"

namespace saleslake::sql {

class CatalogWriter;

// `store` and `catalog` must outlive the returned objects.
Result<std::shared_ptr<Catalog>> OpenLakeCatalog(io::ObjectStore* store, catalog::Catalog* catalog);

// DDL on the lake: views as SQL files; CREATE TABLE AS writes Parquet (ZSTD) files under
// processed_data/<table>/ (Hive partitions for WITH (partitioned_by = ARRAY['col', ...])) and
// commits them in one catalog commit; INSERT appends files the same way. DROP TABLE is refused
// (the catalog keeps history; drop files with the catalog tools).
std::shared_ptr<CatalogWriter> MakeLakeCatalogWriter(io::ObjectStore* store, catalog::Catalog* catalog);

// "region,month" (a partitioned_by property as text) -> {"region", "month"}, lower-cased.
std::vector<std::string> SplitPartitionList(const std::string& v);

// A table over exactly `files` of `meta` (one snapshot, or the files one commit added: the
// incremental refresh of a materialized view scans those alone). snapshot_id() is `snapshot`.
std::shared_ptr<const Table> MakeLakeTable(io::ObjectStore* store,
                                           std::shared_ptr<const catalog::TableMetadata> meta,
                                           std::vector<catalog::DataFile> files, int64_t snapshot);

// The table property naming the codec of the Parquet files written for a table (Iceberg's name;
// values as parquet::ParseCompression takes them: "zstd", "uncompressed", ...). Default: ZSTD.
inline constexpr const char* kCompressionProperty = "write.parquet.compression-codec";

// Writes `data` (columns named as in `spec.schema`, any order) as Parquet files (ZSTD, or the
// codec of spec's kCompressionProperty) under spec.location, one per Hive partition, as CREATE
// TABLE AS does; returns them for a commit. With `unsynced`, the files are written with
// ObjectStore::OpenWriteUnsynced and the commit that adds them must set
// catalog::TableChange::sync_added_files (it then syncs them beside its manifests).
Result<std::vector<catalog::DataFile>> WriteLakeFiles(io::ObjectStore* store, const catalog::TableSpec& spec,
                                                      const Schema& schema, const std::vector<Batch>& data,
                                                      bool unsynced = false);

}  // namespace saleslake::sql
