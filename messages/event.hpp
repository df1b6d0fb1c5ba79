#pragma once

// The event: one line of a task's JSONL log (SPEC §2). A plain struct, default- and copy-constructible,
// with an `inspect()` overload so CAF can serialise it across process boundaries.

#include <cstdint>
#include <string>

#include <string_view>
#include <type_traits>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <caf/expected.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/optional.hpp>
#include <caf/meta/type_name.hpp>
#include "errc.hpp"
#include "export.hpp"
#include "timestamp.hpp"

namespace evstore {

/// The schema version this library writes; lines with a higher one are skipped and counted.
constexpr uint32_t current_schema_version = 1;

/// Who caused an event. The on-disk spelling is the lowercase enumerator name.
enum class actor_kind : uint8_t { human, orchestrator, scheduler, agent, system };

/// Returns the on-disk spelling, e.g. "orchestrator".
EVSTORE_API const char* to_string(actor_kind kind);

/// Parses the on-disk spelling; false for anything else.
EVSTORE_API bool from_string(std::string_view text, actor_kind& out);

/// An event's `data`: one JSON value kept as its text, so numbers keep their digits (integers of any
/// size, decimals as written) and strings their escapes, byte for byte, through the log and back
/// (docs/FORMAT.md, "data"). The text is valid JSON and holds no line break.
///
/// - From a boost::json::value (implicitly, e.g. `ev.data = boost::json::object{{"n", 1}};`): written
///   compactly, doubles in the shortest form that reads back the same (0.1 as `0.1`, 1.0 as `1.0`).
///   A value no reader could read back (nesting past 126, a non-finite number, invalid UTF-8) makes a
///   payload that `problem()` explains and that append refuses.
/// - From text, `json_payload::parse(text)`: checked by the writer's rules, whitespace removed, every
///   number and string token kept as written. This is the way to keep big integers exact.
/// - Read from a log: the bytes of the line's `data` value, as they are.
class EVSTORE_API json_payload {
public:
  /// JSON `null`.
  json_payload() = default;

  json_payload(const boost::json::value& value);

  /// Anything a boost::json::value is made from: objects, arrays, strings, numbers, bool, nullptr.
  template <class T, std::enable_if_t<!std::is_same_v<std::decay_t<T>, json_payload>
                                        && !std::is_same_v<std::decay_t<T>, boost::json::value>
                                        && std::is_constructible_v<boost::json::value, T&&>,
                                      int> = 0>
  json_payload(T&& x) : json_payload(boost::json::value(std::forward<T>(x))) {
  }

  /// Checks `text` by the writer's rules (one JSON value, nesting at most 126 deep, finite numbers,
  /// valid UTF-8) and keeps it without whitespace. Errors are errc::invalid_event naming the field:
  /// "data: number is not finite".
  static caf::expected<json_payload> parse(std::string_view text);

  /// Adopts `text`: exactly one JSON value by the reader's rules, nothing around it, no line break
  /// (the line decoder passes the bytes of a line's data value). Not for user input: use parse().
  static json_payload adopt_checked(std::string text);

  /// The JSON text.
  const std::string& text() const {
    return text_;
  }

  /// Why this payload cannot be appended ("data: number is not finite"), or "".
  const std::string& problem() const {
    return problem_;
  }

  /// True if the text is known to obey the writer's rules (made from a value or by parse()); false
  /// for text adopted from a line or received from another process, which the writer checks again.
  bool checked_for_writing() const {
    return checked_for_writing_;
  }

  /// The text parsed into a DOM, for convenience: integers beyond 64 bits become doubles there (use
  /// text() to keep them). Null if the payload has a problem.
  boost::json::value value() const;

  friend bool operator==(const json_payload& x, const json_payload& y) {
    return x.text_ == y.text_ && x.problem_ == y.problem_;
  }
  friend bool operator!=(const json_payload& x, const json_payload& y) {
    return !(x == y);
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, json_payload& x) {
    // What arrives from another process is checked like a line read from disk.
    auto check = caf::meta::load_callback([&]() -> caf::error { return x.check_loaded(); });
    return f(caf::meta::type_name("evstore::json_payload"), x.text_, x.problem_, check);
  }

private:
  caf::error check_loaded();

  std::string text_ = "null";
  std::string problem_;
  bool checked_for_writing_ = true; // not part of the value: ignored by ==, not sent
};

struct event {
  /// Lowercase hyphenated uuid v4. Empty on append means "generate one".
  std::string id;
  /// Colon-delimited lowercase segments, e.g. "task:state:running".
  std::string type;
  /// Task id; "" for system-wide events.
  std::string task;
  actor_kind actor = actor_kind::system;
  /// When it happened. Unset on append means "now"; every event read back has one, the Unix epoch
  /// included (a timestamp like any other). Only a line of a future schema may lack a readable one.
  caf::optional<timestamp> ts;
  json_payload data;
  uint32_t schema_version = current_schema_version;
};

EVSTORE_API bool operator==(const event& x, const event& y);
inline bool operator!=(const event& x, const event& y) {
  return !(x == y);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("evstore::event"), x.id, x.type, x.task, x.actor, x.ts, x.data,
           x.schema_version);
}

} // namespace evstore
