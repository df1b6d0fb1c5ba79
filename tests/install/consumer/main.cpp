// A program outside the project, built against the installed package: opens a store, appends and
// reads through the facade; then, as an actor program, on an actor system of its own whose config
// derives from evstore's, spawns the store actor and reads through it (messages made here, handled
// in the library).
#include <evstore/store.hpp>
#include <evstore/version.hpp>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <cstdint>
#include <cstring>
#include <iostream>

// check_shared.sh builds this as C++20 with the package's pkg-config flags after its own: they must
// not have lowered the standard.
#ifdef EVSTORE_CONSUMER_EXPECT_CXX20
static_assert(__cplusplus >= 202002L, "the package's compiler flags lowered the C++ standard");
#endif

// A program's own configuration, derived from evstore's as CAF programs do (this needs the library's
// type_info and vtable for system_config).
struct consumer_config : evstore::system_config {
  uint64_t marker = 7;
};

int main(int argc, char** argv) {
  if (argc != 2)
    return 2;
  evstore::store_options opts;
  opts.root = argv[1];
  auto db = evstore::store::open(opts);
  if (!db) {
    std::cerr << evstore::render(db.error()) << "\n";
    return 1;
  }
  evstore::event ev;
  ev.task = "consumer";
  ev.type = "task:created";
  auto res = (*db)->append(ev);
  auto read = (*db)->read_task("consumer");
  if (!res || !read || read->events.size() != 1)
    return 1;
  db->reset(); // releases the store's lock

  consumer_config cfg;
  caf::actor_system sys{cfg};
  auto handle = evstore::spawn_store(sys, opts);
  if (!handle) {
    std::cerr << evstore::render(handle.error()) << "\n";
    return 1;
  }
  size_t actor_read = 0;
  {
    caf::scoped_actor self{sys};
    evstore::read_request req;
    req.task = "consumer";
    self->request(*handle, caf::infinite, req)
      .receive([&](const evstore::read_result& r) { actor_read = r.events.size(); },
               [&](const caf::error& err) { std::cerr << evstore::render(err) << "\n"; });
  }
  caf::anon_send_exit(*handle, caf::exit_reason::user_shutdown);
  caf::actor_system_config* base = &cfg;
  auto* own = dynamic_cast<consumer_config*>(base);
  if (actor_read != 1 || own == nullptr || own->marker != 7)
    return 1;
  if (std::strcmp(evstore::version(), EVSTORE_VERSION_STRING) != 0)
    return 1;
  std::cout << "consumer ok " << res->ev.id << " (evstore " << evstore::version() << ", format "
            << evstore::format_version() << ")\n";
  return 0;
}
