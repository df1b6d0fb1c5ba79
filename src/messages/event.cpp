#include "messages/event.hpp"

#include <boost/json/parser.hpp>

#include "src/format/json_text.hpp"

namespace evstore {

const char* to_string(actor_kind kind) {
  switch (kind) {
    case actor_kind::human: return "human";
    case actor_kind::orchestrator: return "orchestrator";
    case actor_kind::scheduler: return "scheduler";
    case actor_kind::agent: return "agent";
    case actor_kind::system: return "system";
  }
  return "system";
}

bool from_string(std::string_view text, actor_kind& out) {
  static constexpr actor_kind all[] = {actor_kind::human, actor_kind::orchestrator,
                                       actor_kind::scheduler, actor_kind::agent,
                                       actor_kind::system};
  for (auto kind : all) {
    if (text == to_string(kind)) {
      out = kind;
      return true;
    }
  }
  return false;
}

json_payload::json_payload(const boost::json::value& value) {
  // Written into a buffer reused across calls, then copied once at its final size.
  thread_local std::string buffer;
  buffer.clear();
  if (auto why = json_text::serialize(value, buffer)) {
    problem_ = std::string{"data: "} + why.what;
    return; // stays null
  }
  text_.assign(buffer);
  if (buffer.capacity() > (size_t{1} << 20))
    std::string{}.swap(buffer); // keep no more than 1 MiB per thread
}

caf::expected<json_payload> json_payload::parse(std::string_view text) {
  if (auto why = json_text::check(text, json_text::rules::write))
    return make_error(errc::invalid_event, std::string{"data: "} + why.what + " (at byte "
                                             + std::to_string(why.offset) + ")");
  json_payload result;
  result.text_ = json_text::minify(text);
  return result;
}

json_payload json_payload::adopt_checked(std::string text) {
  json_payload result;
  result.text_ = std::move(text);
  result.checked_for_writing_ = false;
  return result;
}

boost::json::value json_payload::value() const {
  if (!problem_.empty())
    return nullptr;
  boost::json::parse_options opts;
  opts.max_depth = json_text::max_read_depth;
  boost::json::error_code ec;
  auto v = boost::json::parse(text_, ec, {}, opts);
  return ec ? boost::json::value{} : v;
}

caf::error json_payload::check_loaded() {
  checked_for_writing_ = false;
  if (auto why = json_text::check(text_, json_text::rules::read))
    return make_error(errc::invalid_event, std::string{"data: "} + why.what);
  text_ = json_text::minify(text_); // no line break, nothing around the value
  return caf::none;
}

bool operator==(const event& x, const event& y) {
  return x.id == y.id && x.type == y.type && x.task == y.task && x.actor == y.actor
         && x.ts == y.ts && x.data == y.data && x.schema_version == y.schema_version;
}

} // namespace evstore
