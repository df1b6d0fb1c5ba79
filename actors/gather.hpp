#pragma once

// The one way the store's actors wait for many replies: cleanup asking each task's writer, compact_all
// and population walking every task, a query fetching from the writers its plan names, a subscription
// querying history per pattern. Each sends one request per item and acts once the last reply or error
// is in; a window bounds how many are in flight, so walking 100,000 tasks never floods a mailbox.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <caf/error.hpp>

namespace evstore {

namespace detail {

/// What an item weighs when nothing says otherwise: nothing.
struct weightless {
  template <class Item>
  uint64_t operator()(const Item&) const {
    return 0;
  }
};

template <class Reply, class Item, class Send, class OnReply, class OnError, class OnDone,
          class Weight = weightless>
class gathering
  : public std::enable_shared_from_this<
      gathering<Reply, Item, Send, OnReply, OnError, OnDone, Weight>> {
public:
  gathering(std::vector<Item> items, size_t window, Send send, OnReply on_reply, OnError on_error,
            OnDone on_done, Weight weight = {}, uint64_t max_weight = 0, size_t min_in_flight = 1)
    : items_(std::move(items)),
      window_(window == 0 ? items_.size() : window),
      weight_(std::move(weight)),
      max_weight_(max_weight),
      min_in_flight_(std::max<size_t>(min_in_flight, 1)),
      send_(std::move(send)),
      on_reply_(std::move(on_reply)),
      on_error_(std::move(on_error)),
      on_done_(std::move(on_done)) {
  }

  // Sends until the window is full; after the last answer, calls on_done. Re-entered from each
  // answer's handler, later, from the actor's mailbox (never recursively within one call).
  void step() {
    auto keep = this->shared_from_this(); // the pending handlers own this gathering
    while (in_flight_ < window_ && next_ < items_.size()) {
      const uint64_t w = weight_(items_[next_]);
      // Over the weight limit, wait; but always min_in_flight_ in flight, however heavy.
      if (max_weight_ > 0 && in_flight_ >= min_in_flight_ && weight_in_flight_ + w > max_weight_)
        break;
      ++in_flight_;
      weight_in_flight_ += w;
      const size_t i = next_++;
      send_(items_[i]).then(
        [keep, i, w](Reply& reply) {
          keep->on_reply_(keep->items_[i], reply);
          keep->answered(w);
        },
        [keep, i, w](caf::error& err) {
          keep->on_error_(keep->items_[i], err);
          keep->answered(w);
        });
    }
    if (in_flight_ == 0 && next_ == items_.size() && !done_) {
      done_ = true;
      on_done_();
    }
  }

private:
  void answered(uint64_t weight) {
    --in_flight_;
    weight_in_flight_ -= weight;
    step();
  }

  std::vector<Item> items_;
  size_t window_;
  Weight weight_;
  uint64_t max_weight_;
  size_t min_in_flight_;
  uint64_t weight_in_flight_ = 0;
  size_t next_ = 0;
  size_t in_flight_ = 0;
  bool done_ = false;
  Send send_;
  OnReply on_reply_;
  OnError on_error_;
  OnDone on_done_;
};

} // namespace detail

/// For each of `items`, sends the request `send(item)` makes (it returns what `self->request(...)`
/// returns), with at most `window` in flight (0: all at once). Each reply goes to
/// `on_reply(item, Reply&)`, each error to `on_error(item, caf::error&)`; once all are answered,
/// `on_done()` runs, once (at once if `items` is empty). Everything runs in the requesting actor's
/// context, one callback at a time, so the callbacks may touch its state.
template <class Reply, class Item, class Send, class OnReply, class OnError, class OnDone>
void gather(std::vector<Item> items, size_t window, Send send, OnReply on_reply, OnError on_error,
            OnDone on_done) {
  using gathering = detail::gathering<Reply, Item, Send, OnReply, OnError, OnDone>;
  std::make_shared<gathering>(std::move(items), window, std::move(send), std::move(on_reply),
                              std::move(on_error), std::move(on_done))
    ->step();
}

/// gather, with each item weighing `weight(item)` and at most `max_weight` of them in flight besides
/// the window, except that `min_in_flight` items are always let go, however heavy (within the
/// window): the population reads at most so many bytes at once, yet keeps the cores busy.
template <class Reply, class Item, class Send, class OnReply, class OnError, class OnDone,
          class Weight>
void gather_weighted(std::vector<Item> items, size_t window, size_t min_in_flight, Weight weight,
                     uint64_t max_weight, Send send, OnReply on_reply, OnError on_error,
                     OnDone on_done) {
  using gathering = detail::gathering<Reply, Item, Send, OnReply, OnError, OnDone, Weight>;
  std::make_shared<gathering>(std::move(items), window, std::move(send), std::move(on_reply),
                              std::move(on_error), std::move(on_done), std::move(weight),
                              max_weight, min_in_flight)
    ->step();
}

} // namespace evstore
