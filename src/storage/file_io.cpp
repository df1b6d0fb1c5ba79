#include "file_io.hpp"

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/format/line_reader.hpp"
#include "store_layout.hpp"

namespace evstore {

int write_all(int fd, const char* data, size_t size, size_t& done) {
  done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    done += static_cast<size_t>(n);
  }
  return 0;
}

caf::expected<std::string> read_all(int fd, const std::string& shown) {
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return io_error("cannot read", shown, errno);
    if (n == 0)
      return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

caf::expected<std::string> read_small_file(const std::string& path, size_t max_bytes) {
  // Looked at before it is opened (opening some devices has effects of its own), and checked again
  // on the descriptor, which is what is read.
  struct stat sb {};
  const bool looked = ::stat(path.c_str(), &sb) == 0;
  if (looked && !S_ISREG(sb.st_mode))
    return make_error(errc::not_regular_file, path + " is not a regular file");
  unique_fd fd{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
  if (!fd)
    return io_error("cannot open", path, errno);
  if (::fstat(fd.get(), &sb) != 0)
    return io_error("cannot stat", path, errno);
  if (!S_ISREG(sb.st_mode))
    return make_error(errc::not_regular_file, path + " is not a regular file");
  if (static_cast<uint64_t>(sb.st_size) > max_bytes)
    return make_error(errc::invalid_argument, path + " holds " + std::to_string(sb.st_size)
                                                + " bytes; at most " + std::to_string(max_bytes)
                                                + " are read");
  auto text = read_all(fd.get(), path);
  if (text && text->size() > max_bytes) // it grew while we read
    return make_error(errc::invalid_argument, path + " holds more than "
                                                + std::to_string(max_bytes) + " bytes");
  return text;
}

bool read_line_at(int fd, uint64_t offset, size_t max_bytes, std::string& out) {
  out.clear();
  // Most lines are short: start small and grow, rather than reading a megabyte for each.
  size_t chunk = 1024;
  for (;;) {
    size_t old = out.size();
    out.resize(old + chunk);
    ssize_t n = ::pread(fd, out.data() + old, chunk, static_cast<off_t>(offset + old));
    if (n < 0 && errno == EINTR) {
      out.resize(old);
      continue;
    }
    if (n <= 0) {
      out.clear();
      return false;
    }
    out.resize(old + static_cast<size_t>(n));
    auto nl = out.find('\n', old);
    if (nl != std::string::npos) {
      out.resize(nl);
      return !line_too_long(nl, max_bytes); // the readers' rule, not "whatever the last read held"
    }
    if (out.size() > max_bytes)
      return false;
    chunk = std::min<size_t>(chunk * 4, size_t{1} << 20);
  }
}

namespace {

// splitmix64's finaliser: every input bit moves every output bit.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

} // namespace

uint64_t file_id_of(const struct statx& stx) {
  uint64_t id = stx.stx_ino;
  if (stx.stx_mask & STATX_BTIME)
    id = mix(id ^ mix(static_cast<uint64_t>(stx.stx_btime.tv_sec) * 1'000'000'000u
                      + stx.stx_btime.tv_nsec));
  return id != 0 ? id : 1;
}

uint64_t file_id_of(int fd) {
  struct statx stx {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &stx) != 0)
    return 0;
  return file_id_of(stx);
}

uint64_t file_size(int fd) {
  struct stat sb {};
  return ::fstat(fd, &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
}

bool line_starts_at(int fd, uint64_t offset) {
  if (offset == 0)
    return true;
  char c = 0;
  return ::pread(fd, &c, 1, static_cast<off_t>(offset - 1)) == 1 && c == '\n';
}

} // namespace evstore
