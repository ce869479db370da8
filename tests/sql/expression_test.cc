#include "sql/expression.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace saleslake::sql {
namespace {

Schema Source() {
  return Schema{{{"qty", DataType::Int64(), true}, {"price", DataType::Double(), true}, {"status", DataType::Varchar(), true}}};
}

// Three rows: (2, 1.5, " ok "), (NULL, 3.0, "out"), (4, NULL, NULL).
std::shared_ptr<const Batch> Rows() {
  auto b = std::make_shared<Batch>(Source(), 3);
  b->SetRows(3);
  b->columns[0].data<int64_t>()[0] = 2;
  b->columns[0].SetNull(1);
  b->columns[0].data<int64_t>()[2] = 4;
  b->columns[1].data<double>()[0] = 1.5;
  b->columns[1].data<double>()[1] = 3.0;
  b->columns[1].SetNull(2);
  b->columns[2].SetString(0, " ok ");
  b->columns[2].SetString(1, "out");
  b->columns[2].SetNull(2);
  return b;
}

TEST(CompiledExpressionsTest, EvaluatesOverBatchesWithTypesAndNulls) {
  auto c = CompiledExpressions::Compile(
      Source(), {{"amount", "qty * price"}, {"s", "upper(trim(status))"}, {"k", "'x'"}, {"q2", "qty"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const Schema& out_schema = (*c)->output_schema();
  ASSERT_EQ(out_schema.size(), 4u);
  EXPECT_EQ(out_schema[0].name, "amount");
  EXPECT_EQ(out_schema[0].type.id, TypeId::kDouble);
  EXPECT_EQ(out_schema[1].type.id, TypeId::kVarchar);
  EXPECT_EQ((*c)->input_columns(), (std::vector<size_t>{0, 1, 2}));

  Batch out;
  {
    auto in = Rows();
    ASSERT_TRUE((*c)->Evaluate(in, &out).ok());
  }  // `out` must keep what its strings point into alive
  ASSERT_EQ(out.num_rows, 3u);
  EXPECT_DOUBLE_EQ(out.columns[0].GetValue<double>(0), 3.0);
  EXPECT_FALSE(out.columns[0].IsValid(1));
  EXPECT_FALSE(out.columns[0].IsValid(2));
  EXPECT_EQ(out.columns[1].GetValue<std::string_view>(0), "OK");
  EXPECT_EQ(out.columns[1].GetValue<std::string_view>(1), "OUT");
  EXPECT_FALSE(out.columns[1].IsValid(2));
  EXPECT_EQ(out.columns[2].GetValue<std::string_view>(2), "x");
  EXPECT_EQ(out.columns[3].GetValue<int64_t>(2), 4);
}

TEST(CompiledExpressionsTest, ErrorsNameTheColumnAndPosition) {
  auto bad = CompiledExpressions::Compile(Source(), {{"amount", "qty * prize"}});
  ASSERT_FALSE(bad.ok());
  std::string msg = bad.status().ToString();
  EXPECT_NE(msg.find("column 'amount' = 'qty * prize'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1:7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("price"), std::string::npos) << msg;  // the hint

  EXPECT_FALSE(CompiledExpressions::Compile(Source(), {{"a", "qty +"}}).ok());
  EXPECT_FALSE(CompiledExpressions::Compile(Source(), {{"a", "sum(qty)"}}).ok());
  auto sub = CompiledExpressions::Compile(Source(), {{"a", "(SELECT 1)"}});
  ASSERT_FALSE(sub.ok());
}

TEST(CompiledExpressionsTest, RuntimeErrorsAreStatusesAndThreadsShareOneProgram) {
  auto c = CompiledExpressions::Compile(Source(), {{"r", "qty / 0"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Batch out;
  EXPECT_FALSE((*c)->Evaluate(Rows(), &out).ok());  // division by zero is an error, as in Trino

  auto ok = CompiledExpressions::Compile(Source(), {{"r", "coalesce(qty, 0) + 1"}});
  ASSERT_TRUE(ok.ok());
  std::vector<std::thread> threads;
  std::vector<int64_t> sums(4, 0);
  for (size_t t = 0; t < sums.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Batch o;
        if (!(*ok)->Evaluate(Rows(), &o).ok()) return;
        for (size_t r = 0; r < o.num_rows; ++r) sums[t] += o.columns[0].GetValue<int64_t>(r);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int64_t s : sums) EXPECT_EQ(s, 200 * (3 + 1 + 5));
}

TEST(CompiledExpressionsTest, LongOperatorChainsAreBoundedLikeNesting) {
  // `a + b - c ...` is parsed by a loop but builds a tree as deep as the chain, which the binder
  // recurses through: a chain of thousands is one clear error (the fuzzer's stack overflow), a
  // chain of 150 (a generated OR filter, a long sum) still compiles.
  auto chain = [](const std::string& term, const std::string& op, int n) {
    std::string e = term;
    for (int i = 1; i < n; ++i) e += op + term;
    return e;
  };
  for (const std::string& op : std::vector<std::string>{" + ", " * ", " = ", " OR ", " AND "}) {
    std::string term = op == " OR " || op == " AND " ? "qty = 1" : "qty";
    auto ok = CompiledExpressions::Compile(Source(), {{"x", chain(term, op, 150)}});
    EXPECT_TRUE(ok.ok() || op == " = ") << op << ": " << ok.status().ToString();
    auto deep = CompiledExpressions::Compile(Source(), {{"x", chain(term, op, 3000)}});
    ASSERT_FALSE(deep.ok()) << op;
    EXPECT_NE(deep.status().message().find("nested too deeply"), std::string::npos) << deep.status().ToString();
  }
}

}  // namespace
}  // namespace saleslake::sql
