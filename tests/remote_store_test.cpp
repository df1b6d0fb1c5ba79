// A store served as a CAF node and reached through store::connect, over real sockets on loopback:
// the same calls give the same answers as in-process, errors stay values, and a node that stops or
// stalls gives its clients node_unavailable, never a hang.
#include "src/facade/store.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <filesystem>
#include <thread>

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/scoped_actor.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "messages/internal/store_protocol.hpp"
#include "src/format/uuid.hpp"
#include "src/node/endpoint_file.hpp"
#include "src/storage/full_scan.hpp"
#include "support/node_process.hpp"
#include "support/silent_listener.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace {

class RemoteStoreTest : public StoreTest {
protected:
  std::unique_ptr<store> serve(store_options opts = {}) {
    if (opts.root == store_options{}.root)
      opts.root = root();
    opts.serve = true;
    auto db = store::open(opts);
    EXPECT_TRUE(db) << render(db.error());
    return db ? std::move(*db) : nullptr;
  }

  /// How to reach a node at 127.0.0.1:`port` with the store's credential.
  connect_options at_loopback(uint16_t port, std::chrono::milliseconds timeout) const {
    connect_options co;
    co.root = root();
    co.host = "127.0.0.1";
    co.port = port;
    co.timeout = timeout;
    return co;
  }

  std::unique_ptr<store> connect(std::chrono::milliseconds timeout = std::chrono::seconds{30}) {
    connect_options opts;
    opts.root = root();
    opts.timeout = timeout;
    auto db = store::connect(opts);
    EXPECT_TRUE(db) << render(db.error());
    return db ? std::move(*db) : nullptr;
  }
};

} // namespace

TEST_F(RemoteStoreTest, AppendsThroughAClientAreReadByTheNodeAndTheClient) {
  auto node = serve();
  auto client = connect();
  ASSERT_TRUE(node && client);
  EXPECT_TRUE(client->connected());
  for (int i = 0; i < 5; ++i)
    must_append(*client, make_event("t1", "task:state:running"));
  auto local = node->read_task("t1");
  auto remote = client->read_task("t1");
  ASSERT_TRUE(local && remote);
  ASSERT_EQ(local->events.size(), 5u);
  ASSERT_EQ(remote->events.size(), 5u);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(remote->events[i].id, local->events[i].id);
}

TEST_F(RemoteStoreTest, QueriesThroughAClientEqualTheFullScan) {
  auto node = serve();
  for (int t = 0; t < 20; ++t)
    for (int i = 0; i < 10; ++i)
      must_append(*node, make_event("task-" + std::to_string(t),
                                    i % 2 ? "task:state:running" : "agent:message"));
  auto client = connect();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->wait_for_index());
  for (const char* prefix : {"task:", "task:state:", "agent:", "", "none:"}) {
    auto got = client->query_by_type_prefix(prefix, 7);
    ASSERT_TRUE(got) << render(got.error());
    auto want = full_scan_query(root(), prefix, 7);
    ASSERT_TRUE(want);
    ASSERT_EQ(got->events.size(), want->events.size()) << prefix;
    for (size_t i = 0; i < want->events.size(); ++i)
      EXPECT_EQ(got->events[i].id, want->events[i].id) << prefix << " #" << i;
  }
}

TEST_F(RemoteStoreTest, TheStoresErrorsReachTheClientUnchanged) {
  auto node = serve();
  auto client = connect();
  ASSERT_TRUE(client);
  auto bad = client->append(make_event("a/b", "task:state:running"));
  ASSERT_FALSE(bad);
  EXPECT_TRUE(is(bad.error(), errc::invalid_task_id)) << render(bad.error());
  must_append(*client, make_event("t", "task:state:running"));
  auto conflict = client->append(make_event("t", "task:state:done"), uint64_t{5});
  ASSERT_FALSE(conflict);
  EXPECT_TRUE(is(conflict.error(), errc::version_conflict)) << render(conflict.error());
}

