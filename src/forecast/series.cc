#include "forecast/series.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "common/types.h"
#include "fmt/format.h"

namespace saleslake::forecast {
namespace {

struct Obs {
  int32_t day;
  double value;  // NaN = missing
  int64_t row;
};

std::string GroupLabel(const std::vector<std::string>& group) {
  if (group.empty()) return "the series";
  std::string s = "series [";
  for (size_t i = 0; i < group.size(); ++i) {
    if (i > 0) s += ", ";
    s += group[i];
  }
  return s + "]";
}

}  // namespace

Result<GapPolicy> ParseGapPolicy(std::string_view s) {
  if (s == "zero") return GapPolicy::kZero;
  if (s == "interpolate") return GapPolicy::kInterpolate;
  if (s == "error") return GapPolicy::kError;
  return Status::InvalidArgument("unknown gap policy '" + std::string(s) +
                                 "': expected zero, interpolate or error");
}

Result<DuplicatePolicy> ParseDuplicatePolicy(std::string_view s) {
  if (s == "error") return DuplicatePolicy::kError;
  if (s == "sum") return DuplicatePolicy::kSum;
  return Status::InvalidArgument("unknown duplicate policy '" + std::string(s) +
                                 "': expected error or sum");
}

struct SeriesBuilder::State {
  SeriesOptions options;
  std::unordered_map<std::string, size_t> index;  // joined group key -> position
  std::vector<std::vector<std::string>> groups;
  std::vector<std::vector<Obs>> obs;
};

SeriesBuilder::SeriesBuilder(SeriesOptions options) : state_(std::make_unique<State>()) {
  state_->options = options;
}
SeriesBuilder::~SeriesBuilder() = default;
SeriesBuilder::SeriesBuilder(SeriesBuilder&&) noexcept = default;
SeriesBuilder& SeriesBuilder::operator=(SeriesBuilder&&) noexcept = default;

Status SeriesBuilder::Add(const std::vector<std::string>& group, int32_t day, double value,
                          int64_t row) {
  if (std::isinf(value)) {
    return Status::InvalidArgument(fmt::format("row {}: value is infinite", row));
  }
  std::string key;
  for (const std::string& g : group) {
    key += g;
    key += '\x1f';
  }
  auto [it, inserted] = state_->index.try_emplace(key, state_->groups.size());
  if (inserted) {
    state_->groups.push_back(group);
    state_->obs.emplace_back();
  }
  state_->obs[it->second].push_back({day, value, row});
  return Status::OK();
}

Result<std::vector<DailySeries>> SeriesBuilder::Finish() {
  std::vector<DailySeries> out;
  out.reserve(state_->groups.size());
  for (size_t g = 0; g < state_->groups.size(); ++g) {
    std::vector<Obs>& obs = state_->obs[g];
    const std::string label = GroupLabel(state_->groups[g]);
    std::stable_sort(obs.begin(), obs.end(), [](const Obs& a, const Obs& b) { return a.day < b.day; });
    // Merge same-day rows.
    std::vector<Obs> merged;
    for (const Obs& o : obs) {
      if (!merged.empty() && merged.back().day == o.day) {
        if (state_->options.duplicates == DuplicatePolicy::kError) {
          return Status::InvalidArgument(fmt::format(
              "{}: duplicate date {} (rows {} and {}); aggregate the input or pass --duplicates sum",
              label, FormatDate(o.day), merged.back().row, o.row));
        }
        Obs& b = merged.back();
        if (std::isnan(b.value)) b.value = o.value;
        else if (!std::isnan(o.value)) b.value += o.value;
        continue;
      }
      merged.push_back(o);
    }
    DailySeries s;
    s.group = state_->groups[g];
    s.start_day = merged.front().day;
    const int64_t span = static_cast<int64_t>(merged.back().day) - merged.front().day + 1;
    if (span > 100000) {
      return Status::InvalidArgument(fmt::format("{}: dates span {} days ({} .. {}); at most 100000",
                                                 label, span, FormatDate(merged.front().day),
                                                 FormatDate(merged.back().day)));
    }
    s.values.assign(static_cast<size_t>(span), std::nan(""));
    for (const Obs& o : merged) s.values[o.day - s.start_day] = o.value;
    // Gaps: days without a row and rows without a value.
    bool any_known = false;
    for (double v : s.values) any_known = any_known || !std::isnan(v);
    if (!any_known) {
      return Status::InvalidArgument(label + ": every value is missing");
    }
    const size_t n = s.values.size();
    for (size_t i = 0; i < n; ++i) {
      if (!std::isnan(s.values[i])) continue;
      if (state_->options.gaps == GapPolicy::kError) {
        return Status::InvalidArgument(fmt::format("{}: no value for {} (gap policy is error)", label,
                                                   FormatDate(s.start_day + static_cast<int32_t>(i))));
      }
      ++s.filled_days;
      if (state_->options.gaps == GapPolicy::kZero) {
        s.values[i] = 0.0;
        continue;
      }
      size_t j = i;
      while (j < n && std::isnan(s.values[j])) ++j;
      // Interpolate between i-1 and j; carry the known value at either end.
      const double left = i > 0 ? s.values[i - 1] : s.values[j];
      const double right = j < n ? s.values[j] : left;
      for (size_t k = i; k < j; ++k) {
        const double w = static_cast<double>(k - i + 1) / static_cast<double>(j - i + 1);
        s.values[k] = left + (right - left) * w;
        if (k > i) ++s.filled_days;
      }
      i = j - 1;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace saleslake::forecast
