#include "cluster_subscription.hpp"

#include <deque>
#include <limits>
#include <memory>
#include <variant>

#include <caf/typed_event_based_actor.hpp>

#include "messages/errc.hpp"
#include "src/index/query_order.hpp"

namespace evstore {

namespace {

/// A node's end of the subscription: what the node's bus sees as the subscriber. It passes the
/// node's messages on with `subscription` set to its slot, and the parent's acknowledgements back
/// to the node with the node's own subscription id.
using tap_actor = caf::typed_actor<caf::reacts_to<bus_event>, caf::reacts_to<caught_up>,
                                   caf::reacts_to<lagged>, caf::reacts_to<bus_ack>>;

struct tap_state {
  bus_ack_receiver node_bus;
  uint64_t node_subscription = 0;
};

tap_actor::behavior_type tap_behavior(tap_actor::stateful_pointer<tap_state> self, uint64_t slot,
                                      cluster_subscription_actor parent) {
  auto from_node = [=](uint64_t subscription) {
    auto& st = self->state;
    st.node_bus = caf::actor_cast<bus_ack_receiver>(self->current_sender());
    st.node_subscription = subscription;
  };
  return {
    [=](bus_event& x) {
      from_node(x.subscription);
      x.subscription = slot;
      self->send(parent, std::move(x));
    },
    [=](const caught_up& x) {
      from_node(x.subscription);
      self->send(parent, caught_up{slot});
    },
    [=](const lagged& x) {
      from_node(x.subscription);
      self->send(parent, lagged{slot, x.missed});
    },
    [=](const bus_ack& x) {
      auto& st = self->state;
      if (st.node_bus)
        self->send(st.node_bus, bus_ack{st.node_subscription, x.count});
    },
  };
}

constexpr uint64_t no_slot = std::numeric_limits<uint64_t>::max();

struct node_stream {
  cluster_subscription_node node;
  tap_actor tap;
  uint64_t node_subscription = 0;
  bool caught_up = false;
  /// What the node sent, while histories merge, that must follow the merged history: its live
  /// events after it caught up, and any `lagged` in its place among them (a single store tells of
  /// drops after its caught_up too).
  std::deque<std::variant<bus_event, lagged>> held;
};

struct subscription_state {
  uint64_t id = 0;
  caf::duration timeout;
  std::vector<node_stream> streams;
  subscriber_actor subscriber;
  /// The router's subscribe, until every node said yes: answered (with the reason) whatever ends
  /// the subscription first, so no caller waits on a dropped promise.
  caf::typed_response_promise<subscribed> subscribing;
  /// Merging histories: until every node caught up.
  bool merging = false;
  std::unique_ptr<latest_events> history;
  /// The slot of each event sent to the subscriber and not yet acknowledged by it, in order
  /// (no_slot: already acknowledged to its node, a history event).
  std::deque<uint64_t> unacked;
};

using sub_pointer = cluster_subscription_actor::stateful_pointer<subscription_state>;

void deliver(sub_pointer self, bus_event x, uint64_t slot) {
  auto& st = self->state;
  x.subscription = st.id;
  st.unacked.push_back(slot);
  self->send(st.subscriber, std::move(x));
}

/// Every node caught up: the merged history, caught_up, and what was held since.
void finish_catch_up(sub_pointer self) {
  auto& st = self->state;
  st.merging = false;
  for (auto& r : st.history->take_ranked())
    deliver(self, bus_event{0, std::move(r.ev), r.position}, no_slot);
  st.history.reset();
  self->send(st.subscriber, caught_up{st.id});
  for (size_t slot = 0; slot < st.streams.size(); ++slot) {
    auto held = std::move(st.streams[slot].held);
    st.streams[slot].held.clear();
    for (auto& x : held) {
      if (auto* ev = std::get_if<bus_event>(&x))
        deliver(self, std::move(*ev), slot);
      else
        self->send(st.subscriber, lagged{st.id, std::get<lagged>(x).missed});
    }
  }
}

void end(sub_pointer self, const caf::error& why) {
  auto& st = self->state;
  if (st.subscribing.pending())
    st.subscribing.deliver(why ? why
                               : make_error(errc::invalid_argument,
                                            "the subscription ended before every node had "
                                            "subscribed: its subscriber ended or unsubscribed"));
  for (auto& s : st.streams)
    if (s.node_subscription != 0 && s.node.client)
      self->send(s.node.client, unsubscribe_request{s.node_subscription});
  if (why && st.subscriber)
    self->send_exit(st.subscriber, why);
  self->quit(why ? why : caf::error{caf::exit_reason::user_shutdown});
}

cluster_subscription_actor::behavior_type
subscription_behavior(sub_pointer self, uint64_t id, std::vector<cluster_subscription_node> nodes,
                      caf::duration timeout) {
  auto& st = self->state;
  st.id = id;
  st.timeout = timeout;
  for (size_t slot = 0; slot < nodes.size(); ++slot) {
    node_stream s;
    s.node = std::move(nodes[slot]);
    s.tap = self->spawn<caf::linked>(tap_behavior, slot,
                                     caf::actor_cast<cluster_subscription_actor>(self));
    self->monitor(s.node.client);
    st.streams.push_back(std::move(s));
  }
  self->set_down_handler([=](caf::down_msg& down) {
    auto& st = self->state;
    if (st.subscriber && down.source == st.subscriber.address()) {
      end(self, caf::none); // the subscriber ended: so does its subscription
      return;
    }
    for (auto& s : st.streams)
      if (s.node.client.address() == down.source) {
        s.node.client = store_actor{};
        end(self, make_error(errc::node_unavailable,
                             s.node.label + " is unavailable: its connection was lost"));
        return;
      }
  });
  return {
    [=](subscribe_request& req) -> caf::result<subscribed> {
      auto& st = self->state;
      st.subscriber = caf::actor_cast<subscriber_actor>(req.subscriber);
      self->monitor(st.subscriber);
      st.merging = req.catch_up && !req.filter.task && st.streams.size() > 1;
      if (st.merging)
        st.history = std::make_unique<latest_events>(req.catch_up->limit);
      st.subscribing = self->make_response_promise<subscribed>();
      auto left = std::make_shared<size_t>(st.streams.size());
      for (size_t slot = 0; slot < st.streams.size(); ++slot) {
        auto& s = st.streams[slot];
        subscribe_request at_node = req;
        at_node.subscriber = caf::actor_cast<caf::strong_actor_ptr>(s.tap);
        self->request(s.node.client, st.timeout, std::move(at_node))
          .then(
            [=](const subscribed& ok) {
              auto& st = self->state;
              st.streams[slot].node_subscription = ok.id;
              if (--*left == 0 && st.subscribing.pending())
                st.subscribing.deliver(subscribed{st.id});
            },
            [=](caf::error& err) {
              auto& st = self->state;
              if (!st.subscribing.pending())
                return;
              auto& s = st.streams[slot];
              // The node's own refusal (an invalid filter) passes as it is; a lost node is named.
              const bool lost = err.category() != caf::atom("evstore")
                                || err.code() == static_cast<uint8_t>(errc::node_unavailable);
              st.subscribing.deliver(lost ? make_error(errc::node_unavailable,
                                                       s.node.label + " is unavailable: "
                                                         + self->system().render(err))
                                          : err);
              end(self, caf::none);
            });
      }
      return st.subscribing;
    },
    [=](const unsubscribe_request&) { end(self, caf::none); },
    [=](bus_event& x) {
      auto& st = self->state;
      const uint64_t slot = x.subscription;
      if (slot >= st.streams.size())
        return;
      auto& s = st.streams[slot];
      if (!st.merging) {
        deliver(self, std::move(x), slot);
      } else if (!s.caught_up) {
        // History: held here (the node's best `limit`), so it is acknowledged at once.
        self->send(s.tap, bus_ack{slot, 1});
        st.history->offer(ranked_event{x.position, std::move(x.ev)});
      } else {
        s.held.push_back(std::move(x));
      }
    },
    [=](const caught_up& x) {
      auto& st = self->state;
      if (x.subscription >= st.streams.size())
        return;
      if (!st.merging) {
        self->send(st.subscriber, caught_up{st.id});
        return;
      }
      st.streams[x.subscription].caught_up = true;
      for (const auto& s : st.streams)
        if (!s.caught_up)
          return;
      finish_catch_up(self);
    },
    [=](const lagged& x) {
      auto& st = self->state;
      if (x.subscription >= st.streams.size())
        return;
      // While histories merge, after the events the node held before the drop, as they were sent
      // (so after the one caught_up, where a single store tells of drops).
      if (st.merging)
        st.streams[x.subscription].held.emplace_back(x);
      else
        self->send(st.subscriber, lagged{st.id, x.missed});
    },
    [=](const bus_ack& x) {
      auto& st = self->state;
      // Acknowledgements per node, gathered: one message to each node's tap.
      std::vector<uint32_t> per_slot(st.streams.size(), 0);
      for (uint32_t n = 0; n < x.count && !st.unacked.empty(); ++n) {
        const uint64_t slot = st.unacked.front();
        st.unacked.pop_front();
        if (slot != no_slot)
          ++per_slot[slot];
      }
      for (size_t slot = 0; slot < per_slot.size(); ++slot)
        if (per_slot[slot] > 0)
          self->send(st.streams[slot].tap, bus_ack{slot, per_slot[slot]});
    },
  };
}

} // namespace

cluster_subscription_actor spawn_cluster_subscription(caf::actor_system& sys, uint64_t id,
                                                      std::vector<cluster_subscription_node> nodes,
                                                      caf::duration timeout) {
  return sys.spawn(subscription_behavior, id, std::move(nodes), timeout);
}

} // namespace evstore
