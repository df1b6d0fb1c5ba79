// The actor that makes one subscription of a cluster's nodes (actors/cluster_subscription.cpp),
// against stand-in nodes this test drives message by message: what the subscriber sees, in which
// order, and that the router's subscribe is always answered.
#include "actors/cluster_subscription.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "messages/errc.hpp"
#include "messages/system_config.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace std::chrono_literals;

namespace {

/// A node that takes a subscribe, hands the tap it was given (the subscriber at its end) to
/// `observer`, and answers at once, or never when `silent`.
caf::behavior stand_in_node(caf::event_based_actor* self, caf::actor observer, uint64_t id,
                            bool silent) {
  return {
    [=](subscribe_request& req) -> caf::result<subscribed> {
      self->send(observer, req.subscriber);
      if (silent)
        return self->make_response_promise<subscribed>(); // dropped only when the node ends
      return subscribed{id};
    },
    [=](const unsubscribe_request&) {},
  };
}

event at(const std::string& task, int second) {
  auto ev = evstore::testing::make_event(task, "task:state:x");
  ev.ts = timestamp{std::chrono::seconds{1'800'000'000 + second}};
  return ev;
}

class ClusterSubscriptionTest : public ::testing::Test {
protected:
  system_config cfg_;
  caf::actor_system sys_{cfg_};
  caf::scoped_actor test_{sys_};

  /// Two stand-in nodes; `silent_b`: the second never answers the subscribe.
  std::vector<cluster_subscription_node> two_nodes(bool silent_b = false) {
    auto observer = caf::actor_cast<caf::actor>(test_);
    a_ = sys_.spawn(stand_in_node, observer, 11, false);
    b_ = sys_.spawn(stand_in_node, observer, 22, silent_b);
    return {{"node 'a'", caf::actor_cast<store_actor>(a_)},
            {"node 'b'", caf::actor_cast<store_actor>(b_)}};
  }

  /// The tap each node was given, in the order the nodes were asked.
  std::vector<caf::actor> taps(size_t n) {
    std::vector<caf::actor> out;
    for (size_t i = 0; i < n; ++i)
      test_->receive(
        [&](caf::strong_actor_ptr& tap) { out.push_back(caf::actor_cast<caf::actor>(tap)); },
        caf::after(5s) >> [&] { ADD_FAILURE() << "a node was not asked"; });
    return out;
  }

  caf::actor a_;
  caf::actor b_;
};

} // namespace

// A single store tells a subscriber of dropped events only after its caught_up, in stream order.
// Across nodes, one node's drop while another still sends history waits with that node's held
// events: the subscriber sees the merged history, caught_up, the held event, then `lagged`.
TEST_F(ClusterSubscriptionTest, ANodesDropWhileHistoriesMergeReachesTheSubscriberAfterCaughtUp) {
  auto sub = spawn_cluster_subscription(sys_, 7, two_nodes(), caf::duration{5s});
  subscribe_request req;
  req.filter.patterns = {"*"};
  req.subscriber = caf::actor_cast<caf::strong_actor_ptr>(test_);
  req.drop_on_overflow = true;
  req.catch_up = catch_up_spec{0, 10, caf::none};
  test_->send(sub, req);
  auto tap = taps(2);
  ASSERT_EQ(tap.size(), 2u);
  test_->receive([](const subscribed& ok) { EXPECT_EQ(ok.id, 7u); },
                 [](const caf::error& err) { ADD_FAILURE() << render(err); },
                 caf::after(5s) >> [] { ADD_FAILURE() << "no answer to the subscribe"; });
  // Node a: its history, caught_up, a live event, then a drop. Node b: its history, caught_up.
  test_->send(tap[0], bus_event{1, at("ta", 1), 0});
  test_->send(tap[0], caught_up{1});
  test_->send(tap[0], bus_event{1, at("ta", 5), 1});
  test_->send(tap[0], lagged{1, 3});
  // Node a's messages are through (they need no reply) before node b's history starts.
  std::this_thread::sleep_for(200ms);
  test_->send(tap[1], bus_event{2, at("tb", 2), 0});
  test_->send(tap[1], caught_up{2});
  // What the subscriber was sent, in order (the taps' acknowledgements to "the nodes' buses",
  // this actor too, come between and are not compared).
  std::vector<std::string> seen;
  bool quiet = false;
  while (seen.size() < 5 && !quiet)
    test_->receive(
      [&](const bus_event& x) { seen.push_back("event " + x.ev.task); },
      [&](const caught_up&) { seen.push_back("caught_up"); },
      [&](const lagged& x) { seen.push_back("lagged " + std::to_string(x.missed)); },
      [](const bus_ack&) {}, caf::after(5s) >> [&] { quiet = true; });
  const std::vector<std::string> expected = {"event ta", "event tb", "caught_up", "event ta",
                                             "lagged 3"};
  EXPECT_EQ(seen, expected);
  test_->send_exit(sub, caf::exit_reason::user_shutdown);
}

// The router asks with no timeout of its own: a subscription that ends before every node said
// yes (a node lost, the subscriber gone) must still answer, with the reason.
TEST_F(ClusterSubscriptionTest, ASubscribeIsAnsweredWhenTheSubscriptionEndsBeforeEveryNodeSaidYes) {
  for (bool lose_node : {true, false}) {
    SCOPED_TRACE(lose_node ? "node b lost" : "subscriber ended");
    auto sub =
      spawn_cluster_subscription(sys_, 8, two_nodes(/*silent_b=*/true), caf::duration{60s});
    // The subscriber: an actor of its own, which ends when it is reset. (Not a function-based
    // actor without arguments: CAF 0.17 dereferences an empty tuple's null pointer to spawn one,
    // which UBSan reports.)
    auto subscriber = std::make_unique<caf::scoped_actor>(sys_);
    subscribe_request req;
    req.filter.patterns = {"*"};
    req.subscriber = caf::actor_cast<caf::strong_actor_ptr>(*subscriber);
    // The router asks with caf::infinite; a timeout here only turns a hang into a failure.
    auto answer = test_->request(sub, caf::duration{20s}, req);
    ASSERT_EQ(taps(2).size(), 2u);
    if (lose_node)
      test_->send_exit(b_, caf::exit_reason::kill);
    else
      subscriber.reset();
    bool answered = false;
    answer.receive([&](const subscribed&) { ADD_FAILURE() << "subscribed without node b"; },
                   [&](const caf::error& err) {
                     answered = err != caf::sec::request_timeout;
                     EXPECT_TRUE(answered) << "the subscribe was never answered";
                     if (lose_node) {
                       EXPECT_TRUE(is(err, errc::node_unavailable)) << render(err);
                       EXPECT_NE(render(err).find("node 'b'"), std::string::npos) << render(err);
                     }
                   });
    EXPECT_TRUE(answered);
    subscriber.reset();
    test_->send_exit(b_, caf::exit_reason::kill);
    test_->send_exit(a_, caf::exit_reason::kill);
  }
}
