#include "line_header.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include "timestamp_format.hpp"

namespace evstore {

namespace {

using boost::json::error_code;
using boost::json::string_view;

// The top-level fields decode_line looks at; the last occurrence of a key wins, as in the DOM.
enum field : int { f_id, f_type, f_task, f_actor, f_ts, f_version, f_other, f_count };

struct header_handler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  int depth = 0;
  bool top_is_object = false;
  field current = f_other;
  std::string key;
  std::string value;
  // Per field: whether its (last) value was a string, and that string.
  bool is_string[f_count] = {};
  bool present[f_count] = {};
  std::string* text[f_count] = {};
  std::string task_text, actor_text, ts_text;
  // schema_version: valid only as a non-negative integer.
  bool version_ok = false;
  uint64_t version = 0;

  void reset(line_header& out) {
    key.clear(); // a previous line may have failed in the middle of a key or a string
    value.clear();
    current = f_other;
    depth = 0;
    top_is_object = false;
    for (int i = 0; i < f_count; ++i)
      is_string[i] = present[i] = false;
    text[f_id] = &out.id;
    text[f_type] = &out.type;
    text[f_task] = &task_text;
    text[f_actor] = &actor_text;
    text[f_ts] = &ts_text;
    text[f_version] = nullptr;
    text[f_other] = nullptr;
    version_ok = false;
    version = 0;
  }

  // A scalar or container value begins at depth 1: it belongs to `current`.
  void top_value(bool string_value) {
    present[current] = true;
    is_string[current] = string_value;
    if (current == f_version)
      version_ok = false;
  }

  bool on_document_begin(error_code&) {
    return true;
  }
  bool on_document_end(error_code&) {
    return true;
  }
  bool on_object_begin(error_code&) {
    if (depth == 0)
      top_is_object = true;
    else if (depth == 1)
      top_value(false);
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    --depth;
    return true;
  }
  bool on_array_begin(error_code&) {
    if (depth == 1)
      top_value(false);
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t, error_code&) {
    --depth;
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    if (depth == 1)
      key.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    if (depth != 1)
      return true;
    key.append(s.data(), s.size());
    if (key == "id")
      current = f_id;
    else if (key == "type")
      current = f_type;
    else if (key == "task")
      current = f_task;
    else if (key == "actor")
      current = f_actor;
    else if (key == "ts")
      current = f_ts;
    else if (key == "schema_version")
      current = f_version;
    else
      current = f_other;
    key.clear();
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    if (depth == 1 && text[current])
      value.append(s.data(), s.size());
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    if (depth != 1)
      return true;
    top_value(true);
    if (text[current]) {
      value.append(s.data(), s.size());
      text[current]->swap(value);
    }
    value.clear();
    return true;
  }
  bool on_number_part(string_view, error_code&) {
    return true;
  }
  bool on_int64(int64_t v, string_view, error_code&) {
    if (depth == 1) {
      top_value(false);
      if (current == f_version && v >= 0) {
        version_ok = true;
        version = static_cast<uint64_t>(v);
      }
    }
    return true;
  }
  bool on_uint64(uint64_t v, string_view, error_code&) {
    if (depth == 1) {
      top_value(false);
      if (current == f_version) {
        version_ok = true;
        version = v;
      }
    }
    return true;
  }
  bool on_double(double, string_view, error_code&) {
    if (depth == 1)
      top_value(false);
    return true;
  }
  bool on_bool(bool, error_code&) {
    if (depth == 1)
      top_value(false);
    return true;
  }
  bool on_null(error_code&) {
    if (depth == 1)
      top_value(false);
    return true;
  }
  bool on_comment_part(string_view, error_code&) {
    return true;
  }
  bool on_comment(string_view, error_code&) {
    return true;
  }
};

} // namespace

void peek_line(std::string_view line, line_header& out) {
  thread_local boost::json::basic_parser<header_handler> parser{boost::json::parse_options{}};
  parser.reset();
  auto& h = parser.handler();
  h.reset(out);
  out.status = line_status::corrupt;
  out.ts = timestamp{};
  error_code ec;
  auto used = parser.write_some(false, line.data(), line.size(), ec);
  bool trailing_garbage = false;
  for (auto i = used; i < line.size() && !trailing_garbage; ++i)
    trailing_garbage = line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n';
  if (ec || !parser.done() || !h.top_is_object || trailing_garbage) {
    out.type.clear();
    return;
  }
  if (h.present[f_version] && !h.version_ok)
    return;
  auto parsed_ts = h.is_string[f_ts] ? parse_timestamp(h.ts_text) : std::nullopt;
  if (h.present[f_version] && h.version > current_schema_version) {
    if (!h.is_string[f_type])
      out.type.clear();
    if (parsed_ts)
      out.ts = *parsed_ts;
    out.status = line_status::future_schema;
    return;
  }
  actor_kind kind;
  if (!h.is_string[f_id] || !h.is_string[f_type] || !h.is_string[f_task] || !h.is_string[f_actor]
      || !parsed_ts || out.id.empty() || out.type.empty() || !from_string(h.actor_text, kind))
    return;
  out.ts = *parsed_ts;
  out.status = line_status::ok;
}

} // namespace evstore
