#include "cli/statements.h"

#include <gtest/gtest.h>

namespace saleslake::cli {
namespace {

TEST(StatementsTest, SplitsOnSemicolonsAndKeepsPositions) {
  auto r = SplitStatements("SELECT 1; SELECT 2");
  ASSERT_EQ(r.statements.size(), 2u);
  EXPECT_EQ(r.statements[0].text, "SELECT 1");
  // The second statement starts at column 11 of line 1: the engine's positions stay true.
  EXPECT_EQ(r.statements[1].text, std::string(9, ' ') + " SELECT 2");
  EXPECT_EQ(r.statements[1].text.find('S'), 10u);
  auto m = SplitStatements("SELECT 1;\n\nSELECT\n  x;\n");
  ASSERT_EQ(m.statements.size(), 2u);
  EXPECT_EQ(m.statements[1].line, 3u);
  EXPECT_EQ(m.statements[1].text, std::string(9, ' ') + "\n\nSELECT\n  x");
}

TEST(StatementsTest, SemicolonsInQuotesAndCommentsDoNotSplit) {
  auto r = SplitStatements("SELECT ';' AS \"a;b\" -- c;d\n; /* x; y */ SELECT 2;");
  ASSERT_EQ(r.statements.size(), 2u);
  EXPECT_EQ(r.statements[0].text, "SELECT ';' AS \"a;b\" -- c;d\n");
  EXPECT_NE(r.statements[1].text.find("SELECT 2"), std::string::npos);
}

TEST(StatementsTest, BlankAndCommentOnlyPiecesAreDropped) {
  EXPECT_TRUE(SplitStatements(" ;; -- nothing\n; /* */").statements.empty());
}

TEST(StatementsTest, CompleteOnlyLeavesTheUnfinishedRest) {
  auto r = SplitStatements("SELECT 1; SELECT 'a;", /*complete_only=*/true);
  ASSERT_EQ(r.statements.size(), 1u);
  EXPECT_EQ(r.rest, " SELECT 'a;");
  r = SplitStatements("SELECT 1;\n", true);
  EXPECT_EQ(r.rest, "\n");
}

}  // namespace
}  // namespace saleslake::cli
