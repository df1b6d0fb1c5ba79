#include "node_gate.hpp"

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <thread>
#include <type_traits>

#include <unistd.h>

#include <caf/blocking_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/errc.hpp"
#include "src/storage/store_layout.hpp"
#include "store_forwarding.hpp"
#include "store_internal.hpp"

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
/// when the subscriber does (or its connection drops), or its gate; the bus, which monitors its
/// subscribers, then drops the subscription. It also ends with the store, so a node always shuts
/// down, whatever the middleman knows of the peer.
caf::behavior relay_behavior(caf::event_based_actor* self, caf::actor subscriber,
                             store_actor store, caf::actor gate) {
  refuse_remote_exits(self);
  self->monitor(subscriber);
  self->monitor(store);
  // And with the gate it was made through: a gate replaced as a rebalance ends takes the
  // subscriptions of its connections with it, since they were made under the old membership.
  self->monitor(gate);
  auto bus = std::make_shared<caf::actor>();
  self->set_down_handler([=](caf::down_msg& down) {
    if (down.source == subscriber || down.source == store || down.source == gate)
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

template <class Reply>
caf::typed_response_promise<Reply> refuse(node_actor::pointer self, caf::error err) {
  auto refused = self->template make_response_promise<Reply>();
  refused.deliver(std::move(err));
  return refused;
}

struct gate_state {
  static inline const char* name = "evstore.node_gate";
  node_serving serving;
  /// Replaced by a successor (a rebalance ended): it answers nothing more, so no request reaches
  /// the store through a connection made under the old membership.
  bool retired = false;
  /// Requests relayed to the store and not answered yet, and the begins waiting for them: a
  /// rebalance lists and copies the tasks only once no append, compaction or query that came
  /// before it can still touch them.
  uint64_t in_flight = 0;
  std::vector<caf::typed_response_promise<rebalance_status>> begins_waiting;
};

using gate_pointer = node_actor::stateful_pointer<gate_state>;

/// Answers the begins that waited for the requests in flight once the last of them is answered.
void settle_in_flight(gate_pointer self) {
  auto& st = self->state;
  if (--st.in_flight > 0 || st.begins_waiting.empty() || !st.serving.target)
    return;
  const auto key = st.serving.target->membership.ownership_key();
  for (auto& promise : st.begins_waiting)
    promise.deliver(rebalance_status{true, key});
  st.begins_waiting.clear();
}

/// Asks the store and relays its answer (or error) to the peer through a promise. A request let in
/// outside a rebalance is counted as in flight until it is answered (a rebalance begins only once
/// none is); those let in during one (statistics, the moving itself) are not waited for.
template <class Reply, class Handle, class Request>
caf::typed_response_promise<Reply> relay(gate_pointer self, const Handle& store, Request&& x) {
  auto promise = self->template make_response_promise<Reply>();
  const bool counted = self->state.serving.rebalance_text.empty();
  if (counted)
    ++self->state.in_flight;
  self->request(store, caf::infinite, std::forward<Request>(x))
    .then(
      [self, promise, counted](Reply& reply) mutable {
        promise.deliver(std::move(reply));
        if (counted)
          settle_in_flight(self);
      },
      [self, promise, counted](caf::error& err) mutable {
        promise.deliver(std::move(err));
        if (counted)
          settle_in_flight(self);
      });
  return promise;
}

/// What a gate that was replaced ends with: serve.cpp's teardown then leaves the node running.
caf::error replaced_reason() {
  return make_error(errc::rebalancing, "the node's gate was replaced as a rebalance ended");
}

/// Publishes `successor` on the gate's port and ends the gate `old`, on a thread of its own (CAF's
/// publish is a blocking call, and the middleman closes the old gate's port only some time after
/// the unpublish, which is not answered: the port is tried again until it is free).
void publish_successor(caf::blocking_actor* self, node_actor old, node_actor successor,
                       node_serving::publication::where at) {
  caf::expected<uint16_t> bound = caf::sec::cannot_open_port;
  for (int attempt = 0; attempt < 500; ++attempt) {
    bound = caf::openssl::publish(successor, at.port, at.host.c_str(), true);
    if (bound)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  if (!bound) {
    std::cerr << "evstore: cannot publish the node's gate again after the rebalance: "
              << self->home_system().render(bound.error()) << "; the node stops\n";
    self->send_exit(successor, caf::exit_reason::user_shutdown);
    self->send_exit(old, caf::exit_reason::user_shutdown); // the teardown runs: NODE, store
    return;
  }
  if (at.attach_teardown)
    at.attach_teardown(successor);
  self->send_exit(old, replaced_reason());
}

void hand_over(caf::actor_system& sys, node_actor old, node_actor successor,
               node_serving::publication::where at) {
  // Arguments, not captures: CAF 0.17 dereferences a null tuple for an actor spawned without any.
  sys.spawn<caf::detached>(publish_successor, std::move(old), std::move(successor), std::move(at));
}

/// Replaces this gate by one serving `serving` (see node_gate.hpp).
void replace_gate(gate_pointer self, const store_actor& store,
                  node_serving::publication::where at) {
  self->state.retired = true;
  auto& sys = self->home_system();
  auto successor = spawn_node_gate(sys, store, self->state.serving);
  self->send(sys.openssl_manager().actor_handle(), caf::unpublish_atom::value, self->address(),
             at.port);
  hand_over(sys, caf::actor_cast<node_actor>(self), successor, std::move(at));
}

caf::result<rebalance_status> begin_rebalance(gate_pointer self, const store_internal_actor& store,
                                              const rebalance_begin_request& x) {
  auto& st = self->state;
  auto& sv = st.serving;
  auto parsed = parse_membership(x.membership_text, "");
  if (!parsed)
    return parsed.error();
  const auto key = parsed->ownership_key();
  if (!sv.rebalance_text.empty()) {
    // The key, not the text: the file may have been edited meanwhile (an address, a comment).
    if (sv.target->membership.ownership_key() != key)
      return make_error(errc::invalid_argument,
                        "this node is moving tasks to another membership ('"
                          + sv.target->membership.ownership_key()
                          + "'): run evstore rebalance with that file to finish that move first");
  } else {
    if (!sv.ownership || !sv.root)
      return make_error(errc::invalid_argument,
                        "this node serves no cluster (evstore serve without --cluster): there is "
                        "nothing to rebalance");
    if (auto err = replace_root_file(*sv.root, rebalance_file_name, rebalance_temp_file_name,
                                     x.membership_text))
      return err;
    sv.rebalance_text = x.membership_text;
    sv.target = ownership_in(std::move(*parsed), sv.names);
    // Before the begin is answered, so before anything the move asks of the store (this gate's
    // messages reach it in order): the store refuses its local handle's requests from now on.
    self->send(store, store_rebalancing{true});
  }
  if (st.in_flight == 0)
    return rebalance_status{true, key};
  auto promise = self->make_response_promise<rebalance_status>();
  st.begins_waiting.push_back(promise);
  return promise;
}

caf::result<rebalance_status> end_rebalance(gate_pointer self, const store_actor& store,
                                            const rebalance_end_request& x) {
  auto& sv = self->state.serving;
  auto parsed = parse_membership(x.membership_text, "");
  if (!parsed)
    return parsed.error();
  const auto key = parsed->ownership_key();
  if (sv.rebalance_text.empty()) {
    if (sv.ownership && sv.ownership->membership.ownership_key() == key)
      return rebalance_status{false, key}; // ended before (a command run again)
    return make_error(errc::invalid_argument, "this node is not moving tasks to that membership");
  }
  if (sv.target->membership.ownership_key() != key)
    return make_error(errc::invalid_argument,
                      "this node is moving tasks to another membership ('"
                        + sv.target->membership.ownership_key() + "')");
  auto at = sv.published->get();
  if (at.port == 0)
    return make_error(errc::node_unavailable, "the node is not published yet; retry");
  // The membership is the node's from now on, also after a restart under its old file (which
  // would route the tasks it gave away to it again): MEMBERSHIP first, then REBALANCE goes.
  if (auto err = replace_root_file(*sv.root, membership_file_name, membership_temp_file_name,
                                   sv.rebalance_text))
    return err;
  if (::unlinkat(sv.root->fd(), rebalance_file_name, 0) != 0 && errno != ENOENT)
    return io_error("cannot remove", sv.root->display("", rebalance_file_name), errno);
  if (auto err = fsync_dir(sv.root->fd(), sv.root->path()))
    return err;
  // A begin of another run still waiting for requests let in before it: that run is over.
  for (auto& waiting : self->state.begins_waiting)
    waiting.deliver(make_error(errc::invalid_argument, "the rebalance ended before this begin"));
  self->state.begins_waiting.clear();
  sv.ownership = std::move(sv.target);
  sv.rebalance_text.clear();
  // Queued in the store's mailbox now, before the successor is even spawned, so before any
  // request the successor relays.
  self->send(caf::actor_cast<store_internal_actor>(store), store_rebalancing{false});
  replace_gate(self, store, std::move(at));
  return rebalance_status{false, key};
}

/// Whether a request may pass while the node moves tasks: statistics only (a router learns the
/// state from them), and unsubscribing.
template <class Request>
constexpr bool passes_while_rebalancing() {
  return std::is_same_v<Request, stats_request> || std::is_same_v<Request, await_index_request>
         || std::is_same_v<Request, bus_stats_request>;
}

node_actor::behavior_type gate_behavior(gate_pointer self, store_actor store,
                                        node_serving serving) {
  self->state.serving = std::move(serving);
  refuse_remote_exits(self);
  self->monitor(store);
  self->set_down_handler([=](caf::down_msg& down) {
    if (down.source == store)
      self->quit(down.reason);
  });
  auto internal = caf::actor_cast<store_internal_actor>(store);
  auto ask = [=](auto&& x, auto tag) {
    using request_type = std::decay_t<decltype(x)>;
    using reply_type = typename decltype(tag)::type;
    const auto& sv = self->state.serving;
    if (self->state.retired)
      return refuse<reply_type>(self, make_error(errc::rebalancing,
                                                 "the node's membership just changed (a rebalance "
                                                 "ended); connect again"));
    if (!sv.rebalance_text.empty() && !passes_while_rebalancing<request_type>())
      return refuse<reply_type>(
        self, make_error(errc::rebalancing, "this node is moving tasks between nodes (evstore "
                                            "rebalance); retry once the move ends"));
    if (sv.ownership)
      if (auto err = foreign_task(*sv.ownership, x))
        return refuse<reply_type>(self, std::move(err));
    if constexpr (std::is_same_v<request_type, subscribe_request>) {
      // A local subscriber (an actor of this process) talks to the bus directly.
      if (x.subscriber && x.subscriber->node() != self->node()) {
        auto relay_actor = self->home_system().spawn(
          relay_behavior, caf::actor_cast<caf::actor>(std::move(x.subscriber)), store,
          caf::actor_cast<caf::actor>(self));
        x.subscriber = caf::actor_cast<caf::strong_actor_ptr>(relay_actor);
      }
    }
    if constexpr (std::is_same_v<request_type, stats_request>) {
      // The membership this node serves, for a router to check against its own file.
      if (sv.ownership) {
        auto promise = self->template make_response_promise<index_stats>();
        const bool moving = !sv.rebalance_text.empty();
        auto own = moving ? sv.target : sv.ownership;
        self->request(store, caf::infinite, std::move(x))
          .then(
            [promise, own, moving](index_stats& stats) mutable {
              stats.cluster_membership = own->membership.ownership_key();
              for (size_t i : own->self)
                stats.cluster_serving_as.push_back(own->membership.nodes[i].name);
              stats.cluster_rebalancing = moving;
              promise.deliver(std::move(stats));
            },
            [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
        return promise;
      }
    }
    return relay<reply_type>(self, store, std::move(x));
  };
  // The moving of tasks: only while the node is in the state (the command begins it first), so
  // no task leaves or arrives while the node takes writes.
  auto moving = [=](auto&& x, auto tag) {
    using reply_type = typename decltype(tag)::type;
    if (self->state.serving.rebalance_text.empty() || self->state.retired)
      return refuse<reply_type>(self, make_error(errc::invalid_argument,
                                                 "tasks move only during a rebalance (begun by "
                                                 "evstore rebalance)"));
    return relay<reply_type>(self, internal, std::move(x));
  };
  return forwarding_behavior<node_actor::behavior_type>(
    ask, [=](unsubscribe_request&& x) { self->send(store, std::move(x)); },
    [=](rebalance_begin_request& x) { return begin_rebalance(self, internal, x); },
    [=](rebalance_end_request& x) { return end_rebalance(self, store, x); },
    [=](held_tasks_request& x) { return moving(std::move(x), reply_tag<task_list>{}); },
    [=](task_digest_request& x) { return moving(std::move(x), reply_tag<task_digest>{}); },
    [=](export_chunk_request& x) { return moving(std::move(x), reply_tag<task_chunk>{}); },
    [=](import_chunk_request& x) { return moving(std::move(x), reply_tag<task_digest>{}); },
    [=](release_task_request& x) { return moving(std::move(x), reply_tag<task_digest>{}); },
    // Answered here, at once, in every state: a client's check that the node lives (liveness.hpp).
    [=](node_ping) { return node_ping{}; });
}

} // namespace

std::shared_ptr<const node_ownership> ownership_in(cluster_membership membership,
                                                   const std::vector<std::string>& names) {
  auto own = std::make_shared<node_ownership>();
  for (const auto& name : names)
    for (size_t i = 0; i < membership.nodes.size(); ++i)
      if (membership.nodes[i].name == name)
        own->self.push_back(i);
  own->membership = std::move(membership);
  return own;
}

node_actor spawn_node_gate(caf::actor_system& sys, const store_actor& store, node_serving serving) {
  return sys.spawn(gate_behavior, store, std::move(serving));
}

caf::error load_rebalance_state(node_serving& serving) {
  auto text = read_root_file(*serving.root, rebalance_file_name);
  if (!text)
    return text.error();
  if (!text->empty()) {
    auto parsed = parse_membership(*text, "");
    if (!parsed)
      return make_error(errc::invalid_argument,
                        serving.root->display("", rebalance_file_name)
                          + " (a rebalance under way) cannot be read: " + render(parsed.error()));
    serving.rebalance_text = std::move(*text);
    serving.target = ownership_in(std::move(*parsed), serving.names);
    return caf::none;
  }
  // A rebalance ended here: the node serves the membership it ended with, and no other.
  auto ended = read_root_file(*serving.root, membership_file_name);
  if (!ended)
    return ended.error();
  if (ended->empty())
    return caf::none;
  auto adopted = parse_membership(*ended, "");
  if (!adopted)
    return make_error(errc::invalid_argument, serving.root->display("", membership_file_name)
                                                + " cannot be read: " + render(adopted.error()));
  const auto mine = adopted->ownership_key();
  const auto given = serving.ownership->membership.ownership_key();
  if (mine != given)
    return make_error(errc::wrong_node,
                      serving.root->display("", membership_file_name) + " says this node serves '"
                        + mine + "' since a rebalance ended, and the file it was given has '"
                        + given + "': start it with the file the cluster was rebalanced to");
  return caf::none;
}

} // namespace evstore
