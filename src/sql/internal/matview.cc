#include "sql/internal/matview.h"

#include <algorithm>
#include <system_error>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>

#include <sys/resource.h>

#include <fmt/format.h>

#include "common/thread_pool.h"
#include "sql/exec/executor.h"
#include "sql/exec/lake_catalog.h"
#include "sql/exec/row_set.h"
#include "sql/optimizer/optimizer.h"
#include "sql/parser/parser.h"
#include "sql/planner/binder.h"

namespace saleslake::sql::internal {

namespace {

constexpr const char* kMarkerPrefix = "queries/materialized_views/";
constexpr const char* kPropSql = "matview.sql";
constexpr const char* kPropBase = "matview.base";
constexpr const char* kPropRefresh = "matview.refresh";
constexpr const char* kPropBaseSnapshot = "matview.base_snapshot";
constexpr const char* kPropRefreshedMs = "matview.refreshed_ms";
constexpr const char* kPropLastRefresh = "matview.last_refresh";
constexpr const char* kPropIncremental = "matview.incremental";
constexpr const char* kPropDims = "matview.dimensions";  // dim=snapshot,... the data reflects
constexpr const char* kPropSideOf = "matview.side_of";  // on a count(DISTINCT) side table
constexpr const char* kSideValue = "_mv_value";    // x, in a side's value dictionary and pair plans
constexpr const char* kSideValueId = "_mv_vid";    // x's id in that dictionary, in a side table

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IEquals(std::string_view a, std::string_view b) { return Lower(std::string(a)) == Lower(std::string(b)); }

std::string BaseName(const std::string& name) {
  auto dot = name.rfind('.');
  return Lower(dot == std::string::npos ? name : name.substr(dot + 1));
}

int64_t Now(const MatViewContext& ctx) {
  if (ctx.clock) return ctx.clock();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Prop(const catalog::TableMetadata& m, const char* key) {
  auto it = m.spec.properties.find(key);
  return it == m.spec.properties.end() ? "" : it->second;
}

bool IsMatView(const catalog::TableMetadata& m) { return m.spec.properties.count(kPropSql) > 0; }

// The base table resolved to a fixed set of files; every other name goes to the engine's catalog.
class OverlayCatalog final : public Catalog {
 public:
  OverlayCatalog(const Catalog& inner, std::string name, std::shared_ptr<const Table> table)
      : inner_(inner), name_(Lower(std::move(name))), table_(std::move(table)) {}
  Result<std::shared_ptr<const Table>> GetTable(const std::string& name) const override {
    if (BaseName(name) == name_) return table_;
    return inner_.GetTable(name);
  }
  std::optional<ViewDefinition> GetView(const std::string& name) const override {
    if (BaseName(name) == name_) return std::nullopt;
    return inner_.GetView(name);
  }
  std::vector<std::string> ListTables() const override { return inner_.ListTables(); }

 private:
  const Catalog& inner_;
  std::string name_;
  std::shared_ptr<const Table> table_;
};

// A copy of the first n rows of `src` for one reader: fixed-width values and dictionary codes
// are copied; strings and dictionaries are shared, kept alive by `owner` (the morsel's batches).
ColumnVector CopyOut(const ColumnVector& src, size_t n, const std::shared_ptr<const void>& owner) {
  ColumnVector out(src.type(), std::max<size_t>(n, 1));
  const bool strings = src.type().id == TypeId::kVarchar;
  switch (src.encoding()) {
    case VectorEncoding::kConstant:
      out.Resize(1);
      std::memcpy(out.data<uint8_t>(), src.data<uint8_t>(), src.type().byte_width());
      if (!src.IsValid(0)) out.SetNull(0);
      if (strings) out.KeepAlive(owner);
      out.MakeConstant(n);
      return out;
    case VectorEncoding::kDictionary:
      out.MakeDictionary(src.shared_dictionary(), n);
      std::memcpy(out.data<uint32_t>(), src.data<uint32_t>(), n * sizeof(uint32_t));
      break;
    case VectorEncoding::kFlat:
      out.Resize(n);
      std::memcpy(out.data<uint8_t>(), src.data<uint8_t>(), n * src.type().byte_width());
      if (strings) out.KeepAlive(owner);
      break;
  }
  if (src.validity() != nullptr)
    for (size_t i = 0; i < n; ++i)
      if (!src.IsValid(i)) out.SetNull(i);
  return out;
}

// Batches already in memory (a merge's stored + added state rows, a side table's pairs) as a
// table of one morsel per batch, for an engine plan over them. A read copies the batch's
// fixed-width values and dictionary codes and shares its strings (CopyOut); there are no
// statistics (nothing is pruned). MemoryTable::Make, used before, concatenated and gathered every
// row twice and computed each column's min/max per morsel through Value: ~3/4 of the merge
// phase of mv_product's and mv_daily's refreshes (perf, bench/README.md issue 14, session 14).
// Thread safety: immutable after Make; morsels may be read concurrently.
class BatchTable final : public Table {
 public:
  static std::shared_ptr<const BatchTable> Make(std::string name, Schema schema, std::vector<Batch> batches) {
    auto t = std::shared_ptr<BatchTable>(new BatchTable(std::move(name), std::move(schema)));
    auto kept = std::make_shared<std::vector<Batch>>();
    for (Batch& b : SplitLarge(std::move(batches))) {
      if (b.live_rows() == 0) continue;
      Morsel m;
      m.index = kept->size();
      m.rows = static_cast<int64_t>(b.live_rows());
      m.file = t->name_ + "#" + std::to_string(m.index);
      t->morsels_.push_back(std::move(m));
      kept->push_back(std::move(b));
    }
    t->batches_ = std::move(kept);
    return t;
  }
  const std::string& name() const override { return name_; }
  const Schema& schema() const override { return schema_; }
  Result<std::vector<Morsel>> Morsels() const override { return morsels_; }
  Status ReadMorsel(const Morsel& m, const std::vector<int>& columns,
                    const std::function<Status(Batch&)>& sink) const override {
    if (m.index >= batches_->size()) return Status::Internal("bad morsel index");
    const Batch& b = (*batches_)[m.index];
    Batch out;
    out.num_rows = b.num_rows;
    out.selection = b.selection;
    for (int c : columns) {
      if (c < 0 || static_cast<size_t>(c) >= b.columns.size()) return Status::Internal("bad column");
      out.columns.push_back(CopyOut(b.columns[static_cast<size_t>(c)], b.num_rows, batches_));
    }
    return sink(out);
  }

 private:
  BatchTable(std::string name, Schema schema) : name_(std::move(name)), schema_(std::move(schema)) {}
  // A scan hands on batches of at most kBatchRows rows: a larger one (not produced by the
  // engine's operators, but allowed by Batch) is copied out in slices of its live rows.
  static std::vector<Batch> SplitLarge(std::vector<Batch> batches) {
    std::vector<Batch> out;
    for (Batch& b : batches) {
      if (b.num_rows <= kBatchRows) {
        out.push_back(std::move(b));
        continue;
      }
      for (size_t start = 0; start < b.live_rows(); start += kBatchRows) {
        const size_t n = std::min(kBatchRows, b.live_rows() - start);
        Batch& slice = out.emplace_back();
        slice.num_rows = n;
        for (const ColumnVector& c : b.columns) {
          ColumnVector& col = slice.columns.emplace_back(c.type(), n);
          col.Resize(0);
          for (size_t i = start; i < start + n; ++i) col.AppendFrom(c, b.selection ? b.selection->Get(i) : i);
        }
      }
    }
    return out;
  }
  std::string name_;
  Schema schema_;
  std::vector<Morsel> morsels_;
  std::shared_ptr<const std::vector<Batch>> batches_;
};

// The added files of an incremental refresh, read once for every plan that scans them: the
// view's state and each count(DISTINCT) side's pairs (two scans of the same 64 small files cost
// ~25 ms each at the benchmark's 1% load). Share() names the columns those plans read; the first
// read of a morsel reads them all from `inner` and keeps the batches, and every read (the first
// included) copies the columns it asks for out of them. Without Share(), or for a column not
// shared, a read goes to `inner`. The pruning hooks are not used: a scan's Filter tests every
// row again, so pruning is only a saving, and the files read here are the few a load added.
// Memory: the shared columns of the added rows, which the side pairs hold anyway.
// Thread safety: morsels may be read concurrently; each morsel is read from `inner` once
// (std::call_once), and its batches are only read after that.
class SharedScan final : public Table {
 public:
  explicit SharedScan(std::shared_ptr<const Table> inner) : inner_(std::move(inner)) {}
  const std::string& name() const override { return inner_->name(); }
  const Schema& schema() const override { return inner_->schema(); }
  int64_t snapshot_id() const override { return inner_->snapshot_id(); }
  Result<std::vector<Morsel>> Morsels() const override { return inner_->Morsels(); }

  // REQUIRES: no read has started. `columns`: indexes into schema().
  Status Share(std::vector<int> columns) {
    std::sort(columns.begin(), columns.end());
    columns.erase(std::unique(columns.begin(), columns.end()), columns.end());
    SL_ASSIGN_OR_RETURN(std::vector<Morsel> morsels, inner_->Morsels());
    size_t n = 0;
    for (const Morsel& m : morsels) n = std::max(n, m.index + 1);
    slots_ = std::make_unique<Slot[]>(n);
    num_slots_ = n;
    columns_ = std::move(columns);
    return Status::OK();
  }

  Status ReadMorsel(const Morsel& m, const std::vector<int>& columns,
                    const std::function<Status(Batch&)>& sink) const override {
    std::vector<size_t> at;  // position of each asked column in columns_
    for (int c : columns) {
      auto it = std::lower_bound(columns_.begin(), columns_.end(), c);
      if (it == columns_.end() || *it != c || m.index >= num_slots_) return inner_->ReadMorsel(m, columns, sink);
      at.push_back(static_cast<size_t>(it - columns_.begin()));
    }
    Slot& slot = slots_[m.index];
    std::call_once(slot.once, [&] {
      auto batches = std::make_shared<std::vector<Batch>>();
      slot.status = inner_->ReadMorsel(m, columns_, [&](Batch& b) {
        batches->push_back(std::move(b));
        return Status::OK();
      });
      slot.batches = std::move(batches);
    });
    SL_RETURN_IF_ERROR(slot.status);
    for (const Batch& b : *slot.batches) {
      Batch out;
      out.num_rows = b.num_rows;
      out.selection = b.selection;
      for (size_t a : at) out.columns.push_back(CopyOut(b.columns[a], b.num_rows, slot.batches));
      SL_RETURN_IF_ERROR(sink(out));
    }
    return Status::OK();
  }

 private:
  struct Slot {
    std::once_flag once;
    Status status;
    std::shared_ptr<const std::vector<Batch>> batches;  // columns_ in order
  };
  std::shared_ptr<const Table> inner_;
  std::vector<int> columns_;  // sorted; empty: nothing shared
  std::unique_ptr<Slot[]> slots_;  // by Morsel::index
  size_t num_slots_ = 0;
};

// The columns of `table` that the scans of `plan` (optimized) read.
void ScanColumnsOf(const PlanNode& plan, const Table* table, std::vector<int>& out) {
  if (plan.kind == PlanKind::kScan && plan.table.get() == table)
    out.insert(out.end(), plan.scan_columns.begin(), plan.scan_columns.end());
  for (const auto& c : plan.children) ScanColumnsOf(*c, table, out);
}

// ---------------------------------------------------------------- the view's shape

// kHll: approx_distinct's estimate, kept from its hidden kHiddenSketch column. kDistinct:
// count(DISTINCT x), recounted from the view's side table of distinct (group keys, x) pairs.
enum class StateKind : uint8_t {
  kKey, kCount, kSum, kMin, kMax, kAvg, kHiddenSum, kHiddenCount, kHll, kHiddenSketch, kDistinct
};

struct StateColumn {
  std::string name;
  StateKind kind = StateKind::kKey;
  DataType type;
  std::string canon;  // group: its expression text; aggregate: fn(args) over the base columns
  // kAvg: positions of its hidden sum and count columns; kHll: avg_sum is its sketch column.
  int avg_sum = -1, avg_cnt = -1;
};

// A count(DISTINCT x) column's side table `<view>__distinct_<j>`: one row per distinct (group
// keys, x) of the base (x NULL included, so that groups whose x are all NULL count 0).
struct DistinctSide {
  int column = -1;        // the view's stored count column
  std::vector<int> keys;  // per GROUP BY expression: the view's stored key column
  PlanPtr pairs;          // SELECT keys..., x FROM base [WHERE ...] GROUP BY keys..., x
  // SELECT keys..., x FROM base [WHERE ...], duplicates kept: an incremental refresh dedupes the
  // added rows' pairs in its own hash sets (ToValueIds, NewPairs), so an aggregation first
  // would only do that work twice.
  PlanPtr rows;
  // Stored: the key columns (named as in the view), then _mv_vid (x's id in the value
  // dictionary); without GROUP BY keys just _mv_value (x itself: each x is one pair then, so
  // the dictionary would be a second copy of the side table).
  Schema schema;
  DataType value_type;    // x's
  bool ids() const { return !keys.empty(); }
};

struct Shape {
  PlanPtr plan;       // the bound definition (unoptimized)
  PlanPtr state;      // the plan whose rows are stored (hidden avg columns added)
  // `state` with each count(DISTINCT x) as a plain count(x): the added rows' state, whose
  // distinct counts an incremental refresh takes from the side tables instead.
  PlanPtr delta_state;
  std::string base;   // base table name as the catalog spells it (a join's leftmost table)
  // The other tables read (a join's dimension tables) and the snapshots the binding saw. When
  // one changes, the view is rebuilt in full.
  std::vector<std::pair<std::string, int64_t>> dims;
  std::string join;   // the join tree as EXPLAIN prints it; "" over a single table
  bool incremental = false;
  std::string why_not;
  std::set<std::string> filters;  // conjuncts of the WHERE, as text
  std::vector<StateColumn> columns;  // stored order
  std::vector<DistinctSide> sides;   // one per count(DISTINCT x) column, in stored order
};

std::string SideName(const std::string& view, size_t j) { return fmt::format("{}__distinct_{}", view, j); }
// The value dictionary of side table j: (x, id) rows, ids 0, 1, 2, ...
std::string ValuesName(const std::string& view, size_t j) { return fmt::format("{}__values_{}", view, j); }

void Conjuncts(const ExprPtr& e, std::vector<ExprPtr>& out) {
  if (e->kind == ExprKind::kAnd) {
    for (const auto& a : e->args) Conjuncts(a, out);
    return;
  }
  out.push_back(e);
}

bool AnyNonDeterministic(const PlanNode& n) {
  auto bad = [](const ExprPtr& e) { return e && !e->deterministic(); };
  if (bad(n.predicate)) return true;
  for (const auto& e : n.exprs) if (bad(e)) return true;
  for (const auto& e : n.groups) if (bad(e)) return true;
  for (const auto& e : n.scan_filters) if (bad(e)) return true;
  for (const auto& a : n.aggregates) {
    if (bad(a.filter)) return true;
    for (const auto& e : a.args) if (bad(e)) return true;
  }
  for (const auto& r : n.rows) for (const auto& e : r) if (bad(e)) return true;
  for (const auto& c : n.children) if (AnyNonDeterministic(*c)) return true;
  return false;
}

// The tables the plan scans, leftmost first, each once.
void ScannedTables(const PlanNode& n, std::vector<const Table*>& out) {
  if (n.kind == PlanKind::kScan && n.table &&
      std::none_of(out.begin(), out.end(), [&](const Table* t) { return IEquals(t->name(), n.table->name()); }))
    out.push_back(n.table.get());
  for (const auto& c : n.children) ScannedTables(*c, out);
}

// What an aggregation reads: Filter* over one Scan, or over a tree of inner, left and cross
// joins of scans. The leftmost scan is the fact table, whose added files an incremental refresh
// reads; those joins distribute over a union of its rows, so the new rows joined with the
// (unchanged) other tables are exactly the rows the join gained.
struct Source {
  const PlanNode* fact = nullptr;
  std::vector<const PlanNode*> dims;
  std::string join;  // ExplainPlan of the join tree, "" without one
};

bool JoinLeaves(const PlanNode* n, std::vector<const PlanNode*>& leaves, std::string* why) {
  switch (n->kind) {
    case PlanKind::kScan:
      leaves.push_back(n);
      return true;
    case PlanKind::kFilter:
    case PlanKind::kProject:  // JOIN ... USING
      return JoinLeaves(n->children[0].get(), leaves, why);
    case PlanKind::kJoin:
      if (n->join_type == JoinType::kRight || n->join_type == JoinType::kFull) {
        *why = "RIGHT and FULL joins cannot be refreshed incrementally (inner, left and cross joins can)";
        return false;
      }
      if (n->join_type != JoinType::kInner && n->join_type != JoinType::kLeft && n->join_type != JoinType::kCross) {
        *why = "EXISTS subqueries cannot be refreshed incrementally";
        return false;
      }
      return JoinLeaves(n->children[0].get(), leaves, why) && JoinLeaves(n->children[1].get(), leaves, why);
    default:
      *why = "a join of something else than tables cannot be refreshed incrementally";
      return false;
  }
}

// Collects the Filter*'s conjuncts into *conj. False (and *why) when the source is not a table
// or a join of tables as above.
bool SourceBelow(const PlanNode* n, std::vector<ExprPtr>* conj, Source* src, std::string* why) {
  while (n->kind == PlanKind::kFilter) {
    Conjuncts(n->predicate, *conj);
    n = n->children[0].get();
  }
  if (n->kind == PlanKind::kScan) {
    src->fact = n;
    return true;
  }
  if (n->kind != PlanKind::kJoin) {
    *why = "only a table or a join of tables (no subqueries or views) is refreshed incrementally";
    return false;
  }
  std::vector<const PlanNode*> leaves;
  if (!JoinLeaves(n, leaves, why)) return false;
  src->fact = leaves[0];
  for (size_t i = 1; i < leaves.size(); ++i) {
    if (IEquals(leaves[i]->table->name(), src->fact->table->name())) {
      *why = "a self-join cannot be refreshed incrementally";
      return false;
    }
    src->dims.push_back(leaves[i]);
  }
  src->join = ExplainPlan(*n);
  return true;
}

std::string DimsText(const std::vector<std::pair<std::string, int64_t>>& dims) {
  std::string out;
  for (const auto& [name, snap] : dims) out += fmt::format("{}{}={}", out.empty() ? "" : ",", name, snap);
  return out;
}

std::vector<std::pair<std::string, int64_t>> ParseDims(const std::string& text) {
  std::vector<std::pair<std::string, int64_t>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t eq = item.find('=');
    if (eq != std::string::npos) out.emplace_back(item.substr(0, eq), std::atoll(item.c_str() + eq + 1));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

bool IsDimensionOf(const catalog::TableMetadata& view, const std::string& table) {
  for (const auto& d : ParseDims(Prop(view, kPropDims)))
    if (IEquals(d.first, BaseName(table))) return true;
  return false;
}

std::string AggCanon(const std::string& fn, const std::vector<ExprPtr>& args) {
  std::string s = fn + "(";
  for (size_t i = 0; i < args.size(); ++i) s += (i ? ", " : "") + args[i]->ToString();
  return s + ")";
}

// Binds `sql` over `catalog` and works out how the view is stored and refreshed.
Result<Shape> Analyze(const std::string& sql, const Catalog& catalog) {
  SL_ASSIGN_OR_RETURN(auto st, ParseStatement(sql));
  if (st->kind != Statement::Kind::kQuery || !st->query)
    return Status::InvalidArgument("a materialized view is defined by a query");
  Shape s;
  SL_ASSIGN_OR_RETURN(s.plan, BindQuery(*st->query, catalog));
  if (AnyNonDeterministic(*s.plan))
    return Status::InvalidArgument(
        "a materialized view cannot use non-deterministic functions (its refreshes would disagree "
        "with each other)");
  s.state = s.plan;
  // Full-only views too: the first table is the base, the others are followed as dimensions.
  std::vector<const Table*> scanned;
  ScannedTables(*s.plan, scanned);
  for (size_t i = 0; i < scanned.size(); ++i) {
    if (i == 0) s.base = scanned[i]->name();
    else s.dims.emplace_back(scanned[i]->name(), scanned[i]->snapshot_id());
  }
  auto full_only = [&](std::string why) -> Result<Shape> {
    s.incremental = false;
    s.why_not = std::move(why);
    s.columns.clear();
    s.sides.clear();
    for (const auto& o : s.plan->output) s.columns.push_back({o.name, StateKind::kKey, o.type, "", -1, -1});
    return s;
  };
  // Project (SELECT list) over Aggregate over Filter* over Scan.
  const PlanNode* top = s.plan.get();
  if (top->kind != PlanKind::kProject) return full_only("the query is not SELECT ... GROUP BY over one table");
  const PlanNode* agg = top->children[0].get();
  if (agg->kind != PlanKind::kAggregate)
    return full_only(agg->kind == PlanKind::kFilter ? "HAVING cannot be refreshed incrementally"
                                                    : "the query is not SELECT ... GROUP BY over one table");
  if (!agg->grouping_sets.empty() || agg->grouping_id)
    return full_only("GROUPING SETS, ROLLUP and CUBE cannot be refreshed incrementally");
  std::vector<ExprPtr> conj;
  Source src;
  std::string why_source;
  if (!SourceBelow(agg->children[0].get(), &conj, &src, &why_source)) return full_only(why_source);
  s.base = src.fact->table->name();
  s.join = src.join;
  for (const auto& c : conj) {
    if (HasSubquery(*c)) return full_only("a WHERE with subqueries cannot be refreshed incrementally");
    s.filters.insert(c->ToString());
  }
  const size_t ng = agg->groups.size();
  std::vector<bool> group_selected(ng, false);
  std::vector<int> group_column(ng, -1);  // the first stored column selecting each group
  auto state_agg = std::make_shared<PlanNode>(*agg);
  auto state_top = std::make_shared<PlanNode>(*top);
  std::vector<StateColumn> hidden;
  std::vector<std::pair<int, ExprPtr>> distinct_calls;  // stored column, x
  std::vector<size_t> distinct_aggs;  // their aggregate positions
  // A hidden aggregate the stored rows carry after the visible ones; returns its position.
  auto add_hidden = [&](AggregateCall h, const std::string& hname, StateKind kind, std::string canon) {
    state_agg->aggregates.push_back(h);
    state_agg->output.push_back({hname, h.fn.return_type});
    state_top->exprs.push_back(MakeColumn(static_cast<int>(state_agg->output.size() - 1), h.fn.return_type, hname));
    state_top->output.push_back({hname, h.fn.return_type});
    int pos = static_cast<int>(top->exprs.size() + hidden.size());
    hidden.push_back({hname, kind, h.fn.return_type, std::move(canon), -1, -1});
    return pos;
  };
  for (size_t i = 0; i < top->exprs.size(); ++i) {
    const ExprPtr& e = top->exprs[i];
    const std::string& name = top->output[i].name;
    if (e->kind != ExprKind::kColumn)
      return full_only("select item '" + name + "' is an expression over aggregates; select the "
                       "aggregates themselves to refresh incrementally");
    size_t c = static_cast<size_t>(e->column);
    if (c < ng) {
      group_selected[c] = true;
      if (group_column[c] < 0) group_column[c] = static_cast<int>(s.columns.size());
      s.columns.push_back({name, StateKind::kKey, e->type, agg->groups[c]->ToString(), -1, -1});
      continue;
    }
    const AggregateCall& call = agg->aggregates[c - ng];
    const std::string& fn = call.fn.name;
    if (call.filter) return full_only("aggregate FILTER clauses cannot be refreshed incrementally");
    const bool count_distinct = call.fn.distinct && fn == "count" && call.args.size() == 1;
    if (call.fn.distinct && fn != "min" && fn != "max" && fn != "approx_distinct" && !count_distinct)
      return full_only(fn + "(DISTINCT ...) cannot be refreshed incrementally (count(DISTINCT x) can)");
    StateColumn col{name, StateKind::kCount, e->type, AggCanon(fn, call.args), -1, -1};
    if (count_distinct) {
      distinct_aggs.push_back(c - ng);
      col.kind = StateKind::kDistinct;
      col.canon = "count(DISTINCT " + call.args[0]->ToString() + ")";
      distinct_calls.emplace_back(static_cast<int>(s.columns.size()), call.args[0]);
    } else if (fn == "approx_distinct") {
      col.kind = StateKind::kHll;
      AggregateCall h;
      SL_ASSIGN_OR_RETURN(h.fn, ResolveAggregate("$hll_sketch", call.fn.arg_types, false));
      h.args = call.args;
      col.avg_sum = add_hidden(h, "_mv_hll_" + name, StateKind::kHiddenSketch, col.canon);
    } else if (fn == "count" || fn == "count_if") {
      col.kind = StateKind::kCount;
    } else if (fn == "sum") {
      col.kind = StateKind::kSum;
    } else if (fn == "min") {
      col.kind = StateKind::kMin;
    } else if (fn == "max") {
      col.kind = StateKind::kMax;
    } else if (fn == "avg") {
      const DataType& a = call.fn.arg_types[0];
      if (!a.is_integer() && a.id != TypeId::kDouble)
        return full_only("avg over " + a.ToString() + " cannot be refreshed incrementally (integers and DOUBLE can)");
      col.kind = StateKind::kAvg;
      // sum(x) and count(x) ride along as hidden columns.
      for (const char* hf : {"sum", "count"}) {
        AggregateCall h;
        SL_ASSIGN_OR_RETURN(h.fn, ResolveAggregate(hf, call.fn.arg_types, false));
        h.args = call.args;
        bool is_sum = std::string(hf) == "sum";
        (is_sum ? col.avg_sum : col.avg_cnt) =
            add_hidden(h, (is_sum ? "_mv_sum_" : "_mv_cnt_") + name,
                       is_sum ? StateKind::kHiddenSum : StateKind::kHiddenCount, AggCanon(hf, call.args));
      }
    } else {
      return full_only(fn + " cannot be refreshed incrementally (count, count_if, sum, min, max, avg, "
                       "approx_distinct and count(DISTINCT x) can)");
    }
    s.columns.push_back(col);
  }
  for (size_t g = 0; g < ng; ++g)
    if (!group_selected[g])
      return full_only("every GROUP BY expression must be selected for incremental refresh (" +
                       agg->groups[g]->ToString() + " is not)");
  for (auto& h : hidden) s.columns.push_back(std::move(h));
  for (const auto& [column, x] : distinct_calls) {
    DistinctSide side;
    side.column = column;
    auto pairs = std::make_shared<PlanNode>(PlanKind::kAggregate);
    pairs->children = agg->children;
    for (size_t g = 0; g < ng; ++g) {
      side.keys.push_back(group_column[g]);
      pairs->groups.push_back(agg->groups[g]);
      pairs->output.push_back({s.columns[static_cast<size_t>(group_column[g])].name, agg->groups[g]->type});
    }
    pairs->groups.push_back(x);
    pairs->output.push_back({kSideValue, x->type});
    auto proj = std::make_shared<PlanNode>(PlanKind::kProject);
    proj->children.push_back(pairs);
    for (size_t i = 0; i < pairs->output.size(); ++i) {
      proj->exprs.push_back(MakeColumn(static_cast<int>(i), pairs->output[i].type, pairs->output[i].name));
      proj->output.push_back(pairs->output[i]);
      if (i + 1 < pairs->output.size())
        side.schema.fields.push_back(Field{pairs->output[i].name, pairs->output[i].type, true});
    }
    side.value_type = x->type;
    side.schema.fields.push_back(ng > 0 ? Field{kSideValueId, DataType::Int64(), true} : Field{kSideValue, x->type, true});
    side.pairs = proj;
    auto rows = std::make_shared<PlanNode>(PlanKind::kProject);
    rows->children = agg->children;
    for (size_t g = 0; g < ng; ++g) rows->exprs.push_back(agg->groups[g]);
    rows->exprs.push_back(x);
    rows->output = pairs->output;
    side.rows = rows;
    s.sides.push_back(std::move(side));
  }
  state_top->children[0] = state_agg;
  s.state = state_top;
  s.delta_state = state_top;
  if (!distinct_aggs.empty()) {
    auto delta_agg = std::make_shared<PlanNode>(*state_agg);
    for (size_t a : distinct_aggs) {
      AggregateCall& call = delta_agg->aggregates[a];
      SL_ASSIGN_OR_RETURN(call.fn, ResolveAggregate("count", call.fn.arg_types, false));
    }
    auto delta_top = std::make_shared<PlanNode>(*state_top);
    delta_top->children[0] = delta_agg;
    s.delta_state = delta_top;
  }
  s.incremental = true;
  return s;
}

Schema StoredSchema(const Shape& s) {
  Schema out;
  for (const auto& c : s.columns) out.fields.push_back(Field{c.name, c.type, true});
  return out;
}

// ---------------------------------------------------------------- running

// SALESLAKE_MV_TRACE=1 prints each refresh phase's wall time on stderr: what the refresh
// benchmark (bench/README.md) reads to see where an incremental refresh's time goes. Off by default.
// Beside the wall time, the process's CPU time (all threads), which other work on a shared
// machine inflates less.
class Trace {
 public:
  Trace() : on_(std::getenv("SALESLAKE_MV_TRACE") != nullptr), last_(std::chrono::steady_clock::now()), cpu_(Cpu()) {}
  void Mark(const std::string& phase) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    double cpu = Cpu();
    std::fprintf(stderr, "matview trace: %-40s %8.2f ms wall %8.2f ms cpu\n", phase.c_str(),
                 std::chrono::duration<double, std::milli>(now - last_).count(), cpu - cpu_);
    last_ = now;
    cpu_ = cpu;
  }

 private:
  static double Cpu() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
            static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3);
  }
  bool on_;
  std::chrono::steady_clock::time_point last_;
  double cpu_;
};

Trace& Tr() {
  static Trace trace;
  return trace;
}

Result<MaterializedResult> RunPlan(const MatViewContext& ctx, PlanPtr plan) {
  SL_ASSIGN_OR_RETURN(plan, Optimize(plan));
  return ExecutePlan(plan, ctx.exec);
}

// Sets every avg column to sum / count from its hidden columns (NULL when the count is 0).
void FinishAverages(const Shape& s, MaterializedResult& r) {
  for (size_t c = 0; c < s.columns.size(); ++c) {
    const StateColumn& col = s.columns[c];
    if (col.kind != StateKind::kAvg) continue;
    for (Batch& b : r.batches) {
      ColumnVector out(DataType::Double(), std::max<size_t>(b.num_rows, 1));
      out.Resize(b.num_rows);
      const ColumnVector& sum = b.columns[static_cast<size_t>(col.avg_sum)];
      const ColumnVector& cnt = b.columns[static_cast<size_t>(col.avg_cnt)];
      for (size_t i = 0; i < b.num_rows; ++i) {
        Value sv = GetValueAt(sum, i), cv = GetValueAt(cnt, i);
        if (sv.is_null() || cv.is_null() || cv.int_value() == 0) {
          out.SetNull(i);
          continue;
        }
        double total = sv.type().id == TypeId::kDouble ? sv.double_value() : static_cast<double>(sv.int_value());
        SetValueAt(out, i, Value::Double(total / static_cast<double>(cv.int_value())));
      }
      b.columns[c] = std::move(out);
    }
  }
}

// Old state + delta state merged per group without an engine plan (MergeStates below plans an
// aggregation over them, ~5-15 ms of fixed cost per refresh of a small view): the rows' keys go
// into a RowSet (each group's first row is copied out as its output row, stored rows first, so
// a group keeps its stored position), and every later row of the group is folded into it:
// counts and sums add up, min of mins, max of maxes; avg columns are recomputed from their
// hidden sum and count (FinishAverages), count(DISTINCT) ones are set from the side tables.
// nullopt (nothing consumed) when the engine is needed: a sketch column (HyperLogLog merge), a
// sum or count that is not BIGINT or DOUBLE, a BIGINT sum that overflows, or a batch with a
// selection or of another shape.
std::optional<MaterializedResult> MergeDirect(const Shape& s, const Schema& schema, const std::vector<Batch>& rows) {
  if (s.columns.size() != schema.size()) return std::nullopt;
  std::vector<DataType> key_types;
  std::vector<size_t> key_cols;
  for (size_t c = 0; c < s.columns.size(); ++c) {
    const TypeId t = schema[c].type.id;
    switch (s.columns[c].kind) {
      case StateKind::kKey:
        key_cols.push_back(c);
        key_types.push_back(schema[c].type);
        break;
      case StateKind::kCount: case StateKind::kSum: case StateKind::kHiddenSum: case StateKind::kHiddenCount:
        if (t != TypeId::kInt64 && t != TypeId::kDouble) return std::nullopt;
        break;
      case StateKind::kHll: case StateKind::kHiddenSketch: return std::nullopt;
      case StateKind::kMin: case StateKind::kMax: case StateKind::kAvg: case StateKind::kDistinct: break;
    }
  }
  for (const Batch& b : rows) {
    if (b.selection || b.columns.size() != schema.size()) return std::nullopt;
    for (size_t c = 0; c < schema.size(); ++c)
      if (!(b.columns[c].type() == schema[c].type)) return std::nullopt;
  }
  // Each row's group; each group's first row.
  RowSet groups(key_types);
  std::vector<std::vector<uint32_t>> gid(rows.size());
  std::vector<std::pair<uint32_t, uint32_t>> first;  // (batch, row) by group id
  std::vector<const ColumnVector*> keys(key_cols.size());
  for (size_t bi = 0; bi < rows.size(); ++bi) {
    const Batch& b = rows[bi];
    for (size_t k = 0; k < key_cols.size(); ++k) keys[k] = &b.columns[key_cols[k]];
    groups.Insert(keys, b.num_rows, gid[bi]);
    first.resize(groups.size(), {UINT32_MAX, 0});
    for (size_t r = 0; r < b.num_rows; ++r)
      if (first[gid[bi][r]].first == UINT32_MAX) first[gid[bi][r]] = {static_cast<uint32_t>(bi), static_cast<uint32_t>(r)};
  }
  MaterializedResult out;
  out.schema = schema;
  const size_t n = first.size();
  for (size_t start = 0; start < n; start += kBatchRows) {
    Batch& ob = out.batches.emplace_back();
    ob.num_rows = std::min(kBatchRows, n - start);
    for (size_t c = 0; c < schema.size(); ++c) {
      ColumnVector& col = ob.columns.emplace_back(schema[c].type, ob.num_rows);
      col.Resize(0);
      for (size_t g = start; g < start + ob.num_rows; ++g) col.AppendFrom(rows[first[g].first].columns[c], first[g].second);
    }
  }
  for (size_t bi = 0; bi < rows.size(); ++bi) {
    const Batch& b = rows[bi];
    for (size_t r = 0; r < b.num_rows; ++r) {
      const uint32_t g = gid[bi][r];
      if (first[g].first == bi && first[g].second == r) continue;  // the group's own row
      Batch& ob = out.batches[g / kBatchRows];
      const size_t o = g % kBatchRows;
      for (size_t c = 0; c < schema.size(); ++c) {
        const StateKind kind = s.columns[c].kind;
        if (kind == StateKind::kKey || kind == StateKind::kAvg || kind == StateKind::kDistinct) continue;
        const ColumnVector& src = b.columns[c];
        ColumnVector& dst = ob.columns[c];
        if (!src.IsValid(r)) continue;  // NULL adds nothing (sum and min/max skip NULLs)
        if (!dst.IsValid(o)) {          // NULL so far: the group's first value
          SetValueAt(dst, o, GetValueAt(src, r));
          continue;
        }
        if (kind == StateKind::kMin || kind == StateKind::kMax) {
          const int cmp = GetValueAt(src, r).Compare(GetValueAt(dst, o));
          if (kind == StateKind::kMin ? cmp < 0 : cmp > 0) SetValueAt(dst, o, GetValueAt(src, r));
        } else if (schema[c].type.id == TypeId::kInt64) {
          int64_t& acc = dst.data<int64_t>()[o];
          if (__builtin_add_overflow(acc, src.GetValue<int64_t>(r), &acc)) return std::nullopt;
        } else {
          dst.data<double>()[o] += src.GetValue<double>(r);
        }
      }
    }
  }
  FinishAverages(s, out);
  return out;
}

// Old state + delta state, merged per group: counts and sums add up, min of mins, max of maxes.
Result<MaterializedResult> MergeStates(const MatViewContext& ctx, const Shape& s, const Schema& schema,
                                       std::vector<Batch> rows) {
  auto table = BatchTable::Make("_mv_merge", schema, std::move(rows));
  auto scan = std::make_shared<PlanNode>(PlanKind::kScan);
  scan->table = table;
  for (size_t i = 0; i < schema.size(); ++i) {
    scan->scan_columns.push_back(static_cast<int>(i));
    scan->output.push_back({schema[i].name, schema[i].type});
  }
  auto agg = std::make_shared<PlanNode>(PlanKind::kAggregate);
  agg->children.push_back(scan);
  std::vector<int> position(schema.size(), -1);  // stored column -> aggregate output
  for (size_t i = 0; i < s.columns.size(); ++i) {
    if (s.columns[i].kind != StateKind::kKey) continue;
    position[i] = static_cast<int>(agg->groups.size());
    agg->groups.push_back(MakeColumn(static_cast<int>(i), schema[i].type));
    agg->output.push_back({schema[i].name, schema[i].type});
  }
  for (size_t i = 0; i < s.columns.size(); ++i) {
    const char* fn = nullptr;
    size_t src = i;
    switch (s.columns[i].kind) {
      case StateKind::kCount: case StateKind::kSum: case StateKind::kHiddenSum:
      case StateKind::kHiddenCount: case StateKind::kAvg: fn = "sum"; break;
      case StateKind::kMin: fn = "min"; break;
      case StateKind::kMax: fn = "max"; break;
      case StateKind::kHiddenSketch: fn = "$hll_merge"; break;
      case StateKind::kHll:  // the estimate of the merged sketch
        fn = "$hll_estimate";
        src = static_cast<size_t>(s.columns[i].avg_sum);
        break;
      case StateKind::kDistinct: fn = "max"; break;  // recounted from the side table (ApplyCounts)
      case StateKind::kKey: continue;
    }
    AggregateCall call;
    SL_ASSIGN_OR_RETURN(call.fn, ResolveAggregate(fn, {schema[src].type}, false));
    call.args.push_back(MakeColumn(static_cast<int>(src), schema[src].type));
    position[i] = static_cast<int>(agg->groups.size() + agg->aggregates.size());
    agg->aggregates.push_back(std::move(call));
    agg->output.push_back({schema[i].name, agg->aggregates.back().fn.return_type});
  }
  auto proj = std::make_shared<PlanNode>(PlanKind::kProject);
  proj->children.push_back(agg);
  for (size_t i = 0; i < schema.size(); ++i) {
    const auto& o = agg->output[static_cast<size_t>(position[i])];
    ExprPtr e = MakeColumn(position[i], o.type, o.name);
    if (!(o.type == schema[i].type)) {  // sum(DOUBLE avg column) etc.: back to the stored type
      auto c = std::make_shared<Expr>();
      c->kind = ExprKind::kCast;
      c->type = schema[i].type;
      c->args.push_back(e);
      e = c;
    }
    proj->exprs.push_back(e);
    proj->output.push_back({schema[i].name, schema[i].type});
  }
  SL_ASSIGN_OR_RETURN(MaterializedResult r, ExecutePlan(proj, ctx.exec));
  FinishAverages(s, r);
  return r;
}

// Reads the rows of `files` (default: every file) of the view, columns in `schema` order (by name).
Result<std::vector<Batch>> ReadStored(const MatViewContext& ctx, std::shared_ptr<const catalog::TableMetadata> meta,
                                      const Schema& schema,
                                      std::optional<std::vector<catalog::DataFile>> only = std::nullopt) {
  std::vector<catalog::DataFile> files;
  if (only) {
    files = std::move(*only);
  } else {
    SL_ASSIGN_OR_RETURN(files, ctx.lake->ListFiles(*meta));
  }
  auto table = MakeLakeTable(ctx.store, meta, std::move(files), meta->current_snapshot_id);
  auto scan = std::make_shared<PlanNode>(PlanKind::kScan);
  scan->table = table;
  for (const auto& f : schema.fields) {
    auto idx = table->schema().FindField(f.name);
    if (!idx || !(table->schema()[*idx].type == f.type))
      return Status::Aborted("stored column '" + f.name + "' changed");
    scan->scan_columns.push_back(static_cast<int>(*idx));
    scan->output.push_back({f.name, f.type});
  }
  SL_ASSIGN_OR_RETURN(MaterializedResult r, ExecutePlan(scan, ctx.exec));
  return std::move(r.batches);
}

// Calls `fn(worker, batch)` with each batch of the rows of `files` of `meta` (live rows:
// Batch::selection), columns in `schema` order (by name), without holding them all (a side
// table can be much larger than its view). Files are read in parallel, up to `workers` at a
// time; `worker` < `workers` tells the calls that may run at once apart.
Status ForEachStored(const MatViewContext& ctx, std::shared_ptr<const catalog::TableMetadata> meta,
                     std::vector<catalog::DataFile> files, const Schema& schema, size_t workers,
                     const std::function<void(size_t, const Batch&)>& fn) {
  auto table = MakeLakeTable(ctx.store, meta, std::move(files), meta->current_snapshot_id);
  std::vector<int> columns;
  for (const auto& f : schema.fields) {
    auto idx = table->schema().FindField(f.name);
    if (!idx || !(table->schema()[*idx].type == f.type))
      return Status::Aborted("stored column '" + f.name + "' changed");
    columns.push_back(static_cast<int>(*idx));
  }
  SL_ASSIGN_OR_RETURN(std::vector<Morsel> morsels, table->Morsels());
  std::vector<Status> status(workers);
  std::atomic<size_t> next{0};
  ThreadPool::Default().ParallelFor(workers, [&](size_t w) {
    for (size_t m = next++; m < morsels.size() && status[w].ok(); m = next++)
      status[w] = table->ReadMorsel(morsels[m], columns, [&](Batch& b) {
        fn(w, b);
        return Status::OK();
      });
  }, workers);
  for (const Status& st : status) SL_RETURN_IF_ERROR(st);
  return Status::OK();
}

struct RefreshPlan {
  enum class Kind : uint8_t { kUpToDate, kIncremental, kFull } kind = Kind::kFull;
  std::string reason;
  int64_t from_snapshot = 0, to_snapshot = 0;
  std::vector<catalog::DataFile> added;  // incremental
  // The base's files at to_snapshot: listed by PlanRefresh for a full refresh only (an
  // incremental one reads the added files' manifests alone); AllFiles lists them when needed.
  std::optional<std::vector<catalog::DataFile>> all;
};

Result<std::vector<catalog::DataFile>> AllFiles(const MatViewContext& ctx, const catalog::TableMetadata& base,
                                                RefreshPlan& p) {
  if (!p.all) {
    SL_ASSIGN_OR_RETURN(auto files, ctx.lake->ListFiles(base));  // base is at p.to_snapshot
    p.all = std::move(files);
  }
  return *p.all;
}

// "dimension table 'd' changed (snapshot 3 -> 5)" for each dimension table of `view` that moved
// on since its data was built.
std::vector<std::string> ChangedDims(const MatViewContext& ctx, const catalog::TableMetadata& view) {
  std::vector<std::string> out;
  for (const auto& [name, snap] : ParseDims(Prop(view, kPropDims))) {
    auto d = ctx.lake->LoadTable(name);
    if (!d.ok()) {
      out.push_back("dimension table '" + name + "' is gone");
    } else if ((*d)->current_snapshot_id != snap) {
      out.push_back(fmt::format("dimension table '{}' changed (snapshot {} -> {})", name, snap,
                                (*d)->current_snapshot_id));
    }
  }
  return out;
}

Result<RefreshPlan> PlanRefresh(const MatViewContext& ctx, const catalog::TableMetadata& view,
                                const catalog::TableMetadata& base, bool full) {
  RefreshPlan p;
  p.to_snapshot = base.current_snapshot_id;
  std::string recorded = Prop(view, kPropBaseSnapshot);
  auto full_plan = [&](std::string reason) -> Result<RefreshPlan> {
    p.kind = RefreshPlan::Kind::kFull;
    p.reason = std::move(reason);
    SL_RETURN_IF_ERROR(AllFiles(ctx, base, p).status());
    return p;
  };
  if (full) return full_plan("FULL was asked for");
  if (recorded.empty()) return full_plan("the view has never been built");
  p.from_snapshot = std::stoll(recorded);
  std::vector<std::string> changed = ChangedDims(ctx, view);
  if (p.from_snapshot == p.to_snapshot && changed.empty()) {
    p.kind = RefreshPlan::Kind::kUpToDate;
    p.reason = fmt::format("base table '{}' is still at snapshot {}", base.name(), p.to_snapshot);
    if (!Prop(view, kPropDims).empty()) p.reason += ", and its dimension tables at theirs";
    return p;
  }
  if (!changed.empty()) return full_plan(changed[0] + " (rows already joined cannot be corrected incrementally)");
  std::string inc = Prop(view, kPropIncremental);
  if (inc != "true") return full_plan("the view is full-refresh only: " + inc);
  // Usually the snapshots since only appended files: their own manifests list them.
  std::optional<std::vector<catalog::DataFile>> appended;
  if (p.from_snapshot > 0) {
    SL_ASSIGN_OR_RETURN(appended, ctx.lake->ListAddedFiles(base, p.from_snapshot));
  }
  if (appended) {
    p.added = std::move(*appended);
  } else {
    // Otherwise the two snapshots' listings say what was added and whether anything left.
    std::vector<catalog::DataFile> old_files;
    if (p.from_snapshot > 0) {
      auto old = ctx.lake->ListFiles(base, p.from_snapshot);
      if (!old.ok())
        return full_plan(fmt::format("base snapshot {} is no longer retained ({})", p.from_snapshot,
                                     old.status().message()));
      old_files = std::move(*old);
    }
    SL_ASSIGN_OR_RETURN(auto all, AllFiles(ctx, base, p));
    std::set<std::string> now_keys, old_keys;
    for (const auto& f : all) now_keys.insert(f.key);
    size_t removed = 0;
    for (const auto& f : old_files) {
      old_keys.insert(f.key);
      if (!now_keys.count(f.key)) ++removed;
    }
    if (removed > 0)
      return full_plan(fmt::format("{} file(s) of base snapshot {} were replaced or deleted since (rows left the "
                                   "table; min/max and counts cannot be un-merged)", removed, p.from_snapshot));
    for (const auto& f : all)
      if (!old_keys.count(f.key)) p.added.push_back(f);
  }
  p.kind = RefreshPlan::Kind::kIncremental;
  int64_t rows = 0;
  for (const auto& f : p.added) rows += std::max<int64_t>(f.row_count, 0);
  p.reason = fmt::format("base snapshot {} -> {}: {} file(s) added ({} rows), none removed", p.from_snapshot,
                         p.to_snapshot, p.added.size(), rows);
  return p;
}

Result<std::shared_ptr<const catalog::TableMetadata>> LoadView(const MatViewContext& ctx, const std::string& name) {
  auto meta = ctx.lake->LoadTable(BaseName(name));
  if (!meta.ok()) {
    if (meta.status().code() == StatusCode::kNotFound)
      return Status::NotFound("materialized view '" + name + "' not found");
    return meta.status();
  }
  if (!IsMatView(**meta)) return Status::InvalidArgument("'" + name + "' is a table, not a materialized view");
  return *meta;
}

// kReplace: every file. kReplacePartitions: the files `replaced` (the partitions rewritten).
// kAppend: none (a side table's new pairs).
enum class Write : uint8_t { kReplace, kReplacePartitions, kAppend };

// Writes `rows` as the view's new data (kReplace), as the new data of some of its partitions, or
// as more of it (kAppend), and commits them with the base snapshot they reflect.
// A side table rewritten whole is written as this many files at most, about kSideFileRows
// pairs each, so that the refreshes that stream it past new pairs read it in parallel (a file is
// the unit a scan hands to a worker).
constexpr size_t kSideFileRows = 1 << 16;
constexpr size_t kMaxSideParts = 4;

// `rows` as `parts` files of about equal row counts (consecutive slices, copied), each written by
// a worker of its own.
Result<std::vector<catalog::DataFile>> WriteParts(const MatViewContext& ctx, const catalog::TableSpec& spec,
                                                  const Schema& schema, const std::vector<Batch>& rows, size_t parts) {
  size_t total = 0;
  for (const Batch& b : rows) total += b.num_rows;
  parts = std::max<size_t>(1, std::min(parts, total));
  // Unsynced: Publish's commit syncs them beside its manifests (sync_added_files).
  if (parts == 1) return WriteLakeFiles(ctx.store, spec, schema, rows, /*unsynced=*/true);
  const size_t per = (total + parts - 1) / parts;
  std::vector<std::vector<Batch>> groups(parts);
  size_t seen = 0;
  for (const Batch& b : rows) {
    for (size_t off = 0; off < b.num_rows;) {
      size_t g = std::min(parts - 1, seen / per);
      size_t take = g + 1 == parts ? b.num_rows - off : std::min(b.num_rows - off, (g + 1) * per - seen);
      Batch slice;
      slice.num_rows = take;
      for (const ColumnVector& c : b.columns) {
        ColumnVector out(c.type(), take);
        out.Resize(0);
        for (size_t i = 0; i < take; ++i) out.AppendFrom(c, off + i);
        slice.columns.push_back(std::move(out));
      }
      groups[g].push_back(std::move(slice));
      off += take;
      seen += take;
    }
  }
  std::vector<Result<std::vector<catalog::DataFile>>> written(parts, std::vector<catalog::DataFile>());
  ThreadPool::Default().ParallelFor(parts, [&](size_t i) {
    written[i] = WriteLakeFiles(ctx.store, spec, schema, groups[i], /*unsynced=*/true);
  });
  std::vector<catalog::DataFile> out;
  for (auto& w : written) {
    SL_RETURN_IF_ERROR(w.status());
    for (auto& f : *w) out.push_back(std::move(f));
  }
  return out;
}

Status Publish(const MatViewContext& ctx, const catalog::TableMetadata& view, const Schema& schema,
               const std::vector<Batch>& rows, int64_t base_snapshot, const std::string& how,
               const std::string& dims = "", Write write = Write::kReplace,
               const std::vector<std::string>& replaced = {}, size_t parts = 1,
               const std::map<std::string, std::string>& more_properties = {},
               std::string* committed_list = nullptr) {
  Tr().Mark("publish " + view.name() + ": before writing");
  SL_ASSIGN_OR_RETURN(auto files, WriteParts(ctx, view.spec, schema, rows, parts));
  Tr().Mark(fmt::format("publish {}: wrote {} file(s)", view.name(), files.size()));
  catalog::TableChange ch;
  ch.operation = write == Write::kAppend ? "append" : "overwrite";
  ch.remove_all_files = write == Write::kReplace;
  if (write == Write::kReplacePartitions) ch.remove_files = replaced;
  ch.add_files = std::move(files);
  ch.sync_added_files = true;
  ch.allow_empty = true;
  ch.set_properties[kPropBaseSnapshot] = std::to_string(base_snapshot);
  ch.set_properties[kPropRefreshedMs] = std::to_string(Now(ctx));
  ch.set_properties[kPropLastRefresh] = how;
  if (!dims.empty()) ch.set_properties[kPropDims] = dims;
  for (const auto& [k, v] : more_properties) ch.set_properties[k] = v;
  auto r = ctx.lake->CommitOnce(view, ch);
  Tr().Mark("publish " + view.name() + ": commit");
  if (!r.ok() && r.status().code() == StatusCode::kAborted)
    return Status::Aborted("materialized view '" + view.name() +
                           "' was refreshed concurrently; nothing was changed (run REFRESH again)");
  SL_RETURN_IF_ERROR(r.status());
  if (committed_list != nullptr) {
    const catalog::SnapshotInfo* snap = r->metadata->current_snapshot();
    *committed_list = snap != nullptr ? snap->manifest_list : "";
  }
  return Status::OK();
}

// matview.side_<j> on a view: the manifest list of side table j's current snapshot when the view
// was last committed. While the side table is still at that snapshot, it reflects the view's
// base snapshot (see SideBaseSnapshot).
std::string SideTagProperty(size_t j) { return fmt::format("matview.side_{}", j); }

// The base snapshot side table `side` (number j of `view`) reflects, -1 when unknown: its own
// matview.base_snapshot (set by the refresh that last wrote it), or the view's when the view's
// last commit recorded the side table's current snapshot (matview.side_<j>). An incremental
// refresh whose added rows bring no new (group, x) pair leaves the side table unchanged and does
// not commit it (an empty commit still writes a manifest list and a metadata version, each with
// a file and a folder sync); the view's commit records that the side table as it is reflects the
// new base snapshot. Any later commit to the side table (a refresh cut short after it, a crash
// between the two commits) gives it another snapshot, and its own property applies again.
int64_t SideBaseSnapshot(const catalog::TableMetadata& view, const catalog::TableMetadata& side, size_t j) {
  auto number = [](const std::string& text) -> int64_t { return text.empty() ? -1 : std::stoll(text); };
  int64_t at = number(Prop(side, kPropBaseSnapshot));
  const catalog::SnapshotInfo* cur = side.current_snapshot();
  auto tag = view.spec.properties.find(SideTagProperty(j));
  if (cur != nullptr && tag != view.spec.properties.end() && tag->second == cur->manifest_list)
    at = std::max(at, number(Prop(view, kPropBaseSnapshot)));
  return at;
}

// ---------------------------------------------------------------- count(DISTINCT) side tables

Schema ValuesSchema(const DistinctSide& side) {
  Schema out;
  out.fields.push_back(Field{kSideValue, side.value_type, true});
  out.fields.push_back(Field{kSideValueId, DataType::Int64(), true});
  return out;
}

// Drops `meta` (a table of the view's own) and its files.
Status DropOwned(const MatViewContext& ctx, const catalog::TableMetadata& meta) {
  SL_RETURN_IF_ERROR(ctx.lake->DropTable(meta.name()));
  SL_ASSIGN_OR_RETURN(auto files, ctx.store->List(meta.spec.location));
  for (const auto& f : files) (void)ctx.store->Delete(f.key);
  return Status::OK();
}

// Table `name` of `view` (property matview.side_of) with `schema`, created when missing. A table
// of the view's of another shape (an older format, a changed definition) is dropped and created
// anew; somebody else's table of that name is an error.
Result<std::shared_ptr<const catalog::TableMetadata>> EnsureOwned(const MatViewContext& ctx, const std::string& name,
                                                                  const std::string& view, const Schema& schema) {
  auto meta = ctx.lake->LoadTable(name);
  if (meta.ok()) {
    if (Prop(**meta, kPropSideOf) != view)
      return Status::AlreadyExists("table '" + name + "' exists; materialized view '" + view +
                                   "' needs that name for its count(DISTINCT) side table");
    if ((*meta)->schema() == schema) return *meta;
    SL_RETURN_IF_ERROR(DropOwned(ctx, **meta));
  } else if (meta.status().code() != StatusCode::kNotFound) {
    return meta.status();
  }
  SL_RETURN_IF_ERROR(catalog::ValidateTableName(name));
  catalog::TableSpec spec;
  spec.name = name;
  spec.format = catalog::FileFormat::kParquet;
  spec.location = "processed_data/" + name + "/";
  spec.schema = schema;
  spec.properties[kPropSideOf] = view;
  // A table that holds x itself (a value dictionary, a side table without keys) is streamed whole
  // by every refresh, and ZSTD decoding was most of that; its ids and keys compress well and cost
  // little to decode, so a side table of ids keeps ZSTD (uncompressed, it took 3.3x the disk).
  if (schema.FindField(kSideValue)) spec.properties[kCompressionProperty] = "uncompressed";
  SL_RETURN_IF_ERROR(ctx.lake->CreateTable(spec).status());
  return ctx.lake->LoadTable(name);
}

struct SideTables {
  std::shared_ptr<const catalog::TableMetadata> pairs;   // <view>__distinct_<j>
  std::shared_ptr<const catalog::TableMetadata> values;  // <view>__values_<j>; null without ids
};

// The side table `j` of `view` and its value dictionary, created when missing (or when a crash
// or an older version left them of another shape). A side table's ids mean something only
// under the dictionary it was written with: a dictionary created anew first drops the side
// table, so that no side table outlives its dictionary (a crash in between leaves none, and the
// next refresh rebuilds it).
Result<SideTables> EnsureSide(const MatViewContext& ctx, const std::string& view, size_t j, const DistinctSide& side) {
  SideTables out;
  if (!side.ids()) {
    SL_ASSIGN_OR_RETURN(out.pairs, EnsureOwned(ctx, SideName(view, j), view, side.schema));
    return out;
  }
  auto values = ctx.lake->LoadTable(ValuesName(view, j));
  const bool values_ok = values.ok() && Prop(**values, kPropSideOf) == view && (*values)->schema() == ValuesSchema(side);
  if (!values_ok) {
    auto old = ctx.lake->LoadTable(SideName(view, j));
    if (old.ok() && Prop(**old, kPropSideOf) == view) SL_RETURN_IF_ERROR(DropOwned(ctx, **old));
  }
  SL_ASSIGN_OR_RETURN(out.values, EnsureOwned(ctx, ValuesName(view, j), view, ValuesSchema(side)));
  SL_ASSIGN_OR_RETURN(out.pairs, EnsureOwned(ctx, SideName(view, j), view, side.schema));
  return out;
}

// Drops the side tables of `view`, their value dictionaries and their files.
Status DropSides(const MatViewContext& ctx, const std::string& view) {
  for (size_t j = 0;; ++j) {
    bool any = false;
    for (const std::string& name : {SideName(view, j), ValuesName(view, j)}) {
      auto meta = ctx.lake->LoadTable(name);
      if (!meta.ok() || Prop(**meta, kPropSideOf) != view) continue;
      any = true;
      SL_RETURN_IF_ERROR(DropOwned(ctx, **meta));
    }
    if (!any) return Status::OK();
  }
}

// The distinct (group keys, x) pairs of side `j` over `table` (some or all of the base's files).
Result<MaterializedResult> SidePairs(const MatViewContext& ctx, const std::string& sql, const std::string& base,
                                     std::shared_ptr<const Table> table, size_t j, const Schema& expect) {
  OverlayCatalog overlay(*ctx.catalog, base, std::move(table));
  SL_ASSIGN_OR_RETURN(Shape s, Analyze(sql, overlay));
  if (j >= s.sides.size() || !(s.sides[j].schema == expect))
    return Status::Aborted("the query's count(DISTINCT) columns changed since the view was built");
  return RunPlan(ctx, s.sides[j].pairs);
}

// SELECT DISTINCT * over `rows`.
Result<MaterializedResult> DistinctRows(const MatViewContext& ctx, const Schema& schema, std::vector<Batch> rows) {
  auto table = BatchTable::Make("_mv_side", schema, std::move(rows));
  auto scan = std::make_shared<PlanNode>(PlanKind::kScan);
  scan->table = table;
  auto agg = std::make_shared<PlanNode>(PlanKind::kAggregate);
  for (size_t i = 0; i < schema.size(); ++i) {
    scan->scan_columns.push_back(static_cast<int>(i));
    scan->output.push_back({schema[i].name, schema[i].type});
    agg->groups.push_back(MakeColumn(static_cast<int>(i), schema[i].type));
    agg->output.push_back({schema[i].name, schema[i].type});
  }
  agg->children.push_back(scan);
  return ExecutePlan(agg, ctx.exec);
}

// Per side table: group keys (AppendKey encoding) -> count(DISTINCT x).
using GroupCounts = std::unordered_map<std::string, int64_t>;

// A side table of this many files or more is rewritten as one file on its next refresh (the
// slow path below), so that appends do not fragment it without bound.
constexpr size_t kMaxSideFiles = 16;

// Adds to `counts` one per row of `rows` (side-table rows: group keys, then x) whose x is not
// NULL, under the row's group key.
void CountPairs(const std::vector<Batch>& rows, size_t nk, GroupCounts& counts) {
  std::string key;
  for (const Batch& b : rows) {
    const ColumnVector& x = b.columns[nk];
    for (size_t r = 0; r < b.num_rows; ++r) {
      key.clear();
      for (size_t k = 0; k < nk; ++k) AppendKey(b.columns[k], r, key);
      int64_t& c = counts[key];
      if (x.IsValid(r)) ++c;
    }
  }
}

// The count(DISTINCT) values the view stores now, per side, keyed like CountPairs' keys.
std::vector<GroupCounts> StoredCounts(const Shape& s, const std::vector<Batch>& view_rows) {
  std::vector<GroupCounts> out(s.sides.size());
  std::string key;
  for (size_t j = 0; j < s.sides.size(); ++j) {
    const DistinctSide& side = s.sides[j];
    for (const Batch& b : view_rows) {
      const ColumnVector& n = b.columns[static_cast<size_t>(side.column)];
      for (size_t r = 0; r < b.num_rows; ++r) {
        key.clear();
        for (int k : side.keys) AppendKey(b.columns[static_cast<size_t>(k)], r, key);
        out[j][key] = n.IsValid(r) ? n.data<int64_t>()[r] : 0;
      }
    }
  }
  return out;
}

// The rows of `delta` (distinct side rows of the added files) that the side table `meta` (its
// `files`) does not hold yet. Only the delta is hashed (a RowSet: the aggregation's group
// table); the stored rows are streamed past it, their files in parallel, hashed column by
// column (the dictionary-encoded keys once per entry) and compared by value, with no key
// string built per stored row: the bulk of an incremental count(DISTINCT) refresh.
Result<std::vector<Batch>> NewPairs(const MatViewContext& ctx, std::shared_ptr<const catalog::TableMetadata> meta,
                                    std::vector<catalog::DataFile> files, const Schema& schema,
                                    const std::vector<Batch>& delta) {
  std::vector<DataType> types;
  for (const auto& f : schema.fields) types.push_back(f.type);
  RowSet set(types);
  struct Where {
    uint32_t batch, row;
  };
  std::vector<Where> pairs;  // by id: the pair's first row in `delta`
  std::vector<uint32_t> ids;
  for (size_t bi = 0; bi < delta.size(); ++bi) {
    set.Insert(delta[bi], ids);
    for (size_t r = 0; r < ids.size(); ++r)
      if (ids[r] == pairs.size()) pairs.push_back({static_cast<uint32_t>(bi), static_cast<uint32_t>(r)});
  }
  // Found by any worker: one byte per pair, set (never cleared) with relaxed stores.
  std::vector<std::atomic<uint8_t>> found(pairs.size());
  const size_t workers = std::max<size_t>(1, std::min(ThreadPool::Default().size(), files.size()));
  std::vector<std::vector<uint32_t>> worker_ids(workers);
  std::vector<std::vector<uint64_t>> worker_hashes(workers);
  if (!pairs.empty()) {
    SL_RETURN_IF_ERROR(ForEachStored(ctx, meta, std::move(files), schema, workers, [&](size_t w, const Batch& b) {
      std::vector<uint32_t>& id = worker_ids[w];
      set.Find(b, id, worker_hashes[w]);
      for (size_t i = 0; i < b.live_rows(); ++i) {
        size_t r = b.selection ? b.selection->Get(i) : i;
        if (id[r] != RowSet::kAbsent) found[id[r]].store(1, std::memory_order_relaxed);
      }
    }));
  }
  std::vector<std::vector<uint32_t>> keep(delta.size());
  for (size_t i = 0; i < pairs.size(); ++i)
    if (!found[i].load(std::memory_order_relaxed)) keep[pairs[i].batch].push_back(pairs[i].row);
  std::vector<Batch> out;
  for (size_t bi = 0; bi < delta.size(); ++bi) {
    if (keep[bi].empty()) continue;
    Batch sub;
    sub.num_rows = keep[bi].size();
    for (size_t c = 0; c < schema.size(); ++c) {
      ColumnVector col(schema[c].type, keep[bi].size());
      col.Resize(0);
      for (uint32_t r : keep[bi]) col.AppendFrom(delta[bi].columns[c], r);
      sub.columns.push_back(std::move(col));
    }
    out.push_back(std::move(sub));
  }
  return out;
}

size_t SideParts(size_t pairs) { return std::clamp<size_t>(pairs / kSideFileRows, 1, kMaxSideParts); }

// `pairs` (keys..., x: a side's pair plan's rows) as side-table rows (keys..., x's id in the
// value dictionary `values`; NULL x stays NULL). The dictionary's (x, id) rows are streamed past
// the distinct x of `pairs`; an x it lacks gets the next id, and those rows are appended to it
// (committed before any side table refers to them). A dictionary left ahead of its side table
// by a crash holds ids nothing refers to yet; later refreshes find their values there and use
// them. Ids are what a side table stores and compares: 8 bytes, not the value (a 40-character
// customer token), which a refresh streams millions of times over.
Result<std::vector<Batch>> ToValueIds(const MatViewContext& ctx, std::shared_ptr<const catalog::TableMetadata> values,
                                      const DistinctSide& side, std::vector<Batch> pairs, int64_t base_snapshot) {
  if (!side.ids()) return pairs;  // the side table stores x itself
  const size_t nk = side.schema.size() - 1;
  RowSet distinct({side.value_type});
  std::vector<std::vector<uint32_t>> xid(pairs.size());  // per pair row: its x's id in `distinct`
  for (size_t bi = 0; bi < pairs.size(); ++bi)
    distinct.Insert({&pairs[bi].columns[nk]}, pairs[bi].num_rows, xid[bi]);
  // id of each distinct x in the dictionary, -1 while unknown. Each value is in the dictionary
  // once, so the workers write distinct slots.
  std::vector<std::atomic<int64_t>> id(distinct.size());
  for (auto& i : id) i.store(-1, std::memory_order_relaxed);
  SL_ASSIGN_OR_RETURN(auto files, ctx.lake->ListFiles(*values));
  const size_t workers = std::max<size_t>(1, std::min(ThreadPool::Default().size(), files.size()));
  std::vector<int64_t> next(workers, 0);  // 1 + the highest id each worker saw
  std::vector<std::vector<uint32_t>> worker_ids(workers);
  std::vector<std::vector<uint64_t>> worker_hashes(workers);
  if (!files.empty() && distinct.size() > 0) {
    SL_RETURN_IF_ERROR(ForEachStored(ctx, values, std::move(files), ValuesSchema(side), workers,
                                     [&](size_t w, const Batch& b) {
      std::vector<uint32_t>& found = worker_ids[w];
      distinct.Find({&b.columns[0]}, b.num_rows, found, worker_hashes[w]);
      const ColumnVector& ids = b.columns[1];
      for (size_t i = 0; i < b.live_rows(); ++i) {
        size_t r = b.selection ? b.selection->Get(i) : i;
        if (!ids.IsValid(r)) continue;
        const int64_t v = ids.GetValue<int64_t>(r);
        next[w] = std::max(next[w], v + 1);
        if (found[r] != RowSet::kAbsent) id[found[r]].store(v, std::memory_order_relaxed);
      }
    }));
  }
  int64_t next_id = 0;
  for (int64_t n : next) next_id = std::max(next_id, n);
  // The values the dictionary lacks, in batches of kBatchRows.
  std::vector<Batch> added;
  auto add = [&](const ColumnVector& x, size_t r, int64_t v) {
    if (added.empty() || added.back().num_rows == kBatchRows) {
      Batch& b = added.emplace_back();
      b.columns.emplace_back(side.value_type, kBatchRows);
      b.columns.emplace_back(DataType::Int64(), kBatchRows);
      for (auto& c : b.columns) c.Resize(0);
    }
    Batch& b = added.back();
    b.columns[0].AppendFrom(x, r);
    b.columns[1].Resize(b.num_rows + 1);
    b.columns[1].data<int64_t>()[b.num_rows] = v;
    ++b.num_rows;
  };
  std::vector<Batch> out;
  for (size_t bi = 0; bi < pairs.size(); ++bi) {
    Batch& b = pairs[bi];
    const ColumnVector& x = b.columns[nk];
    ColumnVector ids(DataType::Int64(), std::max<size_t>(b.num_rows, 1));
    ids.Resize(b.num_rows);
    for (size_t r = 0; r < b.num_rows; ++r) {
      if (!x.IsValid(r)) {
        ids.SetNull(r);
        continue;
      }
      std::atomic<int64_t>& v = id[xid[bi][r]];
      if (v.load(std::memory_order_relaxed) < 0) {
        v.store(next_id, std::memory_order_relaxed);
        add(x, r, next_id++);
      }
      ids.data<int64_t>()[r] = v.load(std::memory_order_relaxed);
    }
    b.columns[nk] = std::move(ids);
    out.push_back(std::move(b));
  }
  // Appended in parts like a side table written whole (a first build adds every value: 200k
  // customer tokens in the benchmark), so that the next refreshes stream the dictionary on
  // several workers; one file took one worker ~55 ms of a refresh's wall time.
  size_t added_rows = 0;
  for (const Batch& b : added) added_rows += b.num_rows;
  if (!added.empty())
    SL_RETURN_IF_ERROR(Publish(ctx, *values, ValuesSchema(side), added, base_snapshot, "append", "", Write::kAppend,
                               {}, SideParts(added_rows)));
  return out;
}

// Brings every side table of `view` to base snapshot p.to_snapshot, before the view itself is
// committed, and returns each side's counts per group.
// Incremental, side table at the view's base snapshot (the usual case): only the added files'
// pairs that the side table lacks are appended as one more file, and each group's count is the
// view's stored count (`stored`) plus its new non-NULL pairs — the side table is read, not
// rewritten. Otherwise (a side table left ahead of the view by a crash between the two commits,
// or one fragmented into many files): the old pairs plus the added files' pairs, deduplicated
// and rewritten (adding a pair twice changes nothing), counted from scratch. Full: recomputed.
struct SidesRefreshed {
  std::vector<GroupCounts> counts;               // per side
  std::map<std::string, std::string> tags;       // matview.side_<j> for the view's commit
};

Result<SidesRefreshed> RefreshSides(const MatViewContext& ctx, const catalog::TableMetadata& view,
                                    const Shape& shape, const std::string& sql,
                                    std::shared_ptr<const catalog::TableMetadata> base, RefreshPlan& p,
                                    const Shape* delta_shape = nullptr,
                                    const std::vector<GroupCounts>& stored = {}) {
  SidesRefreshed result;
  std::vector<GroupCounts>& out = result.counts;
  std::string base_name = Prop(view, kPropBase);
  for (size_t j = 0; j < shape.sides.size(); ++j) {
    const DistinctSide& side = shape.sides[j];
    const size_t nk = side.schema.size() - 1;
    SL_ASSIGN_OR_RETURN(SideTables tables, EnsureSide(ctx, view.name(), j, side));
    const auto& meta = tables.pairs;
    const int64_t at = SideBaseSnapshot(view, *meta, j);
    std::string& tag = result.tags[SideTagProperty(j)];
    bool merge = delta_shape && j < delta_shape->sides.size() && at >= p.from_snapshot && at <= p.to_snapshot;
    if (!merge) {
      MaterializedResult all;
      if (!delta_shape) {  // a full refresh: `shape` is bound over every file of the base
        SL_ASSIGN_OR_RETURN(all, RunPlan(ctx, side.pairs));
      } else {
        SL_ASSIGN_OR_RETURN(auto all_files, AllFiles(ctx, *base, p));
        SL_ASSIGN_OR_RETURN(all, SidePairs(ctx, sql, base_name,
                                           MakeLakeTable(ctx.store, base, std::move(all_files), p.to_snapshot), j,
                                           side.schema));
      }
      const size_t n = all.num_rows();
      SL_ASSIGN_OR_RETURN(std::vector<Batch> rows,
                          ToValueIds(ctx, tables.values, side, std::move(all.batches), p.to_snapshot));
      SL_RETURN_IF_ERROR(Publish(ctx, *meta, side.schema, rows, p.to_snapshot, "full", "", Write::kReplace, {},
                                 SideParts(n), {}, &tag));
      GroupCounts counts;
      CountPairs(rows, nk, counts);
      out.push_back(std::move(counts));
      continue;
    }
    if (!(delta_shape->sides[j].schema == side.schema) || !(delta_shape->sides[j].value_type == side.value_type))
      return Status::Aborted("the query's count(DISTINCT) columns changed since the view was built");
    SL_ASSIGN_OR_RETURN(MaterializedResult pairs, ExecutePlan(delta_shape->sides[j].rows, ctx.exec));  // optimized
    Tr().Mark(fmt::format("side {}: pairs of the added rows ({}, not deduplicated)", j, pairs.num_rows()));
    SL_ASSIGN_OR_RETURN(std::vector<Batch> delta,
                        ToValueIds(ctx, tables.values, side, std::move(pairs.batches), p.to_snapshot));
    Tr().Mark(fmt::format("side {}: value ids", j));
    SL_ASSIGN_OR_RETURN(auto side_files, ctx.lake->ListFiles(*meta));
    if (at == p.from_snapshot && j < stored.size() && side_files.size() < kMaxSideFiles) {
      SL_ASSIGN_OR_RETURN(std::vector<Batch> fresh, NewPairs(ctx, meta, std::move(side_files), side.schema, delta));
      Tr().Mark(fmt::format("side {}: new pairs past the stored ones", j));
      if (fresh.empty()) {  // nothing to append: the view's commit records the side table as it is
        const catalog::SnapshotInfo* cur = meta->current_snapshot();
        tag = cur != nullptr ? cur->manifest_list : "";
      } else {
        SL_RETURN_IF_ERROR(Publish(ctx, *meta, side.schema, fresh, p.to_snapshot, "incremental", "", Write::kAppend,
                                   {}, 1, {}, &tag));
      }
      GroupCounts counts = stored[j];
      CountPairs(fresh, nk, counts);
      out.push_back(std::move(counts));
      continue;
    }
    SL_ASSIGN_OR_RETURN(std::vector<Batch> rows, ReadStored(ctx, meta, side.schema, std::move(side_files)));
    for (auto& b : delta) rows.push_back(std::move(b));
    SL_ASSIGN_OR_RETURN(MaterializedResult merged, DistinctRows(ctx, side.schema, std::move(rows)));
    SL_RETURN_IF_ERROR(Publish(ctx, *meta, side.schema, merged.batches, p.to_snapshot, "incremental", "",
                               Write::kReplace, {}, SideParts(merged.num_rows()), {}, &tag));
    GroupCounts counts;
    CountPairs(merged.batches, nk, counts);
    out.push_back(std::move(counts));
  }
  return result;
}

// Sets each count(DISTINCT) column of the merged view rows from its side table's counts.
void ApplyCounts(const Shape& s, const std::vector<GroupCounts>& counts, MaterializedResult& r) {
  std::string key;
  for (size_t j = 0; j < s.sides.size() && j < counts.size(); ++j) {
    const DistinctSide& side = s.sides[j];
    for (Batch& b : r.batches) {
      ColumnVector out(DataType::Int64(), std::max<size_t>(b.num_rows, 1));
      out.Resize(b.num_rows);
      for (size_t i = 0; i < b.num_rows; ++i) {
        key.clear();
        for (int k : side.keys) AppendKey(b.columns[static_cast<size_t>(k)], i, key);
        auto it = counts[j].find(key);
        out.data<int64_t>()[i] = it == counts[j].end() ? 0 : it->second;
      }
      b.columns[static_cast<size_t>(side.column)] = std::move(out);
    }
  }
}

// A Hive partition of the view: its values in partition-key order, as DataFile::partition_values
// holds them (the text the writer put in the folder name; nullopt = NULL).
using PartitionId = std::vector<std::optional<std::string>>;

// The partitions `rows` (stored columns, `schema` order) fall in.
Result<std::set<PartitionId>> PartitionsOf(const catalog::TableSpec& spec, const Schema& schema,
                                           const std::vector<Batch>& rows) {
  std::vector<size_t> cols;
  for (const auto& k : spec.partition_keys) {
    auto idx = schema.FindField(k);
    if (!idx) return Status::Aborted("partition column '" + k + "' is not stored");
    cols.push_back(*idx);
  }
  std::set<PartitionId> out;
  PartitionId id(cols.size());
  for (const Batch& b : rows)
    for (size_t r = 0; r < b.num_rows; ++r) {
      for (size_t k = 0; k < cols.size(); ++k) {
        const ColumnVector& c = b.columns[cols[k]];
        id[k] = c.IsValid(r) ? std::optional<std::string>(ValueText(c, r)) : std::nullopt;
      }
      out.insert(id);
    }
  return out;
}

PartitionId PartitionOf(const catalog::DataFile& f) {
  PartitionId id;
  for (const auto& pv : f.partition_values) id.push_back(pv.value);
  return id;
}

Result<std::string> DoRefresh(const MatViewContext& ctx, std::shared_ptr<const catalog::TableMetadata> view,
                              bool full) {
  std::string sql = Prop(*view, kPropSql);
  std::string base_name = Prop(*view, kPropBase);
  Tr().Mark("refresh " + view->name() + ": start");
  SL_ASSIGN_OR_RETURN(auto base, ctx.lake->LoadTable(base_name));
  SL_ASSIGN_OR_RETURN(RefreshPlan p, PlanRefresh(ctx, *view, *base, full));
  Tr().Mark("plan: " + p.reason);
  if (p.kind == RefreshPlan::Kind::kUpToDate) return "REFRESH MATERIALIZED VIEW: up to date (" + p.reason + ")";
  if (p.kind == RefreshPlan::Kind::kIncremental) {
    // The definition is bound once, over the added files alone (the base table is not listed):
    // its state plan and side-table pair plans read just those.
    // With count(DISTINCT) columns, the state plan and the side pairs' plans read the added
    // files once between them (SharedScan); RefreshSides runs the pairs plans optimized here.
    auto added_files = std::make_shared<SharedScan>(MakeLakeTable(ctx.store, base, p.added, p.to_snapshot));
    OverlayCatalog added(*ctx.catalog, base_name, added_files);
    SL_ASSIGN_OR_RETURN(Shape shape, Analyze(sql, added));
    Schema schema = StoredSchema(shape);
    SL_ASSIGN_OR_RETURN(PlanPtr state_plan, Optimize(shape.delta_state));
    if (!shape.sides.empty()) {
      std::vector<int> columns;
      ScanColumnsOf(*state_plan, added_files.get(), columns);
      for (DistinctSide& side : shape.sides) {
        SL_ASSIGN_OR_RETURN(side.rows, Optimize(side.rows));
        ScanColumnsOf(*side.rows, added_files.get(), columns);
      }
      SL_RETURN_IF_ERROR(added_files->Share(std::move(columns)));
    }
    Tr().Mark("analyze");
    auto delta = ExecutePlan(state_plan, ctx.exec);
    Tr().Mark("aggregate the added files");
    // A partitioned view reads and rewrites only the partitions the added rows fall in; the
    // files of the others stay as they are.
    std::optional<std::vector<catalog::DataFile>> touched;
    std::vector<std::string> replaced;  // keys of the files rewritten
    if (delta.ok() && !view->spec.partition_keys.empty()) {
      auto parts = PartitionsOf(view->spec, schema, delta->batches);
      auto files = parts.ok() ? ctx.lake->ListFiles(*view) : Result<std::vector<catalog::DataFile>>(parts.status());
      if (!files.ok()) {
        delta = files.status();
      } else {
        touched.emplace();
        for (auto& f : *files)
          if (parts->count(PartitionOf(f))) {
            replaced.push_back(f.key);
            touched->push_back(std::move(f));
          }
      }
    }
    const bool partial = touched.has_value();
    auto old = delta.ok() ? ReadStored(ctx, view, schema, std::move(touched)) : Result<std::vector<Batch>>(delta.status());
    Tr().Mark("read the stored view");
    if (delta.ok() && old.ok()) {
      std::vector<GroupCounts> stored = StoredCounts(shape, *old);
      std::vector<Batch> rows = std::move(*old);
      for (auto& b : delta->batches) rows.push_back(std::move(b));
      std::optional<MaterializedResult> direct = MergeDirect(shape, schema, rows);
      if (!direct) {
        SL_ASSIGN_OR_RETURN(direct, MergeStates(ctx, shape, schema, std::move(rows)));
      }
      MaterializedResult merged = std::move(*direct);
      Tr().Mark("merge");
      SL_ASSIGN_OR_RETURN(SidesRefreshed sides, RefreshSides(ctx, *view, shape, sql, base, p, &shape, stored));
      Tr().Mark("side tables");
      ApplyCounts(shape, sides.counts, merged);
      std::string how = "incremental: " + p.reason;
      SL_RETURN_IF_ERROR(Publish(ctx, *view, schema, merged.batches, p.to_snapshot, how, DimsText(shape.dims),
                                 partial ? Write::kReplacePartitions : Write::kReplace, replaced, 1, sides.tags));
      return fmt::format("REFRESH MATERIALIZED VIEW: {} rows, {}", merged.num_rows(), how);
    }
    Status why = delta.ok() ? old.status() : delta.status();
    if (why.code() != StatusCode::kAborted) return why;
    p.reason = why.message();  // the definition no longer matches what is stored: rebuild
  }
  SL_ASSIGN_OR_RETURN(auto all_files, AllFiles(ctx, *base, p));
  OverlayCatalog all(*ctx.catalog, base_name, MakeLakeTable(ctx.store, base, std::move(all_files), p.to_snapshot));
  SL_ASSIGN_OR_RETURN(Shape shape, Analyze(sql, all));
  SL_ASSIGN_OR_RETURN(MaterializedResult rows, RunPlan(ctx, shape.state));
  Tr().Mark("aggregate every file");
  SidesRefreshed sides;
  if (shape.incremental) {
    FinishAverages(shape, rows);
    SL_ASSIGN_OR_RETURN(sides, RefreshSides(ctx, *view, shape, sql, base, p));
  }
  std::string how = "full: " + p.reason;
  SL_RETURN_IF_ERROR(Publish(ctx, *view, StoredSchema(shape), rows.batches, p.to_snapshot, how, DimsText(shape.dims),
                             Write::kReplace, {}, 1, sides.tags));
  return fmt::format("REFRESH MATERIALIZED VIEW: {} rows, {}", rows.num_rows(), how);
}

Status ValidateRefreshMode(const std::string& mode) {
  if (mode == "manual" || mode == "on_commit") return Status::OK();
  // rate(N minute[s]|hour[s]|day[s]), as EventBridge writes schedules.
  if (mode.starts_with("rate(") && mode.ends_with(")")) {
    std::string body = mode.substr(5, mode.size() - 6);
    size_t sp = body.find(' ');
    if (sp != std::string::npos && sp > 0 && std::all_of(body.begin(), body.begin() + static_cast<long>(sp), ::isdigit)) {
      std::string unit = body.substr(sp + 1);
      for (const char* u : {"minute", "minutes", "hour", "hours", "day", "days"})
        if (unit == u) return Status::OK();
    }
  }
  return Status::InvalidArgument("refresh must be 'manual', 'on_commit' or 'rate(N minutes|hours|days)', not '" +
                                 mode + "'");
}

}  // namespace