// The client carries appends that arrive while others are on the wire as batches; each asker must
// still get exactly its own append's answer, in the order sent, and a request sent after appends
// must not overtake them.
TEST_F(RemoteStoreTest, PipelinedAppendsThroughAClientKeepTheirOrderAndEachGetsItsOwnAnswer) {
  auto node = serve();
  auto client = connect();
  ASSERT_TRUE(node && client);
  constexpr uint64_t n = 2000;
  caf::scoped_actor self{client->system()};
  auto store = client->handle();
  // Sent without waiting: expected versions 0..n-1 hold only if they are applied in this order.
  // Every 100th append names an invalid task, and every 250th expects a wrong version: they fail
  // alone, and the others do not notice (the version they expect counts only what was written).
  std::vector<int> want_failure(n, 0);
  std::vector<std::string> ids;
  uint64_t written = 0;
  for (uint64_t i = 0; i < n; ++i) {
    append_request req;
    if (i % 100 == 99) {
      req.ev = make_event("no/such", "task:state:running");
      want_failure[i] = 1;
    } else if (i % 250 == 7) {
      req.ev = make_event("t", "task:state:running");
      req.expected_version = written + 1000;
      want_failure[i] = 2;
    } else {
      req.ev = make_event("t", "task:state:running");
      req.expected_version = written++;
    }
    req.ev.id = make_uuid_v4();
    ids.push_back(req.ev.id);
    self->send(store, std::move(req));
  }
  // Sent right behind the appends: it must see every one of them.
  self->send(store, read_request{"t", 0});
  std::map<std::string, uint64_t> positions;
  size_t invalid = 0, conflicts = 0, other = 0;
  for (uint64_t i = 0; i < n; ++i)
    self->receive([&](append_result& res) { positions[res.ev.id] = res.position; },
                  [&](caf::error& err) {
                    if (is(err, errc::invalid_task_id))
                      ++invalid;
                    else if (is(err, errc::version_conflict))
                      ++conflicts;
                    else
                      ADD_FAILURE() << render(err), ++other;
                  },
                  caf::after(std::chrono::seconds{30}) >> [&] { ADD_FAILURE() << "no answer"; });
  EXPECT_EQ(invalid, size_t(std::count(want_failure.begin(), want_failure.end(), 1)));
  EXPECT_EQ(conflicts, size_t(std::count(want_failure.begin(), want_failure.end(), 2)));
  EXPECT_EQ(positions.size(), written);
  uint64_t position = 0;
  for (uint64_t i = 0; i < n; ++i)
    if (!want_failure[i]) {
      EXPECT_EQ(positions[ids[i]], position++) << i;
    }
  read_result seen;
  self->receive([&](read_result& res) { seen = std::move(res); },
                caf::after(std::chrono::seconds{30}) >> [&] { ADD_FAILURE() << "no read"; });
  ASSERT_EQ(seen.events.size(), written);
  uint64_t k = 0;
  for (uint64_t i = 0; i < n; ++i)
    if (!want_failure[i]) {
      EXPECT_EQ(seen.events[k++].id, ids[i]);
    }
}

TEST_F(RemoteStoreTest, ListStatsCompactAndCleanupWorkThroughAClient) {
  auto node = serve();
  auto client = connect();
  ASSERT_TRUE(client);
  for (int i = 0; i < 30; ++i)
    must_append(*client, make_event("t", "task:state:running"));
  fs::create_directories(fs::path(root()) / "empty-task");
  auto tasks = client->list_tasks();
  ASSERT_TRUE(tasks);
  EXPECT_EQ(*tasks, std::vector<std::string>{"t"});
  retention_policy keep10;
  keep10.max_events = 10;
  keep10.max_age = caf::none;
  auto compacted = client->compact_task("t", keep10);
  ASSERT_TRUE(compacted) << render(compacted.error());
  EXPECT_EQ(node->read_task("t")->events.size(), 10u);
  auto removed = client->cleanup_orphaned_tasks();
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 1u);
  auto stats = client->index_statistics();
  ASSERT_TRUE(stats);
  auto bus = client->bus_statistics();
  EXPECT_TRUE(bus);
}

