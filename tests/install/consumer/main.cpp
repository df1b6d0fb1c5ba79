// A program outside the project, built against the installed package: opens a store, appends, reads
// through the facade and through the store actor (messages made here, handled in the library).
#include <evstore/store.hpp>
#include <evstore/version.hpp>

#include <caf/scoped_actor.hpp>

#include <cstring>
#include <iostream>

// check_shared.sh builds this as C++20 with the package's pkg-config flags after its own: they must
// not have lowered the standard.
#ifdef EVSTORE_CONSUMER_EXPECT_CXX20
static_assert(__cplusplus >= 202002L, "the package's compiler flags lowered the C++ standard");
#endif

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
  size_t actor_read = 0;
  caf::scoped_actor self{(*db)->system()};
  evstore::read_request req;
  req.task = "consumer";
  self->request((*db)->handle(), caf::infinite, req)
    .receive([&](const evstore::read_result& r) { actor_read = r.events.size(); },
             [&](const caf::error& err) { std::cerr << evstore::render(err) << "\n"; });
  if (actor_read != 1)
    return 1;
  if (std::strcmp(evstore::version(), EVSTORE_VERSION_STRING) != 0)
    return 1;
  std::cout << "consumer ok " << res->ev.id << " (evstore " << evstore::version() << ", format "
            << evstore::format_version() << ")\n";
  return 0;
}
