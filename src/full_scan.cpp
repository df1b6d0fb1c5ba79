#include "full_scan.hpp"

#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include "line_codec.hpp"
#include "line_reader.hpp"
#include "query_order.hpp"
#include "store_layout.hpp"

namespace evstore {

caf::expected<query_result> full_scan_query(const std::string& root, std::string_view prefix,
                                            uint64_t limit, caf::optional<timestamp> since) {
  auto tasks = list_task_ids(root);
  if (!tasks)
    return tasks.error();
  query_result result;
  latest_events best{limit};
  for (const auto& task : *tasks) {
    const auto path = events_path(root, task);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT)
        continue; // removed by cleanup since the listing
      return io_error("cannot open", path, errno);
    }
    uint64_t position = 0;
    int err = for_each_line(fd, 0, [&](const raw_line& line) {
      if (!line.terminated || is_blank_line(line.text))
        return;
      auto d = decode_line(line.text);
      if (d.status == line_status::corrupt) {
        ++result.stats.corrupt_lines;
        return;
      }
      if (d.status == line_status::future_schema) {
        ++result.stats.future_schema_lines;
        return;
      }
      auto pos = position++;
      if (d.ev.type.compare(0, prefix.size(), prefix) != 0 || (since && d.ev.ts < *since))
        return;
      best.offer(ranked_event{pos, std::move(d.ev)});
    });
    ::close(fd);
    if (err != 0)
      return io_error("cannot read", path, err);
  }
  best.take_into(result);
  return result;
}

} // namespace evstore
