// timer_wheel against a fake clock: exact firing ticks across every level boundary,
// deadlines beyond the wheel's range, 32-bit wrap of slot arithmetic, clock jumps of
// days, cancellation storms, the callback and cascade caps, re-arming from callbacks,
// auto-unlink, and a seeded differential test against a std::multimap reference.

#include "sipfront/regengine/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <ostream>
#include <random>
#include <utility>
#include <vector>

namespace {

using sipfront::reg::timer_hook;
using sipfront::reg::timer_wheel;

constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();
constexpr std::uint64_t two32 = std::uint64_t{1} << 32;
constexpr std::uint64_t two40 = std::uint64_t{1} << 40;

struct rec : timer_hook {
  std::uint32_t id = 0;
};

rec& owner(timer_hook& h) { return static_cast<rec&>(h); }

// What one callback saw.
struct firing {
  std::uint32_t id;
  std::uint64_t expires;
  std::uint64_t wheel_now;
  bool armed_in_callback;
};

// Advances to `now` and returns what fired, in order.
std::vector<firing> run(timer_wheel& w, std::uint64_t now, std::size_t budget = unlimited) {
  std::vector<firing> out;
  const std::size_t n = w.advance(now, budget, [&](timer_hook& h) {
    out.push_back({owner(h).id, h.expires, w.now(), h.armed()});
  });
  EXPECT_EQ(n, out.size());
  return out;
}

// Advances to `now` over as many calls as the cascade cap needs, and returns what fired.
std::vector<firing> run_all(timer_wheel& w, std::uint64_t now) {
  std::vector<firing> out;
  for (std::size_t calls = 0; w.now() < now || w.backlogged(); ++calls) {
    if (calls == 100'000) {
      ADD_FAILURE() << "advance makes no progress";
      break;
    }
    for (const firing& f : run(w, now)) out.push_back(f);
  }
  return out;
}

// Deadline offsets at and around every level boundary and beyond the wheel's range.
std::vector<std::uint64_t> boundary_offsets() {
  std::vector<std::uint64_t> v;
  for (unsigned bits : {8U, 16U, 24U, 32U}) {
    const std::uint64_t b = std::uint64_t{1} << bits;
    for (std::uint64_t d : {b - 2, b - 1, b, b + 1, b + 2, 2 * b - 1, 2 * b}) v.push_back(d);
  }
  for (std::uint64_t d : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{100}, two32 * 3 + 12345, two40 + 7,
                          (std::uint64_t{1} << 45) + 99}) {
    v.push_back(d);
  }
  return v;
}

const std::uint64_t starts[] = {0, 1, 12345, two32 - 5, two32 + 3, two40 - 3, two40 + 77, (std::uint64_t{1} << 56) - 1};

TEST(timer_wheel, starts_empty_at_its_clock) {
  timer_wheel w(42);
  EXPECT_EQ(w.now(), 42U);
  EXPECT_EQ(w.armed_count(), 0U);
  EXPECT_TRUE(run(w, 1000).empty());
  EXPECT_EQ(w.now(), 1000U);
}

TEST(timer_wheel, fires_at_exact_tick_tick_by_tick) {
  timer_wheel w(7);
  std::vector<std::unique_ptr<rec>> r;
  for (std::uint32_t d : {1U, 2U, 255U, 256U, 257U, 511U, 512U, 65535U, 65536U, 65537U, 70000U}) {
    r.push_back(std::make_unique<rec>());
    r.back()->id = d;
    w.arm(*r.back(), 7 + d);
  }
  std::size_t seen = 0;
  for (std::uint64_t t = 8; t <= 7 + 70000; ++t) {
    for (const firing& f : run(w, t)) {
      EXPECT_EQ(f.expires, t);
      EXPECT_EQ(f.wheel_now, t);
      EXPECT_FALSE(f.armed_in_callback);
      ++seen;
    }
  }
  EXPECT_EQ(seen, r.size());
  EXPECT_EQ(w.armed_count(), 0U);
}

