#include "cli/forecast_plot.h"

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/shared_library.h"
#include "common/types.h"

namespace saleslake::cli {
namespace {

// cairo, loaded on first use (common/shared_library.h): a process that does not plot maps none of
// cairo's ~25 libraries (pixman, fontconfig, freetype, png, xcb, X11...).
#define SL_CAIRO_FUNCTIONS(X) \
  X(close_path) \
  X(create) \
  X(destroy) \
  X(fill) \
  X(image_surface_create) \
  X(line_to) \
  X(move_to) \
  X(paint) \
  X(rectangle) \
  X(select_font_face) \
  X(set_font_size) \
  X(set_line_width) \
  X(set_source_rgb) \
  X(show_text) \
  X(status_to_string) \
  X(stroke) \
  X(surface_destroy) \
  X(surface_finish) \
  X(surface_status) \
  X(surface_write_to_png) \
  X(svg_surface_create) \
  X(text_extents)

struct CairoLibrary {
#define SL_CAIRO_MEMBER(name) decltype(&::cairo_##name) name = nullptr;
  SL_CAIRO_FUNCTIONS(SL_CAIRO_MEMBER)
#undef SL_CAIRO_MEMBER
};

Result<CairoLibrary> LoadCairo() {
  SL_ASSIGN_OR_RETURN(SharedLibrary lib, SharedLibrary::Open("libcairo.so.2", "forecast --plot", "libcairo2"));
  CairoLibrary cairo;
#define SL_CAIRO_BIND(name) SL_RETURN_IF_ERROR(lib.Bind("cairo_" #name, cairo.name));
  SL_CAIRO_FUNCTIONS(SL_CAIRO_BIND)
#undef SL_CAIRO_BIND
  return cairo;
}

Result<const CairoLibrary*> Cairo() {
  static const Result<CairoLibrary>* const loaded = new Result<CairoLibrary>(LoadCairo());
  if (!loaded->ok()) return loaded->status();
  return &loaded->value();
}

constexpr double kWidth = 960, kPanelHeight = 300;
constexpr double kLeft = 80, kRight = 24, kTop = 40, kBottom = 44;

struct Rgb {
  double r, g, b;
};
constexpr Rgb kHistory = {0.25, 0.25, 0.25};
constexpr Rgb kForecast = {0.10, 0.35, 0.75};
constexpr Rgb kBand80 = {0.55, 0.70, 0.92};
constexpr Rgb kBand95 = {0.82, 0.88, 0.97};

void SetColor(const CairoLibrary& cairo, cairo_t* cr, Rgb c) { cairo.set_source_rgb(cr, c.r, c.g, c.b); }

// A round step for about `n` ticks over `span`: 1, 2 or 5 times a power of ten.
double TickStep(double span, int n) {
  const double raw = span / n;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= raw) return m * p;
  }
  return 10 * p;
}

std::string TickLabel(double v, double step) {
  if (step >= 1) return fmt::format("{:.0f}", v);
  return fmt::format("{:.{}f}", v, static_cast<int>(std::ceil(-std::log10(step))));
}

