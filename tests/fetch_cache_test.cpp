#include "src/storage/fetch_cache.hpp"

#include <string>

#include <gtest/gtest.h>

using namespace evstore;

namespace {

event named(const std::string& type) {
  event ev;
  ev.task = "t1";
  ev.type = type;
  return ev;
}

// The type kept for the line at `offset`, or "-" if none.
std::string kept(const fetch_cache& cache, uint64_t offset) {
  const event* ev = cache.find(offset);
  return ev ? ev->type : "-";
}

} // namespace

TEST(FetchCache, ALineKeptIsFoundByItsOffset) {
  fetch_cache cache{4};
  cache.put(0, named("a"));
  cache.put(120, named("b"));
  EXPECT_EQ(kept(cache, 0), "a");
  EXPECT_EQ(kept(cache, 120), "b");
  EXPECT_EQ(kept(cache, 60), "-");
}

TEST(FetchCache, ACapacityOfZeroKeepsNothing) {
  fetch_cache cache{0};
  cache.put(0, named("a"));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(kept(cache, 0), "-");
}

TEST(FetchCache, WhenFullTheSlotsAreReplacedInTurnTheFirstFilledFirst) {
  fetch_cache cache{3};
  cache.put(0, named("a"));
  cache.put(10, named("b"));
  cache.put(20, named("c"));
  cache.put(30, named("d"));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(kept(cache, 0), "-"); // the first filled went first
  EXPECT_EQ(kept(cache, 10), "b");
  cache.put(40, named("e"));
  EXPECT_EQ(kept(cache, 10), "-"); // then the second
  EXPECT_EQ(kept(cache, 20), "c");
  EXPECT_EQ(kept(cache, 30), "d");
  EXPECT_EQ(kept(cache, 40), "e");
}

TEST(FetchCache, PuttingAnOffsetAlreadyKeptReplacesItsEventAndEvictsNothing) {
  fetch_cache cache{2};
  cache.put(0, named("a"));
  cache.put(10, named("b"));
  cache.put(10, named("b2")); // the line read again (it no longer matched the plan)
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(kept(cache, 0), "a");
  EXPECT_EQ(kept(cache, 10), "b2");
}

TEST(FetchCache, ClearForgetsEveryLineAndFillsFromTheFirstSlotAgain) {
  fetch_cache cache{2};
  cache.put(0, named("a"));
  cache.put(10, named("b"));
  cache.put(20, named("c")); // replaced slot 0; the next replacement would be slot 1
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(kept(cache, 10), "-");
  cache.put(0, named("x"));
  cache.put(10, named("y"));
  cache.put(20, named("z"));
  EXPECT_EQ(kept(cache, 0), "-"); // the first filled after the clear goes first
  EXPECT_EQ(kept(cache, 10), "y");
}
