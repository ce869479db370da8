#include "sql/exec/internal/physical_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <numeric>
#include <unordered_set>

#include <fmt/format.h>

namespace saleslake::sql::internal {
namespace {

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

}  // namespace

std::unique_ptr<Operator> MakeHashJoinOp(const PlanNode& node, std::unique_ptr<Operator> left,
                                         QueryContext& ctx) {
  return std::make_unique<HashJoinOp>(node, std::move(left), ctx);
}

}  // namespace saleslake::sql::internal
