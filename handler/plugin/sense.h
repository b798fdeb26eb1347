// Fixed-format sense data (SPC-4 4.5.3) for the commands the handler answers
// itself. libtcmu's tcmu_sense_set_* each clear the buffer before they write
// their one field, so a sense with both an INFORMATION field and a field
// pointer cannot be built with them; here the whole 18 bytes are built at
// once and the plugin hands them over with TCMU_STS_PASSTHROUGH_ERR.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace tcmu_switch {

namespace sense_key {
inline constexpr uint8_t kIllegalRequest = 0x05;
inline constexpr uint8_t kMiscompare = 0x0e;
}  // namespace sense_key

namespace asc {
inline constexpr uint16_t kParameterListLengthError = 0x1a00;
inline constexpr uint16_t kMiscompareDuringVerify = 0x1d00;
inline constexpr uint16_t kInvalidOpcode = 0x2000;
inline constexpr uint16_t kLbaOutOfRange = 0x2100;
inline constexpr uint16_t kInvalidFieldInCdb = 0x2400;
inline constexpr uint16_t kInvalidFieldInParameterList = 0x2600;
}  // namespace asc

// Where an ILLEGAL REQUEST points (the SENSE KEY SPECIFIC field, SPC-4
// 4.5.2.4.2): byte and, if known, bit of the CDB or of the parameter list.
struct FieldPointer {
  bool in_cdb = true;
  uint16_t byte = 0;
  std::optional<uint8_t> bit;
};

struct Sense {
  uint8_t key = 0;
  uint16_t asc_ascq = 0;
  std::optional<uint32_t> information;  // VALID = 1
  std::optional<FieldPointer> field;    // SKSV = 1
};

inline constexpr size_t kFixedSenseBytes = 18;
std::array<uint8_t, kFixedSenseBytes> fixed_sense(const Sense& sense) noexcept;

Sense invalid_field_in_cdb(uint16_t byte, std::optional<uint8_t> bit = std::nullopt) noexcept;
Sense invalid_field_in_parameter_list(uint16_t byte, std::optional<uint8_t> bit = std::nullopt) noexcept;
Sense parameter_list_length_error() noexcept;
Sense lba_out_of_range() noexcept;
// COMPARE AND WRITE and VERIFY: INFORMATION is the offset of the first byte
// that differs, counted from the start of the compared data (SBC-4 5.3).
Sense miscompare(uint32_t offset) noexcept;

}  // namespace tcmu_switch