TEST_F(RemoteStoreTest, ACatchUpSubscriptionThroughAClientSeesHistoryThenLiveWithNoGap) {
  auto node = serve();
  for (int i = 0; i < 50; ++i)
    must_append(*node, make_event("t", "task:state:running"));
  auto client = connect();
  ASSERT_TRUE(client);
  subscribe_options so;
  so.filter.patterns = {"task:*"};
  so.catch_up = catch_up_spec{};
  auto sub = client->subscribe(so);
  ASSERT_TRUE(sub) << render(sub.error());
  // Appends race the catch-up, from the node's own process.
  std::thread writer{[&] {
    for (int i = 0; i < 50; ++i)
      must_append(*node, make_event("t", "task:state:done"));
  }};
  std::vector<uint64_t> positions;
  bool caught_up = false;
  while (positions.size() < 100) {
    auto d = (*sub)->next(std::chrono::seconds{10});
    ASSERT_TRUE(d) << "after " << positions.size() << " events";
    if (d->what == delivery::kind::caught_up)
      caught_up = true;
    else if (d->what == delivery::kind::event)
      positions.push_back(d->position);
  }
  writer.join();
  EXPECT_TRUE(caught_up);
  for (size_t i = 0; i < positions.size(); ++i)
    EXPECT_EQ(positions[i], i) << "a gap or a duplicate at " << i;
}

TEST_F(RemoteStoreTest, AStoppedNodeGivesItsClientsNodeUnavailableAndEndsTheirSubscriptions) {
  auto node = serve();
  auto client = connect(std::chrono::seconds{20});
  ASSERT_TRUE(client);
  subscribe_options so;
  so.filter.patterns = {"*"};
  auto sub = client->subscribe(so);
  ASSERT_TRUE(sub);
  node.reset();
  auto start = std::chrono::steady_clock::now();
  auto res = client->append(make_event("t", "task:state:running"));
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::node_unavailable)) << render(res.error());
  // Learnt from the connection, well before the 20 s request timeout (the bound leaves room for a
  // sanitizer build on a loaded machine).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{10});
  EXPECT_FALSE((*sub)->next(std::chrono::seconds{5}));
  EXPECT_TRUE(is((*sub)->error(), errc::node_unavailable)) << render((*sub)->error());
}

TEST_F(RemoteStoreTest, TheNodeFileNamesTheEndpointWhileServingAndGoesWithTheNode) {
  auto node = serve();
  ASSERT_TRUE(node);
  auto text = slurp(fs::path(root()) / "NODE");
  EXPECT_NE(text.find("host 127.0.0.1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pid " + std::to_string(::getpid()) + "\n"), std::string::npos) << text;
  node.reset();
  EXPECT_FALSE(fs::exists(fs::path(root()) / "NODE"));
  connect_options co;
  co.root = root();
  auto client = store::connect(co);
  ASSERT_FALSE(client);
  EXPECT_TRUE(is(client.error(), errc::node_unavailable)) << render(client.error());
}

TEST_F(RemoteStoreTest, AStaleNodeFileOfADeadProcessIsIgnoredAndReplaced) {
  fs::create_directories(root());
  pid_t child = ::fork();
  if (child == 0)
    ::_exit(0);
  ::waitpid(child, nullptr, 0);
  spit(fs::path(root()) / "NODE", "evstore-node 1\nhost 127.0.0.1\nport 1\npid "
                                      + std::to_string(child) + "\n");
  connect_options co;
  co.root = root();
  auto refused = store::connect(co);
  ASSERT_FALSE(refused);
  EXPECT_NE(render(refused.error()).find("gone"), std::string::npos) << render(refused.error());
  auto node = serve();
  ASSERT_TRUE(node);
  auto client = connect();
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->list_tasks());
}

