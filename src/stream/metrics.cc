#include "stream/metrics.h"

#include <algorithm>
#include <cctype>
#include <tuple>

#include "formats/csv/value_parse.h"
#include "stream/delivery.h"

namespace saleslake::stream {
namespace {

struct Counts {
  int64_t orders = 0;
  double revenue = 0;
  int64_t refunds = 0;
  int64_t out_rows = 0;
  int64_t invalid = 0;
};

// (window start, region is NULL, region): a NULL region sorts after the named ones.
using WindowKey = std::tuple<int64_t, bool, std::string>;

struct StreamState {
  int64_t created_ms = -1;  // tells a re-created stream of the same name from the old one
  std::vector<uint64_t> positions;  // next record to count, per shard
  std::map<WindowKey, Counts> windows;
};

int ColumnIndex(const std::vector<std::string>& columns, const char* name) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string UpperTrim(std::string_view s) {
  std::string out(csv::TrimSpaces(s));
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

struct StreamMetrics::State {
  struct Format {
    std::string format = "json";
    std::vector<std::string> columns;
  };
  std::map<std::string, Format> formats;
  std::map<std::string, StreamState> streams;
};

StreamMetrics::StreamMetrics(const StreamStore* store, MetricsOptions options)
    : store_(store), options_(std::move(options)), state_(std::make_unique<State>()) {
  if (!options_.clock) options_.clock = &ProcessClock();
}

StreamMetrics::~StreamMetrics() = default;

void StreamMetrics::Format(const std::string& stream, const std::string& format, std::vector<std::string> columns) {
  std::lock_guard<std::mutex> lock(mu_);
  state_->formats[stream] = {format, std::move(columns)};
}

Status StreamMetrics::Refresh() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = ToEpochMs(options_.clock->Now());
  const int64_t since = now - options_.horizon_ms;
  std::vector<std::string> names = store_->ListStreams();
  // Streams deleted since the last refresh lose their figures.
  for (auto it = state_->streams.begin(); it != state_->streams.end();) {
    if (!std::binary_search(names.begin(), names.end(), it->first)) it = state_->streams.erase(it);
    else ++it;
  }
  std::vector<std::optional<std::string>> fields;
  std::string reason;
  for (const std::string& name : names) {
    auto info = store_->Describe(name);
    if (!info.ok()) continue;  // deleted meanwhile
    StreamState& st = state_->streams[name];
    if (st.created_ms != info->created_ms) {
      st = StreamState{};
      st.created_ms = info->created_ms;
      auto start = store_->PositionsAt(name, since);
      if (!start.ok()) return start.status();
      st.positions = std::move(*start);
    }
    State::Format fmt;
    if (auto f = state_->formats.find(name); f != state_->formats.end()) fmt = f->second;
    if (fmt.columns.empty()) fmt.columns = options_.default_columns;
    const int amount_col = ColumnIndex(fmt.columns, "amount");
    const int region_col = ColumnIndex(fmt.columns, "region");
    const int status_col = ColumnIndex(fmt.columns, "status");
    auto end = store_->EndPositions(name);
    if (!end.ok()) return end.status();
    for (size_t shard = 0; shard < end->size() && shard < st.positions.size(); ++shard) {
      uint64_t& pos = st.positions[shard];
      while (pos < (*end)[shard]) {
        size_t seen = 0;
        Status read = store_->VisitShard(name, static_cast<int>(shard), pos, 10000,
                                         [&](uint64_t position, int64_t arrival_ms, std::string_view data) {
          ++seen;
          pos = position + 1;
          if (arrival_ms < since) return;
          const int64_t window = arrival_ms - arrival_ms % kMetricsWindowMs;
          if (!RecordFields(fmt.format, data, fmt.columns, &fields, &reason)) {
            ++st.windows[WindowKey{window, true, ""}].invalid;
            return;
          }
          auto field = [&](int col) -> const std::optional<std::string>* {
            return col < 0 ? nullptr : &fields[static_cast<size_t>(col)];
          };
          const auto* region = field(region_col);
          Counts& c = st.windows[region && *region ? WindowKey{window, false, **region} : WindowKey{window, true, ""}];
          ++c.orders;
          double amount = 0;
          if (const auto* a = field(amount_col); a && *a && csv::ParseFiniteDouble(csv::TrimSpaces(**a), &amount)) {
            c.revenue += amount;
          }
          if (const auto* s = field(status_col); s && *s) {
            std::string status = UpperTrim(**s);
            if (status == "REFUNDED") ++c.refunds;
            if (status == "OUT") ++c.out_rows;
          }
        });
        if (!read.ok()) return read;
        if (seen == 0) break;
      }
    }
    // Tumbling windows that ended before the horizon are gone.
    const int64_t oldest = since - since % kMetricsWindowMs;
    st.windows.erase(st.windows.begin(), st.windows.lower_bound(WindowKey{oldest, false, ""}));
  }
  return Status::OK();
}

Result<std::vector<MetricsRow>> StreamMetrics::Rows(const std::string& stream) {
  SL_RETURN_IF_ERROR(Refresh());
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<MetricsRow> out;
  for (const auto& [name, st] : state_->streams) {
    if (!stream.empty() && name != stream) continue;
    for (const auto& [key, c] : st.windows) {
      MetricsRow row;
      row.stream = name;
      row.window_start_ms = std::get<0>(key);
      if (!std::get<1>(key)) row.region = std::get<2>(key);
      row.orders = c.orders;
      row.revenue = c.revenue;
      row.refunds = c.refunds;
      row.out_rows = c.out_rows;
      row.invalid = c.invalid;
      out.push_back(std::move(row));
    }
  }
  return out;
}

}  // namespace saleslake::stream
