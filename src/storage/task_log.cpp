#include "task_log.hpp"

#include <cerrno>
#include <tuple>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/format/crate_types.hpp"
#include "src/format/json_text.hpp"
#include "src/format/line_codec.hpp"
#include "src/format/line_header.hpp"
#include "src/format/line_reader.hpp"
#include "src/format/pattern.hpp"
#include "src/format/timestamp_format.hpp"
#include "src/format/uuid.hpp"
#include "src/format/validation.hpp"
#include "src/index/query_order.hpp"
#include "file_io.hpp"
#include "log_file.hpp"
#include "store_layout.hpp"

namespace evstore {

task_log::task_log(std::string root, std::string task, task_log_config cfg,
                   task_log_observer* observer)
  : root_(std::move(root)),
    task_(std::move(task)),
    dir_(task_dir(root_, task_)),
    path_(events_path(root_, task_)),
    cfg_(std::move(cfg)),
    observer_(observer) {
}

task_log::~task_log() {
  close_file();
}

void task_log::close_file() {
  if (fd_ < 0)
    return;
  if (dirty_ && cfg_.ack == log_durability::synced)
    ::fdatasync(fd_);
  ::close(fd_);
  fd_ = -1;
  dirty_ = false;
  if (holds_slot_) {
    cfg_.fds->release();
    holds_slot_ = false;
  }
}

void task_log::release() {
  close_file();
  fetch_cache_.clear();
  read_cursors_.clear();
  loaded_ = false;
  ids_loaded_ = false;
  recent_.clear();
}

bool task_log::stat_log(uint64_t& file_id, uint64_t& size) const {
  struct stat sb {};
  if (!stat_events_file(*cfg_.root, task_, sb, &file_id))
    return false;
  size = static_cast<uint64_t>(sb.st_size);
  return true;
}

bool task_log::changed_behind_our_back() const {
  struct stat sb {};
  // Unlinked, not the size we wrote, or given a second name (a hard-linked copy made while the
  // store runs: an append through this descriptor would change it too; reopened, the file is
  // refused for writing, store_files.hpp).
  if (fd_ >= 0)
    return ::fstat(fd_, &sb) != 0 || sb.st_nlink == 0 || (fd_writable_ && sb.st_nlink > 1)
           || static_cast<uint64_t>(sb.st_size) != size_;
  uint64_t id = 0;
  uint64_t size = 0;
  if (!stat_log(id, size))
    return file_id_ != 0; // we knew a file; it is gone (or is no longer a regular file)
  return id != file_id_ || size != size_;
}

bool task_log::changed_behind_our_back_if_due() {
  if (cfg_.external_change_check.count() > 0) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_change_check_ < cfg_.external_change_check)
      return false;
    last_change_check_ = now;
  }
  return changed_behind_our_back();
}

caf::error task_log::load(bool keep_fd) {
  // An append to a loaded log whose descriptor went back to the budget opens the file now, so the
  // check below is an fstat of the descriptor the append writes through, instead of two stats by
  // path and then the open (three path lookups fewer per append at 100,000 tasks, where most
  // writers hold no descriptor). A file gone or replaced is noticed all the same (open_existing,
  // changed_behind_our_back).
  if (keep_fd && loaded_ && fd_ < 0 && !cfg_.read_only) {
    auto opened = open_existing();
    if (!opened)
      return opened.error();
  }
  auto err = load_file();
  // A descriptor without a slot is kept only for the append about to use it.
  if (!keep_fd && !holds_slot_)
    close_file();
  return err;
}

