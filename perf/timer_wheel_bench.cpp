// timer_wheel micro-benchmarks, on a fake clock (1 tick = 1 ms, as in the engine).
//
//   BM_arm_cancel/<resident>       arm a timer and cancel it again (a transaction that
//                                  completes before its timer: the common case), with
//                                  <resident> other timers armed; ns per arm+cancel pair
//   BM_rearm_resident/<resident>   move one of <resident> armed timers to a new deadline
//                                  (a refresh arriving for a binding); ns per re-arm
//   BM_arm_fire/<resident>/<max>   steady state: every expiry re-arms its timer 1..<max>
//                                  ticks ahead, the clock moves 1 tick per iteration;
//                                  items/s = expiries/s, cascades included
//   BM_advance_empty               advance an empty wheel by 1 tick
//   BM_advance_idle/<resident>     advance by 1 tick with <resident> timers armed hours
//                                  ahead (the usual poll: nothing due)
//   BM_avalanche/<cascade budget>  1M timers armed for 3600 s +- 30 s (every phone
//                                  registering in the same minute), then the clock run
//                                  1 tick per call until all fired, budget 256 callbacks
//                                  per call; worst_call_us is the longest advance() call,
//                                  which the cascade budget (0 = unlimited) bounds
//
// Deadlines and record indexes come from tables filled before timing starts, so the
// loops time the wheel and the cache misses on records, not a random number generator.
// With 1M resident timers the records (32 B each) take 32 MiB, far beyond L2, as in
// a worker holding a million bindings.

#include <benchmark/benchmark.h>

#include <time.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "sipfront/regengine/timer_wheel.hpp"

