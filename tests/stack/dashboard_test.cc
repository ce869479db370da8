// Dashboard files (stack/dashboard.h): the default one, field rules, the save-time SQL check,
// positions in errors (also counted from an origin inside a larger file) and ids.
#include <gtest/gtest.h>

#include "stack/dashboard.h"

namespace saleslake::stack {
namespace {

using nlohmann::json;

TEST(DashboardTest, DefaultDashboardIsValid) {
  auto d = ParseDashboard(DefaultDashboardJson(), "default");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ((*d)["title"], "Sales performance");
  EXPECT_EQ((*d)["refresh_seconds"], 300);
  std::set<std::string> types;
  for (const auto& t : (*d)["tiles"]) types.insert(t["type"].get<std::string>());
  EXPECT_EQ(types, (std::set<std::string>{"kpi", "line", "bar", "pie", "heatmap", "quality", "live"}));
  // The live tile reads the stream the default pipeline.yaml declares.
  bool live = false;
  for (const auto& t : (*d)["tiles"]) {
    if (t["type"] == "live") live = t["stream"] == "sales-events" && !t.contains("sql");
  }
  EXPECT_TRUE(live);
}

TEST(DashboardTest, ForecastAndJobFieldsAreChecked) {
  auto tile = [](const std::string& extra, const std::string& type = "line") {
    return "{\"title\": \"x\", \"tiles\": [{\"id\": \"a\", \"title\": \"A\", \"type\": \"" + type +
           "\", \"sql\": \"SELECT 1\"" + extra + "}]}";
  };
  EXPECT_TRUE(ParseDashboard(tile(", \"forecast\": {\"horizon\": 28, \"season\": 7}"), "d").ok());
  EXPECT_TRUE(ParseDashboard(tile(", \"job\": \"my-etl-job\"", "quality"), "d").ok());
  for (const std::string& bad : {std::string(", \"forecast\": {\"horizon\": 0}"), std::string(", \"forecast\": {\"horizon\": 400}"),
                                  std::string(", \"forecast\": {\"days\": 3}"), std::string(", \"forecast\": 28"),
                                  std::string(", \"job\": \"my-etl-job\"")}) {
    auto d = ParseDashboard(tile(bad), "d.json");
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().message().rfind("d.json:1:", 0), 0u) << d.status().message();
  }
  const std::string live = "{\"title\": \"x\", \"tiles\": [{\"id\": \"l\", \"title\": \"L\", \"type\": \"live\", \"w\": 4";
  EXPECT_TRUE(ParseDashboard(live + ", \"stream\": \"sales-events\"}]}", "d").ok());
  EXPECT_FALSE(ParseDashboard(live + "}]}", "d").ok());                                        // no stream
  EXPECT_FALSE(ParseDashboard(live + ", \"stream\": \"s\", \"sql\": \"SELECT 1\"}]}", "d").ok());  // live tiles have no SQL
  EXPECT_FALSE(ParseDashboard(live + ", \"stream\": \"s\", \"w\": 99}]}", "d").ok());          // still checked
  EXPECT_FALSE(ParseDashboard(tile(", \"stream\": \"s\""), "d").ok());
  auto bar = ParseDashboard(tile(", \"forecast\": {\"horizon\": 7}", "bar"), "d");
  ASSERT_FALSE(bar.ok());
  EXPECT_NE(bar.status().message().find("only line tiles"), std::string::npos);
}

TEST(DashboardTest, SaveTimeSqlCheckNamesTheTilesSql) {
  const std::string text =
      "{\"title\": \"x\",\n \"tiles\": [{\"id\": \"a\", \"title\": \"A\", \"type\": \"kpi\", \"sql\": \"SELECT 1\"},\n"
      "  {\"id\": \"b\", \"title\": \"B\", \"type\": \"kpi\",\n   \"sql\": \"DROP TABLE t\"}]}";
  auto check = [](std::string_view sql) -> std::optional<std::string> {
    if (sql.rfind("SELECT", 0) == 0) return std::nullopt;
    return "not a query";
  };
  auto d = ParseDashboard(text, "d.json", check);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "d.json:4:11: not a query");
  EXPECT_TRUE(ParseDashboard(text, "d.json").ok());  // without a check: structure only
}

