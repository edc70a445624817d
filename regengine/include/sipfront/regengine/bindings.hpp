// Per-core binding store and local-registrar decisions.
//
// A binding is what the front end knows about one registered phone: its AOR, the
// Contacts it registered (each with its own expiry), where it sends from (NAT),
// the in-leg dialog (phone side) and the out-leg dialog (registrar side), and the
// state of the out-leg registration. The binding_table holds them in a pool
// allocated once, indexed by AOR (one binding per AOR) and by the phone's in-leg
// Call-ID, whose key is the pair (Call-ID, AOR): RFC 3261 §10.2 has a UA use one
// Call-ID for all its registrations with a registrar, so a multi-line phone or a
// PBX registers several AORs with one Call-ID, each its own binding. The out-leg
// Call-ID the table generates carries the record's handle, so a registrar's
// response or request finds its binding without a hash lookup.
//
// decide_register() is the local registrar: given a phone's REGISTER and the
// binding it belongs to (if any), it says whether to forward upstream, answer
// locally (rate limiting: a refresh inside the out-leg lifetime), reject (423,
// 400) or answer a query. It is a pure function, so every rule is unit-tested
// without a table, a clock or a network.
//
// Single-threaded (one table per worker lcore); nothing here allocates or throws
// after the table's constructor.
#pragma once

#include <array>
#include <boost/intrusive/unordered_set.hpp>  // unordered_set and unordered_multiset
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sipfront/regengine/timer_wheel.hpp"
#include "sipfront/regengine/types.hpp"
#include "sipfront/sipparse/fixed_vector.hpp"
#include "sipfront/sipparse/message.hpp"

namespace sipfront::reg {

/// Contacts one binding keeps. RFC 3261 allows any number; phones register one
/// (two while moving between networks), so four covers real UAs and bounds the record.
inline constexpr std::size_t max_contacts = 4;

/// Where a binding is in its life (the out-leg registration's state, seen from the phone).
enum class binding_state : std::uint8_t {
  new_,              ///< created, nothing sent upstream yet
  pending_upstream,  ///< the first REGISTER is with the registrar
  registered,        ///< the registrar accepted it; refreshes inside the out-leg lifetime are absorbed
  refreshing,        ///< registered, and an out-leg refresh is with the registrar
  unregistering,     ///< an un-REGISTER is with the registrar
  failed,            ///< the registrar refused or never answered
  /// A fail-count deregistration had no overload slot or transaction: retried on
  /// later ticks, at most until the out-leg registration lapses (then erased).
  deregister_waiting,
  fallback,  ///< local only: no registrar was reachable, the local registrar holds it (local fallback)
};
std::string_view to_string(binding_state s) noexcept;

/// Digest authentication toward the registrar (peer-to-peer mode) or of the phone.
enum class auth_state : std::uint8_t { none, challenged, authorized };

/// Why a binding operation failed. All are values: nothing throws, nothing is truncated.
enum class binding_errc : std::uint8_t {
  ok = 0,
  table_full,         ///< every record of the pool is in use
  strings_too_long,   ///< AOR + Call-ID + Contacts exceed binding::arena_bytes
  too_many_contacts,  ///< more than max_contacts
  duplicate_aor,      ///< another binding already has this AOR (and so any (Call-ID, AOR) pair of it)
  empty_key,          ///< empty AOR or Call-ID
};
std::string_view to_string(binding_errc e) noexcept;

/// A record's name: pool index plus the generation it had when the handle was taken.
/// A handle to an erased (or erased and reused) record no longer resolves.
struct binding_handle {
  static constexpr std::uint32_t npos = 0xffffffffU;
  std::uint32_t index = npos;
  std::uint32_t generation = 0;
  friend bool operator==(const binding_handle&, const binding_handle&) = default;
};

/// One Contact to store: the URI as the phone wrote it and its absolute expiry.
struct contact_spec {
  std::string_view uri;
  std::uint64_t expires_at_ms = 0;
};

/// One registered phone. Scalars are public plain data the engine updates; the
/// strings live in an inline arena (no allocation per message, no pointers into
/// packets) and change only through set_contacts() or the table.
class binding {
  // Index links first: a lookup walking a bucket chain touches this cache line and
  // the key's bytes at the start of the arena. by_call_id_ links the record into a
  // multiset of Call-IDs (several AORs may share one); by_aor_ into a set of AORs.
  boost::intrusive::unordered_set_member_hook<> by_call_id_;
  boost::intrusive::unordered_set_member_hook<> by_aor_;
  std::uint32_t call_id_hash_ = 0;  // stored so chain walks compare hashes before bytes, and erase never rehashes
  std::uint32_t aor_hash_ = 0;
  std::uint32_t generation_ = 1;
  std::uint32_t next_free_ = 0;  // pool free list while free; binding_table::in_use while live
  std::uint64_t out_nonce_ = 0;

