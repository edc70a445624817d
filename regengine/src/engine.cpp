// Registration pass-through with RFC 3261 §17 UDP transaction handling:
// end-to-end (the phone's request relayed with our Via on top) and peer-to-peer
// (a new out-leg request per binding, rate limiting; see the peer-to-peer section),
// and in peer-to-peer mode the stateless routing of other requests between the core
// and registered phones (see the routing section), digest answers to registrar
// challenges of the front end's own REGISTERs (the registrar challenges section),
// registrar health probing with OPTIONS (the prober section), and local fallback
// with paced reg-sync (their section).
//
// One record per REGISTER transaction pairs the server side (toward the phone)
// with the client side (toward the registrar). It is found from a phone
// retransmission by a key over the phone's top Via (RFC 3261 §17.2.3, or the
// RFC 2543 fallback), and from a registrar response by the branch the front end
// generated ("z9hG4bKsf<worker>.<id>"), which also tells the dataplane which
// worker owns the response (steer()).
//
// Sizing: a record is ~230 bytes plus one 2 KiB message slot (the forwarded
// request while pending - in peer-to-peer mode followed by the phone's request,
// from which its answer is built - and the final response once completed). Messages above
// 2 KiB use one of the 8 KiB slots (1/32 as many). With the default 16384
// transactions per worker that is ~37 MiB per worker, allocated once.
#include "sipfront/regengine/engine.hpp"

#include <algorithm>
#include <array>
#include <boost/intrusive/unordered_set.hpp>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "sipfront/regengine/digest.hpp"
#include "sipfront/regengine/timer_wheel.hpp"
#include "sipfront/sipparse/builder.hpp"
#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/uri.hpp"
#include "sipfront/sipparse/values.hpp"

