#include "cli/render.h"

#include <gtest/gtest.h>

#include <string>

namespace saleslake::cli {
namespace {

std::string Table(std::vector<Column> cols, const std::vector<std::vector<std::string>>& rows,
                  RenderOptions o = {}) {
  Renderer r(std::move(cols), o);
  for (const auto& row : rows) {
    for (const auto& c : row) {
      if (c == "<null>") r.AddNull();
      else r.AddCell(c);
    }
    r.EndRow();
  }
  std::string out = r.TakeText();
  return out + r.Finish();
}

TEST(RenderTest, AlignedTableWithNumbersRightAndNull) {
  EXPECT_EQ(Table({{"name"}, {"n", CellKind::kNumber}}, {{"a", "1"}, {"bbb", "<null>"}}),
            "name | n\n"
            "-----+-----\n"
            "a    |    1\n"
            "bbb  | NULL\n"
            "(2 rows)\n");
}

TEST(RenderTest, NewlinesAndTabsAreShownEscapedSoRowsStayOneLine) {
  const std::string t = Table({{"s"}}, {{"two\nlines\tand tab"}});
  EXPECT_NE(t.find("two\\nlines\\tand tab\n"), std::string::npos) << t;
  EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 4);
}

TEST(RenderTest, MaxRowsKeepsHeadAndTailAroundACountLine) {
  std::vector<std::vector<std::string>> rows;
  for (int i = 1; i <= 100; ++i) rows.push_back({std::to_string(i)});
  const std::string t = Table({{"i", CellKind::kNumber}}, rows, {.max_rows = 4});
  EXPECT_EQ(t,
            "i\n"
            "---\n"
            "  1\n"
            "  2\n"
            "… 96 more rows …\n"
            " 99\n"
            "100\n"
            "(100 rows, 4 shown)\n");
  // Not more rows than the limit: everything, no count line.
  EXPECT_EQ(Table({{"i"}}, {{"1"}, {"2"}}, {.max_rows = 4}).find("more rows"), std::string::npos);
}

TEST(RenderTest, WideColumnsAreCutWithAnEllipsisToFitTheWidth) {
  const std::string wide(300, 'x');
  const std::string t = Table({{"id", CellKind::kNumber}, {"text"}}, {{"1", wide}}, {.max_width = 40});
  std::istringstream lines(t);
  std::string line;
  while (std::getline(lines, line)) EXPECT_LE(DisplayWidth(line), 40u) << line;
  EXPECT_NE(t.find("xxx…"), std::string::npos) << t;
  // Without a width nothing is cut.
  EXPECT_NE(Table({{"text"}}, {{wide}}).find(wide), std::string::npos);
}

TEST(RenderTest, CsvJsonAndLineModesCarryEveryByte) {
  const std::vector<Column> cols = {{"s"}, {"x", CellKind::kNumber}, {"b", CellKind::kBoolean}};
  const std::vector<std::vector<std::string>> rows = {{"a,\"b\"\nc", "1.5", "true"},
                                                      {"<null>", "NaN", "<null>"}};
  EXPECT_EQ(Table(cols, rows, {.mode = OutputMode::kCsv, .max_rows = 1}),
            "s,x,b\n\"a,\"\"b\"\"\nc\",1.5,true\n,NaN,\n");
  EXPECT_EQ(Table(cols, rows, {.mode = OutputMode::kJson}),
            "[\n  {\"s\": \"a,\\\"b\\\"\\nc\", \"x\": 1.5, \"b\": true},\n"
            "  {\"s\": null, \"x\": \"NaN\", \"b\": null}\n]\n");
  EXPECT_EQ(Table(cols, {}, {.mode = OutputMode::kJson}), "[]\n");
  EXPECT_EQ(Table({{"id"}, {"name"}}, {{"1", "x\ny"}, {"2", "<null>"}}, {.mode = OutputMode::kLine}),
            "  id = 1\nname = x\\ny\n\n  id = 2\nname = NULL\n");
}

TEST(RenderTest, DisplayDoubleDropsFloatNoiseButKeepsRealDigits) {
  EXPECT_EQ(DisplayDouble(3289868.0300000003), "3289868.03");
  EXPECT_EQ(DisplayDouble(0.1 + 0.2), "0.3");
  EXPECT_EQ(DisplayDouble(2), "2.0");
  EXPECT_EQ(DisplayDouble(1.5e300), "1.5e+300");
  EXPECT_EQ(DisplayDouble(123456.789), "123456.789");
  EXPECT_EQ(DisplayDouble(-0.25), "-0.25");
}

TEST(RenderTest, ModeNames) {
  for (const char* name : {"table", "csv", "json", "line"}) {
    auto m = ParseOutputMode(name);
    ASSERT_TRUE(m.has_value()) << name;
    EXPECT_EQ(OutputModeName(*m), name);
  }
  EXPECT_FALSE(ParseOutputMode("xml").has_value());
}

}  // namespace
}  // namespace saleslake::cli
