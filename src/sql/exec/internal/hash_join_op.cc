#include "sql/exec/internal/physical_ops.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "sql/exec/internal/group_table.h"

namespace saleslake::sql::internal {

// The collected build rows, the table of their distinct keys and, per key id, its first row
// (head) and per row the next of the same key (next): read-only once made, so every worker of
// a pipeline probes it at once. Or, when the build did not fit in the memory limit, its rows
// partitioned by key hash into spill files (spill), joined partition by partition.
struct JoinSpill;
struct JoinBuild {
  explicit JoinBuild(QueryContext& c) : ctx(c) {}
  ~JoinBuild() { ctx.Release(reserved); }
  QueryContext& ctx;
  int64_t reserved = 0;  // counted against the memory limit until the query ends
  Batch rows;
  std::unique_ptr<GroupTable> table;  // null for a join without keys
  // Per key id its first row, per row the next of its key; both empty when `unique`.
  std::vector<uint32_t> head, next;
  // Every row has its own key and no key is NULL, so key id g is row g (the table numbers keys
  // in order of arrival) and no chain has a second row: a build from an aggregate grouped by
  // the join keys, or over a primary key, keeps no chains (8 bytes a row).
  bool unique = false;

  uint32_t First(uint32_t g) const { return unique ? g : head[g]; }
  uint32_t Next(uint32_t r) const { return unique ? UINT32_MAX : next[r]; }
  std::shared_ptr<JoinSpill> spill;  // set: the build is on disk, rows and table are empty
};

namespace {

// Partitions per spill level: a build P times the memory limit fits after one pass.
constexpr size_t kSpillPartitions = 32;
// Repartitioning passes before a partition that still does not fit fails the query (each pass
// hashes with another seed, so only rows of one key, or a few, stay together that long).
constexpr int kMaxSpillLevel = 4;
// Per build row, what keying adds to the rows themselves at most (GroupTable::Reserve's 2-4
// slots of 8 bytes, the key's hash and stored value, head, next and key id): charged while the
// build is collected, so a build that would not fit spills before it is keyed rather than
// failing once keyed. The real figure replaces it once the table is made.
constexpr int64_t kKeyedBytesPerRow = 64;

// Bytes an in-memory build of `bytes` of rows (BatchBytes) in `rows` rows holds at its peak: the
// collected batches and their concatenation, then the keys.
int64_t BuildNeed(int64_t bytes, uint64_t rows) { return 2 * bytes + static_cast<int64_t>(rows) * kKeyedBytesPerRow; }

// A partition of each row by its join keys' hash, another partition function per level.
void PartitionOf(const std::vector<const ColumnVector*>& keys, size_t n, int level,
                 std::vector<uint64_t>& hashes, std::vector<uint32_t>& part) {
  hashes.resize(n);
  for (size_t k = 0; k < keys.size(); ++k) HashKeyColumn(*keys[k], n, hashes.data(), k == 0);
  part.resize(n);
  const uint64_t seed = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(level + 1);
  for (size_t i = 0; i < n; ++i) {
    uint64_t h = hashes[i] ^ seed;  // a finalizer (murmur3's) so each level uses other bits
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    part[i] = static_cast<uint32_t>(h % kSpillPartitions);
  }
}

// One side of a join split into kSpillPartitions files. Thread safety: Add is safe from many
// threads (each partition has its own lock); Finish after every Add.
class PartitionSet {
 public:
  static Result<std::unique_ptr<PartitionSet>> Make(QueryContext& ctx, std::string_view tag) {
    auto ps = std::unique_ptr<PartitionSet>(new PartitionSet());
    for (size_t p = 0; p < kSpillPartitions; ++p) {
      SL_ASSIGN_OR_RETURN(std::string path, ctx.spill_dir().NewFile(tag));
      SL_ASSIGN_OR_RETURN(auto w, SpillWriter::Open(std::move(path)));
      ps->writers_.push_back(std::move(w));
    }
    return ps;
  }
  // Writes the rows of `b` to the partitions of their `keys` (evaluated with `ev`) at `level`.
  Status Add(const Batch& b, const std::vector<ExprPtr>& keys, Evaluator& ev, int level) {
    if (b.num_rows == 0) return Status::OK();
    ev.Reset();
    std::vector<const ColumnVector*> cols;
    for (const auto& k : keys) {
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev.Eval(*k, b));
      cols.push_back(v);
    }
    std::vector<uint64_t> hashes;
    std::vector<uint32_t> part;
    PartitionOf(cols, b.num_rows, level, hashes, part);
    std::vector<std::vector<uint32_t>> rows(kSpillPartitions);
    for (size_t i = 0; i < b.num_rows; ++i) rows[part[i]].push_back(static_cast<uint32_t>(i));
    for (size_t p = 0; p < kSpillPartitions; ++p) {
      if (rows[p].empty()) continue;
      Batch piece = GatherBatch(b, rows[p]);
      std::lock_guard<std::mutex> lock(mu_[p]);
      SL_RETURN_IF_ERROR(writers_[p]->Write(piece));
    }
    return Status::OK();
  }
  // Closes the files; counts them (those with rows) and their bytes in `stats`.
  Status Finish(NodeStats* stats) {
    for (auto& w : writers_) {
      SL_RETURN_IF_ERROR(w->Finish());
      if (stats && w->rows() > 0) {
        stats->spill_partitions += 1;
        stats->spill_bytes += w->bytes();
      }
    }
    return Status::OK();
  }
  std::vector<std::unique_ptr<SpillWriter>>& writers() { return writers_; }

