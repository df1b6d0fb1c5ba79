#include "full_scan.hpp"

#include "src/format/line_codec.hpp"
#include "src/index/query_order.hpp"
#include "log_file.hpp"
#include "store_layout.hpp"

namespace evstore {

caf::expected<query_result> full_scan_query(const std::string& root, std::string_view prefix,
                                            uint64_t limit, caf::optional<timestamp> since) {
  auto handle = store_root::open(root, false);
  if (!handle)
    return handle.error();
  auto tasks = list_task_ids(**handle);
  if (!tasks)
    return tasks.error();
  query_result result;
  latest_events best{limit};
  for (const auto& task : *tasks) {
    uint64_t position = 0;
    // A file cleanup removed since the listing holds no events: nothing to do.
    auto found = for_each_log_line(**handle, task, [&](const raw_line& line) {
      if (!line.terminated)
        return;
      if (line.too_long) { // before the blank test: its cut text may look blank
        ++result.stats.corrupt_lines;
        return;
      }
      if (is_blank_line(line.text))
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
      d.ev.task = task; // the file a line lives in names its task (docs/FORMAT.md)
      if (d.ev.type.compare(0, prefix.size(), prefix) != 0 || (since && d.ev.ts < *since))
        return;
      best.offer(ranked_event{pos, std::move(d.ev)});
    });
    if (!found)
      return found.error();
  }
  best.take_into(result);
  return result;
}

} // namespace evstore
