// Status and Result<T>: errors as values for the core library.
//
// Bad input is reported, never thrown across the library boundary: a Status
// carries a message that names the input, the position and the limit, e.g.
// "table line 3, entry \"1000:7\": path 7 >= nr_paths 3". The I/O path does
// not use these (it neither allocates nor formats).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tcmu_switch {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  static Status error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with where it happened: "config lun0.conf: " + message.
  Status with_context(const std::string& where) const {
    return ok() ? *this : Status(where + ": " + message_);
  }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}

  bool failed_ = false;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}             // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}      // NOLINT: REQUIRES !status.ok()

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& value() const& { return std::get<T>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tcmu_switch
