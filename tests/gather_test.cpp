#include "actors/gather.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <gtest/gtest.h>

#include "messages/errc.hpp"
#include "messages/system_config.hpp"

using namespace evstore;

namespace {

// Answers n with n * 10, or an error for odd n when asked to.
using echo_actor = caf::typed_actor<caf::replies_to<uint64_t>::with<uint64_t>>;

echo_actor::behavior_type echo(echo_actor::pointer, bool fail_odd) {
  return {
    [=](uint64_t n) -> caf::result<uint64_t> {
      if (fail_odd && n % 2 == 1)
        return make_error(errc::invalid_argument, "odd");
      return n * 10;
    },
  };
}

struct outcome {
  std::vector<uint64_t> replies;
  std::vector<uint64_t> failed;
  int done = 0;
};

// Runs gather from inside an actor and returns what the callbacks saw. With `max_weight`, it runs
// gather_weighted, each item weighing its value, and puts the most weight in flight at once in
// `most_weight`.
outcome run_gather(caf::actor_system& sys, std::vector<uint64_t> items, size_t window,
                   bool fail_odd, size_t* most_in_flight = nullptr, uint64_t max_weight = 0,
                   uint64_t* most_weight = nullptr, size_t min_in_flight = 1) {
  auto target = sys.spawn(echo, fail_odd);
  auto result = std::make_shared<outcome>();
  auto in_flight = std::make_shared<size_t>(0);
  auto peak = std::make_shared<size_t>(0);
  auto weight = std::make_shared<uint64_t>(0);
  auto peak_weight = std::make_shared<uint64_t>(0);
  {
    caf::scoped_actor waiter{sys};
    // The handle goes in as an argument: CAF 0.17 spawning a function with no arguments binds a
    // reference to a null pointer (UBSan reports it).
    auto gatherer = sys.spawn([=](caf::event_based_actor* self, echo_actor target) {
      auto send = [=](uint64_t n) {
        *peak = std::max(*peak, ++*in_flight);
        *peak_weight = std::max(*peak_weight, *weight += n);
        return self->request(target, caf::infinite, n);
      };
      auto on_reply = [=](uint64_t n, uint64_t reply) {
        --*in_flight;
        *weight -= n;
        result->replies.push_back(reply);
      };
      auto on_error = [=](uint64_t n, caf::error&) {
        --*in_flight;
        *weight -= n;
        result->failed.push_back(n);
      };
      auto on_done = [=] { ++result->done; };
      if (max_weight > 0)
        gather_weighted<uint64_t>(items, window, min_in_flight, [](uint64_t n) { return n; },
                                  max_weight, send, on_reply, on_error, on_done);
      else
        gather<uint64_t>(items, window, send, on_reply, on_error, on_done);
    }, target);
    waiter->wait_for(gatherer);
  }
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  if (most_in_flight)
    *most_in_flight = *peak;
  if (most_weight)
    *most_weight = *peak_weight;
  return *result;
}

} // namespace

class GatherTest : public ::testing::Test {
protected:
  system_config cfg_;
  caf::actor_system sys_{cfg_};
};

TEST_F(GatherTest, EveryItemIsAnsweredAndDoneRunsOnceAfterTheLast) {
  auto out = run_gather(sys_, {1, 2, 3, 4, 5}, 0, false);
  std::sort(out.replies.begin(), out.replies.end());
  EXPECT_EQ(out.replies, (std::vector<uint64_t>{10, 20, 30, 40, 50}));
  EXPECT_TRUE(out.failed.empty());
  EXPECT_EQ(out.done, 1);
}

TEST_F(GatherTest, ErrorsGoToTheirOwnCallbackAndTheOthersStillArrive) {
  auto out = run_gather(sys_, {1, 2, 3, 4}, 2, true);
  std::sort(out.failed.begin(), out.failed.end());
  EXPECT_EQ(out.replies.size(), 2u);
  EXPECT_EQ(out.failed, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(out.done, 1);
}

TEST_F(GatherTest, NoItemsMeansDoneAtOnce) {
  auto out = run_gather(sys_, {}, 3, false);
  EXPECT_TRUE(out.replies.empty());
  EXPECT_EQ(out.done, 1);
}

TEST_F(GatherTest, TheWindowBoundsRequestsInFlight) {
  std::vector<uint64_t> items(100);
  for (size_t i = 0; i < items.size(); ++i)
    items[i] = i;
  size_t peak = 0;
  auto out = run_gather(sys_, items, 3, false, &peak);
  EXPECT_EQ(out.replies.size(), 100u);
  EXPECT_EQ(out.done, 1);
  EXPECT_LE(peak, 3u);
  EXPECT_GE(peak, 1u);
  size_t unbounded = 0;
  run_gather(sys_, items, 0, false, &unbounded);
  EXPECT_EQ(unbounded, 100u); // window 0: all at once
}

// The population's byte budget: items weigh their value; at most 10 in flight by weight, besides the
// window, except an item heavier than that alone, which still goes (alone).
TEST_F(GatherTest, AWeightLimitBoundsTheWeightInFlightButNeverStopsAHeavyItem) {
  std::vector<uint64_t> items;
  for (int round = 0; round < 20; ++round)
    for (uint64_t n : {1, 2, 3, 4, 0, 6})
      items.push_back(n);
  items.push_back(25); // heavier than the limit
  items.push_back(1);
  size_t peak = 0;
  uint64_t peak_weight = 0;
  auto out = run_gather(sys_, items, 8, false, &peak, 10, &peak_weight);
  EXPECT_EQ(out.replies.size(), items.size());
  EXPECT_EQ(out.done, 1);
  EXPECT_LE(peak, 8u);
  EXPECT_EQ(peak_weight, 25u); // the heavy item, alone
  uint64_t peak_without_heavy = 0;
  items.erase(items.end() - 2);
  out = run_gather(sys_, items, 8, false, &peak, 10, &peak_without_heavy);
  EXPECT_EQ(out.replies.size(), items.size());
  EXPECT_LE(peak_without_heavy, 10u);
  EXPECT_GE(peak_without_heavy, 5u); // the limit lets several go at once
}

// However heavy, `min_in_flight` items go at once (the population keeps two cores busy on big
// files), and no more than the window.
TEST_F(GatherTest, AWeightLimitStillLetsTheMinimumNumberOfHeavyItemsGo) {
  std::vector<uint64_t> items(30, 100); // each over the limit of 10 on its own
  size_t peak = 0;
  uint64_t peak_weight = 0;
  auto out = run_gather(sys_, items, 8, false, &peak, 10, &peak_weight, 3);
  EXPECT_EQ(out.replies.size(), items.size());
  EXPECT_EQ(out.done, 1);
  EXPECT_EQ(peak, 3u);
  EXPECT_EQ(peak_weight, 300u);
  out = run_gather(sys_, items, 2, false, &peak, 10, &peak_weight, 3);
  EXPECT_EQ(out.replies.size(), items.size());
  EXPECT_EQ(peak, 2u); // the window still bounds it
}
