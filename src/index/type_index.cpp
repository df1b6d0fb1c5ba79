#include "type_index.hpp"

#include <algorithm>
#include <exception>
#include <iterator>
#include <limits>
#include <queue>
#include <system_error>
#include <thread>
#include <tuple>

#include "checked_varint.hpp"
#include "type_sketch.hpp"
#include "src/format/pattern.hpp"

// Pair records. A task's `pairs` holds one record per type it has, sorted by type id, in bytes:
//   varint    the length of the rest of the record, so a walk skips it without decoding it
//   varint    type id << 1, | 1 if the summary is kept whole in wide_ (and nothing follows)
//   varint    count
//   per reference held, min(count, sketch size) of them, oldest first:
//             ts seconds, 4 bytes of nanoseconds, position, offset
//   only if count > sketch size, the highest-ranked older line: ts seconds, nanoseconds, position
// Seconds, positions and offsets are zigzag varints of the difference from the reference before
// (the first reference's from zero, the older line's from the first reference's): a pair's lines
// are close in time and in the file, so most take a byte or two, and any 64-bit value is exact.
// newest_ts is not stored: add_line_to_summary keeps it the newest of the references and the older
// line. has_older is count > sketch size.

namespace evstore {

namespace {

constexpr uint32_t no_task = std::numeric_limits<uint32_t>::max();

bool ranks_below(timestamp ts, const std::string& task, uint64_t position, const rank_key& key) {
  if (ts != key.ts)
    return ts < key.ts;
  return std::tie(task, position) < std::tie(key.task, key.position);
}

uint8_t* put_varint(uint8_t* p, uint64_t v) {
  for (; v >= 0x80; v >>= 7)
    *p++ = static_cast<uint8_t>(v | 0x80);
  *p++ = static_cast<uint8_t>(v);
  return p;
}

uint64_t get_varint(const uint8_t*& p) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t b = *p++;
    v |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80))
      return v;
  }
}

/// `to - from` (modulo 2^64, so exact for any two values) with the sign in the lowest bit.
uint8_t* put_delta(uint8_t* p, uint64_t from, uint64_t to) {
  const uint64_t d = to - from;
  return put_varint(p, d << 1 ^ (d >> 63 ? ~uint64_t{0} : 0));
}

uint64_t get_delta(const uint8_t*& p, uint64_t from) {
  const uint64_t z = get_varint(p);
  return from + (z >> 1 ^ (z & 1 ? ~uint64_t{0} : 0));
}

uint8_t* put_nanos(uint8_t* p, uint32_t nanos) {
  for (int i = 0; i < 4; ++i)
    *p++ = static_cast<uint8_t>(nanos >> 8 * i);
  return p;
}

uint32_t get_nanos(const uint8_t*& p) {
  uint32_t nanos = 0;
  for (int i = 0; i < 4; ++i)
    nanos |= uint32_t{*p++} << 8 * i;
  return nanos;
}

uint64_t seconds_of(timestamp ts) {
  return static_cast<uint64_t>(ts.seconds_since_epoch());
}

timestamp ts_of(uint64_t seconds, uint32_t nanos) {
  return timestamp::from_parts(static_cast<int64_t>(seconds), nanos);
}

// What malloc takes for a block of `n` bytes (glibc on 64 bits: an 8-byte header, 16-byte
// granules, 32 at least), so stats() counts what the heap gives up, not only what is asked.
uint64_t heap_block(uint64_t n) {
  return n == 0 ? 0 : std::max<uint64_t>(32, (n + 8 + 15) / 16 * 16);
}

template <class T>
uint64_t vector_bytes(const std::vector<T>& v) {
  return heap_block(v.capacity() * sizeof(T));
}

uint64_t string_bytes(const std::string& s) {
  return s.capacity() > 15 ? heap_block(s.capacity() + 1) : 0; // up to 15 characters fit inside
}

/// Reads what put_varint, put_delta and put_nanos wrote, never past `end`: records a checkpoint
/// hands over (adopt) are checked with it before anything trusts them. Any overrun, an 11-byte
/// varint or nanoseconds of a second or more make it fail for good.
class checked_cursor {
public:
  checked_cursor(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {
  }
  bool ok() const {
    return ok_;
  }
  const uint8_t* at() const {
    return p_;
  }
  uint64_t varint() {
    uint64_t v = 0;
    return read_checked_varint(p_, end_, v) ? v : fail();
  }
  uint64_t delta(uint64_t from) {
    const uint64_t z = varint();
    return from + (z >> 1 ^ (z & 1 ? ~uint64_t{0} : 0));
  }
  uint32_t nanos() {
    if (end_ - p_ < 4)
      return static_cast<uint32_t>(fail());
    const uint8_t* q = p_;
    const uint32_t n = get_nanos(q);
    p_ = q;
    return n < 1'000'000'000u ? n : static_cast<uint32_t>(fail());
  }

private:
  uint64_t fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
};

void assign_without_type(type_summary& to, const type_summary& from) {
  to.count = from.count;
  to.newest_ts = from.newest_ts;
  to.recent = from.recent;
  to.has_older = from.has_older;
  to.older_max_ts = from.older_max_ts;
  to.older_max_position = from.older_max_position;
}

} // namespace

