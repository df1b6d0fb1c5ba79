#include "node_gate.hpp"

#include <algorithm>
#include <type_traits>

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/errc.hpp"
#include "store_forwarding.hpp"

namespace evstore {

namespace {

// CAF's middleman makes every local actor that sends a message to a peer addressable by that peer
// (it registers the sender so replies can find it). So nothing but the gate and the relays below
// ever sends to a peer: a reply is relayed by the gate, never delegated (the store would answer
// the peer itself, and the peer could then send the store its internal protocol).

/// Accepts exit messages only from a sender of this process, and drops unexpected messages
/// quietly. A peer can address the gate (and a relay) and send it an exit, which CAF marks with the
/// gate's own address as its source; only the sender tells where it came from. (An exit with
/// exit_reason::kill skips every handler: serve.cpp stops the store when its gate dies.)
template <class Self>
void refuse_remote_exits(Self* self) {
  // What a peer sends outside the interface is answered with unexpected_message, silently: CAF's
  // default handler would print each one on the node's stderr.
  self->set_default_handler(caf::drop);
  self->set_exit_handler([=](caf::exit_msg& msg) {
    const auto& sender = self->current_sender();
    if (!sender || sender->node() != self->node())
      return;
    self->quit(msg.reason);
  });
}

/// Stands between the bus and one remote subscriber: it forwards what the bus delivers and the
/// subscriber's acknowledgements, so the subscriber only ever learns the relay's address. It ends
/// when the subscriber does (or its connection drops); the bus, which monitors its subscribers,
/// then drops the subscription. It also ends with the store, so a node always shuts down, whatever
/// the middleman knows of the peer.
caf::behavior relay_behavior(caf::event_based_actor* self, caf::actor subscriber,
                             store_actor store) {
  refuse_remote_exits(self);
  self->monitor(subscriber);
  self->monitor(store);
  auto bus = std::make_shared<caf::actor>();
  self->set_down_handler([=](caf::down_msg& down) {
    if (down.source == subscriber || down.source == store)
      self->quit();
  });
  auto from_bus = [=] {
    if (!*bus)
      *bus = caf::actor_cast<caf::actor>(self->current_sender());
  };
  return {
    [=](bus_event& x) {
      from_bus();
      self->send(subscriber, std::move(x));
    },
    [=](caught_up& x) {
      from_bus();
      self->send(subscriber, x);
    },
    [=](lagged& x) {
      from_bus();
      self->send(subscriber, x);
    },
    [=](bus_ack& x) {
      if (*bus)
        self->send(*bus, x);
    },
  };
}

/// Why `task` is not this node's to serve, or none if it is.
caf::error foreign(const node_ownership& own, const std::string& task) {
  const size_t owner = own.membership.owner_of(task);
  if (std::find(own.self.begin(), own.self.end(), owner) != own.self.end())
    return caf::none;
  const auto shown = task.empty() ? std::string{"the system-wide log"} : "task '" + task + "'";
  std::string self;
  for (size_t i : own.self)
    self += (self.empty() ? "'" : ", '") + own.membership.nodes[i].name + "'";
  return make_error(errc::wrong_node,
                    shown + " belongs to node '" + own.membership.nodes[owner].name
                      + "' in this node's membership file, not to " + self
                      + " (this node): the client's membership file differs from the nodes'");
}

/// The tasks a request names, checked against the membership: appends (each of a batch), reads,
/// compactions and subscriptions to one task (the router sends those to the task's owner only: on
/// another node they would catch up on nothing and hear nothing, without an error). The rest names
/// no task (queries, listings, pattern subscriptions and the store-wide operations each node does
/// for its own tasks).
template <class Request>
caf::error foreign_task(const node_ownership& own, const Request& x) {
  if constexpr (std::is_same_v<Request, append_request>) {
    return foreign(own, x.ev.task);
  } else if constexpr (std::is_same_v<Request, append_batch_request>) {
    for (const auto& one : x.appends)
      if (auto err = foreign(own, one.ev.task))
        return err; // nothing of a batch is written when any of it is misrouted
    return caf::none;
  } else if constexpr (std::is_same_v<Request, read_request>
                       || std::is_same_v<Request, compact_request>) {
    return foreign(own, x.task);
  } else if constexpr (std::is_same_v<Request, subscribe_request>) {
    return x.filter.task ? foreign(own, *x.filter.task) : caf::none;
  } else {
    return caf::none;
  }
}

/// Asks the store and relays its answer (or error) to the peer through `promise`.
template <class Reply, class Request>
caf::typed_response_promise<Reply> relay(store_actor::pointer self, const store_actor& store,
                                         Request&& x) {
  auto promise = self->template make_response_promise<Reply>();
  self->request(store, caf::infinite, std::forward<Request>(x))
    .then([promise](Reply& reply) mutable { promise.deliver(std::move(reply)); },
          [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
  return promise;
}

store_actor::behavior_type gate_behavior(store_actor::pointer self, store_actor store,
                                         std::shared_ptr<const node_ownership> ownership) {
  refuse_remote_exits(self);
  self->monitor(store);
  self->set_down_handler([=](caf::down_msg& down) {
    if (down.source == store)
      self->quit(down.reason);
  });
  auto ask = [=](auto&& x, auto tag) {
    using request_type = std::decay_t<decltype(x)>;
    using reply_type = typename decltype(tag)::type;
    if (ownership) {
      if (auto err = foreign_task(*ownership, x)) {
        auto refused = self->template make_response_promise<reply_type>();
        refused.deliver(std::move(err));
        return refused;
      }
    }
    if constexpr (std::is_same_v<request_type, subscribe_request>) {
      // A local subscriber (an actor of this process) talks to the bus directly.
      if (x.subscriber && x.subscriber->node() != self->node()) {
        auto relay_actor = self->home_system().spawn(
          relay_behavior, caf::actor_cast<caf::actor>(std::move(x.subscriber)), store);
        x.subscriber = caf::actor_cast<caf::strong_actor_ptr>(relay_actor);
      }
    }
    if constexpr (std::is_same_v<request_type, stats_request>) {
      // The membership this node serves, for a router to check against its own file.
      if (ownership) {
        auto promise = self->template make_response_promise<index_stats>();
        self->request(store, caf::infinite, std::move(x))
          .then(
            [promise, ownership](index_stats& stats) mutable {
              stats.cluster_membership = ownership->membership.ownership_key();
              for (size_t i : ownership->self)
                stats.cluster_serving_as.push_back(ownership->membership.nodes[i].name);
              promise.deliver(std::move(stats));
            },
            [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
        return promise;
      }
    }
    return relay<reply_type>(self, store, std::move(x));
  };
  return forwarding_behavior(ask, [=](unsubscribe_request&& x) { self->send(store, std::move(x)); });
}

} // namespace

store_actor spawn_node_gate(caf::actor_system& sys, const store_actor& store,
                            std::shared_ptr<const node_ownership> ownership) {
  return sys.spawn(gate_behavior, store, std::move(ownership));
}

} // namespace evstore
