#include "cli/render.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "common/json.h"
#include "formats/csv/csv_writer.h"

namespace saleslake::cli {
namespace {

constexpr std::string_view kEllipsis = "…";
constexpr size_t kMinColumnWidth = 4;  // a cut column still shows 3 characters and "…"

// Table and line cells stay on one line: control characters are shown escaped.
std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// The first `width` characters of `s` (whole code points).
std::string_view Prefix(std::string_view s, size_t width) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == width) return s.substr(0, i);
      ++seen;
    }
  }
  return s;
}

std::string Pad(std::string_view s, size_t width, bool right) {
  const size_t w = DisplayWidth(s);
  std::string fill(w < width ? width - w : 0, ' ');
  return right ? fill + std::string(s) : std::string(s) + fill;
}

bool IsJsonNumber(std::string_view s) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  return i < s.size() && s[i] >= '0' && s[i] <= '9' && s.find_first_of("nN") == std::string_view::npos;
}

}  // namespace

std::optional<OutputMode> ParseOutputMode(std::string_view name) {
  if (name == "table") return OutputMode::kTable;
  if (name == "csv") return OutputMode::kCsv;
  if (name == "json") return OutputMode::kJson;
  if (name == "line") return OutputMode::kLine;
  return std::nullopt;
}

std::string_view OutputModeName(OutputMode mode) {
  switch (mode) {
    case OutputMode::kTable: return "table";
    case OutputMode::kCsv: return "csv";
    case OutputMode::kJson: return "json";
    case OutputMode::kLine: return "line";
  }
  return "table";
}

std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

size_t TerminalWidth() {
  if (!isatty(STDOUT_FILENO)) return 0;
  if (const char* env = std::getenv("COLUMNS"); env != nullptr && *env != '\0') {
    const long v = std::strtol(env, nullptr, 10);
    if (v > 0) return static_cast<size_t>(v);
  }
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

std::string DisplayDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  size_t digits = 0;
  for (char c : s.substr(0, s.find_first_of("eE"))) digits += c >= '0' && c <= '9';
  if (digits > 15) {
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 15);
    s.assign(buf, r.ptr);
  }
  // Trino prints doubles with a fraction: 2.0, not 2.
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

Renderer::Renderer(std::vector<Column> columns, RenderOptions options)
    : columns_(std::move(columns)), options_(options) {
  if (options_.mode == OutputMode::kCsv) {
    std::vector<std::string> names;
    for (const Column& c : columns_) names.push_back(c.name);
    csv_ = std::make_unique<csv::CsvWriter>(&text_, names);
  } else if (options_.mode == OutputMode::kJson) {
    text_ = "[";
  }
}

Renderer::~Renderer() = default;

void Renderer::AddCell(std::string_view text) {
  if (csv_) csv_->AddField(text);
  else row_.emplace_back(std::string(text));
}

void Renderer::AddNull() {
  if (csv_) csv_->AddNull();
  else row_.emplace_back(std::nullopt);
}

void Renderer::EndRow() {
  ++rows_;
  switch (options_.mode) {
    case OutputMode::kCsv: (void)csv_->EndRow(); break;  // a string sink cannot fail
    case OutputMode::kJson: EndJsonRow(); break;
    case OutputMode::kLine: EndLineRow(); break;
    case OutputMode::kTable: EndTableRow(); break;
  }
  row_.clear();
}

void Renderer::EndTableRow() {
  const size_t limit = options_.max_rows;
  if (limit == 0 || head_.size() < (limit + 1) / 2) {
    head_.push_back(std::move(row_));
    return;
  }
  tail_.push_back(std::move(row_));
  if (tail_.size() > limit / 2) tail_.pop_front();
}

void Renderer::EndJsonRow() {
  text_ += rows_ == 1 ? "\n  {" : ",\n  {";
  for (size_t c = 0; c < columns_.size() && c < row_.size(); ++c) {
    if (c) text_ += ", ";
    AppendJsonString(text_, columns_[c].name);
    text_ += ": ";
    const auto& v = row_[c];
    if (!v) {
      text_ += "null";
    } else if ((columns_[c].kind == CellKind::kNumber && IsJsonNumber(*v)) ||
               (columns_[c].kind == CellKind::kBoolean && (*v == "true" || *v == "false"))) {
      text_ += *v;
    } else {
      AppendJsonString(text_, *v);
    }
  }
  text_ += "}";
}

