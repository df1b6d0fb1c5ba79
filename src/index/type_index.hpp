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
//
// Size and speed (issue 12): a store holds up to ~100,000 tasks of ~20 types each, so a pair must
// cost well under 100 bytes and a query must not walk every pair. Hence:
// - A pair lives in its task's `pairs` bytes, encoded compactly (type_index.cpp, "pair records"):
//   the references it has and no more, each as varint differences from the previous one (about 9
//   bytes instead of a line_ref's 32), exact for any 64-bit value. A summary not shaped as this
//   index's sketch would shape it (a checkpoint of another sketch size) is kept whole in `wide_`.
// - Each type keeps its pairs ordered by their newest event (`pair_order`), so a plan visits pairs
//   newest first across the matching types and stops once no further pair can reach the answer.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <unordered_map>
#include <vector>

#include "messages/internal/notifications.hpp"
#include "messages/internal/query_protocol.hpp"
#include "messages/store_stats.hpp"

namespace evstore {

class type_index {
public:
  explicit type_index(size_t sketch_size);
  /// A copy that shares nothing with `other` (a checkpoint is encoded from one, on another thread,
  /// while the original goes on changing).
  type_index(const type_index& other);
  type_index& operator=(const type_index&) = delete;

  void apply(const appended& note);
  /// Replaces everything known of the task.
  void apply(const task_summary& summary);
  void apply(const compacted& note);
  /// Adds the lines a writer read past what the index knew. False (and nothing changed) if the
  /// index does not know exactly `note.from_events` events in the first `note.from_bytes` bytes of
  /// file `note.file_id`: the lines would not follow.
  bool apply(const task_extended& note);
  void remove_task(const std::string& task);

  /// Loading many tasks at once (a checkpoint, a population pass): between begin_bulk() and
  /// end_bulk(), every change leaves its type's order unsettled, and end_bulk() sorts each type's
  /// changes and merges them in once (2 M pairs: a sort instead of 2 M ordered insertions into
  /// chunks, a third of a 100,000-task reopen and 6% of a cold open's CPU). Appends racing a pass
  /// cost no more meanwhile. plan() needs end_bulk() first. With `threads` > 1 the types are
  /// ordered on that many threads (a loader that owns its thread; never an actor, whose thread is
  /// the scheduler's): the sort is a fifth of a 100,000-task reopen.
  void begin_bulk();
  void end_bulk(size_t threads = 1);

  /// True once a summary of `task` arrived (and it was not removed since).
  bool knows(std::string_view task) const;

  /// Nothing was ever added: no type, no task (what a checkpoint loads into).
  bool empty() const;

  /// Line references kept per pair.
  size_t sketch_size() const {
    return sketch_size_;
  }

  query_plan plan(const plan_request& req) const;

  /// Calls `fn` once per live task with everything known of it, as apply(task_summary) takes it
  /// back (types in no particular order): what a checkpoint saves.
  void for_each_task(const std::function<void(const task_summary&)>& fn) const;

  /// Calls `fn` once per live task with what is known of its file, without its summaries: what a
  /// population pass compares with the files on disk.
  void for_each_file(const std::function<void(const std::string&, const file_extent&)>& fn) const;

  /// A task as a checkpoint keeps it (index_checkpoint.hpp): its file, and its pair records byte for
  /// byte as this index holds them (type ids are this index's; type_names() names them), with the
  /// summaries the records keep whole beside them. Saving and loading then copy bytes instead of
  /// decoding 2 M summaries and encoding them again.
  struct stored_task {
    std::string_view name;
    uint64_t file_id = 0;
    uint64_t events = 0;
    uint64_t bytes = 0;
    std::string_view records;
    std::vector<std::pair<uint32_t, type_summary>> wide;
  };

  /// The names of the types that have pairs, in type-id order: what a checkpoint saves. A type
  /// all of whose tasks were removed is left out, so it does not outlive a restart.
  std::vector<std::string> type_names() const;
  /// Calls `fn` once per live task, in the order tasks were first known, its records' type ids
  /// renumbered as places in type_names() (the records are copied only when a type is left out).
  void for_each_stored_task(const std::function<void(const stored_task&)>& fn) const;
  /// Loading a checkpoint into an empty index: first its types, in type-id order (false if the
  /// index is not empty or a name repeats), then each task once with adopt(). Call begin_bulk()
  /// first, as for any load.
  bool adopt_types(const std::vector<std::string>& names);
  /// False, and nothing changed, unless every record parses as this index reads them (lengths
  /// within the bytes, known type ids in ascending order, a count, every line the count implies,
  /// nanoseconds below a second, nothing left over) and the wide summaries are exactly those the
  /// records point to; also false for a task already known. What it accepts, the index can walk;
  /// it need not be what encode() would have written (a varint longer than it needs, a summary
  /// kept whole that would fit a compact record), which changes nothing a query sees.
  bool adopt(const stored_task& task);

  /// tasks, types, entries, events, bytes (population fields are the actor's).
  index_stats stats() const;

private:
  using task_id = uint32_t;
  using type_id = uint32_t;