 public:
  /// Bytes for AOR + in-leg Call-ID + Contact URIs together (see the sizing below).
  static constexpr std::size_t arena_bytes = 296;

  binding() noexcept = default;
  binding(const binding&) = delete;
  binding& operator=(const binding&) = delete;
  binding(binding&&) = delete;  // the pool never moves: the indexes and the wheel link records in place
  binding& operator=(binding&&) = delete;

  /// The AOR in its canonical form (canonical_aor() of the To URI the binding was made with).
  [[nodiscard]] std::string_view aor() const noexcept { return view(aor_); }
  [[nodiscard]] std::string_view call_id() const noexcept { return view(call_id_); }
  [[nodiscard]] std::size_t n_contacts() const noexcept { return n_contacts_; }
  [[nodiscard]] std::string_view contact_uri(std::size_t i) const noexcept { return view(contacts_[i].uri); }
  [[nodiscard]] std::uint64_t contact_expires_at(std::size_t i) const noexcept { return contacts_[i].expires_at_ms; }
  /// Latest contact expiry (0 without contacts): when the in-leg registration lapses.
  [[nodiscard]] std::uint64_t in_expires_at() const noexcept;
  /// True if `uri` is one of the stored Contact URIs (exact bytes).
  [[nodiscard]] bool has_contact(std::string_view uri) const noexcept;
  /// Random part of the out-leg Call-ID and From-tag; fixed for the record's life.
  [[nodiscard]] std::uint64_t out_nonce() const noexcept { return out_nonce_; }

  /// Replaces the Contacts. On failure (too_many_contacts, strings_too_long) the
  /// binding is unchanged. `contacts` may point into this binding's own arena.
  binding_errc set_contacts(std::span<const contact_spec> contacts) noexcept;

  timer_hook timer;   ///< in-leg expiry / out-leg refresh; the kind says which (owner_of() finds the record)
  endpoint source{};  ///< where the phone sends from: responses and absorption check go there (NAT)
  /// Last CSeq of this AOR's REGISTERs on the in-leg Call-ID. A multi-line phone's lines
  /// share the Call-ID's one sequence (RFC 3261 §10.2), so a line's CSeqs have gaps.
  std::uint32_t in_cseq = 0;
  std::uint32_t out_cseq = 0;    ///< last CSeq the front end sent upstream
  std::uint32_t in_expires = 0;  ///< seconds granted to the phone in the last 2xx
  /// Seconds the registrar granted on the out-leg. In state fallback: the hold's end
  /// (see fallback_until_ms), in whole seconds of the engine clock.
  std::uint32_t out_expires = 0;
  std::uint64_t out_expires_at_ms = 0;  ///< when the out-leg registration lapses (absorb only before); 0 in fallback
  std::uint8_t registrar_index = 0;     ///< registrar in use (index into the engine's registrar table)
  auth_state auth = auth_state::none;
  binding_state state = binding_state::new_;
  std::uint8_t missed_refreshes = 0;  ///< in-leg expiries without a refresh since the last one
  /// Primary/secondary mode: the other registrar (slot, as registrar_index) that also
  /// accepted the binding (a later 2xx of the fork), or no_secondary.
  std::uint8_t secondary_index = no_secondary;
  static constexpr std::uint8_t no_secondary = 0xff;
  /// While unregistering: deregistrations still out (primary and secondary, 0..2); the
  /// binding is freed when the last one is answered or times out.
  std::uint8_t dereg_legs : 2 = 0;
  /// Local fallback: the binding is not (or no longer) held by any registrar and
  /// reg-sync should register it upstream once one is usable. Shares dereg_legs' byte.
  bool needs_sync : 1 = false;

  /// State fallback: when the local-only binding is dropped (it lost its registrar + holdSeconds).
  [[nodiscard]] std::uint64_t fallback_until_ms() const noexcept { return std::uint64_t{out_expires} * 1000; }

 private:
  friend class binding_table;
  friend struct binding_call_id_of;
  friend struct binding_aor_of;

