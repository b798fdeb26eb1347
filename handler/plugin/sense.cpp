#include "sense.h"

#include "scsi_bytes.h"

namespace tcmu_switch {
namespace {

Sense sense_of(uint8_t key, uint16_t asc_ascq) {
  Sense s;
  s.key = key;
  s.asc_ascq = asc_ascq;
  return s;
}

}  // namespace

std::array<uint8_t, kFixedSenseBytes> fixed_sense(const Sense& sense) noexcept {
  std::array<uint8_t, kFixedSenseBytes> out{};
  out[0] = 0x70;  // current error, fixed format
  out[2] = sense.key & 0x0f;
  if (sense.information) {
    out[0] |= 0x80;  // VALID
    put_be(&out[3], *sense.information, 4);
  }
  out[7] = kFixedSenseBytes - 8;  // ADDITIONAL SENSE LENGTH
  put_be(&out[12], sense.asc_ascq, 2);
  if (sense.field) {
    const FieldPointer& f = *sense.field;
    out[15] = 0x80 | (f.in_cdb ? 0x40 : 0);  // SKSV, C/D
    if (f.bit) out[15] = static_cast<uint8_t>(out[15] | 0x08 | (*f.bit & 0x07));  // BPV, BIT POINTER
    put_be(&out[16], f.byte, 2);
  }
  return out;
}

Sense invalid_field_in_cdb(uint16_t byte, std::optional<uint8_t> bit) noexcept {
  Sense s = sense_of(sense_key::kIllegalRequest, asc::kInvalidFieldInCdb);
  s.field = FieldPointer{.in_cdb = true, .byte = byte, .bit = bit};
  return s;
}

Sense invalid_field_in_parameter_list(uint16_t byte, std::optional<uint8_t> bit) noexcept {
  Sense s = sense_of(sense_key::kIllegalRequest, asc::kInvalidFieldInParameterList);
  s.field = FieldPointer{.in_cdb = false, .byte = byte, .bit = bit};
  return s;
}

Sense parameter_list_length_error() noexcept {
  return sense_of(sense_key::kIllegalRequest, asc::kParameterListLengthError);
}

Sense lba_out_of_range() noexcept { return sense_of(sense_key::kIllegalRequest, asc::kLbaOutOfRange); }

Sense miscompare(uint32_t offset) noexcept {
  Sense s = sense_of(sense_key::kMiscompare, asc::kMiscompareDuringVerify);
  s.information = offset;
  return s;
}

}  // namespace tcmu_switch
