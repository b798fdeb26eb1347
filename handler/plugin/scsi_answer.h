// The outcome of a command the handler answers itself from LunFacts: the
// Data-In bytes, or CHECK CONDITION with its sense.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sense.h"

namespace tcmu_switch {

struct ScsiAnswer {
  // Cut to the allocation length already. The plugin zero-fills the rest of
  // the initiator's buffer: where it cannot report the residual
  // (ring_residual.h) the initiator sees the whole allocation length, and
  // stale bytes of the ring must not leak into it.
  std::vector<uint8_t> data;
  std::optional<Sense> sense;

  static ScsiAnswer check(const Sense& s) { return {.data = {}, .sense = s}; }
  bool good() const { return !sense; }
};

// `data` cut to `allocation_length` bytes.
inline ScsiAnswer data_in(std::vector<uint8_t> data, uint32_t allocation_length) {
  if (data.size() > allocation_length) data.resize(allocation_length);
  return {.data = std::move(data), .sense = std::nullopt};
}

}  // namespace tcmu_switch
