// `saleslake forecast`: daily demand forecasts with prediction intervals and backtest metrics.
// Input is a CSV file read by csv::ReadCsv with sniffed types (errors name the line); --query runs
// SQL over the lake and feeds its result through the same loader. --to-table appends the
// forecasts to a lake table (Parquet through the catalog) that SQL and dashboards can query.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "catalog/catalog.h"
#include "cli/command.h"
#include "common/logging.h"
#include "common/types.h"
#include "formats/csv/csv_reader.h"
#include "formats/csv/sniffer.h"
#include "fmt/format.h"
#include "forecast/forecast.h"
#include "forecast/series.h"
#include "io/object_store.h"
#include "sql/result_format.h"
#include "sql/sql.h"

namespace saleslake::cli {
namespace {

struct ForecastArgs {
  std::string input, query, date_col, value_col, by, model = "auto", format = "table", output;
  std::string gaps = "zero", duplicates = "error", exclude, to_table;
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

// Reads --input with the project's CSV reader: the sniffer finds the dialect and the column
// types (a DATE/TIMESTAMP date column in any format it knows, a numeric value column), the reader
// handles quoting and reports bad rows with their line. Values a typed column could not parse,
// and anything read as text that is not a date or a number, fail with "FILE:LINE: column ...".
Result<std::vector<forecast::DailySeries>> LoadCsv(const ForecastArgs& a,
                                                   std::vector<std::string>* group_names) {
  auto file = io::OpenLocalFile(a.input);
  if (!file.ok()) return Status::IOError("cannot open " + a.input + ": " + file.status().message());
  auto sniff = csv::Sniff(**file);
  if (!sniff.ok()) return sniff.status().WithContext(a.input);
  const Schema& header = sniff->schema;
  auto find = [&](const std::string& name) -> Result<size_t> {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i].name == name) return i;
    }
    return Status::InvalidArgument(fmt::format("{}: no column '{}' in the header ({} columns)", a.input,
                                               name, header.size()));
  };
  SL_ASSIGN_OR_RETURN(size_t date_i, find(a.date_col));
  SL_ASSIGN_OR_RETURN(size_t value_i, find(a.value_col));
  std::vector<size_t> by_i;
  if (!a.by.empty()) {
    std::stringstream bs(a.by);
    std::string col;
    while (std::getline(bs, col, ',')) {
      SL_ASSIGN_OR_RETURN(size_t i, find(col));
      by_i.push_back(i);
      group_names->push_back(col);
    }
  }
  std::optional<size_t> excl_i;
  std::string excl_value;
  if (!a.exclude.empty()) {
    const size_t eq = a.exclude.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument("--exclude expects COL=VALUE, got '" + a.exclude + "'");
    }
    SL_ASSIGN_OR_RETURN(size_t i, find(a.exclude.substr(0, eq)));
    excl_i = i;
    excl_value = a.exclude.substr(eq + 1);
  }
  forecast::SeriesOptions so;
  SL_ASSIGN_OR_RETURN(so.gaps, forecast::ParseGapPolicy(a.gaps));
  SL_ASSIGN_OR_RETURN(so.duplicates, forecast::ParseDuplicatePolicy(a.duplicates));

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
  // Projection: date, value, __line, then the group columns and the exclude column.
  ro.projection = {date_i, value_i};
  for (size_t i : by_i) ro.projection.push_back(i);
  if (excl_i) ro.projection.push_back(*excl_i);
  ro.line_column = true;
  ro.threads = 1;  // one pass in file order: series keep their order of first appearance
  const size_t line_col = ro.projection.size();
  const TypeId date_type = ro.schema.fields[date_i].type.id;

  forecast::SeriesBuilder builder(so);
  std::vector<std::string> group;
  int64_t rows = 0;
  csv::CollectingRejectSink rejects;
  auto read = csv::ReadCsv(
      **file, ro,
      [&](size_t, Batch& b) -> Status {
        for (auto& c : b.columns) c.Flatten();
        for (size_t r = 0; r < b.live_rows(); ++r) {
          const size_t row = b.selection ? b.selection->Get(r) : r;
          const int64_t line = b.columns[line_col].GetValue<int64_t>(row);
          if (excl_i && b.columns[line_col - 1].IsValid(row) &&
              b.columns[line_col - 1].GetValue<std::string_view>(row) == excl_value) {
            continue;
          }
          const ColumnVector& dc = b.columns[0];
          if (!dc.IsValid(row)) {
            return Status::InvalidArgument(
                fmt::format("{}:{}: column '{}': the date is empty", a.input, line, a.date_col));
          }
          int32_t day = 0;
          if (date_type == TypeId::kDate) {
            day = dc.GetValue<int32_t>(row);
          } else if (date_type == TypeId::kTimestamp) {
            const int64_t ts = dc.GetValue<int64_t>(row);
            int64_t d = ts / kMicrosPerDay;
            if (ts < 0 && ts % kMicrosPerDay != 0) --d;
            day = static_cast<int32_t>(d);
          } else {
            const std::string_view text = dc.GetValue<std::string_view>(row);
            auto parsed = ParseDay(text);
            if (!parsed) {
              return Status::InvalidArgument(fmt::format(
                  "{}:{}: column '{}': '{}' is not a date (YYYY-MM-DD)", a.input, line, a.date_col, text));
            }
            day = *parsed;
          }
          double v = std::nan("");  // NULL: a gap, filled per --gaps
          const ColumnVector& vc = b.columns[1];
          if (vc.IsValid(row)) {
            if (value_numeric) {
              v = vc.GetValue<double>(row);
            } else {
              const std::string vs(vc.GetValue<std::string_view>(row));
              char* end = nullptr;
              v = std::strtod(vs.c_str(), &end);
              if (vs.empty() || end != vs.c_str() + vs.size() || !std::isfinite(v)) {
                return Status::InvalidArgument(fmt::format("{}:{}: column '{}': '{}' is not a number",
                                                           a.input, line, a.value_col, vs));
              }
            }
          }
          group.clear();
          for (size_t k = 0; k < by_i.size(); ++k) {
            const ColumnVector& gc = b.columns[2 + k];
            group.emplace_back(gc.IsValid(row) ? gc.GetValue<std::string_view>(row) : std::string_view());
          }
          SL_RETURN_IF_ERROR(builder.Add(group, day, v, line).WithContext(a.input));
          ++rows;
        }
        return Status::OK();
      },
      &rejects);
  if (!read.ok()) return read.status();
  auto bad = rejects.TakeSorted();
  if (!bad.empty()) {
    const csv::RejectedRow& r = bad.front();
    std::string col = r.column > 0 && r.column <= header.size() ? header[r.column - 1].name : "";
    if (r.column - 1 == value_i) {
      return Status::InvalidArgument(fmt::format("{}:{}: column '{}': {} (not a number){}", a.input,
                                                 r.line, col, r.reason,
                                                 bad.size() > 1 ? fmt::format("; {} bad rows in all", bad.size()) : ""));
    }
    return Status::InvalidArgument(fmt::format("{}:{}: {}{}", a.input, r.line,
                                               col.empty() ? r.reason : "column '" + col + "': " + r.reason,
                                               bad.size() > 1 ? fmt::format("; {} bad rows in all", bad.size()) : ""));
  }
  if (rows == 0) return Status::InvalidArgument(a.input + ": no data rows");
  return builder.Finish();
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "NA";
  return fmt::format("{:.6g}", v);
}
std::string Fixed(double v) {
  if (!std::isfinite(v)) return "NA";
  return fmt::format("{:.2f}", v);
}
std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

