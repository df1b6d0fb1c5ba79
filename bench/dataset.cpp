#include "dataset.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <vector>

#include "src/format/line_codec.hpp"
#include "src/format/timestamp_format.hpp"
#include "src/format/uuid.hpp"

namespace bench {

namespace {

using evstore::actor_kind;

struct weighted {
  const char* type;
  double weight;
};

const std::vector<weighted> task_mix = {
  {"agent:message", 60.0}, {"task:state:*", 15.0}, {"orchestrator:*", 5.0},
  {"system:accounting:tokens", 6.0}, {"task:updated", 3.0}, {"human:message", 3.0},
  {"merge:*", 2.5}, {"agent:question", 2.0}, {"agent:error", 1.5},
  {"system:accounting:api_call", 1.0}, {"automation:run:output", 1.0},
};
const std::vector<weighted> root_mix = {
  {"system:scheduler:tick", 45.0}, {"orchestrator:thought", 15.0}, {"orchestrator:message", 8.0},
  {"orchestrator:response", 8.0}, {"orchestrator:decision", 4.0},
  {"system:accounting:tokens", 8.0}, {"system:accounting:session", 4.0},
  {"system:accounting:api_call", 4.0}, {"system:mode:play", 1.0}, {"system:mode:pause", 1.0},
  {"system:started", 1.0}, {"system:memory:warning", 1.0},
};
const std::vector<const char*> task_states = {
  "task:state:running", "task:state:testing", "task:state:waiting", "task:state:question",
  "task:state:blocked", "task:state:awaiting_merge", "task:state:changes_requested",
  "task:state:conflict", "task:state:completed", "task:state:failed", "task:state:cancelled"};
const std::vector<const char*> orchestrator_types = {
  "orchestrator:feedback", "orchestrator:escalation", "orchestrator:decision",
  "orchestrator:message", "orchestrator:response", "orchestrator:thought"};
const std::vector<const char*> merge_types = {"merge:queued", "merge:approved", "merge:merging",
                                              "merge:rejected", "merge:completed", "merge:conflict"};
const char* words[] = {"the", "fix", "add", "update", "refactor", "test", "parser", "module",
                       "handler", "request", "error", "retry", "timeout", "build", "branch",
                       "merge", "conflict", "rebase", "commit", "review", "index", "query",
                       "cache", "config", "stream", "async", "lock", "race", "state", "event"};

std::string pick(std::mt19937_64& rng, const std::vector<weighted>& mix) {
  double total = 0;
  for (auto& w : mix)
    total += w.weight;
  double r = std::uniform_real_distribution<double>(0, total)(rng);
  std::string type = mix.back().type;
  for (auto& w : mix)
    if ((r -= w.weight) < 0) {
      type = w.type;
      break;
    }
  auto from = [&](const std::vector<const char*>& v) { return std::string(v[rng() % v.size()]); };
  if (type == "task:state:*")
    return from(task_states);
  if (type == "orchestrator:*")
    return from(orchestrator_types);
  if (type == "merge:*")
    return from(merge_types);
  return type;
}

actor_kind actor_for(const std::string& type) {
  if (type.rfind("agent:", 0) == 0)
    return actor_kind::agent;
  if (type.rfind("orchestrator:", 0) == 0)
    return actor_kind::orchestrator;
  if (type.rfind("human:", 0) == 0)
    return actor_kind::human;
  if (type.rfind("task:state:", 0) == 0)
    return actor_kind::scheduler;
  return actor_kind::system;
}

std::string text(std::mt19937_64& rng, size_t lo, size_t hi) {
  size_t want = lo + rng() % (hi - lo + 1);
  std::string out;
  while (out.size() < want) {
    if (!out.empty())
      out += ' ';
    out += words[rng() % (sizeof(words) / sizeof(words[0]))];
  }
  out.resize(want);
  return out;
}

// `n` distinct, sorted timestamps in [start, start + span), distinct across the whole store too
// (`used`), so "sort by ts, keep the last N" has exactly one answer.
std::vector<int64_t> unique_times(std::mt19937_64& rng, std::set<int64_t>& used, int n,
                                  int64_t start, int64_t span) {
  std::vector<int64_t> out;
  while (static_cast<int>(out.size()) < n) {
    int64_t t = start + static_cast<int64_t>(rng() % static_cast<uint64_t>(span));
    if (used.insert(t).second)
      out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void write_log(const std::string& path, std::mt19937_64& rng, const std::string& task,
               const std::vector<int64_t>& times, const std::vector<weighted>& mix,
               const std::string& extra_type, dataset_info& info) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string buf;
  for (size_t i = 0; i < times.size(); ++i) {
    evstore::event ev;
    ev.id = evstore::make_uuid_v4();
    ev.type = (!extra_type.empty() && i == times.size() / 2) ? extra_type : pick(rng, mix);
    ev.task = task;
    ev.actor = actor_for(ev.type);
    ev.ts = evstore::timestamp::from_parts(0, times[i]);
    ev.data = boost::json::object{{"text", text(rng, 40, 380)}, {"seq", i}};
    buf += evstore::encode_line(ev);
    ++info.events;
  }
  info.bytes += buf.size();
  out << buf;
}

} // namespace

std::string task_name(int t) {
  char name[32];
  std::snprintf(name, sizeof(name), "task-%05d", t);
  return name;
}

dataset_info generate_dataset(const std::string& root, const dataset_spec& spec) {
  namespace fs = std::filesystem;
  fs::create_directories(root);
  std::ofstream(root + "/format_version") << "1\n";
  std::mt19937_64 rng{spec.seed};
  std::set<int64_t> used;
  const int64_t start = evstore::parse_rfc3339("2026-10-01T00:00:00Z")->seconds_since_epoch() * 1'000'000'000;
  const int64_t span = int64_t{30} * 24 * 3600 * 1'000'000'000;
  dataset_info info;
  info.single_task_type = "review:security:audit";
  for (int t = 0; t < spec.tasks; ++t) {
    const std::string name = task_name(t);
    fs::create_directories(root + "/" + name);
    auto times = unique_times(rng, used, spec.events_per_task, start, span);
    write_log(root + "/" + name + "/events.jsonl", rng, name, times, task_mix,
              t == spec.tasks / 3 ? info.single_task_type : "", info);
  }
  auto times = unique_times(rng, used, spec.system_events, start, span);
  write_log(root + "/events.jsonl", rng, "", times, root_mix, "", info);
  return info;
}

} // namespace bench
