// regengine alone on one core: ns per message through engine::on_message with a
// loaded worker (peer-to-peer mode, rate limiting on).
//
// Setup (once, shared by all benchmarks): $SIPFRONT_REGENGINE_BINDINGS bindings
// (default 1,000,000; `meson test --benchmark` uses 20,000), each made the real way:
// a phone REGISTER through on_message, then the registrar's 200 for the out-leg
// REGISTER it produced. Every binding has its own AOR, Call-ID, Contact and source
// address (the shapes of bindings_bench.cpp), so lookups miss the caches as on a
// loaded worker.
//
//   BM_new_register/<parse>    a REGISTER for an AOR the worker does not know: binding
//                              created, out-leg REGISTER built and sent upstream
//   BM_absorbed_refresh/<parse> a refresh inside the out-leg lifetime, answered 200
//                              locally (random binding, its CSeq + 1)
//   BM_upstream_200/<parse>    the registrar's 200 completing a pending registration:
//                              Contacts stored, the phone's 200 built
//   BM_routed_invite/<parse>   an INVITE from the core to a binding's Contact (random
//                              binding), relayed statelessly to the phone with our Via
//                              and Record-Route
//   BM_steer_register/<aor>    steer() of a parsed REGISTER by its AOR (1), or the bare
//                              Call-ID hash it replaced (0); no engine
//
// One benchmark iteration is a batch of 4096 messages; only the on_message calls (and,
// with <parse> = 1, sip::message::parse() of each datagram from its prebuilt byte
// buffer) are timed, with manual timing. Formatting the batch, and the untimed work
// that keeps the worker at its binding count (new bindings are answered and then
// unregistered again, pending registrations are created for the 200 benchmark, the
// fake clock is moved on to release completed transactions) happen between batches.
// ns_per_msg is the figure; <parse> = 0 parses outside the timed region (the
// dataplane parses once on the receiving core, possibly another one than the owner).
// The output queue is cleared after every message, as the dataplane drains it.
#include <benchmark/benchmark.h>

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

#include "sipfront/regengine/engine.hpp"
#include "sipfront/sipparse/sipparse.hpp"

