#pragma once

// Reads a store's index checkpoint (index_checkpoint.hpp) into an index and the file extents the
// writers start from. A missing, damaged or foreign checkpoint gives an empty index: the population
// at open then reads every file, as without one.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "messages/internal/notifications.hpp"
#include "src/index/type_index.hpp"
#include "store_files.hpp"

namespace evstore {

struct loaded_checkpoint {
  /// Never null.
  std::shared_ptr<type_index> index;
  /// Tasks taken from the checkpoint.
  uint64_t tasks = 0;
  /// What each task's file held when the checkpoint was made, by task.
  std::unordered_map<std::string, file_extent> extents{};
  /// Why no checkpoint was used, if one existed; empty otherwise.
  std::string refused{};
};

loaded_checkpoint load_checkpoint(const store_root& root, size_t sketch_size);

} // namespace evstore
