#include "node_client.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "messages/errc.hpp"
#include "node_watch.hpp"
#include "src/node/liveness.hpp"
#include "store_forwarding.hpp"

namespace evstore {

namespace {

/// Batches of appends the client may have on the wire before it holds new appends back; a
/// window, so that a lone append is never delayed and a stream of them is carried many at once.
constexpr size_t append_window = 4;

/// At most this many appends travel in one batch.
constexpr size_t max_batch = 512;

struct client_state {
  /// The requests the node has not answered yet: how to fail each.
  std::unordered_map<uint64_t, std::function<void(const caf::error&)>> waiting;
  uint64_t next = 0;
  /// Appends held back while `append_window` batches are in flight, in arrival order, and the
  /// promises of their askers.
  std::vector<append_request> held;
  std::vector<caf::typed_response_promise<append_result>> held_promises;
  size_t batches_in_flight = 0;
  /// The client is ending (node lost, or told to exit): nothing more is sent.
  bool ending = false;
  /// The requests in `waiting` that wait for the node's work (liveness.hpp), and the watch that
  /// checks the node lives meanwhile (node_watch.hpp), while there are any.
  std::unordered_set<uint64_t> long_requests;
  caf::actor watch;

  /// Fails everything still waiting or held with `why`, once.
  void fail_all(const caf::error& why) {
    ending = true;
    auto unanswered = std::move(waiting); // a failure handler must not see the map it is in
    waiting.clear();
    for (auto& [id, fail] : unanswered)
      fail(why);
    for (auto& promise : held_promises)
      promise.deliver(why);
    held.clear();
    held_promises.clear();
  }
};

using stateful_pointer = store_actor::stateful_pointer<client_state>;

/// Asks the gate and calls `on_reply` or `on_error` with the answer, filed in `waiting` under
/// `state.next`: `on_error` also runs if the request is failed first (the node lost, or a
/// request for the node's work given up, fail_long_requests), and then the node's late answer is
/// dropped.
template <class Reply, class Request, class OnReply, class OnError>
void ask_gate(stateful_pointer self, const store_actor& gate, Request&& x, OnReply on_reply,
              OnError on_error) {
  auto id = self->state.next++;
  self->state.waiting.emplace(id, on_error);
  self->request(gate, caf::infinite, std::forward<Request>(x))
    .then(
      [self, id, on_reply](Reply& reply) mutable {
        if (self->state.waiting.erase(id) > 0)
          on_reply(reply);
      },
      [self, id, on_error](caf::error& err) mutable {
        if (self->state.waiting.erase(id) > 0)
          on_error(err);
      });
}

template <class Reply, class Request>
caf::typed_response_promise<Reply> forward(stateful_pointer self, const store_actor& gate,
                                           Request&& x) {
  auto promise = self->template make_response_promise<Reply>();
  ask_gate<Reply>(
    self, gate, std::forward<Request>(x),
    [promise](Reply& reply) mutable { promise.deliver(std::move(reply)); },
    [promise](const caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

void send_held_appends(stateful_pointer self, const store_actor& gate);

/// Sends the first `n` held appends as one append_batch; each asker gets its own append's outcome,
/// exactly what a single append would have answered (the store handles each as its own append, in
/// order).
void send_batch(stateful_pointer self, const store_actor& gate, size_t n) {
  auto& st = self->state;
  append_batch_request batch;
  batch.appends.assign(std::make_move_iterator(st.held.begin()),
                       std::make_move_iterator(st.held.begin() + n));
  auto promises = std::make_shared<std::vector<caf::typed_response_promise<append_result>>>(
    st.held_promises.begin(), st.held_promises.begin() + n);
  st.held.erase(st.held.begin(), st.held.begin() + n);
  st.held_promises.erase(st.held_promises.begin(), st.held_promises.begin() + n);
  ++st.batches_in_flight;
  ask_gate<append_batch_result>(
    self, gate, std::move(batch),
    [self, gate, promises](append_batch_result& res) {
      auto& outcomes = res.outcomes;
      for (size_t i = 0; i < promises->size(); ++i) {
        auto& promise = (*promises)[i];
        if (i >= outcomes.size() || (!outcomes[i].error && !outcomes[i].result))
          promise.deliver(make_error(errc::node_unavailable, "the node answered a batch short"));
        else if (outcomes[i].error)
          promise.deliver(std::move(outcomes[i].error));
        else
          promise.deliver(std::move(*outcomes[i].result));
      }
      --self->state.batches_in_flight;
      send_held_appends(self, gate);
    },
    [self, gate, promises](const caf::error& err) {
      for (auto& promise : *promises)
        promise.deliver(err);
      --self->state.batches_in_flight;
      send_held_appends(self, gate); // the window has room again, whatever this batch's fate
    });
}

/// Sends what is held while the window allows, and a full batch in any case: a batch answers
/// when its slowest append does, so batches stuck behind a busy writer (a compaction, a cold load)
/// must not hold back a stream of appends to other tasks beyond one batch's worth.
void send_held_appends(stateful_pointer self, const store_actor& gate) {
  auto& st = self->state;
  if (st.ending)
    return;
  while (!st.held.empty() && (st.batches_in_flight < append_window || st.held.size() >= max_batch))
    send_batch(self, gate, std::min(st.held.size(), max_batch));
}

/// Sends every held append now, window or not: a request that follows appends must not overtake
/// them (a read after an append sees it, as it would locally).
void flush_held_appends(stateful_pointer self, const store_actor& gate) {
  while (!self->state.ending && !self->state.held.empty())
    send_batch(self, gate, std::min(self->state.held.size(), max_batch));
}

/// Fails the requests that wait for the node's work with `why` (the node stopped answering the
/// watch's checks); the others, and the connection, are left as they are.
void fail_long_requests(stateful_pointer self, const caf::error& why) {
  auto& st = self->state;
  auto failing = std::move(st.long_requests);
  st.long_requests.clear();
  for (uint64_t id : failing)
    if (auto it = st.waiting.find(id); it != st.waiting.end()) {
      auto fail = std::move(it->second);
      st.waiting.erase(it); // the node's late answer is dropped (ask_gate)
      fail(why);
    }
}

/// Waits for a request whose duration is the node's work (liveness.hpp) as long as the node lives:
/// no timeout, but a watch (node_watch.hpp) while any is in flight, whose verdict fails them.
template <class Reply, class Request>
caf::typed_response_promise<Reply> forward_long(stateful_pointer self, const store_actor& gate,
                                                Request&& x, std::chrono::milliseconds timeout) {
  auto& st = self->state;
  const uint64_t id = st.next; // the id ask_gate below files the request under
  auto promise = self->template make_response_promise<Reply>();
  // Runs once (ask_gate): the node's answer, the watch's verdict or the client's end.
  auto finish = [self, id, promise](auto&& answer) mutable {
    auto& st = self->state;
    st.long_requests.erase(id);
    if (st.long_requests.empty() && st.watch) {
      self->send_exit(st.watch, caf::exit_reason::user_shutdown);
      st.watch = caf::actor{};
    }
    promise.deliver(std::forward<decltype(answer)>(answer));
  };
  st.long_requests.insert(id);
  if (!st.watch) {
    auto watch = spawn_node_watch(self->system(), caf::actor_cast<caf::actor>(self),
                                  caf::actor_cast<caf::actor>(gate), timeout);
    st.watch = watch;
    self->request(watch, caf::infinite, caf::get_atom::value)
      .then([](bool) {}, // the watch ended with the long work
            [self, watch](caf::error& why) {
              if (self->state.watch == watch)
                fail_long_requests(self, why);
            });
  }
  ask_gate<Reply>(
    self, gate, std::forward<Request>(x),
    [finish](Reply& reply) mutable { finish(std::move(reply)); },
    [finish](const caf::error& err) mutable { finish(err); });
  return promise;
}

store_actor::behavior_type client_behavior(stateful_pointer self, store_actor gate,
                                           std::chrono::milliseconds timeout) {
  self->monitor(gate);
  self->set_down_handler([=](caf::down_msg& down) {
    if (down.source != gate)
      return;
    self->state.fail_all(make_error(errc::node_unavailable, "the connection to the node was lost"));
    self->quit(caf::exit_reason::remote_link_unreachable);
  });
  // Told to end (the facade's store closing): CAF 0.17 answers nothing for a promise that is
  // dropped, so every asker still waiting would wait forever.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    self->state.fail_all(make_error(errc::node_unavailable, "the connection to the node was closed"));
    self->quit(msg.reason);
  });
  // Appends are coalesced: while `append_window` batches are on the wire, new appends wait and
  // leave together as the next batch when one returns (Nagle's rule, for round trips instead of
  // packets). Every append crossing the connection alone costs two TLS records and four mailbox
  // hops; carried 512 at a time they cost a fraction of that.
  auto ask = [=](auto&& x, auto tag) {
    using request_type = std::decay_t<decltype(x)>;
    using reply_type = typename decltype(tag)::type;
    if constexpr (std::is_same_v<request_type, append_request>) {
      auto& st = self->state;
      auto promise = self->make_response_promise<append_result>();
      st.held.push_back(std::move(x));
      st.held_promises.push_back(promise);
      send_held_appends(self, gate);
      return promise;
    } else if constexpr (waits_for_the_work<request_type>) {
      flush_held_appends(self, gate);
      return forward_long<reply_type>(self, gate, std::move(x), timeout);
    } else {
      flush_held_appends(self, gate);
      return forward<reply_type>(self, gate, std::move(x));
    }
  };
  return forwarding_behavior(ask, [=](unsubscribe_request&& x) {
    flush_held_appends(self, gate);
    self->send(gate, std::move(x));
  });
}

} // namespace

store_actor spawn_node_client(caf::actor_system& sys, const store_actor& gate,
                              std::chrono::milliseconds timeout) {
  return sys.spawn(client_behavior, gate, timeout);
}

} // namespace evstore
