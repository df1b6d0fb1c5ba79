#include "messages/system_config.hpp"

#include <caf/message.hpp>

#include "messages/bus_messages.hpp"
#include "messages/commands.hpp"
#include "messages/internal/store_protocol.hpp"
#include "messages/internal/notifications.hpp"
#include "messages/internal/query_protocol.hpp"
#include "messages/store_stats.hpp"

namespace evstore {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<event>("evstore::event");
  cfg.add_message_type<retention_policy>("evstore::retention_policy");
  cfg.add_message_type<append_request>("evstore::append_request");
  cfg.add_message_type<append_result>("evstore::append_result");
  cfg.add_message_type<append_batch_request>("evstore::append_batch_request");
  cfg.add_message_type<append_outcome>("evstore::append_outcome");
  cfg.add_message_type<append_batch_result>("evstore::append_batch_result");
  cfg.add_message_type<read_stats>("evstore::read_stats");
  cfg.add_message_type<read_request>("evstore::read_request");
  cfg.add_message_type<read_result>("evstore::read_result");
  cfg.add_message_type<compact_request>("evstore::compact_request");
  cfg.add_message_type<compact_result>("evstore::compact_result");
  cfg.add_message_type<compact_all_request>("evstore::compact_all_request");
  cfg.add_message_type<list_tasks_request>("evstore::list_tasks_request");
  cfg.add_message_type<task_list>("evstore::task_list");
  cfg.add_message_type<cleanup_request>("evstore::cleanup_request");
  cfg.add_message_type<cleanup_result>("evstore::cleanup_result");
  cfg.add_message_type<query_request>("evstore::query_request");
  cfg.add_message_type<query_result>("evstore::query_result");
  cfg.add_message_type<appended>("evstore::appended");
  cfg.add_message_type<type_summary>("evstore::type_summary");
  cfg.add_message_type<compacted>("evstore::compacted");
  cfg.add_message_type<task_removed>("evstore::task_removed");
  cfg.add_message_type<writer_idle>("evstore::writer_idle");
  cfg.add_message_type<line_ref>("evstore::line_ref");
  cfg.add_message_type<task_summary>("evstore::task_summary");
  cfg.add_message_type<typed_line>("evstore::typed_line");
  cfg.add_message_type<file_extent>("evstore::file_extent");
  cfg.add_message_type<task_extended>("evstore::task_extended");
  cfg.add_message_type<rank_key>("evstore::rank_key");
  cfg.add_message_type<located_event>("evstore::located_event");
  cfg.add_message_type<plan_request>("evstore::plan_request");
  cfg.add_message_type<task_fetch>("evstore::task_fetch");
  cfg.add_message_type<query_plan>("evstore::query_plan");
  cfg.add_message_type<fetch_request>("evstore::fetch_request");
  cfg.add_message_type<fetch_result>("evstore::fetch_result");
  cfg.add_message_type<populate_request>("evstore::populate_request");
  cfg.add_message_type<population_start>("evstore::population_start");
  cfg.add_message_type<population_done>("evstore::population_done");
  cfg.add_message_type<known_files>("evstore::known_files");
  cfg.add_message_type<resolve_writers>("evstore::resolve_writers");
  cfg.add_message_type<writer_handles>("evstore::writer_handles");
  cfg.add_message_type<population_plan>("evstore::population_plan");
  cfg.add_message_type<population_failed>("evstore::population_failed");
  cfg.add_message_type<stats_request>("evstore::stats_request");
  cfg.add_message_type<await_index_request>("evstore::await_index_request");
  cfg.add_message_type<index_stats>("evstore::index_stats");
  cfg.add_message_type<subscription_filter>("evstore::subscription_filter");
  cfg.add_message_type<catch_up_spec>("evstore::catch_up_spec");
  cfg.add_message_type<subscribe_request>("evstore::subscribe_request");
  cfg.add_message_type<subscribed>("evstore::subscribed");
  cfg.add_message_type<unsubscribe_request>("evstore::unsubscribe_request");
  cfg.add_message_type<bus_event>("evstore::bus_event");
  cfg.add_message_type<caught_up>("evstore::caught_up");
  cfg.add_message_type<lagged>("evstore::lagged");
  cfg.add_message_type<bus_ack>("evstore::bus_ack");
  cfg.add_message_type<event_written>("evstore::event_written");
  cfg.add_message_type<bus_stats_request>("evstore::bus_stats_request");
  cfg.add_message_type<bus_stats>("evstore::bus_stats");
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
