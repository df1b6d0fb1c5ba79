// The live bus through the facade and as an actor: filters, per-task order, catch-up racing
// publishes, slow subscribers (recovery from disk or drops with `lagged`), and subscriber lifetimes.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "src/format/pattern.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
using namespace std::chrono_literals;

namespace {

/// Takes deliveries until none arrives for `quiet`.
std::vector<delivery> drain(subscription& sub, std::chrono::milliseconds quiet = 300ms) {
  std::vector<delivery> out;
  while (auto d = sub.next(quiet))
    out.push_back(std::move(*d));
  return out;
}

std::vector<delivery> events_only(const std::vector<delivery>& ds) {
  std::vector<delivery> out;
  for (const auto& d : ds)
    if (d.what == delivery::kind::event)
      out.push_back(d);
  return out;
}

/// Fails the test unless each task's events came in strictly increasing position, each once.
void expect_per_task_order(const std::vector<delivery>& ds) {
  std::map<std::string, uint64_t> next;
  std::set<std::string> ids;
  for (const auto& d : events_only(ds)) {
    EXPECT_TRUE(ids.insert(d.ev.id).second) << "duplicate " << d.ev.id;
    auto [it, fresh] = next.emplace(d.ev.task, d.position + 1);
    if (!fresh) {
      EXPECT_GE(d.position, it->second) << d.ev.task << " out of order";
      it->second = d.position + 1;
    }
  }
}

/// The events delivered before caught_up (the history), and their ids sorted.
std::vector<delivery> history_of(subscription& sub) {
  std::vector<delivery> out;
  for (auto& d : drain(sub)) {
    if (d.what == delivery::kind::caught_up)
      break;
    if (d.what == delivery::kind::event)
      out.push_back(std::move(d));
  }
  return out;
}

std::vector<std::string> sorted_ids(const std::vector<delivery>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds)
    out.push_back(d.ev.id);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

subscribe_options watch(std::vector<std::string> patterns, uint32_t buffer = 1024) {
  subscribe_options opts;
  opts.filter.patterns = std::move(patterns);
  opts.buffer = buffer;
  return opts;
}

class BusTest : public StoreTest {
protected:
  /// Every event on disk whose type matches one of `patterns`, by id (the oracle).
  std::set<std::string> stored_ids(store& db, const std::vector<std::string>& patterns) {
    std::set<std::string> out;
    auto all = db.query_by_type_prefix("", 10'000'000);
    EXPECT_TRUE(all);
    for (const auto& ev : all->events)
      for (const auto& p : patterns)
        if (pattern_matches(p, ev.type))
          out.insert(ev.id);
    return out;
  }

  static std::set<std::string> delivered_ids(const std::vector<delivery>& ds) {
    std::set<std::string> out;
    for (const auto& d : events_only(ds))
      out.insert(d.ev.id);
    return out;
  }
};

} // namespace

TEST_F(BusTest, PublishDeliversMatchingEventsInPerTaskOrder) {
  auto db = open_store();
  auto sub = db->subscribe(watch({"task:state:*"}));
  ASSERT_TRUE(sub) << render(sub.error());
  for (int i = 0; i < 30; ++i) {
    auto task = "t" + std::to_string(i % 3);
    ASSERT_TRUE(db->publish(make_event(task, i % 2 ? "task:state:running" : "agent:message")));
  }
  auto got = drain(**sub);
  EXPECT_EQ(events_only(got).size(), 15u);
  for (const auto& d : got)
    EXPECT_EQ(d.ev.type, "task:state:running");
  expect_per_task_order(got);
}

TEST_F(BusTest, ExactPatternAndTaskFilterNarrowDelivery) {
  auto db = open_store();
  auto opts = watch({"merge:done"});
  opts.filter.task = "t1";
  auto sub = db->subscribe(opts);
  ASSERT_TRUE(sub);
  for (auto task : {"t1", "t2"})
    for (auto type : {"merge:done", "merge:done:late", "merge:queued"})
      ASSERT_TRUE(db->publish(make_event(task, type)));
  auto got = events_only(drain(**sub));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].ev.task, "t1");
  EXPECT_EQ(got[0].ev.type, "merge:done");
}

TEST_F(BusTest, NoPatternsMeansEveryTypeAndSeveralPatternsAreAUnion) {
  auto db = open_store();
  auto all = db->subscribe(watch({}));
  auto some = db->subscribe(watch({"a:*", "b:x"}));
  ASSERT_TRUE(all && some);
  for (auto type : {"a:x", "b:x", "b:y", "c:z"})
    ASSERT_TRUE(db->publish(make_event("t", type)));
  EXPECT_EQ(events_only(drain(**all)).size(), 4u);
  EXPECT_EQ(events_only(drain(**some)).size(), 2u);
}

