// Store options that make no sense are refused on open, naming the field, and nothing is created.
#include <filesystem>
#include <functional>

#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

TEST_F(StoreTest, NonsensicalOptionsAreRefusedByNameAndCreateNothing) {
  struct row {
    const char* field;
    std::function<void(store_options&)> set;
  };
  const size_t wrapped = static_cast<size_t>(-1); // what "-1" becomes in a size_t
  const std::vector<row> rows = {
    {"max_line_bytes", [](store_options& o) { o.max_line_bytes = 0; }},
    {"max_line_bytes", [&](store_options& o) { o.max_line_bytes = wrapped; }},
    {"max_line_bytes", [](store_options& o) { o.max_line_bytes = (size_t{64} << 20) + 2; }},
    {"max_open_files", [&](store_options& o) { o.max_open_files = wrapped; }},
    {"dedupe_window", [&](store_options& o) { o.dedupe_window = wrapped; }},
    {"index_sketch_size", [](store_options& o) { o.index_sketch_size = 0; }},
    {"index_sketch_size", [&](store_options& o) { o.index_sketch_size = wrapped; }},
    {"fetch_cache_lines", [&](store_options& o) { o.fetch_cache_lines = wrapped; }},
    {"population_window", [](store_options& o) { o.population_window = 0; }},
    {"population_window", [&](store_options& o) { o.population_window = wrapped; }},
    {"writer_idle_timeout",
     [](store_options& o) { o.writer_idle_timeout = std::chrono::milliseconds{-1}; }},
    {"external_change_check",
     [](store_options& o) { o.external_change_check = std::chrono::milliseconds{-5}; }},
    {"root", [](store_options& o) { o.root.clear(); }},
    // A cluster's node: a membership only for a served store, and with the member it is.
    {"serve_cluster", [](store_options& o) { o.serve_cluster = "cluster.conf"; o.serve_as = {"a"}; }},
    {"serve_as", [](store_options& o) {
       o.serve = true;
       o.serve_cluster = "cluster.conf";
     }},
    {"serve_as", [](store_options& o) { o.serve_as = {"a"}; }},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.field);
    auto opts = options();
    r.set(opts);
    auto db = store::open(opts);
    ASSERT_FALSE(db);
    EXPECT_TRUE(is(db.error(), errc::invalid_argument)) << render(db.error());
    EXPECT_NE(render(db.error()).find(r.field), std::string::npos) << render(db.error());
    EXPECT_FALSE(fs::exists(root()));
  }
}

TEST_F(StoreTest, TheLimitsOfEveryRangeAreAccepted) {
  auto opts = options();
  opts.max_line_bytes = (size_t{64} << 20) + 1;
  opts.index_sketch_size = 1024;
  opts.population_window = 1;
  opts.writer_idle_timeout = std::chrono::milliseconds{0};
  opts.external_change_check = std::chrono::milliseconds{0};
  opts.dedupe_window = 0;
  auto db = store::open(opts);
  ASSERT_TRUE(db) << render(db.error());
  must_append(**db, make_event("t", "task:created"));
}