TEST(timer_wheel, every_level_boundary_from_many_starts_never_early_never_late) {
  for (std::uint64_t start : starts) {
    for (std::uint64_t d : boundary_offsets()) {
      SCOPED_TRACE(testing::Message() << "start " << start << " offset " << d);
      timer_wheel w(start);
      rec r;
      r.id = 1;
      w.arm(r, start + d);
      EXPECT_TRUE(r.armed());
      // run_all: beyond 2^44 ticks the parked timer is re-placed more often than
      // one call's cascade budget allows.
      EXPECT_TRUE(run_all(w, start + d - 1).empty());
      EXPECT_EQ(w.now(), start + d - 1);
      const auto f = run_all(w, start + d);
      ASSERT_EQ(f.size(), 1U);
      EXPECT_EQ(f[0].wheel_now, start + d);
      EXPECT_FALSE(r.armed());
    }
  }
}

TEST(timer_wheel, every_level_boundary_reached_in_random_steps) {
  std::mt19937_64 rng(7);
  for (std::uint64_t start : starts) {
    for (std::uint64_t d : boundary_offsets()) {
      SCOPED_TRACE(testing::Message() << "start " << start << " offset " << d);
      timer_wheel w(start);
      rec r;
      w.arm(r, start + d);
      std::vector<firing> fired;
      std::uint64_t now = start;
      while (fired.empty() && now < start + 2 * d + 1) {
        // Steps of up to ~d/4 so long offsets still take a handful of calls.
        now += 1 + rng() % std::max<std::uint64_t>(1, d / 4);
        fired = run_all(w, now);
        if (now < start + d) {
          EXPECT_TRUE(fired.empty());
        }
      }
      ASSERT_EQ(fired.size(), 1U);
      EXPECT_EQ(fired[0].wheel_now, start + d);
    }
  }
}

TEST(timer_wheel, past_and_current_deadlines_fire_on_next_advance_without_moving_the_clock) {
  timer_wheel w(1000);
  rec past, current, future;
  past.id = 1;
  current.id = 2;
  future.id = 3;
  w.arm(past, 10);
  w.arm(current, 1000);
  w.arm(future, 1001);
  auto f = run(w, 1000);
  ASSERT_EQ(f.size(), 2U);
  EXPECT_EQ(f[0].wheel_now, 1000U);
  EXPECT_EQ(f[1].wheel_now, 1000U);
  EXPECT_EQ(w.now(), 1000U);
  // A clock that goes backwards still runs what is due, and does not move the wheel.
  w.arm(past, 0);
  f = run(w, 500);
  ASSERT_EQ(f.size(), 1U);
  EXPECT_EQ(f[0].id, 1U);
  EXPECT_EQ(w.now(), 1000U);
  f = run(w, 1001);
  ASSERT_EQ(f.size(), 1U);
  EXPECT_EQ(f[0].id, 3U);
}

TEST(timer_wheel, wrap_around_two_to_the_32_every_tick_across_the_boundary) {
  const std::uint64_t start = two32 - 5;
  timer_wheel w(start);
  std::vector<rec> r(600);
  for (std::uint32_t i = 0; i < r.size(); ++i) {
    r[i].id = i;
    w.arm(r[i], start + 1 + i);  // 2^32-4 .. 2^32+595, across a level-3 boundary
  }
  for (std::uint64_t t = start + 1; t <= start + r.size(); ++t) {
    const auto f = run(w, t);
    ASSERT_EQ(f.size(), 1U) << t;
    EXPECT_EQ(f[0].expires, t);
    EXPECT_EQ(f[0].wheel_now, t);
  }
}

