#include "messages/errc.hpp"

#include <caf/message.hpp>

namespace evstore {

std::string to_string(errc code) {
  switch (code) {
    case errc::none: return "none";
    case errc::invalid_task_id: return "invalid_task_id";
    case errc::invalid_type: return "invalid_type";
    case errc::invalid_actor: return "invalid_actor";
    case errc::invalid_timestamp: return "invalid_timestamp";
    case errc::invalid_id: return "invalid_id";
    case errc::invalid_event: return "invalid_event";
    case errc::event_too_large: return "event_too_large";
    case errc::version_conflict: return "version_conflict";
    case errc::store_locked: return "store_locked";
    case errc::unsupported_format: return "unsupported_format";
    case errc::read_only: return "read_only";
    case errc::io_error: return "io_error";
    case errc::not_found: return "not_found";
    case errc::invalid_argument: return "invalid_argument";
    case errc::id_conflict: return "id_conflict";
    case errc::not_regular_file: return "not_regular_file";
    case errc::lock_lost: return "lock_lost";
    case errc::node_unavailable: return "node_unavailable";
    case errc::bad_credential: return "bad_credential";
    case errc::wrong_node: return "wrong_node";
    case errc::rebalancing: return "rebalancing";
  }
  return "unknown";
}

caf::error make_error(errc code, std::string what) {
  return caf::error{static_cast<uint8_t>(code), caf::atom("evstore"),
                    caf::make_message(std::move(what))};
}

std::string render(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() != caf::atom("evstore"))
    return caf::to_string(err);
  std::string out = "evstore: " + to_string(static_cast<errc>(err.code()));
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0)) {
    out += ": ";
    out += ctx.get_as<std::string>(0);
  }
  return out;
}

bool is(const caf::error& err, errc code) {
  // CAF 0.17's category() dereferences the error's data, which an empty error does not have.
  return err && err.category() == caf::atom("evstore") && err.code() == static_cast<uint8_t>(code);
}

} // namespace evstore
