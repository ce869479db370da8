// Numeric literals at and past the edges of their types: wider than DECIMAL(38) they are DOUBLE
// (as in Trino with decimal literals parsed exactly up to 38 digits), and past DOUBLE's range they
// are a SQL error with a position, never an exception.
#include <gtest/gtest.h>

#include <string>

#include "sql/exec/executor.h"  // MemoryCatalog: inside src/sql
#include "sql/expression.h"
#include "sql/sql.h"

namespace saleslake::sql {
namespace {

class LiteralTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = Engine::Open({.catalog = std::make_shared<MemoryCatalog>()});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }
  std::unique_ptr<Engine> engine_;
};

TEST_F(LiteralTest, ThirtyEightDigitsStayDecimal) {
  auto r = engine_->Execute("SELECT " + std::string(37, '9') + ".5");  // 38 digits
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->result.schema[0].type.id, TypeId::kDecimal);
}

TEST_F(LiteralTest, FortyDigitsBecomeDouble) {
  auto r = engine_->Execute("SELECT 1" + std::string(39, '0') + ".5");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->result.schema[0].type.id, TypeId::kDouble);
  EXPECT_DOUBLE_EQ(GetValueAt(r->result.batches[0].columns[0], 0).double_value(), 1e39);
}

TEST_F(LiteralTest, PastDoubleRangeIsAPositionedError) {
  const std::string huge = "1" + std::string(400, '0') + ".5";
  auto r = engine_->Execute("SELECT 1,\n  " + huge + " AS x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "line 2:3: invalid numeric literal '" + huge + "': out of DOUBLE range");
  // The negative literal and the streaming door give the same error.
  auto q = engine_->Query("SELECT -" + huge);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("line 1:"), std::string::npos) << q.status().message();
  EXPECT_NE(q.status().message().find("out of DOUBLE range"), std::string::npos);
}

TEST_F(LiteralTest, PastDoubleRangeInACompiledExpression) {
  Schema input;
  input.fields.push_back(Field{"a", DataType::Int64(), true});
  const std::string huge = "9" + std::string(330, '9') + ".25";
  auto c = CompiledExpressions::Compile(input, {{"x", "a + " + huge}});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("line 1:5"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("out of DOUBLE range"), std::string::npos);
}

}  // namespace
}  // namespace saleslake::sql
