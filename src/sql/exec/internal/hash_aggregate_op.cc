#include "sql/exec/internal/physical_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <numeric>
#include <unordered_set>

#include <fmt/format.h>

#include "common/thread_pool.h"

#include "sql/exec/internal/group_table.h"

namespace saleslake::sql::internal {
namespace {

struct SetPartial {
  std::unique_ptr<GroupTable> table;
  std::vector<std::unique_ptr<AggregateState>> aggs;
  std::vector<int64_t> charged;  // per aggregate: its MemoryBytes() reserved so far
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
      sp.charged.assign(sp.aggs.size(), 0);
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
      const bool as_scanned = !parts.empty() && parts[0].aggs[a]->TakesDictionaries();
      for (const auto& x : node_.aggregates[a].args) {
        if (as_scanned && x->kind == ExprKind::kColumn) {  // a dictionary column stays one
          arg_cols[a].push_back(&in.columns[static_cast<size_t>(x->column)]);
          continue;
        }
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
        } else {
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
        SL_RETURN_IF_ERROR(Charge(sp, a));
      }
    }
    return Status::OK();
  }

  // Reserves what aggregate a of `sp` holds beyond what it was charged (DISTINCT sets grow
  // with their values, not with the groups).
  Status Charge(SetPartial& sp, size_t a) {
    const int64_t now = sp.aggs[a]->MemoryBytes();
    if (now <= sp.charged[a]) return Status::OK();
    const int64_t more = now - sp.charged[a];
    sp.charged[a] = now;
    Status s = ctx_.Reserve(more);
    if (s.ok()) return s;
    return s.WithContext(fmt::format("{} holds {:.1f} MB of distinct values", AggregateLabel(a),
                                     static_cast<double>(now) / (1 << 20)));
  }

  std::string AggregateLabel(size_t a) const {
    const auto& fn = node_.aggregates[a].fn;
    return fmt::format("{}({}...)", fn.name, fn.distinct ? "DISTINCT " : "");
  }

  // Gives back what a merged (and now dropped) partial was charged.
  void Uncharge(std::vector<SetPartial>& parts) {
    for (auto& sp : parts)
      for (int64_t c : sp.charged) ctx_.Release(c);
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
          SL_RETURN_IF_ERROR(Charge(dst, a));
        }
      }
      Uncharge(*p);
      p.reset();  // its values now live in the final partial
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

}  // namespace

std::unique_ptr<Operator> MakeHashAggregateOp(const PlanNode& node, QueryContext& ctx) {
  return std::make_unique<HashAggregateOp>(node, ctx);
}

}  // namespace saleslake::sql::internal
