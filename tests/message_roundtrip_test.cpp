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
#include <caf/detail/dynamic_message_data.hpp>
#include <caf/others.hpp>
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
        "messages/node_ping.hpp", "messages/rebalance.hpp", "messages/retention_policy.hpp",
        "messages/store_stats.hpp",
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

std::vector<char> bytes_of(caf::actor_system& sys, const caf::message& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  EXPECT_FALSE(x.save(sink));
  return buf;
}

/// Sends `sent` to the echo and expects the same message back, byte for byte (a message's bytes
/// name each element's registered type, so a value that came back as another type differs).
/// False if nothing came back: the caller stops, so a late echo is never taken for the next one.
bool expect_echoed(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& echo,
                   const caf::message& sent, const std::string& name) {
  SCOPED_TRACE(name);
  auto want = bytes_of(sys, sent);
  self->send(echo, sent);
  bool answered = false;
  self->receive(
    caf::others >> [&](caf::message_view& x) -> caf::result<caf::message> {
      answered = true;
      EXPECT_EQ(bytes_of(sys, x.move_content_to_message()), want);
      return caf::message{};
    },
    caf::after(std::chrono::seconds{5}) >> [] {});
  EXPECT_TRUE(answered) << "no echo within 5 s";
  return answered;
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
  ASSERT_FALSE(names.empty());
  // Every registered type, default-made by its registered factory: the list is the registry's own,
  // so a type registered later is echoed without a change here. One path sends and receives every
  // message (a typed request and handler per type made this the slowest file of the tree to
  // compile).
  const auto to = caf::actor_cast<caf::actor>(remote);
  for (const auto& name : names) {
    // What caf::message_builder does inside (its emplace of a type-erased value is private).
    caf::detail::dynamic_message_data::elements one;
    one.emplace_back(client_cfg.value_factories_by_name.at(name)());
    caf::message msg{caf::message::data_ptr{new caf::detail::dynamic_message_data{std::move(one)},
                                            false}};
    ASSERT_TRUE(expect_echoed(client, self, to, msg, name));
  }
  // And values whose nested fields are filled (an event inside a request inside a batch, an
  // error inside an outcome, an optional set).
  event ev;
  ev.task = "t";
  ev.type = "task:state:running";
  ev.id = "e-1";
  ev.ts = timestamp::from_parts(1'700'000'000, 123);
  ev.data = json_payload{boost::json::value{{"n", 12345678901234567}}};
  expect_echoed(client, self, to, caf::make_message(ev), "a filled event");
  expect_echoed(client, self, to, caf::make_message(append_request{ev, uint64_t{3}}),
                "an append with an expected version");
  expect_echoed(client, self, to,
                caf::make_message(append_batch_request{{append_request{ev, caf::none}}}),
                "a batch of one append");
  expect_echoed(client, self, to,
                caf::make_message(
                  append_outcome{append_result{}, make_error(errc::invalid_type, "x")}),
                "an outcome holding an error");
  expect_echoed(client, self, to, caf::make_message(query_request{"task:", 5, caf::none}),
                "a query");
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
}
