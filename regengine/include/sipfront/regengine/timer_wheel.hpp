// Hierarchical timer wheel with intrusive hooks (no allocation, O(1) arm/cancel).
//
// Sizing: 1 tick = 1 ms. Level L (0..3) has 256 slots of 2^(8L) ticks each, so it
// holds deadlines 2^(8L) .. 2^(8L+8)-1 ticks ahead:
//   level 0: 1 ms slots,     up to 255 ms
//   level 1: 256 ms slots,   up to 65.5 s     (Timers E/F/K: 0.5 .. 32 s)
//   level 2: 65.5 s slots,   up to 4.66 h     (registration expiry, 60 .. 3600 s typical)
//   level 3: 4.66 h slots,   up to 49.7 days  (2^32 ticks)
// Deadlines further ahead (an Expires of up to 2^32-1 s is legal SIP) are parked in
// the level-3 slot of now+2^32-1 and re-placed when it cascades: one re-placement
// per 49.7 days of clock. Memory: 4 x 256 list heads x 16 B = 16 KiB per worker, plus
// 4 x 256 bits (128 B) of occupancy bitmap (sizeof(timer_wheel) = 16.2 KiB); a hook
// is 16 B of links + expires + kind = 32 B in the record.
//
// Most registration timers are cancelled before they fire (the refresh arrives), so
// arm/cancel are O(1) list operations and sorting is deferred to cascading (as
// Seastar's timer-set): a timer moves down at most three times before it fires.
//
// Advancing costs O(1 + events), not O(ticks): the bitmaps let the wheel jump
// straight to the next tick at which a non-empty slot is spliced or cascaded, so a
// stalled core or a test clock jumping days pays only for what is armed. cancel()
// and record destruction unlink the hook without the wheel knowing, so a set bit
// means "maybe occupied"; a bit found stale is cleared when the wheel lands on it,
// which costs at most one landing per arm.
//
// Cascading is capped per advance() call too, not only callbacks: after an avalanche
// restart a million bindings share one 65 s level-2 slot, and re-placing them in one
// call took 4..10 ms of CPU (perf BM_avalanche/0), each re-placement being a cache
// miss - 40k..100k packets at 10 Mpps, far more than an rx ring holds. 1024
// re-placements per call bound that call to ~0.3 ms (BM_avalanche/1024); the rest of
// the cascade runs on the next calls while the clock waits at the cascade tick, a
// delay of about 1000 polls for a million-timer slot.
//
// Ticks are uint64 and slot indexes are taken from them modulo 256, so nothing
// wraps at 2^32; the clock must stay below 2^63 (2.9e8 years of ms).
#pragma once

#include <array>
#include <boost/intrusive/list.hpp>
#include <cstddef>
#include <cstdint>

namespace sipfront::reg {

/// Embed in a record; the wheel links it, never owns it. Destroying an armed hook unlinks it.
/// `expires` is read by the wheel while armed: change it only through timer_wheel::arm.
struct timer_hook : boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
  std::uint64_t expires = 0;  ///< absolute tick
  std::uint8_t kind = 0;      ///< what the owner uses this timer for
  [[nodiscard]] bool armed() const noexcept { return is_linked(); }
};

/// One per worker, single-threaded. Semantics, with `now()` the tick the wheel has reached:
/// - a timer fires at the first advance() whose `now` argument is >= its `expires`, with
///   `now()` == `expires` during its callback (never early);
/// - a timer armed for a tick <= now() is due at now(): it fires on the next advance(),
///   even one that does not move the clock;
/// - timers fire in tick order (same tick: any order);
/// - the budget cap (and, rarely, the cascade cap) stops the clock at the tick whose
///   timers are still pending (now() < the requested `now` then), and the next
///   advance() resumes from there.
class timer_wheel {
 public:
  static constexpr unsigned levels = 4;
  static constexpr unsigned slot_bits = 8;
  static constexpr unsigned slots = 1U << slot_bits;
  /// Deadlines at least this far ahead are parked in level 3 and re-placed later.
  static constexpr std::uint64_t span = std::uint64_t{1} << (levels * slot_bits);
  /// Timers re-placed by cascading per advance() call, by default (see above).
  static constexpr std::size_t default_cascade_budget = 1024;

  /// `cascade_budget` (>= 1) caps the cascading work of each advance() call.
  explicit timer_wheel(std::uint64_t now, std::size_t cascade_budget = default_cascade_budget) noexcept;
  timer_wheel(const timer_wheel&) = delete;
  timer_wheel& operator=(const timer_wheel&) = delete;

  /// Arms (or re-arms) `h` to fire at absolute tick `expires` (a past tick fires on the next advance).
  void arm(timer_hook& h, std::uint64_t expires) noexcept;
  /// Disarms `h` if armed. O(1).
  static void cancel(timer_hook& h) noexcept { h.unlink(); }
  /// Runs expired timers up to tick `now`, calling `on_expire(timer_hook&)` for each,
  /// at most `max_expirations` of them (the rest fire on later calls). The hook is
  /// unlinked before the callback, which may re-arm it, arm or cancel others, or
  /// destroy records; it must not call advance(). Returns the number fired.
  /// A `now` below now() only runs what is already due (and any held-over cascade).
  /// Each call also re-places at most the cascade budget of timers (see above).
  template <class F>
  std::size_t advance(std::uint64_t now, std::size_t max_expirations, F&& on_expire);

  [[nodiscard]] std::uint64_t now() const noexcept { return now_; }
  /// True while a cap defers work: due timers not yet run, or an unfinished cascade.
  /// Either way the next advance() carries on, even with an unchanged `now`.
  [[nodiscard]] bool backlogged() const noexcept { return !due_.empty() || cascade_pending_; }
  [[nodiscard]] std::size_t armed_count() const noexcept;  ///< O(slots + armed); for tests and status

 private:
  using list = boost::intrusive::list<timer_hook, boost::intrusive::constant_time_size<false>>;
  using bitmap = std::array<std::uint64_t, slots / 64>;

  void place(timer_hook& h) noexcept;
  void detach(unsigned level) noexcept;
  [[nodiscard]] std::uint64_t next_event(std::uint64_t limit) const noexcept;
  [[nodiscard]] bool collect(std::uint64_t now, std::size_t& work) noexcept;

  std::uint64_t now_;
  std::size_t cascade_budget_;
  bool cascade_pending_ = false;           // a cascade at now_ ran out of work; now_'s level-0 slot waits for it
  list due_;                               // expired, waiting for the callback budget
  list cascading_;                         // taken from the slots cascading at now_, not yet re-placed
  std::array<bitmap, levels> occupied_{};  // bit set: slot may be non-empty (clear: certainly empty)
  std::array<std::array<list, slots>, levels> wheel_{};
};

template <class F>
std::size_t timer_wheel::advance(std::uint64_t now, std::size_t max_expirations, F&& on_expire) {
  std::size_t fired = 0;
  std::size_t work = cascade_budget_;
  bool more = true;
  for (;;) {
    while (fired < max_expirations && !due_.empty()) {
      timer_hook& h = due_.front();
      due_.pop_front();
      ++fired;
      on_expire(h);
    }
    // Keep moving the clock after the budget is spent as long as nothing is left
    // pending, so now() only lags the caller's clock when timers are really deferred.
    // (The drain above runs once more after collect() gives up, for what it made due.)
    if (!more || !due_.empty()) break;
    more = collect(now, work);
  }
  return fired;
}

}  // namespace sipfront::reg
