// Enumerations by name. Each enum that a user spells (a dtype, a device, a schedule, a data
// format...) has one table of its values and their names, an EnumNames specialisation beside
// the enum; from it come the name of a value, the value of a name (or an error that lists the
// allowed words) and those words for help texts. Nothing else compares such strings.
//
//   template <> struct EnumNames<Scan> {
//     static constexpr std::pair<Scan, const char*> table[] = {{Scan::raster, "raster"}, {Scan::patch, "patch"}};
//   };
//   name_of(Scan::patch) == "patch";  from_name<Scan>("--scan", "tiles") throws
//   "--scan must be raster or patch, got 'tiles'"
//
// C++17, so that headers nvcc compiles (tensor/dtype.h) can name their enums too.
#pragma once
#include <iterator>
#include <string>
#include <type_traits>
#include <utility>

#include "tensor/error.h"

namespace mb {

template <class E> struct EnumNames {};  // specialised beside each named enum

template <class E, class = void> struct is_named_enum : std::false_type {};
template <class E> struct is_named_enum<E, std::void_t<decltype(EnumNames<E>::table)>> : std::true_type {};
template <class E> inline constexpr bool is_named_enum_v = is_named_enum<E>::value;

template <class E, std::enable_if_t<is_named_enum_v<E>, int> = 0> const char* name_of(E v) {
  for (const auto& [value, name] : EnumNames<E>::table)
    if (value == v) return name;
  throw Error("name_of: a value outside its enum's table");
}

// "a, b or c"
template <class E, std::enable_if_t<is_named_enum_v<E>, int> = 0> std::string names_text() {
  std::string s;
  const size_t n = std::size(EnumNames<E>::table);
  for (size_t i = 0; i < n; ++i) s += std::string(i == 0 ? "" : i + 1 == n ? " or " : ", ") + EnumNames<E>::table[i].second;
  return s;
}

// The value named `text`; `what` names the option in the error ("--scan", "config: 'act'").
template <class E, std::enable_if_t<is_named_enum_v<E>, int> = 0> E from_name(const std::string& what, const std::string& text) {
  for (const auto& [value, name] : EnumNames<E>::table)
    if (text == name) return value;
  throw Error(what + " must be " + names_text<E>() + ", got '" + text + "'");
}

}  // namespace mb
