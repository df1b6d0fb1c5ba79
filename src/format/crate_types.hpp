#pragma once

// The Rust crate evstore replaces reads only its own closed list of event types: any other line is
// skipped as corrupt, and its compact_task deletes it. A store shared with tools still on the crate
// can refuse other types on append (store_options::crate_types_only), and `evstore verify --crate`
// reports the lines the crate would skip. The list is the crate's EventType as of its schema_version
// 1 (the `events` crate of the tasks orchestrator).

#include <string_view>

#include "messages/event.hpp"

namespace evstore {

/// True if the Rust crate reads events of `type`.
bool is_rust_crate_type(std::string_view type);

/// The list is sorted (for the binary search); for the test.
bool rust_crate_types_sorted();

/// Why the Rust crate would skip this valid event (`has_data`: the line has a "data" field, which
/// the crate requires), or nullptr if it reads it.
const char* rust_crate_would_skip(const event& ev, bool has_data);

} // namespace evstore
