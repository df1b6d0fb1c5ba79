#include "log_file.hpp"

#include <fcntl.h>

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

} // namespace evstore
