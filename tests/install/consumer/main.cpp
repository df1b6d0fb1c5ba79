// A program outside the project, built against the installed package: opens a store, appends, reads.
#include <evstore/store.hpp>

#include <iostream>

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
  std::cout << "consumer ok " << res->ev.id << "\n";
  return 0;
}
