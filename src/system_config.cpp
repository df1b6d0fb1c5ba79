#include "evstore/messages/system_config.hpp"

#include <caf/message.hpp>

#include "evstore/messages/commands.hpp"
#include "evstore/messages/internal.hpp"
#include "evstore/messages/notifications.hpp"

namespace evstore {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<event>("evstore::event");
  cfg.add_message_type<retention_policy>("evstore::retention_policy");
  cfg.add_message_type<append_request>("evstore::append_request");
  cfg.add_message_type<append_result>("evstore::append_result");
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
  cfg.add_error_category(caf::atom("evstore"),
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           return render(caf::error{code, caf::atom("evstore"), ctx});
                         });
}

system_config::system_config() {
  register_types(*this);
}

} // namespace evstore
