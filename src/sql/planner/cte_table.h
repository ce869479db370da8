// WITH queries computed once: the CteTable that stands for one in a plan, and the plan walks
// that the binder, the optimizer and the executor share to find and replace its scans.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "sql/planner/plan.h"

namespace saleslake::sql {

// A WITH query that its statement reads more than once, as a table (a materialized CTE): the
// executor computes `plan` once per execution of the statement, before its pipelines, and every
// scan of this table reads those rows (ExecutePlan). The binder makes one for a deterministic
// WITH query referenced at least twice (TPC-H Q15's revenue0: its FROM and the max() subquery
// read it; inlined, its aggregate over lineitem ran twice); one referenced once is inlined.
// Morsels and reads fail (kInternal) until the executor has put the computed rows in its place.
// Thread safety: immutable.
class CteTable final : public Table {
 public:
  // `references`: how many scans the statement has of it (EXPLAIN); `optimized`: `plan` went
  // through the optimizer already (which then leaves the table as it is).
  CteTable(std::string name, Schema schema, PlanPtr plan, int references, bool optimized = false)
      : name_(std::move(name)), schema_(std::move(schema)), plan_(std::move(plan)),
        references_(references), optimized_(optimized) {}
  const std::string& name() const override { return name_; }
  const Schema& schema() const override { return schema_; }
  Result<std::vector<Morsel>> Morsels() const override;
  Status ReadMorsel(const Morsel& m, const std::vector<int>& columns,
                    const std::function<Status(Batch&)>& sink) const override;
  const PlanPtr& plan() const { return plan_; }
  int references() const { return references_; }
  bool optimized() const { return optimized_; }

 private:
  std::string name_;
  Schema schema_;
  PlanPtr plan_;
  int references_;
  bool optimized_;
};

// The plan with every scan for which `replace` returns a node replaced by it, in `plan`'s tree
// and in the plans of its subqueries (their expressions are copied on the way); `replace`
// returns null to keep a scan. Returns `plan` itself when nothing was replaced, and the first
// error of `replace`.
Result<PlanPtr> ReplaceScans(const PlanPtr& plan,
                             const std::function<Result<PlanPtr>(const PlanNode& scan)>& replace);

// True when every expression of the plan, its subqueries' and WITH queries' plans included, is
// deterministic.
bool PlanDeterministic(const PlanNode& plan);

}  // namespace saleslake::sql