namespace {

/// A node in a child process (forked before the test starts any thread of its own), serving
/// `root` until killed. Returns its pid once it listens, or -1.
/// One byte from `fd` within 30 s; 0 if the writer closed its end (it crashed) or took longer.
char read_byte_within(int fd) {
  pollfd p{fd, POLLIN, 0};
  char c = 0;
  if (::poll(&p, 1, 30'000) != 1 || ::read(fd, &c, 1) != 1)
    return 0;
  return c;
}

pid_t fork_node(const std::string& root) {
  fs::create_directories(root);
  int ready[2];
  if (::pipe(ready) != 0)
    return -1;
  pid_t child = ::fork();
  if (child == 0) {
    ::close(ready[0]);
    store_options opts;
    opts.root = root;
    opts.serve = true;
    auto db = store::open(opts);
    char c = db ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    for (;;)
      ::pause();
  }
  ::close(ready[1]); // so a child that dies before writing is an end of file, not a hang
  bool ok = read_byte_within(ready[0]) == 'y';
  ::close(ready[0]);
  if (!ok) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return -1;
  }
  return child;
}

} // namespace

TEST_F(RemoteStoreTest, ANodeKilledMidAppendLosesNoAcknowledgedEventAndEveryClientGetsAnError) {
  pid_t child = fork_node(root());
  ASSERT_GT(child, 0);
  // Three clients appending as fast as they can, each remembering what was acknowledged.
  std::vector<std::vector<std::string>> acked(3);
  std::vector<caf::error> ended(3);
  std::vector<std::thread> clients;
  std::atomic<int> started{0}, failed_to_start{0};
  for (int c = 0; c < 3; ++c)
    clients.emplace_back([&, c] {
      connect_options co;
      co.root = root();
      co.timeout = std::chrono::seconds{30};
      auto db = store::connect(co);
      if (!db) {
        ended[c] = db.error();
        ++failed_to_start;
        return;
      }
      ++started;
      for (int i = 0;; ++i) {
        auto res = (*db)->append(make_event("task-" + std::to_string(c), "task:state:running"));
        if (!res) {
          ended[c] = res.error();
          return;
        }
        acked[c].push_back(res->ev.id);
      }
    });
  // `ended` is the threads' own until they are joined: only the counters are read here.
  while (started + failed_to_start < 3)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  auto killed_at = std::chrono::steady_clock::now();
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  for (auto& t : clients)
    t.join();
  // Every client learnt it, from the connection, well within its 30 s timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, std::chrono::seconds{10});
  for (int c = 0; c < 3; ++c) {
    EXPECT_TRUE(is(ended[c], errc::node_unavailable)) << render(ended[c]);
    EXPECT_GT(acked[c].size(), 0u);
  }
  // What was acknowledged is on disk (the killed node's lock went with it).
  auto db = open_store();
  for (int c = 0; c < 3; ++c) {
    auto stored = db->read_task("task-" + std::to_string(c));
    ASSERT_TRUE(stored);
    std::set<std::string> ids;
    for (auto& ev : stored->events)
      ids.insert(ev.id);
    for (auto& id : acked[c])
      EXPECT_TRUE(ids.count(id)) << "acknowledged " << id << " is not on disk";
  }
}

TEST_F(RemoteStoreTest, ANodeThatStallsGivesItsClientAnErrorWithinTheTimeout) {
  // The node in a child process, stopped with SIGSTOP after the client connected: its socket stays
  // open and nothing answers.
  pid_t child = fork_node(root());
  ASSERT_GT(child, 0);
  auto client = connect(std::chrono::milliseconds{500});
  ASSERT_TRUE(client);
  must_append(*client, make_event("t", "task:state:running"));
  ::kill(child, SIGSTOP);
  auto start = std::chrono::steady_clock::now();
  auto res = client->read_task("t");
  auto took = std::chrono::steady_clock::now() - start;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::node_unavailable)) << render(res.error());
  EXPECT_LT(took, std::chrono::seconds{10});
}

namespace {

/// What a peer gets when it connects to `port` on loopback with the actor system `sys`: the remote
/// store actor, or the error. Bounded, so a test never hangs on a handshake.
caf::expected<store_actor> raw_connect(caf::actor_system& sys, bool tls, uint16_t port) {
  caf::scoped_actor self{sys};
  caf::expected<store_actor> out{caf::error{}};
  auto mm = tls ? caf::actor_cast<caf::actor>(sys.openssl_manager().actor_handle())
                : caf::actor_cast<caf::actor>(sys.middleman().actor_handle());
  self->request(mm, std::chrono::seconds{5}, caf::connect_atom::value, std::string{"127.0.0.1"}, port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
        out = caf::actor_cast<store_actor>(std::move(ptr));
      },
      [&](caf::error& err) { out = std::move(err); });
  return out;
}

