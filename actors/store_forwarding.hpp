#pragma once

// The store's interface as handlers that pass every request on: the one list behind both ends of a
// node connection (the gate in the serving process, the client in the connecting one), which differ
// only in what they do with a request, not in which requests there are.

#include <utility>

#include "store_actor.hpp"

namespace evstore {

/// Names the reply type of a request for `ask` (`typename decltype(tag)::type`).
template <class Reply>
struct reply_tag {
  using type = Reply;
};

/// A behavior of the store's interface in which each request-reply handler returns
/// `ask(std::move(request), reply_tag<Reply>{})` (a typed response promise for Reply) and the one
/// one-way message, unsubscribe_request, goes to `tell`. `more` adds the handlers of a wider
/// interface (Behavior's: the node gate's).
template <class Behavior = store_actor::behavior_type, class Ask, class Tell, class... More>
Behavior forwarding_behavior(Ask ask, Tell tell, More... more) {
  return {
    std::move(more)...,
    [=](append_request& x) { return ask(std::move(x), reply_tag<append_result>{}); },
    [=](append_batch_request& x) { return ask(std::move(x), reply_tag<append_batch_result>{}); },
    [=](read_request& x) { return ask(std::move(x), reply_tag<read_result>{}); },
    [=](compact_request& x) { return ask(std::move(x), reply_tag<compact_result>{}); },
    [=](compact_all_request& x) { return ask(std::move(x), reply_tag<compact_result>{}); },
    [=](list_tasks_request& x) { return ask(std::move(x), reply_tag<task_list>{}); },
    [=](cleanup_request& x) { return ask(std::move(x), reply_tag<cleanup_result>{}); },
    [=](query_request& x) { return ask(std::move(x), reply_tag<query_result>{}); },
    [=](stats_request& x) { return ask(std::move(x), reply_tag<index_stats>{}); },
    [=](await_index_request& x) { return ask(std::move(x), reply_tag<index_stats>{}); },
    [=](subscribe_request& x) { return ask(std::move(x), reply_tag<subscribed>{}); },
    [=](unsubscribe_request& x) { tell(std::move(x)); },
    [=](bus_stats_request& x) { return ask(std::move(x), reply_tag<bus_stats>{}); },
  };
}

} // namespace evstore
