// Materialized views: aggregations kept as ordinary Parquet tables in the lake, refreshed
// incrementally from the files a base table gained, and used by the planner in place of their
// base table when they answer a query exactly.
//
// Storage. A materialized view `v` is a catalog table `v` (location processed_data/v/) whose
// properties hold its definition and state:
//   matview.sql            the SELECT text            matview.base        the base table
//   matview.refresh        manual | on_commit | rate(...) (stored and shown; #16 runs schedules)
//   matview.base_snapshot  the base snapshot the data reflects (absent until the first build)
//   matview.refreshed_ms   when that data was committed, matview.last_refresh: how (and why)
//   matview.incremental    "true", or why the view can only be rebuilt
//   matview.dimensions     the other tables of a join and the snapshots the data reflects
// A refresh writes the new data files, then publishes them, the new base snapshot id and the
// refresh time in ONE catalog commit (TableChange with set_properties): a reader, or a process
// killed mid-refresh, sees the previous version or the new one, never a mix.
//
// Incremental refresh cost. The added files come from the new snapshots' own manifests
// (catalog::Catalog::ListAddedFiles; the base is listed whole only when a snapshot in between
// removed files or merged manifests), and the definition is bound once, over those files alone;
// the state plan and the count(DISTINCT) pairs plans read them in one scan between them.
// The added rows' state (count(DISTINCT) left to the side tables) is merged into the stored
// rows (group by group through a RowSet of the keys, without an engine plan, unless a sketch
// column needs the engine's HyperLogLog merge); a view WITH (partitioned_by = ...) reads and rewrites only the partitions the added rows
// fall in (one commit removes their old files and adds the new ones; the other partitions keep
// their files). SALESLAKE_MV_TRACE=1 prints each phase's wall and CPU time on stderr. A marker object
// queries/materialized_views/<v> lists the view cheaply (the planner reads the markers for the
// base table of each aggregate it plans).
//
// Stored columns: the view's output columns, in SELECT order (Hive partition columns last, as
// for every lake table), then the hidden ones: `_mv_sum_<c>` and `_mv_cnt_<c>` for each avg
// column `c` (avg is kept as sum + count so that it merges; `c` holds sum / count for other
// readers), and `_mv_hll_<c>` for each approx_distinct column `c`: its HyperLogLog sketch (the
// exact state, hex text), merged on refresh and by coarser queries, so that their estimates are
// the ones approx_distinct gives over the base rows.
//
// count(DISTINCT x) columns are kept exact through a side table `<view>__distinct_<j>` (an
// ordinary Parquet table, property matview.side_of = the view) of the distinct (group keys, x)
// pairs, x stored as its id (`_mv_vid` BIGINT; NULL for NULL) in the view's value dictionary
// `<view>__values_<j>` of (`_mv_value` x, `_mv_vid`) rows: each x once, ids 0, 1, 2, ... in the
// order values arrived (without GROUP BY keys each x is one pair, and the side table keeps
// `_mv_value` x itself, with no dictionary). The tables that hold x (dictionaries, side tables
// without keys) are written uncompressed (table property write.parquet.compression-codec):
// refreshes stream them whole, and ZSTD decoding was most of that; side tables of ids and the
// view itself keep the lake's default, ZSTD. The side table is streamed past the new pairs on every refresh, and an
// 8-byte id is much cheaper to decode, hash and compare than x itself (a 40-character customer
// token); the dictionary is read once per refresh, past the added rows' distinct x. It only
// grows (values are appended, before any side table refers to them; a full refresh keeps it),
// and a dictionary created anew first drops its side table, so that no side table outlives the
// ids it was written with. A refresh brings the side tables to the new base snapshot first,
// then commits the view. A side table the added rows bring no new pair to is not committed:
// the view's commit records its current snapshot (matview.side_<j> = its manifest list), and
// while it is still at that snapshot it counts as at the view's base snapshot.
// Usually that appends the added files' pairs the side table lacks as one more file (the stored
// pairs are streamed past a hash of the new ones, not rewritten; its files are read in parallel)
// and adds them to the groups' stored counts; a side table left ahead by a crash (adding a pair
// twice changes nothing), or one of 16 files or more, is instead rewritten deduplicated and its
// groups recounted. A side table written whole is split into up to 4 files of >= 65,536 pairs,
// so that the next refreshes stream it on several workers. A
// query grouped by all the view's keys reads the count from the view; a coarser one whose
// aggregates are all that count(DISTINCT x) is answered from the side table, when it is at the
// view's base snapshot: its ids are counted in a bitmap per group ($count_distinct_ids, a bit
// set per pair) when those bitmaps (the view's rows x (largest id + 1) / 8 bytes per worker) are
// no larger than the general count(DISTINCT)'s pair sets (8 bytes per stored pair), else by the
// general count(DISTINCT) (a hash of the ids and of the (group, id) pairs, 3-4x slower).
//
// Incremental shape: SELECT keys..., aggregates... FROM fact [[INNER | LEFT | CROSS] JOIN
// dimension ...] [WHERE deterministic filter] GROUP BY keys, every GROUP BY expression selected,
// aggregates count(*), count(x), count_if(p), sum(x), min(x), max(x), avg(x) (x integer or
// double), approx_distinct(x [, e]), count(DISTINCT x); no other DISTINCT, no FILTER or HAVING.
// The leftmost table is the fact table: a refresh reads its added files joined with the other
// (dimension) tables, whose snapshots are recorded (matview.dimensions = name=snapshot,...); when
// one of those changed, the refresh is full and says so. Rewrite uses a join view for a query
// with the same join tree (as EXPLAIN prints it) at the recorded dimension snapshots. Other
// deterministic queries make full-refresh-only views (CREATE says why); non-deterministic ones
// are refused.
//
// Thread safety: free functions; concurrent refreshes of one view are resolved by the catalog
// (one commit wins, the other fails with kAborted and changes nothing).
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "io/object_store.h"
#include "sql/exec/exec_types.h"
#include "sql/planner/plan.h"

