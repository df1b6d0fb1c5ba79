#include "task_transfer.hpp"

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

#include "file_io.hpp"
#include "messages/errc.hpp"
#include "store_layout.hpp"

namespace evstore {

namespace {

constexpr size_t digest_slice = 1u << 20;

/// Size and CRC-32 of everything `fd` holds, read in slices (a task file may be gigabytes).
caf::expected<task_digest> digest_fd(int fd, const std::string& shown) {
  task_digest out;
  out.exists = true;
  uLong crc = ::crc32(0L, Z_NULL, 0);
  std::string buf(digest_slice, '\0');
  for (;;) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(out.size));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return io_error("cannot read", shown, errno);
    }
    if (n == 0)
      break;
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(n));
    out.size += static_cast<uint64_t>(n);
  }
  out.crc = static_cast<uint32_t>(crc);
  return out;
}

} // namespace

caf::expected<task_digest> digest_task_file(const store_root& root, const std::string& task,
                                            const std::string& name) {
  auto fd = root.open_file(task, name, O_RDONLY);
  if (!fd)
    return fd.error();
  if (!*fd)
    return task_digest{};
  return digest_fd(fd->get(), root.display(task, name));
}

caf::expected<std::string> read_task_bytes(const store_root& root, const std::string& task,
                                           uint64_t offset, uint64_t max_bytes) {
  auto fd = root.open_file(task, events_file_name, O_RDONLY);
  if (!fd)
    return fd.error();
  if (!*fd)
    return make_error(errc::not_found, root.display(task, events_file_name) + " does not exist");
  const uint64_t size = file_size(fd->get());
  const uint64_t n = offset >= size ? 0 : std::min(max_bytes, size - offset);
  std::string out(n, '\0');
  for (uint64_t done = 0; done < n;) {
    const ssize_t got = ::pread(fd->get(), out.data() + done, n - done,
                                static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return io_error("cannot read", root.display(task, events_file_name), errno);
    if (got == 0) { // shorter than its stat said: hand out what is there
      out.resize(done);
      break;
    }
    done += static_cast<uint64_t>(got);
  }
  return out;
}

caf::expected<task_digest> write_incoming(const store_root& root, const std::string& task,
                                          uint64_t offset, const std::string& bytes) {
  const auto shown = root.display(task, incoming_file_name);
  auto dir = root.open_task_dir(task, true);
  if (!dir)
    return dir.error();
  // The first chunk starts a new file: whatever a crashed run (or anyone) left at the name, a file,
  // a link, a FIFO, is removed, never truncated or written through. A directory there stays, and
  // the open below refuses it as it refuses one anywhere a file belongs.
  if (offset == 0 && ::unlinkat(dir->get(), incoming_file_name, 0) != 0 && errno != ENOENT
      && errno != EISDIR)
    return io_error("cannot remove", shown, errno);
  const int flags = O_WRONLY | O_CREAT | (offset == 0 ? O_EXCL : 0);
  auto fd = root.open_file_in(dir->get(), task, incoming_file_name, flags);
  if (!fd)
    return fd.error();
  const uint64_t size = file_size(fd->get());
  if (offset > size)
    return make_error(errc::invalid_argument, "a chunk at offset " + std::to_string(offset)
                                                + " of " + shown + ", which holds "
                                                + std::to_string(size) + " bytes");
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::pwrite(fd->get(), bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return io_error("cannot write", shown, errno);
    done += static_cast<size_t>(n);
  }
  task_digest out;
  out.exists = true;
  out.size = std::max<uint64_t>(size, offset + bytes.size());
  return out;
}

caf::error commit_incoming(const store_root& root, const std::string& task, uint64_t size,
                           uint32_t crc) {
  const auto shown = root.display(task, incoming_file_name);
  auto dir = root.open_task_dir(task, false);
  if (!dir)
    return dir.error();
  if (!*dir)
    return make_error(errc::invalid_argument, shown + " does not exist");
  auto fd = root.open_file_in(dir->get(), task, incoming_file_name, O_RDONLY);
  if (!fd)
    return fd.error();
  if (!*fd)
    return make_error(errc::invalid_argument, shown + " does not exist");
  auto digest = digest_fd(fd->get(), shown);
  if (!digest)
    return digest.error();
  if (digest->size != size || digest->crc != crc) {
    ::unlinkat(dir->get(), incoming_file_name, 0); // begun again from offset 0 by the next run
    return make_error(errc::invalid_argument,
                      shown + " does not match its source (" + std::to_string(digest->size)
                        + " bytes against " + std::to_string(size) + ", or another CRC)");
  }
  if (::fsync(fd->get()) != 0)
    return io_error("cannot fsync", shown, errno);
  // Never over an events file: one there is a history this node holds already.
  if (::renameat2(dir->get(), incoming_file_name, dir->get(), events_file_name, RENAME_NOREPLACE)
      != 0) {
    if (errno == EEXIST)
      return make_error(errc::id_conflict, root.display(task, events_file_name)
                                             + " exists already and differs from the copy");
    return io_error("cannot rename", shown, errno);
  }
  if (auto err = fsync_dir(dir->get(), root.display(task)))
    return err;
  return task.empty() ? caf::error{} : fsync_dir(root.fd(), root.path());
}

caf::expected<bool> remove_task_file(const store_root& root, const std::string& task,
                                     uint64_t size, uint32_t crc) {
  auto digest = digest_task_file(root, task, events_file_name);
  if (!digest)
    return digest.error();
  if (!digest->exists)
    return false;
  if (digest->size != size || digest->crc != crc)
    return make_error(errc::id_conflict, root.display(task, events_file_name)
                                           + " changed since it was copied; it stays");
  auto dir = root.open_task_dir(task, false);
  if (!dir)
    return dir.error();
  if (!*dir)
    return false;
  if (::unlinkat(dir->get(), events_file_name, 0) != 0 && errno != ENOENT)
    return io_error("cannot remove", root.display(task, events_file_name), errno);
  ::unlinkat(dir->get(), incoming_file_name, 0);
  if (!task.empty() && ::unlinkat(root.fd(), task.c_str(), AT_REMOVEDIR) != 0
      && errno != ENOTEMPTY && errno != EEXIST)
    return io_error("cannot remove", root.display(task), errno);
  if (auto err = fsync_dir(dir->get(), root.display(task)))
    return err;
  if (!task.empty())
    if (auto err = fsync_dir(root.fd(), root.path()))
      return err;
  return true;
}

} // namespace evstore
