#pragma once

// The blocking facade: the whole store for code that is not an actor. Every call sends a message to
// the store actor through a scoped actor and waits for the reply; errors come back as values.
//
//   auto db = evstore::store::open({/*root=*/"./events"});
//   if (!db) { std::cerr << evstore::render(db.error()); return 1; }
//   (*db)->append(ev);
//   auto latest = (*db)->query_by_type_prefix("task:state:", 500);

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/store_actor.hpp"
#include "messages/commands.hpp"
#include "messages/export.hpp"
#include "messages/system_config.hpp"
#include "node.hpp"

namespace evstore {

struct delivery_queue;

/// What a facade subscription receives: an event, the end of its history, or how many events a
/// subscription with drop_on_overflow skipped.
struct delivery {
  enum class kind { event, caught_up, lagged };
  kind what = kind::event;
  uint64_t subscription = 0;
  event ev;
  uint64_t position = 0;
  uint64_t missed = 0;
};

/// How to subscribe through the facade (see subscribe_request for the fields' meaning).
struct subscribe_options {
  subscription_filter filter;
  uint32_t buffer = 1024;
  bool drop_on_overflow = false;
  caf::optional<catch_up_spec> catch_up;
};

/// A live subscription of the facade. Destroying it unsubscribes; after the destructor returns, its
/// callback (if any) is not running and will not run again. Destroy it before its store.
class EVSTORE_API subscription {
public:
  ~subscription();
  subscription(const subscription&) = delete;
  subscription& operator=(const subscription&) = delete;

  uint64_t id() const {
    return id_;
  }

  /// Without a callback: the next delivery, waiting up to `timeout`; nothing on timeout or once the
  /// store has stopped. Taking an event acknowledges it, making room in the buffer.
  std::optional<delivery> next(std::chrono::milliseconds timeout);

  /// Why the subscription ended, if it ended by itself: errc::node_unavailable when its store
  /// stopped or the connection to the store's node was lost, CAF's runtime_error when the callback
  /// threw. No error while it runs.
  caf::error error() const;

private:
  friend class store;
  subscription(caf::actor_system& sys, store_actor store, subscriber_actor proxy,
               std::shared_ptr<delivery_queue> queue, uint64_t id);

  caf::actor_system& sys_;
  store_actor store_;
  subscriber_actor proxy_;
  std::shared_ptr<delivery_queue> queue_;
  uint64_t id_;
};

class EVSTORE_API store {
public:
  /// Opens (creating if writable and missing) the store at `opts.root`, on an actor system of its own.
  static caf::expected<std::unique_ptr<store>> open(store_options opts);

  /// Opens the store on the embedding program's actor system.
  /// @pre `sys` was configured with evstore::register_types (and with opts.serve, configure_node).
  static caf::expected<std::unique_ptr<store>> open(caf::actor_system& sys, store_options opts);

  /// Connects to the node serving a store (opts.serve, or `evstore serve`), on an actor system of
  /// its own with CAF's middleman and OpenSSL module: the same calls, answered by the node's store
  /// and index. Every call fails with errc::node_unavailable if the node is gone, the connection
  /// drops or no answer comes within opts.timeout (a node's long work is waited for: see
  /// connect_options::timeout). Destroying it leaves the node running.
  static caf::expected<std::unique_ptr<store>> connect(connect_options opts);

  /// Connects to a cluster of nodes (src/cluster/membership.hpp describes `membership_file`),
  /// presented as one store: appends, reads and compactions go to each task's node, queries to
  /// every node, merged exactly. Nodes are reached on first use and again after a lost connection;
  /// a call that needs a node that cannot be reached fails with errc::node_unavailable naming it,
  /// and nothing is ever answered short. `timeout` bounds each connection and each request to a
  /// node (compactions, cleanup_orphaned_tasks and wait_for_index wait while the nodes work, as
  /// with connect). A subscription spans every node that can hold its events (a node lost ends it
  /// with errc::node_unavailable naming the node).
  static caf::expected<std::unique_ptr<store>>
  connect_cluster(const std::string& membership_file,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds{5000});

  /// True for a store reached through store::connect.
  bool connected() const {
    return remote_;
  }

  /// Stops the store actor and its writers; with its own actor system, waits until they are gone.
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Appends one event (an empty id gets a new uuid, an unset ts the current time). With `expected_version`, fails with
  /// errc::version_conflict unless the task holds exactly that many events.
  caf::expected<append_result> append(event ev, caf::optional<uint64_t> expected_version = caf::none);

