#include "sql/exec/internal/operators.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <numeric>
#include <unordered_set>

#include <unistd.h>

#include <fmt/format.h>

#include "common/thread_pool.h"

namespace saleslake::sql::internal {

Status QueryContext::Check() const {
  if ((options_.cancel && options_.cancel->load()) || (stop_ && stop_->load()))
    return Status::Cancelled("query cancelled");
  if (options_.deadline && std::chrono::steady_clock::now() > *options_.deadline)
    return Status::Cancelled("query stopped: time limit reached");
  return Status::OK();
}

ExecOptions QueryContext::Resolve(const ExecOptions& options) {
  ExecOptions o = options;
  if (o.memory_limit_bytes < 0) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    o.memory_limit_bytes =
        pages > 0 && page > 0 ? static_cast<int64_t>(static_cast<double>(pages) * static_cast<double>(page) * 0.6) : 0;
  }
  if (o.timeout.count() > 0) {
    auto end = std::chrono::steady_clock::now() + o.timeout;
    if (!o.deadline || end < *o.deadline) o.deadline = end;
  }
  return o;
}

namespace {
std::string ByteText(int64_t b) {
  if (b >= (int64_t{1} << 30)) return fmt::format("{:.1f} GB", static_cast<double>(b) / (1 << 30));
  if (b >= (int64_t{1} << 20)) return fmt::format("{:.1f} MB", static_cast<double>(b) / (1 << 20));
  if (b >= (int64_t{1} << 10)) return fmt::format("{:.1f} KB", static_cast<double>(b) / (1 << 10));
  return fmt::format("{} bytes", b);
}
}  // namespace

Status QueryContext::Reserve(int64_t bytes) {
  int64_t now = used_.fetch_add(bytes) + bytes;
  int64_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  if (options_.memory_limit_bytes > 0 && now > options_.memory_limit_bytes)
    return Status::ResourceExhausted(fmt::format(
        "query exceeded memory limit of {} (its hash tables, sorts and buffered rows need more; "
        "raise the limit with --memory-limit MB)",
        ByteText(options_.memory_limit_bytes)));
  return Status::OK();
}

NodeStats* QueryContext::StatsFor(const PlanNode* node) {
  MutexLock lock(mu_);
  auto& s = stats_[node];
  if (!s) s = std::make_unique<NodeStats>();
  return s.get();
}

Result<bool> Pull(Operator& op, Batch& out, NodeStats* stats) {
  if (stats == nullptr) return op.Next(out);
  auto t0 = std::chrono::steady_clock::now();
  auto r = op.Next(out);
  auto t1 = std::chrono::steady_clock::now();
  stats->nanos += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  if (r.ok() && *r) stats->rows += out.num_rows;
  return r;
}

int64_t BatchBytes(const Batch& b) {
  int64_t n = 64;
  for (const auto& c : b.columns) {
    n += static_cast<int64_t>(c.size() * c.type().byte_width());
    if (c.type().id == TypeId::kVarchar && c.encoding() == VectorEncoding::kFlat) {
      const auto* d = c.data<std::string_view>();
      for (size_t i = 0; i < c.size(); ++i) n += static_cast<int64_t>(d[i].size());
    }
  }
  return n;
}

namespace {

bool IsPipeline(const PlanNode& p) {
  if (p.kind == PlanKind::kScan) return true;
  if (p.kind == PlanKind::kFilter || p.kind == PlanKind::kProject)
    return IsPipeline(*p.children[0]);
  return false;
}
const PlanNode* PipelineScan(const PlanNode& p) {
  if (p.kind == PlanKind::kScan) return &p;
  return PipelineScan(*p.children[0]);
}

void EncodeKeys(const std::vector<const ColumnVector*>& cols, size_t row, std::string& key) {
  key.clear();
  for (const ColumnVector* c : cols) AppendKey(*c, row, key);
}

bool AnyNull(const std::vector<const ColumnVector*>& cols, size_t row) {
  for (const ColumnVector* c : cols)
    if (!c->IsValid(row)) return true;
  return false;
}

// ------------------------------------------------------------------ scan

bool MorselMayMatch(const PlanNode& scan, const Morsel& m, const Expr& f, SubqueryCache* subqueries);

class ScanOp final : public Operator {
 public:
  ScanOp(const PlanNode& node, std::vector<Morsel> morsels, QueryContext& ctx, bool keep_dictionaries)
      : node_(node), morsels_(std::move(morsels)), ctx_(ctx), keep_dictionaries_(keep_dictionaries),
        stats_(ctx.StatsFor(&node)) {
    if (!node_.scan_filters.empty()) {
      // Row groups are pruned with the same rules as whole files, on their own statistics.
      may_match_ = [this](const std::vector<ColumnStats>& st) {
        Morsel probe;
        probe.stats = st;
        for (const auto& f : node_.scan_filters)
          if (!MorselMayMatch(node_, probe, *f, ctx_.subqueries())) return false;
        return true;
      };
      // Batches where some filter selects no row hold nothing the Filter above would pass.
      std::set<int> cols;
      for (const auto& f : node_.scan_filters) ColumnsOf(*f, cols);
      for (int c : cols) row_filter_.columns.push_back(static_cast<size_t>(c));
      row_filter_.any_row = [this](Batch& b) {
        for (const auto& f : node_.scan_filters) {
          filter_ev_.Reset();
          filter_rows_.clear();
          // An error (say a cast a row of another filter would have spared) is the Filter's to
          // report; here it only means "cannot rule the batch out".
          if (!filter_ev_.Select(*f, b, &filter_rows_).ok()) return true;
          if (filter_rows_.empty()) return false;
        }
        return true;
      };
    }
  }
  Result<bool> Next(Batch& out) override {
    while (buffer_.empty()) {
      if (next_ >= morsels_.size()) return false;
      SL_RETURN_IF_ERROR(ctx_.Check());
      const Morsel& m = morsels_[next_++];
      Table::PartCounts parts;
      Status s = node_.table->ReadMorselPruned(m, node_.scan_columns, may_match_,
                                               row_filter_.any_row ? &row_filter_ : nullptr, &parts, [&](Batch& b) {
        buffer_.push_back(std::move(b));
        return Status::OK();
      });
      stats_->parts_read += parts.read;
      stats_->parts_skipped += parts.skipped;
      stats_->batches_skipped += parts.batches_skipped;
      if (!s.ok()) return s.WithContext("scan of " + node_.table->name());
    }
    out = std::move(buffer_.front());
    buffer_.pop_front();
    if (!keep_dictionaries_) {
      for (auto& c : out.columns)
        if (c.encoding() == VectorEncoding::kDictionary) c.Flatten();
    }
    if (out.selection) {
      std::vector<uint32_t> rows(out.selection->data(), out.selection->data() + out.selection->size());
      out.selection.reset();
      out = GatherBatch(out, rows);
    }
    return true;
  }

 private:
  const PlanNode& node_;
  std::vector<Morsel> morsels_;
  QueryContext& ctx_;
  const bool keep_dictionaries_;
  NodeStats* stats_;
  Table::StatsFilter may_match_;  // empty when the scan has no filters
  Table::RowFilter row_filter_;   // the same filters as a batch test (late materialisation)
  Evaluator filter_ev_{ctx_.subqueries()};
  std::vector<uint32_t> filter_rows_;
  size_t next_ = 0;
  std::deque<Batch> buffer_;
};

// ------------------------------------------------------------------ values

class ValuesOp final : public Operator {
 public:
  ValuesOp(const PlanNode& node, QueryContext& ctx) : node_(node), ev_(ctx.subqueries()) {}
  Result<bool> Next(Batch& out) override {
    if (done_) return false;
    done_ = true;
    size_t n = node_.rows.size();
    out = Batch();
    out.num_rows = n;
    for (size_t c = 0; c < node_.output.size(); ++c) {
      ColumnVector col(node_.output[c].type, std::max<size_t>(n, 1));
      col.Resize(n);
      out.columns.push_back(std::move(col));
    }
    Batch one;
    one.num_rows = 1;
    for (size_t r = 0; r < n; ++r) {
      for (size_t c = 0; c < node_.output.size(); ++c) {
        SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev_.Eval(*node_.rows[r][c], one));
        SetValueAt(out.columns[c], r, GetValueAt(*v, 0));
      }
      ev_.Reset();
    }
    return true;
  }

 private:
  const PlanNode& node_;
  Evaluator ev_;
  bool done_ = false;
};

// ------------------------------------------------------------------ filter / project / limit

class FilterOp final : public Operator {
 public:
  FilterOp(const PlanNode& node, std::unique_ptr<Operator> child, QueryContext& ctx)
      : node_(node), child_(std::move(child)), ev_(ctx.subqueries()), stats_(ctx.StatsFor(node.children[0].get())) {}
  Result<bool> Next(Batch& out) override {
    Batch in;
    while (true) {
      SL_ASSIGN_OR_RETURN(bool more, Pull(*child_, in, stats_));
      if (!more) return false;
      ev_.Reset();
      SL_RETURN_IF_ERROR(ev_.Select(*node_.predicate, in, &rows_));
      if (rows_.empty()) continue;
      if (rows_.size() == in.num_rows) {
        out = std::move(in);
      } else {
        out = GatherBatch(in, rows_);
      }
      return true;
    }
  }

 private:
  const PlanNode& node_;
  std::unique_ptr<Operator> child_;
  Evaluator ev_;
  NodeStats* stats_;
  std::vector<uint32_t> rows_;
};

