// `saleslake forecast`: daily demand forecasts with prediction intervals and backtest metrics.
// Input is a CSV file read by csv::ReadCsv with sniffed types (errors name the line), or --query:
// SQL over the lake whose result batches feed the same series loader directly. --to-table
// appends the forecasts to a lake table (Parquet through the catalog) that SQL and dashboards
// can query. Output goes through the shared renderer (render.h): forecasts, then the backtest
// metrics beside a seasonal-naive baseline when --metrics or --backtest asks for them.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <sstream>

#include "catalog/catalog.h"
#include "cli/command.h"
#include "cli/forecast_plot.h"
#include "cli/query_output.h"
#include "cli/render.h"
#include "common/logging.h"
#include "common/progress.h"
#include "common/types.h"
#include "formats/csv/csv_reader.h"
#include "fmt/format.h"
#include "forecast/forecast.h"
#include "forecast/series.h"
#include "io/object_store.h"
#include "sql/result_format.h"
#include "sql/sql.h"

namespace saleslake::cli {
namespace {

struct ForecastArgs {
  std::string input, query, date_col, value_col, by, model = "auto", format, output;
  std::string gaps = "zero", duplicates = "error", exclude, to_table, plot;
  int horizon = 0, season = 7, backtest = 0;
  bool metrics = false;
};

std::optional<int32_t> ParseDay(std::string_view s) {
  if (auto d = ParseIsoDate(s)) return d;
  if (auto ts = ParseIsoTimestamp(s)) {
    int64_t days = *ts / kMicrosPerDay;
    if (*ts < 0 && *ts % kMicrosPerDay != 0) --days;
    return static_cast<int32_t>(days);
  }
  return std::nullopt;
}

// The columns of one input row, found by name in the CSV header or the query's result.
struct SeriesColumns {
  const ColumnVector* date = nullptr;
  const ColumnVector* value = nullptr;
  std::vector<const ColumnVector*> by;
  const ColumnVector* exclude = nullptr;
};

// Turns input rows into SeriesBuilder observations, for both inputs: the CSV reader's batches
// and the query's result batches (no text round trip). `where` names the row in errors:
// "sales.csv:12" or "forecast --query: row 12".
class SeriesLoader {
 public:
  SeriesLoader(const ForecastArgs& a, forecast::SeriesOptions options)
      : args_(a), builder_(options) {
    if (!a.exclude.empty()) exclude_value_ = a.exclude.substr(a.exclude.find('=') + 1);
  }

  Status Add(const SeriesColumns& c, size_t row, int64_t number, const std::string& where) {
    if (c.exclude != nullptr && c.exclude->IsValid(row) && Text(*c.exclude, row) == exclude_value_) {
      return Status::OK();
    }
    if (!c.date->IsValid(row)) {
      return Status::InvalidArgument(fmt::format("{}: column '{}': the date is empty", where, args_.date_col));
    }
    int32_t day = 0;
    switch (c.date->type().id) {
      case TypeId::kDate: day = c.date->GetValue<int32_t>(row); break;
      case TypeId::kTimestamp: day = DayOf(c.date->GetValue<int64_t>(row)); break;
      case TypeId::kVarchar: {
        const std::string_view text = c.date->GetValue<std::string_view>(row);
        auto parsed = ParseDay(text);
        if (!parsed) {
          return Status::InvalidArgument(fmt::format("{}: column '{}': '{}' is not a date (YYYY-MM-DD)", where,
                                                     args_.date_col, text));
        }
        day = *parsed;
        break;
      }
      default:
        return Status::InvalidArgument(fmt::format("{}: column '{}' is {}, not a date; pick a DATE, TIMESTAMP "
                                                   "or YYYY-MM-DD text column with --date",
                                                   where, args_.date_col, c.date->type().ToString()));
    }
    double v = std::nan("");  // NULL: a gap, filled per --gaps
    if (c.value->IsValid(row)) {
      SL_ASSIGN_OR_RETURN(v, Number(*c.value, row, where));
    }
    group_.clear();
    for (const ColumnVector* g : c.by) group_.push_back(g->IsValid(row) ? Text(*g, row) : std::string());
    ++rows_;
    return builder_.Add(group_, day, v, number);
  }

  int64_t rows() const { return rows_; }
  Result<std::vector<forecast::DailySeries>> Finish() { return builder_.Finish(); }

