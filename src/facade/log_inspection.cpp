#include "log_inspection.hpp"

#include <algorithm>
#include <cerrno>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/format/crate_types.hpp"
#include "src/format/line_codec.hpp"
#include "src/format/line_reader.hpp"
#include "src/format/validation.hpp"
#include "src/storage/store_layout.hpp"

namespace evstore {

std::string to_log_line(const event& ev) {
  return encode_line(ev);
}

std::optional<std::string_view> data_text(std::string_view line) {
  std::string id, type; // scan_line decodes them; only where data lies is wanted here
  detail::line_fields f;
  f.id = &id;
  f.type = &type;
  if (!detail::scan_line(line, f) || !f.has_data)
    return std::nullopt;
  return line.substr(f.data_begin, f.data_end - f.data_begin);
}

namespace {

// The readers' order of judgement (task_log's read): an unterminated line is torn whatever it
// holds, a line too long is corrupt before it could look blank, then the decoder decides.
log_line judge(const raw_line& raw, uint64_t number, const std::string& task, log_checks checks) {
  log_line out;
  out.number = number;
  out.offset = raw.offset;
  out.length = raw.length;
  if (!raw.terminated) {
    out.status = log_line_status::torn_tail;
    out.problem = "torn last line (no newline): an interrupted write";
    return out;
  }
  if (raw.too_long) {
    out.status = log_line_status::too_long;
    out.problem = "longer than 64 MiB: no reader holds it, so it counts as corrupt";
    return out;
  }
  if (is_blank_line(raw.text)) {
    out.status = log_line_status::blank;
    return out;
  }
  auto d = decode_line(raw.text);
  switch (d.status) {
    case line_status::corrupt:
      out.status = log_line_status::corrupt;
      out.problem = "not a valid event";
      return out;
    case line_status::future_schema:
      out.status = log_line_status::future_schema;
      return out;
    case line_status::ok:
      break;
  }
  if (checks.rust_crate)
    if (const char* why = rust_crate_would_skip(d.ev, data_text(raw.text).has_value()))
      out.problem = why;
  out.ev = std::move(d.ev);
  out.ev.task = task; // the file a line lives in names its task (docs/FORMAT.md)
  return out;
}

} // namespace

log_reader::log_reader(int fd, std::string task, std::string path, uint64_t size)
  : fd_(fd), task_(std::move(task)), path_(std::move(path)), size_(size) {
}

log_reader::log_reader(log_reader&& other) noexcept
  : fd_(std::exchange(other.fd_, -1)),
    task_(std::move(other.task_)),
    path_(std::move(other.path_)),
    size_(other.size_) {
}

log_reader& log_reader::operator=(log_reader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    task_ = std::move(other.task_);
    path_ = std::move(other.path_);
    size_ = other.size_;
  }
  return *this;
}

log_reader::~log_reader() {
  if (fd_ >= 0)
    ::close(fd_);
}

caf::error log_reader::for_each_line(const std::function<void(const log_line&)>& on_line,
                                   log_checks checks) const {
  uint64_t number = 0;
  int err = evstore::for_each_line(fd_, 0, [&](const raw_line& raw) {
    on_line(judge(raw, ++number, task_, checks));
  });
  if (err != 0)
    return io_error("cannot read", path_, err); // the text a read of the task gives
  return caf::none;
}

caf::expected<log_stats> log_reader::stats() const {
  log_stats out;
  out.bytes = size_;
  auto err = for_each_line([&](const log_line& line) {
    ++out.lines;
    switch (line.status) {
      case log_line_status::ok:
        ++out.events;
        out.types.insert(line.ev.type);
        break;
      case log_line_status::corrupt:
      case log_line_status::too_long:
        ++out.corrupt_lines;
        break;
      case log_line_status::future_schema:
        ++out.future_schema_lines;
        break;
      case log_line_status::torn_tail:
        out.torn_tail = true;
        break;
      case log_line_status::blank:
        break;
    }
  });
  if (err)
    return err;
  return out;
}

struct log_inspector::root_handle {
  std::shared_ptr<const store_root> root;
};

log_inspector::log_inspector(std::shared_ptr<const root_handle> root) : root_(std::move(root)) {
}

caf::expected<log_inspector> log_inspector::open(const std::string& root) {
  auto opened = open_store_root(root, /*read_only=*/true); // also checks format_version
  if (!opened)
    return opened.error();
  return log_inspector{std::make_shared<const root_handle>(root_handle{std::move(*opened)})};
}

const std::string& log_inspector::root() const {
  return root_->root->path();
}

caf::expected<std::vector<std::string>> log_inspector::tasks() const {
  return list_task_ids(*root_->root);
}

caf::expected<std::vector<task_entry>> log_inspector::entries() const {
  const store_root& root = *root_->root;
  std::vector<task_entry> out{task_entry{"", false, events_path(root.path(), "")}};
  // Looked at, not through: a symbolic link is listed as one, whatever it points to.
  auto err = for_each_dir_entry(root.fd(), root.path(), [&](const std::string& name, unsigned char) {
    struct stat sb {};
    if (validate_task_id(name) || ::fstatat(root.fd(), name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) != 0)
      return;
    if (S_ISDIR(sb.st_mode))
      out.push_back(task_entry{name, false, events_path(root.path(), name)});
    else if (S_ISLNK(sb.st_mode))
      out.push_back(task_entry{name, true, task_dir(root.path(), name)});
  });
  if (err)
    return err;
  std::sort(out.begin() + 1, out.end(),
            [](const task_entry& x, const task_entry& y) { return x.task < y.task; });
  return out;
}

caf::expected<log_reader> log_inspector::open_log(const std::string& task) const {
  // A name no task has could reach outside the root ("../x", "a/b").
  if (auto err = validate_task_id(task))
    return err;
  const store_root& root = *root_->root;
  const auto path = events_path(root.path(), task);
  auto fd = root.open_file(task, events_file_name, O_RDONLY);
  if (!fd)
    return fd.error();
  if (!*fd)
    return make_error(errc::not_found, "no log: " + path + " does not exist");
  struct stat sb {};
  if (::fstat(fd->get(), &sb) != 0)
    return io_error("cannot stat", path, errno);
  return log_reader{fd->release(), task, path, static_cast<uint64_t>(sb.st_size)};
}

} // namespace evstore
