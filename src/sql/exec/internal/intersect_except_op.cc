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

}  // namespace

std::unique_ptr<Operator> MakeIntersectExceptOp(const PlanNode& node,
                                                std::unique_ptr<Operator> left, QueryContext& ctx) {
  return std::make_unique<IntersectExceptOp>(node, std::move(left), ctx);
}

}  // namespace saleslake::sql::internal
