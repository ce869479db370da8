#include "common/text_position.h"

#include <gtest/gtest.h>

namespace saleslake {
namespace {

TEST(TextPositionTest, LinesAndColumnsAreOneBased) {
  std::string_view text = "ab\ncd\n\nef";
  EXPECT_EQ(LineColumn(text, 0), "1:1");
  EXPECT_EQ(LineColumn(text, 1), "1:2");
  EXPECT_EQ(LineColumn(text, 2), "1:3");  // the newline itself ends line 1
  EXPECT_EQ(LineColumn(text, 3), "2:1");
  EXPECT_EQ(LineColumn(text, 7), "4:1");
  TextPosition p = PositionOf(text, 8);
  EXPECT_EQ(p.line, 4u);
  EXPECT_EQ(p.column, 2u);
}

TEST(TextPositionTest, ColumnsCountBytes) {
  std::string_view text = "\xc3\xa9x";  // é is two bytes
  EXPECT_EQ(LineColumn(text, 2), "1:3");
}

TEST(TextPositionTest, OffsetPastTheEndStopsAtTheEnd) {
  EXPECT_EQ(LineColumn("ab\nc", 100), "2:2");
  EXPECT_EQ(LineColumn("", 5), "1:1");
}

}  // namespace
}  // namespace saleslake
