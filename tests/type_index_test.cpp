#include "src/index/type_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <random>

#include "src/format/timestamp_format.hpp"
#include "src/index/type_sketch.hpp"
#include "support/sanitized.hpp"

using namespace evstore;
using evstore::testing::sanitized;

namespace {

timestamp sec(int s) {
  return timestamp{std::chrono::seconds{1'700'000'000 + s}};
}

// Text forms, so that a mismatch shows what differs. Plans are normalised: fetches by task, lines
// by offset (then the rest), since neither order means anything to the query.
std::string describe(timestamp ts) {
  return std::to_string(ts.seconds_since_epoch()) + "." + std::to_string(ts.nanoseconds());
}

std::string describe(const line_ref& line) {
  return "(" + describe(line.ts) + " #" + std::to_string(line.position) + " @"
         + std::to_string(line.offset) + ")";
}

std::string describe(const type_summary& s) {
  std::string out = s.type + " count " + std::to_string(s.count) + " newest " + describe(s.newest_ts);
  for (const auto& line : s.recent)
    out += " " + describe(line);
  if (s.has_older)
    out += " older " + describe(s.older_max_ts) + " #" + std::to_string(s.older_max_position);
  else
    out += " no older " + describe(s.older_max_ts) + " #" + std::to_string(s.older_max_position);
  return out;
}

std::string describe(task_summary t) {
  std::sort(t.types.begin(), t.types.end(),
            [](const type_summary& x, const type_summary& y) { return x.type < y.type; });
  std::string out = "task '" + t.task + "' file " + std::to_string(t.file_id) + " events "
                    + std::to_string(t.events) + " bytes " + std::to_string(t.bytes) + "\n";
  for (const auto& s : t.types)
    out += "  " + describe(s) + "\n";
  return out;
}

/// Everything for_each_task hands out, by task.
std::string dump(const type_index& index) {
  std::map<std::string, std::string> tasks;
  index.for_each_task([&](const task_summary& t) { tasks[t.task] = describe(t); });
  std::string out;
  for (const auto& [name, text] : tasks)
    out += text;
  return out;
}

std::string describe(query_plan plan) {
  std::string out = "bound ";
  out += plan.bound ? describe(plan.bound->ts) + " '" + plan.bound->task + "' #"
                        + std::to_string(plan.bound->position)
                    : std::string{"none"};
  std::sort(plan.fetches.begin(), plan.fetches.end(),
            [](const task_fetch& x, const task_fetch& y) { return x.task < y.task; });
  for (auto& f : plan.fetches) {
    std::sort(f.lines.begin(), f.lines.end(), [](const line_ref& x, const line_ref& y) {
      return std::tie(x.offset, x.position, x.ts) < std::tie(y.offset, y.position, y.ts);
    });
    out += "\n  '" + f.task + "' file " + std::to_string(f.file_id) + (f.scan ? " scan" : "");
    for (const auto& line : f.lines)
      out += " " + describe(line);
  }
  return out;
}

bool ranks_below(timestamp ts, const std::string& task, uint64_t position, const rank_key& key) {
  if (ts != key.ts)
    return ts < key.ts;
  return std::tie(task, position) < std::tie(key.task, key.position);
}

// The index as the plain structure type_index replaced: every pair's whole summary in maps, and a
// plan that walks every pair of every matching type. Slow and plainly right: the randomized test
// holds type_index to it.
class reference_index {
public:
  explicit reference_index(size_t sketch_size) : sketch_size_(sketch_size) {
  }

  void apply(const appended& note) {
    auto& t = tasks_[note.task];
    t.file_id = note.file_id;
    ++t.events;
    t.bytes = note.end;
    auto [it, added] = t.types.try_emplace(note.type);
    if (added)
      it->second.type = note.type;
    add_line_to_summary(it->second, note.line, sketch_size_);
  }

  void apply(const task_summary& summary) {
    auto& t = tasks_[summary.task];
    t = task_state{summary.file_id, summary.events, summary.bytes, {}};
    for (const auto& s : summary.types)
      t.types[s.type] = s;
  }

  bool apply(const task_extended& note) {
    auto it = tasks_.find(note.task);
    if (it == tasks_.end() || it->second.events != note.from_events
        || it->second.bytes != note.from_bytes || it->second.file_id != note.file_id)
      return false;
    for (const auto& line : note.lines)
      apply(appended{note.task, line.type, line.line, note.file_id, note.bytes});
    it->second.file_id = note.file_id;
    it->second.events = note.events;
    it->second.bytes = note.bytes;
    return true;
  }

  void remove_task(const std::string& task) {
    tasks_.erase(task);
  }

  uint64_t entries() const {
    uint64_t n = 0;
    for (const auto& [name, t] : tasks_)
      n += t.types.size();
    return n;
  }

  std::string dump() const {
    std::string out;
    for (const auto& [name, t] : tasks_) {
      task_summary summary{name, t.file_id, t.events, t.bytes, {}};
      for (const auto& [type, s] : t.types)
        summary.types.push_back(s);
      out += describe(summary);
    }
    return out;
  }

  // The plan as type_index states it: the first cut by the limit-th newest newest_ts (once there
  // are `limit` pairs), the second by the limit-th best recent line, complete pairs answered by
  // their lines and the others scanned.
  query_plan plan(const plan_request& req) const {
    query_plan out;
    if (req.limit == 0)
      return out;
    const size_t limit = req.limit;
    struct pair {
      const std::string* task;
      const task_state* t;
      const type_summary* s;
    };
    std::vector<pair> pairs;
    for (const auto& [name, t] : tasks_)
      for (const auto& [type, s] : t.types)
        if (type.compare(0, req.prefix.size(), req.prefix) == 0
            && (!req.since || s.newest_ts >= *req.since))
          pairs.push_back(pair{&name, &t, &s});
    timestamp floor = req.since ? *req.since : timestamp::min();
    if (pairs.size() >= limit) {
      std::vector<timestamp> newest;
      for (const auto& p : pairs)
        newest.push_back(p.s->newest_ts);
      std::sort(newest.rbegin(), newest.rend());
      floor = std::max(floor, newest[limit - 1]);
    }
    std::vector<rank_key> cands;
    for (const auto& p : pairs)
      if (p.s->newest_ts >= floor)
        for (const auto& line : p.s->recent)
          if (line.ts >= floor)
            cands.push_back(rank_key{line.ts, *p.task, line.position});
    if (cands.size() >= limit) {
      std::sort(cands.begin(), cands.end(), [](const rank_key& x, const rank_key& y) {
        return std::tie(x.ts, x.task, x.position) > std::tie(y.ts, y.task, y.position);
      });
      out.bound = cands[limit - 1];
    } else if (floor != timestamp::min()) {
      out.bound = rank_key{floor, std::string{}, 0};
    }
    std::map<std::string, task_fetch> fetches;
    for (const auto& p : pairs) {
      const auto& s = *p.s;
      if (s.newest_ts < floor || (out.bound && s.newest_ts < out.bound->ts))
        continue;
      auto& f = fetches[*p.task];
      f.task = *p.task;
      f.file_id = p.t->file_id;
      if (s.has_older
          && !(out.bound && ranks_below(s.older_max_ts, *p.task, s.older_max_position, *out.bound))) {
        f.scan = true;
        continue;
      }
      for (const auto& line : s.recent)
        if (!out.bound || !ranks_below(line.ts, *p.task, line.position, *out.bound))
          f.lines.push_back(line);
    }
    for (auto& [name, f] : fetches) {
      if (f.scan)
        f.lines.clear();
      if (f.scan || !f.lines.empty())
        out.fetches.push_back(f);
    }
    return out;
  }

private:
  struct task_state {
    uint64_t file_id = 0;
    uint64_t events = 0;
    uint64_t bytes = 0;
    std::map<std::string, type_summary> types;
  };
  size_t sketch_size_;
  std::map<std::string, task_state> tasks_;
};

class TypeIndexTest : public ::testing::Test {
protected:
  // Appends one line to `task` as a writer would report it.
  void add(const std::string& task, const std::string& type, int s) {
    auto& pos = positions_[task];
    index_.apply(appended{task, type, line_ref{sec(s), pos, pos * 100}, 1});
    ++pos;
  }

  const task_fetch* fetch_of(const query_plan& plan, const std::string& task) {
    for (const auto& f : plan.fetches)
      if (f.task == task)
        return &f;
    return nullptr;
  }

  type_index index_{2};
  std::map<std::string, uint64_t> positions_;
};

} // namespace

TEST_F(TypeIndexTest, LimitZeroPlansNothing) {
  add("a", "task:created", 1);
  EXPECT_TRUE(index_.plan(plan_request{"", 0, caf::none}).fetches.empty());
}

TEST_F(TypeIndexTest, PrefixMatchingOneTaskNamesOnlyThatTask) {
  for (int t = 0; t < 50; ++t)
    add("t" + std::to_string(t), "agent:message", t);
  add("t7", "rare:thing", 100);
  auto plan = index_.plan(plan_request{"rare:", 10, caf::none});
  ASSERT_EQ(plan.fetches.size(), 1u);
  EXPECT_EQ(plan.fetches[0].task, "t7");
  EXPECT_FALSE(plan.fetches[0].scan);
  ASSERT_EQ(plan.fetches[0].lines.size(), 1u);
  EXPECT_EQ(plan.fetches[0].lines[0].position, 1u);
}

TEST_F(TypeIndexTest, TasksWhoseNewestRanksBelowTheBoundAreNeverAsked) {
  add("old", "task:state:running", 1);
  add("old", "task:state:done", 2);
  add("new", "task:state:running", 10);
  add("new", "task:state:done", 11);
  auto plan = index_.plan(plan_request{"task:state:", 2, caf::none});
  ASSERT_TRUE(plan.bound);
  EXPECT_EQ(plan.bound->ts, sec(10));
  ASSERT_EQ(plan.fetches.size(), 1u);
  EXPECT_EQ(plan.fetches[0].task, "new");
  EXPECT_EQ(plan.fetches[0].lines.size(), 2u);
}

TEST_F(TypeIndexTest, PairWithOlderLinesThatMayQualifyIsScanned) {
  // Out of ts order in the file: the newest event fell out of the recent lines.
  add("a", "x:y", 50);
  add("a", "x:y", 1);
  add("a", "x:y", 2);
  add("b", "x:y", 40);
  auto plan = index_.plan(plan_request{"x:", 1, caf::none});
  ASSERT_TRUE(plan.bound);
  EXPECT_EQ(plan.bound->ts, sec(50)); // a's newest, though no longer among its recent lines
  auto* a = fetch_of(plan, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->scan);
  EXPECT_EQ(fetch_of(plan, "b"), nullptr); // b's newest (40) ranks below: never asked
}

TEST_F(TypeIndexTest, PairWhoseOlderLinesRankBelowTheBoundIsAnsweredByLines) {
  for (int i = 0; i < 10; ++i)
    add("a", "x:y", i);
  auto plan = index_.plan(plan_request{"x:", 2, caf::none});
  ASSERT_EQ(plan.fetches.size(), 1u);
  EXPECT_FALSE(plan.fetches[0].scan);
  EXPECT_EQ(plan.fetches[0].lines.size(), 2u);
}

TEST_F(TypeIndexTest, FewerRecentLinesThanTheLimitMeansScanningTasksWithOlderLines) {
  for (int i = 0; i < 10; ++i)
    add("a", "x:y", i);
  add("b", "x:z", 3);
  auto plan = index_.plan(plan_request{"x:", 100, caf::none});
  EXPECT_FALSE(plan.bound);
  EXPECT_TRUE(fetch_of(plan, "a")->scan);
  EXPECT_FALSE(fetch_of(plan, "b")->scan);
}

TEST_F(TypeIndexTest, SinceBoundsThePlan) {
  add("a", "x:y", 1);
  add("b", "x:y", 20);
  auto plan = index_.plan(plan_request{"x:", 100, sec(10)});
  ASSERT_TRUE(plan.bound);
  EXPECT_EQ(plan.bound->ts, sec(10));
  ASSERT_EQ(plan.fetches.size(), 1u);
  EXPECT_EQ(plan.fetches[0].task, "b");
}

TEST_F(TypeIndexTest, SummaryReplacesATaskAndRemovalForgetsIt) {
  add("a", "x:y", 1);
  add("a", "x:z", 2);
  add("b", "x:y", 3);
  EXPECT_EQ(index_.stats().entries, 3u);
  type_summary only{"q:r", 1, sec(5), {line_ref{sec(5), 0, 0}}, false, {}, 0};
  index_.apply(task_summary{"a", 2, 1, 100, {only}});
  auto st = index_.stats();
  EXPECT_EQ(st.entries, 2u);
  EXPECT_EQ(st.types, 2u); // x:z is gone with a's old content
  EXPECT_EQ(st.events, 2u);
  index_.remove_task("b");
  st = index_.stats();
  EXPECT_EQ(st.tasks, 1u);
  EXPECT_EQ(st.entries, 1u);
  EXPECT_FALSE(index_.knows("b"));
  EXPECT_TRUE(index_.plan(plan_request{"x:", 10, caf::none}).fetches.empty());
}

TEST_F(TypeIndexTest, MemoryGrowsWithPairsNotEvents) {
  for (int i = 0; i < 100; ++i)
    add("a", "x:y", i);
  auto small = index_.stats().bytes;
  for (int i = 0; i < 10'000; ++i)
    add("a", "x:y", i);
  EXPECT_EQ(index_.stats().bytes, small);
  EXPECT_EQ(index_.stats().events, 10'100u);
}

namespace {

const std::vector<std::string> mix_types = {
  "agent:message", "agent:error",      "task:state:running", "task:state:done", "task:updated",
  "merge:queued",  "orchestrator:why", "rare:once",          "system:tokens",
};
const std::vector<std::string> mix_prefixes = {"",      "agent:", "agent:message", "task:",
                                               "task:state:", "merge:", "rare:", "nothing:", "t"};

/// Random operations on a type_index and the reference at once: appends with tied and out-of-order
/// timestamps (a few before 1970 or after 2106), positions and offsets that sometimes jump past 32
/// bits, summaries (some not shaped as this sketch size would shape them), extensions (some that
/// do not follow), removals.
class random_ops {
public:
  /// `many_tasks` > 0: that many tasks instead of ten, so each type's order spans many chunks.
  random_ops(uint64_t seed, size_t sketch, size_t many_tasks = 0)
    : rng_(seed), sketch_(sketch), many_tasks_(many_tasks) {
  }

  std::string task() {
    if (many_tasks_ > 0)
      return "m" + std::to_string(rng_() % many_tasks_);
    static const std::vector<std::string> names = {
      "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "a-task-with-a-name-too-long-for-sso", ""};
    return names[rng_() % names.size()];
  }

  std::string type() {
    return mix_types[rng_() % mix_types.size()];
  }

  timestamp ts() {
    auto r = rng_() % 100;
    if (r == 0)
      return timestamp::from_parts(-1'000'000 - static_cast<int64_t>(rng_() % 100), 0);
    if (r == 1)
      return timestamp::from_parts(int64_t{1} << 33, static_cast<int64_t>(rng_() % 3));
    // Coarse: ties across and within tasks; sometimes nanoseconds apart.
    return sec(static_cast<int>(rng_() % 60)) + std::chrono::nanoseconds{rng_() % 3};
  }

  /// The next line of `task`'s file.
  line_ref next_line(const std::string& task) {
    auto& [position, offset] = files_[task];
    if (rng_() % 50 == 0)
      position += uint64_t{1} << (32 + rng_() % 30);
    if (rng_() % 50 == 0)
      offset += uint64_t{1} << (32 + rng_() % 30);
    line_ref line{ts(), position, offset};
    ++position;
    offset += 100 + rng_() % 200;
    return line;
  }

  appended append() {
    auto t = task();
    auto line = next_line(t);
    return appended{t, type(), line, 7, line.offset + 150};
  }

  task_summary summary() {
    auto t = task();
    files_.erase(t);
    // Usually what a writer's scan builds; sometimes a sketch of another size, and sometimes a
    // summary no sketch builds at all: both must be kept exactly as given.
    const auto r = rng_() % 10;
    sketch_builder builder{r == 0 ? sketch_ + 1 + rng_() % 2 : r == 1 ? 1 : sketch_};
    const int lines = static_cast<int>(rng_() % 12);
    for (int i = 0; i < lines; ++i)
      builder.add(type(), next_line(t));
    task_summary out{t, 3 + rng_() % 2, static_cast<uint64_t>(lines), 1000 + rng_() % 1000,
                     builder.finish()};
    if (!out.types.empty() && rng_() % 10 == 0)
      out.types.front().newest_ts = ts(); // not the newest of its lines
    if (!out.types.empty() && rng_() % 10 == 0)
      out.types.back().older_max_position = 5; // noise beside has_older = false, or a change
    return out;
  }

  task_extended extension(uint64_t known_events) {
    task_extended out{task(), 9, known_events, 0, 0, 0, {}};
    if (rng_() % 4 == 0)
      out.from_events += 1; // does not follow
    const int lines = static_cast<int>(rng_() % 5);
    for (int i = 0; i < lines; ++i)
      out.lines.push_back(typed_line{type(), next_line(out.task)});
    out.events = out.from_events + out.lines.size();
    out.bytes = 5000 + rng_() % 100;
    return out;
  }

  plan_request request() {
    static const uint64_t limits[] = {0, 1, 2, 3, 5, 10, 50, 1000};
    plan_request req{mix_prefixes[rng_() % mix_prefixes.size()], limits[rng_() % 8], caf::none};
    if (rng_() % 4 == 0)
      req.since = ts();
    return req;
  }

  /// `count` random operations on `index`: appends, one in ten a whole summary.
  void apply_some(type_index& index, int count) {
    for (int op = 0; op < count; ++op) {
      if (pick(10) == 0)
        index.apply(summary());
      else
        index.apply(append());
    }
  }

  uint64_t pick(uint64_t n) {
    return rng_() % n;
  }

private:
  std::mt19937_64 rng_;
  size_t sketch_;
  size_t many_tasks_;
  std::map<std::string, std::pair<uint64_t, uint64_t>> files_; // position, offset
};

/// The events the index knows of `task`, from its dump (0 if unknown).
file_extent extent_of(const type_index& index, const std::string& task) {
  file_extent out;
  index.for_each_file([&](const std::string& t, const file_extent& e) {
    if (t == task)
      out = e;
  });
  return out;
}

} // namespace

TEST(TypeIndexRandomTest, PlansLikeTheReferenceOverRandomOperations) {
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    const size_t sketch = 1 + seed % 4;
    random_ops ops{seed, sketch};
    type_index index{sketch};
    reference_index ref{sketch};
    for (int op = 0; op < 1500; ++op) {
      const auto dice = ops.pick(100);
      if (dice < 55) {
        auto note = ops.append();
        index.apply(note);
        ref.apply(note);
      } else if (dice < 62) {
        auto summary = ops.summary();
        if (dice % 2) {
          index.apply(summary);
          ref.apply(summary);
        } else {
          index.apply(compacted{summary.task, 1, summary});
          ref.apply(summary);
        }
      } else if (dice < 67) {
        auto note = ops.extension(0);
        const auto known = extent_of(index, note.task);
        note.from_events += known.events;
        note.events += known.events;
        // Mostly the file and bytes the index knows; now and then another file or length.
        note.file_id = ops.pick(8) == 0 ? known.file_id + 1 : known.file_id;
        note.from_bytes = ops.pick(8) == 0 ? known.bytes + 1 : known.bytes;
        ASSERT_EQ(index.apply(note), ref.apply(note)) << "seed " << seed << " op " << op;
      } else if (dice < 70) {
        auto t = ops.task();
        index.remove_task(t);
        ref.remove_task(t);
      } else {
        auto req = ops.request();
        ASSERT_EQ(describe(index.plan(req)), describe(ref.plan(req)))
          << "seed " << seed << " op " << op << " prefix '" << req.prefix << "' limit "
          << req.limit << (req.since ? " since " + describe(*req.since) : "");
      }
      if (op % 100 == 0) {
        ASSERT_EQ(dump(index), ref.dump()) << "seed " << seed << " op " << op;
        ASSERT_EQ(index.stats().entries, ref.entries()) << "seed " << seed << " op " << op;
      }
    }
    ASSERT_EQ(dump(index), ref.dump()) << "seed " << seed;
  }
}

TEST(TypeIndexRandomTest, ForEachTaskRoundTripsToAnIndexThatPlansIdentically) {
  // Under sanitizers seeds 1-3 only: three sketch sizes and, where threads vary, every count.
  for (uint64_t seed = 1; seed <= (sanitized ? 3u : 6u); ++seed) {
    const size_t sketch = 1 + seed % 4;
    random_ops ops{seed, sketch};
    type_index index{sketch};
    ops.apply_some(index, 1000);
    type_index copy{sketch};
    index.for_each_task([&](const task_summary& t) { copy.apply(t); });
    EXPECT_EQ(dump(copy), dump(index));
    EXPECT_EQ(copy.stats().entries, index.stats().entries);
    EXPECT_EQ(copy.stats().events, index.stats().events);
    EXPECT_EQ(copy.stats().tasks, index.stats().tasks);
    for (int q = 0; q < 200; ++q) {
      auto req = ops.request();
      ASSERT_EQ(describe(copy.plan(req)), describe(index.plan(req)))
        << "seed " << seed << " prefix '" << req.prefix << "' limit " << req.limit;
    }
  }
}

// A checkpoint's load: tasks applied in bulk (each type ordered once at the end), with other changes
// mixed in before end_bulk(), give an index that plans as the one built a pair at a time, and
// stays so as both take the same further operations; whether the types are ordered on one thread
// or on several (a checkpoint's loader uses two).
TEST(TypeIndexRandomTest, BulkLoadedIndexPlansIdenticallyNowAndAfterFurtherOperations) {
  // Under sanitizers seeds 1-3 only: three sketch sizes and, where threads vary, every count.
  for (uint64_t seed = 1; seed <= (sanitized ? 3u : 6u); ++seed) {
    const size_t threads = 1 + seed % 3;
    const size_t sketch = 1 + seed % 4;
    random_ops ops{seed, sketch, 2000};
    type_index source{sketch};
    ops.apply_some(source, 20000);
    std::vector<task_summary> tasks;
    source.for_each_task([&](const task_summary& t) { tasks.push_back(t); });
    // The same operations, in the same order, into an index in bulk and one a pair at a time.
    type_index bulk{sketch};
    type_index plain{sketch};
    bulk.begin_bulk();
    for (size_t i = 0; i < tasks.size(); ++i) {
      bulk.apply(tasks[i]);
      plain.apply(tasks[i]);
      if (i % 7 == 3) { // an append amid the load
        auto note = ops.append();
        bulk.apply(note);
        plain.apply(note);
      }
      if (i % 11 == 5) { // a task applied again: its old pairs leave an order not settled yet
        bulk.apply(tasks[i / 2]);
        plain.apply(tasks[i / 2]);
      }
    }
    bulk.end_bulk(threads);
    ASSERT_EQ(dump(bulk), dump(plain)) << "seed " << seed << ", " << threads << " threads";
    EXPECT_EQ(bulk.stats().entries, plain.stats().entries);
    for (int op = 0; op < 2000; ++op) {
      if (op % 3 == 0) {
        auto req = ops.request();
        ASSERT_EQ(describe(bulk.plan(req)), describe(plain.plan(req)))
          << "seed " << seed << " op " << op << " prefix '" << req.prefix << "'";
      } else if (ops.pick(10) == 0) {
        auto t = ops.summary();
        bulk.apply(t);
        plain.apply(t);
      } else {
        auto note = ops.append();
        bulk.apply(note);
        plain.apply(note);
      }
    }
    EXPECT_EQ(dump(bulk), dump(plain)) << "seed " << seed;
  }
}

// A population pass after a checkpoint: an index already ordered goes into bulk, takes every kind
// of change while its orders are unsettled (pairs that were ordered leave, pairs added meanwhile
// leave again, tasks are removed and come back), and plans as one changed a pair at a time once the
// pass ends; pass after pass.
TEST(TypeIndexRandomTest, AnOrderedIndexTakesEveryChangeInBulkAndPlansAsOneChangedPairByPair) {
  // Under sanitizers seeds 1-3 only: three sketch sizes and, where threads vary, every count.
  for (uint64_t seed = 1; seed <= (sanitized ? 3u : 6u); ++seed) {
    const size_t sketch = 1 + seed % 4;
    random_ops ops{seed, sketch, 300};
    type_index bulk{sketch};
    type_index plain{sketch};
    for (int pass = 0; pass < 4; ++pass) {
      if (pass > 0)
        bulk.begin_bulk();
      for (int op = 0; op < 3000; ++op) {
        const auto dice = ops.pick(100);
        if (dice < 60) {
          auto note = ops.append();
          bulk.apply(note);
          plain.apply(note);
        } else if (dice < 80) {
          auto summary = ops.summary();
          bulk.apply(compacted{summary.task, 1, summary});
          plain.apply(compacted{summary.task, 1, summary});
        } else if (dice < 90) {
          auto note = ops.extension(0);
          const auto known = extent_of(plain, note.task);
          note.from_events += known.events;
          note.events += known.events;
          note.file_id = known.file_id;
          note.from_bytes = known.bytes;
          ASSERT_EQ(bulk.apply(note), plain.apply(note)) << "seed " << seed << " op " << op;
        } else {
          auto t = ops.task();
          bulk.remove_task(t);
          plain.remove_task(t);
        }
      }
      EXPECT_EQ(bulk.stats().entries, plain.stats().entries) << "seed " << seed;
      bulk.end_bulk();
      ASSERT_EQ(dump(bulk), dump(plain)) << "seed " << seed << " pass " << pass;
      for (int q = 0; q < 300; ++q) {
        auto req = ops.request();
        ASSERT_EQ(describe(bulk.plan(req)), describe(plain.plan(req)))
          << "seed " << seed << " pass " << pass << " prefix '" << req.prefix << "' limit "
          << req.limit;
      }
    }
  }
}

// The checkpoint saver encodes a copy while the index goes on changing: the copy must share
// nothing with it (type names included) and plan as the original did when copied.
TEST(TypeIndexRandomTest, ACopyPlansAsTheOriginalDidAndIgnoresItsLaterChanges) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const size_t sketch = 1 + seed % 4;
    random_ops ops{seed, sketch, 500};
    auto index = std::make_unique<type_index>(sketch);
    for (int op = 0; op < 5000; ++op)
      index->apply(ops.append());
    const type_index copy{*index};
    const auto before = dump(*index);
    std::vector<std::pair<plan_request, std::string>> plans;
    for (int q = 0; q < 100; ++q) {
      auto req = ops.request();
      plans.emplace_back(req, describe(index->plan(req)));
    }
    for (int op = 0; op < 5000; ++op) // the original changes, new types included...
      index->apply(ops.pick(10) == 0 ? appended{"new-task", "brand:new:" + std::to_string(op % 7),
                                                line_ref{sec(op), uint64_t(op), uint64_t(op)}, 1, 1}
                                     : ops.append());
    index.reset(); // ...and is gone
    EXPECT_EQ(dump(copy), before);
    for (const auto& [req, want] : plans)
      ASSERT_EQ(describe(copy.plan(req)), want) << "seed " << seed << " prefix '" << req.prefix << "'";
  }
}

TEST_F(TypeIndexTest, TaskExtendedAddsTheLinesAfterWhatWasKnown) {
  add("a", "x:y", 1);
  add("a", "x:y", 2);
  add("a", "x:z", 3);
  task_extended note{"a", 1, 3, 0, 5, 777, {}}; // file 1, 0 bytes: what add() told the index
  note.lines.push_back(typed_line{"x:y", line_ref{sec(4), 3, 300}});
  note.lines.push_back(typed_line{"q:new", line_ref{sec(5), 4, 400}});
  ASSERT_TRUE(index_.apply(note));
  task_summary got;
  index_.for_each_task([&](const task_summary& t) { got = t; });
  EXPECT_EQ(got.file_id, 1u);
  EXPECT_EQ(got.events, 5u);
  EXPECT_EQ(got.bytes, 777u);
  auto st = index_.stats();
  EXPECT_EQ(st.entries, 3u);
  EXPECT_EQ(st.events, 5u);
  auto plan = index_.plan(plan_request{"x:y", 10, caf::none});
  ASSERT_EQ(plan.fetches.size(), 1u);
  EXPECT_TRUE(plan.fetches[0].scan); // three x:y lines, a sketch of two
  plan = index_.plan(plan_request{"q:", 10, caf::none});
  ASSERT_EQ(plan.fetches.size(), 1u);
  ASSERT_EQ(plan.fetches[0].lines.size(), 1u);
  EXPECT_EQ(plan.fetches[0].lines[0].offset, 400u);
  EXPECT_EQ(plan.fetches[0].file_id, 1u);
}

TEST_F(TypeIndexTest, TaskExtendedThatDoesNotFollowChangesNothing) {
  add("a", "x:y", 1);
  add("a", "x:y", 2);
  const auto before = dump(index_);
  const auto bytes = index_.stats().bytes;
  task_extended note{"a", 1, 3, 0, 4, 777, {typed_line{"x:y", line_ref{sec(4), 3, 300}}}};
  EXPECT_FALSE(index_.apply(note)); // the index knows 2 events, not 3
  note.from_events = 1;
  EXPECT_FALSE(index_.apply(note));
  note.from_events = 2;
  note.from_bytes = 5; // the index knows 0 bytes of file 1
  EXPECT_FALSE(index_.apply(note));
  note.from_bytes = 0;
  note.file_id = 2; // another file
  EXPECT_FALSE(index_.apply(note));
  note.task = "unknown";
  note.from_events = 0;
  EXPECT_FALSE(index_.apply(note));
  EXPECT_EQ(dump(index_), before);
  EXPECT_EQ(index_.stats().bytes, bytes);
  EXPECT_FALSE(index_.knows("unknown"));
}

TEST(TypeIndexWidthTest, PositionsOffsetsAndTimestampsOfAnyWidthStayExact) {
  type_index index{2};
  const uint64_t huge = std::numeric_limits<uint64_t>::max();
  const std::vector<line_ref> lines = {
    line_ref{timestamp::from_parts(-62'167'219'200, 0), 0, 0},                  // year 0000
    line_ref{timestamp::from_parts(253'402'300'799, 999'999'999), 1, uint64_t{1} << 33},
    line_ref{timestamp::from_parts(4'294'967'296, 1), (uint64_t{1} << 32) + 5, huge - 1},
    line_ref{timestamp::from_parts(-1, 999'999'999), huge, huge},
    line_ref{timestamp::max(), huge - 2, 3},
  };
  for (size_t i = 0; i < lines.size(); ++i)
    index.apply(appended{"w", "x:" + std::to_string(i), lines[i], 1, 2});
  // One type holding the two widest lines, and the older line beyond the sketch.
  index.apply(appended{"v", "y", lines[3], 1, 2});
  index.apply(appended{"v", "y", lines[2], 1, 2});
  index.apply(appended{"v", "y", lines[4], 1, 2});
  task_summary w;
  task_summary v;
  index.for_each_task([&](const task_summary& t) { (t.task == "w" ? w : v) = t; });
  std::sort(w.types.begin(), w.types.end(),
            [](const type_summary& x, const type_summary& y) { return x.type < y.type; });
  ASSERT_EQ(w.types.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_EQ(w.types[i].recent.size(), 1u);
    EXPECT_EQ(describe(w.types[i].recent[0]), describe(lines[i]));
    EXPECT_EQ(w.types[i].newest_ts, lines[i].ts);
  }
  ASSERT_EQ(v.types.size(), 1u);
  EXPECT_EQ(describe(v.types[0].recent[0]), describe(lines[2]));
  EXPECT_EQ(describe(v.types[0].recent[1]), describe(lines[4]));
  EXPECT_TRUE(v.types[0].has_older);
  EXPECT_EQ(v.types[0].older_max_ts, lines[3].ts);
  EXPECT_EQ(v.types[0].older_max_position, huge);
  EXPECT_EQ(v.types[0].newest_ts, timestamp::max());
  // The plan hands the exact lines out.
  auto plan = index.plan(plan_request{"x:", 10, caf::none});
  ASSERT_EQ(plan.fetches.size(), 1u);
  ASSERT_EQ(plan.fetches[0].lines.size(), lines.size());
  std::vector<std::string> got;
  std::vector<std::string> want;
  for (size_t i = 0; i < lines.size(); ++i) {
    got.push_back(describe(plan.fetches[0].lines[i]));
    want.push_back(describe(lines[i]));
  }
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  plan = index.plan(plan_request{"x:", 1, caf::none});
  ASSERT_TRUE(plan.bound);
  EXPECT_EQ(plan.bound->ts, timestamp::max());
}

TEST(TypeIndexOrderTest, OldTimestampsAppendedLatePlanExactly) {
  // Tasks appended in ts order, then lines with old ts (a client's backfill): the pairs they
  // create or move must still be found where their newest event ranks.
  type_index index{4};
  reference_index ref{4};
  std::map<std::string, uint64_t> positions;
  auto add = [&](const std::string& task, const std::string& type, timestamp ts) {
    auto& p = positions[task];
    appended note{task, type, line_ref{ts, p, p * 100}, 1, p * 100 + 100};
    ++p;
    index.apply(note);
    ref.apply(note);
  };
  for (int i = 0; i < 600; ++i)
    add("now-" + std::to_string(i % 300), "task:state:running", sec(1000 + i));
  for (int i = 0; i < 300; ++i) // older than everything, in descending order
    add("old-" + std::to_string(i), "task:state:done", sec(500 - i));
  for (int i = 0; i < 100; ++i) // in between, into tasks that exist
    add("now-" + std::to_string(i * 3), "task:state:done", sec(1000 + 6 * i) + std::chrono::milliseconds{1});
  for (uint64_t limit : {1, 5, 50, 100, 299, 300, 301, 700, 2000})
    for (const char* prefix : {"task:state:", "task:state:done", "task:state:running"}) {
      plan_request req{prefix, limit, caf::none};
      EXPECT_EQ(describe(index.plan(req)), describe(ref.plan(req))) << prefix << " " << limit;
      req.since = sec(400);
      EXPECT_EQ(describe(index.plan(req)), describe(ref.plan(req))) << prefix << " " << limit;
    }
}

TEST(TypeIndexMemoryTest, APairCostsUnderOneHundredBytes) {
  // 20,000 tasks of 20 types with 1 to 10 events each, as population loads them, then appends at
  // "now" to random pairs as live writers send them (moving pairs in their type's order and growing
  // records). stats().bytes counts every allocation the index holds.
  const size_t tasks = 20'000;
  const size_t types = 20;
  type_index index{default_sketch_size};
  std::mt19937_64 rng{7};
  std::vector<std::string> names;
  for (size_t t = 0; t < tasks; ++t)
    names.push_back("task-" + std::to_string(t) + "-0b1f9e");
  // One summary rewritten for every task: the test's own allocations stay out of its time.
  task_summary summary;
  for (size_t k = 0; k < types; ++k)
    summary.types.emplace_back().type
      = (k % 4 == 0 ? "task:state:" : "agent:kind-") + std::to_string(k);
  std::vector<uint64_t> positions(tasks, 0);
  const int64_t base = 1'780'000'000;
  for (size_t t = 0; t < tasks; ++t) {
    summary.task = names[t];
    summary.events = 0;
    for (size_t k = 0; k < types; ++k) {
      auto& s = summary.types[k];
      const uint64_t count = 1 + rng() % 10;
      // Lines of this type at every 20th position of the file, one a second apart. Lines before
      // the last sketch size + 1 leave no trace in the summary (ts only grows): skipped, counted.
      const uint64_t skipped = count > default_sketch_size + 1 ? count - default_sketch_size - 1 : 0;
      s.count = skipped;
      s.newest_ts = timestamp{};
      s.recent.clear();
      s.has_older = false;
      s.older_max_ts = timestamp{};
      s.older_max_position = 0;
      for (uint64_t i = skipped; i < count; ++i) {
        const uint64_t position = i * types + k;
        const auto ts = timestamp::from_parts(base + static_cast<int64_t>(position),
                                              static_cast<int64_t>(rng() % 1'000'000'000));
        add_line_to_summary(s, line_ref{ts, position, position * 180}, default_sketch_size);
      }
      summary.events += count;
      positions[t] = std::max(positions[t], (count - 1) * types + k + 1);
    }
    index.apply(summary);
  }
  for (uint64_t i = 0; i < 40'000; ++i) {
    const size_t t = rng() % tasks;
    const uint64_t p = positions[t]++;
    const auto ts = timestamp::from_parts(base + 1000 + static_cast<int64_t>(i / 100),
                                          static_cast<int64_t>(i % 100) * 10'000'000);
    index.apply(appended{names[t], summary.types[rng() % types].type, line_ref{ts, p, p * 180}, 1,
                         p * 180 + 180});
  }
  const auto st = index.stats();
  ASSERT_EQ(st.entries, tasks * types);
  const double per_pair = static_cast<double>(st.bytes) / static_cast<double>(st.entries);
  RecordProperty("bytes_per_pair", std::to_string(per_pair));
  EXPECT_LT(per_pair, 100.0);
}

// The one test of the index that runs threads (a checkpoint's load orders its types on two), small
// enough for TSan, which skips the TypeIndex*Test suites: ordering the types of a bulk load on
// several threads gives the index one thread gives.
TEST(TypeIndexThreads, BulkOrderedOnSeveralThreadsPlansAsOnOne) {
  random_ops ops{7, 2, 300};
  type_index source{2};
  ops.apply_some(source, 3000);
  std::vector<task_summary> tasks;
  source.for_each_task([&](const task_summary& t) { tasks.push_back(t); });
  for (size_t threads : {2u, 3u, 8u}) {
    type_index one{2};
    type_index several{2};
    for (auto* index : {&one, &several}) {
      index->begin_bulk();
      for (const auto& t : tasks)
        index->apply(t);
    }
    one.end_bulk(1);
    several.end_bulk(threads);
    EXPECT_EQ(dump(several), dump(one)) << threads << " threads";
    for (int i = 0; i < 200; ++i) { // the orders, through the plans they give
      auto req = ops.request();
      ASSERT_EQ(describe(several.plan(req)), describe(one.plan(req)))
        << threads << " threads, prefix '" << req.prefix << "'";
    }
  }
}