 private:
  static int32_t DayOf(int64_t micros) {
    int64_t d = micros / kMicrosPerDay;
    if (micros < 0 && micros % kMicrosPerDay != 0) --d;
    return static_cast<int32_t>(d);
  }

  static std::string Text(const ColumnVector& v, size_t row) {
    if (v.type().id == TypeId::kVarchar) return std::string(v.GetValue<std::string_view>(row));
    return sql::CellText(v, row);
  }

  Result<double> Number(const ColumnVector& v, size_t row, const std::string& where) const {
    switch (v.type().id) {
      case TypeId::kInt32: return static_cast<double>(v.GetValue<int32_t>(row));
      case TypeId::kInt64: return static_cast<double>(v.GetValue<int64_t>(row));
      case TypeId::kFloat: return static_cast<double>(v.GetValue<float>(row));
      case TypeId::kDouble: return v.GetValue<double>(row);
      case TypeId::kDecimal: return std::strtod(sql::CellText(v, row).c_str(), nullptr);
      case TypeId::kVarchar: {
        const std::string vs(v.GetValue<std::string_view>(row));
        char* end = nullptr;
        const double d = std::strtod(vs.c_str(), &end);
        if (vs.empty() || end != vs.c_str() + vs.size() || !std::isfinite(d)) {
          return Status::InvalidArgument(
              fmt::format("{}: column '{}': '{}' is not a number", where, args_.value_col, vs));
        }
        return d;
      }
      default:
        return Status::InvalidArgument(fmt::format(
            "{}: column '{}' is {}, not a number; pick a numeric column with --value", where,
            args_.value_col, v.type().ToString()));
    }
  }