caf::error task_log::load_file() {
  // Only this writer changes the file, but a person or a tool may delete or truncate it: then what we
  // cached (an open descriptor, counts, offsets) is wrong, and appends must not go to a dead inode.
  // So every append checks, at the cost of an fstat: an event acknowledged into a deleted file
  // would be lost.
  // A read-only store's file grows behind it all the time (the writing process): a population pass
  // reaches here through populate() to learn what was added.
  if (loaded_) {
    bool changed = changed_behind_our_back();
    last_change_check_ = std::chrono::steady_clock::now();
    if (changed) {
      auto was = extent(); // a file that only grew is read from where we stopped
      release();
      known_ = was;
    }
  }
  if (loaded_)
    return caf::none;
  const std::optional<file_extent> known = std::exchange(known_, std::nullopt);
  close_file(); // a fetch may hold the file open; the load reads what the name points at now
  count_ = 0;
  size_ = 0;
  file_id_ = 0;
  ids_loaded_ = false;
  recent_.clear();
  sketch_builder sketch{cfg_.sketch_size};
  // Extending: the file still starts with what was known, so only the lines after it are read, and
  // the index, which knows the start, is told only of them.
  bool extending = false;
  uint64_t known_events = 0;
  uint64_t known_bytes = 0;
  std::vector<typed_line> tail;
  auto add = [&](std::string_view type, const line_ref& ref) {
    if (extending)
      tail.push_back(typed_line{std::string{type}, ref});
    else
      sketch.add(type, ref);
  };
  auto report = [&] {
    loaded_ = true;
    last_change_check_ = std::chrono::steady_clock::now(); // what we just read is the truth
    // The file as the index already knows it (a cold append's usual case): nothing to say, and a
    // message the index would only compare. populate() still reports it, as it reports any load
    // that said nothing.
    if (extending && count_ == known_events && size_ == known_bytes)
      return;
    ++reports_;
    if (!observer_)
      return;
    if (extending)
      observer_->on_extended(task_extended{task_, file_id_, known_events, known_bytes, count_,
                                           size_, std::move(tail)});
    else if (file_id_ == 0)
      observer_->on_removed(task_removed{task_}); // no file: no task (it may never have had one)
    else
      observer_->on_loaded(task_summary{task_, file_id_, count_, size_, sketch.finish()});
  };
  // The descriptor the load reads through stays open for the append that usually follows (or is
  // closed by the caller that has no use for it): a cold append opens its file once.
  const bool opened_now = fd_ < 0;
  auto opened = open_existing();
  if (!opened)
    return opened.error();
  if (!*opened) {
    report();
    return caf::none;
  }
  // The stat of the open just made says how long the file is (an fd kept from before does not).
  const uint64_t file_bytes = opened_now ? size_at_open_ : file_size(fd_);
  if (known && known->file_id == file_id_ && known->bytes <= file_bytes
      && line_starts_at(fd_, known->bytes)) {
    extending = true;
    known_events = count_ = known->events;
    known_bytes = size_ = known->bytes;
  }
  bool torn = false;
  uint64_t torn_offset = 0;
  line_header torn_line;
  line_header h;
  // A file that ends where what is known ends is not read at all.
  int read_err = extending && size_ == file_bytes ? 0 : for_each_line(
    fd_, size_,
    [&](const raw_line& line) {
      size_ = line.offset + line.length + (line.terminated ? 1 : 0);
      if (line.too_long) { // unreadable: counted nowhere, never indexed (line_reader.hpp)
        if (!line.terminated) {
          torn = true;
          torn_offset = line.offset;
          torn_line = line_header{};
        }
        return;
      }
      if (is_blank_line(line.text))
        return;
      if (!line.terminated) {
        torn = true;
        torn_offset = line.offset;
        peek_line(line.text, torn_line);
        return;
      }
      peek_line(line.text, h);
      if (h.status == line_status::ok)
        add(h.type, line_ref{h.ts, count_++, line.offset});
    });
  if (read_err)
    return io_error("cannot read", path_, read_err);
  if (torn && cfg_.read_only)
    size_ = torn_offset; // what we know ends where the torn line starts: read it again once whole
  // What the file held when we read it is durable: written by syncs of ours or of an earlier
  // process, whose leftovers the store's syncfs at open made durable.
  synced_size_ = size_;
  if (torn && !cfg_.read_only) {
    // A crash cut the last line short. Terminate it, so the next line starts on a line of its own and
    // no byte of the torn line is lost: it stays as a corrupt line (compaction moves it aside), or as
    // a valid event if only its newline was missing.
    if (auto open_err = open_for_append())
      return open_err;
    size_t done = 0;
    if (int werr = write_all(fd_, "\n", 1, done))
      return io_error("cannot repair torn tail of", path_, werr);
    dirty_ = true;
    size_ += 1;
    if (torn_line.status == line_status::ok)
      add(torn_line.type, line_ref{torn_line.ts, count_++, torn_offset});
  }
  report();
  return caf::none;
}

