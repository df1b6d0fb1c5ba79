// Moving tasks when a cluster's membership changes (src/cluster/rebalance.hpp): a node added to two
// gets exactly the tasks the new file gives it, the cluster then answers as one store fed the same
// operations, and a rebalance stopped at any step (as if its command were killed, or a node with
// it) leaves every task whole on some node, answers nothing short, and finishes when run again.
#include <algorithm>
#include <fstream>
#include <map>

#include "src/cluster/membership.hpp"
#include "src/cluster/rebalance.hpp"
#include "src/format/uuid.hpp"
#include "src/facade/node.hpp"
#include "src/node/endpoint_file.hpp"
#include "src/storage/store_layout.hpp"
#include "support/equivalence.hpp"
#include "support/silent_listener.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;

namespace {

// The third name outweighs the others for the empty id, so the system-wide log moves too.
const char* const names[] = {"alpha", "beta", "upsilon"};

class RebalanceTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto cred = ensure_node_credential(dir_.str("credential"));
    ASSERT_TRUE(cred) << render(cred.error());
    credential_ = *cred;
    // Who owns a task depends on the names only: the nodes' files are written before the system
    // picks their ports, the clients' once it has.
    write_membership(node_file(2), 2, {1, 2, 3});
    write_membership(node_file(3), 3, {1, 2, 3});
    ports_ = {0, 0, 0};
    nodes_.resize(3);
    start_node(0, 2);
    start_node(1, 2);
    start_node(2, 3); // the node being added: its file names the new membership
    write_membership(old_file(), 2, ports_);
    write_membership(new_file(), 3, ports_);
  }

  std::string node_file(size_t n) const {
    return dir_.str("nodes-" + std::to_string(n) + ".conf");
  }
  std::string old_file() const {
    return dir_.str("old.conf");
  }
  std::string new_file() const {
    return dir_.str("new.conf");
  }
  /// A rebalance from the two-node file to the three-node one.
  rebalance_options old_to_new() const {
    rebalance_options opts;
    opts.from_file = old_file();
    opts.to_file = new_file();
    return opts;
  }
  std::string root_of(size_t i) const {
    return dir_.str(std::string{"node-"} + names[i]);
  }

  /// The first `n` nodes at `ports`. No system line: the system-wide log lives on the owner of the
  /// empty id, which adding upsilon may change, so it moves like any task.
  void write_membership(const std::string& path, size_t n,
                        const std::vector<uint16_t>& ports) const {
    std::ofstream out{path};
    out << "credential " << credential_ << "\n";
    for (size_t i = 0; i < n; ++i)
      out << names[i] << " 127.0.0.1:" << ports[i] << "\n";
  }

  /// Node `i` served as a member of the first `n` nodes, on its port.
  store_options node_options(size_t i, size_t n) const {
    store_options opts;
    opts.root = root_of(i);
    opts.serve = true;
    opts.serve_credential = credential_;
    opts.listen_port = ports_[i];
    opts.serve_cluster = node_file(n);
    opts.serve_as = {names[i]};
    opts.index_sketch_size = 1;
    return opts;
  }

  void start_node(size_t i, size_t n) {
    auto opts = node_options(i, n);
    auto db = store::open(opts);
    ASSERT_TRUE(db) << render(db.error());
    nodes_[i] = std::move(*db);
    auto root = store_root::open(opts.root, false);
    ASSERT_TRUE(root);
    auto where = read_endpoint(**root);
    ASSERT_TRUE(where && *where);
    ports_[i] = (**where).port;
  }

  std::unique_ptr<store> open_single() {
    store_options opts;
    opts.root = dir_.str("single");
    opts.index_sketch_size = 1;
    auto db = store::open(opts);
    EXPECT_TRUE(db) << render(db.error());
    return db ? std::move(*db) : nullptr;
  }

  std::unique_ptr<store> connect(const std::string& file) {
    auto db = store::connect_cluster(file, std::chrono::seconds{5});
    EXPECT_TRUE(db) << render(db.error());
    return db ? std::move(*db) : nullptr;
  }

  /// Each node's events files by task, as bytes (read beside the nodes: nothing writes them now).
  std::vector<std::map<std::string, std::string>> files_on_nodes() const {
    std::vector<std::map<std::string, std::string>> out(3);
    for (size_t i = 0; i < 3; ++i) {
      auto tasks = list_task_ids(root_of(i));
      EXPECT_TRUE(tasks) << render(tasks.error());
      if (!tasks)
        continue;
      for (const auto& t : *tasks)
        out[i][t] = slurp(events_path(root_of(i), t));
    }
    return out;
  }

  /// Every task of `before` is on some node byte for byte, and no node holds another history of it.
  void expect_every_task_whole(const std::map<std::string, std::string>& before) const {
    auto now = files_on_nodes();
    for (const auto& [task, bytes] : before) {
      size_t copies = 0;
      for (size_t i = 0; i < 3; ++i) {
        auto it = now[i].find(task);
        if (it == now[i].end())
          continue;
        EXPECT_EQ(it->second, bytes) << task << " on " << names[i];
        ++copies;
      }
      EXPECT_GE(copies, 1u) << task << " is on no node";
    }
  }

  /// A node's own store, asked through its local handle while the node moves tasks: everything
  /// but statistics is refused with `rebalancing`.
  static void expect_local_handle_refused(store& node, const std::string& task) {
    auto appended = node.append(make_event(task, "task:state:running"));
    ASSERT_FALSE(appended) << "a local append was taken during a rebalance";
    EXPECT_TRUE(is(appended.error(), errc::rebalancing)) << render(appended.error());
    auto read = node.read_task(task);
    ASSERT_FALSE(read);
    EXPECT_TRUE(is(read.error(), errc::rebalancing)) << render(read.error());
    auto query = node.query_by_type_prefix("", 5);
    ASSERT_FALSE(query);
    EXPECT_TRUE(is(query.error(), errc::rebalancing)) << render(query.error());
    auto compacted = node.compact_all(retention_policy{});
    ASSERT_FALSE(compacted);
    EXPECT_TRUE(is(compacted.error(), errc::rebalancing)) << render(compacted.error());
    EXPECT_TRUE(node.index_statistics());
  }

  /// Every task is on exactly the node the new file gives it.
  void expect_tasks_on_their_owners(const std::map<std::string, std::string>& before) const {
    auto m = read_membership(new_file());
    ASSERT_TRUE(m);
    auto now = files_on_nodes();
    for (const auto& [task, bytes] : before)
      for (size_t i = 0; i < 3; ++i)
        EXPECT_EQ(now[i].count(task), m->owner_of(task) == i ? 1u : 0u)
          << task << " on " << names[i];
  }

  /// Feeds a single store and the two-node cluster the same operations, and returns the tasks'
  /// files as they are then (task -> bytes, from whichever node holds each).
  std::map<std::string, std::string> fill(store& single) {
    auto old_cluster = connect(old_file());
    EXPECT_TRUE(old_cluster);
    if (!old_cluster)
      return {};
    for (uint64_t seed = 1; seed <= 2; ++seed)
      run_equivalent_operations(single, *old_cluster, seed, 150);
    for (int k = 0; k < 3; ++k) { // the system-wide log too
      auto ev = make_event("", "orchestrator:decision");
      ev.id = make_uuid_v4(); // the same event in both, as run_equivalent_operations' are
      ev.ts = timestamp::now();
      EXPECT_TRUE(single.append(ev));
      EXPECT_TRUE(old_cluster->append(ev));
    }
    std::map<std::string, std::string> all;
    for (auto& on_node : files_on_nodes())
      all.insert(on_node.begin(), on_node.end());
    return all;
  }

  temp_dir dir_;
  std::string credential_;
  std::vector<uint16_t> ports_;
  std::vector<std::unique_ptr<store>> nodes_;
};

} // namespace

