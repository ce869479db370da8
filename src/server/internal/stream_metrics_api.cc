#include "server/internal/stream_metrics_api.h"

namespace saleslake::server::internal {
namespace {

bool ValidStreamName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Row `i` of a result column (flat or constant).
size_t Slot(const ColumnVector& c, size_t i) { return c.encoding() == VectorEncoding::kConstant ? 0 : i; }

}  // namespace

Result<nlohmann::json> StreamMetricsJson(const sql::Engine& engine, const std::string& stream, int64_t now_ms) {
  if (!ValidStreamName(stream)) return Status::InvalidArgument("not a stream name: " + stream);
  SL_ASSIGN_OR_RETURN(
      sql::StatementResult r,
      engine.Execute("SELECT window_start, region, orders, revenue, refunds, out_rows, invalid "
                     "FROM system.stream_metrics WHERE stream = '" + stream + "' ORDER BY 1, 2 NULLS LAST"));
  nlohmann::json windows = nlohmann::json::array();
  for (const Batch& b : r.result.batches) {
    for (size_t i = 0; i < b.num_rows; ++i) {
      const size_t row = b.selection ? b.selection->Get(i) : i;
      auto i64 = [&](size_t col) { return b.columns[col].data<int64_t>()[Slot(b.columns[col], row)]; };
      nlohmann::json w;
      w["window_start_ms"] = i64(0) / 1000;
      const ColumnVector& region = b.columns[1];
      if (region.IsValid(row)) w["region"] = std::string(region.data<std::string_view>()[Slot(region, row)]);
      else w["region"] = nullptr;
      w["orders"] = i64(2);
      w["revenue"] = b.columns[3].data<double>()[Slot(b.columns[3], row)];
      w["refunds"] = i64(4);
      w["out_rows"] = i64(5);
      w["invalid"] = i64(6);
      windows.push_back(std::move(w));
    }
  }
  return nlohmann::json{{"stream", stream}, {"window_seconds", 60}, {"generated_ms", now_ms}, {"windows", windows}};
}

}  // namespace saleslake::server::internal
