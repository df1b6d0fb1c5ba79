#include "validation.hpp"

#include <gtest/gtest.h>

using namespace evstore;

TEST(Validation, AcceptsOrdinaryAndSystemWideTaskIds) {
  for (const char* ok : {"", "task-1", "a.b", "...", "UPPER_and_lower", "\xc3\xa9t\xc3\xa9"})
    EXPECT_FALSE(validate_task_id(ok)) << ok;
  EXPECT_FALSE(validate_task_id(std::string(255, 'x')));
}

TEST(Validation, RejectsTaskIdsThatEscapeOrBreakTheRoot) {
  for (const std::string& bad : std::vector<std::string>{"../x", "a/b", ".", "..", "a\\b", std::string("a\0b", 3), "tab\there",
                          std::string(256, 'x'), std::string("\x7f")}) {
    auto err = validate_task_id(bad);
    ASSERT_TRUE(err) << bad;
    EXPECT_TRUE(is(err, errc::invalid_task_id));
    EXPECT_NE(render(err).find("task id"), std::string::npos) << render(err);
  }
}

TEST(Validation, AcceptsColonDelimitedLowercaseTypes) {
  for (const char* ok : {"task:created", "system:accounting:tokens", "task:state:awaiting_merge",
                         "agent", "v2:x-y"})
    EXPECT_FALSE(validate_type(ok)) << ok;
}

TEST(Validation, RejectsMalformedTypesNamingTheField) {
  for (const char* bad : {"", ":a", "a:", "a::b", "Task:Created", "a b", "a:b:*", "é"}) {
    auto err = validate_type(bad);
    ASSERT_TRUE(err) << bad;
    EXPECT_TRUE(is(err, errc::invalid_type));
    EXPECT_NE(render(err).find("type"), std::string::npos);
  }
}

TEST(Validation, RejectsIdsThatAreNotLowercaseUuids) {
  event ev;
  ev.type = "task:created";
  ev.id = "not-a-uuid";
  EXPECT_TRUE(is(validate_for_append(ev), errc::invalid_id));
  ev.id = "6F1C7E4A-1B2C-4D3E-8F40-112233445566";
  EXPECT_TRUE(is(validate_for_append(ev), errc::invalid_id));
  ev.id = "6f1c7e4a-1b2c-4d3e-8f40-112233445566";
  EXPECT_FALSE(validate_for_append(ev));
}
