// The task-id validator on arbitrary bytes: whatever it accepts names exactly one directory directly
// under the root, so nothing outside the root can ever be touched.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "src/storage/store_layout.hpp"
#include "src/format/validation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string task{reinterpret_cast<const char*>(data), size};
  if (evstore::validate_task_id(task))
    return 0;
  if (task.empty())
    return 0; // the system-wide log, in the root itself
  namespace fs = std::filesystem;
  const fs::path root{"/store-root"};
  fs::path dir = evstore::task_dir(root.string(), task);
  // One component, not "." or "..", no separators or NUL: its parent is the root.
  if (dir.lexically_normal().parent_path() != root || dir.filename().string() != task
      || task.find('\0') != std::string::npos || task.size() > evstore::max_task_id_bytes)
    std::abort();
  return 0;
}
