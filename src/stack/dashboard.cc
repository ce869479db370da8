#include "stack/dashboard.h"

#include <cctype>
#include <cstring>
#include <map>
#include <set>

#include "common/text_position.h"
#include "sql/sql.h"

namespace saleslake::stack {

namespace {

using nlohmann::json;

// Where each value starts, by JSON pointer ("/tiles/2/sql"), for text nlohmann already
// accepted: a small walker that only needs to find value boundaries.
class Positions {
 public:
  explicit Positions(std::string_view text) : t_(text) {
    Skip();
    Value("");
  }
  size_t Of(const std::string& pointer) const {
    auto it = at_.find(pointer);
    return it == at_.end() ? 0 : it->second;
  }

 private:
  void Skip() {
    while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
  }
  std::string String() {
    std::string out;
    ++i_;
    while (i_ < t_.size() && t_[i_] != '"') {
      if (t_[i_] == '\\') ++i_;
      if (i_ < t_.size()) out += t_[i_++];
    }
    ++i_;
    return out;
  }
  void Value(const std::string& ptr) {
    Skip();
    at_[ptr] = i_;
    if (i_ >= t_.size()) return;
    char c = t_[i_];
    if (c == '{') {
      ++i_;
      for (;;) {
        Skip();
        if (i_ >= t_.size() || t_[i_] == '}') break;
        if (t_[i_] == ',') {
          ++i_;
          continue;
        }
        std::string key = String();
        std::string child = ptr + "/" + key;
        Skip();
        if (i_ < t_.size() && t_[i_] == ':') ++i_;
        Value(child);
      }
      ++i_;
    } else if (c == '[') {
      ++i_;
      for (size_t n = 0;; ++n) {
        Skip();
        if (i_ >= t_.size() || t_[i_] == ']') break;
        if (t_[i_] == ',') {
          ++i_;
          --n;
          continue;
        }
        Value(ptr + "/" + std::to_string(n));
      }
      ++i_;
    } else if (c == '"') {
      String();
    } else {
      while (i_ < t_.size() && !std::strchr(",]} \t\r\n", t_[i_])) ++i_;
    }
  }
  std::string_view t_;
  size_t i_ = 0;
  std::map<std::string, size_t> at_;
};

bool IsInt(const json& v) { return v.is_number_integer() || v.is_number_unsigned(); }

}  // namespace

bool ValidDashboardId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '-' || c == '_'));
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> TileSqlIsAQuery(std::string_view sql) {
  if (sql::IsReadOnlyStatement(sql)) return std::nullopt;
  return "a tile's SQL must be a query (SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN)";
}

