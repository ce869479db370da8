// Building daily series from rows (group values, date, value): grouping, sorting, duplicate
// dates and gap filling, with errors that name the series and the input rows.
// Thread safety: a SeriesBuilder is not thread-safe; use one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake::forecast {

enum class GapPolicy : uint8_t {
  kZero,         // a missing day sold nothing (sales)
  kInterpolate,  // linear between the neighbouring known days
  kError,        // a missing day is an error
};
enum class DuplicatePolicy : uint8_t {
  kError,  // two rows for one date of one series is an error
  kSum,    // rows of the same date are summed (raw transactions -> daily totals)
};

Result<GapPolicy> ParseGapPolicy(std::string_view s);              // zero | interpolate | error
Result<DuplicatePolicy> ParseDuplicatePolicy(std::string_view s);  // error | sum

struct SeriesOptions {
  GapPolicy gaps = GapPolicy::kZero;
  DuplicatePolicy duplicates = DuplicatePolicy::kError;
};

struct DailySeries {
  std::vector<std::string> group;  // the group column values (empty without grouping)
  int32_t start_day = 0;           // days since 1970-01-01 of values[0]
  std::vector<double> values;      // one per consecutive day, gaps filled
  int filled_days = 0;             // days the gap policy filled
};

class SeriesBuilder {
 public:
  explicit SeriesBuilder(SeriesOptions options = {});
  ~SeriesBuilder();
  SeriesBuilder(SeriesBuilder&&) noexcept;
  SeriesBuilder& operator=(SeriesBuilder&&) noexcept;

  // Adds one observation; `row` (e.g. the input line number) is quoted in errors. A missing
  // value (NaN) is treated as a gap. Fails on an infinite value.
  Status Add(const std::vector<std::string>& group, int32_t day, double value, int64_t row);

  // Sorts each series by date (input order does not matter), applies the duplicate and gap
  // policies, and returns the series in order of first appearance. Fails with InvalidArgument
  // naming the series, the date and the rows on duplicates (kError), gaps (kError) or a series
  // whose every value is missing.
  Result<std::vector<DailySeries>> Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace saleslake::forecast