 private:
  PartitionSet() = default;
  std::vector<std::unique_ptr<SpillWriter>> writers_;
  std::mutex mu_[kSpillPartitions];
};

}  // namespace

// The build side on disk. `claimed`: the one operator (of the pipeline's many) that joins the
// partitions; the others emit nothing.
struct JoinSpill {
  std::shared_ptr<PartitionSet> build;
  std::atomic<bool> claimed{false};
};

namespace {

// Keys jb.rows: the table of distinct keys and the chains of rows per key; charges what they
// hold (and the rows) to jb.reserved.
Status KeyBuild(const PlanNode& node, QueryContext& ctx, bool cross, JoinBuild& build) {
  JoinBuild* jb = &build;
  Batch& rows = jb->rows;
  if (rows.columns.empty()) {
    for (const auto& c : node.children[1]->output) {
      ColumnVector v(c.type, 1);
      v.Resize(0);
      rows.columns.push_back(std::move(v));
    }
  }
  if (rows.num_rows >= UINT32_MAX - 1)
    return Status::ResourceExhausted("join build side has more than 4 billion rows");
  if (cross) {
    jb->reserved = BatchBytes(rows);
    return ctx.Reserve(jb->reserved);
  }
  Evaluator ev(ctx.subqueries());
  std::vector<const ColumnVector*> keys;
  std::vector<DataType> types;
  for (size_t k = 0; k < node.right_keys.size(); ++k) {
    SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev.Eval(*node.right_keys[k], rows));
    keys.push_back(v);
    types.push_back(v->type());
    if (!(node.left_keys[k]->type == v->type()))
      return Status::Internal(fmt::format("join key {} has types {} and {}", k,
                                          node.left_keys[k]->type.ToString(), v->type().ToString()));
  }
  jb->table = std::make_unique<GroupTable>(types);
  const size_t n = rows.num_rows;
  jb->table->Reserve(n);
  std::vector<uint32_t> gids(n);
  // In slices, so a large build stays cancellable and its scratch small.
  constexpr size_t kSlice = 64 * 1024;
  std::vector<const ColumnVector*> slice_keys(keys.size());
  std::vector<ColumnVector> slices(keys.size());
  for (size_t at = 0; at < n; at += kSlice) {
    SL_RETURN_IF_ERROR(ctx.Check());
    size_t m = std::min(kSlice, n - at);
    if (at == 0 && m == n) {
      jb->table->FindOrInsert(keys, n, gids.data());
      break;
    }
    std::vector<uint32_t> slice_rows(m);
    for (size_t i = 0; i < m; ++i) slice_rows[i] = static_cast<uint32_t>(at + i);
    for (size_t k = 0; k < keys.size(); ++k) {
      slices[k] = ColumnVector();
      GatherColumn(*keys[k], slice_rows.data(), m, slices[k]);
      slice_keys[k] = &slices[k];
    }
    jb->table->FindOrInsert(slice_keys, m, gids.data() + at);
  }
  jb->unique = jb->table->size() == n;
  for (size_t r = 0; r < n && jb->unique; ++r) jb->unique = gids[r] == r && !AnyNull(keys, r);
  if (!jb->unique) {
    jb->head.assign(jb->table->size(), UINT32_MAX);
    jb->next.assign(n, UINT32_MAX);
    // Backwards, so each chain lists its rows in build order. Rows with a NULL key join nothing.
    for (size_t r = n; r-- > 0;) {
      if (AnyNull(keys, r)) continue;
      jb->next[r] = jb->head[gids[r]];
      jb->head[gids[r]] = static_cast<uint32_t>(r);
    }
  }
  gids = std::vector<uint32_t>();
  jb->reserved = BatchBytes(rows) + jb->table->MemoryBytes() +
                 static_cast<int64_t>(jb->head.capacity() + jb->next.capacity()) * 4;
  if (NodeStats* stats = ctx.StatsFor(&node)) stats->build_bytes += static_cast<uint64_t>(jb->reserved);
  return ctx.Reserve(jb->reserved);
}

