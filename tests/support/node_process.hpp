#pragma once

// `evstore serve` as a child process, for the tests that hold nodes in processes of their own (so a
// node can be SIGKILLed like a crashed host) and for evstore-cluster-bench: start one, stop it with
// SIGTERM, find a free port. No GoogleTest here: the bench compiles it too.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace evstore::testing {

/// A loopback TCP port nobody listens on now (bound, read, released).
uint16_t free_port();

/// Runs `cli` (the evstore binary) with `args` as a child process with stderr to `err` (empty: this
/// process's), and waits (up to 30 s) until `root`'s NODE file names the node: it listens. A NODE
/// left by a killed node is removed first, so the wait is for the new one.
pid_t start_node_process(const std::string& cli, const std::string& root,
                         const std::vector<std::string>& args, const std::filesystem::path& err);

/// `evstore --root ROOT --cluster CLUSTER serve --listen 127.0.0.1:PORT`.
pid_t start_cluster_node(const std::string& cli, const std::string& root, uint16_t port,
                         const std::string& cluster, const std::filesystem::path& err);

/// SIGTERM to a node, and its exit status; a node that has not exited after 20 s is killed and
/// reported as -1, so a hang fails the test instead of stopping the suite.
int stop_node(pid_t node);

/// SIGKILL, and reaps it.
void kill_node(pid_t node);

} // namespace evstore::testing
