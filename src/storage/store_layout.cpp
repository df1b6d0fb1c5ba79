#include "store_layout.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "messages/errc.hpp"
#include "src/format/validation.hpp"
#include "file_io.hpp"

namespace evstore {

std::string task_dir(const std::string& root, const std::string& task) {
  return task.empty() ? root : root + "/" + task;
}

std::string events_path(const std::string& root, const std::string& task) {
  return task_dir(root, task) + "/" + events_file_name;
}

caf::error io_error(const std::string& what, const std::string& path, int err) {
  return make_error(errc::io_error, what + " " + path + ": " + std::strerror(err));
}

caf::error fsync_dir(int dir_fd, const std::string& shown) {
  if (::fsync(dir_fd) != 0)
    return io_error("cannot fsync directory", shown, errno);
  return caf::none;
}

namespace {

std::string version_text() {
  return std::to_string(store_format_version) + "\n";
}

} // namespace

caf::error replace_root_file(const store_root& root, const char* name, const char* temp_name,
                             std::string_view text) {
  const std::string tmp = temp_name;
  if (::unlinkat(root.fd(), tmp.c_str(), 0) != 0 && errno != ENOENT) // a leftover, or a symlink
    return io_error("cannot remove", root.display("", tmp), errno);
  auto fd = root.open_file_in(root.fd(), "", tmp, O_WRONLY | O_CREAT | O_EXCL);
  if (!fd)
    return fd.error();
  size_t done = 0;
  int err = write_all(fd->get(), text.data(), text.size(), done);
  if (err == 0 && ::fsync(fd->get()) != 0)
    err = errno;
  if (err != 0) {
    ::unlinkat(root.fd(), tmp.c_str(), 0);
    return io_error("cannot write", root.display("", tmp), err);
  }
  if (::renameat(root.fd(), tmp.c_str(), root.fd(), name) != 0) {
    err = errno;
    ::unlinkat(root.fd(), tmp.c_str(), 0);
    return io_error("cannot rename", root.display("", tmp), err);
  }
  return fsync_dir(root.fd(), root.path());
}

caf::expected<std::string> read_root_file(const store_root& root, const char* name) {
  auto fd = root.open_file_in(root.fd(), "", name, O_RDONLY);
  if (!fd)
    return fd.error();
  if (!*fd)
    return std::string{};
  return read_all(fd->get(), root.display("", name));
}

uint64_t device_of(const store_root& root) {
  struct stat sb {};
  return ::fstat(root.fd(), &sb) == 0 ? static_cast<uint64_t>(sb.st_dev) : 0;
}

namespace {

// A new store's format_version, written so that a power loss leaves no file or a complete one.
caf::error write_format_version(const store_root& root) {
  return replace_root_file(root, format_version_file_name, format_version_temp_file_name,
                           version_text());
}

// Checks an existing format_version; `fd` is open on it.
caf::error check_format_version(const store_root& root, int fd) {
  char buf[64];
  ssize_t n = ::pread(fd, buf, sizeof(buf), 0);
  if (n < 0)
    return io_error("cannot read", root.display("", format_version_file_name), errno);
  std::string text{buf, static_cast<size_t>(n)};
  const std::string first_line = text.substr(0, text.find('\n'));
  if (first_line == std::to_string(store_format_version))
    return caf::none;
  bool is_number = !first_line.empty()
                   && std::all_of(first_line.begin(), first_line.end(),
                                  [](char c) { return c >= '0' && c <= '9'; });
  if (!is_number)
    return make_error(errc::unsupported_format,
                      "store " + root.path() + " has an empty or damaged format_version ('"
                        + first_line + "'), as a crash while a store is created can leave it; "
                        + "if this directory is an evstore store, repair it with: printf '"
                        + std::to_string(store_format_version) + "\\n' > "
                        + root.display("", format_version_file_name));
  return make_error(errc::unsupported_format,
                    "store " + root.path() + " has format_version '" + first_line
                      + "'; this library reads format " + std::to_string(store_format_version));
}

// True if `name` in `dir_fd` is, itself and not through a symbolic link, of type `type`.
bool is_a(int dir_fd, const std::string& name, unsigned char d_type, mode_t type) {
  if (d_type != DT_UNKNOWN)
    return (type == S_IFDIR && d_type == DT_DIR) || (type == S_IFREG && d_type == DT_REG);
  struct stat sb {};
  return ::fstatat(dir_fd, name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) == 0
         && (sb.st_mode & S_IFMT) == type;
}

/// stat_events_file once the task's directory is known to be one (not a symbolic link).
bool statx_events_file(const store_root& root, const std::string& task, struct stat& out,
                       uint64_t* file_id) {
  const std::string path = task.empty() ? events_file_name : task + "/" + events_file_name;
  struct statx stx {};
  if (::statx(root.fd(), path.c_str(), AT_SYMLINK_NOFOLLOW,
              STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE | STATX_BTIME, &stx)
      != 0)
    return false;
  out.st_mode = stx.stx_mode;
  out.st_ino = stx.stx_ino;
  out.st_size = static_cast<off_t>(stx.stx_size);
  out.st_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  if (file_id)
    *file_id = file_id_of(stx);
  return S_ISREG(out.st_mode);
}

} // namespace

bool stat_events_file(const store_root& root, const std::string& task, struct stat& out,
                      uint64_t* file_id) {
  // statx follows every component but the last: check the task directory itself first, so a
  // symbolic link in its place is never looked through.
  if (!task.empty()
      && (::fstatat(root.fd(), task.c_str(), &out, AT_SYMLINK_NOFOLLOW) != 0
          || !S_ISDIR(out.st_mode)))
    return false;
  return statx_events_file(root, task, out, file_id);
}

bool task_has_events(const store_root& root, const std::string& task, bool non_empty) {
  struct stat sb {};
  return stat_events_file(root, task, sb) && (!non_empty || sb.st_size > 0);
}

caf::expected<std::shared_ptr<const store_root>> open_store_root(const std::string& root,
                                                                 bool read_only) {
  auto handle = store_root::open(root, !read_only);
  if (!handle)
    return handle.error();
  const store_root& r = **handle;
  auto version = r.open_file_in(r.fd(), "", format_version_file_name, O_RDONLY);
  if (!version)
    return version.error();
  if (*version) {
    if (auto err = check_format_version(r, version->get()))
      return err;
  } else if (!read_only) {
    if (auto err = write_format_version(r))
      return err;
  } // read-only: a store written by an older tool may lack the file; reading is harmless
  return handle;
}

caf::expected<std::vector<std::string>> list_task_dirs(const store_root& root) {
  std::vector<std::string> out;
  auto err = for_each_dir_entry(root.fd(), root.path(), [&](const std::string& name, unsigned char t) {
    if (!name.empty() && !validate_task_id(name) && is_a(root.fd(), name, t, S_IFDIR))
      out.push_back(name);
  });
  if (err)
    return err;
  std::sort(out.begin(), out.end());
  return out;
}

caf::expected<std::vector<std::string>> list_task_ids(const store_root& root) {
  auto dirs = list_task_dirs(root);
  if (!dirs)
    return dirs.error();
  std::vector<std::string> out;
  if (task_has_events(root, ""))
    out.emplace_back();
  for (auto& dir : *dirs)
    if (task_has_events(root, dir))
      out.push_back(std::move(dir));
  return out;
}

caf::expected<std::vector<task_file>> list_task_files(const store_root& root) {
  auto dirs = list_task_dirs(root);
  if (!dirs)
    return dirs.error();
  std::vector<task_file> out;
  out.reserve(dirs->size() + 1);
  struct stat sb {};
  uint64_t id = 0;
  if (stat_events_file(root, "", sb, &id))
    out.push_back(task_file{"", id, static_cast<uint64_t>(sb.st_size)});
  // list_task_dirs saw each as a directory, not a symbolic link (from readdir's d_type, or a stat
  // where the file system gives none): one statx a task instead of two stats. A directory swapped
  // for a link since is as possible between two stats; what is looked through here is only sizes,
  // and the writer that loads a file opens every component without following links.
  for (auto& dir : *dirs)
    if (statx_events_file(root, dir, sb, &id))
      out.push_back(task_file{std::move(dir), id, static_cast<uint64_t>(sb.st_size)});
  return out;
}

caf::expected<std::vector<std::string>> list_task_dirs(const std::string& root) {
  auto handle = store_root::open(root, false);
  if (!handle)
    return handle.error();
  return list_task_dirs(**handle);
}

caf::expected<std::vector<std::string>> list_task_ids(const std::string& root) {
  auto handle = store_root::open(root, false);
  if (!handle)
    return handle.error();
  return list_task_ids(**handle);
}

} // namespace evstore
