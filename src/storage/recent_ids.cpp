#include "recent_ids.hpp"

namespace evstore {

void recent_ids::remember(std::string_view id, uint64_t position, uint64_t offset) {
  auto bits = parse_uuid(id);
  if (!bits || window_ == 0)
    return;
  by_id_[*bits] = stored_at{position, offset};
  order_.push_back(*bits);
  while (order_.size() > window_) {
    // A file may hold an id twice (written by another tool): the map keeps its latest place, which
    // the older entry leaving the window must not take with it.
    auto it = by_id_.find(order_.front());
    if (it != by_id_.end() && it->second.position < position + 1 - window_)
      by_id_.erase(it);
    order_.pop_front();
  }
}

std::optional<recent_ids::stored_at> recent_ids::find(std::string_view id) const {
  auto bits = parse_uuid(id);
  if (!bits)
    return std::nullopt;
  auto it = by_id_.find(*bits);
  if (it == by_id_.end())
    return std::nullopt;
  return it->second;
}

void recent_ids::clear() {
  order_.clear();
  by_id_.clear();
}

} // namespace evstore
