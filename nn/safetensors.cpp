#include "nn/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace mb::nn {

namespace {

constexpr uint64_t kMaxHeader = uint64_t(100) << 20;  // as the reference implementation
constexpr const char* kChecksumKey = "mb.checksum";

// FNV-1a over the header (without the checksum itself, in its canonical sorted dump) and the
// data: a flipped bit anywhere in a file we wrote is caught. Files from other writers carry
// no checksum and are checked structurally only.
std::string checksum(const nlohmann::json& header_without_sum, const char* data, size_t n) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const char* p, size_t len) {
    for (size_t i = 0; i < len; ++i) h = (h ^ uint8_t(p[i])) * 1099511628211ull;
  };
  const std::string hd = header_without_sum.dump();
  mix(hd.data(), hd.size());
  mix(data, n);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

const char* st_name(DType d) {
  switch (d) {
    case DType::F64: return "F64";
    case DType::F32: return "F32";
    case DType::BF16: return "BF16";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::U8: return "U8";
  }
  return "?";
}

bool st_dtype(const std::string& s, DType& d) {
  for (DType c : {DType::F64, DType::F32, DType::BF16, DType::I64, DType::I32, DType::U8})
    if (s == st_name(c)) {
      d = c;
      return true;
    }
  return false;
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

// The header's entries, each checked against the data section of `data_len` bytes.
std::vector<Entry> parse_header(const nlohmann::json& h, uint64_t data_len, const std::string& file,
                                std::map<std::string, std::string>& meta) {
  auto fail = [&](const std::string& what) { return Error(file + ": " + what); };
  if (!h.is_object()) throw fail("the header is not a JSON object");
  std::vector<Entry> out;
  for (auto it = h.begin(); it != h.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& e = it.value();
    if (name == "__metadata__") {
      if (!e.is_object()) throw fail("__metadata__ is not an object");
      for (auto m = e.begin(); m != e.end(); ++m) {
        if (!m.value().is_string()) throw fail("__metadata__ value of '" + m.key() + "' is not a string");
        meta[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      throw fail("tensor '" + name + "' needs dtype, shape and data_offsets");
    Entry t{name, DType::F32, {}, 0, 0};
    if (!e["dtype"].is_string() || !st_dtype(e["dtype"].get<std::string>(), t.dtype))
      throw fail("tensor '" + name + "' has unsupported dtype " + e["dtype"].dump() +
                 " (supported: F64, F32, BF16, I64, I32, U8)");
    if (!e["shape"].is_array()) throw fail("tensor '" + name + "' has a shape that is not an array");
    for (const auto& d : e["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t(INT64_MAX))
        throw fail("tensor '" + name + "' has a bad dimension " + d.dump());
      t.shape.push_back(int64_t(d.get<uint64_t>()));
    }
    const auto& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw fail("tensor '" + name + "' has data_offsets that are not two non-negative integers");
    t.begin = off[0].get<uint64_t>();
    t.end = off[1].get<uint64_t>();
    if (t.begin > t.end || t.end > data_len)
      throw fail(cat("tensor '", name, "' has data_offsets [", t.begin, ", ", t.end,
                     "] outside the ", data_len, " bytes of data (truncated file?)"));
    // the element count times the element size must equal the bytes the offsets give, without
    // wrapping: a shape of 2^62 elements of 4 bytes must not pass as 0 bytes
    const uint64_t size = dtype_size(t.dtype), bytes = t.end - t.begin;
    uint64_t need = std::count(t.shape.begin(), t.shape.end(), 0) ? 0 : size;
    bool wraps = false;
    for (int64_t v : t.shape) wraps = wraps || __builtin_mul_overflow(need, uint64_t(v), &need);
    if (wraps) throw fail(cat("tensor '", name, "': ", st_name(t.dtype), " ", e["shape"].dump(), " is more than 2^64 bytes"));
    if (bytes != need)
      throw fail(cat("tensor '", name, "': ", st_name(t.dtype), " ", to_string(t.shape), " needs ", need,
                     " bytes but data_offsets give ", bytes));
    out.push_back(t);
  }
  // non-overlapping: in order of begin, each non-empty tensor starts at or after every earlier end
  std::vector<const Entry*> by_begin;
  for (const Entry& t : out) by_begin.push_back(&t);
  std::sort(by_begin.begin(), by_begin.end(), [](auto a, auto b) { return a->begin < b->begin; });
  const Entry* furthest = nullptr;
  for (const Entry* t : by_begin) {
    if (t->end == t->begin) continue;
    if (furthest && t->begin < furthest->end)
      throw fail("tensors '" + furthest->name + "' and '" + t->name + "' overlap in the data");
    if (!furthest || t->end > furthest->end) furthest = t;
  }
  return out;
}

}  // namespace

std::string read_file(const std::string& path, uint64_t limit) {
  std::ifstream f(path, std::ios::binary);
  MB_CHECK(f.good(), path, ": cannot open (", std::strerror(errno), ")");
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(path, ec);
  std::string out;
  if (regular) {
    const uint64_t size = std::filesystem::file_size(path, ec);
    MB_CHECK(!ec, path, ": cannot read its size (", ec.message(), ")");
    check_memory(double(size), path);
    out.resize(size_t(size));
    f.read(out.data(), std::streamsize(size));
    MB_CHECK(uint64_t(f.gcount()) == size, path, ": read error (the file shrank while being read?)");
    return out;
  }
  char buf[1 << 16];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    MB_CHECK(out.size() + uint64_t(f.gcount()) <= limit, path, ": not a regular file, and longer than ",
             bytes_text(double(limit)));
    out.append(buf, size_t(f.gcount()));
  }
  MB_CHECK(!f.bad(), path, ": read error");
  return out;
}

namespace {
// MB_FAULT=write:N: the N-th file this process writes fails as a full disk would (ENOSPC), so
// that tests reach every writer's error path deterministically.
int64_t fault_nth() {  // 0: no fault asked for; throws on a malformed MB_FAULT
  static const int64_t nth = [] {
    const char* v = std::getenv("MB_FAULT");
    if (!v || !*v) return int64_t(0);
    const std::string s = v;
    char* end = nullptr;
    const long long n = s.rfind("write:", 0) == 0 ? std::strtoll(s.c_str() + 6, &end, 10) : 0;
    MB_CHECK(n >= 1 && end && *end == '\0', "MB_FAULT must be write:N (N >= 1: the N-th file written fails), got '",
             s, "'");
    return int64_t(n);
  }();
  return nth;
}
bool injected_write_fault() {
  static std::atomic<int64_t> written{0};
  return fault_nth() > 0 && ++written == fault_nth();
}

// Writes all of bytes to fd; 0, or the errno of the write that failed (or of fsync, when asked)
int write_all(int fd, const std::string& bytes, bool sync) {
  if (injected_write_fault()) return ENOSPC;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    done += size_t(n);
  }
  return sync && ::fsync(fd) != 0 ? errno : 0;
}

// A path that exists and is not a regular file (/dev/stdout, a pipe, /dev/full): written in
// place, as a stream (a temporary file renamed over a device would replace the device).
void write_stream(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  MB_CHECK(fd >= 0, path, ": cannot open for writing (", std::strerror(errno), ")");
  int err = write_all(fd, bytes, false);
  if (::close(fd) != 0 && err == 0) err = errno;
  MB_CHECK(err == 0, path, ": write failed (", std::strerror(err), ")");
}
}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes) {
  (void)fault_nth();  // a malformed MB_FAULT is an error before any file is opened
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    MB_CHECK(!S_ISDIR(st.st_mode), path, ": is a folder; give a file name");
    return write_stream(path, bytes);
  }
  // a name of this process's own (two writers never share a temporary file), the bytes on disk
  // (fsync) before the rename, and the rename on disk (fsync of the folder) before returning:
  // after a crash or a power loss the path holds the old file or the new one, whole
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = cat(path, ".tmp.", getpid(), ".", counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  MB_CHECK(fd >= 0, tmp, ": cannot open for writing (", std::strerror(errno), ")");
  int err = write_all(fd, bytes, true);
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    std::remove(tmp.c_str());
    throw Error(cat(path, ": write failed (", std::strerror(err), "); nothing written under its name"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    std::remove(tmp.c_str());
    throw Error(path + ": cannot rename the temporary file into place (" + err + ")");
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

namespace {
// The header length of a file of `size` bytes that starts with `first` (its first 8 bytes, or
// all of them when fewer), checked.
uint64_t header_length(const char* first, uint64_t size, const std::string& file) {
  MB_CHECK(size >= 8, file, ": ", size, " bytes is too short for a safetensors file (an 8-byte header length comes first)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(first[i]);
  MB_CHECK(n <= kMaxHeader, file, ": header length ", n, " is over the 100 MiB limit (not a safetensors file?)");
  MB_CHECK(n <= size - 8, file, ": header length ", n, " runs past the end of the ", size,
           "-byte file (truncated or corrupt)");
  return n;
}
}  // namespace

SafeTensors parse_safetensors(const std::string& bytes, const std::string& file, bool require_checksum) {
  const uint64_t n = header_length(bytes.data(), bytes.size(), file);
  // duplicate names: the JSON library would keep the last; reject them while parsing
  std::set<std::string> keys;
  std::string duplicate;
  const auto track = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    if (depth == 1 && ev == nlohmann::json::parse_event_t::key && !keys.insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(n), track);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file + ": the header is not valid JSON (" + e.what() + ")");
  }
  MB_CHECK(duplicate.empty(), file, ": tensor name '", duplicate, "' appears twice in the header");
  SafeTensors st;
  const uint64_t data_start = 8 + n, data_len = bytes.size() - data_start;
  const std::vector<Entry> entries = parse_header(header, data_len, file, st.metadata);
  auto sum = st.metadata.find(kChecksumKey);
  MB_CHECK(sum != st.metadata.end() || !require_checksum, file,
           ": no checksum in the metadata (not written by megabyte, or corrupt)");
  if (sum != st.metadata.end()) {
    nlohmann::json plain = header;
    plain["__metadata__"].erase(kChecksumKey);
    if (plain["__metadata__"].empty()) plain.erase("__metadata__");
    MB_CHECK(checksum(plain, bytes.data() + data_start, data_len) == sum->second, file,
             ": checksum mismatch: the file is corrupt (a changed byte in its header or data)");
    st.metadata.erase(sum);
  }
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    if (e.end > e.begin) std::memcpy(t.raw_data(), bytes.data() + data_start + e.begin, e.end - e.begin);
    st.tensors[e.name] = t;
  }
  return st;
}

SafeTensors load_safetensors(const std::string& path, bool require_checksum) {
  // the 8-byte header length is checked before the file is read: /dev/zero or a huge file
  // that is not safetensors is refused at once
  std::error_code ec;
  MB_CHECK(std::filesystem::exists(path, ec), path, ": no such file");
  MB_CHECK(std::filesystem::is_regular_file(path, ec), path, ": not a regular file");
  const uint64_t size = std::filesystem::file_size(path, ec);
  std::ifstream f(path, std::ios::binary);
  MB_CHECK(f.good() && !ec, path, ": cannot open (", std::strerror(errno), ")");
  char head[8] = {0};
  f.read(head, 8);
  (void)header_length(head, size, path);
  return parse_safetensors(read_file(path), path, require_checksum);
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& [name, t0] : tensors) {  // std::map: sorted by name, as the reference writes
    MB_CHECK(name != "__metadata__", path, ": '__metadata__' cannot be a tensor name");
    const Tensor t = contiguous(to(t0.detach(), Device::CPU));
    const size_t nb = size_t(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", st_name(t.dtype())}, {"shape", t.shape()},
                    {"data_offsets", {data.size(), data.size() + nb}}};
    data.append(static_cast<const char*>(t.raw_data()), nb);
  }
  const std::string sum = checksum(header, data.data(), data.size());
  header["__metadata__"][kChecksumKey] = sum;
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((uint64_t(h.size()) >> (8 * i)) & 0xff);
  write_file_atomic(path, out + h + data);
}

}  // namespace mb::nn