uint16_t served_port(const std::string& root) {
  auto dir = store_root::open(root, false);
  auto where = read_endpoint(**dir);
  return (*where)->port;
}

/// A peer holding the store's credential that talks CAF's protocol to the gate itself, as any actor
/// code may (remote_actor), rather than through the facade.
struct trusted_peer {
  system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::expected<store_actor> gate{caf::error{}};

  explicit trusted_peer(const std::string& root) {
    if (auto err = configure_node(cfg, node_credential_path(root))) {
      gate = std::move(err);
      return;
    }
    sys = std::make_unique<caf::actor_system>(cfg);
    gate = raw_connect(*sys, true, served_port(root));
  }
};

} // namespace

TEST_F(RemoteStoreTest, APeerWithoutTheCredentialCannotConnectNorReadAnEvent) {
  auto node = serve();
  ASSERT_TRUE(node);
  must_append(*node, make_event("secret", "task:state:running"));
  auto before = snapshot_tree(root());
  auto port = served_port(root());
  // TLS without a certificate (CAF's anonymous mode), and CAF's plain middleman without TLS.
  for (bool tls : {true, false}) {
    system_config cfg;
    cfg.load<caf::io::middleman>();
    if (tls)
      cfg.load<caf::openssl::manager>();
    caf::actor_system sys{cfg};
    auto peer = raw_connect(sys, tls, port);
    EXPECT_FALSE(peer) << (tls ? "anonymous TLS" : "plain BASP") << " connected";
  }
  EXPECT_EQ(snapshot_tree(root()), before);
  EXPECT_EQ(node->read_task("secret")->events.size(), 1u);
}

TEST_F(RemoteStoreTest, APeerWithAnotherStoresCredentialCannotConnect) {
  auto node = serve();
  ASSERT_TRUE(node);
  temp_dir other;
  auto wrong = ensure_node_credential(other.str("store"));
  ASSERT_TRUE(wrong) << render(wrong.error());
  connect_options co;
  co.host = "127.0.0.1";
  co.port = served_port(root());
  co.credential = *wrong;
  co.timeout = std::chrono::seconds{3};
  auto client = store::connect(co);
  ASSERT_FALSE(client);
  EXPECT_TRUE(is(client.error(), errc::node_unavailable)) << render(client.error());
  // The right one, copied elsewhere, connects by host and port.
  co.credential = node_credential_path(root());
  auto ok = store::connect(co);
  ASSERT_TRUE(ok) << render(ok.error());
  EXPECT_TRUE((*ok)->list_tasks());
}

TEST_F(RemoteStoreTest, ANodeListensOnLoopbackUnlessAsked) {
  auto node = serve();
  ASSERT_TRUE(node);
  auto port = served_port(root());
  // /proc/net/tcp lists listening sockets (state 0A) as hex address:port; loopback is 0100007F.
  char want[32];
  std::snprintf(want, sizeof want, "0100007F:%04X", port);
  auto tcp = slurp("/proc/net/tcp") + slurp("/proc/net/tcp6");
  EXPECT_NE(tcp.find(want), std::string::npos) << "not listening on 127.0.0.1:" << port;
  char any[32];
  std::snprintf(any, sizeof any, "00000000:%04X", port);
  EXPECT_EQ(tcp.find(any), std::string::npos) << "listening on every address";
}

TEST_F(RemoteStoreTest, APeerWhoTrustsTheNodeButPresentsAnotherKeyIsRefusedByTheNode) {
  auto node = serve();
  ASSERT_TRUE(node);
  temp_dir other;
  auto wrong = ensure_node_credential(other.str("store"));
  ASSERT_TRUE(wrong);
  // The client's own check of the node passes (it trusts node.pem); only the node can refuse.
  system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = *wrong;
  cfg.openssl_key = *wrong;
  cfg.openssl_cafile = node_credential_path(root());
  caf::actor_system sys{cfg};
  auto peer = raw_connect(sys, true, served_port(root()));
  ASSERT_FALSE(peer);
  EXPECT_NE(peer.error(), caf::sec::request_timeout) << "refused by a hang, not by the node";
}

