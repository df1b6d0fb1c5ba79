#include "src/format/validation.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "src/storage/store_layout.hpp"
#include "support/json_gen.hpp"

using namespace evstore;

TEST(Validation, AcceptsOrdinaryAndSystemWideTaskIds) {
  for (const char* ok : {"", "task-1", "a.b", "...", "UPPER_and_lower", "\xc3\xa9t\xc3\xa9"})
    EXPECT_FALSE(validate_task_id(ok)) << ok;
  EXPECT_FALSE(validate_task_id(std::string(255, 'x')));
}

TEST(Validation, ReservesTheStoresOwnNames) {
  for (const char* name : {"events.jsonl", "events.corrupt", "events.jsonl.compact.tmp", "LOCK",
                           "format_version", "format_version.tmp"}) {
    auto err = validate_task_id(name);
    ASSERT_TRUE(err) << name;
    EXPECT_TRUE(is(err, errc::invalid_task_id));
    EXPECT_NE(render(err).find("reserved"), std::string::npos) << render(err);
  }
  // Every name store_layout.hpp gives a file in the root.
  for (const std::string& name :
       {std::string(events_file_name), std::string(corrupt_file_name),
        std::string(events_file_name) + compact_temp_suffix, std::string(lock_file_name),
        std::string(format_version_file_name), std::string(format_version_file_name) + ".tmp"})
    EXPECT_TRUE(is(validate_task_id(name), errc::invalid_task_id)) << name;
  // Near misses are ordinary ids.
  for (const char* ok : {"events", "events.jsonl2", "lock", "format_version.bak", "x.tmp"})
    EXPECT_FALSE(validate_task_id(ok)) << ok;
}

TEST(Validation, RequiresTaskIdsInValidUtf8) {
  for (const std::string& bad : std::vector<std::string>{
         "\xff", "t\xfe", "\xc3", "caf\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
         "\xf4\x90\x80\x80", "\xe2\x82", "ok\x80ok"}) {
    auto err = validate_task_id(bad);
    ASSERT_TRUE(err) << bad;
    EXPECT_TRUE(is(err, errc::invalid_task_id));
    EXPECT_NE(render(err).find("task: invalid UTF-8"), std::string::npos) << render(err);
  }
  EXPECT_FALSE(validate_task_id("caf\xc3\xa9 \xf0\x9f\x98\x80 \"quoted\""));
}

TEST(Validation, RefusesDataNoReaderReadsBackNamingTheField) {
  using evstore::testing::json_gen;
  auto deep = [](int depth) {
    boost::json::value v = 1;
    for (int i = 0; i < depth; ++i)
      v = boost::json::array{std::move(v)};
    return v;
  };
  struct row {
    const char* what;
    json_payload data;
    const char* message; // "" if accepted
  };
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<row> table = {
    {"126 deep", deep(126), ""},
    {"127 deep", deep(127), "data: nesting deeper than 126"},
    {"2,000 deep", deep(2'000), "data: nesting deeper than 126"},
    {"Infinity", inf, "data: number is not finite"},
    {"-Infinity", -inf, "data: number is not finite"},
    {"NaN", std::nan(""), "data: number is not finite"},
    {"1e400 as a value", boost::json::object{{"x", boost::json::array{1, 1e300 * 1e300}}},
     "data: number is not finite"},
    {"bad UTF-8 in a string", boost::json::string("ok\xff"), "data: invalid UTF-8 in string"},
    {"bad UTF-8 in a nested string", boost::json::object{{"a", boost::json::array{"\xc0\x80"}}},
     "data: invalid UTF-8 in string"},
    {"bad UTF-8 in a key", boost::json::object{{"k\xed\xa0\x80", 1}}, "data: invalid UTF-8 in key"},
    {"big numbers as text", *json_payload::parse("[123456789012345678901234567890,1.50]"), ""},
    // Read from a log by the looser reader's rules, then appended again: refused.
    {"1e400 from a line", json_payload::adopt_checked("[1e400]"), "data: number is not finite"},
    {"1000 deep from a line", json_payload::adopt_checked(json_gen::nested(1000)),
     "data: nesting deeper than 126"},
  };
  for (const auto& r : table) {
    event ev;
    ev.type = "task:created";
    ev.data = r.data;
    auto err = validate_for_append(ev);
    if (*r.message == '\0') {
      EXPECT_FALSE(err) << r.what << ": " << render(err);
    } else {
      EXPECT_TRUE(is(err, errc::invalid_event)) << r.what;
      EXPECT_NE(render(err).find(r.message), std::string::npos) << r.what << ": " << render(err);
    }
  }
}

TEST(Validation, ParsingDataTextRefusesWhatNoReaderReadsBack) {
  struct row {
    std::string text;
    const char* message;
  };
  using evstore::testing::json_gen;
  for (const auto& r : std::vector<row>{
         {json_gen::nested(127), "data: nesting deeper than 126"},
         {json_gen::nested(10'000), "data: nesting deeper than 126"},
         {"1e400", "data: number is not finite"},
         {"{\"a\":-1e400}", "data: number is not finite"},
         {"Infinity", "data: not valid JSON"},
         {"NaN", "data: not valid JSON"},
         {"\"\xff\"", "data: invalid UTF-8 in string"},
         {"{\"\xff\":0}", "data: invalid UTF-8 in key"},
         {"\"\\udc00\"", "data: lone surrogate"},
         {"{} {}", "data: not valid JSON"}}) {
    auto parsed = json_payload::parse(r.text);
    ASSERT_FALSE(parsed) << r.text.substr(0, 40);
    EXPECT_TRUE(is(parsed.error(), errc::invalid_event));
    EXPECT_NE(render(parsed.error()).find(r.message), std::string::npos) << render(parsed.error());
  }
  auto ok = json_payload::parse(" { \"n\" : 123456789012345678901234567890 , \"d\" : 0.10 } ");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->text(), R"({"n":123456789012345678901234567890,"d":0.10})");
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

TEST(Validation, RefusesAnActorOutsideTheEnumeration) {
  event ev;
  ev.type = "task:created";
  ev.actor = static_cast<actor_kind>(9); // as a peer could send it
  auto err = validate_for_append(ev);
  EXPECT_TRUE(is(err, errc::invalid_actor));
  EXPECT_NE(render(err).find("actor"), std::string::npos);
  ev.actor = actor_kind::system;
  EXPECT_FALSE(validate_for_append(ev));
}
