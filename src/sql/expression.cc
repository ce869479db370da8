#include "sql/expression.h"

#include <algorithm>

#include "sql/exec/executor.h"
#include "sql/parser/parser.h"
#include "sql/planner/binder.h"

namespace saleslake::sql {
namespace {

bool ReadsTables(const Expr& e) {
  if (e.subquery) return true;
  for (const ExprPtr& a : e.args)
    if (a && ReadsTables(*a)) return true;
  return false;
}

void CollectColumns(const Expr& e, std::vector<size_t>* out) {
  if (e.kind == ExprKind::kColumn && e.column >= 0) out->push_back(static_cast<size_t>(e.column));
  for (const ExprPtr& a : e.args)
    if (a) CollectColumns(*a, out);
}

}  // namespace

struct CompiledExpressions::Impl {
  std::vector<ExprPtr> exprs;
};

CompiledExpressions::CompiledExpressions(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledExpressions::~CompiledExpressions() = default;

Result<std::unique_ptr<CompiledExpressions>> CompiledExpressions::Compile(
    const Schema& input, const std::vector<std::pair<std::string, std::string>>& exprs) {
  auto impl = std::make_unique<Impl>();
  Schema output;
  for (const auto& named : exprs) {
    const std::string& name = named.first;
    const std::string& text = named.second;
    auto context = [&](const Status& s) { return s.WithContext("column '" + name + "' = '" + text + "'"); };
    auto ast = ParseExpression(text);
    if (!ast.ok()) return context(ast.status());
    auto bound = BindScalarExpression(**ast, input);
    if (!bound.ok()) return context(bound.status());
    if (ReadsTables(**bound)) return context(Status::InvalidArgument("subqueries are not allowed here"));
    output.fields.push_back(Field{name, (*bound)->type, true});
    impl->exprs.push_back(std::move(*bound));
  }
  std::vector<size_t> inputs;
  for (const ExprPtr& e : impl->exprs) CollectColumns(*e, &inputs);
  std::sort(inputs.begin(), inputs.end());
  inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
  std::unique_ptr<CompiledExpressions> c(new CompiledExpressions(std::move(impl)));
  c->output_ = std::move(output);
  c->inputs_ = std::move(inputs);
  return c;
}

Status CompiledExpressions::Evaluate(std::shared_ptr<const Batch> in, Batch* out) const {
  if (in->selection) return Status::InvalidArgument("CompiledExpressions::Evaluate: input has a selection");
  out->columns.clear();
  out->selection.reset();
  SL_ASSIGN_OR_RETURN(std::vector<ColumnVector> columns, EvaluateScalars(impl_->exprs, *in));
  for (ColumnVector& v : columns) {
    if (v.type().id == TypeId::kVarchar) v.KeepAlive(in);
    out->columns.push_back(std::move(v));
  }
  out->num_rows = in->num_rows;
  return Status::OK();
}

}  // namespace saleslake::sql
