#include "compaction.hpp"

#include <cerrno>
#include <tuple>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/format/line_codec.hpp"
#include "src/format/line_reader.hpp"
#include "src/index/type_sketch.hpp"
#include "file_io.hpp"
#include "store_layout.hpp"

namespace evstore {

namespace {

// A line the policy judges: every line but blank and corrupt ones.
struct judged_line {
  std::string_view text;
  line_status status;
  caf::optional<timestamp> ts; // unset for a line we do not interpret (a future schema without a
                               // readable ts): no age can judge it, it is kept
  std::string type;
};

// Writes `kept` under the temporary name and fsyncs it; returns its inode. Leaves no temporary file
// behind if it fails.
caf::expected<uint64_t> write_temp_log(const store_root& root, int dir_fd, const std::string& task,
                                       std::string_view kept) {
  const std::string tmp = compact_temp_file_name;
  const std::string shown = root.display(task, tmp);
  if (::unlinkat(dir_fd, tmp.c_str(), 0) != 0 && errno != ENOENT) // a leftover, or a symlink
    return io_error("cannot remove", shown, errno);
  auto out = root.open_file_in(dir_fd, task, tmp, O_WRONLY | O_CREAT | O_EXCL);
  if (!out)
    return out.error();
  size_t done = 0;
  int err = write_all(out->get(), kept.data(), kept.size(), done);
  if (err == 0 && ::fsync(out->get()) != 0)
    err = errno;
  if (err != 0) {
    ::unlinkat(dir_fd, tmp.c_str(), 0); // a half-written copy only takes the space that was missing
    return io_error("cannot write", shown, err);
  }
  return file_id_of(out->get());
}

// events.corrupt as it was before a compaction appended to it, so that a compaction failing before
// its rename leaves it unchanged: one failing again and again must not pile up copies there.
class corrupt_appended {
public:
  corrupt_appended() = default;
  corrupt_appended(unique_fd fd, bool existed, off_t size)
    : fd_(std::move(fd)), existed_(existed), size_(size) {
  }

  /// True if this compaction created events.corrupt: its name must be made durable before the
  /// rename, or a power loss could keep the rename and lose the corrupt lines' only copy.
  bool created() const {
    return fd_ && !existed_;
  }

  // Cuts the file back, or removes it if the compaction created it. Nothing if nothing was appended.
  void undo(int dir_fd) const {
    if (!fd_)
      return;
    if (existed_)
      std::ignore = ::ftruncate(fd_.get(), size_);
    else
      ::unlinkat(dir_fd, corrupt_file_name, 0);
  }

private:
  unique_fd fd_;
  bool existed_ = false;
  off_t size_ = 0;
};

// Appends `corrupt` to events.corrupt and fsyncs it; if that fails, undoes it before returning.
caf::expected<corrupt_appended> append_corrupt(const store_root& root, int dir_fd,
                                               const std::string& task, std::string_view corrupt) {
  if (corrupt.empty())
    return corrupt_appended{};
  auto existing = root.open_file_in(dir_fd, task, corrupt_file_name, O_WRONLY | O_APPEND);
  bool existed = existing && *existing;
  auto out = existed ? std::move(existing)
                     : root.open_file_in(dir_fd, task, corrupt_file_name,
                                         O_WRONLY | O_APPEND | O_CREAT);
  if (!out)
    return out.error();
  struct stat before {};
  ::fstat(out->get(), &before);
  const int fd = out->get();
  corrupt_appended appended{std::move(*out), existed, before.st_size};
  size_t done = 0;
  int err = write_all(fd, corrupt.data(), corrupt.size(), done);
  if (err == 0 && ::fsync(fd) != 0)
    err = errno;
  if (err != 0) {
    appended.undo(dir_fd);
    return io_error("cannot write", root.display(task, corrupt_file_name), err);
  }
  return appended;
}

} // namespace

compaction_plan plan_compaction(std::string_view content, const retention_policy& policy,
                                timestamp now, size_t sketch_size) {
  compaction_plan plan;
  std::vector<judged_line> lines; // in file order
  std::string_view rest = content;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    auto text = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (is_blank_line(text))
      continue;
    // Too long for readers (line_reader.hpp) is unreadable everywhere, so corrupt here too.
    auto d = line_too_long(text.size()) ? decoded_line{} : decode_line(text);
    if (d.status == line_status::corrupt) {
      plan.corrupt.append(text.data(), text.size()).push_back('\n');
      ++plan.counts.corrupt_moved;
      continue;
    }
    lines.push_back(judged_line{text, d.status, d.ev.ts, std::move(d.ev.type)});
  }
  size_t first = 0;
  if (policy.max_events && lines.size() > *policy.max_events)
    first = lines.size() - static_cast<size_t>(*policy.max_events);
  // Saturating (timestamp's arithmetic): an age reaching back past the earliest representable time
  // keeps everything; it never wraps round to a cutoff in the future (which would remove every event).
  auto cutoff = policy.max_age ? now - *policy.max_age : timestamp::min();
  plan.kept.reserve(content.size());
  sketch_builder sketch{sketch_size};
  for (size_t i = first; i < lines.size(); ++i) {
    const auto& line = lines[i];
    if (line.ts && *line.ts < cutoff)
      continue;
    if (line.status == line_status::ok)
      sketch.add(line.type, line_ref{*line.ts, plan.kept_valid++, plan.kept.size()});
    plan.kept.append(line.text.data(), line.text.size()).push_back('\n');
    ++plan.counts.kept;
  }
  plan.counts.removed = lines.size() - plan.counts.kept;
  plan.types = sketch.finish();
  return plan;
}

caf::expected<uint64_t> replace_log(const store_root& root, int dir_fd, const std::string& task,
                                    std::string_view kept, std::string_view corrupt) {
  // The new log is written first and the corrupt lines appended only then, so that every failure
  // before the rename can be undone. A crash between that append and the rename can leave one copy
  // of the corrupt lines in events.corrupt, beside them in the old log.
  auto inode = write_temp_log(root, dir_fd, task, kept);
  if (!inode)
    return inode.error();
  auto appended = append_corrupt(root, dir_fd, task, corrupt);
  if (!appended) {
    ::unlinkat(dir_fd, compact_temp_file_name, 0);
    return appended.error();
  }
  if (appended->created()) {
    if (auto err = fsync_dir(dir_fd, root.display(task))) {
      appended->undo(dir_fd);
      ::unlinkat(dir_fd, compact_temp_file_name, 0);
      return err;
    }
  }
  if (::renameat(dir_fd, compact_temp_file_name, dir_fd, events_file_name) != 0) {
    int err = errno;
    appended->undo(dir_fd);
    ::unlinkat(dir_fd, compact_temp_file_name, 0);
    return io_error("cannot rename", root.display(task, compact_temp_file_name), err);
  }
  if (auto err = fsync_dir(dir_fd, root.display(task)))
    return err;
  return *inode;
}

} // namespace evstore
