// TensorBoard event files: TFRecord framing with masked CRC-32C, and the few protobuf messages
// we write, encoded by hand (the wire format: each field a varint key (number << 3 | wire type)
// then a varint (type 0), 8 bytes (type 1), a varint length and bytes (type 2) or 4 bytes (type 5)).
#include "megabyte/tfevents.h"

#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "nn/safetensors.h"
#include "tensor/error.h"

namespace mb::tfevents {

namespace fs = std::filesystem;

namespace {

constexpr std::array<uint32_t, 256> crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;  // reflected Castagnoli polynomial
    t[i] = c;
  }
  return t;
}

// little-endian bytes of an unsigned integer
template <class U> void put_le(std::string& s, U v) {
  for (size_t i = 0; i < sizeof(U); ++i) s += char((v >> (8 * i)) & 0xff);
}
template <class U> U get_le(const std::string& s, size_t at) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i) v |= U(uint8_t(s[at + i])) << (8 * i);
  return v;
}

// protobuf fields
void varint(std::string& s, uint64_t v) {
  for (; v >= 0x80; v >>= 7) s += char(v | 0x80);
  s += char(v);
}
void key(std::string& s, int field, int wire) { varint(s, uint64_t(field) << 3 | uint64_t(wire)); }
void int_field(std::string& s, int field, int64_t v) {
  key(s, field, 0);
  varint(s, uint64_t(v));
}
void double_field(std::string& s, int field, double v) {
  key(s, field, 1);
  uint64_t u;
  std::memcpy(&u, &v, 8);
  put_le(s, u);
}
void float_field(std::string& s, int field, float v) {
  key(s, field, 5);
  uint32_t u;
  std::memcpy(&u, &v, 4);
  put_le(s, u);
}
void bytes_field(std::string& s, int field, const std::string& v) {  // strings and messages
  key(s, field, 2);
  varint(s, v.size());
  s += v;
}

// Event { double wall_time = 1; int64 step = 2; oneof { string file_version = 3; Summary summary = 5; } }
std::string event(double wall_time, int64_t step) {
  std::string e;
  double_field(e, 1, wall_time);
  if (step != 0) int_field(e, 2, step);
  return e;
}

// Summary.Value { string tag = 1; float simple_value = 2; TensorProto tensor = 8; SummaryMetadata metadata = 9; }
std::string scalar_value(const std::string& tag, float v) {
  std::string s;
  bytes_field(s, 1, tag);
  float_field(s, 2, v);
  return s;
}

// The text plugin's value: a DT_STRING tensor of shape [1], tagged with plugin_name "text".
std::string text_value(const std::string& tag, const std::string& markdown) {
  std::string dim, shape, tensor, plugin, metadata, s;
  int_field(dim, 1, 1);           // TensorShapeProto.Dim { int64 size = 1; }
  bytes_field(shape, 2, dim);     // TensorShapeProto { repeated Dim dim = 2; }
  int_field(tensor, 1, 7);        // TensorProto { DataType dtype = 1 (DT_STRING = 7);
  bytes_field(tensor, 2, shape);  //   TensorShapeProto tensor_shape = 2;
  bytes_field(tensor, 8, markdown);  // repeated bytes string_val = 8; }
  bytes_field(plugin, 1, "text");    // PluginData { string plugin_name = 1; }
  bytes_field(metadata, 1, plugin);  // SummaryMetadata { PluginData plugin_data = 1; }
  bytes_field(s, 1, tag);
  bytes_field(s, 8, tensor);
  bytes_field(s, 9, metadata);
  return s;
}

// An Event carrying a Summary of the given values (each a serialised Summary.Value)
std::string summary_event(double wall_time, int64_t step, const std::vector<std::string>& values) {
  std::string summary, e = event(wall_time, step);
  for (const std::string& v : values) bytes_field(summary, 1, v);  // Summary { repeated Value value = 1; }
  bytes_field(e, 5, summary);
  return e;
}

// Calls f(field, wire, value, payload) for each field of a message: value is a varint's or a
// fixed field's value, payload a length-delimited field's bytes. Returns false where the
// message does not parse.
template <class F> bool for_each_field(const std::string& m, F f) {
  size_t at = 0;
  auto read_varint = [&](uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && at < m.size(); shift += 7) {
      const uint8_t b = uint8_t(m[at++]);
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  };
  while (at < m.size()) {
    uint64_t k, v = 0;
    if (!read_varint(k)) return false;
    std::string payload;
    switch (k & 7) {
      case 0: if (!read_varint(v)) return false; break;
      case 1: if (m.size() - at < 8) return false; v = get_le<uint64_t>(m, at); at += 8; break;
      case 5: if (m.size() - at < 4) return false; v = get_le<uint32_t>(m, at); at += 4; break;
      case 2:
        if (!read_varint(v) || v > m.size() - at) return false;
        payload = m.substr(at, size_t(v));
        at += size_t(v);
        break;
      default: return false;
    }
    f(int(k >> 3), int(k & 7), v, payload);
  }
  return true;
}

