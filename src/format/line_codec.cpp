#include "line_codec.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include <boost/json/serialize.hpp>

#include "json_text.hpp"
#include "timestamp_format.hpp"

namespace evstore {

namespace {

// Ids, types and task ids are validated (printable ASCII, or UTF-8 without control characters for
// task ids), so they are almost always copied as they are; anything that needs escaping goes
// through Boost.JSON.
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

// Schema migrations, one step per version. Version 0 lines (written before the field existed) carry
// the same fields as version 1, so the step only stamps the version.
void migrate(event& ev) {
  if (ev.schema_version == 0)
    ev.schema_version = 1;
}

} // namespace

std::string encode_line(const event& ev) {
  std::string out;
  out.reserve(160 + ev.type.size() + ev.task.size() + ev.data.text().size());
  out += "{\"id\":";
  append_json_string(out, ev.id);
  out += ",\"type\":";
  append_json_string(out, ev.type);
  out += ",\"task\":";
  append_json_string(out, ev.task);
  out += ",\"actor\":\"";
  out += to_string(ev.actor);
  out += "\",\"ts\":\"";
  out += to_rfc3339(ev.ts ? *ev.ts : timestamp::now());
  out += "\",\"data\":";
  out += ev.data.text();
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

namespace detail {

namespace {

constexpr size_t npos = std::string_view::npos;

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    ++i;
  return i;
}

// schema_version counts only as an integer token that is not negative (-0 is 0) and fits 64 bits.
bool read_version(std::string_view token, uint64_t& out) {
  size_t i = 0;
  bool negative = !token.empty() && token[0] == '-';
  if (negative)
    ++i;
  uint64_t v = 0;
  for (; i < token.size(); ++i) {
    char c = token[i];
    if (c < '0' || c > '9')
      return false; // a fraction or an exponent: a double
    if (__builtin_mul_overflow(v, uint64_t{10}, &v) || __builtin_add_overflow(v, uint64_t(c - '0'), &v))
      return false;
  }
  if (negative && v != 0)
    return false;
  out = v;
  return true;
}

enum class field { id, type, task, actor, ts, data, schema_version, other };

field field_of(std::string_view k) {
  switch (k.size()) {
    case 2:
      if (k[0] == 'i' && k[1] == 'd')
        return field::id;
      if (k[0] == 't' && k[1] == 's')
        return field::ts;
      return field::other;
    case 4:
      if (std::memcmp(k.data(), "type", 4) == 0)
        return field::type;
      if (std::memcmp(k.data(), "task", 4) == 0)
        return field::task;
      if (std::memcmp(k.data(), "data", 4) == 0)
        return field::data;
      return field::other;
    case 5: return std::memcmp(k.data(), "actor", 5) == 0 ? field::actor : field::other;
    case 14:
      return std::memcmp(k.data(), "schema_version", 14) == 0 ? field::schema_version
                                                                : field::other;
    default: return field::other;
  }
}

} // namespace

bool scan_line(std::string_view s, line_fields& f) {
  f.has_id = f.has_type = f.has_task = f.has_actor = f.has_ts = false;
  f.version_present = f.version_ok = false;
  f.version = 0;
  f.has_data = false;
  json_text::problem why;
  size_t i = skip_ws(s, 0);
  if (i >= s.size() || s[i] != '{')
    return false;
  i = skip_ws(s, i + 1);
  if (i < s.size() && s[i] == '}') {
    ++i;
  } else {
    for (;;) {
      // Keys are compared as written when they hold no escape, which is always in practice.
      size_t key_begin = i;
      if (key_begin >= s.size() || s[key_begin] != '"'
          || (i = json_text::scan_value(s, i, json_text::rules::read, why)) == npos)
        return false;
      std::string_view k = s.substr(key_begin + 1, i - key_begin - 2);
      if (k.find('\\') != std::string_view::npos) {
        f.key.clear();
        json_text::read_string(s, key_begin, f.key, why);
        k = f.key;
      }
      i = skip_ws(s, i);
      if (i >= s.size() || s[i] != ':')
        return false;
      i = skip_ws(s, i + 1);
      std::string* text = nullptr;
      bool* has = nullptr;
      const field which = field_of(k);
      switch (which) {
        case field::id: text = f.id, has = &f.has_id; break;
        case field::type: text = f.type, has = &f.has_type; break;
        case field::task: text = &f.task, has = &f.has_task; break;
        case field::actor: text = &f.actor, has = &f.has_actor; break;
        case field::ts: text = &f.ts, has = &f.has_ts; break;
        default: break;
      }
      if (text && i < s.size() && s[i] == '"') {
        text->clear();
        if ((i = json_text::read_string(s, i, *text, why)) == npos)
          return false;
        *has = true;
      } else {
        size_t begin = i;
        if ((i = json_text::scan_value(s, i, json_text::rules::read, why)) == npos)
          return false;
        if (has)
          *has = false;
        if (which == field::data) {
          f.has_data = true;
          f.data_begin = begin;
          f.data_end = i;
        } else if (which == field::schema_version) {
          f.version_present = true;
          f.version_ok = s[begin] == '-' || (s[begin] >= '0' && s[begin] <= '9')
                           ? read_version(s.substr(begin, i - begin), f.version)
                           : false;
        }
      }
      i = skip_ws(s, i);
      if (i >= s.size())
        return false;
      if (s[i] == '}') {
        ++i;
        break;
      }
      if (s[i] != ',')
        return false;
      i = skip_ws(s, i + 1);
    }
  }
  return skip_ws(s, i) == s.size();
}

} // namespace detail

decoded_line decode_line(std::string_view line) {
  decoded_line result;
  event& ev = result.ev;
  // The envelope's strings land in the event; the rest in buffers reused across lines.
  thread_local detail::line_fields f;
  f.id = &ev.id;
  f.type = &ev.type;
  bool parsed = detail::scan_line(line, f);
  f.id = f.type = nullptr;
  auto corrupt = [&result]() {
    result.ev = event{};
    return std::move(result);
  };
  if (!parsed || (f.version_present && !f.version_ok))
    return corrupt();
  if (!f.has_type)
    ev.type.clear();
  uint64_t version = f.version_present ? f.version : 0;
  std::optional<timestamp> parsed_ts;
  if (f.has_ts)
    parsed_ts = parse_rfc3339(f.ts);
  if (version > current_schema_version) {
    // Never guessed at: keep only what retention needs (its ts, if readable) and its type.
    ev.id.clear();
    if (parsed_ts)
      ev.ts = *parsed_ts;
    ev.schema_version = static_cast<uint32_t>(
      std::min<uint64_t>(version, std::numeric_limits<uint32_t>::max()));
    result.status = line_status::future_schema;
    return result;
  }
  actor_kind kind;
  if (!f.has_id || !f.has_type || !f.has_task || !f.has_actor || !parsed_ts
      || ev.id.empty() || ev.type.empty() || !from_string(f.actor, kind))
    return corrupt();
  ev.task = f.task;
  ev.actor = kind;
  ev.ts = *parsed_ts;
  if (f.has_data)
    ev.data = json_payload::adopt_checked(
      std::string{line.substr(f.data_begin, f.data_end - f.data_begin)});
  ev.schema_version = static_cast<uint32_t>(version);
  migrate(ev);
  result.status = line_status::ok;
  return result;
}

} // namespace evstore
