#include "writer_actor.hpp"

#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "messages/errc.hpp"
#include "src/format/timestamp_format.hpp"
#include "src/storage/store_layout.hpp"
#include "src/storage/task_transfer.hpp"
#include "writer_setup.hpp"

namespace evstore {

namespace {

caf::optional<file_extent> to_optional(const std::optional<file_extent>& x) {
  return x ? caf::optional<file_extent>{*x} : caf::none;
}

struct waiting_append {
  caf::typed_response_promise<append_result> promise;
  append_result result;
};

// Forwards what the task_log reports to the index, in the order it happened: one sender, one
// mailbox, so the index sees each task's history in disk order.
struct sink_forwarder : task_log_observer {
  writer_actor::pointer self = nullptr;
  notification_sink sink;
  bus_actor bus;

  template <class T>
  void forward(T&& x) {
    if (sink)
      self->send(sink, std::forward<T>(x));
  }
  void on_loaded(task_summary x) override {
    forward(std::move(x));
  }
  void on_extended(task_extended x) override {
    forward(std::move(x));
  }
  void on_appended(const appended& x) override {
    forward(x);
  }
  void on_compacted(const compacted& x) override {
    forward(x);
    if (bus) // positions shifted: a subscriber reading the task from disk must know
      self->send(bus, x);
  }
  void on_removed(const task_removed& x) override {
    forward(x);
  }
};

struct writer_state {
  static inline const char* name = "evstore.writer";