TEST(DashboardTest, TheConsolesSqlRuleAndPositionsFromAnOrigin) {
  const std::string text =
      "{\"title\": \"x\",\n \"tiles\": [{\"id\": \"a\", \"title\": \"A\", \"type\": \"kpi\", \"sql\": \"WITH t AS (SELECT 1) SELECT * FROM t\"},\n"
      "  {\"id\": \"b\", \"title\": \"B\", \"type\": \"kpi\",\n   \"sql\": \" /* c */ (DELETE FROM t)\"}]}";
  auto d = ParseDashboard(text, "d.json", TileSqlIsAQuery);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message().rfind("d.json:4:11: a tile's SQL must be a query", 0), 0u) << d.status().message();
  // The same text as a block scalar starting on line 10 of pipeline.yaml, indented 8.
  auto inside = ParseDashboard(text, "pipeline.yaml", TileSqlIsAQuery, {10, 8});
  ASSERT_FALSE(inside.ok());
  EXPECT_EQ(inside.status().message().rfind("pipeline.yaml:13:19: ", 0), 0u) << inside.status().message();
  EXPECT_FALSE(TileSqlIsAQuery("SHOW TABLES").has_value());
  EXPECT_TRUE(TileSqlIsAQuery("insert into t values (1)").has_value());
}

TEST(DashboardTest, ErrorsNameLineAndColumn) {
  auto bad_json = ParseDashboard("{\n  \"title\": \"x\",\n  \"tiles\": [,]\n}", "dashboards/a.json");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_EQ(bad_json.status().message().rfind("dashboards/a.json:3:13: invalid JSON", 0), 0u)
      << bad_json.status().message();

  auto bad_type = ParseDashboard(
      "{\"title\": \"x\",\n \"tiles\": [\n  {\"id\": \"a\", \"title\": \"A\", \"type\": \"kpi\", \"sql\": \"SELECT 1\"},\n"
      "  {\"id\": \"b\", \"title\": \"B\", \"type\": \"donut3d\", \"sql\": \"SELECT 1\"}]}",
      "d.json");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(bad_type.status().message().rfind("d.json:4:37: \"type\" must be", 0), 0u) << bad_type.status().message();

  auto unknown = ParseDashboard("{\"title\": \"x\", \"tiles\": [], \"refresh\": 5}", "d.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown field \"refresh\""), std::string::npos);

  for (int r : {5, 86401, -1}) {
    auto interval = ParseDashboard("{\"title\": \"x\", \"tiles\": [], \"refresh_seconds\": " + std::to_string(r) + "}", "d");
    EXPECT_FALSE(interval.ok()) << r;
  }
  EXPECT_TRUE(ParseDashboard("{\"title\": \"x\", \"tiles\": [], \"refresh_seconds\": 0}", "d").ok());
  EXPECT_TRUE(ParseDashboard("{\"title\": \"x\", \"tiles\": [], \"refresh_seconds\": 10}", "d").ok());

  auto dup = ParseDashboard(
      "{\"title\": \"x\", \"tiles\": [{\"id\": \"a\", \"title\": \"A\", \"type\": \"kpi\", \"sql\": \"S\"},"
      "{\"id\": \"a\", \"title\": \"A\", \"type\": \"kpi\", \"sql\": \"S\"}]}",
      "d");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate tile id"), std::string::npos);
}

TEST(DashboardTest, Ids) {
  EXPECT_TRUE(ValidDashboardId("sales-performance"));
  EXPECT_FALSE(ValidDashboardId("../etc"));
  EXPECT_FALSE(ValidDashboardId("-a"));
  EXPECT_FALSE(ValidDashboardId(""));
  EXPECT_FALSE(ValidDashboardId("A"));
}

}  // namespace
}  // namespace saleslake::stack
