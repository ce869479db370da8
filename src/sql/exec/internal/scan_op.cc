#include "sql/exec/internal/physical_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <numeric>
#include <set>
#include <string>
#include <unordered_set>

#include <fmt/format.h>

namespace saleslake::sql::internal {
namespace {

class ScanOp final : public Operator {
 public:
  ScanOp(const PlanNode& node, std::vector<Morsel> morsels, QueryContext& ctx, bool keep_dictionaries,
         const PlanNode* filter)
      : node_(node), morsels_(std::move(morsels)), ctx_(ctx), keep_dictionaries_(keep_dictionaries),
        stats_(ctx.StatsFor(&node)), filter_(filter) {
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
        if (filter_) {
          // The Filter's predicate (the same conjuncts) over the filter columns: its selection
          // rides on the batch, and the other columns are gathered once, at the end.
          filter_ev_.Reset();
          if (!filter_ev_.Select(*filter_->predicate, b, &filter_rows_).ok()) return true;  // Next reports it
          if (filter_rows_.empty()) return false;
          SelectionVector sel;
          sel.Resize(filter_rows_.size());
          std::copy(filter_rows_.begin(), filter_rows_.end(), sel.data());
          b.selection = std::move(sel);
          return true;
        }
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
    while (true) {
      SL_ASSIGN_OR_RETURN(bool more, NextScanned(out));
      if (!more) return false;
      if (!filter_) return true;
      // The Filter this scan stands in for: the reader's selection, or the predicate evaluated
      // here (no selection came: the reader did not late-materialise, or the evaluation there
      // failed, and fails here with the error to report).
      stats_->rows += out.num_rows;
      if (!out.selection) {
        filter_ev_.Reset();
        SL_RETURN_IF_ERROR(filter_ev_.Select(*filter_->predicate, out, &filter_rows_));
      } else {
        filter_rows_.assign(out.selection->data(), out.selection->data() + out.selection->size());
        out.selection.reset();
      }
      if (filter_rows_.empty()) continue;
      if (filter_rows_.size() != out.num_rows) out = GatherBatch(out, filter_rows_);
      return true;
    }
  }

 private:
  // The next batch as read (without the Filter's selection applied, when this scan applies one).
  Result<bool> NextScanned(Batch& out) {
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
      if (auto* total = ctx_.options().bytes_read; total != nullptr && parts.bytes_read > 0) {
        uint64_t now = total->fetch_add(parts.bytes_read) + parts.bytes_read;
        const uint64_t limit = ctx_.options().max_bytes_read;
        if (limit > 0 && now > limit && s.ok()) {
          return Status::ResourceExhausted("Bytes scanned limit was exceeded (read " + std::to_string(now) +
                                           " bytes, the limit is " + std::to_string(limit) + ")");
        }
      }
      if (!s.ok()) return s.WithContext("scan of " + node_.table->name());
    }
    out = std::move(buffer_.front());
    buffer_.pop_front();
    if (!keep_dictionaries_) {
      for (auto& c : out.columns)
        if (c.encoding() == VectorEncoding::kDictionary) c.Flatten();
    }
    if (out.selection && !filter_) {
      std::vector<uint32_t> rows(out.selection->data(), out.selection->data() + out.selection->size());
      out.selection.reset();
      out = GatherBatch(out, rows);
    }
    return true;
  }

  const PlanNode& node_;
  std::vector<Morsel> morsels_;
  QueryContext& ctx_;
  const bool keep_dictionaries_;
  NodeStats* stats_;
  const PlanNode* filter_;  // the Filter directly above whose predicate this scan applies, or null
  Table::StatsFilter may_match_;  // empty when the scan has no filters
  Table::RowFilter row_filter_;   // the same filters as a batch test (late materialisation)
  Evaluator filter_ev_{ctx_.subqueries()};
  std::vector<uint32_t> filter_rows_;
  size_t next_ = 0;
  std::deque<Batch> buffer_;
};

}  // namespace

std::unique_ptr<Operator> MakeScanOp(const PlanNode& node, std::vector<Morsel> morsels,
                                     QueryContext& ctx, bool keep_dictionaries, const PlanNode* filter) {
  return std::make_unique<ScanOp>(node, std::move(morsels), ctx, keep_dictionaries, filter);
}

namespace {
void Conjuncts(const Expr& e, std::multiset<std::string>& out) {
  if (e.kind == ExprKind::kAnd) {
    for (const auto& a : e.args) Conjuncts(*a, out);
  } else {
    out.insert(e.ToString());
  }
}
}  // namespace

bool ScanAppliesFilter(const PlanNode& filter, const PlanNode& scan) {
  if (filter.kind != PlanKind::kFilter || scan.kind != PlanKind::kScan || !filter.predicate ||
      scan.scan_filters.empty())
    return false;
  std::multiset<std::string> a, b;
  Conjuncts(*filter.predicate, a);
  for (const auto& f : scan.scan_filters) Conjuncts(*f, b);
  return a == b;
}

}  // namespace saleslake::sql::internal
