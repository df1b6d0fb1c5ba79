#include "rebalance.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/node_connector.hpp"
#include "actors/node_gate.hpp"
#include "membership.hpp"
#include "messages/errc.hpp"
#include "messages/system_config.hpp"
#include "src/facade/node.hpp"

namespace evstore {

namespace {

struct node_link {
  cluster_member member;
  node_actor gate;
  /// Connects to the member (node_connector.hpp: a bounded probe, then CAF's middleman).
  caf::actor connector;
};

std::string shown(const std::string& task) {
  return task.empty() ? std::string{"the system-wide log"} : "task '" + task + "'";
}

/// Asks `gate` once and answers the asker with the reply, or with node_unavailable as soon as the
/// gate is gone (a node killed, a connection dropped): a blocking request alone would wait for its
/// whole timeout, since CAF 0.17 answers nothing for a request lost with its connection.
template <class Reply, class Request>
caf::behavior ask_once(caf::event_based_actor* self, node_actor gate, Request req,
                       std::chrono::milliseconds timeout) {
  return {
    [=](caf::get_atom) mutable {
      auto promise = self->make_response_promise();
      self->monitor(gate);
      self->set_down_handler([=](caf::down_msg& down) {
        if (down.source != gate)
          return;
        auto answer = promise;
        const auto why = self->system().render(down.reason);
        answer.deliver(make_error(errc::node_unavailable, "the connection was lost: " + why));
        self->quit();
      });
      self->request(gate, timeout, std::move(req))
        .then(
          [=](Reply& reply) mutable {
            promise.deliver(std::move(reply));
            self->quit();
          },
          [=](caf::error& err) mutable {
            promise.deliver(std::move(err));
            self->quit();
          });
      return promise;
    },
  };
}

/// What the command's workers share: the report, and whether to stop (told so, or one failed).
class shared_run {
public:
  explicit shared_run(const rebalance_options& opts) : opts_(opts) {
  }

  /// False: stop here (rebalance_options::after_step, or another worker stopped or failed).
  bool step(const std::string& what) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (report_.stopped || failure_)
      return false;
    if (opts_.after_step && !opts_.after_step(what))
      report_.stopped = true;
    return !report_.stopped;
  }
  bool going() {
    std::lock_guard<std::mutex> guard{mtx_};
    return !report_.stopped && !failure_;
  }
  void fail(caf::error err) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!failure_)
      failure_ = std::move(err);
  }
  void count(uint64_t moved, uint64_t resumed, uint64_t bytes) {
    std::lock_guard<std::mutex> guard{mtx_};
    report_.moved += moved;
    report_.resumed += resumed;
    report_.bytes_copied += bytes;
  }
  caf::expected<rebalance_report> outcome() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (failure_)
      return failure_;
    return report_;
  }
  const rebalance_options& opts() const {
    return opts_;
  }

private:
  std::mutex mtx_;
  const rebalance_options& opts_;
  rebalance_report report_;
  caf::error failure_;
};

class rebalancer {
public:
  rebalancer(caf::actor_system& sys, shared_run& run)
    : self_(sys), run_(run), opts_(run.opts()) {
  }

  /// One request to a node, waited for; errors name the node and the step.
  template <class Reply, class Request>
  caf::expected<Reply> ask(const node_link& n, const std::string& step, Request req) {
    caf::expected<Reply> out = make_error(errc::node_unavailable, "no answer");
    auto asker = self_->home_system().spawn(ask_once<Reply, Request>, n.gate, std::move(req),
                                            opts_.timeout);
    self_->request(asker, caf::infinite, caf::get_atom::value)
      .receive([&](Reply& r) { out = std::move(r); },
               [&](caf::error& err) {
                 const bool ours = err.category() == caf::atom("evstore");
                 const auto code = ours ? static_cast<errc>(err.code()) : errc::node_unavailable;
                 out = make_error(code, "node '" + n.member.name + "' (" + step
                                          + "): " + self_->home_system().render(err));
               });
    return out;
  }

  /// The gate a member's connector (node_connector.hpp) reaches within `timeout`.
  caf::expected<node_actor> reach(const caf::actor& connector, std::chrono::milliseconds timeout) {
    caf::expected<node_actor> out = make_error(errc::node_unavailable, "no answer");
    auto& sys = self_->home_system();
    self_->request(connector, timeout, caf::connect_atom::value)
      .receive(
        [&](const caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
          if (!ptr || !sys.assignable<node_actor>(ifs))
            out = make_error(errc::node_unavailable, "it serves no evstore node");
          else
            out = caf::actor_cast<node_actor>(std::move(ptr));
        },
        [&](caf::error& err) {
          out = err == caf::sec::request_timeout
                  ? make_error(errc::node_unavailable,
                               "no answer within " + std::to_string(timeout.count()) + " ms")
                  : std::move(err);
        });
    return out;
  }

  /// False: stop here.
  bool done(const std::string& step) {
    return run_.step(step);
  }

