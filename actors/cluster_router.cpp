#include "cluster_router.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <type_traits>

#include <caf/atom.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/errc.hpp"
#include "node_client.hpp"
#include "src/index/query_order.hpp"
#include "store_forwarding.hpp"

namespace evstore {

namespace {

/// One member and its connection: a node client once connected, null before and after it is lost.
struct node_link {
  cluster_member member;
  store_actor client;
  bool connecting = false;
  /// Run once the connection is made (with the client) or has failed (with why).
  std::vector<std::function<void(caf::expected<store_actor>)>> waiting;
};

struct router_state {
  cluster_membership members;
  std::vector<node_link> links;
  caf::duration timeout;
};

using router_pointer = store_actor::stateful_pointer<router_state>;

std::string label(const cluster_member& m) {
  const bool v6 = m.host.find(':') != std::string::npos;
  return "node '" + m.name + "' (" + (v6 ? "[" + m.host + "]" : m.host) + ":"
         + std::to_string(m.port) + ")";
}

/// The error a node's failure becomes: a lost or unreachable node is named; an answer of the
/// store itself (a version conflict, an invalid event) passes unchanged.
caf::error from_node(const cluster_member& m, const caf::error& err) {
  const bool lost = err.category() != caf::atom("evstore")
                    || err.code() == static_cast<uint8_t>(errc::node_unavailable);
  if (!lost)
    return err;
  std::string why;
  if (err == caf::sec::request_timeout)
    why = "did not answer in time";
  else if (err.category() == caf::atom("evstore"))
    why = render(err);
  else
    why = caf::to_string(err);
  return make_error(errc::node_unavailable, label(m) + " is unavailable: " + why);
}

/// Calls `fn` with node `i`'s client, connecting first if there is none.
void with_node(router_pointer self, size_t i, std::function<void(caf::expected<store_actor>)> fn) {
  auto& link = self->state.links[i];
  if (link.client) {
    fn(link.client);
    return;
  }
  link.waiting.push_back(std::move(fn));
  if (link.connecting)
    return;
  link.connecting = true;
  auto finish = [self, i](caf::expected<store_actor> result) {
    auto& l = self->state.links[i];
    l.connecting = false;
    if (result) {
      l.client = *result;
      self->monitor(l.client);
    }
    auto waiting = std::move(l.waiting);
    l.waiting.clear();
    for (auto& w : waiting)
      w(result);
  };
  const auto& m = link.member;
  self
    ->request(self->system().openssl_manager().actor_handle(), self->state.timeout,
              caf::connect_atom::value, m.host, m.port)
    .then(
      [self, i, finish](const caf::node_id&, caf::strong_actor_ptr& ptr,
                        std::set<std::string>& ifs) {
        const auto& m = self->state.links[i].member;
        if (!ptr || !self->system().assignable<store_actor>(ifs)) {
          finish(make_error(errc::node_unavailable,
                            label(m) + " serves no evstore store at its address"));
          return;
        }
        finish(spawn_node_client(self->system(), caf::actor_cast<store_actor>(std::move(ptr))));
      },
      [self, i, finish](caf::error& err) {
        finish(from_node(self->state.links[i].member, err));
      });
}

/// Asks node `i` and calls `done` with its answer or the error naming it.
template <class Reply, class Request>
void ask_node(router_pointer self, size_t i, Request x,
              std::function<void(caf::expected<Reply>)> done) {
  with_node(self, i, [self, i, x = std::move(x), done](caf::expected<store_actor> client) mutable {
    if (!client) {
      done(client.error());
      return;
    }
    self->request(*client, self->state.timeout, std::move(x))
      .then([done](Reply& reply) mutable { done(std::move(reply)); },
            [self, i, done](caf::error& err) mutable {
              done(from_node(self->state.links[i].member, err));
            });
  });
}

/// Passes `x` to node `i` and its answer back to the asker.
template <class Reply, class Request>
caf::typed_response_promise<Reply> forward_to(router_pointer self, size_t i, Request x) {
  auto promise = self->template make_response_promise<Reply>();
  ask_node<Reply>(self, i, std::move(x), [promise](caf::expected<Reply> r) mutable {
    if (r)
      promise.deliver(std::move(*r));
    else
      promise.deliver(r.error());
  });
  return promise;
}

/// Asks every node; once all answered, delivers `combine(answers)`, or the first node's error in
/// membership order (so the same failure reads the same way every time).
template <class Reply, class Request, class Combine>
caf::typed_response_promise<Reply> ask_all(router_pointer self, const Request& x, Combine combine) {
  auto promise = self->template make_response_promise<Reply>();
  const size_t n = self->state.links.size();
  struct pending {
    std::vector<caf::expected<Reply>> answers;
    size_t left;
  };
  auto p = std::make_shared<pending>(pending{std::vector<caf::expected<Reply>>(n, caf::error{}), n});
  for (size_t i = 0; i < n; ++i)
    ask_node<Reply>(self, i, x, [p, i, promise, combine](caf::expected<Reply> r) mutable {
      p->answers[i] = std::move(r);
      if (--p->left > 0)
        return;
      std::vector<Reply> ok;
      for (auto& a : p->answers) {
        if (!a) {
          promise.deliver(a.error());
          return;
        }
        ok.push_back(std::move(*a));
      }
      promise.deliver(combine(ok));
    });
  return promise;
}

void add(read_stats& to, const read_stats& x) {
  to.corrupt_lines += x.corrupt_lines;
  to.future_schema_lines += x.future_schema_lines;
  to.torn_tail = to.torn_tail || x.torn_tail;
}

index_stats sum_stats(std::vector<index_stats>& all) {
  index_stats out;
  out.complete = true;
  for (const auto& s : all) {
    out.tasks += s.tasks;
    out.types = std::max(out.types, s.types); // types repeat across nodes: a lower bound
    out.entries += s.entries;
    out.events += s.events;
    out.bytes += s.bytes;
    out.population_done += s.population_done;
    out.population_total += s.population_total;
    out.complete = out.complete && s.complete;
    out.fetches_routed += s.fetches_routed;
    out.live_writers += s.live_writers;
    out.checkpoint_tasks += s.checkpoint_tasks;
    out.population_loads += s.population_loads;
    out.cleanup_done += s.cleanup_done;
    out.cleanup_total += s.cleanup_total;
  }
  return out;
}

/// Splits a batch by owner, sends each node its part in the batch's order, and answers every
/// append in its place: a down node fails only its own tasks' appends.
caf::typed_response_promise<append_batch_result> route_batch(router_pointer self,
                                                             append_batch_request batch) {
  auto promise = self->make_response_promise<append_batch_result>();
  const auto& members = self->state.members;
  std::vector<std::vector<size_t>> where(members.nodes.size());
  std::vector<append_batch_request> parts(members.nodes.size());
  for (size_t k = 0; k < batch.appends.size(); ++k) {
    const size_t i = members.owner_of(batch.appends[k].ev.task);
    where[i].push_back(k);
    parts[i].appends.push_back(std::move(batch.appends[k]));
  }
  struct pending {
    append_batch_result out;
    size_t left = 0;
  };
  auto p = std::make_shared<pending>();
  p->out.outcomes.resize(batch.appends.size());
  for (const auto& w : where)
    p->left += !w.empty();
  if (p->left == 0) {
    promise.deliver(append_batch_result{});
    return promise;
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (where[i].empty())
      continue;
    ask_node<append_batch_result>(
      self, i, std::move(parts[i]),
      [p, promise, at = where[i]](caf::expected<append_batch_result> r) mutable {
        for (size_t j = 0; j < at.size(); ++j) {
          auto& slot = p->out.outcomes[at[j]];
          if (!r)
            slot.error = r.error();
          else if (j < r->outcomes.size())
            slot = std::move(r->outcomes[j]);
          else
            slot.error = make_error(errc::node_unavailable, "a node answered a batch short");
        }
        if (--p->left == 0)
          promise.deliver(std::move(p->out));
      });
  }
  return promise;
}

store_actor::behavior_type router_behavior(router_pointer self, cluster_membership members,
                                           std::chrono::milliseconds timeout) {
  auto& st = self->state;
  st.timeout = caf::duration{timeout};
  for (const auto& m : members.nodes)
    st.links.push_back(node_link{m, store_actor{}, false, {}});
  st.members = std::move(members);
  // A client that ends (its node lost) is dropped; the next request connects again.
  self->set_down_handler([=](caf::down_msg& down) {
    for (auto& link : self->state.links)
      if (link.client && link.client.address() == down.source)
        link.client = store_actor{};
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& link : self->state.links) {
      if (link.client)
        self->send_exit(link.client, msg.reason);
      auto waiting = std::move(link.waiting);
      link.waiting.clear();
      for (auto& w : waiting)
        w(make_error(errc::node_unavailable, "the cluster connection was closed"));
    }
    self->quit(msg.reason);
  });
  auto owner = [=](const std::string& task) { return self->state.members.owner_of(task); };
  auto ask = [=](auto&& x, auto tag) -> caf::typed_response_promise<typename decltype(tag)::type> {
    using request_type = std::decay_t<decltype(x)>;
    using reply_type = typename decltype(tag)::type;
    // The owner is looked up before the request moves on (argument order is unspecified).
    if constexpr (std::is_same_v<request_type, append_request>) {
      const size_t i = owner(x.ev.task);
      return forward_to<reply_type>(self, i, std::move(x));
    } else if constexpr (std::is_same_v<request_type, append_batch_request>) {
      return route_batch(self, std::move(x));
    } else if constexpr (std::is_same_v<request_type, read_request>
                         || std::is_same_v<request_type, compact_request>) {
      const size_t i = owner(x.task);
      return forward_to<reply_type>(self, i, std::move(x));
    } else if constexpr (std::is_same_v<request_type, compact_all_request>) {
      return ask_all<compact_result>(self, x, [](std::vector<compact_result>& all) {
        compact_result out;
        for (const auto& r : all) {
          out.removed += r.removed;
          out.kept += r.kept;
          out.corrupt_moved += r.corrupt_moved;
        }
        return out;
      });
    } else if constexpr (std::is_same_v<request_type, list_tasks_request>) {
      return ask_all<task_list>(self, x, [](std::vector<task_list>& all) {
        std::set<std::string> tasks;
        for (auto& l : all)
          tasks.insert(std::make_move_iterator(l.tasks.begin()),
                       std::make_move_iterator(l.tasks.end()));
        return task_list{std::vector<std::string>(tasks.begin(), tasks.end())};
      });
    } else if constexpr (std::is_same_v<request_type, cleanup_request>) {
      return ask_all<cleanup_result>(self, x, [](std::vector<cleanup_result>& all) {
        cleanup_result out;
        for (const auto& r : all)
          out.removed += r.removed;
        return out;
      });
    } else if constexpr (std::is_same_v<request_type, query_request>) {
      const uint64_t limit = x.limit;
      return ask_all<query_result>(self, x, [limit](std::vector<query_result>& all) {
        // Each node's best `limit`, merged: the best `limit` of all (SPEC §3 order).
        latest_events best{limit};
        query_result out;
        for (auto& r : all) {
          add(out.stats, r.stats);
          for (size_t k = 0; k < r.events.size(); ++k)
            best.offer(ranked_event{k < r.positions.size() ? r.positions[k] : 0,
                                    std::move(r.events[k])});
        }
        best.take_into(out);
        return out;
      });
    } else if constexpr (std::is_same_v<request_type, stats_request>
                         || std::is_same_v<request_type, await_index_request>) {
      return ask_all<index_stats>(self, x, sum_stats);
    } else if constexpr (std::is_same_v<request_type, bus_stats_request>) {
      return ask_all<bus_stats>(self, x, [](std::vector<bus_stats>& all) {
        bus_stats out;
        for (const auto& b : all) {
          out.subscriptions += b.subscriptions;
          out.events_seen += b.events_seen;
          out.events_delivered += b.events_delivered;
          out.recoveries += b.recoveries;
          out.events_dropped += b.events_dropped;
          out.max_backlog = std::max(out.max_backlog, b.max_backlog);
        }
        return out;
      });
    } else {
      static_assert(std::is_same_v<request_type, subscribe_request>);
      auto promise = self->make_response_promise<subscribed>();
      promise.deliver(make_error(errc::invalid_argument,
                                 "subscriptions are not served across a cluster yet; subscribe "
                                 "to each node's store"));
      return promise;
    }
  };
  return forwarding_behavior(ask, [](unsubscribe_request&&) {
    // No subscription is ever made through the router.
  });
}

} // namespace

store_actor spawn_cluster_router(caf::actor_system& sys, cluster_membership members,
                                 std::chrono::milliseconds timeout) {
  return sys.spawn(router_behavior, std::move(members), timeout);
}

} // namespace evstore
