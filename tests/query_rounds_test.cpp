// How a cluster query asks its nodes (src/cluster/query_rounds.hpp): whatever the hint, and
// whichever nodes fail in whichever round, the merged answer equals the best K of the events of
// the nodes that answered; a hint that still holds costs one round and asks the nodes outside the
// last answer for their newest event only.
#include "src/cluster/query_rounds.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>

using namespace evstore;

namespace {

const char* const types[] = {"task:state:running", "task:state:done", "agent:message", "merge:step"};
const char* const prefixes[] = {"task:state:", "task:", "agent:message", "merge:", "", "none:"};

/// A node's events as a store holds them: by task (tasks are the node's own), in file order.
struct sim_node {
  std::vector<std::vector<event>> tasks;
};

struct ranked {
  const event* ev;
  uint64_t position;
};

bool before(const ranked& x, const ranked& y) {
  return std::tie(x.ev->ts, x.ev->task, x.position) < std::tie(y.ev->ts, y.ev->task, y.position);
}

bool selects(const query_request& req, const event& ev) {
  const bool type_ok = req.exact_type ? ev.type == req.prefix
                                      : ev.type.compare(0, req.prefix.size(), req.prefix) == 0;
  return type_ok && (!req.since || *ev.ts >= *req.since);
}

/// What a store holding `nodes`' events answers `req` (a full scan, sorted): the oracle, and each
/// simulated node's own answer.
query_result answer(const std::vector<const sim_node*>& nodes, const query_request& req) {
  std::vector<ranked> all;
  for (const auto* n : nodes)
    for (const auto& task : n->tasks)
      for (size_t p = 0; p < task.size(); ++p)
        if (selects(req, task[p]))
          all.push_back(ranked{&task[p], p});
  std::sort(all.begin(), all.end(), before);
  query_result out;
  const size_t from = all.size() > req.limit ? all.size() - req.limit : 0;
  for (size_t k = from; k < all.size(); ++k) {
    out.events.push_back(*all[k].ev);
    out.positions.push_back(all[k].position);
  }
  return out;
}

/// `ms` milliseconds after the time every test's events are near.
timestamp at_ms(int64_t ms) {
  return timestamp::from_parts(1'700'000'000, 0) + std::chrono::milliseconds{ms};
}

std::vector<sim_node> random_cluster(std::mt19937_64& rng, size_t node_count) {
  std::vector<sim_node> nodes(node_count);
  for (size_t i = 0; i < node_count; ++i) {
    // Some nodes hold little or nothing, so a prefix may live on one node only.
    const size_t task_count = rng() % 4 == 0 ? rng() % 2 : 1 + rng() % 6;
    for (size_t t = 0; t < task_count; ++t) {
      std::vector<event> events(rng() % 12);
      for (auto& ev : events) {
        ev.id = std::to_string(rng());
        ev.task = "n" + std::to_string(i) + "-t" + std::to_string(t);
        ev.type = types[rng() % (i == 0 ? std::size(types) : std::size(types) - 1)];
        ev.ts = at_ms(static_cast<int64_t>(rng() % 40)); // ties
      }
      nodes[i].tasks.push_back(std::move(events));
    }
  }
  return nodes;
}

/// Runs `q` to its end against `nodes`, answering each request as the node would; with `rng`, a
/// node asked fails now and then (one in `fail_one_in`), and `failed` names the nodes that did.
query_result run(cluster_query& q, const std::vector<sim_node>& nodes, query_hint& next,
                 std::mt19937_64* rng = nullptr, uint64_t fail_one_in = 0,
                 std::vector<bool>* failed = nullptr) {
  do {
    for (size_t i : q.asking()) {
      if (rng && (*rng)() % fail_one_in == 0) {
        q.failed(i);
        (*failed)[i] = true;
      } else {
        q.answered(i, answer({&nodes[i]}, q.request_for(i)));
      }
    }
  } while (q.next_round());
  return q.take_answer(next);
}

std::vector<std::string> ids(const query_result& r) {
  std::vector<std::string> out;
  for (const auto& e : r.events)
    out.push_back(e.id);
  return out;
}

/// Every node's pointer, for the oracle.
std::vector<const sim_node*> all_of(const std::vector<sim_node>& nodes) {
  std::vector<const sim_node*> out;
  for (const auto& n : nodes)
    out.push_back(&n);
  return out;
}

/// Three nodes of one task each, events at whole seconds: x holds 11 and 12, j 20, i 8 and 9.
std::vector<sim_node> x_j_i() {
  std::vector<sim_node> nodes(3);
  auto add = [&](size_t node, int seconds, const char* id) {
    event e;
    e.id = id;
    e.task = "n" + std::to_string(node) + "-t0";
    e.type = "merge:step";
    e.ts = timestamp::from_parts(seconds, 0);
    nodes[node].tasks.resize(1);
    nodes[node].tasks[0].push_back(e);
  };
  add(0, 11, "x11");
  add(0, 12, "x12");
  add(1, 20, "j20");
  add(2, 8, "i8");
  add(2, 9, "i9");
  return nodes;
}

} // namespace

TEST(ClusterQuery, AnyHintGivesTheSingleStoresAnswer) {
  for (uint64_t seed = 1; seed <= 3000; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng{seed};
    const size_t n = 1 + rng() % 5;
    auto nodes = random_cluster(rng, n);
    query_request req;
    req.prefix = prefixes[rng() % std::size(prefixes)];
    req.exact_type = rng() % 6 == 0;
    req.limit = rng() % 15;
    if (rng() % 3 == 0)
      req.since = at_ms(static_cast<int64_t>(rng() % 40));
    // Hints of every kind: none, random (stale in every way a store's changes can make one), and
    // the hint of this very query, which a later test shows is one round.
    query_hint hint;
    const query_hint* given = nullptr;
    if (rng() % 4 != 0) {
      hint.contributed.resize(rng() % 8 == 0 ? n + 1 : n); // a hint of another membership
      for (size_t i = 0; i < hint.contributed.size(); ++i)
        hint.contributed[i] = rng() % 2;
      if (rng() % 3 != 0)
        hint.floor = at_ms(static_cast<int64_t>(rng() % 50) - 5);
      given = &hint;
    }
    cluster_query q{req, n, given};
    query_hint next;
    auto got = run(q, nodes, next);
    auto want = answer(all_of(nodes), req);
    ASSERT_EQ(ids(got), ids(want));
    ASSERT_EQ(got.positions, want.positions);
    if (!given || req.limit <= 1) {
      ASSERT_EQ(q.rounds(), 1);
    }
    // The hint it leaves: which nodes held the answer's events, and its K-th ts if it is full.
    for (size_t i = 0; i < n; ++i) {
      const auto& task_prefix = "n" + std::to_string(i) + "-";
      const bool held = std::any_of(want.events.begin(), want.events.end(), [&](const event& e) {
        return e.task.compare(0, task_prefix.size(), task_prefix) == 0;
      });
      EXPECT_EQ(next.contributed[i], held) << "node " << i;
    }
    if (req.limit > 0 && want.events.size() == req.limit)
      EXPECT_EQ(next.floor, want.events.front().ts);
    else
      EXPECT_FALSE(next.floor);
  }
}

TEST(ClusterQuery, TheLastAnswersHintAsksOneRoundAndTheOtherNodesForTheirNewestEventOnly) {
  int checked = 0;
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng{seed};
    const size_t n = 2 + rng() % 4;
    auto nodes = random_cluster(rng, n);
    query_request req;
    req.prefix = prefixes[rng() % std::size(prefixes)];
    req.limit = 2 + rng() % 10;
    cluster_query first{req, n, nullptr};
    query_hint hint;
    run(first, nodes, hint);
    cluster_query again{req, n, &hint};
    for (size_t i = 0; i < n; ++i) {
      const auto asked = again.request_for(i);
      EXPECT_EQ(asked.limit, hint.contributed[i] ? req.limit : 1u) << "node " << i;
      EXPECT_EQ(asked.since, hint.floor) << "node " << i;
    }
    query_hint unused;
    auto got = run(again, nodes, unused);
    EXPECT_EQ(ids(got), ids(answer(all_of(nodes), req)));
    EXPECT_EQ(again.rounds(), 1);
    checked += std::count(hint.contributed.begin(), hint.contributed.end(), false) > 0;
  }
  EXPECT_GT(checked, 100); // the seeds do leave nodes out of answers
}

