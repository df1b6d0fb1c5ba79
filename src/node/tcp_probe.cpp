#include "tcp_probe.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

#include <caf/sec.hpp>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "messages/errc.hpp"

namespace evstore {

namespace {

using clock = std::chrono::steady_clock;

/// Connects a non-blocking socket to `addr`: 0 on success, ETIMEDOUT if `until` passed first,
/// else the errno of the failure.
int try_connect(const addrinfo& addr, clock::time_point until) {
  const int fd = ::socket(addr.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  std::unique_ptr<const int, void (*)(const int*)> closer{&fd, [](const int* p) { ::close(*p); }};
  if (::connect(fd, addr.ai_addr, addr.ai_addrlen) == 0)
    return 0;
  if (errno != EINPROGRESS)
    return errno;
  for (;;) {
    // Rounded up: the deadline is never called early.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - clock::now());
    if (left.count() <= 0)
      return ETIMEDOUT;
    pollfd p{fd, POLLOUT, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    if (n == 0)
      continue; // the loop's check ends it
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      return errno;
    return err;
  }
}

/// An IPv6 address with a scope (link-local, "fe80::1%eth0"): CAF 0.17 turns the address it is
/// given into text and back without the scope, and the kernel refuses such a connect.
bool scoped(const addrinfo& a) {
  return a.ai_family == AF_INET6
         && reinterpret_cast<const sockaddr_in6*>(a.ai_addr)->sin6_scope_id != 0;
}

/// The first of `list` in `family` (AF_UNSPEC: the first at all), as CAF picks it, passing over
/// scoped IPv6 addresses, which CAF cannot connect to.
const addrinfo* first_of(const addrinfo* list, int family) {
  for (auto* a = list; a != nullptr; a = a->ai_next)
    if ((a->ai_family == AF_INET || a->ai_family == AF_INET6)
        && (family == AF_UNSPEC || a->ai_family == family) && !scoped(*a))
      return a;
  return nullptr;
}

} // namespace

caf::expected<std::string> probe_tcp(const std::string& host, uint16_t port,
                                     std::chrono::milliseconds timeout) {
  const auto start = clock::now();
  const bool v6 = host.find(':') != std::string::npos;
  const auto address = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  addrinfo hint{};
  hint.ai_socktype = SOCK_STREAM;
  hint.ai_family = AF_UNSPEC;
  addrinfo* found = nullptr;
  const auto service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hint, &found); rc != 0)
    return make_error(errc::node_unavailable, "cannot connect to " + address + ": cannot resolve '"
                                                + host + "': " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addrs{found, ::freeaddrinfo};
  const addrinfo* first = first_of(addrs.get(), AF_UNSPEC);
  if (first == nullptr)
    return make_error(errc::node_unavailable,
                      "cannot connect to " + address
                        + ": no IPv4 or IPv6 address (but link-local ones, whose scope CAF 0.17 "
                          "drops)");
  const addrinfo* v4 = first->ai_family == AF_INET6 ? first_of(addrs.get(), AF_INET) : nullptr;
  // An IPv6 first address with an IPv4 one behind it gets half the time, the IPv4 one the rest.
  const addrinfo* reached = first;
  int err = try_connect(*first, v4 ? start + timeout / 2 : start + timeout);
  if (err != 0 && v4 != nullptr) {
    reached = v4;
    err = try_connect(*v4, start + timeout);
  }
  if (err == ETIMEDOUT)
    return caf::make_error(caf::sec::request_timeout);
  if (err != 0)
    return make_error(errc::node_unavailable,
                      "cannot connect to " + address + ": " + std::strerror(err));
  char numeric[NI_MAXHOST] = {};
  if (::getnameinfo(reached->ai_addr, reached->ai_addrlen, numeric, sizeof numeric, nullptr, 0,
                    NI_NUMERICHOST)
      != 0)
    return make_error(errc::node_unavailable,
                      "cannot connect to " + address + ": the address it reached has no text");
  return std::string{numeric};
}

} // namespace evstore
