#pragma once

// A loopback socket that listens and never accepts: a client's TCP handshake completes (into the
// backlog) and TLS never starts, as with a host that drops packets once connected. Or, with
// `syns_dropped`, its one-place backlog is filled at once by a connection of its own, and the
// kernel drops every later SYN: a client's connect(2) blocks as for a host that drops all packets
// (for the kernel's connect timeout, over two minutes). Closing it resets the half-open
// connections and refuses the next SYN, so a client's blocked attempt (and its actor system's
// shutdown) can end: close it before the client goes.

#include <cstdint>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace evstore::testing {

class silent_listener {
public:
  enum class mode { tls_never_starts, syns_dropped };

  explicit silent_listener(mode m = mode::tls_never_starts) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int backlog = m == mode::syns_dropped ? 0 : 4;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0
        || ::listen(fd_, backlog) != 0)
      return;
    socklen_t len = sizeof addr;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    if (m == mode::syns_dropped) {
      filler_ = ::socket(AF_INET, SOCK_STREAM, 0);
      if (filler_ < 0 || ::connect(filler_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~silent_listener() {
    close();
  }
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;

  /// Its port; 0 if the socket could not be made.
  uint16_t port() const {
    return port_;
  }

  void close() {
    for (int* fd : {&fd_, &filler_}) {
      if (*fd >= 0)
        ::close(*fd);
      *fd = -1;
    }
  }

private:
  int fd_ = -1;
  int filler_ = -1; // syns_dropped: the connection that fills the backlog
  uint16_t port_ = 0;
};

} // namespace evstore::testing
