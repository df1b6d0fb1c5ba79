#include "node_process.hpp"

#include <chrono>
#include <csignal>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace evstore::testing {

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
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
    int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::execv(cli.c_str(), argv.data());
    ::_exit(127);
  }
  for (int i = 0; i < 1000 && !fs::exists(fs::path(root) / "NODE"); ++i)
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