std::shared_future<Result<std::vector<io::ObjectInfo>>> StartListingViews(io::ObjectStore* store) {
  try {
    return std::async(std::launch::async, [store] { return store->List(kMarkerPrefix); }).share();
  } catch (const std::system_error&) {
    return {};  // no thread to spare: listed when needed
  }
}

namespace {

Result<std::vector<std::shared_ptr<const catalog::TableMetadata>>> AllViews(const MatViewContext& ctx) {
  std::vector<std::shared_ptr<const catalog::TableMetadata>> out;
  SL_ASSIGN_OR_RETURN(auto markers, ctx.markers.valid() ? ctx.markers.get() : ctx.store->List(kMarkerPrefix));
  for (const auto& m : markers) {
    std::string name = m.key.substr(std::string(kMarkerPrefix).size());
    auto meta = ctx.lake->LoadTable(name);
    if (meta.ok() && IsMatView(**meta)) out.push_back(*meta);
  }
  return out;
}

// ---------------------------------------------------------------- rewrite

// `e` (over the base table's columns) as an expression over the view's columns: a
// sub-expression equal to a view key becomes that key's column. nullptr when a base column is
// left over (the view does not keep it).
ExprPtr Remap(const ExprPtr& e, const std::map<std::string, std::pair<int, DataType>>& keys) {
  auto it = keys.find(e->ToString());
  if (it != keys.end()) return MakeColumn(it->second.first, it->second.second);
  if (e->kind == ExprKind::kColumn || e->subquery) return nullptr;
  auto copy = std::make_shared<Expr>(*e);
  for (auto& a : copy->args) {
    a = Remap(a, keys);
    if (!a) return nullptr;
  }
  return copy;
}

struct Candidate {
  std::shared_ptr<const catalog::TableMetadata> meta;
  Shape shape;
};

// Scan of `table` [+ the query's filters that are not the view's, remapped onto its key columns]
// + an Aggregate with the query's groups remapped onto them, without aggregates yet. nullptr, with
// *why, when a filter or a group is not on the view's keys.
std::shared_ptr<PlanNode> GroupOver(std::shared_ptr<const Table> table,
                                    const std::map<std::string, std::pair<int, DataType>>& keys,
                                    const std::set<std::string>& view_filters, const PlanNode& agg,
                                    const std::vector<ExprPtr>& conj, std::string* why) {
  std::vector<ExprPtr> residual;
  for (const auto& c : conj) {
    if (view_filters.count(c->ToString())) continue;
    ExprPtr r = Remap(c, keys);
    if (!r) {
      *why = "filter " + c->ToString() + " is not on the view's grouping columns";
      return nullptr;
    }
    residual.push_back(r);
  }
  const Schema& vs = table->schema();
  auto scan = std::make_shared<PlanNode>(PlanKind::kScan);
  scan->table = std::move(table);
  for (size_t i = 0; i < vs.size(); ++i) {
    scan->scan_columns.push_back(static_cast<int>(i));
    scan->output.push_back({vs[i].name, vs[i].type});
  }
  PlanPtr input = scan;
  if (!residual.empty()) {
    auto f = std::make_shared<PlanNode>(PlanKind::kFilter);
    f->output = scan->output;
    if (residual.size() == 1) {
      f->predicate = residual[0];
    } else {
      auto a = std::make_shared<Expr>();
      a->kind = ExprKind::kAnd;
      a->type = DataType::Boolean();
      a->args = residual;
      f->predicate = a;
    }
    f->children.push_back(scan);
    input = f;
  }
  auto agg2 = std::make_shared<PlanNode>(PlanKind::kAggregate);
  agg2->children.push_back(input);
  for (size_t g = 0; g < agg.groups.size(); ++g) {
    ExprPtr r = Remap(agg.groups[g], keys);
    if (!r) {
      *why = "GROUP BY " + agg.groups[g]->ToString() + " is finer than the view's grouping";
      return nullptr;
    }
    agg2->groups.push_back(r);
    agg2->output.push_back(agg.output[g]);
  }
  return agg2;
}

std::string DistinctCanon(const AggregateCall& call) {
  return "count(DISTINCT " + call.args[0]->ToString() + ")";
}

bool IsCountDistinct(const AggregateCall& call) {
  return call.fn.distinct && call.fn.name == "count" && call.args.size() == 1 && !call.filter;
}

// Can a count(DISTINCT x) over the side table `files` (of `view`) count its ids in bitmaps
// ($count_distinct_ids: one bit per id per group, set per pair)? Each bitmap spans the largest id
// (the files' max of _mv_vid), there are at most as many groups as the view has rows (the
// query's grouping is coarser), and each worker may hold a bitmap of every group: at most
// workers x rows x (max id + 1) / 8 bytes. Bitmaps are used while that is no more than the
// general count(DISTINCT)'s pair sets would hold (8 bytes per pair of the side table; 1 MiB at
// least), so that they never need much more memory than it; else, or without the statistics,
// the general count(DISTINCT).
bool FitsIdBitmaps(const catalog::TableMetadata& view, const std::vector<catalog::DataFile>& files) {
  const catalog::SnapshotInfo* sn = view.current_snapshot();
  if (sn == nullptr) return false;
  int64_t max_id = -1, pairs = 0;
  for (const auto& f : files) {
    if (f.row_count < 0) return false;
    pairs += f.row_count;
    if (f.row_count == 0) continue;
    const catalog::ColumnStats* st = f.FindStats(kSideValueId);
    if (st == nullptr) return false;
    if (st->max.is_null()) {
      if (st->null_count != f.row_count) return false;  // unknown
      continue;                                         // only NULL ids
    }
    if (st->max.type().id != TypeId::kInt64) return false;
    max_id = std::max(max_id, st->max.int_value());
  }
  const int64_t budget = std::max<int64_t>(int64_t{1} << 20, pairs * 8);
  const int64_t per_group = (max_id / 64 + 1) * 8;
  const auto workers = static_cast<int64_t>(std::max<size_t>(ThreadPool::Default().size(), 1));
  return std::max<int64_t>(sn->total_rows, 1) <= budget / per_group / workers;
}

// count(DISTINCT x) at a grouping coarser than the view's: the distinct x of the merged groups
// are counted again from the side table, which holds nothing else, so this answers a query whose
// aggregates are all count(DISTINCT x) of that x.
Result<PlanPtr> AnswerFromSide(const MatViewContext& ctx, const PlanNode& agg, const std::vector<ExprPtr>& conj,
                               const Candidate& view, const std::string& canon, std::string* why) {
  const Shape& s = view.shape;
  for (const auto& call : agg.aggregates)
    if (!IsCountDistinct(call) || DistinctCanon(call) != canon) {
      *why = canon + " at a grouping coarser than the view's comes from its side table, which cannot answer " +
             AggCanon(call.fn.name, call.args) + " as well";
      return PlanPtr();
    }
  size_t j = 0;
  while (j < s.sides.size() && s.columns[static_cast<size_t>(s.sides[j].column)].canon != canon) ++j;
  if (j == s.sides.size()) {
    *why = canon + " is not kept by the view";
    return PlanPtr();
  }
  const DistinctSide& side = s.sides[j];
  auto meta = ctx.lake->LoadTable(SideName(view.meta->name(), j));
  if (!meta.ok() || !((*meta)->schema() == side.schema)) {
    *why = "its side table " + SideName(view.meta->name(), j) + " is missing";
    return PlanPtr();
  }
  if (Prop(*view.meta, kPropBaseSnapshot).empty() ||
      SideBaseSnapshot(*view.meta, **meta, j) != std::stoll(Prop(*view.meta, kPropBaseSnapshot))) {
    *why = "its side table " + (*meta)->name() + " is at another base snapshot than the view (a refresh was cut short)";
    return PlanPtr();
  }
  SL_ASSIGN_OR_RETURN(auto files, ctx.lake->ListFiles(**meta));
  const bool bitmaps = FitsIdBitmaps(*view.meta, files);
  auto table = MakeLakeTable(ctx.store, *meta, std::move(files), (*meta)->current_snapshot_id);
  std::map<std::string, std::pair<int, DataType>> keys;
  for (size_t g = 0; g < side.keys.size(); ++g)
    keys.emplace(s.columns[static_cast<size_t>(side.keys[g])].canon,
                 std::make_pair(static_cast<int>(g), side.schema[g].type));
  auto agg2 = GroupOver(table, keys, s.filters, agg, conj, why);
  if (!agg2) return PlanPtr();
  const Field& value = side.schema[side.schema.size() - 1];
  for (size_t i = 0; i < agg.aggregates.size(); ++i) {
    AggregateCall call;
    if (bitmaps) {
      SL_ASSIGN_OR_RETURN(call.fn, ResolveAggregate("$count_distinct_ids", {value.type}, false));
    } else {
      SL_ASSIGN_OR_RETURN(call.fn, ResolveAggregate("count", {value.type}, true));
    }
    call.args.push_back(MakeColumn(static_cast<int>(side.keys.size()), value.type));
    agg2->aggregates.push_back(std::move(call));
    agg2->output.push_back(agg.output[agg.groups.size() + i]);
  }
  auto proj = std::make_shared<PlanNode>(PlanKind::kProject);
  proj->children.push_back(agg2);
  for (size_t i = 0; i < agg2->output.size(); ++i)
    proj->exprs.push_back(MakeColumn(static_cast<int>(i), agg2->output[i].type, agg2->output[i].name));
  proj->output = agg.output;
  *why = "through its side table " + (*meta)->name();  // for EXPLAIN
  return PlanPtr(proj);
}

// The aggregation `agg` (over Filter* over the scan of the view's base) answered from `view`,
// or the reason it cannot be.
Result<PlanPtr> AnswerFrom(const MatViewContext& ctx, const PlanNode& agg, const std::vector<ExprPtr>& conj,
                           const Candidate& view, std::string* why) {
  const Shape& s = view.shape;
  if (!s.incremental) {
    *why = "full-refresh-only views are not used for rewrite (" + s.why_not + ")";
    return PlanPtr();
  }
  if (!agg.grouping_sets.empty() || agg.grouping_id) {
    *why = "GROUPING SETS / ROLLUP / CUBE";
    return PlanPtr();
  }
  SL_ASSIGN_OR_RETURN(auto files, ctx.lake->ListFiles(*view.meta));
  auto table = MakeLakeTable(ctx.store, view.meta, std::move(files), view.meta->current_snapshot_id);
  const Schema& vs = table->schema();
  // View keys by expression text -> column of the view table.
  std::map<std::string, std::pair<int, DataType>> keys;
  std::map<std::string, std::pair<int, DataType>> states;  // aggregate canon -> column
  for (const auto& c : s.columns) {
    auto idx = vs.FindField(c.name);
    if (!idx) {
      *why = "stored column '" + c.name + "' is missing";
      return PlanPtr();
    }
    auto entry = std::make_pair(static_cast<int>(*idx), vs[*idx].type);
    if (c.kind == StateKind::kKey) keys.emplace(c.canon, entry);
    else if (c.kind != StateKind::kAvg && c.kind != StateKind::kHll) states.emplace(c.canon, entry);
  }
  // Filters: the view's must all be in the query; the query's others must be on view keys.
  std::set<std::string> qconj;
  for (const auto& c : conj) qconj.insert(c->ToString());
  for (const auto& f : s.filters)
    if (!qconj.count(f)) {
      *why = "its WHERE condition " + f + " is not in the query";
      return PlanPtr();
    }
  auto agg2 = GroupOver(table, keys, s.filters, agg, conj, why);
  if (!agg2) return PlanPtr();
  // Grouped by every key of the view, each output group is one view row (or none).
  std::set<int> grouped;
  for (const auto& g : agg2->groups)
    if (g->kind == ExprKind::kColumn) grouped.insert(g->column);
  bool every_key = true;
  for (const auto& kv : keys) every_key = every_key && grouped.count(kv.second.first) > 0;
  // Each query aggregate from the view's states; `finish` builds its final expression over agg2.
  auto proj = std::make_shared<PlanNode>(PlanKind::kProject);
  proj->children.push_back(agg2);
  for (size_t g = 0; g < agg.groups.size(); ++g)
    proj->exprs.push_back(MakeColumn(static_cast<int>(g), agg.output[g].type, agg.output[g].name));
  auto add_agg = [&](const char* fn, std::pair<int, DataType> col, bool distinct = false) -> Result<int> {
    AggregateCall call;
    SL_ASSIGN_OR_RETURN(call.fn, ResolveAggregate(fn, {col.second}, distinct));
    call.args.push_back(MakeColumn(col.first, col.second));
    agg2->aggregates.push_back(std::move(call));
    agg2->output.push_back({fn, agg2->aggregates.back().fn.return_type});
    return static_cast<int>(agg2->output.size() - 1);
  };
  const bool global = agg.groups.empty();
  auto zero_when_empty = [&](ExprPtr out) {  // count over no rows is 0, not NULL
    if (!global) return out;
    auto co = std::make_shared<Expr>();
    co->kind = ExprKind::kCoalesce;
    co->type = DataType::Int64();
    co->args = {out, MakeLiteral(Value::Int64(0))};
    return ExprPtr(co);
  };
  for (size_t i = 0; i < agg.aggregates.size(); ++i) {
    const AggregateCall& call = agg.aggregates[i];
    const std::string& fn = call.fn.name;
    const DataType& want = agg.output[agg.groups.size() + i].type;
    std::string canon = AggCanon(fn, call.args);
    if (IsCountDistinct(call)) {
      canon = DistinctCanon(call);
    } else if (call.filter || (call.fn.distinct && fn != "min" && fn != "max" && fn != "approx_distinct")) {
      *why = canon + " with DISTINCT or FILTER cannot be re-aggregated";
      return PlanPtr();
    }
    ExprPtr out;
    if (IsCountDistinct(call)) {
      auto st = states.find(canon);
      ExprPtr key = st == states.end() ? Remap(call.args[0], keys) : nullptr;
      if (key && key->kind == ExprKind::kColumn) {
        // The distinct values of a grouping column are those of the view's rows (every group
        // the base has is a row): count(DISTINCT key) over them.
        SL_ASSIGN_OR_RETURN(int c, add_agg("count", {key->column, key->type}, true));
        out = MakeColumn(c, DataType::Int64());
        proj->exprs.push_back(out);
        continue;
      }
      if (st == states.end()) {
        *why = canon + " is not kept by the view";
        return PlanPtr();
      }
      if (!every_key) return AnswerFromSide(ctx, agg, conj, view, canon, why);
      SL_ASSIGN_OR_RETURN(int c, add_agg("max", st->second));
      out = zero_when_empty(MakeColumn(c, agg2->output[static_cast<size_t>(c)].type));
    } else if (fn == "approx_distinct") {
      auto st = states.find(canon);  // the sketch column
      if (st == states.end()) {
        *why = canon + " is not kept by the view";
        return PlanPtr();
      }
      SL_ASSIGN_OR_RETURN(int c, add_agg("$hll_estimate", st->second));
      out = MakeColumn(c, agg2->output[static_cast<size_t>(c)].type);
    } else if (fn == "count" || fn == "count_if" || fn == "sum") {
      auto st = states.find(canon);
      if (st == states.end()) {
        *why = canon + " is not kept by the view";
        return PlanPtr();
      }
      SL_ASSIGN_OR_RETURN(int c, add_agg("sum", st->second));
      out = MakeColumn(c, agg2->output[static_cast<size_t>(c)].type);
      if (fn != "sum") out = zero_when_empty(out);
    } else if (fn == "min" || fn == "max") {
      auto st = states.find(canon);
      std::pair<int, DataType> src;
      if (st != states.end()) {
        src = st->second;
      } else if (ExprPtr k = Remap(call.args[0], keys); k && k->kind == ExprKind::kColumn) {
        src = {k->column, k->type};  // min/max of a grouping column
      } else {
        *why = canon + " is not kept by the view";
        return PlanPtr();
      }
      SL_ASSIGN_OR_RETURN(int c, add_agg(fn.c_str(), src));
      out = MakeColumn(c, agg2->output[static_cast<size_t>(c)].type);
    } else if (fn == "avg") {
      auto ss = states.find(AggCanon("sum", call.args));
      auto cs = states.find(AggCanon("count", call.args));
      if (ss == states.end() || cs == states.end() || want.id != TypeId::kDouble) {
        *why = canon + " needs sum and count of the same argument in the view";
        return PlanPtr();
      }
      SL_ASSIGN_OR_RETURN(int sc, add_agg("sum", ss->second));
      SL_ASSIGN_OR_RETURN(int cc, add_agg("sum", cs->second));
      auto to_double = [](ExprPtr e) {
        if (e->type.id == TypeId::kDouble) return e;
        auto c = std::make_shared<Expr>();
        c->kind = ExprKind::kCast;
        c->type = DataType::Double();
        c->args.push_back(std::move(e));
        return ExprPtr(c);
      };
      ExprPtr sum = to_double(MakeColumn(sc, agg2->output[static_cast<size_t>(sc)].type));
      ExprPtr cnt = MakeColumn(cc, DataType::Int64());
      // NULLIF(count, 0) keeps the division defined: no rows (or only NULLs) give NULL.
      auto is_zero = std::make_shared<Expr>();
      SL_ASSIGN_OR_RETURN(auto eq, ResolveScalar("$eq", {DataType::Int64(), DataType::Int64()}));
      is_zero->kind = ExprKind::kCall;
      is_zero->type = DataType::Boolean();
      is_zero->fn = std::make_shared<ScalarFunction>(eq);
      is_zero->name = eq.name;
      is_zero->args = {cnt, MakeLiteral(Value::Int64(0))};
      auto safe = std::make_shared<Expr>();
      safe->kind = ExprKind::kCase;
      safe->type = DataType::Int64();
      safe->has_else = true;
      safe->args = {is_zero, MakeLiteral(Value::Null(DataType::Int64())), cnt};
      SL_ASSIGN_OR_RETURN(auto div, ResolveScalar("$div", {DataType::Double(), DataType::Double()}));
      auto d = std::make_shared<Expr>();
      d->kind = ExprKind::kCall;
      d->type = div.return_type;
      d->fn = std::make_shared<ScalarFunction>(div);
      d->name = div.name;
      d->args = {sum, to_double(safe)};
      out = d;
    } else {
      *why = fn + " cannot be re-aggregated from a view";
      return PlanPtr();
    }
    if (!(out->type == want)) {
      *why = fmt::format("{} would come back as {} instead of {}", canon, out->type.ToString(), want.ToString());
      return PlanPtr();
    }
    proj->exprs.push_back(out);
  }
  proj->output = agg.output;
  return PlanPtr(proj);
}

struct RewriteState {
  const MatViewContext& ctx;
  std::vector<std::string>* notes;
  std::map<std::string, std::vector<Candidate>> by_base;  // lower-case base -> views
  bool loaded = false;
};

Status LoadCandidates(RewriteState& rs) {
  if (rs.loaded) return Status::OK();
  rs.loaded = true;
  auto views = AllViews(rs.ctx);
  if (!views.ok()) return Status::OK();  // no marker folder: no views
  for (auto& meta : *views) {
    auto shape = Analyze(Prop(*meta, kPropSql), *rs.ctx.catalog);
    if (!shape.ok()) {
      if (rs.notes) rs.notes->push_back("materialized view " + meta->name() + " not usable: " + shape.status().message());
      continue;
    }
    rs.by_base[Lower(Prop(*meta, kPropBase))].push_back({meta, std::move(*shape)});
  }
  return Status::OK();
}

// Is `view` fresh for a query that reads `base_snapshot` of its base?
bool Fresh(const MatViewContext& ctx, const Candidate& view, int64_t base_snapshot, std::string* why) {
  std::string rec = Prop(*view.meta, kPropBaseSnapshot);
  if (rec.empty()) {
    *why = "it has never been built";
    return false;
  }
  int64_t recorded = std::stoll(rec);
  if (recorded == base_snapshot) return true;
  if (ctx.max_staleness_ms > 0 && recorded < base_snapshot) {
    auto base = ctx.lake->LoadTable(Prop(*view.meta, kPropBase));
    if (base.ok()) {
      for (const auto& sn : (*base)->snapshots)
        if (sn.id > recorded) {
          int64_t stale = Now(ctx) - sn.timestamp_ms;
          if (stale <= ctx.max_staleness_ms) return true;
          *why = fmt::format("stale for {} ms (more than the {} ms allowed)", stale, ctx.max_staleness_ms);
          return false;
        }
    }
  }
  *why = fmt::format("stale: it reflects base snapshot {}, the query reads {}", recorded, base_snapshot);
  return false;
}

// The dimension tables the query reads are at the snapshots the view reflects.
bool SameDims(const Candidate& view, const Source& src, std::string* why) {
  auto recorded = ParseDims(Prop(*view.meta, kPropDims));
  for (const PlanNode* d : src.dims) {
    auto it = std::find_if(recorded.begin(), recorded.end(),
                           [&](const auto& r) { return IEquals(r.first, d->table->name()); });
    if (it == recorded.end() || it->second != d->table->snapshot_id()) {
      *why = fmt::format("dimension table {} is at snapshot {}, the view reflects {}", d->table->name(),
                         d->table->snapshot_id(), it == recorded.end() ? "none" : std::to_string(it->second));
      return false;
    }
  }
  return true;
}

Result<PlanPtr> RewriteNode(RewriteState& rs, const PlanPtr& node) {
  if (node->kind == PlanKind::kAggregate) {
    std::vector<ExprPtr> conj;
    Source src;
    std::string why_source;
    const PlanNode* scan = SourceBelow(node->children[0].get(), &conj, &src, &why_source) ? src.fact : nullptr;
    if (scan && scan->table->snapshot_id() >= 0) {
      SL_RETURN_IF_ERROR(LoadCandidates(rs));
      auto it = rs.by_base.find(Lower(scan->table->name()));
      if (it != rs.by_base.end()) {
        PlanPtr best;
        int64_t best_rows = 0;
        std::string best_name, best_how;
        std::vector<std::string> rejected;
        for (const auto& cand : it->second) {
          std::string why;
          if (cand.shape.join != src.join) {
            rejected.push_back("not " + cand.meta->name() + ": " +
                               (cand.shape.join.empty() ? "the query joins other tables, the view does not"
                                                        : "the view's joins differ from the query's"));
            continue;
          }
          if (!Fresh(rs.ctx, cand, scan->table->snapshot_id(), &why) || !SameDims(cand, src, &why)) {
            rejected.push_back("not " + cand.meta->name() + ": " + why);
            continue;
          }
          SL_ASSIGN_OR_RETURN(PlanPtr p, AnswerFrom(rs.ctx, *node, conj, cand, &why));
          if (!p) {
            rejected.push_back("not " + cand.meta->name() + ": " + why);
            continue;
          }
          const catalog::SnapshotInfo* sn = cand.meta->current_snapshot();
          int64_t rows = sn ? sn->total_rows : 0;
          if (!best || rows < best_rows) {
            if (best) rejected.push_back("not " + best_name + ": " + cand.meta->name() + " is smaller");
            best = p;
            best_rows = rows;
            best_name = cand.meta->name();
            best_how = why;  // set on success only by answers through a side table
          } else {
            rejected.push_back("not " + cand.meta->name() + ": " + best_name + " is smaller");
          }
        }
        if (rs.notes) {
          if (best)
            rs.notes->push_back(fmt::format("materialized view: {} answers the aggregation over {} ({} rows{})",
                                            best_name, scan->table->name(), best_rows,
                                            best_how.empty() ? "" : ", " + best_how));
          else
            rs.notes->push_back("materialized view: none used for the aggregation over " + scan->table->name());
          for (auto& r : rejected) rs.notes->push_back("  " + r);
        }
        if (best) return best;
      }
    }
  }
  bool changed = false;
  std::vector<PlanPtr> kids;
  for (const auto& c : node->children) {
    SL_ASSIGN_OR_RETURN(PlanPtr k, RewriteNode(rs, c));
    changed |= k != c;
    kids.push_back(k);
  }
  if (!changed) return node;
  auto copy = std::make_shared<PlanNode>(*node);
  copy->children = std::move(kids);
  return PlanPtr(copy);
}

}  // namespace