// --- order ------------------------------------------------------------------------------------

// Exact from 1970 to 2106, clamped beyond: monotone in `newest`, so an entry older than another's
// is older; equal ones say nothing, and the plan reads the exact ts from the pair then.
type_index::order_entry type_index::order_entry::of(timestamp newest, task_id task) {
  constexpr int64_t top = std::numeric_limits<uint32_t>::max();
  const int64_t s = newest.seconds_since_epoch();
  if (s < 0)
    return {0, 0, task};
  if (s > top)
    return {static_cast<uint32_t>(top), 999'999'999, task};
  return {static_cast<uint32_t>(s), newest.nanoseconds(), task};
}

// --- pair_order -------------------------------------------------------------------------------

size_t type_index::pair_order::chunk_for(order_entry e) const {
  auto it = std::lower_bound(lasts_.begin(), lasts_.end(), e);
  return it == lasts_.end() ? lasts_.size() - 1 : static_cast<size_t>(it - lasts_.begin());
}

void type_index::pair_order::add_unordered(order_entry e) {
  unordered_.push_back(e);
  ++size_;
}

void type_index::pair_order::erase_unordered(order_entry e) {
  removed_.push_back(e);
  --size_;
}

void type_index::pair_order::settle() {
  if (unordered_.empty() && removed_.empty())
    return;
  std::sort(unordered_.begin(), unordered_.end());
  std::sort(removed_.begin(), removed_.end());
  // What was added and taken out again while deferred cancels; what is left to take out is in
  // the chunks.
  std::vector<order_entry> added;
  std::vector<order_entry> gone;
  added.reserve(unordered_.size());
  std::set_difference(unordered_.begin(), unordered_.end(), removed_.begin(), removed_.end(),
                      std::back_inserter(added));
  std::set_difference(removed_.begin(), removed_.end(), unordered_.begin(), unordered_.end(),
                      std::back_inserter(gone));
  std::vector<order_entry>().swap(unordered_);
  std::vector<order_entry>().swap(removed_);
  std::vector<order_entry> kept;
  kept.reserve(size_ + gone.size() - added.size());
  auto g = gone.begin();
  for (const auto& ch : chunks_)
    for (const auto& e : ch) {
      while (g != gone.end() && *g < e)
        ++g; // not there: the callers never take out what they did not add
      if (g != gone.end() && *g == e)
        ++g;
      else
        kept.push_back(e);
    }
  std::vector<order_entry> all;
  all.reserve(kept.size() + added.size());
  std::merge(kept.begin(), kept.end(), added.begin(), added.end(), std::back_inserter(all));
  // Full chunks, as appends leave them: the usual move (a pair becoming the newest) pushes onto the
  // last one, and any other splits a chunk once.
  chunks_.clear();
  lasts_.clear();
  for (size_t at = 0; at < all.size(); at += chunk_capacity) {
    const size_t end = std::min(all.size(), at + chunk_capacity);
    chunks_.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(at),
                         all.begin() + static_cast<std::ptrdiff_t>(end));
    lasts_.push_back(chunks_.back().back());
  }
  size_ = all.size();
}

void type_index::pair_order::insert(order_entry e) {
  settle();
  ++size_;
  if (chunks_.empty() || lasts_.back() < e) {
    // The usual move: the pair's newest event is the type's newest (ts is mostly now). Chunks
    // filled this way stay full.
    if (chunks_.empty() || chunks_.back().size() == chunk_capacity) {
      chunks_.emplace_back();
      lasts_.emplace_back();
    }
    chunks_.back().push_back(e);
    lasts_.back() = e;
    return;
  }
  size_t c = chunk_for(e);
  if (chunks_[c].size() == chunk_capacity) {
    // Split before inserting, so no chunk's capacity grows past chunk_capacity.
    chunk upper(chunks_[c].begin() + chunk_capacity / 2, chunks_[c].end());
    chunks_[c].resize(chunk_capacity / 2);
    const auto next = static_cast<std::ptrdiff_t>(c) + 1;
    lasts_.insert(lasts_.begin() + next, upper.back());
    chunks_.insert(chunks_.begin() + next, std::move(upper));
    lasts_[c] = chunks_[c].back();
    if (lasts_[c] < e)
      ++c;
  }
  auto& ch = chunks_[c];
  ch.insert(std::upper_bound(ch.begin(), ch.end(), e), e);
  lasts_[c] = ch.back();
}

