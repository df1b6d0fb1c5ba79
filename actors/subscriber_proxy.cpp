#include "subscriber_proxy.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace evstore {

namespace {

using proxy_pointer = subscriber_actor::pointer;

void hand_over(proxy_pointer self, const std::shared_ptr<delivery_queue>& queue,
               const std::function<void(const delivery&)>& callback, delivery d) {
  const bool is_event = d.what == delivery::kind::event;
  auto bus = caf::actor_cast<bus_actor>(self->current_sender());
  if (!callback) {
    std::lock_guard<std::mutex> guard{queue->mtx};
    if (!queue->bus)
      queue->bus = bus;
    queue->items.push_back(std::move(d));
    queue->ready.notify_one();
    return;
  }
  try {
    callback(d);
  } catch (...) {
    self->quit(caf::sec::runtime_error);
    return;
  }
  if (is_event)
    self->send(bus, bus_ack{d.subscription, 1});
}

subscriber_actor::behavior_type
subscriber_proxy_behavior(proxy_pointer self, store_actor store,
                          std::shared_ptr<delivery_queue> queue,
                          std::function<void(const delivery&)> callback) {
  self->attach_functor([queue](const caf::error& reason) {
    std::lock_guard<std::mutex> guard{queue->mtx};
    queue->closed = true;
    // user_shutdown is the subscription's own destructor: not an error.
    if (!queue->ended_by && reason && reason != caf::exit_reason::user_shutdown)
      queue->ended_by = reason;
    queue->ready.notify_all();
  });
  // A connected store's node may die or drop the connection: CAF then reports its proxy down
  // (remote_link_unreachable), and the subscriber learns it instead of waiting forever.
  self->monitor(store);
  self->set_down_handler([=](caf::down_msg& down) {
    if (down.source != store)
      return;
    {
      std::lock_guard<std::mutex> guard{queue->mtx};
      queue->ended_by = make_error(
        errc::node_unavailable,
        down.reason == caf::exit_reason::remote_link_unreachable
          ? "the connection to the store's node was lost"
          : "the store stopped (" + self->system().render(down.reason) + ")");
    }
    self->quit(down.reason);
  });
  return {
    [=](bus_event& x) {
      hand_over(self, queue, callback,
                delivery{delivery::kind::event, x.subscription, std::move(x.ev), x.position, 0});
    },
    [=](const caught_up& x) {
      hand_over(self, queue, callback, delivery{delivery::kind::caught_up, x.subscription, {}, 0, 0});
    },
    [=](const lagged& x) {
      hand_over(self, queue, callback, delivery{delivery::kind::lagged, x.subscription, {}, 0, x.missed});
    },
  };
}

} // namespace

subscriber_actor spawn_subscriber_proxy(caf::actor_system& sys, const store_actor& store,
                                        std::shared_ptr<delivery_queue> queue,
                                        std::function<void(const delivery&)> callback) {
  return sys.spawn(subscriber_proxy_behavior, store, std::move(queue), std::move(callback));
}

} // namespace evstore
