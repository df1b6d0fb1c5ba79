#pragma once

// One writing process per store, like leveldb's LOCK file: an flock(2) on <root>/LOCK, held for the
// life of the object, with the holder's pid written inside so a refused opener can name it. The
// kernel drops the lock when the process dies, so a crash never leaves a store locked.
//
// An flock belongs to an inode, not to a name: if someone deletes or replaces LOCK while we hold it,
// a second process creates a new LOCK, locks it too, and both write. So the lock remembers the
// inode it locked, and `verify()` (called after acquiring and before every compaction, the one
// operation where two writers lose acknowledged events) checks the name still leads to it.

#include <memory>
#include <string>

#include <sys/types.h>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "store_files.hpp"

namespace evstore {

class store_lock {
public:
  /// Takes the lock or fails with errc::store_locked ("store is locked by process N"). LOCK is
  /// opened without following a symbolic link and must be a regular file.
  static caf::expected<store_lock> acquire(std::shared_ptr<const store_root> root);

  /// errc::lock_lost if <root>/LOCK is no longer the file this lock holds (deleted or replaced).
  caf::error verify() const;

  store_lock(store_lock&& other) noexcept = default;
  store_lock& operator=(store_lock&& other) noexcept = default;
  store_lock(const store_lock&) = delete;
  store_lock& operator=(const store_lock&) = delete;
  ~store_lock() = default; // closing the only descriptor releases the flock

private:
  store_lock(std::shared_ptr<const store_root> root, unique_fd fd, dev_t dev, ino_t ino)
    : root_(std::move(root)), fd_(std::move(fd)), dev_(dev), ino_(ino) {
  }
  std::shared_ptr<const store_root> root_;
  unique_fd fd_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

} // namespace evstore
