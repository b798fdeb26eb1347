#include "region_table.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <numeric>
#include <string>

namespace tcmu_switch {

constexpr std::string_view kRoundRobinName = "round-robin";
constexpr std::string_view kFixedPathPrefix = "path:";

std::string default_mapping_name(const DefaultMapping& mapping) {
  if (mapping.kind == DefaultMapping::Kind::kFixedPath)
    return std::string(kFixedPathPrefix) + std::to_string(mapping.path_nr);
  return std::string(kRoundRobinName);
}

Result<DefaultMapping> parse_default_mapping(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  if (text == kRoundRobinName) return DefaultMapping::round_robin();
  if (!text.starts_with(kFixedPathPrefix))
    return Status::error(quoted + " is not round-robin or path:N");
  const std::string_view digits = text.substr(kFixedPathPrefix.size());
  uint64_t path_nr = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), path_nr);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
    return Status::error(quoted + ": \"" + std::string(digits) + "\" is not a decimal path number");
  if (path_nr >= kMaxPaths)
    return Status::error(quoted + ": path " + std::to_string(path_nr) + " >= kMaxPaths " + std::to_string(kMaxPaths));
  return DefaultMapping::fixed(static_cast<uint32_t>(path_nr));
}

Status TableGeometry::validate() const {
  if (nr_paths < 1 || nr_paths > kMaxPaths)
    return Status::error("nr_paths " + std::to_string(nr_paths) + " is not in 1.." +
                         std::to_string(kMaxPaths));
  if (region_sectors == 0) return Status::error("region size is 0 sectors");
  if (region_sectors > (UINT64_MAX / kSectorBytes))
    return Status::error("region size " + std::to_string(region_sectors) + " sectors overflows");
  if (nr_regions == 0) return Status::error("nr_regions is 0");
  if (default_mapping.kind == DefaultMapping::Kind::kFixedPath &&
      default_mapping.path_nr >= nr_paths)
    return Status::error("default path " + std::to_string(default_mapping.path_nr) +
                         " >= nr_paths " + std::to_string(nr_paths));
  return {};
}

uint64_t regions_for_size(uint64_t size_bytes, uint64_t region_sectors) {
  const uint64_t region_bytes = region_sectors * kSectorBytes;
  return size_bytes / region_bytes + (size_bytes % region_bytes != 0);
}

uint32_t entry_bits_for(uint32_t nr_paths) {
  uint32_t bits = 1;
  while ((uint64_t{1} << bits) < nr_paths) bits++;
  return bits;
}

RegionTable::RegionTable(const TableGeometry& geometry)
    : geometry_(geometry),
      entry_bits_(entry_bits_for(geometry.nr_paths)),
      entries_per_word_(64 / entry_bits_),
      entry_mask_((uint64_t{1} << entry_bits_) - 1),
      word_reciprocal_(((uint64_t{1} << 32) + entries_per_word_ - 1) / entries_per_word_),
      path_reciprocal_(UINT64_MAX / geometry.nr_paths + 1),
      region_bytes_bits_(std::has_single_bit(geometry.region_bytes())
                             ? std::countr_zero(geometry.region_bytes())
                             : -1),
      chunks_((geometry.nr_regions + kChunkRegions - 1) >> kChunkRegionsBits) {}

Result<std::unique_ptr<RegionTable>> RegionTable::create(const TableGeometry& geometry) {
  if (Status s = geometry.validate(); !s.ok()) return s;
  return std::unique_ptr<RegionTable>(new RegionTable(geometry));
}

std::unique_ptr<RegionTable> RegionTable::clone() const {
  auto copy = std::unique_ptr<RegionTable>(new RegionTable(geometry_));
  copy->chunks_ = chunks_;
  return copy;
}

Result<std::unique_ptr<RegionTable>> RegionTable::resized(uint64_t nr_regions) const {
  TableGeometry geometry = geometry_;
  geometry.nr_regions = nr_regions;
  auto table = create(geometry);
  if (!table.ok()) return table.status();
  RegionTable& next = *table.value();
  const uint64_t common = std::min(nr_regions, geometry_.nr_regions);
  // Regions on their default path stay in unallocated chunks.
  for (uint64_t r = 0; r < common; r++)
    if (const uint32_t p = path_nr(r); p != next.path_nr(r)) next.set_unchecked(r, p);
  return table;
}

