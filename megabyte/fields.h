// Tables of named fields. The model config (megabyte/config.h) and the training options
// (megabyte/trainer.h) are each one X-macro list, X(type, member, "key", default, rule, "help"),
// that makes the struct's members, its validation, its metadata (checkpoints, fixtures, JSON
// configs) and its command-line flags (the key with '_' spelled '-'). This file is what the
// tables share: a value's text form and back, and the rule a value must obey.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/layers.h"

namespace mb {

// What a field's value must be: a range for numbers, a list of words, or anything the field's
// type can hold. Says itself in words for the error message.
struct Rule {
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;
  std::vector<std::string> words;  // the allowed values of a text field (empty: any)

  template <class T> bool holds(const T& v) const {
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) return holds_number(double(v));
    else if constexpr (std::is_same_v<T, std::string>) return holds_word(v);
    else return true;  // enums and lists: their parser already refused what is not one
  }
  std::string text() const;  // ">= 1", "in [0, 1)", "one of cpu, cuda"

 private:
  bool holds_number(double v) const;
  bool holds_word(const std::string& v) const;
};
inline Rule any() { return {}; }
inline Rule in(double lo, double hi, bool lo_open = false, bool hi_open = false) {  // [lo, hi]
  Rule r;
  r.lo = lo;
  r.hi = hi;
  r.lo_open = lo_open;
  r.hi_open = hi_open;
  return r;
}
inline Rule at_least(double lo) { return in(lo, std::numeric_limits<double>::infinity()); }
inline Rule in_below(double lo, double hi) { return in(lo, hi, false, true); }  // [lo, hi)
inline Rule positive() { return in(0, std::numeric_limits<double>::infinity(), true); }
inline Rule one_of(std::vector<std::string> words) {
  Rule r;
  r.words = std::move(words);
  return r;
}

// The text form of a value, as metadata, JSON configs and flags spell it; and back. A parse
// failure throws an mb::Error "<what> = '<text>' is not <an integer, a number, ...>".
std::string field_text(const std::string& v);
std::string field_text(double v);  // the shortest text that reads back exactly
std::string field_text(int64_t v);
std::string field_text(uint64_t v);
std::string field_text(int v);
std::string field_text(bool v);    // "1" or "0"
void parse_field(const std::string& what, const std::string& text, std::string& v);
void parse_field(const std::string& what, const std::string& text, double& v);
void parse_field(const std::string& what, const std::string& text, int64_t& v);  // "256", "2e3"
void parse_field(const std::string& what, const std::string& text, uint64_t& v);
void parse_field(const std::string& what, const std::string& text, int& v);
void parse_field(const std::string& what, const std::string& text, bool& v);  // 1/0/true/false
// a named enum (tensor/names.h): its name, and back ("what must be a or b, got 'c'")
template <class E, std::enable_if_t<is_named_enum_v<E>, int> = 0> std::string field_text(E v) { return name_of(v); }
template <class E, std::enable_if_t<is_named_enum_v<E>, int> = 0>
void parse_field(const std::string& what, const std::string& text, E& v) {
  v = from_name<E>(what, text);
}

// One field of a table, for the code that walks a table without knowing its struct (flags).
struct FieldInfo {
  const char* key;
  const char* group;  // the --help section of its flag
  const char* help;
  std::string default_text;
  bool is_bool;
};

// Throws "<name> must be <rule>, got <value>" unless the rule holds (text values quoted).
template <class T> void check_field(const std::string& name, const T& v, const Rule& rule) {
  if constexpr (std::is_same_v<T, std::string>) MB_CHECK(rule.holds(v), name, " must be ", rule.text(), ", got '", v, "'");
  else if constexpr (std::is_floating_point_v<T>)
    MB_CHECK(rule.holds(v), name, " must be ", std::isfinite(v) ? "" : "a finite number ", rule.text(), ", got ", field_text(v));
  else MB_CHECK(rule.holds(v), name, " must be ", rule.text(), ", got ", field_text(v));
}

// A field's flag: its key with '_' spelled '-' ("cross_patch" -> "cross-patch").
std::string flag_of(const std::string& key);

}  // namespace mb