Result<json> ParseDashboard(std::string_view text, std::string_view name, const TileSqlCheck& check_sql,
                            TextOrigin origin) {
  auto where = [&](size_t offset) {
    const TextPosition p = PositionOf(text, offset);
    return std::to_string(p.line + origin.line - 1) + ":" + std::to_string(p.column + origin.indent);
  };
  json d;
  try {
    d = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    // e.byte is 1-based: the byte at which parsing failed.
    size_t at = e.byte > 0 ? e.byte - 1 : 0;
    std::string why = e.what();
    size_t colon = why.rfind(": ");
    return Status::InvalidArgument(std::string(name) + ":" + where(at) + ": invalid JSON: " +
                                   (colon == std::string::npos ? why : why.substr(colon + 2)));
  }
  Positions pos(text);
  auto fail = [&](const std::string& ptr, const std::string& why) -> Status {
    return Status::InvalidArgument(std::string(name) + ":" + where(pos.Of(ptr)) + ": " + why);
  };
  if (!d.is_object()) return fail("", "a dashboard is a JSON object");
  static const std::set<std::string> kTop = {"title", "description", "refresh_seconds", "tiles", "filters", "theme"};
  for (auto& [k, v] : d.items()) {
    if (!kTop.count(k)) return fail("/" + k, "unknown field \"" + k + "\"");
  }
  if (!d.contains("title") || !d["title"].is_string() || d["title"].get<std::string>().empty() ||
      d["title"].get<std::string>().size() > 200) {
    return fail("/title", "\"title\" must be a string of 1 to 200 characters");
  }
  if (!d.contains("refresh_seconds")) d["refresh_seconds"] = 300;
  const json& r = d["refresh_seconds"];
  if (!IsInt(r) || (r.get<int64_t>() != 0 && (r.get<int64_t>() < 10 || r.get<int64_t>() > 86400))) {
    return fail("/refresh_seconds", "\"refresh_seconds\" must be 0 (off) or 10 .. 86400");
  }
  if (d.contains("theme") && !(d["theme"] == "light" || d["theme"] == "dark" || d["theme"] == "auto")) {
    return fail("/theme", "\"theme\" must be light, dark or auto");
  }
  if (d.contains("filters")) {
    if (!d["filters"].is_array()) return fail("/filters", "\"filters\" must be an array of column names");
    for (size_t i = 0; i < d["filters"].size(); ++i) {
      if (!d["filters"][i].is_string()) return fail("/filters/" + std::to_string(i), "a filter is a column name");
    }
  }
  if (!d.contains("tiles") || !d["tiles"].is_array()) return fail("/tiles", "\"tiles\" must be an array");
  if (d["tiles"].size() > 100) return fail("/tiles", "at most 100 tiles");
  static const std::set<std::string> kTileKeys = {"id", "title", "type", "sql", "format", "x", "y", "w", "h", "drill", "forecast", "job", "stream"};
  static const std::set<std::string> kTypes = {"kpi", "line", "bar", "pie", "table", "heatmap", "quality", "live"};
  static const std::set<std::string> kFormats = {"number", "currency", "percent"};
  std::set<std::string> ids;
  for (size_t i = 0; i < d["tiles"].size(); ++i) {
    const std::string at = "/tiles/" + std::to_string(i);
    const json& t = d["tiles"][i];
    if (!t.is_object()) return fail(at, "a tile is a JSON object");
    for (auto& [k, v] : t.items()) {
      if (!kTileKeys.count(k)) return fail(at + "/" + k, "unknown tile field \"" + k + "\"");
    }
    if (!t.contains("id") || !t["id"].is_string() || !ValidDashboardId(t["id"].get<std::string>())) {
      return fail(at + (t.contains("id") ? "/id" : ""), "a tile needs an \"id\" of [a-z0-9_-], at most 64");
    }
    if (!ids.insert(t["id"].get<std::string>()).second) return fail(at + "/id", "duplicate tile id");
    if (!t.contains("title") || !t["title"].is_string() || t["title"].get<std::string>().size() > 200) {
      return fail(at + (t.contains("title") ? "/title" : ""), "a tile needs a \"title\" string (at most 200)");
    }
    if (!t.contains("type") || !t["type"].is_string() || !kTypes.count(t["type"].get<std::string>())) {
      return fail(at + (t.contains("type") ? "/type" : ""), "\"type\" must be kpi, line, bar, pie, table, heatmap, quality or live");
    }
    // A live tile reads its stream's metrics (GET /api/streams/NAME/metrics), not SQL.
    const bool live = t["type"] == "live";
    if (live && (!t.contains("stream") || !t["stream"].is_string() || t["stream"].get<std::string>().empty() ||
                 t["stream"].get<std::string>().size() > 128)) {
      return fail(at + (t.contains("stream") ? "/stream" : ""), "a live tile needs its \"stream\" (a stream name)");
    }
    if (!live && t.contains("stream")) return fail(at + "/stream", "\"stream\" belongs to live tiles");
    if (live && t.contains("sql")) return fail(at + "/sql", "a live tile has no \"sql\" (it shows its stream's metrics)");
    if (!live && (!t.contains("sql") || !t["sql"].is_string() || t["sql"].get<std::string>().empty() ||
                  t["sql"].get<std::string>().size() > 100000)) {
      return fail(at + (t.contains("sql") ? "/sql" : ""), "a tile needs its \"sql\"");
    }
    if (check_sql && !live) {
      if (auto why = check_sql(t["sql"].get<std::string>())) return fail(at + "/sql", *why);
    }
    if (t.contains("format") && (!t["format"].is_string() || !kFormats.count(t["format"].get<std::string>()))) {
      return fail(at + "/format", "\"format\" must be number, currency or percent");
    }
    if (t.contains("drill") && !t["drill"].is_string()) return fail(at + "/drill", "\"drill\" is a column name");
    if (t.contains("job") && (!t["job"].is_string() || t["job"].get<std::string>().empty() || t["type"] != "quality")) {
      return fail(at + "/job", "\"job\" (a job name) belongs to quality tiles");
    }
    if (t.contains("forecast")) {
      const json& f = t["forecast"];
      if (t["type"] != "line") return fail(at + "/forecast", "only line tiles have a forecast");
      if (!f.is_object()) return fail(at + "/forecast", "\"forecast\" is {\"horizon\": DAYS, \"season\": DAYS}");
      for (auto& [k, v] : f.items()) {
        if (k != "horizon" && k != "season") return fail(at + "/forecast/" + k, "unknown forecast field \"" + k + "\"");
        if (!IsInt(v) || v.get<int64_t>() < 1 || v.get<int64_t>() > 366) {
          return fail(at + "/forecast/" + k, "\"" + k + "\" must be an integer 1 .. 366 (days)");
        }
      }
    }
    for (const char* k : {"x", "y", "w", "h"}) {
      if (t.contains(k) && (!IsInt(t[k]) || t[k].get<int64_t>() < 0 || t[k].get<int64_t>() > 48)) {
        return fail(at + "/" + k, std::string("\"") + k + "\" must be an integer 0 .. 48");
      }
    }
  }
  return d;
}

