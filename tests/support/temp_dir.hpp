#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace evstore::testing {

/// A fresh directory under the system temp dir, removed with everything in it on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const {
    return path_;
  }

  /// The path as a string, with `sub` appended if given.
  std::string str(const std::string& sub = "") const;

private:
  std::filesystem::path path_;
};

/// Reads a whole file; "" if it does not exist.
std::string slurp(const std::filesystem::path& file);

/// Writes (replacing) a whole file, creating its directory.
void spit(const std::filesystem::path& file, const std::string& content);

/// Everything under `dir`, by path relative to it: "dir <mode>", "link <target>", "file <mode>
/// <bytes>" or "other <mode>" (FIFOs, devices). Symlinks are not followed. Empty if `dir` is missing.
/// For the adversarial tables: what they compare before and after.
std::map<std::string, std::string> snapshot_tree(const std::filesystem::path& dir);

} // namespace evstore::testing
