#include "json_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace evstore::json_text {

namespace {

static_assert(max_write_depth == 126 && max_read_depth == 1024, "update the messages below");
constexpr const char* too_deep_write = "nesting deeper than 126";
constexpr const char* too_deep_read = "nesting deeper than 1024";

constexpr size_t npos = std::string_view::npos;

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && is_ws(s[i]))
    ++i;
  return i;
}

size_t fail(problem& why, const char* what, size_t offset) {
  why.what = what;
  why.offset = offset;
  return npos;
}

// Eight bytes at a time: true if any is below 0x20, a quote, a backslash or not ASCII, i.e. the
// string's plain run ends somewhere in this word.
bool word_needs_attention(uint64_t w) {
  constexpr uint64_t ones = 0x0101010101010101ull;
  constexpr uint64_t highs = 0x8080808080808080ull;
  auto has_zero = [](uint64_t v) { return (v - ones) & ~v & highs; };
  uint64_t below_space = (w - ones * 0x20) & ~w & highs;
  return (below_space | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) | (w & highs)) != 0;
}

// The first index at or after `i` whose byte ends a string's plain run (below 0x20, a quote, a
// backslash or not ASCII), or s.size(): eight bytes at a time, then one at a time.
size_t skip_plain_run(std::string_view s, size_t i) {
  const size_t n = s.size();
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (word_needs_attention(w))
      break;
    i += 8;
  }
  while (i < n) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u < 0x20 || u >= 0x80 || u == '"' || u == '\\')
      break;
    ++i;
  }
  return i;
}

// Length of the well-formed UTF-8 sequence at s[i] (a byte >= 0x80), or 0 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto at = [&](size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  unsigned c = at(0);
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    unsigned b = at(k);
    return b >= lo && b <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF)
    return cont(1) ? 2 : 0;
  if (c == 0xE0)
    return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
    return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED)
    return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0)
    return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3)
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4)
    return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Four hex digits at s[i]; -1 if not.
long hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size())
    return -1;
  long v = 0;
  for (size_t k = 0; k < 4; ++k) {
    int d = hex_digit(s[i + k]);
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

void put_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The string at s[pos] (its opening quote). With `out`, its decoded content is appended there.
// Returns the offset past the closing quote, or npos.
size_t string_token(std::string_view s, size_t pos, bool is_key, std::string* out, problem& why) {
  size_t i = pos + 1;
  const size_t n = s.size();
  for (;;) {
    size_t run = i;
    i = skip_plain_run(s, i);
    if (out)
      out->append(s.data() + run, i - run);
    if (i >= n)
      return fail(why, is_key ? "unterminated key" : "unterminated string", pos);
    auto u = static_cast<unsigned char>(s[i]);
    if (u == '"')
      return i + 1;
    if (u < 0x20)
      return fail(why, is_key ? "control character in key" : "control character in string", i);
    if (u >= 0x80) {
      size_t len = utf8_sequence(s, i);
      if (len == 0)
        return fail(why, is_key ? "invalid UTF-8 in key" : "invalid UTF-8 in string", i);
      if (out)
        out->append(s.data() + i, len);
      i += len;
      continue;
    }
    // A backslash.
    if (i + 1 >= n)
      return fail(why, "unterminated string", pos);
    char e = s[i + 1];
    const char* simple = std::strchr("\"\\/bfnrt", e);
    if (e != '\0' && simple != nullptr) {
      if (out) {
        static constexpr char decoded[] = "\"\\/\b\f\n\r\t";
        *out += decoded[simple - "\"\\/bfnrt"];
      }
      i += 2;
      continue;
    }
    if (e != 'u')
      return fail(why, "invalid escape in string", i);
    long cp = hex4(s, i + 2);
    if (cp < 0)
      return fail(why, "invalid \\u escape in string", i);
    i += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      long low = i + 1 < n && s[i] == '\\' && s[i + 1] == 'u' ? hex4(s, i + 2) : -1;
      if (low < 0xDC00 || low > 0xDFFF)
        return fail(why, "lone surrogate in \\u escape", i - 6);
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      i += 6;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return fail(why, "lone surrogate in \\u escape", i - 6);
    }
    if (out)
      put_utf8(*out, static_cast<uint32_t>(cp));
  }
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A number token at s[pos]; under the writer's rules it must also be finite as a double.
size_t number_token(std::string_view s, size_t pos, rules r, problem& why) {
  size_t i = pos;
  const size_t n = s.size();
  if (i < n && s[i] == '-')
    ++i;
  if (i >= n || !is_digit(s[i]))
    return fail(why, "invalid number", pos);
  const size_t int_begin = i;
  if (s[i] == '0')
    ++i;
  else
    while (i < n && is_digit(s[i]))
      ++i;
  const size_t int_end = i;
  size_t frac_begin = i, frac_end = i;
  if (i < n && s[i] == '.') {
    frac_begin = ++i;
    while (i < n && is_digit(s[i]))
      ++i;
    frac_end = i;
    if (frac_end == frac_begin)
      return fail(why, "invalid number", pos);
  }
  int64_t exponent = 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      negative = s[i++] == '-';
    if (i >= n || !is_digit(s[i]))
      return fail(why, "invalid number", pos);
    while (i < n && is_digit(s[i])) {
      if (exponent < 1'000'000'000)
        exponent = exponent * 10 + (s[i] - '0');
      ++i;
    }
    if (negative)
      exponent = -exponent;
  }
  if (r == rules::write) {
    // The value lies in [10^(magnitude-1), 10^magnitude): finite below 10^308, infinite from 10^309;
    // only the decade in between needs converting.
    int64_t magnitude = 0;
    bool nonzero = false;
    for (size_t k = int_begin; k < int_end && !nonzero; ++k)
      if (s[k] != '0') {
        nonzero = true;
        magnitude = static_cast<int64_t>(int_end - k) + exponent;
      }
    for (size_t k = frac_begin; k < frac_end && !nonzero; ++k)
      if (s[k] != '0') {
        nonzero = true;
        magnitude = -static_cast<int64_t>(k - frac_begin) + exponent;
      }
    if (nonzero && magnitude >= 309) {
      bool infinite = magnitude >= 310;
      if (!infinite) {
        double d = 0;
        auto res = std::from_chars(s.data() + pos, s.data() + i, d);
        infinite = res.ec == std::errc::result_out_of_range || !std::isfinite(d);
      }
      if (infinite)
        return fail(why, "number is not finite", pos);
    }
  }
  return i;
}

size_t literal_token(std::string_view s, size_t pos, problem& why) {
  for (std::string_view word : {"true", "false", "null"})
    if (s.compare(pos, word.size(), word) == 0)
      return pos + word.size();
  return fail(why, "not valid JSON", pos);
}

// An object member's key and its ':' at s[pos] (after whitespace); returns where its value starts.
size_t member_key(std::string_view s, size_t pos, problem& why) {
  if (pos >= s.size() || s[pos] != '"')
    return fail(why, "not valid JSON (expected a key)", pos);
  size_t i = string_token(s, pos, true, nullptr, why);
  if (i == npos)
    return npos;
  i = skip_ws(s, i);
  if (i >= s.size() || s[i] != ':')
    return fail(why, "not valid JSON (expected ':')", i);
  return skip_ws(s, i + 1);
}

} // namespace