TEST(ClusterQuery, ANodeLeftOutByTheHintWhoseNewEventsRankInIsAskedForItsBestK) {
  std::vector<sim_node> nodes(2);
  auto ev = [&](size_t node, int ms, const char* id) {
    event e;
    e.id = id;
    e.task = "n" + std::to_string(node) + "-t0";
    e.type = "task:state:running";
    e.ts = at_ms(ms);
    if (nodes[node].tasks.empty())
      nodes[node].tasks.emplace_back();
    nodes[node].tasks[0].push_back(e);
  };
  for (int k = 0; k < 5; ++k)
    ev(0, 10 + k, ("a" + std::to_string(k)).c_str());
  ev(1, 1, "b-old");
  query_request req;
  req.prefix = "task:state:";
  req.limit = 3;
  query_hint hint;
  cluster_query first{req, 2, nullptr};
  run(first, nodes, hint);
  ASSERT_EQ(hint.contributed, (std::vector<bool>{true, false}));
  ASSERT_EQ(hint.floor, at_ms(12));
  // Node 1 gains the two newest events after the hint was taken.
  ev(1, 30, "b-new1");
  ev(1, 31, "b-new2");
  cluster_query again{req, 2, &hint};
  query_hint next;
  auto got = run(again, nodes, next);
  EXPECT_EQ(ids(got), (std::vector<std::string>{"a4", "b-new1", "b-new2"}));
  EXPECT_EQ(again.rounds(), 2);
  EXPECT_EQ(next.contributed, (std::vector<bool>{true, true}));
}

