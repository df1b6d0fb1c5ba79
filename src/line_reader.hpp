#pragma once

// Reads a file line by line in large chunks, handing out views into its buffer. The view is valid only
// during the callback.

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include <sys/stat.h>
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
  // Sized to the file (at most 1 MiB) and left uninitialised: most task files are small, and
  // zero-filling a fixed 1 MiB per call cost more than reading them.
  struct stat sb {};
  size_t cap = size_t{1} << 20;
  if (::fstat(fd, &sb) == 0 && static_cast<uint64_t>(sb.st_size) >= start)
    cap = std::clamp<size_t>(static_cast<size_t>(sb.st_size - static_cast<off_t>(start)) + 1,
                             size_t{4096}, cap);
  std::unique_ptr<char[]> buf{new char[cap]};
  size_t filled = 0;                // bytes in buf
  uint64_t buf_offset = start;      // file offset of buf[0]
  uint64_t file_pos = start;
  for (;;) {
    if (filled == cap) { // a line longer than the buffer, or a file that grew
      std::unique_ptr<char[]> bigger{new char[cap * 2]};
      std::memcpy(bigger.get(), buf.get(), filled);
      buf = std::move(bigger);
      cap *= 2;
    }
    ssize_t n = ::pread(fd, buf.get() + filled, cap - filled, static_cast<off_t>(file_pos));
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
      auto* nl = static_cast<const char*>(std::memchr(buf.get() + begin, '\n', filled - begin));
      if (nl == nullptr)
        break;
      size_t end = static_cast<size_t>(nl - buf.get());
      on_line(raw_line{std::string_view{buf.get() + begin, end - begin}, buf_offset + begin, true});
      begin = end + 1;
    }
    std::memmove(buf.get(), buf.get() + begin, filled - begin);
    filled -= begin;
    buf_offset += begin;
  }
  if (filled > 0)
    on_line(raw_line{std::string_view{buf.get(), filled}, buf_offset, false});
  return 0;
}

} // namespace evstore
