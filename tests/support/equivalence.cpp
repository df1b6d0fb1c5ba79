#include "equivalence.hpp"

#include <random>
#include <tuple>

#include "src/format/uuid.hpp"

namespace evstore::testing {

namespace {

const char* const types[] = {"agent:message", "task:state:running", "task:state:done",
                             "orchestrator:decision", "merge:queued", "human:message"};
const char* const prefixes[] = {"", "agent:", "task:", "task:state:", "orchestrator:", "merge:",
                                "none:"};

} // namespace

std::string code_of(const caf::error& err) {
  return err ? caf::to_string(err.category()) + "/" + std::to_string(err.code()) : "ok";
}

std::vector<std::string> ids_of(const std::vector<event>& events) {
  std::vector<std::string> out;
  for (const auto& ev : events)
    out.push_back(ev.id + " " + ev.type + " " + ev.task);
  return out;
}

std::vector<event> newest(const std::vector<event>& answer, uint64_t limit) {
  const auto n = std::min<uint64_t>(limit, answer.size());
  return {answer.end() - static_cast<std::ptrdiff_t>(n), answer.end()};
}

void run_equivalent_operations(store& a, store& b, uint64_t seed, int steps,
                               const query_check& check_query) {
  std::mt19937_64 rng{seed};
  const auto base = timestamp::now();
  std::vector<event> appended;
  auto task_of = [&] {
    auto n = rng() % 9;
    return n == 0 ? std::string{} : "task-" + std::to_string(n);
  };
  for (int step = 0; step < steps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const auto op = rng() % 100;
    if (op < 10) {
      // A batch: new events, some for a bad task, some retries of earlier ones.
      std::vector<append_request> batch;
      for (size_t k = 1 + rng() % 8; k > 0; --k) {
        event ev;
        if (!appended.empty() && rng() % 6 == 0) {
          ev = appended[rng() % appended.size()];
        } else {
          ev.id = make_uuid_v4();
          ev.task = rng() % 15 == 0 ? "bad/task" : task_of();
          ev.type = types[rng() % std::size(types)];
          ev.actor = actor_kind::agent;
          ev.ts = base + std::chrono::milliseconds{static_cast<int64_t>(rng() % 3000)};
        }
        batch.push_back(append_request{ev, caf::none});
      }
      auto ra = a.append_batch(batch);
      auto rb = b.append_batch(batch);
      ASSERT_EQ(code_of(ra), code_of(rb));
      ASSERT_TRUE(ra) << render(ra.error());
      ASSERT_EQ(ra->size(), batch.size());
      ASSERT_EQ(rb->size(), batch.size());
      for (size_t k = 0; k < batch.size(); ++k) {
        EXPECT_EQ(code_of((*ra)[k].error), code_of((*rb)[k].error)) << "batch item " << k;
        ASSERT_EQ(bool((*ra)[k].result), bool((*rb)[k].result)) << "batch item " << k;
        if ((*ra)[k].result) {
          EXPECT_EQ((*ra)[k].result->position, (*rb)[k].result->position);
          EXPECT_EQ((*ra)[k].result->duplicate, (*rb)[k].result->duplicate);
          if (!(*ra)[k].result->duplicate)
            appended.push_back(batch[k].ev);
        }
      }
    } else if (op < 55) {
      event ev;
      // A retry of an earlier id now and then: a duplicate, or a conflict if the content differs.
      if (!appended.empty() && rng() % 12 == 0) {
        ev = appended[rng() % appended.size()];
        if (rng() % 2)
          ev.type = "agent:message";
      } else {
        ev.id = make_uuid_v4();
        ev.task = task_of();
        ev.type = types[rng() % std::size(types)];
        ev.actor = actor_kind::agent;
        // Ties and out-of-order timestamps, over a few seconds.
        ev.ts = base + std::chrono::milliseconds{static_cast<int64_t>(rng() % 3000)};
        if (rng() % 25 == 0)
          ev.task = "bad/task";
      }
      caf::optional<uint64_t> expected;
      if (rng() % 8 == 0) {
        auto count = a.read_task(ev.task);
        expected = (count ? count->events.size() : 0) + (rng() % 3 == 0 ? 1 : 0);
      }
      auto ra = a.append(ev, expected);
      auto rb = b.append(ev, expected);
      ASSERT_EQ(code_of(ra), code_of(rb)) << render(ra ? caf::error{} : ra.error());
      if (ra) {
        EXPECT_EQ(ra->position, rb->position);
        EXPECT_EQ(ra->duplicate, rb->duplicate);
        if (!ra->duplicate)
          appended.push_back(ev);
      }
    } else if (op < 70) {
      auto task = rng() % 10 == 0 ? std::string{"no-such-task"} : task_of();
      uint64_t from = rng() % 6;
      auto ra = a.read_task(task, from);
      auto rb = b.read_task(task, from);
      ASSERT_EQ(code_of(ra), code_of(rb));
      if (ra) {
        EXPECT_EQ(ids_of(ra->events), ids_of(rb->events));
      }
    } else if (op < 88) {
      std::string prefix = prefixes[rng() % std::size(prefixes)];
      uint64_t limit = 1 + rng() % 12;
      caf::optional<timestamp> since;
      if (rng() % 3 == 0)
        since = base + std::chrono::milliseconds{static_cast<int64_t>(rng() % 3000)};
      auto ra = a.query_by_type_prefix(prefix, limit, since);
      auto rb = b.query_by_type_prefix(prefix, limit, since);
      ASSERT_EQ(code_of(ra), code_of(rb));
      if (!ra)
        continue;
      EXPECT_EQ(ids_of(ra->events), ids_of(rb->events)) << "prefix '" << prefix << "'";
      EXPECT_EQ(ra->positions, rb->positions);
      if (check_query)
        check_query(prefix, limit, since, *rb);
    } else if (op < 92) {
      bool system = rng() % 2;
      auto ra = a.list_tasks(system);
      auto rb = b.list_tasks(system);
      ASSERT_EQ(code_of(ra), code_of(rb));
      if (ra) {
        EXPECT_EQ(*ra, *rb);
      }
    } else if (op < 97) {
      retention_policy policy;
      policy.max_events = 1 + rng() % 6;
      policy.max_age = caf::none;
      bool dry = rng() % 3 == 0;
      if (rng() % 4 == 0) {
        auto ra = a.compact_all(policy, dry);
        auto rb = b.compact_all(policy, dry);
        ASSERT_EQ(code_of(ra), code_of(rb));
        if (ra) {
          EXPECT_EQ(std::tie(ra->removed, ra->kept), std::tie(rb->removed, rb->kept));
        }
      } else {
        auto task = task_of();
        auto ra = a.compact_task(task, policy, dry);
        auto rb = b.compact_task(task, policy, dry);
        ASSERT_EQ(code_of(ra), code_of(rb));
        if (ra) {
          EXPECT_EQ(std::tie(ra->removed, ra->kept), std::tie(rb->removed, rb->kept));
        }
      }
    } else {
      auto ra = a.cleanup_orphaned_tasks();
      auto rb = b.cleanup_orphaned_tasks();
      ASSERT_EQ(code_of(ra), code_of(rb));
      if (ra) {
        EXPECT_EQ(*ra, *rb);
      }
    }
  }
}

} // namespace evstore::testing
