#include "bus_actor.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <caf/typed_event_based_actor.hpp>

#include "src/bus/bus_gate.hpp"
#include "messages/errc.hpp"
#include "src/format/pattern.hpp"
#include "src/index/query_order.hpp"
#include "src/bus/subscription_flow.hpp"

namespace evstore {

namespace {

struct subscriber_entry {
  subscription_flow sub;
  subscriber_actor subscriber;
};

struct bus_state {
  static inline const char* name = "evstore.bus";
  store_actor store;
  std::shared_ptr<bus_gate> gate;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, subscriber_entry> subs;
  bus_stats stats;
};

using bus_pointer = bus_actor::stateful_pointer<bus_state>;

void end_subscription(bus_pointer self, uint64_t id) {
  if (self->state.subs.erase(id) > 0)
    self->state.gate->close_one();
}

caf::error validate(const subscribe_request& req) {
  if (!req.subscriber)
    return make_error(errc::invalid_argument, "subscribe: no subscriber actor given");
  return validate(req.filter);
}

// Sends what the subscription may send now and starts its next disk read, if it is behind.
// NOLINTNEXTLINE(misc-no-recursion): the read's reply handler calls it again, later, from the mailbox.
void send_ready_and_read_more(bus_pointer self, uint64_t id) {
  auto& st = self->state;
  auto it = st.subs.find(id);
  if (it == st.subs.end())
    return;
  auto& entry = it->second;
  st.stats.max_backlog = std::max(st.stats.max_backlog, entry.sub.backlog());
  for (auto& out : entry.sub.take_sendable()) {
    switch (out.what) {
      case outgoing::kind::event:
        ++st.stats.events_delivered;
        self->send(entry.subscriber, bus_event{id, std::move(out.ev), out.position});
        break;
      case outgoing::kind::caught_up:
        self->send(entry.subscriber, caught_up{id});
        break;
      case outgoing::kind::lagged:
        self->send(entry.subscriber, lagged{id, out.missed});
        break;
    }
  }
  auto read = entry.sub.next_read();
  if (!read)
    return;
  // The writer replies straight to us, after every event_written it sent for what it read.
  self->request(st.store, caf::infinite, read_request{read->task, read->from, read->max_events})
    .then(
      [=](read_result& res) {
        auto it = self->state.subs.find(id);
        if (it == self->state.subs.end())
          return;
        it->second.sub.on_read(*read, std::move(res.events));
        send_ready_and_read_more(self, id);
      },
      [=](caf::error&) {
        auto it = self->state.subs.find(id);
        if (it != self->state.subs.end())
          it->second.sub.on_read_failed(); // read again on the next event or acknowledgement
      });
}

// Pattern catch-up across tasks: one index query per pattern, merged in SPEC §3 order, the last
// `limit` kept. The subscription is live (holding events) from the start, so `promise` (the reply to
// subscribe) waits only for the history to be queued. An exact pattern asks for its one type, so
// longer types starting with it ("a:bc" for "a:b") take no room in its limit. What the index cannot
// select (an actor filter) is judged here: while a pattern's answer came back full and the filter
// kept fewer than `limit` of it, that pattern is asked again for four times as many.
struct history_fetch {
  uint64_t id;
  subscription_filter filter;
  catch_up_spec spec;
  latest_events best;
  std::unordered_set<std::string> seen;
  size_t patterns_left = 0;
  caf::typed_response_promise<subscribed> promise; // one copy, so pending() is shared
};

void history_done(bus_pointer self, const std::shared_ptr<history_fetch>& acc) {
  auto& promise = acc->promise;
  if (!promise.pending())
    return;
  auto it = self->state.subs.find(acc->id);
  if (it == self->state.subs.end()) {
    promise.deliver(make_error(errc::not_found, "subscription ended"));
    return;
  }
  query_result merged;
  acc->best.take_into(merged);
  it->second.sub.on_history(std::move(merged.events), std::move(merged.positions));
  send_ready_and_read_more(self, acc->id);
  promise.deliver(subscribed{acc->id});
}

// NOLINTNEXTLINE(misc-no-recursion): the reply handler asks again, later, from the mailbox.
void fetch_pattern_history(bus_pointer self, std::shared_ptr<history_fetch> acc,
                           std::string pattern, uint64_t ask) {
  query_request req{std::string{pattern_prefix(pattern)}, ask, acc->spec.since,
                    pattern_is_exact(pattern)};
  self->request(self->state.store, caf::infinite, std::move(req))
    .then(
      [=](query_result& res) {
        if (!acc->promise.pending())
          return;
        uint64_t kept = 0;
        for (size_t i = 0; i < res.events.size(); ++i) {
          if (!matches(acc->filter, res.events[i]))
            continue;
          ++kept;
          if (acc->seen.insert(res.events[i].id).second)
            acc->best.offer(ranked_event{i < res.positions.size() ? res.positions[i] : 0,
                                         std::move(res.events[i])});
        }
        const bool maybe_more = res.events.size() >= ask && ask < (uint64_t{1} << 62);
        // Asking again costs the pattern's history once more: only for a subscription still there.
        if (kept < acc->spec.limit && maybe_more && self->state.subs.count(acc->id))
          return fetch_pattern_history(self, acc, pattern, ask * 4);
        if (--acc->patterns_left == 0)
          history_done(self, acc);
      },
      [=](caf::error& err) {
        // The first error ends the subscription at once; the other patterns' answers are dropped.
        if (!acc->promise.pending())
          return;
        end_subscription(self, acc->id);
        acc->promise.deliver(std::move(err));
      });
}

void fetch_history(bus_pointer self, uint64_t id, const subscription_filter& filter,
                   const catch_up_spec& spec, caf::typed_response_promise<subscribed> promise) {
  std::vector<std::string> patterns = filter.patterns;
  if (patterns.empty())
    patterns.push_back("*");
  auto acc = std::make_shared<history_fetch>(
    history_fetch{id, filter, spec, latest_events{spec.limit}, {}, patterns.size(), promise});
  if (spec.limit == 0)
    return history_done(self, acc);
  for (auto& p : patterns)
    fetch_pattern_history(self, acc, std::move(p), spec.limit);
}

bus_actor::behavior_type bus_behavior(bus_pointer self, store_actor store, std::shared_ptr<bus_gate> gate) {
  self->state.store = std::move(store);
  self->state.gate = std::move(gate);
  // A subscriber that ends takes its subscriptions with it.
  self->set_down_handler([=](caf::down_msg& msg) {
    std::vector<uint64_t> ended;
    for (auto& [id, entry] : self->state.subs)
      if (entry.subscriber.address() == msg.source)
        ended.push_back(id);
    for (auto id : ended)
      end_subscription(self, id);
  });
  return {
    [=](subscribe_request& req) -> caf::result<subscribed> {
      if (auto err = validate(req))
        return err;
      auto& st = self->state;
      auto id = st.next_id++;
      st.gate->open_one(); // before any history is asked for: see bus_gate.hpp
      auto subscriber = caf::actor_cast<subscriber_actor>(req.subscriber);
      self->monitor(subscriber);
      auto& entry = st.subs
                      .emplace(id, subscriber_entry{subscription_flow{id, req.filter, req.buffer,
                                                                 req.drop_on_overflow},
                                                    subscriber})
                      .first->second;
      if (req.catch_up && !req.filter.task) {
        entry.sub.start_history_catch_up();
        auto promise = self->make_response_promise<subscribed>();
        fetch_history(self, id, req.filter, *req.catch_up, promise);
        return promise;
      }
      if (req.catch_up)
        entry.sub.start_task_catch_up(req.catch_up->from);
      send_ready_and_read_more(self, id);
      return subscribed{id};
    },
    [=](const unsubscribe_request& req) { end_subscription(self, req.id); },
    [=](const bus_ack& ack) {
      auto it = self->state.subs.find(ack.subscription);
      if (it == self->state.subs.end())
        return;
      it->second.sub.on_ack(ack.count);
      send_ready_and_read_more(self, ack.subscription);
    },
    [=](bus_stats_request) -> bus_stats {
      auto& st = self->state;
      auto stats = st.stats;
      stats.subscriptions = st.subs.size();
      for (auto& [id, entry] : st.subs) {
        stats.recoveries += entry.sub.recoveries();
        stats.events_dropped += entry.sub.dropped();
      }
      return stats;
    },
    [=](const event_written& x) {
      auto& st = self->state;
      ++st.stats.events_seen;
      for (auto& [id, entry] : st.subs) {
        entry.sub.on_live(x.ev, x.position);
        send_ready_and_read_more(self, id);
      }
    },
    [=](const compacted& x) {
      for (auto& [id, entry] : self->state.subs) {
        entry.sub.on_compacted(x.task, x.removed);
        send_ready_and_read_more(self, id);
      }
    },
  };
}

} // namespace

bus_actor spawn_bus(caf::actor_system& sys, store_actor store, std::shared_ptr<bus_gate> gate) {
  return sys.spawn(bus_behavior, std::move(store), std::move(gate));
}

} // namespace evstore
