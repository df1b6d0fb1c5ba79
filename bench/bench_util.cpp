#include "bench_util.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "dataset.hpp"
#include "src/facade/store.hpp"

namespace bench {

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

uint64_t status_bytes(const char* wanted) {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == wanted) {
      uint64_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

void die(const std::string& what, const caf::error& err) {
  std::cerr << "evstore-bench: " << what << ": " << evstore::render(err) << "\n";
  std::exit(1);
}

evstore::event bench_event(const std::string& task, int n) {
  evstore::event ev;
  ev.task = task;
  ev.type = "agent:message";
  ev.actor = evstore::actor_kind::agent;
  ev.data = boost::json::object{{"text", "benchmark append number " + std::to_string(n)
                                           + " with a payload of a realistic size for an agent"},
                                {"n", n}};
  return ev;
}

namespace {

// One client actor: keeps `window` appends in flight until it has had `total` acknowledged.
caf::behavior append_client(caf::event_based_actor* self, evstore::store_actor store, int total,
                            int tasks, int window, int first, caf::actor done) {
  auto sent = std::make_shared<int>(0);
  auto acked = std::make_shared<int>(0);
  auto send_one = std::make_shared<std::function<void()>>();
  *send_one = [=] {
    int n = first + (*sent)++;
    self->request(store, caf::infinite,
                  evstore::append_request{bench_event(task_name(n % tasks), n), caf::none})
      .then(
        [=](const evstore::append_result&) {
          if (++*acked == total) {
            self->send(done, true);
            self->quit();
          } else if (*sent < total) {
            (*send_one)();
          }
        },
        [=](caf::error& err) { die("append", err); });
  };
  self->attach_functor([send_one] { *send_one = nullptr; }); // it refers to itself
  for (int i = 0; i < std::min(window, total); ++i)
    (*send_one)();
  return {};
}

} // namespace

double append_throughput(evstore::store& db, int total, int tasks, int window, int clients) {
  caf::scoped_actor self{db.system()};
  clients = std::max(1, std::min(clients, window));
  auto t0 = clock_type::now();
  for (int c = 0; c < clients; ++c)
    self->spawn(append_client, db.handle(), total / clients, tasks, window / clients,
                c * (total / clients), caf::actor{self});
  for (int c = 0; c < clients; ++c)
    self->receive([](bool) {});
  return (total / clients) * clients
         / std::chrono::duration<double>(clock_type::now() - t0).count();
}

} // namespace bench
