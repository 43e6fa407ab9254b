// Field rules and the text form of field values (see fields.h).
#include "megabyte/fields.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace mb {

bool Rule::holds_number(double v) const {
  if (!std::isfinite(v)) return false;
  return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
}

bool Rule::holds_word(const std::string& v) const {
  if (words.empty()) return true;
  for (const std::string& w : words)
    if (v == w) return true;
  return false;
}

std::string Rule::text() const {
  if (!words.empty()) {
    std::string s = words.size() > 2 ? "one of " : "";
    for (size_t i = 0; i < words.size(); ++i) s += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
    return s;
  }
  if (std::isinf(hi)) return cat(lo_open ? "> " : ">= ", field_text(lo));
  return cat("in ", lo_open ? "(" : "[", field_text(lo), ", ", field_text(hi), hi_open ? ")" : "]");
}

std::string field_text(const std::string& v) { return v; }
std::string field_text(double v) {
  char b[32];
  for (int digits = 15; digits <= 17; ++digits) {  // the shortest that reads back as v
    std::snprintf(b, sizeof b, "%.*g", digits, v);
    if (std::strtod(b, nullptr) == v) break;
  }
  return b;
}
std::string field_text(int64_t v) { return std::to_string(v); }
std::string field_text(uint64_t v) { return std::to_string(v); }
std::string field_text(int v) { return std::to_string(v); }
std::string field_text(bool v) { return v ? "1" : "0"; }

namespace {
[[noreturn]] void refuse(const std::string& what, const std::string& text, const char* kind) {
  throw Error(cat(what, " = '", text, "' is not ", kind));
}
}  // namespace

void parse_field(const std::string&, const std::string& text, std::string& v) { v = text; }

void parse_field(const std::string& what, const std::string& text, double& v) {
  char* end = nullptr;
  v = std::strtod(text.c_str(), &end);
  if (text.empty() || !end || *end != '\0') refuse(what, text, "a number");
}

void parse_field(const std::string& what, const std::string& text, int64_t& v) {
  double d = 0;
  char* end = nullptr;
  d = std::strtod(text.c_str(), &end);
  // |d| < 2^63 before the cast (a larger one would not fit), and a whole number
  if (text.empty() || !end || *end != '\0' || !(std::abs(d) < 9.2233720368547758e18) || d != std::floor(d))
    refuse(what, text, "an integer");
  v = int64_t(d);
}

void parse_field(const std::string& what, const std::string& text, uint64_t& v) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long u = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || !end || *end != '\0' || errno == ERANGE)
    refuse(what, text, "an integer in [0, 2^64)");
  v = u;
}

void parse_field(const std::string& what, const std::string& text, int& v) {
  int64_t w = 0;
  parse_field(what, text, w);
  if (w < std::numeric_limits<int>::min() || w > std::numeric_limits<int>::max()) refuse(what, text, "a 32-bit integer");
  v = int(w);
}

void parse_field(const std::string& what, const std::string& text, bool& v) {
  if (text == "1" || text == "true") v = true;
  else if (text == "0" || text == "false") v = false;
  else refuse(what, text, "1 or 0");
}


std::string flag_of(const std::string& key) {
  std::string f = key;
  for (char& ch : f)
    if (ch == '_') ch = '-';
  return f;
}

}  // namespace mb
