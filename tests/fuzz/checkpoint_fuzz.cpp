// The index checkpoint's payload (docs/FORMAT.md) as a hostile file would hold it: the input is the
// payload, wrapped in a header whose length and CRC-32 match, so every input reaches the parser and
// the pair-record checks instead of stopping at the checksum. Nothing may read outside the bytes or
// crash; what is accepted must plan queries, and must come back the same when saved and loaded again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <zlib.h>

#include "src/index/index_checkpoint.hpp"
#include "src/index/type_index.hpp"

namespace {

constexpr evstore::checkpoint_scope scope{4, 1};

void put_fixed(std::string& out, uint64_t v, size_t width) {
  for (size_t i = 0; i < width; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

caf::error load(std::string_view bytes, evstore::type_index& into) {
  into.begin_bulk();
  auto err = evstore::decode_checkpoint(bytes, scope, into,
                                        [](std::string_view, const evstore::file_extent&) {
                                          return caf::error{};
                                        });
  if (!err)
    into.end_bulk();
  return err;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes = "EVSTCKPT";
  put_fixed(bytes, evstore::checkpoint_format_version, 4);
  put_fixed(bytes, scope.sketch_size, 4);
  put_fixed(bytes, scope.root_device, 8);
  put_fixed(bytes, size, 8);
  put_fixed(bytes, ::crc32(::crc32(0L, Z_NULL, 0), data, static_cast<uInt>(size)), 4);
  put_fixed(bytes, 0, 4);
  bytes.append(reinterpret_cast<const char*>(data), size);
  evstore::type_index index{scope.sketch_size};
  if (load(bytes, index))
    return 0;
  for (const char* prefix : {"", "a", "task:"}) {
    evstore::plan_request req;
    req.prefix = prefix;
    req.limit = 3;
    index.plan(req);
  }
  // Saved and loaded again, it saves the same bytes.
  const auto saved = evstore::encode_checkpoint(index, scope);
  evstore::type_index again{scope.sketch_size};
  if (load(saved, again) || evstore::encode_checkpoint(again, scope) != saved)
    std::abort();
  return 0;
}