void type_index::pair_order::erase(order_entry e) {
  settle();
  if (chunks_.empty())
    return;
  const size_t c = chunk_for(e);
  auto& ch = chunks_[c];
  auto it = std::lower_bound(ch.begin(), ch.end(), e);
  if (it == ch.end() || !(*it == e))
    return; // not there: the callers never ask this
  ch.erase(it);
  --size_;
  if (ch.empty()) {
    chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(c));
    lasts_.erase(lasts_.begin() + static_cast<std::ptrdiff_t>(c));
    return;
  }
  lasts_[c] = ch.back();
  // Appends drain old chunks as their pairs move to the newest end: neighbours that fit in one
  // chunk become one, so chunks stay about half full or more.
  auto merge_with_next = [&](size_t left) {
    auto& l = chunks_[left];
    auto& r = chunks_[left + 1];
    if (l.size() + r.size() > chunk_capacity)
      return;
    if (l.capacity() < l.size() + r.size())
      l.reserve(chunk_capacity);
    l.insert(l.end(), r.begin(), r.end());
    lasts_[left] = l.back();
    chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(left) + 1);
    lasts_.erase(lasts_.begin() + static_cast<std::ptrdiff_t>(left) + 1);
  };
  if (c + 1 < chunks_.size())
    merge_with_next(c);
  if (c > 0)
    merge_with_next(c - 1);
}

uint64_t type_index::pair_order::heap_bytes() const {
  uint64_t bytes = vector_bytes(chunks_) + vector_bytes(lasts_) + vector_bytes(unordered_)
                   + vector_bytes(removed_);
  for (const auto& ch : chunks_)
    bytes += vector_bytes(ch);
  return bytes;
}

// --- tasks and types ---------------------------------------------------------------------------

type_index::type_index(size_t sketch_size)
  : sketch_size_(std::max<size_t>(sketch_size, 1)), task_slots_(16, no_task) {
}

type_index::type_index(const type_index& other)
  : sketch_size_(other.sketch_size_),
    by_name_(other.by_name_),
    types_(other.types_),
    tasks_(other.tasks_),
    task_slots_(other.task_slots_),
    wide_(other.wide_),
    live_tasks_(other.live_tasks_),
    entries_(other.entries_),
    bulk_(other.bulk_) {
  // Every member is listed above (scratch buffers aside, which hold nothing between calls): one added
  // to the class must be added there too. Each type's name points at its key in by_name_: at ours
  // now, not at the other's.
  for (auto& t : types_)
    t.name = &by_name_.find(*t.name)->first;
}

size_t type_index::task_slot(std::string_view task) const {
  const size_t mask = task_slots_.size() - 1;
  for (size_t i = std::hash<std::string_view>{}(task) & mask;; i = (i + 1) & mask) {
    const task_id id = task_slots_[i];
    if (id == no_task || tasks_[id].name == task)
      return i;
  }
}

type_index::task_id type_index::intern(const std::string& task) {
  size_t slot = task_slot(task);
  if (task_slots_[slot] == no_task) {
    if (2 * (tasks_.size() + 1) > task_slots_.size()) {
      // At most half full, so a lookup probes about two slots.
      std::vector<task_id> bigger(task_slots_.size() * 2, no_task);
      task_slots_.swap(bigger);
      for (task_id id = 0; id < tasks_.size(); ++id)
        task_slots_[task_slot(tasks_[id].name)] = id;
      slot = task_slot(task);
    }
    task_slots_[slot] = static_cast<task_id>(tasks_.size());
    tasks_.emplace_back();
    tasks_.back().name = task;
  }
  const task_id id = task_slots_[slot];
  if (!tasks_[id].live) {
    tasks_[id].live = true;
    ++live_tasks_;
  }
  return id;
}

const type_index::task_record* type_index::live_task(std::string_view task) const {
  const task_id id = task_slots_[task_slot(task)];
  return id != no_task && tasks_[id].live ? &tasks_[id] : nullptr;
}

type_index::type_id type_index::type_of(const std::string& type) {
  auto it = by_name_.find(type);
  if (it == by_name_.end()) {
    it = by_name_.emplace(type, static_cast<type_id>(types_.size())).first;
    types_.push_back(type_entry{&it->first, {}});
  }
  return it->second;
}

bool type_index::empty() const {
  return types_.empty() && tasks_.empty();
}

bool type_index::knows(std::string_view task) const {
  return live_task(task) != nullptr;
}

// --- pair records ------------------------------------------------------------------------------

type_index::record_at type_index::find_record(const std::vector<uint8_t>& bytes,
                                              type_id type) const {
  const uint8_t* const begin = bytes.data();
  const uint8_t* p = begin;
  while (p != begin + bytes.size()) {
    const uint8_t* const start = p;
    const uint64_t length = get_varint(p);
    const uint8_t* const rest = p;
    const uint64_t here = get_varint(p) >> 1;
    if (here >= type)
      return {static_cast<size_t>(start - begin), here == type};
    p = rest + length;
  }
  return {bytes.size(), false};
}

