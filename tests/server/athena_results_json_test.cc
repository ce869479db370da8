// GetQueryResults' JSON, written without a tree, against the tree it replaced.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/internal/athena_api.h"

namespace saleslake::server::internal {
namespace {

using nlohmann::json;

// The document as GetQueryResults built it before (an nlohmann tree, dumped).
std::string TreeJson(const ResultPage& page, bool header, const std::optional<std::string>& next) {
  auto precision = [](const DataType& t) -> int {
    switch (t.id) {
      case TypeId::kBoolean: return 0;
      case TypeId::kInt32: return 10;
      case TypeId::kInt64: return 19;
      case TypeId::kFloat: return 17;
      case TypeId::kDouble: return 17;
      case TypeId::kDecimal: return t.precision;
      case TypeId::kDate: return 0;
      case TypeId::kTimestamp: return 3;
      default: return 2147483647;
    }
  };
  json rows = json::array();
  if (header) {
    json data = json::array();
    for (const Field& f : page.schema.fields) data.push_back({{"VarCharValue", f.name}});
    rows.push_back({{"Data", data}});
  }
  for (const auto& row : page.rows) {
    json data = json::array();
    for (const auto& cell : row) data.push_back(cell ? json{{"VarCharValue", *cell}} : json::object());
    rows.push_back({{"Data", data}});
  }
  json columns = json::array();
  for (const Field& f : page.schema.fields) {
    columns.push_back({{"CatalogName", "hive"}, {"SchemaName", ""}, {"TableName", ""},
                       {"Name", f.name}, {"Label", f.name}, {"Type", AthenaTypeName(f.type)},
                       {"Precision", precision(f.type)},
                       {"Scale", f.type.id == TypeId::kDecimal ? f.type.scale : 0},
                       {"Nullable", "UNKNOWN"}, {"CaseSensitive", f.type.id == TypeId::kVarchar}});
  }
  json out = {{"UpdateCount", 0},
              {"ResultSet", {{"Rows", rows}, {"ResultSetMetadata", {{"ColumnInfo", columns}}}}}};
  if (next) out["NextToken"] = *next;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

ResultPage SamplePage() {
  ResultPage page;
  page.schema.fields = {Field{"region", DataType::Varchar(), true}, Field{"n \"quoted\"", DataType::Int64(), true},
                        Field{"amount", DataType::Decimal(12, 2), true}, Field{"day", DataType::Date(), true},
                        Field{"ok", DataType::Boolean(), true}, Field{"x", DataType::Double(), true}};
  page.rows = {
      {std::string("north"), std::string("12"), std::string("3.50"), std::string("2025-08-01"),
       std::string("true"), std::string("1.5")},
      {std::nullopt, std::string("-1"), std::nullopt, std::nullopt, std::string("false"), std::string("NaN")},
      // Escapes: quotes, backslashes, newlines, tabs, other control bytes, UTF-8, invalid UTF-8.
      {std::string("a\"b\\c\nd\re\tf"), std::string("\x01\x08\x0c\x1f\x7f"), std::string("Zürich €"),
       std::string("bad \xff\xfe utf-8"), std::string(""), std::string("/slash")},
  };
  return page;
}

TEST(AthenaResultsJsonTest, TheDirectJsonEqualsTheTreesBytes) {
  ResultPage page = SamplePage();
  for (bool header : {true, false}) {
    for (const std::optional<std::string>& next : {std::optional<std::string>(), std::optional<std::string>("tok+/=")}) {
      EXPECT_EQ(QueryResultsJson(page, header, next), TreeJson(page, header, next))
          << "header=" << header << " next=" << next.value_or("-");
    }
  }
  ResultPage empty;
  empty.schema.fields = {Field{"c", DataType::Varchar(), true}};
  EXPECT_EQ(QueryResultsJson(empty, false, std::nullopt), TreeJson(empty, false, std::nullopt));
  EXPECT_EQ(QueryResultsJson(empty, true, std::nullopt), TreeJson(empty, true, std::nullopt));
}

}  // namespace
}  // namespace saleslake::server::internal
