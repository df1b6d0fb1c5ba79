#include "store.hpp"

#include <algorithm>
#include <deque>

#include <caf/scoped_actor.hpp>

#include "actors/subscriber_proxy.hpp"
#include "caller_thread.hpp"
#include "src/node/liveness.hpp"
#include "src/node/node_errors.hpp"

namespace evstore {

store::store(std::unique_ptr<system_config> cfg, std::unique_ptr<caf::actor_system> own,
             caf::actor_system* sys, store_actor handle, store_options opts)
  : own_cfg_(std::move(cfg)),
    own_sys_(std::move(own)),
    sys_(sys),
    handle_(std::move(handle)),
    opts_(std::move(opts)) {
}

caf::expected<std::unique_ptr<store>> store::open(store_options opts) {
  return open_own(std::move(opts));
}

caf::expected<std::unique_ptr<store>> store::open_own(store_options opts) {
  const caller_thread_release release; // the system made here (caller_thread.hpp)
  if (auto err = validate(opts))
    return err;
  auto cfg = std::make_unique<system_config>();
  if (opts.serve) {
    auto credential = opts.serve_credential.empty() ? ensure_node_credential(opts.root)
                                                    : caf::expected<std::string>{opts.serve_credential};
    if (!credential)
      return credential.error();
    if (auto err = configure_node(*cfg, *credential))
      return err;
  }
  auto sys = std::make_unique<caf::actor_system>(*cfg);
  auto handle = spawn_store(*sys, opts);
  if (!handle)
    return handle.error();
  auto* raw = sys.get();
  return std::unique_ptr<store>{
    new store(std::move(cfg), std::move(sys), raw, std::move(*handle), std::move(opts))};
}

caf::expected<std::unique_ptr<store>> store::open(caf::actor_system& sys, store_options opts) {
  const caller_thread_release release; // spawning takes one too (caller_thread.hpp)
  auto handle = spawn_store(sys, opts);
  if (!handle)
    return handle.error();
  return std::unique_ptr<store>{new store(nullptr, nullptr, &sys, std::move(*handle), std::move(opts))};
}

store::~store() {
  // A connected store's handle is its local node client (node_client.hpp): stopping it leaves
  // the node, which serves others too, running.
  caf::anon_send_exit(handle_, caf::exit_reason::user_shutdown);
  handle_ = nullptr;
  // With an own system, its destructor waits for the store and the writers it stops to finish, which
  // closes (and, under durability::fsynced, syncs) every file and releases the lock.
  own_sys_.reset();
}

template <class Reply, class Request>
caf::expected<Reply> store::ask(Request req) {
  const caller_thread_release release; // runs after the scoped actor's end (caller_thread.hpp)
  caf::scoped_actor self{*sys_};
  caf::expected<Reply> out{caf::error{}};
  // A node's work waits for the node while it lives (src/node/liveness.hpp).
  caf::duration timeout = remote_ && !waits_for_the_work<Request> ? caf::duration{timeout_}
                                                                    : caf::infinite;
  self->request(handle_, timeout, std::move(req))
    .receive([&](Reply& reply) { out = std::move(reply); },
             [&](caf::error& err) { out = remote_ ? node_error(err, timeout_) : std::move(err); });
  return out;
}

caf::expected<append_result> store::append(event ev, caf::optional<uint64_t> expected_version) {
  return ask<append_result>(append_request{std::move(ev), expected_version});
}

caf::expected<std::vector<append_outcome>>
store::append_batch(std::vector<append_request> appends) {
  auto res = ask<append_batch_result>(append_batch_request{std::move(appends)});
  if (!res)
    return res.error();
  return std::move(res->outcomes);
}

caf::error
store::append_pipelined(const std::function<bool(std::vector<append_request>&)>& next,
                        const std::function<bool(std::vector<append_outcome>&)>& done,
                        size_t window) {
  const caller_thread_release release;
  caf::scoped_actor self{*sys_};
  caf::duration timeout = remote_ ? caf::duration{timeout_} : caf::infinite;
  using handle = decltype(self->request(handle_, timeout, append_batch_request{}));
  // One sender, so the store receives the batches in the order sent; their answers are taken in
  // that order too, whichever finishes first.
  std::deque<handle> in_flight;
  bool more = true;
  caf::error failure;
  while (!failure && (more || !in_flight.empty())) {
    while (more && in_flight.size() < std::max<size_t>(window, 1)) {
      std::vector<append_request> batch;
      more = next(batch);
      if (!batch.empty())
        in_flight.push_back(self->request(handle_, timeout, append_batch_request{std::move(batch)}));
    }
    if (in_flight.empty())
      break;
    auto answer = std::move(in_flight.front());
    in_flight.pop_front();
    std::move(answer).receive(
      [&](append_batch_result& res) {
        if (!done(res.outcomes))
          more = false;
      },
      [&](caf::error& err) { failure = remote_ ? node_error(err, timeout_) : std::move(err); });
  }
  // After a failure, the answers still due are left to the scoped actor's end: they are dropped.
  return failure;
}

caf::expected<read_result> store::read_task(const std::string& task, uint64_t from) {
  return ask<read_result>(read_request{task, from});
}

caf::expected<std::vector<std::string>> store::list_tasks(bool include_system_log) {
  auto res = ask<task_list>(list_tasks_request{include_system_log});
  if (!res)
    return res.error();
  return std::move(res->tasks);
}

caf::expected<query_result> store::query_by_type_prefix(const std::string& prefix,
                                                       uint64_t limit,
                                                       caf::optional<timestamp> since) {
  return ask<query_result>(query_request{prefix, limit, since});
}

caf::expected<query_result> store::query_by_type(const std::string& type, uint64_t limit,
                                                 caf::optional<timestamp> since) {
  return ask<query_result>(query_request{type, limit, since, /*exact_type=*/true});
}

caf::expected<query_result> store::query(query_request req) {
  return ask<query_result>(std::move(req));
}

caf::expected<index_stats> store::index_statistics() {
  return ask<index_stats>(stats_request{});
}

caf::expected<index_stats> store::wait_for_index() {
  return ask<index_stats>(await_index_request{});
}

caf::expected<compact_result> store::compact_task(const std::string& task,
                                                  retention_policy policy, bool dry_run) {
  if (auto err = validate(policy))
    return err;
  return ask<compact_result>(compact_request{task, policy, dry_run});
}

caf::expected<compact_result> store::compact_all(retention_policy policy, bool dry_run) {
  if (auto err = validate(policy))
    return err;
  return ask<compact_result>(compact_all_request{policy, dry_run});
}

caf::expected<uint64_t> store::cleanup_orphaned_tasks() {
  auto res = ask<cleanup_result>(cleanup_request{});
  if (!res)
    return res.error();
  return res->removed;
}

} // namespace evstore

namespace evstore {

caf::expected<std::unique_ptr<subscription>>
store::subscribe(subscribe_options opts, std::function<void(const delivery&)> on_delivery) {
  auto queue = std::make_shared<delivery_queue>();
  auto proxy = spawn_subscriber_proxy(*sys_, handle_, queue, std::move(on_delivery));
  subscribe_request req{std::move(opts.filter), caf::actor_cast<caf::strong_actor_ptr>(proxy),
                        opts.buffer, opts.drop_on_overflow, std::move(opts.catch_up)};
  auto res = ask<subscribed>(std::move(req));
  if (!res) {
    caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown);
    return res.error();
  }
  return std::unique_ptr<subscription>{
    new subscription(*sys_, handle_, std::move(proxy), std::move(queue), res->id)};
}

caf::error subscription::error() const {
  std::lock_guard<std::mutex> guard{queue_->mtx};
  return queue_->ended_by;
}

caf::expected<std::unique_ptr<subscription>> store::subscribe(subscribe_options opts) {
  return subscribe(std::move(opts), nullptr);
}

caf::expected<bus_stats> store::bus_statistics() {
  return ask<bus_stats>(bus_stats_request{});
}

} // namespace evstore
