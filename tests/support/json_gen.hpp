#pragma once

// Random JSON text for property tests: deep nesting, numbers whose text a double would change (big
// integers, trailing zeros, exponents, -0), unicode, and every kind of escape. Every text it makes
// obeys the writer's rules (docs/FORMAT.md, "data"), so json_payload::parse accepts it.

#include <cstdint>
#include <random>
#include <string>

namespace evstore::testing {

class json_gen {
public:
  explicit json_gen(uint64_t seed) : rng_(seed) {
  }

  /// A value nested at most `max_depth` containers deep; with `spaces`, whitespace between tokens.
  std::string value(int max_depth, bool spaces = false) {
    std::string out;
    spaces_ = spaces;
    write(out, max_depth);
    return out;
  }

  /// `depth` arrays around a number: the deepest nesting, which random values rarely reach.
  static std::string nested(int depth, const std::string& inner = "1") {
    return std::string(static_cast<size_t>(depth), '[') + inner
           + std::string(static_cast<size_t>(depth), ']');
  }

  std::mt19937_64& rng() {
    return rng_;
  }

private:
  void ws(std::string& out) {
    if (spaces_ && rng_() % 3 == 0)
      out += " \t\r\n"[rng_() % 4];
  }

  std::string number() {
    static const char* fixed[] = {
      "0", "-0", "1.0", "1.50", "-0.0", "0.1", "1E-1", "1e400000000000000000000000000000000000000",
      "123456789012345678901234567890", "-123456789012345678901234567890.000000000000000001",
      "18446744073709551616", "-9223372036854775809", "1.7976931348623157e308", "5e-324", "1e-400",
      "2.5E+3", "1e308", "0.30000000000000004", "100000000000000000000000000000000000000000"};
    auto pick = rng_() % 4;
    if (pick == 0) {
      std::string s = fixed[rng_() % (sizeof(fixed) / sizeof(fixed[0]))];
      if (s.find("e4000") != std::string::npos) // not finite: the writer refuses it
        s = "4e-7";
      return s;
    }
    std::string s = rng_() % 2 ? "-" : "";
    s += std::to_string(rng_() % 10);
    if (s.back() != '0')
      for (int k = static_cast<int>(rng_() % 30); k > 0; --k)
        s += static_cast<char>('0' + rng_() % 10);
    if (pick == 2) {
      s += '.';
      for (int k = 1 + static_cast<int>(rng_() % 20); k > 0; --k)
        s += static_cast<char>('0' + rng_() % 10);
    }
    if (pick == 3)
      s += std::string(rng_() % 2 ? "e" : "E") + (rng_() % 2 ? "-" : "+")
           + std::to_string(rng_() % 270); // below 10^308: finite
    return s;
  }

  std::string string_token() {
    static const char* pieces[] = {"a", "plain text ", "é", "😀", "中文", "\\\"", "\\\\", "\\/",
                                   "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0000", "\\u001f",
                                   "\\u00e9", "\\u00E9", "\\ud83d\\ude00", "\\uFFFF", "\x7f",
                                   "'", "\\u2028", "\xe2\x80\xa8", "\xf4\x8f\xbf\xbf"};
    std::string s = "\"";
    for (int k = static_cast<int>(rng_() % 8); k > 0; --k)
      s += pieces[rng_() % (sizeof(pieces) / sizeof(pieces[0]))];
    return s + "\"";
  }

  void write(std::string& out, int depth) {
    auto pick = rng_() % 10;
    if (depth > 0 && pick < 2) {
      out += '[';
      ws(out);
      for (int n = static_cast<int>(rng_() % 4), k = 0; k < n; ++k) {
        if (k) {
          out += ',';
          ws(out);
        }
        write(out, depth - 1);
        ws(out);
      }
      out += ']';
    } else if (depth > 0 && pick < 4) {
      out += '{';
      ws(out);
      for (int n = static_cast<int>(rng_() % 4), k = 0; k < n; ++k) {
        if (k) {
          out += ',';
          ws(out);
        }
        out += string_token();
        ws(out);
        out += ':';
        ws(out);
        write(out, depth - 1);
        ws(out);
      }
      out += '}';
    } else if (pick < 7) {
      out += number();
    } else if (pick < 9) {
      out += string_token();
    } else {
      static const char* literals[] = {"true", "false", "null"};
      out += literals[rng_() % 3];
    }
  }

  std::mt19937_64 rng_;
  bool spaces_ = false;
};

} // namespace evstore::testing
