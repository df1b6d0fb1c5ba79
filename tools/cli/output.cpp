#include "output.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include <wchar.h>
#include <iostream>
#include <iterator>

#include <boost/json/serialize.hpp>
#include <unistd.h>

#include "messages/timestamp.hpp"
#include "src/facade/log_inspection.hpp"

namespace evstore::cli {

namespace {

/// The code point at `text[at]` and its length in bytes; 0 bytes if it is not valid UTF-8 there.
std::pair<char32_t, size_t> decode_utf8(std::string_view text, size_t at) {
  const auto b = static_cast<unsigned char>(text[at]);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || at + len > text.size())
    return {0, 0};
  char32_t cp = len == 1 ? b : b & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    const auto c = static_cast<unsigned char>(text[at + i]);
    if ((c >> 6) != 0x2)
      return {0, 0};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {cp, len};
}

/// One character's columns, and how it is shown: itself, or '?' for what a terminal would act on.
std::pair<size_t, bool> char_columns(char32_t cp) {
  const int w = ::wcwidth(static_cast<wchar_t>(cp));
  if (w < 0)
    return {1, false};
  return {static_cast<size_t>(w), true};
}

bool colour_wanted() {
  const char* no_color = std::getenv("NO_COLOR");
  return ::isatty(STDOUT_FILENO) != 0 && !(no_color && *no_color);
}

} // namespace

size_t display_width(std::string_view text) {
  size_t columns = 0;
  for (size_t at = 0; at < text.size();) {
    auto [cp, len] = decode_utf8(text, at);
    if (len == 0) {
      ++columns;
      ++at;
      continue;
    }
    columns += char_columns(cp).first;
    at += len;
  }
  return columns;
}

std::string fit_to_width(std::string_view text, size_t columns) {
  const bool cut = display_width(text) > columns;
  const size_t room = cut ? (columns > 0 ? columns - 1 : 0) : columns; // the ellipsis takes one
  std::string out;
  size_t used = 0;
  for (size_t at = 0; at < text.size();) {
    auto [cp, len] = decode_utf8(text, at);
    auto [w, printable] = len ? char_columns(cp) : std::pair<size_t, bool>{1, false};
    if (used + w > room)
      break;
    if (printable && len)
      out.append(text.substr(at, len));
    else
      out += '?';
    used += w;
    at += len ? len : 1;
  }
  if (cut && columns > 0)
    out += "\u2026";
  return out;
}

