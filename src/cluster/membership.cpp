#include "membership.hpp"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "messages/errc.hpp"
#include "src/storage/file_io.hpp"

namespace evstore {

namespace {

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name == "credential" || name == "system")
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
           || c == '_' || c == '-';
  });
}

// HOST:PORT, HOST a name or IPv4 address, or an IPv6 address in brackets.
bool parse_address(const std::string& text, std::string& host, uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return false;
  host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      return false;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return false; // an IPv6 address needs its brackets
  }
  const std::string digits = text.substr(colon + 1);
  if (digits.size() > 5 || !std::all_of(digits.begin(), digits.end(), [](char c) {
        return c >= '0' && c <= '9';
      }))
    return false;
  const unsigned long value = std::stoul(digits);
  if (value == 0 || value > 65535)
    return false;
  port = static_cast<uint16_t>(value);
  return true;
}

} // namespace

uint64_t rendezvous_weight(const std::string& node, const std::string& task) {
  // FNV-1a over name, a NUL (no name contains one, so "ab"+"c" and "a"+"bc" differ), and task id;
  // then a finalising mix (splitmix64's), because FNV's low-entropy high bits would let one node
  // outweigh the others on similar ids.
  uint64_t h = 0xcbf29ce484222325ull;
  auto eat = [&h](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ull;
  };
  for (unsigned char c : node)
    eat(c);
  eat(0);
  for (unsigned char c : task)
    eat(c);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

size_t cluster_membership::owner_of(const std::string& task) const {
  return task.empty() ? system_node : highest_weight(task);
}

std::string cluster_membership::ownership_key() const {
  std::vector<std::string> names;
  names.reserve(nodes.size());
  for (const auto& m : nodes)
    names.push_back(m.name);
  std::sort(names.begin(), names.end());
  std::string key;
  for (const auto& name : names)
    key += (key.empty() ? "" : " ") + name;
  if (system_node < nodes.size())
    key += "; system " + nodes[system_node].name;
  return key;
}

size_t cluster_membership::highest_weight(const std::string& task) const {
  size_t best = 0;
  uint64_t best_weight = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const uint64_t w = rendezvous_weight(nodes[i].name, task);
    // Ties (never seen in practice) go to the smaller name, so every reader agrees.
    if (i == 0 || w > best_weight || (w == best_weight && nodes[i].name < nodes[best].name)) {
      best = i;
      best_weight = w;
    }
  }
  return best;
}

caf::expected<cluster_membership> parse_membership(const std::string& text, const std::string& dir) {
  cluster_membership out;
  std::string system_name;
  std::set<std::string> names;
  std::set<std::pair<std::string, uint16_t>> addresses;
  std::istringstream lines{text};
  std::string line;
  int number = 0;
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_argument,
                      "cluster file, line " + std::to_string(number) + ": " + why);
  };
  while (std::getline(lines, line)) {
    ++number;
    if (auto hash = line.find('#'); hash != std::string::npos)
      line.erase(hash);
    std::istringstream words{line};
    std::vector<std::string> w;
    for (std::string word; words >> word;)
      w.push_back(word);
    if (w.empty())
      continue;
    if (w.size() != 2)
      return bad("expected NAME HOST:PORT, credential PATH or system NAME");
    if (w[0] == "credential") {
      if (!out.credential.empty())
        return bad("a second credential line");
      std::filesystem::path p{w[1]};
      out.credential = p.is_relative() && !dir.empty() ? (std::filesystem::path{dir} / p).string()
                                                       : p.string();
      continue;
    }
    if (w[0] == "system") {
      if (!system_name.empty())
        return bad("a second system line");
      system_name = w[1];
      continue;
    }
    cluster_member m;
    m.name = w[0];
    if (!valid_name(m.name))
      return bad("'" + m.name + "' is not a node name (letters, digits, '.', '_', '-')");
    if (!parse_address(w[1], m.host, m.port))
      return bad("'" + w[1] + "' is not HOST:PORT");
    if (!names.insert(m.name).second)
      return bad("node '" + m.name + "' is listed twice");
    if (!addresses.emplace(m.host, m.port).second)
      return bad("two nodes at " + w[1]);
    out.nodes.push_back(std::move(m));
  }
  if (out.nodes.empty())
    return make_error(errc::invalid_argument, "cluster file names no node");
  if (out.credential.empty())
    return make_error(errc::invalid_argument,
                      "cluster file has no credential line (credential PATH: the key pair every "
                      "node and client presents)");
  out.system_node = out.highest_weight("");
  if (!system_name.empty()) {
    auto it = std::find_if(out.nodes.begin(), out.nodes.end(),
                           [&](const cluster_member& m) { return m.name == system_name; });
    if (it == out.nodes.end())
      return make_error(errc::invalid_argument,
                        "cluster file: the system node '" + system_name + "' is not listed");
    out.system_node = static_cast<size_t>(it - out.nodes.begin());
  }
  return out;
}

caf::expected<cluster_membership> read_membership(const std::string& path, std::string* text) {
  // A membership file names a few nodes and credentials: a megabyte is far more than one needs,
  // and what is not a regular file (a FIFO would hang the caller) is refused.
  constexpr size_t max_membership_bytes = 1 << 20;
  auto read = read_small_file(path, max_membership_bytes);
  if (!read) {
    if (std::error_code ec; !std::filesystem::exists(path, ec))
      return make_error(errc::not_found, "cannot read cluster file " + path);
    return read.error(); // names the file and why
  }
  auto dir = std::filesystem::absolute(path).parent_path().string();
  auto parsed = parse_membership(*read, dir);
  if (parsed && text)
    *text = std::move(*read);
  return parsed;
}

} // namespace evstore
