#include "subscription_flow.hpp"

#include <algorithm>

namespace evstore {

subscription_flow::subscription_flow(uint64_t id, subscription_filter filter, uint32_t buffer,
                           bool drop_on_overflow)
  : id_(id),
    filter_(std::move(filter)),
    buffer_(std::max<uint32_t>(buffer, 1)),
    drop_on_overflow_(drop_on_overflow) {
}

bool subscription_flow::matches(const event& ev) const {
  return evstore::matches(filter_, ev);
}

void subscription_flow::start_task_catch_up(uint64_t from) {
  behind_[filter_.task.value_or("")] = from;
  caught_up_after_task_read_ = true;
}

void subscription_flow::start_history_catch_up() {
  awaiting_history_ = true;
}

void subscription_flow::on_history(std::vector<event> events, std::vector<uint64_t> positions) {
  awaiting_history_ = false;
  for (size_t i = 0; i < events.size(); ++i) {
    if (!matches(events[i]))
      continue;
    history_ids_.insert(events[i].id);
    // History is what the subscriber asked for, so it may exceed the buffer; only its sending is
    // paced by acknowledgements.
    queue_event(events[i], i < positions.size() ? positions[i] : 0);
  }
  outbox_.push_back(outgoing{outgoing::kind::caught_up, {}, 0, 0});
  auto held = std::move(held_);
  held_.clear();
  // Held events precede, in their task, any position a task fell behind at, so they go first.
  for (auto& [ev, position] : held)
    if (!history_ids_.count(ev.id))
      queue_event(ev, position);
  forget_history_when_done();
}

void subscription_flow::on_live(const event& ev, uint64_t position) {
  if (!matches(ev) || behind_.count(ev.task) || history_ids_.count(ev.id))
    return; // a task that is behind gets this event from disk
  if (awaiting_history_) {
    if (held_.size() < buffer_)
      held_.emplace_back(ev, position);
    else
      overflow(ev, position);
    return;
  }
  if (backlog() >= buffer_)
    return overflow(ev, position);
  if (missed_ > 0) {
    outbox_.push_back(outgoing{outgoing::kind::lagged, {}, 0, missed_});
    missed_ = 0;
  }
  queue_event(ev, position);
}

void subscription_flow::overflow(const event& ev, uint64_t position) {
  if (drop_on_overflow_) {
    ++missed_;
    ++dropped_;
    return;
  }
  behind_.emplace(ev.task, position);
  ++recoveries_;
}

void subscription_flow::queue_event(const event& ev, uint64_t position) {
  outbox_.push_back(outgoing{outgoing::kind::event, ev, position, 0});
  ++queued_events_;
}

void subscription_flow::on_compacted(const std::string& task, uint64_t removed) {
  // Compaction drops the oldest events (retention by count), so every kept event moved down by
  // `removed`. Retention by age that removed events out of ts order is the one case where this
  // cursor can be off; SPEC-conforming writers append in ts order.
  if (auto it = behind_.find(task); it != behind_.end())
    it->second = it->second > removed ? it->second - removed : 0;
  if (reading_ && reading_->task == task)
    reading_stale_ = true;
}

void subscription_flow::on_ack(uint64_t count) {
  in_flight_ -= std::min(count, in_flight_);
}

std::optional<disk_read> subscription_flow::next_read() {
  if (reading_ || behind_.empty() || awaiting_history_ || backlog() >= buffer_)
    return std::nullopt;
  auto it = behind_.begin();
  reading_ = disk_read{it->first, it->second, buffer_ - backlog()};
  reading_stale_ = false;
  return reading_;
}

void subscription_flow::on_read(const disk_read& r, std::vector<event> events) {
  reading_.reset();
  auto it = behind_.find(r.task);
  if (reading_stale_ || it == behind_.end())
    return; // read again from the shifted cursor
  for (size_t i = 0; i < events.size(); ++i)
    if (matches(events[i]) && !history_ids_.count(events[i].id))
      queue_event(events[i], r.from + i);
  if (events.size() < r.max_events) {
    // The end of the file: later events of the task arrive live, after this reply.
    behind_.erase(it);
    if (caught_up_after_task_read_) {
      caught_up_after_task_read_ = false;
      outbox_.push_back(outgoing{outgoing::kind::caught_up, {}, 0, 0});
    }
  } else {
    it->second = r.from + events.size();
  }
  forget_history_when_done();
}

void subscription_flow::on_read_failed() {
  reading_.reset();
}

void subscription_flow::forget_history_when_done() {
  // Live events arriving after the history reply were written after it was read (the writers send
  // them first), so once nothing held or behind remains, the ids have nothing left to filter.
  if (!awaiting_history_ && behind_.empty())
    history_ids_.clear();
}

std::vector<outgoing> subscription_flow::take_sendable() {
  if (missed_ > 0 && outbox_.empty() && !awaiting_history_ && backlog() < buffer_) {
    outbox_.push_back(outgoing{outgoing::kind::lagged, {}, 0, missed_});
    missed_ = 0;
  }
  std::vector<outgoing> out;
  while (!outbox_.empty()) {
    auto& next = outbox_.front();
    if (next.what == outgoing::kind::event) {
      if (in_flight_ >= buffer_)
        break;
      ++in_flight_;
      --queued_events_;
    }
    out.push_back(std::move(next));
    outbox_.pop_front();
  }
  return out;
}

} // namespace evstore
