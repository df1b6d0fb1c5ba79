// A tour of the store through the blocking facade, on the embedding program's actor system: appends
// a few tasks' events, reads one back, asks the orchestrator's favourite query, compacts, cleans
// up, and prints what each step did. Run it twice: the store persists in --root (default ./events).
#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/exec_main.hpp>

#include "src/facade/store.hpp"

namespace {

struct tour_config : evstore::system_config {
  std::string root = "./events";
  int tasks = 5;
  tour_config() {
    opt_group{custom_options_, "global"}
        .add(root, "root", "store directory")
        .add(tasks, "tasks", "how many tasks to create");
  }
};

evstore::event make(const std::string& task, const std::string& type, evstore::actor_kind actor,
                    boost::json::value data) {
  evstore::event ev;
  ev.task = task;
  ev.type = type;
  ev.actor = actor;
  ev.data = std::move(data);
  return ev;
}

int fail(const caf::error& err) {
  std::cerr << "store_tour: " << evstore::render(err) << "\n";
  return 1;
}

} // namespace

int caf_main(caf::actor_system& sys, const tour_config& cfg) {
  evstore::store_options opts;
  opts.root = cfg.root;
  auto db = evstore::store::open(sys, opts);
  if (!db)
    return fail(db.error());
  auto& store = **db;
  size_t appended = 0;
  for (int i = 0; i < cfg.tasks; ++i) {
    const std::string task = "task-" + std::to_string(i);
    for (auto ev :
         {make(task, "task:created", evstore::actor_kind::human, {{"title", task}}),
          make(task, "task:state:running", evstore::actor_kind::scheduler, boost::json::object{}),
          make(task, "agent:message", evstore::actor_kind::agent, {{"text", "working on " + task}}),
          make(task, "orchestrator:decision", evstore::actor_kind::orchestrator,
               {{"decision", "continue"}}),
          make(task, "task:state:completed", evstore::actor_kind::agent, boost::json::object{})}) {
      if (auto res = store.append(std::move(ev)); !res)
        return fail(res.error());
      ++appended;
    }
  }
  if (auto res = store.append(
          make("", "system:started", evstore::actor_kind::system, boost::json::object{}));
      !res)
    return fail(res.error());
  ++appended;
  std::cout << "appended " << appended << " events to " << cfg.tasks << " tasks in " << cfg.root
            << "\n";

  auto tasks = store.list_tasks();
  if (!tasks)
    return fail(tasks.error());
  std::cout << "store holds " << tasks->size() << " task logs\n";

  auto events = store.read_task("task-0");
  if (!events)
    return fail(events.error());
  std::cout << "task-0 has " << events->events.size() << " events; the last one:\n  "
            << events->events.back().type << " "
            << events->events.back().data.text() << "\n";

  auto latest = store.query_by_type_prefix("task:state:", 5);
  if (!latest)
    return fail(latest.error());
  std::cout << "latest task:state: events:\n";
  for (const auto& ev : latest->events)
    std::cout << "  " << ev.task << " " << ev.type << "\n";

  evstore::retention_policy keep3;
  keep3.max_events = 3;
  auto compacted = store.compact_all(keep3);
  if (!compacted)
    return fail(compacted.error());
  std::cout << "compacted to the newest 3 events per task: removed " << compacted->removed
            << ", kept " << compacted->kept << "\n";

  auto cleaned = store.cleanup_orphaned_tasks();
  if (!cleaned)
    return fail(cleaned.error());
  std::cout << "cleanup removed " << *cleaned << " empty task directories\n";
  return 0;
}

CAF_MAIN()
