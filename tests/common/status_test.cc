#include "common/status.h"

#include <gtest/gtest.h>

namespace saleslake {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  SL_ASSIGN_OR_RETURN(int h, Half(x));
  SL_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, OkAndErrors) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.ToString(), "OK");
  Status bad = Status::NotFound("table x");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), StatusCode::kNotFound);
  EXPECT_EQ(bad.ToString(), "NotFound: table x");
  EXPECT_EQ(bad.WithContext("row group 3").message(), "row group 3: table x");
  Status copy = bad;
  EXPECT_EQ(copy.message(), "table x");
}

TEST(StatusTest, ResultMacros) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd");
}

}  // namespace
}  // namespace saleslake
