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

bool log_file::holds_line_at(uint64_t offset, std::string_view text) const {
  if (!fd_)
    return false;
  std::string got(text.size() + 1, '\0');
  size_t done = 0;
  while (done < got.size()) {
    ssize_t n = ::pread(fd_.get(), got.data() + done, got.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return got.back() == '\n' && std::string_view{got}.substr(0, text.size()) == text;
}

} // namespace evstore
