#pragma once

// Messages between the store's own actors. Public only because typed actor interfaces name them.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace evstore {

/// A writer tells the router it has been idle after handling `handled` requests. The router retires it
/// only if it forwarded exactly that many, i.e. the writer's mailbox holds nothing from the router.
struct writer_idle {
  std::string task;
  uint64_t handled = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, writer_idle& x) {
  return f(caf::meta::type_name("evstore::writer_idle"), x.task, x.handled);
}

} // namespace evstore
