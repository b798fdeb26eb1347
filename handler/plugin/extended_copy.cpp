#include "extended_copy.h"

#include <algorithm>

#include "scsi_bytes.h"

namespace tcmu_switch {
namespace {

constexpr size_t kHeaderBytes = 16;
constexpr size_t kTargetDescriptorBytes = 32;
constexpr size_t kMaxTargetDescriptors = 2;
constexpr size_t kMaxSegmentDescriptors = 1;
constexpr size_t kMaxDescriptorListBytes = 1024;
constexpr uint8_t kIdentificationTarget = 0xe4;
constexpr uint8_t kBlockToBlockSegment = 0x02;
constexpr size_t kDesignatorOffset = 8;  // in an identification target descriptor

Sense illegal(uint16_t asc_ascq, size_t at) {
  Sense s = invalid_field_in_parameter_list(static_cast<uint16_t>(at));
  s.asc_ascq = asc_ascq;
  return s;
}

}  // namespace

std::optional<Sense> check_extended_copy(std::span<const uint8_t> cdb, std::span<const uint8_t> parameters) noexcept {
  const size_t list_length = get_be(cdb, 10, 4);
  if (list_length == 0) return std::nullopt;
  if (list_length < kHeaderBytes || parameters.size() < list_length) return parameter_list_length_error();
  const std::span<const uint8_t> p = parameters.first(list_length);
  const size_t targets_bytes = get_be(p, 2, 2);
  const size_t segments_bytes = get_be(p, 8, 4);
  const size_t inline_bytes = get_be(p, 12, 4);
  if (targets_bytes + segments_bytes > kMaxDescriptorListBytes) return parameter_list_length_error();
  if (kHeaderBytes + targets_bytes + segments_bytes + inline_bytes > p.size()) return parameter_list_length_error();
  if (targets_bytes % kTargetDescriptorBytes != 0) return invalid_field_in_parameter_list(2);
  if (targets_bytes / kTargetDescriptorBytes > kMaxTargetDescriptors) return illegal(0x2606, 2);  // TOO MANY TARGET
  for (size_t at = kHeaderBytes; at < kHeaderBytes + targets_bytes; at += kTargetDescriptorBytes)
    if (p[at] != kIdentificationTarget) return illegal(0x2607, at);  // UNSUPPORTED TARGET DESCRIPTOR TYPE CODE
  const size_t segments_end = kHeaderBytes + targets_bytes + segments_bytes;
  size_t nr_segments = 0;
  for (size_t at = kHeaderBytes + targets_bytes; at < segments_end; nr_segments++) {
    if (segments_end - at < 4) return parameter_list_length_error();
    at += 4 + get_be(p, at + 2, 2);
  }
  if (nr_segments > kMaxSegmentDescriptors) return illegal(0x2608, 8);  // TOO MANY SEGMENT DESCRIPTORS
  const size_t first_segment = kHeaderBytes + targets_bytes;
  if (nr_segments == 1 && p[first_segment] != kBlockToBlockSegment)
    return illegal(0x2609, first_segment);  // UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE
  return std::nullopt;
}

bool copies_within(std::span<const uint8_t> cdb, std::span<const uint8_t> parameters,
                   const std::array<uint8_t, 16>& naa) noexcept {
  const std::span<const uint8_t> p = parameters.first(get_be(cdb, 10, 4));
  const size_t targets_end = kHeaderBytes + get_be(p, 2, 2);
  for (size_t at = kHeaderBytes; at < targets_end; at += kTargetDescriptorBytes)
    if (!std::equal(naa.begin(), naa.end(), p.begin() + static_cast<ptrdiff_t>(at + kDesignatorOffset))) return false;
  return true;
}

}  // namespace tcmu_switch
