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

}  // namespace

std::unique_ptr<Operator> MakeConcatOp(std::unique_ptr<Operator> a, std::unique_ptr<Operator> b) {
  return std::make_unique<ConcatOp>(std::move(a), std::move(b));
}

}  // namespace saleslake::sql::internal