caf::error task_log::load_recent_ids() {
  if (ids_loaded_)
    return caf::none;
  recent_.clear();
  // Positions count valid lines from the start, so the whole file is read; but only headers.
  uint64_t position = 0;
  line_header h;
  auto found = for_each_log_line(*cfg_.root, task_, [&](const raw_line& line) {
    if (!line.terminated || line.too_long || is_blank_line(line.text))
      return;
    peek_line(line.text, h);
    if (h.status == line_status::ok && position + cfg_.dedupe_window >= count_)
      recent_.remember(h.id, position, line.offset);
    position += h.status == line_status::ok;
  });
  if (!found)
    return found.error();
  ids_loaded_ = true;
  return caf::none;
}

caf::expected<bool> task_log::open_existing() {
  if (fd_ >= 0)
    return true;
  file_facts facts;
  auto opened = cfg_.root->open_file(task_, events_file_name,
                                     cfg_.read_only ? O_RDONLY : O_RDWR | O_APPEND, &facts);
  fd_writable_ = !cfg_.read_only;
  if (!opened && !cfg_.read_only) {
    // A file we may read but not write (its mode, its owner) is still read and queried: only an
    // append to it fails (open_for_append opens it for writing again, and says why).
    opened = cfg_.root->open_file(task_, events_file_name, O_RDONLY, &facts);
    fd_writable_ = false;
  }
  if (!opened)
    return opened.error();
  if (!*opened)
    return false;
  fd_ = opened->release();
  size_at_open_ = facts.size;
  const uint64_t id = facts.id;
  if (loaded_ && id != file_id_) {
    // Not the file we loaded (replaced behind our back): what we know of the old one must not be
    // taken for this one's, nor handed on.
    loaded_ = false;
    known_.reset();
    fetch_cache_.clear();
    ids_loaded_ = false;
    recent_.clear();
  }
  file_id_ = id;
  holds_slot_ = cfg_.fds->try_acquire();
  return true;
}

bool task_log::open_for_reading() {
  auto opened = open_existing();
  return opened && *opened; // if not, the scan that follows reports why
}

caf::error task_log::open_for_append() {
  if (fd_ >= 0 && !fd_writable_)
    close_file();
  if (fd_ >= 0)
    return sync_created_names();
  bool dir_created = false;
  auto dir = cfg_.root->open_task_dir(task_, true, &dir_created);
  if (!dir)
    return dir.error();
  root_entry_unsynced_ |= dir_created;
  // Read-write, so the same descriptor serves fetches (pread ignores O_APPEND).
  file_facts facts;
  auto opened = cfg_.root->open_file_in(dir->get(), task_, events_file_name, O_RDWR | O_APPEND,
                                        &facts);
  bool created = false;
  if (opened && !*opened) {
    opened = cfg_.root->open_file_in(dir->get(), task_, events_file_name,
                                     O_RDWR | O_APPEND | O_CREAT, &facts);
    created = true;
  }
  if (!opened)
    return opened.error();
  fd_ = opened->release();
  fd_writable_ = true;
  size_at_open_ = facts.size;
  file_id_ = facts.id;
  holds_slot_ = cfg_.fds->try_acquire();
  dir_entry_unsynced_ |= created;
  return sync_created_names(dir->get());
}

