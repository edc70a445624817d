// binding_table memory and speed at the size of a loaded worker.
//
//   BM_binding_table/<n>  one table of capacity n filled with n bindings (AOR ~39 B,
//                         Call-ID ~39 B, one Contact ~90 B), then random lookups.
//                         Counters:
//                           table_B_per_binding  pool + bucket arrays / n (what the table allocated)
//                           rss_B_per_binding    RSS growth (/proc/self/statm) over construction and
//                                                filling / n (what the process really paid)
//                           insert_ns            insert() + set_contacts() per binding
//                           lookup_call_id_ns    find_by_call_id() by (Call-ID, AOR), random order
//                           lookup_aor_ns        find_by_aor(), random order
//                           lookup_out_id_ns     find_by_out_call_id(), random order (registrar messages)
//   BM_decide_refresh     decide_register() for an absorbable refresh (message parsed once)
//
// n is $SIPFRONT_BINDINGS (default 10,000,000: ~5.1 GB, ~30 s with the lookups);
// `meson test --benchmark` runs it with 100,000. The keys of binding i are computed
// from i, in batches outside the timed regions, so the loops time the table (its
// cache misses included) rather than string formatting, and nothing but the table
// grows with n.
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "sipfront/regengine/bindings.hpp"
#include "sipfront/sipparse/message.hpp"

