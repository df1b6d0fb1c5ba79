// Compiles the tests' precompiled header (tests/CMakeLists.txt); holds nothing of its own.
