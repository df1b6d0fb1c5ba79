#include "line_header.hpp"

#include "timestamp_format.hpp"

namespace evstore {

void peek_line(std::string_view line, line_header& out) {
  // The same pass as decode_line, so the two agree on every line; only the strings differ: here
  // the id and type land in `out`'s reused buffers and nothing else is copied.
  thread_local detail::line_fields f;
  f.id = &out.id;
  f.type = &out.type;
  bool parsed = detail::scan_line(line, f);
  f.id = f.type = nullptr;
  out.status = line_status::corrupt;
  out.ts = timestamp{};
  if (!parsed) {
    out.type.clear();
    return;
  }
  if (!f.has_type)
    out.type.clear();
  if (f.version_present && !f.version_ok)
    return;
  auto parsed_ts = f.has_ts ? parse_rfc3339(f.ts) : std::nullopt;
  if (f.version_present && f.version > current_schema_version) {
    if (parsed_ts)
      out.ts = *parsed_ts;
    out.status = line_status::future_schema;
    return;
  }
  actor_kind kind;
  if (!f.has_id || !f.has_type || !f.has_task || !f.has_actor || !parsed_ts
      || out.id.empty() || out.type.empty() || !from_string(f.actor, kind))
    return;
  out.ts = *parsed_ts;
  out.status = line_status::ok;
}

} // namespace evstore
