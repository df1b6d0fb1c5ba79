#pragma once

// The ids of a task's last events, each with where its line is, so that a retried append (the same
// client-chosen id) is answered with the stored event instead of being written twice (README, "Safe
// retries"). Ids are kept as their 128 bits, not as text: 10,000 per task add up across tasks.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "src/format/uuid.hpp"

namespace evstore {

class recent_ids {
public:
  /// Where an event's line is: its position among the task's valid events, and its byte offset.
  struct stored_at {
    uint64_t position;
    uint64_t offset;
  };

  /// Remembers the ids stored at the last `window` positions; a window of 0 remembers none.
  explicit recent_ids(size_t window) : window_(window) {
  }

  /// Remembers that `id` is stored at `position` and `offset`; positions come in increasing order.
  /// Forgets the ids whose position falls out of the window. An id that is not a uuid is not
  /// remembered: appends refuse such ids, so no retry can carry one.
  void remember(std::string_view id, uint64_t position, uint64_t offset);

  /// Where `id` is stored, if it is remembered.
  std::optional<stored_at> find(std::string_view id) const;

  /// Forgets every id: once the file changed, positions and offsets are no longer the ones kept.
  void clear();

  /// Ids remembered.
  size_t size() const {
    return by_id_.size();
  }

private:
  size_t window_;
  /// Ids in the order remembered, oldest first: the order they fall out of the window.
  std::deque<uuid_bits> order_;
  std::unordered_map<uuid_bits, stored_at, uuid_bits_hash> by_id_;
};

} // namespace evstore