// Collects the build (right) input and keys it (no table for a join without keys). Each batch
// is charged as it arrives with what it will hold once keyed (BuildNeed); when the next one
// would pass the memory limit, a join with keys moves what it holds, and everything after, into
// partition files instead (the grace hash join: JoinSpill, SpilledJoinOp).
Result<std::shared_ptr<const JoinBuild>> MakeJoinBuild(const PlanNode& node, QueryContext& ctx, bool cross) {
  auto jb = std::make_shared<JoinBuild>(ctx);
  std::mutex mu;
  std::vector<std::vector<Batch>> by_morsel;
  int64_t held = 0;  // charged for the batches in by_morsel
  std::unique_ptr<PartitionSet> parts;
  std::map<size_t, std::unique_ptr<Evaluator>> evs;  // per worker
  auto collected = ParallelDrain(node.children[1], ctx, [&](size_t w, size_t m, Batch& b) -> Status {
    const int64_t need = BuildNeed(BatchBytes(b), b.num_rows);
    std::unique_lock<std::mutex> lock(mu);
    if (!parts) {
      if (ctx.TryReserve(need)) {
        held += need;
        if (by_morsel.size() <= m) by_morsel.resize(m + 1);
        by_morsel[m].push_back(std::move(b));
        return Status::OK();
      }
      if (cross) return ctx.Reserve(need);  // no keys to partition by: the limit's error
      SL_ASSIGN_OR_RETURN(parts, PartitionSet::Make(ctx, "build"));
      Evaluator ev(ctx.subqueries());
      for (auto& v : by_morsel)
        for (auto& x : v) SL_RETURN_IF_ERROR(parts->Add(x, node.right_keys, ev, 0));
      by_morsel.clear();
      ctx.Release(held);
      held = 0;
    }
    auto& ev = evs[w];
    if (!ev) ev = std::make_unique<Evaluator>(ctx.subqueries());
    Evaluator* e = ev.get();
    lock.unlock();
    return parts->Add(b, node.right_keys, *e, 0);
  });
  if (!collected.ok()) {
    ctx.Release(held);
    return collected.status();
  }
  if (parts) {
    SL_RETURN_IF_ERROR(parts->Finish(ctx.StatsFor(&node)));
    jb->spill = std::make_shared<JoinSpill>();
    jb->spill->build = std::move(parts);
    return std::shared_ptr<const JoinBuild>(std::move(jb));
  }
  std::vector<Batch> batches;
  for (auto& v : by_morsel)
    for (auto& b : v) batches.push_back(std::move(b));
  jb->rows = ConcatBatches(OutputSchema(*node.children[1]), batches);
  batches.clear();
  ctx.Release(held);
  SL_RETURN_IF_ERROR(KeyBuild(node, ctx, cross, *jb));
  return std::shared_ptr<const JoinBuild>(std::move(jb));
}

std::vector<DataType> SideTypes(const PlanNode& side) {
  std::vector<DataType> t;
  for (const auto& c : side.output) t.push_back(c.type);
  return t;
}

