#include "crate_types.hpp"

#include <algorithm>
#include <iterator>

namespace evstore {

namespace {

// Sorted, for a binary search.
constexpr std::string_view rust_crate_types[] = {
  "agent:error",
  "agent:message",
  "agent:question",
  "automation:created",
  "automation:deleted",
  "automation:run:cancelled",
  "automation:run:completed",
  "automation:run:failed",
  "automation:run:output",
  "automation:run:started",
  "automation:updated",
  "human:message",
  "merge:approved",
  "merge:changes_requested",
  "merge:completed",
  "merge:conflict",
  "merge:merging",
  "merge:queued",
  "merge:rejected",
  "orchestrator:decision",
  "orchestrator:escalation",
  "orchestrator:feedback",
  "orchestrator:message",
  "orchestrator:response",
  "orchestrator:thought",
  "reflection:closed",
  "reflection:comment",
  "reflection:created",
  "system:accounting:api_call",
  "system:accounting:session",
  "system:accounting:tokens",
  "system:config:reloaded",
  "system:flush",
  "system:memory:emergency",
  "system:memory:pressure",
  "system:memory:warning",
  "system:mode:pause",
  "system:mode:play",
  "system:mode:stop",
  "system:rebuild",
  "system:scheduler:tick",
  "system:started",
  "system:time_limit:hard",
  "system:time_limit:soft",
  "system:update:applying",
  "system:update:available",
  "task:created",
  "task:reordered",
  "task:state:awaiting_merge",
  "task:state:blocked",
  "task:state:cancelled",
  "task:state:changes_requested",
  "task:state:completed",
  "task:state:conflict",
  "task:state:failed",
  "task:state:question",
  "task:state:running",
  "task:state:testing",
  "task:state:waiting",
  "task:updated",
  "workspace:cleaned",
}; // sorted (a test checks)

// The crate parses ids with the uuid crate: hyphenated or 32 hex digits, either case (braced and
// urn forms too, which no writer of this format uses).
bool crate_parses_id(std::string_view id) {
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  if (id.size() == 32)
    return std::all_of(id.begin(), id.end(), hex);
  if (id.size() != 36)
    return false;
  for (size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !hex(id[i]))
      return false;
  }
  return true;
}

} // namespace

bool is_rust_crate_type(std::string_view type) {
  return std::binary_search(std::begin(rust_crate_types), std::end(rust_crate_types), type);
}

bool rust_crate_types_sorted() {
  return std::is_sorted(std::begin(rust_crate_types), std::end(rust_crate_types));
}

const char* rust_crate_would_skip(const event& ev, bool has_data) {
  if (!is_rust_crate_type(ev.type))
    return "type not in the Rust crate's list: the crate skips the line, and its compaction deletes it";
  if (!has_data)
    return "no \"data\" field: the Rust crate requires one and skips the line";
  if (!crate_parses_id(ev.id))
    return "id is not a uuid: the Rust crate skips the line";
  return nullptr;
}

} // namespace evstore
