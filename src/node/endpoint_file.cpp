#include "endpoint_file.hpp"

#include <cerrno>
#include <csignal>
#include <sstream>

#include <unistd.h>

#include "messages/errc.hpp"
#include "src/storage/store_layout.hpp"

namespace evstore {

namespace {

constexpr const char* magic = "evstore-node 1";

std::string render_endpoint(const node_endpoint& where) {
  std::ostringstream out;
  out << magic << "\nhost " << where.host << "\nport " << where.port << "\npid " << where.pid
      << '\n';
  return out.str();
}

} // namespace

caf::error write_endpoint(const store_root& root, const node_endpoint& where) {
  return replace_root_file(root, endpoint_file_name, endpoint_temp_file_name,
                           render_endpoint(where));
}

caf::expected<caf::optional<node_endpoint>> read_endpoint(const store_root& root) {
  auto text = read_root_file(root, endpoint_file_name);
  if (!text)
    return text.error();
  if (text->empty())
    return caf::optional<node_endpoint>{};
  std::istringstream in{*text};
  std::string line;
  node_endpoint where;
  bool host = false, port = false, pid = false;
  if (!std::getline(in, line) || line != magic)
    return make_error(errc::node_unavailable,
                      root.display("", endpoint_file_name) + " is not an evstore endpoint file");
  while (std::getline(in, line)) {
    auto space = line.find(' ');
    if (space == std::string::npos)
      continue;
    auto key = line.substr(0, space), value = line.substr(space + 1);
    try {
      if (key == "host") {
        where.host = value;
        host = !value.empty();
      } else if (key == "port") {
        auto n = std::stoul(value);
        where.port = static_cast<uint16_t>(n);
        port = n > 0 && n <= 65535;
      } else if (key == "pid") {
        where.pid = std::stoll(value);
        pid = where.pid > 0;
      }
    } catch (const std::exception&) {
      // A number that does not parse leaves its field unset: reported below.
    }
  }
  if (!host || !port || !pid)
    return make_error(errc::node_unavailable, root.display("", endpoint_file_name)
                                                + " lacks a valid host, port or pid");
  return caf::optional<node_endpoint>{std::move(where)};
}

void remove_endpoint(const store_root& root, const node_endpoint& where) {
  auto current = read_endpoint(root);
  if (current && *current && (*current)->port == where.port && (*current)->pid == where.pid
      && (*current)->host == where.host)
    ::unlinkat(root.fd(), endpoint_file_name, 0);
}

bool process_alive(int64_t pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

} // namespace evstore
