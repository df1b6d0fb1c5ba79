#include "temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <sys/stat.h>

namespace evstore::testing {

temp_dir::temp_dir() {
  auto pattern = (std::filesystem::temp_directory_path() / "evstore-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::str(const std::string& sub) const {
  return sub.empty() ? path_.string() : (path_ / sub).string();
}

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void spit(const std::filesystem::path& file, const std::string& content) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << content;
}

std::map<std::string, std::string> snapshot_tree(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> out;
  if (!fs::exists(fs::symlink_status(dir)))
    return out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    const auto& p = it->path();
    struct stat sb {};
    ::lstat(p.c_str(), &sb);
    const auto mode = std::to_string(sb.st_mode);
    const auto key = fs::relative(p, dir).string();
    if (S_ISLNK(sb.st_mode))
      out[key] = "link " + fs::read_symlink(p).string();
    else if (S_ISDIR(sb.st_mode))
      out[key] = "dir " + mode;
    else if (S_ISREG(sb.st_mode))
      out[key] = "file " + mode + " " + slurp(p);
    else
      out[key] = "other " + mode;
  }
  return out;
}

} // namespace evstore::testing
