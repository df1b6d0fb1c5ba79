#include "store_internal.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <caf/typed_event_based_actor.hpp>

#include "gather.hpp"
#include "notification_tee.hpp"
#include "src/bus/bus_gate.hpp"
#include "src/format/line_reader.hpp"
#include "src/storage/checkpoint_loader.hpp"
#include "src/storage/store_layout.hpp"
#include "compact_all_worker.hpp"
#include "population_worker.hpp"
#include "query_actor.hpp"
#include "src/format/validation.hpp"
#include "src/node/serve.hpp"
#include "writer_setup.hpp"

namespace evstore {

namespace {

struct live_writer {
  writer_actor handle;
  /// Requests routed to it; compared with what it handled when it asks to retire.
  uint64_t forwarded = 0;
  /// `forwarded` at the last idle sweep: unchanged at the next one, the writer was idle a whole
  /// period.
  uint64_t forwarded_at_sweep = 0;
};

struct store_state {
  static inline const char* name = "evstore.store";
  store_options opts;
  task_log_config log_cfg;
  /// Where writers report: the index (writable stores), or a tee to it and a test's watcher.
  notification_sink sink;
  index_actor index;
  bus_actor bus;
  std::shared_ptr<bus_gate> bus_open = std::make_shared<bus_gate>();
  /// Writers handed to query actors: how wide queries fan out.
  uint64_t fetches_routed = 0;
  /// The node this store serves is moving tasks (store_rebalancing): requests from outside the
  /// store (its local handle) are refused; those of its own helpers below finish what was let in
  /// before the move.
  bool rebalancing = false;
  /// The compact-every-task workers running: they compact task by task through the store.
  std::unordered_set<caf::actor_addr> compact_workers;
  /// The running (or last) cleanup's progress, for stats.
  uint64_t cleanup_done = 0;
  uint64_t cleanup_total = 0;
  std::unordered_map<std::string, live_writer> writers;
  /// The task of each live writer by its address, to forget a writer that died (its down message).
  std::unordered_map<caf::actor_addr, std::string> writer_tasks;
  /// Tasks whose writer died without retiring: their next writer may have lost the record of names
  /// still to sync, so it syncs them on its first open (durability::fsynced).
  std::unordered_set<std::string> writer_died;
  /// What is known of the files of tasks without a live writer (from the checkpoint, or from the
  /// task's last writer as it retired): a new writer starts from it instead of reading the whole
  /// file again (task_log::assume_known).
  std::unordered_map<std::string, file_extent> known_files;
  /// When the last population pass began, whether one is running, and the queries of a read-only
  /// store waiting for the next (see read_only_query).
  std::chrono::steady_clock::time_point last_pass{};
  bool pass_running = false;
  /// Whether the idle sweep's timer runs (while any writer lives).
  bool sweep_scheduled = false;
  /// The first pass's listing, begun before the checkpoint was read (task_listing); empty after.
  task_listing first_listing;
  std::vector<std::pair<query_request, caf::typed_response_promise<query_result>>> held_queries;