uint64_t RegionTable::chunk_regions(uint64_t chunk_nr) const {
  return std::min(kChunkRegions, geometry_.nr_regions - chunk_first_region(chunk_nr));
}

size_t RegionTable::chunk_word_count(uint64_t chunk_nr) const {
  return static_cast<size_t>((chunk_regions(chunk_nr) + entries_per_word_ - 1) / entries_per_word_);
}

void RegionTable::fill_default(uint64_t chunk_nr, uint64_t* words) const {
  const bool round_robin = geometry_.default_mapping.kind == DefaultMapping::Kind::kRoundRobin;
  const size_t nr_words = chunk_word_count(chunk_nr);
  // Default words repeat: a fixed path gives one word over and over, round
  // robin the same word again once w * entries_per_word is a multiple of
  // nr_paths. Building one period and copying it is what makes a first write
  // to a chunk cheap (a divide per region made text parsing 2x slower).
  const size_t period_words =
      round_robin ? geometry_.nr_paths / std::gcd(entries_per_word_, geometry_.nr_paths) : 1;
  uint32_t path = default_path_nr(chunk_first_region(chunk_nr));
  for (size_t w = 0; w < std::min(period_words, nr_words); w++) {
    uint64_t word = 0;
    for (uint32_t slot = 0; slot < entries_per_word_; slot++) {
      word |= uint64_t{path} << (slot * entry_bits_);
      if (round_robin && ++path == geometry_.nr_paths) path = 0;
    }
    words[w] = word;
  }
  for (size_t w = period_words; w < nr_words; w++) words[w] = words[w - period_words];
  // Entries past the chunk's last region stay zero.
  const uint64_t live_bits =
      (chunk_regions(chunk_nr) - (nr_words - 1) * entries_per_word_) * entry_bits_;
  if (live_bits < 64) words[nr_words - 1] &= (uint64_t{1} << live_bits) - 1;
}

uint64_t* RegionTable::writable_chunk(uint64_t chunk_nr) {
  std::shared_ptr<uint64_t[]>& chunk = chunks_[chunk_nr];
  // use_count() can only fall while we look (other holders are older
  // generations being freed), so 1 means nobody else can see this chunk.
  if (chunk != nullptr && chunk.use_count() == 1) return chunk.get();
  const size_t n = chunk_word_count(chunk_nr);
  auto fresh = std::make_shared_for_overwrite<uint64_t[]>(n);
  if (chunk == nullptr)
    fill_default(chunk_nr, fresh.get());
  else
    std::memcpy(fresh.get(), chunk.get(), n * sizeof(uint64_t));
  chunk = std::move(fresh);
  return chunk.get();
}

void RegionTable::set_unchecked(uint64_t region_nr, uint32_t path_nr) noexcept {
  uint64_t* words = writable_chunk(region_nr >> kChunkRegionsBits);
  const uint64_t idx = region_nr & (kChunkRegions - 1);
  const uint64_t word_nr = idx / entries_per_word_;
  const uint64_t bit = (idx % entries_per_word_) * entry_bits_;
  words[word_nr] = (words[word_nr] & ~(entry_mask_ << bit)) | (uint64_t{path_nr} << bit);
}

void RegionTable::set_run_unchecked(uint64_t first_region,
                                    std::span<const uint32_t> path_nrs) noexcept {
  uint64_t region_nr = first_region;
  while (!path_nrs.empty()) {
    uint64_t* words = writable_chunk(region_nr >> kChunkRegionsBits);
    const uint64_t idx = region_nr & (kChunkRegions - 1);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(path_nrs.size(), kChunkRegions - idx));
    uint64_t word_nr = idx / entries_per_word_;
    uint32_t bit = static_cast<uint32_t>(idx % entries_per_word_) * entry_bits_;
    const uint32_t word_bits = entries_per_word_ * entry_bits_;
    // The word being filled stays in a register until it is complete.
    uint64_t word = words[word_nr];
    for (size_t i = 0; i < n; i++) {
      word = (word & ~(entry_mask_ << bit)) | (uint64_t{path_nrs[i]} << bit);
      bit += entry_bits_;
      if (bit == word_bits) {
        words[word_nr++] = word;
        bit = 0;
        if (i + 1 < n) word = words[word_nr];
      }
    }
    if (bit != 0) words[word_nr] = word;
    path_nrs = path_nrs.subspan(n);
    region_nr += n;
  }
}

