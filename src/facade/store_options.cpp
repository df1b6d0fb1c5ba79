#include "actors/store_options.hpp"

#include <string>

#include "messages/errc.hpp"
#include "src/format/line_reader.hpp"

namespace evstore {

namespace {

caf::error out_of_range(const char* field, uint64_t value, uint64_t low, uint64_t high) {
  return make_error(errc::invalid_argument, std::string{field} + " is " + std::to_string(value)
                                              + "; it must lie in " + std::to_string(low) + ".."
                                              + std::to_string(high));
}

caf::error negative(const char* field) {
  return make_error(errc::invalid_argument, std::string{field} + " must not be negative");
}

} // namespace

caf::error validate(const store_options& opts) {
  struct bound {
    const char* field;
    uint64_t value, low, high;
  };
  // The newline counts in max_line_bytes; a longer line than readers hold would be acknowledged and
  // then unreadable (line_reader.hpp).
  const bound bounds[] = {
    {"max_line_bytes", opts.max_line_bytes, 1, max_readable_line_bytes + 1},
    {"max_open_files", opts.max_open_files, 0, 1u << 20},
    {"dedupe_window", opts.dedupe_window, 0, 10'000'000},
    {"index_sketch_size", opts.index_sketch_size, 1, 1024},
    {"fetch_cache_lines", opts.fetch_cache_lines, 0, 1'000'000},
    {"population_window", opts.population_window, 1, 1024},
  };
  for (const auto& b : bounds)
    if (b.value < b.low || b.value > b.high)
      return out_of_range(b.field, b.value, b.low, b.high);
  if (opts.writer_idle_timeout.count() < 0)
    return negative("writer_idle_timeout");
  if (opts.external_change_check.count() < 0)
    return negative("external_change_check");
  if (opts.checkpoint_interval.count() < 0)
    return negative("checkpoint_interval");
  if (opts.root.empty())
    return make_error(errc::invalid_argument, "root must name a directory");
  if (opts.serve && opts.read_only)
    return make_error(errc::invalid_argument,
                      "serve needs a writable store: the node is the store's one writer");
  if (!opts.serve_cluster.empty() && !opts.serve)
    return make_error(errc::invalid_argument, "serve_cluster is for a served store (serve)");
  if (!opts.serve_cluster.empty() && opts.serve_as.empty())
    return make_error(errc::invalid_argument,
                      "serve_as must name the member of serve_cluster this node is");
  if (opts.serve_cluster.empty() && !opts.serve_as.empty())
    return make_error(errc::invalid_argument, "serve_as names members of serve_cluster, which is empty");
  if (opts.serve && opts.listen_host.empty())
    return make_error(errc::invalid_argument, "listen_host must name an address to listen on");
  return caf::none;
}

} // namespace evstore
