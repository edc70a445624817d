// Overload protection: global slot pool and per-worker budgets (design and sizing in spike_guard.hpp).
#include "sipfront/regengine/spike_guard.hpp"

#include <algorithm>
#include <cassert>

namespace sipfront::reg {

namespace {

// Spreads nearby seeds (worker 0, 1, 2 ...) over the whole state space, and never
// returns 0 for the inputs we feed it often enough to matter; xorshift needs a non-zero state.
std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Batch for a share of `slots` spread over `n_workers` (sizing in spike_guard.hpp).
std::uint32_t batch_for(std::uint32_t slots, unsigned n_workers) noexcept {
  if (slots == 0) return 0;
  const std::uint64_t per = slots / (std::uint64_t{8} * n_workers);
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(per, 1, spike_pool::max_batch));
}

}  // namespace

std::string_view to_string(spike_errc e) noexcept {
  switch (e) {
    case spike_errc::ok: return "ok";
    case spike_errc::no_workers: return "no_workers";
    case spike_errc::reserve_out_of_range: return "reserve_out_of_range";
    case spike_errc::retry_after_zero: return "retry_after_zero";
    case spike_errc::retry_after_inverted: return "retry_after_inverted";
    case spike_errc::retry_after_too_large: return "retry_after_too_large";
  }
  return "unknown";
}

spike_errc validate(const spike_config& cfg, unsigned n_workers) noexcept {
  if (n_workers == 0) return spike_errc::no_workers;
  // The reserve and Retry-After are checked even when the guard is disabled, so a
  // config that is wrong today does not start failing the day someone sets N.
  if (cfg.reserve_percent > max_reserve_percent) return spike_errc::reserve_out_of_range;
  if (cfg.retry_after_min_s == 0 || cfg.retry_after_max_s == 0) return spike_errc::retry_after_zero;
  if (cfg.retry_after_min_s > cfg.retry_after_max_s) return spike_errc::retry_after_inverted;
  if (cfg.retry_after_max_s > max_retry_after_s) return spike_errc::retry_after_too_large;
  return spike_errc::ok;
}

spike_pool::spike_pool(const spike_config& cfg, unsigned n_workers) noexcept
    : cfg_(cfg),
      limit_(cfg.limit),
      // Floor: a reserve of 10% of N = 5 is 0 slots, not 1; small limits keep all of N for new phones.
      reserve_(static_cast<std::uint32_t>(std::uint64_t{cfg.limit} * cfg.reserve_percent / 100)),
      batch_(batch_for(limit_ - reserve_, std::max(n_workers, 1U))),
      reserve_batch_(batch_for(reserve_, std::max(n_workers, 1U))),
      free_(cfg.limit) {
  assert(validate(cfg, n_workers) == spike_errc::ok);
}

std::uint32_t spike_pool::take_general(std::uint32_t want) noexcept {
  std::uint32_t cur = free_.load(std::memory_order_relaxed);
  for (;;) {
    if (cur <= reserve_) return 0;
    const std::uint32_t n = std::min(want, cur - reserve_);
    // Relaxed is enough: the count is the only shared datum; no other memory is
    // published through it.
    if (free_.compare_exchange_weak(cur, cur - n, std::memory_order_relaxed)) return n;
  }
}

std::uint32_t spike_pool::take_reserve(std::uint32_t want) noexcept {
  std::uint32_t cur = free_.load(std::memory_order_relaxed);
  for (;;) {
    if (cur == 0) return 0;
    const std::uint32_t n = std::min(want, cur);
    if (free_.compare_exchange_weak(cur, cur - n, std::memory_order_relaxed)) return n;
  }
}

spike_budget::spike_budget(spike_pool& pool, unsigned worker_id, std::uint64_t seed) noexcept
    : pool_(&pool),
      batch_(pool.batch_),
      reserve_batch_(pool.reserve_batch_),
      retry_min_s_(pool.cfg_.retry_after_min_s),
      retry_span_(pool.cfg_.retry_after_max_s - pool.cfg_.retry_after_min_s + 1),
      enabled_(pool.enabled()),
      rng_(splitmix64(seed ^ splitmix64(worker_id))) {
  if (rng_ == 0) rng_ = 0x9e3779b97f4a7c15ULL;
}

spike_budget::~spike_budget() { flush(); }

bool spike_budget::refill_general() noexcept {
  const std::uint32_t n = pool_->take_general(batch_);
  if (n == 0) return false;
  general_cache_ += n;
  ++stats_.refills;
  return true;
}

bool spike_budget::refill_reserve() noexcept {
  if (reserve_batch_ == 0) return false;
  const std::uint32_t n = pool_->take_reserve(reserve_batch_);
  if (n == 0) return false;
  reserve_cache_ += n;
  ++stats_.refills;
  return true;
}

spike_slot spike_budget::acquire(spike_kind kind) noexcept {
  if (!enabled_) [[unlikely]]
    return spike_slot::unmetered;
  if (kind == spike_kind::fresh) {
    if (general_cache_ != 0 || refill_general()) [[likely]] {
      --general_cache_;
      ++stats_.acquired_fresh;
      return spike_slot::general;
    }
    ++stats_.rejected_fresh;
    return spike_slot::none;
  }
  // Refresh: local caches first (no pool touch), general before reserve so the
  // reserve stays for when the shared part is gone; then the pool in the same order.
  if (general_cache_ != 0 || (reserve_cache_ == 0 && refill_general())) {
    --general_cache_;
    ++stats_.acquired_refresh;
    return spike_slot::general;
  }
  if (reserve_cache_ != 0 || refill_reserve()) {
    --reserve_cache_;
    ++stats_.acquired_refresh;
    ++stats_.reserve_used;
    return spike_slot::reserve;
  }
  ++stats_.rejected_refresh;
  return spike_slot::none;
}

void spike_budget::release(spike_slot s) noexcept {
  switch (s) {
    case spike_slot::general:
      if (++general_cache_ > 2 * batch_) [[unlikely]] {
        pool_->give(general_cache_ - batch_);
        general_cache_ = batch_;
        ++stats_.returns;
      }
      break;
    case spike_slot::reserve:
      if (++reserve_cache_ > 2 * reserve_batch_) [[unlikely]] {
        pool_->give(reserve_cache_ - reserve_batch_);
        reserve_cache_ = reserve_batch_;
        ++stats_.returns;
      }
      break;
    case spike_slot::none:
    case spike_slot::unmetered: break;
  }
}

void spike_budget::flush() noexcept {
  const std::uint32_t n = general_cache_ + reserve_cache_;
  if (n == 0) return;
  pool_->give(n);
  general_cache_ = 0;
  reserve_cache_ = 0;
  ++stats_.returns;
}

std::uint32_t spike_budget::retry_after_s() noexcept {
  // xorshift64*: three shifts and a multiply, per-worker state, no syscall, no
  // global RNG. The top 32 bits are the good ones; Lemire's multiply-shift maps them
  // onto the span with a bias of span / 2^32 (< 1e-5 for a one-day span).
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  const std::uint64_t r = (rng_ * 0x2545f4914f6cdd1dULL) >> 32;
  return retry_min_s_ + static_cast<std::uint32_t>((r * retry_span_) >> 32);
}

}  // namespace sipfront::reg
