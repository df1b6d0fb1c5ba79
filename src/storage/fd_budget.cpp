#include "fd_budget.hpp"

#include <algorithm>

#include <sys/resource.h>

namespace evstore {

size_t fd_budget::default_slots() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
    return 1024;
  return std::clamp<size_t>(static_cast<size_t>(lim.rlim_cur) / 4, 4, 1024);
}

} // namespace evstore
