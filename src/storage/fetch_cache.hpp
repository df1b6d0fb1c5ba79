#pragma once

// Decoded events of the lines a writer read for recent fetches, by byte offset: an orchestrator that
// asks the same question every few hundred milliseconds then costs the writer no pread and no parse
// (README, "Fetch cache"). Like leveldb's block cache it holds what the file holds, so its owner
// empties it whenever the file may have changed.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "messages/event.hpp"

namespace evstore {

class fetch_cache {
public:
  /// Keeps at most `capacity` lines; 0 keeps none.
  explicit fetch_cache(size_t capacity) : capacity_(capacity) {
  }

  /// The event decoded from the line at `offset`, or null. Valid until the next put() or clear().
  const event* find(uint64_t offset) const;

  /// Keeps `ev` as the line at `offset`: over what was kept for that offset, else in a free slot,
  /// else over the slots in turn, the first filled first. It holds a handful of lines (16 by
  /// default): a linear search, and no bookkeeping of which were used.
  void put(uint64_t offset, const event& ev);

  /// Forgets every line.
  void clear();

  /// Lines kept.
  size_t size() const {
    return lines_.size();
  }

private:
  struct cached_line {
    uint64_t offset;
    event ev;
  };

  size_t capacity_;
  std::vector<cached_line> lines_;
  size_t next_victim_ = 0; // counts replacements; the slot replaced is this modulo the size
};

} // namespace evstore
