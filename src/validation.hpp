#pragma once

// Input checks of SPEC §4. Each returns a default (empty) error when the input is acceptable, else an
// error whose context names the field and what is wrong with it.

#include <cstddef>
#include <string_view>

#include <caf/error.hpp>

#include "evstore/messages/event.hpp"

namespace evstore {

/// Longest task id, in bytes.
constexpr size_t max_task_id_bytes = 255;

/// Longest event type, in bytes.
constexpr size_t max_type_bytes = 255;

/// "" (system-wide) or 1-255 bytes without '/', '\\', NUL or control characters, not "." or "..".
caf::error validate_task_id(std::string_view task);

/// Colon-delimited non-empty segments of [a-z0-9_-], e.g. "task:state:running".
caf::error validate_type(std::string_view type);

/// Checks an event about to be appended: task, type, and id (empty or a lowercase hyphenated uuid).
/// Actor and ts are typed and so always valid here; their text forms are checked where text is parsed.
caf::error validate_for_append(const event& ev);

} // namespace evstore
