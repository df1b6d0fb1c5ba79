#include "cluster_router.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <type_traits>
#include <unordered_map>

#include <caf/atom.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cluster_subscription.hpp"
#include "messages/errc.hpp"
#include "node_client.hpp"
#include "node_connector.hpp"
#include "src/cluster/query_rounds.hpp"
#include "src/index/query_order.hpp"
#include "src/node/liveness.hpp"
#include "store_forwarding.hpp"

namespace evstore {

namespace {

/// One member and its connection: a node client once connected, null before and after it is lost.
struct node_link {
  cluster_member member;
  /// Makes the connection, one attempt at a time (node_connector.hpp).
  caf::actor connector;
  store_actor client;
  /// The CAF node reached, to tell two members that are one process apart.
  caf::node_id node;
  bool connecting = false;
  /// Run once the connection is made (with the client) or has failed (with why).
  std::vector<std::function<void(caf::expected<store_actor>)>> waiting;
  /// The client of a connection whose membership is being checked (check_membership), until the
  /// node answers: it becomes `client` or is told to exit, and a closing router ends it too.
  store_actor checking;
  /// The last connection attempt failed by not answering within the timeout (rather than being
  /// refused at once, as a node restarting is).
  bool timed_out = false;
};

/// What a router's check of the whole cluster found (check_cluster).
struct cluster_check_result {
  /// By node: why it refused the router (none if it agreed or could not be reached); all empty
  /// once the cluster was checked.
  std::vector<caf::error> refusals;
  /// By node: why the check could not reach it within the timeout. A call that waited for this
  /// check fails with that at once rather than trying again: a host that drops packets would make
  /// it wait twice. (A node that refused at once is tried again: it may be restarting.)
  std::vector<caf::error> unreachable;
};

struct router_state {
  cluster_membership members;
  std::vector<node_link> links;
  std::chrono::milliseconds timeout{0};
  /// The timeout as CAF's requests take it.
  caf::duration request_timeout() const {
    return caf::duration{timeout};
  }
  /// Live subscriptions across the nodes, by the id their subscriber was given.
  std::unordered_map<uint64_t, cluster_subscription_actor> subscriptions;
  uint64_t next_subscription = 1;
  /// Whether every node that could be reached serves this router's membership (check_cluster),
  /// and the calls waiting for that check.
  bool cluster_checked = false;
  bool cluster_checking = false;
  std::vector<std::function<void(const cluster_check_result&)>> waiting_for_cluster;
  /// Closing: a call still waiting to connect is answered at once, not left to its timeout.
  bool closed = false;
  /// What the last answers to each kind of query showed about the nodes (query_rounds.hpp).
  query_hints hints;
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

/// Why node `i`'s own statistics show it serving another membership, or none. A node serving no
/// cluster (plain `evstore serve`) names none and is taken as listed.
caf::error membership_mismatch(router_pointer self, size_t i, const index_stats& stats) {
  const auto& m = self->state.links[i].member;
  if (stats.cluster_membership.empty() && stats.cluster_serving_as.empty())
    return caf::none;
  if (stats.cluster_rebalancing)
    return make_error(errc::rebalancing,
                      label(m) + " is moving tasks between nodes (evstore rebalance) and takes "
                                 "no requests until the move ends; retry then, with the new file");
  const auto mine = self->state.members.ownership_key();
  if (stats.cluster_membership != mine)
    return make_error(errc::wrong_node,
                      label(m) + " serves another membership: its file has '"
                        + stats.cluster_membership + "', this client's '" + mine
                        + "'; every node and client must be given the same file (a client "
                          "missing a node would answer queries without its events)");
  const auto& as = stats.cluster_serving_as;
  if (std::find(as.begin(), as.end(), m.name) == as.end()) {
    std::string names;
    for (const auto& n : as)
      names += (names.empty() ? "'" : ", '") + n + "'";
    return make_error(errc::wrong_node, label(m) + " is not that member: the node at that address "
                                          "serves as " + names + " (addresses differ between files)");
  }
  return caf::none;
}

/// Asks a newly connected node which membership it serves before the router uses it: a router
/// with another file would send tasks to nodes that do not own them (the gate refuses those) and
/// ask queries of a set of nodes that is not the cluster's (nothing else would notice: a query
/// names no task). Once per connection.
void check_membership(router_pointer self, size_t i, store_actor client,
                      std::function<void(caf::expected<store_actor>)> finish) {
  self->state.links[i].checking = client;
  auto refuse = [self, i, client, finish](caf::error err) {
    auto& link = self->state.links[i];
    link.node = caf::node_id{};
    link.checking = store_actor{};
    self->send_exit(client, caf::exit_reason::user_shutdown);
    finish(std::move(err));
  };
  self->request(client, self->state.request_timeout(), stats_request{})
    .then(
      [self, i, client, finish, refuse](index_stats& stats) {
        if (auto err = membership_mismatch(self, i, stats)) {
          refuse(std::move(err));
          return;
        }
        self->state.links[i].checking = store_actor{};
        finish(client);
      },
      [self, i, refuse](caf::error& err) { refuse(from_node(self->state.links[i].member, err)); });
}

/// Calls `fn` with node `i`'s client, connecting first if there is none.
void connect_node(router_pointer self, size_t i,
                  std::function<void(caf::expected<store_actor>)> fn) {
  if (self->state.closed) {
    fn(make_error(errc::node_unavailable, "the cluster connection was closed"));
    return;
  }
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
  self->request(link.connector, self->state.request_timeout(), caf::connect_atom::value)
    .then(
      [self, i, finish](const caf::node_id& node, caf::strong_actor_ptr& ptr,
                        std::set<std::string>& ifs) {
        auto& links = self->state.links;
        links[i].timed_out = false;
        const auto& m = links[i].member;
        if (!ptr || !self->system().assignable<store_actor>(ifs)) {
          finish(make_error(errc::node_unavailable,
                            label(m) + " serves no evstore store at its address"));
          return;
        }
        // Two members that reach one process would have every query count its events twice.
        for (size_t j = 0; j < links.size(); ++j)
          if (j != i && links[j].node == node) {
            finish(make_error(errc::invalid_argument,
                              label(m) + " is the same node as " + label(links[j].member)
                                + ": the cluster file lists one store twice"));
            return;
          }
        links[i].node = node;
        check_membership(self, i,
                         spawn_node_client(self->system(),
                                           caf::actor_cast<store_actor>(std::move(ptr)),
                                           self->state.timeout),
                         finish);
      },
      [self, i, finish](caf::error& err) {
        self->state.links[i].timed_out = err == caf::sec::request_timeout;
        finish(from_node(self->state.links[i].member, err));
      });
}

/// Before a router uses any node, it connects to every node of its file once: one that answers
/// with another membership, or is moving tasks, refuses the router every call. Without it a node
/// added to a file before its tasks were moved to it (evstore rebalance) would take appends to
/// tasks whose history is still on their old owner, and answer their reads empty: each node checks
/// only the tasks it is asked for, and the new node's file agrees with the router's. A node that
/// cannot be reached does not hold the router back (its tasks fail with node_unavailable, as
/// always); it is checked when it is first reached, as every connection is.
using cluster_check = std::function<void(const cluster_check_result&)>;

void check_cluster(router_pointer self, cluster_check done) {
  auto& st = self->state;
  if (st.cluster_checked) {
    done(cluster_check_result{});
    return;
  }
  st.waiting_for_cluster.push_back(std::move(done));
  if (st.cluster_checking)
    return;
  st.cluster_checking = true;
  struct round {
    size_t pending = 0;
    cluster_check_result result;
  };
  auto r = std::make_shared<round>();
  r->pending = st.links.size();
  r->result.refusals.resize(st.links.size());
  r->result.unreachable.resize(st.links.size());
  for (size_t j = 0; j < st.links.size(); ++j)
    connect_node(self, j, [self, r, j](caf::expected<store_actor> client) {
      if (!client && !is(client.error(), errc::node_unavailable))
        r->result.refusals[j] = client.error();
      else if (!client && self->state.links[j].timed_out)
        r->result.unreachable[j] = client.error();
      if (--r->pending > 0)
        return;
      auto& st = self->state;
      st.cluster_checking = false;
      st.cluster_checked = std::none_of(r->result.refusals.begin(), r->result.refusals.end(),
                                        [](const caf::error& e) { return bool{e}; });
      if (st.cluster_checked)
        r->result.refusals.clear();
      auto waiting = std::move(st.waiting_for_cluster);
      st.waiting_for_cluster.clear();
      for (auto& w : waiting)
        w(r->result);
    });
}

/// Calls `fn` with node `i`'s client once the cluster was checked (check_cluster). Refused, the
/// error is node `i`'s own if it refused, else the first node's that did.
void with_node(router_pointer self, size_t i, std::function<void(caf::expected<store_actor>)> fn) {
  check_cluster(self, [self, i, fn = std::move(fn)](const cluster_check_result& check) mutable {
    const auto& refusals = check.refusals;
    if (!refusals.empty()) {
      if (refusals[i]) {
        fn(refusals[i]);
        return;
      }
      for (const auto& e : refusals)
        if (e) {
          fn(e);
          return;
        }
    }
    if (!check.unreachable.empty() && check.unreachable[i]) {
      fn(check.unreachable[i]);
      return;
    }
    connect_node(self, i, std::move(fn));
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
    // A node's work waits for the node while it lives (src/node/liveness.hpp).
    const auto timeout = waits_for_the_work<Request> ? caf::infinite
                                                     : self->state.request_timeout();
    self->request(*client, timeout, std::move(x))
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
    // Any node moving tasks makes the sums provisional (a task being copied counts twice).
    out.cluster_rebalancing = out.cluster_rebalancing || s.cluster_rebalancing;
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

/// A query on its way through the nodes (query_rounds.hpp), and what its rounds met.
struct query_run {
  cluster_query query;
  caf::typed_response_promise<query_result> promise;
  /// By node: why it could not answer, in any round.
  std::vector<caf::error> errors;
  size_t left = 0;
};

void finish_query_round(router_pointer self, std::shared_ptr<query_run> run);

/// Asks each node of the query's current round its part.
void ask_query_round(router_pointer self, std::shared_ptr<query_run> run) {
  const auto& which = run->query.asking();
  run->left = which.size();
  for (size_t i : which)
    ask_node<query_result>(self, i, run->query.request_for(i),
                           [self, run, i](caf::expected<query_result> r) {
                             if (r) {
                               run->query.answered(i, std::move(*r));
                             } else {
                               run->errors[i] = r.error();
                               run->query.failed(i);
                             }
                             if (--run->left == 0)
                               finish_query_round(self, run);
                           });
}

/// Once every node of a round answered: fails the query as ask_all would (the first error in
/// membership order; with allow_partial, unreachable nodes are named instead), asks another round
/// if the answers call for one, or delivers the merge and keeps what it shows for the next query.
void finish_query_round(router_pointer self, std::shared_ptr<query_run> run) {
  std::vector<std::string> missing;
  caf::error first;
  for (size_t k = 0; k < run->errors.size(); ++k) {
    const auto& err = run->errors[k];
    if (!err)
      continue;
    if (!first)
      first = err;
    if (!run->query.request().allow_partial || !is(err, errc::node_unavailable)) {
      run->promise.deliver(err);
      return;
    }
    missing.push_back(self->state.links[k].member.name);
  }
  if (missing.size() == run->errors.size()) {
    run->promise.deliver(first);
    return;
  }
  if (run->query.next_round()) {
    ask_query_round(self, run);
    return;
  }
  query_hint hint;
  auto out = run->query.take_answer(hint);
  // A partial answer shows nothing about the missing nodes.
  if (missing.empty())
    self->state.hints.remember(run->query.request(), std::move(hint));
  out.missing_nodes = std::move(missing);
  run->promise.deliver(std::move(out));
}

/// A query across the nodes: every node is asked, each for as much as the last answer to the same
/// query suggests it can give, and asked again where its answer shows it may give more
/// (query_rounds.hpp).
caf::typed_response_promise<query_result> route_query(router_pointer self, query_request req) {
  auto& st = self->state;
  const size_t n = st.links.size();
  const query_hint* hint = st.hints.find(req);
  auto run = std::make_shared<query_run>(query_run{cluster_query{std::move(req), n, hint},
                                                   self->make_response_promise<query_result>(),
                                                   std::vector<caf::error>(n), 0});
  ask_query_round(self, run);
  return run->promise;
}

/// Connects to nodes `which` (in order) and calls `done` with their clients, or with the first
/// failure.
void with_nodes(router_pointer self, std::vector<size_t> which,
                std::function<void(caf::expected<std::vector<cluster_subscription_node>>)> done) {
  struct pending {
    std::vector<cluster_subscription_node> nodes;
    caf::error failure;
    size_t left;
  };
  auto p = std::make_shared<pending>();
  p->nodes.resize(which.size());
  p->left = which.size();
  for (size_t k = 0; k < which.size(); ++k) {
    const size_t i = which[k];
    with_node(self, i, [self, p, k, i, done](caf::expected<store_actor> client) {
      if (client)
        p->nodes[k] = cluster_subscription_node{label(self->state.links[i].member), *client};
      else if (!p->failure)
        p->failure = client.error();
      if (--p->left > 0)
        return;
      if (p->failure)
        done(p->failure);
      else
        done(std::move(p->nodes));
    });
  }
}

/// A subscription across the nodes that can hold its events: a cluster_subscription actor of its
/// own, which answers once every node has subscribed.
caf::typed_response_promise<subscribed> subscribe(router_pointer self, subscribe_request req) {
  auto promise = self->make_response_promise<subscribed>();
  if (auto err = validate(req.filter)) {
    promise.deliver(err);
    return promise;
  }
  std::vector<size_t> which;
  if (req.filter.task)
    which.push_back(self->state.members.owner_of(*req.filter.task));
  else
    for (size_t i = 0; i < self->state.links.size(); ++i)
      which.push_back(i);
  with_nodes(self, std::move(which),
             [self, promise, req = std::move(req)](
               caf::expected<std::vector<cluster_subscription_node>> nodes) mutable {
               if (!nodes) {
                 promise.deliver(nodes.error());
                 return;
               }
               auto& st = self->state;
               const uint64_t id = st.next_subscription++;
               auto sub = spawn_cluster_subscription(self->system(), id, std::move(*nodes),
                                                     st.request_timeout());
               st.subscriptions.emplace(id, sub);
               self->monitor(sub);
               self->request(sub, caf::infinite, std::move(req))
                 .then([promise](subscribed& ok) mutable { promise.deliver(ok); },
                       [promise](caf::error& err) mutable { promise.deliver(err); });
             });
  return promise;
}

store_actor::behavior_type router_behavior(router_pointer self, cluster_membership members,
                                           std::chrono::milliseconds timeout) {
  auto& st = self->state;
  st.timeout = timeout;
  for (const auto& m : members.nodes)
    st.links.push_back(node_link{m,
                                 spawn_node_connector(self->system(), m.host, m.port, timeout),
                                 store_actor{}, caf::node_id{}, false, {}, store_actor{}});
  st.members = std::move(members);
  // A client that ends (its node lost) is dropped; the next request connects again.
  self->set_down_handler([=](caf::down_msg& down) {
    auto& st = self->state;
    for (auto& link : st.links)
      if (link.client && link.client.address() == down.source)
        link.client = store_actor{};
    for (auto it = st.subscriptions.begin(); it != st.subscriptions.end(); ++it)
      if (it->second.address() == down.source) {
        st.subscriptions.erase(it);
        break;
      }
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    self->state.closed = true;
    for (auto& [id, sub] : self->state.subscriptions)
      self->send_exit(sub, msg.reason);
    for (auto& link : self->state.links) {
      self->send_exit(link.connector, msg.reason);
      if (link.client)
        self->send_exit(link.client, msg.reason);
      if (link.checking)
        self->send_exit(link.checking, msg.reason);
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
      return route_query(self, std::move(x));
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
      return subscribe(self, std::move(x));
    }
  };
  return forwarding_behavior(ask, [=](unsubscribe_request&& x) {
    auto& subs = self->state.subscriptions;
    if (auto it = subs.find(x.id); it != subs.end())
      self->send(it->second, std::move(x));
  });
}

} // namespace

store_actor spawn_cluster_router(caf::actor_system& sys, cluster_membership members,
                                 std::chrono::milliseconds timeout) {
  return sys.spawn(router_behavior, std::move(members), timeout);
}

} // namespace evstore
