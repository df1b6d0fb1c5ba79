#pragma once

// One bus subscription's bookkeeping, without actors so it can be tested alone. The bus actor feeds
// it live events (in per-task order), history and disk reads, and sends what take_sendable() returns.
//
// Flow control: at most `buffer` events are queued or unacknowledged ("backlog"). A live event that
// finds the backlog full overflows:
//  - catch-up policy: its task turns "behind": from then on the task's live events are ignored and
//    the bus reads them from disk, in chunks that fit the buffer, starting at the first position not
//    delivered. A read that reaches the end of the file puts the task back on live events. Because
//    the writer sends its event_written notifications and its read replies to the bus through one
//    ordered channel, an event is either in a read or arrives live after it: no gap, no duplicate.
//  - drop policy: the event is skipped and counted; the subscriber gets lagged{missed} before the
//    next event it does receive.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "messages/bus_messages.hpp"

namespace evstore {

/// Something to send to the subscriber.
struct outgoing {
  enum class kind { event, caught_up, lagged };
  kind what = kind::event;
  event ev;
  uint64_t position = 0;
  uint64_t missed = 0;
};

/// A chunk of one task's events to read from disk for the subscription.
struct disk_read {
  std::string task;
  uint64_t from = 0;
  uint64_t max_events = 0;
};

class subscription_flow {
public:
  subscription_flow(uint64_t id, subscription_filter filter, uint32_t buffer, bool drop_on_overflow);

  uint64_t id() const {
    return id_;
  }
  const subscription_filter& filter() const {
    return filter_;
  }
  bool matches(const event& ev) const;

  /// Catch up on the filter's task from position `from` (read from disk), then send caught_up.
  void start_task_catch_up(uint64_t from);
  /// Catch up through a history the bus fetches; live events are held (within the buffer) until
  /// on_history.
  void start_history_catch_up();
  /// The history, oldest first, with each event's position. Queues it, then caught_up, then the
  /// live events held meanwhile that the history did not contain.
  void on_history(std::vector<event> events, std::vector<uint64_t> positions);

  /// A live event, in its task's order.
  void on_live(const event& ev, uint64_t position);
  /// `task` was compacted: `removed` of its oldest events are gone, so positions shifted down.
  void on_compacted(const std::string& task, uint64_t removed);
  /// The subscriber handled `count` events.
  void on_ack(uint64_t count);

  /// The next disk read to make, if a task is behind, nothing is being read and the buffer has room.
  std::optional<disk_read> next_read();
  /// The reply to the read next_read() returned: events from `r.from` on.
  void on_read(const disk_read& r, std::vector<event> events);
  /// The read failed; the task stays behind and is read again later.
  void on_read_failed();

  /// What to send now, in order; events only as far as the buffer allows unacknowledged ones.
  std::vector<outgoing> take_sendable();

  /// Events queued or sent but not acknowledged.
  uint64_t backlog() const {
    return queued_events_ + in_flight_;
  }
  uint64_t recoveries() const {
    return recoveries_;
  }
  uint64_t dropped() const {
    return dropped_;
  }
  bool behind() const {
    return !behind_.empty();
  }

private:
  void queue_event(const event& ev, uint64_t position);
  void overflow(const event& ev, uint64_t position);
  void forget_history_when_done();

  uint64_t id_;
  subscription_filter filter_;
  uint64_t buffer_;
  bool drop_on_overflow_;

  std::deque<outgoing> outbox_;
  uint64_t queued_events_ = 0;
  uint64_t in_flight_ = 0;

  /// Tasks read from disk instead of live: task -> first position not yet delivered.
  std::map<std::string, uint64_t> behind_;
  std::optional<disk_read> reading_;
  /// A compaction of the task being read arrived before the reply: the reply's positions are stale.
  bool reading_stale_ = false;

  bool awaiting_history_ = false;
  bool caught_up_after_task_read_ = false;
  /// Live events held while the history is fetched.
  std::vector<std::pair<event, uint64_t>> held_;
  /// Ids the history delivered; what disk reads and held events must not deliver again.
  std::unordered_set<std::string> history_ids_;

  uint64_t missed_ = 0;
  uint64_t recoveries_ = 0;
  uint64_t dropped_ = 0;
};

} // namespace evstore