TEST(timer_wheel, wrap_around_deadlines_on_every_level_across_two_to_the_32_and_the_40) {
  for (std::uint64_t boundary : {two32, two40, two40 + two32}) {
    const std::uint64_t start = boundary - 5;
    timer_wheel w(start);
    // Deadlines on both sides of the boundary, at every level's distance from the start.
    std::vector<std::uint64_t> at = {boundary - 1,         boundary,
                                     boundary + 1,         boundary + 255,
                                     boundary + 256,       boundary + 65535,
                                     boundary + 65536,     boundary + (1U << 24),
                                     boundary + two32 - 6, boundary + two32 - 5,
                                     boundary + two32,     boundary + 3 * two32 + 1};
    std::vector<rec> r(at.size());
    for (std::uint32_t i = 0; i < r.size(); ++i) {
      r[i].id = i;
      w.arm(r[i], at[i]);
    }
    std::vector<firing> fired;
    // Walk in uneven steps that land on and around the deadlines.
    std::uint64_t now = start;
    for (std::uint64_t step : {1ULL, 3ULL, 1ULL, 1ULL, 200ULL, 60000ULL, 1ULL << 23, 1ULL << 31, 1ULL << 33}) {
      now += step;
      for (const firing& f : run(w, now)) fired.push_back(f);
    }
    for (const firing& f : run(w, boundary + 4 * two32)) fired.push_back(f);
    ASSERT_EQ(fired.size(), at.size());
    for (std::size_t i = 0; i < fired.size(); ++i) {
      EXPECT_EQ(fired[i].expires, at[fired[i].id]);
      EXPECT_EQ(fired[i].wheel_now, std::max(fired[i].expires, start));
      if (i > 0) {
        EXPECT_LE(fired[i - 1].wheel_now, fired[i].wheel_now);
      }
    }
  }
}

TEST(timer_wheel, beyond_range_deadlines_park_and_recascade) {
  const std::uint64_t start = 123456789;
  timer_wheel w(start);
  const std::uint64_t far[] = {two32, two32 + 1, 2 * two32 - 1, 5 * two32 + 17, two40 + 3};
  std::vector<rec> r(std::size(far));
  for (std::uint32_t i = 0; i < r.size(); ++i) {
    r[i].id = i;
    w.arm(r[i], start + far[i]);
  }
  // One jump over all of them: each fires at its own tick, in order.
  const auto f = run(w, start + two40 + 10);
  ASSERT_EQ(f.size(), r.size());
  for (std::uint32_t i = 0; i < f.size(); ++i) {
    EXPECT_EQ(f[i].id, i);
    EXPECT_EQ(f[i].wheel_now, start + far[i]);
  }
}

TEST(timer_wheel, clock_jumps_of_days_and_more) {
  // Would never finish if advancing cost O(ticks).
  timer_wheel w(0);
  EXPECT_TRUE(run(w, std::uint64_t{1} << 62).empty());
  EXPECT_EQ(w.now(), std::uint64_t{1} << 62);

  const std::uint64_t day = 86'400'000;
  timer_wheel w2(5);
  std::vector<rec> r(1000);
  std::mt19937_64 rng(3);
  std::vector<std::uint64_t> want;
  for (std::uint32_t i = 0; i < r.size(); ++i) {
    r[i].id = i;
    w2.arm(r[i], 5 + 1 + rng() % (400 * day));
    want.push_back(r[i].expires);
  }
  std::sort(want.begin(), want.end());
  std::vector<std::uint64_t> got;
  std::uint64_t prev = w2.now();
  for (std::uint64_t now = 5 + 3 * day; got.size() < r.size(); now += 3 * day + rng() % day) {
    for (const firing& f : run(w2, now)) {
      EXPECT_EQ(f.wheel_now, f.expires);
      EXPECT_LE(f.expires, now);
      EXPECT_GT(f.expires, prev);  // not late: fired by the first call that reached it
      got.push_back(f.expires);
    }
    prev = now;
  }
  EXPECT_EQ(got, want);
}

TEST(timer_wheel, tick_order_across_one_big_jump) {
  timer_wheel w(two32 - 1000);
  std::vector<rec> r(20000);
  std::mt19937_64 rng(11);
  for (std::uint32_t i = 0; i < r.size(); ++i) {
    r[i].id = i;
    w.arm(r[i], two32 - 1000 + 1 + rng() % 5'000'000);
  }
  // About 40k re-placements: several calls under the default cascade budget.
  const auto f = run_all(w, two32 + 10'000'000);
  ASSERT_EQ(f.size(), r.size());
  for (std::size_t i = 0; i < f.size(); ++i) {
    EXPECT_EQ(f[i].wheel_now, f[i].expires);
    if (i > 0) {
      ASSERT_LE(f[i - 1].expires, f[i].expires);
    }
  }
}

