#pragma once

// Moving tasks when a cluster's membership changes (evstore rebalance; README: "Moving tasks when
// the membership changes"). Runs outside any actor: it is a command's, and waits on each step.
//
// The rule it keeps: at every instant each task's whole history is on disk on its owner, or on two
// nodes byte for byte alike while it moves. Every node of both files first enters the rebalancing
// state (persisted, so a restarted node resumes in it: no history changes, nothing but statistics
// is answered). Then each task a node holds that the new file gives to another node is copied in
// chunks to the new owner's incoming file, which that node checks against the source's size and
// CRC-32 and renames into place (committed); only then does the source, after checking its file is
// still that one, delete it. Last, every node takes the new file as its own and replaces its gate,
// which drops every connection made under the old file. Stopped anywhere (the command, a node), a
// run again resumes: a copy not committed is done again from its start, a committed one is only
// released, and nodes that already ended enter and leave the state again with nothing to move.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <caf/expected.hpp>

namespace evstore {

/// The file in a node's root that holds the new membership's text while the node moves tasks.
constexpr const char* rebalance_file_name = "REBALANCE";
constexpr const char* rebalance_temp_file_name = "REBALANCE.tmp";
/// The file in a node's root that holds the membership a rebalance ended with: the node refuses to
/// start under a file with another ownership key (its old file would route tasks it gave away).
constexpr const char* membership_file_name = "MEMBERSHIP";
constexpr const char* membership_temp_file_name = "MEMBERSHIP.tmp";

struct rebalance_options {
  /// The membership the nodes serve now, and the one to move to (every node of either is asked).
  std::string from_file;
  std::string to_file;
  /// Bytes per copied chunk.
  uint64_t chunk_bytes = uint64_t{1} << 20;
  /// Tasks moved side by side (1: one after another, in the nodes' order).
  size_t parallel_moves = 8;
  /// How long one step may take on a node.
  std::chrono::milliseconds timeout{std::chrono::seconds{60}};
  /// Told each step as it is done ("begin alpha", "copy task 't-1' alpha->gamma at 0", "commit
  /// task 't-1' on gamma", "release task 't-1' on alpha", "end beta"); false stops the run there,
  /// as if the command had been killed (tests; moves in flight finish their current step). Called
  /// by one thread at a time.
  std::function<bool(const std::string& step)> after_step;
};

struct rebalance_report {
  /// Tasks copied to their new owner and released by the old one.
  uint64_t moved = 0;
  /// Of those, tasks a previous run had already committed (only released now).
  uint64_t resumed = 0;
  uint64_t bytes_copied = 0;
  /// The run stopped where after_step said so.
  bool stopped = false;
};

/// Runs a rebalance (above). Errors name the node and the step; a node that cannot be reached is
/// errc::node_unavailable before anything begins.
caf::expected<rebalance_report> rebalance_cluster(const rebalance_options& opts);

} // namespace evstore