TEST_F(RebalanceTest, AnAddedNodeGetsExactlyItsTasksAndTheClusterAnswersAsOneStore) {
  auto single = open_single();
  ASSERT_TRUE(single);
  auto before = fill(*single);
  ASSERT_FALSE(HasFailure());
  auto m = read_membership(new_file());
  ASSERT_TRUE(m);
  size_t to_upsilon = 0;
  for (const auto& [task, bytes] : before)
    to_upsilon += m->owner_of(task) == 2;
  ASSERT_GT(to_upsilon, 0u) << "the operations made no task upsilon owns";
  ASSERT_EQ(before.count(""), 1u);
  ASSERT_EQ(m->owner_of(""), 2u) << "the system-wide log does not move";

  // A client of the old file, connected before the move: afterwards, never a short answer.
  auto old_client = connect(old_file());
  ASSERT_TRUE(old_client);
  ASSERT_TRUE(old_client->query_by_type_prefix("", 5));
  // A client of the new file, before the move: refused, since alpha and beta serve the old one.
  auto early = connect(new_file());
  ASSERT_TRUE(early);
  auto refused = early->query_by_type_prefix("", 5);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), errc::wrong_node)) << render(refused.error());
  // Nor is an append to a task upsilon will own but does not hold yet taken by upsilon, whose file
  // agrees with the client's: its history would be split between two nodes.
  std::string moving_task;
  for (const auto& [task, bytes] : before)
    if (m->owner_of(task) == 2 && !task.empty())
      moving_task = task;
  auto split = early->append(make_event(moving_task, "task:state:running"));
  ASSERT_FALSE(split) << "upsilon took an append to " << moving_task << " before it was moved";
  EXPECT_TRUE(is(split.error(), errc::wrong_node)) << render(split.error());

  auto opts = old_to_new();
  auto report = rebalance_cluster(opts);
  ASSERT_TRUE(report) << render(report.error());
  EXPECT_EQ(report->moved, to_upsilon);
  EXPECT_EQ(report->resumed, 0u);
  EXPECT_FALSE(report->stopped);
  expect_tasks_on_their_owners(before);
  expect_every_task_whole(before);

  // The old client's connections were dropped with the old gates, and its file is refused.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto stale = old_client->query_by_type_prefix("", 5);
    ASSERT_FALSE(stale) << "a client of the old file was answered after the move";
    EXPECT_TRUE(is(stale.error(), errc::wrong_node) || is(stale.error(), errc::node_unavailable)
                || is(stale.error(), errc::rebalancing))
      << render(stale.error());
  }
  // The new file's clients: every read, query and append as the single store's.
  auto cluster = connect(new_file());
  ASSERT_TRUE(cluster);
  run_equivalent_operations(*single, *cluster, 7, 200);
  // Run again: nothing to move, and nothing changes.
  auto again = rebalance_cluster(opts);
  ASSERT_TRUE(again) << render(again.error());
  EXPECT_EQ(again->moved, 0u);

  // alpha restarted under its old file would take tasks it gave away: it refuses to start.
  nodes_[0].reset();
  auto stale_opts = node_options(0, 2);
  auto stale_node = store::open(stale_opts);
  ASSERT_FALSE(stale_node);
  EXPECT_TRUE(is(stale_node.error(), errc::wrong_node)) << render(stale_node.error());
  // Nor is it served as a plain node, which routers would take as listed.
  stale_opts.serve_cluster.clear();
  stale_opts.serve_as.clear();
  auto plain_node = store::open(stale_opts);
  ASSERT_FALSE(plain_node);
  EXPECT_TRUE(is(plain_node.error(), errc::wrong_node)) << render(plain_node.error());
  start_node(0, 3); // under the new one it serves again, and the cluster is whole
  ASSERT_FALSE(HasFatalFailure());
  auto after_restart = connect(new_file());
  ASSERT_TRUE(after_restart);
  run_equivalent_operations(*single, *after_restart, 8, 100);
}

