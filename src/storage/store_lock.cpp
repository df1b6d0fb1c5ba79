#include "store_lock.hpp"

#include <cerrno>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "messages/errc.hpp"
#include "store_layout.hpp"

namespace evstore {

namespace {

std::string holder_of(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
    holder.pop_back();
  return holder;
}

} // namespace

caf::expected<store_lock> store_lock::acquire(std::shared_ptr<const store_root> root) {
  const std::string shown = root->display("", lock_file_name);
  // Between our open and our flock, the holder may remove LOCK (it never does, but a person may):
  // then we would hold a lock on a file no one else sees. A few tries settle such a race.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto fd = root->open_file_in(root->fd(), "", lock_file_name, O_RDWR | O_CREAT);
    if (!fd)
      return fd.error();
    if (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      if (err != EWOULDBLOCK)
        return io_error("cannot lock", shown, err);
      return make_error(errc::store_locked,
                        "store " + root->path() + " is locked by process " + holder_of(fd->get())
                          + "; open it read-only or stop that process");
    }
    struct stat sb {};
    if (::fstat(fd->get(), &sb) != 0)
      return io_error("cannot stat", shown, errno);
    store_lock lock{root, std::move(*fd), sb.st_dev, sb.st_ino};
    if (lock.verify())
      continue;
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(lock.fd_.get(), 0) != 0 || ::pwrite(lock.fd_.get(), pid.data(), pid.size(), 0) < 0)
      return io_error("cannot write lock file", shown, errno);
    return lock;
  }
  return make_error(errc::lock_lost, shown + " keeps being replaced; cannot take the lock");
}

caf::error store_lock::verify() const {
  struct stat sb {};
  if (::fstatat(root_->fd(), lock_file_name, &sb, AT_SYMLINK_NOFOLLOW) != 0
      || sb.st_dev != dev_ || sb.st_ino != ino_)
    return make_error(errc::lock_lost,
                      root_->display("", lock_file_name)
                        + " was removed or replaced while this process held it; another process "
                          "may now write the store, so this one refuses to rewrite files: "
                          "stop both and reopen");
  return caf::none;
}

} // namespace evstore