namespace {

namespace reg = sipfront::reg;
namespace sip = sipfront::sip;

constexpr std::size_t batch = 4096;

std::size_t rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0;  // %lu: statm counts pages
  unsigned long resident = 0;
  const int got = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return got == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

double now_ns() {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

// Appends decimal / zero-padded decimal / hex to a fixed buffer.
struct fmt {
  char* p;
  fmt& s(std::string_view v) {
    for (char c : v) *p++ = c;
    return *this;
  }
  fmt& u(std::uint64_t v) {
    char t[20];
    int n = 0;
    do {
      t[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) *p++ = t[--n];
    return *this;
  }
  fmt& u_pad(std::uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += width;
    return *this;
  }
  fmt& hex(std::uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) *p++ = "0123456789abcdef"[(v >> (4 * i)) & 15U];
    return *this;
  }
};

// The strings of binding i: realistic lengths, a carrier's E.164 numbering and phones behind NAT.
struct keys {
  std::array<char, 64> aor_buf;
  std::array<char, 64> cid_buf;
  std::array<char, 128> contact_buf;
  std::string_view aor, call_id, contact;

  void make(std::uint64_t i) {
    const std::uint64_t h = mix(i + 1);
    const unsigned a = static_cast<unsigned>(h >> 56);
    const unsigned b = static_cast<unsigned>((h >> 48) & 255);
    fmt f{aor_buf.data()};
    f.s("sip:+4930").u_pad(i, 10).s("@ims.carrier.example");  // 39 B
    aor = {aor_buf.data(), static_cast<std::size_t>(f.p - aor_buf.data())};
    f = {cid_buf.data()};
    f.hex(h, 16).hex(mix(h), 8).s("@198.18.").u(a).s(".").u(b);  // 33..39 B
    call_id = {cid_buf.data(), static_cast<std::size_t>(f.p - cid_buf.data())};
    f = {contact_buf.data()};
    f.s("sip:+4930").u_pad(i, 10).s("@198.18.").u(a).s(".").u(b).s(":").u(5060 + (h & 0x3fff));
    f.s(";transport=udp;rinstance=").hex(mix(h + 1), 16).s(";ob");  // 85..92 B
    contact = {contact_buf.data(), static_cast<std::size_t>(f.p - contact_buf.data())};
  }
};

reg::endpoint source_of(std::uint64_t i) {
  return {static_cast<std::uint32_t>(0xc6120000U | (i & 0xffff)), static_cast<std::uint16_t>(5060 + (i & 0x3fff)), 0};
}

void bm_binding_table(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  const std::size_t n_lookups = std::min<std::size_t>(n, 2'000'000);
  std::vector<keys> ks(batch);
  std::vector<std::uint64_t> pick(batch);
  std::vector<reg::out_call_id_buffer> out_ids(batch);
  std::vector<std::string_view> out_views(batch);
  std::mt19937_64 rng(9);
  for (auto _ : state) {
    const std::size_t rss0 = rss_bytes();
    reg::binding_table_config cfg;
    cfg.capacity = n;
    cfg.worker_id = 1;
    cfg.seed = 7;
    auto table = std::make_unique<reg::binding_table>(cfg);

    double insert_ns = 0;
    std::size_t failed = 0;
    for (std::uint64_t start = 0; start < n; start += batch) {
      const std::size_t m = std::min<std::size_t>(batch, n - start);
      for (std::size_t j = 0; j < m; ++j) ks[j].make(start + j);
      const double t0 = now_ns();
      for (std::size_t j = 0; j < m; ++j) {
        const keys& k = ks[j];
        const auto r = table->insert(k.aor, k.call_id, source_of(start + j));
        if (!r) [[unlikely]] {
          ++failed;
          continue;
        }
        const std::array<reg::contact_spec, 1> c{{{k.contact, 3'600'000}}};
        failed += r.rec->set_contacts(c) == reg::binding_errc::ok ? 0 : 1;
        r.rec->state = reg::binding_state::registered;
      }
      insert_ns += now_ns() - t0;
    }
    const std::size_t rss1 = rss_bytes();

    double cid_ns = 0;
    double aor_ns = 0;
    double out_ns = 0;
    std::size_t misses = 0;
    for (std::size_t done = 0; done < n_lookups; done += batch) {
      const std::size_t m = std::min(batch, n_lookups - done);
      for (std::size_t j = 0; j < m; ++j) {
        pick[j] = rng() % n;
        ks[j].make(pick[j]);
      }
      double t0 = now_ns();
      for (std::size_t j = 0; j < m; ++j) {
        reg::binding* b = table->find_by_call_id(ks[j].call_id, ks[j].aor);
        misses += b == nullptr ? 1 : 0;
        benchmark::DoNotOptimize(b);
      }
      cid_ns += now_ns() - t0;
      // Fresh random picks for the next two, so none is warm from the previous loop.
      for (std::size_t j = 0; j < m; ++j) {
        pick[j] = rng() % n;
        ks[j].make(pick[j]);
      }
      t0 = now_ns();
      for (std::size_t j = 0; j < m; ++j) {
        reg::binding* b = table->find_by_aor(ks[j].aor);
        misses += b == nullptr ? 1 : 0;
        benchmark::DoNotOptimize(b);
      }
      aor_ns += now_ns() - t0;
      for (std::size_t j = 0; j < m; ++j) {
        ks[j].make(rng() % n);
        const reg::binding* b = table->find_by_call_id(ks[j].call_id, ks[j].aor);
        out_views[j] = b != nullptr ? table->out_call_id(*b, out_ids[j]) : std::string_view{};
      }
      // Evict what the preparation touched: a registrar's response arrives long after.
      for (std::size_t j = 0; j < m; ++j) ks[j].make(rng() % n);
      for (std::size_t j = 0; j < m; ++j) benchmark::DoNotOptimize(table->find_by_call_id(ks[j].call_id, ks[j].aor));
      t0 = now_ns();
      for (std::size_t j = 0; j < m; ++j) {
        reg::binding* b = table->find_by_out_call_id(out_views[j]);
        misses += b == nullptr ? 1 : 0;
        benchmark::DoNotOptimize(b);
      }
      out_ns += now_ns() - t0;
    }
    if (failed != 0 || misses != 0 || table->size() != n) {
      state.SkipWithError("bindings lost: inserts failed or lookups missed");
      return;
    }
    const double dn = static_cast<double>(n);
    const double dl = static_cast<double>(n_lookups);
    state.counters["table_B_per_binding"] = static_cast<double>(table->memory_bytes()) / dn;
    state.counters["rss_B_per_binding"] = static_cast<double>(rss1 - rss0) / dn;
    state.counters["insert_ns"] = insert_ns / dn;
    state.counters["lookup_call_id_ns"] = cid_ns / dl;
    state.counters["lookup_aor_ns"] = aor_ns / dl;
    state.counters["lookup_out_id_ns"] = out_ns / dl;
    state.counters["bindings"] = dn;
  }
}

void bm_decide_refresh(benchmark::State& state) {
  constexpr std::string_view contact = "sip:+493012345678@198.18.7.9:5062;transport=udp;rinstance=0123456789abcdef;ob";
  const std::string msg_text =
      "REGISTER sip:ims.carrier.example SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 198.18.7.9:5062;branch=z9hG4bK-524287-1---c6e3a2b1;rport\r\n"
      "Max-Forwards: 70\r\n"
      "Contact: <" +
      std::string(contact) +
      ">\r\n"
      "To: <sip:+493012345678@ims.carrier.example>\r\n"
      "From: <sip:+493012345678@ims.carrier.example>;tag=8a2f1c3d\r\n"
      "Call-ID: 9f8e7d6c5b4a39281706f5e4@198.18.7.9\r\n"
      "CSeq: 5 REGISTER\r\n"
      "Expires: 120\r\n"
      "User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
      "Content-Length: 0\r\n\r\n";
  sip::message msg;
  if (msg.parse(msg_text) != sip::errc::ok) {
    state.SkipWithError("message does not parse");
    return;
  }
  reg::binding_table table(reg::binding_table_config{16, 0, 1});
  const reg::endpoint src{0xc6120709U, 5062, 0};
  reg::binding& b =
      *table.insert("sip:+493012345678@ims.carrier.example", "9f8e7d6c5b4a39281706f5e4@198.18.7.9", src).rec;
  const std::array<reg::contact_spec, 1> c{{{contact, 120'000}}};
  (void)b.set_contacts(c);
  b.state = reg::binding_state::registered;
  b.in_cseq = 4;
  b.out_expires_at_ms = 3'600'000;
  const reg::registrar_policy policy;
  for (auto _ : state) {
    const reg::register_decision d = reg::decide_register(msg, src, &b, 1000, policy);
    if (d.action != reg::register_action::absorb) {
      state.SkipWithError("refresh not absorbed");
      return;
    }
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(bm_decide_refresh)->Name("BM_decide_refresh");

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const char* env = std::getenv("SIPFRONT_BINDINGS");
  const long long n = env != nullptr ? std::atoll(env) : 10'000'000;
  if (n <= 0 || n >= 0xfffffffeLL) {
    std::fprintf(stderr, "SIPFRONT_BINDINGS must be 1 .. 4294967293\n");
    return 2;
  }
  benchmark::RegisterBenchmark("BM_binding_table", bm_binding_table)
      ->Arg(n)
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