class ProjectOp final : public Operator {
 public:
  ProjectOp(const PlanNode& node, std::unique_ptr<Operator> child, QueryContext& ctx)
      : node_(node), child_(std::move(child)), ev_(ctx.subqueries()), stats_(ctx.StatsFor(node.children[0].get())) {
    for (const auto& e : node.exprs)
      if (e->kind == ExprKind::kColumn) ++refs_[e->column];
  }
  Result<bool> Next(Batch& out) override {
    Batch in;
    SL_ASSIGN_OR_RETURN(bool more, Pull(*child_, in, stats_));
    if (!more) return false;
    ev_.Reset();
    out = Batch();
    out.num_rows = in.num_rows;
    out.columns.resize(node_.exprs.size());
    for (size_t i = 0; i < node_.exprs.size(); ++i) {
      const Expr& e = *node_.exprs[i];
      if (e.kind == ExprKind::kColumn) continue;
      SL_ASSIGN_OR_RETURN(out.columns[i], ev_.EvalOwned(e, in));
    }
    std::unordered_map<int, int> left = refs_;
    for (size_t i = 0; i < node_.exprs.size(); ++i) {
      const Expr& e = *node_.exprs[i];
      if (e.kind != ExprKind::kColumn) continue;
      ColumnVector& src = in.columns[static_cast<size_t>(e.column)];
      if (--left[e.column] == 0) {
        out.columns[i] = std::move(src);
      } else {
        CopyColumn(src, in.num_rows, out.columns[i]);
      }
    }
    return true;
  }

 private:
  const PlanNode& node_;
  std::unique_ptr<Operator> child_;
  Evaluator ev_;
  NodeStats* stats_;
  std::unordered_map<int, int> refs_;
};

class LimitOp final : public Operator {
 public:
  LimitOp(const PlanNode& node, std::unique_ptr<Operator> child, QueryContext& ctx)
      : node_(node), child_(std::move(child)), stats_(ctx.StatsFor(node.children[0].get())) {}
  Result<bool> Next(Batch& out) override {
    while (true) {
      if (node_.limit >= 0 && emitted_ >= node_.limit) return false;
      Batch in;
      SL_ASSIGN_OR_RETURN(bool more, Pull(*child_, in, stats_));
      if (!more) return false;
      int64_t n = static_cast<int64_t>(in.num_rows);
      int64_t skip = std::min(n, node_.offset - skipped_);
      skipped_ += skip;
      int64_t take = n - skip;
      if (node_.limit >= 0) take = std::min(take, node_.limit - emitted_);
      if (take <= 0) continue;
      emitted_ += take;
      if (skip == 0 && take == n) {
        out = std::move(in);
      } else {
        std::vector<uint32_t> rows(static_cast<size_t>(take));
        std::iota(rows.begin(), rows.end(), static_cast<uint32_t>(skip));
        out = GatherBatch(in, rows);
      }
      return true;
    }
  }

 private:
  const PlanNode& node_;
  std::unique_ptr<Operator> child_;
  NodeStats* stats_;
  int64_t skipped_ = 0, emitted_ = 0;
};

// Emits a prepared list of batches.
class BufferOp final : public Operator {
 public:
  explicit BufferOp(std::vector<Batch> batches) : batches_(std::move(batches)) {}
  Result<bool> Next(Batch& out) override {
    while (next_ < batches_.size()) {
      out = std::move(batches_[next_++]);
      if (out.num_rows > 0 || out.columns.empty()) return true;
    }
    return false;
  }

 private:
  std::vector<Batch> batches_;
  size_t next_ = 0;
};

// Collects all of a plan's output, in parallel when possible, preserving morsel order.
Result<std::vector<Batch>> Collect(const PlanPtr& plan, QueryContext& ctx) {
  std::mutex mu;
  std::vector<std::vector<Batch>> by_morsel;
  Status mem;
  SL_ASSIGN_OR_RETURN(size_t workers, ParallelDrain(plan, ctx, [&](size_t, size_t m, Batch& b) {
    SL_RETURN_IF_ERROR(ctx.Reserve(BatchBytes(b)));
    std::lock_guard<std::mutex> lock(mu);
    if (by_morsel.size() <= m) by_morsel.resize(m + 1);
    by_morsel[m].push_back(std::move(b));
    return Status::OK();
  }));
  (void)workers;
  std::vector<Batch> out;
  for (auto& v : by_morsel)
    for (auto& b : v) out.push_back(std::move(b));
  return out;
}

// ------------------------------------------------------------------ hash aggregation

// Equality of a probe row and a stored group's key, NULL = NULL (as GROUP BY wants).
inline bool SameKey(const ColumnVector& a, size_t i, const ColumnVector& b, size_t j) {
  bool va = a.IsValid(i), vb = b.IsValid(j);
  if (!va || !vb) return va == vb;
  return ValuesEqual(a, i, b, j);
}

// Dense group ids for key rows: an open-addressing table of group ids, verified against one
// stored row of key values per group (NULL keys form their own group, as GROUP BY wants).
class GroupTable {
 public:
  explicit GroupTable(const std::vector<DataType>& types) {
    for (const auto& t : types) keys_.emplace_back(t, 16);
    for (auto& k : keys_) k.Resize(0);
    slots_.assign(1024, 0);
  }
  void FindOrInsert(const std::vector<const ColumnVector*>& cols, size_t n, uint32_t* gids) {
    if (cols.empty()) {
      if (count_ == 0) count_ = 1;
      std::fill(gids, gids + n, 0u);
      return;
    }
    bool all_constant = n > 1;
    for (const ColumnVector* c : cols) all_constant &= c->encoding() == VectorEncoding::kConstant;
    if (all_constant) {  // GROUP BY partition columns only: one lookup per batch
      FindOrInsert(cols, 1, gids);
      std::fill(gids + 1, gids + n, gids[0]);
      return;
    }
    if (cols.size() == 1 && cols[0]->encoding() == VectorEncoding::kDictionary &&
        cols[0]->validity() == nullptr) {
      // The only key is a dictionary column: its codes map to groups through a cache that lives
      // as long as the dictionary (one per file), so each entry is hashed and looked up once.
      const ColumnVector& c = *cols[0];
      const uint32_t dn = static_cast<uint32_t>(c.dictionary()->size());
      if (cached_dict_ != c.shared_dictionary()) {
        cached_dict_ = c.shared_dictionary();
        dict_hash_.resize(dn);
        HashKeyColumn(*c.dictionary(), dn, dict_hash_.data(), true);  // = the row hash of a code
        dict_gid_.assign(dn, UINT32_MAX);
      }
      const uint32_t* codes = c.data<uint32_t>();
      for (size_t i = 0; i < n; ++i) {
        uint32_t code = codes[i] < dn ? codes[i] : 0;
        if (dict_gid_[code] == UINT32_MAX) dict_gid_[code] = Lookup(cols, i, dict_hash_[code]);
        gids[i] = dict_gid_[code];
      }
      return;
    }
    if (cols.size() == 1 && DirectLookup(*cols[0], n, gids)) return;
    hashes_.resize(n);
    for (size_t k = 0; k < cols.size(); ++k) HashKeyColumn(*cols[k], n, hashes_.data(), k == 0);
    if (const ColumnVector* dict = OnlyDictionary(cols, n)) {
      // One dictionary column (no nulls) and constants: rows with the same code are the same
      // group, so each code is looked up once per batch (status, product ids).
      const uint32_t* codes = dict->data<uint32_t>();
      const uint32_t dn = static_cast<uint32_t>(dict->dictionary()->size());
      code_gid_.assign(dn, UINT32_MAX);
      for (size_t i = 0; i < n; ++i) {
        uint32_t c = codes[i] < dn ? codes[i] : 0;
        if (code_gid_[c] == UINT32_MAX) code_gid_[c] = Lookup(cols, i, hashes_[i]);
        gids[i] = code_gid_[c];
      }
      return;
    }
    // Many groups (customer ids) miss the cache at every step of a probe: while row i is looked
    // up, fetch the slot of row i + 24, the stored string view of row i + 16's first candidate
    // and that string's bytes for row i + 8.
    const ColumnVector* strings =
        cols.size() == 1 && keys_[0].type().id == TypeId::kVarchar ? &keys_[0] : nullptr;
    for (size_t i = 0; i < n; ++i) {
      if (i + 24 < n) __builtin_prefetch(&slots_[hashes_[i + 24] & (slots_.size() - 1)]);
      if (strings) {
        if (i + 16 < n) PrefetchKey(*strings, hashes_[i + 16], false);
        if (i + 8 < n) PrefetchKey(*strings, hashes_[i + 8], true);
      }
      gids[i] = Lookup(cols, i, hashes_[i]);
    }
  }
  // Ensures the no-key table has its one group (a global aggregate of no rows).
  void EnsureGlobalGroup() {
    if (keys_.empty() && count_ == 0) count_ = 1;
  }
  size_t size() const { return count_; }
  std::vector<ColumnVector>& keys() { return keys_; }