  struct str_ref {
    std::uint16_t off = 0;
    std::uint16_t len = 0;
  };
  struct contact_slot {
    str_ref uri;
    std::uint64_t expires_at_ms = 0;
  };

  [[nodiscard]] std::string_view view(str_ref r) const noexcept { return {arena_.data() + r.off, r.len}; }
  // Rewrites the whole arena (inputs may alias it); all or nothing.
  binding_errc pack(std::string_view call_id, std::string_view aor, std::span<const contact_spec> contacts) noexcept;
  void reset() noexcept;

  str_ref call_id_;
  str_ref aor_;
  std::uint8_t n_contacts_ = 0;
  std::array<contact_slot, max_contacts> contacts_{};
  std::array<char, arena_bytes> arena_{};  // call_id, aor, contacts, packed in that order
};

// Sizing (x86-64, Boost 1.74): the budget is 512 B per binding including the index.
//   keys:  the AOR set is unique (one binding per canonical AOR); the Call-ID index
//          is an unordered_multiset hashed by Call-ID alone, so the bindings of a
//          multi-line phone's one Call-ID sit in one chain and the key (Call-ID,
//          AOR) is unique because the AOR is. Same hook, same 8 B bucket as a set:
//          the multi-key costs no memory (optimize_multikey would add a pointer
//          per record and is not used).
//   index: two hash sets, bucket count = next power of two >= capacity, so
//          1..2 buckets of 8 B per record per set: at most 32 B per binding
//          (10M bindings: 2^24 buckets -> 2 x 13.4 B = 26.8 B);
//          no out-leg index (the handle is in the out-leg Call-ID); the free list
//          threads through the records, so no side array.
//   record: links 2 x 8 + hashes 2 x 4 + generation/free 8 + nonce 8 = 40 B;
//          timer_hook 32; source 8; CSeqs and expiries 4 x 4 + 8 = 24; small
//          scalars 6 (dereg_legs and needs_sync share a padding byte); string
//          refs 2 x 4 + count 1; 4 contact slots x 16 = 64; padding -> 184 B of
//          fields, + 296 B of arena = 480 B.
//   arena: AOR ~40 + Call-ID ~40 + Contact ~90 = ~170 B typical; two typical
//          Contacts (260 B) fit, three do not (binding_errc::strings_too_long).
//          The out-leg Call-ID and From-tag are derived from (worker, handle, nonce)
//          instead of being stored: 8 B instead of ~55 B, the difference between
//          one and two phones' Contacts.
//   480 + 32 = 512 B worst case; 10M bindings = 4.8 GB of records + 268 MB of buckets.
static_assert(sizeof(binding) == 480, "binding record size is part of the memory budget: see the sizing comment");
inline constexpr std::size_t binding_index_bytes_max = std::size_t{2} * 2 * sizeof(void*);  // 2 sets x 2 buckets
static_assert(sizeof(binding) + binding_index_bytes_max <= 512, "binding budget: 512 B including index overhead");

namespace detail {
/// Table memory: 2 MiB-aligned and advised for transparent huge pages. A table of
/// millions of bindings is read at random; with 4 KiB pages nearly every lookup also
/// misses the TLB, and under a hypervisor the nested page walk costs as much as the
/// data access itself. Throws std::bad_alloc (construction only).
void* alloc_table_memory(std::size_t bytes);
void free_table_memory(void* p) noexcept;

template <class T>
struct table_allocator {
  using value_type = T;
  table_allocator() noexcept = default;
  template <class U>
  explicit table_allocator(const table_allocator<U>& /*unused*/) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(alloc_table_memory(n * sizeof(T))); }
  void deallocate(T* p, std::size_t /*n*/) noexcept { free_table_memory(p); }
  friend bool operator==(const table_allocator&, const table_allocator&) noexcept { return true; }
};
}  // namespace detail

/// The address-of-record key: what the binding table indexes AORs by and what
/// steer() hashes to place every REGISTER of an AOR on one worker. From a To (or
/// From) URI, after RFC 3261 §10.3 step 5 (the registrar's canonical AOR): scheme
/// and host lower-cased, URI parameters, headers and password dropped, the port kept
/// when written (as a number), the user part as written (case-sensitive; escapes are
/// not decoded because the key is also the out-leg's From and To, which must stay a
/// valid URI). tel: URIs keep their number; other schemes are kept as written.
/// Written into `buf`; empty when `uri` does not parse or the key does not fit. The
/// key is never longer than `uri`.
std::string_view canonical_aor(std::string_view uri, std::span<char> buf) noexcept;
/// True when `uri` is certainly its own canonical_aor() key, or not a URI at all (then the table
/// keys it as written anyway): "sip:"/"sips:", a plain user part, a lower-case host, a port
/// without leading zeros. The table's fast path; false only means "compute the key".
bool is_canonical_aor(std::string_view uri) noexcept;

