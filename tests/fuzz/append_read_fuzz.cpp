// Append then read on arbitrary input: the first byte picks how the event's data is made, the rest is
// the data's text (or, for mode 3, a task id and the text). Whatever the writer's validation accepts
// must encode to one line that decodes to the same event, with the data's text byte for byte; what it
// refuses is refused with an error, never written. Both readers must agree on the line.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include "src/format/json_text.hpp"
#include "src/format/line_codec.hpp"
#include "src/format/line_header.hpp"
#include "src/format/validation.hpp"

using namespace evstore;

namespace {

void check_round_trip(const event& ev) {
  if (validate_for_append(ev))
    return; // refused: nothing would be written
  auto line = encode_line(ev);
  if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1)
    std::abort(); // one line, exactly
  std::string_view text{line.data(), line.size() - 1};
  auto d = decode_line(text);
  if (d.status != line_status::ok || !(d.ev == ev) || d.ev.data.text() != ev.data.text())
    std::abort(); // acknowledged but not read back as it was
  line_header h;
  peek_line(text, h);
  if (h.status != line_status::ok || h.id != ev.id || h.type != ev.type || h.ts != *ev.ts)
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const unsigned mode = data[0] % 4;
  std::string_view rest{reinterpret_cast<const char*>(data) + 1, size - 1};
  event ev;
  ev.id = "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a";
  ev.type = "agent:message";
  ev.task = "t";
  ev.actor = actor_kind::agent;
  ev.ts = timestamp{std::chrono::nanoseconds{1'772'359'200'123'456'789}};
  if (mode == 3) { // a task id up to the first NUL... or newline, then the data
    auto cut = rest.find('\n');
    ev.task = std::string{rest.substr(0, cut)};
    rest = cut == std::string_view::npos ? std::string_view{} : rest.substr(cut + 1);
  }
  // The writer's rules accept a subset of the reader's.
  auto writable = !json_text::check(rest, json_text::rules::write);
  if (writable && json_text::check(rest, json_text::rules::read))
    std::abort();
  if (mode == 0 || mode == 3) { // the caller's text, as the CLI passes it
    auto parsed = json_payload::parse(rest);
    if (static_cast<bool>(parsed) != writable)
      std::abort();
    if (parsed) {
      ev.data = std::move(*parsed);
      check_round_trip(ev);
    }
  } else if (mode == 1) { // a value built in C++ (Boost's DOM from the same text)
    boost::json::parse_options opts;
    opts.max_depth = 4096;
    boost::json::error_code ec;
    auto value = boost::json::parse(rest, ec, {}, opts);
    if (ec)
      return 0;
    ev.data = value;
    if (ev.data.problem().empty() && json_text::check(ev.data.text(), json_text::rules::write))
      std::abort(); // the serialiser wrote what the writer's rules refuse
    check_round_trip(ev);
  } else { // a payload read from a line by the looser reader, appended again
    json_text::problem why;
    if (rest.empty() || json_text::scan_value(rest, 0, json_text::rules::read, why) != rest.size()
        || rest.find_first_of("\n\r") != rest.npos)
      return 0; // not what adopt_checked takes: the exact bytes of one value within a line
    ev.data = json_payload::adopt_checked(std::string{rest});
    check_round_trip(ev);
  }
  return 0;
}