bool is_version_event(const std::string& e) {
  bool version = false;
  for_each_field(e, [&](int field, int, uint64_t, const std::string&) { version |= field == 3; });
  return version;
}

double now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// "events.out.tfevents.<seconds>.<host>.<pid>", as TensorFlow names them (the pid keeps two
// files of one second apart); the host name only of letters, digits, '-' and '_'
std::string file_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  for (char* c = host; *c; ++c)
    if (!std::isalnum(static_cast<unsigned char>(*c)) && *c != '-' && *c != '_') *c = '_';
  return "events.out.tfevents." + std::to_string(int64_t(now())) + "." + host + "." + std::to_string(getpid());
}

}  // namespace

uint32_t crc32c(const void* data, size_t n) {
  static constexpr std::array<uint32_t, 256> table = crc_table();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

uint32_t masked_crc32c(const void* data, size_t n) {
  const uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string version_event(double wall_time) {
  std::string e = event(wall_time, 0);
  bytes_field(e, 3, "brain.Event:2");
  return e;
}

std::string scalars_event(double wall_time, int64_t step, const std::vector<std::pair<std::string, float>>& scalars) {
  std::vector<std::string> values;
  for (const auto& [tag, v] : scalars) values.push_back(scalar_value(tag, v));
  return summary_event(wall_time, step, values);
}

std::string text_event(double wall_time, int64_t step, const std::string& tag, const std::string& markdown) {
  return summary_event(wall_time, step, {text_value(tag, markdown)});
}

std::string record(const std::string& event) {
  std::string r, len;
  put_le(len, uint64_t(event.size()));
  r = len;
  put_le(r, masked_crc32c(len.data(), 8));
  r += event;
  put_le(r, masked_crc32c(event.data(), event.size()));
  return r;
}

std::vector<std::string> read_records(const std::string& bytes) {
  std::vector<std::string> events;
  for (size_t at = 0; bytes.size() - at >= 12;) {
    const uint64_t n = get_le<uint64_t>(bytes, at);
    if (get_le<uint32_t>(bytes, at + 8) != masked_crc32c(bytes.data() + at, 8)) break;
    if (n > bytes.size() - at - 12 || bytes.size() - at - 12 - n < 4) break;  // torn: the record runs past the end
    std::string e = bytes.substr(at + 12, size_t(n));
    if (get_le<uint32_t>(bytes, at + 12 + size_t(n)) != masked_crc32c(e.data(), e.size())) break;
    events.push_back(std::move(e));
    at += 16 + size_t(n);
  }
  return events;
}

int64_t event_step(const std::string& event) {
  int64_t step = 0;
  for_each_field(event, [&](int field, int wire, uint64_t v, const std::string&) {
    if (field == 2 && wire == 0) step = int64_t(v);
  });
  return step;
}

RunEvents::RunEvents(const std::string& folder, int64_t resumed_step) {
  std::vector<fs::path> old;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(folder, ec))
    if (f.path().filename().string().rfind("events.out.tfevents.", 0) == 0 && f.is_regular_file()) old.push_back(f.path());
  MB_CHECK(!ec, folder, ": cannot list the run folder (", ec.message(), ")");
  // a resumed run: the events of steps <= resumed_step, from the file that has the most of them
  // (two files, where a run was stopped between writing the new one and removing the old)
  std::string kept;
  size_t most = 0;
  for (const fs::path& p : resumed_step >= 0 ? old : std::vector<fs::path>{}) {
    std::string these;
    size_t n = 0;
    for (const std::string& e : read_records(nn::read_file(p.string())))
      if (!is_version_event(e) && event_step(e) <= resumed_step) {
        these += record(e);
        ++n;
      }
    if (n > most) std::tie(kept, most) = std::pair(std::move(these), n);
  }
  path_ = folder + "/" + file_name();
  nn::write_file_atomic(path_, record(version_event(now())) + kept);
  for (const fs::path& p : old)
    if (p.string() != path_) fs::remove(p, ec);  // a file left behind is harmless: the next start drops it
  out_.open(path_, std::ios::binary | std::ios::app);
  MB_CHECK(out_.good(), path_, ": cannot open for writing");
}

void RunEvents::scalars(int64_t step, const std::vector<std::pair<std::string, float>>& values) {
  append(scalars_event(now(), step, values));
}

void RunEvents::text(int64_t step, const std::string& tag, const std::string& markdown) {
  append(text_event(now(), step, tag, markdown));
}

void RunEvents::append(const std::string& event) {
  out_ << record(event) << std::flush;
  MB_CHECK(out_.good(), path_, ": write failed (", std::strerror(errno), ")");
}

}  // namespace mb::tfevents
