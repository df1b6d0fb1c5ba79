#pragma once

// A task_log on a temp store root, with an observer that records what it reports: shared by the
// tests of the log's append and read path and those of its compaction.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/format/timestamp_format.hpp"
#include "src/storage/store_layout.hpp"
#include "src/storage/task_log.hpp"
#include "temp_dir.hpp"

namespace evstore::testing {

inline timestamp at(const char* text) {
  return *parse_rfc3339(text);
}

/// Records what a task_log reports, in order.
struct recorder : task_log_observer {
  std::vector<task_summary> loaded;
  std::vector<appended> appends;
  std::vector<compacted> compactions;
  std::vector<task_removed> removals;
  std::vector<task_extended> extensions;
  void on_loaded(task_summary x) override {
    loaded.push_back(std::move(x));
  }
  void on_extended(task_extended x) override {
    extensions.push_back(std::move(x));
  }
  void on_appended(const appended& x) override {
    appends.push_back(x);
  }
  void on_compacted(const compacted& x) override {
    compactions.push_back(x);
  }
  void on_removed(const task_removed& x) override {
    removals.push_back(x);
  }
};

class TaskLogTest : public ::testing::Test {
protected:
  std::shared_ptr<const store_root> root_handle() {
    auto root = store_root::open(dir_.str(), true);
    EXPECT_TRUE(root) << render(root.error());
    return *root;
  }

  std::unique_ptr<task_log> make_log(const std::string& task = "t1", size_t slots = 8) {
    task_log_config cfg;
    cfg.fds = std::make_shared<fd_budget>(slots);
    cfg.root = root_handle();
    cfg.max_line_bytes = max_line_bytes_;
    return std::make_unique<task_log>(dir_.str(), task, cfg, &seen_);
  }

  /// A new log of t1 that starts from `known` (as a retiring writer hands it on) and populates, with
  /// only what that reports in seen_.
  std::unique_ptr<task_log> populated_from(const file_extent& known) {
    seen_ = recorder{};
    auto next = make_log();
    next->assume_known(known);
    EXPECT_TRUE(next->populate());
    return next;
  }

  static event make_event(const std::string& task, const std::string& type,
                          caf::optional<timestamp> ts = caf::none) {
    event ev;
    ev.task = task;
    ev.type = type;
    ev.actor = actor_kind::agent;
    ev.ts = ts;
    ev.data = boost::json::object{{"n", 1}};
    return ev;
  }

  append_result append_ok(task_log& log, event ev) {
    auto res = log.append(append_request{std::move(ev), caf::none});
    EXPECT_TRUE(res) << render(res.error());
    return res ? *res : append_result{};
  }

  std::string file(const std::string& task = "t1") {
    return events_path(dir_.str(), task);
  }

  temp_dir dir_;
  recorder seen_;
  size_t max_line_bytes_ = size_t{1} << 20;
};

} // namespace evstore::testing
