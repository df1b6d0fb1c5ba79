#pragma once

// evstore's version: in the headers, what a program was compiled against; from the library,
// evstore::version(), what it runs with. The three numbers below are the only place the version is
// written: CMake reads them for the project, the package and the pkg-config file.
//
// Before 1.0, a new minor version may change the API and the ABI (the shared library's SONAME
// names major and minor, libevstore.so.0.1); a new patch version changes neither.

#include "messages/export.hpp"

#define EVSTORE_VERSION_MAJOR 0
#define EVSTORE_VERSION_MINOR 1
#define EVSTORE_VERSION_PATCH 0

/// One number for `#if`: major * 10000 + minor * 100 + patch (0.1.0 is 100).
#define EVSTORE_VERSION                                                                            \
  (EVSTORE_VERSION_MAJOR * 10000 + EVSTORE_VERSION_MINOR * 100 + EVSTORE_VERSION_PATCH)

#define EVSTORE_DETAIL_STRINGIFY_(x) #x
#define EVSTORE_DETAIL_STRINGIFY(x) EVSTORE_DETAIL_STRINGIFY_(x)

/// "major.minor.patch", e.g. "0.1.0".
#define EVSTORE_VERSION_STRING                                                                     \
  EVSTORE_DETAIL_STRINGIFY(EVSTORE_VERSION_MAJOR)                                                  \
  "." EVSTORE_DETAIL_STRINGIFY(EVSTORE_VERSION_MINOR)                                              \
  "." EVSTORE_DETAIL_STRINGIFY(EVSTORE_VERSION_PATCH)

namespace evstore {

/// The version of the library the program runs with, "0.1.0". With a shared library it can differ
/// from EVSTORE_VERSION_STRING, the headers' version the program was compiled with.
EVSTORE_API const char* version();

/// The on-disk format version this library writes into a new store's `format_version` file and
/// reads (docs/FORMAT.md); a store of another format is refused with errc::unsupported_format.
EVSTORE_API int format_version();

} // namespace evstore