caf::error task_log::sync_created_names(int dir_fd) {
  // fdatasync on the file makes neither new name durable: the directories holding them are synced
  // before the first acknowledgement. Names a killed process left unsynced were made durable when
  // the store opened (syncfs, spawn_store).
  if (cfg_.ack != log_durability::synced)
    return caf::none;
  if (root_entry_unsynced_) {
    if (auto err = fsync_dir(cfg_.root->fd(), root_))
      return err;
    root_entry_unsynced_ = false;
  }
  if (dir_entry_unsynced_) {
    unique_fd opened;
    if (dir_fd < 0) { // not at hand: open it (a directory removed since holds nothing to sync)
      auto dir = cfg_.root->open_task_dir(task_, false, nullptr);
      if (!dir)
        return dir.error();
      opened = std::move(*dir);
      dir_fd = opened.get();
    }
    if (dir_fd >= 0)
      if (auto err = fsync_dir(dir_fd, dir_))
        return err;
    dir_entry_unsynced_ = false;
  }
  return caf::none;
}

caf::expected<append_result> task_log::append(append_request req) {
  if (cfg_.read_only)
    return make_error(errc::read_only, "store is open read-only; cannot append");
  event& ev = req.ev;
  if (ev.task != task_)
    return make_error(errc::invalid_argument,
                      "event for task '" + ev.task + "' sent to the log of '" + task_ + "'");
  if (!ev.data.checked_for_writing()) {
    // Text read from a log or adopted unchecked may hold whitespace, even a line break that would
    // split the line: parse() checks it by the writer's rules and keeps it without any.
    auto checked = json_payload::parse(ev.data.text());
    if (!checked)
      return checked.error();
    ev.data = std::move(*checked);
  }
  if (auto err = validate_for_append(ev))
    return err;
  if (cfg_.crate_types_only && !is_rust_crate_type(ev.type))
    return make_error(errc::invalid_type,
                      "type '" + ev.type + "' is not one the Rust crate reads, and this store "
                        + "refuses such types (crate_types_only)");
  // The load opens the file and keeps it for the write; whatever happens next, a descriptor
  // without a slot is closed before we return.
  struct close_unslotted {
    task_log* log;
    ~close_unslotted() {
      if (!log->holds_slot_)
        log->close_file();
    }
  } closer{this};
  if (auto err = load(true))
    return err;
  if (!ev.id.empty()) {
    // A retried append: acknowledge the stored copy instead of writing a second one.
    if (auto err = load_recent_ids())
      return err;
    if (auto stored = recent_.find(ev.id))
      return stored_duplicate(ev, stored->position, stored->offset);
  } else {
    ev.id = make_uuid_v4();
  }
  if (req.expected_version && *req.expected_version != count_)
    return make_error(errc::version_conflict,
                      "task '" + task_ + "' holds " + std::to_string(count_)
                        + " events; the append expected "
                        + std::to_string(*req.expected_version));
  if (!ev.ts) // unset means now; the epoch is a timestamp like any other
    ev.ts = timestamp::now();
  std::string line = encode_line(ev);
  if (line.size() > cfg_.max_line_bytes)
    return make_error(errc::event_too_large,
                      "event is " + std::to_string(line.size()) + " bytes serialised; the limit is "
                        + std::to_string(cfg_.max_line_bytes));
  if (auto err = open_for_append())
    return err;
  size_t done = 0;
  if (int err = write_all(fd_, line.data(), line.size(), done)) {
    // A full disk or a file-size limit can let part of the line out. Take it back, so a failed
    // append leaves nothing behind; if even that fails, forget what we know, and the next call
    // reloads and terminates the torn line (it then stays as a corrupt line, never glued).
    if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0)
      release();
    return io_error("cannot append to", path_, err);
  }
  dirty_ = true;
  if (observer_)
    observer_->on_appended(appended{task_, ev.type, line_ref{*ev.ts, count_, size_}, file_id_,
                                    size_ + line.size()});
  size_ += line.size();
  if (ids_loaded_)
    recent_.remember(ev.id, count_, size_ - line.size()); // otherwise load_recent_ids() reads it
  append_result result{std::move(ev), count_++, false};
  if (!holds_slot_) {
    // No slot to keep the file open. Under synced acks the line must be on disk before the reply,
    // and a failed sync is this append's error, as in the group commit (sync()).
    auto err = cfg_.ack == log_durability::synced ? sync() : caf::error{};
    close_file();
    if (err)
      return err;
  }
  return result;
}

