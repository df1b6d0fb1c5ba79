// Every message type round-trips through CAF's binary serializer, so it can cross process boundaries
// through the middleman.
#include <cmath>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "messages/bus_messages.hpp"
#include "messages/commands.hpp"
#include "messages/internal/store_protocol.hpp"
#include "messages/internal/notifications.hpp"
#include "messages/internal/query_protocol.hpp"
#include "messages/store_stats.hpp"
#include "messages/system_config.hpp"
#include "src/format/timestamp_format.hpp"

using namespace evstore;

namespace {

class MessagesTest : public ::testing::Test {
protected:
  template <class T>
  T round_trip(T x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys_, buf};
    EXPECT_FALSE(sink(x));
    T y;
    caf::binary_deserializer source{sys_, buf};
    EXPECT_FALSE(source(y));
    return y;
  }

  event sample_event() {
    event ev;
    ev.id = "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a";
    ev.type = "task:state:running";
    ev.task = "t-1";
    ev.actor = actor_kind::orchestrator;
    ev.ts = *parse_rfc3339("2026-03-01T10:00:00.123456789Z");
    ev.data = *json_payload::parse(R"({"a":[1,2.5,"x",null,true],"u":"é😀","big":123456789012345678901234567890,"e":1E-1})");
    return ev;
  }

  system_config cfg_;
  caf::actor_system sys_{cfg_};
};

} // namespace

TEST_F(MessagesTest, EventRoundTripsWithNanosecondsAndJsonData) {
  auto ev = sample_event();
  EXPECT_EQ(round_trip(ev), ev);
}

TEST_F(MessagesTest, EventDataKeepsItsTextAndTsItsAbsence) {
  auto ev = sample_event();
  auto back = round_trip(ev);
  EXPECT_EQ(back.data.text(), ev.data.text());
  ev.ts = caf::none; // "now" on append: stays unset, not the epoch
  back = round_trip(ev);
  EXPECT_FALSE(back.ts);
  ev.ts = timestamp{}; // the epoch: stays the epoch
  back = round_trip(ev);
  ASSERT_TRUE(back.ts);
  EXPECT_EQ(*back.ts, timestamp{});
  for (const char* far : {"0001-01-01T00:00:00.000000001Z", "9999-12-31T23:59:59.999999999Z"}) {
    ev.ts = *parse_rfc3339(far); // beyond 64-bit nanoseconds: crosses exactly
    back = round_trip(ev);
    ASSERT_TRUE(back.ts);
    EXPECT_EQ(to_rfc3339(*back.ts), far);
  }
  ev.data = std::nan(""); // a payload that cannot be appended keeps saying why
  back = round_trip(ev);
  EXPECT_EQ(back.data.problem(), "data: number is not finite");
  EXPECT_EQ(back, ev);
}

TEST_F(MessagesTest, EventDataFromAnotherProcessIsCheckedAgainBeforeItIsWritten) {
  auto ev = sample_event();
  ev.data = json_payload::adopt_checked("[1e400]"); // readable, not writable
  EXPECT_FALSE(ev.data.checked_for_writing());
  auto back = round_trip(ev);
  EXPECT_EQ(back.data.text(), "[1e400]");
  EXPECT_FALSE(back.data.checked_for_writing());
  back = round_trip(sample_event()); // even text that was checked is checked again on arrival
  EXPECT_FALSE(back.data.checked_for_writing());
  EXPECT_TRUE(sample_event().data.checked_for_writing());
}

TEST_F(MessagesTest, EventDataFromAnotherProcessIsCheckedLikeALine) {
  auto ev = sample_event();
  ev.data = json_payload::adopt_checked("[1,"); // as a peer could send it
  std::vector<char> buf;
  caf::binary_serializer sink{sys_, buf};
  ASSERT_FALSE(sink(ev));
  event back;
  caf::binary_deserializer source{sys_, buf};
  EXPECT_TRUE(source(back));
}

