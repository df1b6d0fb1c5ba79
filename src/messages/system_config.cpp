#include "messages/system_config.hpp"

#include <string>
#include <type_traits>
#include <typeindex>

#include <caf/make_type_erased_value.hpp>
#include <caf/message.hpp>

#include "messages/bus_messages.hpp"
#include "messages/commands.hpp"
#include "messages/node_ping.hpp"
#include "messages/rebalance.hpp"
#include "messages/internal/store_protocol.hpp"
#include "messages/internal/notifications.hpp"
#include "messages/internal/query_protocol.hpp"
#include "messages/store_stats.hpp"

namespace evstore {
namespace {

/// Registers `T` alone under `name`, in the three maps CAF's add_message_type fills for it. That
/// call also registers `std::vector<T>` and `stream<T>` (its private add_message_type_impl, three
/// times): evstore never sends either as a message element (every element is one of the structs
/// below), and the two extra type-erased implementations per type were most of the time the
/// compiler spent on this file, in every build.
template <class T>
void add(caf::actor_system_config& cfg, std::string name) {
  static_assert(std::is_default_constructible<T>::value && std::is_copy_constructible<T>::value,
                "a message type needs default and copy constructors");
  cfg.type_names_by_rtti.emplace(std::type_index(typeid(T)), name);
  cfg.value_factories_by_name.emplace(std::move(name), &caf::make_type_erased_value<T>);
  cfg.value_factories_by_rtti.emplace(std::type_index(typeid(T)), &caf::make_type_erased_value<T>);
}

} // namespace

void register_types(caf::actor_system_config& cfg) {
  add<event>(cfg, "evstore::event");
  add<retention_policy>(cfg, "evstore::retention_policy");
  add<append_request>(cfg, "evstore::append_request");
  add<append_result>(cfg, "evstore::append_result");
  add<append_batch_request>(cfg, "evstore::append_batch_request");
  add<append_outcome>(cfg, "evstore::append_outcome");
  add<append_batch_result>(cfg, "evstore::append_batch_result");
  add<read_stats>(cfg, "evstore::read_stats");
  add<read_request>(cfg, "evstore::read_request");
  add<read_result>(cfg, "evstore::read_result");
  add<compact_request>(cfg, "evstore::compact_request");
  add<compact_result>(cfg, "evstore::compact_result");
  add<compact_all_request>(cfg, "evstore::compact_all_request");
  add<list_tasks_request>(cfg, "evstore::list_tasks_request");
  add<task_list>(cfg, "evstore::task_list");
  add<cleanup_request>(cfg, "evstore::cleanup_request");
  add<cleanup_result>(cfg, "evstore::cleanup_result");
  add<query_request>(cfg, "evstore::query_request");
  add<query_result>(cfg, "evstore::query_result");
  add<appended>(cfg, "evstore::appended");
  add<type_summary>(cfg, "evstore::type_summary");
  add<compacted>(cfg, "evstore::compacted");
  add<task_removed>(cfg, "evstore::task_removed");
  add<writer_idle>(cfg, "evstore::writer_idle");
  add<line_ref>(cfg, "evstore::line_ref");
  add<task_summary>(cfg, "evstore::task_summary");
  add<typed_line>(cfg, "evstore::typed_line");
  add<file_extent>(cfg, "evstore::file_extent");
  add<task_extended>(cfg, "evstore::task_extended");
  add<rank_key>(cfg, "evstore::rank_key");
  add<located_event>(cfg, "evstore::located_event");
  add<plan_request>(cfg, "evstore::plan_request");
  add<task_fetch>(cfg, "evstore::task_fetch");
  add<query_plan>(cfg, "evstore::query_plan");
  add<fetch_request>(cfg, "evstore::fetch_request");
  add<fetch_result>(cfg, "evstore::fetch_result");
  add<populate_request>(cfg, "evstore::populate_request");
  add<population_start>(cfg, "evstore::population_start");
  add<population_done>(cfg, "evstore::population_done");
  add<known_files>(cfg, "evstore::known_files");
  add<resolve_writers>(cfg, "evstore::resolve_writers");
  add<writer_handles>(cfg, "evstore::writer_handles");
  add<population_plan>(cfg, "evstore::population_plan");
  add<population_failed>(cfg, "evstore::population_failed");
  add<stats_request>(cfg, "evstore::stats_request");
  add<await_index_request>(cfg, "evstore::await_index_request");
  add<index_stats>(cfg, "evstore::index_stats");
  add<subscription_filter>(cfg, "evstore::subscription_filter");
  add<catch_up_spec>(cfg, "evstore::catch_up_spec");
  add<subscribe_request>(cfg, "evstore::subscribe_request");
  add<subscribed>(cfg, "evstore::subscribed");
  add<unsubscribe_request>(cfg, "evstore::unsubscribe_request");
  add<bus_event>(cfg, "evstore::bus_event");
  add<caught_up>(cfg, "evstore::caught_up");
  add<lagged>(cfg, "evstore::lagged");
  add<bus_ack>(cfg, "evstore::bus_ack");
  add<event_written>(cfg, "evstore::event_written");
  add<bus_stats_request>(cfg, "evstore::bus_stats_request");
  add<bus_stats>(cfg, "evstore::bus_stats");
  add<rebalance_begin_request>(cfg, "evstore::rebalance_begin_request");
  add<rebalance_end_request>(cfg, "evstore::rebalance_end_request");
  add<rebalance_status>(cfg, "evstore::rebalance_status");
  add<store_rebalancing>(cfg, "evstore::store_rebalancing");
  add<held_tasks_request>(cfg, "evstore::held_tasks_request");
  add<task_digest_request>(cfg, "evstore::task_digest_request");
  add<task_digest>(cfg, "evstore::task_digest");
  add<export_chunk_request>(cfg, "evstore::export_chunk_request");
  add<task_chunk>(cfg, "evstore::task_chunk");
  add<import_chunk_request>(cfg, "evstore::import_chunk_request");
  add<release_task_request>(cfg, "evstore::release_task_request");
  add<node_ping>(cfg, "evstore::node_ping");
  cfg.add_error_category(caf::atom("evstore"),
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           return render(caf::error{code, caf::atom("evstore"), ctx});
                         });
}

system_config::system_config() {
  register_types(*this);
  // One FIFO job queue instead of work stealing: CAF 0.17's work-stealing workers run jobs enqueued
  // from inside a worker first (LIFO), so a chain of long jobs (population scanning files) starves an
  // append's writer for hundreds of milliseconds. FIFO keeps appends fair while the index warms up.
  set("scheduler.policy", caf::atom("sharing"));
}

} // namespace evstore
