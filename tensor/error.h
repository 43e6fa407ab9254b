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

}  // namespace mb

// MB_CHECK(cond, "op: message ", value, ...) throws mb::Error with the concatenated message.
#define MB_CHECK(cond, ...)                                   \
  do {                                                        \
    if (!(cond)) throw ::mb::Error(::mb::cat(__VA_ARGS__));   \
  } while (0)
