// EnumName: one table of an enum's names, from which both its formatter and
// its parser derive, so a name is spelled once. Used for the config file's
// mode and engine and for path states (the names are also the D-Bus and
// targetcli vocabulary).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "status.h"

namespace tcmu_switch {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// REQUIRES: value is in names (every enumerator has a row).
template <typename E, size_t N>
const char* enum_name(const EnumName<E> (&names)[N], E value) {
  for (const EnumName<E>& n : names)
    if (n.value == value) return n.name;
  return "?";
}

// The error names the input and every accepted name: `"x" is not a, b or c`.
template <typename E, size_t N>
Result<E> parse_enum(const EnumName<E> (&names)[N], std::string_view text) {
  for (const EnumName<E>& n : names)
    if (text == n.name) return n.value;
  std::string message = "\"" + std::string(text) + "\" is not ";
  for (size_t i = 0; i < N; i++) message += std::string(i == 0 ? "" : i + 1 == N ? " or " : ", ") + names[i].name;
  return Status::error(message);
}

}  // namespace tcmu_switch
