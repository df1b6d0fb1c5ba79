// The process the kill tests SIGKILL: appends (and, in compact mode, compacts) as fast as it can and
// reports each acknowledged event on stdout with one write(2) per line, so what the parent reads is
// exactly what was acknowledged before the kill.
//
// In checkpoint mode it saves the index checkpoint every millisecond while it appends to the store's
// thousands of tasks, so a kill often lands while a checkpoint is being written.
//
// usage: evstore_crash_child ROOT append|compact|checkpoint written|fsynced SEED
#include <cstring>
#include <random>
#include <string>

#include <unistd.h>

#include "src/facade/store.hpp"

namespace {

void report(const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(1, p, left);
    if (n <= 0)
      _exit(3);
    p += n;
    left -= static_cast<size_t>(n);
  }
}

std::string make_id(std::mt19937_64& rng) {
  static const char* hex = "0123456789abcdef";
  std::string id(36, '-');
  for (size_t i = 0; i < id.size(); ++i)
    if (i != 8 && i != 13 && i != 18 && i != 23)
      id[i] = hex[rng() % 16];
  id[14] = '4';
  id[19] = '8';
  return id;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 5)
    return 2;
  evstore::store_options opts;
  opts.root = argv[1];
  const bool compact = std::strcmp(argv[2], "compact") == 0;
  const bool checkpoint = std::strcmp(argv[2], "checkpoint") == 0;
  if (checkpoint)
    opts.checkpoint_interval = std::chrono::milliseconds{1};
  opts.ack = std::strcmp(argv[3], "fsynced") == 0 ? evstore::durability::fsynced
                                                   : evstore::durability::written;
  std::mt19937_64 rng{std::stoull(argv[4])};
  auto db = evstore::store::open(opts);
  if (!db)
    return 1;
  report("R\n"); // ready
  for (uint64_t n = 0;; ++n) {
    evstore::event ev;
    ev.task = checkpoint ? "cp-" + std::to_string(rng() % 3000) : "task-" + std::to_string(rng() % 12);
    ev.type = rng() % 4 == 0 ? "task:state:running" : "agent:message";
    ev.actor = evstore::actor_kind::agent;
    ev.id = make_id(rng);
    ev.data = boost::json::object{{"n", n}, {"pad", std::string(rng() % 300, 'p')}};
    auto res = (*db)->append(ev);
    if (!res)
      return 1;
    report("A " + ev.task + " " + ev.id + "\n");
    if (compact && n % 40 == 39) {
      evstore::retention_policy keep;
      keep.max_events = 25;
      keep.max_age = caf::none;
      auto task = "task-" + std::to_string(rng() % 12);
      if (!(*db)->compact_task(task, keep))
        return 1;
      report("C " + task + "\n");
    }
  }
}
