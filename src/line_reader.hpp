#pragma once

// Reads a file line by line in large chunks, handing out views into its buffer. The view is valid only
// during the callback.

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <unistd.h>

namespace evstore {

struct raw_line {
  /// The line without its newline.
  std::string_view text;
  /// Byte offset of the line's first byte in the file.
  uint64_t offset = 0;
  /// False only for a last line without its newline: a torn write, or one still being written.
  bool terminated = true;
};

/// Calls `on_line(const raw_line&)` for every line of the file behind `fd`, from `start` on.
/// Returns 0, or the errno of a failed read.
template <class OnLine>
int for_each_line(int fd, uint64_t start, OnLine&& on_line) {
  std::string buf(size_t{1} << 20, '\0');
  size_t filled = 0;                // bytes in buf
  uint64_t buf_offset = start;      // file offset of buf[0]
  uint64_t file_pos = start;
  for (;;) {
    if (filled == buf.size())
      buf.resize(buf.size() * 2); // a line longer than the buffer
    ssize_t n = ::pread(fd, buf.data() + filled, buf.size() - filled, static_cast<off_t>(file_pos));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (n == 0)
      break;
    filled += static_cast<size_t>(n);
    file_pos += static_cast<uint64_t>(n);
    size_t begin = 0;
    while (begin < filled) {
      auto* nl = static_cast<const char*>(std::memchr(buf.data() + begin, '\n', filled - begin));
      if (nl == nullptr)
        break;
      size_t end = static_cast<size_t>(nl - buf.data());
      on_line(raw_line{std::string_view{buf.data() + begin, end - begin}, buf_offset + begin, true});
      begin = end + 1;
    }
    std::memmove(buf.data(), buf.data() + begin, filled - begin);
    filled -= begin;
    buf_offset += begin;
  }
  if (filled > 0)
    on_line(raw_line{std::string_view{buf.data(), filled}, buf_offset, false});
  return 0;
}

} // namespace evstore