TEST(ClusterQuery, ABoundThatCutsTheAnswerShortIsDroppedAndEveryNodeAskedAgain) {
  // The hint's bound is newer than every event left (a compaction removed the newer ones).
  sim_node a;
  sim_node b;
  for (int k = 0; k < 4; ++k) {
    event e;
    e.id = "e" + std::to_string(k);
    e.task = k % 2 ? "n1-t0" : "n0-t0";
    e.type = "merge:step";
    e.ts = timestamp::from_parts(1'700'000'000 + k, 0);
    (k % 2 ? b : a).tasks.resize(1);
    (k % 2 ? b : a).tasks[0].push_back(e);
  }
  std::vector<sim_node> nodes{a, b};
  query_request req;
  req.prefix = "merge:";
  req.limit = 3;
  query_hint stale;
  stale.contributed = {true, false};
  stale.floor = timestamp::from_parts(1'700'000'100, 0);
  cluster_query q{req, 2, &stale};
  query_hint next;
  auto got = run(q, nodes, next);
  EXPECT_EQ(ids(got), (std::vector<std::string>{"e1", "e2", "e3"}));
  EXPECT_EQ(q.rounds(), 2);
}

TEST(ClusterQuery, NodesThatFailInAnyRoundLeaveExactlyTheOthersBestK) {
  // A partial answer (the router names the failed nodes) is the best K of the nodes that answered,
  // whichever round a node failed in: the first round's decisions may have rested on its answer.
  for (uint64_t seed = 1; seed <= 3000; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng{seed};
    const size_t n = 2 + rng() % 4;
    auto nodes = random_cluster(rng, n);
    query_request req;
    req.prefix = prefixes[rng() % std::size(prefixes)];
    req.limit = 2 + rng() % 12;
    query_hint hint;
    hint.contributed.resize(n);
    for (size_t i = 0; i < n; ++i)
      hint.contributed[i] = rng() % 2;
    if (rng() % 2)
      hint.floor = at_ms(static_cast<int64_t>(rng() % 40));
    cluster_query q{req, n, &hint};
    std::vector<bool> failed(n, false);
    query_hint next;
    auto got = run(q, nodes, next, &rng, 6, &failed);
    std::vector<const sim_node*> answering;
    for (size_t i = 0; i < n; ++i)
      if (!failed[i])
        answering.push_back(&nodes[i]);
    EXPECT_EQ(ids(got), ids(answer(answering, req)));
  }
}

TEST(ClusterQuery, ANodeThatFailsWhenAskedAgainLeavesNoOtherNodesEventsOut) {
  // The hint asks j and i for their newest event only, from second 10. j's newest ranks in, so j is asked again, and fails: i's 9 belongs to the answer of x and i.
  auto nodes = x_j_i();
  query_request req;
  req.prefix = "merge:";
  req.limit = 3;
  query_hint hint;
  hint.contributed = {true, false, false};
  hint.floor = timestamp::from_parts(10, 0);
  cluster_query q{req, 3, &hint};
  for (size_t i : q.asking())
    q.answered(i, answer({&nodes[i]}, q.request_for(i)));
  ASSERT_TRUE(q.next_round());
  ASSERT_EQ(q.asking(), std::vector<size_t>{1});
  q.failed(1);
  while (q.next_round())
    for (size_t i : q.asking())
      q.answered(i, answer({&nodes[i]}, q.request_for(i)));
  query_hint next;
  EXPECT_EQ(ids(q.take_answer(next)), (std::vector<std::string>{"i9", "x11", "x12"}));
  EXPECT_FALSE(next.contributed[1]);
}

TEST(ClusterQuery, ANodeThatLostEventsBetweenTheRoundsLeavesNoOtherNodesEventsOut) {
  // Asked for 4, j's newest ranks in and i's does not; j answers again after a compaction removed
  // its event, holding nothing now: the answer is x's and both of i's.
  auto nodes = x_j_i();
  query_request req;
  req.prefix = "merge:";
  req.limit = 4;
  query_hint hint;
  hint.contributed = {true, false, false};
  cluster_query q{req, 3, &hint};
  for (size_t i : q.asking())
    q.answered(i, answer({&nodes[i]}, q.request_for(i)));
  ASSERT_TRUE(q.next_round());
  nodes[1].tasks[0].clear();
  query_hint next;
  do {
    for (size_t i : q.asking())
      q.answered(i, answer({&nodes[i]}, q.request_for(i)));
  } while (q.next_round());
  EXPECT_EQ(ids(q.take_answer(next)), (std::vector<std::string>{"i8", "i9", "x11", "x12"}));
  EXPECT_EQ(q.rounds(), 3);
}

TEST(QueryHints, KeepsTheMostRecentlyUsedKindsOfQueryUpToItsCapacity) {
  query_hints hints{2};
  auto req = [](const char* prefix, uint64_t limit, bool exact = false) {
    query_request r;
    r.prefix = prefix;
    r.limit = limit;
    r.exact_type = exact;
    return r;
  };
  query_hint h;
  h.contributed = {true};
  hints.remember(req("a", 5), h);
  hints.remember(req("b", 5), h);
  EXPECT_EQ(hints.find(req("a", 6)), nullptr);            // another limit
  EXPECT_EQ(hints.find(req("a", 5, true)), nullptr);      // exact type is another query
  ASSERT_NE(hints.find(req("a", 5)), nullptr);            // "a" is now the most recent
  hints.remember(req("c", 5), h);                         // drops "b"
  EXPECT_EQ(hints.size(), 2u);
  EXPECT_EQ(hints.find(req("b", 5)), nullptr);
  EXPECT_NE(hints.find(req("a", 5)), nullptr);
  h.contributed = {false};
  hints.remember(req("a", 5), h);
  EXPECT_EQ(hints.find(req("a", 5))->contributed, std::vector<bool>{false});
}
