#pragma once

// Reads a file line by line in large chunks, handing out views into its buffer. The view is valid only
// during the callback.

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>

#include <sys/stat.h>
#include <unistd.h>

namespace evstore {

/// The longest line (without its newline) a reader holds in memory: 64 MiB, far above any append
/// limit, so reading is never limited by what this store accepts. A longer line is unreadable:
/// reported with `too_long` set and its first bytes only, which every caller counts as corrupt, and
/// compaction moves it to events.corrupt byte for byte. Bounds what a hostile file can make us hold.
constexpr size_t max_readable_line_bytes = size_t{64} << 20;

/// The one rule for "too long", shared by the reader, compaction and single-line reads.
constexpr bool line_too_long(uint64_t length, size_t max_line = max_readable_line_bytes) {
  return length > max_line;
}

struct raw_line {
  /// The line without its newline (for a `too_long` line, only its first bytes: never decode it).
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

namespace detail {

/// A reading buffer each thread keeps for its next read: 100,000 small files read one after
/// another would otherwise each malloc (and free) one of tens of KB, and glibc consolidates its
/// free lists on every such request (5% of a cold open's CPU at 100,000 tasks). A nested read
/// (the cached one in use) gets a buffer of its own.
class read_buffer {
public:
  /// Buffers up to this size are kept for the next read.
  static constexpr size_t kept_bytes = size_t{1} << 20;

  /// At least `cap` bytes, uninitialised.
  explicit read_buffer(size_t cap) {
    if (cached_ && cached_cap_ >= cap) {
      buf_ = std::move(cached_);
      cap_ = cached_cap_;
    } else {
      buf_.reset(new char[cap]);
      cap_ = cap;
    }
  }
  read_buffer(const read_buffer&) = delete;
  read_buffer& operator=(const read_buffer&) = delete;
  ~read_buffer() {
    if (cap_ <= kept_bytes && (!cached_ || cached_cap_ < cap_)) {
      cached_ = std::move(buf_);
      cached_cap_ = cap_;
    }
  }

  char* get() const {
    return buf_.get();
  }
  size_t capacity() const {
    return cap_;
  }
  /// Grows to `cap` bytes, keeping the first `keep`.
  void grow(size_t cap, size_t keep) {
    std::unique_ptr<char[]> bigger{new char[cap]};
    std::memcpy(bigger.get(), buf_.get(), keep);
    buf_ = std::move(bigger);
    cap_ = cap;
  }

private:
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  static inline thread_local std::unique_ptr<char[]> cached_;
  static inline thread_local size_t cached_cap_ = 0;
};

/// Hands `line` to `on_line`: false if it returned false (stop reading), else true (it may return
/// nothing: every line is wanted).
template <class OnLine>
bool hand_out(OnLine& on_line, const raw_line& line) {
  if constexpr (std::is_same_v<decltype(on_line(line)), bool>)
    return on_line(line);
  else {
    on_line(line);
    return true;
  }
}

} // namespace detail

/// Calls `on_line(const raw_line&)` for every line of the file behind `fd`, from `start` on,
/// holding at most `max_line` + 1 bytes of one line, until it returns false (if it returns a
/// bool). Callers must treat a `too_long` line as corrupt. Returns 0, or the errno of a failed
/// read.
template <class OnLine>
int for_each_line(int fd, uint64_t start, OnLine&& on_line,
                  size_t max_line = max_readable_line_bytes) {
  // Sized to the file (at most 1 MiB, or the thread's kept buffer if larger) and left
  // uninitialised: most task files are small, and zero-filling a fixed 1 MiB per call cost more
  // than reading them.
  struct stat sb {};
  size_t cap = size_t{1} << 20;
  if (::fstat(fd, &sb) == 0 && static_cast<uint64_t>(sb.st_size) >= start)
    cap = std::clamp<size_t>(static_cast<size_t>(sb.st_size - static_cast<off_t>(start)) + 1,
                             size_t{4096}, cap);
  // A line of max_line bytes and its newline fit; one byte more without a newline is too long.
  const size_t max_cap = max_line + 1;
  cap = std::min(cap, max_cap);
  detail::read_buffer buf{cap};
  cap = std::min(buf.capacity(), max_cap);
  size_t filled = 0;                // bytes in buf
  uint64_t buf_offset = start;      // file offset of buf[0]
  uint64_t file_pos = start;
  bool skipped_long_line = false;
  for (;;) {
    if (filled == cap && cap >= max_cap) {
      // One line fills the buffer and may not grow it: skip to its end through a small scratch
      // buffer, report it cut, and go on after it.
      char scratch[1 << 16];
      uint64_t length = filled;
      size_t rest = 0;
      const char* rest_at = nullptr;
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
          rest_at = nl + 1;
          found = true;
          break;
        }
        length += static_cast<uint64_t>(n);
      }
      // The preview is the long line's own first bytes: the buffer is reused only after the call.
      const std::string_view preview{buf.get(), std::min<size_t>(filled, 256)};
      if (!detail::hand_out(on_line, raw_line{preview, buf_offset, found, true, length}) || !found)
        return 0;
      std::memcpy(buf.get(), rest_at, rest); // rest < cap: the reads were at most cap bytes
      buf_offset += length + 1;
      filled = rest;
      skipped_long_line = true;
      // and on: the next pread appends after `rest`, whose lines are then handed out
    } else if (filled == cap) { // a line longer than the buffer, or a file that grew
      const size_t grown = std::min(cap * 2, max_cap);
      buf.grow(grown, filled);
      cap = grown;
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
      if (!detail::hand_out(on_line, raw_line{std::string_view{buf.get() + begin, end - begin},
                                              buf_offset + begin, true, false, end - begin}))
        return 0;
      begin = end + 1;
    }
    std::memmove(buf.get(), buf.get() + begin, filled - begin);
    filled -= begin;
    buf_offset += begin;
  }
  if (filled > 0)
    detail::hand_out(on_line, raw_line{std::string_view{buf.get(), filled}, buf_offset, false,
                                       false, filled});
  return 0;
}

} // namespace evstore
