// The Trino protocol's client-side state: session headers, session statements, PREPARE and
// EXECUTE ... USING (server/internal/trino_session.h).
#include "server/internal/trino_session.h"

#include <gtest/gtest.h>

namespace saleslake::server::internal {
namespace {

using std::chrono::milliseconds;

TEST(TrinoSessionTest, PairsAndDurations) {
  auto pairs = ParseTrinoPairs("query_max_execution_time=10s, a%20b=x%2Cy,q1=SELECT%20%3F");
  ASSERT_TRUE(pairs.ok()) << pairs.status().ToString();
  EXPECT_EQ(pairs->size(), 3u);
  EXPECT_EQ(pairs->at("query_max_execution_time"), "10s");
  EXPECT_EQ(pairs->at("a b"), "x,y");
  EXPECT_EQ(pairs->at("q1"), "SELECT ?");
  EXPECT_TRUE(ParseTrinoPairs("").ok());
  EXPECT_EQ(ParseTrinoPairs("novalue").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTrinoPairs("a=%zz").status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(*ParseTrinoDuration("10s"), milliseconds(10'000));
  EXPECT_EQ(*ParseTrinoDuration("1.5m"), milliseconds(90'000));
  EXPECT_EQ(*ParseTrinoDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseTrinoDuration("2h"), milliseconds(7'200'000));
  EXPECT_EQ(*ParseTrinoDuration("1 d"), milliseconds(86'400'000));
  for (const char* bad : {"", "10", "s", "-1s", "10 parsecs", "1e400s", "1.2.3s"}) {
    EXPECT_EQ(ParseTrinoDuration(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }

  EXPECT_EQ(*TrinoSessionTimeLimit({}), milliseconds(0));
  EXPECT_EQ(*TrinoSessionTimeLimit({{"query_max_execution_time", "30s"}, {"join_distribution_type", "BROADCAST"}}),
            milliseconds(30'000));
  EXPECT_EQ(*TrinoSessionTimeLimit({{"query_max_execution_time", "30s"}, {"query_max_run_time", "5s"}}),
            milliseconds(5'000));
  auto bad = TrinoSessionTimeLimit({{"query_max_run_time", "soon"}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("session property query_max_run_time: 'soon' is not a duration", 0), 0u)
      << bad.status().message();
}

TEST(TrinoSessionTest, SessionStatementsBecomeHeaders) {
  auto set = TrinoSessionStatementOf("  SET SESSION query_max_execution_time = '1.5m' ;");
  ASSERT_TRUE(set.ok() && *set) << set.status().ToString();
  EXPECT_EQ((*set)->update_type, "SET SESSION");
  ASSERT_EQ((*set)->headers.size(), 1u);
  EXPECT_EQ((*set)->headers[0].first, "X-Trino-Set-Session");
  EXPECT_EQ((*set)->headers[0].second, "query_max_execution_time=1.5m");
  auto other = TrinoSessionStatementOf("set session hash_partition_count = 8");
  ASSERT_TRUE(other.ok() && *other);
  EXPECT_EQ((*other)->headers[0].second, "hash_partition_count=8");
  // A bad value of a property that is honoured is refused, with where.
  auto bad = TrinoSessionStatementOf("SET SESSION query_max_execution_time = 'soon'");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TrinoSessionStatementOf("SET SESSION x 1").status().message(), "line 1:15: expected '=' after the property name");

  auto reset = TrinoSessionStatementOf("RESET SESSION query_max_execution_time");
  ASSERT_TRUE(reset.ok() && *reset);
  EXPECT_EQ((*reset)->headers[0], std::make_pair(std::string("X-Trino-Clear-Session"), std::string("query_max_execution_time")));

  auto prep = TrinoSessionStatementOf("PREPARE by_region FROM SELECT count(*) FROM t WHERE region = ?");
  ASSERT_TRUE(prep.ok() && *prep);
  EXPECT_EQ((*prep)->update_type, "PREPARE");
  EXPECT_EQ((*prep)->headers[0].first, "X-Trino-Added-Prepare");
  EXPECT_EQ((*prep)->headers[0].second, "by_region=SELECT%20count%28%2A%29%20FROM%20t%20WHERE%20region%20%3D%20%3F");
  // What the client sends back decodes to the statement.
  auto back = ParseTrinoPairs((*prep)->headers[0].second);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->at("by_region"), "SELECT count(*) FROM t WHERE region = ?");
  EXPECT_EQ(TrinoSessionStatementOf("PREPARE p FROM").status().code(), StatusCode::kInvalidArgument);
  // A name the client could not send back (found by trino_session_fuzz).
  EXPECT_EQ(TrinoSessionStatementOf("PREPARE \"\" FROM SELECT 1").status().message(),
            "line 1:11: expected a statement name, found an empty quoted name");

  auto dealloc = TrinoSessionStatementOf("DEALLOCATE PREPARE by_region");
  ASSERT_TRUE(dealloc.ok() && *dealloc);
  EXPECT_EQ((*dealloc)->headers[0].first, "X-Trino-Deallocated-Prepare");

  auto use = TrinoSessionStatementOf("USE lake.sales");
  ASSERT_TRUE(use.ok() && *use);
  ASSERT_EQ((*use)->headers.size(), 2u);
  EXPECT_EQ((*use)->headers[0].second, "lake");
  EXPECT_EQ((*use)->headers[1].second, "sales");

  // Everything else goes to the engine.
  for (const char* sql : {"SELECT 1", "SET ROLE admin", "settle", "EXECUTE q", "WITH x AS (SELECT 1) SELECT * FROM x"}) {
    auto none = TrinoSessionStatementOf(sql);
    ASSERT_TRUE(none.ok()) << sql;
    EXPECT_FALSE(none->has_value()) << sql;
  }
}

TEST(TrinoSessionTest, ExecuteFillsTheParameters) {
  std::map<std::string, std::string> prepared = {
      {"q", "SELECT '?' AS quoted, \"a?\" , x FROM t -- why?\nWHERE r = ? AND n > ? /* ? */"},
      {"Mixed", "SELECT ?"}};
  auto sql = ExpandTrinoExecute("EXECUTE q USING 'it''s, here', least(1, 2)", prepared);
  ASSERT_TRUE(sql.ok() && *sql) << sql.status().ToString();
  EXPECT_EQ(**sql, "SELECT '?' AS quoted, \"a?\" , x FROM t -- why?\nWHERE r = ('it''s, here') AND n > (least(1, 2)) /* ? */");
  auto mixed = ExpandTrinoExecute("execute MIXED using 7", prepared);
  ASSERT_TRUE(mixed.ok() && *mixed);
  EXPECT_EQ(**mixed, "SELECT (7)");
  EXPECT_EQ(ExpandTrinoExecute("EXECUTE q USING 1", prepared).status().message(),
            "Incorrect number of parameters: expected 2 but found 1");
  EXPECT_EQ(ExpandTrinoExecute("EXECUTE nope", prepared).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ExpandTrinoExecute("EXECUTE q USING", prepared).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ExpandTrinoExecute("EXECUTE q USING 1,,2", prepared).status().code(), StatusCode::kInvalidArgument);
  auto none = ExpandTrinoExecute("SELECT 1", prepared);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace saleslake::server::internal
