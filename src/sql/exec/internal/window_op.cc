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

}  // namespace

std::unique_ptr<Operator> MakeWindowOp(const PlanNode& node, QueryContext& ctx) {
  return std::make_unique<WindowOp>(node, ctx);
}

}  // namespace saleslake::sql::internal