// Reads one spill file back as an operator's output; removes the file once read.
class SpillReadOp final : public Operator {
 public:
  explicit SpillReadOp(std::unique_ptr<SpillReader> r, std::string path)
      : reader_(std::move(r)), path_(std::move(path)) {}
  ~SpillReadOp() override {
    reader_.reset();
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  Result<bool> Next(Batch& out) override { return reader_->Next(out); }

 private:
  std::unique_ptr<SpillReader> reader_;
  std::string path_;
};

Result<std::unique_ptr<Operator>> ReadSpill(const SpillWriter& w, const PlanNode& side) {
  SL_ASSIGN_OR_RETURN(auto r, SpillReader::Open(w.path(), SideTypes(side)));
  return std::unique_ptr<Operator>(new SpillReadOp(std::move(r), w.path()));
}

// Rows one Next() emits at most: a probe batch whose keys match many build rows (or a join
// without keys, a cross product) is emitted in pieces, so what the join holds at once stays
// bounded however large its result.
constexpr size_t kMaxPairs = 64 * 1024;

// Inner, left, right, full and cross joins: the right child is the build side, collected and
// keyed in a typed table (GroupTable: distinct keys -> dense ids, each with a chain of its build
// rows); the left child streams and probes it batch by batch.
// The join of a build that spilled (JoinBuild::spill): the probe rows are partitioned like the
// build's, then each pair of partitions is joined in memory by the join's own operator, or split
// again (level + 1, another hash) when its build still does not fit.
class SpilledJoinOp final : public Operator {
 public:
  // `probe`: the probe rows, or null to drain the join's left child in parallel (level 0).
  SpilledJoinOp(const PlanNode& node, QueryContext& ctx, std::shared_ptr<PartitionSet> build,
                std::unique_ptr<Operator> probe, int level)
      : node_(node), ctx_(ctx), build_(std::move(build)), probe_(std::move(probe)), level_(level) {}
  Result<bool> Next(Batch& out) override;

 private:
  Status PartitionProbe();
  Status Open(size_t p);

  const PlanNode& node_;
  QueryContext& ctx_;
  std::shared_ptr<PartitionSet> build_, probe_parts_;
  std::unique_ptr<Operator> probe_;
  int level_;
  size_t next_ = 0;                  // partition being joined
  std::unique_ptr<Operator> inner_;  // its join
};

class HashJoinOp final : public Operator {
 public:
  // `build`: a build made already (a spilled partition's), or null for the node's shared one.
  HashJoinOp(const PlanNode& node, std::unique_ptr<Operator> left, QueryContext& ctx,
             std::shared_ptr<const JoinBuild> build = nullptr)
      : node_(node), left_(std::move(left)), ctx_(ctx), ev_(ctx.subqueries()),
        left_stats_(build ? nullptr : ctx.StatsFor(node.children[0].get())), build_(std::move(build)) {
    nl_ = node.children[0]->output.size();
    nr_ = node.children[1]->output.size();
    cross_ = node_.join_type == JoinType::kCross || node_.left_keys.empty();
    semi_ = node_.join_type == JoinType::kSemi || node_.join_type == JoinType::kAnti;
  }
  ~HashJoinOp() override { ctx_.Release(reserved_); }

  Result<bool> Next(Batch& out) override {
    if (!built_) {
      built_ = true;
      SL_RETURN_IF_ERROR(Build());
      if (build_->spill) {
        // One operator of the pipeline's joins them all (it drains the whole probe side); the
        // others, each over one morsel, emit nothing.
        if (build_->spill->claimed.exchange(true)) return false;
        spilled_ = std::make_unique<SpilledJoinOp>(node_, ctx_, build_->spill->build, nullptr, 0);
      }
    }
    if (build_->spill) return spilled_ ? spilled_->Next(out) : Result<bool>(false);
    while (true) {
      if (!have_in_) {
        if (left_done_) return EmitUnmatchedRight(out);
        SL_ASSIGN_OR_RETURN(bool more, Pull(*left_, in_, left_stats_));
        if (!more) {
          left_done_ = true;
          continue;
        }
        SL_RETURN_IF_ERROR(ctx_.Check());
        SL_RETURN_IF_ERROR(StartBatch());
        if (semi_) {  // the probe rows with (kSemi) or without (kAnti) a match, each once
          have_in_ = false;
          const bool anti = node_.join_type == JoinType::kAnti;
          std::vector<uint32_t> keep;
          keep.reserve(in_.num_rows);
          for (size_t i = 0; i < in_.num_rows; ++i) {
            const uint32_t g = probe_gids_[i];
            const bool hit = g != UINT32_MAX && build_->First(g) != UINT32_MAX;
            if (hit != anti) keep.push_back(static_cast<uint32_t>(i));
          }
          if (keep.empty()) continue;
          if (keep.size() == in_.num_rows) {
            out = std::move(in_);
          } else {
            out = GatherBatch(in_, keep);
          }
          return true;
        }
      }
      SL_RETURN_IF_ERROR(ctx_.Check());
      SL_RETURN_IF_ERROR(ProbeSome(out));
      if (out.num_rows > 0) return true;
    }
  }

 private:
  Status Build() {
    if (!build_) {
      SL_ASSIGN_OR_RETURN(build_, ctx_.SharedJoinBuild(&node_, [this] { return MakeJoinBuild(node_, ctx_, cross_); }));
    }
    if (build_->spill) return Status::OK();
    if (node_.join_type == JoinType::kRight || node_.join_type == JoinType::kFull)
      right_matched_.assign(build_->rows.num_rows, 0);
    return Status::OK();
  }

