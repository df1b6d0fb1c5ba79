#pragma once

// How a cluster router asks its nodes for a query (prefix P, limit K, since S) so that nodes that
// cannot reach the answer do little work, and the answer stays exactly the single store's. Plain
// code: the router (actors/cluster_router.cpp) sends the requests and hands back the answers.
//
// Why every node is still asked: a node acknowledges an append before any router can hear of it,
// so no summary a router keeps can prove a node holds nothing for the answer; only the node, asked
// after the query began, can. What the router can choose is how much each node is asked for, and
// it chooses from what the last answer to the same (P, K, exact type) showed (a `query_hint`):
//
// - A node that held none of the last answer's events is asked for its newest matching event only
//   (limit 1: one pair planned, at most one line read), the others for their best K.
// - Every node is asked only for events at least as new as the last answer's K-th (a `since` of
//   its ts, when later than the caller's): the nodes' plans start from that bound instead of what
//   their own recent lines prove, so a node's old lines are not scanned for events the others'
//   newer ones push out (the system-wide log on its node, for the prefix "").
//
// A hint is never trusted, only checked: after the first round,
// - if the bound was applied and fewer than K events came back, events before it may belong to
//   the answer (a compaction removed newer ones): every node is asked again, as the caller asked;
// - a node asked for its newest event only whose newest ranks among the best K-1 of everything
//   held may have more: it is asked again for its best K. Otherwise all its other events rank
//   below its newest, below K events held, and none belongs to the answer.
// Each node's answer is then the best K of its events in the answer's range, and the best K of
// their union is the answer (SPEC §3 order): one round trip when the hint holds, two when not.
// The second round's answers are checked the same way: if a node asked again failed (a partial
// answer) or lost events in between (a compaction), the others' exclusion may rest on events no
// longer held, and a third round asks every node as the caller did. Without a hint (the first
// query of its kind, or K <= 1), every node is asked for its best K in one round.

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <caf/optional.hpp>

#include "messages/commands.hpp"

namespace evstore {

/// What the last complete answer to a query showed about the nodes.
struct query_hint {
  /// By node: it held an event of the answer.
  std::vector<bool> contributed;
  /// The ts of the answer's K-th event, if it had K events.
  caf::optional<timestamp> floor;
};

/// The hints of the most recently asked queries, by (prefix, exact type, limit); at most
/// `capacity` of them, the least recently used dropped first.
class query_hints {
public:
  explicit query_hints(size_t capacity = 256) : capacity_(capacity) {
  }

  /// The hint for a query like `req`, or null.
  const query_hint* find(const query_request& req);
  void remember(const query_request& req, query_hint hint);

  size_t size() const {
    return entries_.size();
  }

private:
  using key = std::tuple<std::string, bool, uint64_t>;
  struct entry {
    key k;
    query_hint hint;
  };
  static key key_of(const query_request& req) {
    return key{req.prefix, req.exact_type, req.limit};
  }

  size_t capacity_;
  std::list<entry> entries_; // most recently used first
  std::map<key, std::list<entry>::iterator> by_key_;
};

/// One query across `nodes` nodes, round by round. Ask asking() each its request_for(), report
/// each answer (answered) or failure (failed), then call next_round(): true starts another round,
/// false means take_answer() is the answer.
class cluster_query {
public:
  /// `hint` may be null; it is read here only.
  cluster_query(query_request req, size_t nodes, const query_hint* hint);

  /// The caller's request.
  const query_request& request() const {
    return req_;
  }
  /// The nodes this round asks.
  const std::vector<size_t>& asking() const {
    return asking_;
  }
  /// What node `i` is asked this round.
  query_request request_for(size_t i) const;

  /// Node `i`'s answer this round; it replaces any answer of an earlier round.
  void answered(size_t i, query_result answer);
  /// Node `i` could not answer this round: it is left out from here on (the caller decides whether
  /// a partial answer may stand).
  void failed(size_t i);

  /// Once every node asked this round answered or failed: whether another round is needed (it is
  /// then set up: asking() names its nodes).
  bool next_round();

  /// The merged answer (the best K of every node's answer), and in `hint` what it shows for the
  /// next query like this one. Call once, after next_round() returned false.
  query_result take_answer(query_hint& hint);

  /// How many rounds were asked (1 to 3).
  int rounds() const {
    return round_;
  }

private:
  struct node_part {
    /// Asked for its best K (else for its newest event only).
    bool full = true;
    bool failed = false;
    caf::optional<query_result> answer;
  };

  /// The nodes asked for their newest event only whose answer does not show that the rest of
  /// their events rank below the answer; `bound_holds` is false if the hint's bound may have cut
  /// events of the answer off (fewer than K held).
  std::vector<size_t> not_covered(bool& bound_holds) const;

  const query_request req_;
  /// The bound the hint set, when later than the caller's `since`.
  caf::optional<timestamp> floor_;
  /// This round asks every node for its best K as the caller asked (no hint, or the hint was
  /// given up): its answers need no check.
  std::vector<node_part> parts_;
  bool plain_ = false;
  std::vector<size_t> asking_;
  int round_ = 1;
};

} // namespace evstore