void task_log::discard_unsynced() {
  // After a failed fdatasync the kernel may have dropped the dirty pages and report the next sync
  // clean, so the lines written since the last good sync are neither durable nor acknowledged: cut
  // them off, forget what we knew (retried ids among them must be written again, never answered
  // as duplicates), and reload, which tells the index what the file holds now. If even the cut
  // fails, the reload still sees those lines; a later sync of theirs is retried like any other.
  std::ignore = ::ftruncate(fd_, static_cast<off_t>(synced_size_));
  dirty_ = false;
  release();
  known_.reset(); // the file was cut: nothing known of it may be assumed
  std::ignore = load();
}

caf::error task_log::sync() {
  if (!dirty_ || fd_ < 0)
    return caf::none;
  if (::fdatasync(fd_) != 0) {
    int err = errno;
    discard_unsynced();
    return io_error("cannot fdatasync", path_, err);
  }
  dirty_ = false;
  synced_size_ = size_;
  return caf::none;
}

caf::expected<read_result> task_log::read(uint64_t from, uint64_t max_events) {
  // Repairs a torn tail before anyone reads past it. If the repair cannot be written (a full disk),
  // reading still works: the torn line is reported in the stats, as for a read-only store.
  if (!cfg_.read_only)
    std::ignore = load();
  auto log = log_file::open(*cfg_.root, task_);
  if (!log)
    return log.error();
  read_result result;
  if (!*log) {
    read_cursors_.clear();
    return result;
  }
  // A read that goes on where an earlier one stopped (a subscriber catching up in chunks) starts
  // there, with the counters of the lines before it, instead of decoding the file again from its
  // first line: chunks of a long file would otherwise cost its length each, the whole file's
  // square in all. Only in the same file (a compaction renames another over it) and only if that
  // one still holds the last line read where it was (a file cut and written again is read from
  // its start). Of the cursors that qualify, the one furthest on.
  uint64_t index = 0;
  uint64_t start = 0;
  const uint64_t id = log->file_id();
  auto resumed = read_cursors_.end();
  for (auto c = read_cursors_.begin(); c != read_cursors_.end(); ++c)
    if (id != 0 && c->file_id == id && c->position <= from &&
        (resumed == read_cursors_.end() || c->position > resumed->position) &&
        log->holds_line_at(c->last_offset, c->last_line))
      resumed = c;
  if (resumed != read_cursors_.end()) {
    index = resumed->position;
    start = resumed->last_offset + resumed->last_line.size() + 1;
    result.stats = resumed->stats;
    read_cursors_.erase(resumed); // replaced by where this read stops, if it stops early
  }
  std::optional<read_cursor> stopped;
  auto err = log->for_each_line_from(start, [&](const raw_line& line) {
    if (!line.terminated) {
      result.stats.torn_tail = true; // in-flight from another process, or a crash's leftover
      return true;
    }
    if (line.too_long) {
      ++result.stats.corrupt_lines;
      return true;
    }
    if (is_blank_line(line.text))
      return true;
    auto d = decode_line(line.text);
    switch (d.status) {
      case line_status::ok:
        if (index++ >= from && result.events.size() < max_events) {
          d.ev.task = task_; // the file a line lives in names its task (docs/FORMAT.md)
          result.events.push_back(std::move(d.ev));
          if (result.events.size() == max_events) {
            // Full: the next chunk starts after this line.
            stopped = read_cursor{id, index, line.offset, std::string{line.text}, result.stats};
            return false;
          }
        }
        break;
      case line_status::corrupt:
        ++result.stats.corrupt_lines;
        break;
      case line_status::future_schema:
        ++result.stats.future_schema_lines;
        break;
    }
    return true;
  });
  if (err)
    return err;
  if (stopped && id != 0) {
    if (read_cursors_.size() == kept_read_cursors)
      read_cursors_.erase(read_cursors_.begin());
    read_cursors_.push_back(std::move(*stopped));
  }
  return result;
}

