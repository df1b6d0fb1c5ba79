// Compatibility with the Rust crate's closed list of event types (issue 10): the list is searchable,
// a store may refuse other types on append, and lines the crate would skip are named.
#include "src/format/crate_types.hpp"

#include <gtest/gtest.h>

#include "src/format/line_codec.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;

TEST(CrateTypes, TheListIsSortedAndHoldsTheCratesTypesOnly) {
  EXPECT_TRUE(rust_crate_types_sorted());
  for (auto type : {"task:created", "task:state:running", "agent:message", "merge:merging",
                    "system:accounting:tokens", "workspace:cleaned", "system:update:applying"})
    EXPECT_TRUE(is_rust_crate_type(type)) << type;
  for (auto type : {"task", "task:", "task:state", "task:state:runnin", "task:state:running:x",
                    "custom:thing", "", "zzz"})
    EXPECT_FALSE(is_rust_crate_type(type)) << type;
}

TEST(CrateTypes, NamesWhatTheCrateWouldSkip) {
  auto line = [](const std::string& type, const std::string& id, bool data) {
    return R"({"id":")" + id + R"(","type":")" + type
           + R"(","task":"t","actor":"agent","ts":"2026-01-02T03:04:05Z")"
           + (data ? R"(,"data":{})" : "") + "}";
  };
  const std::string uuid = "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a";
  struct row {
    std::string line;
    const char* expected; // substring of the reason, or nullptr: the crate reads it
  };
  for (const auto& r : std::vector<row>{
         {line("task:created", uuid, true), nullptr},
         {line("task:created", "0B7E5F9C-8A55-4D1E-9C3A-1F2E3D4C5B6A", true), nullptr},
         {line("task:created", "0b7e5f9c8a554d1e9c3a1f2e3d4c5b6a", true), nullptr},
         {line("custom:thing", uuid, true), "type not in the Rust crate's list"},
         {line("task:created", uuid, false), "no \"data\" field"},
         {line("task:created", "evt-1", true), "id is not a uuid"},
       }) {
    SCOPED_TRACE(r.line);
    auto d = decode_line(r.line);
    ASSERT_EQ(d.status, line_status::ok);
    bool has_data = r.line.find("\"data\"") != std::string::npos;
    const char* why = rust_crate_would_skip(d.ev, has_data);
    if (!r.expected)
      EXPECT_EQ(why, nullptr);
    else
      EXPECT_NE(std::string(why ? why : "").find(r.expected), std::string::npos);
  }
}

TEST_F(StoreTest, AStoreOpenedForTheCrateRefusesOtherTypesAndWritesNothing) {
  auto opts = options();
  opts.crate_types_only = true;
  auto db = open_store(opts);
  must_append(*db, make_event("t", "task:created"));
  const auto before = slurp(std::filesystem::path(root()) / "t" / "events.jsonl");
  auto res = db->append(make_event("t", "custom:thing"));
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::invalid_type)) << render(res.error());
  EXPECT_NE(render(res.error()).find("custom:thing"), std::string::npos);
  EXPECT_EQ(slurp(std::filesystem::path(root()) / "t" / "events.jsonl"), before);
}

TEST_F(StoreTest, AStoreOpenedWithoutTheOptionAcceptsAnyWellFormedType) {
  auto db = open_store();
  must_append(*db, make_event("t", "custom:thing"));
}
