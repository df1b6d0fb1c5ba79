// Three `evstore serve --cluster` processes on loopback (separate actor systems, separate roots),
// driven through store::connect_cluster by two threads appending at random while one node is
// SIGKILLed, as a crashed host would be, and then restarted: every failure names the lost node and
// only appends to its tasks fail; no acknowledged event is lost; and once it is back, every read
// and every query of the cluster equals one store fed the same events. Each node is killed in turn
// (beta also holds the system-wide log).
#include <atomic>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "src/cluster/membership.hpp"
#include "src/facade/node.hpp"
#include "src/format/uuid.hpp"
#include "support/equivalence.hpp"
#include "support/node_process.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace {

const char* const names[] = {"alpha", "beta", "gamma"};
const char* const types[] = {"task:state:running", "task:state:done", "agent:message",
                             "merge:queued", "merge:done"};

/// One event a driver sent, and whether the cluster acknowledged it.
struct sent {
  event ev;
  bool acknowledged = false;
};

/// Appends at random, alone or in batches, to the tasks `owns` accepts (so no task is written by
/// two drivers and each task's order is its driver's order), until `stop`. Every failure must be
/// `node_unavailable` naming `down`, for a task `down` owns.
class driver {
public:
  driver(store& cluster, const cluster_membership& members, uint64_t seed, int parity,
         const std::atomic<int>& down)
    : cluster_(cluster), members_(members), rng_(seed), parity_(parity), down_(down) {
  }

  void run(const std::atomic<bool>& stop) {
    const auto base = timestamp::now();
    while (!stop) {
      std::vector<append_request> batch;
      for (size_t k = rng_() % 3 == 0 ? 1 + rng_() % 6 : 1; k > 0; --k) {
        event ev;
        ev.id = make_uuid_v4();
        ev.task = task();
        ev.type = types[rng_() % std::size(types)];
        ev.actor = actor_kind::agent;
        // Ties and timestamps out of order across tasks, over a few seconds.
        ev.ts = base + std::chrono::milliseconds{static_cast<int64_t>(rng_() % 3000)};
        batch.push_back(append_request{std::move(ev), caf::none});
      }
      if (batch.size() == 1) {
        auto res = cluster_.append(batch[0].ev);
        record(batch[0].ev, res ? caf::error{} : res.error());
      } else {
        auto res = cluster_.append_batch(batch);
        ASSERT_TRUE(res) << render(res.error()); // a batch answers each append in its place
        ASSERT_EQ(res->size(), batch.size());
        for (size_t i = 0; i < batch.size(); ++i)
          record(batch[i].ev, (*res)[i].error);
      }
    }
  }

  const std::vector<sent>& log() const {
    return log_;
  }

  // Read by the test's thread while the driver runs.
  std::atomic<size_t> acknowledged{0};
  std::atomic<size_t> failures{0};
  /// Acknowledged appends to the other nodes' tasks while a node was down.
  std::atomic<size_t> acknowledged_while_down{0};

private:
  std::string task() {
    // Twelve tasks each, and (driver 0 only) the system-wide log.
    if (parity_ == 0 && rng_() % 20 == 0)
      return "";
    return "task-" + std::to_string(2 * (rng_() % 12) + parity_);
  }

  void record(const event& ev, const caf::error& err) {
    const int down = down_;
    if (!err) {
      log_.push_back(sent{ev, true});
      ++acknowledged;
      if (down >= 0 && members_.owner_of(ev.task) != static_cast<size_t>(down))
        ++acknowledged_while_down;
      return;
    }
    ++failures;
    log_.push_back(sent{ev, false});
    ASSERT_GE(down, 0) << "a failure with every node up: " << render(err);
    EXPECT_TRUE(is(err, errc::node_unavailable)) << render(err);
    EXPECT_EQ(members_.owner_of(ev.task), static_cast<size_t>(down)) << render(err);
    EXPECT_NE(render(err).find(std::string{"'"} + names[down] + "'"), std::string::npos)
      << render(err);
  }

