#pragma once

// The benchmark's data: a store in the on-disk format with the realistic mix of the reference
// dataset (~60% agent:message, ~15% task:state:*, ~5% orchestrator:*, payloads of 50-400 bytes,
// timestamps interleaved over 30 days, plus system-wide events), written straight to the files.

#include <cstdint>
#include <string>

namespace bench {

struct dataset_spec {
  int tasks = 1000;
  int events_per_task = 1000;
  int system_events = 10'000;
  uint64_t seed = 42;
};

struct dataset_info {
  uint64_t events = 0;
  uint64_t bytes = 0;
  /// A type present in exactly one task.
  std::string single_task_type;
};

/// The name of the dataset's task `t` ("task-00042").
std::string task_name(int t);

/// Writes the store into `root` (which must not exist).
dataset_info generate_dataset(const std::string& root, const dataset_spec& spec);

} // namespace bench
