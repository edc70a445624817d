// spike_pool / spike_budget: config validation, sizing, fresh vs refresh priority,
// exhaustion, batched refill and return, flush, Retry-After range, and a
// multi-threaded stress test of the invariant (held slots <= N, new registrations
// <= N - reserve) with one budget per thread, as on the workers.

#include "sipfront/regengine/spike_guard.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace {

using sipfront::reg::spike_budget;
using sipfront::reg::spike_config;
using sipfront::reg::spike_errc;
using sipfront::reg::spike_kind;
using sipfront::reg::spike_pool;
using sipfront::reg::spike_slot;
using sipfront::reg::validate;

spike_config cfg_of(std::uint32_t n, std::uint32_t reserve_percent = 10) {
  spike_config c;
  c.limit = n;
  c.reserve_percent = reserve_percent;
  c.retry_after_min_s = 10;
  c.retry_after_max_s = 20;
  return c;
}

TEST(SpikeConfig, ValidatesBounds) {
  spike_config c = cfg_of(100);
  EXPECT_EQ(validate(c, 4), spike_errc::ok);
  EXPECT_EQ(validate(c, 0), spike_errc::no_workers);

  c.limit = 0;  // disabled is a valid setting
  EXPECT_EQ(validate(c, 1), spike_errc::ok);

  c = cfg_of(100, 0);
  EXPECT_EQ(validate(c, 1), spike_errc::ok);
  c.reserve_percent = sipfront::reg::max_reserve_percent;
  EXPECT_EQ(validate(c, 1), spike_errc::ok);
  c.reserve_percent = sipfront::reg::max_reserve_percent + 1;
  EXPECT_EQ(validate(c, 1), spike_errc::reserve_out_of_range);

  c = cfg_of(100);
  c.retry_after_min_s = 0;
  EXPECT_EQ(validate(c, 1), spike_errc::retry_after_zero);
  c = cfg_of(100);
  c.retry_after_max_s = 0;
  EXPECT_EQ(validate(c, 1), spike_errc::retry_after_zero);
  c = cfg_of(100);
  c.retry_after_min_s = 21;
  EXPECT_EQ(validate(c, 1), spike_errc::retry_after_inverted);
  c.retry_after_min_s = 20;  // min == max is a fixed Retry-After
  EXPECT_EQ(validate(c, 1), spike_errc::ok);
  c.retry_after_max_s = sipfront::reg::max_retry_after_s + 1;
  EXPECT_EQ(validate(c, 1), spike_errc::retry_after_too_large);

  for (auto e : {spike_errc::ok, spike_errc::no_workers, spike_errc::reserve_out_of_range, spike_errc::retry_after_zero,
                 spike_errc::retry_after_inverted, spike_errc::retry_after_too_large}) {
    EXPECT_NE(to_string(e), "unknown");
  }
}

TEST(SpikeGuard, DisabledIsUnlimited) {
  spike_pool pool(cfg_of(0), 2);
  spike_budget b(pool, 0, 1);
  EXPECT_FALSE(pool.enabled());
  for (int i = 0; i < 100000; ++i) {
    ASSERT_EQ(b.acquire(i % 2 == 0 ? spike_kind::fresh : spike_kind::refresh), spike_slot::unmetered);
  }
  b.release(spike_slot::unmetered);
  b.flush();
  EXPECT_EQ(pool.free_in_pool(), 0U);
  EXPECT_EQ(b.cached_general(), 0U);
}

TEST(SpikeGuard, Sizing) {
  {
    spike_pool p(cfg_of(20000), 4);  // R = 2000; (N-R)/32 = 562 -> capped at 64; R/32 = 62
    EXPECT_EQ(p.reserve(), 2000U);
    EXPECT_EQ(p.batch(), 64U);
    EXPECT_EQ(p.reserve_batch(), 62U);
  }
  {
    spike_pool p(cfg_of(100), 4);  // R = 10; 90/32 = 2; 10/32 = 0 -> at least 1
    EXPECT_EQ(p.reserve(), 10U);
    EXPECT_EQ(p.batch(), 2U);
    EXPECT_EQ(p.reserve_batch(), 1U);
  }
  {
    spike_pool p(cfg_of(5), 4);  // 10% of 5 floors to 0: no reserve
    EXPECT_EQ(p.reserve(), 0U);
    EXPECT_EQ(p.batch(), 1U);
    EXPECT_EQ(p.reserve_batch(), 0U);
  }
}

