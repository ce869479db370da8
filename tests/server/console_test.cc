// The web console's building blocks: sessions and their expiry, the login rate limiter, the SQL
// text rewriting (parameters, filters, PII masking) and dashboard validation.
#include <gtest/gtest.h>

#include <chrono>

#include "server/dashboard.h"
#include "server/internal/console_session.h"
#include "server/internal/console_sql.h"

namespace saleslake::server::internal {
namespace {

using nlohmann::json;
using std::chrono::seconds;

TimePoint T0() { return FromEpochMs(1'760'000'000'000); }

TEST(ConsoleSessionTest, SessionsExpireAndCanBeErased) {
  SessionStore store(seconds(60));
  Principal p;
  p.user = "alice";
  auto s = store.Create(p, T0());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->token.size(), 64u);
  EXPECT_EQ(s->csrf.size(), 64u);
  EXPECT_NE(s->token, s->csrf);
  auto found = store.Find(s->token, T0() + seconds(59));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->principal.user, "alice");
  EXPECT_FALSE(store.Find(s->token, T0() + seconds(60)).has_value());  // expired
  EXPECT_FALSE(store.Find(s->token, T0()).has_value());                // and gone
  auto s2 = store.Create(p, T0());
  ASSERT_TRUE(s2.ok());
  store.Erase(s2->token);
  EXPECT_FALSE(store.Find(s2->token, T0()).has_value());
  EXPECT_FALSE(store.Find("", T0()).has_value());
}

TEST(ConsoleSessionTest, SessionCountIsBounded) {
  SessionStore store(seconds(60), 3);
  Principal p;
  std::vector<std::string> tokens;
  for (int i = 0; i < 5; ++i) tokens.push_back(store.Create(p, T0() + seconds(i)).value().token);
  EXPECT_FALSE(store.Find(tokens[0], T0() + seconds(5)).has_value());
  EXPECT_FALSE(store.Find(tokens[1], T0() + seconds(5)).has_value());
  EXPECT_TRUE(store.Find(tokens[4], T0() + seconds(5)).has_value());
}

TEST(ConsoleLoginLimiterTest, BlocksAfterFailuresUntilTheWindowPasses) {
  LoginLimiter limiter(3, seconds(300));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.RetryAfterSeconds("ip:1", T0() + seconds(i)), 0);
    limiter.Failed("ip:1", T0() + seconds(i));
  }
  EXPECT_EQ(limiter.RetryAfterSeconds("ip:1", T0() + seconds(10)), 290);
  EXPECT_EQ(limiter.RetryAfterSeconds("ip:2", T0() + seconds(10)), 0);  // per key
  EXPECT_EQ(limiter.RetryAfterSeconds("ip:1", T0() + seconds(300)), 0);  // the first left the window
  limiter.Failed("ip:1", T0() + seconds(300));  // with the failures at 1 s and 2 s: 3 again
  EXPECT_EQ(limiter.RetryAfterSeconds("ip:1", T0() + seconds(300)), 1);
  limiter.Succeeded("ip:1");
  EXPECT_EQ(limiter.RetryAfterSeconds("ip:1", T0() + seconds(300)), 0);
}

TEST(ConsoleSqlTest, BindsParametersAsLiterals) {
  json params = {{"region", "O'Brien"}, {"n", 3}, {"list", {"a", "b"}}, {"none", json::array()}};
  auto s = BindParameters("SELECT :n, ':region', x::int FROM t WHERE r = :region AND c IN :list -- :zzz\n", params);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(*s, "SELECT 3, ':region', x::int FROM t WHERE r = 'O''Brien' AND c IN ('a', 'b') -- :zzz\n");
  EXPECT_EQ(BindParameters("SELECT 1 WHERE x IN :none", params).value(), "SELECT 1 WHERE x IN (NULL)");
  auto missing = BindParameters("SELECT :nope", params);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(":nope"), std::string::npos);
  EXPECT_FALSE(BindParameters("SELECT :o", json{{"o", json::object()}}).ok());
}

TEST(ConsoleSqlTest, FindsAndReplacesTableReferencesOnly) {
  std::set<std::string> tables = {"sales_data", "raw_sales"};
  EXPECT_EQ(ReferencedTables("SELECT 'sales_data' FROM Sales_Data s JOIN \"raw_sales\" USING (x) -- raw", tables),
            (std::set<std::string>{"sales_data", "raw_sales"}));
  EXPECT_TRUE(ReferencedTables("SELECT 'sales_data' /* raw_sales */", tables).empty());
  std::map<std::string, std::string> rw = {{"sales_data", "(SELECT a FROM \"sales_data\" WHERE r = 'x')"}};
  EXPECT_EQ(ReplaceTableReferences("SELECT sales_data.a FROM sales_data WHERE a > 1", rw),
            "SELECT sales_data.a FROM (SELECT a FROM \"sales_data\" WHERE r = 'x') AS sales_data WHERE a > 1");
  EXPECT_EQ(ReplaceTableReferences("SELECT s.a FROM sales_data s", rw),
            "SELECT s.a FROM (SELECT a FROM \"sales_data\" WHERE r = 'x') s");
  EXPECT_EQ(ReplaceTableReferences("SELECT a FROM sales_data", rw),
            "SELECT a FROM (SELECT a FROM \"sales_data\" WHERE r = 'x') AS sales_data");
  EXPECT_EQ(ReplaceTableReferences("SELECT 'sales_data', x.sales_data, sales_data(1)", rw),
            "SELECT 'sales_data', x.sales_data, sales_data(1)");
}

TEST(DashboardTest, DefaultDashboardIsValid) {
  auto d = ParseDashboard(DefaultDashboardJson(), "default");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ((*d)["title"], "Sales performance");
  EXPECT_EQ((*d)["refresh_seconds"], 300);
  std::set<std::string> types;
  for (const auto& t : (*d)["tiles"]) types.insert(t["type"].get<std::string>());
  EXPECT_EQ(types, (std::set<std::string>{"kpi", "line", "bar", "pie", "heatmap"}));
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
}  // namespace saleslake::server::internal