/// Buffer for canonical_aor() of anything a binding can hold.
using aor_buffer = std::array<char, binding::arena_bytes>;

/// The binding table's key for `aor`: its canonical form, or the bytes as written
/// when it has none (a To URI decide_register() accepted always parses; this keeps
/// the table total for any caller). Points into `buf` or into `aor`.
std::string_view aor_key(std::string_view aor, aor_buffer& buf) noexcept;

/// Result of binding_table::insert(): the record, or why there is none.
struct insert_result {
  binding* rec = nullptr;
  binding_errc error = binding_errc::ok;
  explicit operator bool() const noexcept { return rec != nullptr; }
};

/// Key-extraction functors for the indexes (public only for the set types below).
struct hashed_key {
  std::uint32_t hash;
  std::string_view text;
};
struct hashed_key_hash {
  std::size_t operator()(const hashed_key& k) const noexcept { return k.hash; }
};
struct hashed_key_equal {
  bool operator()(const hashed_key& a, const hashed_key& b) const noexcept {
    return a.hash == b.hash && a.text == b.text;
  }
};
struct binding_call_id_of {
  using type = hashed_key;
  type operator()(const binding& b) const noexcept { return {b.call_id_hash_, b.call_id()}; }
};
struct binding_aor_of {
  using type = hashed_key;
  type operator()(const binding& b) const noexcept { return {b.aor_hash_, b.aor()}; }
};

struct binding_table_config {
  std::uint32_t capacity = 1U << 16;  ///< records, all allocated by the constructor (< 2^32 - 2)
  unsigned worker_id = 0;             ///< 0..255, encoded in the out-leg Call-IDs this table generates
  std::uint64_t seed = 0;             ///< out-leg nonces; 0 takes one from the clock
};

/// Buffer for an out-leg Call-ID: "sf" ww "-" index "-" generation "-" nonce, hex.
using out_call_id_buffer = std::array<char, 40>;
/// Buffer for an out-leg From-tag: "sf" + 16 hex.
using out_tag_buffer = std::array<char, 18>;

/// What an out-leg Call-ID generated by some worker's table says.
struct out_call_id_fields {
  unsigned worker = 0;
  binding_handle handle{};
  std::uint64_t nonce = 0;
};
/// Decodes an out-leg Call-ID (for steering a registrar's message to its worker).
/// False for anything not in the canonical form a table generates.
bool decode_out_call_id(std::string_view call_id, out_call_id_fields& out) noexcept;

/// The bindings of one worker. Every record is allocated in the constructor;
/// insert() fails with table_full instead of allocating.
class binding_table {
 public:
  explicit binding_table(const binding_table_config& cfg);
  binding_table(const binding_table&) = delete;
  binding_table& operator=(const binding_table&) = delete;

  /// Creates a binding in state new_ with no Contacts and a fresh out-leg nonce; the
  /// AOR is stored as canonical_aor() of `aor` (as written when it has no canonical form).
  /// The Call-ID may already be another AOR's (a multi-line phone). Fails with
  /// duplicate_aor when the AOR has a binding, strings_too_long when the keys do not
  /// fit the arena, table_full when the pool is full.
  insert_result insert(std::string_view aor, std::string_view call_id, const endpoint& src) noexcept;
  /// Removes `b` (cancels its timer); its handles and out-leg Call-ID stop resolving.
  /// Other bindings with the same Call-ID are untouched.
  void erase(binding& b) noexcept;
  /// Gives `b` a new in-leg Call-ID (a phone restarting with a new Call-ID for its AOR;
  /// other AORs' bindings may use that Call-ID already). On failure (empty_key,
  /// strings_too_long) `b` is unchanged.
  binding_errc rekey_call_id(binding& b, std::string_view call_id) noexcept;