TEST_F(RebalanceTest, ARebalanceStoppedAtEachStepKeepsEveryTaskWholeAndFinishesWhenRunAgain) {
  auto single = open_single();
  ASSERT_TRUE(single);
  auto before = fill(*single);
  ASSERT_FALSE(HasFailure());
  auto cluster = connect(new_file());
  ASSERT_TRUE(cluster);
  // Connected under the old file before the move: its statistics pass the nodes' gates meanwhile.
  auto old_cluster = connect(old_file());
  ASSERT_TRUE(old_cluster);
  ASSERT_TRUE(old_cluster->index_statistics());

  auto opts = old_to_new();
  opts.chunk_bytes = 512; // several chunks per task: stops inside copies too
  opts.parallel_moves = 1; // one step at a time: each run stops exactly at its first new one
  // Each run stops at the first step no run stopped at before (a copy not committed is done again
  // from its start, so its earlier chunks pass): every distinct step is a place some run stopped.
  std::vector<std::string> stopped_at;
  bool restarted = false;
  for (;;) {
    SCOPED_TRACE("run " + std::to_string(stopped_at.size() + 1));
    opts.after_step = [&](const std::string& step) {
      if (std::find(stopped_at.begin(), stopped_at.end(), step) != stopped_at.end())
        return true;
      stopped_at.push_back(step);
      return false;
    };
    auto report = rebalance_cluster(opts);
    ASSERT_TRUE(report) << render(report.error());
    if (!report->stopped)
      break;
    ASSERT_LT(stopped_at.size(), 2000u) << "the rebalance makes no progress";
    expect_every_task_whole(before);
    if (HasFailure())
      return;
    // Stopped: never an answer without some node's tasks. A node still in the state refuses.
    // Statistics are answered while the old connections last (until a node's end), and say that
    // tasks are moving: their sums count a task being copied twice.
    if (auto stats = old_cluster->index_statistics()) {
      EXPECT_TRUE(stats->cluster_rebalancing) << "after " << stopped_at.back();
    }
    auto query = cluster->query_by_type_prefix("", 10);
    if (!query) {
      EXPECT_TRUE(is(query.error(), errc::rebalancing) || is(query.error(), errc::wrong_node)
                  || is(query.error(), errc::node_unavailable))
        << render(query.error());
    } else {
      // Answered only once every node has ended: then it is the single store's answer.
      auto expected = single->query_by_type_prefix("", 10);
      ASSERT_TRUE(expected);
      EXPECT_EQ(ids_of(query->events), ids_of(expected->events)) << "after " << stopped_at.back();
    }
    const auto appended_task = before.rbegin()->first;
    auto append = cluster->append(make_event(appended_task, "task:state:running"));
    if (append) { // only once every node has ended (the single store is then fed it too)
      ASSERT_TRUE(single->append(append->ev));
      auto owner = read_membership(new_file())->owner_of(appended_task);
      before[appended_task] = slurp(events_path(root_of(owner), appended_task));
    } else
      EXPECT_TRUE(is(append.error(), errc::rebalancing) || is(append.error(), errc::wrong_node)
                  || is(append.error(), errc::node_unavailable))
        << render(append.error());
    if (!restarted && stopped_at.back().rfind("copy", 0) == 0) {
      // A node stopped in the middle of a copy comes back in the state and keeps refusing writes.
      restarted = true;
      nodes_[1].reset();
      start_node(1, 2);
      auto direct = connect(new_file());
      ASSERT_TRUE(direct);
      auto refused = direct->append(make_event(before.begin()->first, "task:state:running"));
      ASSERT_FALSE(refused);
      EXPECT_TRUE(is(refused.error(), errc::rebalancing)) << render(refused.error());
    }
  }
  EXPECT_TRUE(restarted);
  // Stopped inside copies, after commits and releases, and between the nodes' ends.
  for (const char* kind : {"begin beta", "copy ", "commit ", "release ", "end alpha", "end beta"})
    EXPECT_TRUE(std::any_of(stopped_at.begin(), stopped_at.end(),
                            [&](const std::string& s) { return s.rfind(kind, 0) == 0; }))
      << kind;
  expect_tasks_on_their_owners(before);
  auto fresh = connect(new_file());
  ASSERT_TRUE(fresh);
  run_equivalent_operations(*single, *fresh, 11, 150);
}