size_t scan_value(std::string_view s, size_t pos, rules r, problem& why) {
  const int limit = r == rules::write ? max_write_depth : max_read_depth;
  // in_object[d]: whether the container at depth d is an object. Depth 0 is outside any container.
  bool in_object[max_read_depth + 1];
  int depth = 0;
  size_t i = pos;
  const size_t n = s.size();
  for (;;) {
    // A value starts at s[i].
    if (i >= n)
      return fail(why, "not valid JSON (truncated)", i);
    char c = s[i];
    if (c == '{' || c == '[') {
      if (depth == limit)
        return fail(why, r == rules::write ? too_deep_write : too_deep_read, i);
      in_object[++depth] = c == '{';
      i = skip_ws(s, i + 1);
      if (i < n && s[i] == (c == '{' ? '}' : ']')) {
        --depth;
        ++i;
      } else if (c == '{') {
        if ((i = member_key(s, i, why)) == npos)
          return npos;
        continue;
      } else {
        continue;
      }
    } else if (c == '"') {
      if ((i = string_token(s, i, false, nullptr, why)) == npos)
        return npos;
    } else if (c == '-' || is_digit(c)) {
      if ((i = number_token(s, i, r, why)) == npos)
        return npos;
    } else {
      if ((i = literal_token(s, i, why)) == npos)
        return npos;
    }
    // A value ended just before s[i]: close containers until one continues.
    for (;;) {
      if (depth == 0)
        return i;
      i = skip_ws(s, i);
      if (i >= n)
        return fail(why, "not valid JSON (truncated)", i);
      if (s[i] == ',') {
        i = skip_ws(s, i + 1);
        if (in_object[depth]) {
          if ((i = member_key(s, i, why)) == npos)
            return npos;
        }
        break;
      }
      if (s[i] != (in_object[depth] ? '}' : ']'))
        return fail(why, "not valid JSON", i);
      --depth;
      ++i;
    }
  }
}

problem check(std::string_view text, rules r) {
  problem why;
  size_t end = scan_value(text, skip_ws(text, 0), r, why);
  if (end != npos && skip_ws(text, end) != text.size())
    fail(why, "not valid JSON (text after the value)", end);
  return why;
}

std::string minify(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\')
        out += text[++i];
      else if (c == '"')
        in_string = false;
    } else if (!is_ws(c)) {
      out += c;
      in_string = c == '"';
    }
  }
  return out;
}

size_t read_string(std::string_view text, size_t pos, std::string& out, problem& why) {
  if (pos >= text.size() || text[pos] != '"')
    return fail(why, "not a string", pos);
  return string_token(text, pos, false, &out, why);
}