 private:
  // The group of row i (hash h), inserted when new.
  uint32_t Lookup(const std::vector<const ColumnVector*>& cols, size_t i, uint64_t h) {
    size_t mask = slots_.size() - 1;
    size_t slot = h & mask;
    const uint64_t tag = h & kTagMask;
    while (true) {
      uint64_t e = slots_[slot];
      if (e == 0) {
        uint32_t id = static_cast<uint32_t>(count_++);
        slots_[slot] = tag | (id + 1);
        group_hash_.push_back(h);
        for (size_t k = 0; k < cols.size(); ++k) keys_[k].AppendFrom(*cols[k], i);
        if (count_ * 2 > slots_.size()) Grow();
        return id;
      }
      if ((e & kTagMask) == tag) {
        uint32_t g = static_cast<uint32_t>(e) - 1;
        bool same = true;
        for (size_t k = 0; same && k < cols.size(); ++k) same = SameKey(*cols[k], i, keys_[k], g);
        if (same) return g;
      }
      slot = (slot + 1) & mask;
    }
  }

  // Prefetches the stored string key that a row of hash h would first compare with: its view,
  // or (bytes) the characters it points to.
  void PrefetchKey(const ColumnVector& strings, uint64_t h, bool bytes) const {
    uint64_t e = slots_[h & (slots_.size() - 1)];
    if (e == 0 || (e & kTagMask) != (h & kTagMask)) return;
    const std::string_view* view = strings.data<std::string_view>() + (static_cast<uint32_t>(e) - 1);
    if (bytes) {
      __builtin_prefetch(view->data());
    } else {
      __builtin_prefetch(view);
    }
  }

  // A single flat integer key without NULLs over a small range (dates, day_of_week, years,
  // small ids): the group of each value is kept in an array indexed by value - base, so a row
  // costs one load instead of a hash probe. False when the key does not fit (then this batch and
  // every later one hash instead); gids may have been partly written then.
  bool DirectLookup(const ColumnVector& c, size_t n, uint32_t* gids) {
    if (direct_failed_ || c.encoding() != VectorEncoding::kFlat || c.validity() != nullptr || n == 0)
      return false;
    bool ok = false;
    switch (c.type().id) {
      case TypeId::kInt32:
      case TypeId::kDate: ok = DirectLookupT(c, c.data<int32_t>(), n, gids); break;
      case TypeId::kInt64: ok = DirectLookupT(c, c.data<int64_t>(), n, gids); break;
      default: return false;
    }
    direct_failed_ = !ok;
    return ok;
  }

  // One pass: a value outside the array's range grows it (up to kMaxSpan values in all).
  template <typename T>
  bool DirectLookupT(const ColumnVector& c, const T* v, size_t n, uint32_t* gids) {
    if (direct_gid_.empty()) {  // first batch: size the array for its range at once
      T lo = v[0], hi = v[0];
      for (size_t i = 1; i < n; ++i) {
        lo = std::min(lo, v[i]);
        hi = std::max(hi, v[i]);
      }
      if (!GrowDirect(lo) || !GrowDirect(hi)) return false;
    }
    // Pass 1, tight: the known group of each row, UINT32_MAX for a value outside the array or
    // not seen yet (the key values come from memory the scan wrote a while ago: prefetched).
    const uint32_t* dg = direct_gid_.data();
    const uint64_t size = direct_gid_.size();
    const int64_t base = direct_base_;
    uint32_t unknown = 0;
    for (size_t i = 0; i < n; ++i) {
      if ((i & 15) == 0) __builtin_prefetch(v + i + 256);
      const uint64_t off = static_cast<uint64_t>(static_cast<int64_t>(v[i]) - base);
      const uint32_t g = off < size ? dg[off] : UINT32_MAX;
      gids[i] = g;
      unknown |= g == UINT32_MAX;
    }
    if (unknown == 0) return true;
    // Pass 2: rows still unknown grow the array or enter the table.
    bool hashed = false;  // new values also enter the hash table (other batches may probe it)
    for (size_t i = 0; i < n; ++i) {
      if (gids[i] != UINT32_MAX) continue;
      uint64_t off = static_cast<uint64_t>(static_cast<int64_t>(v[i]) - direct_base_);
      if (off >= direct_gid_.size()) {
        if (!GrowDirect(v[i])) return false;
        off = static_cast<uint64_t>(static_cast<int64_t>(v[i]) - direct_base_);
      }
      uint32_t& g = direct_gid_[off];
      if (g == UINT32_MAX) {
        if (!hashed) {
          hashes_.resize(n);
          HashKeyColumn(c, n, hashes_.data(), true);
          hashed = true;
        }
        const std::vector<const ColumnVector*> cols{&c};
        g = Lookup(cols, i, hashes_[i]);
      }
      gids[i] = g;
    }
    return true;
  }

  // Extends the direct array to cover value x; false when the span would pass kMaxSpan.
  bool GrowDirect(int64_t x) {
    constexpr int64_t kMaxSpan = 1 << 16;
    if (direct_gid_.empty()) {
      direct_base_ = x;
      direct_gid_.assign(1, UINT32_MAX);
      return true;
    }
    const int64_t size = static_cast<int64_t>(direct_gid_.size());
    const int64_t hi = direct_base_ + size - 1;
    int64_t new_lo = std::min(x, direct_base_), new_hi = std::max(x, hi);
    if (new_hi - new_lo >= kMaxSpan) return false;
    if (new_lo == direct_base_ && new_hi == hi) return true;
    // Grow by at least the current size (within the span) so a key that creeps up one value
    // at a time copies the array O(log) times, not once per value.
    if (x > hi) new_hi = std::max(new_hi, std::min(hi + size, new_lo + kMaxSpan - 1));
    if (x < direct_base_) new_lo = std::min(new_lo, std::max(direct_base_ - size, new_hi - kMaxSpan + 1));
    std::vector<uint32_t> grown(static_cast<size_t>(new_hi - new_lo + 1), UINT32_MAX);
    std::copy(direct_gid_.begin(), direct_gid_.end(), grown.begin() + (direct_base_ - new_lo));
    direct_gid_.swap(grown);
    direct_base_ = new_lo;
    return true;
  }

  // The key column when it is the only non-constant one, dictionary-encoded without nulls and
  // with no more entries than rows; null otherwise.
  static const ColumnVector* OnlyDictionary(const std::vector<const ColumnVector*>& cols, size_t n) {
    const ColumnVector* dict = nullptr;
    for (const ColumnVector* c : cols) {
      if (c->encoding() == VectorEncoding::kConstant) continue;
      if (dict || c->encoding() != VectorEncoding::kDictionary || c->validity() != nullptr) return nullptr;
      dict = c;
    }
    return dict && dict->dictionary()->size() <= n ? dict : nullptr;
  }

  void Grow() {
    std::vector<uint64_t> next(slots_.size() * 2, 0);
    size_t mask = next.size() - 1;
    for (size_t g = 0; g < group_hash_.size(); ++g) {
      size_t slot = group_hash_[g] & mask;
      while (next[slot] != 0) slot = (slot + 1) & mask;
      next[slot] = (group_hash_[g] & kTagMask) | (g + 1);
    }
    slots_.swap(next);
  }

  std::vector<ColumnVector> keys_;
  // A slot holds the high 32 bits of its group's hash (a filter that spares a load of
  // group_hash_ on every probe) and the group id + 1 in the low 32; 0 = empty.
  static constexpr uint64_t kTagMask = ~uint64_t{0} << 32;
  std::vector<uint64_t> slots_;
  std::vector<uint64_t> group_hash_;  // per group
  std::vector<uint64_t> hashes_;      // per input row (scratch)
  std::vector<uint32_t> code_gid_;    // per dictionary code (scratch)
  // Single dictionary key: group of each code of cached_dict_ (UINT32_MAX = not seen yet) and
  // each code's hash. Group ids never change, so the map stays valid while the dictionary does.
  std::shared_ptr<const ColumnVector> cached_dict_;
  std::vector<uint32_t> dict_gid_;
  std::vector<uint64_t> dict_hash_;
  // DirectLookup: the group of value direct_base_ + i (UINT32_MAX = not seen yet).
  int64_t direct_base_ = 0;
  std::vector<uint32_t> direct_gid_;
  bool direct_failed_ = false;  // a key outside the span was seen: hash from then on
  size_t count_ = 0;
};

struct SetPartial {
  std::unique_ptr<GroupTable> table;
  std::vector<std::unique_ptr<AggregateState>> aggs;
};

class HashAggregateOp final : public Operator {
 public:
  HashAggregateOp(const PlanNode& node, QueryContext& ctx) : node_(node), ctx_(ctx) {
    if (node.grouping_sets.empty()) {
      std::vector<int> all(node.groups.size());
      std::iota(all.begin(), all.end(), 0);
      sets_.push_back(all);
    } else {
      sets_ = node.grouping_sets;
    }
  }

  Result<bool> Next(Batch& out) override {
    if (!ran_) {
      ran_ = true;
      SL_RETURN_IF_ERROR(Run());
    }
    if (next_ >= results_.size()) return false;
    out = std::move(results_[next_++]);
    return true;
  }

 private:
  std::vector<SetPartial> NewPartials() {
    std::vector<SetPartial> p;
    for (const auto& set : sets_) {
      std::vector<DataType> types;
      for (int g : set) types.push_back(node_.groups[static_cast<size_t>(g)]->type);
      SetPartial sp;
      sp.table = std::make_unique<GroupTable>(types);
      for (const auto& a : node_.aggregates) sp.aggs.push_back(MakeAggregateState(a.fn));
      p.push_back(std::move(sp));
    }
    return p;
  }

