#include "checkpoint_saver.hpp"

#include <caf/typed_event_based_actor.hpp>

#include "src/storage/store_layout.hpp"

namespace evstore {

namespace {

struct saver_state {
  static inline const char* name = "evstore.checkpoint_saver";
  /// Ourselves, until we quit: the last save may still be queued when the index, our only other
  /// reference, is gone.
  checkpoint_saver keep_alive;
};

checkpoint_saver::behavior_type saver_behavior(checkpoint_saver::stateful_pointer<saver_state> self,
                                               std::shared_ptr<const store_root> root,
                                               std::shared_ptr<const store_lock> lock) {
  self->state.keep_alive = caf::actor_cast<checkpoint_saver>(self);
  // The index's end (we are linked) overtakes its last save in our mailbox: quit after it.
  self->set_exit_handler([=](caf::exit_msg&) { self->send(self, close_atom::value); });
  return {
    [=](save_checkpoint& req) -> caf::result<bool> {
      // Another process may have taken the store over (LOCK removed behind us): its checkpoint
      // must not be replaced by ours.
      caf::error err = lock ? lock->verify() : caf::error{};
      if (!err)
        err = replace_root_file(*root, checkpoint_file_name, checkpoint_temp_file_name, req.bytes);
      if (req.last)
        self->quit();
      if (err)
        return err;
      return true;
    },
    [=](close_atom) { self->quit(); },
  };
}

} // namespace

checkpoint_saver spawn_checkpoint_saver(caf::actor_system& sys,
                                        std::shared_ptr<const store_root> root,
                                        std::shared_ptr<const store_lock> lock) {
  return sys.spawn<caf::detached>(saver_behavior, std::move(root), std::move(lock));
}

} // namespace evstore
