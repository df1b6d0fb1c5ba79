#include "population_worker.hpp"

#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "gather.hpp"
#include "messages/errc.hpp"

namespace evstore {

namespace {

// The tasks whose files the index does not know as they are: listed but unknown or different, and
// known but no longer listed.
std::vector<std::string> differing(known_files& known, std::vector<task_file>& listed) {
  std::unordered_map<std::string, file_extent> by_task;
  by_task.reserve(known.tasks.size());
  for (size_t i = 0; i < known.tasks.size(); ++i)
    by_task.emplace(std::move(known.tasks[i]), known.extents[i]);
  std::vector<std::string> out;
  for (auto& file : listed) {
    auto it = by_task.find(file.task);
    const bool same = it != by_task.end() && it->second.file_id == file.file_id
                      && it->second.bytes == file.bytes;
    if (it != by_task.end())
      by_task.erase(it);
    if (!same)
      out.push_back(std::move(file.task));
  }
  for (auto& [task, extent] : by_task)
    out.push_back(task); // gone: its writer finds no file and tells the index
  return out;
}

caf::behavior population_behavior(caf::event_based_actor* self, store_internal_actor store,
                                  index_actor index, std::shared_ptr<const store_root> root,
                                  size_t window, known_files known, task_listing listing) {
  // Detached, this actor has a thread of its own to wait on a listing begun before it.
  auto listed = listing.files ? listing.files->get() : list_task_files(*root);
  if (!listed) { // the index must not answer as if the store were empty
    self->send(index, population_plan{{}, 0});
    self->send(index, population_failed{listing_failure, render(listed.error())});
    self->send(store, population_done{});
    self->quit();
    return {};
  }
  const uint64_t count = listed->size();
  auto tasks = differing(known, *listed);
  // The plan goes first, so the index knows what "complete" means before any report counts.
  self->send(index, population_plan{tasks, count});
  gather<uint64_t>(
    std::move(tasks), std::max<size_t>(window, 1),
    [=](const std::string& task) {
      return self->request(store, caf::infinite, populate_request{task});
    },
    [](const std::string&, uint64_t) {},
    [=](const std::string& task, caf::error& err) {
      // An unreadable file: the index must not answer as if the task were empty.
      self->send(index, population_failed{task, render(err)});
    },
    [=] {
      self->send(store, population_done{});
      self->quit();
    });
  return {[](caf::unit_t) {}};
}

} // namespace

task_listing task_listing::start(std::shared_ptr<const store_root> root) {
  task_listing out;
  out.began = std::chrono::steady_clock::now();
  out.files = std::make_shared<std::future<caf::expected<std::vector<task_file>>>>(
    std::async(std::launch::async, [root]() -> caf::expected<std::vector<task_file>> {
      try {
        return list_task_files(*root);
      } catch (const std::bad_alloc&) { // no exception may reach the actor that waits for it
        return make_error(errc::io_error, "cannot list the task files: out of memory");
      }
    }));
  return out;
}

void spawn_population_worker(store_internal_actor::pointer store, index_actor index,
                             std::shared_ptr<const store_root> root, size_t window,
                             known_files known, task_listing listing) {
  // Detached: listing and stat-ing 100,000 files takes a while, and the scheduler's threads are the
  // writers' (appends go on during population).
  store->spawn<caf::detached>(population_behavior, caf::actor_cast<store_internal_actor>(store), std::move(index),
               std::move(root), window, std::move(known), std::move(listing));
}

} // namespace evstore
