// INQUIRY answered by the handler (SPC-4 6.6, SBC-4 6.6): the standard data
// and the VPD pages 00h, 80h, 83h, B0h, B1h and B2h.
//
// tcmu-runner 1.5.4's own answers leave stale ring bytes after the data (no
// zero fill; it reports no residual), claim SPC-3 with no version
// descriptors, and put limits in Block Limits that are not ours (COMPARE AND
// WRITE of one block, WRITE SAME of 2^32 blocks). Identity stays what the
// runner and LIO fileio report, so initiators see the same LUN: vendor
// LIO-ORG, product "TCMU device", the unit serial (the configfs WWN) and the
// NAA designator LIO derives from it. No TPGS: the LUN has one target port
// group as far as the handler knows; ALUA is not offered.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "lun_facts.h"
#include "scsi_answer.h"

namespace tcmu_switch {

// The NAA IEEE Registered Extended designator (6h) of the LUN with this unit
// serial: the company ID, then one nibble per hex digit of the serial, up to
// 25 of them. LIO derives it so (spc_gen_naa_6h_vendor_specific), and so does
// tcmu-runner, for VPD 83h and to find the LUNs an EXTENDED COPY names
// (xcopy_gen_naa_ieee, tcmur_cmd_handler.c:994-1038).
std::array<uint8_t, 16> naa_6h(std::string_view serial);

// REQUIRES: cdb holds an INQUIRY (6 bytes, opcode 12h).
ScsiAnswer answer_inquiry(std::span<const uint8_t> cdb, const LunFacts& facts);

}  // namespace tcmu_switch
