#pragma once

// One JSONL line <-> one event, exactly per SPEC §2 and the Rust crate's serde form:
// {"id":..,"type":..,"task":..,"actor":..,"ts":..,"data":..,"schema_version":1}

#include <string>
#include <string_view>

#include "messages/event.hpp"
#include "messages/export.hpp"

namespace evstore {

/// The line for `ev`, with its trailing newline; `data` is written as its text, byte for byte.
/// @pre ev.ts is set (the writer fills it in); an unset one is written as the current time.
std::string encode_line(const event& ev);

enum class line_status {
  ok,            // a valid event, migrated to the current schema
  corrupt,       // not JSON, or not a valid event
  future_schema, // a valid envelope with a schema_version above ours: not interpreted
};

struct decoded_line {
  line_status status = line_status::corrupt;
  event ev;
};

/// Decodes one line (without its newline). Unknown fields are ignored; a missing schema_version means
/// 0 and is migrated. `data` keeps the exact bytes of the line's data value (null if absent).
decoded_line decode_line(std::string_view line);

namespace detail {

/// What decode_line and peek_line read of a line, in one pass without a DOM (json_text's scanner):
/// the envelope's strings (decoded), schema_version, and where `data` lies in the line. The last
/// occurrence of a key wins; a field whose value is not a string counts as absent.
struct line_fields {
  std::string* id = nullptr; // where to put the strings; reused across lines
  std::string* type = nullptr;
  std::string task, actor, ts, key;
  bool has_id = false, has_type = false, has_task = false, has_actor = false, has_ts = false;
  bool version_present = false, version_ok = false;
  uint64_t version = 0;
  bool has_data = false;
  size_t data_begin = 0, data_end = 0;
};

/// False if `line` is not one JSON object (reader's rules: valid UTF-8, nesting at most 1024).
bool scan_line(std::string_view line, line_fields& f);

} // namespace detail

/// True for lines holding only spaces, tabs or a '\r': they are ignored, not counted as corrupt.
/// Public too: log_inspection.hpp declares it for users, so it is exported here as well.
EVSTORE_API bool is_blank_line(std::string_view line);

} // namespace evstore
