// CompletionGate: lets a device's command thread make sure that the next
// completion written into the device's ring is the command it is about to
// return, so that a mark put in that entry (ring_residual.h) reaches that
// command and no other.
//
// Who writes completions into a switch LUN's ring (tcmu-runner 1.5.4):
//  - the runner's command thread, for every command a callout returns without
//    queueing (main.c:832-835): the command the handler answers is one of
//    them, and the thread runs nothing else between handle_cmd's return and
//    that completion;
//  - tcmur_cmd_complete() calls, which the plugin makes only from its
//    CommandSink (engine threads, or inline from a callout): each runs inside
//    enter()/leave(). The runner's emulations chained on them (WRITE SAME,
//    UNMAP chunks, FORMAT UNIT, WRITE AND VERIFY, EXTENDED COPY) complete from
//    their done callbacks, i.e. inside the same call (tcmur_cmd_handler.c;
//    with nr_threads = 0 aio_request_schedule runs the callout inline,
//    tcmur_aio.c:212-225);
//  - nobody else, except an EXTENDED COPY naming another LUN: the runner then
//    completes it from that LUN's completion thread (aio_command_finish on
//    xcopy->origdev, tcmur_cmd_handler.c:1446, 1485), which the plugin does
//    not see. The plugin stops marking on a LUN that received one. (A copy
//    naming only its own LUN stays there: the runner takes the LUN itself for
//    a designator that matches it, and looks the other one up among all its
//    LUNs, tcmur_cmd_handler.c:1130-1150, 1199-1206, which finds another LUN
//    only if that one's unit serial agrees in its first 25 hex digits, a
//    duplicate that LIO's own EXTENDED COPY could not tell apart either.)
// ALUA, recovery and the runner's timers complete nothing (alua.c:554-622,
// tcmur_device.c:42-110, main.c:715-760).
//
// The command thread close()s the gate: it waits for the completers inside
// to leave, and new ones wait outside. It then marks the entry and hold()s
// it: completers go on waiting until the predicate says the runner's
// completion has landed there, and the first to see it opens the gate.
// Waits are short: the runner completes right after handle_cmd returns.
//
// A completion made while the thread is already inside a gate (an emulation
// that queues its next step, which completes at once) enters without waiting:
// the thread's outer completion keeps that gate's command thread from
// marking, and a nested completion into another LUN's ring comes only from an
// EXTENDED COPY across LUNs, on whose receiving LUN nothing is marked.
#pragma once

#include <atomic>
#include <cstdint>

namespace tcmu_switch {

class CompletionGate {
 public:
  // Whether the completion awaited at `entry` has been written.
  using Landed = bool (*)(const void* context, uint32_t entry);

  CompletionGate(Landed landed, const void* context) : landed_(landed), context_(context) {}
  CompletionGate(const CompletionGate&) = delete;
  CompletionGate& operator=(const CompletionGate&) = delete;

  // Completers: around every completion written into the ring.
  void enter() noexcept;
  void leave() noexcept;

  // The command thread only, in this order: close(), then hold(entry) once
  // the entry is marked, or open() when nothing was.
  void close() noexcept;
  void hold(uint32_t entry) noexcept;
  void open() noexcept;

 private:
  // state_: 0 open; else kClosed or kHolding with the entry (low 32 bits) and
  // the closing's generation (bits 34..63), so that a completer never opens a
  // later closing on the strength of an earlier one's entry.
  static constexpr uint64_t kClosed = uint64_t{1} << 32;
  static constexpr uint64_t kHolding = uint64_t{2} << 32;
  static constexpr int kGenerationShift = 34;

  void wait_for_open(uint64_t state) noexcept;

  Landed landed_;
  const void* context_;
  std::atomic<uint32_t> inside_{0};  // completers between enter() and leave()
  std::atomic<uint64_t> state_{0};
  uint64_t generation_ = 0;  // the command thread's
};

// enter() and leave() around a scope.
class GatePass {
 public:
  explicit GatePass(CompletionGate& gate) : gate_(gate) { gate_.enter(); }
  ~GatePass() { gate_.leave(); }
  GatePass(const GatePass&) = delete;
  GatePass& operator=(const GatePass&) = delete;

 private:
  CompletionGate& gate_;
};

}  // namespace tcmu_switch
