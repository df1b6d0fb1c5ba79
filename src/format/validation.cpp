#include "validation.hpp"

#include "json_text.hpp"
#include "timestamp_format.hpp"
#include "uuid.hpp"

namespace evstore {

caf::error validate_task_id(std::string_view task) {
  if (task.empty())
    return caf::none; // the system-wide log
  if (task.size() > max_task_id_bytes)
    return make_error(errc::invalid_task_id, "task id is " + std::to_string(task.size())
                                               + " bytes; at most 255 are allowed");
  if (task == "." || task == "..")
    return make_error(errc::invalid_task_id, "task id must not be '.' or '..'");
  bool ascii = true;
  for (unsigned char c : task) {
    if (c == '/' || c == '\\')
      return make_error(errc::invalid_task_id, "task id must not contain '/' or '\\'");
    if (c < 0x20 || c == 0x7f)
      return make_error(errc::invalid_task_id,
                        "task id must not contain NUL or control characters");
    ascii = ascii && c < 0x80;
  }
  if (!ascii && !json_text::valid_utf8(task))
    return make_error(errc::invalid_task_id, "task: invalid UTF-8 in task id");
  for (const char* reserved : reserved_task_ids)
    if (task == reserved)
      return make_error(errc::invalid_task_id,
                        "task id '" + std::string{task}
                          + "' is reserved: the store keeps a file of that name in its root");
  return caf::none;
}

caf::error validate_type(std::string_view type) {
  if (type.empty())
    return make_error(errc::invalid_type, "type must not be empty");
  if (type.size() > max_type_bytes)
    return make_error(errc::invalid_type, "type is longer than 255 bytes");
  bool segment_empty = true;
  for (char c : type) {
    if (c == ':') {
      if (segment_empty)
        return make_error(errc::invalid_type,
                          "type must be colon-delimited non-empty segments, got '"
                            + std::string{type} + "'");
      segment_empty = true;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
      segment_empty = false;
    } else {
      return make_error(errc::invalid_type,
                        "type segments are lowercase [a-z0-9_-], got '" + std::string{type} + "'");
    }
  }
  if (segment_empty)
    return make_error(errc::invalid_type,
                      "type must not end with ':', got '" + std::string{type} + "'");
  return caf::none;
}

caf::error validate_data(const json_payload& data) {
  if (!data.problem().empty())
    return make_error(errc::invalid_event, data.problem());
  // Payloads made from values or parsed from text are already checked; one read back from a log
  // or received from another process was checked only by the reader's looser rules.
  if (data.checked_for_writing())
    return caf::none;
  if (auto why = json_text::check(data.text(), json_text::rules::write))
    return make_error(errc::invalid_event, std::string{"data: "} + why.what + " (at byte "
                                             + std::to_string(why.offset) + ")");
  return caf::none;
}

caf::error validate_for_append(const event& ev) {
  if (auto err = validate_task_id(ev.task))
    return err;
  if (auto err = validate_type(ev.type))
    return err;
  if (!ev.id.empty() && !parse_uuid(ev.id))
    return make_error(errc::invalid_id, "id must be a lowercase hyphenated uuid, got '" + ev.id
                                          + "'");
  if (static_cast<unsigned>(ev.actor) > static_cast<unsigned>(actor_kind::system))
    return make_error(errc::invalid_actor, "actor: unknown value "
                                             + std::to_string(static_cast<unsigned>(ev.actor)));
  if (ev.schema_version != current_schema_version)
    return make_error(errc::invalid_event, "schema_version must be "
                                             + std::to_string(current_schema_version));
  if (ev.ts && (*ev.ts < earliest_writable_timestamp || *ev.ts > latest_writable_timestamp))
    return make_error(errc::invalid_timestamp,
                      "ts: RFC 3339 holds the years 0000 to 9999, got " + to_rfc3339(*ev.ts));
  if (auto err = validate_data(ev.data))
    return err;
  return caf::none;
}

} // namespace evstore
