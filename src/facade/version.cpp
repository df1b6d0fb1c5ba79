#include "src/facade/version.hpp"

#include "src/storage/store_layout.hpp"

namespace evstore {

const char* version() {
  return EVSTORE_VERSION_STRING;
}

int format_version() {
  return store_format_version;
}

} // namespace evstore
