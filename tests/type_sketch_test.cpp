#include "src/index/type_sketch.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

using namespace evstore;

namespace {

// The builder must give exactly the summaries of the plainest way to build them: a map from type
// to summary, each line added by add_line_to_summary.
std::map<std::string, type_summary> by_map(const std::vector<std::pair<std::string, line_ref>>& lines,
                                           size_t sketch) {
  std::map<std::string, type_summary> out;
  for (const auto& [type, line] : lines) {
    auto& s = out[type];
    s.type = type;
    add_line_to_summary(s, line, sketch);
  }
  return out;
}

void expect_same(const std::vector<type_summary>& got, const std::map<std::string, type_summary>& want) {
  ASSERT_EQ(got.size(), want.size());
  auto it = want.begin();
  for (const auto& s : got) { // sorted by type, as the map is
    const auto& w = (it++)->second;
    ASSERT_EQ(s.type, w.type);
    EXPECT_EQ(s.count, w.count) << s.type;
    EXPECT_EQ(s.newest_ts, w.newest_ts) << s.type;
    EXPECT_EQ(s.has_older, w.has_older) << s.type;
    EXPECT_EQ(s.older_max_ts, w.older_max_ts) << s.type;
    EXPECT_EQ(s.older_max_position, w.older_max_position) << s.type;
    ASSERT_EQ(s.recent.size(), w.recent.size()) << s.type;
    for (size_t i = 0; i < s.recent.size(); ++i) {
      EXPECT_EQ(s.recent[i].ts, w.recent[i].ts) << s.type;
      EXPECT_EQ(s.recent[i].position, w.recent[i].position) << s.type;
      EXPECT_EQ(s.recent[i].offset, w.recent[i].offset) << s.type;
    }
  }
}

} // namespace

// Few types in runs (a task's usual file), and many (a file with a type per line past the point
// where the builder stops comparing and looks types up by hash): the same summaries either way,
// and a builder reused after finish() starts empty.
TEST(SketchBuilderTest, BuildsWhatAMapOfSummariesBuildsForFewTypesAndForThousands) {
  std::mt19937_64 rng{7};
  for (size_t types : {1, 5, 20, 32, 33, 34, 100, 3000}) {
    const size_t sketch = 1 + types % 4;
    sketch_builder builder{sketch};
    for (int round = 0; round < 2; ++round) {
      std::vector<std::pair<std::string, line_ref>> lines;
      std::string type = "t0";
      for (uint64_t i = 0; i < 4 * types + 50; ++i) {
        if (rng() % 3 == 0) // a run of one type, then another
          type = (rng() % 2 ? "agent:type:" : "t") + std::to_string(rng() % types);
        auto ts = timestamp{std::chrono::seconds{1'700'000'000 + static_cast<int64_t>(rng() % 100)}};
        lines.emplace_back(type, line_ref{ts, i, i * 120});
      }
      for (const auto& [t, line] : lines)
        builder.add(t, line);
      expect_same(builder.finish(), by_map(lines, sketch));
    }
  }
}