TEST(timer_wheel, cancellation_storm_leaves_exactly_the_survivor) {
  constexpr std::uint32_t n = 1'000'000;
  const std::uint64_t start = two32 - 77;
  timer_wheel w(start);
  std::vector<rec> r(n);
  std::mt19937_64 rng(2024);
  for (std::uint32_t i = 0; i < n; ++i) {
    r[i].id = i;
    // Spread over every level and beyond the range.
    w.arm(r[i], start + 1 + (rng() >> (rng() % 64)) % (two32 * 4));
  }
  EXPECT_EQ(w.armed_count(), n);
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0U);
  std::shuffle(order.begin(), order.end(), rng);
  const std::uint32_t survivor = order.back();
  order.pop_back();
  for (std::uint32_t i : order) timer_wheel::cancel(r[i]);
  EXPECT_EQ(w.armed_count(), 1U);
  EXPECT_TRUE(r[survivor].armed());

  const std::uint64_t at = r[survivor].expires;
  EXPECT_TRUE(run(w, at - 1).empty());
  const auto f = run(w, start + two32 * 8);
  ASSERT_EQ(f.size(), 1U);
  EXPECT_EQ(f[0].id, survivor);
  EXPECT_EQ(f[0].wheel_now, at);
  EXPECT_EQ(w.armed_count(), 0U);
}

TEST(timer_wheel, budget_cap_defers_in_tick_order_and_holds_the_clock) {
  timer_wheel w(100);
  std::vector<rec> r(10);
  for (std::uint32_t i = 0; i < r.size(); ++i) {
    r[i].id = i;
    w.arm(r[i], i < 5 ? 110 : 120 + i);  // five at tick 110, then 125..129
  }
  auto f = run(w, 1000, 3);
  ASSERT_EQ(f.size(), 3U);
  for (const firing& x : f) EXPECT_EQ(x.wheel_now, 110U);
  EXPECT_EQ(w.now(), 110U);  // two more of tick 110 are pending

  // A deadline between the held clock and the caller's clock keeps its place in order.
  rec mid;
  mid.id = 99;
  w.arm(mid, 124);
  // And one in the past is due at the held clock, after what is already due.
  rec late;
  late.id = 98;
  w.arm(late, 50);

  f = run(w, 1000, 3);
  ASSERT_EQ(f.size(), 3U);
  EXPECT_EQ(f[0].wheel_now, 110U);
  EXPECT_EQ(f[1].wheel_now, 110U);
  EXPECT_EQ(f[2].id, 98U);
  // The budget is spent but nothing is pending, so the clock moves on to the next
  // deadline (124) and holds there.
  EXPECT_EQ(w.now(), 124U);
  f = run(w, 1000, 2);
  ASSERT_EQ(f.size(), 2U);
  EXPECT_EQ(f[0].id, 99U);
  EXPECT_EQ(f[0].wheel_now, 124U);
  EXPECT_EQ(f[1].wheel_now, 125U);
  EXPECT_EQ(w.now(), 126U);
  f = run(w, 1000);
  ASSERT_EQ(f.size(), 4U);
  for (std::uint32_t i = 0; i < 4; ++i) EXPECT_EQ(f[i].wheel_now, 126U + i);
  EXPECT_EQ(w.now(), 1000U);
}

TEST(timer_wheel, zero_budget_fires_nothing_but_moves_the_clock_to_the_pending_tick) {
  timer_wheel w(0);
  rec r;
  w.arm(r, 500);
  EXPECT_TRUE(run(w, 400, 0).empty());
  EXPECT_EQ(w.now(), 400U);
  EXPECT_TRUE(run(w, 900, 0).empty());
  EXPECT_EQ(w.now(), 500U);
  EXPECT_TRUE(r.armed());
  EXPECT_EQ(run(w, 900, 1).size(), 1U);
  EXPECT_EQ(w.now(), 900U);
}

