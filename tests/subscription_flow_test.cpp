// The bus's per-subscription bookkeeping, driven by hand: what it sends, when it reads from disk,
// and how it keeps per-task order without gaps or duplicates.
#include <gtest/gtest.h>

#include "src/bus/subscription_flow.hpp"

using namespace evstore;

namespace {

event make_event(const std::string& task, const std::string& type, int n) {
  event ev;
  ev.id = task + "-" + std::to_string(n);
  ev.task = task;
  ev.type = type;
  return ev;
}

std::vector<std::string> ids(const std::vector<outgoing>& out) {
  std::vector<std::string> result;
  for (const auto& o : out) {
    switch (o.what) {
      case outgoing::kind::event:
        result.push_back(o.ev.id);
        break;
      case outgoing::kind::caught_up:
        result.push_back("caught_up");
        break;
      case outgoing::kind::lagged:
        result.push_back("lagged " + std::to_string(o.missed));
        break;
    }
  }
  return result;
}

using strings = std::vector<std::string>;

} // namespace

TEST(SubscriptionFlowTest, LiveEventsAreSentUpToTheBufferThenWaitForAcks) {
  subscription_flow sub{1, {{"agent:*"}, {}, {}}, 2, false};
  sub.on_live(make_event("t", "agent:message", 0), 0);
  sub.on_live(make_event("t", "task:state:x", 1), 1); // filtered out
  sub.on_live(make_event("t", "agent:message", 2), 2);
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"t-0", "t-2"}));
  EXPECT_EQ(sub.backlog(), 2u);
  sub.on_ack(1);
  sub.on_live(make_event("t", "agent:message", 3), 3);
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"t-3"}));
  EXPECT_FALSE(sub.next_read());
}

TEST(SubscriptionFlowTest, OverflowReadsTheTaskFromTheFirstMissedPositionThenRejoinsLive) {
  subscription_flow sub{1, {}, 2, false};
  for (int i = 0; i < 5; ++i)
    sub.on_live(make_event("t", "a", i), i);
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"t-0", "t-1"}));
  EXPECT_TRUE(sub.behind());
  EXPECT_FALSE(sub.next_read()); // no room until acknowledged
  sub.on_ack(2);
  auto read = sub.next_read();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->task, "t");
  EXPECT_EQ(read->from, 2u);
  EXPECT_EQ(read->max_events, 2u);
  // Live events of a task that is behind are left to the disk read.
  sub.on_live(make_event("t", "a", 5), 5);
  sub.on_read(*read, {make_event("t", "a", 2), make_event("t", "a", 3)});
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"t-2", "t-3"}));
  sub.on_ack(2);
  read = sub.next_read();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->from, 4u);
  sub.on_read(*read, {make_event("t", "a", 4), make_event("t", "a", 5)});
  sub.take_sendable();
  sub.on_ack(2);
  read = sub.next_read();
  ASSERT_TRUE(read);
  sub.on_read(*read, {}); // the end: back to live
  EXPECT_FALSE(sub.behind());
  sub.on_live(make_event("t", "a", 6), 6);
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"t-6"}));
  EXPECT_EQ(sub.recoveries(), 1u);
}

TEST(SubscriptionFlowTest, OtherTasksStayLiveWhileOneIsBehind) {
  subscription_flow sub{1, {}, 1, false};
  sub.on_live(make_event("a", "x", 0), 0);
  sub.on_live(make_event("a", "x", 1), 1); // overflows: a is behind
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"a-0"}));
  sub.on_ack(1);
  sub.on_live(make_event("b", "x", 0), 0);
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"b-0"}));
  EXPECT_TRUE(sub.behind());
}

