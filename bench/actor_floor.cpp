#include "actor_floor.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

namespace bench {

namespace {

caf::behavior echo(caf::event_based_actor*) {
  return {[](int x) { return x; }};
}

// Like a query actor: one request in, N requests out, one reply when the last answer is in.
caf::behavior fan_out(caf::event_based_actor* self, std::shared_ptr<std::vector<caf::actor>> peers) {
  return {[=](bool) {
    auto promise = self->make_response_promise();
    auto pending = std::make_shared<size_t>(peers->size());
    for (const auto& peer : *peers)
      self->request(peer, caf::infinite, 1).then([=](int) mutable {
        if (--*pending == 0) {
          promise.deliver(true);
          self->quit();
        }
      });
    return promise;
  }};
}

} // namespace

double actor_fanout_floor_ms(caf::actor_system& sys, int actors, int runs) {
  auto peers = std::make_shared<std::vector<caf::actor>>();
  for (int i = 0; i < std::max(actors, 1); ++i)
    peers->push_back(sys.spawn(echo));
  std::vector<double> times;
  caf::scoped_actor self{sys};
  for (int r = -3; r < runs; ++r) { // three warm-up runs, as for the queries
    auto t0 = std::chrono::steady_clock::now();
    self->request(self->spawn(fan_out, peers), caf::infinite, true).receive([](bool) {},
                                                                           [](caf::error&) {});
    if (r >= 0)
      times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  for (const auto& peer : *peers)
    caf::anon_send_exit(peer, caf::exit_reason::user_shutdown);
  std::sort(times.begin(), times.end());
  return times.empty() ? 0 : times[times.size() / 2];
}

} // namespace bench