  Status Consume(std::vector<SetPartial>& parts, Evaluator& ev, const Batch& in) {
    ev.Reset();
    size_t n = in.num_rows;
    if (n == 0) return Status::OK();
    std::vector<const ColumnVector*> group_cols;
    for (const auto& g : node_.groups) {
      if (g->kind == ExprKind::kColumn) {  // as scanned: GroupTable takes dictionary columns
        group_cols.push_back(&in.columns[static_cast<size_t>(g->column)]);
        continue;
      }
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev.Eval(*g, in));
      group_cols.push_back(v);
    }
    std::vector<std::vector<const ColumnVector*>> arg_cols(node_.aggregates.size());
    std::vector<std::vector<uint32_t>> filter_rows(node_.aggregates.size());
    for (size_t a = 0; a < node_.aggregates.size(); ++a) {
      for (const auto& x : node_.aggregates[a].args) {
        SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev.Eval(*x, in));
        arg_cols[a].push_back(v);
      }
      if (node_.aggregates[a].filter) {
        SL_RETURN_IF_ERROR(ev.Select(*node_.aggregates[a].filter, in, &filter_rows[a]));
      }
    }
    std::vector<uint32_t> gids_(n);  // per call: Consume runs on many workers at once
    for (size_t s = 0; s < sets_.size(); ++s) {
      std::vector<const ColumnVector*> keys;
      for (int g : sets_[s]) keys.push_back(group_cols[static_cast<size_t>(g)]);
      SetPartial& sp = parts[s];
      size_t before = sp.table->size();
      sp.table->FindOrInsert(keys, n, gids_.data());
      if (sp.table->size() > before) SL_RETURN_IF_ERROR(ctx_.Reserve(static_cast<int64_t>(sp.table->size() - before) * 64));
      for (size_t a = 0; a < sp.aggs.size(); ++a) {
        sp.aggs[a]->Resize(sp.table->size());
        if (!node_.aggregates[a].filter) {
          SL_RETURN_IF_ERROR(sp.aggs[a]->Update(gids_.data(), arg_cols[a], n));
          continue;
        }
        const auto& rows = filter_rows[a];
        if (rows.empty()) continue;
        std::vector<ColumnVector> gathered(arg_cols[a].size());
        std::vector<const ColumnVector*> ptrs;
        for (size_t k = 0; k < arg_cols[a].size(); ++k) {
          GatherColumn(*arg_cols[a][k], rows.data(), rows.size(), gathered[k]);
          ptrs.push_back(&gathered[k]);
        }
        std::vector<uint32_t> g2(rows.size());
        for (size_t k = 0; k < rows.size(); ++k) g2[k] = gids_[rows[k]];
        SL_RETURN_IF_ERROR(sp.aggs[a]->Update(g2.data(), ptrs, rows.size()));
      }
    }
    return Status::OK();
  }

  Status Run() {
    const PlanPtr& child = node_.children[0];
    std::vector<std::unique_ptr<std::vector<SetPartial>>> partials;
    std::vector<std::unique_ptr<Evaluator>> evs;
    size_t max_workers = std::max<size_t>(ThreadPool::Default().size(), 1) + 1;
    partials.resize(max_workers);
    evs.resize(max_workers);
    SL_ASSIGN_OR_RETURN(size_t workers, ParallelDrain(child, ctx_, [&](size_t w, size_t, Batch& b) {
      if (w >= partials.size()) return Status::Internal("worker index out of range");
      if (!partials[w]) {
        partials[w] = std::make_unique<std::vector<SetPartial>>(NewPartials());
        evs[w] = std::make_unique<Evaluator>(ctx_.subqueries());
      }
      return Consume(*partials[w], *evs[w], b);
    }, /*keep_dictionaries=*/true));
    (void)workers;
    // Merge the thread-local partials into the first one.
    std::vector<SetPartial>* final_parts = nullptr;
    for (auto& p : partials) {
      if (!p) continue;
      if (!final_parts) {
        final_parts = p.get();
        continue;
      }
      for (size_t s = 0; s < sets_.size(); ++s) {
        SetPartial& dst = (*final_parts)[s];
        SetPartial& src = (*p)[s];
        size_t groups = src.table->size();
        if (groups == 0) continue;
        std::vector<const ColumnVector*> keys;
        for (auto& k : src.table->keys()) keys.push_back(&k);
        std::vector<uint32_t> map(groups);
        dst.table->FindOrInsert(keys, groups, map.data());
        for (size_t a = 0; a < dst.aggs.size(); ++a) {
          dst.aggs[a]->Resize(dst.table->size());
          src.aggs[a]->Resize(groups);
          SL_RETURN_IF_ERROR(dst.aggs[a]->Merge(*src.aggs[a], map.data()));
        }
      }
    }
    std::vector<SetPartial> empty;
    if (!final_parts) {
      empty = NewPartials();
      final_parts = &empty;
    }
    for (size_t s = 0; s < sets_.size(); ++s) {
      SetPartial& sp = (*final_parts)[s];
      if (sets_[s].empty()) sp.table->EnsureGlobalGroup();
      size_t groups = sp.table->size();
      if (groups == 0) continue;
      Batch b;
      b.num_rows = groups;
      for (size_t g = 0; g < node_.groups.size(); ++g) {
        auto it = std::find(sets_[s].begin(), sets_[s].end(), static_cast<int>(g));
        ColumnVector col;
        if (it == sets_[s].end()) {
          MakeNullColumn(node_.groups[g]->type, groups, col);
        } else {
          col = std::move(sp.table->keys()[static_cast<size_t>(it - sets_[s].begin())]);
        }
        b.columns.push_back(std::move(col));
      }
      for (size_t a = 0; a < sp.aggs.size(); ++a) {
        sp.aggs[a]->Resize(groups);
        ColumnVector col(node_.aggregates[a].fn.return_type, groups);
        col.Resize(groups);
        SL_RETURN_IF_ERROR(sp.aggs[a]->Finalize(col));
        b.columns.push_back(std::move(col));
      }
      if (node_.grouping_id) {  // which grouping set the rows belong to, for grouping()
        ColumnVector col(DataType::Int64(), groups);
        col.Resize(groups);
        std::fill(col.data<int64_t>(), col.data<int64_t>() + groups, static_cast<int64_t>(s));
        b.columns.push_back(std::move(col));
      }
      results_.push_back(std::move(b));
    }
    return Status::OK();
  }

  const PlanNode& node_;
  QueryContext& ctx_;
  std::vector<std::vector<int>> sets_;
  bool ran_ = false;
  std::vector<Batch> results_;
  size_t next_ = 0;
};

// ------------------------------------------------------------------ hash join

class HashJoinOp final : public Operator {
 public:
  HashJoinOp(const PlanNode& node, std::unique_ptr<Operator> left, QueryContext& ctx)
      : node_(node), left_(std::move(left)), ctx_(ctx), ev_(ctx.subqueries()),
        left_stats_(ctx.StatsFor(node.children[0].get())) {
    nl_ = node.children[0]->output.size();
    nr_ = node.children[1]->output.size();
  }

  Result<bool> Next(Batch& out) override {
    if (!built_) {
      built_ = true;
      SL_RETURN_IF_ERROR(Build());
    }
    while (true) {
      if (left_done_) {
        if (emitted_right_ || !(node_.join_type == JoinType::kRight || node_.join_type == JoinType::kFull))
          return false;
        emitted_right_ = true;
        std::vector<uint32_t> rows;
        for (size_t r = 0; r < build_.num_rows; ++r)
          if (!right_matched_[r]) rows.push_back(static_cast<uint32_t>(r));
        if (rows.empty()) return false;
        out = Batch();
        out.num_rows = rows.size();
        for (size_t c = 0; c < nl_; ++c) {
          ColumnVector col;
          MakeNullColumn(node_.children[0]->output[c].type, rows.size(), col);
          out.columns.push_back(std::move(col));
        }
        for (size_t c = 0; c < nr_; ++c) {
          ColumnVector col;
          GatherColumn(build_.columns[c], rows.data(), rows.size(), col);
          out.columns.push_back(std::move(col));
        }
        return true;
      }
      Batch in;
      SL_ASSIGN_OR_RETURN(bool more, Pull(*left_, in, left_stats_));
      if (!more) {
        left_done_ = true;
        continue;
      }
      SL_RETURN_IF_ERROR(ctx_.Check());
      SL_RETURN_IF_ERROR(Probe(in, out));
      if (out.num_rows > 0) return true;
    }
  }

