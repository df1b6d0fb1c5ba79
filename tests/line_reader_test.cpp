#include "src/format/line_reader.hpp"

#include <fcntl.h>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

using namespace evstore;

namespace {

std::vector<raw_line> lines_of(const std::string& content, uint64_t start = 0) {
  evstore::testing::temp_dir dir;
  auto path = dir.path() / "f";
  evstore::testing::spit(path, content);
  int fd = ::open(path.c_str(), O_RDONLY);
  std::vector<std::string> texts;
  std::vector<raw_line> out;
  EXPECT_EQ(for_each_line(fd, start, [&](const raw_line& l) {
              texts.emplace_back(l.text);
              out.push_back(l);
            }),
            0);
  ::close(fd);
  // The views die with the buffer: keep copies and point the results at them.
  static std::vector<std::vector<std::string>> keep;
  keep.push_back(std::move(texts));
  for (size_t i = 0; i < out.size(); ++i)
    out[i].text = keep.back()[i];
  return out;
}

} // namespace

TEST(LineReader, SplitsLinesAndReportsOffsets) {
  auto lines = lines_of("a\nbb\n\nccc\n");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1].text, "bb");
  EXPECT_EQ(lines[1].offset, 2u);
  EXPECT_EQ(lines[2].text, "");
  EXPECT_EQ(lines[3].offset, 6u);
  EXPECT_TRUE(lines[3].terminated);
}

TEST(LineReader, ReportsAnUnterminatedLastLine) {
  auto lines = lines_of("a\ntorn");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].text, "torn");
  EXPECT_FALSE(lines[1].terminated);
}

TEST(LineReader, HandlesLinesLongerThanItsBuffer) {
  const std::string big(3 << 20, 'x'); // three times the largest buffer
  auto lines = lines_of("s\n" + big + "\nt\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].text.size(), big.size());
  EXPECT_EQ(lines[2].text, "t");
  EXPECT_EQ(lines[2].offset, 2 + big.size() + 1);
}

TEST(LineReader, StartsAtAnOffset) {
  auto lines = lines_of("first\nsecond\n", 6);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "second");
  EXPECT_EQ(lines[0].offset, 6u);
}

TEST(LineReader, EmptyFileHasNoLines) {
  EXPECT_TRUE(lines_of("").empty());
}

namespace {

std::vector<raw_line> lines_capped(const std::string& content, size_t max_line,
                                   std::vector<std::string>& texts) {
  evstore::testing::temp_dir dir;
  auto path = dir.path() / "f";
  evstore::testing::spit(path, content);
  int fd = ::open(path.c_str(), O_RDONLY);
  std::vector<raw_line> out;
  EXPECT_EQ(for_each_line(
              fd, 0,
              [&](const raw_line& l) {
                texts.emplace_back(l.text);
                out.push_back(l);
              },
              max_line),
            0);
  ::close(fd);
  return out;
}

} // namespace

