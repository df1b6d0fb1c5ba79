#include "sqlite_baseline.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include "src/format/line_codec.hpp"
#include "src/format/line_reader.hpp"
#include "src/storage/store_layout.hpp"
#include "src/format/timestamp_format.hpp"

namespace bench {

namespace {

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error(std::string("sqlite: ") + sql + ": " + msg);
  }
}

// The first string greater than every string starting with `prefix`.
std::string prefix_upper(std::string prefix) {
  if (prefix.empty())
    return "\x7f";
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

} // namespace

sqlite_baseline::sqlite_baseline(const std::string& root, const std::string& db_path) {
  auto t0 = std::chrono::steady_clock::now();
  ::unlink(db_path.c_str());
  if (sqlite3_open(db_path.c_str(), &db_) != SQLITE_OK)
    throw std::runtime_error("cannot open sqlite db");
  exec(db_, "PRAGMA journal_mode=WAL");
  exec(db_, "PRAGMA synchronous=NORMAL");
  exec(db_, "CREATE TABLE events(id TEXT PRIMARY KEY, type TEXT, task TEXT, actor TEXT, ts TEXT, "
            "data TEXT, schema_version INTEGER)");
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db_,
                     "INSERT INTO events(id,type,task,actor,ts,data,schema_version) "
                     "VALUES(?1,?2,?3,?4,?5,?6,?7)",
                     -1, &ins, nullptr);
  exec(db_, "BEGIN");
  auto tasks = evstore::list_task_ids(root);
  for (const auto& task : *tasks) {
    int fd = ::open(evstore::events_path(root, task).c_str(), O_RDONLY);
    evstore::for_each_line(fd, 0, [&](const evstore::raw_line& line) {
      auto d = evstore::decode_line(line.text);
      if (d.status != evstore::line_status::ok)
        return;
      // ts as fixed-width text (always 9 digits) so text order is time order.
      char ts[40];
      auto ns = d.ev.ts->to_time_point().time_since_epoch().count(); // the dataset's are in range
      std::snprintf(ts, sizeof(ts), "%020lld", static_cast<long long>(ns));
      auto data = d.ev.data.text();
      sqlite3_bind_text(ins, 1, d.ev.id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(ins, 2, d.ev.type.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(ins, 3, d.ev.task.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(ins, 4, evstore::to_string(d.ev.actor), -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 5, ts, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(ins, 6, data.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int(ins, 7, 1);
      sqlite3_step(ins);
      sqlite3_reset(ins);
    });
    ::close(fd);
  }
  exec(db_, "COMMIT");
  sqlite3_finalize(ins);
  exec(db_, "CREATE INDEX events_type_ts ON events(type, ts)");
  exec(db_, "CREATE INDEX events_task ON events(task)");
  exec(db_, "ANALYZE");
  exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)");
  load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

sqlite_baseline::~sqlite_baseline() {
  sqlite3_close(db_);
}

namespace {

// The covering-subquery form, SQLite's best in the reference measurements.
const char* const query_sql
  = "SELECT id,type,task,actor,ts,data,schema_version FROM events WHERE rowid IN "
    "(SELECT rowid FROM events WHERE type >= ?1 AND type < ?2 ORDER BY ts DESC LIMIT ?3) "
    "ORDER BY ts DESC, task DESC, rowid DESC";

} // namespace

std::string sqlite_baseline::query_text(const std::string& prefix, int limit) {
  if (prefix.find('\'') != std::string::npos)
    throw std::invalid_argument("a quote in a benchmark prefix");
  std::string sql = query_sql;
  auto put = [&](const std::string& param, const std::string& value) {
    sql.replace(sql.find(param), param.size(), value);
  };
  put("?1", "'" + prefix + "'");
  put("?2", "'" + prefix_upper(prefix) + "'");
  put("?3", std::to_string(limit));
  return sql + ";";
}

std::vector<std::string> sqlite_baseline::query(const std::string& prefix, int limit) {
  const char* sql = query_sql;
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db_, sql, -1, &q, nullptr);
  auto hi = prefix_upper(prefix);
  sqlite3_bind_text(q, 1, prefix.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, hi.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 3, limit);
  std::vector<std::string> ids;
  while (sqlite3_step(q) == SQLITE_ROW) {
    // Materialise the row as a client would.
    std::string data = reinterpret_cast<const char*>(sqlite3_column_text(q, 5));
    ids.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
  }
  sqlite3_finalize(q);
  std::reverse(ids.begin(), ids.end());
  return ids;
}

} // namespace bench
