// Every message type round-trips through CAF's binary serializer, so it can cross process boundaries
// through the middleman.
#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "evstore/messages/commands.hpp"
#include "evstore/messages/internal.hpp"
#include "evstore/messages/notifications.hpp"
#include "evstore/messages/system_config.hpp"
#include "timestamp_format.hpp"

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
    ev.ts = *parse_timestamp("2026-03-01T10:00:00.123456789Z");
    ev.data = boost::json::parse(R"({"a":[1,2.5,"x",null,true],"u":"é😀"})");
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
  auto rr = round_trip(read_request{"t-1", 5});
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
  auto q = round_trip(query_request{"task:state:", 500});
  EXPECT_EQ(q.prefix, "task:state:");
  EXPECT_EQ(q.limit, 500u);
  EXPECT_EQ(round_trip(query_result{{sample_event()}, {}}).events.size(), 1u);
  EXPECT_EQ(round_trip(writer_idle{"t", 9}).handled, 9u);
}

TEST_F(MessagesTest, NotificationsRoundTrip) {
  auto ts = *parse_timestamp("2026-03-01T10:00:00.000000001Z");
  auto a = round_trip(appended{"t", "agent:message", ts, 3, 1024});
  EXPECT_EQ(a.task, "t");
  EXPECT_EQ(a.type, "agent:message");
  EXPECT_EQ(a.ts, ts);
  EXPECT_EQ(a.position, 3u);
  EXPECT_EQ(a.offset, 1024u);
  auto c = round_trip(compacted{"t", 5, 2, {type_summary{"a:b", 2, ts}}});
  EXPECT_EQ(c.removed, 5u);
  ASSERT_EQ(c.types.size(), 1u);
  EXPECT_EQ(c.types[0].type, "a:b");
  EXPECT_EQ(c.types[0].newest_ts, ts);
  EXPECT_EQ(round_trip(task_removed{"gone"}).task, "gone");
}

TEST_F(MessagesTest, ErrorsRenderWithTheirContext) {
  auto err = make_error(errc::invalid_task_id, "task id must not contain '/'");
  EXPECT_EQ(sys_.render(err), "evstore: invalid_task_id: task id must not contain '/'");
  EXPECT_EQ(render(err), sys_.render(err));
  EXPECT_TRUE(is(err, errc::invalid_task_id));
  EXPECT_FALSE(is(err, errc::invalid_type));
}