 private:
  Status Build() {
    SL_ASSIGN_OR_RETURN(std::vector<Batch> batches, Collect(node_.children[1], ctx_));
    build_ = ConcatBatches(OutputSchema(*node_.children[1]), batches);
    if (build_.columns.empty()) {
      for (const auto& c : node_.children[1]->output) {
        ColumnVector v(c.type, 1);
        v.Resize(0);
        build_.columns.push_back(std::move(v));
      }
    }
    right_matched_.assign(build_.num_rows, 0);
    if (node_.join_type == JoinType::kCross || node_.left_keys.empty()) return Status::OK();
    Evaluator ev(ctx_.subqueries());
    std::vector<const ColumnVector*> keys;
    for (const auto& k : node_.right_keys) {
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev.Eval(*k, build_));
      keys.push_back(v);
    }
    next_.assign(build_.num_rows, UINT32_MAX);
    std::string key;
    map_.reserve(build_.num_rows);
    for (size_t r = build_.num_rows; r-- > 0;) {
      if (AnyNull(keys, r)) continue;
      EncodeKeys(keys, r, key);
      auto [it, inserted] = map_.try_emplace(key, static_cast<uint32_t>(r));
      if (!inserted) {
        next_[r] = it->second;
        it->second = static_cast<uint32_t>(r);
      }
    }
    return ctx_.Reserve(static_cast<int64_t>(build_.num_rows) * 48);
  }

  Status Probe(Batch& in, Batch& out) {
    ev_.Reset();
    size_t n = in.num_rows;
    lrows_.clear();
    rrows_.clear();
    bool cross = node_.join_type == JoinType::kCross || node_.left_keys.empty();
    if (cross) {
      if (static_cast<double>(n) * static_cast<double>(build_.num_rows) > 5e8)
        return Status::ResourceExhausted("join produces too many rows (cross product over 500M)");
      // The pair lists of one probe batch can be large: count them against the memory limit and
      // stay cancellable while they are filled.
      int64_t pair_bytes = static_cast<int64_t>(n * build_.num_rows * 2 * sizeof(uint32_t));
      SL_RETURN_IF_ERROR(ctx_.Reserve(pair_bytes));
      struct Unreserve {
        QueryContext& ctx;
        int64_t bytes;
        ~Unreserve() { ctx.Release(bytes); }
      } unreserve{ctx_, pair_bytes};
      for (size_t i = 0; i < n; ++i) {
        if ((i & 63) == 0) SL_RETURN_IF_ERROR(ctx_.Check());
        for (size_t r = 0; r < build_.num_rows; ++r) {
          lrows_.push_back(static_cast<uint32_t>(i));
          rrows_.push_back(static_cast<uint32_t>(r));
        }
      }
    } else {
      std::vector<const ColumnVector*> keys;
      for (const auto& k : node_.left_keys) {
        SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev_.Eval(*k, in));
        keys.push_back(v);
      }
      std::string key;
      for (size_t i = 0; i < n; ++i) {
        if (AnyNull(keys, i)) continue;
        EncodeKeys(keys, i, key);
        auto it = map_.find(key);
        if (it == map_.end()) continue;
        for (uint32_t r = it->second; r != UINT32_MAX; r = next_[r]) {
          lrows_.push_back(static_cast<uint32_t>(i));
          rrows_.push_back(r);
        }
      }
    }
    Batch joined = Assemble(in, lrows_, rrows_);
    if (node_.residual && joined.num_rows > 0) {
      std::vector<uint32_t> keep;
      SL_RETURN_IF_ERROR(ev_.Select(*node_.residual, joined, &keep));
      if (keep.size() != joined.num_rows) {
        joined = GatherBatch(joined, keep);
        std::vector<uint32_t> l2, r2;
        for (uint32_t k : keep) {
          l2.push_back(lrows_[k]);
          r2.push_back(rrows_[k]);
        }
        lrows_.swap(l2);
        rrows_.swap(r2);
      }
    }
    for (uint32_t r : rrows_) right_matched_[r] = 1;
    if (node_.join_type == JoinType::kLeft || node_.join_type == JoinType::kFull) {
      std::vector<uint8_t> matched(n, 0);
      for (uint32_t l : lrows_) matched[l] = 1;
      std::vector<uint32_t> unmatched;
      for (size_t i = 0; i < n; ++i)
        if (!matched[i]) unmatched.push_back(static_cast<uint32_t>(i));
      if (!unmatched.empty()) {
        Batch extra;
        extra.num_rows = unmatched.size();
        for (size_t c = 0; c < nl_; ++c) {
          ColumnVector col;
          GatherColumn(in.columns[c], unmatched.data(), unmatched.size(), col);
          extra.columns.push_back(std::move(col));
        }
        for (size_t c = 0; c < nr_; ++c) {
          ColumnVector col;
          MakeNullColumn(node_.children[1]->output[c].type, unmatched.size(), col);
          extra.columns.push_back(std::move(col));
        }
        if (joined.num_rows == 0) {
          joined = std::move(extra);
        } else {
          std::vector<Batch> two;
          two.push_back(std::move(joined));
          two.push_back(std::move(extra));
          joined = ConcatBatches(OutputSchema(node_), two);
        }
      }
    }
    out = std::move(joined);
    return Status::OK();
  }

  Batch Assemble(const Batch& in, const std::vector<uint32_t>& l, const std::vector<uint32_t>& r) {
    Batch b;
    b.num_rows = l.size();
    for (size_t c = 0; c < nl_; ++c) {
      ColumnVector col;
      GatherColumn(in.columns[c], l.data(), l.size(), col);
      b.columns.push_back(std::move(col));
    }
    for (size_t c = 0; c < nr_; ++c) {
      ColumnVector col;
      GatherColumn(build_.columns[c], r.data(), r.size(), col);
      b.columns.push_back(std::move(col));
    }
    return b;
  }

  const PlanNode& node_;
  std::unique_ptr<Operator> left_;
  QueryContext& ctx_;
  Evaluator ev_;
  NodeStats* left_stats_;
  size_t nl_, nr_;
  bool built_ = false, left_done_ = false, emitted_right_ = false;
  Batch build_;
  std::unordered_map<std::string, uint32_t> map_;
  std::vector<uint32_t> next_;
  std::vector<uint8_t> right_matched_;
  std::vector<uint32_t> lrows_, rrows_;
};

// ------------------------------------------------------------------ sort / top-N

struct SortColumn {
  const ColumnVector* col;
  bool desc;
  bool nulls_first;
};

int CompareKeyRows(const std::vector<SortColumn>& keys, uint32_t a, uint32_t b) {
  for (const SortColumn& k : keys) {
    bool va = k.col->IsValid(a), vb = k.col->IsValid(b);
    if (!va || !vb) {
      if (va == vb) continue;
      // NULLS FIRST/LAST is independent of ASC/DESC.
      return (!va) == k.nulls_first ? -1 : 1;
    }
    int c = CompareRows(*k.col, a, *k.col, b);
    if (c != 0) return k.desc ? -c : c;
  }
  return 0;
}

class SortOp final : public Operator {
 public:
  SortOp(const PlanNode& node, int64_t limit, QueryContext& ctx) : node_(node), limit_(limit), ctx_(ctx) {}
  Result<bool> Next(Batch& out) override {
    if (done_) return false;
    done_ = true;
    SL_ASSIGN_OR_RETURN(std::vector<Batch> batches, Collect(node_.children[0], ctx_));
    Batch all = ConcatBatches(OutputSchema(node_), batches);
    batches.clear();
    // Collect counted the buffered rows; the permutation comes on top.
    SL_RETURN_IF_ERROR(ctx_.Reserve(static_cast<int64_t>(all.num_rows * sizeof(uint32_t))));
    SL_RETURN_IF_ERROR(ctx_.Check());
    Evaluator ev(ctx_.subqueries());
    std::vector<SortColumn> keys;
    for (const auto& k : node_.sort_keys) {
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev.Eval(*k.expr, all));
      keys.push_back({v, k.descending, k.nulls_first});
    }
    std::vector<uint32_t> perm(all.num_rows);
    std::iota(perm.begin(), perm.end(), 0u);
    auto less = [&](uint32_t a, uint32_t b) {
      int c = CompareKeyRows(keys, a, b);
      return c != 0 ? c < 0 : a < b;
    };
    if (limit_ >= 0 && static_cast<size_t>(limit_) < perm.size()) {
      std::partial_sort(perm.begin(), perm.begin() + limit_, perm.end(), less);
      perm.resize(static_cast<size_t>(limit_));
    } else {
      std::sort(perm.begin(), perm.end(), less);
    }
    out = GatherBatch(all, perm);
    if (out.columns.empty()) out.num_rows = perm.size();
    return true;
  }

 private:
  const PlanNode& node_;
  int64_t limit_;
  QueryContext& ctx_;
  bool done_ = false;
};

// ------------------------------------------------------------------ distinct / set operations

class DistinctOp final : public Operator {
 public:
  DistinctOp(std::unique_ptr<Operator> child, NodeStats* stats, QueryContext& ctx)
      : child_(std::move(child)), stats_(stats), ctx_(ctx) {}
  Result<bool> Next(Batch& out) override {
    Batch in;
    while (true) {
      SL_ASSIGN_OR_RETURN(bool more, Pull(*child_, in, stats_));
      if (!more) return false;
      std::vector<const ColumnVector*> cols;
      for (auto& c : in.columns) cols.push_back(&c);
      rows_.clear();
      std::string key;
      for (size_t i = 0; i < in.num_rows; ++i) {
        EncodeKeys(cols, i, key);
        if (seen_.insert(key).second) rows_.push_back(static_cast<uint32_t>(i));
      }
      SL_RETURN_IF_ERROR(ctx_.Reserve(static_cast<int64_t>(rows_.size()) * 48));
      if (rows_.empty()) continue;
      out = rows_.size() == in.num_rows ? std::move(in) : GatherBatch(in, rows_);
      if (cols.empty()) out.num_rows = rows_.size();
      return true;
    }
  }

 private:
  std::unique_ptr<Operator> child_;
  NodeStats* stats_;
  QueryContext& ctx_;
  std::unordered_set<std::string> seen_;
  std::vector<uint32_t> rows_;
};

