#include <caf/typed_event_based_actor.hpp>

#include "src/storage/full_scan.hpp"
#include "scan_query_worker.hpp"

namespace evstore {

namespace {

scan_query_worker::behavior_type scan_query_behavior(scan_query_worker::pointer self, std::string root) {
  return {
    [=](query_request& req) -> caf::result<query_result> {
      self->quit();
      return full_scan_query(root, req.prefix, req.limit, req.since);
    },
  };
}

} // namespace

scan_query_worker spawn_scan_query_worker(store_internal_actor::pointer store, std::string root) {
  return store->spawn<caf::detached>(scan_query_behavior, std::move(root));
}

} // namespace evstore
