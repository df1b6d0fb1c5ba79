#pragma once

// Whether this test binary is built with a sanitizer: the heaviest property tests run fewer seeds
// and the 100,000-task test fewer tasks there (the first CI stage runs them whole). GCC says so with
// __SANITIZE_*__; clang (14) only through __has_feature.

// ThreadSanitizer alone (EVSTORE_THREAD_SANITIZED): clang's TSan runtime defines the global
// operator new and delete itself (linked whole), so a test that replaces them cannot link there.
#if defined(__SANITIZE_THREAD__)
#define EVSTORE_THREAD_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EVSTORE_THREAD_SANITIZED 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(EVSTORE_THREAD_SANITIZED)
#define EVSTORE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EVSTORE_SANITIZED 1
#endif
#endif

namespace evstore::testing {

#ifdef EVSTORE_SANITIZED
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

} // namespace evstore::testing