timestamp type_index::read_record(task_id task, const uint8_t* p, type_summary* out) const {
  get_varint(p); // the length
  const uint64_t type_word = get_varint(p);
  if (type_word & 1) {
    const auto& whole = wide_.at(wide_key(task, static_cast<type_id>(type_word >> 1)));
    if (out)
      assign_without_type(*out, whole);
    return whole.newest_ts;
  }
  const uint64_t count = get_varint(p);
  const size_t held = static_cast<size_t>(std::min<uint64_t>(count, sketch_size_));
  if (out) {
    out->count = count;
    out->recent.resize(held);
  }
  uint64_t seconds = 0;
  uint64_t position = 0;
  uint64_t offset = 0;
  uint64_t first_seconds = 0;
  uint64_t first_position = 0;
  timestamp newest = timestamp::min();
  for (size_t i = 0; i < held; ++i) {
    seconds = get_delta(p, seconds);
    const timestamp ts = ts_of(seconds, get_nanos(p));
    position = get_delta(p, position);
    offset = get_delta(p, offset);
    if (i == 0) {
      first_seconds = seconds;
      first_position = position;
    }
    if (out)
      out->recent[i] = line_ref{ts, position, offset};
    newest = std::max(newest, ts);
  }
  const bool has_older = count > held;
  timestamp older_ts{};
  uint64_t older_position = 0;
  if (has_older) {
    const uint64_t older_seconds = get_delta(p, first_seconds);
    older_ts = ts_of(older_seconds, get_nanos(p));
    older_position = get_delta(p, first_position);
    newest = std::max(newest, older_ts);
  }
  if (out) {
    out->has_older = has_older;
    out->older_max_ts = older_ts;
    out->older_max_position = older_position;
    out->newest_ts = newest;
  }
  return newest;
}

bool type_index::encode(type_id type, const type_summary& s, std::vector<uint8_t>& out) {
  // Only a summary shaped as add_line_to_summary shapes it with this sketch size decodes back to
  // itself; any other (a checkpoint of another sketch size, a hand-made summary) is kept whole.
  const uint64_t held = std::min<uint64_t>(s.count, sketch_size_);
  bool compact = s.count > 0 && s.recent.size() == held && s.has_older == (s.count > held)
                 && (s.has_older || (s.older_max_ts == timestamp{} && s.older_max_position == 0));
  if (compact) {
    timestamp newest = s.has_older ? s.older_max_ts : timestamp::min();
    for (const auto& line : s.recent)
      newest = std::max(newest, line.ts);
    compact = newest == s.newest_ts;
  }
  // Written through a pointer into room for the longest record: two varints, then per line at
  // most three 10-byte varints and 4 bytes of nanoseconds.
  auto& body = scratch_body_;
  body.resize(20 + 34 * (s.recent.size() + 1));
  uint8_t* p = body.data();
  p = put_varint(p, uint64_t{type} << 1 | (compact ? 0 : 1));
  if (compact) {
    p = put_varint(p, s.count);
    uint64_t seconds = 0;
    uint64_t position = 0;
    uint64_t offset = 0;
    for (const auto& line : s.recent) {
      p = put_delta(p, seconds, seconds_of(line.ts));
      p = put_nanos(p, line.ts.nanoseconds());
      p = put_delta(p, position, line.position);
      p = put_delta(p, offset, line.offset);
      seconds = seconds_of(line.ts);
      position = line.position;
      offset = line.offset;
    }
    if (s.has_older) {
      p = put_delta(p, seconds_of(s.recent.front().ts), seconds_of(s.older_max_ts));
      p = put_nanos(p, s.older_max_ts.nanoseconds());
      p = put_delta(p, s.recent.front().position, s.older_max_position);
    }
  }
  const auto length = static_cast<size_t>(p - body.data());
  uint8_t prefix[10];
  out.insert(out.end(), prefix, put_varint(prefix, length));
  out.insert(out.end(), body.data(), p);
  return compact;
}

bool type_index::load(task_id task, type_id type, type_summary& out) const {
  const auto& bytes = tasks_[task].pairs;
  auto rec = find_record(bytes, type);
  if (!rec.found)
    return false;
  read_record(task, bytes.data() + rec.at, &out);
  return true;
}

namespace {

/// The length of the record at `rec`, its length prefix included.
size_t record_size(const uint8_t* rec) {
  const uint8_t* p = rec;
  const uint64_t length = get_varint(p);
  return static_cast<size_t>(p - rec) + static_cast<size_t>(length);
}

bool is_wide(const uint8_t* rec) {
  get_varint(rec);
  return get_varint(rec) & 1;
}

uint32_t type_of_record(const uint8_t* rec) {
  get_varint(rec);
  return static_cast<uint32_t>(get_varint(rec) >> 1);
}

} // namespace

void type_index::store(task_id task, type_id type, record_at rec, const type_summary& s) {
  auto& bytes = tasks_[task].pairs;
  size_t old_size = 0;
  order_entry old_entry{};
  bool was_wide = false;
  if (rec.found) {
    const uint8_t* old = bytes.data() + rec.at;
    old_size = record_size(old);
    old_entry = order_entry::of(read_record(task, old, nullptr), task);
    was_wide = is_wide(old);
  }
  scratch_record_.clear();
  if (encode(type, s, scratch_record_)) {
    if (was_wide)
      wide_.erase(wide_key(task, type));
  } else {
    assign_without_type(wide_[wide_key(task, type)], s);
  }
  const size_t new_size = scratch_record_.size();
  const auto at = static_cast<std::ptrdiff_t>(rec.at);
  if (new_size > old_size) {
    const size_t grow = new_size - old_size;
    if (bytes.size() + grow > bytes.capacity())
      // Records grow a few bytes at a time while their pairs fill their sketches: room for an
      // eighth more instead of doubling keeps a task's slack small.
      bytes.reserve(bytes.size() + grow + bytes.size() / 8 + 16);
    bytes.insert(bytes.begin() + at + static_cast<std::ptrdiff_t>(old_size), grow, 0);
  } else if (new_size < old_size) {
    bytes.erase(bytes.begin() + at + static_cast<std::ptrdiff_t>(new_size),
                bytes.begin() + at + static_cast<std::ptrdiff_t>(old_size));
  }
  std::copy(scratch_record_.begin(), scratch_record_.end(), bytes.begin() + at);
  const auto new_entry = order_entry::of(s.newest_ts, task);
  if (!rec.found) {
    order_insert(type, new_entry);
    ++entries_;
  } else if (!(new_entry == old_entry)) {
    order_erase(type, old_entry);
    order_insert(type, new_entry);
  }
}