TEST_F(MessagesTest, CommandsAndRepliesRoundTrip) {
  append_request ar{sample_event(), uint64_t{7}};
  auto ar2 = round_trip(ar);
  EXPECT_EQ(ar2.ev, ar.ev);
  EXPECT_EQ(ar2.expected_version, caf::optional<uint64_t>{7});
  append_result res{sample_event(), 42, true};
  auto res2 = round_trip(res);
  EXPECT_EQ(res2.ev, res.ev);
  EXPECT_EQ(res2.position, 42u);
  EXPECT_TRUE(res2.duplicate);
  auto rr = round_trip(read_request{"t-1", 5, 7});
  EXPECT_EQ(rr.max_events, 7u);
  EXPECT_EQ(rr.task, "t-1");
  EXPECT_EQ(rr.from, 5u);
  read_result rres{{sample_event(), sample_event()}, read_stats{3, 1, true}};
  auto rres2 = round_trip(rres);
  EXPECT_EQ(rres2.events, rres.events);
  EXPECT_EQ(rres2.stats.corrupt_lines, 3u);
  EXPECT_EQ(rres2.stats.future_schema_lines, 1u);
  EXPECT_TRUE(rres2.stats.torn_tail);
  retention_policy policy;
  policy.max_events = caf::none;
  policy.max_age = caf::timespan{std::chrono::hours{1}};
  auto cr = round_trip(compact_request{"t", policy});
  EXPECT_EQ(cr.task, "t");
  EXPECT_FALSE(cr.policy.max_events);
  EXPECT_EQ(cr.policy.max_age, caf::timespan{std::chrono::hours{1}});
  auto cres = round_trip(compact_result{1, 2, 3});
  EXPECT_EQ(cres.removed + cres.kept + cres.corrupt_moved, 6u);
  EXPECT_EQ(round_trip(compact_all_request{policy}).policy.max_age, policy.max_age);
  round_trip(list_tasks_request{});
  EXPECT_EQ(round_trip(task_list{{"", "a", "b"}}).tasks, (std::vector<std::string>{"", "a", "b"}));
  round_trip(cleanup_request{});
  EXPECT_EQ(round_trip(cleanup_result{4}).removed, 4u);
  auto q = round_trip(query_request{"task:state:", 500, caf::none, true, true});
  EXPECT_EQ(q.prefix, "task:state:");
  EXPECT_EQ(q.limit, 500u);
  EXPECT_TRUE(q.exact_type);
  EXPECT_TRUE(q.allow_partial);
  auto qr = round_trip(query_result{{sample_event()}, {}, {42}, {"beta", "gamma"}});
  EXPECT_EQ(qr.events.size(), 1u);
  EXPECT_EQ(qr.positions, std::vector<uint64_t>{42});
  EXPECT_EQ(qr.missing_nodes, (std::vector<std::string>{"beta", "gamma"}));
  EXPECT_EQ(round_trip(writer_idle{"t", 9, caf::none}).handled, 9u);
}

TEST_F(MessagesTest, NotificationsRoundTrip) {
  auto ts = *parse_rfc3339("2026-03-01T10:00:00.000000001Z");
  auto a = round_trip(appended{"t", "agent:message", line_ref{ts, 3, 1024}, 77});
  EXPECT_EQ(a.task, "t");
  EXPECT_EQ(a.type, "agent:message");
  EXPECT_EQ(a.line.ts, ts);
  EXPECT_EQ(a.line.position, 3u);
  EXPECT_EQ(a.line.offset, 1024u);
  EXPECT_EQ(a.file_id, 77u);
  type_summary ts_sum{"a:b", 2, ts, {line_ref{ts, 1, 10}}, true, ts, 0};
  auto c = round_trip(compacted{"t", 5, task_summary{"t", 9, 2, 300, {ts_sum}}});
  EXPECT_EQ(c.removed, 5u);
  EXPECT_EQ(c.summary.file_id, 9u);
  ASSERT_EQ(c.summary.types.size(), 1u);
  EXPECT_EQ(c.summary.types[0].type, "a:b");
  EXPECT_EQ(c.summary.types[0].newest_ts, ts);
  ASSERT_EQ(c.summary.types[0].recent.size(), 1u);
  EXPECT_EQ(c.summary.types[0].recent[0].offset, 10u);
  EXPECT_TRUE(c.summary.types[0].has_older);
  EXPECT_EQ(round_trip(task_removed{"gone"}).task, "gone");
}