TEST_F(RebalanceTest, ARebalanceToAnotherFileIsRefusedWhileOneIsUnderWay) {
  auto single = open_single();
  ASSERT_TRUE(single);
  auto before = fill(*single);
  ASSERT_FALSE(HasFailure());
  auto opts = old_to_new();
  opts.after_step = [](const std::string& step) { return step.rfind("begin", 0) != 0; };
  auto stopped = rebalance_cluster(opts);
  ASSERT_TRUE(stopped) << render(stopped.error());
  EXPECT_TRUE(stopped->stopped);
  // A program embedding a node reaches its store past the gate, through its local handle: the
  // store refuses it too (it would change a task the move copies, or read one just released).
  expect_local_handle_refused(*nodes_[0], before.begin()->first);
  // alpha is moving tasks to the new file: one to another file is refused and moves nothing.
  rebalance_options other = opts;
  other.to_file = old_file();
  other.after_step = {};
  auto refused = rebalance_cluster(other);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), errc::invalid_argument)) << render(refused.error());
  EXPECT_NE(render(refused.error()).find("alpha"), std::string::npos) << render(refused.error());
  expect_every_task_whole(before);
  // alpha's root, its node stopped: opened for writing without the cluster, refused (it would
  // change what the move copies); read-only, it answers from the files.
  nodes_[0].reset();
  store_options local;
  local.root = root_of(0);
  auto writer = store::open(local);
  ASSERT_FALSE(writer);
  EXPECT_TRUE(is(writer.error(), errc::rebalancing)) << render(writer.error());
  local.read_only = true;
  auto reader = store::open(local);
  ASSERT_TRUE(reader) << render(reader.error());
  auto listed = (*reader)->list_tasks(true);
  ASSERT_TRUE(listed) << render(listed.error());
  EXPECT_FALSE(listed->empty());
  reader->reset();
  start_node(0, 2);
  ASSERT_FALSE(HasFatalFailure());
  expect_local_handle_refused(*nodes_[0], before.begin()->first); // restarted in the state
  opts.after_step = {};
  auto finished = rebalance_cluster(opts);
  ASSERT_TRUE(finished) << render(finished.error());
  expect_tasks_on_their_owners(before);
  // The move over, the local handle takes requests again: alpha's tasks under the new file.
  auto m = read_membership(new_file());
  ASSERT_TRUE(m);
  std::string alphas;
  for (const auto& [task, bytes] : before)
    if (m->owner_of(task) == 0)
      alphas = task;
  ASSERT_TRUE(nodes_[0]->append(make_event(alphas, "task:state:running")));
  ASSERT_TRUE(nodes_[0]->query_by_type_prefix("", 5));
}

