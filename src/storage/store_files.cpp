#include "store_files.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_io.hpp"
#include "messages/errc.hpp"

namespace evstore {

namespace {

caf::error refused(const std::string& shown, const char* why) {
  return make_error(errc::not_regular_file, shown + " " + why + "; the store refuses it");
}

caf::error os_error(const char* what, const std::string& shown, int err) {
  return make_error(errc::io_error, std::string{what} + " " + shown + ": " + std::strerror(err));
}

bool opens_for_writing(int flags) {
  return (flags & (O_WRONLY | O_RDWR)) != 0;
}

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode))
    return "is a directory, not a regular file";
  if (S_ISFIFO(mode))
    return "is a FIFO, not a regular file";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "is a device, not a regular file";
  if (S_ISSOCK(mode))
    return "is a socket, not a regular file";
  return "is not a regular file";
}

caf::error refused_link_count(const std::string& shown, uint64_t links) {
  return make_error(errc::not_regular_file,
                    shown + " has " + std::to_string(links)
                      + " hard links: writing it would change the same file elsewhere (outside "
                        "the store, or in a hard-linked copy of it), so the store refuses it; "
                        "give the store its own copy (cp it beside itself, then mv the copy "
                        "over it)");
}

} // namespace

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

unique_fd::~unique_fd() {
  if (fd_ >= 0)
    ::close(fd_);
}

caf::error require_regular_file(int fd, const std::string& shown, file_facts* facts,
                                bool for_writing) {
  struct statx stx {};
  if (::statx(fd, "", AT_EMPTY_PATH,
              STATX_TYPE | STATX_SIZE | STATX_INO | STATX_BTIME | STATX_NLINK, &stx) != 0)
    return os_error("cannot stat", shown, errno);
  if (!S_ISREG(stx.stx_mode))
    return refused(shown, kind_of(stx.stx_mode));
  if (for_writing && stx.stx_nlink > 1)
    return refused_link_count(shown, stx.stx_nlink);
  if (facts) {
    facts->id = file_id_of(stx);
    facts->size = stx.stx_size;
  }
  return caf::none;
}

caf::expected<std::shared_ptr<const store_root>> store_root::open(const std::string& path,
                                                                  bool create) {
  if (create) {
    // The directories made here are new entries in their parents: fsynced, so a power loss cannot
    // take the store away after its first acknowledged event.
    std::vector<std::filesystem::path> made;
    std::error_code ec;
    for (auto p = std::filesystem::absolute(path, ec); !ec && !p.empty() && !std::filesystem::exists(p, ec);
         p = p.parent_path())
      made.push_back(p);
    std::filesystem::create_directories(path, ec);
    if (ec)
      return make_error(errc::io_error, "cannot create store root " + path + ": " + ec.message());
    for (const auto& dir : made) {
      int parent = ::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (parent < 0 || ::fsync(parent) != 0) {
        int err = errno;
        if (parent >= 0)
          ::close(parent);
        return os_error("cannot fsync directory", dir.parent_path().string(), err);
      }
      ::close(parent);
    }
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return make_error(errc::not_found, "store root " + path + " does not exist");
    if (errno == ENOTDIR)
      return make_error(errc::not_regular_file, "store root " + path + " is not a directory");
    return os_error("cannot open store root", path, errno);
  }
  return std::shared_ptr<const store_root>{new store_root{unique_fd{fd}, path}};
}

std::string store_root::display(const std::string& task, const std::string& name) const {
  std::string out = path_;
  if (!task.empty())
    out += "/" + task;
  if (!name.empty())
    out += "/" + name;
  return out;
}

caf::expected<unique_fd> store_root::open_task_dir(const std::string& task, bool create,
                                                   bool* created) const {
  if (created)
    *created = false;
  if (task.empty()) {
    int fd = ::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return os_error("cannot open", path_, errno);
    return unique_fd{fd};
  }
  if (create) {
    if (::mkdirat(fd_.get(), task.c_str(), 0755) == 0) {
      if (created)
        *created = true;
    } else if (errno != EEXIST) {
      return os_error("cannot create task directory", display(task), errno);
    }
  }
  int fd = ::openat(fd_.get(), task.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0)
    return unique_fd{fd};
  switch (errno) {
    case ENOENT:
      return unique_fd{};
    case ELOOP:
      return refused(display(task), "is a symbolic link, not a task directory");
    case ENOTDIR:
      return refused(display(task), "is not a directory");
    default:
      return os_error("cannot open task directory", display(task), errno);
  }
}

