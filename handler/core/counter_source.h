// CounterSource: counters a layer above the core keeps (the plugin's tally of
// commands by where their data was) that the control plane reports next to
// the device's own.
#pragma once

#include <cstdint>
#include <vector>

namespace tcmu_switch {

struct NamedCounter {
  const char* name;  // a D-Bus summary key: static storage
  uint64_t value;
};

class CounterSource {
 public:
  virtual ~CounterSource() = default;
  virtual std::vector<NamedCounter> counters() const = 0;
};

}  // namespace tcmu_switch
