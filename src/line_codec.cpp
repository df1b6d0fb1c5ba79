#include "line_codec.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serializer.hpp>

#include "timestamp_format.hpp"

namespace evstore {

namespace {

// Ids, types and task ids are validated to printable ASCII, so they are almost always copied as
// they are; anything that needs escaping goes through Boost.JSON.
void append_json_string(std::string& out, std::string_view text) {
  bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
  });
  if (!plain) {
    out += boost::json::serialize(boost::json::string_view{text.data(), text.size()});
    return;
  }
  out += '"';
  out.append(text);
  out += '"';
}

// Serialises straight into `out`, without the temporary string boost::json::serialize returns.
void append_json_value(std::string& out, const boost::json::value& value) {
  thread_local boost::json::serializer serializer;
  serializer.reset(&value);
  char buf[4096];
  while (!serializer.done())
    out.append(serializer.read(buf, sizeof(buf)));
}

// Schema migrations, one step per version. Version 0 lines (written before the field existed) carry
// the same fields as version 1, so the step only stamps the version.
void migrate(event& ev) {
  if (ev.schema_version == 0)
    ev.schema_version = 1;
}

const boost::json::string* string_field(const boost::json::object& obj, std::string_view key) {
  auto* v = obj.if_contains(boost::json::string_view{key.data(), key.size()});
  return v ? v->if_string() : nullptr;
}

} // namespace

std::string encode_line(const event& ev) {
  std::string out;
  out.reserve(160 + ev.type.size() + ev.task.size());
  out += "{\"id\":";
  append_json_string(out, ev.id);
  out += ",\"type\":";
  append_json_string(out, ev.type);
  out += ",\"task\":";
  append_json_string(out, ev.task);
  out += ",\"actor\":\"";
  out += to_string(ev.actor);
  out += "\",\"ts\":\"";
  out += format_timestamp(ev.ts);
  out += "\",\"data\":";
  append_json_value(out, ev.data);
  out += ",\"schema_version\":";
  out += std::to_string(ev.schema_version);
  out += "}\n";
  return out;
}

bool is_blank_line(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t' && c != '\r')
      return false;
  return true;
}

decoded_line decode_line(std::string_view line) {
  decoded_line result;
  boost::json::error_code ec;
  // The line is parsed into an arena over a thread-local buffer, made afresh for each line, so the
  // envelope (its keys and the id, type and ts strings, which are copied out below) costs no heap
  // allocation; only `data` is copied to the default resource, because it outlives this call.
  thread_local unsigned char arena_buffer[16 * 1024];
  thread_local boost::json::parser parser;
  boost::json::monotonic_resource arena{arena_buffer, sizeof(arena_buffer)}; // outlives `root`
  parser.reset(boost::json::storage_ptr{&arena});
  parser.write(line.data(), line.size(), ec); // the whole line: incomplete text is an error
  if (ec) {
    parser.reset(); // holds nothing of the arena past this call
    return result;
  }
  boost::json::value root = parser.release();
  parser.reset();
  auto* obj = root.if_object();
  if (!obj)
    return result;
  uint64_t version = 0;
  if (auto* v = obj->if_contains("schema_version")) {
    if (auto* i = v->if_int64(); i && *i >= 0)
      version = static_cast<uint64_t>(*i);
    else if (auto* u = v->if_uint64())
      version = *u;
    else
      return result;
  }
  auto* id = string_field(*obj, "id");
  auto* type = string_field(*obj, "type");
  auto* task = string_field(*obj, "task");
  auto* actor = string_field(*obj, "actor");
  auto* ts = string_field(*obj, "ts");
  std::optional<timestamp> parsed_ts;
  if (ts)
    parsed_ts = parse_timestamp(std::string_view{ts->data(), ts->size()});
  event& ev = result.ev;
  if (version > current_schema_version) {
    // Never guessed at: keep only what retention needs (its ts, if readable) and its type.
    if (type)
      ev.type.assign(type->data(), type->size());
    if (parsed_ts)
      ev.ts = *parsed_ts;
    ev.schema_version = static_cast<uint32_t>(
      std::min<uint64_t>(version, std::numeric_limits<uint32_t>::max()));
    result.status = line_status::future_schema;
    return result;
  }
  actor_kind kind;
  if (!id || !type || !task || !actor || !parsed_ts || id->empty() || type->empty()
      || !from_string(std::string_view{actor->data(), actor->size()}, kind))
    return result;
  ev.id.assign(id->data(), id->size());
  ev.type.assign(type->data(), type->size());
  ev.task.assign(task->data(), task->size());
  ev.actor = kind;
  ev.ts = *parsed_ts;
  if (auto* data = obj->if_contains("data"))
    ev.data = boost::json::value(*data, boost::json::storage_ptr{});
  ev.schema_version = static_cast<uint32_t>(version);
  migrate(ev);
  result.status = line_status::ok;
  return result;
}

} // namespace evstore
