// End-to-end registration pass-through with RFC 3261 §17 UDP transaction handling.
//
// One record per REGISTER transaction pairs the server side (toward the phone)
// with the client side (toward the registrar). It is found from a phone
// retransmission by a key over the phone's top Via (RFC 3261 §17.2.3, or the
// RFC 2543 fallback), and from a registrar response by the branch the front end
// generated ("z9hG4bKsf<worker>.<id>"), which also tells the dataplane which
// worker owns the response (steer()).
//
// Sizing: a record is ~200 bytes plus one 2 KiB message slot (the forwarded
// request while pending, the final response once completed). Messages above
// 2 KiB use one of the 8 KiB slots (1/32 as many). With the default 16384
// transactions per worker that is ~37 MiB per worker, allocated once.
#include "sipfront/regengine/engine.hpp"

#include <algorithm>
#include <array>
#include <boost/intrusive/unordered_set.hpp>
#include <chrono>
#include <cstring>
#include <vector>

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

enum timer_kind : std::uint8_t { timer_e = 1, timer_f = 2, timer_k = 3 };
enum class txn_state : std::uint8_t { free, pending, completed };

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

// Parses "<2 hex worker>.<hex id>" after the branch prefix.
bool decode_branch(std::string_view branch, unsigned& worker, std::uint64_t& id) noexcept {
  if (!branch.starts_with(k_branch_prefix)) return false;
  branch.remove_prefix(k_branch_prefix.size());
  if (branch.size() < 4 || branch.size() > 3 + 16 || branch[2] != '.') return false;
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
  impl(const engine_config& config, engine_counters& counters, std::uint64_t now)
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
        scratch(output_queue::max_message) {
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
  std::size_t pick_registrar(const sip::message& msg) const noexcept;

  const engine_config& cfg;
  engine_counters& c;
  std::vector<char> scratch;  // cold-path workspace (Timer F answers)

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
    return &t;
  }

  void release(txn& t) noexcept {
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
      if (literal && ip == r.addr.ip && (!ruri->has_port || ruri->port == r.addr.port)) return i;
    }
  }
  return cfg.default_registrar;
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
  txn* tp = alloc();
  if (tp == nullptr) [[unlikely]] {
    ++c.transactions_full;
    static constexpr std::string_view retry[] = {"Retry-After: 5"};
    answer(msg, reply_to, {503, "Service Unavailable - Overloaded", retry}, out, c);
    return;
  }
  txn& t = *tp;
  const registrar_target& reg = cfg.registrars[pick_registrar(msg)];
  t.client_id = next_id++;
  t.server_key = key;
  t.phone = reply_to;
  t.registrar = reg.addr;

  // Our Via: branch = magic cookie + "sf" + owner worker + "." + id (steer() reads it back).
  std::array<char, 128> our_via{};
  sip::writer vw(our_via);
  vw.put("SIP/2.0/UDP ");
  put_ipv4(vw, cfg.core_local.ip);
  vw.put(':').put_uint(cfg.core_local.port).put(";branch=").put(k_branch_prefix);
  vw.put(hex_digit(cfg.worker_id >> 4)).put(hex_digit(cfg.worker_id)).put('.');
  put_hex(vw, t.client_id);
  vw.put(";rport");
  std::array<char, 512> phone_via{};
  sip::writer pw(phone_via);
  std::array<char, 4> mf{};
  sip::writer mw(mf);
  const auto max_fwd = sip::parse_max_forwards(msg.value_of(sip::header_id::max_forwards));
  mw.put_uint(max_fwd ? *max_fwd - 1U : 70U);  // absent only for RFC 2543 peers: add one (§16.6 step 3)

  const std::span<char> buf = out.reserve();
  sip::message_edit edit;
  edit.push_via(vw.view()).replace(sip::header_id::max_forwards, mw.view());
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
  if (!top || !decode_branch(top->branch, worker, id) || worker != cfg.worker_id) {
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
  const std::span<char> buf = out.reserve();
  std::array<char, 18> tag{};
  const std::string_view reason =
      cfg.timeout_code == 503 ? "Service Unavailable - Registrar Timeout" : "Request Timeout";
  const auto r = buf.empty() ? sip::result<std::size_t>(sip::errc::too_large)
                             : sip::write_response(orig, cfg.timeout_code, reason, local_tag(orig, tag), {}, buf);
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
    case timer_k: release(t); return;
    default: return;
  }
}

// ---------------------------------------------------------------- engine

engine::engine(const engine_config& cfg) : cfg_(cfg), impl_(std::make_unique<impl>(cfg_, counters_, 0)) {}
engine::~engine() = default;

std::size_t engine::live_transactions() const noexcept { return impl_->txns.size() - impl_->free_txns.size(); }

std::uint64_t call_id_hash(std::string_view call_id) noexcept { return fnv1a(call_id); }

unsigned steer(const sip::message& msg, unsigned n_workers, unsigned self) noexcept {
  if (n_workers <= 1 || msg.parse_error() != sip::errc::ok) return self;
  if (msg.is_request()) {
    const std::string_view cid = msg.value_of(sip::header_id::call_id);
    if (cid.empty()) return self;
    return static_cast<unsigned>(call_id_hash(cid) % n_workers);
  }
  const auto v = sip::top_via(msg);
  unsigned worker = 0;
  std::uint64_t id = 0;
  if (!v || !decode_branch(v->branch, worker, id) || worker >= n_workers) return self;
  return worker;
}

std::size_t engine::on_tick(std::uint64_t now_ms, output_queue& out, std::size_t budget) noexcept {
  impl& s = *impl_;
  return s.wheel.advance(now_ms, budget, [&](timer_hook& h) { s.on_timer(h, now_ms, out); });
}

void engine::on_message(const sip::message& msg, const packet_meta& meta, std::uint64_t now_ms,
                        output_queue& out) noexcept {
  impl& s = *impl_;
  if (s.wheel.now() < now_ms) on_tick(now_ms, out);

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
    if (msg.method() == sip::method::ack) return;  // never answered (RFC 3261 §17.2.1)
    static constexpr std::string_view allow[] = {"Allow: REGISTER, OPTIONS"};
    if (msg.method() == sip::method::options) {
      answer(msg, reply_to, {200, "OK", allow}, out, counters_);
    } else {
      // Requests toward registered phones and calls come with the regengine issue.
      answer(msg, reply_to, {501, "Not Implemented", allow}, out, counters_);
    }
    return;
  }
  ++counters_.register_in;
  s.on_register(msg, *top, meta.src, reply_to, now_ms, out);
}

}  // namespace sipfront::reg
