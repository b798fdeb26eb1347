// Reporter: how the core tells its host what happened. The plugin forwards to
// tcmu-runner's logger with the device name; tests collect the lines.
#pragma once

#include <string>

namespace tcmu_switch {

enum class LogLevel { kError, kWarning, kInfo, kDebug };

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void report(LogLevel level, const std::string& message) noexcept = 0;
};

}  // namespace tcmu_switch
