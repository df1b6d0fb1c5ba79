#include "query_rounds.hpp"

#include <algorithm>
#include <tuple>

#include "src/index/query_order.hpp"

namespace evstore {

// --- hints -------------------------------------------------------------------------------------

const query_hint* query_hints::find(const query_request& req) {
  auto it = by_key_.find(key_of(req));
  if (it == by_key_.end())
    return nullptr;
  entries_.splice(entries_.begin(), entries_, it->second);
  return &it->second->hint;
}

void query_hints::remember(const query_request& req, query_hint hint) {
  if (capacity_ == 0)
    return;
  auto k = key_of(req);
  if (auto it = by_key_.find(k); it != by_key_.end()) {
    it->second->hint = std::move(hint);
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  if (entries_.size() >= capacity_) {
    by_key_.erase(entries_.back().k);
    entries_.pop_back();
  }
  entries_.push_front(entry{k, std::move(hint)});
  by_key_.emplace(std::move(k), entries_.begin());
}

// --- one query ---------------------------------------------------------------------------------

namespace {

/// An event's place in the SPEC §3 order, without copying it.
struct rank_of {
  const event* ev;
  uint64_t position;

  bool before(const rank_of& other) const {
    return std::tie(ev->ts, ev->task, position)
           < std::tie(other.ev->ts, other.ev->task, other.position);
  }
};

/// Event `k` of an answer with its position.
rank_of rank_at(const query_result& r, size_t k) {
  return rank_of{&r.events[k], k < r.positions.size() ? r.positions[k] : 0};
}

/// The newest event of an answer (answers hold their events oldest first).
rank_of newest_of(const query_result& r) {
  return rank_at(r, r.events.size() - 1);
}

} // namespace

cluster_query::cluster_query(query_request req, size_t nodes, const query_hint* hint)
  : req_(std::move(req)), parts_(nodes) {
  const bool usable = hint != nullptr && hint->contributed.size() == nodes && req_.limit > 1;
  plain_ = !usable;
  if (usable) {
    for (size_t i = 0; i < nodes; ++i)
      parts_[i].full = hint->contributed[i];
    if (hint->floor && (!req_.since || *req_.since < *hint->floor))
      floor_ = hint->floor;
  }
  for (size_t i = 0; i < nodes; ++i)
    asking_.push_back(i);
}

query_request cluster_query::request_for(size_t i) const {
  query_request r = req_;
  r.allow_partial = false; // the router decides that; a node ignores it
  if (!parts_[i].full)
    r.limit = 1;
  if (floor_)
    r.since = floor_;
  return r;
}

void cluster_query::answered(size_t i, query_result answer) {
  parts_[i].answer = std::move(answer);
}

void cluster_query::failed(size_t i) {
  parts_[i].failed = true;
  parts_[i].answer = caf::none;
}

std::vector<size_t> cluster_query::not_covered(bool& bound_holds) const {
  std::vector<rank_of> held;
  for (const auto& p : parts_)
    if (p.answer)
      for (size_t k = 0; k < p.answer->events.size(); ++k)
        held.push_back(rank_at(*p.answer, k));
  const uint64_t limit = req_.limit;
  bound_holds = !floor_ || held.size() >= limit;
  std::vector<size_t> out;
  if (limit <= 1)
    return out;
  // A node asked for its newest event only may hold more of the answer if that event ranks
  // among the best limit-1 held; `threshold` is the (limit-1)-th best, if that many are held.
  caf::optional<rank_of> threshold;
  if (held.size() >= limit - 1) {
    auto nth = held.begin() + static_cast<std::ptrdiff_t>(limit - 2);
    std::nth_element(held.begin(), nth, held.end(),
                     [](const rank_of& x, const rank_of& y) { return y.before(x); });
    threshold = *nth;
  }
  for (size_t i = 0; i < parts_.size(); ++i) {
    const auto& p = parts_[i];
    if (p.full || !p.answer || p.answer->events.empty())
      continue;
    if (!threshold || !newest_of(*p.answer).before(*threshold))
      out.push_back(i);
  }
  return out;
}

bool cluster_query::next_round() {
  asking_.clear();
  if (plain_)
    return false; // every node answered its best K as the caller asked: nothing to check
  bool bound_holds = true;
  auto more = not_covered(bound_holds);
  if (bound_holds && more.empty())
    return false;
  if (round_ == 1 && bound_holds) {
    // The usual second round: the nodes whose newest event ranks in, for their best K.
    for (size_t i : more)
      parts_[i].full = true;
    asking_ = std::move(more);
  } else {
    // The bound may have cut off events of the answer, or after a second round the first round's
    // decisions no longer hold (a node asked again failed, or lost events to a compaction in
    // between, so the answers that left the others out are gone): ask every node as the caller
    // did, which needs no check after it.
    plain_ = true;
    floor_ = caf::none;
    for (size_t i = 0; i < parts_.size(); ++i)
      if (!parts_[i].failed) {
        parts_[i].full = true;
        asking_.push_back(i);
      }
  }
  if (asking_.empty())
    return false;
  ++round_;
  return true;
}

query_result cluster_query::take_answer(query_hint& hint) {
  // Each node's newest event, kept aside before the answers are moved into the merge.
  using key = std::tuple<caf::optional<timestamp>, std::string, uint64_t>;
  std::vector<caf::optional<key>> newest(parts_.size());
  for (size_t i = 0; i < parts_.size(); ++i)
    if (const auto& a = parts_[i].answer; a && !a->events.empty()) {
      const auto n = newest_of(*a);
      newest[i] = key{n.ev->ts, n.ev->task, n.position};
    }
  latest_events best{req_.limit};
  query_result out;
  for (auto& p : parts_) {
    if (!p.answer)
      continue;
    auto& r = *p.answer;
    out.stats.corrupt_lines += r.stats.corrupt_lines;
    out.stats.future_schema_lines += r.stats.future_schema_lines;
    out.stats.torn_tail = out.stats.torn_tail || r.stats.torn_tail;
    for (size_t k = 0; k < r.events.size(); ++k)
      best.offer(ranked_event{rank_at(r, k).position, std::move(r.events[k])});
    p.answer = caf::none;
  }
  best.take_into(out);
  // A node held an event of the answer if its newest ranks at or above the answer's oldest: the
  // merge keeps every event ranking above its oldest.
  hint.contributed.assign(parts_.size(), false);
  hint.floor = caf::none;
  if (!out.events.empty()) {
    const key oldest{out.events.front().ts, out.events.front().task, out.positions.front()};
    for (size_t i = 0; i < parts_.size(); ++i)
      hint.contributed[i] = newest[i] && !(*newest[i] < oldest);
    if (out.events.size() == req_.limit)
      hint.floor = out.events.front().ts;
  }
  return out;
}

} // namespace evstore