TEST(timer_wheel, periodic_rearm_from_callback_across_a_jump) {
  timer_wheel w(two32 - 50);
  rec r;
  const std::uint64_t period = 300;
  w.arm(r, w.now() + period);
  std::vector<std::uint64_t> ticks;
  const std::size_t n = w.advance(two32 + 10 * period, unlimited, [&](timer_hook& h) {
    ticks.push_back(w.now());
    EXPECT_FALSE(h.armed());
    w.arm(h, h.expires + period);
  });
  EXPECT_EQ(n, 10U);
  for (std::size_t i = 0; i < ticks.size(); ++i) EXPECT_EQ(ticks[i], two32 - 50 + (i + 1) * period);
  EXPECT_TRUE(r.armed());
  EXPECT_EQ(r.expires, two32 - 50 + 11 * period);
}

TEST(timer_wheel, rearm_into_the_past_from_callback_runs_again_within_the_budget) {
  timer_wheel w(10);
  rec r;
  w.arm(r, 20);
  int calls = 0;
  auto again = [&](timer_hook& h) {
    if (++calls < 5) w.arm(h, 0);
  };
  EXPECT_EQ(w.advance(30, 3, again), 3U);
  EXPECT_EQ(w.now(), 20U);  // still pending at tick 20
  EXPECT_EQ(w.advance(30, unlimited, again), 2U);
  EXPECT_EQ(calls, 5);
  EXPECT_FALSE(r.armed());
  EXPECT_EQ(w.now(), 30U);
}

TEST(timer_wheel, callback_may_cancel_or_destroy_other_due_timers) {
  timer_wheel w(0);
  std::vector<std::optional<rec>> r(6);
  for (std::uint32_t i = 0; i < r.size(); ++i) {
    r[i].emplace();
    r[i]->id = i;
    w.arm(*r[i], 10);
  }
  std::vector<std::uint32_t> fired;
  w.advance(10, unlimited, [&](timer_hook& h) {
    fired.push_back(owner(h).id);
    // Whoever fires first takes every other timer of the tick with it.
    if (fired.size() == 1) {
      for (auto& o : r) {
        if (&*o == &h) continue;
        if (o->id % 2 != 0) {
          timer_wheel::cancel(*o);
        } else {
          o.reset();
        }
      }
    }
  });
  EXPECT_EQ(fired.size(), 1U);
  EXPECT_EQ(w.armed_count(), 0U);
}

TEST(timer_wheel, destroying_an_armed_record_unlinks_it) {
  timer_wheel w(0);
  rec keep;
  keep.id = 1;
  w.arm(keep, 5000);
  {
    std::vector<rec> gone(100);
    for (std::uint32_t i = 0; i < gone.size(); ++i) w.arm(gone[i], 1 + i * 997);
    EXPECT_EQ(w.armed_count(), 101U);
  }
  EXPECT_EQ(w.armed_count(), 1U);
  const auto f = run(w, two32 * 2);
  ASSERT_EQ(f.size(), 1U);
  EXPECT_EQ(f[0].id, 1U);
}

TEST(timer_wheel, destroying_the_wheel_disarms_its_hooks) {
  rec a, b, c;
  {
    timer_wheel w(0);
    w.arm(a, 0);           // due
    w.arm(b, 1000);        // in the wheel
    w.arm(c, 10 * two32);  // parked
  }
  EXPECT_FALSE(a.armed());
  EXPECT_FALSE(b.armed());
  EXPECT_FALSE(c.armed());
}

