#include "store_lock.hpp"

#include <cerrno>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "evstore/messages/errc.hpp"
#include "store_layout.hpp"

namespace evstore {

caf::expected<store_lock> store_lock::acquire(const std::string& root) {
  const std::string path = root + "/" + lock_file_name;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return io_error("cannot open lock file", path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK)
      return io_error("cannot lock", path, err);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
      holder.pop_back();
    return make_error(errc::store_locked,
                      "store " + root + " is locked by process " + holder
                        + "; open it read-only or stop that process");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    int err = errno;
    ::close(fd);
    return io_error("cannot write lock file", path, err);
  }
  return store_lock{fd};
}

store_lock::store_lock(store_lock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

store_lock& store_lock::operator=(store_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

store_lock::~store_lock() {
  if (fd_ >= 0)
    ::close(fd_); // closing the only descriptor releases the flock
}

} // namespace evstore
