#include "checkpoint_loader.hpp"

#include <algorithm>
#include <thread>

#include "messages/errc.hpp"
#include "src/format/validation.hpp"
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
  caf::error err;
  try {
    out.index->begin_bulk();
    err = decode_checkpoint(
      *bytes, checkpoint_scope{static_cast<uint32_t>(sketch_size), device_of(root)}, *out.index,
      [&](std::string_view task, const file_extent& file) -> caf::error {
        // Only names the store lists, each once: any other entry could never be checked against
        // a file, and would be trusted or fail every query for as long as it is kept.
        std::string name{task};
        if (validate_task_id(name))
          return make_error(errc::io_error, "index checkpoint names an invalid task id");
        if (!out.extents.emplace(std::move(name), file).second)
          return make_error(errc::io_error,
                            "index checkpoint names task '" + std::string{task} + "' twice");
        ++out.tasks;
        return caf::none;
      });
    // This is the opener's own thread, not an actor's: the types may be ordered on two. (Not for
    // a checkpoint about to be refused.)
    if (!err)
      out.index->end_bulk(std::max(1u, std::min(2u, std::thread::hardware_concurrency())));
  } catch (const std::bad_alloc&) { // a checkpoint too big for memory is no checkpoint
    err = make_error(errc::io_error, "index checkpoint does not fit in memory");
  }
  if (err) { // nothing of it may be trusted, not even the tasks read before the damage
    out = loaded_checkpoint{};
    out.index = std::make_shared<type_index>(sketch_size);
    out.refused = render(err);
  }
  return out;
}

} // namespace evstore
