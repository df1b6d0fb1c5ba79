#include "index_checkpoint.hpp"

#include <algorithm>
#include <cstring>

#include <zlib.h>

#include "checked_varint.hpp"
#include "messages/errc.hpp"

namespace evstore {

namespace {

constexpr char magic[8] = {'E', 'V', 'S', 'T', 'C', 'K', 'P', 'T'};
constexpr size_t header_size = 40;

// Little-endian fixed-width and LEB128 variable-length integers: summaries are mostly small numbers
// (counts, positions, seconds relative to the newest line), so a checkpoint is a fraction of what
// fixed widths would take, and reading it back is a pass over bytes, not a parse.
void put_fixed(std::string& out, uint64_t v, size_t width) {
  for (size_t i = 0; i < width; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

void put_string(std::string& out, const std::string& s) {
  put_varint(out, s.size());
  out += s;
}

// A line's seconds relative to its summary's newest: wraps harmlessly (unsigned), and comes back
// exactly.
void put_timestamp(std::string& out, timestamp ts, timestamp base) {
  put_varint(out, zigzag(static_cast<int64_t>(static_cast<uint64_t>(ts.seconds_since_epoch())
                                              - static_cast<uint64_t>(base.seconds_since_epoch()))));
  put_varint(out, ts.nanoseconds());
}

// CRC-32 (ISO-HDLC, as zlib and gzip compute it) through zlib, whose word-at-a-time code checks a
// 75 MB checkpoint several times faster than a byte-wise table (12% of a reopen's CPU before).
// zlib takes a 32-bit length: longer payloads go in slices.
uint32_t crc32_of(std::string_view bytes) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  const char* p = bytes.data();
  for (size_t left = bytes.size(); left > 0;) {
    const auto n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(p), n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(crc);
}

// Reads what put_* wrote; any read past the end or out of range makes the reader fail, and the
// checkpoint is then refused whole.
class reader {
public:
  explicit reader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {
  }

  bool ok() const {
    return ok_;
  }
  bool at_end() const {
    return p_ == end_;
  }

  uint64_t fixed(size_t width) {
    if (static_cast<size_t>(end_ - p_) < width)
      return fail();
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(p_[i])) << (8 * i);
    p_ += width;
    return v;
  }

  uint64_t varint() {
    uint64_t v = 0;
    return read_checked_varint(p_, end_, v) ? v : fail();
  }

  /// A count of items that each take at least one byte: anything larger than what is left is
  /// damage, and must not become a huge allocation.
  uint64_t count() {
    uint64_t n = varint();
    return n <= static_cast<uint64_t>(end_ - p_) ? n : fail();
  }

  std::string string() {
    return std::string{view()};
  }

  /// A length, then that many bytes: a view into the checkpoint's own bytes.
  std::string_view view() {
    uint64_t n = count();
    if (!ok_)
      return {};
    std::string_view s{p_, static_cast<size_t>(n)};
    p_ += n;
    return s;
  }

  timestamp ts(timestamp base) {
    auto delta = unzigzag(varint());
    auto nanos = varint();
    if (nanos >= 1'000'000'000u)
      fail();
    auto secs = static_cast<int64_t>(static_cast<uint64_t>(base.seconds_since_epoch())
                                     + static_cast<uint64_t>(delta));
    return timestamp::from_parts(secs, static_cast<int64_t>(nanos));
  }

private:
  uint64_t fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }

  const char* p_;
  const char* end_;
  bool ok_ = true;
};

caf::error damaged(const std::string& why) {
  return make_error(errc::io_error, "index checkpoint is damaged: " + why);
}

} // namespace

namespace {

void put_summary(std::string& out, const type_summary& s) {
  put_varint(out, s.count);
  put_varint(out, zigzag(s.newest_ts.seconds_since_epoch()));
  put_varint(out, s.newest_ts.nanoseconds());
  put_varint(out, s.recent.size());
  for (const auto& ref : s.recent) {
    put_timestamp(out, ref.ts, s.newest_ts);
    put_varint(out, ref.position);
    put_varint(out, ref.offset);
  }
  out.push_back(s.has_older ? 1 : 0);
  if (s.has_older) {
    put_timestamp(out, s.older_max_ts, s.newest_ts);
    put_varint(out, s.older_max_position);
  }
}

bool get_summary(reader& in, type_summary& s) {
  s.recent.clear();
  s.count = in.varint();
  auto secs = unzigzag(in.varint());
  auto nanos = in.varint();
  if (nanos >= 1'000'000'000u)
    return false;
  s.newest_ts = timestamp::from_parts(secs, static_cast<int64_t>(nanos));
  for (uint64_t refs = in.count(); refs > 0 && in.ok(); --refs) {
    auto& ref = s.recent.emplace_back();
    ref.ts = in.ts(s.newest_ts);
    ref.position = in.varint();
    ref.offset = in.varint();
  }
  s.has_older = in.fixed(1) != 0;
  s.older_max_ts = s.has_older ? in.ts(s.newest_ts) : timestamp{};
  s.older_max_position = s.has_older ? in.varint() : 0;
  return in.ok();
}

} // namespace

std::string encode_checkpoint(const type_index& index, const checkpoint_scope& scope,
                              const std::function<bool(std::string_view task)>& keep) {
  std::string payload;
  const auto types = index.type_names();
  put_varint(payload, types.size());
  for (const auto& type : types)
    put_string(payload, type);
  std::string tasks;
  uint64_t task_count = 0;
  index.for_each_stored_task([&](const type_index::stored_task& task) {
    if (keep && !keep(task.name))
      return;
    put_varint(tasks, task.name.size());
    tasks += task.name;
    put_varint(tasks, task.file_id);
    put_varint(tasks, task.events);
    put_varint(tasks, task.bytes);
    put_varint(tasks, task.records.size());
    tasks += task.records;
    put_varint(tasks, task.wide.size());
    for (const auto& [type, summary] : task.wide) {
      put_varint(tasks, type);
      put_summary(tasks, summary);
    }
    ++task_count;
  });
  put_varint(payload, task_count);
  payload += tasks;
  std::string out;
  out.reserve(header_size + payload.size());
  out.append(magic, sizeof(magic));
  put_fixed(out, checkpoint_format_version, 4);
  put_fixed(out, index.sketch_size(), 4); // what the records were shaped by
  put_fixed(out, scope.root_device, 8);
  put_fixed(out, payload.size(), 8);
  put_fixed(out, crc32_of(payload), 4);
  put_fixed(out, 0, 4); // reserved
  out += payload;
  return out;
}

caf::error decode_checkpoint(
  std::string_view bytes, const checkpoint_scope& scope, type_index& into,
  const std::function<caf::error(std::string_view task, const file_extent& file)>& on_task) {
  if (bytes.size() < header_size || std::memcmp(bytes.data(), magic, sizeof(magic)) != 0)
    return damaged("not a checkpoint (no header)");
  reader head{bytes.substr(sizeof(magic), header_size - sizeof(magic))};
  auto version = head.fixed(4);
  auto sketch_size = head.fixed(4);
  auto device = head.fixed(8);
  auto length = head.fixed(8);
  auto crc = head.fixed(4);
  if (version != checkpoint_format_version)
    return make_error(errc::unsupported_format,
                      "index checkpoint has format " + std::to_string(version) + ", not "
                        + std::to_string(checkpoint_format_version));
  if (sketch_size != scope.sketch_size || device != scope.root_device)
    return make_error(errc::unsupported_format,
                      "index checkpoint was made for another sketch size or file system");
  auto payload = bytes.substr(header_size);
  if (payload.size() != length)
    return damaged("payload is " + std::to_string(payload.size()) + " bytes, the header says "
                   + std::to_string(length));
  if (crc32_of(payload) != crc)
    return damaged("checksum mismatch");
  // Items are added as they parse, never allocated ahead from a count: a count is bounded only by
  // the bytes left, and a damaged or hostile one must not turn into gigabytes of empty summaries.
  reader in{payload};
  std::vector<std::string> types;
  for (uint64_t n = in.count(); n > 0 && in.ok(); --n)
    types.push_back(in.string());
  if (!in.ok())
    return damaged("payload does not parse");
  if (into.sketch_size() != scope.sketch_size || !into.empty())
    return make_error(errc::invalid_argument,
                      "a checkpoint loads into an empty index of its own sketch size");
  if (!into.adopt_types(types))
    return damaged("a type is named twice");
  auto tasks = in.count();
  type_index::stored_task task;
  for (uint64_t i = 0; i < tasks && in.ok(); ++i) {
    task.name = in.view();
    task.file_id = in.varint();
    task.events = in.varint();
    task.bytes = in.varint();
    task.records = in.view();
    // The summaries of the task before are overwritten in place: they keep their memory.
    size_t used = 0;
    for (uint64_t n = in.count(); n > 0 && in.ok(); --n) {
      auto& [type, summary] = used < task.wide.size() ? task.wide[used] : task.wide.emplace_back();
      ++used;
      const uint64_t named = in.varint();
      if (named >= types.size())
        return damaged("a summary names an unknown type");
      type = static_cast<uint32_t>(named);
      if (!get_summary(in, summary))
        return damaged("a summary does not parse");
    }
    task.wide.resize(used);
    if (!in.ok())
      break;
    if (auto err = on_task(task.name, file_extent{task.file_id, task.bytes, task.events}))
      return err;
    if (into.knows(task.name))
      return damaged("task '" + std::string{task.name} + "' is named twice");
    if (!into.adopt(task))
      return damaged("the pair records of task '" + std::string{task.name} + "' do not parse");
  }
  if (!in.ok() || !in.at_end())
    return damaged("payload does not parse");
  return caf::none;
}

caf::error decode_checkpoint(std::string_view bytes, const checkpoint_scope& scope,
                             const std::function<void(task_summary&)>& on_task) {
  if (scope.sketch_size == 0) // no index holds summaries of no lines, so no checkpoint is of them
    return make_error(errc::unsupported_format, "index checkpoint of sketch size 0");
  type_index index{scope.sketch_size};
  index.begin_bulk();
  if (auto err = decode_checkpoint(bytes, scope, index,
                                   [](std::string_view, const file_extent&) { return caf::error{}; }))
    return err;
  index.end_bulk();
  index.for_each_task([&](const task_summary& task) {
    task_summary copy = task;
    on_task(copy);
  });
  return caf::none;
}

} // namespace evstore
