#pragma once

// query_by_type_prefix by brute force, as the Rust crate did it: every task file read and every line
// parsed. It reads the files directly (no actors), so it is the test oracle and the benchmark
// baseline, and it serves read-only opens.

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "messages/commands.hpp"

namespace evstore {

/// With `since`, only events with ts >= since qualify, as in query_request.
caf::expected<query_result> full_scan_query(const std::string& root, std::string_view prefix,
                                            uint64_t limit, caf::optional<timestamp> since = caf::none);

} // namespace evstore
