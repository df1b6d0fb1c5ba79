#include <gtest/gtest.h>

#include "messages/bus_messages.hpp"
#include "src/format/pattern.hpp"

using namespace evstore;

TEST(PatternTest, StarMatchesEveryType) {
  EXPECT_TRUE(pattern_matches("*", "agent:message"));
  EXPECT_TRUE(pattern_matches("*", "x"));
  EXPECT_EQ(pattern_prefix("*"), "");
}

TEST(PatternTest, ColonStarMatchesTypesStartingWithThePrefixAndItsColon) {
  EXPECT_TRUE(pattern_matches("task:state:*", "task:state:running"));
  EXPECT_TRUE(pattern_matches("task:*", "task:state:running"));
  EXPECT_FALSE(pattern_matches("task:state:*", "task:state")); // the colon is part of the prefix
  EXPECT_FALSE(pattern_matches("task:*", "tasks:x"));
  EXPECT_FALSE(pattern_matches("task:state:*", "agent:task:state:x"));
  EXPECT_EQ(pattern_prefix("task:state:*"), "task:state:");
}

TEST(PatternTest, AnythingElseMatchesExactly) {
  EXPECT_TRUE(pattern_matches("agent:message", "agent:message"));
  EXPECT_FALSE(pattern_matches("agent:message", "agent:message:x"));
  EXPECT_FALSE(pattern_matches("agent", "agent:message"));
  EXPECT_FALSE(pattern_matches("agent*", "agent:message")); // only ":*" is a wildcard
  EXPECT_EQ(pattern_prefix("agent:message"), "agent:message");
}

TEST(PatternTest, EveryMatchStartsWithThePatternsPrefix) {
  const char* patterns[] = {"*", "a:*", "a:b:*", "a:b", "a"};
  const char* types[] = {"a", "a:b", "a:b:c", "ab", "b:a", "a:bc"};
  for (auto p : patterns) {
    for (auto t : types) {
      if (pattern_matches(p, t)) {
        EXPECT_EQ(std::string_view{t}.substr(0, pattern_prefix(p).size()), pattern_prefix(p))
          << p << " " << t;
      }
    }
  }
}

TEST(PatternTest, MalformedPatternsAreRejected) {
  EXPECT_FALSE(validate_pattern("*"));
  EXPECT_FALSE(validate_pattern("task:state:*"));
  EXPECT_FALSE(validate_pattern("agent:message"));
  for (auto bad : {"", ":*", "**", "a:**", "A:b", "a::b", "a:*:b", "a*"})
    EXPECT_TRUE(validate_pattern(bad)) << bad;
}

// The public form (messages/bus_messages.hpp): a subscription filter judges an event as the bus does.
TEST(PatternTest, ASubscriptionFilterMatchesItsTaskAndAnyOfItsPatterns) {
  event ev;
  ev.task = "t1";
  ev.type = "task:state:running";
  subscription_filter all;
  EXPECT_TRUE(matches(all, ev)); // no pattern: every type
  subscription_filter f;
  f.patterns = {"agent:*", "task:state:*"};
  EXPECT_TRUE(matches(f, ev));
  f.task = "t2";
  EXPECT_FALSE(matches(f, ev));
  f.task = "t1";
  EXPECT_TRUE(matches(f, ev));
  f.patterns = {"task:state"};
  EXPECT_FALSE(matches(f, ev));
}

TEST(PatternTest, ASubscriptionFilterIsValidatedAsSubscribingDoes) {
  subscription_filter f;
  f.patterns = {"*", "task:state:*", "agent:message"};
  EXPECT_FALSE(validate(f));
  f.task = "../escape";
  EXPECT_TRUE(is(validate(f), errc::invalid_task_id));
  f.task = "t1";
  f.patterns.push_back("A:b");
  auto err = validate(f);
  EXPECT_TRUE(is(err, errc::invalid_argument)) << render(err);
  EXPECT_NE(render(err).find("\"A:b\""), std::string::npos) << render(err);
}