std::string DefaultDashboardJson() {
  // Revenue counts completed orders only (refunds, pending and outlier rows are not sales).
  return R"json({
  "title": "Sales performance",
  "description": "Sales over sales_data, refreshed every 5 minutes.",
  "refresh_seconds": 300,
  "filters": ["region", "status", "purchase_date"],
  "tiles": [
    {"id": "revenue", "title": "Revenue", "type": "kpi", "format": "currency", "w": 2, "h": 1,
     "sql": "SELECT sum(amount) AS value FROM sales_data WHERE status = 'COMPLETED'"},
    {"id": "orders", "title": "Orders", "type": "kpi", "format": "number", "w": 2, "h": 1,
     "sql": "SELECT count(*) AS value FROM sales_data"},
    {"id": "basket", "title": "Average basket", "type": "kpi", "format": "currency", "w": 2, "h": 1,
     "sql": "SELECT avg(amount) AS value FROM sales_data WHERE status = 'COMPLETED'"},
    {"id": "refund_rate", "title": "Refund rate", "type": "kpi", "format": "percent", "w": 2, "h": 1,
     "sql": "SELECT CAST(count_if(status = 'REFUNDED') AS DOUBLE) / count(*) AS value FROM sales_data"},
    {"id": "customers", "title": "Customers", "type": "kpi", "format": "number", "w": 2, "h": 1,
     "sql": "SELECT count(DISTINCT customer_id) AS value FROM sales_data"},
    {"id": "daily_revenue", "title": "Daily revenue (7-day average, 28-day forecast)", "type": "line", "format": "currency", "w": 12, "h": 3,
     "forecast": {"horizon": 28, "season": 7},
     "sql": "SELECT CAST(purchase_date AS VARCHAR) AS day, sum(amount) AS revenue, avg(sum(amount)) OVER (ORDER BY purchase_date ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS revenue_7d FROM sales_data WHERE status = 'COMPLETED' GROUP BY purchase_date ORDER BY purchase_date"},
    {"id": "revenue_by_region", "title": "Revenue by region", "type": "bar", "format": "currency", "w": 6, "h": 3, "drill": "region",
     "sql": "SELECT region, sum(amount) AS revenue FROM sales_data WHERE status = 'COMPLETED' GROUP BY region ORDER BY revenue DESC"},
    {"id": "top_products", "title": "Top products", "type": "bar", "format": "currency", "w": 6, "h": 3, "drill": "product_id",
     "sql": "SELECT product_id, sum(amount) AS revenue FROM sales_data WHERE status = 'COMPLETED' GROUP BY product_id ORDER BY revenue DESC, product_id LIMIT 10"},
    {"id": "region_month", "title": "Revenue by region and month", "type": "heatmap", "format": "currency", "w": 8, "h": 3,
     "sql": "SELECT region, purchase_month AS month, sum(amount) AS revenue FROM sales_data WHERE status = 'COMPLETED' GROUP BY region, purchase_month ORDER BY region, month"},
    {"id": "status_mix", "title": "Status mix", "type": "pie", "format": "number", "w": 4, "h": 3, "drill": "status",
     "sql": "SELECT status, count(*) AS orders FROM sales_data GROUP BY status ORDER BY orders DESC"},
    {"id": "data_quality", "title": "Data quality: missing amounts and quarantined rows per run", "type": "quality", "format": "percent", "w": 12, "h": 2,
     "job": "my-etl-job",
     "sql": "SELECT CAST(count_if(amount IS NULL) AS DOUBLE) / count(*) AS missing_amount_share FROM sales_data"},
    {"id": "live", "title": "Live orders (sales-events, per minute)", "type": "live", "stream": "sales-events", "w": 12, "h": 3}
  ]
}
)json";
}

}  // namespace saleslake::stack