// ---------------------------------------------------------------- statements

Result<std::string> CreateMaterializedView(const MatViewContext& ctx, const std::string& name,
                                           const std::string& sql,
                                           const std::vector<std::pair<std::string, std::string>>& properties,
                                           bool if_not_exists) {
  std::string base_name = BaseName(name);
  SL_RETURN_IF_ERROR(catalog::ValidateTableName(base_name));
  if (auto existing = ctx.lake->LoadTable(base_name); existing.ok()) {
    if (if_not_exists && IsMatView(**existing)) return std::string("CREATE MATERIALIZED VIEW: already exists");
    return Status::AlreadyExists(std::string(IsMatView(**existing) ? "materialized view '" : "a table named '") +
                                 base_name + "' already exists");
  }
  if (ctx.catalog->GetView(base_name)) return Status::AlreadyExists("a view named '" + base_name + "' exists");
  std::string mode = "manual";
  std::vector<std::string> partition_keys;
  for (const auto& [k, v] : properties) {
    if (k == "refresh") {
      mode = Lower(v);
      SL_RETURN_IF_ERROR(ValidateRefreshMode(mode));
    } else if (k == "partitioned_by") {
      partition_keys = SplitPartitionList(v);
    } else if (k != "format" || Lower(v) != "parquet") {
      return Status::InvalidArgument("unknown materialized view property '" + k +
                                     "' (known: partitioned_by, refresh, format = 'PARQUET')");
    }
  }
  SL_ASSIGN_OR_RETURN(Shape shape, Analyze(sql, *ctx.catalog));
  if (shape.base.empty()) return Status::InvalidArgument("a materialized view must read a table");
  SL_ASSIGN_OR_RETURN(auto base, ctx.lake->LoadTable(shape.base));
  Schema schema = StoredSchema(shape);
  catalog::TableSpec spec;
  spec.name = base_name;
  spec.format = catalog::FileFormat::kParquet;
  spec.location = "processed_data/" + base_name + "/";
  for (const auto& p : partition_keys) {
    auto f = schema.FindField(p);
    if (!f) return Status::InvalidArgument("partition column '" + p + "' is not a column of the view");
    if (shape.incremental && shape.columns[*f].kind != StateKind::kKey)
      return Status::InvalidArgument("partition column '" + p + "' must be a GROUP BY column");
  }
  spec.partition_keys = partition_keys;
  for (const auto& f : schema.fields)
    if (std::find(partition_keys.begin(), partition_keys.end(), Lower(f.name)) == partition_keys.end())
      spec.schema.fields.push_back(f);
  for (const auto& p : partition_keys) spec.schema.fields.push_back(schema[*schema.FindField(p)]);
  spec.properties[kPropSql] = sql;
  spec.properties[kPropBase] = base->name();
  spec.properties[kPropRefresh] = mode;
  spec.properties[kPropIncremental] = shape.incremental ? "true" : shape.why_not;
  for (size_t j = 0; j < shape.sides.size(); ++j) {
    // A side table left by an earlier view of this name (a crash mid-CREATE) is taken over; a
    // table of the user's with that name is not.
    for (const std::string& side : {SideName(base_name, j), ValuesName(base_name, j)}) {
      auto other = ctx.lake->LoadTable(side);
      if (other.ok() && Prop(**other, kPropSideOf) != base_name)
        return Status::AlreadyExists("table '" + side + "' exists; the view needs that name for "
                                     "its count(DISTINCT) side table");
      SL_RETURN_IF_ERROR(catalog::ValidateTableName(side));
    }
  }
  SL_RETURN_IF_ERROR(ctx.lake->CreateTable(spec).status());
  SL_RETURN_IF_ERROR(ctx.store->Put(kMarkerPrefix + base_name, base->name()));
  SL_ASSIGN_OR_RETURN(auto view, ctx.lake->LoadTable(base_name));
  SL_ASSIGN_OR_RETURN(std::string msg, DoRefresh(ctx, view, false));
  std::string out = "CREATE MATERIALIZED VIEW: " + msg.substr(msg.find(':') + 2);
  if (!shape.incremental) out += "; notice: full refresh only (" + shape.why_not + ")";
  return out;
}

