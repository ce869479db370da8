#include "sql/exec/internal/physical_ops.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "sql/exec/internal/group_table.h"

namespace saleslake::sql::internal {

// The collected build rows, the table of their distinct keys and, per key id, its first row
// (head) and per row the next of the same key (next): read-only once made, so every worker of
// a pipeline probes it at once.
struct JoinBuild {
  explicit JoinBuild(QueryContext& c) : ctx(c) {}
  ~JoinBuild() { ctx.Release(reserved); }
  QueryContext& ctx;
  int64_t reserved = 0;  // counted against the memory limit until the query ends
  Batch rows;
  std::unique_ptr<GroupTable> table;  // null for a join without keys
  std::vector<uint32_t> head, next;
};

namespace {

// Collects the build (right) input and keys it (no table for a join without keys).
Result<std::shared_ptr<const JoinBuild>> MakeJoinBuild(const PlanNode& node, QueryContext& ctx, bool cross) {
  auto jb = std::make_shared<JoinBuild>(ctx);
  SL_ASSIGN_OR_RETURN(std::vector<Batch> batches, Collect(node.children[1], ctx));
  Batch& rows = jb->rows;
  rows = ConcatBatches(OutputSchema(*node.children[1]), batches);
  batches.clear();
  if (rows.columns.empty()) {
    for (const auto& c : node.children[1]->output) {
      ColumnVector v(c.type, 1);
      v.Resize(0);
      rows.columns.push_back(std::move(v));
    }
  }
  if (rows.num_rows >= UINT32_MAX - 1)
    return Status::ResourceExhausted("join build side has more than 4 billion rows");
  if (cross) return std::shared_ptr<const JoinBuild>(std::move(jb));
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
  jb->head.assign(jb->table->size(), UINT32_MAX);
  jb->next.assign(n, UINT32_MAX);
  // Backwards, so each chain lists its rows in build order. Rows with a NULL key join nothing.
  for (size_t r = n; r-- > 0;) {
    if (AnyNull(keys, r)) continue;
    jb->next[r] = jb->head[gids[r]];
    jb->head[gids[r]] = static_cast<uint32_t>(r);
  }
  jb->reserved = jb->table->MemoryBytes() +
                 static_cast<int64_t>(jb->head.capacity() + jb->next.capacity() + n) * 4;
  SL_RETURN_IF_ERROR(ctx.Reserve(jb->reserved));
  return std::shared_ptr<const JoinBuild>(std::move(jb));
}

// Rows one Next() emits at most: a probe batch whose keys match many build rows (or a join
// without keys, a cross product) is emitted in pieces, so what the join holds at once stays
// bounded however large its result.
constexpr size_t kMaxPairs = 64 * 1024;

// Inner, left, right, full and cross joins: the right child is the build side, collected and
// keyed in a typed table (GroupTable: distinct keys -> dense ids, each with a chain of its build
// rows); the left child streams and probes it batch by batch.
class HashJoinOp final : public Operator {
 public:
  HashJoinOp(const PlanNode& node, std::unique_ptr<Operator> left, QueryContext& ctx)
      : node_(node), left_(std::move(left)), ctx_(ctx), ev_(ctx.subqueries()),
        left_stats_(ctx.StatsFor(node.children[0].get())) {
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
    }
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
            const bool hit = g != UINT32_MAX && build_->head[g] != UINT32_MAX;
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
    SL_ASSIGN_OR_RETURN(build_, ctx_.SharedJoinBuild(&node_, [this] { return MakeJoinBuild(node_, ctx_, cross_); }));
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
        chain_ = probe_gids_[pos_] == UINT32_MAX ? UINT32_MAX : build_->head[probe_gids_[pos_]];
      while (chain_ != UINT32_MAX && lrows_.size() < kMaxPairs) {
        lrows_.push_back(l);
        rrows_.push_back(chain_);
        chain_ = build_->next[chain_];
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

  Result<bool> Next(Batch& out) override {
    if (!done_) {
      done_ = true;
      SL_RETURN_IF_ERROR(Run());
    }
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
    SL_ASSIGN_OR_RETURN(build_, ctx_.SharedJoinBuild(&node_, [this] { return MakeJoinBuild(node_, ctx_, false); }));
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
    SL_ASSIGN_OR_RETURN(size_t n, ParallelDrain(node_.children[0], ctx_, [&](size_t w, size_t, Batch& b) -> Status {
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
    }));
    (void)n;
    const bool anti = node_.join_type == JoinType::kRightAnti;
    keep_.assign(build_->rows.num_rows, anti ? 1 : 0);
    for (size_t g = 0; g < met.size(); ++g) {
      if (!met[g].load(std::memory_order_relaxed)) continue;
      for (uint32_t r = build_->head[g]; r != UINT32_MAX; r = build_->next[r]) keep_[r] = anti ? 0 : 1;
    }
    return Status::OK();
  }

  const PlanNode& node_;
  QueryContext& ctx_;
  bool done_ = false;
  std::shared_ptr<const JoinBuild> build_;
  std::vector<uint8_t> keep_;  // per build row: emitted
  size_t pos_ = 0;             // next build row to emit
};

}  // namespace

std::unique_ptr<Operator> MakeRightSemiJoinOp(const PlanNode& node, QueryContext& ctx) {
  return std::make_unique<RightSemiJoinOp>(node, ctx);
}

std::unique_ptr<Operator> MakeHashJoinOp(const PlanNode& node, std::unique_ptr<Operator> left,
                                         QueryContext& ctx) {
  return std::make_unique<HashJoinOp>(node, std::move(left), ctx);
}

}  // namespace saleslake::sql::internal