TEST_F(RemoteStoreTest, APeerReachesOnlyTheGateNeverTheStoresInternalProtocol) {
  auto node = serve();
  ASSERT_TRUE(node);
  must_append(*node, make_event("t", "task:state:running"));
  trusted_peer peer{root()};
  ASSERT_TRUE(peer.gate) << render(peer.gate.error());
  auto& sys = *peer.sys;
  auto& gate = peer.gate;
  caf::scoped_actor self{sys};
  // Whoever answers a request is who the peer learns of: it must be the gate itself.
  caf::strong_actor_ptr answered_by;
  self->request(*gate, std::chrono::seconds{5}, read_request{"t", 0})
    .receive([&](read_result&) { answered_by = self->current_sender(); },
             [&](caf::error& err) { FAIL() << sys.render(err); });
  ASSERT_TRUE(answered_by);
  EXPECT_EQ(answered_by, caf::actor_cast<caf::strong_actor_ptr>(*gate));
  // The store's internal protocol is not in the gate's interface.
  bool refused = false;
  self->request(caf::actor_cast<caf::actor>(answered_by), std::chrono::seconds{5},
                resolve_writers{{"t"}})
    .receive([&](writer_handles&) { ADD_FAILURE() << "a peer got writer handles"; },
             [&](caf::error&) { refused = true; });
  EXPECT_TRUE(refused);
  // A subscription's deliveries come from a relay of the node, not from its bus.
  subscribe_options so;
  connect_options co;
  co.root = root();
  auto client = store::connect(co);
  ASSERT_TRUE(client);
  auto sub = (*client)->subscribe(so);
  ASSERT_TRUE(sub);
  must_append(*node, make_event("t", "task:state:done"));
  auto d = (*sub)->next(std::chrono::seconds{5});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->ev.type, "task:state:done");
}

TEST_F(RemoteStoreTest, ASlowSubscriberThroughAClientMissesNothingAndADroppingOneIsToldHowMany) {
  auto node = serve();
  auto client = connect();
  ASSERT_TRUE(node && client);
  subscribe_options slow;
  slow.filter.patterns = {"*"};
  slow.buffer = 4;
  auto recovering = client->subscribe(slow);
  slow.drop_on_overflow = true;
  auto dropping = client->subscribe(slow);
  ASSERT_TRUE(recovering && dropping);
  for (int i = 0; i < 200; ++i)
    must_append(*node, make_event("t", "task:state:running"));
  // The bus reads what the slow one could not hold back from disk: every event, in order.
  for (uint64_t want = 0; want < 200; ++want) {
    auto d = (*recovering)->next(std::chrono::seconds{10});
    ASSERT_TRUE(d) << "event " << want << " never came";
    ASSERT_EQ(d->what, delivery::kind::event);
    ASSERT_EQ(d->position, want);
  }
  // The dropping one: what it holds, then (once it has room) a last event, which comes after a
  // lagged that counts whatever it skipped.
  uint64_t events = 0, missed = 0;
  auto drain = [&](std::chrono::milliseconds wait) {
    while (auto d = (*dropping)->next(wait)) {
      if (d->what == delivery::kind::lagged)
        missed += d->missed;
      else if (d->what == delivery::kind::event)
        ++events;
    }
  };
  drain(std::chrono::milliseconds{500});
  must_append(*node, make_event("t", "task:state:done"));
  // Until the last event (the one of type task:state:done), which comes after every lagged.
  for (bool last = false; !last;) {
    auto d = (*dropping)->next(std::chrono::seconds{30});
    ASSERT_TRUE(d) << "the last event never came";
    if (d->what == delivery::kind::lagged)
      missed += d->missed;
    else if (d->what == delivery::kind::event) {
      ++events;
      last = d->ev.type == "task:state:done";
    }
  }
  EXPECT_EQ(events + missed, 201u);
  EXPECT_GT(missed, 0u);
}

TEST_F(RemoteStoreTest, ServingOnASystemConfiguredWithAnotherStoresCredentialIsRefused) {
  temp_dir other;
  auto foreign = ensure_node_credential(other.str("store"));
  ASSERT_TRUE(foreign);
  ASSERT_TRUE(ensure_node_credential(root()));
  system_config cfg;
  ASSERT_FALSE(configure_node(cfg, *foreign));
  caf::actor_system sys{cfg};
  auto opts = options();
  opts.serve = true;
  auto served = spawn_store(sys, opts);
  ASSERT_FALSE(served);
  EXPECT_TRUE(is(served.error(), errc::bad_credential)) << render(served.error());
  EXPECT_FALSE(fs::exists(fs::path(root()) / "NODE"));
}

