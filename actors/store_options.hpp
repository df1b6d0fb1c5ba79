#pragma once

// How a store is opened. Every option states its default and, where it matters, its crash meaning.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "../messages/retention_policy.hpp"
#include "../messages/export.hpp"

namespace evstore {

/// When an append is acknowledged.
enum class durability : uint8_t {
  /// After write(2): the line is in the kernel's page cache. It survives a crash of this process, not
  /// a power loss or kernel crash. Default, as the Rust crate.
  written,
  /// After fdatasync(2): the line is on stable storage. Appends that arrive while a sync is due share
  /// one sync (group commit), so throughput degrades far less than one sync per event.
  fsynced,
};

struct store_options {
  /// Store root directory.
  std::string root = "./events";
  /// Read-only opens take no lock and may run beside a writing process; writes fail with
  /// errc::read_only.
  bool read_only = false;
  durability ack = durability::written;
  /// Longest line accepted on append, newline included (SPEC §4). Default 1 MiB.
  size_t max_line_bytes = size_t{1} << 20;
  /// Log files writers may keep open at once; 0 derives it from RLIMIT_NOFILE (a quarter of it).
  size_t max_open_files = 0;
  /// A writer idle this long (to twice as long: one sweep of the store's per period, at least 1 ms)
  /// closes its file and retires, freeing its memory.
  std::chrono::milliseconds writer_idle_timeout{1000};
  /// Recent ids per task remembered to acknowledge retried appends as duplicates.
  size_t dedupe_window = 10'000;
  /// Line references the index keeps per (type, task): more answers queries by reads instead of scans,
  /// at 24 bytes each per pair.
  size_t index_sketch_size = 4;
  /// Decoded events a writer keeps from its recent fetches, so repeated queries skip the pread and
  /// the parse; 0 turns the cache off. About half a kilobyte each, per live writer.
  size_t fetch_cache_lines = 16;
  /// How often a query's fetch checks, with an fstat(2), that the task's file was not deleted,
  /// replaced or truncated behind the store's back (by a person or a tool; no evstore process does
  /// it). Queries answer from the file as it was for at most this long after such a change, or less:
  /// a planned line found missing is checked at once. Appends check every time, so none is ever
  /// acknowledged into a deleted file. 0 checks on every fetch, at about a tenth of query throughput.
  /// A read-only store's queries are as stale as this at most: one runs a population pass first
  /// when the last began longer ago.
  std::chrono::milliseconds external_change_check{100};
  /// Files loaded at once while populating the index on open, at most; beyond three, fewer while
  /// they add up to more than 2 MiB (appends queue behind these loads on the scheduler: behind a
  /// few ms of reading at most). Many small files need many in flight to keep two cores busy: the hops
  /// between the pass, the store and each file's writer, not the reading, are most of their cost.
  size_t population_window = 64;
  /// Keep the index's checkpoint (<root>/index.checkpoint): load it on open, so the store reads only
  /// what changed since instead of every file, and save it at close and every checkpoint_interval
  /// while the store has changed. The files stay the only truth: a stale, foreign or damaged
  /// checkpoint is used only as far as the files prove it. Read-only opens load it, never save it.
  bool index_checkpoint = true;
  /// How often a running store saves its checkpoint, if anything changed since the last one (written
  /// aside, fsynced and renamed, so a crash leaves the old one whole). 0: only at close.
  std::chrono::milliseconds checkpoint_interval{60'000};
  /// Refuse on append (errc::invalid_type) any type outside the Rust crate's closed list. For a store
  /// shared with tools still on the crate, which skips other lines and whose compaction deletes them.
  /// Off by default: evstore itself accepts any well-formed type.
  bool crate_types_only = false;
  /// Serve the store to other processes as a CAF node (a writable store only): the store actor's
  /// public interface is published through CAF's middleman over TLS on listen_host:listen_port,
  /// and <root>/NODE names the endpoint while it serves. The actor system must have been prepared
  /// with configure_node (node.hpp); store::open does that itself. Clients: store::connect.
  bool serve = false;
  /// Loopback by default: nothing listens beyond this machine unless asked.
  std::string listen_host = "127.0.0.1";
  /// 0 lets the system pick a free port (NODE says which).
  uint16_t listen_port = 0;
  /// The credential the node presents and trusts; empty: <root>/node.pem, created on the first
  /// serve. A cluster's nodes and clients share one (the membership file's credential line,
  /// src/cluster/membership.hpp).
  std::string serve_credential;
  /// A cluster's node (`evstore serve --cluster FILE`): the membership file, and the names of the
  /// members this node is (one, unless a wildcard address leaves it open). The node then refuses an
  /// append, read or compaction of a task the file gives to another member (errc::wrong_node), so a
  /// client routing by another membership file cannot split a task's history over two nodes.
  /// Empty: a plain node, which serves every task.
  std::string serve_cluster;
  std::vector<std::string> serve_as;
};

/// Refuses options that make no sense (errc::invalid_argument naming the field): sizes of zero
/// where one is needed, negative durations, and counts so large that they can only be a wrapped
/// negative number or a typo (an append limit above what readers hold, a sketch of a million
/// references). spawn_store and store::open call it.
EVSTORE_API caf::error validate(const store_options& opts);

} // namespace evstore
