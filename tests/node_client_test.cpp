// The client side of a node connection (actors/node_client.hpp, src/node/liveness.hpp), against a
// stand-in gate in this process: a request that waits for the node's work (compact_all) has no
// timeout and is answered however long the work takes while the node answers the client's checks
// that it lives, and fails with node_unavailable, saying so, once the node stops answering them.
#include "actors/node_client.hpp"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>

#include "messages/errc.hpp"
#include "messages/node_ping.hpp"
#include "messages/system_config.hpp"

using namespace evstore;
using namespace std::chrono_literals;

namespace {

struct gate_state {
  std::vector<caf::typed_response_promise<compact_result>> working;
  size_t pings = 0;
};

/// How a stand-in gate meets the client's pings.
enum class pings_are { answered, unanswered, refused };

/// A gate whose compact_all takes `work`, and that meets the client's pings as `pings` says
/// (refused: as a gate of a version without node_ping would, with an error).
caf::behavior stand_in_gate(caf::stateful_actor<gate_state>* self, std::chrono::milliseconds work,
                            pings_are pings) {
  return {
    [=](const compact_all_request&) -> caf::result<compact_result> {
      auto promise = self->make_response_promise<compact_result>();
      self->state.working.push_back(promise);
      self->delayed_send(self, work, caf::tick_atom::value);
      return promise;
    },
    [=](caf::tick_atom) {
      for (auto& p : self->state.working)
        p.deliver(compact_result{7, 1, 0});
      self->state.working.clear();
    },
    [=](node_ping) -> caf::result<node_ping> {
      ++self->state.pings;
      if (pings == pings_are::unanswered)
        return self->make_response_promise<node_ping>(); // never answered
      if (pings == pings_are::refused)
        return caf::make_error(caf::sec::unexpected_message);
      return node_ping{};
    },
    [=](caf::get_atom) { return self->state.pings; },
  };
}

class NodeClientTest : public ::testing::Test {
protected:
  system_config cfg_;
  caf::actor_system sys_{cfg_};
  caf::scoped_actor test_{sys_};
  const std::chrono::milliseconds timeout_{200};

  /// compact_all through a client of `gate`, waited for without a limit; how long it took.
  caf::expected<compact_result> compact_all_through(const caf::actor& gate,
                                                    std::chrono::milliseconds* took) {
    auto client = spawn_node_client(sys_, caf::actor_cast<store_actor>(gate), timeout_);
    caf::expected<compact_result> out{caf::error{}};
    const auto start = std::chrono::steady_clock::now();
    test_->request(client, caf::infinite, compact_all_request{})
      .receive([&](compact_result& r) { out = r; }, [&](caf::error& err) { out = err; });
    *took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
    test_->send_exit(client, caf::exit_reason::user_shutdown);
    return out;
  }

  /// compact_all through a client of a stand-in gate whose work takes 8 timeouts and that meets
  /// the client's pings as `pings` says: expected answered, after the whole work. Returns the
  /// gate, still running.
  caf::actor expect_long_work_answered(pings_are pings) {
    auto gate = sys_.spawn(stand_in_gate, 8 * timeout_, pings);
    std::chrono::milliseconds took{0};
    auto done = compact_all_through(gate, &took);
    EXPECT_TRUE(done) << render(done.error());
    if (done) {
      EXPECT_EQ(done->removed, 7u);
    }
    EXPECT_GE(took, 8 * timeout_);
    return gate;
  }
};

} // namespace

TEST_F(NodeClientTest, LongWorkIsWaitedForAsLongAsTheNodeAnswersItsChecks) {
  auto gate = expect_long_work_answered(pings_are::answered);
  size_t pings = 0;
  test_->request(gate, caf::infinite, caf::get_atom::value).receive([&](size_t n) { pings = n; },
                                                                    [](caf::error&) {});
  EXPECT_GE(pings, 3u) << "the client did not check that the node lives";
  test_->send_exit(gate, caf::exit_reason::user_shutdown);
}

TEST_F(NodeClientTest, LongWorkFailsOnceTheNodeStopsAnsweringItsChecks) {
  // The work would take a minute; the node answers no check: a few timeouts, not a minute.
  auto gate = sys_.spawn(stand_in_gate, std::chrono::milliseconds{60'000}, pings_are::unanswered);
  std::chrono::milliseconds took{0};
  auto done = compact_all_through(gate, &took);
  ASSERT_FALSE(done);
  EXPECT_TRUE(is(done.error(), errc::node_unavailable)) << render(done.error());
  EXPECT_NE(render(done.error()).find("checks in a row that it lives"), std::string::npos)
    << render(done.error());
  EXPECT_LT(took, 20 * timeout_);
  test_->send_exit(gate, caf::exit_reason::kill);
}

TEST_F(NodeClientTest, ANodeThatAnswersItsChecksWithAnErrorIsAliveAndItsLongWorkWaitedFor) {
  // A gate of a version without node_ping answers each check with an error: an answer all the
  // same, so the node lives.
  auto gate = expect_long_work_answered(pings_are::refused);
  test_->send_exit(gate, caf::exit_reason::user_shutdown);
}