TEST(SubscriptionFlowTest, DropPolicyReportsLaggedBeforeTheNextEvent) {
  subscription_flow sub{1, {}, 1, true};
  sub.on_live(make_event("t", "a", 0), 0);
  sub.on_live(make_event("t", "a", 1), 1);
  sub.on_live(make_event("t", "a", 2), 2);
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"t-0"}));
  EXPECT_FALSE(sub.behind());
  sub.on_ack(1);
  sub.on_live(make_event("t", "a", 3), 3);
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"lagged 2", "t-3"}));
  EXPECT_EQ(sub.dropped(), 2u);
}

TEST(SubscriptionFlowTest, DropPolicyReportsLaggedOnceThereIsRoomEvenWithoutNewEvents) {
  subscription_flow sub{1, {}, 1, true};
  sub.on_live(make_event("t", "a", 0), 0);
  sub.on_live(make_event("t", "a", 1), 1);
  sub.take_sendable();
  sub.on_ack(1);
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"lagged 1"}));
}

TEST(SubscriptionFlowTest, HistoryComesFirstThenCaughtUpThenHeldEventsItDidNotContain) {
  subscription_flow sub{1, {{"task:state:*"}, {}, {}}, 10, false};
  sub.start_history_catch_up();
  sub.on_live(make_event("a", "task:state:run", 3), 3); // raced the history: in it too
  sub.on_live(make_event("b", "task:state:run", 7), 7); // after the history was read
  EXPECT_TRUE(sub.take_sendable().empty());
  sub.on_history({make_event("a", "task:state:new", 1), make_event("a", "task:state:run", 3)},
                 {1, 3});
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"a-1", "a-3", "caught_up", "b-7"}));
}

TEST(SubscriptionFlowTest, HeldEventsBeyondTheBufferAreReadFromDiskAfterTheHistory) {
  subscription_flow sub{1, {}, 1, false};
  sub.start_history_catch_up();
  sub.on_live(make_event("a", "x", 5), 5);
  sub.on_live(make_event("a", "x", 6), 6); // no room to hold: a is behind from 6
  sub.on_history({make_event("a", "x", 4)}, {4});
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"a-4", "caught_up"})); // markers need no room
  sub.on_ack(1);
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"a-5"}));
  sub.on_ack(1);
  auto read = sub.next_read();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->from, 6u);
}

TEST(SubscriptionFlowTest, TaskCatchUpReadsFromTheGivenPositionThenSendsCaughtUp) {
  subscription_flow sub{1, {{}, std::string{"t"}, {}}, 10, false};
  sub.start_task_catch_up(1);
  sub.on_live(make_event("t", "a", 2), 2); // on disk before the read: the read has it
  auto read = sub.next_read();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->from, 1u);
  sub.on_read(*read, {make_event("t", "a", 1), make_event("t", "a", 2)});
  sub.on_live(make_event("t", "a", 3), 3);
  EXPECT_EQ(ids(sub.take_sendable()), (strings{"t-1", "t-2", "caught_up", "t-3"}));
}

TEST(SubscriptionFlowTest, CompactionShiftsTheCursorOfATaskThatIsBehind) {
  subscription_flow sub{1, {}, 1, false};
  sub.on_live(make_event("t", "a", 10), 10);
  sub.on_live(make_event("t", "a", 11), 11); // behind from 11
  sub.take_sendable();
  sub.on_compacted("t", 8); // 8 oldest events removed: position 11 is now 3
  sub.on_ack(1);
  auto read = sub.next_read();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->from, 3u);
}

TEST(SubscriptionFlowTest, AReadAnsweredAfterACompactionIsDiscardedAndRedone) {
  subscription_flow sub{1, {}, 1, false};
  sub.on_live(make_event("t", "a", 0), 0);
  sub.on_live(make_event("t", "a", 5), 5);
  sub.take_sendable();
  sub.on_ack(1);
  auto read = sub.next_read();
  ASSERT_TRUE(read);
  sub.on_compacted("t", 5); // the writer compacted before it read: positions in the reply moved
  sub.on_read(*read, {make_event("t", "a", 99)});
  EXPECT_TRUE(sub.take_sendable().empty());
  read = sub.next_read();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->from, 0u);
}
