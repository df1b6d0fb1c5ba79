#include "population_worker.hpp"

#include <system_error>
#include <thread>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "gather.hpp"
#include "messages/errc.hpp"

namespace evstore {

namespace {

// At most this many bytes of files are being read at once by a pass (besides its window of files),
// once three are (two or three keep two cores busy, however big): an append arriving meanwhile
// waits on the scheduler behind little reading (a few ms), while a store of many small files keeps
// its window full. Three files of 4 MB, five of 400 KB, or 50 of 40 KB. Measured (evstore-bench, 1,000 tasks of 400 KB): the p99 of appends made during population
// was 5-9 ms at 2 MiB, 15-22 ms at 12 MiB; 100,000 files of 40 KB open as fast at either.
constexpr uint64_t bytes_in_flight = 2 << 20;
constexpr size_t files_in_flight_at_least = 3;

// A task whose file the index does not know as it is, and how much of it its writer reads.
struct to_load {
  std::string task;
  uint64_t bytes;
};

// The tasks whose files the index does not know as they are: listed but unknown or different, and
// known but no longer listed.
std::vector<to_load> differing(known_files& known, std::vector<task_file>& listed) {
  std::unordered_map<std::string, file_extent> by_task;
  by_task.reserve(known.tasks.size());
  for (size_t i = 0; i < known.tasks.size(); ++i)
    by_task.emplace(std::move(known.tasks[i]), known.extents[i]);
  std::vector<to_load> out;
  for (auto& file : listed) {
    auto it = by_task.find(file.task);
    const bool known_file = it != by_task.end() && it->second.file_id == file.file_id;
    const bool same = known_file && it->second.bytes == file.bytes;
    // A file that grew is read from where the index's knowledge ends.
    const uint64_t from = known_file && it->second.bytes < file.bytes ? it->second.bytes : 0;
    if (it != by_task.end())
      by_task.erase(it);
    if (!same)
      out.push_back(to_load{std::move(file.task), file.bytes - from});
  }
  for (auto& [task, extent] : by_task)
    out.push_back(to_load{task, 0}); // gone: its writer finds no file and tells the index
  return out;
}

// Has the writers load the tasks in `loads`, a window at a time, then tells the store the pass is
// done. Event-based, unlike the lister: each of 100,000 replies would otherwise wake a thread of its
// own (a futex wake and a context switch per file, 7% of a cold open's CPU at 100,000 tasks).
caf::behavior pump_behavior(caf::event_based_actor* self, store_internal_actor store,
                            index_actor index, size_t window, std::vector<to_load> loads) {
  gather_weighted<uint64_t>(
    std::move(loads), std::max<size_t>(window, 1), files_in_flight_at_least,
    [](const to_load& load) { return load.bytes; }, bytes_in_flight,
    [=](const to_load& load) {
      return self->request(store, caf::infinite, populate_request{load.task});
    },
    [](const to_load&, uint64_t) {},
    [=](const to_load& load, caf::error& err) {
      // An unreadable file: the index must not answer as if the task were empty.
      self->send(index, population_failed{load.task, render(err)});
    },
    [=] {
      self->send(store, population_done{});
      self->quit();
    });
  return {[](caf::unit_t) {}};
}

// Lists the files (or waits for a listing begun before it), compares them with what the index
// knows, sends the index its plan and hands the loads to a pump. Detached: listing and stat-ing
// 100,000 files blocks, and the scheduler's threads are the writers' (appends go on meanwhile).
caf::behavior lister_behavior(caf::event_based_actor* self, store_internal_actor store,
                              index_actor index, std::shared_ptr<const store_root> root,
                              size_t window, known_files known, task_listing listing) {
  auto listed = listing.files ? listing.files->get() : list_task_files(*root);
  if (!listed) { // the index must not answer as if the store were empty
    self->send(index, population_plan{{}, 0});
    self->send(index, population_failed{listing_failure, render(listed.error())});
    self->send(store, population_done{});
    self->quit();
    return {};
  }
  const uint64_t count = listed->size();
  auto loads = differing(known, *listed);
  std::vector<std::string> tasks;
  tasks.reserve(loads.size());
  for (const auto& load : loads)
    tasks.push_back(load.task);
  // The plan goes first, so the index knows what "complete" means before any report counts.
  self->send(index, population_plan{std::move(tasks), count});
  self->spawn(pump_behavior, store, index, window, std::move(loads));
  self->quit();
  return {};
}

} // namespace

task_listing task_listing::start(std::shared_ptr<const store_root> root) {
  using listing = caf::expected<std::vector<task_file>>;
  task_listing out;
  out.began = std::chrono::steady_clock::now();
  // A thread of its own with a promise, not std::async: the future of std::async blocks in its
  // destructor until the listing ends, and a store closed before its first pass would destroy it
  // inside the store actor.
  auto promise = std::make_shared<std::promise<listing>>();
  auto files = std::make_shared<std::future<listing>>(promise->get_future());
  try {
    std::thread([root, promise] {
      try {
        promise->set_value(list_task_files(*root));
      } catch (const std::bad_alloc&) { // no exception may reach the actor that waits for it
        promise->set_value(make_error(errc::io_error, "cannot list the task files: out of memory"));
      }
    }).detach();
  } catch (const std::system_error&) { // no thread to spare: the pass lists on its own
    return out;
  }
  out.files = std::move(files);
  return out;
}

void spawn_population_worker(store_internal_actor::pointer store, index_actor index,
                             std::shared_ptr<const store_root> root, size_t window,
                             known_files known, task_listing listing) {
  store->spawn<caf::detached>(lister_behavior, caf::actor_cast<store_internal_actor>(store), std::move(index),
               std::move(root), window, std::move(known), std::move(listing));
}

} // namespace evstore
