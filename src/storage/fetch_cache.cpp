#include "fetch_cache.hpp"

#include <algorithm>

namespace evstore {

const event* fetch_cache::find(uint64_t offset) const {
  auto hit = std::find_if(lines_.begin(), lines_.end(),
                          [&](const cached_line& line) { return line.offset == offset; });
  return hit == lines_.end() ? nullptr : &hit->ev;
}

void fetch_cache::put(uint64_t offset, const event& ev) {
  if (capacity_ == 0)
    return;
  auto hit = std::find_if(lines_.begin(), lines_.end(),
                          [&](const cached_line& line) { return line.offset == offset; });
  if (hit != lines_.end())
    hit->ev = ev;
  else if (lines_.size() < capacity_)
    lines_.push_back(cached_line{offset, ev});
  else
    lines_[next_victim_++ % lines_.size()] = cached_line{offset, ev};
}

void fetch_cache::clear() {
  lines_.clear();
  next_victim_ = 0;
}

} // namespace evstore