bool valid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t len = utf8_sequence(text, i);
    if (len == 0)
      return false;
    i += len;
  }
  return true;
}

namespace {

// Appends `text` as a JSON string, escaping as serde_json does; false on invalid UTF-8.
bool put_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    size_t run = i;
    // Plain ASCII and well-formed UTF-8 are copied as they are; the run ends at what needs escaping.
    for (i = skip_plain_run(text, i); i < n && static_cast<unsigned char>(text[i]) >= 0x80;
         i = skip_plain_run(text, i)) {
      size_t len = utf8_sequence(text, i);
      if (len == 0)
        return false;
      i += len;
    }
    out.append(text.data() + run, i - run);
    if (i == n)
      break;
    char c = text[i++];
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        auto u = static_cast<unsigned char>(c);
        char esc[6] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 0xF]};
        out.append(esc, 6);
      }
    }
  }
  out += '"';
  return true;
}

// Shortest text that reads back as the same double, always with a '.' or an exponent so it reads
// back as a double: 0.1 -> "0.1", 1.0 -> "1.0", 1e22 -> "1e22", 1e-7 -> "1e-7".
void put_double(std::string& out, double d) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  std::string_view text(buf, static_cast<size_t>(res.ptr - buf));
  auto e = text.find('e');
  if (e == std::string_view::npos) {
    out.append(text);
    if (text.find('.') == std::string_view::npos)
      out += ".0";
    return;
  }
  out.append(text.substr(0, e + 1));
  size_t k = e + 1;
  if (text[k] == '+')
    ++k;
  else if (text[k] == '-')
    out += text[k++];
  while (k + 1 < text.size() && text[k] == '0')
    ++k;
  out.append(text.substr(k));
}

template <class Int>
void put_integer(std::string& out, Int v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<size_t>(res.ptr - buf));
}

struct frame {
  const boost::json::key_value_pair* kv = nullptr; // objects
  const boost::json::key_value_pair* kv_end = nullptr;
  const boost::json::value* v = nullptr; // arrays
  const boost::json::value* v_end = nullptr;
};

} // namespace

problem serialize(const boost::json::value& root, std::string& out) {
  problem why;
  thread_local std::vector<frame> stack; // reused: no allocation per call
  stack.clear();
  const boost::json::value* cur = &root;
  for (;;) {
    switch (cur->kind()) {
      case boost::json::kind::object: {
        const auto& obj = cur->get_object();
        if (static_cast<int>(stack.size()) == max_write_depth) {
          fail(why, too_deep_write, out.size());
          return why;
        }
        if (obj.empty()) {
          out += "{}";
          break;
        }
        stack.push_back(frame{obj.begin(), obj.end(), nullptr, nullptr});
        out += '{';
        if (!put_string(out, {obj.begin()->key().data(), obj.begin()->key().size()})) {
          fail(why, "invalid UTF-8 in key", out.size());
          return why;
        }
        out += ':';
        cur = &obj.begin()->value();
        continue;
      }
      case boost::json::kind::array: {
        const auto& arr = cur->get_array();
        if (static_cast<int>(stack.size()) == max_write_depth) {
          fail(why, too_deep_write, out.size());
          return why;
        }
        if (arr.empty()) {
          out += "[]";
          break;
        }
        stack.push_back(frame{nullptr, nullptr, arr.begin(), arr.end()});
        out += '[';
        cur = arr.begin();
        continue;
      }
      case boost::json::kind::string: {
        const auto& str = cur->get_string();
        if (!put_string(out, {str.data(), str.size()})) {
          fail(why, "invalid UTF-8 in string", out.size());
          return why;
        }
        break;
      }
      case boost::json::kind::int64: put_integer(out, cur->get_int64()); break;
      case boost::json::kind::uint64: put_integer(out, cur->get_uint64()); break;
      case boost::json::kind::double_: {
        double d = cur->get_double();
        if (!std::isfinite(d)) {
          fail(why, "number is not finite", out.size());
          return why;
        }
        put_double(out, d);
        break;
      }
      case boost::json::kind::bool_: out += cur->get_bool() ? "true" : "false"; break;
      case boost::json::kind::null: out += "null"; break;
    }
    // `cur` is written: move to the next sibling, closing finished containers.
    for (;;) {
      if (stack.empty())
        return why;
      frame& f = stack.back();
      if (f.kv) {
        if (++f.kv != f.kv_end) {
          out += ',';
          if (!put_string(out, {f.kv->key().data(), f.kv->key().size()})) {
            fail(why, "invalid UTF-8 in key", out.size());
            return why;
          }
          out += ':';
          cur = &f.kv->value();
          break;
        }
        out += '}';
      } else {
        if (++f.v != f.v_end) {
          out += ',';
          cur = f.v;
          break;
        }
        out += ']';
      }
      stack.pop_back();
    }
  }
}

} // namespace evstore::json_text
