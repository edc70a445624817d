// Binding store and local-registrar decisions (see bindings.hpp for the sizing).
#include "sipfront/regengine/bindings.hpp"

#include <sys/mman.h>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "sipfront/regengine/engine.hpp"
#include "sipfront/sipparse/builder.hpp"
#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/uri.hpp"
#include "sipfront/sipparse/values.hpp"

namespace sipfront::reg {

namespace {

constexpr std::string_view k_out_prefix = "sf";
constexpr std::size_t k_nonce_digits = 16;

// The index hash. steer() sends a REGISTER to worker call_id_hash(AOR key) % n_workers, so on
// one worker (power-of-two worker counts) the low bits of call_id_hash are constant,
// and power-of-two buckets would only ever use 1/n of themselves. The murmur3
// finaliser is a bijection that spreads every input bit over the low bits.
std::uint32_t key_hash(std::string_view s) noexcept {
  std::uint64_t h = call_id_hash(s);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return static_cast<std::uint32_t>(h);
}

constexpr char hex_digit(unsigned v) noexcept { return "0123456789abcdef"[v & 15U]; }

// Lower-case hex without leading zeros; returns the position after it.
char* put_hex(char* p, std::uint64_t v) noexcept {
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = hex_digit(static_cast<unsigned>(v));
    v >>= 4;
  } while (v != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

int lower_hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Reads canonical lower-case hex (no leading zeros, 1..max_digits digits) up to
// `stop` or the end; advances `s` past it.
bool take_hex(std::string_view& s, std::size_t max_digits, std::uint64_t& out) noexcept {
  std::size_t n = 0;
  out = 0;
  while (n < s.size() && s[n] != '-') {
    const int d = lower_hex_value(s[n]);
    if (d < 0 || n == max_digits) return false;
    out = (out << 4) | static_cast<unsigned>(d);
    ++n;
  }
  if (n == 0 || (n > 1 && s[0] == '0')) return false;
  s.remove_prefix(n);
  return true;
}

// splitmix64: a full-period 64-bit sequence, so nonces of one table never repeat
// within 2^64 inserts; good enough to make out-leg Call-IDs unguessable for a
// registrar-side forger who does not see the traffic.
std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Checked before anything is allocated, so a bad config gets this message rather than bad_alloc.
std::uint32_t checked_capacity(const binding_table_config& cfg) {
  if (cfg.capacity >= 0xfffffffeU) throw std::invalid_argument("binding_table: capacity must be below 2^32 - 2");
  if (cfg.worker_id > 255) throw std::invalid_argument("binding_table: worker_id must be 0..255");
  return cfg.capacity;
}

std::size_t bucket_count_for(std::size_t n) noexcept {
  std::size_t b = 64;
  while (b < n) b <<= 1;
  return b;
}

}  // namespace

// ---------------------------------------------------------------- memory

void* detail::alloc_table_memory(std::size_t bytes) {
  constexpr std::size_t huge = std::size_t{2} << 20;
  // Small tables (tests, benchmarks' fixtures) would waste most of a huge page.
  if (bytes < huge) {
    void* p = std::malloc(bytes == 0 ? 1 : bytes);  // freed by free_table_memory
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  const std::size_t rounded = (bytes + huge - 1) & ~(huge - 1);
  void* p = std::aligned_alloc(huge, rounded);
  if (p == nullptr) throw std::bad_alloc();
  // Advice only: without THP the table works the same, just with more TLB misses.
  (void)madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

void detail::free_table_memory(void* p) noexcept { std::free(p); }

// ---------------------------------------------------------------- names

std::string_view to_string(binding_state s) noexcept {
  switch (s) {
    case binding_state::new_: return "new";
    case binding_state::pending_upstream: return "pending_upstream";
    case binding_state::registered: return "registered";
    case binding_state::refreshing: return "refreshing";
    case binding_state::unregistering: return "unregistering";
    case binding_state::failed: return "failed";
    case binding_state::deregister_waiting: return "deregister_waiting";
    case binding_state::fallback: return "fallback";
  }
  return "unknown";
}

std::string_view to_string(binding_errc e) noexcept {
  switch (e) {
    case binding_errc::ok: return "ok";
    case binding_errc::table_full: return "table_full";
    case binding_errc::strings_too_long: return "strings_too_long";
    case binding_errc::too_many_contacts: return "too_many_contacts";
    case binding_errc::duplicate_aor: return "duplicate_aor";
    case binding_errc::empty_key: return "empty_key";
  }
  return "unknown";
}

std::string_view to_string(register_action a) noexcept {
  switch (a) {
    case register_action::forward_upstream: return "forward_upstream";
    case register_action::absorb: return "absorb";
    case register_action::reject_423: return "reject_423";
    case register_action::reject_400: return "reject_400";
    case register_action::query: return "query";
  }
  return "unknown";
}

std::string_view to_string(register_rule r) noexcept {
  switch (r) {
    case register_rule::not_register: return "not_register";
    case register_rule::bad_call_id: return "bad_call_id";
    case register_rule::bad_cseq: return "bad_cseq";
    case register_rule::bad_to: return "bad_to";
    case register_rule::bad_contact: return "bad_contact";
    case register_rule::star_with_other_contacts: return "star_with_other_contacts";
    case register_rule::star_without_expires_zero: return "star_without_expires_zero";
    case register_rule::interval_too_brief: return "interval_too_brief";
    case register_rule::query_binding: return "query_binding";
    case register_rule::query_unknown: return "query_unknown";
    case register_rule::unregister_all: return "unregister_all";
    case register_rule::unregister: return "unregister";
    case register_rule::too_many_contacts: return "too_many_contacts";
    case register_rule::new_binding: return "new_binding";
    case register_rule::not_registered: return "not_registered";
    case register_rule::missed_refreshes: return "missed_refreshes";
    case register_rule::new_call_id: return "new_call_id";
    case register_rule::cseq_not_increasing: return "cseq_not_increasing";
    case register_rule::source_changed: return "source_changed";
    case register_rule::contacts_changed: return "contacts_changed";
    case register_rule::out_leg_expiring: return "out_leg_expiring";
    case register_rule::refresh_absorbed: return "refresh_absorbed";
    case register_rule::registration_spike: return "registration_spike";
    case register_rule::no_registrar: return "no_registrar";
    case register_rule::local_fallback: return "local_fallback";
  }
  return "unknown";
}

// ---------------------------------------------------------------- binding

std::uint64_t binding::in_expires_at() const noexcept {
  std::uint64_t t = 0;
  for (std::size_t i = 0; i < n_contacts_; ++i) t = std::max(t, contacts_[i].expires_at_ms);
  return t;
}

bool binding::has_contact(std::string_view uri) const noexcept {
  for (std::size_t i = 0; i < n_contacts_; ++i) {
    if (contact_uri(i) == uri) return true;
  }
  return false;
}

binding_errc binding::set_contacts(std::span<const contact_spec> contacts) noexcept {
  return pack(call_id(), aor(), contacts);
}

binding_errc binding::pack(std::string_view call_id, std::string_view aor,
                           std::span<const contact_spec> contacts) noexcept {
  if (contacts.size() > max_contacts) return binding_errc::too_many_contacts;
  std::size_t total = call_id.size() + aor.size();
  for (const contact_spec& c : contacts) total += c.uri.size();
  if (total > arena_bytes) return binding_errc::strings_too_long;

  // Build aside, then copy: the inputs may be views of this arena.
  std::array<char, arena_bytes> tmp;  // only the first `at` bytes are written and copied
  std::array<contact_slot, max_contacts> slots{};
  std::size_t at = 0;
  auto put = [&](std::string_view s) {
    const str_ref r{static_cast<std::uint16_t>(at), static_cast<std::uint16_t>(s.size())};
    if (!s.empty()) std::memcpy(tmp.data() + at, s.data(), s.size());
    at += s.size();
    return r;
  };
  const str_ref cid = put(call_id);
  const str_ref a = put(aor);
  for (std::size_t i = 0; i < contacts.size(); ++i) slots[i] = {put(contacts[i].uri), contacts[i].expires_at_ms};
  std::memcpy(arena_.data(), tmp.data(), at);
  call_id_ = cid;
  aor_ = a;
  contacts_ = slots;
  n_contacts_ = static_cast<std::uint8_t>(contacts.size());
  return binding_errc::ok;
}

void binding::reset() noexcept {
  source = {};
  in_cseq = 0;
  out_cseq = 0;
  in_expires = 0;
  out_expires = 0;
  out_expires_at_ms = 0;
  registrar_index = 0;
  secondary_index = no_secondary;
  dereg_legs = 0;
  needs_sync = false;
  auth = auth_state::none;
  state = binding_state::new_;
  missed_refreshes = 0;
  timer.kind = 0;
  call_id_ = {};
  aor_ = {};
  n_contacts_ = 0;
  contacts_ = {};
  call_id_hash_ = 0;
  aor_hash_ = 0;
  out_nonce_ = 0;
}

// ---------------------------------------------------------------- AOR key

std::string_view canonical_aor(std::string_view text, std::span<char> buf) noexcept {
  const auto u = sip::parse_uri(text);
  if (!u) return {};
  sip::writer w(buf);
  auto put_lower = [&w](std::string_view s) {
    for (const char ch : s) w.put(sip::chars::lower(ch));
  };
  put_lower(u->scheme_token);
  w.put(':');
  if (u->is_sip()) {
    if (u->has_user) w.put(u->user).put('@');
    put_lower(u->host);
    if (u->has_port) w.put(':').put_uint(u->port);
  } else if (u->scheme == sip::uri_scheme::tel) {
    w.put(u->opaque);
  } else {
    w.put(text.substr(u->scheme_token.size() + 1));
  }
  return w.overflowed() ? std::string_view{} : w.view();
}

bool is_canonical_aor(std::string_view s) noexcept {
  std::size_t i = 0;
  if (s.starts_with("sip:")) {
    i = 4;
  } else if (s.starts_with("sips:")) {
    i = 5;
  } else {
    return false;
  }
  // user "@": letters, digits and - _ . + % only (no password, nothing parse_uri
  // could split differently); host: lower-case letters, digits, '.', '-'; then an
  // optional port without leading zeros. Anything else takes the canonical_aor() path.
  const std::size_t at = s.find('@', i);
  if (at != std::string_view::npos) {
    if (at == i) return false;
    for (std::size_t k = i; k < at; ++k) {
      const char c = s[k];
      if (!sip::chars::is_alpha(c) && !sip::chars::is_digit(c) && c != '-' && c != '_' && c != '.' && c != '+' &&
          c != '%')
        return false;
    }
    i = at + 1;
  }
  const std::size_t host = i;
  while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || sip::chars::is_digit(s[i]) || s[i] == '.' || s[i] == '-'))
    ++i;
  if (i == host) return false;
  if (i == s.size()) return true;
  if (s[i] != ':' || i + 1 == s.size() || s[i + 1] == '0' || s.size() - i - 1 > 5) return false;
  for (++i; i < s.size(); ++i) {
    if (!sip::chars::is_digit(s[i])) return false;
  }
  return true;
}

std::string_view aor_key(std::string_view aor, aor_buffer& buf) noexcept {
  if (is_canonical_aor(aor)) return aor;  // what phones write: no copy, no URI parse
  const std::string_view k = canonical_aor(aor, buf);
  return k.empty() ? aor : k;
}

// ---------------------------------------------------------------- out-leg Call-IDs

bool decode_out_call_id(std::string_view s, out_call_id_fields& out) noexcept {
  if (!s.starts_with(k_out_prefix)) return false;
  s.remove_prefix(k_out_prefix.size());
  if (s.size() < 3) return false;
  const int hi = lower_hex_value(s[0]);
  const int lo = lower_hex_value(s[1]);
  if (hi < 0 || lo < 0 || s[2] != '-') return false;
  s.remove_prefix(3);
  std::uint64_t index = 0;
  std::uint64_t gen = 0;
  if (!take_hex(s, 8, index) || !s.starts_with('-')) return false;
  s.remove_prefix(1);
  if (!take_hex(s, 8, gen) || !s.starts_with('-')) return false;
  s.remove_prefix(1);
  // The nonce is fixed-width (leading zeros kept) so every nonce has one spelling.
  if (s.size() != k_nonce_digits) return false;
  std::uint64_t nonce = 0;
  for (char c : s) {
    const int d = lower_hex_value(c);
    if (d < 0) return false;
    nonce = (nonce << 4) | static_cast<unsigned>(d);
  }
  out.worker = static_cast<unsigned>(hi * 16 + lo);
  out.handle = {static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(gen)};
  out.nonce = nonce;
  return true;
}

// ---------------------------------------------------------------- binding_table

binding_table::binding_table(const binding_table_config& cfg)
    : pool_(checked_capacity(cfg)),
      call_id_buckets_(bucket_count_for(cfg.capacity)),
      aor_buckets_(bucket_count_for(cfg.capacity)),
      by_call_id_(call_id_set::bucket_traits(call_id_buckets_.data(), call_id_buckets_.size())),
      by_aor_(aor_set::bucket_traits(aor_buckets_.data(), aor_buckets_.size())),
      worker_id_(cfg.worker_id),
      rng_(cfg.seed) {
  static_assert(sizeof(call_id_set::bucket_type) == sizeof(void*) && sizeof(aor_set::bucket_type) == sizeof(void*),
                "the sizing in bindings.hpp assumes one pointer per bucket");
  static_assert(in_use == 0xfffffffeU, "checked_capacity() keeps capacity below in_use");
  if (rng_ == 0) rng_ = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  // Free list in index order, so a fresh table fills its pool front to back.
  for (std::uint32_t i = 0; i < cfg.capacity; ++i)
    pool_[i].next_free_ = i + 1 < cfg.capacity ? i + 1 : binding_handle::npos;
  free_head_ = cfg.capacity > 0 ? 0 : binding_handle::npos;
}

std::uint64_t binding_table::next_nonce() noexcept { return splitmix64(rng_); }

insert_result binding_table::insert(std::string_view aor_as_written, std::string_view call_id,
                                    const endpoint& src) noexcept {
  aor_buffer key_buf;  // only the key's bytes are written and read
  const std::string_view aor = aor_key(aor_as_written, key_buf);
  if (aor.empty() || call_id.empty()) return {nullptr, binding_errc::empty_key};
  if (aor.size() + call_id.size() > binding::arena_bytes) [[unlikely]] {
    return {nullptr, binding_errc::strings_too_long};
  }
  // Only the AOR is unique: the Call-ID may be shared with other AORs' bindings
  // (RFC 3261 §10.2), and (Call-ID, AOR) is unique because the AOR is.
  const hashed_key ak{key_hash(aor), aor};
  aor_set::insert_commit_data ad;
  if (!by_aor_.insert_check(ak, ad).second) return {nullptr, binding_errc::duplicate_aor};
  if (free_head_ == binding_handle::npos) [[unlikely]] {
    return {nullptr, binding_errc::table_full};
  }
  binding& b = pool_[free_head_];
  free_head_ = b.next_free_;
  b.next_free_ = in_use;
  (void)b.pack(call_id, aor, {});  // cannot fail: the sizes were checked above
  b.call_id_hash_ = key_hash(call_id);
  b.aor_hash_ = ak.hash;
  b.source = src;
  b.out_nonce_ = next_nonce();
  by_call_id_.insert(b);
  by_aor_.insert_commit(b, ad);
  return {&b, binding_errc::ok};
}

void binding_table::erase(binding& b) noexcept {
  if (b.next_free_ != in_use) return;  // already free: erasing twice must not corrupt the free list
  timer_wheel::cancel(b.timer);
  by_call_id_.erase(by_call_id_.iterator_to(b));
  by_aor_.erase(by_aor_.iterator_to(b));
  b.reset();
  // Generation 0 is never handed out, so a zeroed handle never resolves.
  if (++b.generation_ == 0) b.generation_ = 1;
  b.next_free_ = free_head_;
  free_head_ = static_cast<std::uint32_t>(&b - pool_.data());
}

binding_errc binding_table::rekey_call_id(binding& b, std::string_view call_id) noexcept {
  if (call_id.empty()) return binding_errc::empty_key;
  if (call_id == b.call_id()) return binding_errc::ok;
  // No uniqueness check: other AORs' bindings may hold this Call-ID, and this AOR
  // has no other binding.
  const std::uint32_t hash = key_hash(call_id);
  std::array<contact_spec, max_contacts> keep{};
  for (std::size_t i = 0; i < b.n_contacts_; ++i) keep[i] = {b.contact_uri(i), b.contact_expires_at(i)};
  // Unlink under the old key (the stored hash finds its bucket), repack, relink.
  by_call_id_.erase(by_call_id_.iterator_to(b));
  const binding_errc e = b.pack(call_id, b.aor(), {keep.data(), b.n_contacts_});
  if (e == binding_errc::ok) b.call_id_hash_ = hash;
  by_call_id_.insert(b);
  return e;
}

binding* binding_table::find_by_call_id(std::string_view call_id, std::string_view aor_as_written) noexcept {
  aor_buffer key_buf;  // only the key's bytes are written and read
  const std::string_view aor = aor_key(aor_as_written, key_buf);
  const std::uint32_t aor_hash = key_hash(aor);
  const auto [first, last] = by_call_id_.equal_range(hashed_key{key_hash(call_id), call_id});
  for (auto it = first; it != last; ++it) {
    if (it->aor_hash_ == aor_hash && it->aor() == aor) return &*it;
  }
  return nullptr;
}

binding* binding_table::find_by_aor(std::string_view aor_as_written) noexcept {
  aor_buffer key_buf;  // only the key's bytes are written and read
  const std::string_view aor = aor_key(aor_as_written, key_buf);
  const auto it = by_aor_.find(hashed_key{key_hash(aor), aor});
  return it == by_aor_.end() ? nullptr : &*it;
}

binding* binding_table::find_by_out_call_id(std::string_view call_id) noexcept {
  out_call_id_fields f;
  if (!decode_out_call_id(call_id, f) || f.worker != worker_id_) return nullptr;
  binding* b = get(f.handle);
  // decode_out_call_id accepts only the canonical spelling, so equal fields mean
  // the string is byte-for-byte the one out_call_id() renders for this record.
  if (b == nullptr || b->out_nonce_ != f.nonce) return nullptr;
  return b;
}

binding* binding_table::live_at(std::uint32_t index) noexcept {
  if (index >= pool_.size()) return nullptr;
  binding& b = pool_[index];
  return b.next_free_ == in_use ? &b : nullptr;
}

binding* binding_table::get(binding_handle h) noexcept {
  if (h.index >= pool_.size()) return nullptr;
  binding& b = pool_[h.index];
  if (b.next_free_ != in_use || b.generation_ != h.generation) return nullptr;
  return &b;
}

binding_handle binding_table::handle_of(const binding& b) const noexcept {
  return {static_cast<std::uint32_t>(&b - pool_.data()), b.generation_};
}

binding& binding_table::owner_of(timer_hook& h) noexcept {
  const auto off =
      static_cast<std::size_t>(reinterpret_cast<char*>(&h) - reinterpret_cast<char*>(&pool_.front().timer));
  return pool_[off / sizeof(binding)];
}

std::string_view binding_table::out_call_id(const binding& b, out_call_id_buffer& buf) const noexcept {
  const binding_handle h = handle_of(b);
  char* p = buf.data();
  *p++ = 's';
  *p++ = 'f';
  *p++ = hex_digit(worker_id_ >> 4);
  *p++ = hex_digit(worker_id_);
  *p++ = '-';
  p = put_hex(p, h.index);
  *p++ = '-';
  p = put_hex(p, h.generation);
  *p++ = '-';
  for (std::size_t i = k_nonce_digits; i-- > 0;) *p++ = hex_digit(static_cast<unsigned>(b.out_nonce_ >> (4 * i)));
  return {buf.data(), static_cast<std::size_t>(p - buf.data())};
}

std::string_view binding_table::out_from_tag(const binding& b, out_tag_buffer& buf) noexcept {
  // A different function of the nonce than the Call-ID's, so the tag does not repeat it.
  std::uint64_t x = b.out_nonce_ ^ 0x5bd1e9955bd1e995ULL;
  const std::uint64_t t = splitmix64(x);
  buf[0] = 's';
  buf[1] = 'f';
  for (std::size_t i = 0; i < 16; ++i) buf[2 + i] = hex_digit(static_cast<unsigned>(t >> (4 * (15 - i))));
  return {buf.data(), buf.size()};
}

std::size_t binding_table::memory_bytes() const noexcept {
  return pool_.size() * sizeof(binding) + call_id_buckets_.size() * sizeof(call_id_set::bucket_type) +
         aor_buckets_.size() * sizeof(aor_set::bucket_type);
}

// ---------------------------------------------------------------- local registrar

namespace {

register_decision make(register_decision d, register_action a, register_rule r) noexcept {
  d.action = a;
  d.rule = r;
  return d;
}

// RFC 3261 §20.19: an expiry above 2^32-1 counts as 2^32-1, a malformed one as the
// default (3600 there; the policy's default here).
std::uint32_t expiry_or_default(const sip::result<std::uint32_t>& v, std::uint32_t dflt) noexcept {
  if (v) return *v;
  if (v.error() == sip::errc::integer_overflow) return 0xffffffffU;
  return dflt;
}

bool registered(const binding& b) noexcept {
  return b.state == binding_state::registered || b.state == binding_state::refreshing;
}

// The request's Contact set (its non-zero entries) equals the binding's, ignoring order.
bool same_contacts(const register_decision& d, const binding& b) noexcept {
  if (d.contacts.size() != b.n_contacts()) return false;
  for (const contact_request& c : d.contacts) {
    if (c.expires == 0 || !b.has_contact(c.uri)) return false;
  }
  for (std::size_t i = 0; i < b.n_contacts(); ++i) {
    const std::string_view u = b.contact_uri(i);
    if (std::none_of(d.contacts.begin(), d.contacts.end(), [&](const contact_request& c) { return c.uri == u; })) {
      return false;
    }
  }
  return true;
}

}  // namespace

register_decision decide_register(const sip::message& msg, const endpoint& src, const binding* existing,
                                  std::uint64_t now_ms, const registrar_policy& policy) noexcept {
  using enum register_action;
  using enum register_rule;
  register_decision d;
  if (!msg.is_request() || msg.method() != sip::method::register_) return make(d, reject_400, not_register);

  const auto cid = sip::parse_call_id(msg.value_of(sip::header_id::call_id));
  if (!cid || cid->empty()) return make(d, reject_400, bad_call_id);
  d.call_id = *cid;
  const auto cs = sip::parse_cseq(msg.value_of(sip::header_id::cseq));
  if (!cs || cs->method != sip::method::register_) return make(d, reject_400, bad_cseq);
  d.cseq = cs->number;
  const auto to = sip::parse_name_addr(msg.value_of(sip::header_id::to));
  if (!to || to->uri.empty()) return make(d, reject_400, bad_to);
  d.aor = to->uri;
  // The binding stores its AOR as the table keys it (canonical_aor): compare the same form.
  aor_buffer aor_buf;  // only the key's bytes are written and read
  const std::string_view key = aor_key(d.aor, aor_buf);
  // Another AOR's binding (it shares this Call-ID: a multi-line phone) is not this
  // request's: the REGISTER is for its own AOR, new or known.
  if (existing != nullptr && existing->aor() != key) existing = nullptr;

  // Every entry is checked, the first max_contacts kept.
  sip::fixed_vector<sip::name_addr, max_contacts> entries;
  std::size_t n_entries = 0;
  bool star = false;
  sip::list_iterator it(msg, sip::header_id::contact);
  std::string_view entry;
  while (it.next(entry)) {
    const auto na = sip::parse_name_addr(entry, true);
    if (!na) return make(d, reject_400, bad_contact);
    star = star || na->star;
    ++n_entries;
    (void)entries.push_back(*na);
  }
  if (it.failed()) return make(d, reject_400, bad_contact);

  const sip::header_entry* exp_hdr = msg.find(sip::header_id::expires);
  const std::uint32_t header_expires =
      exp_hdr != nullptr ? expiry_or_default(sip::parse_delta_seconds(msg.value(*exp_hdr)), policy.in_expires_default)
                         : policy.in_expires_default;

  if (star) {
    // RFC 3261 §10.3 step 6.
    if (n_entries != 1) return make(d, reject_400, star_with_other_contacts);
    if (exp_hdr == nullptr || !sip::parse_delta_seconds(msg.value(*exp_hdr)) || header_expires != 0) {
      return make(d, reject_400, star_without_expires_zero);
    }
    return make(d, forward_upstream, unregister_all);
  }
  if (n_entries == 0) {
    if (existing != nullptr && registered(*existing)) {
      return make(d, query, query_binding);
    }
    return make(d, forward_upstream, query_unknown);
  }
  if (n_entries > max_contacts) return make(d, forward_upstream, too_many_contacts);

  // RFC 3261 §10.3 step 7: per-Contact expiry, param over header over default;
  // 0 removes and is exempt from the minimum.
  std::size_t zeros = 0;
  for (const sip::name_addr& na : entries) {
    const auto p = na.expires();
    std::uint32_t e = p.error() == sip::errc::not_present ? header_expires : expiry_or_default(p, header_expires);
    if (e != 0 && e < policy.in_expires_min) {
      d.min_expires = policy.in_expires_min;
      d.contacts.clear();
      return make(d, reject_423, interval_too_brief);
    }
    if (e > policy.in_expires_max) {
      e = policy.in_expires_max;
      d.clamped = true;
    }
    zeros += e == 0 ? 1 : 0;
    d.in_expires = std::max(d.in_expires, e);
    (void)d.contacts.push_back({na.uri, e});
  }
  if (zeros == d.contacts.size()) return make(d, forward_upstream, unregister);

  if (existing == nullptr) return make(d, forward_upstream, new_binding);
  if (existing->call_id() != d.call_id) return make(d, forward_upstream, new_call_id);
  if (!registered(*existing)) return make(d, forward_upstream, not_registered);
  if (policy.fail_count != 0 && existing->missed_refreshes >= policy.fail_count) {
    return make(d, forward_upstream, missed_refreshes);
  }
  if (d.cseq <= existing->in_cseq) return make(d, forward_upstream, cseq_not_increasing);
  if (!(src == existing->source)) return make(d, forward_upstream, source_changed);
  if (!same_contacts(d, *existing)) return make(d, forward_upstream, contacts_changed);
  if (now_ms + std::uint64_t{d.in_expires} * 1000 > existing->out_expires_at_ms) {
    return make(d, forward_upstream, out_leg_expiring);
  }
  return make(d, absorb, refresh_absorbed);
}

bool note_missed_refresh(binding& b, const registrar_policy& policy) noexcept {
  if (b.missed_refreshes != 0xff) ++b.missed_refreshes;
  return policy.fail_count != 0 && b.missed_refreshes >= policy.fail_count;
}

}  // namespace sipfront::reg
