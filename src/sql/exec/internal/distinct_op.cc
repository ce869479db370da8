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
      int64_t bytes = 0;
      for (size_t i = 0; i < in.num_rows; ++i) {
        EncodeKeys(cols, i, key);
        if (seen_.insert(key).second) {
          rows_.push_back(static_cast<uint32_t>(i));
          bytes += KeyBytes(key.size());
        }
      }
      // The bucket array grows with the set: charge its growth too.
      const int64_t buckets = static_cast<int64_t>(seen_.bucket_count()) * 8;
      bytes += buckets - charged_buckets_;
      charged_buckets_ = buckets;
      SL_RETURN_IF_ERROR(ctx_.Reserve(bytes));
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
  // What one key of `n` bytes holds in seen_: the node (its std::string, next pointer and cached
  // hash) and, past the string's inline capacity (15 bytes in libstdc++), the key's own buffer.
  static int64_t KeyBytes(size_t n) {
    return 48 + (n > 15 ? static_cast<int64_t>(n) + 1 : 0);
  }

  std::unordered_set<std::string> seen_;
  int64_t charged_buckets_ = 0;
  std::vector<uint32_t> rows_;
};

}  // namespace

std::unique_ptr<Operator> MakeDistinctOp(std::unique_ptr<Operator> child, NodeStats* stats,
                                         QueryContext& ctx) {
  return std::make_unique<DistinctOp>(std::move(child), stats, ctx);
}

}  // namespace saleslake::sql::internal
