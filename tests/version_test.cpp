// One version, written once: the header's macros, the library's version() and the CMake project
// version (read from the header) agree; format_version() is what a new store's file says.
#include <string>

#include <gtest/gtest.h>

#include "src/facade/store.hpp"
#include "src/facade/version.hpp"
#include "src/storage/store_layout.hpp"
#include "support/temp_dir.hpp"

using namespace evstore;

TEST(Version, TheLibraryRunsTheVersionOfItsHeaders) {
  EXPECT_STREQ(version(), EVSTORE_VERSION_STRING);
}

TEST(Version, TheStringAndTheNumberAreMadeOfTheThreeParts) {
  EXPECT_EQ(std::string{EVSTORE_VERSION_STRING}, std::to_string(EVSTORE_VERSION_MAJOR) + "."
                                                   + std::to_string(EVSTORE_VERSION_MINOR) + "."
                                                   + std::to_string(EVSTORE_VERSION_PATCH));
  EXPECT_EQ(EVSTORE_VERSION,
            EVSTORE_VERSION_MAJOR * 10000 + EVSTORE_VERSION_MINOR * 100 + EVSTORE_VERSION_PATCH);
}

TEST(Version, TheCMakeProjectHasTheHeadersVersion) {
  EXPECT_STREQ(EVSTORE_PROJECT_VERSION, EVSTORE_VERSION_STRING);
}

TEST(Version, FormatVersionIsWhatANewStoreIsCreatedWith) {
  EXPECT_EQ(format_version(), store_format_version);
  evstore::testing::temp_dir dir;
  store_options opts;
  opts.root = dir.str("store");
  auto db = store::open(opts);
  ASSERT_TRUE(db) << render(db.error());
  EXPECT_EQ(evstore::testing::slurp(dir.path() / "store" / format_version_file_name),
            std::to_string(format_version()) + "\n");
}
