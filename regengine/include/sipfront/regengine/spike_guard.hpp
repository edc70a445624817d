// Overload protection (CUBE `registration spike N`): a bound N on the REGISTERs
// the front end has pending with registrars, across all workers.
//
// Design: no shared hot cache line. A naive global std::atomic counter would be
// written by every worker on every new REGISTER and every upstream final response,
// so its cache line would bounce between cores at message rate. Instead:
//   - spike_pool: one std::atomic count of free slots, alone on its cache line,
//     touched only when a worker refills or returns a whole batch;
//   - spike_budget: one per worker, owned by it (plain integers, no atomics),
//     holding a local cache of slots taken from the pool in batches.
// acquire() takes a slot from the local cache (refilling one batch from the pool
// when empty); release() puts it back in the local cache and returns a batch to the
// pool only above a high-water mark; flush() on idle ticks returns all cached slots
// so none strand on an idle worker.
//
// Conservation: pool + every budget's cache + slots held by callers == N at all
// times, so held slots never exceed N (exact, not approximate).
//
// Refresh priority: R = N * reserve_percent / 100 slots are a reserve that only
// refreshes of live bindings may take. It is enforced at the pool: a refill for
// "general" slots never takes the pool below R; refreshes that find no general
// slot take "reserve" slots, which the pool may give down to 0. Each acquired slot
// carries its tag (spike_slot) and goes back to the cache of the same tag, so a
// reserve slot released into a worker's cache is never handed to a new
// registration. That makes the priority exact too: general slots (cached or held)
// only grow at a refill that leaves the pool >= R, hence general <= N - R always,
// and new registrations never hold more than N - R.
//
// Sizing (decided in spike_pool's constructor, see spike_guard.cpp):
//   batch b = clamp((N - R) / (8 * workers), 1, 64), reserve batch rb likewise of R;
//   a cache is returned down to b when it exceeds 2b (hysteresis, so a worker at
//   the edge does not refill/return on alternate messages).
// So a worker touches the pool at most once per b of its acquires/releases (after a
// refill its cache is b: b acquires empty it, b + 1 releases overflow it), and the
// slots idle in caches are at most workers * 2 * (b + rb): about (N - R)/4 + R/4
// while the batches are not clamped, and at most workers * 256 once they are capped
// at 64 (4 workers: 1024 slots, 5% of N = 20000). The common suggestion of
// N / (4 * workers) would let caches strand up to N/2 under skewed load (one busy
// worker, the others idle between flushes); 8 halves that. Below 8 * workers slots
// b is clamped up to 1, every acquire touches the pool and caches may hold up to
// 2 * workers slots: such a small N is an operator's deliberate throttle, not a rate
// concern, and flush() on idle ticks gives those slots back.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace sipfront::reg {

/// Which kind of upstream REGISTER wants a slot.
enum class spike_kind : std::uint8_t {
  fresh,    ///< a new registration (no live binding): rejected with 503 first under overload
  refresh,  ///< a refresh / re-registration of a live binding: may use the reserve
};

/// What acquire() handed out. Keep it with the pending transaction (1 byte) and give
/// it back to release() when the upstream transaction ends.
enum class spike_slot : std::uint8_t {
  none,       ///< acquire failed: answer 503 with Retry-After
  general,    ///< a slot from the part of N both kinds share
  reserve,    ///< a slot from the refresh-only reserve
  unmetered,  ///< the guard is disabled (N = 0); release() ignores it
};

/// `registration spike N` and its 503 Retry-After range.
struct spike_config {
  std::uint32_t limit = 0;               ///< N: pending upstream REGISTERs across all workers; 0 = disabled
  std::uint32_t reserve_percent = 10;    ///< share of N only refreshes may take, 0..max_reserve_percent
  std::uint32_t retry_after_min_s = 30;  ///< 503 Retry-After drawn uniformly from [min, max] seconds
  std::uint32_t retry_after_max_s = 120;
};

/// Why a spike_config is refused.
enum class spike_errc : std::uint8_t {
  ok = 0,
  no_workers,             ///< n_workers is 0
  reserve_out_of_range,   ///< reserve_percent above max_reserve_percent
  retry_after_zero,       ///< a Retry-After bound is 0 (a 503 without a delay invites an instant retry storm)
  retry_after_inverted,   ///< retry_after_min_s > retry_after_max_s
  retry_after_too_large,  ///< retry_after_max_s above max_retry_after_s
};
std::string_view to_string(spike_errc e) noexcept;

/// A reserve above half of N would let refreshes starve new registrations for good
/// after an avalanche restart, when every phone is new; the reserve is a priority, not a partition.
inline constexpr std::uint32_t max_reserve_percent = 50;
/// One day: a longer Retry-After is an operator typo, not a back-off.
inline constexpr std::uint32_t max_retry_after_s = 86400;

/// Checks `cfg` for `n_workers` workers (slow path; called before building a spike_pool).
spike_errc validate(const spike_config& cfg, unsigned n_workers) noexcept;

