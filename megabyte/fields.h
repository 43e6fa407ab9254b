// Tables of named fields. The model config (megabyte/config.h) and the options of training,
// sampling, evaluation and the explain page are each one X-macro list that makes the struct's
// members, its validation, its text form (checkpoints, fixtures, JSON configs) and its
// command-line flags (the key with '_' spelled '-'). This file is what the tables share: a
// value's text form and back, the rule a value must obey, and the options tables' methods.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/layers.h"

namespace mb {

// Upper bounds that keep every product of the options (bytes per step, FLOPs, step numbers)
// far from overflow.
constexpr double kMaxBatch = double(int64_t(1) << 20);  // batch, micro-batches, windows, checkpoints kept
constexpr double kMaxCount = double(int64_t(1) << 40);  // steps and step intervals

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

// ---------------------------------------------------------------- options tables
// An options struct is one list X(type, member, "key", default, rule, "group", "help").
// MB_OPTIONS(LIST) inside the struct makes its members and declares what the table gives;
// MB_DEFINE_OPTIONS(Struct, LIST, "what") in one .cpp defines it. A command's flags and their
// parsing come from fields() (cli/cli.h: add_table_flags, set_from_flags), so a new option of a
// command is one line of its list plus its use.
#define MB_OPTION_MEMBER(type, member, key, def, ...) type member = def;
#define MB_OPTIONS(LIST)                                                                               \
  LIST(MB_OPTION_MEMBER)                                                                               \
  std::set<std::string> given; /* the keys set through set(): the flags the user gave */              \
  /* one option from its text (a flag's value, "1" for a bare switch); throws naming the flag */       \
  void set(const std::string& key, const std::string& text);                                           \
  std::string get(const std::string& key) const; /* an option's text */                               \
  void check_fields() const;                     /* each option's own rule, naming its flag */         \
  static const std::vector<FieldInfo>& fields(); /* the table, for flags and help */

#define MB_OPTION_SET(type, member, k, ...)          \
  if (key == k) {                                    \
    parse_field("--" + flag_of(key), text, member); \
    given.insert(key);                               \
    return;                                          \
  }
#define MB_OPTION_GET(type, member, k, ...) \
  if (key == k) return field_text(member);
#define MB_OPTION_CHECK(type, member, key, def, rule, ...) check_field("--" + flag_of(key), member, rule);
#define MB_OPTION_INFO(type, member, key, def, rule, group, help) \
  v.push_back({key, group, help, field_text(d.member), std::is_same_v<type, bool>});
#define MB_DEFINE_OPTIONS(S, LIST, what)                          \
  void S::set(const std::string& key, const std::string& text) { \
    LIST(MB_OPTION_SET)                                           \
    throw Error("no " what " '" + key + "'");                     \
  }                                                               \
  std::string S::get(const std::string& key) const {             \
    LIST(MB_OPTION_GET)                                           \
    throw Error("no " what " '" + key + "'");                     \
  }                                                               \
  void S::check_fields() const { LIST(MB_OPTION_CHECK) }          \
  const std::vector<FieldInfo>& S::fields() {                     \
    static const std::vector<FieldInfo> f = [] {                  \
      const S d;                                                  \
      std::vector<FieldInfo> v;                                   \
      LIST(MB_OPTION_INFO)                                        \
      return v;                                                   \
    }();                                                          \
    return f;                                                     \
  }

}  // namespace mb