class ConcatOp final : public Operator {
 public:
  ConcatOp(std::unique_ptr<Operator> a, std::unique_ptr<Operator> b) {
    ops_.push_back(std::move(a));
    ops_.push_back(std::move(b));
  }
  Result<bool> Next(Batch& out) override {
    while (cur_ < ops_.size()) {
      SL_ASSIGN_OR_RETURN(bool more, ops_[cur_]->Next(out));
      if (more) return true;
      ++cur_;
    }
    return false;
  }

 private:
  std::vector<std::unique_ptr<Operator>> ops_;
  size_t cur_ = 0;
};

class IntersectExceptOp final : public Operator {
 public:
  IntersectExceptOp(const PlanNode& node, std::unique_ptr<Operator> left, QueryContext& ctx)
      : node_(node), left_(std::move(left)), ctx_(ctx) {}
  Result<bool> Next(Batch& out) override {
    if (!built_) {
      built_ = true;
      SL_ASSIGN_OR_RETURN(std::vector<Batch> right, Collect(node_.children[1], ctx_));
      std::string key;
      for (auto& b : right) {
        std::vector<const ColumnVector*> cols;
        for (auto& c : b.columns) cols.push_back(&c);
        for (size_t i = 0; i < b.num_rows; ++i) {
          EncodeKeys(cols, i, key);
          ++counts_[key];
        }
      }
    }
    bool intersect = node_.set_op == SetOpKind::kIntersect;
    Batch in;
    while (true) {
      SL_ASSIGN_OR_RETURN(bool more, left_->Next(in));
      if (!more) return false;
      std::vector<const ColumnVector*> cols;
      for (auto& c : in.columns) cols.push_back(&c);
      std::vector<uint32_t> rows;
      std::string key;
      for (size_t i = 0; i < in.num_rows; ++i) {
        EncodeKeys(cols, i, key);
        auto it = counts_.find(key);
        bool in_right = it != counts_.end() && it->second > 0;
        bool emit;
        if (node_.all) {
          emit = intersect ? in_right : !in_right;
          if (in_right) --it->second;
        } else {
          emit = (intersect ? in_right : !in_right) && emitted_.insert(key).second;
        }
        if (emit) rows.push_back(static_cast<uint32_t>(i));
      }
      if (rows.empty()) continue;
      out = GatherBatch(in, rows);
      return true;
    }
  }

 private:
  const PlanNode& node_;
  std::unique_ptr<Operator> left_;
  QueryContext& ctx_;
  bool built_ = false;
  std::unordered_map<std::string, int64_t> counts_;
  std::unordered_set<std::string> emitted_;
};

// ------------------------------------------------------------------ window

class WindowOp final : public Operator {
 public:
  WindowOp(const PlanNode& node, QueryContext& ctx) : node_(node), ctx_(ctx) {}
  Result<bool> Next(Batch& out) override {
    if (done_) return false;
    done_ = true;
    SL_ASSIGN_OR_RETURN(std::vector<Batch> batches, Collect(node_.children[0], ctx_));
    Batch all = ConcatBatches(OutputSchema(*node_.children[0]), batches);
    batches.clear();
    size_t n = all.num_rows;
    std::vector<ColumnVector> results;
    for (const WindowCall& w : node_.windows) {
      // The result column plus the permutation and peer-group arrays of Compute/Partition.
      SL_RETURN_IF_ERROR(ctx_.Reserve(static_cast<int64_t>(n * (w.type.byte_width() + 28))));
      SL_RETURN_IF_ERROR(ctx_.Check());
      ColumnVector col(w.type, std::max<size_t>(n, 1));
      col.Resize(n);
      SL_RETURN_IF_ERROR(Compute(w, all, col));
      results.push_back(std::move(col));
    }
    for (auto& r : results) all.columns.push_back(std::move(r));
    out = std::move(all);
    out.num_rows = n;
    return true;
  }

