// Every message type crosses a process boundary: registered by evstore::register_types under the
// name its inspect() gives, and echoed unchanged between two actor systems over CAF's middleman
// with TLS on loopback, as a client and a node exchange them.
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <caf/binary_serializer.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/message_builder.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>

#include "messages/bus_messages.hpp"
#include "messages/commands.hpp"
#include "messages/errc.hpp"
#include "messages/internal/notifications.hpp"
#include "messages/internal/query_protocol.hpp"
#include "messages/internal/store_protocol.hpp"
#include "messages/store_stats.hpp"
#include "messages/system_config.hpp"
#include "src/facade/node.hpp"
#include "support/temp_dir.hpp"

using namespace evstore;
using namespace evstore::testing;

namespace {

/// The evstore type names registered with `cfg`.
std::set<std::string> registered(const caf::actor_system_config& cfg) {
  std::set<std::string> out;
  for (const auto& [name, factory] : cfg.value_factories_by_name)
    if (name.rfind("evstore::", 0) == 0)
      out.insert(name);
  return out;
}

/// The type names the message headers give their inspect() overloads.
std::set<std::string> inspected_in_sources() {
  std::set<std::string> out;
  const std::regex type_name{R"re(caf::meta::type_name\("(evstore::[A-Za-z_]+)"\))re"};
  for (const char* header :
       {"messages/bus_messages.hpp", "messages/commands.hpp", "messages/event.hpp",
        "messages/retention_policy.hpp", "messages/store_stats.hpp",
        "messages/internal/notifications.hpp", "messages/internal/query_protocol.hpp",
        "messages/internal/store_protocol.hpp"}) {
    std::ifstream in{std::string{EVSTORE_SOURCE_DIR} + "/" + header};
    EXPECT_TRUE(in) << header;
    std::string text{std::istreambuf_iterator<char>{in}, {}};
    for (std::sregex_iterator it{text.begin(), text.end(), type_name}, end; it != end; ++it)
      out.insert((*it)[1]);
  }
  return out;
}

std::vector<char> bytes_of(caf::actor_system& sys, const caf::type_erased_value_ptr& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  EXPECT_FALSE(x->save(sink));
  return buf;
}

} // namespace

TEST(MessageRoundtripTest, EveryInspectedMessageTypeIsRegistered) {
  system_config cfg;
  auto names = registered(cfg);
  for (const auto& name : inspected_in_sources()) {
    // An event's payload travels inside the event (its inspect() is the event's), never alone.
    if (name == "evstore::json_payload")
      continue;
    EXPECT_TRUE(names.count(name)) << name << " has inspect() but is not registered";
  }
}

TEST(MessageRoundtripTest, EveryRegisteredTypeIsEchoedUnchangedBetweenTwoSystemsOverTls) {
  temp_dir dir;
  auto credential = ensure_node_credential(dir.str("store"));
  ASSERT_TRUE(credential) << render(credential.error());
  system_config node_cfg, client_cfg;
  ASSERT_FALSE(configure_node(node_cfg, *credential));
  ASSERT_FALSE(configure_node(client_cfg, *credential));
  caf::actor_system node{node_cfg};
  caf::actor_system client{client_cfg};
  // With an argument: CAF 0.17 spawns a function of no arguments through a null tuple pointer,
  // which UBSan reports.
  auto echo = node.spawn(
    [](caf::event_based_actor* self, int) -> caf::behavior {
      self->set_default_handler(caf::reflect);
      return {[](caf::ok_atom) {}};
    },
    0);
  auto port = caf::openssl::publish(echo, 0, "127.0.0.1");
  ASSERT_TRUE(port) << node.render(port.error());
  caf::scoped_actor self{client};
  caf::strong_actor_ptr remote;
  self->request(client.openssl_manager().actor_handle(), std::chrono::seconds{5},
                caf::connect_atom::value, std::string{"127.0.0.1"}, *port)
    .receive([&](const caf::node_id&, caf::strong_actor_ptr& ptr,
                 std::set<std::string>&) { remote = std::move(ptr); },
             [&](caf::error& err) { FAIL() << client.render(err); });
  ASSERT_TRUE(remote);
  auto names = registered(client_cfg);
  EXPECT_EQ(names, registered(node_cfg));
  // Every registered type, by its C++ type (a type-erased value cannot be put into a message).
  std::set<std::string> echoed;
  auto echo_one = [&](auto value) {
    using type = decltype(value);
    auto name = client_cfg.type_names_by_rtti.at(std::type_index(typeid(type)));
    SCOPED_TRACE(name);
    echoed.insert(name);
    auto sent = bytes_of(client, caf::make_type_erased_value<type>(value));
    bool answered = false;
    self->request(caf::actor_cast<caf::actor>(remote), std::chrono::seconds{5}, value)
      .receive(
        [&](type& back) {
          answered = true;
          EXPECT_EQ(bytes_of(client, caf::make_type_erased_value<type>(back)), sent);
        },
        [&](caf::error& err) { ADD_FAILURE() << client.render(err); });
    EXPECT_TRUE(answered);
  };
  auto echo_all = [&](auto... values) { (echo_one(values), ...); };
  event ev;
  ev.task = "t";
  ev.type = "task:state:running";
  echo_all(ev, retention_policy{}, append_request{ev, uint64_t{3}}, append_result{},
           append_batch_request{{append_request{ev, caf::none}}},
           append_outcome{append_result{}, make_error(errc::invalid_type, "x")},
           append_batch_result{},
           read_stats{}, read_request{}, read_result{}, compact_request{}, compact_result{},
           compact_all_request{}, list_tasks_request{}, task_list{}, cleanup_request{},
           cleanup_result{}, query_request{"task:", 5, caf::none}, query_result{}, appended{},
           type_summary{}, compacted{}, task_removed{}, writer_idle{}, line_ref{},
           task_summary{}, typed_line{}, file_extent{}, task_extended{}, rank_key{},
           located_event{}, plan_request{}, task_fetch{}, query_plan{}, fetch_request{},
           fetch_result{}, populate_request{}, population_start{}, population_done{},
           known_files{}, resolve_writers{}, writer_handles{}, population_plan{},
           population_failed{}, stats_request{}, await_index_request{}, index_stats{},
           subscription_filter{}, catch_up_spec{}, subscribe_request{}, subscribed{},
           unsubscribe_request{}, bus_event{}, caught_up{}, lagged{}, bus_ack{},
           event_written{}, bus_stats_request{}, bus_stats{});
  EXPECT_EQ(echoed, names) << "a registered type is missing from this test's list";
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
}
