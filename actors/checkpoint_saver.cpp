#include "checkpoint_saver.hpp"

#include <caf/event_based_actor.hpp>

#include "messages/errc.hpp"
#include "src/storage/store_layout.hpp"

namespace evstore {

namespace {

caf::error save(const checkpoint_job& job) {
  std::string bytes;
  try {
    bytes = encode_checkpoint(*job.snapshot, job.scope, [&](std::string_view task) {
      return job.excluded.empty() || job.excluded.count(std::string{task}) == 0;
    });
  } catch (const std::bad_alloc&) { // no exception leaves an actor
    return make_error(errc::io_error, "index checkpoint does not fit in memory");
  }
  if (auto err = job.lock ? job.lock->verify() : caf::error{})
    return err;
  return replace_root_file(*job.root, checkpoint_file_name, checkpoint_temp_file_name, bytes);
}

void saver(caf::event_based_actor* self, const checkpoint_job& job) {
  // Detached: blocking here blocks only this actor's own thread.
  if (auto err = save(job))
    self->quit(std::move(err));
  else
    self->quit();
}

} // namespace

caf::actor spawn_checkpoint_saver(caf::local_actor* parent, checkpoint_job job) {
  return parent->spawn<caf::detached + caf::monitored>(saver, std::move(job));
}

} // namespace evstore