  /// One pair in its type's order: the pair's newest ts (clamped to what 32-bit seconds hold, so
  /// every ts before 1970 or after 2106 shares a key at either end: the plan reads the exact ts
  /// from the pair), and its task.
  struct order_entry {
    uint32_t seconds;
    uint32_t nanos;
    task_id task;

    static order_entry of(timestamp newest, task_id task);

    /// The entry's ts ranks below `other`'s (their tasks aside).
    bool older_than(const order_entry& other) const {
      return std::tie(seconds, nanos) < std::tie(other.seconds, other.nanos);
    }
    friend bool operator<(const order_entry& x, const order_entry& y) {
      return std::tie(x.seconds, x.nanos, x.task) < std::tie(y.seconds, y.nanos, y.task);
    }
    friend bool operator==(const order_entry& x, const order_entry& y) {
      return x.seconds == y.seconds && x.nanos == y.nanos && x.task == y.task;
    }
  };

  /// A type's pairs sorted by (newest ts, task), in chunks of at most `chunk_capacity` entries: an append
  /// (a pair's newest becoming the newest of all) is a push_back on the last chunk, any other move
  /// costs a binary search and a shift within one chunk, and the plan walks from the back.
  class pair_order {
  public:
    static constexpr size_t chunk_capacity = 128;
    using chunk = std::vector<order_entry>;

    void insert(order_entry e);
    void erase(order_entry e);
    /// Adds `e` without ordering it yet: chunks() is incomplete until settle().
    void add_unordered(order_entry e);
    /// Takes out `e` (added before, ordered or not) without ordering anything yet.
    void erase_unordered(order_entry e);
    /// Applies what add_unordered and erase_unordered deferred, in one merge with the chunks;
    /// insert() and erase() do it first themselves.
    void settle();
    size_t size() const {
      return size_;
    }
    const std::vector<chunk>& chunks() const {
      return chunks_;
    }
    uint64_t heap_bytes() const;

  private:
    /// The chunk that holds `e`, or where it belongs; chunks_ must not be empty.
    size_t chunk_for(order_entry e) const;

    std::vector<chunk> chunks_;
    /// Each chunk's last entry, side by side: the binary search for a chunk reads this one array
    /// instead of one heap block per probe.
    std::vector<order_entry> lasts_;
    /// Deferred additions and removals: the order is the chunks plus `unordered_` minus
    /// `removed_`, counted as multisets (a pair added and taken out again while deferred cancels).
    std::vector<order_entry> unordered_;
    std::vector<order_entry> removed_;
    size_t size_ = 0;
  };

  struct type_entry {
    const std::string* name; // the key of by_name_ (map nodes never move)
    pair_order order;
  };

  struct task_record {
    std::string name;
    uint64_t file_id = 0;
    uint64_t events = 0;
    uint64_t bytes = 0;
    /// The task's pair records, sorted by type (type_index.cpp, "pair records").
    std::vector<uint8_t> pairs;
    bool live = false;
  };

  /// Where a pair's record starts in its task's bytes, or where it would go.
  struct record_at {
    size_t at;
    bool found;
  };

  task_id intern(const std::string& task);
  /// The slot of task_slots_ holding `task`'s id, or the empty slot where it would go.
  size_t task_slot(std::string_view task) const;
  const task_record* live_task(std::string_view task) const;
  type_id type_of(const std::string& type);

  record_at find_record(const std::vector<uint8_t>& bytes, type_id type) const;
  /// The pair's summary (`out.type` left empty); false if the task has no such pair.
  bool load(task_id task, type_id type, type_summary& out) const;
  /// Reads the record at `rec` into `out` if not null; returns the pair's newest ts.
  timestamp read_record(task_id task, const uint8_t* rec, type_summary* out) const;
  /// Appends `s`'s record to `out`: compact if it decodes back to `s` exactly, else one that
  /// points to wide_ (the caller fills that).
  bool encode(type_id type, const type_summary& s, std::vector<uint8_t>& out);
  /// Makes `s` the summary of the pair whose record find_record placed at `rec`, adding the pair
  /// if new: its record, its wide_ entry and its place in the type's order.
  void store(task_id task, type_id type, record_at rec, const type_summary& s);
  void forget_types_of(task_id id);
  /// The type's order gains or loses `e`: at once, or deferred between begin_bulk and end_bulk.
  void order_insert(type_id type, order_entry e);
  void order_erase(type_id type, order_entry e);

  static uint64_t wide_key(task_id task, type_id type) {
    return uint64_t{task} << 32 | type;
  }

  size_t sketch_size_;
  std::map<std::string, type_id, std::less<>> by_name_;
  std::vector<type_entry> types_;
  std::vector<task_record> tasks_;
  /// Open addressing over task ids, at most half full: 4 bytes a slot where an
  /// unordered_map<string, task_id> costs a node and a second copy of the name (~100 bytes a task).
  std::vector<task_id> task_slots_;
  /// Summaries the compact records cannot hold exactly, by wide_key.
  std::unordered_map<uint64_t, type_summary> wide_;
  /// Reused by apply(appended) so the hot path allocates nothing.
  type_summary scratch_;
  std::vector<uint8_t> scratch_record_;
  std::vector<uint8_t> scratch_body_;
  uint64_t live_tasks_ = 0;
  uint64_t entries_ = 0;
  bool bulk_ = false;
};

} // namespace evstore
