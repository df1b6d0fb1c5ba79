#include "evstore/actors/writer_actor.hpp"

#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "timestamp_format.hpp"
#include "writer_setup.hpp"

namespace evstore {

namespace {

struct waiting_append {
  caf::typed_response_promise<append_result> promise;
  append_result result;
};

struct writer_state {
  static inline const char* name = "evstore.writer";

  std::unique_ptr<task_log> log;
  writer_setup setup;
  /// Appends written but not yet acknowledged, waiting for the next sync (durability::fsynced).
  std::vector<waiting_append> waiting;
  bool sync_scheduled = false;
  /// Requests handled from the router; the router retires us only if it sent exactly this many.
  uint64_t handled = 0;
  bool busy_since_tick = false;
  bool tick_scheduled = false;
};

using writer_pointer = writer_actor::stateful_pointer<writer_state>;

// Called on every request: counts those the router sent and keeps the idle timer running.
void touch(writer_pointer self) {
  auto& st = self->state;
  if (self->current_sender() == st.setup.router.address())
    ++st.handled;
  st.busy_since_tick = true;
  if (!st.tick_scheduled) {
    st.tick_scheduled = true;
    self->delayed_send(self, st.setup.idle_timeout, idle_atom::value);
  }
}

void notify(writer_pointer self, appended note) {
  if (self->state.setup.sink)
    self->send(self->state.setup.sink, std::move(note));
}

writer_actor::behavior_type writer(writer_pointer self, writer_setup setup) {
  self->state.log = std::make_unique<task_log>(setup.root, setup.task, setup.log);
  self->state.setup = std::move(setup);
  return {
    [=](append_request& req) -> caf::result<append_result> {
      touch(self);
      auto& st = self->state;
      appended note;
      auto res = st.log->append(std::move(req), note);
      if (!res)
        return res.error();
      if (!res->duplicate)
        notify(self, std::move(note));
      if (st.setup.log.ack == durability::written || !st.log->needs_sync())
        return std::move(*res);
      // Group commit: the sync request queues behind appends already in the mailbox, so one
      // fdatasync acknowledges all of them.
      auto promise = self->make_response_promise<append_result>();
      st.waiting.push_back(waiting_append{promise, std::move(*res)});
      if (!st.sync_scheduled) {
        st.sync_scheduled = true;
        self->send(self, sync_atom::value);
      }
      return promise;
    },
    [=](sync_atom) {
      auto& st = self->state;
      st.sync_scheduled = false;
      auto err = st.log->sync();
      for (auto& w : st.waiting) {
        if (err)
          w.promise.deliver(err);
        else
          w.promise.deliver(std::move(w.result));
      }
      st.waiting.clear();
    },
    [=](read_request& req) -> caf::result<read_result> {
      touch(self);
      return self->state.log->read(req.from);
    },
    [=](compact_request& req) -> caf::result<compact_result> {
      touch(self);
      auto& st = self->state;
      compacted note;
      bool changed = false;
      auto res = st.log->compact(req.policy, now(), note, changed);
      if (res && changed && st.setup.sink)
        self->send(st.setup.sink, std::move(note));
      return res;
    },
    [=](cleanup_request) -> caf::result<cleanup_result> {
      touch(self);
      auto& st = self->state;
      auto removed = st.log->remove_if_empty();
      if (!removed)
        return removed.error();
      if (*removed && st.setup.sink)
        self->send(st.setup.sink, task_removed{st.log->task()});
      return cleanup_result{*removed ? 1u : 0u};
    },
    [=](idle_atom) {
      auto& st = self->state;
      if (st.busy_since_tick) {
        st.busy_since_tick = false;
        self->delayed_send(self, st.setup.idle_timeout, idle_atom::value);
        return;
      }
      st.tick_scheduled = false;
      // Idle for a whole period: give back the file and the cached state now, then ask to retire.
      st.log->release();
      self->request(st.setup.router, caf::infinite, writer_idle{st.log->task(), st.handled})
        .then([=](bool retire) {
          if (retire)
            self->quit();
        });
    },
  };
}

} // namespace

writer_actor spawn_writer(store_actor::pointer parent, writer_setup setup) {
  return parent->spawn<caf::linked>(writer, std::move(setup));
}

} // namespace evstore
