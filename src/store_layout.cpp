#include "store_layout.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include "evstore/messages/errc.hpp"
#include "validation.hpp"

namespace fs = std::filesystem;

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

caf::error fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return io_error("cannot open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? caf::error{} : io_error("cannot fsync directory", dir, err);
}

caf::error open_root(const std::string& root, bool read_only) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    if (read_only)
      return make_error(errc::not_found, "store root " + root + " does not exist");
    fs::create_directories(root, ec);
    if (ec)
      return make_error(errc::io_error, "cannot create store root " + root + ": " + ec.message());
  }
  const std::string version_path = root + "/" + format_version_file_name;
  std::ifstream in(version_path);
  if (in) {
    std::string text;
    std::getline(in, text);
    if (text != std::to_string(store_format_version))
      return make_error(errc::unsupported_format,
                        "store " + root + " has format_version '" + text
                          + "'; this library reads format "
                          + std::to_string(store_format_version));
    return caf::none;
  }
  if (read_only)
    return caf::none; // a store written by an older tool may lack the file; reading is harmless
  // Written through a temporary name and renamed, so a crash never leaves an empty version file.
  const std::string tmp = version_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << store_format_version << '\n';
    if (!out.flush())
      return io_error("cannot write", tmp, errno);
  }
  if (::rename(tmp.c_str(), version_path.c_str()) != 0)
    return io_error("cannot rename", tmp, errno);
  return fsync_dir(root);
}

caf::expected<std::vector<std::string>> list_task_dirs(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::directory_iterator it{root, ec};
  if (ec)
    return make_error(errc::io_error, "cannot list " + root + ": " + ec.message());
  for (const auto& entry : it) {
    auto name = entry.path().filename().string();
    if (entry.is_directory(ec) && !validate_task_id(name) && !name.empty())
      out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

caf::expected<std::vector<std::string>> list_task_ids(const std::string& root) {
  auto dirs = list_task_dirs(root);
  if (!dirs)
    return dirs.error();
  std::vector<std::string> out;
  std::error_code ec;
  if (fs::is_regular_file(events_path(root, ""), ec))
    out.emplace_back();
  for (auto& dir : *dirs)
    if (fs::is_regular_file(events_path(root, dir), ec))
      out.push_back(std::move(dir));
  return out;
}

} // namespace evstore
