#include "src/storage/file_io.hpp"

#include <string>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "messages/errc.hpp"
#include "src/storage/store_files.hpp"
#include "support/temp_dir.hpp"

using namespace evstore;
using evstore::testing::slurp;
using evstore::testing::spit;

namespace {

unique_fd open_at(const std::string& path, int flags) {
  return unique_fd{::open(path.c_str(), flags | O_CLOEXEC, 0644)};
}

} // namespace

TEST(FileIo, WriteAllWritesEveryByteAndSaysHowManyGotOut) {
  evstore::testing::temp_dir dir;
  auto fd = open_at(dir.str("f"), O_WRONLY | O_CREAT);
  const std::string data(300'000, 'x'); // more than one write(2) to a pipe would take; a file takes it
  size_t done = 7;
  EXPECT_EQ(write_all(fd.get(), data.data(), data.size(), done), 0);
  EXPECT_EQ(done, data.size());
  EXPECT_EQ(slurp(dir.str("f")), data);
}

TEST(FileIo, WriteAllReturnsTheErrnoOfAFailedWrite) {
  evstore::testing::temp_dir dir;
  spit(dir.str("f"), "");
  auto fd = open_at(dir.str("f"), O_RDONLY);
  size_t done = 7;
  EXPECT_EQ(write_all(fd.get(), "abc", 3, done), EBADF);
  EXPECT_EQ(done, 0u);
}

TEST(FileIo, ReadAllReadsFromThePositionToTheEnd) {
  evstore::testing::temp_dir dir;
  const std::string content = "head\n" + std::string(200'000, 'y'); // beyond one read's buffer
  spit(dir.str("f"), content);
  auto fd = open_at(dir.str("f"), O_RDONLY);
  ASSERT_EQ(::lseek(fd.get(), 5, SEEK_SET), 5);
  auto all = read_all(fd.get(), "f");
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, content.substr(5));
}

TEST(FileIo, ReadAllOfAnUnreadableDescriptorIsAnIoErrorNamingTheFile) {
  evstore::testing::temp_dir dir;
  auto fd = open_at(dir.str("f"), O_WRONLY | O_CREAT);
  auto all = read_all(fd.get(), "shown/name");
  ASSERT_FALSE(all);
  EXPECT_TRUE(is(all.error(), errc::io_error));
  EXPECT_NE(render(all.error()).find("cannot read shown/name"), std::string::npos);
}

TEST(FileIo, ReadLineAtReturnsTheWholeLineWithoutItsNewline) {
  evstore::testing::temp_dir dir;
  const std::string long_line(5000, 'z'); // longer than the first pread
  spit(dir.str("f"), "first\n" + long_line + "\nlast\n");
  auto fd = open_at(dir.str("f"), O_RDONLY);
  std::string out;
  ASSERT_TRUE(read_line_at(fd.get(), 0, 1 << 20, out));
  EXPECT_EQ(out, "first");
  ASSERT_TRUE(read_line_at(fd.get(), 6, 1 << 20, out));
  EXPECT_EQ(out, long_line);
  ASSERT_TRUE(read_line_at(fd.get(), 6 + long_line.size() + 1, 1 << 20, out));
  EXPECT_EQ(out, "last");
}

TEST(FileIo, ReadLineAtIsFalseWithoutAWholeLineOrBeyondTheLimit) {
  evstore::testing::temp_dir dir;
  spit(dir.str("f"), "0123456789\ntorn");
  auto fd = open_at(dir.str("f"), O_RDONLY);
  std::string out = "stale";
  EXPECT_FALSE(read_line_at(fd.get(), 11, 1 << 20, out)); // no newline: not a whole line
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(read_line_at(fd.get(), 100, 1 << 20, out)); // past the end
  EXPECT_FALSE(read_line_at(fd.get(), 0, 9, out));          // ten bytes, nine allowed
  EXPECT_TRUE(read_line_at(fd.get(), 0, 10, out));          // exactly at the limit is readable
  EXPECT_EQ(out, "0123456789");
}

TEST(FileIo, AFileIdFollowsTheFileNotItsNameAndZeroIsABadDescriptor) {
  evstore::testing::temp_dir dir;
  spit(dir.str("f"), "x");
  auto fd = open_at(dir.str("f"), O_RDONLY);
  const uint64_t id = file_id_of(fd.get());
  EXPECT_NE(id, 0u);
  EXPECT_EQ(file_id_of(open_at(dir.str("f"), O_RDONLY).get()), id); // the same file, reopened
  EXPECT_EQ(file_id_of(-1), 0u);
}

TEST(FileIo, AFileRecreatedOnAReusedInodeNumberHasAnotherFileId) {
  // ext4 hands a deleted file's inode number to the next file created; where the file system keeps
  // birth times, the identity still tells them apart.
  evstore::testing::temp_dir dir;
  struct statx one {};
  struct statx two {};
  one.stx_ino = two.stx_ino = 1234;
  one.stx_mask = two.stx_mask = STATX_INO | STATX_BTIME;
  one.stx_btime = {1'700'000'000, 5, 0};
  two.stx_btime = {1'700'000'000, 6, 0};
  EXPECT_NE(file_id_of(one), file_id_of(two));
  two.stx_btime = one.stx_btime;
  EXPECT_EQ(file_id_of(one), file_id_of(two));
  two.stx_mask = STATX_INO; // no birth time: the inode number alone, and never 0
  two.stx_ino = 0;
  EXPECT_NE(file_id_of(two), 0u);
}