TEST_F(BusTest, MalformedPatternOrTaskIsRefused) {
  auto db = open_store();
  auto bad = db->subscribe(watch({"task:*:x"}));
  ASSERT_FALSE(bad);
  EXPECT_TRUE(is(bad.error(), errc::invalid_argument)) << render(bad.error());
  auto opts = watch({"*"});
  opts.filter.task = "../escape";
  auto bad_task = db->subscribe(opts);
  ASSERT_FALSE(bad_task);
  EXPECT_TRUE(is(bad_task.error(), errc::invalid_task_id));
}

TEST_F(BusTest, ReadOnlyStoreRefusesSubscriptions) {
  { open_store(); }
  auto opts = options();
  opts.read_only = true;
  auto db = open_store(opts);
  auto sub = db->subscribe(watch({"*"}));
  ASSERT_FALSE(sub);
  EXPECT_TRUE(is(sub.error(), errc::read_only));
}

TEST_F(BusTest, FsyncedAppendsAreDeliveredOnceSynced) {
  auto opts = options();
  opts.ack = durability::fsynced;
  auto db = open_store(opts);
  auto sub = db->subscribe(watch({"*"}));
  ASSERT_TRUE(sub);
  std::vector<std::thread> publishers;
  for (int p = 0; p < 4; ++p)
    publishers.emplace_back([&, p] {
      for (int i = 0; i < 50; ++i)
        EXPECT_TRUE(db->publish(make_event("t" + std::to_string(p % 2), "agent:message")));
    });
  for (auto& t : publishers)
    t.join();
  auto got = drain(**sub);
  EXPECT_EQ(events_only(got).size(), 200u);
  expect_per_task_order(got);
}

