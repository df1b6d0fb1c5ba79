// The store actor under concurrent actors: appends to one task are totally ordered by its writer,
// and appends to different tasks proceed in parallel, with every event stored exactly once.
#include "actors/store_actor.hpp"
#include "actors/store_internal.hpp" // spawn_store_with_sink, writer_idle

#include <fcntl.h>
#include <set>
#include <thread>

#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "src/format/line_codec.hpp"
#include "src/format/line_reader.hpp"
#include "src/storage/store_layout.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;

namespace {

constexpr int appenders = 20;
constexpr int per_appender = 500;

// An appender actor: sends its events one after the other, each after the previous acknowledgement,
// and reports the ids it got acknowledged to `report`.
caf::behavior appender(caf::event_based_actor* self, store_actor store, int index, int tasks,
                       caf::actor report) {
  auto sent = std::make_shared<int>(0);
  auto ids = std::make_shared<std::vector<std::string>>();
  auto next = std::make_shared<std::function<void()>>();
  *next = [=] {
    if (*sent == per_appender) {
      self->send(report, *ids);
      self->quit();
      return;
    }
    int n = (*sent)++;
    auto ev =
        make_event("task-" + std::to_string((index * per_appender + n) % tasks), "agent:message");
    ev.data = boost::json::object{{"appender", index}, {"n", n}};
    self->request(store, caf::infinite, append_request{std::move(ev), caf::none})
        .then(
            [=](const append_result& r) {
              ids->push_back(r.ev.id);
              (*next)();
            },
            [=](caf::error&) { self->quit(); });
  };
  // The function refers to itself through `next`: break that cycle when the actor is gone.
  self->attach_functor([next] { *next = nullptr; });
  (*next)();
  return {};
}

class StoreActorTest : public StoreTest {
protected:
  // Runs the appenders against `tasks` tasks and checks the files afterwards.
  void run(int tasks) {
    auto db = open_store();
    caf::scoped_actor self{db->system()};
    for (int i = 0; i < appenders; ++i)
      self->spawn(appender, db->handle(), i, tasks, caf::actor{self});
    std::multiset<std::string> acked;
    for (int i = 0; i < appenders; ++i)
      self->receive(
          [&](const std::vector<std::string>& ids) { acked.insert(ids.begin(), ids.end()); });
    ASSERT_EQ(acked.size(), static_cast<size_t>(appenders * per_appender));
    // Every line of every file is a valid event, and every acknowledged id is there exactly once.
    std::multiset<std::string> stored;
    std::map<std::pair<int, int>, int> last_n; // per task and appender, n must increase
    auto ids = list_task_ids(root());
    ASSERT_TRUE(ids);
    EXPECT_EQ(ids->size(), static_cast<size_t>(tasks));
    for (const auto& task : *ids) {
      int fd = ::open(events_path(root(), task).c_str(), O_RDONLY);
      ASSERT_GE(fd, 0);
      for_each_line(fd, 0, [&](const raw_line& line) {
        ASSERT_TRUE(line.terminated);
        auto d = decode_line(line.text);
        ASSERT_EQ(d.status, line_status::ok) << line.text;
        EXPECT_EQ(d.ev.task, task);
        stored.insert(d.ev.id);
      });
      ::close(fd);
    }
    EXPECT_EQ(stored, acked);
    EXPECT_EQ(std::set<std::string>(acked.begin(), acked.end()).size(), acked.size());
  }
};

} // namespace

TEST_F(StoreActorTest, TwentyActorsAppendingToOneTaskStoreEveryEventOnce) {
  run(1);
}

TEST_F(StoreActorTest, TwentyActorsAppendingToHundredTasksStoreEveryEventOnce) {
  run(100);
}

TEST_F(StoreActorTest, AppendsFromOneSenderToOneTaskKeepTheirOrder) {
  auto db = open_store();
  caf::scoped_actor self{db->system()};
  for (int i = 0; i < 1000; ++i) {
    auto ev = make_event("ordered", "agent:message");
    ev.data = boost::json::object{{"n", i}};
    self->send(db->handle(), append_request{std::move(ev), caf::none});
  }
  for (int i = 0; i < 1000; ++i)
    self->receive([](const append_result&) {}, [](caf::error& err) { FAIL() << render(err); });
  auto read = db->read_task("ordered");
  ASSERT_TRUE(read);
  ASSERT_EQ(read->events.size(), 1000u);
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(read->events[static_cast<size_t>(i)].data.value().at("n").as_int64(), i);
}

TEST_F(StoreActorTest, ConcurrentExpectedVersionsLetExactlyOneWin) {
  auto db = open_store();
  caf::scoped_actor self{db->system()};
  for (int i = 0; i < 10; ++i)
    self->send(db->handle(), append_request{make_event("cas", "task:updated"), uint64_t{0}});
  int won = 0;
  int conflicts = 0;
  for (int i = 0; i < 10; ++i)
    self->receive([&](const append_result&) { ++won; },
                  [&](caf::error& err) { conflicts += is(err, errc::version_conflict); });
  EXPECT_EQ(won, 1);
  EXPECT_EQ(conflicts, 9);
}

