// TableSlot: the published generation of a device's RegionTable.
//
// Readers hold the current generation for as long as they route one window
// of a command, so all its pieces are resolved in one generation; writers
// publish a complete new table with one pointer exchange and free the old one
// after every reader that could still see it has finished (RCU, liburcu's
// "bulletproof" flavour: it registers reader threads by itself, which suits
// threads owned by tcmu-runner that we cannot register or unregister).
//
// A command of several windows routes them all in its first window's
// generation, on whatever thread sends each: it takes a Pin, a count on the
// table that outlives the read-side section. A writer never waits for pins:
// a replaced table that is still pinned is retired, and freed by a later
// publish (or the slot's destructor) once its count is 0.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "region_table.h"

namespace tcmu_switch {

class TableSlot {
 public:
  explicit TableSlot(std::unique_ptr<RegionTable> initial);
  ~TableSlot();
  TableSlot(const TableSlot&) = delete;
  TableSlot& operator=(const TableSlot&) = delete;

  // Keeps one generation's table valid after the section that found it,
  // across threads. Move-only; empty when default-constructed or reset.
  class Pin {
   public:
    Pin() = default;
    ~Pin() { reset(); }
    Pin(Pin&& other) noexcept : table_(other.table_) { other.table_ = nullptr; }
    Pin& operator=(Pin&& other) noexcept;
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    explicit operator bool() const { return table_ != nullptr; }
    const RegionTable& table() const { return *table_; }
    void reset() noexcept;

   private:
    friend class TableSlot;
    explicit Pin(const RegionTable* table) noexcept;
    const RegionTable* table_ = nullptr;
  };

  // An RCU read-side critical section; the table stays valid until the
  // Reader is destroyed. Readers never wait for writers. Do not block in one.
  class Reader {
   public:
    explicit Reader(const TableSlot& slot) noexcept;
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    const RegionTable& table() const { return *table_; }
    // The same generation, kept past this section.
    Pin pin() const noexcept { return Pin(table_); }

   private:
    const RegionTable* table_;
  };

  // Makes `next` the current table with generation previous + 1, waits for
  // readers of the previous one to finish and frees it, or retires it while
  // it is pinned. Returns the new generation. Writers are serialised among
  // themselves only.
  uint64_t publish(std::unique_ptr<RegionTable> next);

  // A copy of the current table, to edit and publish.
  std::unique_ptr<RegionTable> clone_current() const;
  uint64_t generation() const;

 private:
  // REQUIRES: writer_mutex_ held.
  void free_unpinned();

  RegionTable* current_;  // RCU-protected
  mutable std::mutex writer_mutex_;
  std::vector<std::unique_ptr<RegionTable>> retired_;  // replaced, still pinned; writer_mutex_

};

}  // namespace tcmu_switch