void Renderer::EndLineRow() {
  size_t w = 0;
  for (const Column& c : columns_) w = std::max(w, DisplayWidth(c.name));
  if (rows_ > 1) text_ += "\n";
  for (size_t c = 0; c < columns_.size() && c < row_.size(); ++c) {
    text_ += Pad(columns_[c].name, w, /*right=*/true) + " = " + (row_[c] ? Escape(*row_[c]) : "NULL") + "\n";
  }
}

std::string Renderer::TakeText() {
  std::string out;
  out.swap(text_);
  return out;
}

std::string Renderer::Finish(std::string_view footer_extra) {
  switch (options_.mode) {
    case OutputMode::kCsv:
    case OutputMode::kLine: return TakeText();
    case OutputMode::kJson: text_ += rows_ == 0 ? "]\n" : "\n]\n"; return TakeText();
    case OutputMode::kTable: return RenderTable(footer_extra);
  }
  return "";
}

std::string Renderer::RenderTable(std::string_view footer_extra) const {
  const size_t cols = columns_.size();
  auto text = [](const std::optional<std::string>& v) { return v ? Escape(*v) : std::string("NULL"); };
  std::vector<size_t> width(cols);
  for (size_t c = 0; c < cols; ++c) width[c] = DisplayWidth(columns_[c].name);
  auto measure = [&](const Row& r) {
    for (size_t c = 0; c < cols && c < r.size(); ++c) width[c] = std::max(width[c], DisplayWidth(text(r[c])));
  };
  for (const Row& r : head_) measure(r);
  for (const Row& r : tail_) measure(r);
  if (options_.max_width > 0 && cols > 0) {
    // Narrow the widest column one character at a time until the line fits (or nothing can give).
    size_t total = 3 * (cols - 1);
    for (size_t w : width) total += w;
    while (total > options_.max_width) {
      size_t widest = 0;
      for (size_t c = 1; c < cols; ++c) {
        if (width[c] > width[widest]) widest = c;
      }
      if (width[widest] <= kMinColumnWidth) break;
      --width[widest];
      --total;
    }
  }
  auto cell = [&](std::string s, size_t c) {
    if (DisplayWidth(s) > width[c]) s = std::string(Prefix(s, width[c] - 1)) + std::string(kEllipsis);
    return Pad(s, width[c], columns_[c].kind == CellKind::kNumber);
  };
  std::string out;
  auto line = [&](const Row& r) {
    std::string l;
    for (size_t c = 0; c < cols; ++c) {
      if (c) l += " | ";
      l += cell(c < r.size() ? text(r[c]) : "", c);
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  std::string header;
  for (size_t c = 0; c < cols; ++c) {
    if (c) header += " | ";
    std::string name = Escape(columns_[c].name);
    if (DisplayWidth(name) > width[c]) name = std::string(Prefix(name, width[c] - 1)) + std::string(kEllipsis);
    header += Pad(name, width[c], false);
  }
  while (!header.empty() && header.back() == ' ') header.pop_back();
  out += header + "\n";
  for (size_t c = 0; c < cols; ++c) out += (c ? "-+-" : "") + std::string(width[c], '-');
  out += "\n";
  for (const Row& r : head_) line(r);
  const uint64_t shown = head_.size() + tail_.size();
  if (rows_ > shown) out += fmt::format("… {} more rows …\n", Thousands(rows_ - shown));
  for (const Row& r : tail_) line(r);
  if (options_.footer) {
    std::string foot = fmt::format("({} row{}", Thousands(rows_), rows_ == 1 ? "" : "s");
    if (rows_ > shown) foot += fmt::format(", {} shown", Thousands(shown));
    if (!footer_extra.empty()) foot += fmt::format(", {}", footer_extra);
    out += foot + ")\n";
  }
  return out;
}

}  // namespace saleslake::cli
