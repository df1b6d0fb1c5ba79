#include "log_file.hpp"

#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include "file_io.hpp"

namespace evstore {

caf::expected<log_file> log_file::open(const store_root& root, const std::string& task) {
  auto fd = root.open_file(task, events_file_name, O_RDONLY);
  if (!fd)
    return fd.error();
  return log_file{std::move(*fd), root.display(task, events_file_name)};
}

uint64_t log_file::file_id() const {
  return fd_ ? file_id_of(fd_.get()) : 0;
}

bool log_file::ends_line_at(uint64_t offset) const {
  if (offset == 0)
    return true;
  if (!fd_)
    return false;
  char last = 0;
  ssize_t n;
  do
    n = ::pread(fd_.get(), &last, 1, static_cast<off_t>(offset - 1));
  while (n < 0 && errno == EINTR);
  return n == 1 && last == '\n';
}

} // namespace evstore