namespace saleslake::sql::internal {

struct MatViewContext {
  io::ObjectStore* store = nullptr;
  catalog::Catalog* lake = nullptr;
  const Catalog* catalog = nullptr;  // the engine's (binding the definition)
  ExecOptions exec;
  std::function<int64_t()> clock;    // ms since the epoch; default: the system clock
  // Rewrite: a view whose base moved on is still used when it has been stale at most this long.
  int64_t max_staleness_ms = 0;
  // The listing of the views' markers when it was started already (StartListingViews: a query
  // on a remote lake starts it before binding, beside the catalog's requests, instead of one
  // more round trip after them); else the views are listed when needed.
  std::shared_future<Result<std::vector<io::ObjectInfo>>> markers;
};

// Starts listing the materialized views' markers on another thread (MatViewContext::markers).
std::shared_future<Result<std::vector<io::ObjectInfo>>> StartListingViews(io::ObjectStore* store);

// CREATE MATERIALIZED VIEW: validates, builds the first version, commits it. `properties` are
// the WITH (...) pairs as text (partitioned_by comma-separated, refresh). Returns the message
// (with a notice when the view is full-refresh only).
Result<std::string> CreateMaterializedView(const MatViewContext& ctx, const std::string& name,
                                           const std::string& sql,
                                           const std::vector<std::pair<std::string, std::string>>& properties,
                                           bool if_not_exists);
// REFRESH MATERIALIZED VIEW [FULL]: incremental when it can be, else full; the message says
// which and why. kAborted when a concurrent refresh committed first (nothing changed).
Result<std::string> RefreshMaterializedView(const MatViewContext& ctx, const std::string& name, bool full);
// EXPLAIN REFRESH: what a refresh would do now, one line per fact.
Result<std::vector<std::string>> ExplainRefresh(const MatViewContext& ctx, const std::string& name);
Status DropMaterializedView(const MatViewContext& ctx, const std::string& name, bool if_exists);
// SHOW MATERIALIZED VIEWS: header + rows.
Result<std::pair<std::vector<std::string>, std::vector<std::vector<std::string>>>> ShowMaterializedViews(
    const MatViewContext& ctx);
// Names of the materialized views over `table`, as base or dimension table (DROP TABLE refuses
// while there are some).
Result<std::vector<std::string>> DependentViews(const MatViewContext& ctx, const std::string& table);
// True when `name` is a materialized view.
bool IsMaterializedView(const MatViewContext& ctx, const std::string& name);
// Refreshes the on_commit views over `table`; one line per view.
Result<std::vector<std::string>> RefreshOnCommit(const MatViewContext& ctx, const std::string& table);

// Replaces each aggregation over a lake table that a fresh materialized view answers exactly
// by an aggregation over the view. `notes` (may be null) gets one line per decision for EXPLAIN:
// which view answered, and why each other candidate did not.
Result<PlanPtr> RewriteWithMaterializedViews(const MatViewContext& ctx, const PlanPtr& plan,
                                             std::vector<std::string>* notes);

}  // namespace saleslake::sql::internal
