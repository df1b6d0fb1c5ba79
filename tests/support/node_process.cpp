#include "node_process.hpp"

#include <chrono>
#include <csignal>
#include <ctime>
#include <random>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace evstore::testing {

namespace {

/// Binds a loopback TCP socket to `port` (0: the kernel's pick) and releases it; the port it had.
uint16_t try_port(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof(addr);
  uint16_t got = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    got = ntohs(addr.sin_port);
  ::close(fd);
  return got;
}

} // namespace

uint16_t free_port() {
  // Below Linux's ephemeral range (32768 and up by default): a node restarted on its port must not
  // find it taken by some outgoing connection's local end meanwhile.
  static std::mt19937 rng{static_cast<unsigned>(::getpid())
                          ^ static_cast<unsigned>(::time(nullptr))};
  for (int tries = 0; tries < 200; ++tries)
    if (uint16_t port = try_port(static_cast<uint16_t>(20000 + rng() % 12000)))
      return port;
  return try_port(0);
}

pid_t start_node_process(const std::string& cli, const std::string& root,
                         const std::vector<std::string>& args, const fs::path& err) {
  fs::remove(fs::path(root) / "NODE");
  // Built before the fork: the child only execs.
  std::vector<std::string> all{cli, "--root", root};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child == 0) {
    if (!err.empty()) {
      int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
    }
    ::execv(cli.c_str(), argv.data());
    ::_exit(127);
  }
  for (int i = 0; i < 3000 && !fs::exists(fs::path(root) / "NODE"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  return child;
}

pid_t start_cluster_node(const std::string& cli, const std::string& root, uint16_t port,
                         const std::string& cluster, const fs::path& err) {
  return start_node_process(cli, root,
                            {"--cluster", cluster, "serve", "--listen",
                             "127.0.0.1:" + std::to_string(port)},
                            err);
}

int stop_node(pid_t node) {
  ::kill(node, SIGTERM);
  for (int i = 0; i < 2000; ++i) {
    int status = 0;
    if (::waitpid(node, &status, WNOHANG) == node)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  kill_node(node);
  return -1;
}

void kill_node(pid_t node) {
  ::kill(node, SIGKILL);
  ::waitpid(node, nullptr, 0);
}

} // namespace evstore::testing