TEST_F(RemoteStoreTest, ConnectingToAHostThatNeverAnswersFailsWithinTheTimeout) {
  ASSERT_TRUE(ensure_node_credential(root()));
  silent_listener silent;
  ASSERT_NE(silent.port(), 0);
  const auto co = at_loopback(silent.port(), std::chrono::milliseconds{300});
  // Closed after a second: the half-open connection is reset and the client's actor system can end.
  std::thread closer{[&silent] {
    std::this_thread::sleep_for(std::chrono::seconds{1});
    silent.close();
  }};
  auto start = std::chrono::steady_clock::now();
  auto client = store::connect(co);
  auto took = std::chrono::steady_clock::now() - start;
  closer.join();
  ASSERT_FALSE(client);
  EXPECT_TRUE(is(client.error(), errc::node_unavailable)) << render(client.error());
  EXPECT_LT(took, std::chrono::seconds{10});
}

TEST_F(RemoteStoreTest, ConnectingToAHostThatDropsEveryPacketFailsWithinOneTimeout) {
  // connect(2) to this address blocks for the kernel's connect timeout. The facade probes it
  // within the timeout (src/node/tcp_probe.hpp), so CAF's middleman never starts that blocking
  // connection, and the facade's actor system ends at once; before, the facade waited one more
  // timeout for it, then left it running.
  ASSERT_TRUE(ensure_node_credential(root()));
  silent_listener dropping{silent_listener::mode::syns_dropped};
  ASSERT_NE(dropping.port(), 0);
  const auto co = at_loopback(dropping.port(), std::chrono::seconds{4});
  auto start = std::chrono::steady_clock::now();
  auto client = store::connect(co);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(client);
  EXPECT_TRUE(is(client.error(), errc::node_unavailable)) << render(client.error());
  EXPECT_LT(took, co.timeout * 8 / 5); // two timeouts before
}

TEST_F(RemoteStoreTest, ANodesLongWorkFailsOnceTheNodeStopsAnsweringAndOtherCallsAfterTheTimeout) {
  {
    auto db = open_store();
    ASSERT_TRUE(db);
    for (int i = 0; i < 20; ++i)
      must_append(*db, make_event("t-" + std::to_string(i % 4), "task:state:running"));
  }
  // The node in a process of its own, so it can be stopped (SIGSTOP) as a stalled host would be.
  const pid_t node = start_node_process(EVSTORE_CLI, root(), {"serve"}, dir_.path() / "node.err");
  ASSERT_GT(node, 0);
  struct stopper {
    pid_t pid;
    ~stopper() {
      ::kill(pid, SIGCONT);
      stop_node(pid);
    }
  } stop_at_end{node};
  const auto timeout = std::chrono::seconds{1};
  auto client = connect(timeout);
  ASSERT_TRUE(client);
  retention_policy keep_two;
  keep_two.max_events = 2;
  auto compacted = client->compact_all(keep_two);
  ASSERT_TRUE(compacted) << render(compacted.error());
  EXPECT_EQ(compacted->removed, 12u);
  ASSERT_EQ(::kill(node, SIGSTOP), 0);
  // A read fails after the timeout, as always.
  auto start = std::chrono::steady_clock::now();
  auto read = client->read_task("t-1");
  ASSERT_FALSE(read);
  EXPECT_TRUE(is(read.error(), errc::node_unavailable)) << render(read.error());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10 * timeout);
  // Waiting for the index has no timeout (it is the node's work), but the client's checks that
  // the node lives (node_watch.hpp, through the node's real gate) go unanswered: it fails.
  start = std::chrono::steady_clock::now();
  auto waited = client->wait_for_index();
  ASSERT_FALSE(waited);
  EXPECT_TRUE(is(waited.error(), errc::node_unavailable)) << render(waited.error());
  EXPECT_NE(render(waited.error()).find("checks in a row that it lives"), std::string::npos)
    << render(waited.error());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20 * timeout);
}