  store& cluster_;
  const cluster_membership& members_;
  std::mt19937_64 rng_;
  int parity_;
  const std::atomic<int>& down_;
  std::vector<sent> log_;
};

class ClusterProcessTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto cred = ensure_node_credential(dir_.str("credential"));
    ASSERT_TRUE(cred) << render(cred.error());
    {
      std::ofstream out{membership()};
      out << "credential " << *cred << "\nsystem beta\n";
      for (size_t i = 0; i < std::size(names); ++i)
        out << names[i] << " 127.0.0.1:" << (ports_[i] = free_port()) << "\n";
    }
    auto members = read_membership(membership());
    ASSERT_TRUE(members) << render(members.error());
    members_ = std::move(*members);
    for (size_t i = 0; i < std::size(names); ++i) {
      start(i);
      ASSERT_TRUE(fs::exists(fs::path(root_of(i)) / "NODE")) << slurp(err_of(i));
    }
  }

  void TearDown() override {
    for (pid_t node : nodes_) {
      if (node > 0) {
        EXPECT_EQ(stop_node(node), 0);
      }
    }
  }

  void start(size_t i) {
    nodes_[i] = start_cluster_node(EVSTORE_CLI, root_of(i), ports_[i], membership(), err_of(i));
  }

  std::string membership() const {
    return dir_.str("cluster.conf");
  }
  std::string root_of(size_t i) const {
    return dir_.str(std::string{"node-"} + names[i]);
  }
  fs::path err_of(size_t i) const {
    return dir_.path() / (std::string{names[i]} + ".err");
  }
  static std::string slurp(const fs::path& p) {
    std::ifstream in{p};
    return {std::istreambuf_iterator<char>(in), {}};
  }

  temp_dir dir_;
  uint16_t ports_[3] = {};
  pid_t nodes_[3] = {};
  cluster_membership members_;
};

/// The ids of a task's events, in its order.
std::vector<std::string> ids_in(store& db, const std::string& task) {
  auto res = db.read_task(task);
  EXPECT_TRUE(res) << task << ": " << render(res.error());
  std::vector<std::string> out;
  if (res)
    for (const auto& ev : res->events)
      out.push_back(ev.id);
  return out;
}

} // namespace

