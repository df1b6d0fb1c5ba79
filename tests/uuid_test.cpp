#include "src/format/uuid.hpp"

#include <array>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

using namespace evstore;

TEST(Uuid, GeneratesLowercaseVersionFourIds) {
  for (int i = 0; i < 100; ++i) {
    auto id = make_uuid_v4();
    ASSERT_TRUE(parse_uuid(id)) << id;
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
  }
  EXPECT_NE(make_uuid_v4(), make_uuid_v4());
}

TEST(Uuid, ParsesOnlyLowercaseHyphenatedForm) {
  EXPECT_TRUE(parse_uuid("0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a"));
  EXPECT_FALSE(parse_uuid("0B7E5F9C-8A55-4D1E-9C3A-1F2E3D4C5B6A"));
  EXPECT_FALSE(parse_uuid("0b7e5f9c8a554d1e9c3a1f2e3d4c5b6a"));
  EXPECT_FALSE(parse_uuid("0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6"));
  EXPECT_NE(*parse_uuid("0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a"),
            *parse_uuid("0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6b"));
}

namespace {

// Forks `n` children that each print the first id they make, all released at the same instant.
std::vector<std::string> first_ids_of_children(int n) {
  int go[2], ids[2];
  EXPECT_EQ(pipe(go), 0);
  EXPECT_EQ(pipe(ids), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < n; ++i) {
    pid_t child = fork();
    if (child == 0) {
      char c;
      (void) !read(go[0], &c, 1); // all wait here, then start together
      auto id = make_uuid_v4() + "\n";
      (void) !write(ids[1], id.data(), id.size()); // 37 bytes: atomic on a pipe
      _exit(0);
    }
    children.push_back(child);
  }
  close(go[0]);
  close(ids[1]);
  std::string release(static_cast<size_t>(n), 'g');
  EXPECT_EQ(write(go[1], release.data(), release.size()), static_cast<ssize_t>(n));
  close(go[1]);
  std::string all;
  char buf[4096];
  for (ssize_t got; (got = read(ids[0], buf, sizeof(buf))) > 0;)
    all.append(buf, static_cast<size_t>(got));
  close(ids[0]);
  for (auto pid : children)
    waitpid(pid, nullptr, 0);
  std::vector<std::string> out;
  for (size_t at = 0, nl; (nl = all.find('\n', at)) != std::string::npos; at = nl + 1)
    out.push_back(all.substr(at, nl - at));
  return out;
}

} // namespace

TEST(Uuid, ProcessesStartedTogetherNeverShareAFirstId) {
  auto ids = first_ids_of_children(64);
  ASSERT_EQ(ids.size(), 64u);
  std::set<std::string> distinct(ids.begin(), ids.end());
  EXPECT_EQ(distinct.size(), ids.size());
}

TEST(Uuid, AForkedChildNeverRepeatsItsParentsNextIds) {
  // The parent has drawn one id, so its per-thread buffer holds unread randomness a child inherits.
  auto parent_first = make_uuid_v4();
  auto children = first_ids_of_children(16);
  std::set<std::string> seen(children.begin(), children.end());
  EXPECT_EQ(seen.size(), children.size());
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(seen.count(make_uuid_v4()), 0u) << "a child made an id its parent makes next";
  EXPECT_EQ(seen.count(parent_first), 0u);
}

TEST(Uuid, MillionIdsHaveNoDuplicateAndUseEveryRandomNibble) {
  std::unordered_set<std::string> seen;
  std::array<int, 16> first_nibble{};
  for (int i = 0; i < 1'000'000; ++i) {
    auto id = make_uuid_v4();
    ASSERT_TRUE(seen.insert(id).second) << "duplicate " << id;
    ++first_nibble[static_cast<size_t>(std::string("0123456789abcdef").find(id[0]))];
  }
  for (int count : first_nibble) // each of 16 values ~62,500 times; far outside 55,000-70,000 is broken
    EXPECT_NEAR(count, 62'500, 7'500);
}