TEST_F(StoreActorTest, AnExtraSinkSeesEveryNotificationBesideTheIndex) {
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  // A sink that forwards what it sees, so the test can read the notifications in order.
  // The handle goes in as an argument: CAF 0.17 spawning a function with no arguments binds a
  // reference to a null pointer (UBSan reports it inside caf/detail/init_fun_factory.hpp).
  auto sink = sys.spawn(
      [](notification_sink::pointer, caf::actor out) -> notification_sink::behavior_type {
        return {
            [=](const task_summary& x) { caf::anon_send(out, std::string("summary ") + x.task); },
            [=](const appended& x) { caf::anon_send(out, std::string("appended ") + x.type); },
            [=](const compacted& x) { caf::anon_send(out, std::string("compacted ") + x.task); },
            [=](const task_removed& x) { caf::anon_send(out, std::string("removed ") + x.task); },
            [=](const task_extended& x) { caf::anon_send(out, std::string("extended ") + x.task); },
        };
      },
      caf::actor{self});
  auto opts = options();
  auto store = spawn_store_with_sink(sys, opts, sink);
  ASSERT_TRUE(store) << render(store.error());
  // Population of the (empty) store first: it may load a task at any moment and report it again.
  self->request(*store, caf::infinite, await_index_request{})
      .receive([](const index_stats& st) { EXPECT_TRUE(st.complete); },
               [](caf::error& err) { FAIL() << render(err); });
  self->request(*store, caf::infinite, append_request{make_event("t", "task:created"), caf::none})
      .receive([](const append_result&) {}, [](caf::error& err) { FAIL() << render(err); });
  retention_policy none;
  none.max_events = 0;
  self->request(*store, caf::infinite, compact_request{"t", none})
      .receive([](const compact_result&) {}, [](caf::error& err) { FAIL() << render(err); });
  self->request(*store, caf::infinite, cleanup_request{})
      .receive([](const cleanup_result& r) { EXPECT_EQ(r.removed, 1u); },
               [](caf::error& err) { FAIL() << render(err); });
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i)
    self->receive([&](const std::string& what) { seen.push_back(what); },
                  caf::after(std::chrono::seconds{10}) >> [&] { seen.push_back("<nothing>"); });
  // A new task's file did not exist when its writer first loaded it: "removed" (nothing to know).
  EXPECT_EQ(seen, (std::vector<std::string>{"removed t", "appended task:created", "compacted t",
                                            "removed t"}));
  // The index got them too: the task is gone from it.
  self->request(*store, caf::infinite, stats_request{})
      .receive([](const index_stats& st) { EXPECT_EQ(st.tasks, 0u); },
               [](caf::error& err) { FAIL() << render(err); });
  caf::anon_send_exit(*store, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

TEST_F(StoreActorTest, StoppingTheStoreStopsItsWritersAndReleasesTheLockAtOnce) {
  // Writers are monitored, not linked (a link list each retiring writer scans is quadratic in
  // writers): the store must stop them itself, or busy writers would keep the lock until idle.
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto opts = options();
  opts.writer_idle_timeout = std::chrono::minutes{10}; // no writer retires on its own during the test
  auto store = spawn_store(sys, opts);
  ASSERT_TRUE(store) << render(store.error());
  for (int t = 0; t < 20; ++t)
    self->request(*store, caf::infinite,
                  append_request{make_event("t" + std::to_string(t), "task:created"), caf::none})
      .receive([](const append_result&) {}, [](caf::error& err) { FAIL() << render(err); });
  self->request(*store, caf::infinite, stats_request{})
    .receive([](const index_stats& st) { EXPECT_EQ(st.live_writers, 20u); },
             [](caf::error& err) { FAIL() << render(err); });
  self->send_exit(*store, caf::exit_reason::user_shutdown);
  self->wait_for(*store);
  // The writers end right after the store; then the lock is free for the next owner.
  caf::expected<store_actor> again = caf::make_error(errc::store_locked);
  for (int tries = 0; tries < 200 && !again; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
    again = spawn_store(sys, opts);
  }
  ASSERT_TRUE(again) << "the lock was still held 2 s after the store stopped: "
                     << render(again.error());
  self->send_exit(*again, caf::exit_reason::user_shutdown);
}

// The retire handshake answers only the task's live writer: a late writer_idle of a writer that
// retired already (the store's sweep asked it twice) carries a count its successor may share, and
// must not retire the successor, or two writers would share the file.
TEST_F(StoreActorTest, AnAskToRetireFromAnyoneButTheTasksLiveWriterIsRefused) {
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto opts = options();
  opts.writer_idle_timeout = std::chrono::minutes{10}; // the live writer never asks on its own
  auto store = spawn_store(sys, opts);
  ASSERT_TRUE(store) << render(store.error());
  self->request(*store, caf::infinite, append_request{make_event("t", "task:created"), caf::none})
    .receive([](const append_result&) {}, [](caf::error& err) { FAIL() << render(err); });
  // The writer of "t" handled one request, as the store counted: the count matches, the sender
  // does not.
  auto internal = caf::actor_cast<store_internal_actor>(*store);
  self->request(internal, caf::infinite, writer_idle{"t", 1, caf::none})
    .receive([](bool retired) { EXPECT_FALSE(retired); },
             [](caf::error& err) { FAIL() << render(err); });
  self->request(*store, caf::infinite, stats_request{})
    .receive([](const index_stats& st) { EXPECT_EQ(st.live_writers, 1u); },
             [](caf::error& err) { FAIL() << render(err); });
  self->send_exit(*store, caf::exit_reason::user_shutdown);
  self->wait_for(*store);
}