caf::expected<uint64_t> task_log::populate() {
  const uint64_t reports_before = reports_;
  if (auto err = load())
    return err;
  // Loaded before: say so, in order after every notification of ours, so the index counts the
  // task as populated whatever it knew of it already.
  if (reports_ == reports_before && observer_) {
    if (file_id_ == 0) // no file: the index forgets the task, as the load reported (or will)
      observer_->on_removed(task_removed{task_});
    else
      observer_->on_extended(task_extended{task_, file_id_, count_, size_, count_, size_, {}});
  }
  return size_;
}

caf::expected<fetch_result> task_log::fetch(const fetch_request& req) {
  // A file deleted or truncated behind our back must not be read through a stale descriptor:
  // reloading closes it and reports the file as it is now to the index. Queries check only every
  // external_change_check: answering from the file as it was a moment ago loses nothing, and the
  // fstat was a tenth of a query's cost.
  // A read-only store's writer learns the same way what the writing process changed.
  if (loaded_ && changed_behind_our_back_if_due())
    std::ignore = load(); // reads what changed and tells the index
  bool stale = false;
  if (!req.what.scan && !req.what.lines.empty() && open_for_reading()) {
    // The descriptor is kept while the writer holds a slot: a query then costs one pread per line.
    auto planned = read_planned(req);
    if (!holds_slot_)
      close_file();
    if (planned)
      return std::move(*planned);
    stale = true;
  } else {
    uint64_t id = 0;
    uint64_t size = 0;
    if (fd_ >= 0)
      id = file_id_;
    else
      stat_log(id, size);
    stale = id != req.what.file_id;
  }
  // The plan was not made for this file: tell the index what the file holds now, whether or not a
  // check was due (a log not loaded yet loads), so that the query's next plan is made from the
  // truth. The notification reaches the index before our reply reaches the query.
  if (stale)
    std::ignore = load();
  auto result = scan_for(req); // answers exactly for this file even when the plan was not for it
  if (result)
    result->stale_plan = stale;
  return result;
}

std::optional<fetch_result> task_log::read_planned(const fetch_request& req) {
  if (req.what.file_id != file_id_)
    return std::nullopt;
  fetch_result result;
  std::string line;
  auto as_planned = [&](const event& ev, const line_ref& ref) {
    return ev.ts == ref.ts && query_selects(req.prefix, req.exact_type, ev.type);
  };
  for (const auto& ref : req.what.lines) {
    if (const event* cached = fetch_cache_.find(ref.offset); cached && as_planned(*cached, ref)) {
      result.events.push_back(located_event{ref.position, *cached});
      continue;
    }
    // Bounded by what readers hold, not by the append limit: a line the Rust crate wrote, or one
    // written under a larger limit, is as readable here as in a scan.
    if (!read_line_at(fd_, ref.offset, max_readable_line_bytes, line))
      return std::nullopt;
    auto d = decode_line(line);
    if (d.status != line_status::ok || !as_planned(d.ev, ref))
      return std::nullopt;
    d.ev.task = task_; // the file a line lives in names its task (docs/FORMAT.md)
    fetch_cache_.put(ref.offset, d.ev);
    result.events.push_back(located_event{ref.position, std::move(d.ev)});
  }
  return result;
}

