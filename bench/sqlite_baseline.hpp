#pragma once

// SQLite as the issue describes the baseline: WAL, indexes on (type, ts) and (task), the prefix as an
// index range, ORDER BY ts DESC LIMIT n; in its best (covering subquery) form.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct sqlite3;

namespace bench {

class sqlite_baseline {
public:
  /// Loads every event of the store at `root` into a fresh database at `db_path`.
  sqlite_baseline(const std::string& root, const std::string& db_path);
  ~sqlite_baseline();

  /// Ids of the answer, oldest first (the order query_by_type_prefix returns).
  std::vector<std::string> query(const std::string& prefix, int limit);

  /// The same query as SQL text for the `sqlite3` shell (the prefix must hold no quote).
  static std::string query_text(const std::string& prefix, int limit);

  double load_seconds() const {
    return load_seconds_;
  }

private:
  sqlite3* db_ = nullptr;
  double load_seconds_ = 0;
};

} // namespace bench
