#pragma once

// EVSTORE_API marks what the library exports: the functions and classes of the public headers whose
// code lives in the library. The library is compiled with hidden visibility (CMake's
// CXX_VISIBILITY_PRESET hidden), so a shared libevstore.so exports exactly these and nothing of its
// internals. On ELF the attribute means the same to the library and to its users, so one spelling
// serves both, and a static library carries it harmlessly.
//
// Mark a declaration in a public header when its definition is in a .cpp file: a free function
// (`EVSTORE_API caf::error validate(...);`) or a whole class (`class EVSTORE_API store { ... };`,
// which exports its members, private ones called from inline code included). Inline functions,
// templates and plain structs need no mark.

#if defined(__GNUC__) || defined(__clang__)
#  define EVSTORE_API __attribute__((visibility("default")))
#else
#  define EVSTORE_API
#endif
