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

/// The longest line a reader holds in memory (64 MiB, far above any append limit, so reading is
/// never limited by what this store accepts). A longer line is unreadable: reported with its first
/// bytes only and `too_long` set, which no decoder accepts, so it counts as corrupt everywhere, and
/// compaction moves it to events.corrupt byte for byte. Bounds what a hostile file can make us hold.
constexpr size_t max_readable_line_bytes = size_t{64} << 20;

struct raw_line {
  /// The line without its newline (for a `too_long` line, only its first bytes).
  std::string_view text;
  /// Byte offset of the line's first byte in the file.
  uint64_t offset = 0;
  /// False only for a last line without its newline: a torn write, or one still being written.
  bool terminated = true;
  /// Longer than the reader's limit; `text` is cut.
  bool too_long = false;
  /// The whole line's length without its newline (text.size() unless too_long).
  uint64_t length = 0;
};

/// Calls `on_line(const raw_line&)` for every line of the file behind `fd`, from `start` on, holding
/// at most about `max_line` bytes of one line. Returns 0, or the errno of a failed read.
template <class OnLine>
int for_each_line(int fd, uint64_t start, OnLine&& on_line,
                  size_t max_line = max_readable_line_bytes) {
  // Sized to the file (at most 1 MiB) and left uninitialised: most task files are small, and
  // zero-filling a fixed 1 MiB per call cost more than reading them.
  struct stat sb {};
  size_t cap = size_t{1} << 20;
  if (::fstat(fd, &sb) == 0 && static_cast<uint64_t>(sb.st_size) >= start)
    cap = std::clamp<size_t>(static_cast<size_t>(sb.st_size - static_cast<off_t>(start)) + 1,
                             size_t{4096}, cap);
  cap = std::min(cap, std::max<size_t>(max_line, 1));
  std::unique_ptr<char[]> buf{new char[cap]};
  size_t filled = 0;                // bytes in buf
  uint64_t buf_offset = start;      // file offset of buf[0]
  uint64_t file_pos = start;
  bool skipped_long_line = false;
  for (;;) {
    if (filled == cap && cap >= max_line) {
      // One line fills the buffer and may not grow it: skip to its end through a small scratch
      // buffer, report it cut, and go on after it.
      char scratch[1 << 16];
      uint64_t length = filled;
      size_t rest = 0;
      bool found = false;
      for (;;) {
        ssize_t n = ::pread(fd, scratch, std::min(sizeof(scratch), cap), static_cast<off_t>(file_pos));
        if (n < 0 && errno == EINTR)
          continue;
        if (n < 0)
          return errno;
        if (n == 0)
          break;
        file_pos += static_cast<uint64_t>(n);
        auto* nl = static_cast<const char*>(std::memchr(scratch, '\n', static_cast<size_t>(n)));
        if (nl != nullptr) {
          length += static_cast<uint64_t>(nl - scratch);
          rest = static_cast<size_t>(scratch + n - (nl + 1));
          found = true;
          std::memcpy(buf.get(), nl + 1, rest); // rest < cap: reads were at most cap
          break;
        }
        length += static_cast<uint64_t>(n);
      }
      on_line(raw_line{std::string_view{buf.get(), std::min<size_t>(filled, 256)}, buf_offset, found,
                       true, length});
      if (!found)
        return 0;
      buf_offset += length + 1;
      filled = rest;
      skipped_long_line = true;
      // and on: the next pread appends after `rest`, whose lines are then handed out
    } else if (filled == cap) { // a line longer than the buffer, or a file that grew
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
    if (n == 0 && !skipped_long_line)
      break;
    skipped_long_line = false; // what the skip left in the buffer is split below, even at the end
    filled += static_cast<size_t>(n);
    file_pos += static_cast<uint64_t>(n);
    size_t begin = 0;
    while (begin < filled) {
      auto* nl = static_cast<const char*>(std::memchr(buf.get() + begin, '\n', filled - begin));
      if (nl == nullptr)
        break;
      size_t end = static_cast<size_t>(nl - buf.get());
      on_line(raw_line{std::string_view{buf.get() + begin, end - begin}, buf_offset + begin, true,
                       false, end - begin});
      begin = end + 1;
    }
    std::memmove(buf.get(), buf.get() + begin, filled - begin);
    filled -= begin;
    buf_offset += begin;
  }
  if (filled > 0)
    on_line(raw_line{std::string_view{buf.get(), filled}, buf_offset, false, false, filled});
  return 0;
}

} // namespace evstore