  /// Copies `task` from `from` to `to` unless `to` holds it already, then releases it on `from`.
  /// Returns false if told to stop.
  caf::expected<bool> move(const std::string& task, const node_link& from, const node_link& to) {
    auto source = ask<task_digest>(from, "digest of " + shown(task), task_digest_request{task});
    if (!source)
      return source.error();
    if (!source->exists)
      return true; // gone meanwhile (nothing writes now: a listing older than a release)
    auto target = ask<task_digest>(to, "digest of " + shown(task), task_digest_request{task});
    if (!target)
      return target.error();
    if (target->exists && (target->size != source->size || target->crc != source->crc))
      return make_error(errc::id_conflict,
                        shown(task) + " is on node '" + from.member.name + "' and on node '"
                          + to.member.name + "' with different histories; neither is removed");
    if (target->exists) {
      run_.count(0, 1, 0);
    } else {
      uint64_t offset = 0;
      do {
        const auto step = "copy " + shown(task) + " " + from.member.name + "->" + to.member.name
                          + " at " + std::to_string(offset);
        auto chunk = ask<task_chunk>(
          from, step,
          export_chunk_request{task, offset, std::min(opts_.chunk_bytes, source->size - offset)});
        if (!chunk)
          return chunk.error();
        if (chunk->bytes.empty() && offset < source->size)
          return make_error(errc::io_error, shown(task) + " on node '" + from.member.name
                                              + "' ended at " + std::to_string(offset)
                                              + " bytes, before its digest's "
                                              + std::to_string(source->size));
        const uint64_t n = chunk->bytes.size();
        auto written = ask<task_digest>(
          to, step, import_chunk_request{task, offset, std::move(chunk->bytes), source->size,
                                         source->crc});
        if (!written)
          return written.error();
        offset += n;
        // The last chunk's answer is the committed file's digest: the source goes only for that.
        if (offset >= source->size
            && (!written->exists || written->size != source->size || written->crc != source->crc))
          return make_error(errc::io_error, shown(task) + " on node '" + to.member.name
                                              + "' does not match its source after the copy");
        run_.count(0, 0, n);
        if (!done(offset < source->size ? step : "commit " + shown(task) + " on "
                                                   + to.member.name))
          return false;
      } while (offset < source->size);
    }
    auto released = ask<task_digest>(from, "release of " + shown(task),
                                     release_task_request{task, source->size, source->crc});
    if (!released)
      return released.error();
    run_.count(1, 0, 0);
    return done("release " + shown(task) + " on " + from.member.name);
  }

private:
  caf::scoped_actor self_;
  shared_run& run_;
  const rebalance_options& opts_;
};

/// A node's gate and its statistics, as it answered them.
struct reached_gate {
  node_actor gate;
  index_stats stats;
};

