#pragma once

// Every file of a store is opened here, relative to the root's directory descriptor (SPEC §4: nothing
// outside the root is created, read or removed). The root itself is the path the user named and may be
// a symbolic link; below it, neither a task directory nor a file may be one (O_NOFOLLOW on each of the
// two components), every open is non-blocking so a FIFO or a device never stalls a scheduler thread,
// and whatever is not a regular file (or, for a task, a directory) is refused with
// errc::not_regular_file naming it, as is a file opened for writing that has a second hard link.
// Task ids never contain '/', so a path below the root has at most two components and two
// openat(2) calls resolve it without a kernel path walk we do not control.

#include <memory>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include "messages/errc.hpp"

namespace evstore {

/// Owns one file descriptor; closes it when destroyed. Empty (-1) stands for "no such file".
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {
  }
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {
  }
  unique_fd& operator=(unique_fd&& other) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd();

  int get() const {
    return fd_;
  }
  explicit operator bool() const {
    return fd_ >= 0;
  }
  /// Gives up ownership.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

private:
  int fd_ = -1;
};

/// What the stat of a file just opened says of it.
struct file_facts {
  uint64_t id = 0; // file_io.hpp's file_id_of
  uint64_t size = 0;
};

/// A store root, opened once: one descriptor for the whole store, shared by every writer.
class store_root {
public:
  /// Opens (and with `create`, first creates) the directory `path`.
  static caf::expected<std::shared_ptr<const store_root>> open(const std::string& path,
                                                               bool create);

  int fd() const {
    return fd_.get();
  }
  const std::string& path() const {
    return path_;
  }

  /// The directory holding `task`'s files: the root itself for "" (a fresh descriptor either way).
  /// A missing directory is an empty unique_fd unless `create`, which makes it first and then sets
  /// `*created` (if given).
  caf::expected<unique_fd> open_task_dir(const std::string& task, bool create,
                                         bool* created = nullptr) const;

  /// Opens `name` in `task`'s directory with `flags` (O_RDONLY, O_RDWR, O_CREAT, O_APPEND, O_EXCL,
  /// O_TRUNC...). A missing file or task directory is an empty unique_fd, not an error, unless
  /// `flags` has O_CREAT, in which case the task directory must already exist.
  /// `facts`, if given, receives the opened file's identity and size, from the one stat that
  /// checks it is a regular file (a cold open of a task's file costs no stat of its own).
  caf::expected<unique_fd> open_file(const std::string& task, const std::string& name, int flags,
                                     file_facts* facts = nullptr) const;

  /// Same, in a task directory the caller already holds.
  caf::expected<unique_fd> open_file_in(int dir_fd, const std::string& task,
                                        const std::string& name, int flags,
                                        file_facts* facts = nullptr) const;

  /// "<root>/<task>/<name>" for messages.
  std::string display(const std::string& task, const std::string& name = {}) const;

private:
  store_root(unique_fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {
  }
  /// open_file's fast path (openat2); an empty error sends it to the slow one.
  caf::expected<unique_fd> open_beneath(const std::string& task, const std::string& name,
                                        int flags, file_facts* facts) const;
  unique_fd fd_;
  std::string path_;
};

/// Checks that `fd` (opened as `shown`) is a regular file: errc::not_regular_file otherwise. Fills
/// `facts` if given. `for_writing`: a file with more than one hard link is refused too, since the
/// other name may be outside the root (or in a hard-linked copy of the store), and an append or a
/// truncation would change it there.
caf::error require_regular_file(int fd, const std::string& shown, file_facts* facts = nullptr,
                                bool for_writing = false);

// Calls `on_entry(name, d_type)` for every entry of the directory `dir_fd` but "." and "..".
template <class OnEntry>
caf::error for_each_dir_entry(int dir_fd, const std::string& shown, OnEntry&& on_entry) {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return make_error(errc::io_error, "cannot list " + shown + ": " + std::strerror(errno));
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    int err = errno;
    ::close(fd);
    return make_error(errc::io_error, "cannot list " + shown + ": " + std::strerror(err));
  }
  errno = 0;
  while (auto* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..")
      on_entry(name, entry->d_type);
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  return err == 0 ? caf::error{} : make_error(errc::io_error, "cannot list " + shown + ": " + std::strerror(err));
}

} // namespace evstore