namespace {

/// Whether openat2(2) may be tried: false once the kernel (before 5.6) or a seccomp filter said no.
std::atomic<bool> openat2_usable{true};

} // namespace

caf::expected<unique_fd> store_root::open_beneath(const std::string& task, const std::string& name,
                                                  int flags, file_facts* facts) const {
  // One path walk that refuses every symbolic link and never leaves the root, instead of opening
  // the task's directory, then the file in it, then closing the directory: a cold append at
  // 100,000 tasks (no descriptor kept per task) spends most of its time in these calls. Anything
  // but a plain regular file goes to the slow path, which names the problem as it always did.
  const std::string rel = task + "/" + name;
  struct stat sb {};
  // Looked at first, as open_file_in does: opening some devices has effects of its own.
  // A missing file goes the slow way too: its task directory may be a dangling link, refused there.
  if (::fstatat(fd_.get(), rel.c_str(), &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode)
      || (opens_for_writing(flags) && sb.st_nlink > 1))
    return caf::error{};
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, fd_.get(), rel.c_str(), &how, sizeof(how));
  if (fd < 0) {
    // No openat2 (an old kernel, a seccomp filter that says ENOSYS): the slow path from now on. A
    // single file's refusal (EPERM of an immutable file opened for writing) says nothing of that.
    if (errno == ENOSYS || errno == EINVAL || errno == E2BIG)
      openat2_usable = false;
    return caf::error{};
  }
  unique_fd owned{static_cast<int>(fd)};
  if (auto err = require_regular_file(owned.get(), display(task, name), facts,
                                      opens_for_writing(flags)))
    return err;
  return owned;
}

caf::expected<unique_fd> store_root::open_file(const std::string& task, const std::string& name,
                                               int flags, file_facts* facts) const {
  if (!task.empty() && !(flags & O_CREAT) && openat2_usable) {
    auto fast = open_beneath(task, name, flags, facts);
    // An empty error: not a plain regular file under a plain directory, or no openat2: the slow
    // path decides, and says why.
    if (fast || fast.error())
      return fast;
  }
  auto dir = open_task_dir(task, false);
  if (!dir)
    return dir.error();
  if (!*dir) {
    if (flags & O_CREAT)
      return os_error("cannot create", display(task, name), ENOENT);
    return unique_fd{};
  }
  return open_file_in(dir->get(), task, name, flags, facts);
}

caf::expected<unique_fd> store_root::open_file_in(int dir_fd, const std::string& task,
                                                  const std::string& name, int flags,
                                                  file_facts* facts) const {
  // Looked at before it is opened: opening some devices has effects of its own (a tty would become
  // our controlling terminal, a watchdog would arm). The check after the open covers a swap between.
  // A file with a second hard link is refused before an O_TRUNC could empty the other name.
  struct stat sb {};
  if (::fstatat(dir_fd, name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISREG(sb.st_mode))
      return refused(display(task, name),
                     S_ISLNK(sb.st_mode) ? "is a symbolic link" : kind_of(sb.st_mode));
    if (opens_for_writing(flags) && sb.st_nlink > 1)
      return refused_link_count(display(task, name), sb.st_nlink);
  }
  // O_NONBLOCK makes opening a FIFO (or a device) return at once instead of waiting for a peer; on
  // the regular files we keep, it changes nothing, so it stays set.
  int fd = ::openat(dir_fd, name.c_str(),
                    flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
  if (fd < 0) {
    switch (errno) {
      case ENOENT:
        if (!(flags & O_CREAT))
          return unique_fd{};
        break;
      case ELOOP:
        return refused(display(task, name), "is a symbolic link");
      case ENXIO: // a FIFO without a reader, opened for writing
        return refused(display(task, name), "is a FIFO, not a regular file");
      case EISDIR:
        return refused(display(task, name), "is a directory, not a regular file");
      default:
        break;
    }
    return os_error((flags & O_CREAT) ? "cannot create" : "cannot open", display(task, name),
                    errno);
  }
  unique_fd owned{fd};
  if (auto err = require_regular_file(fd, display(task, name), facts, opens_for_writing(flags)))
    return err;
  return owned;
}

} // namespace evstore
