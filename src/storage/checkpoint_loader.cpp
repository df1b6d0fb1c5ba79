#include "checkpoint_loader.hpp"

#include "messages/errc.hpp"
#include "src/index/index_checkpoint.hpp"
#include "store_layout.hpp"

namespace evstore {

loaded_checkpoint load_checkpoint(const store_root& root, size_t sketch_size) {
  loaded_checkpoint out;
  out.index = std::make_shared<type_index>(sketch_size);
  auto bytes = read_root_file(root, checkpoint_file_name);
  if (!bytes) {
    out.refused = render(bytes.error());
    return out;
  }
  if (bytes->empty())
    return out;
  auto err = decode_checkpoint(
    *bytes, checkpoint_scope{static_cast<uint32_t>(sketch_size), device_of(root)},
    [&](task_summary& task) {
      out.extents.emplace(task.task, file_extent{task.file_id, task.bytes, task.events});
      out.index->apply(task);
      ++out.tasks;
    });
  if (err) { // nothing of it may be trusted, not even the tasks read before the damage
    out = loaded_checkpoint{};
    out.index = std::make_shared<type_index>(sketch_size);
    out.refused = render(err);
  }
  return out;
}

} // namespace evstore