Result<std::string> RefreshMaterializedView(const MatViewContext& ctx, const std::string& name, bool full) {
  SL_ASSIGN_OR_RETURN(auto view, LoadView(ctx, name));
  return DoRefresh(ctx, view, full);
}

Result<std::vector<std::string>> ExplainRefresh(const MatViewContext& ctx, const std::string& name) {
  SL_ASSIGN_OR_RETURN(auto view, LoadView(ctx, name));
  SL_ASSIGN_OR_RETURN(auto base, ctx.lake->LoadTable(Prop(*view, kPropBase)));
  SL_ASSIGN_OR_RETURN(RefreshPlan p, PlanRefresh(ctx, *view, *base, false));
  std::vector<std::string> out;
  const char* kind = p.kind == RefreshPlan::Kind::kUpToDate ? "nothing to do"
                     : p.kind == RefreshPlan::Kind::kIncremental ? "incremental" : "full";
  out.push_back(std::string("refresh: ") + kind);
  out.push_back("why: " + p.reason);
  out.push_back(fmt::format("base: {} snapshot {} (view reflects {})", base->name(), p.to_snapshot,
                            Prop(*view, kPropBaseSnapshot).empty() ? "none" : Prop(*view, kPropBaseSnapshot)));
  if (p.kind == RefreshPlan::Kind::kIncremental) {
    for (size_t i = 0; i < p.added.size() && i < 10; ++i)
      out.push_back(fmt::format("  read {} ({} rows)", p.added[i].key, p.added[i].row_count));
    if (p.added.size() > 10) out.push_back(fmt::format("  ... and {} more file(s)", p.added.size() - 10));
    out.push_back("then merge into the view's groups and commit the view with the new base snapshot");
  } else if (p.kind == RefreshPlan::Kind::kFull) {
    out.push_back(fmt::format("read all {} file(s) of the base and rewrite the view", p.all ? p.all->size() : 0));
  }
  if (p.kind != RefreshPlan::Kind::kUpToDate) {
    // count(DISTINCT) side tables: named here so that the cost of a refresh is visible.
    auto shape = Analyze(Prop(*view, kPropSql), *ctx.catalog);
    if (shape.ok())
      for (size_t j = 0; j < shape->sides.size(); ++j)
        out.push_back(fmt::format("{}: side table {} ({})",
                                  shape->columns[static_cast<size_t>(shape->sides[j].column)].canon,
                                  SideName(view->name(), j),
                                  p.kind == RefreshPlan::Kind::kIncremental
                                      ? "add the new (group, value) pairs it lacks as one more file; the groups' counts grow by them"
                                      : "rebuilt from all the base's files"));
  }
  return out;
}

