#pragma once

// JSON text without a DOM: one iterative scanner (no recursion, so no depth can overflow the stack)
// that checks a value against the reader's or the writer's rules and says where it ends, and the
// serialiser that turns a boost::json::value into the text an event's `data` keeps
// (docs/FORMAT.md, "data").
//
// The two rule sets differ only where the Rust crate's reader is stricter than ours must be:
//   read:  RFC 8259 in UTF-8, containers nested at most max_read_depth deep. Whatever a reader of
//          our files or the crate's meets; the text is kept as it is, so nothing needs converting.
//   write: also what serde_json reads back: at most max_write_depth deep, every number finite as a
//          double (1e400 is not), no lone surrogate in a \u escape. An append is refused otherwise.

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace evstore::json_text {

/// Deepest `data` evstore writes, counting its outermost container as 1. serde_json reads at most
/// 127 nested containers per document (its recursion budget of 128 runs out at the 128th) and the
/// line's own object is one of them.
constexpr int max_write_depth = 126;

/// Deepest `data` a reader accepts: well beyond anything the crate writes or reads. Deeper lines
/// are skipped as corrupt.
constexpr int max_read_depth = 1024;

enum class rules { read, write };

/// Why a text was refused: a static message such as "nesting deeper than 126", and the byte offset.
struct problem {
  const char* what = nullptr;
  size_t offset = 0;
  explicit operator bool() const {
    return what != nullptr;
  }
};

/// Scans one JSON value starting at `text[pos]` (no leading whitespace). Returns the offset just past
/// it, or sets `why` and returns std::string_view::npos.
size_t scan_value(std::string_view text, size_t pos, rules r, problem& why);

/// Checks that `text` is exactly one JSON value, whitespace around it allowed.
problem check(std::string_view text, rules r);

/// `text` (already checked) without whitespace outside strings; numbers and strings byte for byte.
std::string minify(std::string_view text);

/// Reads the JSON string starting at `text[pos]` (its opening quote) into `out`, escapes decoded.
/// Returns the offset past the closing quote, or npos (with `why`) if it is not a valid string.
size_t read_string(std::string_view text, size_t pos, std::string& out, problem& why);

/// True if `text` is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points
/// above U+10FFFF), as every reader requires of a string.
bool valid_utf8(std::string_view text);

/// Serialises `value` compactly: integers as they are, doubles in the shortest form that reads back
/// the same ("0.1", "1.0", "1e22"), strings escaped as serde_json does. Refuses (returns a problem,
/// `out` unspecified) nesting beyond max_write_depth, non-finite doubles and invalid UTF-8.
problem serialize(const boost::json::value& value, std::string& out);

} // namespace evstore::json_text
