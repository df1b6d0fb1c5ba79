#pragma once

// The index the index actor holds: per event type, the tasks that have it, each with a fixed-size
// summary (type_sketch.hpp). Memory grows with distinct (type, task) pairs, never with events; nothing
// is evicted and no cap can drop a result. Plain code, tested without actors.
//
// Planning a query (prefix P, limit K, since S): every matching pair contributes its recent line
// references; the K-th best of them (SPEC §3 order) is a bound no answer event can rank below. A pair
// whose older lines all rank below the bound is answered exactly by its recent references (one pread
// each); any other pair's task is scanned by its writer with the bound. Pairs whose newest event
// ranks below the bound are never asked.

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "evstore/messages/notifications.hpp"
#include "evstore/messages/query_messages.hpp"

namespace evstore {

class type_index {
public:
  explicit type_index(size_t sketch_size);

  void apply(const appended& note);
  /// Replaces everything known of the task.
  void apply(const task_summary& summary);
  void apply(const compacted& note);
  void remove_task(const std::string& task);

  /// True once a summary of `task` arrived (and it was not removed since).
  bool knows(const std::string& task) const {
    return tasks_.count(task) > 0;
  }

  query_plan plan(const plan_request& req) const;

  /// tasks, types, entries, events, bytes (population fields are the actor's).
  index_stats stats() const;

private:
  struct task_entry {
    uint64_t file_id = 0;
    uint64_t events = 0;
    /// Keys of types_ this task appears under (map keys never move).
    std::vector<const std::string*> types;
  };
  using pairs = std::unordered_map<std::string, type_summary>; // task -> summary

  void forget_types_of(const std::string& task, task_entry& entry);

  size_t sketch_size_;
  std::map<std::string, pairs, std::less<>> types_;
  std::unordered_map<std::string, task_entry> tasks_;
  uint64_t entries_ = 0;
};

} // namespace evstore