TEST(SpikeGuard, FreshStopsAtReserveRefreshUsesIt) {
  spike_pool pool(cfg_of(100), 1);
  spike_budget b(pool, 0, 1);
  int fresh = 0;
  while (b.acquire(spike_kind::fresh) != spike_slot::none) ++fresh;
  EXPECT_EQ(fresh, 90);  // exactly N - R: the pool gives partial batches down to R
  EXPECT_EQ(pool.free_in_pool(), 10U);
  EXPECT_EQ(b.acquire(spike_kind::fresh), spike_slot::none);

  int refresh = 0;
  spike_slot s;
  while ((s = b.acquire(spike_kind::refresh)) != spike_slot::none) {
    EXPECT_EQ(s, spike_slot::reserve);
    ++refresh;
  }
  EXPECT_EQ(refresh, 10);
  EXPECT_EQ(pool.free_in_pool(), 0U);
  EXPECT_EQ(b.stats().acquired_fresh, 90U);
  EXPECT_EQ(b.stats().acquired_refresh, 10U);
  EXPECT_EQ(b.stats().reserve_used, 10U);
  EXPECT_EQ(b.stats().rejected_fresh, 2U);
  EXPECT_EQ(b.stats().rejected_refresh, 1U);
}

TEST(SpikeGuard, RefreshPrefersGeneralSlots) {
  spike_pool pool(cfg_of(100), 1);
  spike_budget b(pool, 0, 1);
  EXPECT_EQ(b.acquire(spike_kind::refresh), spike_slot::general);
  EXPECT_EQ(b.stats().reserve_used, 0U);
}

TEST(SpikeGuard, ReleasedReserveSlotNeverServesFresh) {
  spike_pool pool(cfg_of(100), 1);
  spike_budget b(pool, 0, 1);
  while (b.acquire(spike_kind::fresh) != spike_slot::none) {
  }
  std::vector<spike_slot> reserve;
  spike_slot s;
  while ((s = b.acquire(spike_kind::refresh)) != spike_slot::none) reserve.push_back(s);
  ASSERT_EQ(reserve.size(), 10U);
  b.release(reserve.back());
  reserve.pop_back();
  EXPECT_EQ(b.cached_reserve(), 1U);
  EXPECT_EQ(b.acquire(spike_kind::fresh), spike_slot::none);  // the freed slot is refresh-only
  EXPECT_EQ(b.acquire(spike_kind::refresh), spike_slot::reserve);
}

TEST(SpikeGuard, ReleasedGeneralSlotServesFreshAgain) {
  spike_pool pool(cfg_of(100), 1);
  spike_budget b(pool, 0, 1);
  while (b.acquire(spike_kind::fresh) != spike_slot::none) {
  }
  b.release(spike_slot::general);
  EXPECT_EQ(b.acquire(spike_kind::fresh), spike_slot::general);
  EXPECT_EQ(b.acquire(spike_kind::fresh), spike_slot::none);
}

TEST(SpikeGuard, RefillsInBatches) {
  spike_pool pool(cfg_of(20000), 1);  // batch 64
  spike_budget b(pool, 0, 1);
  ASSERT_EQ(pool.batch(), 64U);
  ASSERT_EQ(b.acquire(spike_kind::fresh), spike_slot::general);
  EXPECT_EQ(b.stats().refills, 1U);
  EXPECT_EQ(b.cached_general(), 63U);
  EXPECT_EQ(pool.free_in_pool(), 20000U - 64U);
  for (int i = 0; i < 63; ++i) ASSERT_EQ(b.acquire(spike_kind::fresh), spike_slot::general);
  EXPECT_EQ(b.stats().refills, 1U);  // 64 acquires, one pool touch
  ASSERT_EQ(b.acquire(spike_kind::fresh), spike_slot::general);
  EXPECT_EQ(b.stats().refills, 2U);
}