caf::expected<fetch_result> task_log::scan_for(const fetch_request& req) {
  fetch_result result;
  result.scanned = true;
  latest_events best{req.limit};
  uint64_t position = 0;
  line_header h;
  auto found = for_each_log_line(*cfg_.root, task_, [&](const raw_line& line) {
    if (!line.terminated || line.too_long || is_blank_line(line.text))
      return;
    peek_line(line.text, h); // cheap: only lines that may be returned are decoded whole
    if (h.status != line_status::ok)
      return;
    auto pos = position++;
    if (!query_selects(req.prefix, req.exact_type, h.type))
      return;
    if (req.bound
        && std::tie(h.ts, task_, pos)
             < std::tie(req.bound->ts, req.bound->task, req.bound->position))
      return;
    event probe;
    probe.ts = h.ts;
    probe.task = task_;
    if (!best.would_keep(ranked_event{pos, std::move(probe)}))
      return;
    auto d = decode_line(line.text);
    d.ev.task = task_; // the file a line lives in names its task (docs/FORMAT.md)
    best.offer(ranked_event{pos, std::move(d.ev)});
  });
  if (!found)
    return found.error();
  for (auto& r : best.take_ranked())
    result.events.push_back(located_event{r.position, std::move(r.ev)});
  return result;
}

caf::expected<bool> task_log::remove_if_empty() {
  if (cfg_.read_only)
    return make_error(errc::read_only, "store is open read-only; cannot clean up");
  if (task_.empty())
    return false;
  auto dir = cfg_.root->open_task_dir(task_, false);
  if (!dir)
    return dir.error();
  if (!*dir)
    return false;
  bool removable = true;
  auto err = for_each_dir_entry(dir->get(), dir_, [&](const std::string& name, unsigned char) {
    struct stat sb {};
    if (name == events_file_name)
      removable = removable && ::fstatat(dir->get(), name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) == 0
                  && S_ISREG(sb.st_mode) && sb.st_size == 0;
    else if (name != compact_temp_file_name)
      removable = false; // e.g. events.corrupt: evidence a person may want, never removed silently
  });
  if (err)
    return err;
  if (!removable)
    return false;
  release();
  for (const char* name : {events_file_name, compact_temp_file_name})
    if (::unlinkat(dir->get(), name, 0) != 0 && errno != ENOENT)
      return io_error("cannot remove", dir_ + "/" + name, errno);
  if (::unlinkat(cfg_.root->fd(), task_.c_str(), AT_REMOVEDIR) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST)
      return false; // something appeared in it meanwhile (a person's file): keep it
    return io_error("cannot remove", dir_, errno);
  }
  if (observer_)
    observer_->on_removed(task_removed{task_});
  if (auto sync_err = fsync_dir(cfg_.root->fd(), root_))
    return sync_err;
  return true;
}

caf::expected<append_result> task_log::stored_duplicate(const event& retry, uint64_t position,
                                                        uint64_t offset) {
  bool opened_here = fd_ < 0;
  if (!open_for_reading())
    return make_error(errc::io_error, "cannot reopen " + path_ + " to read the stored copy of "
                                        + retry.id);
  std::string line;
  bool ok = read_line_at(fd_, offset, max_readable_line_bytes, line);
  if (opened_here && !holds_slot_)
    close_file();
  auto d = ok ? decode_line(line) : decoded_line{};
  if (d.status != line_status::ok || d.ev.id != retry.id)
    return make_error(errc::io_error, "the stored copy of " + retry.id + " in " + path_
                                        + " is no longer where it was written");
  d.ev.task = task_;
  const event& stored = d.ev;
  // A retry carries what the first attempt carried; its ts only if the caller chose one.
  const char* differs = nullptr;
  if (stored.type != retry.type)
    differs = "type";
  else if (stored.actor != retry.actor)
    differs = "actor";
  else if (json_text::minify(stored.data.text()) != retry.data.text()) // the log may hold spaces
    differs = "data";
  else if (retry.ts && stored.ts != retry.ts)
    differs = "ts";
  if (differs)
    return make_error(errc::id_conflict, "id " + retry.id + " is already stored in task '" + task_
                                           + "' at position " + std::to_string(position)
                                           + " with a different " + differs);
  return append_result{std::move(d.ev), position, true};
}

} // namespace evstore
