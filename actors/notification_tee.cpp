#include "notification_tee.hpp"

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace evstore {

namespace {

notification_sink::behavior_type notification_tee_behavior(notification_sink::pointer,
                                                           index_actor index,
                                                           notification_sink other) {
  auto both = [=](const auto& note) {
    caf::anon_send(index, note);
    caf::anon_send(other, note);
  };
  return {
    [=](const task_summary& x) { both(x); },
    [=](const task_extended& x) { both(x); },
    [=](const appended& x) { both(x); },
    [=](const compacted& x) { both(x); },
    [=](const task_removed& x) { both(x); },
  };
}

} // namespace

notification_sink spawn_notification_tee(caf::local_actor* parent, index_actor index,
                                         notification_sink other) {
  return parent->spawn<caf::linked>(notification_tee_behavior, std::move(index), std::move(other));
}

} // namespace evstore
