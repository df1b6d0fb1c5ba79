#include "type_index.hpp"

#include <algorithm>
#include <tuple>

#include "type_sketch.hpp"

namespace evstore {

namespace {

bool ranks_below(timestamp ts, const std::string& task, uint64_t position, const rank_key& key) {
  return std::tie(ts, task, position) < std::tie(key.ts, key.task, key.position);
}

// One candidate line of the plan: a recent reference of a matching pair.
struct candidate {
  timestamp ts;
  const std::string* task;
  uint64_t position;
};

bool better(const candidate& x, const candidate& y) {
  return std::tie(x.ts, *x.task, x.position) > std::tie(y.ts, *y.task, y.position);
}

} // namespace

type_index::type_index(size_t sketch_size) : sketch_size_(sketch_size) {
}

void type_index::forget_types_of(const std::string& task, task_entry& entry) {
  for (const std::string* type : entry.types) {
    auto it = types_.find(*type);
    if (it == types_.end())
      continue;
    entries_ -= it->second.erase(task);
    if (it->second.empty())
      types_.erase(it);
  }
  entry.types.clear();
  entry.events = 0;
}

void type_index::apply(const appended& note) {
  auto& entry = tasks_[note.task];
  entry.file_id = note.file_id;
  ++entry.events;
  auto type_it = types_.find(note.type);
  if (type_it == types_.end())
    type_it = types_.emplace(note.type, pairs{}).first;
  auto [pair_it, added] = type_it->second.try_emplace(note.task);
  if (added) {
    ++entries_;
    entry.types.push_back(&type_it->first);
  }
  add_line(pair_it->second, note.line, sketch_size_);
}

void type_index::apply(const task_summary& summary) {
  auto& entry = tasks_[summary.task];
  forget_types_of(summary.task, entry);
  entry.file_id = summary.file_id;
  entry.events = summary.events;
  for (const auto& ts : summary.types) {
    auto type_it = types_.find(ts.type);
    if (type_it == types_.end())
      type_it = types_.emplace(ts.type, pairs{}).first;
    auto& s = type_it->second[summary.task];
    s = ts;
    s.type.clear(); // the map key holds it
    ++entries_;
    entry.types.push_back(&type_it->first);
  }
}

void type_index::apply(const compacted& note) {
  apply(note.summary);
}

void type_index::remove_task(const std::string& task) {
  auto it = tasks_.find(task);
  if (it == tasks_.end())
    return;
  forget_types_of(task, it->second);
  tasks_.erase(it);
}

query_plan type_index::plan(const plan_request& req) const {
  query_plan out;
  if (req.limit == 0)
    return out;
  auto first = types_.lower_bound(req.prefix);
  auto matches = [&](auto it) {
    return it != types_.end() && it->first.compare(0, req.prefix.size(), req.prefix) == 0;
  };
  // The K-th best recent reference bounds the answer from below.
  std::vector<candidate> cands;
  for (auto it = first; matches(it); ++it)
    for (const auto& [task, s] : it->second)
      for (const auto& line : s.recent)
        if (!req.since || line.ts >= *req.since)
          cands.push_back(candidate{line.ts, &task, line.position});
  if (cands.size() >= req.limit) {
    auto kth = cands.begin() + static_cast<std::ptrdiff_t>(req.limit - 1);
    std::nth_element(cands.begin(), kth, cands.end(), better);
    out.bound = rank_key{kth->ts, *kth->task, kth->position};
  } else if (req.since) {
    out.bound = rank_key{*req.since, std::string{}, 0};
  }
  std::unordered_map<std::string, size_t> fetch_of_task;
  auto fetch_for = [&](const std::string& task) -> task_fetch& {
    auto [it, added] = fetch_of_task.try_emplace(task, out.fetches.size());
    if (added) {
      out.fetches.emplace_back();
      out.fetches.back().task = task;
      out.fetches.back().file_id = tasks_.at(task).file_id;
    }
    return out.fetches[it->second];
  };
  for (auto it = first; matches(it); ++it) {
    for (const auto& [task, s] : it->second) {
      if (out.bound && s.newest_ts < out.bound->ts)
        continue; // its newest event ranks below the bound: never asked
      const bool complete
        = !s.has_older
          || (out.bound && ranks_below(s.older_max_ts, task, s.older_max_position, *out.bound));
      if (!complete) {
        fetch_for(task).scan = true;
        continue;
      }
      for (const auto& line : s.recent)
        if (!out.bound || !ranks_below(line.ts, task, line.position, *out.bound))
          fetch_for(task).lines.push_back(line);
    }
  }
  out.fetches.erase(std::remove_if(out.fetches.begin(), out.fetches.end(),
                                   [](const task_fetch& f) { return !f.scan && f.lines.empty(); }),
                    out.fetches.end());
  for (auto& f : out.fetches) {
    if (f.scan)
      f.lines.clear(); // the writer scans the whole file anyway
    else
      std::sort(f.lines.begin(), f.lines.end(),
                [](const line_ref& x, const line_ref& y) { return x.offset < y.offset; });
  }
  return out;
}

index_stats type_index::stats() const {
  index_stats st;
  st.tasks = tasks_.size();
  st.types = types_.size();
  st.entries = entries_;
  uint64_t bytes = 0;
  for (const auto& [type, p] : types_) {
    bytes += 64 + type.capacity();
    bytes += p.bucket_count() * sizeof(void*);
    for (const auto& [task, s] : p)
      bytes += 48 + sizeof(type_summary) + task.capacity() + s.recent.capacity() * sizeof(line_ref);
  }
  for (const auto& [task, e] : tasks_) {
    st.events += e.events;
    bytes += 48 + sizeof(task_entry) + task.capacity() + e.types.capacity() * sizeof(void*);
  }
  st.bytes = bytes;
  return st;
}

} // namespace evstore