void DrawPanel(const CairoLibrary& cairo, cairo_t* cr, const PlotSeries& s, double top, const std::string& value_name) {
  const size_t n_hist = s.history.size(), n_fc = s.mean.size(), n = n_hist + n_fc;
  double lo = INFINITY, hi = -INFINITY;
  for (double v : s.history) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  for (size_t i = 0; i < n_fc; ++i) {
    lo = std::min(lo, s.lo95[i]);
    hi = std::max(hi, s.hi95[i]);
  }
  if (!(hi > lo)) hi = lo + 1;
  const double pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const double x0 = kLeft, x1 = kWidth - kRight, y0 = top + kTop, y1 = top + kPanelHeight - kBottom;
  auto X = [&](double i) { return x0 + (x1 - x0) * (n > 1 ? i / static_cast<double>(n - 1) : 0.5); };
  auto Y = [&](double v) { return y1 - (y1 - y0) * (v - lo) / (hi - lo); };

  // Grid and y labels.
  cairo.set_font_size(cr, 11);
  const double step = TickStep(hi - lo, 5);
  cairo.set_line_width(cr, 1);
  for (double v = std::ceil(lo / step) * step; v <= hi; v += step) {
    cairo.set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo.move_to(cr, x0, Y(v));
    cairo.line_to(cr, x1, Y(v));
    cairo.stroke(cr);
    cairo.set_source_rgb(cr, 0.3, 0.3, 0.3);
    const std::string label = TickLabel(v, step);
    cairo_text_extents_t ext;
    cairo.text_extents(cr, label.c_str(), &ext);
    cairo.move_to(cr, x0 - 8 - ext.width, Y(v) + ext.height / 2);
    cairo.show_text(cr, label.c_str());
  }
  // Bands: 95% under 80%.
  auto band = [&](const std::vector<double>& low, const std::vector<double>& high, Rgb c) {
    if (n_fc == 0) return;
    SetColor(cairo, cr, c);
    cairo.move_to(cr, X(static_cast<double>(n_hist)), Y(high[0]));
    for (size_t i = 0; i < n_fc; ++i) cairo.line_to(cr, X(static_cast<double>(n_hist + i)), Y(high[i]));
    for (size_t i = n_fc; i-- > 0;) cairo.line_to(cr, X(static_cast<double>(n_hist + i)), Y(low[i]));
    cairo.close_path(cr);
    cairo.fill(cr);
  };
  band(s.lo95, s.hi95, kBand95);
  band(s.lo80, s.hi80, kBand80);
  // History (gaps break the line), then the forecast joined to the last known day.
  SetColor(cairo, cr, kHistory);
  cairo.set_line_width(cr, 1.5);
  bool pen = false;
  for (size_t i = 0; i < n_hist; ++i) {
    if (!std::isfinite(s.history[i])) {
      pen = false;
      continue;
    }
    if (pen) cairo.line_to(cr, X(static_cast<double>(i)), Y(s.history[i]));
    else cairo.move_to(cr, X(static_cast<double>(i)), Y(s.history[i]));
    pen = true;
  }
  cairo.stroke(cr);
  if (n_fc > 0) {
    SetColor(cairo, cr, kForecast);
    cairo.set_line_width(cr, 2);
    if (n_hist > 0 && std::isfinite(s.history.back())) cairo.move_to(cr, X(static_cast<double>(n_hist - 1)), Y(s.history.back()));
    else cairo.move_to(cr, X(static_cast<double>(n_hist)), Y(s.mean[0]));
    for (size_t i = 0; i < n_fc; ++i) cairo.line_to(cr, X(static_cast<double>(n_hist + i)), Y(s.mean[i]));
    cairo.stroke(cr);
  }
  // Frame, dates, title.
  cairo.set_source_rgb(cr, 0.3, 0.3, 0.3);
  cairo.set_line_width(cr, 1);
  cairo.rectangle(cr, x0, y0, x1 - x0, y1 - y0);
  cairo.stroke(cr);
  auto date_label = [&](size_t i, double align) {
    const std::string d = FormatDate(s.history_start + static_cast<int32_t>(i));
    cairo_text_extents_t ext;
    cairo.text_extents(cr, d.c_str(), &ext);
    cairo.move_to(cr, X(static_cast<double>(i)) - ext.width * align, y1 + 16);
    cairo.show_text(cr, d.c_str());
  };
  if (n > 0) {
    date_label(0, 0);
    if (n_fc > 0 && n_hist > 0) date_label(n_hist, 0.5);
    date_label(n - 1, 1);
  }
  cairo.set_font_size(cr, 13);
  cairo.move_to(cr, x0, top + 24);
  cairo.show_text(cr, fmt::format("{}: {} per day", s.label, value_name).c_str());
  // Legend at the top right.
  cairo.set_font_size(cr, 11);
  double lx = x1 - 352;
  const std::pair<Rgb, const char*> items[] = {
      {kHistory, "history"}, {kForecast, "forecast"}, {kBand80, "80% interval"}, {kBand95, "95% interval"}};
  for (const auto& [c, text] : items) {
    SetColor(cairo, cr, c);
    cairo.rectangle(cr, lx, top + 15, 12, 10);
    cairo.fill(cr);
    cairo.set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo.move_to(cr, lx + 16, top + 24);
    cairo.show_text(cr, text);
    lx += 88;
  }
}

}  // namespace

Status PlotForecasts(const std::string& path, const std::vector<PlotSeries>& series,
                     const std::string& value_name) {
  const size_t dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext != "png" && ext != "svg") {
    return Status::InvalidArgument("--plot " + path + ": the file must end in .png or .svg");
  }
  if (series.empty()) return Status::InvalidArgument("--plot " + path + ": no series to draw");
  SL_ASSIGN_OR_RETURN(const CairoLibrary* loaded, Cairo());
  const CairoLibrary& cairo = *loaded;
  const size_t panels = std::min(series.size(), kMaxPlotPanels);
  const double height = kPanelHeight * static_cast<double>(panels);
  cairo_surface_t* surface = ext == "svg" ? cairo.svg_surface_create(path.c_str(), kWidth, height)
                                          : cairo.image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(kWidth),
                                                                       static_cast<int>(height));
  cairo_t* cr = cairo.create(surface);
  cairo.set_source_rgb(cr, 1, 1, 1);
  cairo.paint(cr);
  cairo.select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  for (size_t p = 0; p < panels; ++p) DrawPanel(cairo, cr, series[p], kPanelHeight * static_cast<double>(p), value_name);
  cairo.destroy(cr);
  cairo_status_t st = CAIRO_STATUS_SUCCESS;
  if (ext == "png") {
    st = cairo.surface_write_to_png(surface, path.c_str());
  } else {
    cairo.surface_finish(surface);
    st = cairo.surface_status(surface);
  }
  cairo.surface_destroy(surface);
  if (st != CAIRO_STATUS_SUCCESS) {
    return Status::IOError("--plot " + path + ": " + cairo.status_to_string(st));
  }
  return Status::OK();
}

}  // namespace saleslake::cli