void type_index::order_insert(type_id type, order_entry e) {
  if (bulk_)
    types_[type].order.add_unordered(e);
  else
    types_[type].order.insert(e);
}

void type_index::order_erase(type_id type, order_entry e) {
  if (bulk_)
    types_[type].order.erase_unordered(e);
  else
    types_[type].order.erase(e);
}

void type_index::forget_types_of(task_id id) {
  auto& rec = tasks_[id];
  for (size_t at = 0; at < rec.pairs.size(); at += record_size(&rec.pairs[at])) {
    const uint8_t* r = &rec.pairs[at];
    const type_id type = type_of_record(r);
    order_erase(type, order_entry::of(read_record(id, r, nullptr), id));
    if (is_wide(r))
      wide_.erase(wide_key(id, type));
    --entries_;
  }
  std::vector<uint8_t>().swap(rec.pairs); // gives the memory back
  rec.events = 0;
  // Types left without pairs keep their (empty) entry: cheap, and the next append reuses it.
}

// --- notifications -----------------------------------------------------------------------------

void type_index::apply(const appended& note) {
  const task_id id = intern(note.task);
  auto& rec = tasks_[id];
  rec.file_id = note.file_id;
  ++rec.events;
  rec.bytes = note.end;
  const type_id type = type_of(note.type);
  type_summary& s = scratch_;
  const auto at = find_record(rec.pairs, type);
  if (at.found) {
    read_record(id, rec.pairs.data() + at.at, &s);
  } else {
    s.count = 0;
    s.newest_ts = timestamp{};
    s.recent.clear();
    s.has_older = false;
    s.older_max_ts = timestamp{};
    s.older_max_position = 0;
  }
  // The writers' own function, so the index's summary stays what a writer's scan would build.
  add_line_to_summary(s, note.line, sketch_size_);
  store(id, type, at, s);
}

