#pragma once

// One writing process per store, like leveldb's LOCK file: an flock(2) on <root>/LOCK, held for the
// life of the object, with the holder's pid written inside so a refused opener can name it. The
// kernel drops the lock when the process dies, so a crash never leaves a store locked.

#include <string>

#include <caf/expected.hpp>

namespace evstore {

class store_lock {
public:
  /// Takes the lock or fails with errc::store_locked ("store is locked by process N").
  static caf::expected<store_lock> acquire(const std::string& root);

  store_lock(store_lock&& other) noexcept;
  store_lock& operator=(store_lock&& other) noexcept;
  store_lock(const store_lock&) = delete;
  store_lock& operator=(const store_lock&) = delete;
  ~store_lock();

private:
  explicit store_lock(int fd) : fd_(fd) {
  }
  int fd_ = -1;
};

} // namespace evstore
