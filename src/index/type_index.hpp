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

#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/internal/notifications.hpp"
#include "messages/internal/query_protocol.hpp"
#include "messages/store_stats.hpp"

namespace evstore {

class type_index {
public:
  explicit type_index(size_t sketch_size);

  void apply(const appended& note);
  /// Replaces everything known of the task.
  void apply(const task_summary& summary);
  void apply(const compacted& note);
  /// Adds the lines a writer read past what the index knew. False (and nothing changed) if the
  /// index does not know exactly `note.from_events` events of the task: the lines would not follow.
  bool apply(const task_extended& note);
  void remove_task(const std::string& task);

  /// True once a summary of `task` arrived (and it was not removed since).
  bool knows(const std::string& task) const;

  query_plan plan(const plan_request& req) const;

  /// Calls `fn` once per live task with everything known of it, as apply(task_summary) takes it
  /// back (types in no particular order): what a checkpoint saves.
  void for_each_task(const std::function<void(const task_summary&)>& fn) const;

  /// tasks, types, entries, events, bytes (population fields are the actor's).
  index_stats stats() const;

private:
  using task_id = uint32_t;

  struct pair_state {
    task_id task;
    type_summary s; // s.type stays empty: the type is the key of the entry holding the pair
  };

  /// One event type: its pairs in a flat vector (queries walk it), and where each task's pair is.
  struct type_entry {
    std::string name;
    std::vector<pair_state> pairs;
    std::unordered_map<task_id, uint32_t> slot;
  };

  struct task_record {
    std::string name;
    bool live = false;
    uint64_t file_id = 0;
    uint64_t events = 0;
    uint64_t bytes = 0;
    /// Entries this task has a pair in (map nodes never move).
    std::vector<type_entry*> types;
  };

  task_id intern(const std::string& task);
  type_entry& entry_of(const std::string& type);
  void forget_types_of(task_id id);

  size_t sketch_size_;
  std::map<std::string, type_entry, std::less<>> types_;
  std::vector<task_record> tasks_;
  std::unordered_map<std::string, task_id> task_ids_;
  uint64_t live_tasks_ = 0;
  uint64_t entries_ = 0;
};

} // namespace evstore
