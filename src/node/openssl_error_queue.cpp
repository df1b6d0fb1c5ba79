// OpenSSL's error queue, cleared before every TLS read, write and handshake step of the process.
//
// Why: OpenSSL reports the outcome of SSL_read and friends through SSL_get_error, which looks at the
// calling thread's error queue first, and so requires that queue to be empty before each call. CAF
// 0.17's OpenSSL module never clears it. All of a node's connections share CAF's one multiplexer
// thread, so an error left behind by one connection (with OpenSSL 3, every peer that closes without
// a TLS close_notify leaves "unexpected eof while reading"; a peer without the credential leaves its
// failed handshake) turns the next "no more data for now" of any other connection into a fatal
// error: CAF then closes a healthy connection. Measured before this file: a long-lived subscriber
// lost its connection in 1 of 5 runs while short-lived CLI clients came and went; after, none in 30.
// Newer CAF versions (libcaf_net) clear the queue before each call, as OpenSSL documents; these
// definitions do the same for CAF 0.17 by taking the place of OpenSSL's four entry points, which
// they then call (dlsym RTLD_NEXT). They change nothing else.
#include <cstdio>
#include <cstdlib>

#include <dlfcn.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace evstore {

// configure_node calls it, so every program that serves or connects links this file (a static
// library contributes only the objects a program refers to).
void openssl_error_queue_anchor() {
}

} // namespace evstore

namespace {

template <class Fn>
Fn next_definition(const char* name) {
  auto fn = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
  if (fn == nullptr) {
    // Only reachable if a program calls CAF's TLS without libssl loaded behind us: nothing sane
    // to fall back to.
    std::fprintf(stderr, "evstore: OpenSSL's %s cannot be found (dlsym: %s)\n", name, ::dlerror());
    std::abort();
  }
  return fn;
}

} // namespace

// Default visibility: the library builds with hidden visibility, and these must be seen from CAF.
#define EVSTORE_INTERPOSE __attribute__((visibility("default")))

extern "C" {

EVSTORE_INTERPOSE int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real = next_definition<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

EVSTORE_INTERPOSE int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real = next_definition<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

EVSTORE_INTERPOSE int SSL_accept(SSL* ssl) {
  static const auto real = next_definition<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

EVSTORE_INTERPOSE int SSL_connect(SSL* ssl) {
  static const auto real = next_definition<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"
