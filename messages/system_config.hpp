#pragma once

// One configuration class that registers every message type and the error category, used by tests,
// examples and embedders alike, so messages can cross process boundaries through CAF's middleman.

#include <caf/actor_system_config.hpp>

#include "export.hpp"
namespace evstore {

/// Registers evstore's message types and error category with `cfg`.
EVSTORE_API void register_types(caf::actor_system_config& cfg);

class EVSTORE_API system_config : public caf::actor_system_config {
public:
  system_config();
};

} // namespace evstore