TEST_F(RemoteStoreTest, AClientProcessThatDiesLeavesNoSubscriptionOnTheNode) {
  // The client: another process that subscribes twice and exits without unsubscribing. Forked
  // before this process starts any thread; it starts when the node serves.
  int go[2], ready[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(go[1]);
    ::close(ready[0]);
    char start = 0;
    if (::read(go[0], &start, 1) != 1)
      ::_exit(1);
    connect_options co;
    co.root = root();
    auto client = store::connect(co);
    bool ok = false;
    if (client) {
      subscribe_options so;
      auto a = (*client)->subscribe(so);
      so.catch_up = catch_up_spec{};
      auto b = (*client)->subscribe(so);
      ok = a && b;
    }
    char c = ok ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::_exit(0); // no destructor runs: nothing is unsubscribed
  }
  ::close(go[0]);
  ::close(ready[1]);
  auto node = serve();
  // The child is released either way (closing `go` ends its wait), and reaped.
  bool released = node && ::write(go[1], "g", 1) == 1;
  ::close(go[1]);
  char c = read_byte_within(ready[0]);
  ::close(ready[0]);
  if (c != 'y')
    ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(released);
  ASSERT_EQ(c, 'y');
  uint64_t left = 1;
  for (int i = 0; i < 3000 && left > 0; ++i) {
    auto stats = node->bus_statistics();
    ASSERT_TRUE(stats);
    left = stats->subscriptions;
    if (left > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  EXPECT_EQ(left, 0u) << "subscriptions of a dead client are still on the node";
  // The node serves on.
  must_append(*node, make_event("t", "task:state:running"));
  auto client = connect();
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->list_tasks());
}

TEST_F(RemoteStoreTest, PeersThatFailOrVanishNeverCostAnotherClientItsConnection) {
  auto node = serve();
  auto client = connect();
  ASSERT_TRUE(node && client);
  subscribe_options so;
  so.filter.patterns = {"*"};
  auto sub = client->subscribe(so);
  ASSERT_TRUE(sub);
  auto port = served_port(root());
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // On the node's one multiplexer thread: a peer that speaks no TLS, or one that vanishes
    // without closing its TLS session. Each leaves an error in OpenSSL's queue of that thread.
    if (round % 2 == 0) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(port);
      ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
      (void)!::write(fd, "GET / HTTP/1.0\r\n\r\n", 18);
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
      ::close(fd);
    } else {
      auto brief = connect();
      ASSERT_TRUE(brief);
      ASSERT_TRUE(brief->list_tasks());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    // The long-lived client still works, and its subscription still delivers.
    must_append(*node, make_event("t", "task:state:running"));
    auto d = (*sub)->next(std::chrono::seconds{5});
    ASSERT_TRUE(d) << render((*sub)->error());
    auto tasks = client->list_tasks();
    ASSERT_TRUE(tasks) << render(tasks.error());
  }
}

TEST_F(RemoteStoreTest, APeersExitMessagesCannotStopTheGateAndAKilledGateStopsItsStore) {
  auto node = serve();
  ASSERT_TRUE(node);
  trusted_peer peer{root()};
  ASSERT_TRUE(peer.gate) << render(peer.gate.error());
  auto& gate = peer.gate;
  {
    caf::scoped_actor self{*peer.sys};
    self->send_exit(*gate, caf::exit_reason::user_shutdown);
  }
  caf::anon_send_exit(*gate, caf::exit_reason::user_shutdown);
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  auto client = connect();
  ASSERT_TRUE(client) << "the gate stopped on a peer's exit message";
  EXPECT_TRUE(client->list_tasks());
  // kill passes every handler: the gate ends, and takes its store with it rather than leaving a
  // store nobody can reach while it holds the lock.
  caf::anon_send_exit(*gate, caf::exit_reason::kill);
  bool stopped = false;
  for (int i = 0; i < 3000 && !stopped; ++i) {
    stopped = !node->list_tasks();
    if (!stopped)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  EXPECT_TRUE(stopped);
  EXPECT_FALSE(fs::exists(fs::path(root()) / "NODE"));
}