namespace {

namespace reg = sipfront::reg;
namespace sip = sipfront::sip;

constexpr std::size_t batch = 4096;
constexpr std::uint32_t k_max_transactions = 1U << 16;
constexpr std::uint32_t k_fresh = 1U << 16;  // index range for the new-REGISTER benchmarks, past the loaded ones

const reg::endpoint k_registrar{0xc6120202U, 5060, 1};  // 198.18.2.2
const reg::endpoint k_core{0xc6120209U, 5060, 1};       // 198.18.2.9

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

reg::endpoint source_of(std::uint64_t i) {
  const std::uint64_t h = mix(i + 1);
  return {0xc6120000U | static_cast<std::uint32_t>((h >> 48) & 0xffff), static_cast<std::uint16_t>(1024 + (h & 0x7fff)),
          0};
}

std::string ipv4(std::uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." + std::to_string((ip >> 8) & 255) +
         "." + std::to_string(ip & 255);
}

std::string hex(std::uint64_t v, int digits) {
  std::string s(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = "0123456789abcdef"[v & 15U];
  return s;
}

// A phone REGISTER of binding i (AOR ~39 B, Call-ID 38 B, Contact ~80 B: a Yealink-like phone behind NAT).
std::string register_msg(std::uint64_t i, std::uint32_t cseq, std::uint64_t branch, unsigned expires) {
  const reg::endpoint src = source_of(i);
  const std::string host = ipv4(src.ip) + ":" + std::to_string(src.port);
  std::string number = std::to_string(i);
  number.insert(0, 10 - number.size(), '0');
  std::string m;
  m.reserve(640);
  m += "REGISTER sip:ims.carrier.example SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP " + host + ";branch=z9hG4bK-" + hex(branch, 12) + ";rport\r\n";
  m += "Max-Forwards: 70\r\n";
  m += "Contact: <sip:+4930" + number + "@" + host + ";transport=udp;ob>\r\n";
  m += "To: <sip:+4930" + number + "@ims.carrier.example>\r\n";
  m += "From: <sip:+4930" + number + "@ims.carrier.example>;tag=" + hex(mix(i), 8) + "\r\n";
  m += "Call-ID: " + hex(mix(i + 7), 16) + hex(mix(i + 9), 8) + "@" + ipv4(src.ip) + "\r\n";
  m += "CSeq: " + std::to_string(cseq) + " REGISTER\r\n";
  m += "Expires: " + std::to_string(expires) + "\r\n";
  m += "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS, INFO, SUBSCRIBE, UPDATE\r\n";
  m += "User-Agent: Yealink SIP-T46S 66.86.0.15\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

// The registrar's 200 to an out-leg REGISTER, granting `granted` seconds.
std::string registrar_200(std::string_view forwarded, unsigned granted) {
  sip::message req;
  if (req.parse(forwarded) != sip::errc::ok) return {};
  std::string r = "SIP/2.0 200 OK\r\n";
  for (const auto& h : req.headers()) {
    if (h.id == sip::header_id::via || h.id == sip::header_id::from || h.id == sip::header_id::call_id ||
        h.id == sip::header_id::cseq) {
      r += req.raw_line(h);
    }
  }
  r += "To: ";
  r += req.value_of(sip::header_id::to);
  r += ";tag=reg-77\r\n";
  if (granted != 0) {
    r += "Contact: ";
    r += req.value_of(sip::header_id::contact);
    r += ";expires=" + std::to_string(granted) + "\r\n";
  }
  r += "Server: Kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n";
  return r;
}

// An INVITE from the core to the Contact the front end registered for a binding.
std::string core_invite(std::string_view our_contact, std::uint64_t seq) {
  const std::string sdp =
      "v=0\r\no=- 3920183 3920183 IN IP4 198.18.2.30\r\ns=-\r\nc=IN IP4 198.18.2.30\r\nt=0 0\r\n"
      "m=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n";
  std::string m;
  m.reserve(900);
  m += "INVITE ";
  m += our_contact;
  m += " SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 198.18.2.9:5060;branch=z9hG4bK" + hex(mix(seq), 16) + "\r\n";
  m += "Max-Forwards: 69\r\n";
  m += "Record-Route: <sip:198.18.2.9;lr>\r\n";
  m += "From: <sip:+4940123456@ims.carrier.example>;tag=" + hex(mix(seq + 1), 8) + "\r\n";
  m += "To: <sip:+4930@ims.carrier.example>\r\n";
  m += "Call-ID: " + hex(mix(seq + 2), 16) + "@198.18.2.9\r\n";
  m += "CSeq: 10 INVITE\r\n";
  m += "Contact: <sip:+4940123456@198.18.2.9:5060>\r\n";
  m += "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n";
  m += "Content-Type: application/sdp\r\n";
  m += "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n";
  m += sdp;
  return m;
}

// The loaded worker, built once.
struct world {
  std::uint32_t n = 0;
  std::unique_ptr<reg::engine> eng;
  std::unique_ptr<reg::output_queue> out = std::make_unique<reg::output_queue>();
  std::uint64_t now = 1000;
  std::uint64_t branch = 1;
  std::vector<std::uint32_t> cseq;       // last CSeq per binding index (loaded + fresh)
  std::vector<std::string> our_contact;  // the Contact the front end registered, per loaded binding
  std::uint32_t next_fresh = 0;
  std::mt19937_64 rng{11};
  bool ok = true;

  // Feeds one message; returns the bytes sent to `want` (the last one), if any.
  std::string feed(std::string_view bytes, const reg::packet_meta& meta, const reg::endpoint& want) {
    sip::message m;
    if (m.parse(bytes) != sip::errc::ok) ok = false;
    out->clear();
    eng->on_message(m, meta, now, *out);
    std::string got;
    for (std::size_t i = 0; i < out->size(); ++i) {
      if ((*out)[i].dst == want) got = out->bytes((*out)[i]);
    }
    return got;
  }
  // Moves the fake clock past Timer K when the transaction pool is filling up.
  void release_transactions() {
    if (eng->live_transactions() + 2 * batch < k_max_transactions) return;
    now += eng->config().timer_k_ms + 1;
    out->clear();
    while (eng->on_tick(now, *out, 1U << 20) != 0) out->clear();
    out->clear();
  }
  // Phone REGISTERs for indices `ids` (expires 0: unregister); returns the forwarded out-leg requests.
  std::vector<std::string> send_registers(const std::vector<std::uint64_t>& ids, unsigned expires) {
    std::vector<std::string> fwd;
    fwd.reserve(ids.size());
    for (std::uint64_t i : ids) {
      fwd.push_back(
          feed(register_msg(i, ++cseq[i], branch++, expires), {source_of(i), reg::side::access}, k_registrar));
      if (fwd.back().empty()) ok = false;
    }
    return fwd;
  }
  void answer_all(const std::vector<std::string>& fwd, unsigned granted) {
    for (const std::string& f : fwd) (void)feed(registrar_200(f, granted), {k_registrar, reg::side::core}, {});
  }
  std::vector<std::uint64_t> fresh_ids() {
    std::vector<std::uint64_t> ids(batch);
    for (auto& id : ids) {
      id = n + next_fresh;
      next_fresh = (next_fresh + 1) % k_fresh;
    }
    return ids;
  }
};

world* g_world = nullptr;

world& the_world() {
  if (g_world != nullptr) return *g_world;
  const char* env = std::getenv("SIPFRONT_REGENGINE_BINDINGS");
  const long long n = env != nullptr ? std::atoll(env) : 1'000'000;
  auto* w = new world;  // lives until exit: tearing down 1M bindings is not what is measured
  w->n = static_cast<std::uint32_t>(n > 0 && n < (1LL << 24) ? n : 1'000'000);
  reg::engine_config cfg;
  cfg.worker_id = 0;
  cfg.n_workers = 1;
  cfg.access_local = {0xc6120101U, 5060, 0};
  cfg.core_local = {0xc6120201U, 5060, 1};
  cfg.registrars[0] = {k_registrar, "ims.carrier.example"};
  cfg.n_registrars = 1;
  cfg.max_transactions = k_max_transactions;
  cfg.mode = reg::passthrough_mode::peer_to_peer;
  // Rate limiting: phones get 3600 s, the registrar is asked for 86400 s, so refreshes
  // are absorbed and no binding timer fires during the run (the fake clock moves minutes).
  cfg.registrar.in_expires_max = 3600;
  cfg.registrar.in_expires_default = 3600;
  cfg.registrar.out_expires = 86400;
  cfg.max_bindings = w->n + k_fresh;
  cfg.binding_seed = 5;
  w->eng = std::make_unique<reg::engine>(cfg);
  w->cseq.assign(static_cast<std::size_t>(w->n) + k_fresh, 0);
  w->our_contact.resize(w->n);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> ids;
  for (std::uint64_t start = 0; start < w->n; start += batch) {
    ids.clear();
    for (std::uint64_t i = start; i < std::min<std::uint64_t>(start + batch, w->n); ++i) ids.push_back(i);
    const auto fwd = w->send_registers(ids, 3600);
    for (std::size_t j = 0; j < ids.size(); ++j) {
      sip::message m;
      (void)m.parse(fwd[j]);
      const auto na = sip::parse_name_addr(m.value_of(sip::header_id::contact));
      w->our_contact[ids[j]] = na ? std::string(na->uri) : std::string();
    }
    w->answer_all(fwd, 86400);
    w->release_transactions();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "regengine_bench: %u bindings registered in %.1f s (live %zu)\n", w->n, secs,
               w->eng->live_bindings());
  if (w->eng->live_bindings() != w->n) w->ok = false;
  g_world = w;
  return *w;
}

constexpr std::size_t per_queue = 32;  // forwarded REGISTERs (~600 B) one output queue holds without draining

// Times on_message over `msgs` (parsing each first when `parse` is set). With `keep`,
// outputs stay in `kept` (32 messages per queue) instead of being cleared, so the
// caller can read them after the timed loop without copying inside it.
double run_batch(world& w, const std::vector<std::string>& msgs, const reg::packet_meta* metas, bool parse,
                 std::vector<std::unique_ptr<reg::output_queue>>* kept = nullptr) {
  static std::vector<sip::message> parsed(batch);
  if (!parse) {
    for (std::size_t i = 0; i < msgs.size(); ++i) (void)parsed[i].parse(msgs[i]);
  }
  if (kept != nullptr) {
    for (auto& q : *kept) q->clear();
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (parse) (void)parsed[i].parse(msgs[i]);
    reg::output_queue* q = w.out.get();
    if (kept != nullptr) {
      q = (*kept)[i / per_queue].get();
    } else {
      q->clear();
    }
    w.eng->on_message(parsed[i], metas[i], w.now, *q);
  }
  const auto t1 = std::chrono::steady_clock::now();
  benchmark::DoNotOptimize(w.out->size());
  w.out->clear();
  return std::chrono::duration<double>(t1 - t0).count();
}

void report(benchmark::State& state, world& w, double total_s, std::uint64_t msgs) {
  state.counters["ns_per_msg"] = msgs != 0 ? total_s * 1e9 / static_cast<double>(msgs) : 0;
  state.counters["bindings"] = static_cast<double>(w.eng->live_bindings());
  state.SetItemsProcessed(static_cast<std::int64_t>(msgs));
  if (!w.ok) state.SkipWithError("a message did not do what the benchmark expects");
}

void bm_new_register(benchmark::State& state) {
  world& w = the_world();
  const bool parse = state.range(0) != 0;
  std::vector<std::string> msgs(batch);
  std::vector<reg::packet_meta> metas(batch);
  std::vector<std::unique_ptr<reg::output_queue>> kept;
  for (std::size_t q = 0; q < batch / per_queue; ++q) kept.push_back(std::make_unique<reg::output_queue>());
  double total = 0;
  std::uint64_t count = 0;
  for (auto _ : state) {
    const auto ids = w.fresh_ids();
    for (std::size_t j = 0; j < batch; ++j) {
      msgs[j] = register_msg(ids[j], ++w.cseq[ids[j]], w.branch++, 3600);
      metas[j] = {source_of(ids[j]), reg::side::access};
    }
    const double t = run_batch(w, msgs, metas.data(), parse, &kept);
    std::vector<std::string> fwd;
    fwd.reserve(batch);
    for (const auto& q : kept) {
      for (std::size_t k = 0; k < q->size(); ++k) {
        if ((*q)[k].dst == k_registrar) fwd.emplace_back(q->bytes((*q)[k]));
      }
    }
    if (fwd.size() != batch) w.ok = false;
    state.SetIterationTime(t);
    total += t;
    count += batch;
    // Untimed: registrar 200s, then unregister them again, so the worker stays at n bindings.
    w.answer_all(fwd, 86400);
    w.release_transactions();
    w.answer_all(w.send_registers(ids, 0), 0);
    w.release_transactions();
  }
  report(state, w, total, count);
}

void bm_upstream_200(benchmark::State& state) {
  world& w = the_world();
  const bool parse = state.range(0) != 0;
  std::vector<std::string> msgs(batch);
  const std::vector<reg::packet_meta> metas(batch, reg::packet_meta{k_registrar, reg::side::core});
  double total = 0;
  std::uint64_t count = 0;
  for (auto _ : state) {
    const auto ids = w.fresh_ids();
    const auto fwd = w.send_registers(ids, 3600);  // untimed: the pending registrations
    for (std::size_t j = 0; j < batch; ++j) msgs[j] = registrar_200(fwd[j], 86400);
    const double t = run_batch(w, msgs, metas.data(), parse);
    state.SetIterationTime(t);
    total += t;
    count += batch;
    w.release_transactions();
    w.answer_all(w.send_registers(ids, 0), 0);
    w.release_transactions();
  }
  report(state, w, total, count);
}

void bm_absorbed_refresh(benchmark::State& state) {
  world& w = the_world();
  const bool parse = state.range(0) != 0;
  std::vector<std::string> msgs(batch);
  std::vector<reg::packet_meta> metas(batch);
  double total = 0;
  std::uint64_t count = 0;
  const std::uint64_t absorbed0 = w.eng->counters().register_absorbed;
  for (auto _ : state) {
    for (std::size_t j = 0; j < batch; ++j) {
      const std::uint64_t i = w.rng() % w.n;
      msgs[j] = register_msg(i, ++w.cseq[i], w.branch++, 3600);
      metas[j] = {source_of(i), reg::side::access};
    }
    const double t = run_batch(w, msgs, metas.data(), parse);
    state.SetIterationTime(t);
    total += t;
    count += batch;
    w.release_transactions();
  }
  // Random picks can hit one binding twice in a batch: still a refresh, still absorbed.
  if (w.eng->counters().register_absorbed - absorbed0 != count) w.ok = false;
  report(state, w, total, count);
}

void bm_routed_invite(benchmark::State& state) {
  world& w = the_world();
  const bool parse = state.range(0) != 0;
  std::vector<std::string> msgs(batch);
  const std::vector<reg::packet_meta> metas(batch, reg::packet_meta{k_core, reg::side::core});
  double total = 0;
  std::uint64_t count = 0;
  const std::uint64_t routed0 = w.eng->counters().routed_to_phone;
  for (auto _ : state) {
    for (std::size_t j = 0; j < batch; ++j) msgs[j] = core_invite(w.our_contact[w.rng() % w.n], w.branch++);
    const double t = run_batch(w, msgs, metas.data(), parse);
    state.SetIterationTime(t);
    total += t;
    count += batch;
  }
  if (w.eng->counters().routed_to_phone - routed0 != count) w.ok = false;
  report(state, w, total, count);
}

// steer() alone on pre-parsed REGISTERs, 8 workers: <aor> = 1 is what the dataplane
// runs (the To URI parsed and canonicalised, then hashed), <aor> = 0 the Call-ID hash
// it replaced, for the difference. No engine, no bindings.
void bm_steer_register(benchmark::State& state) {
  const bool aor = state.range(0) != 0;
  std::vector<std::string> bytes(batch);
  for (std::size_t j = 0; j < batch; ++j) bytes[j] = register_msg(j, 1, j, 3600);
  std::vector<sip::message> msgs(batch);
  for (std::size_t j = 0; j < batch; ++j) {
    if (msgs[j].parse(bytes[j]) != sip::errc::ok) state.SkipWithError("REGISTER does not parse");
  }
  std::uint64_t sum = 0;
  for (auto _ : state) {
    for (const sip::message& m : msgs) {
      sum += aor ? reg::steer(m, reg::side::access, 8, 0) : reg::call_id_hash(m.value_of(sip::header_id::call_id)) % 8;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.counters["ns_per_msg"] =
      benchmark::Counter(static_cast<double>(batch) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const char* iters_env = std::getenv("SIPFRONT_REGENGINE_BATCHES");
  const long long iters = iters_env != nullptr ? std::atoll(iters_env) : 64;
  const auto reg_bm = [&](const char* name, void (*fn)(benchmark::State&)) {
    benchmark::RegisterBenchmark(name, fn)
        ->ArgName("parse")
        ->Arg(1)
        ->Arg(0)
        ->UseManualTime()
        ->Iterations(iters > 0 ? iters : 64)
        ->Unit(benchmark::kMicrosecond);
  };
  reg_bm("BM_new_register", bm_new_register);
  reg_bm("BM_absorbed_refresh", bm_absorbed_refresh);
  reg_bm("BM_upstream_200", bm_upstream_200);
  reg_bm("BM_routed_invite", bm_routed_invite);
  benchmark::RegisterBenchmark("BM_steer_register", bm_steer_register)->ArgName("aor")->Arg(1)->Arg(0);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