/// The gate serving at `m`'s address, once it answers its statistics. A run stopped or killed
/// just after a node ended (an earlier run's) and run again can meet that node's retired gate,
/// which answers on the port until its successor is published there (node_gate.cpp: the port is
/// tried every 10 ms) and refuses everything with `rebalancing`, or meet the port closed between
/// the two: both are tried again, the closed port for a second, the retired gate for `timeout`.
/// `unreachable_note` ends the error of a node that cannot be reached for that second.
caf::expected<reached_gate> connect_member(caf::actor_system& sys, rebalancer& run,
                                           const cluster_member& m, const caf::actor& connector,
                                           std::chrono::milliseconds timeout,
                                           const std::string& unreachable_note) {
  const auto start = std::chrono::steady_clock::now();
  auto waited = [&] { return std::chrono::steady_clock::now() - start; };
  for (;;) {
    auto gate = run.reach(connector, timeout);
    if (!gate) {
      if (waited() < std::chrono::seconds{1}) {
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
        continue;
      }
      return make_error(errc::node_unavailable,
                        "node '" + m.name + "' (" + m.host + ":" + std::to_string(m.port)
                          + ") cannot be reached: " + sys.render(gate.error()) + unreachable_note);
    }
    auto stats = run.ask<index_stats>(node_link{m, *gate, connector}, "statistics",
                                      stats_request{});
    if (stats)
      return reached_gate{std::move(*gate), std::move(*stats)};
    const bool handing_over = is(stats.error(), errc::rebalancing)
                              || is(stats.error(), errc::node_unavailable);
    if (!handing_over || waited() >= timeout)
      return stats.error();
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

/// Waits until the node at `n`'s address answers with a gate serving `key` (the old gate ended).
caf::error await_new_gate(caf::actor_system& sys, rebalancer& run, const node_link& n,
                          const std::string& key, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::string last = "no answer";
  for (auto now = std::chrono::steady_clock::now(); now < until;
       now = std::chrono::steady_clock::now()) {
    auto got = connect_member(sys, run, n.member, n.connector,
                              std::chrono::duration_cast<std::chrono::milliseconds>(until - now), "");
    if (!got)
      last = sys.render(got.error());
    else if (got->gate != n.gate && !got->stats.cluster_rebalancing
             && got->stats.cluster_membership == key)
      return caf::none;
    else
      last = "it serves '" + got->stats.cluster_membership + "'";
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return make_error(errc::node_unavailable, "node '" + n.member.name + "' ended the rebalance but "
                                              "does not serve the new membership on its port: "
                                              + last);
}

} // namespace

caf::expected<rebalance_report> rebalance_cluster(const rebalance_options& opts) {
  if (opts.chunk_bytes == 0 || opts.parallel_moves == 0 || opts.timeout.count() <= 0)
    return make_error(errc::invalid_argument,
                      "chunk_bytes, parallel_moves and timeout must be positive");
  auto from = read_membership(opts.from_file);
  if (!from)
    return from.error();
  std::string to_text; // what every node is sent, so they all hold the file `to` was parsed from
  auto to = read_membership(opts.to_file, &to_text);
  if (!to)
    return to.error();
  // Every node of either file, by name; the new file's address where both list it.
  std::map<std::string, cluster_member> members;
  for (const auto& m : from->nodes)
    members[m.name] = m;
  for (const auto& m : to->nodes)
    members[m.name] = m;
  system_config cfg;
  if (auto err = configure_node(cfg, to->credential))
    return err;
  caf::actor_system sys{cfg};
  shared_run shared{opts};
  rebalancer run{sys, shared};
  // One connector per member for the whole run, ended with it (each holds a middleman actor).
  std::map<std::string, caf::actor> connectors;
  for (const auto& [name, m] : members)
    connectors[name] = spawn_node_connector(sys, m.host, m.port, opts.timeout);
  struct end_connectors {
    std::map<std::string, caf::actor>& all;
    ~end_connectors() {
      for (auto& [name, c] : all)
        caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    }
  } ending{connectors};
  std::map<std::string, node_link> nodes;
  for (const auto& [name, m] : members) {
    auto reached = connect_member(sys, run, m, connectors[name], opts.timeout,
                                  "; nothing was begun");
    if (!reached)
      return reached.error();
    auto gate = std::move(reached->gate);
    // Two names reaching one process would have a task "moved" onto itself and then released.
    for (const auto& [other, link] : nodes)
      if (link.gate.node() == gate.node())
        return make_error(errc::invalid_argument, "nodes '" + other + "' and '" + name
                                                    + "' are the same process; give each member "
                                                      "its own node to rebalance");
    nodes.emplace(name, node_link{m, std::move(gate), connectors[name]});
  }
  auto stopped = [&]() -> caf::expected<rebalance_report> { return shared.outcome(); };
  for (const auto& [name, n] : nodes) {
    auto began = run.ask<rebalance_status>(n, "begin", rebalance_begin_request{to_text});
    if (!began)
      return began.error();
    if (!run.done("begin " + name))
      return stopped();
  }
  // One job per task, with every node that holds it and should not: a task on two such nodes
  // (left so by an earlier inconsistency) moves from one, then the other's copy is compared with
  // it, one after the other, never two copies into one incoming file at once.
  struct move_job {
    std::string task;
    std::vector<const node_link*> from;
    const node_link* to;
  };
  std::vector<move_job> jobs;
  std::map<std::string, size_t> job_of;
  for (const auto& [name, n] : nodes) {
    auto held = run.ask<task_list>(n, "listing", held_tasks_request{});
    if (!held)
      return held.error();
    for (auto& task : held->tasks) {
      const auto& owner = to->nodes[to->owner_of(task)].name;
      if (owner == name)
        continue;
      auto [it, added] = job_of.emplace(task, jobs.size());
      if (added)
        jobs.push_back(move_job{std::move(task), {}, &nodes.at(owner)});
      jobs[it->second].from.push_back(&n);
    }
  }
  // Tasks move side by side (each is its own writers' on both nodes): a small task's move is a few
  // round trips and fsyncs, which one at a time would leave the disks and the network idle.
  std::atomic<size_t> next{0};
  auto work = [&] {
    rebalancer worker{sys, shared};
    for (size_t k; shared.going() && (k = next++) < jobs.size();)
      for (const node_link* from : jobs[k].from) {
        auto moved = worker.move(jobs[k].task, *from, *jobs[k].to);
        if (!moved)
          shared.fail(moved.error());
        if (!moved || !*moved)
          return;
      }
  };
  std::vector<std::thread> workers;
  for (size_t w = 0; w < std::min<size_t>(opts.parallel_moves, jobs.size()); ++w)
    workers.emplace_back(work);
  for (auto& t : workers)
    t.join();
  if (auto now = shared.outcome(); !now || now->stopped)
    return now;
  for (const auto& [name, n] : nodes) {
    auto ended = run.ask<rebalance_status>(n, "end", rebalance_end_request{to_text});
    if (!ended)
      return ended.error();
    if (!run.done("end " + name))
      return stopped();
  }
  // Each node publishes a new gate as it ends (node_gate.hpp); the run is over once every node
  // answers on its port under the new membership, so a client started next finds it there.
  for (const auto& [name, n] : nodes)
    if (auto err = await_new_gate(sys, run, n, to->ownership_key(), opts.timeout))
      return err;
  return shared.outcome();
}

} // namespace evstore