  // Every way the store ends (an exit, a kill, an exception) destroys its state: its writers end with
  // it, as links made them, and give back the lock.
  ~store_state() {
    for (auto& [task, writer] : writers)
      caf::anon_send_exit(writer.handle, caf::exit_reason::user_shutdown);
  }
};

using store_pointer = store_internal_actor::stateful_pointer<store_state>;

// Idle writers are found by one timer of the store's, not one per writer: a timer is a message through
// CAF's clock thread (a lock and a wake-up each), and 100,000 cold appends armed 100,000 of them.
void schedule_idle_sweep(store_pointer self) {
  auto& st = self->state;
  if (st.sweep_scheduled)
    return;
  st.sweep_scheduled = true;
  // At least a millisecond: a zero timeout retires writers as soon as possible, not in a busy loop.
  const auto period = std::max<caf::timespan>(
    std::chrono::duration_cast<caf::timespan>(st.opts.writer_idle_timeout), std::chrono::milliseconds{1});
  self->delayed_send(self, period, idle_atom::value);
}

// Asks each writer routed nothing for a whole period to retire (writer_idle: it answers with what
// it handled, and retires only if that is all the store routed to it). A writer idle for one
// period retires after one to two: as long as it idles, at most two sweeps, whatever the number of
// writers; a sweep visits the live writers, those of the tasks used in the last two periods.
void sweep_idle_writers(store_pointer self) {
  auto& st = self->state;
  st.sweep_scheduled = false;
  for (auto& [task, writer] : st.writers) {
    if (writer.forwarded == writer.forwarded_at_sweep)
      self->send(writer.handle, idle_atom::value);
    writer.forwarded_at_sweep = writer.forwarded;
  }
  if (!st.writers.empty())
    schedule_idle_sweep(self);
}

// The writer for `task`, spawned on first use. Counts the request about to be routed to it.
writer_actor& writer_for(store_pointer self, const std::string& task) {
  auto& st = self->state;
  auto it = st.writers.find(task);
  if (it == st.writers.end()) {
    writer_setup setup{st.opts.root, task, st.log_cfg, caf::actor_cast<store_internal_actor>(self),
                       st.sink, st.bus, st.bus_open};
    setup.names_may_be_unsynced = st.writer_died.erase(task) > 0;
    if (auto known = st.known_files.find(task); known != st.known_files.end()) {
      setup.known = known->second;
      st.known_files.erase(known);
    }
    auto writer = spawn_writer(self, std::move(setup));
    // Monitored, not linked: CAF 0.17 keeps an actor's links in a list that each unlink scans, so
    // links from 100,000 retiring writers to the store made retiring quadratic in the number of
    // writers. A monitor lives in the writer's own (one-entry) list; the store stops its writers
    // itself when it ends (~store_state).
    self->monitor(writer);
    st.writer_tasks.emplace(writer.address(), task);
    it = st.writers.emplace(task, live_writer{std::move(writer), 0, 0}).first;
    schedule_idle_sweep(self);
  }
  ++it->second.forwarded;
  return it->second.handle;
}

// Validates the task id (so no writer is ever spawned for a path outside the root) and hands the
// request to the task's writer, which replies to the original sender.
template <class Reply, class Request>
caf::delegated<Reply> route(store_pointer self, const std::string& task, Request&& req) {
  if (auto err = validate_task_id(task)) {
    self->make_response_promise<Reply>().deliver(err);
    return {};
  }
  return self->delegate(writer_for(self, task), std::forward<Request>(req));
}

// Each append of a batch goes to its task's writer as a request of the store's own, in the batch's
// order (a writer's mailbox keeps it); the reply waits for them all.
caf::result<append_batch_result> append_batch(store_pointer self, append_batch_request& req) {
  const size_t n = req.appends.size();
  if (n == 0)
    return append_batch_result{};
  struct batch {
    append_batch_result out;
    size_t pending = 0;
    caf::typed_response_promise<append_batch_result> promise;
    // The store ended with appends of the batch unanswered (their handlers went with it): CAF 0.17
    // sends nothing for a promise that is dropped, so the asker would wait forever.
    ~batch() {
      if (pending > 0 && promise.pending())
        promise.deliver(make_error(errc::node_unavailable, "the store stopped before the batch was done; "
                                                   "appends of it may have been written (a retry "
                                                   "with the same ids is safe)"));
    }
  };
  auto state = std::make_shared<batch>();
  state->out.outcomes.resize(n);
  state->pending = n;
  state->promise = self->make_response_promise<append_batch_result>();
  auto settle = [state] {
    if (--state->pending == 0)
      state->promise.deliver(std::move(state->out));
  };
  for (size_t i = 0; i < n; ++i) {
    auto& one = req.appends[i];
    if (auto err = validate_task_id(one.ev.task)) {
      state->out.outcomes[i].error = std::move(err);
      settle();
      continue;
    }
    auto writer = writer_for(self, one.ev.task);
    self->request(writer, caf::infinite, std::move(one))
      .then(
        [state, settle, i](append_result& res) {
          state->out.outcomes[i].result = std::move(res);
          settle();
        },
        [state, settle, i](caf::error& err) {
          state->out.outcomes[i].error = std::move(err);
          settle();
        });
  }
  return state->promise;
}

// True if cleanup could remove `task`: its events file is missing or empty, or a live writer may be
// about to change that (only the writer can tell, in order with its appends and compactions).
bool cleanup_candidate(store_pointer self, const std::string& task) {
  if (self->state.writers.count(task))
    return true;
  return !task_has_events(*self->state.log_cfg.root, task, true);
}

// Asks every candidate task's writer to remove its directory if it holds no events, and sums.
caf::result<cleanup_result> clean_up(store_pointer self) {
  if (self->state.opts.read_only)
    return make_error(errc::read_only, "store is open read-only; cannot clean up");
  auto dirs = list_task_dirs(self->state.opts.root);
  if (!dirs)
    return dirs.error();
  std::vector<std::string> candidates;
  for (auto& task : *dirs)
    if (cleanup_candidate(self, task))
      candidates.push_back(std::move(task));
  struct outcome {
    cleanup_result total;
    caf::error first_error;
  };
  auto acc = std::make_shared<outcome>();
  auto promise = self->make_response_promise<cleanup_result>();
  self->state.cleanup_done = 0;
  self->state.cleanup_total = candidates.size();
  // A window, as compact_all keeps: every candidate needs its writer, and a store of 100,000 empty
  // tasks must not spawn 100,000 writers at once.
  constexpr size_t cleanup_window = 8;
  gather<cleanup_result>(
    std::move(candidates), cleanup_window,
    [=](const std::string& task) {
      return self->request(writer_for(self, task), caf::infinite, cleanup_request{});
    },
    [=](const std::string&, const cleanup_result& r) {
      acc->total.removed += r.removed;
      ++self->state.cleanup_done;
    },
    [=](const std::string&, caf::error& err) {
      if (!acc->first_error)
        acc->first_error = std::move(err);
      ++self->state.cleanup_done;
    },
    [=]() mutable {
      if (acc->first_error)
        promise.deliver(acc->first_error);
      else
        promise.deliver(acc->total);
    });
  return promise;
}

caf::result<task_list> list_tasks(store_pointer self, const list_tasks_request& req) {
  auto tasks = list_task_ids(*self->state.log_cfg.root);
  if (!tasks)
    return tasks.error();
  if (!req.include_system_log && !tasks->empty() && tasks->front().empty())
    tasks->erase(tasks->begin());
  return task_list{std::move(*tasks)};
}

// The writers of `req.tasks`, spawned as needed, each counted as routed one request (the asker's).
caf::result<writer_handles> resolve(store_pointer self, const resolve_writers& req) {
  // Every id first: a writer counted as routed a request that then never comes would never match
  // its count again, and never retire.
  for (const auto& task : req.tasks)
    if (auto err = validate_task_id(task))
      return err;
  writer_handles out;
  out.writers.reserve(req.tasks.size());
  for (const auto& task : req.tasks)
    out.writers.push_back(caf::actor_cast<caf::strong_actor_ptr>(writer_for(self, task)));
  self->state.fetches_routed += req.tasks.size();
  return out;
}

// Lets a writer retire only if nothing was routed to it since it reported: then its mailbox holds
// nothing of ours, and a new writer for the task can never race it.
bool retire_if_idle(store_pointer self, const writer_idle& idle) {
  auto& writers = self->state.writers;
  auto it = writers.find(idle.task);
  // From the task's live writer only: a late ask of a writer that retired already must not retire
  // its successor, whose count may well be the same.
  if (it == writers.end() || it->second.handle.address() != self->current_sender()
      || it->second.forwarded != idle.handled)
    return false;
  self->demonitor(it->second.handle.address());
  self->state.writer_tasks.erase(it->second.handle.address());
  writers.erase(it);
  if (idle.extent)
    self->state.known_files[idle.task] = *idle.extent;
  return true;
}

// A writer that ended without retiring (it failed): forget it, so the task's next request spawns a
// new one instead of going to a dead actor.
void forget_writer(store_pointer self, const caf::down_msg& down) {
  auto& st = self->state;
  auto task = st.writer_tasks.find(down.source);
  if (task == st.writer_tasks.end())
    return;
  auto it = st.writers.find(task->second);
  if (it != st.writers.end() && it->second.handle.address() == down.source) {
    st.writer_died.insert(task->second);
    st.writers.erase(it);
  }
  st.writer_tasks.erase(task);
}

// Asks the index (`Request` is stats_request or await_index_request) and adds the store's counters.
template <class Request>
caf::result<index_stats> index_stats_reply(store_pointer self, Request req) {
  auto promise = self->make_response_promise<index_stats>();
  self->request(self->state.index, caf::infinite, req)
    .then(
      [=](index_stats& stats) mutable {
        stats.fetches_routed = self->state.fetches_routed;
        stats.live_writers = self->state.writers.size();
        stats.cleanup_done = self->state.cleanup_done;
        stats.cleanup_total = self->state.cleanup_total;
        promise.deliver(stats);
      },
      [=](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

// What every writer shares: the log settings from the options, the root, the lock, the fd budget.
task_log_config log_config(const store_options& opts, std::shared_ptr<const store_root> root,
                           std::shared_ptr<store_lock> lock) {
  task_log_config cfg;
  cfg.ack = log_durability_for(opts.ack);
  cfg.max_line_bytes = opts.max_line_bytes;
  cfg.dedupe_window = opts.dedupe_window;
  cfg.read_only = opts.read_only;
  cfg.crate_types_only = opts.crate_types_only;
  cfg.sketch_size = opts.index_sketch_size;
  cfg.external_change_check = opts.external_change_check;
  cfg.fetch_cache_lines = opts.fetch_cache_lines;
  cfg.fds = std::make_shared<fd_budget>(opts.max_open_files > 0 ? opts.max_open_files
                                                                : fd_budget::default_slots());
  cfg.root = std::move(root);
  cfg.lock = std::move(lock); // every writer's copy keeps the lock while it may touch a file
  return cfg;
}

// A population pass (population_worker.hpp). The store starts it itself, so that the index holds
// back the plans of queries spawned after this call until the pass is complete.
void start_population_pass(store_pointer self) {
  auto& st = self->state;
  auto listing = std::exchange(st.first_listing, {});
  st.last_pass = listing.files ? listing.began : std::chrono::steady_clock::now();
  st.pass_running = true;
  self->request(st.index, caf::infinite, population_start{})
    .then([=](known_files& known) mutable {
      auto& st = self->state;
      spawn_population_worker(self, st.index, st.log_cfg.root, st.opts.population_window,
                              std::move(known), std::move(listing));
    });
}

// A read-only store hears of no writes (another process makes them): its index learns them by
// passes, one at a time. A query needs a pass begun at most external_change_check before it (the
// staleness every query accepts): the last one, if recent enough (its plan then waits for it to
// complete), else a new one, started now or, while an older pass runs, as soon as it ends.
caf::result<query_result> read_only_query(store_pointer self, query_request& req) {
  auto& st = self->state;
  const bool recent
    = std::chrono::steady_clock::now() - st.last_pass < st.opts.external_change_check;
  if (!recent && st.pass_running) {
    auto promise = self->make_response_promise<query_result>();
    st.held_queries.emplace_back(std::move(req), promise);
    return promise;
  }
  if (!recent)
    start_population_pass(self);
  return self->delegate(spawn_query_actor(self, st.index), std::move(req));
}

// A pass ended: start the one the held queries wait for, and send them after its start.
void pass_done(store_pointer self) {
  auto& st = self->state;
  st.pass_running = false;
  if (st.held_queries.empty())
    return;
  start_population_pass(self);
  for (auto& [req, promise] : std::exchange(st.held_queries, {}))
    promise.delegate(spawn_query_actor(self, st.index), std::move(req));
}

// The index (fed by the writers, and by `sink` too if a test watches), starting from the
// checkpoint, and its first population pass; a writable store's bus.
void start_index_and_bus(store_pointer self, notification_sink watcher,
                         std::shared_ptr<loaded_checkpoint> checkpoint) {
  auto& st = self->state;
  index_setup setup;
  setup.sketch_size = st.opts.index_sketch_size;
  setup.initial = std::move(checkpoint->index);
  setup.checkpoint_tasks = checkpoint->tasks;
  if (!st.opts.read_only && st.opts.index_checkpoint) {
    setup.root = st.log_cfg.root;
    setup.lock = st.log_cfg.lock;
    setup.checkpoint_interval = std::chrono::duration_cast<caf::timespan>(st.opts.checkpoint_interval);
    setup.root_device = device_of(*st.log_cfg.root);
  }
  st.known_files = std::move(checkpoint->extents);
  st.index = spawn_index(self->system(), std::move(setup));
  self->link_to(st.index);
  st.sink = watcher ? spawn_notification_tee(self, st.index, std::move(watcher))
                    : caf::actor_cast<notification_sink>(st.index);
  start_population_pass(self);
  if (st.opts.read_only)
    return;
  st.bus = spawn_bus(self->system(), caf::actor_cast<store_actor>(self), st.bus_open);
  self->link_to(st.bus);
}

store_internal_actor::behavior_type store_behavior(store_pointer self, store_options opts,
                                                   notification_sink watcher,
                                                   std::shared_ptr<const store_root> root,
                                                   std::shared_ptr<store_lock> lock,
                                                   std::shared_ptr<loaded_checkpoint> checkpoint,
                                                   task_listing listing, bool rebalancing) {
  auto& st = self->state;
  st.log_cfg = log_config(opts, std::move(root), std::move(lock));
  st.opts = std::move(opts);
  st.first_listing = std::move(listing);
  // A node restarted while it moved tasks: refusing from the first message on, before any handle
  // to the store exists.
  st.rebalancing = rebalancing;
  self->set_down_handler([self](caf::down_msg& down) {
    if (self->state.compact_workers.erase(down.source) > 0)
      return;
    forget_writer(self, down);
  });
  start_index_and_bus(self, std::move(watcher), std::move(checkpoint));
  // What the node's gate refuses its peers while it moves tasks, the store refuses everyone:
  // a program embedding the node reaches it through its local handle, past the gate.
  // Its own helpers (the bus catching a subscription up, a compaction of every task going task by
  // task) are not refused: they finish requests let in before the move, which the gate's begin
  // waited for. (A query of the local handle already planned when the move begins fetches from
  // the writers directly and is not waited for: the releases it could miss come round trips later.)
  auto moving = [self]() -> caf::error {
    auto& st = self->state;
    if (!st.rebalancing)
      return caf::none;
    const auto from = caf::actor_cast<caf::actor_addr>(self->current_sender());
    if (from && (from == st.bus.address() || st.compact_workers.count(from) > 0))
      return caf::none;
    return make_error(errc::rebalancing, "this store's node is moving tasks between nodes (evstore "
                                         "rebalance); retry once the move ends");
  };
  return {
    [=](append_request& req) -> caf::result<append_result> {
      if (auto err = moving())
        return err;
      auto task = req.ev.task;
      return route<append_result>(self, task, std::move(req));
    },
    [=](append_batch_request& req) -> caf::result<append_batch_result> {
      if (auto err = moving())
        return err;
      return append_batch(self, req);
    },
    [=](read_request& req) -> caf::result<read_result> {
      if (auto err = moving())
        return err;
      auto task = req.task;
      return route<read_result>(self, task, std::move(req));
    },
    [=](compact_request& req) -> caf::result<compact_result> {
      if (auto err = moving())
        return err;
      auto task = req.task;
      return route<compact_result>(self, task, std::move(req));
    },
    [=](compact_all_request& req) -> caf::result<compact_result> {
      if (auto err = moving())
        return err;
      auto worker = spawn_compact_all_worker(self, self->state.opts.root);
      self->state.compact_workers.insert(worker.address());
      self->monitor(worker);
      return self->delegate(worker, std::move(req));
    },
    [=](const list_tasks_request& req) -> caf::result<task_list> {
      if (auto err = moving())
        return err;
      return list_tasks(self, req);
    },
    [=](cleanup_request) -> caf::result<cleanup_result> {
      if (auto err = moving())
        return err;
      return clean_up(self);
    },
    [=](query_request& req) -> caf::result<query_result> {
      if (auto err = moving())
        return err;
      auto& st = self->state;
      if (st.opts.read_only)
        return read_only_query(self, req);
      return self->delegate(spawn_query_actor(self, st.index), std::move(req));
    },
    [=](subscribe_request& req) -> caf::result<subscribed> {
      if (auto err = moving())
        return err;
      if (!self->state.bus)
        return make_error(errc::read_only,
                          "store is open read-only; it sees no writes to deliver to subscribers");
      return self->delegate(self->state.bus, std::move(req));
    },
    [=](const unsubscribe_request& req) {
      if (self->state.bus)
        self->send(self->state.bus, req);
    },
    [=](bus_stats_request req) -> caf::result<bus_stats> {
      if (!self->state.bus)
        return bus_stats{};
      return self->delegate(self->state.bus, req);
    },
    [=](const resolve_writers& req) { return resolve(self, req); },
    [=](populate_request& req) {
      auto task = req.task;
      return route<uint64_t>(self, task, std::move(req));
    },
    [=](const store_rebalancing& x) { self->state.rebalancing = x.moving; },
    [=](held_tasks_request) -> caf::result<task_list> {
      auto tasks = list_task_ids(*self->state.log_cfg.root);
      if (!tasks)
        return tasks.error();
      return task_list{std::move(*tasks)};
    },
    [=](task_digest_request& req) {
      auto task = req.task;
      return route<task_digest>(self, task, std::move(req));
    },
    [=](export_chunk_request& req) {
      auto task = req.task;
      return route<task_chunk>(self, task, std::move(req));
    },
    [=](import_chunk_request& req) -> caf::result<task_digest> {
      if (self->state.opts.read_only)
        return make_error(errc::read_only, "store is open read-only; it takes no tasks");
      auto task = req.task;
      return route<task_digest>(self, task, std::move(req));
    },
    [=](release_task_request& req) -> caf::result<task_digest> {
      if (self->state.opts.read_only)
        return make_error(errc::read_only, "store is open read-only; it gives no tasks away");
      auto task = req.task;
      return route<task_digest>(self, task, std::move(req));
    },
    [=](stats_request req) { return index_stats_reply(self, req); },
    [=](await_index_request req) { return index_stats_reply(self, req); },
    [=](const writer_idle& idle) { return retire_if_idle(self, idle); },
    [=](idle_atom) { sweep_idle_writers(self); },
    [=](population_done) { pass_done(self); },
  };
}

/// The members of opts.serve_cluster that opts.serve_as names (errc::invalid_argument for a name
/// the file does not list).
caf::expected<node_serving> ownership_of(const store_options& opts) {
  auto members = read_membership(opts.serve_cluster);
  if (!members)
    return members.error();
  for (const auto& name : opts.serve_as)
    if (std::none_of(members->nodes.begin(), members->nodes.end(),
                     [&](const cluster_member& m) { return m.name == name; }))
      return make_error(errc::invalid_argument,
                        "serve_as names '" + name + "', which " + opts.serve_cluster + " does not list");
  node_serving serving;
  serving.names = opts.serve_as;
  serving.ownership = ownership_in(std::move(*members), opts.serve_as);
  return serving;
}

/// A root a cluster's node moves tasks from or to is written only through that node (a write
/// here would change a history being copied, or add a task the move never lists), and one that
/// ended a rebalance is served only as the cluster's node (a plain node is taken as listed by
/// routers, which would route the tasks it gave away to it). Reading stays open to all.
caf::error refuse_cluster_root(const store_root& root, bool serve) {
  auto moving = read_root_file(root, rebalance_file_name);
  if (!moving)
    return moving.error();
  if (!moving->empty())
    return make_error(errc::rebalancing,
                      root.display("", rebalance_file_name)
                        + ": a cluster node's root in a rebalance; it takes writes again once "
                          "evstore rebalance has ended it (open it read-only meanwhile)");
  if (!serve)
    return caf::none;
  auto ended = read_root_file(root, membership_file_name);
  if (!ended)
    return ended.error();
  if (!ended->empty())
    return make_error(errc::wrong_node,
                      root.display("", membership_file_name)
                        + ": a cluster node's root; serve it with its membership (--cluster)");
  return caf::none;
}

} // namespace

caf::expected<store_actor> spawn_store_with_sink(caf::actor_system& sys, const store_options& opts,
                                                 notification_sink sink) {
  if (auto err = validate(opts))
    return err;
  if (opts.serve)
    if (auto err = check_node_ready(sys))
      return err;
  // A cluster's node: its membership is read before anything is opened, so a bad file opens nothing.
  node_serving serving;
  if (!opts.serve_cluster.empty()) {
    auto found = ownership_of(opts);
    if (!found)
      return found.error();
    serving = std::move(*found);
  }
  auto root = open_store_root(opts.root, opts.read_only);
  if (!root)
    return root.error();
  std::shared_ptr<store_lock> lock;
  if (!opts.read_only) {
    auto acquired = store_lock::acquire(*root);
    if (!acquired)
      return acquired.error();
    lock = std::make_shared<store_lock>(std::move(*acquired));
    // A process killed before it synced may have left task directories, files and lines only in
    // the page cache; under fsynced acks nothing acknowledged may rest on them. One syncfs at open
    // makes them durable, so writers need to sync only the names they create themselves.
    if (opts.ack == durability::fsynced && ::syncfs((*root)->fd()) != 0)
      return io_error("cannot syncfs the file system of", opts.root, errno);
  }
  // The first pass's listing runs beside the checkpoint's decoding (task_listing).
  auto listing = task_listing::start(*root);
  // Read before any actor runs, so the index and the writers start from the same knowledge.
  auto checkpoint = std::make_shared<loaded_checkpoint>(
    opts.index_checkpoint ? load_checkpoint(**root, opts.index_sketch_size)
                          : loaded_checkpoint{std::make_shared<type_index>(opts.index_sketch_size)});
  auto shared_root = *root;
  if (serving.ownership) {
    // A node stopped while it moved tasks resumes moving them: no writes until the move ends.
    serving.root = shared_root;
    if (auto err = load_rebalance_state(serving))
      return err;
  } else if (!opts.read_only) {
    if (auto err = refuse_cluster_root(**root, opts.serve))
      return err;
  }
  auto served_lock = lock;
  auto store = caf::actor_cast<store_actor>(sys.spawn(store_behavior, opts, std::move(sink),
                                                      std::move(*root), std::move(lock),
                                                      std::move(checkpoint), std::move(listing),
                                                      !serving.rebalance_text.empty()));
  if (opts.serve) {
    auto served = serve_store(sys, store, std::move(shared_root), std::move(served_lock),
                              opts.listen_host, opts.listen_port, opts.serve_credential,
                              std::move(serving));
    if (!served) {
      caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
      return served.error();
    }
  }
  return store;
}

caf::expected<store_actor> spawn_store(caf::actor_system& sys, const store_options& opts) {
  return spawn_store_with_sink(sys, opts, {});
}

} // namespace evstore