/// The global pool: one per process, shared by every worker's spike_budget. Build it
/// on the control core before the workers start; it must outlive every budget.
class spike_pool {
 public:
  static constexpr std::uint32_t max_batch = 64;

  /// Precondition: validate(cfg, n_workers) == spike_errc::ok.
  spike_pool(const spike_config& cfg, unsigned n_workers) noexcept;
  spike_pool(const spike_pool&) = delete;
  spike_pool& operator=(const spike_pool&) = delete;

  [[nodiscard]] bool enabled() const noexcept { return limit_ != 0; }
  [[nodiscard]] std::uint32_t limit() const noexcept { return limit_; }
  [[nodiscard]] std::uint32_t reserve() const noexcept { return reserve_; }
  [[nodiscard]] std::uint32_t batch() const noexcept { return batch_; }
  [[nodiscard]] std::uint32_t reserve_batch() const noexcept { return reserve_batch_; }
  [[nodiscard]] const spike_config& config() const noexcept { return cfg_; }
  /// Slots in the pool now (not counting worker caches); for status and tests.
  [[nodiscard]] std::uint32_t free_in_pool() const noexcept { return free_.load(std::memory_order_relaxed); }

 private:
  friend class spike_budget;

  // Both take up to `want` slots; 0 when none are available. Lock-free CAS loops.
  std::uint32_t take_general(std::uint32_t want) noexcept;  // never leaves fewer than reserve_ in the pool
  std::uint32_t take_reserve(std::uint32_t want) noexcept;  // may empty the pool
  void give(std::uint32_t n) noexcept { free_.fetch_add(n, std::memory_order_relaxed); }

  // Read-only after construction; budgets copy what they need, so workers read the
  // atomic's line only on refill/return and never share a line with it otherwise.
  spike_config cfg_;
  std::uint32_t limit_;
  std::uint32_t reserve_;
  std::uint32_t batch_;
  std::uint32_t reserve_batch_;
  // On its own line: alignas(64) also makes sizeof(spike_pool) a multiple of 64, so
  // nothing the owner places after the pool shares the line either.
  alignas(64) std::atomic<std::uint32_t> free_;
};

/// Owner-written counters of one budget (read them on the owner, or copy them into
/// the worker's published counters).
struct spike_stats {
  std::uint64_t acquired_fresh = 0;
  std::uint64_t acquired_refresh = 0;
  std::uint64_t rejected_fresh = 0;
  std::uint64_t rejected_refresh = 0;
  std::uint64_t reserve_used = 0;  ///< refreshes that got a reserve slot
  std::uint64_t refills = 0;       ///< pool touches that took slots
  std::uint64_t returns = 0;       ///< pool touches that gave slots back
};

/// One worker's share of the spike limit. Owned by exactly one worker thread; none
/// of its methods are thread-safe, and none allocates, throws or makes a system call.
class alignas(64) spike_budget {
 public:
  /// `seed` seeds this worker's Retry-After generator (mixed with `worker_id`, so one
  /// seed for all workers still gives each its own sequence).
  spike_budget(spike_pool& pool, unsigned worker_id, std::uint64_t seed) noexcept;
  ~spike_budget();  ///< returns every cached slot to the pool
  spike_budget(const spike_budget&) = delete;
  spike_budget& operator=(const spike_budget&) = delete;

  /// A slot for one upstream REGISTER transaction, or spike_slot::none when the limit is
  /// reached (for `fresh`: when only the refresh reserve is left).
  [[nodiscard]] spike_slot acquire(spike_kind kind) noexcept;
  /// The upstream transaction that held `s` ended (final response, Timer F, or abandoned).
  /// Any other value than what acquire() returned for it corrupts the count.
  void release(spike_slot s) noexcept;
  /// Returns every cached slot to the pool. Call on idle polls so a worker that went
  /// quiet does not keep slots other workers need.
  void flush() noexcept;
  /// The delta-seconds for a 503 Retry-After: uniform in the configured [min, max].
  [[nodiscard]] std::uint32_t retry_after_s() noexcept;

  [[nodiscard]] std::uint32_t cached_general() const noexcept { return general_cache_; }
  [[nodiscard]] std::uint32_t cached_reserve() const noexcept { return reserve_cache_; }
  [[nodiscard]] const spike_stats& stats() const noexcept { return stats_; }

 private:
  bool refill_general() noexcept;
  bool refill_reserve() noexcept;

  spike_pool* pool_;
  std::uint32_t general_cache_ = 0;
  std::uint32_t reserve_cache_ = 0;
  std::uint32_t batch_;
  std::uint32_t reserve_batch_;
  std::uint32_t retry_min_s_;
  std::uint32_t retry_span_;  // max - min + 1
  bool enabled_;
  std::uint64_t rng_;  // xorshift64* state, never 0
  spike_stats stats_{};
};

}  // namespace sipfront::reg
