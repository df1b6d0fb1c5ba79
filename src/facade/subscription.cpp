#include <caf/scoped_actor.hpp>

#include "store.hpp"
#include "actors/subscriber_proxy.hpp"
#include "caller_thread.hpp"

namespace evstore {

subscription::subscription(caf::actor_system& sys, store_actor store, subscriber_actor proxy,
                           std::shared_ptr<delivery_queue> queue, uint64_t id)
  : sys_(sys),
    store_(std::move(store)),
    proxy_(std::move(proxy)),
    queue_(std::move(queue)),
    id_(id) {
}

subscription::~subscription() {
  caf::anon_send(store_, unsubscribe_request{id_});
  // Wait for the proxy to end, so no callback runs once we return.
  const caller_thread_release release;
  caf::scoped_actor self{sys_};
  self->monitor(proxy_);
  self->send_exit(proxy_, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
}

std::optional<delivery> subscription::next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock{queue_->mtx};
  if (!queue_->ready.wait_for(lock, timeout,
                              [&] { return !queue_->items.empty() || queue_->closed; })
      || queue_->items.empty())
    return std::nullopt;
  auto d = std::move(queue_->items.front());
  queue_->items.pop_front();
  auto bus = queue_->bus;
  lock.unlock();
  if (d.what == delivery::kind::event)
    caf::anon_send(bus, bus_ack{d.subscription, 1});
  return d;
}

} // namespace evstore