Status RegionTable::set(uint64_t region_nr, uint32_t path_nr) {
  if (region_nr >= geometry_.nr_regions)
    return Status::error("region " + std::to_string(region_nr) + " >= nr_regions " +
                         std::to_string(geometry_.nr_regions));
  if (path_nr >= geometry_.nr_paths)
    return Status::error("path " + std::to_string(path_nr) + " >= nr_paths " +
                         std::to_string(geometry_.nr_paths));
  set_unchecked(region_nr, path_nr);
  return {};
}

std::span<const uint64_t> RegionTable::chunk_words(uint64_t chunk_nr) const {
  if (chunks_[chunk_nr] == nullptr) return {};
  return {chunks_[chunk_nr].get(), chunk_word_count(chunk_nr)};
}

std::span<uint64_t> RegionTable::mutable_chunk_words(uint64_t chunk_nr) {
  return {writable_chunk(chunk_nr), chunk_word_count(chunk_nr)};
}

std::span<uint64_t> RegionTable::chunk_words_for_overwrite(uint64_t chunk_nr) {
  const size_t n = chunk_word_count(chunk_nr);
  chunks_[chunk_nr] = std::make_shared_for_overwrite<uint64_t[]>(n);
  return {chunks_[chunk_nr].get(), n};
}

Status RegionTable::check_chunk(uint64_t chunk_nr) const {
  const std::span<const uint64_t> words = chunk_words(chunk_nr);
  if (words.empty()) return {};
  const uint64_t n = chunk_regions(chunk_nr);
  for (size_t w = 0; w < words.size(); w++) {
    const uint64_t entries_here = std::min<uint64_t>(entries_per_word_, n - w * entries_per_word_);
    const uint64_t live_bits = entries_here * entry_bits_;
    if (live_bits < 64 && (words[w] >> live_bits) != 0)
      return Status::error("chunk " + std::to_string(chunk_nr) + " word " + std::to_string(w) +
                           " has bits set past its last entry");
    for (uint64_t e = 0; e < entries_here; e++) {
      const uint64_t path = (words[w] >> (e * entry_bits_)) & entry_mask_;
      if (path >= geometry_.nr_paths)
        return Status::error("region " +
                             std::to_string(chunk_first_region(chunk_nr) + w * entries_per_word_ + e) +
                             " maps to path " + std::to_string(path) + " >= nr_paths " +
                             std::to_string(geometry_.nr_paths));
    }
  }
  return {};
}

std::vector<uint32_t> RegionTable::read_range(uint64_t first_region, uint64_t nr) const {
  std::vector<uint32_t> out(static_cast<size_t>(nr));
  for (uint64_t i = 0; i < nr; i++) out[i] = path_nr(first_region + i);
  return out;
}

std::vector<uint64_t> RegionTable::regions_per_path() const {
  std::vector<uint64_t> counts(geometry_.nr_paths, 0);
  for (uint64_t c = 0; c < chunks_.size(); c++) {
    const uint64_t first = chunk_first_region(c);
    const uint64_t n = chunk_regions(c);
    if (chunks_[c] != nullptr || geometry_.default_mapping.kind != DefaultMapping::Kind::kFixedPath) {
      for (uint64_t i = 0; i < n; i++) counts[path_nr(first + i)]++;
    } else {
      counts[geometry_.default_mapping.path_nr] += n;
    }
  }
  return counts;
}

bool RegionTable::same_mapping(const RegionTable& other) const {
  if (geometry_.nr_regions != other.geometry_.nr_regions) return false;
  for (uint64_t c = 0; c < chunks_.size(); c++) {
    if (chunks_[c] != nullptr && chunks_[c] == other.chunks_[c]) continue;
    const uint64_t first = chunk_first_region(c);
    for (uint64_t i = 0; i < chunk_regions(c); i++)
      if (path_nr(first + i) != other.path_nr(first + i)) return false;
  }
  return true;
}

size_t RegionTable::entry_bytes() const {
  size_t bytes = 0;
  for (uint64_t c = 0; c < chunks_.size(); c++)
    if (chunks_[c] != nullptr) bytes += chunk_word_count(c) * sizeof(uint64_t);
  return bytes;
}

size_t RegionTable::memory_bytes() const {
  return sizeof(*this) + chunks_.capacity() * sizeof(chunks_[0]) + entry_bytes();
}

}  // namespace tcmu_switch