TEST_F(RebalanceTest, AZeroChunkSizeParallelismOrTimeoutIsRefusedBeforeAnythingBegins) {
  auto zero_chunk = old_to_new(), zero_moves = old_to_new(), zero_timeout = old_to_new();
  zero_chunk.chunk_bytes = 0;
  zero_moves.parallel_moves = 0; // would end a run that moved nothing, as if it had moved all
  zero_timeout.timeout = std::chrono::milliseconds{0};
  for (auto* opts : {&zero_chunk, &zero_moves, &zero_timeout}) {
    auto refused = rebalance_cluster(*opts);
    ASSERT_FALSE(refused);
    EXPECT_TRUE(is(refused.error(), errc::invalid_argument)) << render(refused.error());
    for (size_t i = 0; i < 3; ++i)
      EXPECT_FALSE(std::filesystem::exists(root_of(i) + "/" + rebalance_file_name)) << names[i];
  }
  // Nothing began: the old file's cluster answers.
  auto old_cluster = connect(old_file());
  ASSERT_TRUE(old_cluster);
  EXPECT_TRUE(old_cluster->query_by_type_prefix("", 5));
}

TEST_F(RebalanceTest, AMemberWhoseHostDropsEveryPacketFailsTheRunWithinItsTimeout) {
  // omega's address drops every SYN: CAF's middleman would block in connect(2) for the kernel's
  // connect timeout (minutes), and the command's actor system would wait for that as it ends.
  silent_listener dropping{silent_listener::mode::syns_dropped};
  ASSERT_NE(dropping.port(), 0);
  const std::string with_omega = dir_.str("with-omega.conf");
  write_membership(with_omega, 3, ports_);
  std::ofstream{with_omega, std::ios::app} << "omega 127.0.0.1:" << dropping.port() << "\n";
  auto opts = old_to_new();
  opts.to_file = with_omega;
  opts.timeout = std::chrono::seconds{1};
  const auto start = std::chrono::steady_clock::now();
  auto refused = rebalance_cluster(opts);
  EXPECT_LT(std::chrono::steady_clock::now() - start, opts.timeout * 5);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), errc::node_unavailable)) << render(refused.error());
  EXPECT_NE(render(refused.error()).find("'omega'"), std::string::npos) << render(refused.error());
  for (size_t i = 0; i < 3; ++i)
    EXPECT_FALSE(std::filesystem::exists(root_of(i) + "/" + rebalance_file_name)) << names[i];
}

/// A task upsilon owns under the new file, and its history written by a store of its own.
std::pair<std::string, std::string> a_task_for_upsilon(const temp_dir& dir, const std::string& tag,
                                                        const cluster_membership& m, int events) {
  std::string task;
  for (int n = 0; task.empty(); ++n)
    if (m.owner_of(tag + "-" + std::to_string(n)) == 2)
      task = tag + "-" + std::to_string(n);
  store_options opts;
  opts.root = dir.str("source-" + tag);
  auto db = store::open(opts);
  EXPECT_TRUE(db) << render(db.error());
  for (int e = 0; db && e < events; ++e)
    EXPECT_TRUE((*db)->append(make_event(task, "agent:message")));
  db->reset();
  return {task, slurp(events_path(opts.root, task))};
}