TEST(LineReader, ALineOverTheLimitIsReportedCutWithItsTrueLengthAndReadingGoesOn) {
  const std::string huge(100'000, 'x');
  std::vector<std::string> texts;
  auto lines = lines_capped("a\n" + huge + "\nbb\ncc\n", 4096, texts);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(texts[0], "a");
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_TRUE(lines[1].terminated);
  EXPECT_EQ(lines[1].offset, 2u);
  EXPECT_EQ(lines[1].length, huge.size());
  EXPECT_LE(texts[1].size(), 4096u); // never held whole
  EXPECT_EQ(texts[1], huge.substr(0, texts[1].size())); // its own first bytes, not the next line's
  EXPECT_EQ(texts[2], "bb");
  EXPECT_EQ(lines[2].offset, 2 + huge.size() + 1);
  EXPECT_FALSE(lines[2].too_long);
  EXPECT_EQ(texts[3], "cc");
}

TEST(LineReader, ATornLineOverTheLimitIsReportedUnterminated) {
  std::vector<std::string> texts;
  auto lines = lines_capped("a\n" + std::string(50'000, 'y'), 4096, texts);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_FALSE(lines[1].terminated);
  EXPECT_EQ(lines[1].length, 50'000u);
}

TEST(LineReader, LinesUnderTheLimitAreWholeWhateverTheirSize) {
  const std::string big(3000, 'z');
  std::vector<std::string> texts;
  auto lines = lines_capped(big + "\n" + big + "\n", 4096, texts);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(texts[0], big);
  EXPECT_EQ(texts[1], big);
  EXPECT_FALSE(lines[1].too_long);
}

TEST(LineReader, ALongLineFollowedByAShortOneReportsEachWithItsOwnBytes) {
  // The skip reads past the long line in chunks; what follows it must be handed out once, as itself.
  const std::string huge(10'000, 'x');
  const std::string next = "{" + std::string(254, 'n') + "}"; // 256 bytes, the preview's size
  std::vector<std::string> texts;
  auto lines = lines_capped(huge + "\n" + next + "\n" + "tail\n", 4096, texts);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[0].too_long);
  EXPECT_EQ(texts[0], huge.substr(0, texts[0].size()));
  EXPECT_EQ(texts[1], next);
  EXPECT_FALSE(lines[1].too_long);
  EXPECT_EQ(lines[1].offset, huge.size() + 1);
  EXPECT_EQ(texts[2], "tail");
}

TEST(LineReader, ALineOfExactlyTheLimitIsWholeAndOneByteMoreIsTooLong) {
  std::vector<std::string> texts;
  auto at_limit = lines_capped(std::string(4096, 'a') + "\n", 4096, texts);
  ASSERT_EQ(at_limit.size(), 1u);
  EXPECT_FALSE(at_limit[0].too_long);
  EXPECT_EQ(texts[0].size(), 4096u);
  texts.clear();
  auto over = lines_capped(std::string(4097, 'a') + "\n", 4096, texts);
  ASSERT_EQ(over.size(), 1u);
  EXPECT_TRUE(over[0].too_long);
  EXPECT_EQ(over[0].length, 4097u);
}

// Each thread keeps its last buffer for the next read: a read after a large one still honours its
// own line limit, and a read begun inside another's callback (the kept buffer in use) gets a buffer
// of its own, so neither sees the other's bytes.
TEST(LineReader, AReusedBufferKeepsEachReadsLimitAndANestedReadHasItsOwn) {
  const std::string wide(900'000, 'w'); // leaves a buffer of about 1 MiB kept
  ASSERT_EQ(lines_of("a\n" + wide + "\n").size(), 2u);
  std::vector<std::string> texts;
  auto capped = lines_capped("a\n" + std::string(5000, 'x') + "\nbb\n", 4096, texts);
  ASSERT_EQ(capped.size(), 3u);
  EXPECT_TRUE(capped[1].too_long);
  EXPECT_EQ(capped[1].length, 5000u);
  EXPECT_EQ(texts[2], "bb");

  evstore::testing::temp_dir dir;
  evstore::testing::spit(dir.path() / "outer", "o1\no2\no3\n");
  evstore::testing::spit(dir.path() / "inner", "i1\n" + wide + "\ni3\n");
  int outer = ::open((dir.path() / "outer").c_str(), O_RDONLY);
  int inner = ::open((dir.path() / "inner").c_str(), O_RDONLY);
  std::vector<std::string> seen;
  EXPECT_EQ(for_each_line(outer, 0,
                          [&](const raw_line& o) {
                            seen.emplace_back(o.text);
                            EXPECT_EQ(for_each_line(inner, 0,
                                                    [&](const raw_line& i) {
                                                      seen.emplace_back(i.text.substr(0, 2));
                                                    }),
                                      0);
                            seen.emplace_back(o.text); // the outer view is intact after it
                          }),
            0);
  ::close(outer);
  ::close(inner);
  std::vector<std::string> want;
  for (std::string o : {"o1", "o2", "o3"})
    want.insert(want.end(), {o, "i1", "ww", "i3", o});
  EXPECT_EQ(seen, want);
}
