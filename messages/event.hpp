#pragma once

// The event: one line of a task's JSONL log (SPEC §2). A plain struct, default- and copy-constructible,
// with an `inspect()` overload so CAF can serialise it across process boundaries.

#include <cstdint>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

#include "evstore/messages/errc.hpp"

namespace evstore {

/// Nanoseconds since the Unix epoch, UTC. The on-disk form is RFC 3339 (SPEC §2).
using timestamp = caf::timestamp;

/// The schema version this library writes; lines with a higher one are skipped and counted.
constexpr uint32_t current_schema_version = 1;

/// Who caused an event. The on-disk spelling is the lowercase enumerator name.
enum class actor_kind : uint8_t { human, orchestrator, scheduler, agent, system };

/// Returns the on-disk spelling, e.g. "orchestrator".
const char* to_string(actor_kind kind);

/// Parses the on-disk spelling; false for anything else.
bool from_string(std::string_view text, actor_kind& out);

struct event {
  /// Lowercase hyphenated uuid v4. Empty on append means "generate one".
  std::string id;
  /// Colon-delimited lowercase segments, e.g. "task:state:running".
  std::string type;
  /// Task id; "" for system-wide events.
  std::string task;
  actor_kind actor = actor_kind::system;
  /// Zero (the epoch) on append means "now".
  timestamp ts{};
  boost::json::value data;
  uint32_t schema_version = current_schema_version;
};

bool operator==(const event& x, const event& y);
inline bool operator!=(const event& x, const event& y) {
  return !(x == y);
}

/// `data` travels as its JSON text: Boost.JSON values have no CAF inspector of their own.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  std::string data_text;
  if constexpr (Inspector::reads_state)
    data_text = boost::json::serialize(x.data);
  auto restore_data = caf::meta::load_callback([&]() -> caf::error {
    boost::json::error_code ec;
    auto parsed = boost::json::parse(data_text, ec);
    if (ec)
      return make_error(errc::invalid_event, "data is not valid JSON");
    x.data = std::move(parsed);
    return caf::none;
  });
  return f(caf::meta::type_name("evstore::event"), x.id, x.type, x.task, x.actor, x.ts, data_text,
           x.schema_version, restore_data);
}

} // namespace evstore