 private:
  Status Compute(const WindowCall& w, const Batch& in, ColumnVector& out) {
    size_t n = in.num_rows;
    if (n == 0) return Status::OK();
    Evaluator ev(ctx_.subqueries());
    std::vector<SortColumn> part, order;
    for (const auto& p : w.partition_by) {
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev.Eval(*p, in));
      part.push_back({v, false, true});
    }
    for (const auto& o : w.order_by) {
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev.Eval(*o.expr, in));
      order.push_back({v, o.descending, o.nulls_first});
    }
    std::vector<const ColumnVector*> args;
    for (const auto& a : w.args) {
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev.Eval(*a, in));
      args.push_back(v);
    }
    range_key_ = range_start_ = range_end_ = nullptr;
    if (w.frame.range_key) {
      SL_ASSIGN_OR_RETURN(range_key_, ev.Eval(*w.frame.range_key, in));
      if (w.frame.range_start) {
        SL_ASSIGN_OR_RETURN(range_start_, ev.Eval(*w.frame.range_start, in));
      }
      if (w.frame.range_end) {
        SL_ASSIGN_OR_RETURN(range_end_, ev.Eval(*w.frame.range_end, in));
      }
    }
    std::vector<uint32_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0u);
    std::vector<SortColumn> all_keys = part;
    all_keys.insert(all_keys.end(), order.begin(), order.end());
    std::sort(perm.begin(), perm.end(), [&](uint32_t a, uint32_t b) {
      int c = CompareKeyRows(all_keys, a, b);
      return c != 0 ? c < 0 : a < b;
    });
    size_t ps = 0;
    while (ps < n) {
      size_t pe = ps + 1;
      while (pe < n && CompareKeyRows(part, perm[ps], perm[pe]) == 0) ++pe;
      SL_RETURN_IF_ERROR(Partition(w, perm, ps, pe, order, args, out));
      ps = pe;
    }
    return Status::OK();
  }

  Status Partition(const WindowCall& w, const std::vector<uint32_t>& perm, size_t ps, size_t pe,
                   const std::vector<SortColumn>& order, const std::vector<const ColumnVector*>& args,
                   ColumnVector& out) {
    size_t m = pe - ps;
    // peer_start[i], peer_end[i] (exclusive) in partition positions.
    std::vector<size_t> peer_start(m), peer_end(m);
    for (size_t i = 0; i < m; ++i) {
      peer_start[i] = (i > 0 && CompareKeyRows(order, perm[ps + i - 1], perm[ps + i]) == 0)
                          ? peer_start[i - 1] : i;
    }
    for (size_t i = m; i-- > 0;) {
      peer_end[i] = (i + 1 < m && peer_start[i + 1] == peer_start[i]) ? peer_end[i + 1] : i + 1;
    }
    const std::string& f = w.function;
    auto row = [&](size_t i) { return perm[ps + i]; };
    std::vector<std::pair<int64_t, int64_t>> range_frames;
    if (range_key_) RangeFrames(w, perm, ps, m, peer_start, peer_end, range_frames);
    auto frame = [&](size_t i) {
      return range_key_ ? range_frames[i] : Frame(w.frame, i, m, peer_start, peer_end);
    };
    if (!w.aggregate) {
      int64_t dense = 0;
      for (size_t i = 0; i < m; ++i) {
        if (peer_start[i] == i) ++dense;
        uint32_t r = row(i);
        if (f == "row_number") {
          out.data<int64_t>()[r] = static_cast<int64_t>(i + 1);
        } else if (f == "rank") {
          out.data<int64_t>()[r] = static_cast<int64_t>(peer_start[i] + 1);
        } else if (f == "dense_rank") {
          out.data<int64_t>()[r] = dense;
        } else if (f == "percent_rank") {
          out.data<double>()[r] = m == 1 ? 0.0 : static_cast<double>(peer_start[i]) / static_cast<double>(m - 1);
        } else if (f == "cume_dist") {
          out.data<double>()[r] = static_cast<double>(peer_end[i]) / static_cast<double>(m);
        } else if (f == "ntile") {
          if (!args[0]->IsValid(r)) {
            out.SetNull(r);
            continue;
          }
          int64_t buckets = args[0]->GetValue<int64_t>(r);
          if (buckets <= 0) return Status::InvalidArgument("ntile: bucket count must be greater than 0");
          int64_t mm = static_cast<int64_t>(m), ii = static_cast<int64_t>(i);
          int64_t b;
          if (buckets >= mm) {
            b = ii + 1;
          } else {
            int64_t q = mm / buckets, rem = mm % buckets;
            b = ii < rem * (q + 1) ? ii / (q + 1) + 1 : rem + (ii - rem * (q + 1)) / q + 1;
          }
          out.data<int64_t>()[r] = b;
        } else if (f == "lag" || f == "lead") {
          int64_t off = 1;
          if (args.size() > 1) {
            if (!args[1]->IsValid(r)) {
              out.SetNull(r);
              continue;
            }
            off = args[1]->GetValue<int64_t>(r);
            if (off < 0) return Status::InvalidArgument(f + ": offset must be non-negative");
          }
          int64_t t = static_cast<int64_t>(i) + (f == "lag" ? -off : off);
          if (t >= 0 && t < static_cast<int64_t>(m)) {
            CopyValue(*args[0], row(static_cast<size_t>(t)), out, r);
          } else if (args.size() > 2) {
            CopyValue(*args[2], r, out, r);
          } else {
            out.SetNull(r);
          }
        } else {  // first_value / last_value / nth_value over the frame
          auto [fs, fe] = frame(i);
          int64_t t = -1;
          if (fs <= fe) {
            if (f == "first_value") t = fs;
            else if (f == "last_value") t = fe;
            else {
              int64_t k = args[1]->IsValid(r) ? args[1]->GetValue<int64_t>(r) : 0;
              if (k <= 0) return Status::InvalidArgument("nth_value: position must be greater than 0");
              if (fs + k - 1 <= fe) t = fs + k - 1;
            }
          }
          if (t >= 0) {
            CopyValue(*args[0], row(static_cast<size_t>(t)), out, r);
          } else {
            out.SetNull(r);
          }
        }
      }
      return Status::OK();
    }
    // Aggregates over frames.
    const AggregateFunction& fn = *w.aggregate;
    auto feed = [&](AggregateState& st, int64_t from, int64_t to) -> Status {  // inclusive
      if (from > to) return Status::OK();
      std::vector<ColumnVector> cols;
      std::vector<const ColumnVector*> ptrs;
      for (const ColumnVector* a : args) cols.emplace_back(a->type(), static_cast<size_t>(to - from + 1));
      for (auto& c : cols) c.Resize(0);
      for (int64_t q = from; q <= to; ++q)
        for (size_t k = 0; k < args.size(); ++k) cols[k].AppendFrom(*args[k], row(static_cast<size_t>(q)));
      for (auto& c : cols) ptrs.push_back(&c);
      std::vector<uint32_t> gids(static_cast<size_t>(to - from + 1), 0);
      return st.Update(gids.data(), ptrs, gids.size());
    };
    auto finalize = [&](AggregateState& st, ColumnVector& one) -> Status {
      one = ColumnVector(fn.return_type, 1);
      one.Resize(1);
      return st.Finalize(one);
    };
    const WindowFrame& fr = w.frame;
    bool whole = fr.start == BoundKind::kUnboundedPreceding && fr.end == BoundKind::kUnboundedFollowing;
    if (whole) {
      auto st = MakeAggregateState(fn);
      st->Resize(1);
      SL_RETURN_IF_ERROR(feed(*st, 0, static_cast<int64_t>(m) - 1));
      ColumnVector one;
      SL_RETURN_IF_ERROR(finalize(*st, one));
      for (size_t i = 0; i < m; ++i) CopyValue(one, 0, out, row(i));
      return Status::OK();
    }
    if (fr.start == BoundKind::kUnboundedPreceding) {
      auto st = MakeAggregateState(fn);
      st->Resize(1);
      int64_t fed = -1;
      ColumnVector one;
      bool have = false;
      for (size_t i = 0; i < m; ++i) {
        auto [fs, fe] = frame(i);
        (void)fs;
        if (fe > fed || !have) {
          SL_RETURN_IF_ERROR(feed(*st, fed + 1, fe));
          fed = std::max(fed, fe);
          SL_RETURN_IF_ERROR(finalize(*st, one));
          have = true;
        }
        CopyValue(one, 0, out, row(i));
      }
      return Status::OK();
    }
    for (size_t i = 0; i < m; ++i) {
      if ((i & 1023) == 0) SL_RETURN_IF_ERROR(ctx_.Check());
      auto [fs, fe] = frame(i);
      auto st = MakeAggregateState(fn);
      st->Resize(1);
      SL_RETURN_IF_ERROR(feed(*st, fs, fe));
      ColumnVector one;
      SL_RETURN_IF_ERROR(finalize(*st, one));
      CopyValue(one, 0, out, row(i));
    }
    return Status::OK();
  }

  // RANGE frames with offsets, for rows [ps, ps + m) of perm (one partition sorted on the single
  // ORDER BY key). A row with a NULL key frames its NULL peer group; other rows find, by binary
  // search over the non-NULL rows, the first / last row whose key reaches range_start_/end_
  // (ascending: key >= start, key <= end; descending reversed). UNBOUNDED and CURRENT ROW bounds
  // are as for any RANGE frame.
  void RangeFrames(const WindowCall& w, const std::vector<uint32_t>& perm, size_t ps, size_t m,
                   const std::vector<size_t>& peer_start, const std::vector<size_t>& peer_end,
                   std::vector<std::pair<int64_t, int64_t>>& out) const {
    const ColumnVector& key = *range_key_;
    const bool desc = w.order_by[0].descending;
    auto row = [&](size_t i) { return perm[ps + i]; };
    size_t nn_begin = 0, nn_end = m;  // the non-NULL keys, contiguous after sorting
    while (nn_begin < m && !key.IsValid(row(nn_begin))) ++nn_begin;
    if (nn_begin == 0) {
      while (nn_end > 0 && !key.IsValid(row(nn_end - 1))) --nn_end;
    } else {
      nn_end = m;
    }
    // Ascending: does key at position p come before value v (key < v)? Descending: key > v.
    auto before = [&](size_t p, const ColumnVector& vals, uint32_t vr) {
      int c = CompareRows(key, row(p), vals, vr);
      return desc ? c > 0 : c < 0;
    };
    auto after = [&](size_t p, const ColumnVector& vals, uint32_t vr) {
      int c = CompareRows(key, row(p), vals, vr);
      return desc ? c < 0 : c > 0;
    };
    out.resize(m);
    const int64_t mm = static_cast<int64_t>(m);
    for (size_t i = 0; i < m; ++i) {
      uint32_t r = row(i);
      int64_t fs, fe;
      if (!key.IsValid(r)) {
        fs = static_cast<int64_t>(peer_start[i]);
        fe = static_cast<int64_t>(peer_end[i]) - 1;
      } else {
        fs = Frame(w.frame, i, m, peer_start, peer_end).first;
        fe = Frame(w.frame, i, m, peer_start, peer_end).second;
      }
      if (w.frame.start == BoundKind::kUnboundedPreceding) fs = 0;
      if (w.frame.end == BoundKind::kUnboundedFollowing) fe = mm - 1;
      if (key.IsValid(r) && range_start_ && w.frame.start != BoundKind::kUnboundedPreceding) {
        if (!range_start_->IsValid(r)) {
          fs = mm;  // an offset bound that overflowed to NULL frames nothing
        } else {
          size_t lo = nn_begin, hi = nn_end;  // first position not before the bound value
          while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (before(mid, *range_start_, r)) lo = mid + 1; else hi = mid;
          }
          fs = static_cast<int64_t>(lo);
        }
      }
      if (key.IsValid(r) && range_end_ && w.frame.end != BoundKind::kUnboundedFollowing) {
        if (!range_end_->IsValid(r)) {
          fe = -1;
        } else {
          size_t lo = nn_begin, hi = nn_end;  // first position after the bound value
          while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (after(mid, *range_end_, r)) hi = mid; else lo = mid + 1;
          }
          fe = static_cast<int64_t>(lo) - 1;
        }
      }
      out[i] = {fs, fe};
    }
  }

  // Inclusive frame [start, end] in partition positions (start > end: empty).
  static std::pair<int64_t, int64_t> Frame(const WindowFrame& fr, size_t i, size_t m,
                                           const std::vector<size_t>& ps, const std::vector<size_t>& pe) {
    int64_t ii = static_cast<int64_t>(i), mm = static_cast<int64_t>(m);
    auto bound = [&](BoundKind k, int64_t off, bool is_start) -> int64_t {
      switch (k) {
        case BoundKind::kUnboundedPreceding: return 0;
        case BoundKind::kUnboundedFollowing: return mm - 1;
        case BoundKind::kPreceding: return ii - off;
        case BoundKind::kFollowing: return ii + off;
        case BoundKind::kCurrentRow:
          if (fr.unit == FrameUnit::kRange)
            return is_start ? static_cast<int64_t>(ps[i]) : static_cast<int64_t>(pe[i]) - 1;
          return ii;
      }
      return ii;
    };
    int64_t s = std::max<int64_t>(0, bound(fr.start, fr.start_offset, true));
    int64_t e = std::min<int64_t>(mm - 1, bound(fr.end, fr.end_offset, false));
    return {s, e};
  }

  static void CopyValue(const ColumnVector& src, size_t from, ColumnVector& out, size_t to) {
    if (!src.IsValid(from)) {
      out.SetNull(to);
      return;
    }
    SetValueAt(out, to, GetValueAt(src, from));
  }

  const PlanNode& node_;
  QueryContext& ctx_;
  bool done_ = false;
  // The RANGE offset columns of the window call being computed (null without offsets).
  const ColumnVector *range_key_ = nullptr, *range_start_ = nullptr, *range_end_ = nullptr;
};

// ------------------------------------------------------------------ pruning

// Can a row with a value in [min, max] (and null_count nulls) satisfy `col op lit`?
bool MayMatch(const std::string& op, const ColumnStats& s, const Value& lit, bool col_left) {
  if (s.min.is_null() || s.max.is_null() || lit.is_null()) return true;
  if (s.min.type() != lit.type()) {
    auto lo = CastValue(s.min, lit.type());
    auto hi = CastValue(s.max, lit.type());
    if (!lo.ok() || !hi.ok() || lo->is_null() || hi->is_null()) return true;
    return MayMatch(op, ColumnStats{*lo, *hi, s.null_count}, lit, col_left);
  }
  std::string o = op;
  if (!col_left) {  // lit op col  ==  col op' lit
    if (o == "<") o = ">";
    else if (o == ">") o = "<";
    else if (o == "<=") o = ">=";
    else if (o == ">=") o = "<=";
  }
  int lo = s.min.Compare(lit), hi = s.max.Compare(lit);
  if (o == "=") return lo <= 0 && hi >= 0;
  if (o == "<") return lo < 0;
  if (o == "<=") return lo <= 0;
  if (o == ">") return hi > 0;
  if (o == ">=") return hi >= 0;
  return true;
}