namespace {

using sipfront::reg::timer_hook;
using sipfront::reg::timer_wheel;

constexpr std::size_t table_size = 1U << 16;  // power of two: index with a mask
constexpr std::uint64_t hour_ms = 3'600'000;

// `n` values in [lo, hi], fixed seed.
std::vector<std::uint64_t> uniform_table(std::size_t n, std::uint64_t lo, std::uint64_t hi, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> v(n);
  for (auto& x : v) x = lo + rng() % (hi - lo + 1);
  return v;
}

// Registration-like population: deadlines spread over the next hour (levels 1 and 2).
void arm_resident(timer_wheel& w, std::vector<timer_hook>& resident) {
  std::mt19937_64 rng(1);
  for (timer_hook& h : resident) w.arm(h, w.now() + 1 + rng() % hour_ms);
}

void bm_arm_cancel(benchmark::State& state) {
  timer_wheel w(0);
  std::vector<timer_hook> resident(static_cast<std::size_t>(state.range(0)));
  arm_resident(w, resident);
  // Transaction timers: Timer E/F/K-like deadlines, 500 ms .. 32 s.
  const auto deadlines = uniform_table(table_size, 500, 32'000, 2);
  std::vector<timer_hook> probe(table_size);
  std::size_t i = 0;
  for (auto _ : state) {
    timer_hook& h = probe[i];
    w.arm(h, deadlines[i]);
    timer_wheel::cancel(h);
    i = (i + 1) & (table_size - 1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(bm_arm_cancel)->Name("BM_arm_cancel")->Arg(0)->Arg(1'000'000);

void bm_rearm_resident(benchmark::State& state) {
  timer_wheel w(0);
  std::vector<timer_hook> resident(static_cast<std::size_t>(state.range(0)));
  arm_resident(w, resident);
  const auto which = uniform_table(table_size, 0, resident.size() - 1, 3);
  const auto deadlines = uniform_table(table_size, 1, hour_ms, 4);
  std::size_t i = 0;
  for (auto _ : state) {
    w.arm(resident[which[i]], deadlines[i]);
    i = (i + 1) & (table_size - 1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(bm_rearm_resident)->Name("BM_rearm_resident")->Arg(1'000)->Arg(1'000'000);

void bm_arm_fire(benchmark::State& state) {
  timer_wheel w(0);
  std::vector<timer_hook> resident(static_cast<std::size_t>(state.range(0)));
  const auto max_delay = static_cast<std::uint64_t>(state.range(1));
  const auto delays = uniform_table(table_size, 1, max_delay, 5);
  std::size_t i = 0;
  for (timer_hook& h : resident) {
    w.arm(h, delays[i]);
    i = (i + 1) & (table_size - 1);
  }
  // Warm up to the steady state: every timer has been re-armed at least once.
  std::uint64_t now = 0;
  auto rearm = [&](timer_hook& h) {
    w.arm(h, now + delays[i]);
    i = (i + 1) & (table_size - 1);
  };
  for (; now < max_delay; ++now) w.advance(now, std::numeric_limits<std::size_t>::max(), rearm);
  std::size_t fired = 0;
  for (auto _ : state) {
    ++now;
    fired += w.advance(now, std::numeric_limits<std::size_t>::max(), rearm);
  }
  benchmark::DoNotOptimize(fired);
  state.SetItemsProcessed(static_cast<std::int64_t>(fired));
  state.counters["expiries/tick"] =
      benchmark::Counter(static_cast<double>(fired) / static_cast<double>(state.iterations()));
}
// 10k timers re-armed within 4 s (retransmission-like, levels 0 and 1); 1M within
// 65 s (levels 0..2 and level-1 cascades of ~4k timers every 256 ticks).
BENCHMARK(bm_arm_fire)->Name("BM_arm_fire")->Args({10'000, 4'096})->Args({1'000'000, 65'536});

void bm_advance_empty(benchmark::State& state) {
  timer_wheel w(0);
  std::uint64_t now = 0;
  std::size_t fired = 0;
  for (auto _ : state) fired += w.advance(++now, 256, [](timer_hook&) {});
  benchmark::DoNotOptimize(fired);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(bm_advance_empty)->Name("BM_advance_empty");

void bm_advance_idle(benchmark::State& state) {
  timer_wheel w(0);
  std::vector<timer_hook> resident(static_cast<std::size_t>(state.range(0)));
  // Between 2^31 and 2^32 ticks ahead (25..50 days): not reached by any run, but the
  // upper bitmaps are populated.
  std::mt19937_64 rng(6);
  for (timer_hook& h : resident) w.arm(h, (std::uint64_t{1} << 31) + rng() % (std::uint64_t{1} << 31));
  std::uint64_t now = 0;
  std::size_t fired = 0;
  for (auto _ : state) fired += w.advance(++now, 256, [](timer_hook&) {});
  benchmark::DoNotOptimize(fired);
  if (fired != 0) state.SkipWithError("a timer fired: the run reached the resident deadlines");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(bm_advance_idle)->Name("BM_advance_idle")->Arg(1'000'000);

// CPU time of this thread: a wall clock would charge the longest call with whatever
// preemption the host inflicted on it.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

void bm_avalanche(benchmark::State& state) {
  const auto budget =
      state.range(0) == 0 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(state.range(0));
  std::vector<timer_hook> resident(1'000'000);
  const auto deadlines = uniform_table(resident.size(), 3'570'000, 3'630'000, 7);
  double worst_ns = 0;
  std::uint64_t calls = 0;
  for (auto _ : state) {
    timer_wheel w(0, budget);
    for (std::size_t i = 0; i < resident.size(); ++i) w.arm(resident[i], deadlines[i]);
    std::size_t fired = 0;
    for (std::uint64_t now = 1; fired < resident.size(); ++now, ++calls) {
      // Only calls that may cascade are timed (level boundaries and cascades held over),
      // to keep the clock reads out of the millions of 1-tick calls; the others do at
      // most a level-0 splice and 256 callbacks.
      if ((now & 255) != 0 && !w.backlogged()) {
        fired += w.advance(now, 256, [](timer_hook&) {});
        continue;
      }
      const double t0 = thread_cpu_ns();
      fired += w.advance(now, 256, [](timer_hook&) {});
      worst_ns = std::max(worst_ns, thread_cpu_ns() - t0);
    }
  }
  state.counters["worst_call_us"] = worst_ns / 1000;
  state.counters["calls"] = static_cast<double>(calls);
}
BENCHMARK(bm_avalanche)
    ->Name("BM_avalanche")
    ->Arg(0)
    ->Arg(1024)
    ->Arg(4096)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