  sink_forwarder forwarder;
  std::unique_ptr<task_log> log;
  writer_setup setup;
  /// Appends written but not yet acknowledged, waiting for the next sync (durability::fsynced).
  std::vector<waiting_append> waiting;
  bool sync_scheduled = false;
  /// Requests handled from the router; the router retires us only if it sent exactly this many.
  uint64_t handled = 0;
  /// Asked to retire and not answered yet: a sweep's idle meanwhile is not asked again.
  bool retiring = false;
};

using writer_pointer = writer_actor::stateful_pointer<writer_state>;

// Tells the bus an event is on disk (as durable as appends are acknowledged), after the index heard
// of it: a catch-up subscription that saw this event live can then find it through the index too.
void announce(writer_pointer self, const append_result& res) {
  auto& setup = self->state.setup;
  if (setup.bus && !res.duplicate && setup.bus_open->is_open())
    self->send(setup.bus, event_written{res.ev, res.position});
}

// Group commit: one fdatasync for every append written since the last one, then their replies and
// their bus announcements. Also runs before any other request, so a read or a compaction never
// sees an event the bus has not been told of.
void sync_waiting(writer_pointer self) {
  auto& st = self->state;
  if (st.waiting.empty())
    return;
  auto err = st.log->sync();
  for (auto& w : st.waiting) {
    if (err) {
      w.promise.deliver(err);
      continue;
    }
    announce(self, w.result);
    w.promise.deliver(std::move(w.result));
  }
  st.waiting.clear();
}

// Called on every request (never on self-messages): counts it. Every request reaches a writer
// through the store actor, which counts what it routes; `delegate` keeps the original sender, so
// the count must not look at senders.
void touch(writer_pointer self) {
  ++self->state.handled;
}

// A chunk of the task's incoming copy; the last one commits it and loads the file, whose summary
// goes to the index as any first load's does. An events file that is already the source's (a run
// that committed and was stopped before the release) is acknowledged as it is.
caf::result<task_digest> import_chunk(writer_pointer self, const import_chunk_request& req) {
  auto& st = self->state;
  const auto& root = *st.setup.log.root;
  auto held = digest_task_file(root, req.task, events_file_name);
  if (!held)
    return held.error();
  if (held->exists) {
    if (held->size == req.size && held->crc == req.crc)
      return std::move(*held);
    return make_error(errc::id_conflict, root.display(req.task, events_file_name)
                                           + " exists and is not the copy being moved here");
  }
  auto written = write_incoming(root, req.task, req.offset, req.bytes);
  if (!written)
    return written.error();
  if (written->size < req.size)
    return std::move(*written);
  if (auto err = commit_incoming(root, req.task, req.size, req.crc))
    return err;
  st.log->forget_file();
  if (auto loaded = st.log->populate(); !loaded)
    return loaded.error();
  return digest_task_file(root, req.task, events_file_name);
}

writer_actor::behavior_type writer_behavior(writer_pointer self, writer_setup setup) {
  auto& st = self->state;
  st.forwarder.self = self;
  st.forwarder.sink = setup.sink;
  st.forwarder.bus = setup.bus;
  st.log = std::make_unique<task_log>(setup.root, setup.task, setup.log, &st.forwarder);
  if (setup.names_may_be_unsynced)
    st.log->assume_names_unsynced();
  if (setup.known)
    st.log->assume_known(*setup.known);
  st.setup = std::move(setup);
  return {
    [=](append_request& req) -> caf::result<append_result> {
      touch(self);
      auto& st = self->state;
      auto res = st.log->append(std::move(req));
      if (!res)
        return res.error();
      if (st.setup.log.ack == log_durability::written || !st.log->needs_sync()) {
        announce(self, *res);
        return std::move(*res);
      }
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
      self->state.sync_scheduled = false;
      sync_waiting(self);
    },
    [=](read_request& req) -> caf::result<read_result> {
      touch(self);
      sync_waiting(self);
      return self->state.log->read(req.from, req.max_events);
    },
    [=](compact_request& req) -> caf::result<compact_result> {
      touch(self);
      sync_waiting(self);
      return self->state.log->compact(req.policy, timestamp::now(), req.dry_run);
    },
    [=](const fetch_request& req) -> caf::result<fetch_result> {
      touch(self);
      sync_waiting(self);
      return self->state.log->fetch(req);
    },
    [=](const populate_request&) -> caf::result<uint64_t> {
      touch(self);
      sync_waiting(self);
      return self->state.log->populate();
    },
    [=](cleanup_request) -> caf::result<cleanup_result> {
      touch(self);
      sync_waiting(self);
      auto removed = self->state.log->remove_if_empty();
      if (!removed)
        return removed.error();
      return cleanup_result{*removed ? 1u : 0u};
    },
    [=](const task_digest_request& req) -> caf::result<task_digest> {
      touch(self);
      sync_waiting(self);
      // Loaded first: a load completes a torn last line (task_log), which must happen here, before
      // the bytes are copied, not on the new owner after they were checked.
      if (auto loaded = self->state.log->populate(); !loaded)
        return loaded.error();
      return digest_task_file(*self->state.setup.log.root, req.task, events_file_name);
    },
    [=](const export_chunk_request& req) -> caf::result<task_chunk> {
      touch(self);
      sync_waiting(self);
      auto bytes = read_task_bytes(*self->state.setup.log.root, req.task, req.offset,
                                   req.max_bytes);
      if (!bytes)
        return bytes.error();
      return task_chunk{std::move(*bytes)};
    },
    [=](const import_chunk_request& req) -> caf::result<task_digest> {
      touch(self);
      return import_chunk(self, req);
    },
    [=](const release_task_request& req) -> caf::result<task_digest> {
      touch(self);
      sync_waiting(self);
      auto& st = self->state;
      st.log->forget_file(); // its descriptor would keep the removed file alive
      auto removed = remove_task_file(*st.setup.log.root, req.task, req.size, req.crc);
      if (!removed)
        return removed.error();
      if (*removed)
        st.forwarder.on_removed(task_removed{req.task});
      return task_digest{};
    },
    [=](idle_atom) {
      // The store's idle sweep routed us nothing for a whole period.
      auto& st = self->state;
      if (st.retiring)
        return;
      sync_waiting(self);
      if (st.log->sync_created_names()) // must not be forgotten: the next sweep asks again
        return;
      // Idle for a whole period: give back the file and the cached state now, then ask to retire,
      // handing what we know of the file to the task's next writer (or to our own next load).
      // If the router refuses (a request is on its way), that request starts from the extent too.
      auto extent = st.log->extent();
      st.log->release();
      if (extent)
        st.log->assume_known(*extent);
      st.retiring = true;
      self->request(st.setup.router, caf::infinite,
                    writer_idle{st.log->task(), st.handled, to_optional(extent)})
        .then([=](bool retire) {
          self->state.retiring = false;
          if (retire)
            self->quit();
        });
    },
  };
}

} // namespace

writer_actor spawn_writer(store_internal_actor::pointer parent, writer_setup setup) {
  return parent->spawn(writer_behavior, std::move(setup)); // monitored by the store, not linked
}

} // namespace evstore