// A catch-up subscription made while publishers race it sees every matching event exactly once:
// the history, caught_up, then live, with each task in order.
TEST_F(BusTest, PatternCatchUpRacingPublishesHasNoGapAndNoDuplicate) {
  for (unsigned seed = 0; seed < 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto fresh = options();
    fresh.root = dir_.str("seed" + std::to_string(seed));
    auto db = open_store(fresh);
    std::mt19937 rng{seed};
    const std::vector<std::string> patterns{seed % 3 == 0 ? "*" : "task:state:*"};
    const char* types[] = {"task:state:running", "agent:message", "task:state:done", "merge:done"};
    std::atomic<bool> stop{false};
    std::vector<std::thread> publishers;
    for (unsigned p = 0; p < 3; ++p)
      publishers.emplace_back([&, p] {
        std::mt19937 prng{seed * 10 + p};
        for (int i = 0; !stop || i < 100; ++i)
          ASSERT_TRUE(db->publish(make_event("t" + std::to_string(prng() % 6), types[prng() % 4])));
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
    auto opts = watch(patterns, seed % 2 ? 4 : 1024); // a tiny buffer also overflows mid-race
    opts.catch_up = catch_up_spec{0, 10'000'000, caf::none};
    auto sub = db->subscribe(opts);
    ASSERT_TRUE(sub) << render(sub.error());
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
    stop = true;
    for (auto& t : publishers)
      t.join();
    auto got = drain(**sub);
    size_t markers = 0;
    for (const auto& d : got)
      markers += d.what == delivery::kind::caught_up;
    EXPECT_EQ(markers, 1u);
    expect_per_task_order(got);
    EXPECT_EQ(delivered_ids(got), stored_ids(*db, patterns));
  }
}

// An exact pattern's history is the newest `limit` events of that one type, however many newer
// events of longer types sharing its spelling ("task:state:run" is the start of
// "task:state:running") the store holds.
TEST_F(BusTest, AnExactPatternCatchesUpOnItsOwnTypeNotOnLongerTypesThatStartWithIt) {
  auto db = open_store();
  std::vector<std::string> want;
  for (int i = 0; i < 6; ++i) {
    auto ev = make_event("t" + std::to_string(i % 3), "task:state:run");
    auto res = db->publish(ev);
    ASSERT_TRUE(res);
    want.push_back(res->ev.id);
  }
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(db->publish(make_event("t" + std::to_string(i % 4), "task:state:running")));
  auto opts = watch({"task:state:run"});
  opts.catch_up = catch_up_spec{0, 4, caf::none};
  auto sub = db->subscribe(opts);
  ASSERT_TRUE(sub) << render(sub.error());
  EXPECT_EQ(sorted_ids(history_of(**sub)), sorted({want.end() - 4, want.end()}));
}

// An actor filter is judged by the bus, not the index: the catch-up must keep asking until it holds
// `limit` events of that actor, however many newer events of other actors come first.
TEST_F(BusTest, AnActorFilteredCatchUpHoldsTheLastNEventsOfThatActor) {
  auto db = open_store();
  std::vector<std::string> human_ids;
  for (int i = 0; i < 5; ++i) {
    auto ev = make_event("t" + std::to_string(i % 2), "agent:message");
    ev.actor = actor_kind::human;
    auto res = db->publish(ev);
    ASSERT_TRUE(res);
    human_ids.push_back(res->ev.id);
  }
  for (int i = 0; i < 300; ++i)
    ASSERT_TRUE(db->publish(make_event("t" + std::to_string(i % 3), "agent:message")));
  auto opts = watch({"agent:*"});
  opts.filter.actor = actor_kind::human;
  opts.catch_up = catch_up_spec{0, 3, caf::none};
  auto sub = db->subscribe(opts);
  ASSERT_TRUE(sub) << render(sub.error());
  auto history = history_of(**sub);
  for (const auto& d : history)
    EXPECT_EQ(d.ev.actor, actor_kind::human);
  EXPECT_EQ(sorted_ids(history), sorted({human_ids.end() - 3, human_ids.end()}));
  // Live events of other actors do not reach it.
  ASSERT_TRUE(db->publish(make_event("t0", "agent:message")));
  EXPECT_FALSE((*sub)->next(300ms));
}

TEST_F(BusTest, TaskCatchUpRacingPublishesHasNoGapAndNoDuplicate) {
  for (unsigned seed = 0; seed < 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto fresh = options();
    fresh.root = dir_.str("seed" + std::to_string(seed));
    auto db = open_store(fresh);
    for (int i = 0; i < 40; ++i)
      ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
    std::atomic<bool> stop{false};
    std::thread publisher{[&] {
      for (int i = 0; !stop || i < 100; ++i)
        ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
    }};
    auto opts = watch({}, seed % 2 ? 3 : 1024);
    opts.filter.task = "t";
    opts.catch_up = catch_up_spec{5, 0, caf::none};
    auto sub = db->subscribe(opts);
    ASSERT_TRUE(sub);
    stop = true;
    publisher.join();
    auto got = drain(**sub);
    expect_per_task_order(got);
    auto all = db->read_task("t");
    ASSERT_TRUE(all);
    auto evs = events_only(got);
    ASSERT_EQ(evs.size(), all->events.size() - 5);
    for (size_t i = 0; i < evs.size(); ++i) {
      EXPECT_EQ(evs[i].position, i + 5);
      EXPECT_EQ(evs[i].ev.id, all->events[i + 5].id);
    }
  }
}

// A subscriber that reads nothing while 2,000 events are published: every publish completes (the
// bus never waits for it), its backlog never exceeds its buffer, and afterwards it still gets every
// event, in order, read back from disk.
TEST_F(BusTest, SlowSubscriberWithATinyBufferMissesNothingAndNeverBlocksPublishers) {
  auto db = open_store();
  auto sub = db->subscribe(watch({"*"}, 2));
  ASSERT_TRUE(sub);
  for (int i = 0; i < 2000; ++i)
    ASSERT_TRUE(db->publish(make_event("t" + std::to_string(i % 10), "agent:message")));
  auto got = drain(**sub);
  EXPECT_EQ(events_only(got).size(), 2000u);
  expect_per_task_order(got);
  EXPECT_EQ(delivered_ids(got), stored_ids(*db, {"*"}));
  auto stats = db->bus_statistics();
  ASSERT_TRUE(stats);
  EXPECT_LE(stats->max_backlog, 2u);
  EXPECT_GT(stats->recoveries, 0u);
}

TEST_F(BusTest, DropPolicyTellsHowManyEventsWereSkipped) {
  auto db = open_store();
  auto opts = watch({"*"}, 2);
  opts.drop_on_overflow = true;
  auto sub = db->subscribe(opts);
  ASSERT_TRUE(sub);
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
  auto got = drain(**sub);
  uint64_t events = 0;
  uint64_t missed = 0;
  for (const auto& d : got) {
    events += d.what == delivery::kind::event;
    missed += d.missed;
  }
  EXPECT_GT(missed, 0u);
  EXPECT_EQ(events + missed, 100u);
  EXPECT_EQ(got.back().what, delivery::kind::lagged);
}

// Compaction renumbers a task while a subscriber is reading it back from disk: every event that
// survived compaction is still delivered, once, in order.
TEST_F(BusTest, CompactionWhileBehindDeliversEveryKeptEventOnce) {
  auto db = open_store();
  auto sub = db->subscribe(watch({"*"}, 1));
  ASSERT_TRUE(sub);
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
  retention_policy keep30;
  keep30.max_events = 30;
  keep30.max_age = caf::none;
  auto compacted = db->compact_task("t", keep30);
  ASSERT_TRUE(compacted);
  EXPECT_EQ(compacted->removed, 20u);
  auto got = drain(**sub);
  std::set<std::string> ids;
  for (const auto& d : events_only(got))
    EXPECT_TRUE(ids.insert(d.ev.id).second);
  auto kept = db->read_task("t");
  ASSERT_TRUE(kept);
  for (const auto& ev : kept->events)
    EXPECT_TRUE(ids.count(ev.id)) << "kept event " << ev.id << " never delivered";
}

TEST_F(BusTest, CallbackRunsForEachDeliveryAndNeverAfterUnsubscribing) {
  auto db = open_store();
  std::mutex mtx;
  std::vector<std::string> seen;
  auto sub = db->subscribe(watch({"*"}), [&](const delivery& d) {
    std::lock_guard<std::mutex> guard{mtx};
    seen.push_back(d.ev.id);
  });
  ASSERT_TRUE(sub);
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (seen.size() == 20)
        break;
    }
    std::this_thread::sleep_for(10ms);
  }
  sub->reset();
  std::lock_guard<std::mutex> guard{mtx};
  EXPECT_EQ(seen.size(), 20u);
  ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
  EXPECT_EQ(seen.size(), 20u);
}