TEST(timer_wheel, rearm_moves_the_timer) {
  timer_wheel w(0);
  rec r;
  w.arm(r, 1000);
  w.arm(r, 100);  // earlier
  EXPECT_EQ(w.armed_count(), 1U);
  auto f = run(w, 999);
  ASSERT_EQ(f.size(), 1U);
  EXPECT_EQ(f[0].wheel_now, 100U);
  w.arm(r, 2000);
  w.arm(r, 70000);  // later
  EXPECT_TRUE(run(w, 69999).empty());
  EXPECT_EQ(run(w, 70000).size(), 1U);
  w.arm(r, 80000);
  timer_wheel::cancel(r);
  timer_wheel::cancel(r);  // cancelling twice is harmless
  EXPECT_FALSE(r.armed());
  EXPECT_TRUE(run(w, 90000).empty());
}

TEST(timer_wheel, cascade_cap_spreads_a_big_cascade_over_calls_and_holds_the_clock) {
  constexpr std::size_t cap = 100;
  timer_wheel w(0, cap);
  // 1000 timers 70..71 s ahead share one level-2 slot, which cascades at tick 65536.
  std::vector<rec> r(1000);
  for (std::uint32_t i = 0; i < r.size(); ++i) {
    r[i].id = i;
    w.arm(r[i], 70'000 + i);
  }
  rec early;
  early.id = 5000;
  w.arm(early, 65'537);  // also level 2, same slot; must not be late by more than the cap's delay
  EXPECT_TRUE(run(w, 100'000).empty());
  EXPECT_EQ(w.now(), 65'536U);  // held at the cascade tick
  EXPECT_TRUE(w.backlogged());
  std::vector<firing> fired;
  std::size_t calls = 1;
  while (w.now() < 100'000 || w.backlogged()) {
    for (const firing& f : run(w, 100'000)) fired.push_back(f);
    ASSERT_LT(++calls, 1000U);
  }
  // 1001 re-placements at level 2, then about 4 level-1 slots of 256: at least 11 calls.
  EXPECT_GE(calls, 11U);
  ASSERT_EQ(fired.size(), r.size() + 1);
  EXPECT_EQ(fired[0].id, 5000U);
  for (std::size_t i = 0; i < fired.size(); ++i) {
    EXPECT_EQ(fired[i].wheel_now, fired[i].expires);
    if (i > 0) {
      EXPECT_LE(fired[i - 1].expires, fired[i].expires);
    }
  }
  EXPECT_EQ(w.armed_count(), 0U);
}

TEST(timer_wheel, unfinished_cascade_still_splices_its_tick_when_everything_detached_is_cancelled) {
  timer_wheel w(10, 1);
  rec z, b, c;
  z.id = 1;
  w.arm(z, 256);  // level 0, due at the same tick as the cascade below
  w.arm(b, 300);  // level 1, cascades at 256
  w.arm(c, 301);
  EXPECT_TRUE(run(w, 256).empty());  // one re-placement, then out of work
  EXPECT_EQ(w.now(), 256U);
  timer_wheel::cancel(c);
  timer_wheel::cancel(b);
  const auto f = run(w, 256);
  ASSERT_EQ(f.size(), 1U);
  EXPECT_EQ(f[0].id, 1U);
  EXPECT_EQ(f[0].wheel_now, 256U);
}

// ---------------------------------------------------------------------------------
// Differential test. The reference keeps every armed timer in a multimap keyed by
// the tick it is due at: its deadline, or the wheel's clock when armed if that is
// later (a past deadline is due "now"). The wheel must fire, in each advance, keys
// in non-decreasing order, each the smallest key left, with now() equal to the key,
// and stop only when the budget is spent or no key <= the target is left. Within one
// tick the wheel may choose any order, so the reference follows its choice.

struct reference {
  using map = std::multimap<std::uint64_t, std::uint32_t>;
  map by_key;
  std::vector<std::optional<map::iterator>> where;
  std::uint64_t clock;

  reference(std::size_t n, std::uint64_t start) : where(n), clock(start) {}
  void cancel(std::uint32_t id) {
    if (where[id]) by_key.erase(*where[id]);
    where[id].reset();
  }
  void arm(std::uint32_t id, std::uint64_t expires) {
    cancel(id);
    where[id] = by_key.emplace(std::max(expires, clock), id);
  }
};

struct diff_case {
  std::uint64_t seed;
  std::uint64_t start;
  std::size_t ops;
  std::size_t cascade_budget;  // unlimited: the clock must match the reference exactly
};

void PrintTo(const diff_case& c, std::ostream* os) {  // NOLINT(readability-identifier-naming): gtest's name
  *os << "{seed " << c.seed << ", start " << c.start << ", ops " << c.ops << ", cascade budget " << c.cascade_budget
      << "}";
}

class timer_wheel_differential : public testing::TestWithParam<diff_case> {};

TEST_P(timer_wheel_differential, matches_multimap_reference) {
  const diff_case c = GetParam();
  constexpr std::uint32_t n_records = 3000;
  std::mt19937_64 rng(c.seed);
  // rng() % n keeps the sequence identical across standard libraries.
  auto below = [&](std::uint64_t n) { return n == 0 ? 0 : rng() % n; };

  timer_wheel w(c.start, c.cascade_budget);
  reference ref(n_records, c.start);
  const bool exact_clock = c.cascade_budget == unlimited;
  std::vector<std::unique_ptr<rec>> recs(n_records);
  for (std::uint32_t i = 0; i < n_records; ++i) {
    recs[i] = std::make_unique<rec>();
    recs[i]->id = i;
  }

  auto random_deadline = [&]() -> std::uint64_t {
    const std::uint64_t now = w.now();
    switch (below(12)) {
      case 0: return now - std::min(now, below(1000));  // past or now
      case 1: return now;
      case 2:
      case 3: return now + 1 + below(300);
      case 4: {  // around a level boundary or the range
        const std::uint64_t b = std::uint64_t{1} << (8 * (1 + below(4)));
        return now + b - 2 + below(5);
      }
      case 5:
      case 6: return now + 1 + below(1U << 17);
      case 7: return now + 1 + below(1U << 26);
      case 8: return now + 1 + below(std::uint64_t{1} << 34);
      case 9: return now + two32 - 3 + below(8);
      case 10: return now + 1 + below(std::uint64_t{1} << 41);
      default: {  // align to a boundary of the absolute clock, where cascades happen
        const unsigned shift = 8 * static_cast<unsigned>(1 + below(3));
        return ((now >> shift) + 1 + below(3)) << shift;
      }
    }
  };
  auto arm = [&](std::uint32_t id, std::uint64_t expires) {
    w.arm(*recs[id], expires);
    ref.arm(id, expires);
  };
  // Mostly small steps, so that hundreds of timers stay armed across all levels;
  // now and then a stall of seconds, hours, days or years.
  auto random_jump = [&]() -> std::uint64_t {
    const std::uint64_t p = below(10000);
    if (p < 4500) return below(3);
    if (p < 7500) return below(300);
    if (p < 9000) return below(70000);
    if (p < 9700) return below(1U << 20);
    if (p < 9950) return below(1U << 25);
    if (p < 9990) return below(std::uint64_t{1} << 34);
    return below(std::uint64_t{1} << 41);
  };
  auto random_budget = [&]() -> std::size_t {
    switch (below(10)) {
      case 0:
      case 1:
      case 2: return 1 + below(4);
      case 3:
      case 4: return below(65);
      default: return unlimited;
    }
  };

  std::size_t total_fired = 0;
  for (std::size_t op = 0; op < c.ops; ++op) {
    const auto id = static_cast<std::uint32_t>(below(n_records));
    const std::uint64_t kind = below(100);
    if (kind < 45) {
      arm(id, random_deadline());
    } else if (kind < 55) {
      timer_wheel::cancel(*recs[id]);
      ref.cancel(id);
    } else if (kind < 58) {
      recs[id] = std::make_unique<rec>();  // the old record's destructor unlinks its hook
      recs[id]->id = id;
      ref.cancel(id);
    } else {
      const std::uint64_t before = w.now();
      const std::uint64_t target = before + random_jump();
      const std::size_t budget = random_budget();
      const std::uint64_t limit = std::max(target, ref.clock);
      std::size_t seen = 0;
      const std::size_t n = w.advance(target, budget, [&](timer_hook& h) {
        const std::uint32_t fid = owner(h).id;
        ++seen;
        ASSERT_FALSE(h.armed());
        ASSERT_TRUE(ref.where[fid].has_value()) << "fired a timer the reference does not hold, op " << op;
        const std::uint64_t key = (*ref.where[fid])->first;
        ASSERT_EQ(key, ref.by_key.begin()->first) << "out of tick order, op " << op;
        ASSERT_LE(key, limit) << "fired before its time, op " << op;
        ASSERT_EQ(w.now(), key) << "fired at the wrong tick, op " << op;
        ASSERT_LE(h.expires, w.now());
        ref.cancel(fid);
        ref.clock = key;
        // Callbacks re-arm (into the past too), arm and cancel others.
        const std::uint64_t act = below(16);
        if (act < 4) {
          arm(fid, random_deadline());
        } else if (act == 4) {
          const auto other = static_cast<std::uint32_t>(below(n_records));
          timer_wheel::cancel(*recs[other]);
          ref.cancel(other);
        } else if (act == 5) {
          arm(static_cast<std::uint32_t>(below(n_records)), random_deadline());
        }
      });
      ASSERT_EQ(n, seen);
      ASSERT_LE(n, budget);
      total_fired += n;
      const std::uint64_t min_left = ref.by_key.empty() ? ~std::uint64_t{0} : ref.by_key.begin()->first;
      const std::uint64_t expect = std::max(ref.clock, std::min(target, min_left));
      if (!w.backlogged()) {
        ASSERT_GT(min_left, limit) << "left a due timer behind, op " << op;
        ASSERT_EQ(w.now(), limit) << "op " << op;
      } else if (exact_clock) {
        ASSERT_EQ(n, budget) << "backlogged within budget, op " << op;
        ASSERT_LE(min_left, limit) << "op " << op;
        ASSERT_EQ(w.now(), expect) << "op " << op;
      } else {
        // An unfinished cascade may hold the clock anywhere up to there.
        ASSERT_GE(w.now(), before) << "op " << op;
        ASSERT_LE(w.now(), expect) << "op " << op;
      }
      ref.clock = w.now();
    }
    if (op % 4096 == 0) {
      ASSERT_EQ(w.armed_count(), ref.by_key.size()) << "op " << op;
      for (std::uint32_t i = 0; i < n_records; ++i) ASSERT_EQ(recs[i]->armed(), ref.where[i].has_value());
    }
  }
  // Drain everything; what is left must come out in order too, and a capped cascade
  // must make progress on every call.
  std::uint64_t last = 0;
  const std::uint64_t end = w.now() + (std::uint64_t{1} << 42);
  for (std::size_t calls = 0; w.now() < end || w.backlogged(); ++calls) {
    ASSERT_LT(calls, 1'000'000U) << "no progress";
    w.advance(end, unlimited, [&](timer_hook& h) {
      const std::uint32_t fid = owner(h).id;
      ASSERT_TRUE(ref.where[fid].has_value());
      ASSERT_EQ((*ref.where[fid])->first, ref.by_key.begin()->first);
      ASSERT_LE(last, w.now());
      last = w.now();
      ref.cancel(fid);
    });
  }
  EXPECT_TRUE(ref.by_key.empty());
  EXPECT_EQ(w.armed_count(), 0U);
  EXPECT_FALSE(w.backlogged());
  EXPECT_GT(total_fired, c.ops / 20);  // the mix really exercised firing
}

INSTANTIATE_TEST_SUITE_P(seeds, timer_wheel_differential,
                         testing::Values(diff_case{1, 0, 200'000, unlimited},
                                         diff_case{2, two32 - 5, 200'000, unlimited},
                                         diff_case{3, two40 - 1000, 200'000, unlimited},
                                         diff_case{4, (std::uint64_t{1} << 56) + 12345, 200'000, unlimited},
                                         diff_case{5, two32 - 5, 200'000, 1}, diff_case{6, two40 - 1000, 200'000, 5}));

}  // namespace
