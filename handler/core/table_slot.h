// TableSlot: the published generation of a device's RegionTable.
//
// Readers pin the current generation for as long as they route one command,
// so all pieces of a command are resolved in one generation; writers publish a
// complete new table with one pointer exchange and free the old one after
// every reader that could still see it has finished (RCU, liburcu's
// "bulletproof" flavour: it registers reader threads by itself, which suits
// threads owned by tcmu-runner that we cannot register or unregister).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "region_table.h"

namespace tcmu_switch {

class TableSlot {
 public:
  explicit TableSlot(std::unique_ptr<RegionTable> initial);
  ~TableSlot();
  TableSlot(const TableSlot&) = delete;
  TableSlot& operator=(const TableSlot&) = delete;

  // An RCU read-side critical section; the table stays valid until the
  // Reader is destroyed. Readers never wait for writers. Do not block in one.
  class Reader {
   public:
    explicit Reader(const TableSlot& slot) noexcept;
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    const RegionTable& table() const { return *table_; }

   private:
    const RegionTable* table_;
  };

  // Makes `next` the current table with generation previous + 1, waits for
  // readers of the previous one to finish and frees it. Returns the new
  // generation. Writers are serialised among themselves only.
  uint64_t publish(std::unique_ptr<RegionTable> next);

  // A copy of the current table, to edit and publish.
  std::unique_ptr<RegionTable> clone_current() const;
  uint64_t generation() const;

 private:
  RegionTable* current_;  // RCU-protected
  mutable std::mutex writer_mutex_;
};

}  // namespace tcmu_switch