TEST_F(BusTest, ThrowingCallbackEndsOnlyItsSubscription) {
  auto db = open_store();
  auto bad = db->subscribe(watch({"*"}), [](const delivery&) { throw std::runtime_error{"boom"}; });
  auto good = db->subscribe(watch({"*"}));
  ASSERT_TRUE(bad && good);
  ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
  ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
  EXPECT_EQ(events_only(drain(**good)).size(), 2u);
  for (int i = 0; i < 100 && db->bus_statistics()->subscriptions > 1; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(db->bus_statistics()->subscriptions, 1u);
}

namespace {

// An actor subscriber, as an orchestrator would write one: counts events and acknowledges each.
subscriber_actor::behavior_type counting_subscriber(subscriber_actor::pointer self,
                                                    std::shared_ptr<std::atomic<int>> count) {
  return {
    [=](const bus_event& x) {
      ++*count;
      self->send(caf::actor_cast<bus_ack_receiver>(self->current_sender()), bus_ack{x.subscription, 1});
    },
    [](const caught_up&) {},
    [](const lagged&) {},
  };
}

} // namespace

TEST_F(BusTest, ActorSubscriberIsRemovedWhenItEnds) {
  auto db = open_store();
  auto count = std::make_shared<std::atomic<int>>(0);
  auto sub_actor = db->system().spawn(counting_subscriber, count);
  caf::scoped_actor self{db->system()};
  subscribe_request req;
  req.filter.patterns = {"*"};
  req.subscriber = caf::actor_cast<caf::strong_actor_ptr>(sub_actor);
  bool ok = false;
  self->request(db->handle(), caf::infinite, req)
    .receive([&](const subscribed&) { ok = true; }, [&](caf::error& err) { FAIL() << render(err); });
  ASSERT_TRUE(ok);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
  for (int i = 0; i < 100 && *count < 10; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(*count, 10);
  EXPECT_EQ(db->bus_statistics()->subscriptions, 1u);
  self->send_exit(sub_actor, caf::exit_reason::kill);
  for (int i = 0; i < 100 && db->bus_statistics()->subscriptions > 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(db->bus_statistics()->subscriptions, 0u);
}

TEST_F(BusTest, WritersAnnounceEventsOnlyWhileSomeoneIsSubscribed) {
  auto db = open_store();
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
  EXPECT_EQ(db->bus_statistics()->events_seen, 0u);
  {
    auto sub = db->subscribe(watch({"*"}));
    ASSERT_TRUE(sub);
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
    EXPECT_EQ(events_only(drain(**sub)).size(), 5u);
  }
  for (int i = 0; i < 100 && db->bus_statistics()->subscriptions > 0; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(db->publish(make_event("t", "agent:message")));
  EXPECT_EQ(db->bus_statistics()->events_seen, 5u);
}