void type_index::apply(const task_summary& summary) {
  const task_id id = intern(summary.task);
  forget_types_of(id);
  auto& rec = tasks_[id];
  rec.file_id = summary.file_id;
  rec.events = summary.events;
  rec.bytes = summary.bytes;
  // Records are sorted by type id; a summary lists its types by name.
  std::vector<std::pair<type_id, const type_summary*>> by_id;
  by_id.reserve(summary.types.size());
  for (const auto& s : summary.types)
    by_id.emplace_back(type_of(s.type), &s);
  std::stable_sort(by_id.begin(), by_id.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  // A type listed twice (no writer does that) keeps its last summary.
  size_t kept = 0;
  for (size_t i = 0; i < by_id.size(); ++i)
    if (i + 1 == by_id.size() || by_id[i + 1].first != by_id[i].first)
      by_id[kept++] = by_id[i];
  by_id.resize(kept);
  scratch_record_.clear();
  for (const auto& [type, s] : by_id)
    if (!encode(type, *s, scratch_record_))
      assign_without_type(wide_[wide_key(id, type)], *s);
  // Exactly as many bytes as the records take: a loaded task rarely grows much.
  std::vector<uint8_t>(scratch_record_.begin(), scratch_record_.end()).swap(rec.pairs);
  for (const auto& [type, s] : by_id) {
    order_insert(type, order_entry::of(s->newest_ts, id));
    ++entries_;
  }
}

void type_index::begin_bulk() {
  bulk_ = true;
}

void type_index::end_bulk(size_t threads) {
  if (!bulk_)
    return;
  bulk_ = false;
  // Each type's order is its own: type i goes to thread i % threads. Types are few (tens) and the
  // usual ones hold a similar share of the pairs.
  threads = std::max<size_t>(1, std::min(threads, types_.size()));
  auto settle_every = [this, threads](size_t first) {
    for (size_t i = first; i < types_.size(); i += threads)
      types_[i].order.settle();
  };
  // Every failure (bad_alloc, no thread to spare) is kept per share and rethrown only once every
  // helper started has been joined: none may outlive the stack its references point into.
  std::vector<std::exception_ptr> failed(threads);
  std::vector<std::thread> helpers;
  size_t started = 1;
  try {
    helpers.reserve(threads - 1);
    for (; started < threads; ++started)
      helpers.emplace_back([&settle_every, &failed, k = started] {
        try {
          settle_every(k);
        } catch (...) {
          failed[k] = std::current_exception();
        }
      });
  } catch (...) { // no thread to spare: this one does the shares nobody took
  }
  for (size_t k = started; k < threads + 1; ++k) {
    const size_t share = k == threads ? 0 : k;
    try {
      settle_every(share);
    } catch (...) {
      failed[share] = std::current_exception();
    }
  }
  for (auto& h : helpers)
    h.join();
  for (auto& f : failed)
    if (f)
      std::rethrow_exception(f);
}

void type_index::apply(const compacted& note) {
  apply(note.summary);
}

bool type_index::apply(const task_extended& note) {
  const task_record* known = live_task(note.task);
  if (!known || known->events != note.from_events || known->bytes != note.from_bytes
      || known->file_id != note.file_id)
    return false;
  for (const auto& line : note.lines)
    apply(appended{note.task, line.type, line.line, note.file_id, note.bytes});
  auto& rec = tasks_[task_slots_[task_slot(note.task)]];
  rec.file_id = note.file_id;
  rec.events = note.events;
  rec.bytes = note.bytes;
  return true;
}

void type_index::remove_task(const std::string& task) {
  const task_id id = task_slots_[task_slot(task)];
  if (id == no_task || !tasks_[id].live)
    return;
  forget_types_of(id);
  tasks_[id].live = false;
  --live_tasks_;
}

std::vector<std::string> type_index::type_names() const {
  std::vector<std::string> out;
  for (const auto& t : types_)
    if (t.order.size() > 0)
      out.push_back(*t.name);
  return out;
}

void type_index::for_each_stored_task(const std::function<void(const stored_task&)>& fn) const {
  // Type ids as places among the types that have pairs (type_names()).
  std::vector<type_id> place(types_.size());
  bool renumbered = false;
  type_id next = 0;
  for (type_id t = 0; t < types_.size(); ++t) {
    place[t] = next;
    renumbered |= place[t] != t;
    next += types_[t].order.size() > 0 ? 1 : 0;
  }
  stored_task out;
  std::vector<uint8_t> copy;
  for (task_id id = 0; id < tasks_.size(); ++id) {
    const auto& rec = tasks_[id];
    if (!rec.live)
      continue;
    out.name = rec.name;
    out.file_id = rec.file_id;
    out.events = rec.events;
    out.bytes = rec.bytes;
    out.wide.clear();
    copy.clear();
    for (size_t at = 0; at < rec.pairs.size(); at += record_size(&rec.pairs[at])) {
      const uint8_t* const r = &rec.pairs[at];
      const type_id type = type_of_record(r);
      if (is_wide(r))
        out.wide.emplace_back(place[type], wide_.at(wide_key(id, type)));
      if (renumbered) {
        // length, type word, rest: the type word's varint may change its size, so the length too.
        const uint8_t* p = r;
        const uint64_t length = get_varint(p);
        const uint8_t* const body = p;
        const uint64_t word = get_varint(p);
        const auto rest = static_cast<size_t>(length - static_cast<uint64_t>(p - body));
        uint8_t word_bytes[10];
        const auto word_size = static_cast<size_t>(
          put_varint(word_bytes, uint64_t{place[type]} << 1 | (word & 1)) - word_bytes);
        uint8_t length_bytes[10];
        copy.insert(copy.end(), length_bytes, put_varint(length_bytes, word_size + rest));
        copy.insert(copy.end(), word_bytes, word_bytes + word_size);
        copy.insert(copy.end(), p, p + rest);
      }
    }
    out.records = renumbered
                    ? std::string_view{reinterpret_cast<const char*>(copy.data()), copy.size()}
                    : std::string_view{reinterpret_cast<const char*>(rec.pairs.data()), rec.pairs.size()};
    fn(out);
  }
}

bool type_index::adopt_types(const std::vector<std::string>& names) {
  if (!types_.empty() || !tasks_.empty())
    return false;
  for (const auto& name : names) {
    if (by_name_.count(name) > 0) {
      by_name_.clear();
      types_.clear();
      return false;
    }
    type_of(name);
  }
  return true;
}

bool type_index::adopt(const stored_task& task) {
  if (live_task(task.name) != nullptr)
    return false;
  // Checked first, whole: nothing of a task whose records do not parse may be kept.
  const auto* const begin = reinterpret_cast<const uint8_t*>(task.records.data());
  const auto* const end = begin + task.records.size();
  struct parsed {
    type_id type;
    timestamp newest;
    const type_summary* wide;
  };
  std::vector<parsed> pairs;
  size_t wide_used = 0;
  for (const uint8_t* p = begin; p != end;) {
    checked_cursor in{p, end};
    const uint64_t length = in.varint();
    if (!in.ok() || length > static_cast<uint64_t>(end - in.at()))
      return false;
    const uint8_t* const record_end = in.at() + length;
    checked_cursor body{in.at(), record_end};
    const uint64_t type_word = body.varint();
    const uint64_t type = type_word >> 1;
    if (!body.ok() || type >= types_.size() || (!pairs.empty() && type <= pairs.back().type))
      return false;
    parsed pair{static_cast<type_id>(type), timestamp::min(), nullptr};
    if (type_word & 1) {
      for (const auto& [wide_type, summary] : task.wide)
        if (wide_type == type)
          pair.wide = &summary;
      if (pair.wide == nullptr)
        return false;
      ++wide_used;
      pair.newest = pair.wide->newest_ts;
    } else {
      const uint64_t count = body.varint();
      if (count == 0)
        return false; // encode() never writes an empty pair
      const uint64_t held = std::min<uint64_t>(count, sketch_size_);
      uint64_t seconds = 0, position = 0, offset = 0, first_seconds = 0, first_position = 0;
      for (uint64_t i = 0; i < held && body.ok(); ++i) {
        seconds = body.delta(seconds);
        const uint32_t nanos = body.nanos();
        position = body.delta(position);
        offset = body.delta(offset);
        if (i == 0) {
          first_seconds = seconds;
          first_position = position;
        }
        pair.newest = std::max(pair.newest, ts_of(seconds, nanos));
      }
      if (count > held) {
        const uint64_t older_seconds = body.delta(first_seconds);
        const uint32_t nanos = body.nanos();
        body.delta(first_position);
        pair.newest = std::max(pair.newest, ts_of(older_seconds, nanos));
      }
    }
    if (!body.ok() || body.at() != record_end)
      return false;
    pairs.push_back(pair);
    p = record_end;
  }
  if (wide_used != task.wide.size())
    return false; // a summary no record points to (or one type's twice)
  const task_id id = intern(std::string{task.name});
  auto& rec = tasks_[id];
  rec.file_id = task.file_id;
  rec.events = task.events;
  rec.bytes = task.bytes;
  rec.pairs.assign(begin, end);
  for (const auto& pair : pairs) {
    if (pair.wide != nullptr)
      assign_without_type(wide_[wide_key(id, pair.type)], *pair.wide);
    order_insert(pair.type, order_entry::of(pair.newest, id));
    ++entries_;
  }
  return true;
}

void type_index::for_each_task(const std::function<void(const task_summary&)>& fn) const {
  task_summary out;
  for (task_id id = 0; id < tasks_.size(); ++id) {
    const auto& rec = tasks_[id];
    if (!rec.live)
      continue;
    out.task = rec.name;
    out.file_id = rec.file_id;
    out.events = rec.events;
    out.bytes = rec.bytes;
    out.types.clear();
    for (size_t at = 0; at < rec.pairs.size(); at += record_size(&rec.pairs[at])) {
      out.types.emplace_back();
      read_record(id, &rec.pairs[at], &out.types.back());
      out.types.back().type = *types_[type_of_record(&rec.pairs[at])].name;
    }
    fn(out);
  }
}

void type_index::for_each_file(
  const std::function<void(const std::string&, const file_extent&)>& fn) const {
  for (const auto& rec : tasks_)
    if (rec.live)
      fn(rec.name, file_extent{rec.file_id, rec.bytes, rec.events});
}

// --- planning ----------------------------------------------------------------------------------

query_plan type_index::plan(const plan_request& req) const {
  query_plan out;
  if (req.limit == 0)
    return out;
  const uint64_t limit = req.limit;
  const timestamp since = req.since ? *req.since : timestamp::min();
  const auto since_entry = order_entry::of(since, 0);

  // Each matching type's order is walked from its newest pair, and the type whose next pair is
  // newest goes next (a k-way merge): pairs are visited newest first across the types.
  struct cursor {
    type_id type;
    size_t chunk;
    size_t at;
    order_entry entry;
  };
  auto lower_next = [](const cursor& x, const cursor& y) { return x.entry < y.entry; };
  std::priority_queue<cursor, std::vector<cursor>, decltype(lower_next)> next(lower_next);
  for (auto it = by_name_.lower_bound(req.prefix);
       it != by_name_.end() && query_selects(req.prefix, req.exact_type, it->first); ++it) {
    const auto& chunks = types_[it->second].order.chunks();
    if (!chunks.empty() && !chunks.back().back().older_than(since_entry))
      next.push(cursor{it->second, chunks.size() - 1, chunks.back().size() - 1,
                       chunks.back().back()});
  }

  // The pairs visited whose newest event is not before `since`, with their references in `refs`.
  struct visited {
    task_id task;
    timestamp newest;
    bool has_older;
    timestamp older_max_ts;
    uint64_t older_max_position;
    size_t first_ref;
    size_t refs;
  };
  std::vector<visited> pairs;
  std::vector<line_ref> refs;
  // The `limit` highest newest_ts among them, the lowest on top.
  std::priority_queue<timestamp, std::vector<timestamp>, std::greater<>> newest;
  type_summary s;
  while (!next.empty()) {
    cursor c = next.top();
    next.pop();
    // No pair not visited yet is newer than c's. Once `limit` pairs are visited, a pair older than
    // the limit-th newest of their newest events cannot pass the first cut below.
    if (newest.size() >= limit && c.entry.older_than(order_entry::of(newest.top(), 0)))
      break;
    if (load(c.entry.task, c.type, s) && s.newest_ts >= since) {
      pairs.push_back(visited{c.entry.task, s.newest_ts, s.has_older, s.older_max_ts,
                              s.older_max_position, refs.size(), s.recent.size()});
      refs.insert(refs.end(), s.recent.begin(), s.recent.end());
      newest.push(s.newest_ts);
      if (newest.size() > limit)
        newest.pop();
    }
    const auto& chunks = types_[c.type].order.chunks();
    if (c.at > 0) {
      --c.at;
    } else if (c.chunk > 0) {
      --c.chunk;
      c.at = chunks[c.chunk].size() - 1;
    } else {
      continue;
    }
    c.entry = chunks[c.chunk][c.at];
    if (!c.entry.older_than(since_entry))
      next.push(c);
  }

  // First cut: each of `limit` pairs holds an event at least as new as the limit-th newest of their
  // newest events, so no answer event is older than that.
  timestamp floor = since;
  if (newest.size() >= limit)
    floor = std::max(floor, newest.top());
  // Second cut: the limit-th best recent line known bounds the answer from below.
  struct candidate {
    timestamp ts;
    const std::string* task;
    uint64_t position;
  };
  std::vector<candidate> cands;
  for (const auto& p : pairs)
    for (size_t i = p.first_ref; i < p.first_ref + p.refs; ++i)
      if (p.newest >= floor && refs[i].ts >= floor)
        cands.push_back(candidate{refs[i].ts, &tasks_[p.task].name, refs[i].position});
  if (cands.size() >= limit) {
    auto kth = cands.begin() + static_cast<std::ptrdiff_t>(limit - 1);
    std::nth_element(cands.begin(), kth, cands.end(), [](const candidate& x, const candidate& y) {
      return std::tie(x.ts, *x.task, x.position) > std::tie(y.ts, *y.task, y.position);
    });
    out.bound = rank_key{kth->ts, *kth->task, kth->position};
  } else if (floor != timestamp::min()) {
    out.bound = rank_key{floor, std::string{}, 0};
  }

  std::unordered_map<task_id, size_t> fetch_of_task;
  auto fetch_for = [&](task_id id) -> task_fetch& {
    auto [it, added] = fetch_of_task.try_emplace(id, out.fetches.size());
    if (added) {
      out.fetches.emplace_back();
      out.fetches.back().task = tasks_[id].name;
      out.fetches.back().file_id = tasks_[id].file_id;
    }
    return out.fetches[it->second];
  };
  for (const auto& p : pairs) {
    const std::string& task = tasks_[p.task].name;
    if (p.newest < floor || (out.bound && p.newest < out.bound->ts))
      continue; // its newest event ranks below the bound: never asked
    const bool complete
      = !p.has_older
        || (out.bound && ranks_below(p.older_max_ts, task, p.older_max_position, *out.bound));
    if (!complete) {
      fetch_for(p.task).scan = true;
      continue;
    }
    for (size_t i = p.first_ref; i < p.first_ref + p.refs; ++i)
      if (!out.bound || !ranks_below(refs[i].ts, task, refs[i].position, *out.bound))
        fetch_for(p.task).lines.push_back(refs[i]);
  }
  out.fetches.erase(std::remove_if(out.fetches.begin(), out.fetches.end(),
                                   [](const task_fetch& f) { return !f.scan && f.lines.empty(); }),
                    out.fetches.end());
  for (auto& f : out.fetches) {
    if (f.scan)
      f.lines.clear(); // the writer scans the whole file anyway
    else
      std::sort(f.lines.begin(), f.lines.end(),
                [](const line_ref& x, const line_ref& y) { return x.offset < y.offset; });
  }
  return out;
}

// --- stats -------------------------------------------------------------------------------------

index_stats type_index::stats() const {
  index_stats st;
  st.tasks = live_tasks_;
  st.entries = entries_;
  uint64_t bytes = sizeof(*this);
  for (const auto& [name, id] : by_name_) // a red-black tree node each: 32 bytes of links
    bytes += heap_block(32 + sizeof(std::string) + sizeof(type_id)) + string_bytes(name);
  bytes += vector_bytes(types_);
  for (const auto& t : types_) {
    st.types += t.order.size() > 0 ? 1 : 0;
    bytes += t.order.heap_bytes();
  }
  bytes += vector_bytes(tasks_) + vector_bytes(task_slots_);
  for (const auto& rec : tasks_) {
    st.events += rec.events;
    bytes += string_bytes(rec.name) + vector_bytes(rec.pairs);
  }
  // wide_: a node each (next pointer, key, summary) and the bucket array.
  bytes += wide_.bucket_count() * sizeof(void*);
  for (const auto& [key, s] : wide_)
    bytes += heap_block(sizeof(void*) + sizeof(std::pair<const uint64_t, type_summary>))
             + vector_bytes(s.recent) + string_bytes(s.type);
  bytes += vector_bytes(scratch_.recent) + string_bytes(scratch_.type)
           + vector_bytes(scratch_record_) + vector_bytes(scratch_body_);
  st.bytes = bytes;
  return st;
}

} // namespace evstore