  Status StartBatch() {
    have_in_ = true;
    pos_ = 0;
    chain_ = kStart;
    cross_r_ = 0;
    if (node_.join_type == JoinType::kLeft || node_.join_type == JoinType::kFull)
      left_matched_.assign(in_.num_rows, 0);
    if (cross_) return Status::OK();
    ev_.Reset();
    std::vector<const ColumnVector*> keys;
    for (const auto& k : node_.left_keys) {
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev_.Eval(*k, in_));
      keys.push_back(v);
    }
    probe_gids_.resize(in_.num_rows);
    build_->table->Find(keys, in_.num_rows, probe_gids_.data(), probe_hashes_);
    return Status::OK();
  }

  // The next (probe row, build row) pairs of the current batch, at most kMaxPairs.
  void NextPairs() {
    lrows_.clear();
    rrows_.clear();
    const size_t n = in_.num_rows, nb = build_->rows.num_rows;
    while (pos_ < n && lrows_.size() < kMaxPairs) {
      const uint32_t l = static_cast<uint32_t>(pos_);
      if (cross_) {
        size_t take = std::min(nb - cross_r_, kMaxPairs - lrows_.size());
        for (size_t k = 0; k < take; ++k) {
          lrows_.push_back(l);
          rrows_.push_back(static_cast<uint32_t>(cross_r_ + k));
        }
        cross_r_ += take;
        if (cross_r_ == nb) {
          cross_r_ = 0;
          ++pos_;
        }
        continue;
      }
      if (chain_ == kStart)
        chain_ = probe_gids_[pos_] == UINT32_MAX ? UINT32_MAX : build_->First(probe_gids_[pos_]);
      while (chain_ != UINT32_MAX && lrows_.size() < kMaxPairs) {
        lrows_.push_back(l);
        rrows_.push_back(chain_);
        chain_ = build_->Next(chain_);
      }
      if (chain_ == UINT32_MAX) {
        ++pos_;
        chain_ = kStart;
      }
    }
  }

