// `saleslake forecast`: daily demand forecasts with prediction intervals and backtest metrics.
// Input is a CSV file read by a small strict loader here (RFC-4180 quoting, errors with line
// numbers); --query runs SQL over the lake and feeds its result through the same loader.
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
#include "fmt/format.h"
#include "forecast/forecast.h"
#include "forecast/series.h"
#include "io/object_store.h"
#include "sql/exec/lake_catalog.h"
#include "sql/result_format.h"
#include "sql/sql.h"

namespace saleslake::cli {
namespace {

struct ForecastArgs {
  std::string input, query, date_col, value_col, by, model = "auto", format = "table", output;
  std::string gaps = "zero", duplicates = "error", exclude;
  int horizon = 0, season = 7, backtest = 0;
  bool metrics = false;
};

// Splits one CSV record starting at `pos`; advances `pos` and `line` past it.
Status NextRecord(const std::string& text, size_t* pos, int64_t* line, std::vector<std::string>* out,
                  const std::string& path) {
  out->clear();
  std::string field;
  size_t i = *pos;
  const int64_t start_line = *line;
  bool quoted = false, was_quoted = false;
  while (i <= text.size()) {
    const char c = i < text.size() ? text[i] : '\n';
    if (quoted) {
      if (i == text.size()) {
        return Status::InvalidArgument(fmt::format("{}:{}: unterminated quoted field", path, start_line));
      }
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++*line;
        field += c;
      }
      ++i;
      continue;
    }
    if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
      ++i;
      continue;
    }
    if (c == ',' || c == '\n' || c == '\r') {
      out->push_back(std::move(field));
      field.clear();
      was_quoted = false;
      if (c == ',') {
        ++i;
        continue;
      }
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      ++*line;
      break;
    }
    if (was_quoted) {
      return Status::InvalidArgument(
          fmt::format("{}:{}: unexpected character after a closing quote", path, *line));
    }
    field += c;
    ++i;
  }
  *pos = i;
  return Status::OK();
}

std::optional<int32_t> ParseDay(std::string_view s) {
  if (auto d = ParseIsoDate(s)) return d;
  if (auto ts = ParseIsoTimestamp(s)) {
    int64_t days = *ts / kMicrosPerDay;
    if (*ts < 0 && *ts % kMicrosPerDay != 0) --days;
    return static_cast<int32_t>(days);
  }
  return std::nullopt;
}

Result<std::vector<forecast::DailySeries>> LoadCsv(const ForecastArgs& a,
                                                   std::vector<std::string>* group_names) {
  std::ifstream in(a.input, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + a.input);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  size_t pos = 0;
  int64_t line = 1;
  std::vector<std::string> header, rec;
  SL_RETURN_IF_ERROR(NextRecord(text, &pos, &line, &header, a.input));
  auto find = [&](const std::string& name) -> Result<size_t> {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
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
  forecast::SeriesBuilder builder(so);
  std::vector<std::string> group;
  int64_t rows = 0;
  while (pos < text.size()) {
    const int64_t rec_line = line;
    SL_RETURN_IF_ERROR(NextRecord(text, &pos, &line, &rec, a.input));
    if (rec.size() == 1 && rec[0].empty()) continue;  // blank line
    if (rec.size() != header.size()) {
      return Status::InvalidArgument(fmt::format("{}:{}: {} fields, the header has {}", a.input,
                                                 rec_line, rec.size(), header.size()));
    }
    if (excl_i && rec[*excl_i] == excl_value) continue;
    auto day = ParseDay(rec[date_i]);
    if (!day) {
      return Status::InvalidArgument(fmt::format("{}:{}: column '{}': '{}' is not a date (YYYY-MM-DD)",
                                                 a.input, rec_line, a.date_col, rec[date_i]));
    }
    double v = std::nan("");
    const std::string& vs = rec[value_i];
    if (!vs.empty() && vs != "NA" && vs != "null" && vs != "NULL") {
      char* end = nullptr;
      v = std::strtod(vs.c_str(), &end);
      if (end != vs.c_str() + vs.size() || !std::isfinite(v)) {
        return Status::InvalidArgument(fmt::format("{}:{}: column '{}': '{}' is not a number",
                                                   a.input, rec_line, a.value_col, vs));
      }
    }
    group.clear();
    for (size_t i : by_i) group.push_back(rec[i]);
    SL_RETURN_IF_ERROR(builder.Add(group, *day, v, rec_line));
    ++rows;
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
  SL_ASSIGN_OR_RETURN(auto cat, catalog::Catalog::Open(store.get()));
  SL_ASSIGN_OR_RETURN(auto view, sql::OpenLakeCatalog(store.get(), cat.get()));
  sql::EngineOptions opts;
  opts.catalog = view;
  SL_ASSIGN_OR_RETURN(auto engine, sql::Engine::Open(std::move(opts)));
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
  if (a.metrics) {
    std::fputs(Render(mcols, mrows, mnum, a.format).c_str(), stdout);
  } else if (a.output.empty()) {
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
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return RunForecast(ctx, *a); }; });
}

const CommandRegistrar kRegistrar(70, &Register);

}  // namespace
}  // namespace saleslake::cli