// The constant a pruning comparison can use: a literal, or an uncorrelated scalar subquery whose
// value the query computed before its pipelines (e.g. `customer_id = (SELECT min(...) ...)`).
const Value* ConstantOf(const Expr& e, SubqueryCache* subqueries, Value& scratch) {
  if (e.kind == ExprKind::kLiteral) return &e.value;
  if (e.kind == ExprKind::kScalarSubquery && subqueries) {
    auto v = subqueries->Scalar(e);
    if (!v.ok()) return nullptr;  // the filter above reports the error
    scratch = std::move(*v);
    return &scratch;
  }
  return nullptr;
}

bool MorselMayMatch(const PlanNode& scan, const Morsel& m, const Expr& f, SubqueryCache* subqueries) {
  auto stats_of = [&](const Expr& e) -> const ColumnStats* {
    if (e.kind != ExprKind::kColumn) return nullptr;
    int tc = scan.scan_columns[static_cast<size_t>(e.column)];
    if (tc < 0 || static_cast<size_t>(tc) >= m.stats.size()) return nullptr;
    return &m.stats[static_cast<size_t>(tc)];
  };
  if (f.kind == ExprKind::kCall && f.fn && f.args.size() == 2) {
    const std::string& op = f.fn->name;
    if (op == "=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
      const Expr* a = f.args[0].get();
      const Expr* b = f.args[1].get();
      Value scratch;
      if (const ColumnStats* s = stats_of(*b)) {
        if (const Value* v = ConstantOf(*a, subqueries, scratch)) return MayMatch(op, *s, *v, false);
      } else if (const ColumnStats* s2 = stats_of(*a)) {
        if (const Value* v = ConstantOf(*b, subqueries, scratch)) return MayMatch(op, *s2, *v, true);
      }
    }
  }
  if (f.kind == ExprKind::kIsNull) {
    if (const ColumnStats* s = stats_of(*f.args[0])) {
      if (!f.negated && s->null_count == 0) return false;
      if (f.negated && m.rows >= 0 && s->null_count == m.rows) return false;
    }
  }
  if (f.kind == ExprKind::kIn && !f.negated) {
    if (const ColumnStats* s = stats_of(*f.args[0])) {
      for (size_t k = 1; k < f.args.size(); ++k) {
        if (f.args[k]->kind != ExprKind::kLiteral) return true;
        if (MayMatch("=", *s, f.args[k]->value, true)) return true;
      }
      return false;
    }
  }
  if (f.kind == ExprKind::kAnd) {
    for (const auto& a : f.args)
      if (!MorselMayMatch(scan, m, *a, subqueries)) return false;
  }
  if (f.kind == ExprKind::kOr) {
    for (const auto& a : f.args)
      if (MorselMayMatch(scan, m, *a, subqueries)) return true;
    return false;
  }
  return true;
}

}  // namespace

Result<std::vector<Morsel>> PrunedMorsels(const PlanNode& scan, NodeStats* stats,
                                          SubqueryCache* subqueries) {
  SL_ASSIGN_OR_RETURN(std::vector<Morsel> all, scan.table->Morsels());
  if (scan.scan_filters.empty()) {
    if (stats) stats->morsels_read += all.size();
    return all;
  }
  std::vector<Morsel> kept;
  for (auto& m : all) {
    bool keep = true;
    if (!m.stats.empty()) {
      for (const auto& f : scan.scan_filters)
        if (!MorselMayMatch(scan, m, *f, subqueries)) {
          keep = false;
          break;
        }
    }
    if (keep) kept.push_back(std::move(m));
    if (stats) ++(keep ? stats->morsels_read : stats->morsels_skipped);
  }
  return kept;
}

Result<size_t> ParallelDrain(const PlanPtr& plan, QueryContext& ctx,
                             const std::function<Status(size_t, size_t, Batch&)>& sink,
                             bool keep_dictionaries) {
  NodeStats* root_stats = ctx.StatsFor(plan.get());
  if (!IsPipeline(*plan)) {
    SL_ASSIGN_OR_RETURN(auto op, BuildOperator(plan, ctx));
    Batch b;
    while (true) {
      SL_ASSIGN_OR_RETURN(bool more, Pull(*op, b, root_stats));
      if (!more) break;
      SL_RETURN_IF_ERROR(sink(0, 0, b));
      b = Batch();
    }
    return size_t{1};
  }
  const PlanNode* scan = PipelineScan(*plan);
  SL_ASSIGN_OR_RETURN(std::vector<Morsel> morsels, PrunedMorsels(*scan, ctx.StatsFor(scan), ctx.subqueries()));
  size_t threads = ctx.options().max_threads ? ctx.options().max_threads : ThreadPool::Default().size();
  size_t workers = std::max<size_t>(1, std::min(threads, morsels.size()));
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  std::atomic<bool> failed{false};
  auto work = [&](size_t w) {
    while (!failed.load()) {
      size_t i = next.fetch_add(1);
      if (i >= morsels.size()) return;
      std::vector<Morsel> one{morsels[i]};
      Status s = [&]() -> Status {
        SL_RETURN_IF_ERROR(ctx.Check());
        SL_ASSIGN_OR_RETURN(auto op, BuildOperator(plan, ctx, &one, keep_dictionaries));
        Batch b;
        while (true) {
          SL_ASSIGN_OR_RETURN(bool more, Pull(*op, b, root_stats));
          if (!more) return Status::OK();
          SL_RETURN_IF_ERROR(sink(w, i, b));
          b = Batch();
        }
      }();
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = s;
        failed = true;
        return;
      }
    }
  };
  if (workers == 1) {
    work(0);
  } else {
    ThreadPool::Default().ParallelFor(workers, work, workers);
  }
  if (!first_error.ok()) return first_error;
  return workers;
}

Result<std::unique_ptr<Operator>> BuildOperator(const PlanPtr& plan, QueryContext& ctx,
                                                const std::vector<Morsel>* morsels,
                                                bool keep_dictionaries) {
  const PlanNode& p = *plan;
  switch (p.kind) {
    case PlanKind::kScan: {
      std::vector<Morsel> ms;
      if (morsels) {
        ms = *morsels;
      } else {
        SL_ASSIGN_OR_RETURN(ms, PrunedMorsels(p, ctx.StatsFor(&p), ctx.subqueries()));
      }
      return std::unique_ptr<Operator>(new ScanOp(p, std::move(ms), ctx, keep_dictionaries));
    }
    case PlanKind::kValues: return std::unique_ptr<Operator>(new ValuesOp(p, ctx));
    case PlanKind::kFilter: {
      SL_ASSIGN_OR_RETURN(auto child, BuildOperator(p.children[0], ctx, morsels, keep_dictionaries));
      return std::unique_ptr<Operator>(new FilterOp(p, std::move(child), ctx));
    }
    case PlanKind::kProject: {
      SL_ASSIGN_OR_RETURN(auto child, BuildOperator(p.children[0], ctx, morsels, keep_dictionaries));
      return std::unique_ptr<Operator>(new ProjectOp(p, std::move(child), ctx));
    }
    case PlanKind::kLimit: {
      const PlanNode& c = *p.children[0];
      if (c.kind == PlanKind::kSort && p.limit >= 0) {  // top-N
        auto sort = std::unique_ptr<Operator>(new SortOp(c, p.limit + p.offset, ctx));
        return std::unique_ptr<Operator>(new LimitOp(p, std::move(sort), ctx));
      }
      SL_ASSIGN_OR_RETURN(auto child, BuildOperator(p.children[0], ctx));
      return std::unique_ptr<Operator>(new LimitOp(p, std::move(child), ctx));
    }
    case PlanKind::kAggregate: return std::unique_ptr<Operator>(new HashAggregateOp(p, ctx));
    case PlanKind::kJoin: {
      SL_ASSIGN_OR_RETURN(auto left, BuildOperator(p.children[0], ctx));
      return std::unique_ptr<Operator>(new HashJoinOp(p, std::move(left), ctx));
    }
    case PlanKind::kSort: return std::unique_ptr<Operator>(new SortOp(p, -1, ctx));
    case PlanKind::kDistinct: {
      SL_ASSIGN_OR_RETURN(auto child, BuildOperator(p.children[0], ctx));
      return std::unique_ptr<Operator>(new DistinctOp(std::move(child), ctx.StatsFor(p.children[0].get()), ctx));
    }
    case PlanKind::kSetOp: {
      SL_ASSIGN_OR_RETURN(auto left, BuildOperator(p.children[0], ctx));
      if (p.set_op == SetOpKind::kUnion) {
        SL_ASSIGN_OR_RETURN(auto right, BuildOperator(p.children[1], ctx));
        auto cat = std::unique_ptr<Operator>(new ConcatOp(std::move(left), std::move(right)));
        if (p.all) return cat;
        return std::unique_ptr<Operator>(new DistinctOp(std::move(cat), nullptr, ctx));
      }
      return std::unique_ptr<Operator>(new IntersectExceptOp(p, std::move(left), ctx));
    }
    case PlanKind::kWindow: return std::unique_ptr<Operator>(new WindowOp(p, ctx));
  }
  return Status::Internal("unknown plan node");
}

}  // namespace saleslake::sql::internal
