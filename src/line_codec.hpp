#pragma once

// One JSONL line <-> one event, exactly per SPEC §2 and the Rust crate's serde form:
// {"id":..,"type":..,"task":..,"actor":..,"ts":..,"data":..,"schema_version":1}

#include <string>
#include <string_view>

#include "evstore/messages/event.hpp"

namespace evstore {

/// The line for `ev`, with its trailing newline.
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
/// 0 and is migrated.
decoded_line decode_line(std::string_view line);

/// True for lines holding only spaces, tabs or a '\r': they are ignored, not counted as corrupt.
bool is_blank_line(std::string_view line);

} // namespace evstore
