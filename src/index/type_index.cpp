#include "type_index.hpp"

#include <algorithm>
#include <tuple>

#include "type_sketch.hpp"

namespace evstore {

namespace {

bool ranks_below(timestamp ts, const std::string& task, uint64_t position, const rank_key& key) {
  if (ts != key.ts)
    return ts < key.ts;
  return std::tie(task, position) < std::tie(key.task, key.position);
}

} // namespace

type_index::type_index(size_t sketch_size) : sketch_size_(std::max<size_t>(sketch_size, 1)) {
}

type_index::task_id type_index::intern(const std::string& task) {
  auto [it, added] = task_ids_.try_emplace(task, static_cast<task_id>(tasks_.size()));
  if (added) {
    tasks_.emplace_back();
    tasks_.back().name = task;
  }
  auto& rec = tasks_[it->second];
  if (!rec.live) {
    rec.live = true;
    ++live_tasks_;
  }
  return it->second;
}

type_index::type_entry& type_index::entry_of(const std::string& type) {
  auto it = types_.find(type);
  if (it == types_.end()) {
    it = types_.emplace(type, type_entry{}).first;
    it->second.name = it->first;
  }
  return it->second;
}

bool type_index::knows(const std::string& task) const {
  auto it = task_ids_.find(task);
  return it != task_ids_.end() && tasks_[it->second].live;
}

void type_index::forget_types_of(task_id id) {
  auto& rec = tasks_[id];
  for (type_entry* entry : rec.types) {
    auto it = entry->slot.find(id);
    if (it == entry->slot.end())
      continue;
    // Swap with the last pair, so the vector stays dense.
    uint32_t at = it->second;
    entry->slot.erase(it);
    if (at + 1 != entry->pairs.size()) {
      entry->pairs[at] = std::move(entry->pairs.back());
      entry->slot[entry->pairs[at].task] = at;
    }
    entry->pairs.pop_back();
    --entries_;
  }
  rec.types.clear();
  rec.events = 0;
  // Types left without pairs stay as empty entries: cheap, and the next append reuses them.
}

void type_index::apply(const appended& note) {
  const task_id id = intern(note.task);
  auto& rec = tasks_[id];
  rec.file_id = note.file_id;
  ++rec.events;
  rec.bytes = note.end;
  auto& entry = entry_of(note.type);
  auto [it, added] = entry.slot.try_emplace(id, static_cast<uint32_t>(entry.pairs.size()));
  if (added) {
    entry.pairs.push_back(pair_state{id, {}});
    rec.types.push_back(&entry);
    ++entries_;
  }
  add_line_to_summary(entry.pairs[it->second].s, note.line, sketch_size_);
}

void type_index::apply(const task_summary& summary) {
  const task_id id = intern(summary.task);
  forget_types_of(id);
  auto& rec = tasks_[id];
  rec.file_id = summary.file_id;
  rec.events = summary.events;
  rec.bytes = summary.bytes;
  for (const auto& ts : summary.types) {
    auto& entry = entry_of(ts.type);
    entry.slot[id] = static_cast<uint32_t>(entry.pairs.size());
    entry.pairs.push_back(pair_state{id, ts});
    entry.pairs.back().s.type.clear();
    rec.types.push_back(&entry);
    ++entries_;
  }
}

void type_index::apply(const compacted& note) {
  apply(note.summary);
}

bool type_index::apply(const task_extended& note) {
  auto it = task_ids_.find(note.task);
  if (it == task_ids_.end() || !tasks_[it->second].live
      || tasks_[it->second].events != note.from_events)
    return false;
  for (const auto& line : note.lines)
    apply(appended{note.task, line.type, line.line, note.file_id, note.bytes});
  auto& rec = tasks_[it->second];
  rec.file_id = note.file_id;
  rec.events = note.events;
  rec.bytes = note.bytes;
  return true;
}

void type_index::for_each_task(const std::function<void(const task_summary&)>& fn) const {
  task_summary out;
  for (size_t id = 0; id < tasks_.size(); ++id) {
    const auto& rec = tasks_[id];
    if (!rec.live)
      continue;
    out.task = rec.name;
    out.file_id = rec.file_id;
    out.events = rec.events;
    out.bytes = rec.bytes;
    out.types.clear();
    for (const type_entry* entry : rec.types) {
      auto slot = entry->slot.find(static_cast<task_id>(id));
      if (slot == entry->slot.end())
        continue;
      out.types.push_back(entry->pairs[slot->second].s);
      out.types.back().type = entry->name;
    }
    fn(out);
  }
}

void type_index::remove_task(const std::string& task) {
  auto it = task_ids_.find(task);
  if (it == task_ids_.end() || !tasks_[it->second].live)
    return;
  forget_types_of(it->second);
  tasks_[it->second].live = false;
  --live_tasks_;
}

query_plan type_index::plan(const plan_request& req) const {
  query_plan out;
  if (req.limit == 0)
    return out;
  const size_t limit = static_cast<size_t>(req.limit);
  std::vector<const pair_state*> pairs;
  for (auto it = types_.lower_bound(req.prefix);
       it != types_.end() && it->first.compare(0, req.prefix.size(), req.prefix) == 0; ++it)
    for (const auto& p : it->second.pairs)
      if (!req.since || p.s.newest_ts >= *req.since)
        pairs.push_back(&p);
  // First cut: each of the `limit` pairs with the newest events holds an event at least as new as
  // the limit-th newest of their newest, so no answer event is older than that.
  timestamp floor = req.since ? *req.since : timestamp::min();
  if (pairs.size() > limit) {
    auto kth = pairs.begin() + static_cast<std::ptrdiff_t>(limit - 1);
    std::nth_element(pairs.begin(), kth, pairs.end(),
                     [](const pair_state* x, const pair_state* y) {
                       return x->s.newest_ts > y->s.newest_ts;
                     });
    floor = std::max(floor, (*kth)->s.newest_ts);
    pairs.erase(std::remove_if(pairs.begin(), pairs.end(),
                               [&](const pair_state* p) { return p->s.newest_ts < floor; }),
                pairs.end());
  }
  // Second cut: the limit-th best recent line known bounds the answer from below.
  struct candidate {
    timestamp ts;
    const std::string* task;
    uint64_t position;
  };
  std::vector<candidate> cands;
  for (const auto* p : pairs)
    for (const auto& line : p->s.recent)
      if (line.ts >= floor)
        cands.push_back(candidate{line.ts, &tasks_[p->task].name, line.position});
  if (cands.size() >= limit) {
    auto kth = cands.begin() + static_cast<std::ptrdiff_t>(limit - 1);
    std::nth_element(cands.begin(), kth, cands.end(), [](const candidate& x, const candidate& y) {
      return std::tie(x.ts, *x.task, x.position) > std::tie(y.ts, *y.task, y.position);
    });
    out.bound = rank_key{kth->ts, *kth->task, kth->position};
  } else if (floor != timestamp::min()) {
    out.bound = rank_key{floor, std::string{}, 0};
  }
  std::unordered_map<task_id, size_t> fetch_of_task;
  auto fetch_for = [&](task_id id) -> task_fetch& {
    auto [it, added] = fetch_of_task.try_emplace(id, out.fetches.size());
    if (added) {
      out.fetches.emplace_back();
      out.fetches.back().task = tasks_[id].name;
      out.fetches.back().file_id = tasks_[id].file_id;
    }
    return out.fetches[it->second];
  };
  for (const auto* p : pairs) {
    const auto& s = p->s;
    const std::string& task = tasks_[p->task].name;
    if (out.bound && s.newest_ts < out.bound->ts)
      continue; // its newest event ranks below the bound: never asked
    const bool complete
      = !s.has_older
        || (out.bound && ranks_below(s.older_max_ts, task, s.older_max_position, *out.bound));
    if (!complete) {
      fetch_for(p->task).scan = true;
      continue;
    }
    for (const auto& line : s.recent)
      if (!out.bound || !ranks_below(line.ts, task, line.position, *out.bound))
        fetch_for(p->task).lines.push_back(line);
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
  st.tasks = live_tasks_;
  st.entries = entries_;
  uint64_t bytes = 0;
  for (const auto& [type, entry] : types_) {
    st.types += entry.pairs.empty() ? 0 : 1;
    bytes += 64 + type.capacity() + entry.pairs.capacity() * sizeof(pair_state)
             + entry.slot.size() * 32 + entry.slot.bucket_count() * sizeof(void*);
    for (const auto& p : entry.pairs)
      bytes += p.s.recent.capacity() * sizeof(line_ref);
  }
  bytes += tasks_.capacity() * sizeof(task_record) + task_ids_.size() * 48
           + task_ids_.bucket_count() * sizeof(void*);
  for (const auto& rec : tasks_) {
    st.events += rec.events;
    bytes += rec.name.capacity() * 2 + rec.types.capacity() * sizeof(void*);
  }
  st.bytes = bytes;
  return st;
}

} // namespace evstore