TEST_F(RebalanceTest, ATaskHeldByTwoNodesThatDoNotOwnItMovesFromEachInTurnUnlessTheirCopiesDiffer) {
  auto m = read_membership(new_file());
  ASSERT_TRUE(m);
  // Left so by an inconsistency (a copy restored from a backup, say): the same history on alpha
  // and beta, and another task whose two copies differ. The nodes are stopped while their roots
  // are written, then serve again on their ports.
  const auto same_task = a_task_for_upsilon(dir_, "same", *m, 3);
  const auto differ_task = a_task_for_upsilon(dir_, "differ", *m, 3);
  const std::string &same = same_task.first, &same_bytes = same_task.second;
  const std::string &differ = differ_task.first, &differ_bytes = differ_task.second;
  ASSERT_FALSE(HasFailure());
  const std::string longer = differ_bytes + differ_bytes.substr(0, differ_bytes.find('\n') + 1);
  for (size_t i = 0; i < 2; ++i) {
    nodes_[i].reset();
    for (const auto& [task, bytes] : {std::pair{same, same_bytes},
                                      std::pair{differ, i == 0 ? differ_bytes : longer}}) {
      std::filesystem::create_directories(root_of(i) + "/" + task);
      spit(events_path(root_of(i), task), bytes);
    }
    start_node(i, 2);
    ASSERT_FALSE(HasFatalFailure());
  }
  auto opts = old_to_new();
  auto conflict = rebalance_cluster(opts);
  ASSERT_FALSE(conflict) << "two different histories of one task were merged into one";
  EXPECT_TRUE(is(conflict.error(), errc::id_conflict)) << render(conflict.error());
  EXPECT_NE(render(conflict.error()).find(differ), std::string::npos) << render(conflict.error());
  // alpha's copy moved first (the nodes are taken in name order); beta's, found to differ from
  // it, stays where it is: neither history is lost.
  auto now = files_on_nodes();
  EXPECT_EQ(now[0].count(differ), 0u);
  EXPECT_EQ(now[1][differ], longer);
  EXPECT_EQ(now[2][differ], differ_bytes);

  // Once one history is chosen by hand (beta's removed), a run moves both tasks and ends.
  nodes_[1].reset();
  std::filesystem::remove_all(root_of(1) + "/" + differ);
  start_node(1, 2);
  ASSERT_FALSE(HasFatalFailure());
  auto finished = rebalance_cluster(opts);
  ASSERT_TRUE(finished) << render(finished.error());
  now = files_on_nodes();
  for (const auto& [task, bytes] : {std::pair{same, same_bytes}, std::pair{differ, differ_bytes}})
    for (size_t i = 0; i < 3; ++i)
      EXPECT_EQ(now[i].count(task) ? now[i][task] : "", i == 2 ? bytes : "") << task << " on "
                                                                             << names[i];
}

TEST_F(RebalanceTest, ASubscriptionMadeUnderTheOldFileEndsWithTheRebalanceInsteadOfFallingSilent) {
  auto single = open_single();
  ASSERT_TRUE(single);
  auto before = fill(*single);
  ASSERT_FALSE(HasFailure());
  auto old_client = connect(old_file());
  ASSERT_TRUE(old_client);
  subscribe_options opts;
  opts.filter.patterns = {"*"};
  auto sub = old_client->subscribe(opts);
  ASSERT_TRUE(sub) << render(sub.error());
  // It hears the cluster before the move.
  auto ev = make_event("heard-before", "agent:message");
  ASSERT_TRUE(old_client->append(ev));
  std::optional<delivery> got;
  for (int i = 0; i < 50 && !got; ++i)
    got = (*sub)->next(std::chrono::milliseconds{100});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->ev.task, "heard-before");

  auto move = old_to_new();
  auto report = rebalance_cluster(move);
  ASSERT_TRUE(report) << render(report.error());
  // Made under the old membership, it would hear only some of the new owners' appends: it ends,
  // and says so.
  for (int i = 0; i < 50 && !(*sub)->error(); ++i)
    (*sub)->next(std::chrono::milliseconds{100});
  ASSERT_TRUE((*sub)->error()) << "a subscription of the old file outlived the rebalance";
  EXPECT_TRUE(is((*sub)->error(), errc::node_unavailable)) << render((*sub)->error());
}