Status DropMaterializedView(const MatViewContext& ctx, const std::string& name, bool if_exists) {
  auto view = LoadView(ctx, name);
  if (!view.ok()) {
    if (view.status().code() == StatusCode::kNotFound && if_exists) return Status::OK();
    return view.status();
  }
  std::string n = (*view)->name();
  SL_RETURN_IF_ERROR(ctx.lake->DropTable(n));
  SL_RETURN_IF_ERROR(DropSides(ctx, n));
  Status s = ctx.store->Delete(kMarkerPrefix + n);
  if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  // The view's data files are its own (nobody else references them).
  SL_ASSIGN_OR_RETURN(auto files, ctx.store->List((*view)->spec.location));
  for (const auto& f : files) (void)ctx.store->Delete(f.key);
  return Status::OK();
}

Result<std::pair<std::vector<std::string>, std::vector<std::vector<std::string>>>> ShowMaterializedViews(
    const MatViewContext& ctx) {
  std::vector<std::string> header = {"name", "base_table", "base_snapshot", "base_current", "state",
                                     "staleness_s", "last_refresh", "how", "refresh", "incremental", "rows"};
  std::vector<std::vector<std::string>> rows;
  SL_ASSIGN_OR_RETURN(auto views, AllViews(ctx));
  for (const auto& v : views) {
    std::string rec = Prop(*v, kPropBaseSnapshot);
    auto base = ctx.lake->LoadTable(Prop(*v, kPropBase));
    int64_t cur = base.ok() ? (*base)->current_snapshot_id : -1;
    std::string state = "fresh", stale_s = "0";
    std::vector<std::string> dims_changed = ChangedDims(ctx, *v);
    if (rec.empty()) {
      state = "never built";
      stale_s = "";
    } else if (!dims_changed.empty()) {
      state = "stale (" + dims_changed[0] + ")";
      stale_s = "";
    } else if (std::stoll(rec) != cur) {
      int64_t behind = 0, first_ts = 0;
      if (base.ok())
        for (const auto& sn : (*base)->snapshots)
          if (sn.id > std::stoll(rec)) {
            if (!first_ts) first_ts = sn.timestamp_ms;
            ++behind;
          }
      state = fmt::format("stale ({} commit(s) behind)", behind);
      stale_s = first_ts ? fmt::format("{:.1f}", static_cast<double>(Now(ctx) - first_ts) / 1000.0) : "";
    }
    std::string when;
    if (std::string ms = Prop(*v, kPropRefreshedMs); !ms.empty()) {
      int64_t t = std::stoll(ms);
      when = Value::Timestamp(t * 1000).ToString();
    }
    const catalog::SnapshotInfo* sn = v->current_snapshot();
    std::string inc = Prop(*v, kPropIncremental);
    rows.push_back({v->name(), Prop(*v, kPropBase), rec, std::to_string(cur), state, stale_s, when,
                    Prop(*v, kPropLastRefresh), Prop(*v, kPropRefresh), inc == "true" ? "yes" : "no: " + inc,
                    std::to_string(sn ? sn->total_rows : 0)});
  }
  return std::make_pair(header, rows);
}

