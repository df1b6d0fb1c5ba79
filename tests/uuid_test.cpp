#include "uuid.hpp"

#include <gtest/gtest.h>

using namespace evstore;

TEST(Uuid, GeneratesLowercaseVersionFourIds) {
  for (int i = 0; i < 100; ++i) {
    auto id = make_uuid_v4();
    ASSERT_TRUE(parse_uuid(id)) << id;
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
  }
  EXPECT_NE(make_uuid_v4(), make_uuid_v4());
}

TEST(Uuid, ParsesOnlyLowercaseHyphenatedForm) {
  EXPECT_TRUE(parse_uuid("0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a"));
  EXPECT_FALSE(parse_uuid("0B7E5F9C-8A55-4D1E-9C3A-1F2E3D4C5B6A"));
  EXPECT_FALSE(parse_uuid("0b7e5f9c8a554d1e9c3a1f2e3d4c5b6a"));
  EXPECT_FALSE(parse_uuid("0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6"));
  EXPECT_NE(*parse_uuid("0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a"),
            *parse_uuid("0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6b"));
}