// Renders rows (all strings) as an aligned table, CSV or a JSON array of objects.
std::string Render(const std::vector<std::string>& cols, const std::vector<std::vector<std::string>>& rows,
                   const std::vector<bool>& numeric, const std::string& format) {
  std::string out;
  if (format == "csv") {
    for (size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + CsvCell(cols[i]);
    out += '\n';
    for (const auto& r : rows) {
      for (size_t i = 0; i < r.size(); ++i) out += (i ? "," : "") + CsvCell(r[i]);
      out += '\n';
    }
    return out;
  }
  if (format == "json") {
    out += "[";
    for (size_t k = 0; k < rows.size(); ++k) {
      out += k ? ",\n {" : "\n {";
      for (size_t i = 0; i < cols.size(); ++i) {
        out += (i ? ", " : "") + JsonQuote(cols[i]) + ": ";
        const std::string& v = rows[k][i];
        out += numeric[i] ? (v == "NA" ? "null" : v) : JsonQuote(v);
      }
      out += "}";
    }
    out += rows.empty() ? "]\n" : "\n]\n";
    return out;
  }
  std::vector<size_t> w(cols.size());
  for (size_t i = 0; i < cols.size(); ++i) w[i] = cols[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (i) out += "  ";
      out += numeric[i] ? fmt::format("{:>{}}", r[i], w[i]) : fmt::format("{:<{}}", r[i], w[i]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  };
  line(cols);
  for (const auto& r : rows) line(r);
  return out;
}

// Runs --query against the lake and writes its result as CSV to a temporary file, which the
// strict CSV loader then reads like any --input (one code path for both inputs).
Result<std::string> QueryToCsvFile(const Context& ctx, const std::string& query) {
  SL_ASSIGN_OR_RETURN(auto store, ctx.OpenLake(false));
  SL_ASSIGN_OR_RETURN(auto cat, ctx.OpenCatalog(store.get()));
  SL_ASSIGN_OR_RETURN(auto engine, sql::Engine::OpenLake(store.get(), cat.get()));
  auto result = engine->Execute(query);
  if (!result.ok()) return result.status().WithContext("forecast --query");
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/saleslake-forecast-XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0) return Status::FromErrno(errno, "forecast --query: temporary file");
  close(fd);
  SL_RETURN_IF_ERROR(io::WriteLocalFileAtomic(path, sql::FormatCsv(result->result)));
  return path;
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

int RunForecast(const Context& ctx, ForecastArgs a) {
  std::string temp;
  if (!a.query.empty()) {
    if (!a.input.empty()) return Fail("forecast: give --input or --query, not both");
    auto path = QueryToCsvFile(ctx, a.query);
    if (!path.ok()) return Fail(path.status());
    a.input = temp = *path;
  }
  struct Remove {
    const std::string& p;
    ~Remove() {
      if (!p.empty()) unlink(p.c_str());
    }
  } remove_temp{temp};
  if (a.input.empty()) return Fail("forecast: one of --input FILE.csv or --query SQL is required");
  if (a.format != "table" && a.format != "csv" && a.format != "json") {
    return Fail("forecast: --format must be table, csv or json, got '" + a.format + "'");
  }
  forecast::ForecastOptions opt;
  opt.horizon = a.horizon;
  opt.season = a.season;
  auto kind = forecast::ParseModelKind(a.model, &opt.ets_model);
  if (!kind.ok()) return Fail(kind.status());
  opt.model = *kind;
  std::vector<std::string> group_names;
  auto series = LoadCsv(a, &group_names);
  if (!series.ok()) return Fail(series.status());
  const int windows = a.backtest > 0 ? a.backtest : (a.metrics ? 4 : 0);
  std::vector<forecast::SeriesJob> jobs;
  for (const auto& s : *series) jobs.push_back({s.values, {}});
  auto outcomes = forecast::ForecastAll(jobs, opt, windows);

  std::vector<std::string> cols = group_names;
  for (const char* c : {"date", "forecast", "lo80", "hi80", "lo95", "hi95", "model"}) cols.push_back(c);
  std::vector<bool> numeric(cols.size(), false);
  for (size_t i = group_names.size() + 1; i < group_names.size() + 6; ++i) numeric[i] = true;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> mcols = group_names;
  for (const char* c : {"model", "windows", "mae", "rmse", "smape", "mase", "coverage80", "coverage95"}) {
    mcols.push_back(c);
  }
  std::vector<bool> mnum(mcols.size(), true);
  for (size_t i = 0; i <= group_names.size(); ++i) mnum[i] = false;
  std::vector<std::vector<std::string>> mrows;
  int failed = 0;
  for (size_t k = 0; k < outcomes.size(); ++k) {
    const auto& s = (*series)[k];
    const auto& o = outcomes[k];
    std::string label = s.group.empty() ? "the series" : "series [" + fmt::format("{}", fmt::join(s.group, ", ")) + "]";
    if (!o.status.ok()) {
      ++failed;
      std::fprintf(stderr, "saleslake: error: %s: %s\n", label.c_str(), o.status.message().c_str());
      continue;
    }
    if (!o.forecast.note.empty()) {
      Log(LogLevel::kWarn, label + ": " + o.forecast.note);
    }
    const int32_t first = s.start_day + static_cast<int32_t>(s.values.size());
    for (int i = 0; i < opt.horizon; ++i) {
      std::vector<std::string> r = s.group;
      r.push_back(FormatDate(first + i));
      for (double v : {o.forecast.mean[i], o.forecast.lo80[i], o.forecast.hi80[i], o.forecast.lo95[i],
                       o.forecast.hi95[i]}) {
        r.push_back(Fixed(v));
      }
      r.push_back(o.forecast.model);
      rows.push_back(std::move(r));
    }
    if (o.backtest) {
      const auto& m = o.backtest->overall;
      std::vector<std::string> r = s.group;
      r.push_back(o.forecast.model);
      r.push_back(std::to_string(o.backtest->windows.size()));
      for (double v : {m.mae, m.rmse, m.smape, m.mase, m.coverage80, m.coverage95}) r.push_back(Num(v));
      mrows.push_back(std::move(r));
    }
  }
  const std::string fc_text = Render(cols, rows, numeric, a.format);
  if (!a.output.empty()) {
    std::ofstream out(a.output, std::ios::binary | std::ios::trunc);
    out << fc_text;
    out.close();
    if (!out) return Fail(Status::IOError("cannot write " + a.output));
  }
  if (!a.to_table.empty()) {
    Status st = WriteForecastTable(ctx, a.to_table, group_names, *series, outcomes, opt.horizon);
    if (!st.ok()) return Fail(st);
  }
  if (a.metrics) {
    std::fputs(Render(mcols, mrows, mnum, a.format).c_str(), stdout);
  } else if (a.output.empty() && a.to_table.empty()) {
    std::fputs(fc_text.c_str(), stdout);
  }
  if (failed > 0) {
    return Fail(fmt::format("forecast: {} of {} series failed (see above)", failed, outcomes.size()));
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
                  "Rolling-origin windows of --horizon days at the end (default 4 with --metrics)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--model", a->model,
                  "auto|naive|snaive|mean|ets|ets:<ANN|AAdA|MAM...>|theta|croston|sba|tsb|regression");
  cmd->add_option("--format", a->format, "table|csv|json (default table)");
  cmd->add_option("--output", a->output, "Write the forecasts to this file instead of stdout");
  cmd->add_flag("--metrics", a->metrics,
                "Print the backtest metrics table (MAE, RMSE, sMAPE, MASE, coverage) on stdout; "
                "forecasts then go only to --output");
  cmd->add_option("--gaps", a->gaps, "Missing days: zero|interpolate|error (default zero)");
  cmd->add_option("--duplicates", a->duplicates,
                  "Several rows per day: error|sum (default error; sum for raw transactions)");
  cmd->add_option("--exclude", a->exclude, "Skip rows where COL=VALUE (e.g. status=OUT)");
  cmd->add_option("--to-table", a->to_table,
                  "Append the forecasts to this lake table (e.g. forecasts; created on first use, "
                  "Parquet + one catalog commit); stdout then stays empty unless --metrics");
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return RunForecast(ctx, *a); }; });
}

const CommandRegistrar kRegistrar(70, &Register);

}  // namespace
}  // namespace saleslake::cli