  /// By the in-leg key (Call-ID, AOR), the AOR in any spelling canonical_aor() maps to
  /// the same key. Walks the bindings sharing the Call-ID (one for a single-line
  /// phone, one per line for a multi-line one). There is no lookup by Call-ID alone:
  /// a Call-ID names a phone, not a binding.
  [[nodiscard]] binding* find_by_call_id(std::string_view call_id, std::string_view aor) noexcept;
  /// By AOR in any spelling canonical_aor() maps to the same key (display name, <> and
  /// parameters are the caller's to strip: pass the URI).
  [[nodiscard]] binding* find_by_aor(std::string_view aor) noexcept;
  /// O(1): decodes the handle from an out-leg Call-ID this table generated, then checks
  /// the whole string against the record (stale or forged ones give nullptr).
  [[nodiscard]] binding* find_by_out_call_id(std::string_view call_id) noexcept;
  /// The live record `h` names, or nullptr.
  [[nodiscard]] binding* get(binding_handle h) noexcept;
  [[nodiscard]] binding_handle handle_of(const binding& b) const noexcept;
  /// The live record at pool index `index` (< capacity()), or nullptr when that record
  /// is free: lets a paced sweep (reg-sync) visit the pool a bounded number at a time.
  [[nodiscard]] binding* live_at(std::uint32_t index) noexcept;
  /// The record whose `timer` is `h` (for timer_wheel callbacks).
  [[nodiscard]] binding& owner_of(timer_hook& h) noexcept;

  /// The out-leg Call-ID of `b`, written into `buf`.
  std::string_view out_call_id(const binding& b, out_call_id_buffer& buf) const noexcept;
  /// The out-leg From-tag of `b`, written into `buf`.
  static std::string_view out_from_tag(const binding& b, out_tag_buffer& buf) noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return by_call_id_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return pool_.size(); }
  /// Bytes the table allocated: records + both bucket arrays.
  [[nodiscard]] std::size_t memory_bytes() const noexcept;

 private:
  using call_id_set = boost::intrusive::unordered_multiset<
      binding,
      boost::intrusive::member_hook<binding, boost::intrusive::unordered_set_member_hook<>, &binding::by_call_id_>,
      boost::intrusive::key_of_value<binding_call_id_of>, boost::intrusive::hash<hashed_key_hash>,
      boost::intrusive::equal<hashed_key_equal>, boost::intrusive::power_2_buckets<true>,
      boost::intrusive::constant_time_size<true>>;
  using aor_set = boost::intrusive::unordered_set<
      binding, boost::intrusive::member_hook<binding, boost::intrusive::unordered_set_member_hook<>, &binding::by_aor_>,
      boost::intrusive::key_of_value<binding_aor_of>, boost::intrusive::hash<hashed_key_hash>,
      boost::intrusive::equal<hashed_key_equal>, boost::intrusive::power_2_buckets<true>,
      boost::intrusive::constant_time_size<false>>;

  static constexpr std::uint32_t in_use = 0xfffffffeU;

  std::uint64_t next_nonce() noexcept;

  // Declaration order matters: the sets unlink their records when destroyed, so
  // they go before the buckets and the pool.
  std::vector<binding, detail::table_allocator<binding>> pool_;
  std::vector<call_id_set::bucket_type, detail::table_allocator<call_id_set::bucket_type>> call_id_buckets_;
  std::vector<aor_set::bucket_type, detail::table_allocator<aor_set::bucket_type>> aor_buckets_;
  call_id_set by_call_id_;
  aor_set by_aor_;
  std::uint32_t free_head_ = binding_handle::npos;
  unsigned worker_id_;
  std::uint64_t rng_;
};

// ---------------------------------------------------------------- local registrar

/// The local registrar's and rate limiter's settings (CUBE: "registrar expires max M
/// min m", "rate-limit expires N", "fail-count K").
struct registrar_policy {
  std::uint32_t in_expires_min = 60;        ///< below this (and not 0): 423 with Min-Expires
  std::uint32_t in_expires_max = 3600;      ///< above this: granted this
  std::uint32_t in_expires_default = 3600;  ///< when neither Contact nor Expires says (clamped like the others)
  std::uint32_t out_expires = 3600;         ///< what the front end asks the registrar for
  std::uint8_t fail_count = 3;              ///< missed in-leg refreshes before upstream deregistration
};

enum class register_action : std::uint8_t {
  forward_upstream,  ///< send to the registrar (the binding cannot answer safely)
  absorb,            ///< answer 200 locally with the current Contacts and in_expires
  reject_423,        ///< 423 Interval Too Brief with Min-Expires: min_expires
  reject_400,        ///< 400 Bad Request
  query,             ///< no Contact: answer 200 with the binding's current Contacts
};
std::string_view to_string(register_action a) noexcept;