TEST(SpikeGuard, ReturnsAboveHighWaterMark) {
  spike_pool pool(cfg_of(20000), 1);
  spike_budget b(pool, 0, 1);
  std::vector<spike_slot> held;
  held.reserve(300);
  for (int i = 0; i < 300; ++i) held.push_back(b.acquire(spike_kind::fresh));
  for (std::size_t i = 0; i < held.size(); ++i) {
    b.release(held[i]);
    ASSERT_LE(b.cached_general(), 2 * pool.batch());
    const std::size_t still_held = held.size() - i - 1;
    ASSERT_EQ(pool.free_in_pool() + b.cached_general() + still_held, 20000U);  // conservation
  }
  EXPECT_GE(b.stats().returns, 3U);
  EXPECT_GE(b.cached_general(), pool.batch());  // kept: the next acquires do not touch the pool
}

TEST(SpikeGuard, FlushReturnsEveryCachedSlot) {
  spike_pool pool(cfg_of(1000), 2);
  spike_budget a(pool, 0, 1);
  spike_budget b(pool, 1, 1);
  const spike_slot s = a.acquire(spike_kind::fresh);
  (void)b.acquire(spike_kind::refresh);
  b.release(spike_slot::general);
  EXPECT_LT(pool.free_in_pool() + 1, 1000U);  // caches hold some
  a.release(s);
  a.flush();
  b.flush();
  EXPECT_EQ(a.cached_general() + a.cached_reserve() + b.cached_general() + b.cached_reserve(), 0U);
  EXPECT_EQ(pool.free_in_pool(), 1000U);
}

TEST(SpikeGuard, IdleWorkerFlushUnstrandsSlots) {
  spike_pool pool(cfg_of(16, 0), 1);  // batch 2: one worker's cache can hold what another needs
  spike_budget idle(pool, 0, 1);
  spike_budget busy(pool, 1, 1);
  idle.release(idle.acquire(spike_kind::fresh));  // leaves a cached slot on the idle worker
  ASSERT_GT(idle.cached_general(), 0U);
  int got = 0;
  while (busy.acquire(spike_kind::fresh) != spike_slot::none) ++got;
  EXPECT_EQ(got, 16 - static_cast<int>(idle.cached_general()));
  idle.flush();
  EXPECT_NE(busy.acquire(spike_kind::fresh), spike_slot::none);
}

TEST(SpikeGuard, DestructorReturnsCache) {
  spike_pool pool(cfg_of(1000), 1);
  {
    spike_budget b(pool, 0, 1);
    b.release(b.acquire(spike_kind::fresh));
    ASSERT_LT(pool.free_in_pool(), 1000U);
  }
  EXPECT_EQ(pool.free_in_pool(), 1000U);
}

TEST(SpikeGuard, RetryAfterUniformInRange) {
  spike_config c = cfg_of(10);
  c.retry_after_min_s = 5;
  c.retry_after_max_s = 9;
  spike_pool pool(c, 2);
  spike_budget b(pool, 0, 42);
  std::vector<int> seen(10, 0);
  for (int i = 0; i < 50000; ++i) {
    const std::uint32_t r = b.retry_after_s();
    ASSERT_GE(r, 5U);
    ASSERT_LE(r, 9U);
    ++seen[r];
  }
  for (unsigned v = 5; v <= 9; ++v) {
    EXPECT_GT(seen[v], 9000) << v;  // 10000 expected each
    EXPECT_LT(seen[v], 11000) << v;
  }
}

TEST(SpikeGuard, RetryAfterFixedWhenMinEqualsMax) {
  spike_config c = cfg_of(10);
  c.retry_after_min_s = 7;
  c.retry_after_max_s = 7;
  spike_pool pool(c, 1);
  spike_budget b(pool, 0, 0);  // seed 0 still works
  for (int i = 0; i < 100; ++i) ASSERT_EQ(b.retry_after_s(), 7U);
}

