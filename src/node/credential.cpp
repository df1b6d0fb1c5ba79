#include "credential.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "messages/errc.hpp"
#include "src/storage/file_io.hpp"
#include "src/storage/store_layout.hpp"

namespace evstore {

namespace {

template <class T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const {
    Free(p);
  }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO, BIO_free_all>>;
using bn_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BIGNUM, BN_free>>;

// OpenSSL frees its global state (locks included) in an exit handler of its own. CAF's multiplexer
// thread of a connection still ending (a failed connect's actor system ends on a thread of its
// own, src/facade/connect.cpp) may be inside OpenSSL at that moment: a use after free that TSan
// reported at exit. So OpenSSL is started without that handler, before anything else of it runs
// here; the process's exit releases the memory anyway. (If the embedding program started OpenSSL
// first, its choice stands.)
void start_openssl_without_exit_cleanup() {
  static const bool started = OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr) == 1;
  (void)started;
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr)
    return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

/// The PEM text of a new key and its self-signed certificate, or empty if OpenSSL failed.
std::string make_credential_pem() {
  pkey_ptr key{EVP_EC_gen("P-256")};
  x509_ptr cert{X509_new()};
  bn_ptr serial{BN_new()};
  if (!key || !cert || !serial)
    return {};
  // A random serial: two stores' certificates never share issuer and serial.
  bool ok = X509_set_version(cert.get(), 2) == 1
            && BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1
            && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr
            && X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr
            // A credential lives as long as its store: a hundred years.
            && X509_gmtime_adj(X509_getm_notAfter(cert.get()), 100L * 365 * 86400) != nullptr
            && X509_set_pubkey(cert.get(), key.get()) == 1;
  X509_NAME* name = X509_get_subject_name(cert.get());
  ok = ok && name != nullptr
       && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("evstore node"), -1, -1,
                                     0)
            == 1
       && X509_set_issuer_name(cert.get(), name) == 1
       && add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE")
       && add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign")
       && add_extension(cert.get(), NID_subject_key_identifier, "hash")
       && X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  bio_ptr out{BIO_new(BIO_s_mem())};
  ok = ok && out
       && PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1
       && PEM_write_bio_X509(out.get(), cert.get()) == 1;
  if (!ok)
    return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

caf::error bad(const std::string& path, const std::string& why) {
  return make_error(errc::bad_credential, path + ": " + why);
}

} // namespace

caf::error ensure_credential(const store_root& root) {
  start_openssl_without_exit_cleanup();
  struct stat sb {};
  if (::fstatat(root.fd(), credential_file_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
    return check_credential(root.display("", credential_file_name));
  if (errno != ENOENT)
    return io_error("cannot stat", root.display("", credential_file_name), errno);
  auto pem = make_credential_pem();
  if (pem.empty())
    return bad(root.display("", credential_file_name), "OpenSSL could not make a key pair");
  // A leftover of a crash is removed (never followed: unlinkat does not follow a symbolic link).
  // Two processes creating the first credential at once: one may remove the other's temporary, and
  // that one fails; the next attempt finds the credential in place.
  const std::string tmp = credential_temp_file_name;
  if (::unlinkat(root.fd(), tmp.c_str(), 0) != 0 && errno != ENOENT)
    return io_error("cannot remove", root.display("", tmp), errno);
  unique_fd fd{::openat(root.fd(), tmp.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (!fd)
    return io_error("cannot create", root.display("", tmp), errno);
  size_t done = 0;
  // fchmod: the mode is exact whatever the umask (it can only have lowered it).
  int err = ::fchmod(fd.get(), 0600) != 0 ? errno : 0;
  if (err == 0)
    err = write_all(fd.get(), pem.data(), pem.size(), done);
  if (err == 0 && ::fsync(fd.get()) != 0)
    err = errno;
  // link, not rename: a credential another process put in place first is kept, never replaced
  // under a node already serving with it.
  if (err == 0 && ::linkat(root.fd(), tmp.c_str(), root.fd(), credential_file_name, 0) != 0
      && errno != EEXIST)
    err = errno;
  ::unlinkat(root.fd(), tmp.c_str(), 0);
  if (err != 0)
    return io_error("cannot write", root.display("", credential_file_name), err);
  if (auto e = fsync_dir(root.fd(), root.path()))
    return e;
  return check_credential(root.display("", credential_file_name));
}

caf::error check_credential(const std::string& path) {
  auto text = read_credential(path);
  return text ? caf::none : text.error();
}

caf::expected<std::string> read_credential(const std::string& path) {
  start_openssl_without_exit_cleanup();
  unique_fd fd{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)};
  if (!fd) {
    if (errno == ELOOP)
      return make_error(errc::not_regular_file, path + ": a symbolic link, not a credential file");
    return bad(path, std::string{"cannot open: "} + std::strerror(errno));
  }
  struct stat sb {};
  if (::fstat(fd.get(), &sb) != 0)
    return bad(path, std::string{"cannot stat: "} + std::strerror(errno));
  if (!S_ISREG(sb.st_mode))
    return make_error(errc::not_regular_file, path + ": not a regular file");
  if ((sb.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(sb.st_mode & 07777));
    return bad(path, std::string{"group or others may access it (mode "} + mode
                       + "); it must be readable by its owner only: chmod 600");
  }
  auto text = read_all(fd.get(), path);
  if (!text)
    return text.error();
  bio_ptr key_in{BIO_new_mem_buf(text->data(), static_cast<int>(text->size()))};
  bio_ptr cert_in{BIO_new_mem_buf(text->data(), static_cast<int>(text->size()))};
  pkey_ptr key{key_in ? PEM_read_bio_PrivateKey(key_in.get(), nullptr, nullptr, nullptr) : nullptr};
  x509_ptr cert{cert_in ? PEM_read_bio_X509(cert_in.get(), nullptr, nullptr, nullptr) : nullptr};
  if (!key)
    return bad(path, "holds no unencrypted private key in PEM");
  if (!cert)
    return bad(path, "holds no certificate in PEM");
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return bad(path, "its certificate is not the certificate of its key");
  return std::move(*text);
}

caf::expected<std::string> sealed_credential_copy(const std::string& path) {
  auto text = read_credential(path);
  if (!text)
    return text.error();
  // One sealed copy per distinct credential for the life of the process, however many actor systems
  // are configured with it (a program that connects again and again holds one descriptor).
  static std::mutex mtx;
  static std::map<std::string, std::string> copies;
  std::lock_guard<std::mutex> guard{mtx};
  if (auto known = copies.find(*text); known != copies.end())
    return known->second;
  int fd = ::memfd_create("evstore-node-credential", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return io_error("cannot create a memory file for", path, errno);
  size_t done = 0;
  int err = write_all(fd, text->data(), text->size(), done);
  if (err == 0
      && ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
    err = errno;
  if (err != 0) {
    ::close(fd);
    return io_error("cannot copy", path, err);
  }
  // Deliberately left open: CAF opens the path whenever it builds a TLS context.
  auto proc_path = "/proc/self/fd/" + std::to_string(fd);
  copies.emplace(std::move(*text), proc_path);
  return proc_path;
}

} // namespace evstore
