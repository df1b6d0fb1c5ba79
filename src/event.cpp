#include "evstore/messages/event.hpp"

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

bool operator==(const event& x, const event& y) {
  return x.id == y.id && x.type == y.type && x.task == y.task && x.actor == y.actor
         && x.ts == y.ts && x.data == y.data && x.schema_version == y.schema_version;
}

} // namespace evstore
