#include "output.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include <boost/json/serialize.hpp>
#include <unistd.h>

#include "messages/timestamp.hpp"
#include "src/facade/log_inspection.hpp"

namespace evstore::cli {

printer::printer(format fmt, std::vector<std::string> columns)
  : fmt_(fmt), columns_(std::move(columns)) {
}

void printer::row(std::vector<std::string> cells, boost::json::object as_json) {
  if (fmt_ == format::jsonl) {
    std::cout << boost::json::serialize(as_json) << '\n';
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
  if (fmt_ == format::jsonl) {
    std::cout.flush();
    return;
  }
  std::vector<size_t> width(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    width[c] = columns_[c].size();
    for (const auto& r : rows_)
      width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      std::cout << cells[c];
      if (c + 1 < cells.size())
        std::cout << std::string(width[c] - cells[c].size() + 2, ' ');
    }
    std::cout << '\n';
  };
  line(columns_);
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
  auto data = ev.data.text();
  if (data.size() > 60)
    data = data.substr(0, 57) + "...";
  table_.row({ev.ts ? to_rfc3339(*ev.ts) : std::string{"-"}, ev.task.empty() ? "(system)" : ev.task, ev.type,
              to_string(ev.actor), data},
             {});
}

void event_printer::flush() {
  if (fmt_ == format::table)
    table_.flush();
  else
    std::cout.flush();
}

progress::progress(std::string label, uint64_t total)
  : label_(std::move(label)), total_(total), enabled_(::isatty(STDERR_FILENO) != 0) {
}

progress::~progress() {
  if (enabled_ && last_draw_ms_ != 0)
    std::fprintf(stderr, "\r%*s\r", 60, "");
}

void progress::advance(uint64_t n) {
  done_ += n;
  if (!enabled_)
    return;
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now().time_since_epoch())
                  .count();
  if (now_ms - last_draw_ms_ < 100 && done_ < total_)
    return;
  last_draw_ms_ = now_ms;
  constexpr int bar = 30;
  int filled = total_ ? static_cast<int>(bar * done_ / total_) : bar;
  std::fprintf(stderr, "\r%s [%s%s] %llu/%llu", label_.c_str(), std::string(filled, '#').c_str(),
               std::string(bar - filled, '.').c_str(), static_cast<unsigned long long>(done_),
               static_cast<unsigned long long>(total_));
}

} // namespace evstore::cli
