// Errors users can read: every failed check throws mb::Error whose message names the op,
// the argument, and the expected and actual values.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mb {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Shape = std::vector<int64_t>;

std::string to_string(const Shape& s);  // "[2, 3]"

template <class... A> std::string cat(const A&... a) {
  std::ostringstream os;
  (os << ... << a);
  return os.str();
}

// A byte count for people: "512 B", "3.2 MiB", "16.0 TiB".
std::string bytes_text(double n);
// Any other count for people, in thousands: "532.16 K", "2.76 GFLOP" (unit "FLOP").
std::string count_text(double n, const char* unit = "");
// Throws "<what> needs 1.2 TiB; this machine has 23.4 GiB of memory" when `bytes` is more than
// the machine's physical memory: a clear refusal before an allocation fails or the kernel kills.
void check_memory(double bytes, const std::string& what);

}  // namespace mb

// MB_CHECK(cond, "op: message ", value, ...) throws mb::Error with the concatenated message.
#define MB_CHECK(cond, ...)                                   \
  do {                                                        \
    if (!(cond)) throw ::mb::Error(::mb::cat(__VA_ARGS__));   \
  } while (0)