  /// Appends many events with one request (to a connected store: one round trip), each exactly as
  /// append() would, in order; their outcomes in the same order. Fails as a whole only if the store
  /// cannot be asked.
  caf::expected<std::vector<append_outcome>> append_batch(std::vector<append_request> appends);

  /// Appends a stream of batches with up to `window` of them in flight, sent in the order `next`
  /// gives them (so each task's events are written in that order). `next` fills its (empty)
  /// argument and returns false when there is nothing more; `done` gets each batch's outcomes, in
  /// the order sent, and returns false to stop sending (batches already in flight still complete
  /// and reach `done`). Fails only if the store cannot be asked; batches then in flight may or may
  /// not have been written (a retry with the same ids is safe).
  caf::error append_pipelined(const std::function<bool(std::vector<append_request>&)>& next,
                              const std::function<bool(std::vector<append_outcome>&)>& done,
                              size_t window = 4);

  /// Events of `task` in file order, from the `from`-th valid event on.
  caf::expected<read_result> read_task(const std::string& task, uint64_t from = 0);

  /// Task ids that have an events file, sorted. The system-wide log ("") only if asked for: the
  /// Rust crate's list_tasks leaves it out.
  caf::expected<std::vector<std::string>> list_tasks(bool include_system_log = false);

  /// The last `limit` events, across all tasks, whose type starts with `prefix` (SPEC §3); with
  /// `since`, only events with ts >= since.
  caf::expected<query_result> query_by_type_prefix(const std::string& prefix, uint64_t limit,
                                                   caf::optional<timestamp> since = caf::none);

  /// The same for one type exactly: "task:state:run" without "task:state:running".
  caf::expected<query_result> query_by_type(const std::string& type, uint64_t limit,
                                            caf::optional<timestamp> since = caf::none);

  /// Any query (the two above are its short forms). Through a cluster, `req.allow_partial` answers
  /// from the nodes that can be reached and names the others in `missing_nodes`.
  caf::expected<query_result> query(query_request req);

  /// The index's size and population progress, and how many writer fetches queries caused.
  caf::expected<index_stats> index_statistics();

  /// Blocks until the index has been populated; returns its stats then.
  caf::expected<index_stats> wait_for_index();

  /// Applies `policy` to one task (SPEC §3). A policy validate() refuses is an error and changes
  /// nothing. With `dry_run`, only counts what would be removed and moved aside; writes nothing.
  caf::expected<compact_result> compact_task(const std::string& task,
                                             retention_policy policy = {}, bool dry_run = false);
  caf::expected<compact_result> compact_all(retention_policy policy = {}, bool dry_run = false);

  /// Appends `ev` and delivers it to the bus's matching subscribers (SPEC §3 "Bus"). Every append
  /// is published: subscribers see writes from any path, in per-task order, once they are on disk.
  caf::expected<append_result> publish(event ev) {
    return append(std::move(ev));
  }

  /// Subscribes; deliveries wait in the returned subscription for next().
  caf::expected<std::unique_ptr<subscription>> subscribe(subscribe_options opts);

  /// Subscribes; `on_delivery` runs on an actor thread for each delivery, one at a time. If it
  /// throws, the subscription ends.
  caf::expected<std::unique_ptr<subscription>>
  subscribe(subscribe_options opts, std::function<void(const delivery&)> on_delivery);

  /// The bus's counters: subscriptions, events delivered, recoveries from overflow, drops.
  caf::expected<bus_stats> bus_statistics();

  /// Removes task directories with no events; returns how many.
  caf::expected<uint64_t> cleanup_orphaned_tasks();

  /// The store actor, for actor code that wants to talk to it directly.
  store_actor handle() const {
    return handle_;
  }

  caf::actor_system& system() {
    return *sys_;
  }

  const store_options& options() const {
    return opts_;
  }

private:
  store(std::unique_ptr<system_config> cfg, std::unique_ptr<caf::actor_system> own,
        caf::actor_system* sys, store_actor handle, store_options opts);

  /// A store opened on an actor system of its own (with the node modules if opts.serve).
  static caf::expected<std::unique_ptr<store>> open_own(store_options opts);

  template <class Reply, class Request>
  caf::expected<Reply> ask(Request req);

  std::unique_ptr<system_config> own_cfg_;
  std::unique_ptr<caf::actor_system> own_sys_;
  caf::actor_system* sys_;
  store_actor handle_;
  store_options opts_;
  /// Reached through connect: requests time out after timeout_, and the node is not stopped here.
  bool remote_ = false;
  std::chrono::milliseconds timeout_{0};
};

} // namespace evstore