  Status ProbeSome(Batch& out) {
    NextPairs();
    const bool batch_done = pos_ >= in_.num_rows;
    Batch joined = Assemble(lrows_, rrows_);
    if (node_.residual && joined.num_rows > 0) {
      std::vector<uint32_t> keep;
      ev_.Reset();
      SL_RETURN_IF_ERROR(ev_.Select(*node_.residual, joined, &keep));
      if (keep.size() != joined.num_rows) {
        joined = GatherBatch(joined, keep);
        size_t w = 0;
        for (uint32_t k : keep) {
          lrows_[w] = lrows_[k];
          rrows_[w] = rrows_[k];
          ++w;
        }
        lrows_.resize(w);
        rrows_.resize(w);
      }
    }
    if (!right_matched_.empty())
      for (uint32_t r : rrows_) right_matched_[r] = 1;
    const bool outer_left = node_.join_type == JoinType::kLeft || node_.join_type == JoinType::kFull;
    if (outer_left)
      for (uint32_t l : lrows_) left_matched_[l] = 1;
    if (batch_done) {
      have_in_ = false;
      if (outer_left) {
        std::vector<uint32_t> unmatched;
        for (size_t i = 0; i < in_.num_rows; ++i)
          if (!left_matched_[i]) unmatched.push_back(static_cast<uint32_t>(i));
        if (!unmatched.empty()) {
          Batch extra;
          extra.num_rows = unmatched.size();
          AppendSide(&in_, *node_.children[0], unmatched, extra);
          AppendSide(nullptr, *node_.children[1], unmatched, extra);
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
    }
    // The piece in flight (its pairs and gathered columns) counts until the next call.
    ctx_.Release(in_flight_);
    reserved_ -= in_flight_;
    in_flight_ = BatchBytes(joined) + static_cast<int64_t>(lrows_.capacity() + rrows_.capacity()) * 4;
    reserved_ += in_flight_;
    SL_RETURN_IF_ERROR(ctx_.Reserve(in_flight_));
    out = std::move(joined);
    return Status::OK();
  }

  Result<bool> EmitUnmatchedRight(Batch& out) {
    if (!(node_.join_type == JoinType::kRight || node_.join_type == JoinType::kFull)) return false;
    while (right_pos_ < build_->rows.num_rows) {
      std::vector<uint32_t> rows;
      while (right_pos_ < build_->rows.num_rows && rows.size() < kMaxPairs) {
        if (!right_matched_[right_pos_]) rows.push_back(static_cast<uint32_t>(right_pos_));
        ++right_pos_;
      }
      if (rows.empty()) continue;
      out = Batch();
      out.num_rows = rows.size();
      AppendSide(nullptr, *node_.children[0], rows, out);
      AppendSide(&build_->rows, *node_.children[1], rows, out);
      return true;
    }
    return false;
  }

  Batch Assemble(const std::vector<uint32_t>& l, const std::vector<uint32_t>& r) {
    Batch b;
    b.num_rows = l.size();
    AppendSide(&in_, *node_.children[0], l, b);
    AppendSide(&build_->rows, *node_.children[1], r, b);
    return b;
  }

  // Appends the columns of one side (`side`'s output) to `out`: rows `rows` of `src`, or NULLs
  // (the missing side of an outer join's unmatched rows) when src is null.
  static void AppendSide(const Batch* src, const PlanNode& side, const std::vector<uint32_t>& rows, Batch& out) {
    for (size_t c = 0; c < side.output.size(); ++c) {
      ColumnVector col;
      if (src) {
        GatherColumn(src->columns[c], rows.data(), rows.size(), col);
      } else {
        MakeNullColumn(side.output[c].type, rows.size(), col);
      }
      out.columns.push_back(std::move(col));
    }
  }

  static constexpr uint32_t kStart = UINT32_MAX - 1;  // chain_: the row's chain is not started

  const PlanNode& node_;
  std::unique_ptr<Operator> left_;
  QueryContext& ctx_;
  Evaluator ev_;
  NodeStats* left_stats_;
  size_t nl_, nr_;
  bool cross_ = false;
  bool semi_ = false;  // kSemi / kAnti: emits probe rows, no pairs
  bool built_ = false, left_done_ = false;
  int64_t reserved_ = 0;   // what this operator (not the shared build) counts against the limit
  int64_t in_flight_ = 0;  // of which the last emitted piece
  std::shared_ptr<const JoinBuild> build_;
  std::unique_ptr<SpilledJoinOp> spilled_;  // the build spilled and this operator joins it
  std::vector<uint8_t> right_matched_;  // RIGHT/FULL joins (never run in parallel)
  size_t right_pos_ = 0;  // RIGHT/FULL: next build row to check for no match
  // Probe side: the current batch, its key ids and where its pairs resume.
  Batch in_;
  bool have_in_ = false;
  std::vector<uint32_t> probe_gids_;
  std::vector<uint64_t> probe_hashes_;
  std::vector<uint8_t> left_matched_;
  size_t pos_ = 0, cross_r_ = 0;
  uint32_t chain_ = kStart;
  std::vector<uint32_t> lrows_, rrows_;
};

// kRightSemi / kRightAnti: the right input (the small one) is built and kept; the left one is
// drained by every worker at once (ParallelDrain), each probe marking the build keys it meets;
// then the build rows whose key was met (kRightSemi) or not (kRightAnti) are emitted, in build
// order. A NULL key meets nothing.
class RightSemiJoinOp final : public Operator {
 public:
  RightSemiJoinOp(const PlanNode& node, QueryContext& ctx) : node_(node), ctx_(ctx) {}
  // A spilled partition's join: its build made already, its probe rows read from `probe`.
  RightSemiJoinOp(const PlanNode& node, QueryContext& ctx, std::shared_ptr<const JoinBuild> build,
                  std::unique_ptr<Operator> probe)
      : node_(node), ctx_(ctx), build_(std::move(build)), probe_(std::move(probe)) {}

  Result<bool> Next(Batch& out) override {
    if (!done_) {
      done_ = true;
      SL_RETURN_IF_ERROR(Run());
    }
    if (spilled_) return spilled_->Next(out);
    const Batch& rows = build_->rows;
    while (pos_ < rows.num_rows) {
      std::vector<uint32_t> take;
      while (pos_ < rows.num_rows && take.size() < kBatchRows) {
        if (keep_[pos_]) take.push_back(static_cast<uint32_t>(pos_));
        ++pos_;
      }
      if (take.empty()) continue;
      out = GatherBatch(rows, take);
      return true;
    }
    return false;
  }

 private:
  Status Run() {
    if (!build_) {
      SL_ASSIGN_OR_RETURN(build_, ctx_.SharedJoinBuild(&node_, [this] { return MakeJoinBuild(node_, ctx_, false); }));
    }
    if (build_->spill) {  // never in a pipeline: this is the only operator of the join
      build_->spill->claimed = true;
      spilled_ = std::make_unique<SpilledJoinOp>(node_, ctx_, build_->spill->build, nullptr, 0);
      return Status::OK();
    }
    const GroupTable& table = *build_->table;
    // One flag per build key; workers only ever set them, so relaxed stores suffice.
    std::vector<std::atomic<uint8_t>> met(table.size());
    struct Worker {
      explicit Worker(SubqueryCache* s) : ev(s) {}
      Evaluator ev;
      std::vector<uint32_t> gids;
      std::vector<uint64_t> hashes;
    };
    std::mutex mu;
    std::map<size_t, std::unique_ptr<Worker>> workers;  // by worker index, made on first use
    auto probe = [&](size_t w, size_t, Batch& b) -> Status {
      if (b.num_rows == 0) return Status::OK();
      Worker* st;
      {
        std::lock_guard<std::mutex> lock(mu);
        auto& slot = workers[w];
        if (!slot) slot = std::make_unique<Worker>(ctx_.subqueries());
        st = slot.get();
      }
      st->ev.Reset();
      std::vector<const ColumnVector*> keys;
      for (const auto& k : node_.left_keys) {
        SL_ASSIGN_OR_RETURN(const ColumnVector* v, st->ev.Eval(*k, b));
        keys.push_back(v);
      }
      st->gids.resize(b.num_rows);
      table.Find(keys, b.num_rows, st->gids.data(), st->hashes);
      for (size_t i = 0; i < b.num_rows; ++i)
        if (st->gids[i] != UINT32_MAX) met[st->gids[i]].store(1, std::memory_order_relaxed);
      return ctx_.Check();
    };
    if (probe_) {
      Batch b;
      while (true) {
        SL_ASSIGN_OR_RETURN(bool more, probe_->Next(b));
        if (!more) break;
        SL_RETURN_IF_ERROR(probe(0, 0, b));
      }
    } else {
      SL_ASSIGN_OR_RETURN(size_t n, ParallelDrain(node_.children[0], ctx_, probe));
      (void)n;
    }
    const bool anti = node_.join_type == JoinType::kRightAnti;
    keep_.assign(build_->rows.num_rows, anti ? 1 : 0);
    for (size_t g = 0; g < met.size(); ++g) {
      if (!met[g].load(std::memory_order_relaxed)) continue;
      for (uint32_t r = build_->First(g); r != UINT32_MAX; r = build_->Next(r)) keep_[r] = anti ? 0 : 1;
    }
    return Status::OK();
  }

  const PlanNode& node_;
  QueryContext& ctx_;
  bool done_ = false;
  std::shared_ptr<const JoinBuild> build_;
  std::unique_ptr<Operator> probe_;          // a spilled partition's probe rows, or null
  std::unique_ptr<SpilledJoinOp> spilled_;   // the build spilled: the partitions' join
  std::vector<uint8_t> keep_;  // per build row: emitted
  size_t pos_ = 0;             // next build row to emit
};

Status SpilledJoinOp::PartitionProbe() {
  SL_ASSIGN_OR_RETURN(probe_parts_, PartitionSet::Make(ctx_, "probe"));
  if (probe_) {
    Evaluator ev(ctx_.subqueries());
    Batch b;
    while (true) {
      SL_ASSIGN_OR_RETURN(bool more, probe_->Next(b));
      if (!more) break;
      SL_RETURN_IF_ERROR(ctx_.Check());
      SL_RETURN_IF_ERROR(probe_parts_->Add(b, node_.left_keys, ev, level_));
    }
    probe_.reset();
  } else {
    std::mutex mu;
    std::map<size_t, std::unique_ptr<Evaluator>> evs;  // per worker
    SL_ASSIGN_OR_RETURN(size_t n, ParallelDrain(node_.children[0], ctx_, [&](size_t w, size_t, Batch& b) -> Status {
      Evaluator* e;
      {
        std::lock_guard<std::mutex> lock(mu);
        auto& ev = evs[w];
        if (!ev) ev = std::make_unique<Evaluator>(ctx_.subqueries());
        e = ev.get();
      }
      SL_RETURN_IF_ERROR(ctx_.Check());
      return probe_parts_->Add(b, node_.left_keys, *e, level_);
    }));
    (void)n;
  }
  return probe_parts_->Finish(ctx_.StatsFor(&node_));
}

Result<bool> SpilledJoinOp::Next(Batch& out) {
  if (!probe_parts_) SL_RETURN_IF_ERROR(PartitionProbe());
  while (true) {
    if (inner_) {
      SL_ASSIGN_OR_RETURN(bool more, inner_->Next(out));
      if (more) return true;
      inner_.reset();
      ++next_;
      continue;
    }
    if (next_ >= kSpillPartitions) return false;
    SL_RETURN_IF_ERROR(ctx_.Check());
    SL_RETURN_IF_ERROR(Open(next_));
    if (!inner_) ++next_;
  }
}

Status SpilledJoinOp::Open(size_t p) {
  const SpillWriter& bw = *build_->writers()[p];
  const SpillWriter& pw = *probe_parts_->writers()[p];
  const JoinType jt = node_.join_type;
  // Partitions that cannot produce a row: no probe rows and no build rows to emit unmatched,
  // or no build rows and no probe rows to emit unmatched.
  const bool emits_build = jt == JoinType::kRight || jt == JoinType::kFull || jt == JoinType::kRightAnti;
  const bool emits_probe = jt == JoinType::kLeft || jt == JoinType::kFull || jt == JoinType::kAnti;
  if (pw.rows() == 0 && !emits_build) return Status::OK();
  if (bw.rows() == 0 && !emits_probe) return Status::OK();
  const int64_t need = BuildNeed(bw.batch_bytes(), bw.rows());
  if (!ctx_.TryReserve(need)) {
    if (level_ + 1 >= kMaxSpillLevel)
      return Status::ResourceExhausted(fmt::format(
          "query exceeded memory limit: a hash join partition of {} build rows ({} bytes) still does "
          "not fit after {} repartitionings, so one join key has too many rows (raise the limit with "
          "--memory-limit MB)",
          bw.rows(), bw.batch_bytes(), level_ + 1));
    SL_ASSIGN_OR_RETURN(std::shared_ptr<PartitionSet> sub, PartitionSet::Make(ctx_, "build"));
    {
      SL_ASSIGN_OR_RETURN(auto rd, ReadSpill(bw, *node_.children[1]));
      Evaluator ev(ctx_.subqueries());
      Batch b;
      while (true) {
        SL_ASSIGN_OR_RETURN(bool more, rd->Next(b));
        if (!more) break;
        SL_RETURN_IF_ERROR(ctx_.Check());
        SL_RETURN_IF_ERROR(sub->Add(b, node_.right_keys, ev, level_ + 1));
      }
    }
    SL_RETURN_IF_ERROR(sub->Finish(ctx_.StatsFor(&node_)));
    SL_ASSIGN_OR_RETURN(auto probe, ReadSpill(pw, *node_.children[0]));
    inner_ = std::make_unique<SpilledJoinOp>(node_, ctx_, std::move(sub), std::move(probe), level_ + 1);
    return Status::OK();
  }
  auto jb = std::make_shared<JoinBuild>(ctx_);
  Status loaded = [&]() -> Status {
    SL_ASSIGN_OR_RETURN(auto rd, ReadSpill(bw, *node_.children[1]));
    std::vector<Batch> batches;
    Batch b;
    while (true) {
      SL_ASSIGN_OR_RETURN(bool more, rd->Next(b));
      if (!more) break;
      batches.push_back(std::move(b));
    }
    jb->rows = ConcatBatches(OutputSchema(*node_.children[1]), batches);
    return Status::OK();
  }();
  ctx_.Release(need);
  SL_RETURN_IF_ERROR(loaded);
  SL_RETURN_IF_ERROR(KeyBuild(node_, ctx_, false, *jb));
  SL_ASSIGN_OR_RETURN(auto probe, ReadSpill(pw, *node_.children[0]));
  if (jt == JoinType::kRightSemi || jt == JoinType::kRightAnti) {
    inner_ = std::make_unique<RightSemiJoinOp>(node_, ctx_, std::move(jb), std::move(probe));
  } else {
    inner_ = std::make_unique<HashJoinOp>(node_, std::move(probe), ctx_, std::move(jb));
  }
  return Status::OK();
}

}  // namespace

std::unique_ptr<Operator> MakeRightSemiJoinOp(const PlanNode& node, QueryContext& ctx) {
  return std::make_unique<RightSemiJoinOp>(node, ctx);
}

std::unique_ptr<Operator> MakeHashJoinOp(const PlanNode& node, std::unique_ptr<Operator> left,
                                         QueryContext& ctx) {
  return std::make_unique<HashJoinOp>(node, std::move(left), ctx);
}

}  // namespace saleslake::sql::internal