  const ForecastArgs& args_;
  forecast::SeriesBuilder builder_;
  std::string exclude_value_;
  std::vector<std::string> group_;
  int64_t rows_ = 0;
};

// The group column names of --by, in order.
std::vector<std::string> ByColumns(const std::string& by) {
  std::vector<std::string> out;
  std::stringstream bs(by);
  std::string col;
  while (std::getline(bs, col, ',')) out.push_back(col);
  return out;
}

Result<forecast::SeriesOptions> SeriesOptionsOf(const ForecastArgs& a) {
  forecast::SeriesOptions so;
  SL_ASSIGN_OR_RETURN(so.gaps, forecast::ParseGapPolicy(a.gaps));
  SL_ASSIGN_OR_RETURN(so.duplicates, forecast::ParseDuplicatePolicy(a.duplicates));
  if (!a.exclude.empty() && a.exclude.find('=') == std::string::npos) {
    return Status::InvalidArgument("--exclude expects COL=VALUE, got '" + a.exclude + "'");
  }
  return so;
}

// "no such column" naming the flag and listing the columns there are.
Status NoColumn(const std::string& where, const char* flag, const std::string& name, const Schema& schema) {
  std::vector<std::string> names;
  for (const Field& f : schema.fields) names.push_back(f.name);
  return Status::InvalidArgument(fmt::format("{}: {} {}: no such column (columns: {})", where, flag, name,
                                             fmt::join(names, ", ")));
}

// Where the flags' columns are in the input's schema (CSV header or query result).
struct InputColumns {
  size_t date = 0, value = 0;
  std::vector<size_t> by;
  std::optional<size_t> exclude;
};

Result<InputColumns> FindInputColumns(const ForecastArgs& a, const Schema& schema, const std::string& where,
                                      std::vector<std::string>* group_names) {
  auto find = [&](const std::string& name, const char* flag) -> Result<size_t> {
    if (auto i = schema.FindField(name)) return *i;
    return NoColumn(where, flag, name, schema);
  };
  InputColumns c;
  SL_ASSIGN_OR_RETURN(c.date, find(a.date_col, "--date"));
  SL_ASSIGN_OR_RETURN(c.value, find(a.value_col, "--value"));
  for (const std::string& col : ByColumns(a.by)) {
    SL_ASSIGN_OR_RETURN(size_t i, find(col, "--by"));
    c.by.push_back(i);
    group_names->push_back(col);
  }
  if (!a.exclude.empty()) {
    SL_ASSIGN_OR_RETURN(c.exclude, find(a.exclude.substr(0, a.exclude.find('=')), "--exclude"));
  }
  return c;
}

// Reads --input with the project's CSV reader: the sniffer finds the dialect and the column
// types (a DATE/TIMESTAMP date column in any format it knows, a numeric value column), the reader
// handles quoting and reports bad rows with their line. Values a typed column could not parse,
// and anything read as text that is not a date or a number, fail with "FILE:LINE: column ...".
Result<std::vector<forecast::DailySeries>> LoadCsv(const ForecastArgs& a,
                                                   std::vector<std::string>* group_names) {
  auto file = io::OpenLocalFile(a.input);
  if (!file.ok()) return file.status().WithContext("--input");
  auto sniff = csv::Sniff(**file);
  if (!sniff.ok()) return sniff.status().WithContext(a.input);
  const Schema& header = sniff->schema;
  SL_ASSIGN_OR_RETURN(forecast::SeriesOptions so, SeriesOptionsOf(a));
  SL_ASSIGN_OR_RETURN(InputColumns in, FindInputColumns(a, header, a.input, group_names));
  const size_t date_i = in.date, value_i = in.value;
  const std::vector<size_t>& by_i = in.by;
  const std::optional<size_t>& excl_i = in.exclude;

  csv::ReadOptions ro = sniff->ToReadOptions();
  ro.dialect.null_tokens.push_back("null");
  // Group and exclude columns are compared as text; the value is DOUBLE when the sniffer saw
  // numbers (rare bad values then come back as rejects), else text we parse to name the culprit.
  for (size_t i : by_i) ro.schema.fields[i].type = DataType::Varchar();
  if (excl_i) ro.schema.fields[*excl_i].type = DataType::Varchar();
  const TypeId vt = header[value_i].type.id;
  const bool value_numeric = vt == TypeId::kInt64 || vt == TypeId::kDouble || vt == TypeId::kDecimal ||
                             vt == TypeId::kInt32 || vt == TypeId::kFloat;
  ro.schema.fields[value_i].type = value_numeric ? DataType::Double() : DataType::Varchar();
  const TypeId dt = header[date_i].type.id;
  if (dt != TypeId::kDate && dt != TypeId::kTimestamp) ro.schema.fields[date_i].type = DataType::Varchar();
  // Projection: date, value, the group columns, the exclude column, then __line.
  ro.projection = {date_i, value_i};
  for (size_t i : by_i) ro.projection.push_back(i);
  if (excl_i) ro.projection.push_back(*excl_i);
  ro.line_column = true;
  ro.threads = 1;  // one pass in file order: series keep their order of first appearance
  const size_t line_col = ro.projection.size();

  SeriesLoader loader(a, so);
  csv::CollectingRejectSink rejects;
  auto read = csv::ReadCsv(
      **file, ro,
      [&](size_t, Batch& b) -> Status {
        for (auto& c : b.columns) c.Flatten();
        SeriesColumns cols{&b.columns[0], &b.columns[1], {}, excl_i ? &b.columns[line_col - 1] : nullptr};
        for (size_t k = 0; k < by_i.size(); ++k) cols.by.push_back(&b.columns[2 + k]);
        for (size_t r = 0; r < b.live_rows(); ++r) {
          const size_t row = b.selection ? b.selection->Get(r) : r;
          const int64_t line = b.columns[line_col].GetValue<int64_t>(row);
          SL_RETURN_IF_ERROR(loader.Add(cols, row, line, fmt::format("{}:{}", a.input, line)));
        }
        return Status::OK();
      },
      &rejects);
  if (!read.ok()) return read.status();
  auto bad = rejects.TakeSorted();
  if (!bad.empty()) {
    const csv::RejectedRow& r = bad.front();
    std::string col = r.column > 0 && r.column <= header.size() ? header[r.column - 1].name : "";
    const std::string more = bad.size() > 1 ? fmt::format("; {} bad rows in all", bad.size()) : "";
    if (r.column - 1 == value_i) {
      return Status::InvalidArgument(
          fmt::format("{}:{}: column '{}': {} (not a number){}", a.input, r.line, col, r.reason, more));
    }
    return Status::InvalidArgument(fmt::format("{}:{}: {}{}", a.input, r.line,
                                               col.empty() ? r.reason : "column '" + col + "': " + r.reason, more));
  }
  if (loader.rows() == 0) return Status::InvalidArgument(a.input + ": no data rows");
  auto series = loader.Finish();
  if (!series.ok()) return series.status().WithContext(a.input);
  return series;
}

// Runs --query against the lake and feeds its result batches straight into the series builder.
Result<std::vector<forecast::DailySeries>> LoadQuery(const Context& ctx, const ForecastArgs& a,
                                                     std::vector<std::string>* group_names) {
  const std::string origin = "forecast --query";
  SL_ASSIGN_OR_RETURN(auto store, ctx.OpenLake(false));
  SL_ASSIGN_OR_RETURN(auto cat, ctx.OpenCatalog(store.get()));
  SL_ASSIGN_OR_RETURN(auto engine, sql::Engine::OpenLake(store.get(), cat.get()));
  auto result = engine->Query(a.query);
  if (!result.ok()) return result.status().WithContext(origin);
  sql::QueryResult& rows = **result;
  if (rows.schema().size() == 0) return Status::InvalidArgument(origin + ": the statement returns no rows");
  SL_ASSIGN_OR_RETURN(forecast::SeriesOptions so, SeriesOptionsOf(a));
  SL_ASSIGN_OR_RETURN(InputColumns in, FindInputColumns(a, rows.schema(), origin, group_names));
  SeriesLoader loader(a, so);
  int64_t number = 0;
  Batch b;
  for (;;) {
    auto more = rows.Next(&b);
    if (!more.ok()) return more.status().WithContext(origin);
    if (!*more) break;
    SeriesColumns cols{&b.columns[in.date], &b.columns[in.value], {}, in.exclude ? &b.columns[*in.exclude] : nullptr};
    for (size_t i : in.by) cols.by.push_back(&b.columns[i]);
    for (size_t row = 0; row < b.num_rows; ++row) {
      ++number;
      SL_RETURN_IF_ERROR(loader.Add(cols, row, number, fmt::format("{}: row {}", origin, number)));
    }
  }
  if (loader.rows() == 0) return Status::InvalidArgument(origin + ": the query returned no rows");
  auto series = loader.Finish();
  if (!series.ok()) return series.status().WithContext(origin);
  return series;
}

// Appends the forecasts to the lake table `table` (created on first use: Parquet under
// processed_data/<table>/, one catalog commit per run). Columns: the group columns (VARCHAR),
// date (DATE), forecast, lo80, hi80, lo95, hi95 (DOUBLE), model (VARCHAR) and generated_at
// (TIMESTAMP, the same for every row of a run, so dashboards can pick the latest run).
Status WriteForecastTable(const Context& ctx, const std::string& table,
                          const std::vector<std::string>& group_names,
                          const std::vector<forecast::DailySeries>& series,
                          const std::vector<forecast::SeriesOutcome>& outcomes, int horizon) {
  SL_ASSIGN_OR_RETURN(auto store, ctx.OpenLake(false));
  SL_ASSIGN_OR_RETURN(auto cat, ctx.OpenCatalog(store.get()));
  SL_ASSIGN_OR_RETURN(auto writer, sql::Engine::OpenLake(store.get(), cat.get()));
  Schema schema;
  for (const auto& g : group_names) schema.fields.push_back({g, DataType::Varchar(), true});
  schema.fields.push_back({"date", DataType::Date(), true});
  for (const char* c : {"forecast", "lo80", "hi80", "lo95", "hi95"}) {
    schema.fields.push_back({c, DataType::Double(), true});
  }
  schema.fields.push_back({"model", DataType::Varchar(), true});
  schema.fields.push_back({"generated_at", DataType::Timestamp(), true});
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const size_t g = group_names.size();
  std::vector<Batch> batches;
  auto row_slot = [&]() -> std::pair<Batch*, size_t> {
    if (batches.empty() || batches.back().num_rows == kBatchRows) batches.emplace_back(schema);
    Batch& b = batches.back();
    const size_t r = b.num_rows;
    b.SetRows(r + 1);
    return {&b, r};
  };
  for (size_t k = 0; k < outcomes.size(); ++k) {
    const auto& o = outcomes[k];
    if (!o.status.ok()) continue;
    const auto& s = series[k];
    const int32_t first = s.start_day + static_cast<int32_t>(s.values.size());
    for (int i = 0; i < horizon; ++i) {
      auto [b, r] = row_slot();
      for (size_t c = 0; c < g; ++c) b->columns[c].SetString(r, s.group[c]);
      b->columns[g].data<int32_t>()[r] = first + i;
      const double vals[5] = {o.forecast.mean[i], o.forecast.lo80[i], o.forecast.hi80[i],
                              o.forecast.lo95[i], o.forecast.hi95[i]};
      for (int c = 0; c < 5; ++c) b->columns[g + 1 + c].data<double>()[r] = vals[c];
      b->columns[g + 6].SetString(r, o.forecast.model);
      b->columns[g + 7].data<int64_t>()[r] = now;
    }
  }
  if (auto meta = cat->LoadTable(table); meta.ok()) {
    // Appending must not drop or invent columns (another --by): insist on the same columns.
    auto names = [](const Schema& sc) {
      std::vector<std::string> v;
      for (const auto& f : sc.fields) v.push_back(f.name + " " + f.type.ToString());
      return fmt::format("{}", fmt::join(v, ", "));
    };
    if (names((*meta)->schema()) != names(schema)) {
      return Status::InvalidArgument(fmt::format(
          "forecast --to-table {}: the table has columns ({}), these forecasts have ({}); use "
          "another table name for another grouping",
          table, names((*meta)->schema()), names(schema)));
    }
  }
  Status st = writer->CreateTable(table, schema, batches);
  if (st.code() == StatusCode::kAlreadyExists) st = writer->InsertInto(table, schema, batches);
  return st.WithContext("forecast --to-table " + table);
}

// Fewer days than this cannot give an interval (a model needs residuals to measure its error).
constexpr int kMinHistoryDays = 4;

std::string Fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "NA";
  return fmt::format("{:.{}f}", v, decimals);
}

// "1,047" or "3.25" for the summary line people read.
std::string Readable(double v) {
  if (std::fabs(v) < 100) return fmt::format("{:.2f}", v);
  return (v < 0 ? "-" : "") + Thousands(static_cast<uint64_t>(std::llround(std::fabs(v))));
}

// "22% better" / "5% worse" than the baseline's MAE.
std::string VersusBaseline(double mae, double baseline) {
  if (!std::isfinite(mae) || !std::isfinite(baseline) || baseline <= 0) return "";
  const double gain = (baseline - mae) / baseline * 100;
  return fmt::format("{:.0f}% {}", std::fabs(gain), gain >= 0 ? "better" : "worse");
}

// Renders a whole row set with the shared renderer.
std::string RenderRows(const std::vector<Column>& columns, const std::vector<std::vector<std::string>>& rows,
                       OutputMode mode, bool footer) {
  Renderer r(columns, RenderOptions{.mode = mode, .footer = footer});
  for (const auto& row : rows) {
    for (const std::string& cell : row) {
      if (cell == "NA") r.AddNull();
      else r.AddCell(cell);
    }
    r.EndRow();
  }
  std::string out = r.TakeText();
  return out + r.Finish();
}

int RunForecast(const Context& ctx, ForecastArgs a) {
  if (!a.query.empty() && !a.input.empty()) return Fail("forecast: give --input FILE or --query SQL, not both");
  if (a.query.empty() && a.input.empty()) return Fail("forecast: one of --input FILE.csv or --query SQL is required");
  auto chosen = ChooseFormat(a.format, a.output);
  if (!chosen.ok() || *chosen == ResultFormat::kParquet || *chosen == ResultFormat::kLine) {
    if (a.format.empty()) return Fail("forecast: --output " + a.output + ": forecasts are written as table, csv or json");
    return Fail("forecast: --format must be table, csv or json, got '" + a.format + "'");
  }
  const OutputMode mode = *chosen == ResultFormat::kCsv    ? OutputMode::kCsv
                          : *chosen == ResultFormat::kJson ? OutputMode::kJson
                                                           : OutputMode::kTable;
  if (!a.plot.empty()) {
    const std::string ext = a.plot.size() > 4 ? a.plot.substr(a.plot.size() - 4) : "";
    if (ext != ".png" && ext != ".svg") return Fail("forecast: --plot " + a.plot + ": the file must end in .png or .svg");
  }
  forecast::ForecastOptions opt;
  opt.horizon = a.horizon;
  opt.season = a.season;
  auto kind = forecast::ParseModelKind(a.model, &opt.ets_model);
  if (!kind.ok()) return Fail(kind.status().WithContext("--model"));
  opt.model = *kind;
  std::vector<std::string> group_names;
  auto series = a.query.empty() ? LoadCsv(a, &group_names) : LoadQuery(ctx, a, &group_names);
  if (!series.ok()) return Fail(series.status());
  const int windows = a.backtest > 0 ? a.backtest : (a.metrics ? 4 : 0);
  const std::string source = a.query.empty() ? a.input : "forecast --query";
  auto label_of = [&](const forecast::DailySeries& s) {
    return s.group.empty() ? source + ": the series"
                           : fmt::format("{}: series [{}]", source, fmt::join(s.group, ", "));
  };

  // Too short for any interval: refused with the minimum, before any model runs.
  std::vector<forecast::SeriesJob> jobs;
  std::vector<size_t> job_series;
  int failed = 0;
  for (size_t k = 0; k < series->size(); ++k) {
    const auto& s = (*series)[k];
    if (static_cast<int>(s.values.size()) < kMinHistoryDays) {
      ++failed;
      (void)Fail(fmt::format("{}: {} day{} of history; a forecast needs at least {} (and {} for "
                                        "a weekly pattern with --season {})",
                                        label_of(s), s.values.size(), s.values.size() == 1 ? "" : "s",
                                        kMinHistoryDays, 2 * a.season + 2, a.season));
      continue;
    }
    jobs.push_back({s.values, {}});
    job_series.push_back(k);
  }
  // Series done of all the model runs (the baseline's too), on a terminal only.
  Progress progress("forecast", Progress::Unit::kSeries, jobs.size() * (windows > 0 ? 2 : 1));
  const std::function<void()> one_done = [&progress] { progress.Add(1); };
  auto outcomes = forecast::ForecastAll(jobs, opt, windows, one_done);
  // The baseline every backtest is compared with: seasonal naive (naive without a season).
  std::vector<forecast::SeriesOutcome> baseline;
  const forecast::ModelKind base_kind = a.season > 1 ? forecast::ModelKind::kSeasonalNaive : forecast::ModelKind::kNaive;
  if (windows > 0) {
    forecast::ForecastOptions bo = opt;
    bo.model = base_kind;
    baseline = forecast::ForecastAll(jobs, bo, windows, one_done);
  }
  progress.Finish();
  const std::string base_name = a.season > 1 ? "seasonal naive" : "naive";

  std::vector<Column> cols;
  for (const auto& g : group_names) cols.push_back({g, CellKind::kText});
  cols.push_back({"date", CellKind::kText});
  for (const char* c : {"forecast", "lo80", "hi80", "lo95", "hi95"}) cols.push_back({c, CellKind::kNumber});
  cols.push_back({"model", CellKind::kText});
  std::vector<Column> mcols;
  for (const auto& g : group_names) mcols.push_back({g, CellKind::kText});
  mcols.push_back({"model", CellKind::kText});
  for (const char* c : {"windows", "mae", "rmse", "smape", "mase", "coverage80", "coverage95"}) {
    mcols.push_back({c, CellKind::kNumber});
  }
  if (mode == OutputMode::kTable) {
    mcols.push_back({"baseline_mae", CellKind::kNumber});
    mcols.push_back({"vs_baseline", CellKind::kText});
  }
  std::vector<std::vector<std::string>> rows, mrows;
  std::vector<forecast::SeriesOutcome*> written(series->size(), nullptr);
  bool any_auto = false;
  std::vector<PlotSeries> plots;
  double mae_sum = 0, base_sum = 0;
  int compared = 0;
  for (size_t j = 0; j < outcomes.size(); ++j) {
    const auto& s = (*series)[job_series[j]];
    auto& o = outcomes[j];
    const std::string label = label_of(s);
    if (!o.status.ok()) {
      ++failed;
      (void)Fail(label + ": " + o.status.message());
      continue;
    }
    bool zero_width = false;
    for (int i = 0; i < opt.horizon; ++i) {
      // Rounding leaves a constant history's interval a few ulps wide: compare with the level.
      const double tolerance = 1e-9 * std::max(1.0, std::fabs(o.forecast.mean[i]));
      zero_width = zero_width || !(o.forecast.hi95[i] - o.forecast.lo95[i] > tolerance);
    }
    if (zero_width) {
      ++failed;
      (void)Fail(fmt::format("{}: the {} days of history do not vary enough to measure the "
                                        "forecast error (the intervals would have zero width); give a "
                                        "longer or more varied history",
                                        label, s.values.size()));
      continue;
    }
    if (!o.forecast.note.empty()) {
      Notice(fmt::format("{}: only {} days of history, {}; forecasting with the {} "
                                       "model instead (weekly models need {} days with --season {})",
                                       label, s.values.size(), o.forecast.note, o.forecast.model,
                                       2 * a.season + 2, a.season));
    }
    any_auto = any_auto || o.forecast.model.rfind("Auto[", 0) == 0;
    if (!a.plot.empty()) {
      // The recent history: enough to see the weekly pattern and the trend the forecast follows.
      const size_t keep = std::min(s.values.size(), std::max<size_t>(90, 4 * static_cast<size_t>(opt.horizon)));
      PlotSeries p;
      p.label = s.group.empty() ? "the series" : fmt::format("{}", fmt::join(s.group, ", "));
      p.history_start = s.start_day + static_cast<int32_t>(s.values.size() - keep);
      p.history.assign(s.values.end() - static_cast<std::ptrdiff_t>(keep), s.values.end());
      p.mean = o.forecast.mean;
      p.lo80 = o.forecast.lo80;
      p.hi80 = o.forecast.hi80;
      p.lo95 = o.forecast.lo95;
      p.hi95 = o.forecast.hi95;
      plots.push_back(std::move(p));
    }
    written[job_series[j]] = &o;
    const int32_t first = s.start_day + static_cast<int32_t>(s.values.size());
    for (int i = 0; i < opt.horizon; ++i) {
      std::vector<std::string> r = s.group;
      r.push_back(FormatDate(first + i));
      for (double v : {o.forecast.mean[i], o.forecast.lo80[i], o.forecast.hi80[i], o.forecast.lo95[i],
                       o.forecast.hi95[i]}) {
        r.push_back(Fixed(v, 2));
      }
      r.push_back(o.forecast.model);
      rows.push_back(std::move(r));
    }
    if (o.backtest) {
      const auto& m = o.backtest->overall;
      std::vector<std::string> r = s.group;
      r.push_back(o.forecast.model);
      r.push_back(std::to_string(o.backtest->windows.size()));
      r.push_back(Fixed(m.mae, 2));
      r.push_back(Fixed(m.rmse, 2));
      r.push_back(Fixed(m.smape, 2));
      r.push_back(Fixed(m.mase, 3));
      r.push_back(Fixed(m.coverage80, 2));
      r.push_back(Fixed(m.coverage95, 2));
      const bool has_base = j < baseline.size() && baseline[j].status.ok() && baseline[j].backtest;
      const double base_mae = has_base ? baseline[j].backtest->overall.mae : std::nan("");
      if (mode == OutputMode::kTable) {
        r.push_back(Fixed(base_mae, 2));
        r.push_back(VersusBaseline(m.mae, base_mae));
      }
      if (has_base && std::isfinite(m.mae) && std::isfinite(base_mae)) {
        mae_sum += m.mae;
        base_sum += base_mae;
        ++compared;
      }
      mrows.push_back(std::move(r));
    }
  }
  std::string fc_text = rows.empty() ? "" : RenderRows(cols, rows, mode, /*footer=*/false);
  std::string m_text;
  if (windows > 0 && !mrows.empty()) {
    m_text = RenderRows(mcols, mrows, mode, /*footer=*/false);
    if (mode == OutputMode::kTable) {
      std::string head = fmt::format("Backtest: {} rolling windows of {} days at the end of each series\n",
                                     windows, a.horizon);
      m_text = head + m_text;
      if (compared > 0) {
        m_text += fmt::format("MAE {} {} a day (baseline {} {}: {})\n", Readable(mae_sum / compared),
                              a.value_col, base_name, Readable(base_sum / compared),
                              VersusBaseline(mae_sum, base_sum));
      }
      m_text += fmt::format(
          "mae, rmse: {} a day; smape: percent; mase: MAE over the in-sample {} MAE (below 1 beats it); "
          "coverage80/95: share of held-out days inside the 80%/95% interval (well calibrated: 0.80/0.95)\n",
          a.value_col, base_name);
    }
  }
  if (mode == OutputMode::kTable && any_auto && !rows.empty()) {
    fc_text += "model Auto[A+B+...]: the equal-weight average of the listed models (forecast and interval bounds)\n";
  }
  if (!a.output.empty()) {
    Status st = io::WriteLocalFileAtomic(a.output, fc_text);
    if (!st.ok()) return Fail(st.WithContext("--output"));
  }
  if (!a.plot.empty() && !plots.empty()) {
    Status st = PlotForecasts(a.plot, plots, a.value_col);
    if (!st.ok()) return Fail(st);
    if (plots.size() > kMaxPlotPanels) {
      Notice(fmt::format("--plot {}: drew the first {} of {} series (filter with --query or --exclude for others)",
                         a.plot, kMaxPlotPanels, plots.size()));
    }
    std::fprintf(stderr, "forecast: plotted %zu series to %s\n", std::min(plots.size(), kMaxPlotPanels),
                 a.plot.c_str());
  }
  if (!a.to_table.empty()) {
    std::vector<forecast::SeriesOutcome> kept;
    std::vector<forecast::DailySeries> kept_series;
    for (size_t k = 0; k < series->size(); ++k) {
      if (written[k] == nullptr) continue;
      kept.push_back(std::move(*written[k]));
      kept_series.push_back((*series)[k]);
    }
    Status st = WriteForecastTable(ctx, a.to_table, group_names, kept_series, kept, opt.horizon);
    if (!st.ok()) return Fail(st);
    std::fprintf(stderr, "forecast: appended %zu rows (%zu series x %d days) to lake table '%s'\n",
                 kept.size() * static_cast<size_t>(opt.horizon), kept.size(), opt.horizon, a.to_table.c_str());
  }
  // stdout: the forecasts (unless they went to --output or --to-table) and then the metrics.
  const bool show_fc = a.output.empty() && a.to_table.empty();
  std::string out;
  if (show_fc && !m_text.empty() && mode == OutputMode::kJson) {
    while (!fc_text.empty() && fc_text.back() == '\n') fc_text.pop_back();
    while (!m_text.empty() && m_text.back() == '\n') m_text.pop_back();
    out = "{\"forecasts\": " + fc_text + ",\n\"metrics\": " + m_text + "}\n";
  } else {
    if (show_fc) out = fc_text;
    if (!out.empty() && !m_text.empty()) out += "\n";
    out += m_text;
  }
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  if (failed > 0) {
    return Fail(fmt::format("forecast: {} of {} series failed (see above)", failed, series->size()));
  }
  return 0;
}

void Register(CLI::App& root, Context& ctx) {
  auto a = std::make_shared<ForecastArgs>();
  auto* cmd = root.add_subcommand(
      "forecast", "Forecast daily series with 80%/95% prediction intervals and backtest metrics");
  cmd->add_option("--input", a->input, "CSV file with a date column and a value column");
  cmd->add_option("--query", a->query, "SQL over the lake producing the series (instead of --input)");
  cmd->add_option("--date", a->date_col, "Date column (YYYY-MM-DD or timestamp)")->required();
  cmd->add_option("--value", a->value_col, "Numeric value column (empty = missing)")->required();
  cmd->add_option("--by", a->by, "Group columns, comma-separated: one series per group");
  cmd->add_option("--horizon", a->horizon, "Days to forecast")->required()->check(CLI::Range(1, 100000));
  cmd->add_option("--season", a->season, "Seasonal period in days (default 7; 1 = none)")
      ->check(CLI::Range(1, 366));
  cmd->add_option("--backtest", a->backtest,
                  "Rolling-origin windows of --horizon days at the end; metrics are printed after the "
                  "forecasts (0: none, 4 with --metrics)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--model", a->model,
                  "auto|naive|snaive|mean|ets|ets:<ANN|AAdA|MAM...>|theta|croston|sba|tsb|regression; "
                  "auto picks per series and shows e.g. Auto[ETS(A,N,A)+Theta+Regression]: the average "
                  "of those models");
  cmd->add_option("--format", a->format, "table|csv|json (default: from --output's extension, else table)");
  cmd->add_option("--output", a->output, "Write the forecasts to this file instead of stdout");
  cmd->add_flag("--metrics", a->metrics,
                "Backtest (4 windows unless --backtest) and print the metrics (MAE, RMSE, sMAPE, "
                "MASE, coverage, beside a seasonal-naive baseline) after the forecasts; with --output "
                "the forecasts go to the file and stdout has the metrics");
  cmd->add_option("--gaps", a->gaps, "Missing days: zero|interpolate|error (default zero)");
  cmd->add_option("--duplicates", a->duplicates,
                  "Several rows per day: error|sum (default error; sum for raw transactions)");
  cmd->add_option("--exclude", a->exclude, "Skip rows where COL=VALUE (e.g. status=OUT)");
  cmd->add_option("--to-table", a->to_table,
                  "Append the forecasts to this lake table (e.g. forecasts; created on first use, "
                  "Parquet + one catalog commit); stdout then stays empty unless --metrics");
  cmd->add_option("--plot", a->plot,
                  "Also draw history, forecast and the 80%/95% bands to FILE.png or FILE.svg (first "
                  "6 series)");
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return RunForecast(ctx, *a); }; });
}

const CommandRegistrar kRegistrar(70, &Register);

}  // namespace
}  // namespace saleslake::cli
