// The node credential (src/node/credential.cpp): created once, mode 0600, a key and its own
// certificate; anything else in its place is refused before CAF's OpenSSL module sees it.
#include "src/node/credential.hpp"

#include <filesystem>
#include <functional>

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "messages/system_config.hpp"
#include "src/facade/node.hpp"
#include "src/storage/store_layout.hpp"
#include "support/temp_dir.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& p) {
  struct stat sb {};
  ::lstat(p.c_str(), &sb);
  return sb.st_mode & 07777;
}

/// The PEM blocks of `text` whose label contains `label` ("PRIVATE KEY", "CERTIFICATE").
std::string blocks(const std::string& text, const std::string& label) {
  std::string out;
  size_t at = 0;
  while ((at = text.find("-----BEGIN ", at)) != std::string::npos) {
    auto end_line = text.find("-----END ", at);
    auto end = text.find('\n', end_line);
    auto block = text.substr(at, end + 1 - at);
    if (block.substr(0, block.find('\n')).find(label) != std::string::npos)
      out += block;
    at = end + 1;
  }
  return out;
}

} // namespace

TEST(CredentialTest, ANewCredentialIsOwnerOnlyAndHoldsAKeyAndItsCertificate) {
  temp_dir dir;
  auto path = ensure_node_credential(dir.str("store"));
  ASSERT_TRUE(path) << render(path.error());
  EXPECT_EQ(*path, dir.str("store") + "/node.pem");
  EXPECT_EQ(mode_of(*path), 0600u);
  auto text = slurp(*path);
  EXPECT_NE(blocks(text, "PRIVATE KEY"), "");
  EXPECT_NE(blocks(text, "CERTIFICATE"), "");
  EXPECT_EQ(check_credential(*path), caf::none);
}

TEST(CredentialTest, ASecondEnsureKeepsTheFirstCredential) {
  temp_dir dir;
  auto first = ensure_node_credential(dir.str("store"));
  ASSERT_TRUE(first);
  auto bytes = slurp(*first);
  ASSERT_TRUE(ensure_node_credential(dir.str("store")));
  EXPECT_EQ(slurp(*first), bytes);
  // No temporary is left beside it.
  for (auto& e : fs::directory_iterator(dir.str("store")))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(CredentialTest, TwoStoresGetDifferentCredentials) {
  temp_dir a, b;
  auto ca = ensure_node_credential(a.str("store"));
  auto cb = ensure_node_credential(b.str("store"));
  ASSERT_TRUE(ca && cb);
  EXPECT_NE(slurp(*ca), slurp(*cb));
}

// Each row: what is put where the credential belongs, the error expected from ensuring and from
// configure_node, and the check that nothing on disk changed and nothing outside the root was
// touched.
TEST(CredentialTest, WhatIsNotAnOwnerOnlyKeyPairIsRefusedAndLeftAlone) {
  temp_dir good_dir;
  auto good = ensure_node_credential(good_dir.str("store"));
  ASSERT_TRUE(good);
  auto good_text = slurp(*good);
  temp_dir other_dir;
  auto other = ensure_node_credential(other_dir.str("store"));
  ASSERT_TRUE(other);
  auto other_text = slurp(*other);
  struct row {
    const char* name;
    std::function<void(const fs::path& cred, const fs::path& outside)> make;
    errc expected;
  };
  auto write_0600 = [](const fs::path& p, const std::string& text) {
    spit(p, text);
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
  };
  const row rows[] = {
    {"a symbolic link to a good credential outside the root",
     [&](const fs::path& cred, const fs::path& outside) {
       write_0600(outside, good_text);
       fs::create_symlink(outside, cred);
     },
     errc::not_regular_file},
    {"a directory", [](const fs::path& cred, const fs::path&) { fs::create_directory(cred); },
     errc::not_regular_file},
    {"a good credential others may read (0644)",
     [&](const fs::path& cred, const fs::path&) {
       spit(cred, good_text);
       fs::permissions(cred, fs::perms::owner_read | fs::perms::owner_write
                               | fs::perms::group_read | fs::perms::others_read);
     },
     errc::bad_credential},
    {"a good credential its group may write (0620)",
     [&](const fs::path& cred, const fs::path&) {
       spit(cred, good_text);
       fs::permissions(cred, fs::perms::owner_read | fs::perms::owner_write
                               | fs::perms::group_write);
     },
     errc::bad_credential},
    {"an empty file", [&](const fs::path& cred, const fs::path&) { write_0600(cred, ""); },
     errc::bad_credential},
    {"text that is not PEM",
     [&](const fs::path& cred, const fs::path&) { write_0600(cred, "hello\n"); },
     errc::bad_credential},
    {"a certificate without its key",
     [&](const fs::path& cred, const fs::path&) {
       write_0600(cred, blocks(good_text, "CERTIFICATE"));
     },
     errc::bad_credential},
    {"a key without a certificate",
     [&](const fs::path& cred, const fs::path&) {
       write_0600(cred, blocks(good_text, "PRIVATE KEY"));
     },
     errc::bad_credential},
    {"one store's key with another store's certificate",
     [&](const fs::path& cred, const fs::path&) {
       write_0600(cred, blocks(good_text, "PRIVATE KEY") + blocks(other_text, "CERTIFICATE"));
     },
     errc::bad_credential},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    temp_dir dir;
    fs::create_directories(dir.str("store"));
    fs::create_directories(dir.str("outside"));
    auto cred = fs::path(dir.str("store")) / "node.pem";
    auto outside = fs::path(dir.str("outside")) / "target.pem";
    r.make(cred, outside);
    auto before = snapshot_tree(dir.path());
    auto ensured = ensure_node_credential(dir.str("store"));
    ASSERT_FALSE(ensured);
    EXPECT_TRUE(is(ensured.error(), r.expected)) << render(ensured.error());
    system_config cfg;
    auto configured = configure_node(cfg, cred.string());
    EXPECT_TRUE(is(configured, r.expected)) << render(configured);
    EXPECT_TRUE(cfg.openssl_certificate.empty());
    // Nothing changed in the root (format_version aside, which ensuring a store writes) or outside.
    auto after = snapshot_tree(dir.path());
    after.erase("store/format_version");
    EXPECT_EQ(after, before);
  }
}

TEST(CredentialTest, AMissingCredentialFileIsABadCredential) {
  temp_dir dir;
  system_config cfg;
  auto err = configure_node(cfg, dir.str("nothing-here.pem"));
  EXPECT_TRUE(is(err, errc::bad_credential)) << render(err);
}