/// The rule that decided, for counters, logs and the status "detail" view.
enum class register_rule : std::uint8_t {
  not_register,               ///< 400: not a REGISTER request
  bad_call_id,                ///< 400: Call-ID missing or malformed
  bad_cseq,                   ///< 400: CSeq missing or malformed
  bad_to,                     ///< 400: To missing or malformed (no AOR)
  bad_contact,                ///< 400: a Contact entry does not parse
  star_with_other_contacts,   ///< 400: "Contact: *" with other Contacts (RFC 3261 §10.3 step 6)
  star_without_expires_zero,  ///< 400: "Contact: *" without "Expires: 0"
  interval_too_brief,         ///< 423: a Contact asks for less than in_expires_min (and not 0)
  query_binding,              ///< query: no Contact, binding known and registered
  query_unknown,              ///< forward: no Contact, nothing known locally
  unregister_all,             ///< forward: "Contact: *" with "Expires: 0"
  unregister,                 ///< forward: every Contact expires 0
  too_many_contacts,          ///< forward: more Contacts than a binding keeps (pass-through only)
  new_binding,                ///< forward: no binding for this AOR (its Call-ID may be another AOR's)
  not_registered,             ///< forward: the binding is not registered upstream
  missed_refreshes,           ///< forward: fail_count in-leg refreshes were missed
  new_call_id,                ///< forward: the AOR's binding has another Call-ID (phone restarted)
  cseq_not_increasing,        ///< forward: CSeq not above the stored one (RFC 3261 §10.3 step 7)
  source_changed,             ///< forward: different source address/port/port (NAT rebinding)
  contacts_changed,           ///< forward: the Contact set differs (added, removed, expires=0)
  out_leg_expiring,           ///< forward: the refresh would outlive the out-leg registration
  refresh_absorbed,           ///< absorb: a refresh inside the out-leg lifetime
  // Decided by the engine after decide_register() said forward (never returned by it):
  registration_spike,  ///< 503 + Retry-After: overload protection (registration spike N) had no slot
  no_registrar,        ///< 503: no registrar of the mode's list is usable (none configured, or all down/held)
  local_fallback,      ///< 200 locally: no registrar is usable and local fallback is on
};
inline constexpr std::size_t register_rule_count = static_cast<std::size_t>(register_rule::local_fallback) + 1;
std::string_view to_string(register_rule r) noexcept;

/// One Contact of the request with the expiry the local registrar grants it.
struct contact_request {
  std::string_view uri;  ///< into the message
  std::uint32_t expires = 0;
};

/// What decide_register() concluded, with the parsed facts the caller acts on.
/// Views point into the message.
struct register_decision {
  register_action action = register_action::reject_400;
  register_rule rule = register_rule::not_register;
  std::uint32_t in_expires = 0;   ///< longest expiry granted to the phone (0 for un-REGISTER)
  std::uint32_t min_expires = 0;  ///< for reject_423
  bool clamped = false;           ///< some Contact asked for more than in_expires_max
  std::uint32_t cseq = 0;
  std::string_view call_id;
  std::string_view aor;                                       ///< the To URI as written
  sip::fixed_vector<contact_request, max_contacts> contacts;  ///< empty for query, Contact: * and too_many_contacts
};

/// Decides what to do with a REGISTER from a phone. `msg` has parsed and passed
/// sip::validate() (the engine answers broken requests before this); the checks here
/// are the registrar's own. `existing` is the binding of the request's AOR (To), whatever
/// its Call-ID, or nullptr; a binding of another AOR (one sharing the request's
/// Call-ID: a multi-line phone) is not this request's and counts as none. Pure: reads only
/// its arguments. Safe absorption needs all of: a registered binding, the same
/// Call-ID, AOR, source and Contact set, a higher CSeq, fewer than fail_count missed
/// refreshes, no un-REGISTER, and the granted expiry ending within the out-leg lifetime.
register_decision decide_register(const sip::message& msg, const endpoint& src, const binding* existing,
                                  std::uint64_t now_ms, const registrar_policy& policy) noexcept;

/// Counts one in-leg expiry without a refresh; true when fail_count is reached and
/// the binding should be deregistered upstream.
bool note_missed_refresh(binding& b, const registrar_policy& policy) noexcept;

}  // namespace sipfront::reg
