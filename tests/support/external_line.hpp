#pragma once

// A line in the crate's format, as another tool (or the Rust crate) appends it to a task's file
// behind the store's back: what the checkpoint and population tests change files with.

#include <string>

#include "src/format/timestamp_format.hpp"
#include "src/format/uuid.hpp"

namespace evstore::testing {

/// `pad` lengthens the data, to make a line of a chosen size.
inline std::string external_line(const std::string& task, const std::string& type, timestamp ts,
                                 const std::string& pad = "") {
  return "{\"id\":\"" + make_uuid_v4() + "\",\"type\":\"" + type + "\",\"task\":\"" + task
         + "\",\"actor\":\"agent\",\"ts\":\"" + to_rfc3339(ts) + "\",\"data\":{\"text\":\"external"
         + pad + "\"},\"schema_version\":1}\n";
}

} // namespace evstore::testing