Result<std::vector<std::string>> DependentViews(const MatViewContext& ctx, const std::string& table) {
  std::vector<std::string> out;
  auto views = AllViews(ctx);
  if (!views.ok()) return out;
  for (const auto& v : *views)
    if (IEquals(Prop(*v, kPropBase), BaseName(table)) || IsDimensionOf(*v, table)) out.push_back(v->name());
  return out;
}

bool IsMaterializedView(const MatViewContext& ctx, const std::string& name) {
  auto meta = ctx.lake->LoadTable(BaseName(name));
  return meta.ok() && IsMatView(**meta);
}

Result<std::vector<std::string>> RefreshOnCommit(const MatViewContext& ctx, const std::string& table) {
  std::vector<std::string> out;
  SL_ASSIGN_OR_RETURN(auto views, AllViews(ctx));
  for (const auto& v : views) {
    if (!(IEquals(Prop(*v, kPropBase), BaseName(table)) || IsDimensionOf(*v, table)) ||
        Prop(*v, kPropRefresh) != "on_commit")
      continue;
    SL_ASSIGN_OR_RETURN(std::string msg, DoRefresh(ctx, v, false));
    out.push_back(v->name() + ": " + msg);
  }
  return out;
}

Result<PlanPtr> RewriteWithMaterializedViews(const MatViewContext& ctx, const PlanPtr& plan,
                                             std::vector<std::string>* notes) {
  RewriteState rs{ctx, notes, {}, false};
  return RewriteNode(rs, plan);
}

}  // namespace saleslake::sql::internal
