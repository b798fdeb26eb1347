// libFuzzer target: the binary table loader (table_binary.h), whose input may
// come from anywhere. Properties: no crash, leak, out-of-bounds read or
// oversized allocation; every error names a byte offset ("byte N ..."); an
// accepted table routes every region to a path < nr_paths and re-encodes to
// a table with the same mapping. The seeds are valid tables, so mutations
// get past the magic; most would die at the checksum, which the fuzzer
// cannot forge, so every input is also tried resealed (its crc32c
// recomputed) to reach the checks behind it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "table_binary.h"
#include "crc32c.h"
#include "table_format.h"

using namespace tcmu_switch;

namespace {

void check(const std::string& bytes) {
  auto table = decode_table_binary(bytes);
  if (!table.ok()) {
    FUZZ_CHECK(table.status().message().rfind("byte ", 0) == 0);
    return;
  }
  const RegionTable& t = *table.value();
  FUZZ_CHECK(t.geometry().validate().ok());
  // Sampled: a binary table may name 2^31 regions and stay small.
  const uint64_t stride = 1 + t.nr_regions() / 4096;
  for (uint64_t r = 0; r < t.nr_regions(); r += stride) FUZZ_CHECK(t.path_nr(r) < t.nr_paths());
  FUZZ_CHECK(t.path_nr(t.nr_regions() - 1) < t.nr_paths());
  auto again = decode_table_binary(encode_table_binary(t));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value()->same_mapping(t));
}

// Recomputes the stored crc32c over the bytes it covers; false if the input
// is too short to have one.
bool reseal(std::string& bytes) {
  using namespace table_format;
  if (bytes.size() < kHeaderSize) return false;
  const uint32_t crc = crc32c::value(bytes.data() + kChecksummedFrom, bytes.size() - kChecksummedFrom);
  for (int i = 0; i < 4; i++) bytes[kCrc32cOffset + i] = static_cast<char>(crc >> (8 * i));
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  check(bytes);
  if (reseal(bytes)) check(bytes);
  return 0;
}