TEST_F(ClusterProcessTest, AKilledNodeLosesNothingAcknowledgedAndTheClusterIsExactAgainOnceItReturns) {
  auto cluster = store::connect_cluster(membership(), std::chrono::seconds{2});
  ASSERT_TRUE(cluster) << render(cluster.error());
  store_options single_opts;
  single_opts.root = dir_.str("single");
  auto single = store::open(single_opts);
  ASSERT_TRUE(single) << render(single.error());

  std::atomic<int> down{-1};
  std::deque<driver> drivers; // never moved: the threads hold references to them
  for (int k = 0; k < 2; ++k)
    drivers.emplace_back(**cluster, members_, 1000 + k, k, down);
  size_t fed = 0; // how much of each driver's log the single store has had
  std::vector<size_t> fed_of(drivers.size(), 0);

  for (size_t victim = 0; victim < std::size(names); ++victim) {
    SCOPED_TRACE(std::string{"killing "} + names[victim]);
    // The phases go by counts, not by time (a sanitizer build runs several times slower), each
    // with a deadline that only a hang reaches.
    auto total = [&](auto member) {
      size_t n = 0;
      for (auto& d : drivers)
        n += (d.*member).load();
      return n;
    };
    auto wait_for = [](auto done) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds{60};
      while (!done() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
      return done();
    };
    const size_t failures_before = total(&driver::failures);
    const size_t acknowledged_before = total(&driver::acknowledged);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (auto& d : drivers)
      threads.emplace_back([&d, &stop] { d.run(stop); });
    EXPECT_TRUE(
      wait_for([&] { return total(&driver::acknowledged) >= acknowledged_before + 150; }));
    // Killed mid-run, with appends in flight: what it acknowledged was written before it answered.
    down = static_cast<int>(victim);
    kill_node(nodes_[victim]);
    nodes_[victim] = 0;
    // Its tasks' appends fail, the others' go on.
    EXPECT_TRUE(wait_for([&] {
      return total(&driver::failures) >= failures_before + 20
             && total(&driver::acknowledged_while_down) >= 50;
    })) << "appends to its tasks did not fail, or the others' stopped";
    stop = true;
    for (auto& t : threads)
      t.join();
    if (HasFatalFailure())
      return;

    // While it is down: whatever needs it names it, the other nodes' tasks still read.
    auto query = (*cluster)->query_by_type_prefix("task:", 50);
    ASSERT_FALSE(query);
    EXPECT_NE(render(query.error()).find(std::string{"'"} + names[victim] + "'"), std::string::npos)
      << render(query.error());
    query_request partial_request{"task:", 50, caf::none};
    partial_request.allow_partial = true;
    auto partial = (*cluster)->query(partial_request);
    ASSERT_TRUE(partial) << render(partial.error());
    EXPECT_EQ(partial->missing_nodes, std::vector<std::string>{names[victim]});
    for (const auto& ev : partial->events)
      EXPECT_NE(members_.owner_of(ev.task), victim) << ev.task;

    start(victim);
    ASSERT_TRUE(fs::exists(fs::path(root_of(victim)) / "NODE")) << slurp(err_of(victim));
    down = -1;

    // The single store gets what the cluster acknowledged, and what it wrote but could not
    // acknowledge before it died (an append in flight: its caller was told the node is gone),
    // each task's in the order its driver sent them.
    std::map<std::string, std::set<std::string>> on_cluster;
    for (size_t k = 0; k < drivers.size(); ++k) {
      const auto& log = drivers[k].log();
      for (; fed_of[k] < log.size(); ++fed_of[k]) {
        const auto& s = log[fed_of[k]];
        if (!s.acknowledged) {
          if (!on_cluster.count(s.ev.task)) {
            auto ids = ids_in(**cluster, s.ev.task);
            on_cluster[s.ev.task] = {ids.begin(), ids.end()};
          }
          if (!on_cluster[s.ev.task].count(s.ev.id))
            continue;
        }
        auto ok = (*single)->append(s.ev);
        ASSERT_TRUE(ok) << render(ok.error());
        ++fed;
      }
    }

    // Exact again: every task's events (so every acknowledged one), every query.
    auto tasks = (*single)->list_tasks(true);
    ASSERT_TRUE(tasks) << render(tasks.error());
    auto cluster_tasks = (*cluster)->list_tasks(true);
    ASSERT_TRUE(cluster_tasks) << render(cluster_tasks.error());
    EXPECT_EQ(std::set<std::string>(cluster_tasks->begin(), cluster_tasks->end()),
              std::set<std::string>(tasks->begin(), tasks->end()));
    for (const auto& t : *tasks)
      EXPECT_EQ(ids_in(**cluster, t), ids_in(**single, t)) << "task '" << t << "'";
    for (const char* prefix : {"", "task:", "task:state:done", "merge:", "agent:message"})
      for (uint64_t limit : {1u, 7u, 60u, 100000u}) {
        auto a = (*single)->query_by_type_prefix(prefix, limit);
        auto b = (*cluster)->query_by_type_prefix(prefix, limit);
        ASSERT_TRUE(a && b) << prefix << " " << limit;
        EXPECT_EQ(ids_of(b->events), ids_of(a->events)) << prefix << " " << limit;
        EXPECT_EQ(b->positions, a->positions) << prefix << " " << limit;
      }
    for (auto& d : drivers)
      d.acknowledged_while_down = 0;
  }
  EXPECT_GE(fed, 3u * 200u);
}
