// What the core's unit tests share: a Reporter that keeps what the core
// reported, and mentions() for error messages. (AlignedBuffer is in
// aligned_buffer.h: plugin_host_test, which does not build with the core,
// uses it too.)
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "aligned_buffer.h"
#include "reporter.h"

namespace tcmu_switch::test_support {

// Keeps every line and finds or counts those that mention a text; thread-safe
// (the engine's workers report too).
class CollectingReporter : public Reporter {
 public:
  void report(LogLevel, const std::string& message) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    lines_.push_back(message);
  }
  bool saw(const std::string& needle) { return count(needle) > 0; }
  int count(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mutex_);
    int n = 0;
    for (const auto& l : lines_) n += l.find(needle) != std::string::npos;
    return n;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

// For error tests: the message names what matters (the input, the position,
// the limit) without the test fixing the rest of the sentence.
//   EXPECT_TRUE(mentions(s.message(), "path 7 >= nr_paths 3"));
inline ::testing::AssertionResult mentions(const std::string& message, std::string_view substring) {
  if (message.find(substring) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << message << "\" does not mention \"" << substring << "\"";
}

// Threads of this process whose name starts with prefix ("switch-io").
inline int threads_named(std::string_view prefix) {
  int n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    n += name.starts_with(prefix);
  }
  return n;
}

}  // namespace tcmu_switch::test_support