std::string human_bytes(uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  // 1023.95 KiB prints as "1024.0 KiB": move up a unit whenever the rounded figure would.
  while (value >= 1023.95 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  return text;
}

std::string human_count(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

printer::printer(format fmt, std::vector<std::string> columns)
  : fmt_(fmt), columns_(std::move(columns)) {
}

printer::~printer() {
  if (fmt_ == format::json)
    std::cout << (json_rows_ == 0 ? "[]\n" : "\n]\n");
  else if (fmt_ == format::table && !header_printed_)
    flush_table(true); // a table with no rows still names its columns
}

void printer::json_row(const std::string& serialized) {
  std::cout << (json_rows_++ == 0 ? "[\n  " : ",\n  ") << serialized;
}

void printer::row(std::vector<std::string> cells, boost::json::object as_json) {
  if (fmt_ == format::jsonl) {
    std::cout << boost::json::serialize(as_json) << '\n';
    return;
  }
  if (fmt_ == format::json) {
    json_row(boost::json::serialize(as_json));
    return;
  }
  rows_.push_back(std::move(cells));
}

void printer::counts(const std::vector<uint64_t>& values) {
  std::vector<std::string> cells;
  boost::json::object as_json;
  for (size_t i = 0; i < values.size() && i < columns_.size(); ++i) {
    cells.push_back(std::to_string(values[i]));
    as_json[columns_[i]] = values[i];
  }
  row(std::move(cells), std::move(as_json));
}

void printer::flush() {
  if (fmt_ != format::table) {
    std::cout.flush();
    return;
  }
  flush_table(false);
}

void printer::flush_table(bool header_alone) {
  // A stream (tail, read -f) flushes while idle: the header waits for the first rows, so its
  // widths are theirs.
  if (rows_.empty() && !header_alone) {
    std::cout.flush();
    return;
  }
  // A cell is shown as fit_to_width would show it whole: control characters as '?'.
  auto shown = [](const std::string& cell) { return fit_to_width(cell, display_width(cell)); };
  widths_.resize(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    widths_[c] = std::max(widths_[c], display_width(columns_[c]));
    for (auto& r : rows_) {
      r[c] = shown(r[c]);
      widths_[c] = std::max(widths_[c], display_width(r[c]));
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      std::cout << cells[c];
      if (c + 1 < cells.size())
        std::cout << std::string(widths_[c] - display_width(cells[c]) + 2, ' ');
    }
    std::cout << '\n';
  };
  if (!header_printed_) {
    header_printed_ = true;
    const bool bold = colour_wanted();
    if (bold)
      std::cout << "\x1b[1m";
    line(columns_);
    if (bold)
      std::cout << "\x1b[0m";
  }
  for (const auto& r : rows_)
    line(r);
  rows_.clear();
  std::cout.flush();
}

event_printer::event_printer(format fmt)
  : fmt_(fmt), table_(fmt, {"ts", "task", "type", "actor", "data"}) {
}

void event_printer::print(const event& ev) {
  if (fmt_ == format::jsonl) {
    std::cout << to_log_line(ev);
    return;
  }
  if (fmt_ == format::json) {
    auto line = to_log_line(ev); // one JSON object and its newline
    line.pop_back();
    table_.json_row(line);
    return;
  }
  table_.row({ev.ts ? to_rfc3339(*ev.ts) : std::string{"-"}, ev.task.empty() ? "(system)" : ev.task,
              ev.type, to_string(ev.actor), fit_to_width(ev.data.text(), 60)},
             {});
}

void event_printer::flush() {
  table_.flush();
}

progress::progress(std::string label, uint64_t total)
  : label_(std::move(label)),
    total_(total),
    enabled_(::isatty(STDERR_FILENO) != 0),
    start_ms_(now_ms()) {
}

progress::~progress() {
  if (enabled_ && last_draw_ms_ != 0)
    std::fprintf(stderr, "\r%*s\r", static_cast<int>(drawn_), "");
}

int64_t progress::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

void progress::update(uint64_t done, uint64_t total) {
  total_ = total;
  advance(done - std::min(done, done_));
}

void progress::advance(uint64_t n) {
  done_ += n;
  if (!enabled_)
    return;
  const int64_t now = now_ms();
  if (now - last_draw_ms_ < 100 && done_ < total_)
    return;
  last_draw_ms_ = now;
  constexpr int bar = 30;
  const int filled = total_ ? static_cast<int>(bar * std::min(done_, total_) / total_) : bar;
  // The rate so far, and the time left at that rate (once there is a rate to speak of).
  // At least a millisecond: work done within the first one is counted as done in it.
  const double seconds = std::max(static_cast<double>(now - start_ms_), 1.0) / 1000;
  const double rate = static_cast<double>(done_) / seconds;
  std::string left = "--:--";
  if (rate > 0 && done_ <= total_) {
    const auto s = static_cast<uint64_t>(static_cast<double>(total_ - done_) / rate + 0.5);
    char text[32];
    std::snprintf(text, sizeof text, "%llu:%02llu", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
    left = text;
  }
  char line[256];
  int len = std::snprintf(line, sizeof line, "\r%s [%s%s] %s/%s  %s/s  %s left", label_.c_str(),
                          std::string(filled, '#').c_str(), std::string(bar - filled, '.').c_str(),
                          human_count(done_).c_str(), human_count(total_).c_str(),
                          human_count(static_cast<uint64_t>(rate)).c_str(), left.c_str());
  if (len > 0) {
    // Blank what a longer line drawn before left behind.
    const size_t width = std::min(static_cast<size_t>(len), sizeof line - 1) - 1;
    std::fprintf(stderr, "%s%*s", line, static_cast<int>(drawn_ > width ? drawn_ - width : 0), "");
    drawn_ = std::max(drawn_, width);
  }
}

} // namespace evstore::cli