namespace sipfront::reg {
namespace bi = boost::intrusive;

namespace {

constexpr std::string_view k_branch_prefix = "z9hG4bKsf";
constexpr std::size_t k_small_slot = 2048;
constexpr std::size_t k_large_slot = 8192;
constexpr std::uint32_t k_no_slot = 0xffffffffU;
constexpr std::string_view k_retry_5_lines[] = {"Retry-After: 5"};
constexpr std::span<const std::string_view> k_retry_5{k_retry_5_lines};

enum timer_kind : std::uint8_t { timer_e = 1, timer_f = 2, timer_k = 3, binding_timer = 16 };
enum class txn_state : std::uint8_t { free, pending, completed };
// What a transaction is for. End-to-end transactions relay the phone's request;
// peer-to-peer ones carry an out-leg request of a binding, on the phone's behalf
// or on the front end's own (refresh before out-expires, fail-count deregistration).
// Primary/secondary forks split the two sides: a fork_parent holds the phone's
// request and answer (server side, no timers of its own while pending), each
// fork_leg one out-leg REGISTER to one registrar (client side). A probe is the
// front end's OPTIONS to a registrar (health, see the prober section); a sync the
// reg-sync REGISTER of a local-only binding (see the local fallback section).
enum class txn_role : std::uint8_t { relay, phone, refresh, deregister, fork_parent, fork_leg, probe, sync };
constexpr std::uint32_t k_no_txn = 0xffffffffU;
constexpr std::uint32_t k_default_retry_after_s = 30;
// Reg-sync pacing: the token bucket holds at most this much sending time (so a
// registrar that comes back sees at most rate/10 REGISTERs at once from a worker),
// and one tick visits at most this many pool records and sends at most this many.
constexpr std::uint64_t k_sync_burst_ms = 100;
constexpr unsigned k_sync_visits_per_tick = 1024;
constexpr unsigned k_sync_sends_per_tick = 32;

// FNV-1a, 64-bit: stable across builds and cores (steering needs that), cheap on
// the short strings it hashes (Call-IDs, branches).
constexpr std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) noexcept {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

constexpr char hex_digit(unsigned v) noexcept { return "0123456789abcdef"[v & 15U]; }

// Appends `v` as lower-case hex without leading zeros (at least one digit).
void put_hex(sip::writer& w, std::uint64_t v) noexcept {
  char buf[16];
  int n = 0;
  do {
    buf[15 - n++] = hex_digit(static_cast<unsigned>(v));
    v >>= 4;
  } while (v != 0);
  w.put(std::string_view(buf + 16 - n, static_cast<std::size_t>(n)));
}

void put_ipv4(sip::writer& w, std::uint32_t ip) noexcept {
  w.put_uint(ip >> 24)
      .put('.')
      .put_uint((ip >> 16) & 0xff)
      .put('.')
      .put_uint((ip >> 8) & 0xff)
      .put('.')
      .put_uint(ip & 0xff);
}

// Parses "<2 hex worker>.<hex id>" (a transaction of this front end) or
// "<2 hex worker>s<hex key>" (a request it relayed statelessly, see the routing
// section) after the branch prefix; `stateless` says which.
bool decode_branch(std::string_view branch, unsigned& worker, std::uint64_t& id, bool& stateless) noexcept {
  if (!branch.starts_with(k_branch_prefix)) return false;
  branch.remove_prefix(k_branch_prefix.size());
  if (branch.size() < 4 || branch.size() > 3 + 16 || (branch[2] != '.' && branch[2] != 's')) return false;
  stateless = branch[2] == 's';
  auto hex = [](char c, unsigned& out) {
    if (!sip::chars::is_hex(c)) return false;
    out = static_cast<unsigned>(sip::chars::hex_value(c));
    return true;
  };
  unsigned hi = 0;
  unsigned lo = 0;
  if (!hex(branch[0], hi) || !hex(branch[1], lo)) return false;
  worker = hi * 16 + lo;
  id = 0;
  for (char c : branch.substr(3)) {
    unsigned d = 0;
    if (!hex(c, d)) return false;
    id = (id << 4) | d;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------- the record

struct txn {
  bi::unordered_set_member_hook<> by_server;  // phone-side key
  bi::unordered_set_member_hook<> by_client;  // our branch id
  timer_hook retrans;                         // Timer E
  timer_hook life;                            // Timer F while pending, Timer K once completed
  std::uint64_t server_key = 0;
  std::uint64_t client_id = 0;
  endpoint phone{};  // where the phone's responses go (RFC 3261 §18.2.2 / RFC 3581)
  endpoint registrar{};
  std::uint32_t slot = k_no_slot;
  std::uint32_t msg_len = 0;  // bytes held in the slot
  std::uint32_t e_interval = 0;
  bool large = false;
  txn_state state = txn_state::free;
  txn_role role = txn_role::relay;
  // Peer-to-peer only.
  std::uint16_t phone_off = 0;  // the phone's request, kept after the out-leg request in the slot
  std::uint16_t phone_len = 0;
  std::uint32_t out_expires = 0;  // what the out-leg request asked for
  endpoint phone_src{};           // the phone's source address (the binding's NAT check)
  binding_handle bind{};
  spike_slot spike = spike_slot::none;  // overload slot held while the out-leg request is pending
  std::uint8_t reg_slot = 0;            // registrars[] slot the out-leg request went to
  std::uint8_t tried = 0;               // registrar_set::tried_bit mask (indexed failover)
  std::uint8_t leg = 0;                 // fork_leg: its leg number; refresh: 1 = the secondary's refresh
  std::uint8_t legs_pending = 0;        // fork_parent: legs not final yet
  std::uint8_t auth_answers = 0;        // refresh/deregister: challenges answered (registrar challenges section)
  std::uint32_t parent = k_no_txn;      // fork_leg: the fork_parent's record index while pending
  fork_outcome fork{};                  // fork_parent
};

struct server_key_of {
  using type = std::uint64_t;
  type operator()(const txn& t) const noexcept { return t.server_key; }
};
struct client_key_of {
  using type = std::uint64_t;
  type operator()(const txn& t) const noexcept { return t.client_id; }
};
struct id_hash {
  std::size_t operator()(std::uint64_t k) const noexcept { return static_cast<std::size_t>(k ^ (k >> 29)); }
};

using server_set = bi::unordered_set<txn, bi::member_hook<txn, bi::unordered_set_member_hook<>, &txn::by_server>,
                                     bi::key_of_value<server_key_of>, bi::hash<id_hash>, bi::power_2_buckets<true>,
                                     bi::constant_time_size<true>>;
using client_set = bi::unordered_set<txn, bi::member_hook<txn, bi::unordered_set_member_hook<>, &txn::by_client>,
                                     bi::key_of_value<client_key_of>, bi::hash<id_hash>, bi::power_2_buckets<true>,
                                     bi::constant_time_size<false>>;

struct engine::impl {
  impl(const engine_config& config, engine_counters& counters, explain_ring& ring, std::uint64_t now)
      : txns(config.max_transactions),
        server_buckets(bucket_count(config.max_transactions)),
        client_buckets(bucket_count(config.max_transactions)),
        by_server(server_set::bucket_traits(server_buckets.data(), server_buckets.size())),
        by_client(client_set::bucket_traits(client_buckets.data(), client_buckets.size())),
        small(config.max_transactions * k_small_slot),
        large(std::max<std::size_t>(config.max_transactions / 32, 4) * k_large_slot),
        wheel(now),
        cfg(config),
        c(counters),
        scratch(output_queue::max_message),
        bindings(
            binding_table_config{.capacity = config.mode == passthrough_mode::peer_to_peer ? config.max_bindings : 0U,
                                 .worker_id = config.worker_id,
                                 .seed = config.binding_seed}),
        explain(ring) {
    if (config.registrar_order.empty()) {
      const std::array<unsigned, 1> one{config.default_registrar + 1};
      (void)registrar_list::make(one, order);
    } else {
      order = config.registrar_order;
    }
    for (unsigned i = 0; i < config.n_registrars && i < max_registrars; ++i) {
      const registrar_target& r = config.registrars[i];
      if (r.dynamic) {
        (void)regs.configure_dynamic(i + 1);  // unresolved until resolve_registrar()
      } else if (r.addr.ip != 0) {
        (void)regs.configure_static(i + 1, r.addr);
      }
    }
    if (config.spike != nullptr && config.mode == passthrough_mode::peer_to_peer) {
      const std::uint64_t seed =
          config.spike_seed != 0
              ? config.spike_seed
              : static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
      budget.emplace(*config.spike, config.worker_id, seed);
    }
    probe_txn.fill(k_no_txn);
    sync_rate =
        std::max(1U, (config.regsync_rate + std::max(config.n_workers, 1U) - 1) / std::max(config.n_workers, 1U));
    free_txns.reserve(txns.size());
    for (std::size_t i = txns.size(); i-- > 0;) free_txns.push_back(static_cast<std::uint32_t>(i));
    const std::size_t n_large = large.size() / k_large_slot;
    free_large.reserve(n_large);
    for (std::size_t i = n_large; i-- > 0;) free_large.push_back(static_cast<std::uint32_t>(i));
    // Branch ids start at a per-process random point so a restarted front end does
    // not reuse the branches of its previous life (RFC 3261 §8.1.1.7 uniqueness).
    next_id = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) *
                  0x9e3779b97f4a7c15ULL >>
              8;
    cnonce_state = next_id ^ (std::uint64_t{config.worker_id} << 56);
    // Bindings hold canonical AORs: an entry's aor is compared in that form, so any
    // spelling the phones use (host case, URI parameters) matches it.
    const std::size_t n_creds = std::min(config.credentials.size(), max_credentials);
    credential_aors.reserve(n_creds);
    for (std::size_t i = 0; i < n_creds; ++i) {
      aor_buffer key_buf;  // aor_key() writes what it returns; the rest is never read
      credential_aors.emplace_back(aor_key(config.credentials[i].aor, key_buf));
    }
  }

  static std::size_t bucket_count(std::size_t n) {
    std::size_t b = 64;
    while (b < n) b <<= 1;
    return b;
  }

  std::vector<txn> txns;
  std::vector<std::uint32_t> free_txns;  // stack of free record indices (no allocation after construction)
  std::vector<server_set::bucket_type> server_buckets;
  std::vector<client_set::bucket_type> client_buckets;
  server_set by_server;
  client_set by_client;
  std::vector<char> small;  // slot i of txn i
  std::vector<char> large;
  std::vector<std::uint32_t> free_large;
  timer_wheel wheel;
  std::uint64_t next_id = 0;

  std::span<char> slot_of(txn& t) noexcept {
    const auto i = static_cast<std::size_t>(&t - txns.data());
    if (t.large) return {large.data() + static_cast<std::size_t>(t.slot) * k_large_slot, k_large_slot};
    return {small.data() + i * k_small_slot, k_small_slot};
  }
  std::string_view stored(txn& t) noexcept { return {slot_of(t).data(), t.msg_len}; }
  txn& owner_of(timer_hook& h) noexcept {
    const auto off = static_cast<std::size_t>(reinterpret_cast<char*>(&h) - reinterpret_cast<char*>(txns.data()));
    return txns[off / sizeof(txn)];
  }

  void on_register(const sip::message& msg, const sip::via& top, const endpoint& src, const endpoint& reply_to,
                   std::uint64_t now, output_queue& out) noexcept;
  void on_response(const sip::message& msg, std::uint64_t now, output_queue& out) noexcept;
  void on_timer(timer_hook& h, std::uint64_t now, output_queue& out) noexcept;
  void time_out(txn& t, std::uint64_t now, output_queue& out) noexcept;
  /// Timer F's answer to the phone (408, or 503 when configured) for the request
  /// `req` of transaction `t`, kept in `t` to answer the phone's retransmissions.
  void answer_timeout(txn& t, const sip::message& req, output_queue& out) noexcept;
  /// Answers `req` of transaction `t` with `code`, keeping the answer in `t`.
  void answer_in(txn& t, const sip::message& req, std::uint16_t code, std::string_view reason,
                 std::span<const std::string_view> extra, output_queue& out) noexcept;
  std::size_t pick_registrar(const sip::message& msg) const noexcept;

  const engine_config& cfg;
  engine_counters& c;
  std::vector<char> scratch;  // cold-path workspace (Timer F answers)
  // Declared after the wheel: records unlink their timers when the table goes first.
  binding_table bindings;
  explain_ring& explain;

  // ---- registrar modes and overload protection (peer-to-peer)
  registrar_set regs;    // this worker's registrars and their health
  registrar_list order;  // the mode's list (cfg.registrar_order or the default registrar)
  std::array<std::uint64_t, max_registrars> down_at{};  // when each was marked down (0: not down)
  std::optional<spike_budget> budget;                   // this worker's share of the spike pool
  bool busy_since_tick = false;                         // a message arrived since the last on_tick

  spike_slot acquire_slot(spike_kind kind) noexcept { return budget ? budget->acquire(kind) : spike_slot::unmetered; }
  void end_upstream(txn& t) noexcept {
    if (budget) budget->release(t.spike);
    t.spike = spike_slot::none;
  }
  std::uint32_t retry_after_s() noexcept { return budget ? budget->retry_after_s() : k_default_retry_after_s; }
  // Without the prober, down registrars are tried again after registrar_retry_ms;
  // with it, only an answer (to a probe or a REGISTER) brings them back.
  void revive(std::uint64_t now) noexcept {
    if (cfg.probe_interval_ms != 0) return;
    for (unsigned i = 0; i < max_registrars; ++i) {
      if (down_at[i] != 0 && now - down_at[i] >= cfg.registrar_retry_ms) {
        regs.mark_up(i + 1);
        down_at[i] = 0;
      }
    }
  }
  // Feeds a final answer (code 0: Timer F) from registrar slot `slot` into its health;
  // true when the REGISTER should fail over (Timer F, 503).
  bool note_registrar(unsigned slot, std::uint16_t code, std::uint32_t retry_after, std::uint64_t now) noexcept {
    // With a list of one there is nothing to fail over to: every REGISTER is tried
    // (no health kept), as before registrar modes existed - unless the prober or
    // local fallback is on, which need to know that the only registrar is down.
    if (order.size() < 2 && cfg.probe_interval_ms == 0 && !cfg.fallback) return false;
    const unsigned index = slot + 1;
    if (code == 0) {
      regs.on_timeout(index);
      if (slot < max_registrars) down_at[slot] = std::max<std::uint64_t>(now, 1);
      return true;
    }
    const bool fo = regs.on_response(index, code, retry_after, now);
    if (slot < max_registrars) {
      if (fo && retry_after == 0) {
        down_at[slot] = std::max<std::uint64_t>(now, 1);
      } else if (!fo) {
        down_at[slot] = 0;
      }
    }
    return fo;
  }
  bool failover(txn& t, std::uint64_t now, output_queue& out) noexcept;

  // ---- OPTIONS prober, local fallback and reg-sync (see their sections below)
  std::array<std::uint64_t, max_registrars> probe_due{};     // next probe per registrar slot (0: not scheduled)
  std::array<registrar_health, max_registrars> probe_for{};  // the health that schedule was made for
  std::array<std::uint32_t, max_registrars> probe_txn{};     // the probe in flight (k_no_txn: none)
  std::uint32_t sync_rate = 1;                               // reg-sync REGISTERs per second, this worker
  std::uint64_t sync_tokens = 0;                             // in 1/1000 REGISTER
  std::uint64_t sync_refill_at = 0;
  std::uint32_t sync_cursor = 0;      // next pool index the sweep visits
  std::uint64_t sync_epoch = 0;       // bumped whenever a binding is marked needs_sync
  std::uint64_t sync_pass_epoch = 0;  // sync_epoch when the current pass began
  bool sync_wanted = false;           // some binding may need sync
  bool sync_running = false;          // a registrar is usable and the bucket is filling

  [[nodiscard]] bool fallback_on() const noexcept { return cfg.fallback && cfg.mode == passthrough_mode::peer_to_peer; }
  // A registrar of the mode's list can take a REGISTER now; `slot` is the one reg-sync uses.
  bool usable(std::uint64_t now, unsigned* slot = nullptr) noexcept {
    revive(now);
    unsigned index = 0;
    if (cfg.reg_mode == registrar_mode::primary_secondary) {
      const fork_plan plan = regs.fork_targets(order, now);
      if (plan.status != select_status::ok) return false;
      index = plan.legs[0].index;
    } else {
      const selection sel = regs.next_target(order, now);
      if (sel.status != select_status::ok) return false;
      index = sel.pick.index;
    }
    if (slot != nullptr) *slot = index - 1;
    return true;
  }
  // Local fallback applies to a REGISTER of `b` that found no registrar.
  bool fallback_applies(const binding& b, std::uint64_t now) noexcept {
    return fallback_on() && (b.state == binding_state::fallback || !usable(now));
  }
  void enter_fallback(binding& b, std::uint64_t now) noexcept;
  bool keep_locally(binding& b, const register_decision& d, const endpoint& src, std::uint64_t now) noexcept;
  void answer_fallback(txn& t, binding& b, const sip::message& req, std::uint64_t now, output_queue& out) noexcept;
  void run_probes(std::uint64_t now, output_queue& out) noexcept;
  void send_probe(unsigned slot, std::uint64_t now, output_queue& out) noexcept;
  void probe_final(txn& t, std::uint16_t code, std::uint32_t retry_after, std::uint64_t now) noexcept;
  void run_regsync(std::uint64_t now, output_queue& out) noexcept;

  void on_fork_leg_final(txn& leg, const sip::message* resp, std::uint64_t now, output_queue& out) noexcept;
  void answer_phone(txn& t, const sip::message* resp, std::uint16_t code, std::uint32_t granted, std::uint8_t reg_slot,
                    std::uint64_t now, output_queue& out) noexcept;
  /// `auth` ("Name: value" parts; empty name: none) is added to a request of the front end's own (phone nullptr).
  struct auth_line {
    std::string_view name;
    std::string_view value;
  };
  bool emit_out_register(txn& t, binding& b, const sip::message* phone, std::uint64_t now, output_queue& out,
                         auth_line auth = {}) noexcept;
  std::string_view out_request_uri(const registrar_target& reg, const endpoint& dst,
                                   std::array<char, 300>& buf) const noexcept;

  // ---- digest answers to registrar challenges (see the auth section)
  digest_client digest;
  std::uint64_t cnonce_state = 0;            // splitmix64 state for client nonces
  std::vector<std::string> credential_aors;  // canonical_aor() of each credential's aor (empty: realm-only)
  bool answer_challenge(txn& t, const sip::message& resp, std::uint16_t code, std::uint64_t now,
                        output_queue& out) noexcept;
  [[nodiscard]] const credential* find_credential(std::string_view realm, std::string_view aor) const noexcept;

  // ---- peer-to-peer (see the section comment in the p2p part below)
  std::string_view our_via(std::array<char, 128>& buf, std::uint64_t client_id) const noexcept;
  /// The Contact the front end registers for `b` upstream ("<sip:<out-leg Call-ID>@core>"),
  /// which the core sends the binding's requests to.
  std::string_view out_contact(const binding& b, std::array<char, 96>& buf) const noexcept {
    out_call_id_buffer cid_buf{};
    sip::writer w(buf);
    w.put("<sip:").put(bindings.out_call_id(b, cid_buf)).put('@');
    put_ipv4(w, cfg.core_local.ip);
    w.put(':').put_uint(cfg.core_local.port).put('>');
    return w.view();
  }
  void on_register_p2p(const sip::message& msg, const endpoint& src, const endpoint& reply_to, std::uint64_t key,
                       std::uint64_t now, output_queue& out) noexcept;
  txn* send_out_register(binding& b, txn_role role, std::uint32_t expires, const sip::message* phone,
                         const endpoint& src, const endpoint& reply_to, std::uint64_t key, std::uint64_t now,
                         output_queue& out, unsigned reg_slot, spike_slot slot) noexcept;
  void answer_local(const sip::message& req, const endpoint& dst, std::uint64_t key, const binding* b,
                    std::uint64_t now, output_queue& out) noexcept;
  void on_response_p2p(txn& t, const sip::message& msg, std::uint64_t now, output_queue& out) noexcept;
  void time_out_p2p(txn& t, std::uint64_t now, output_queue& out) noexcept;
  void on_binding_timer(binding& b, std::uint64_t now, output_queue& out) noexcept;
  void arm_binding(binding& b, std::uint64_t not_before) noexcept;
  void deregister(binding& b, std::uint64_t now, output_queue& out) noexcept;
  void dereg_leg_done(binding& b) noexcept;  // one deregistration answered or timed out
  [[nodiscard]] std::uint64_t out_refresh_at(const binding& b) const noexcept;
  [[nodiscard]] std::uint32_t granted_expires(const sip::message& resp, const binding& b,
                                              std::uint32_t asked) const noexcept;
  std::string_view phone_request(txn& t) noexcept { return {slot_of(t).data() + t.phone_off, t.phone_len}; }

  // ---- routing to and from registered phones (peer-to-peer; see the routing section)
  bool on_core_request(const sip::message& msg, const sip::via& top, const endpoint& src, const endpoint& reply_to,
                       std::uint64_t now, output_queue& out) noexcept;
  bool on_phone_request(const sip::message& msg, const sip::via& top, const endpoint& src, const endpoint& reply_to,
                        output_queue& out) noexcept;
  bool relay_response(const sip::message& msg, side from, output_queue& out) noexcept;
  /// The registered binding of a phone request's caller: its From AOR's binding
  /// when the request comes from that binding's source address, else nullptr.
  const binding* caller_binding(const sip::message& msg, const endpoint& src) noexcept;
  struct relay_plan;
  bool relay_request(const sip::message& msg, const sip::via& top, const endpoint& src, const relay_plan& p,
                     output_queue& out) noexcept;

  // Keeps the out-leg request and the phone's request back to back in the slot.
  bool store_pair(txn& t, std::string_view first, std::string_view second) noexcept {
    const std::size_t total = first.size() + second.size();
    if (total > k_large_slot) return false;
    if (total > k_small_slot && !t.large) {
      if (free_large.empty()) return false;
      t.slot = free_large.back();
      free_large.pop_back();
      t.large = true;
    }
    const std::span<char> slot = slot_of(t);
    std::memcpy(slot.data(), first.data(), first.size());
    std::memcpy(slot.data() + first.size(), second.data(), second.size());
    t.msg_len = static_cast<std::uint32_t>(first.size());
    t.phone_off = static_cast<std::uint16_t>(first.size());
    t.phone_len = static_cast<std::uint16_t>(second.size());
    return true;
  }

  // Keeps `bytes` in the record's slot, moving to a large slot when needed.
  bool store(txn& t, std::string_view bytes) noexcept {
    if (bytes.size() > k_small_slot && !t.large) {
      if (bytes.size() > k_large_slot || free_large.empty()) return false;
      t.slot = free_large.back();
      free_large.pop_back();
      t.large = true;
    } else if (bytes.size() > k_large_slot) {
      return false;
    }
    std::memcpy(slot_of(t).data(), bytes.data(), bytes.size());
    t.msg_len = static_cast<std::uint32_t>(bytes.size());
    t.phone_len = 0;
    return true;
  }

  txn* alloc() noexcept {
    if (free_txns.empty()) return nullptr;
    txn& t = txns[free_txns.back()];
    free_txns.pop_back();
    t.state = txn_state::pending;
    t.large = false;
    t.slot = k_no_slot;
    t.msg_len = 0;
    t.role = txn_role::relay;
    t.phone_off = 0;
    t.phone_len = 0;
    t.bind = {};
    t.spike = spike_slot::none;
    t.reg_slot = 0;
    t.tried = 0;
    t.leg = 0;
    t.legs_pending = 0;
    t.auth_answers = 0;
    t.parent = k_no_txn;
    t.fork = fork_outcome{};
    return &t;
  }

  void release(txn& t) noexcept {
    end_upstream(t);
    timer_wheel::cancel(t.retrans);
    timer_wheel::cancel(t.life);
    if (t.by_server.is_linked()) by_server.erase(by_server.iterator_to(t));
    if (t.by_client.is_linked()) by_client.erase(by_client.iterator_to(t));
    if (t.large) free_large.push_back(t.slot);
    t.large = false;
    t.state = txn_state::free;
    free_txns.push_back(static_cast<std::uint32_t>(&t - txns.data()));
  }
};

// ---------------------------------------------------------------- helpers

namespace {

// Sends `bytes` to `dst` through the output queue.
bool emit(output_queue& out, const endpoint& dst, std::string_view bytes, engine_counters& c) noexcept {
  const std::span<char> buf = out.reserve();
  if (buf.size() < bytes.size()) {
    ++c.output_full;
    return false;
  }
  std::memcpy(buf.data(), bytes.data(), bytes.size());
  out.commit(dst, bytes.size());
  return true;
}

// A To-tag that is the same for every retransmission of one request, so locally
// generated answers to retransmissions are identical (RFC 3261 §8.2.6.2).
std::string_view local_tag(const sip::message& req, std::array<char, 18>& buf) noexcept {
  std::uint64_t h = fnv1a(req.value_of(sip::header_id::call_id));
  h = fnv1a(req.value_of(sip::header_id::cseq), h);
  h = fnv1a(req.value_of(sip::header_id::from), h);
  buf[0] = 's';
  buf[1] = 'f';
  for (std::size_t i = 0; i < 16; ++i) buf[2 + i] = hex_digit(static_cast<unsigned>(h >> (4 * i)));
  return {buf.data(), buf.size()};
}

// Where responses to this request go (RFC 3261 §18.2.2 with RFC 3581 rport): the
// source port when the phone asked for rport; otherwise the source address with
// the sent-by port (the address is the received= one when sent-by differs).
endpoint response_target(const sip::via& v, const endpoint& src) noexcept {
  endpoint dst = src;
  if (!v.has_rport) dst.port = v.has_port ? v.port : 5060;
  return dst;
}

struct local_answer {
  std::uint16_t code;
  std::string_view reason;
  std::span<const std::string_view> extra;
};

// Answers `req` locally and statelessly (retransmissions get the same answer again).
void answer(const sip::message& req, const endpoint& dst, const local_answer& a, output_queue& out,
            engine_counters& c) noexcept {
  const std::span<char> buf = out.reserve();
  if (buf.empty()) {
    ++c.output_full;
    return;
  }
  std::array<char, 18> tag{};
  const auto n = sip::write_response(req, a.code, a.reason, local_tag(req, tag), a.extra, buf);
  if (!n) {
    ++c.output_full;
    return;
  }
  out.commit(dst, *n);
  ++c.local_responses;
}

// The transaction key of a request from the phone (RFC 3261 §17.2.3): the top
// Via's branch and sent-by when the branch carries the magic cookie, else the
// RFC 2543 fields (Call-ID, CSeq, From tag, top Via).
std::uint64_t server_key(const sip::message& msg, const sip::via& top) noexcept {
  std::uint64_t h = fnv1a(top.host);
  h = fnv1a(std::string_view(reinterpret_cast<const char*>(&top.port), sizeof top.port), h);
  if (top.branch_is_rfc3261()) return fnv1a(top.branch, h);
  h = fnv1a(msg.value_of(sip::header_id::call_id), h);
  h = fnv1a(msg.value_of(sip::header_id::cseq), h);
  if (const auto from = sip::parse_name_addr(msg.value_of(sip::header_id::from))) h = fnv1a(from->tag(), h);
  return fnv1a(top.branch, h);
}

// The phone's top Via as it is forwarded: received= and rport= filled in
// (RFC 3261 §18.2.1, RFC 3581 §4), its other parameters kept in order.
bool rewrite_phone_via(const sip::via& top, const endpoint& src, sip::writer& w) noexcept {
  w.put(top.protocol).put('/').put(top.version).put('/').put(top.transport_token).put(' ').put(top.host);
  if (top.has_port) w.put(':').put_uint(top.port);
  sip::param_iterator it(top.params);
  std::string_view name;
  std::string_view value;
  while (it.next(name, value)) {
    if (sip::chars::iequals(name, "received") || sip::chars::iequals(name, "rport")) continue;
    w.put(';').put(name);
    if (!value.empty()) w.put('=').put(value);
  }
  std::uint32_t sent_by_ip = 0;
  const bool same =
      top.host_type == sip::host_kind::ipv4 && sip::parse_ipv4(top.host, sent_by_ip) && sent_by_ip == src.ip;
  if (!same || top.has_rport) {
    w.put(";received=");
    put_ipv4(w, src.ip);
  }
  if (top.has_rport) w.put(";rport=").put_uint(src.port);
  return !w.overflowed();
}

}  // namespace

// ---------------------------------------------------------------- engine::impl

std::size_t engine::impl::pick_registrar(const sip::message& msg) const noexcept {
  // End-to-end: the Request-URI names the registrar, by configured domain or address.
  const auto ruri = sip::parse_uri(msg.request_uri());
  if (ruri) {
    std::uint32_t ip = 0;
    const bool literal = ruri->host_type == sip::host_kind::ipv4 && sip::parse_ipv4(ruri->host, ip);
    for (std::size_t i = 0; i < cfg.n_registrars; ++i) {
      const registrar_target& r = cfg.registrars[i];
      if (!r.domain.empty() && sip::chars::iequals(r.domain, ruri->host)) return i;
      if (!r.host.empty() && sip::chars::iequals(r.host, ruri->host)) return i;
      const endpoint a = regs.address(static_cast<unsigned>(i) + 1);
      if (literal && a.ip != 0 && ip == a.ip && (!ruri->has_port || ruri->port == a.port)) return i;
    }
  }
  return cfg.default_registrar;
}

std::string_view engine::impl::our_via(std::array<char, 128>& buf, std::uint64_t client_id) const noexcept {
  // Our Via: branch = magic cookie + "sf" + owner worker + "." + id (steer() reads it back).
  sip::writer vw(buf);
  vw.put("SIP/2.0/UDP ");
  put_ipv4(vw, cfg.core_local.ip);
  vw.put(':').put_uint(cfg.core_local.port).put(";branch=").put(k_branch_prefix);
  vw.put(hex_digit(cfg.worker_id >> 4)).put(hex_digit(cfg.worker_id)).put('.');
  put_hex(vw, client_id);
  vw.put(";rport");
  return vw.view();
}

void engine::impl::on_register(const sip::message& msg, const sip::via& top, const endpoint& src,
                               const endpoint& reply_to, std::uint64_t now, output_queue& out) noexcept {
  const std::uint64_t key = server_key(msg, top);
  if (auto it = by_server.find(key); it != by_server.end()) {
    txn& t = *it;
    if (t.state == txn_state::pending) {
      ++c.retrans_absorbed;
    } else if (t.msg_len != 0 && emit(out, t.phone, stored(t), c)) {
      ++c.retrans_answered;
    }
    return;
  }
  if (cfg.n_registrars == 0) {
    ++c.no_registrar;
    answer(msg, reply_to, {503, "Service Unavailable - No Registrar", {}}, out, c);
    return;
  }
  if (cfg.mode == passthrough_mode::peer_to_peer) {
    on_register_p2p(msg, src, reply_to, key, now, out);
    return;
  }
  // The registrar's current address: a dynamic one has none while DNS has not answered.
  const endpoint dst = regs.address(static_cast<unsigned>(pick_registrar(msg)) + 1);
  if (dst.ip == 0) {
    ++c.no_registrar;
    answer(msg, reply_to, {503, "Service Unavailable - No Registrar", {}}, out, c);
    return;
  }
  txn* tp = alloc();
  if (tp == nullptr) [[unlikely]] {
    ++c.transactions_full;
    answer(msg, reply_to, {503, "Service Unavailable - Overloaded", k_retry_5}, out, c);
    return;
  }
  txn& t = *tp;
  t.client_id = next_id++;
  t.server_key = key;
  t.phone = reply_to;
  t.registrar = dst;

  std::array<char, 128> via_buf{};
  const std::string_view via = our_via(via_buf, t.client_id);
  std::array<char, 512> phone_via{};
  sip::writer pw(phone_via);
  std::array<char, 4> mf{};
  sip::writer mw(mf);
  const auto max_fwd = sip::parse_max_forwards(msg.value_of(sip::header_id::max_forwards));
  mw.put_uint(max_fwd ? *max_fwd - 1U : 70U);  // absent only for RFC 2543 peers: add one (§16.6 step 3)

  const std::span<char> buf = out.reserve();
  sip::message_edit edit;
  edit.push_via(via).replace(sip::header_id::max_forwards, mw.view());
  if (rewrite_phone_via(top, src, pw)) edit.set_top_via(pw.view());
  const auto n = buf.empty() ? sip::result<std::size_t>(sip::errc::too_large) : sip::write_message(msg, edit, buf);
  if (!n || !store(t, {buf.data(), *n})) [[unlikely]] {
    ++c.output_full;
    release(t);
    return;
  }
  out.commit(t.registrar, *n);
  by_server.insert(t);
  by_client.insert(t);
  t.e_interval = cfg.t1_ms;
  t.retrans.kind = timer_e;
  wheel.arm(t.retrans, now + cfg.t1_ms);
  t.life.kind = timer_f;
  wheel.arm(t.life, now + cfg.timer_f_ms);
  ++c.forwarded_upstream;
}

void engine::impl::on_response(const sip::message& msg, std::uint64_t now, output_queue& out) noexcept {
  const auto top = sip::top_via(msg);
  unsigned worker = 0;
  std::uint64_t id = 0;
  bool stateless = false;
  if (!top || !decode_branch(top->branch, worker, id, stateless) || stateless || worker != cfg.worker_id) {
    ++c.stray_responses;
    return;
  }
  const auto it = by_client.find(id);
  if (it == by_client.end()) {
    ++c.stray_responses;
    return;
  }
  txn& t = *it;
  if (t.state != txn_state::pending) {
    ++c.duplicate_responses;  // a registrar retransmitting its final response
    return;
  }
  if (t.role != txn_role::relay) {
    on_response_p2p(t, msg, now, out);
    return;
  }
  const std::span<char> buf = out.reserve();
  sip::message_edit edit;
  edit.pop_via();
  const auto n = buf.empty() ? sip::result<std::size_t>(sip::errc::too_large) : sip::write_message(msg, edit, buf);
  if (!n) [[unlikely]] {
    ++c.output_full;
    return;
  }
  out.commit(t.phone, *n);
  ++c.relayed_downstream;
  if (msg.status_code() < 200) {
    t.e_interval = cfg.t2_ms;  // Proceeding: retransmit every T2 (RFC 3261 §17.1.2.2)
    return;
  }
  // Completed: keep the final response to answer the phone's retransmissions.
  if (!store(t, {buf.data(), *n})) t.msg_len = 0;
  t.state = txn_state::completed;
  timer_wheel::cancel(t.retrans);
  t.life.kind = timer_k;
  wheel.arm(t.life, now + cfg.timer_k_ms);
}

void engine::impl::time_out(txn& t, std::uint64_t now, output_queue& out) noexcept {
  if (t.role != txn_role::relay) {
    time_out_p2p(t, now, out);
    return;
  }
  ++c.timer_f_timeouts;
  timer_wheel::cancel(t.retrans);
  t.state = txn_state::completed;
  t.life.kind = timer_k;
  wheel.arm(t.life, now + cfg.timer_k_ms);
  // Recover the phone's request from what was forwarded (our Via on top), then answer it.
  sip::message fwd;
  sip::message orig;
  sip::message_edit pop;
  pop.pop_via();
  const std::string_view held = stored(t);
  if (fwd.parse(held) != sip::errc::ok) return;
  const auto n = sip::write_message(fwd, pop, scratch);
  if (!n || orig.parse({scratch.data(), *n}) != sip::errc::ok) return;
  answer_timeout(t, orig, out);
}

void engine::impl::answer_timeout(txn& t, const sip::message& req, output_queue& out) noexcept {
  const std::string_view reason =
      cfg.timeout_code == 503 ? "Service Unavailable - Registrar Timeout" : "Request Timeout";
  answer_in(t, req, cfg.timeout_code, reason, {}, out);
}

void engine::impl::answer_in(txn& t, const sip::message& req, std::uint16_t code, std::string_view reason,
                             std::span<const std::string_view> extra, output_queue& out) noexcept {
  const std::span<char> buf = out.reserve();
  std::array<char, 18> tag{};
  const auto r = buf.empty() ? sip::result<std::size_t>(sip::errc::too_large)
                             : sip::write_response(req, code, reason, local_tag(req, tag), extra, buf);
  if (!r) {
    ++c.output_full;
    t.msg_len = 0;
    return;
  }
  out.commit(t.phone, *r);
  ++c.local_responses;
  if (!store(t, {buf.data(), *r})) t.msg_len = 0;
}

void engine::impl::on_timer(timer_hook& h, std::uint64_t now, output_queue& out) noexcept {
  if (h.kind == binding_timer) {
    // The wheel's tick (the timer's deadline), not the caller's clock: after a stall
    // or a clock jump each missed in-leg period still counts once, at its own time.
    (void)now;
    on_binding_timer(bindings.owner_of(h), wheel.now(), out);
    return;
  }
  txn& t = owner_of(h);
  switch (h.kind) {
    case timer_e:
      if (t.state != txn_state::pending) return;
      if (emit(out, t.registrar, stored(t), c)) ++c.timer_e_retrans;
      t.e_interval = std::min(t.e_interval * 2, cfg.t2_ms);
      wheel.arm(t.retrans, now + t.e_interval);
      return;
    case timer_f:
      if (t.state == txn_state::pending) time_out(t, now, out);
      return;
    case timer_k:
      if (t.role == txn_role::fork_parent && t.legs_pending != 0) {
        wheel.arm(t.life, now + cfg.timer_k_ms);  // a leg still points here: wait for it
        return;
      }
      release(t);
      return;
    default: return;
  }
}

// ---------------------------------------------------------------- peer-to-peer
//
// The front end is the registrar's client: each binding has its own out-leg
// dialog (Call-ID and From-tag derived from the binding's handle and nonce, a CSeq
// sequence of its own) and registers one Contact, the front end's core address
// with the out-leg Call-ID as user part, so a request from the core names its
// binding. The phone's Contacts stay in the binding and are stored only once the
// registrar said 2xx. decide_register() says what each phone REGISTER gets; the
// binding's timer refreshes the out-leg before it lapses and counts missed
// in-leg refreshes (fail-count).
//
// Bindings live on the worker of their AOR (steer(): every REGISTER of an AOR, any
// Call-ID, reaches one worker), so a phone restarting with a new Call-ID finds its
// binding by AOR (rule new_call_id: same out-leg, new in-leg Call-ID) instead of
// registering a second out-leg from another worker.
//
// A REGISTER belongs to the binding of its AOR (To), whatever its Call-ID. A
// multi-line phone or a PBX registers several AORs with one Call-ID (RFC 3261
// §10.2: one Call-ID for all registrations to a registrar): each AOR is its own
// binding, with its own out-leg dialog, Contact, CSeqs and timer, absorbed,
// refreshed and deregistered on its own; the table's in-leg key is the pair
// (Call-ID, AOR). The lines may sit on one worker or several (their AORs hash
// apart); nothing here needs them together. CSeq is per Call-ID at the phone
// (§10.2), so one line's CSeqs skip the other lines' numbers: absorption only asks
// for a higher CSeq than the binding's last.
//
// Fail-count deregistration (deregister()) tells every registrar that holds the
// binding: the primary (registrar_index) and, in primary/secondary mode, the
// secondary that also accepted it, each leg its own transaction on the same
// out-leg dialog. The binding is freed when the last leg is answered or times out
// (dereg_legs). The legs are metered like refreshes and need a transaction each:
// all or none. Without them (overload, pool exhausted, output full) the binding
// waits in deregister_waiting and the deregistration is retried every T1, at most
// until the out-leg registration lapses; then the registrar has dropped it too and
// the binding is erased (deregs_lapsed). A phone re-registering meanwhile takes its
// binding back and the waiting deregistration is not sent.
//
// Registrar addresses come from `regs`, never from cfg.registrars[].addr: a dynamic
// (DNS) registrar's address is what the control core last resolved
// (resolve_registrar / unresolve_registrar). An unresolved one is skipped by
// selection like a down one; a binding keeps its registrar index across an address
// change, so its next refresh goes to the new address.

namespace {

// "Name: value" lines for write_response(), built in a fixed buffer.
class extra_lines {
 public:
  sip::writer& begin() noexcept {
    start_ = w_.size();
    return w_;
  }
  void end() noexcept {
    if (!w_.overflowed() && n_ < lines_.size()) lines_[n_++] = {buf_.data() + start_, w_.size() - start_};
  }
  [[nodiscard]] std::span<const std::string_view> lines() const noexcept { return {lines_.data(), n_}; }

 private:
  std::array<char, 2048> buf_{};
  sip::writer w_{buf_};
  std::size_t start_ = 0;
  std::array<std::string_view, 12> lines_{};
  std::size_t n_ = 0;
};

// "Contact: <uri>;expires=<seconds left>" for each of the binding's Contacts.
void contact_lines(const binding& b, std::uint64_t now, extra_lines& x) noexcept {
  for (std::size_t i = 0; i < b.n_contacts(); ++i) {
    const std::uint64_t at = b.contact_expires_at(i);
    const std::uint64_t left = at > now ? (at - now + 999) / 1000 : 0;
    x.begin().put("Contact: <").put(b.contact_uri(i)).put(">;expires=").put_uint(left);
    x.end();
  }
}

std::string_view reject_reason(register_rule r) noexcept {
  switch (r) {
    case register_rule::too_many_contacts: return "Bad Request - Too Many Contacts";
    case register_rule::star_with_other_contacts: return "Bad Request - Contact * With Other Contacts";
    case register_rule::star_without_expires_zero: return "Bad Request - Contact * Without Expires 0";
    default: return "Bad Request";
  }
}

}  // namespace

void engine::impl::answer_local(const sip::message& req, const endpoint& dst, std::uint64_t key, const binding* b,
                                std::uint64_t now, output_queue& out) noexcept {
  extra_lines x;
  if (b != nullptr) contact_lines(*b, now, x);
  const std::span<char> buf = out.reserve();
  std::array<char, 18> tag{};
  const auto n = buf.empty() ? sip::result<std::size_t>(sip::errc::too_large)
                             : sip::write_response(req, 200, "OK", local_tag(req, tag), x.lines(), buf);
  if (!n) [[unlikely]] {
    ++c.output_full;
    return;
  }
  out.commit(dst, *n);
  ++c.local_responses;
  // A completed transaction answers the phone's retransmissions with the same 200;
  // without it a retransmission (same CSeq) would look like a stale request and go upstream.
  txn* t = alloc();
  if (t == nullptr) return;  // answered anyway; a retransmission is then decided again
  t->state = txn_state::completed;
  t->role = txn_role::phone;
  t->server_key = key;
  t->phone = dst;
  if (!store(*t, {buf.data(), *n})) t->msg_len = 0;
  by_server.insert(*t);
  t->life.kind = timer_k;
  wheel.arm(t->life, now + cfg.timer_k_ms);
}

void engine::impl::on_register_p2p(const sip::message& msg, const endpoint& src, const endpoint& reply_to,
                                   std::uint64_t key, std::uint64_t now, output_queue& out) noexcept {
  using enum register_rule;
  // The binding this request belongs to: its AOR's, whatever the Call-ID (decide_register's
  // contract). One lookup: the (Call-ID, AOR) key would find the same record or none.
  binding* b = nullptr;
  if (const auto to = sip::parse_name_addr(msg.value_of(sip::header_id::to))) b = bindings.find_by_aor(to->uri);
  const register_decision d = decide_register(msg, src, b, now, cfg.registrar);
  explain_record rec{.at_ms = now,
                     .call_id_hash = call_id_hash(d.call_id),
                     .binding = b != nullptr ? bindings.handle_of(*b) : binding_handle{},
                     .cseq = d.cseq,
                     .in_expires = d.in_expires,
                     .code = 0,
                     .outcome = explain_outcome::rejected,
                     .action = d.action,
                     .rule = d.rule};
  auto reject = [&](std::uint16_t code, std::string_view reason, std::span<const std::string_view> extra) {
    rec.outcome = explain_outcome::rejected;
    rec.code = code;
    ++(code == 423 ? c.register_rejected_423 : c.register_rejected);
    answer(msg, reply_to, {code, reason, extra}, out, c);
    explain.push(rec);
  };
  auto absorb = [&](const binding* from) {
    rec.outcome = explain_outcome::absorbed;
    rec.code = 200;
    ++c.register_absorbed;
    answer_local(msg, reply_to, key, from, now, out);
    explain.push(rec);
  };

  switch (d.action) {
    case register_action::reject_400: reject(400, reject_reason(d.rule), {}); return;
    case register_action::reject_423: {
      std::array<char, 32> line{};
      sip::writer w(line);
      w.put("Min-Expires: ").put_uint(d.min_expires);
      const std::string_view extra[] = {w.view()};
      reject(423, "Interval Too Brief", extra);
      return;
    }
    case register_action::query: absorb(b); return;
    case register_action::absorb: {
      // Same Contact set (decide_register checked it): only the expiries move.
      std::array<contact_spec, max_contacts> cs{};
      for (std::size_t i = 0; i < d.contacts.size(); ++i) {
        cs[i] = {d.contacts[i].uri, now + std::uint64_t{d.contacts[i].expires} * 1000};
      }
      (void)b->set_contacts({cs.data(), d.contacts.size()});  // same strings: cannot outgrow the arena
      b->in_cseq = d.cseq;
      b->in_expires = d.in_expires;
      b->missed_refreshes = 0;
      arm_binding(*b, now + 1);
      absorb(b);
      return;
    }
    case register_action::forward_upstream: break;
  }
  if (d.rule == query_unknown && b != nullptr && b->state == binding_state::fallback) {
    absorb(b);  // a local-only binding is known here alone: the registrar would answer nothing
    return;
  }

  const bool unreg = d.rule == unregister || d.rule == unregister_all;
  if (b == nullptr && (unreg || d.rule == query_unknown)) {
    // Every binding made through this front end is in the table: nothing known here
    // is nothing registered upstream, so the answer is local and empty.
    absorb(nullptr);
    return;
  }
  if (d.rule == too_many_contacts) {
    reject(400, reject_reason(d.rule), {});
    return;
  }
  std::size_t need = d.call_id.size() + d.aor.size();
  for (const contact_request& cr : d.contacts) need += cr.uri.size();
  if (need > binding::arena_bytes) {
    reject(400, "Bad Request - Contacts Too Long", {});
    return;
  }
  bool created = false;
  if (b == nullptr) {
    const insert_result r = bindings.insert(d.aor, d.call_id, src);
    if (!r) {
      if (r.error == binding_errc::table_full) {
        ++c.bindings_full;
        reject(503, "Service Unavailable - Overloaded", k_retry_5);
      } else {
        reject(400, "Bad Request", {});
      }
      return;
    }
    b = r.rec;
    b->registrar_index = static_cast<std::uint8_t>(cfg.default_registrar);
    created = true;
    rec.binding = bindings.handle_of(*b);
  } else if (d.rule == new_call_id) {
    // The phone restarted with a new Call-ID: same binding and out-leg, new in-leg.
    if (bindings.rekey_call_id(*b, d.call_id) != binding_errc::ok) {
      reject(400, "Bad Request", {});
      return;
    }
    b->in_cseq = 0;
  }
  const std::uint32_t asked = unreg ? 0 : cfg.registrar.out_expires != 0 ? cfg.registrar.out_expires : d.in_expires;
  // Which registrar(s): the mode's list, by health. A live binding (the registrar
  // holds it now) keeps its registrar while that one is up. (A local-only binding
  // has out_expires_at_ms 0: never live.)
  const bool live = !created && b->out_expires_at_ms > now;
  // Local fallback: no registrar usable, the local registrar answers 200 and keeps
  // the binding local-only (an un-REGISTER just removes it).
  auto keep_local = [&] {
    ++c.fallback_registrations;
    rec.rule = local_fallback;
    rec.outcome = explain_outcome::absorbed;
    rec.code = 200;
    if (!keep_locally(*b, d, src, now)) {
      bindings.erase(*b);
      b = nullptr;
      rec.binding = {};
    }
    answer_local(msg, reply_to, key, b, now, out);
    explain.push(rec);
  };
  if (!created && b->state == binding_state::fallback) {
    // A local-only binding's REGISTERs are the local registrar's alone (upstream only
    // ever sees the front end's Contact): reg-sync registers it at the paced rate.
    keep_local();
    return;
  }
  auto refuse_503 = [&](register_rule why, std::uint32_t retry_s, std::string_view reason) {
    if (created) bindings.erase(*b);
    if (created) rec.binding = {};
    rec.rule = why;
    std::array<char, 32> line{};
    sip::writer w(line);
    w.put("Retry-After: ").put_uint(retry_s);
    const std::string_view extra[] = {w.view()};
    reject(503, reason, retry_s != 0 ? std::span<const std::string_view>(extra) : std::span<const std::string_view>{});
  };
  revive(now);
  std::array<registrar_pick, 2> picks{};
  unsigned n_picks = 0;
  if (cfg.reg_mode == registrar_mode::primary_secondary) {
    const fork_plan plan = regs.fork_targets(order, now);
    if (plan.status == select_status::ok) {
      picks = plan.legs;
      n_picks = plan.n_legs;
    } else if (fallback_on() && plan.status != select_status::none_usable) {
      keep_local();
      return;
    } else {
      ++c.registrar_unavailable;
      refuse_503(no_registrar, plan.status == select_status::all_down ? plan.retry_after_s : 0,
                 "Service Unavailable - No Registrar");
      return;
    }
  } else if (live && regs.health(b->registrar_index + 1U, now) == registrar_health::up) {
    picks[0] = registrar_pick{.index = b->registrar_index + 1U, .addr = regs.address(b->registrar_index + 1U)};
    n_picks = 1;
  } else {
    const selection sel = regs.next_target(order, now);
    if (sel.status != select_status::ok && fallback_on() && sel.status != select_status::none_usable) {
      keep_local();
      return;
    }
    if (sel.status != select_status::ok) {
      ++c.registrar_unavailable;
      const std::uint32_t hint = sel.status == select_status::none_usable ? 0
                                 : sel.retry_after_s != 0                 ? sel.retry_after_s
                                                                          : retry_after_s();
      refuse_503(no_registrar, hint, "Service Unavailable - No Registrar");
      return;
    }
    picks[0] = sel.pick;
    n_picks = 1;
  }
  // Overload protection: refreshes of live bindings may use the reserve.
  const spike_kind kind = live ? spike_kind::refresh : spike_kind::fresh;
  const spike_slot first = acquire_slot(kind);
  if (first == spike_slot::none) {
    ++c.spike_rejected;
    refuse_503(registration_spike, retry_after_s(), "Service Unavailable - Registration Spike");
    return;
  }
  if (created) b->registrar_index = static_cast<std::uint8_t>(picks[0].index - 1);
  bool sent = false;
  if (cfg.reg_mode == registrar_mode::primary_secondary) {
    // The parent keeps the phone's side; each leg is its own out-leg transaction
    // (same out-leg Call-ID and From-tag, its own branch and CSeq).
    txn* parent = alloc();
    if (parent != nullptr) {
      parent->role = txn_role::fork_parent;
      parent->server_key = key;
      parent->phone = reply_to;
      parent->phone_src = src;
      parent->bind = bindings.handle_of(*b);
      parent->out_expires = asked;
      if (store(*parent, msg.bytes())) {
        parent->phone_off = 0;
        parent->phone_len = static_cast<std::uint16_t>(parent->msg_len);
        parent->msg_len = 0;
        const auto pidx = static_cast<std::uint32_t>(parent - txns.data());
        for (unsigned i = 0; i < n_picks; ++i) {
          const spike_slot slot = i == 0 ? first : acquire_slot(kind);
          if (slot == spike_slot::none) {
            ++c.spike_deferred;  // the other registrar gets this binding at its next fork
            continue;
          }
          txn* leg = send_out_register(*b, txn_role::fork_leg, asked, &msg, src, reply_to, 0, now, out,
                                       picks[i].index - 1, slot);
          if (leg == nullptr) continue;
          leg->parent = pidx;
          leg->leg = parent->legs_pending++;
        }
        if (parent->legs_pending != 0) {
          parent->fork = fork_outcome(parent->legs_pending);
          by_server.insert(*parent);
          sent = true;
        } else {
          release(*parent);
        }
      } else {
        release(*parent);
        if (budget) budget->release(first);
      }
    } else {
      ++c.transactions_full;
      if (budget) budget->release(first);
    }
  } else {
    sent = send_out_register(*b, txn_role::phone, asked, &msg, src, reply_to, key, now, out, picks[0].index - 1,
                             first) != nullptr;
  }
  if (!sent) [[unlikely]] {
    if (created) bindings.erase(*b);
    rec.binding = {};
    reject(503, "Service Unavailable - Overloaded", k_retry_5);
    return;
  }
  if (b->state == binding_state::new_ || b->state == binding_state::unregistering ||
      b->state == binding_state::deregister_waiting) {
    // (A phone coming back while its fail-count deregistration is out, or waiting to
    // go out: the binding is its again, that deregistration's answer must not free
    // it, and a waiting one is not sent.)
    if (b->state == binding_state::deregister_waiting) timer_wheel::cancel(b->timer);
    b->state = binding_state::pending_upstream;
  } else if (b->state == binding_state::registered) {
    b->state = binding_state::refreshing;
  }
  rec.outcome = explain_outcome::forwarded;
  rec.in_expires = asked;
  ++c.register_forwarded;
  explain.push(rec);
}

txn* engine::impl::send_out_register(binding& b, txn_role role, std::uint32_t expires, const sip::message* phone,
                                     const endpoint& src, const endpoint& reply_to, std::uint64_t key,
                                     std::uint64_t now, output_queue& out, unsigned reg_slot,
                                     spike_slot slot) noexcept {
  if (regs.address(reg_slot + 1U).ip == 0) {
    // A dynamic registrar DNS has no address for (the binding's, for a deregistration).
    ++c.registrar_unavailable;
    if (budget) budget->release(slot);
    return nullptr;
  }
  txn* tp = alloc();
  if (tp == nullptr) [[unlikely]] {
    ++c.transactions_full;
    if (budget) budget->release(slot);
    return nullptr;
  }
  txn& t = *tp;
  t.spike = slot;  // released with the record if anything below fails
  t.server_key = key;
  t.phone = reply_to;
  t.phone_src = src;
  t.role = role;
  t.bind = bindings.handle_of(b);
  t.out_expires = expires;
  t.reg_slot = static_cast<std::uint8_t>(std::min<unsigned>(reg_slot, max_registrars - 1));
  if (!emit_out_register(t, b, phone, now, out)) [[unlikely]] {
    ++c.output_full;
    release(t);
    return nullptr;
  }
  if (role == txn_role::phone) by_server.insert(t);  // the phone's retransmissions find it
  ++c.forwarded_upstream;
  return &t;
}

// The out-leg Request-URI for registrar `reg` at `dst`: the registrar from config,
// not the phone's Request-URI: its domain when it has one, else its DNS name (a
// dynamic registrar), else its address. Empty when it does not fit.
std::string_view engine::impl::out_request_uri(const registrar_target& reg, const endpoint& dst,
                                               std::array<char, 300>& buf) const noexcept {
  sip::writer rw(buf);
  rw.put("sip:");
  if (!reg.domain.empty()) {
    rw.put(reg.domain);
  } else if (!reg.host.empty()) {
    rw.put(reg.host);
  } else {
    put_ipv4(rw, dst.ip);
    rw.put(':').put_uint(dst.port);
  }
  return rw.overflowed() ? std::string_view{} : rw.view();
}

// Builds the out-leg REGISTER of `t` (to registrar slot t.reg_slot, at the address
// the registrar_set has for it now: a dynamic registrar's latest DNS answer) with a
// new branch, keeps it (and, for role phone, the phone's request after it) in the
// slot, sends it and arms Timers E and F. False, with nothing sent, when it does not
// fit or the registrar has no address.
bool engine::impl::emit_out_register(txn& t, binding& b, const sip::message* phone, std::uint64_t now,
                                     output_queue& out, auth_line auth) noexcept {
  const registrar_target& reg = cfg.registrars[t.reg_slot];
  const endpoint dst = regs.address(t.reg_slot + 1U);
  if (dst.ip == 0) [[unlikely]]
    return false;
  t.client_id = next_id++;
  t.registrar = dst;
  const std::uint32_t expires = t.out_expires;

  std::array<char, 128> via_buf{};
  const std::string_view via = our_via(via_buf, t.client_id);
  out_call_id_buffer cid_buf{};
  const std::string_view out_cid = bindings.out_call_id(b, cid_buf);
  out_tag_buffer tag_buf{};
  const std::string_view out_tag = binding_table::out_from_tag(b, tag_buf);
  std::array<char, 300> ruri_buf{};
  const std::string_view ruri = out_request_uri(reg, dst, ruri_buf);
  std::array<char, binding::arena_bytes + 32> from_buf{};
  sip::writer fw(from_buf);
  fw.put('<').put(b.aor()).put(">;tag=").put(out_tag);
  std::array<char, binding::arena_bytes + 4> to_buf{};
  sip::writer tw(to_buf);
  tw.put('<').put(b.aor()).put('>');
  std::array<char, 24> cseq_buf{};
  sip::writer cw(cseq_buf);
  cw.put_uint(++b.out_cseq).put(" REGISTER");
  std::array<char, 96> contact_buf{};
  const std::string_view contact = out_contact(b, contact_buf);
  std::array<char, 12> exp_buf{};
  sip::writer ew(exp_buf);
  ew.put_uint(expires);

  const std::span<char> buf = out.reserve();
  sip::result<std::size_t> n(sip::errc::too_large);
  if (!buf.empty() && !ruri.empty() && !fw.overflowed() && !tw.overflowed()) {
    if (phone != nullptr) {
      // The phone's request with the out-leg identity: its other headers (Authorization,
      // User-Agent, Supported...) go along; its Via stays here (a new request, RFC 3261 §16 does not apply).
      sip::message_edit e;
      e.set_request_uri(ruri)
          .replace(sip::header_id::via, via)
          .replace(sip::header_id::max_forwards, "70")
          .replace(sip::header_id::from, fw.view())
          .replace(sip::header_id::call_id, out_cid)
          .replace(sip::header_id::cseq, cw.view())
          .replace(sip::header_id::contact, contact)
          .replace(sip::header_id::expires, ew.view());
      n = sip::write_message(*phone, e, buf);
    } else {
      sip::writer w(buf);
      w.put("REGISTER ").put(ruri).put(" SIP/2.0").crlf();
      w.header("Via", via).header("Max-Forwards", "70").header("From", fw.view()).header("To", tw.view());
      w.header("Call-ID", out_cid).header("CSeq", cw.view()).header("Contact", contact);
      w.header("Expires", ew.view());
      if (!auth.name.empty()) w.header(auth.name, auth.value);
      w.put("Content-Length: 0\r\n\r\n");
      if (!w.overflowed()) n = w.size();
    }
  }
  const bool stored =
      n && (phone != nullptr && t.role == txn_role::phone ? store_pair(t, {buf.data(), *n}, phone->bytes())
                                                          : store(t, {buf.data(), *n}));
  if (!stored) [[unlikely]]
    return false;
  out.commit(t.registrar, *n);
  t.state = txn_state::pending;
  by_client.insert(t);
  t.e_interval = cfg.t1_ms;
  t.retrans.kind = timer_e;
  wheel.arm(t.retrans, now + cfg.t1_ms);
  t.life.kind = timer_f;
  wheel.arm(t.life, now + cfg.timer_f_ms);
  return true;
}

std::uint32_t engine::impl::granted_expires(const sip::message& resp, const binding& b,
                                            std::uint32_t asked) const noexcept {
  // RFC 3261 §10.2.4: the registrar lists the AOR's Contacts with what it granted each.
  out_call_id_buffer cid_buf{};
  const std::string_view ours = bindings.out_call_id(b, cid_buf);
  sip::list_iterator it(resp, sip::header_id::contact);
  std::string_view entry;
  while (it.next(entry)) {
    const auto na = sip::parse_name_addr(entry);
    if (!na) continue;
    const auto u = sip::parse_uri(na->uri);
    if (!u || u->user != ours) continue;
    if (const auto e = na->expires()) return *e;
    break;
  }
  if (const sip::header_entry* h = resp.find(sip::header_id::expires)) {
    if (const auto e = sip::parse_delta_seconds(resp.value(*h))) return *e;
  }
  return asked;
}

namespace {
// The registrar accepted the out-leg registration of `r` for `granted` seconds at
// registrars[reg_slot].
void out_leg_up(binding& r, std::uint32_t granted, std::uint8_t reg_slot, std::uint64_t now) noexcept {
  r.out_expires = granted;
  r.out_expires_at_ms = now + std::uint64_t{granted} * 1000;
  r.state = binding_state::registered;
  r.registrar_index = reg_slot;
  r.needs_sync = false;
}
// The registrar said no to a refresh: what it granted before still holds, if anything.
void refused(binding& r, std::uint64_t now) noexcept {
  r.state = r.out_expires_at_ms > now ? binding_state::registered : binding_state::failed;
}

// Retry-After's delta-seconds (RFC 3261 §20.33: digits, then an optional comment
// and parameters); 0 when absent or not a number.
std::uint32_t retry_after_of(const sip::message& msg) noexcept {
  const sip::header_entry* h = msg.find(sip::header_id::retry_after);
  if (h == nullptr) return 0;
  std::uint64_t v = 0;
  std::size_t digits = 0;
  for (const char ch : msg.value(*h)) {
    if (!sip::chars::is_digit(ch)) break;
    v = std::min<std::uint64_t>(v * 10 + static_cast<unsigned>(ch - '0'), 0xffffffffULL);
    ++digits;
  }
  return digits != 0 ? static_cast<std::uint32_t>(v) : 0;
}
}  // namespace

bool engine::impl::failover(txn& t, std::uint64_t now, output_queue& out) noexcept {
  // Indexed mode: the same REGISTER (same binding, same out-leg Call-ID, next CSeq,
  // new branch) to the next usable registrar of the list not tried yet.
  if (cfg.reg_mode != registrar_mode::indexed ||
      (t.role != txn_role::phone && t.role != txn_role::refresh && t.role != txn_role::sync)) {
    return false;
  }
  binding* b = bindings.get(t.bind);
  if (b == nullptr) return false;
  t.tried = static_cast<std::uint8_t>(t.tried | registrar_set::tried_bit(t.reg_slot + 1U));
  const selection sel = regs.next_target(order, now, t.tried);
  if (sel.status != select_status::ok) return false;
  // The phone's request lives in the slot the new request is written to: copy it out first.
  sip::message phone_req;
  const sip::message* phone = nullptr;
  if (t.role == txn_role::phone) {
    const std::string_view held = phone_request(t);
    if (held.empty() || held.size() > scratch.size()) return false;
    std::memcpy(scratch.data(), held.data(), held.size());
    if (phone_req.parse({scratch.data(), held.size()}) != sip::errc::ok) return false;
    phone = &phone_req;
  }
  timer_wheel::cancel(t.retrans);
  timer_wheel::cancel(t.life);
  if (t.by_client.is_linked()) by_client.erase(by_client.iterator_to(t));
  t.reg_slot = static_cast<std::uint8_t>(sel.pick.index - 1);
  t.auth_answers = 0;  // another registrar: its challenges are new
  if (!emit_out_register(t, *b, phone, now, out)) {
    ++c.output_full;
    return false;
  }
  ++c.registrar_failovers;
  ++c.forwarded_upstream;
  return true;
}

// ---------------------------------------------------------------- registrar challenges (peer-to-peer)
//
// The phone's REGISTERs carry the phone's Authorization and their challenges go
// back to the phone (answer_phone relays WWW-/Proxy-Authenticate); fork legs are
// the phone's REGISTER too. The front end's own REGISTERs (txn_role::refresh from
// the binding timer, txn_role::deregister after fail-count or an un-REGISTER it
// could not relay) have no phone to ask, so a 401/407 to one of them is answered
// here with engine_config::credentials: the first Digest challenge of the response
// whose realm has an entry for the binding's AOR (an entry naming the AOR wins over
// a realm-only one; the username defaults to the AOR's user part). The answer is
// the same REGISTER in the same transaction record, as a failover: same out-leg
// Call-ID and From-tag, the next CSeq, a new branch (a new client transaction, new
// Timers E and F), to the same registrar, with the Authorization (401) or
// Proxy-Authorization (407). The record keeps its spike slot: one pending REGISTER
// still, released at its final answer. Each record answers one challenge, and one
// more when the second says stale=true (the nonce expired, not the credentials);
// any further challenge is final (auth_refused). No credentials (auth_no_credentials)
// or a challenge that cannot be answered (auth_unsupported: auth-int only, unknown
// algorithm, no nonce/realm) is a final refusal as before. A refused refresh then
// stops the front end's own refreshing (binding failed): the phone's next REGISTER
// goes upstream and the phone answers the challenge itself. The front end keeps no
// nonce between transactions (every refresh is challenged first), so nc is always
// 00000001 with a fresh cnonce.

const credential* engine::impl::find_credential(std::string_view realm, std::string_view aor) const noexcept {
  const credential* realm_only = nullptr;
  const std::size_t n = std::min(cfg.credentials.size(), max_credentials);
  for (std::size_t i = 0; i < n; ++i) {
    const credential& cr = cfg.credentials[i];
    if (cr.realm != realm) continue;
    if (cr.aor.empty()) {
      if (realm_only == nullptr) realm_only = &cr;
    } else if (credential_aors[i] == aor) {
      return &cr;
    }
  }
  return realm_only;
}

bool engine::impl::answer_challenge(txn& t, const sip::message& resp, std::uint16_t code, std::uint64_t now,
                                    output_queue& out) noexcept {
  // The front end's own REGISTERs: refreshes, deregistrations and reg-sync's.
  if (t.role != txn_role::refresh && t.role != txn_role::deregister && t.role != txn_role::sync) return false;
  binding* b = bindings.get(t.bind);
  if (b == nullptr) return false;
  const bool proxy = code == 407;
  const sip::header_id want = proxy ? sip::header_id::proxy_authenticate : sip::header_id::www_authenticate;
  digest_challenge ch{};
  const credential* cred = nullptr;
  bool parsed_one = false;
  for (const sip::header_entry& h : resp.headers()) {
    if (h.id != want) continue;
    const auto value = sip::parse_auth(resp.value(h));
    if (!value) continue;
    digest_challenge cand{};
    if (parse_digest_challenge(*value, cand) != digest_errc::ok) continue;
    parsed_one = true;
    if (const credential* cr = find_credential(cand.realm, b->aor())) {
      ch = cand;
      cred = cr;
      break;
    }
  }
  if (cred == nullptr) {
    ++(parsed_one ? c.auth_no_credentials : c.auth_unsupported);
    return false;
  }
  if (t.auth_answers >= 2 || (t.auth_answers == 1 && !ch.stale)) {
    ++c.auth_refused;  // our credentials were not accepted
    return false;
  }
  std::string_view user = cred->username;
  if (user.empty()) {
    if (const auto u = sip::parse_uri(b->aor())) user = u->user;
  }
  std::array<char, 300> ruri_buf{};
  const std::string_view ruri = out_request_uri(cfg.registrars[t.reg_slot], regs.address(t.reg_slot + 1U), ruri_buf);
  // Client nonce: splitmix64 of a per-engine sequence (unpredictable enough for a
  // digest cnonce, which only has to differ between answers).
  cnonce_state += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = cnonce_state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  std::array<char, 16> cnonce{};
  for (std::size_t i = 0; i < cnonce.size(); ++i) cnonce[i] = hex_digit(static_cast<unsigned>(z >> (4 * i)));
  std::array<char, 1536> value{};
  std::size_t len = 0;
  if (user.empty() || ruri.empty() ||
      digest.answer(ch, {user, cred->password}, {"REGISTER", ruri, {cnonce.data(), cnonce.size()}}, value, len) !=
          digest_errc::ok) {
    ++c.auth_unsupported;
    return false;
  }
  timer_wheel::cancel(t.retrans);
  timer_wheel::cancel(t.life);
  if (t.by_client.is_linked()) by_client.erase(by_client.iterator_to(t));
  ++t.auth_answers;
  const auth_line line{proxy ? "Proxy-Authorization" : "Authorization", {value.data(), len}};
  if (!emit_out_register(t, *b, nullptr, now, out, line)) {
    ++c.output_full;
    return false;
  }
  ++c.auth_challenges_answered;
  ++c.forwarded_upstream;
  return true;
}

void engine::impl::on_response_p2p(txn& t, const sip::message& msg, std::uint64_t now, output_queue& out) noexcept {
  const std::uint16_t code = msg.status_code();
  if (code < 200) {
    t.e_interval = cfg.t2_ms;  // Proceeding; the phone's own transaction needs no 1xx from us
    return;
  }
  if (t.role == txn_role::probe) {
    probe_final(t, code, retry_after_of(msg), now);
    return;
  }
  if (note_registrar(t.reg_slot, code, retry_after_of(msg), now) && failover(t, now, out)) return;
  if ((code == 401 || code == 407) && answer_challenge(t, msg, code, now, out)) return;
  timer_wheel::cancel(t.retrans);
  t.state = txn_state::completed;
  t.life.kind = timer_k;
  wheel.arm(t.life, now + cfg.timer_k_ms);
  end_upstream(t);
  if (t.role == txn_role::fork_leg) {
    on_fork_leg_final(t, &msg, now, out);
    return;
  }
  const bool ok = code < 300;
  binding* b = bindings.get(t.bind);  // nullptr when it was erased meanwhile
  const std::uint32_t granted = b != nullptr && ok && t.out_expires != 0 ? granted_expires(msg, *b, t.out_expires) : 0;
  if (t.role == txn_role::refresh && t.leg == 1) {
    // Primary/secondary: the secondary's own refresh only says whether it still holds the binding.
    t.msg_len = 0;
    if (b != nullptr && !(ok && granted != 0) && b->secondary_index == t.reg_slot) {
      b->secondary_index = binding::no_secondary;
    }
    return;
  }
  if (t.role == txn_role::phone) {
    answer_phone(t, &msg, code, granted, t.reg_slot, now, out);
    return;
  }
  if (t.role == txn_role::sync) {
    t.msg_len = 0;
    if (b == nullptr || b->state != binding_state::fallback) return;  // the phone's own REGISTER settled it
    if (ok && granted != 0) {
      out_leg_up(*b, granted, t.reg_slot, now);
      arm_binding(*b, now + 1);
    } else if (ok) {
      bindings.erase(*b);  // granted nothing: the registrar does not keep it
    } else if (code == 503) {
      enter_fallback(*b, now);  // every registrar is down or held again: synced later
    } else {
      // Refused (403, a challenge...) by a registrar that answers: local fallback is for
      // unreachable ones. The phone's next REGISTER is a new one and gets that answer.
      bindings.erase(*b);
    }
    return;
  }

  {
    t.msg_len = 0;
    if (b == nullptr) return;
    if (t.role == txn_role::deregister) {
      dereg_leg_done(*b);
    } else if (b->state == binding_state::unregistering || b->state == binding_state::deregister_waiting) {
      // A refresh that was out when fail-count fired: the deregistration decides.
    } else if (ok && granted == 0) {
      bindings.erase(*b);
    } else {
      if (ok) {
        out_leg_up(*b, granted, t.reg_slot, now);
      } else {
        refused(*b, now);
        // A challenge the front end could not (or no longer may) answer: it stops
        // refreshing on its own, and the phone's next refresh goes upstream with the
        // phone's credentials (a refused refresh retried at once would loop).
        if (code == 401 || code == 407) b->state = binding_state::failed;
      }
      arm_binding(*b, now + 1);
    }
  }
}

// The phone's answer to the REGISTER `t` holds (role phone, or a fork's parent): the
// registrar's final response `resp` (nullptr: every leg timed out, code is the
// timeout code), with the binding updated first. `granted` is what the registrar
// granted (0 for a refusal or an un-REGISTER), `reg_slot` the registrar that answered.
void engine::impl::answer_phone(txn& t, const sip::message* resp, std::uint16_t code, std::uint32_t granted,
                                std::uint8_t reg_slot, std::uint64_t now, output_queue& out) noexcept {
  const bool ok = code >= 200 && code < 300;
  binding* b = bindings.get(t.bind);
  sip::message phone_req;
  if (t.phone_len == 0 || phone_req.parse(phone_request(t)) != sip::errc::ok) [[unlikely]] {
    t.msg_len = 0;
    return;
  }
  if (b != nullptr && (resp == nullptr || code == 503) && fallback_applies(*b, now)) {
    answer_fallback(t, *b, phone_req, now, out);  // every registrar timed out or is unavailable
    return;
  }
  if (b != nullptr && resp == nullptr) {
    // Every leg timed out: as Timer F on a single REGISTER.
    if (b->state == binding_state::pending_upstream || b->state == binding_state::new_ || t.out_expires == 0) {
      bindings.erase(*b);
    } else {
      refused(*b, now);  // as a refusal: what was granted before still holds
      arm_binding(*b, now + 1);
    }
    b = nullptr;
  }
  if (b != nullptr) {
    if (ok && granted != 0) {
      // The registrar accepted: now (and only now) the phone's Contacts are stored.
      const register_decision d = decide_register(phone_req, t.phone_src, nullptr, now, cfg.registrar);
      std::array<contact_spec, max_contacts> cs{};
      std::size_t n = 0;
      for (const contact_request& cr : d.contacts) {
        if (cr.expires != 0) cs[n++] = {cr.uri, now + std::uint64_t{cr.expires} * 1000};
      }
      if (n == 0 || b->set_contacts({cs.data(), n}) != binding_errc::ok) {
        deregister(*b, now, out);  // nothing to keep (or it no longer fits): take ours back upstream
        b = nullptr;
      } else {
        b->in_cseq = d.cseq;
        b->in_expires = d.in_expires;
        b->source = t.phone_src;
        b->missed_refreshes = 0;
        out_leg_up(*b, granted, reg_slot, now);
        arm_binding(*b, now + 1);
      }
    } else if (ok) {  // un-REGISTER accepted (or the registrar granted 0)
      bindings.erase(*b);
      b = nullptr;
    } else if (code == 401 || code == 407) {
      // A challenge for the phone to answer: the binding waits as it is.
      if (b->state == binding_state::refreshing) refused(*b, now);
    } else if (b->state == binding_state::pending_upstream || b->state == binding_state::new_ ||
               b->state == binding_state::fallback) {
      // Never registered upstream: nothing to keep. (A local-only binding refused by a
      // registrar that answers is not kept either: fallback is for unreachable ones.)
      bindings.erase(*b);
      b = nullptr;
    } else {
      refused(*b, now);
      arm_binding(*b, now + 1);
    }
  }

  extra_lines x;
  if (ok) {
    if (b != nullptr) contact_lines(*b, now, x);
  } else if (resp != nullptr) {
    // What the phone needs to act on the refusal.
    for (const sip::header_entry& h : resp->headers()) {
      if (h.id == sip::header_id::www_authenticate || h.id == sip::header_id::proxy_authenticate ||
          h.id == sip::header_id::min_expires || h.id == sip::header_id::retry_after) {
        x.begin().put(sip::canonical_name(h.id)).put(": ").put(resp->value(h));
        x.end();
      }
    }
  }
  std::string_view reason = resp != nullptr ? resp->reason() : sip::default_reason(code);
  if (resp == nullptr && code == cfg.timeout_code) {
    reason = cfg.timeout_code == 503 ? "Service Unavailable - Registrar Timeout" : "Request Timeout";
  }
  const std::span<char> buf = out.reserve();
  std::array<char, 18> tag{};
  const auto n = buf.empty() ? sip::result<std::size_t>(sip::errc::too_large)
                             : sip::write_response(phone_req, code, reason, local_tag(phone_req, tag), x.lines(), buf);
  if (!n) [[unlikely]] {
    ++c.output_full;
    t.msg_len = 0;
    return;
  }
  out.commit(t.phone, *n);
  ++(resp != nullptr ? c.relayed_downstream : c.local_responses);
  if (!store(t, {buf.data(), *n})) t.msg_len = 0;  // overwrites the phone's request: no use of phone_req after this
}

// One leg of a primary/secondary fork is final (`resp`, or nullptr for Timer F);
// the leg itself is already completed. fork_outcome says what the phone gets.
void engine::impl::on_fork_leg_final(txn& leg, const sip::message* resp, std::uint64_t now,
                                     output_queue& out) noexcept {
  leg.msg_len = 0;
  if (leg.parent == k_no_txn) return;
  txn& p = txns[leg.parent];
  leg.parent = k_no_txn;
  if (p.legs_pending != 0) --p.legs_pending;
  const std::uint16_t code = resp != nullptr ? resp->status_code() : cfg.timeout_code;
  const fork_step st = resp != nullptr ? p.fork.on_response(leg.leg, code) : p.fork.on_timeout(leg.leg, code);
  binding* b = bindings.get(leg.bind);
  const bool ok = resp != nullptr && code < 300;
  const std::uint32_t granted =
      b != nullptr && ok && leg.out_expires != 0 ? granted_expires(*resp, *b, leg.out_expires) : 0;
  switch (st.action) {
    case fork_action::answer:
      if (p.state == txn_state::pending) {
        // The error that arrived last may be an earlier leg's (this one timed out): then only its code is known.
        answer_phone(p, resp != nullptr && code == st.code ? resp : nullptr, st.code, granted, leg.reg_slot, now, out);
        p.state = txn_state::completed;
        p.life.kind = timer_k;
        wheel.arm(p.life, now + cfg.timer_k_ms);
        if (ok) {
          b = bindings.get(leg.bind);
          if (b != nullptr) b->secondary_index = binding::no_secondary;  // the other leg may still add itself
        }
      }
      break;
    case fork_action::keep_secondary:
      if (b != nullptr && granted != 0 && b->registrar_index != leg.reg_slot &&
          b->state != binding_state::unregistering) {
        b->secondary_index = leg.reg_slot;
        ++c.secondary_kept;
      }
      break;
    case fork_action::note_failure:
      if (b != nullptr && b->secondary_index == leg.reg_slot) b->secondary_index = binding::no_secondary;
      break;
    case fork_action::wait:
    case fork_action::ignore: break;
  }
}

void engine::impl::time_out_p2p(txn& t, std::uint64_t now, output_queue& out) noexcept {
  if (t.role == txn_role::probe) {
    probe_final(t, 0, 0, now);
    return;
  }
  ++c.timer_f_timeouts;
  if (note_registrar(t.reg_slot, 0, 0, now) && failover(t, now, out)) return;  // the binding stays, at the next one
  timer_wheel::cancel(t.retrans);
  t.state = txn_state::completed;
  t.life.kind = timer_k;
  wheel.arm(t.life, now + cfg.timer_k_ms);
  end_upstream(t);
  if (t.role == txn_role::fork_leg) {
    on_fork_leg_final(t, nullptr, now, out);
    return;
  }
  if (t.role == txn_role::refresh && t.leg == 1) {  // the secondary's refresh: it no longer holds the binding
    binding* sb = bindings.get(t.bind);
    if (sb != nullptr && sb->secondary_index == t.reg_slot) sb->secondary_index = binding::no_secondary;
    t.msg_len = 0;
    return;
  }
  binding* b = bindings.get(t.bind);
  if (t.role == txn_role::sync) {
    if (b != nullptr && b->state == binding_state::fallback) enter_fallback(*b, now);  // synced when one is back
    t.msg_len = 0;
    return;
  }
  sip::message phone_req;
  const bool have_req =
      t.role == txn_role::phone && t.phone_len != 0 && phone_req.parse(phone_request(t)) == sip::errc::ok;
  if (have_req && b != nullptr && fallback_applies(*b, now)) {
    answer_fallback(t, *b, phone_req, now, out);  // the last registrar did not answer: the local registrar does
    return;
  }
  if (b != nullptr) {
    if (t.role == txn_role::deregister) {
      dereg_leg_done(*b);
    } else if (t.role == txn_role::refresh &&
               (b->state == binding_state::unregistering || b->state == binding_state::deregister_waiting)) {
      // As for its answer: the deregistration decides.
    } else if (b->state == binding_state::pending_upstream || b->state == binding_state::new_ ||
               (t.role == txn_role::phone && t.out_expires == 0)) {
      bindings.erase(*b);
    } else if (t.role == txn_role::refresh && fallback_applies(*b, now)) {
      enter_fallback(*b, now);  // its refresh found no registrar: kept local-only instead of lapsing
      arm_binding(*b, now + 1);
    } else {
      refused(*b, now);
      if (t.role == txn_role::refresh) b->state = binding_state::failed;  // let the phone's next refresh go upstream
      arm_binding(*b, now + 1);
    }
  }
  if (!have_req) {
    t.msg_len = 0;
    return;
  }
  answer_timeout(t, phone_req, out);
}

std::uint64_t engine::impl::out_refresh_at(const binding& b) const noexcept {
  // Refresh a tenth of the lifetime early, at least a Timer F early (so a lost
  // refresh still times out, and the phone's next one goes upstream, before the
  // registrar drops the binding), at most half of it.
  const std::uint64_t life = std::uint64_t{b.out_expires} * 1000;
  const std::uint64_t lead = std::min(std::max<std::uint64_t>(life / 10, cfg.timer_f_ms), life / 2);
  return b.out_expires_at_ms - lead;
}

namespace {
// When the phone's next refresh is overdue: its Contacts' expiry, then one in-leg
// period more per refresh already missed.
std::uint64_t in_check_at(const binding& b) noexcept {
  return b.in_expires_at() + std::uint64_t{b.missed_refreshes} * std::max<std::uint32_t>(b.in_expires, 1) * 1000;
}
}  // namespace

void engine::impl::arm_binding(binding& b, std::uint64_t not_before) noexcept {
  std::uint64_t due = in_check_at(b);
  if (b.state == binding_state::registered) due = std::min(due, out_refresh_at(b));
  if (b.state == binding_state::fallback) due = std::min(due, b.fallback_until_ms());
  b.timer.kind = binding_timer;
  // Never at or before the current tick: a callback re-arming for "now" would fire again in the same advance().
  wheel.arm(b.timer, std::max(due, not_before));
}

void engine::impl::deregister(binding& b, std::uint64_t now, output_queue& out) noexcept {
  timer_wheel::cancel(b.timer);
  if (b.state == binding_state::fallback) {
    bindings.erase(b);  // local-only: nothing upstream to take back
    return;
  }
  // Every registrar that holds the binding is told: the primary (registrar_index)
  // and, in primary/secondary mode, the secondary that also accepted it.
  std::array<unsigned, 2> legs{b.registrar_index, binding::no_secondary};
  unsigned n = 1;
  if (cfg.reg_mode == registrar_mode::primary_secondary && b.secondary_index != binding::no_secondary &&
      b.secondary_index != b.registrar_index) {
    legs[n++] = b.secondary_index;
  }
  // All legs or none: each is metered like a refresh and needs a transaction. Without
  // them the deregistration waits (deregister_waiting) and is retried every T1 until
  // the out-leg registration lapses; then the registrar has dropped the binding itself.
  std::array<spike_slot, 2> slots{spike_slot::none, spike_slot::none};
  bool ready = free_txns.size() >= n;
  if (!ready) ++c.transactions_full;
  for (unsigned i = 0; i < n && ready; ++i) {
    slots[i] = acquire_slot(spike_kind::refresh);
    if (slots[i] == spike_slot::none) {
      ++c.spike_deferred;
      ready = false;
    }
  }
  unsigned sent = 0;
  if (ready) {
    for (unsigned i = 0; i < n; ++i) {
      // send_out_register releases the slot when it fails (output queue full).
      txn* t = send_out_register(b, txn_role::deregister, 0, nullptr, {}, {}, 0, now, out, legs[i], slots[i]);
      if (t == nullptr) continue;
      t->leg = static_cast<std::uint8_t>(i);
      ++sent;
    }
  } else if (budget) {
    for (const spike_slot s : slots) budget->release(s);
  }
  if (sent != 0) {
    b.state = binding_state::unregistering;
    b.dereg_legs = sent & 3U;  // 1 or 2 legs
    return;
  }
  if (now >= b.out_expires_at_ms) {
    ++c.deregs_lapsed;
    bindings.erase(b);
    return;
  }
  b.state = binding_state::deregister_waiting;
  b.timer.kind = binding_timer;
  wheel.arm(b.timer, std::max(now + 1, std::min(now + cfg.t1_ms, b.out_expires_at_ms)));
}

void engine::impl::dereg_leg_done(binding& b) noexcept {
  // A phone that came back meanwhile owns the binding again: nothing to free.
  if (b.state != binding_state::unregistering) return;
  if (b.dereg_legs > 1) {
    --b.dereg_legs;
    return;
  }
  bindings.erase(b);
}

void engine::impl::on_binding_timer(binding& b, std::uint64_t now, output_queue& out) noexcept {
  if (b.state == binding_state::unregistering) return;  // the deregistrations' answers (or Timer F) erase it
  if (b.state == binding_state::deregister_waiting) {
    deregister(b, now, out);  // a slot or a transaction may have freed since
    return;
  }
  if (b.state == binding_state::fallback && now >= b.fallback_until_ms()) {
    ++c.fallback_expired;  // local-only for holdSeconds: no registrar came back for it
    bindings.erase(b);
    return;
  }
  if (now >= in_check_at(b) && note_missed_refresh(b, cfg.registrar)) {
    ++c.fail_count_deregs;
    deregister(b, now, out);
    return;
  }
  std::uint64_t not_before = now + 1;
  if (b.state == binding_state::registered && now >= out_refresh_at(b)) {
    const std::uint32_t asked = cfg.registrar.out_expires != 0 ? cfg.registrar.out_expires : b.in_expires;
    // The binding's registrar while it is up, else the first usable one of the list.
    revive(now);
    unsigned slot_index = b.registrar_index;
    bool have_target = regs.health(slot_index + 1U, now) == registrar_health::up;
    if (!have_target) {
      const selection sel = regs.next_target(order, now);
      have_target = sel.status == select_status::ok;
      if (have_target) slot_index = sel.pick.index - 1;
    }
    const spike_slot slot = have_target ? acquire_slot(spike_kind::refresh) : spike_slot::none;
    if (!have_target && fallback_on()) {
      enter_fallback(b, now);  // no usable registrar: local-only until reg-sync registers it again
    } else if (!have_target) {
      not_before = now + cfg.t1_ms;  // no usable registrar: the binding stays, the refresh waits
    } else if (slot == spike_slot::none) {
      ++c.spike_deferred;  // overload: the refresh waits for a slot (next tick); the binding is never dropped
    } else if (send_out_register(b, txn_role::refresh, asked, nullptr, {}, {}, 0, now, out, slot_index, slot) !=
               nullptr) {
      b.state = binding_state::refreshing;
      ++c.upstream_refreshes;
      // Primary/secondary: the secondary's registration is refreshed alongside.
      const unsigned sec = b.secondary_index;
      if (cfg.reg_mode == registrar_mode::primary_secondary && sec != binding::no_secondary && sec != slot_index &&
          regs.health(sec + 1U, now) == registrar_health::up) {
        const spike_slot s2 = acquire_slot(spike_kind::refresh);
        txn* t2 = s2 == spike_slot::none
                      ? nullptr
                      : send_out_register(b, txn_role::refresh, asked, nullptr, {}, {}, 0, now, out, sec, s2);
        if (t2 != nullptr) {
          t2->leg = 1;
        } else if (s2 == spike_slot::none) {
          ++c.spike_deferred;
        }
      }
    } else {
      not_before = now + cfg.t1_ms;  // no transaction or output space: try again shortly
    }
  }
  arm_binding(b, not_before);
}

// ---------------------------------------------------------------- OPTIONS prober (peer-to-peer)
//
// With probe_interval_ms set, a registrar of the mode's list that is down (Timer F,
// 503 without Retry-After) gets an OPTIONS every probe_interval_ms instead of being
// revived blindly after registrar_retry_ms. The probe is a small client transaction
// of its own (role probe): our Via and branch, so steer() brings the answer back to
// this worker, Timer E retransmissions, and Timer F as its timeout - cut to the
// interval for a down registrar, so that one probe is in flight at a time and yet a
// registrar that comes back is noticed within an interval. What an answer means:
// a registrar that answers is alive, so any final response marks it up (404, 405,
// 483, a challenge... all prove its SIP stack runs), except 503: it said it cannot
// serve, so it stays down (or is held for its Retry-After, as a 503 to a REGISTER
// would). A held registrar is not probed: it comes back by itself when the hold ends.
// With probe_keepalive_ms set, up registrars get an OPTIONS that often too, and Timer
// F on it marks them down (so failover and local fallback start before the next
// REGISTER has to time out).
//
// Each worker keeps its own registrar view and probes for itself: with W workers a
// down registrar gets W probes per interval. That is W OPTIONS per 5 s by default -
// noise next to the registrations the same registrar takes when up - and it keeps
// the workers share-nothing (no cross-core health messages). The workers' probes are
// spread over the interval (worker w's first probe comes (w + 1) / W of an interval
// after the registrar went down), so the registrar sees them evenly and some worker
// learns it is back within interval / W; the others learn it from their own probe
// or from the first REGISTER answer they get. Probes count in probes_sent /
// probes_answered / probe_timeouts, not in the REGISTER counters.

void engine::impl::run_probes(std::uint64_t now, output_queue& out) noexcept {
  if (cfg.probe_interval_ms == 0) return;
  const std::uint64_t workers = std::max(cfg.n_workers, 1U);
  for (std::size_t pos = 0; pos < order.size(); ++pos) {
    const unsigned index = order[pos];
    if (index < 1 || index > max_registrars) continue;
    const unsigned slot = index - 1;
    if (probe_txn[slot] != k_no_txn) continue;  // one probe in flight per registrar
    const registrar_health h = regs.health(index, now);
    const std::uint32_t every = h == registrar_health::down ? cfg.probe_interval_ms
                                : h == registrar_health::up ? cfg.probe_keepalive_ms
                                                            : 0;
    if (every == 0) {
      probe_due[slot] = 0;
      continue;
    }
    if (probe_due[slot] == 0 || probe_for[slot] != h) {
      // Phased from when it went down (keepalives: from now), spread over the workers.
      const std::uint64_t from = h == registrar_health::down && down_at[slot] != 0 ? down_at[slot] : now;
      probe_for[slot] = h;
      probe_due[slot] =
          from + std::max<std::uint64_t>(1, std::uint64_t{every} * (cfg.worker_id % workers + 1) / workers);
      if (now < probe_due[slot]) continue;
    }
    if (now < probe_due[slot]) continue;
    probe_due[slot] = now + every;
    send_probe(slot, now, out);
  }
}

void engine::impl::send_probe(unsigned slot, std::uint64_t now, output_queue& out) noexcept {
  txn* tp = alloc();
  if (tp == nullptr) [[unlikely]] {
    ++c.transactions_full;
    return;
  }
  txn& t = *tp;
  t.role = txn_role::probe;
  t.reg_slot = static_cast<std::uint8_t>(slot);
  t.client_id = next_id++;
  t.registrar = regs.address(slot + 1U);   // a dynamic registrar's latest address
  if (t.registrar.ip == 0) [[unlikely]] {  // unresolved: nothing to probe until DNS answers
    release(t);
    return;
  }
  std::array<char, 300> ruri_buf{};
  const std::string_view target = out_request_uri(cfg.registrars[slot], t.registrar, ruri_buf);
  std::array<char, 128> via_buf{};
  const std::string_view via = our_via(via_buf, t.client_id);
  const std::span<char> buf = out.reserve();
  sip::writer w(buf);
  w.put("OPTIONS ").put(target).put(" SIP/2.0").crlf();
  w.header("Via", via).header("Max-Forwards", "70");
  w.put("From: <sip:sipfront@");
  put_ipv4(w, cfg.core_local.ip);
  w.put(':').put_uint(cfg.core_local.port).put(">;tag=sf");
  put_hex(w, t.client_id);
  w.crlf()
      .put("To: <")
      .put(target)
      .put('>')
      .crlf()
      .put("Call-ID: sfprobe-")
      .put(hex_digit(cfg.worker_id >> 4))
      .put(hex_digit(cfg.worker_id))
      .put('-');
  put_hex(w, t.client_id);
  w.put('@');
  put_ipv4(w, cfg.core_local.ip);
  w.crlf().put("CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
  if (buf.empty() || w.overflowed() || !store(t, w.view())) [[unlikely]] {
    ++c.output_full;
    release(t);
    return;
  }
  out.commit(t.registrar, w.size());
  by_client.insert(t);
  t.e_interval = cfg.t1_ms;
  t.retrans.kind = timer_e;
  wheel.arm(t.retrans, now + cfg.t1_ms);
  // A down registrar's probe gives up when the next one is due (so a registrar that
  // returns is seen within an interval, not a Timer F); a keepalive waits Timer F.
  const bool down = regs.health(slot + 1, now) == registrar_health::down;
  t.life.kind = timer_f;
  wheel.arm(t.life, now + (down ? std::min(cfg.timer_f_ms, cfg.probe_interval_ms) : cfg.timer_f_ms));
  probe_txn[slot] = static_cast<std::uint32_t>(&t - txns.data());
  ++c.probes_sent;
}

// A probe's final answer (`code`), or its Timer F (`code` 0).
void engine::impl::probe_final(txn& t, std::uint16_t code, std::uint32_t retry_after, std::uint64_t now) noexcept {
  const unsigned slot = t.reg_slot;
  const unsigned index = slot + 1;
  probe_txn[slot] = k_no_txn;
  timer_wheel::cancel(t.retrans);
  t.state = txn_state::completed;
  t.msg_len = 0;
  t.life.kind = timer_k;
  wheel.arm(t.life, now + cfg.timer_k_ms);  // absorbs the registrar's retransmissions
  if (code == 0) {
    ++c.probe_timeouts;
    if (regs.health(index, now) == registrar_health::up) {  // a keepalive: it stopped answering
      regs.on_timeout(index);
      down_at[slot] = std::max<std::uint64_t>(now, 1);
    }
    return;
  }
  ++c.probes_answered;
  if (code == 503) {
    (void)regs.on_response(index, code, retry_after, now);  // down, or held for its Retry-After
    if (retry_after == 0) down_at[slot] = std::max<std::uint64_t>(now, 1);
    return;
  }
  regs.mark_up(index);  // reg-sync starts on the next tick when bindings need it
  down_at[slot] = 0;
}

// ---------------------------------------------------------------- local fallback and reg-sync (peer-to-peer)
//
// Local fallback (cfg.fallback): when no registrar of the mode's list is usable (all
// down or held), the local registrar answers the phone's REGISTER 200 itself instead
// of 503: its Contacts are stored, the in-leg expiry is what the local registrar
// policy grants, and the binding goes to state fallback ("local only") with
// needs_sync set. The same happens when the phone's REGISTER upstream ends with no
// registrar left (Timer F on the last one, or 503), and when the front end's own
// refresh of a registered binding finds none (it is kept local-only instead of
// lapsing). A local-only binding is kept at most fallback_hold_s after it lost its
// registrar (the first time it went local-only; refreshes do not extend that), then
// erased (fallback_expired); its timer also keeps counting missed in-leg refreshes,
// and a fail-count "deregistration" just erases it. Until reg-sync has registered it
// upstream the phone's REGISTERs are answered locally (each counts in
// fallback_registrations; an un-REGISTER erases it);
// requests from the core still route to its Contact (480 once it has none left).
// Memory: the state is a binding_state value, needs_sync a padding byte, and the hold's
// end is kept in out_expires (seconds; out_expires_at_ms is 0, so nothing reads the
// local-only binding as registered upstream): the record stays 480 B.
//
// Reg-sync: once a registrar is usable again (probe answered, hold over, revived,
// any answer), bindings with needs_sync are registered upstream with a
// front-end-originated REGISTER like a refresh (role sync: the binding's out-leg
// Call-ID, From-tag and next CSeq), paced by a token bucket of ceil(regsync_rate /
// n_workers) per second per worker, holding at most k_sync_burst_ms worth (never a
// burst), and a cursor over the binding pool visiting at most k_sync_visits_per_tick
// records per tick. A 2xx makes the binding registered; 503 or Timer F (every
// registrar down again) puts it back to needs_sync; any other refusal erases it (a
// registrar that answers refused it: the phone's next REGISTER is a new one, goes
// upstream and gets that answer itself). The sweep ends after a full pass during
// which no binding was marked again. A phone's own REGISTER for a local-only binding
// never goes upstream, even once a registrar is usable: it is answered locally (an
// un-REGISTER removes the binding) and the binding waits for the sweep. Otherwise
// every phone's next refresh would reach the returning registrar within one refresh
// interval - the burst reg-sync is there to prevent, since rate limiting lets phones
// refresh far more often than the registrar is asked to. Reg-sync REGISTERs take a
// spike slot as new registrations (the registrar does not hold these bindings);
// without one they wait for the next tick.

void engine::impl::enter_fallback(binding& b, std::uint64_t now) noexcept {
  if (b.state != binding_state::fallback) {
    b.state = binding_state::fallback;
    b.out_expires_at_ms = 0;
    b.out_expires = static_cast<std::uint32_t>((now + std::uint64_t{cfg.fallback_hold_s} * 1000) / 1000);
    b.secondary_index = binding::no_secondary;
  }
  b.needs_sync = true;
  sync_wanted = true;
  ++sync_epoch;
}

// Stores the phone's Contacts from `d` in `b` and makes it local-only. False when
// there is nothing to keep (an un-REGISTER) or it does not fit: the caller erases it.
bool engine::impl::keep_locally(binding& b, const register_decision& d, const endpoint& src,
                                std::uint64_t now) noexcept {
  std::array<contact_spec, max_contacts> cs{};
  std::size_t n = 0;
  for (const contact_request& cr : d.contacts) {
    if (cr.expires != 0) cs[n++] = {cr.uri, now + std::uint64_t{cr.expires} * 1000};
  }
  if (n == 0 || b.set_contacts({cs.data(), n}) != binding_errc::ok) return false;
  b.in_cseq = d.cseq;
  b.in_expires = d.in_expires;
  b.source = src;
  b.missed_refreshes = 0;
  if (b.state != binding_state::fallback) enter_fallback(b, now);  // (a sync in flight stays the only one)
  arm_binding(b, now + 1);
  return true;
}

// The phone's REGISTER `req` held by `t` found no registrar: the local registrar answers it.
void engine::impl::answer_fallback(txn& t, binding& b, const sip::message& req, std::uint64_t now,
                                   output_queue& out) noexcept {
  ++c.fallback_registrations;
  const register_decision d = decide_register(req, t.phone_src, nullptr, now, cfg.registrar);
  binding* kept = &b;
  if (t.out_expires == 0 || !keep_locally(b, d, t.phone_src, now)) {
    bindings.erase(b);
    kept = nullptr;
  }
  extra_lines x;
  if (kept != nullptr) contact_lines(*kept, now, x);
  answer_in(t, req, 200, "OK", x.lines(), out);
}

void engine::impl::run_regsync(std::uint64_t now, output_queue& out) noexcept {
  if (!sync_wanted) return;
  unsigned slot = 0;
  if (!usable(now, &slot)) {
    sync_running = false;
    return;
  }
  if (!sync_running) {  // the bucket starts empty: the first REGISTER goes 1/rate after a registrar is back
    sync_running = true;
    sync_refill_at = now;
    sync_tokens = 0;
    return;
  }
  const std::uint64_t cap = std::max<std::uint64_t>(1000, std::uint64_t{sync_rate} * k_sync_burst_ms);
  sync_tokens = std::min(cap, sync_tokens + (now - sync_refill_at) * sync_rate);
  sync_refill_at = now;
  const auto pool = static_cast<std::uint32_t>(bindings.capacity());
  unsigned sent = 0;
  for (unsigned visited = 0; visited < k_sync_visits_per_tick; ++visited) {
    if (sync_cursor >= pool) {
      sync_cursor = 0;
      if (sync_epoch == sync_pass_epoch) {  // a whole pass with nothing marked again: done
        sync_wanted = false;
        sync_running = false;
        return;
      }
      sync_pass_epoch = sync_epoch;
    }
    binding* b = bindings.live_at(sync_cursor);
    if (b == nullptr || b->state != binding_state::fallback || !b->needs_sync) {
      ++sync_cursor;
      continue;
    }
    if (sync_tokens < 1000 || sent == k_sync_sends_per_tick || out.reserve().empty()) return;
    const spike_slot spike = acquire_slot(spike_kind::fresh);
    if (spike == spike_slot::none) {
      ++c.spike_deferred;
      return;
    }
    const std::uint32_t asked = cfg.registrar.out_expires != 0 ? cfg.registrar.out_expires : b->in_expires;
    if (send_out_register(*b, txn_role::sync, asked, nullptr, {}, {}, 0, now, out, slot, spike) == nullptr) return;
    b->needs_sync = false;
    ++c.regsync_sent;
    sync_tokens -= 1000;
    ++sent;
    ++sync_cursor;
  }
}

// ---------------------------------------------------------------- routing (peer-to-peer)
//
// Requests between the core and registered phones ("session target registrar"),
// relayed statelessly (RFC 3261 §16.11): no transaction record, our Via on top
// with a branch computed from the incoming top Via (server_key(): the same request
// and its retransmissions, and a CANCEL for it, get the same branch), the owner
// worker encoded in that branch ("z9hG4bKsf<ww>s<key>") so steer() brings the
// response back here, which pops our Via and sends it to the next one.
//
// Core -> phone. The Request-URI is the Contact the front end registered
// ("sip:<out-leg Call-ID>@core"): it names the binding (owner worker + handle), the
// Request-URI becomes the phone's Contact and the request goes to the binding's
// stored source address (NAT), not to the Contact's host. A binding that is gone,
// or has no unexpired Contact, gets 404, except a local-only one (local fallback)
// without an unexpired Contact: 480, the phone is known but not reachable now.
// A local-only binding with a live Contact routes like any other. Initial INVITE/SUBSCRIBE/REFER get two
// Record-Routes (RFC 5658 double record-routing: the access address for the phone,
// the core address for the core), both with the binding's out-leg Call-ID as user
// part, so in-dialog requests come back with "Route: <ours>" naming the binding.
// In-dialog core -> phone (Request-URI = the phone's Contact, top Route ours):
// our Route entries are popped (loose routing, RFC 3261 §16.4); the binding the
// Route names gives the destination (its source address); a Request-URI that is
// itself one of our binding Contacts wins over the Route.
//
// Phone -> core (any non-REGISTER request from the access side not addressed to
// the front end itself): our Route entries popped, Via pushed, sent to the next
// Route when it is an IPv4 literal, else to the registrar: the binding's (the one
// our Route names, else the caller's, below), else the default; the registrar is
// the core's proxy. A registered caller's request (below) goes with its out-leg
// identity: its Contact becomes the one the front end registered for it upstream
// ("sip:<out-leg Call-ID>@core"; From is the AOR on both legs), so the core sees the
// identity it holds in its location service and reaches the phone in the dialog
// exactly as it does for new requests (a Request-URI naming a binding wins over
// the Route; it becomes the phone's registered Contact). Call-ID, tags and CSeq stay
// the phone's: changing them would need per-dialog state (a B2BUA), which a
// stateless relay does not keep. Responses from the phone keep its Contact (the
// core's in-dialog requests still come through our Record-Route naming the binding).
//
// Placement makes the caller's binding visible here: steer() sends every REGISTER
// of an AOR to the worker of its AOR hash (canonical_aor(), the key the binding
// table uses), and every access-side request that names no binding to the worker
// of its From AOR hash, so a registered phone's INVITE meets its binding. When the
// From AOR has a binding that is registered upstream and was registered from this
// request's source address (the same phone, not another device using the name),
// the initial request's Record-Route user part is the binding's out-leg Call-ID,
// exactly as on core -> phone dialogs: in-dialog requests from either side then
// name the binding in their top Route and steer() brings them to its worker. With
// no such binding the user part carries the phone's source address
// ("sfp-<ip>-<port>-<nic>", hex), which needs no binding and no particular worker.
// The front end still does not refuse calls from unregistered phones (the
// registrar authenticates calls). The stateless branch (worker + server_key())
// must be the same for an INVITE, its CANCEL and the ACK of a non-2xx answer;
// the From AOR rule applies to all three (the ACK carries a To-tag, so the rule
// covers in-dialog requests as well; they need no particular worker otherwise).

struct engine::impl::relay_plan {
  endpoint local;                  // our address on the side it goes out of
  endpoint other_local;            // our address on the side it came from
  endpoint dst;                    // next hop
  std::string_view request_uri{};  // replacement Request-URI (empty: keep)
  std::string_view rr_user{};      // Record-Route user part (empty: none)
  std::string_view contact{};      // replacement Contact value (empty: keep the request's)
  bool record_route = false;       // add our Record-Route pair
  unsigned pop_routes = 0;         // leading Route entries that are ours
  std::string_view rest_routes{};  // the Route entries after ours, joined
  bool toward_phone = false;
  endpoint reply_to;  // where our own answers to the request go
};

namespace {

constexpr std::string_view k_sfp_prefix = "sfp-";

// An INVITE, SUBSCRIBE or REFER outside a dialog (no To-tag): the requests that
// get our Record-Route. validate() parsed the To header.
bool initial_dialog_request(const sip::message& msg) noexcept {
  const sip::method m = msg.method();
  if (m != sip::method::invite && m != sip::method::subscribe && m != sip::method::refer) return false;
  const auto to = sip::parse_name_addr(msg.value_of(sip::header_id::to));
  return to && to->tag().empty();
}

// A SIP URI naming the front end: one of its IPv4 addresses with its port.
bool names_us(const sip::uri& u, const engine_config& cfg) noexcept {
  std::uint32_t ip = 0;
  if (!u.is_sip() || u.host_type != sip::host_kind::ipv4 || !sip::parse_ipv4(u.host, ip)) return false;
  const std::uint16_t port = u.has_port ? u.port : 5060;
  return (ip == cfg.access_local.ip && port == cfg.access_local.port) ||
         (ip == cfg.core_local.ip && port == cfg.core_local.port);
}

// The transport address of an IPv4-literal SIP URI (no DNS on the data path).
bool uri_endpoint(std::string_view text, std::uint16_t port_id, endpoint& out) noexcept {
  const auto u = sip::parse_uri(text);
  std::uint32_t ip = 0;
  if (!u || !u->is_sip() || u->host_type != sip::host_kind::ipv4 || !sip::parse_ipv4(u->host, ip)) return false;
  out = {ip, u->has_port ? u->port : std::uint16_t{5060}, port_id};
  return true;
}

void put_phone_address(sip::writer& w, const endpoint& e) noexcept {
  w.put(k_sfp_prefix);
  put_hex(w, e.ip);
  w.put('-');
  put_hex(w, e.port);
  w.put('-');
  put_hex(w, e.port_id);
}

bool decode_phone_address(std::string_view s, endpoint& out) noexcept {
  if (!s.starts_with(k_sfp_prefix)) return false;
  s.remove_prefix(k_sfp_prefix.size());
  std::uint64_t v[3] = {};
  for (int i = 0; i < 3; ++i) {
    std::size_t n = 0;
    while (n < s.size() && s[n] != '-') {
      if (!sip::chars::is_hex(s[n]) || n == 8) return false;
      v[i] = (v[i] << 4) | static_cast<unsigned>(sip::chars::hex_value(s[n]));
      ++n;
    }
    if (n == 0) return false;
    s.remove_prefix(n);
    if (i < 2) {
      if (!s.starts_with('-')) return false;
      s.remove_prefix(1);
    }
  }
  if (!s.empty() || v[1] > 0xffff || v[2] > 0xffff) return false;
  out = {static_cast<std::uint32_t>(v[0]), static_cast<std::uint16_t>(v[1]), static_cast<std::uint16_t>(v[2])};
  return true;
}

// The binding named by the user part of the top Route entry (our Record-Route).
bool top_route_binding(const sip::message& msg, out_call_id_fields& f) noexcept {
  if (msg.find(sip::header_id::route) == nullptr) return false;
  sip::list_iterator it(msg, sip::header_id::route);
  std::string_view entry;
  if (!it.next(entry)) return false;
  const auto na = sip::parse_name_addr(entry);
  return na && decode_contact(na->uri, f);
}

// The Route set as the front end sees it: how many leading entries are ours, the
// first user part among them, and the entries after them joined again.
struct route_scan {
  unsigned ours = 0;
  std::string_view user{};
  std::string_view rest{};
  std::string_view next_uri{};  // the first entry after ours
};

bool scan_routes(const sip::message& msg, const engine_config& cfg, std::span<char> buf, route_scan& r) noexcept {
  if (msg.find(sip::header_id::route) == nullptr) return true;
  sip::writer w(buf);
  sip::list_iterator it(msg, sip::header_id::route);
  std::string_view entry;
  bool leading = true;
  while (it.next(entry)) {
    if (leading) {
      const auto na = sip::parse_name_addr(entry);
      const auto u = na ? sip::parse_uri(na->uri) : sip::result<sip::uri>(sip::errc::bad_uri);
      if (u && names_us(*u, cfg)) {
        ++r.ours;
        if (r.user.empty() && u->has_user) r.user = u->user;
        continue;
      }
      leading = false;
      if (na) r.next_uri = na->uri;
    }
    if (w.size() != 0) w.put(", ");
    w.put(entry);
  }
  r.rest = w.view();
  return !it.failed() && !w.overflowed();
}

// Where a response goes after our Via is popped: the next Via's received/rport
// (RFC 3261 §18.2.2, RFC 3581), else its sent-by; IPv4 only.
bool next_via_target(const sip::message& msg, std::uint16_t port_id, endpoint& out) noexcept {
  sip::list_iterator it(msg, sip::header_id::via);
  std::string_view entry;
  if (!it.next(entry) || !it.next(entry)) return false;
  const auto v = sip::parse_via(entry);
  if (!v) return false;
  std::uint32_t ip = 0;
  if (!(!v->received.empty() && sip::parse_ipv4(v->received, ip)) &&
      !(v->host_type == sip::host_kind::ipv4 && sip::parse_ipv4(v->host, ip))) {
    return false;
  }
  const std::uint16_t port = v->rport_has_value ? v->rport : v->has_port ? v->port : std::uint16_t{5060};
  out = {ip, port, port_id};
  return true;
}

// The Contact of `b` to send a request to: the one registered last (latest expiry), unexpired.
std::string_view live_contact(const binding& b, std::uint64_t now) noexcept {
  std::string_view best;
  std::uint64_t best_at = now;
  for (std::size_t i = 0; i < b.n_contacts(); ++i) {
    if (b.contact_expires_at(i) > best_at) {
      best_at = b.contact_expires_at(i);
      best = b.contact_uri(i);
    }
  }
  return best;
}

}  // namespace

bool engine::impl::relay_request(const sip::message& msg, const sip::via& top, const endpoint& src, const relay_plan& p,
                                 output_queue& out) noexcept {
  // validate() answers Max-Forwards 0 with 483 when the policy says the front end
  // forwards; this holds when it does not say so, so the decrement below never wraps.
  if (const auto mf = sip::parse_max_forwards(msg.value_of(sip::header_id::max_forwards)); mf && *mf == 0) {
    if (msg.method() != sip::method::ack) answer(msg, p.reply_to, {483, "Too Many Hops", {}}, out, c);
    return false;
  }
  // Our Via: a branch from the incoming request's transaction key, so retransmissions
  // (and the CANCEL of an INVITE) map to the same one without state.
  std::array<char, 128> via_buf{};
  sip::writer vw(via_buf);
  vw.put("SIP/2.0/UDP ");
  put_ipv4(vw, p.local.ip);
  vw.put(':').put_uint(p.local.port).put(";branch=").put(k_branch_prefix);
  vw.put(hex_digit(cfg.worker_id >> 4)).put(hex_digit(cfg.worker_id)).put('s');
  put_hex(vw, server_key(msg, top));
  vw.put(";rport");
  std::array<char, 512> prev_via{};
  sip::writer pw(prev_via);
  std::array<char, 4> mf{};
  sip::writer mw(mf);
  const auto max_fwd = sip::parse_max_forwards(msg.value_of(sip::header_id::max_forwards));
  mw.put_uint(max_fwd ? *max_fwd - 1U : 70U);  // 0 was answered 483 by validate()

  sip::message_edit edit;
  edit.push_via(vw.view()).replace(sip::header_id::max_forwards, mw.view());
  if (rewrite_phone_via(top, src, pw)) edit.set_top_via(pw.view());
  if (!p.request_uri.empty()) edit.set_request_uri(p.request_uri);
  if (!p.contact.empty() && msg.find(sip::header_id::contact) != nullptr)
    edit.replace(sip::header_id::contact, p.contact);
  if (p.pop_routes != 0) {
    if (p.rest_routes.empty()) {
      edit.remove(sip::header_id::route);
    } else {
      edit.replace(sip::header_id::route, p.rest_routes);
    }
  }
  // Record-Route: ours on top of any already there, the entry for the side the
  // request goes out of first (that side's UA uses it as its first hop).
  std::array<char, 2048> rr_buf{};
  sip::writer rw(rr_buf);
  if (p.record_route) {
    for (const endpoint& e : {p.local, p.other_local}) {
      if (rw.size() != 0) rw.put(", ");
      rw.put("<sip:");
      if (!p.rr_user.empty()) rw.put(p.rr_user).put('@');
      put_ipv4(rw, e.ip);
      rw.put(':').put_uint(e.port).put(";lr>");
    }
    for (const sip::header_entry& h : msg.headers()) {
      if (h.id == sip::header_id::record_route) rw.put(", ").put(msg.value(h));
    }
    edit.replace(sip::header_id::record_route, rw.view());
  }
  const std::span<char> buf = out.reserve();
  const auto n = buf.empty() || vw.overflowed() || rw.overflowed() ? sip::result<std::size_t>(sip::errc::too_large)
                                                                   : sip::write_message(msg, edit, buf);
  if (!n) [[unlikely]] {
    ++c.output_full;  // dropped: the sender retransmits
    return false;
  }
  out.commit(p.dst, *n);
  ++(p.toward_phone ? c.routed_to_phone : c.routed_to_core);
  return true;
}

bool engine::impl::on_core_request(const sip::message& msg, const sip::via& top, const endpoint& src,
                                   const endpoint& reply_to, std::uint64_t now, output_queue& out) noexcept {
  const bool ack = msg.method() == sip::method::ack;
  auto not_found = [&] {
    ++c.routed_not_found;
    if (!ack) answer(msg, reply_to, {404, "Not Found", {}}, out, c);
    return true;
  };
  std::array<char, 2048> route_buf{};
  route_scan routes;
  if (!scan_routes(msg, cfg, route_buf, routes)) {
    if (!ack) answer(msg, reply_to, {400, "Bad Request - Route", {}}, out, c);
    return true;
  }
  relay_plan p;
  p.local = cfg.access_local;
  p.other_local = cfg.core_local;
  p.pop_routes = routes.ours;
  p.rest_routes = routes.rest;
  p.toward_phone = true;
  p.reply_to = reply_to;
  const binding* b = nullptr;
  const auto ruri = sip::parse_uri(msg.request_uri());  // validate() accepted it
  if (ruri && ruri->has_user && names_us(*ruri, cfg)) {
    // For one of our Contacts: the binding it names, else nobody.
    b = bindings.find_by_out_call_id(ruri->user);
    if (b == nullptr) return not_found();
    p.request_uri = live_contact(*b, now);
    if (p.request_uri.empty() && b->state == binding_state::fallback) {
      ++c.routed_not_found;
      if (!ack) answer(msg, reply_to, {480, "Temporarily Unavailable", {}}, out, c);
      return true;
    }
    if (p.request_uri.empty()) return not_found();
    p.dst = b->source;
  } else if (routes.ours != 0) {
    // In a dialog we record-routed: the Route names the binding (or the phone's address).
    out_call_id_fields f;
    if (decode_out_call_id(routes.user, f)) {
      b = bindings.find_by_out_call_id(routes.user);
      if (b == nullptr) return not_found();
      p.dst = b->source;
    } else if (!decode_phone_address(routes.user, p.dst) &&
               !uri_endpoint(msg.request_uri(), cfg.access_local.port_id, p.dst)) {
      return not_found();
    }
  } else {
    return false;  // for the front end itself
  }
  out_call_id_buffer cid_buf{};
  if (!ack && initial_dialog_request(msg)) {
    p.record_route = true;
    if (b != nullptr) p.rr_user = bindings.out_call_id(*b, cid_buf);
  }
  relay_request(msg, top, src, p, out);
  return true;
}

bool engine::impl::on_phone_request(const sip::message& msg, const sip::via& top, const endpoint& src,
                                    const endpoint& reply_to, output_queue& out) noexcept {
  const bool ack = msg.method() == sip::method::ack;
  std::array<char, 2048> route_buf{};
  route_scan routes;
  if (!scan_routes(msg, cfg, route_buf, routes)) {
    if (!ack) answer(msg, reply_to, {400, "Bad Request - Route", {}}, out, c);
    return true;
  }
  if (routes.ours == 0) {
    const auto ruri = sip::parse_uri(msg.request_uri());
    if (ruri && names_us(*ruri, cfg)) return false;  // for the front end itself (keep-alive OPTIONS...)
  }
  const binding* caller = caller_binding(msg, src);
  relay_plan p;
  p.local = cfg.core_local;
  p.other_local = cfg.access_local;
  p.pop_routes = routes.ours;
  p.rest_routes = routes.rest;
  p.reply_to = reply_to;
  if (routes.next_uri.empty() || !uri_endpoint(routes.next_uri, cfg.core_local.port_id, p.dst)) {
    // The binding our Route names (in a dialog), else the caller's own.
    const binding* b = routes.user.empty() ? nullptr : bindings.find_by_out_call_id(routes.user);
    if (b == nullptr) b = caller;
    if (cfg.n_registrars != 0) p.dst = regs.address((b != nullptr ? b->registrar_index : cfg.default_registrar) + 1U);
    if (cfg.n_registrars == 0 || p.dst.ip == 0) {  // none configured, or a dynamic one without an address
      ++c.no_registrar;
      if (!ack) answer(msg, reply_to, {503, "Service Unavailable - No Registrar", {}}, out, c);
      return true;
    }
  }
  std::array<char, 40> user_buf{};
  out_call_id_buffer cid_buf{};
  // A registered caller's requests carry its out-leg identity: the Contact it is
  // registered with upstream (From is the AOR on both legs already), so the core
  // reaches it in the dialog the way it reaches it for new requests.
  std::array<char, 96> contact_buf{};
  if (caller != nullptr) p.contact = out_contact(*caller, contact_buf);
  if (!ack && initial_dialog_request(msg)) {
    p.record_route = true;
    if (caller != nullptr) {
      p.rr_user = bindings.out_call_id(*caller, cid_buf);
    } else {
      sip::writer uw(user_buf);
      put_phone_address(uw, src);
      p.rr_user = uw.view();
    }
  }
  relay_request(msg, top, src, p, out);
  return true;
}

const binding* engine::impl::caller_binding(const sip::message& msg, const endpoint& src) noexcept {
  const auto from = sip::parse_name_addr(msg.value_of(sip::header_id::from));  // validate() parsed it
  if (!from) return nullptr;
  const binding* b = bindings.find_by_aor(from->uri);
  // The same AOR from another address is not this phone (another device of the
  // user, or someone using its name): it gets the source-address fallback.
  if (b == nullptr || !(b->source == src)) return nullptr;
  if (b->state != binding_state::registered && b->state != binding_state::refreshing) return nullptr;
  return b;
}

bool engine::impl::relay_response(const sip::message& msg, side from, output_queue& out) noexcept {
  const auto top = sip::top_via(msg);
  unsigned worker = 0;
  std::uint64_t id = 0;
  bool stateless = false;
  if (!top || !decode_branch(top->branch, worker, id, stateless) || !stateless) return false;
  endpoint dst;
  const std::uint16_t port_id = from == side::access ? cfg.core_local.port_id : cfg.access_local.port_id;
  if (!next_via_target(msg, port_id, dst)) {
    ++c.stray_responses;  // no Via below ours, or one we cannot reach without DNS
    return true;
  }
  sip::message_edit edit;
  edit.pop_via();
  const std::span<char> buf = out.reserve();
  const auto n = buf.empty() ? sip::result<std::size_t>(sip::errc::too_large) : sip::write_message(msg, edit, buf);
  if (!n) [[unlikely]] {
    ++c.output_full;
    return true;
  }
  out.commit(dst, *n);
  ++c.routed_responses;
  return true;
}

// ---------------------------------------------------------------- engine

engine::engine(const engine_config& cfg) : cfg_(cfg), impl_(std::make_unique<impl>(cfg_, counters_, explain_, 0)) {}
engine::~engine() = default;

std::size_t engine::live_transactions() const noexcept { return impl_->txns.size() - impl_->free_txns.size(); }

std::size_t engine::live_bindings() const noexcept { return impl_->bindings.size(); }

const binding* engine::find_binding(std::string_view aor) noexcept { return impl_->bindings.find_by_aor(aor); }

const binding* engine::binding_for_contact(std::string_view contact_uri) noexcept {
  const auto u = sip::parse_uri(contact_uri);
  if (!u || !u->is_sip() || !u->has_user) return nullptr;
  return impl_->bindings.find_by_out_call_id(u->user);
}

bool decode_contact(std::string_view contact_uri, out_call_id_fields& out) noexcept {
  const auto u = sip::parse_uri(contact_uri);
  return u && u->is_sip() && u->has_user && decode_out_call_id(u->user, out);
}

std::string_view to_string(explain_outcome o) noexcept {
  switch (o) {
    case explain_outcome::absorbed: return "absorbed";
    case explain_outcome::forwarded: return "forwarded";
    case explain_outcome::rejected: return "rejected";
  }
  return "unknown";
}

std::uint64_t call_id_hash(std::string_view call_id) noexcept { return fnv1a(call_id); }

bool aor_hash(std::string_view uri, std::uint64_t& out) noexcept {
  aor_buffer buf;  // canonical_aor() writes what it returns; the rest is never read
  const std::string_view key = canonical_aor(uri, buf);
  if (key.empty()) return false;
  out = call_id_hash(key);
  return true;
}

namespace {
// The worker of the AOR in header `id` (To or From): the name-addr split without
// checking the URI grammar here, canonical_aor() parses the URI itself.
bool aor_worker(const sip::message& msg, sip::header_id id, unsigned n_workers, unsigned& worker) noexcept {
  const auto na = sip::split_name_addr(msg.value_of(id));
  std::uint64_t h = 0;
  if (!na || !aor_hash(na->uri, h)) return false;
  worker = static_cast<unsigned>(h % n_workers);
  return true;
}
}  // namespace

unsigned steer(const sip::message& msg, side from, unsigned n_workers, unsigned self) noexcept {
  if (n_workers <= 1 || msg.parse_error() != sip::errc::ok) return self;
  if (msg.is_request()) {
    unsigned worker = 0;
    if (msg.method() == sip::method::register_) {
      // Every REGISTER of an AOR on the worker that holds (or will hold) its binding.
      if (aor_worker(msg, sip::header_id::to, n_workers, worker)) return worker;
    } else {
      // A request from the core for a registered phone names its binding, and with it
      // the owner worker, in the Request-URI (the Contact the front end registered) or,
      // in a dialog, in the top Route (the front end's Record-Route); its Call-ID is
      // the core's, unrelated to the binding's.
      out_call_id_fields f;
      if ((decode_contact(msg.request_uri(), f) || top_route_binding(msg, f)) && f.worker < n_workers) return f.worker;
      // A phone's own request: where its binding is, by the caller's AOR.
      if (from == side::access && aor_worker(msg, sip::header_id::from, n_workers, worker)) return worker;
    }
    const std::string_view cid = msg.value_of(sip::header_id::call_id);
    if (cid.empty()) return self;
    return static_cast<unsigned>(call_id_hash(cid) % n_workers);
  }
  const auto v = sip::top_via(msg);
  unsigned worker = 0;
  std::uint64_t id = 0;
  bool stateless = false;
  if (!v || !decode_branch(v->branch, worker, id, stateless) || worker >= n_workers) return self;
  return worker;
}

std::size_t engine::on_tick(std::uint64_t now_ms, output_queue& out, std::size_t budget) noexcept {
  impl& s = *impl_;
  const std::size_t n = s.wheel.advance(now_ms, budget, [&](timer_hook& h) { s.on_timer(h, now_ms, out); });
  if (cfg_.mode == passthrough_mode::peer_to_peer) {
    s.run_probes(now_ms, out);
    s.run_regsync(now_ms, out);
  }
  // Idle (no message since the last tick, no timer due): give cached spike slots back
  // so a quiet worker does not keep what busy ones need.
  if (n == 0 && !s.busy_since_tick && s.budget) s.budget->flush();
  s.busy_since_tick = false;
  return n;
}

const spike_stats* engine::spike() const noexcept { return impl_->budget ? &impl_->budget->stats() : nullptr; }

registrar_health engine::registrar_state(unsigned index, std::uint64_t now_ms) const noexcept {
  return impl_->regs.health(index, now_ms);
}

void engine::mark_registrar_up(unsigned index) noexcept {
  impl_->regs.mark_up(index);
  if (index >= 1 && index <= max_registrars) impl_->down_at[index - 1] = 0;
}

registrar_errc engine::resolve_registrar(unsigned index, endpoint addr) noexcept {
  return impl_->regs.resolve(index, addr);
}

registrar_errc engine::unresolve_registrar(unsigned index) noexcept { return impl_->regs.unresolve(index); }

endpoint engine::registrar_address(unsigned index) const noexcept { return impl_->regs.address(index); }

void engine::on_message(const sip::message& msg, const packet_meta& meta, std::uint64_t now_ms,
                        output_queue& out) noexcept {
  impl& s = *impl_;
  if (s.wheel.now() < now_ms) {
    (void)s.wheel.advance(now_ms, 256, [&](timer_hook& h) { s.on_timer(h, now_ms, out); });
  }
  s.busy_since_tick = true;

  const sip::verdict v = sip::validate(msg, cfg_.policy);
  if (!v.ok()) [[unlikely]] {
    ++counters_.by_rule[static_cast<std::size_t>(v.broken)];
    if (!msg.is_request()) {
      ++counters_.malformed_responses;  // a broken response is dropped, never forwarded
      return;
    }
    ++counters_.malformed_requests;
    const std::uint16_t code = v.status_code(msg.kind());
    if (code != 0 && msg.method() != sip::method::ack && sip::can_answer(msg)) {
      answer(msg, response_target(*sip::top_via(msg), meta.src), {code, v.reason(), {}}, out, counters_);
    } else {
      ++counters_.unanswerable;
    }
    return;
  }

  if (msg.is_response()) {
    ++counters_.response_in;
    if (cfg_.mode == passthrough_mode::peer_to_peer && s.relay_response(msg, meta.from, out)) return;
    if (meta.from != side::core) {
      ++counters_.stray_responses;  // phones answer nothing the front end sent them (yet)
      return;
    }
    s.on_response(msg, now_ms, out);
    return;
  }
  const auto top = sip::top_via(msg);  // present and valid: validate() parsed every Via
  const endpoint reply_to = response_target(*top, meta.src);
  if (msg.method() != sip::method::register_ || meta.from != side::access) {
    ++counters_.other_request_in;
    if (cfg_.mode == passthrough_mode::peer_to_peer && msg.method() != sip::method::register_) {
      const bool routed = meta.from == side::core ? s.on_core_request(msg, *top, meta.src, reply_to, now_ms, out)
                                                  : s.on_phone_request(msg, *top, meta.src, reply_to, out);
      if (routed) return;
    }
    if (msg.method() == sip::method::ack) return;  // never answered (RFC 3261 §17.2.1)
    static constexpr std::string_view allow[] = {"Allow: REGISTER, OPTIONS"};
    if (msg.method() == sip::method::options) {
      answer(msg, reply_to, {200, "OK", allow}, out, counters_);
    } else {
      // End-to-end mode relays registrations only (peer-to-peer routes the rest above).
      answer(msg, reply_to, {501, "Not Implemented", allow}, out, counters_);
    }
    return;
  }
  ++counters_.register_in;
  s.on_register(msg, *top, meta.src, reply_to, now_ms, out);
}

}  // namespace sipfront::reg
