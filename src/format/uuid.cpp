#include "uuid.hpp"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include <pthread.h>
#include <sys/random.h>

namespace evstore {

namespace {

// Every id takes 122 bits straight from the kernel's CSPRNG (getrandom(2)), so two processes (every
// CLI `append` is one) share an id only by a 2^-122 chance, never because they drew the same seed.
// A per-thread buffer keeps that to one system call per 256 ids. A forked child would inherit the
// parent's unread buffer and hand out the parent's next ids: fork bumps a generation that empties it.
std::atomic<uint64_t> fork_generation{0};

void on_fork_in_child() {
  fork_generation.fetch_add(1, std::memory_order_relaxed);
}

// For kernels or sandboxes without getrandom(2). Without any randomness ids would be unsafe to
// deduplicate by, so that is fatal.
void fill_from_urandom(unsigned char* out, size_t n) {
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  size_t got = 0;
  while (fd >= 0 && got < n) {
    ssize_t r = ::read(fd, out + got, n - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += static_cast<size_t>(r);
  }
  if (fd >= 0)
    ::close(fd);
  if (got < n)
    std::abort();
}

struct random_pool {
  unsigned char bytes[4096];
  size_t used = sizeof(bytes);
  uint64_t generation = 0;

  void take(void* out, size_t n) {
    uint64_t now = fork_generation.load(std::memory_order_relaxed);
    if (generation != now) {
      used = sizeof(bytes);
      generation = now;
    }
    if (used + n > sizeof(bytes)) {
      size_t got = 0;
      while (got < sizeof(bytes)) {
        ssize_t r = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
        if (r < 0 && errno == EINTR)
          continue;
        if (r < 0) {
          fill_from_urandom(bytes + got, sizeof(bytes) - got);
          break;
        }
        got += static_cast<size_t>(r);
      }
      used = 0;
    }
    std::memcpy(out, bytes + used, n);
    used += n;
  }
};

} // namespace

std::string make_uuid_v4() {
  static const int registered = ::pthread_atfork(nullptr, nullptr, on_fork_in_child);
  (void) registered;
  thread_local random_pool pool;
  uint64_t hi = 0;
  uint64_t lo = 0;
  pool.take(&hi, sizeof(hi));
  pool.take(&lo, sizeof(lo));
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL; // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t pos = 0;
  auto put = [&](uint64_t word, int nibbles_from, int count) {
    for (int i = 0; i < count; ++i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23)
        ++pos;
      out[pos++] = hex[(word >> ((nibbles_from - i) * 4)) & 0xf];
    }
  };
  put(hi, 15, 16);
  put(lo, 15, 16);
  return out;
}

std::optional<uuid_bits> parse_uuid(std::string_view s) {
  if (s.size() != 36)
    return std::nullopt;
  uuid_bits out{0, 0};
  int nibble = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-')
        return std::nullopt;
      continue;
    }
    uint64_t v;
    if (c >= '0' && c <= '9')
      v = static_cast<uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      v = static_cast<uint64_t>(c - 'a' + 10);
    else
      return std::nullopt;
    auto& word = out[nibble / 16];
    word = (word << 4) | v;
    ++nibble;
  }
  return out;
}

} // namespace evstore
