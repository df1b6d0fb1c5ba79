#include "log_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_io.hpp"

namespace evstore {

caf::expected<log_file> log_file::open(const store_root& root, const std::string& task) {
  auto fd = root.open_file(task, events_file_name, O_RDONLY);
  if (!fd)
    return fd.error();
  return log_file{std::move(*fd), root.display(task, events_file_name)};
}

uint64_t log_file::inode() const {
  return fd_ ? inode_of(fd_.get()) : 0;
}

uint64_t log_file::size() const {
  struct stat sb {};
  return fd_ && ::fstat(fd_.get(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
}

bool log_file::line_starts_at(uint64_t offset) const {
  if (offset == 0)
    return true;
  char c = 0;
  return fd_ && ::pread(fd_.get(), &c, 1, static_cast<off_t>(offset - 1)) == 1 && c == '\n';
}

} // namespace evstore
