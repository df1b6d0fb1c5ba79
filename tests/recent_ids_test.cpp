#include "src/storage/recent_ids.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace evstore;

namespace {

// A distinct valid uuid per n.
std::string id(int n) {
  char buf[37];
  std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012d", n);
  return buf;
}

} // namespace

TEST(RecentIds, AnIdRememberedIsFoundWithItsPositionAndOffset) {
  recent_ids ids{10};
  ids.remember(id(1), 0, 0);
  ids.remember(id(2), 1, 120);
  auto hit = ids.find(id(2));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->position, 1u);
  EXPECT_EQ(hit->offset, 120u);
  EXPECT_FALSE(ids.find(id(3)));
}

TEST(RecentIds, AnIdThatIsNotAUuidIsNeverRememberedNorFound) {
  recent_ids ids{10};
  ids.remember("not-a-uuid", 0, 0);
  ids.remember("0B7E5F9C-8A55-4D1E-9C3A-1F2E3D4C5B6A", 1, 10); // the crate writes lowercase only
  EXPECT_EQ(ids.size(), 0u);
  EXPECT_FALSE(ids.find("not-a-uuid"));
}

TEST(RecentIds, OnlyTheLastWindowPositionsAreKeptAndTheOldestLeaveFirst) {
  recent_ids ids{3};
  for (int n = 0; n < 5; ++n)
    ids.remember(id(n), static_cast<uint64_t>(n), static_cast<uint64_t>(n) * 100);
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_FALSE(ids.find(id(0)));
  EXPECT_FALSE(ids.find(id(1)));
  for (int n = 2; n < 5; ++n)
    EXPECT_TRUE(ids.find(id(n))) << n;
  ids.remember(id(5), 5, 500);
  EXPECT_FALSE(ids.find(id(2))); // the oldest of the three went, the rest stay
  EXPECT_TRUE(ids.find(id(3)));
  EXPECT_EQ(ids.size(), 3u);
}

TEST(RecentIds, AZeroWindowRemembersNothing) {
  recent_ids ids{0};
  ids.remember(id(1), 0, 0);
  EXPECT_EQ(ids.size(), 0u);
  EXPECT_FALSE(ids.find(id(1)));
}

TEST(RecentIds, AnIdStoredTwiceKeepsItsLatestPlaceWhenItsFirstEntryLeavesTheWindow) {
  recent_ids ids{2};
  ids.remember(id(7), 0, 0);
  ids.remember(id(8), 1, 10);
  ids.remember(id(7), 2, 20); // a file written by another tool may repeat an id
  auto hit = ids.find(id(7));
  ASSERT_TRUE(hit); // its first entry left the window; the later one is still inside it
  EXPECT_EQ(hit->position, 2u);
  EXPECT_EQ(hit->offset, 20u);
  EXPECT_TRUE(ids.find(id(8)));
}

TEST(RecentIds, ClearForgetsEveryIdAndTheWindowStartsAfresh) {
  recent_ids ids{2};
  ids.remember(id(1), 0, 0);
  ids.remember(id(2), 1, 10);
  ids.clear();
  EXPECT_EQ(ids.size(), 0u);
  EXPECT_FALSE(ids.find(id(1)));
  // After a compaction the same ids come back at new positions, from 0 again.
  ids.remember(id(2), 0, 0);
  ids.remember(id(3), 1, 10);
  EXPECT_EQ(ids.find(id(2))->position, 0u);
  EXPECT_EQ(ids.size(), 2u);
}