TEST(SpikeGuard, RetryAfterPerWorkerSequences) {
  spike_config c = cfg_of(10);
  c.retry_after_min_s = 1;
  c.retry_after_max_s = 3600;
  spike_pool pool(c, 2);
  spike_budget w0(pool, 0, 7);
  spike_budget w1(pool, 1, 7);
  spike_budget w0_again(pool, 0, 7);
  int same = 0;
  for (int i = 0; i < 100; ++i) {
    const std::uint32_t a = w0.retry_after_s();
    EXPECT_EQ(a, w0_again.retry_after_s());  // deterministic per (seed, worker)
    if (a == w1.retry_after_s()) ++same;
  }
  EXPECT_LT(same, 5);  // same seed, different workers: different sequences
}

// Each thread is a worker with its own budget: random fresh/refresh acquires and
// releases, occasional idle flushes. The observed counts are raised after a
// successful acquire and lowered before the release, so they never exceed what is
// really held: their maxima bound the guard's invariant from below.
TEST(SpikeGuardStress, HeldNeverExceedsLimit) {
  constexpr std::uint32_t n = 200;
  constexpr unsigned workers = 4;
  constexpr int iterations = 300000;
  spike_pool pool(cfg_of(n, 10), workers);
  const std::uint32_t general_limit = n - pool.reserve();

  std::atomic<std::int64_t> held{0};
  std::atomic<std::int64_t> held_general{0};
  std::atomic<std::int64_t> max_held{0};
  std::atomic<std::int64_t> max_general{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> reserve_used{0};

  auto raise_max = [](std::atomic<std::int64_t>& m, std::int64_t v) {
    std::int64_t cur = m.load(std::memory_order_relaxed);
    while (v > cur && !m.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
    }
  };

  std::vector<std::unique_ptr<spike_budget>> budgets;
  for (unsigned w = 0; w < workers; ++w) budgets.push_back(std::make_unique<spike_budget>(pool, w, 99));

  std::atomic<unsigned> ready{0};
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      // Start together, so the workers really contend for the pool.
      ready.fetch_add(1);
      while (ready.load() < workers) std::this_thread::yield();
      spike_budget& b = *budgets[w];
      std::mt19937 rng(1234 + w);
      std::vector<spike_slot> mine;
      mine.reserve(n);
      for (int i = 0; i < iterations; ++i) {
        const auto r = static_cast<unsigned>(rng() % 100);
        if (r < 55) {
          const spike_kind k = (r % 3 == 0) ? spike_kind::refresh : spike_kind::fresh;
          const spike_slot s = b.acquire(k);
          if (s == spike_slot::none) {
            rejected.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
          ASSERT_LT(mine.size(), static_cast<std::size_t>(n)) << "a worker holds more than N";
          if (s == spike_slot::reserve) reserve_used.fetch_add(1, std::memory_order_relaxed);
          raise_max(max_held, held.fetch_add(1, std::memory_order_relaxed) + 1);
          if (s == spike_slot::general) {
            raise_max(max_general, held_general.fetch_add(1, std::memory_order_relaxed) + 1);
          }
          mine.push_back(s);
        } else if (r < 99) {
          if (mine.empty()) continue;
          const std::size_t at = rng() % mine.size();
          const spike_slot s = mine[at];
          mine[at] = mine.back();
          mine.pop_back();
          held.fetch_sub(1, std::memory_order_relaxed);
          if (s == spike_slot::general) held_general.fetch_sub(1, std::memory_order_relaxed);
          b.release(s);
        } else {
          b.flush();  // an idle tick
        }
      }
      for (auto s : mine) {
        held.fetch_sub(1, std::memory_order_relaxed);
        if (s == spike_slot::general) held_general.fetch_sub(1, std::memory_order_relaxed);
        b.release(s);
      }
      b.flush();
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_LE(max_held.load(), static_cast<std::int64_t>(n));
  EXPECT_LE(max_general.load(), static_cast<std::int64_t>(general_limit));
  EXPECT_GT(max_held.load(), static_cast<std::int64_t>(general_limit));  // the reserve was reached
  EXPECT_GT(rejected.load(), 0U);                                        // the limit was hit
  EXPECT_GT(reserve_used.load(), 0U);
  EXPECT_EQ(held.load(), 0);
  EXPECT_EQ(pool.free_in_pool(), n);  // conservation: every slot came back
}

}  // namespace