TEST_F(MessagesTest, QueryMessagesRoundTrip) {
  auto ts = *parse_rfc3339("2026-03-01T10:00:00.5Z");
  auto q = round_trip(query_request{"task:", 5, ts});
  EXPECT_EQ(q.since, caf::optional<timestamp>{ts});
  auto pr = round_trip(plan_request{"a:", 3, caf::none});
  EXPECT_EQ(pr.limit, 3u);
  query_plan plan{rank_key{ts, "t", 4}, {task_fetch{"t", {line_ref{ts, 4, 99}}, 12, false}}};
  auto plan2 = round_trip(plan);
  ASSERT_TRUE(plan2.bound);
  EXPECT_EQ(plan2.bound->task, "t");
  ASSERT_EQ(plan2.fetches.size(), 1u);
  EXPECT_EQ(plan2.fetches[0].lines[0].offset, 99u);
  auto fr = round_trip(fetch_request{"a:", 3, caf::none, task_fetch{"t", {}, 1, true}});
  EXPECT_TRUE(fr.what.scan);
  auto res = round_trip(fetch_result{{located_event{7, sample_event()}}, true});
  EXPECT_EQ(res.events[0].position, 7u);
  EXPECT_EQ(res.events[0].ev, sample_event());
  EXPECT_EQ(round_trip(populate_request{"t"}).task, "t");
  EXPECT_EQ(round_trip(population_plan{{"a", "b"}}).tasks.size(), 2u);
  EXPECT_EQ(round_trip(population_failed{"a", "why"}).reason, "why");
  round_trip(stats_request{});
  round_trip(await_index_request{});
  EXPECT_EQ(round_trip(resolve_writers{{"a", "b"}}).tasks.size(), 2u);
  EXPECT_TRUE(round_trip(writer_handles{}).writers.empty());
  index_stats st;
  st.entries = 5;
  st.complete = true;
  auto st2 = round_trip(st);
  EXPECT_EQ(st2.entries, 5u);
  EXPECT_TRUE(st2.complete);
}

TEST_F(MessagesTest, BusMessagesRoundTrip) {
  subscribe_request req;
  req.filter = subscription_filter{{"task:state:*", "*"}, std::string{"t-1"}, actor_kind::agent};
  req.buffer = 16;
  req.drop_on_overflow = true;
  req.catch_up = catch_up_spec{3, 50, sample_event().ts};
  auto req2 = round_trip(req);
  EXPECT_EQ(req2.filter.patterns, req.filter.patterns);
  EXPECT_EQ(req2.filter.task, req.filter.task);
  EXPECT_EQ(req2.filter.actor, req.filter.actor);
  EXPECT_EQ(req2.buffer, 16u);
  EXPECT_TRUE(req2.drop_on_overflow);
  ASSERT_TRUE(req2.catch_up);
  EXPECT_EQ(req2.catch_up->from, 3u);
  EXPECT_EQ(req2.catch_up->limit, 50u);
  EXPECT_EQ(req2.catch_up->since, sample_event().ts);
  EXPECT_EQ(round_trip(subscribed{9}).id, 9u);
  EXPECT_EQ(round_trip(unsubscribe_request{9}).id, 9u);
  auto be = round_trip(bus_event{9, sample_event(), 4});
  EXPECT_EQ(be.ev, sample_event());
  EXPECT_EQ(be.position, 4u);
  EXPECT_EQ(round_trip(caught_up{9}).subscription, 9u);
  EXPECT_EQ(round_trip(lagged{9, 12}).missed, 12u);
  EXPECT_EQ(round_trip(bus_ack{9, 3}).count, 3u);
  EXPECT_EQ(round_trip(event_written{sample_event(), 8}).position, 8u);
  round_trip(bus_stats_request{});
  bus_stats bs;
  bs.recoveries = 2;
  EXPECT_EQ(round_trip(bs).recoveries, 2u);
}

TEST_F(MessagesTest, ErrorsRenderWithTheirContext) {
  auto err = make_error(errc::invalid_task_id, "task id must not contain '/'");
  EXPECT_EQ(sys_.render(err), "evstore: invalid_task_id: task id must not contain '/'");
  EXPECT_EQ(render(err), sys_.render(err));
  EXPECT_TRUE(is(err, errc::invalid_task_id));
  EXPECT_FALSE(is(err, errc::invalid_type));
}
