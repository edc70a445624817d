// The per-core registration engine: consumes parsed messages, produces messages
// to send. DPDK-free, so it is unit-testable and benchmarkable without a NIC.
//
// One engine per worker lcore, single-threaded. All memory (transaction pool,
// hash buckets) is allocated once in the constructor; on_message/on_tick never allocate.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "sipfront/regengine/bindings.hpp"
#include "sipfront/regengine/counters.hpp"
#include "sipfront/regengine/explain.hpp"
#include "sipfront/regengine/output.hpp"
#include "sipfront/regengine/registrar_set.hpp"
#include "sipfront/regengine/spike_guard.hpp"
#include "sipfront/regengine/types.hpp"
#include "sipfront/sipparse/message.hpp"
#include "sipfront/sipparse/validate.hpp"

namespace sipfront::reg {

inline constexpr std::size_t max_registrars = 6;

struct registrar_target {
  endpoint addr;              ///< where REGISTERs go (core side); ignored when `dynamic`
  std::string_view domain{};  ///< R-URI host that selects this registrar in end-to-end mode (optional)
  /// Dynamic (DNS) registrar: unresolved, so unusable, until resolve_registrar()
  /// gives it an address; `host` is its DNS name, the out-leg Request-URI host when
  /// `domain` is empty.
  bool dynamic = false;
  std::string_view host{};
};

/// Credentials the front end answers a registrar's digest challenge with (peer-to-peer,
/// its own out-leg refreshes and deregistrations only). Views into the control side's
/// config, which must outlive the engine.
struct credential {
  std::string_view realm;     ///< the challenge's realm, compared exactly
  std::string_view username;  ///< empty: the user part of the binding's AOR
  std::string_view password;
  std::string_view aor;  ///< empty: any binding of the realm; else only this AOR (compared as canonical_aor())
};
/// Entries per engine_config::credentials (looked up linearly, on challenges only).
inline constexpr std::size_t max_credentials = 1024;

/// How REGISTERs reach the registrar.
enum class passthrough_mode : std::uint8_t {
  end_to_end,    ///< registrar from the Request-URI; the phone's request relayed with our Via on top
  peer_to_peer,  ///< registrar from config; a new out-leg dialog per binding, Contact rewritten to the front end
};

/// How the registrars of `engine_config::registrar_order` are used (peer-to-peer only).
enum class registrar_mode : std::uint8_t {
  indexed,            ///< one at a time, in list order; Timer F or 503 fails the REGISTER over to the next
  primary_secondary,  ///< fork to list positions 0 and 1 at once: the first 2xx answers the phone
};

struct engine_config {
  unsigned worker_id = 0;
  unsigned n_workers = 1;
  endpoint access_local{};  ///< the front end's address toward phones
  endpoint core_local{};    ///< the front end's address toward registrars (our Via sent-by)
  std::array<registrar_target, max_registrars> registrars{};
  unsigned n_registrars = 0;
  unsigned default_registrar = 0;
  // RFC 3261 §17.1.2.2 timers, in ms.
  std::uint32_t t1_ms = 500;
  std::uint32_t t2_ms = 4000;
  std::uint32_t timer_f_ms = 64 * 500;
  std::uint32_t timer_k_ms = 5000;   ///< how long a completed transaction keeps absorbing retransmissions
  std::uint16_t timeout_code = 408;  ///< answer to the phone when Timer F fires (408 or 503)
  std::size_t max_transactions = 1U << 16;
  sip::validation_policy policy{};

  passthrough_mode mode = passthrough_mode::end_to_end;
  /// Peer-to-peer: the local registrar and the rate limiter. `registrar.out_expires`
  /// is what the front end asks the registrar for; 0 means "what the phone was
  /// granted" (rate limiting off: every refresh goes upstream).
  registrar_policy registrar{};
  /// Bindings per worker (peer-to-peer only; end-to-end keeps none). ~512 B each.
  std::uint32_t max_bindings = 1U << 16;
  std::uint64_t binding_seed = 0;  ///< out-leg nonces; 0 takes one from the clock

  /// Peer-to-peer registrar selection. `registrar_order` holds registrar indices
  /// (1-based: registrars[index - 1]); empty means {default_registrar + 1}, i.e.
  /// today's single configured registrar.
  registrar_mode reg_mode = registrar_mode::indexed;
  registrar_list registrar_order{};
  /// A registrar marked down (Timer F, 503 without Retry-After) is tried again after
  /// this long when probing is off (probe_interval_ms 0). With probing on, only an
  /// answered probe (or any answer to a REGISTER) marks it up.
  std::uint32_t registrar_retry_ms = 60000;

  /// OPTIONS prober (peer-to-peer): every registrar of the mode's list that is down gets
  /// an OPTIONS this often; a final answer other than 503 marks it up. 0 = off.
  std::uint32_t probe_interval_ms = 0;
  /// Keepalive of up registrars: an OPTIONS this often, Timer F on it marks the
  /// registrar down. 0 = off (also off when probe_interval_ms is 0).
  std::uint32_t probe_keepalive_ms = 0;
  /// Local fallback: with no registrar usable, phones' REGISTERs are answered 200 by
  /// the local registrar; such bindings are kept at most fallback_hold_s after they
  /// lost their registrar.
  bool fallback = false;
  std::uint32_t fallback_hold_s = 3600;
  /// Reg-sync: local-only bindings are registered upstream at this rate once a
  /// registrar is usable, for the whole front end (each worker: ceil(rate / n_workers)).
  std::uint32_t regsync_rate = 50;

  /// Overload protection (registration spike N), shared by every worker's engine:
  /// built once by the runtime/control side, never owned by an engine, must outlive
  /// it. nullptr = off. Each engine takes a spike_budget of it (peer-to-peer only).
  spike_pool* spike = nullptr;
  std::uint64_t spike_seed = 0;  ///< Retry-After generator seed (mixed with worker_id); 0 takes one from the clock

  /// Peer-to-peer: a 401/407 to one of the front end's own REGISTERs (out-leg refresh,
  /// deregistration) whose realm (and the binding's AOR) has an entry here is answered
  /// once (once more after stale=true) with the same REGISTER and an Authorization /
  /// Proxy-Authorization. An entry with `aor` wins over a realm-only one. At most
  /// max_credentials entries are used. Phone-originated REGISTERs and fork legs carry
  /// the phone's own Authorization and are never answered by the front end.
  std::span<const credential> credentials{};
};

/// Per-packet facts from the dataplane.
struct packet_meta {
  endpoint src;  ///< sender's address as seen on the wire
  side from = side::access;
};

class engine {
 public:
  explicit engine(const engine_config& cfg);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Handles one received message (parsed or not: a failed parse is answered or
  /// dropped per sipparse's validation). Messages to send are appended to `out`.
  void on_message(const sip::message& msg, const packet_meta& meta, std::uint64_t now_ms, output_queue& out) noexcept;
  /// Runs due timers (retransmissions, timeouts, clean-up), at most `budget` of them.
  std::size_t on_tick(std::uint64_t now_ms, output_queue& out, std::size_t budget = 256) noexcept;

  [[nodiscard]] const engine_counters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::size_t live_transactions() const noexcept;
  [[nodiscard]] const engine_config& config() const noexcept { return cfg_; }
  /// Why each recent REGISTER was absorbed, forwarded or rejected (peer-to-peer mode).
  [[nodiscard]] const explain_ring& explain() const noexcept { return explain_; }
  [[nodiscard]] std::size_t live_bindings() const noexcept;
  /// The binding registered for `aor` (the To URI, in any spelling canonical_aor() keys alike), or nullptr.
  [[nodiscard]] const binding* find_binding(std::string_view aor) noexcept;
  /// The binding whose upstream Contact is `contact_uri` (the URI the front end gave
  /// the registrar, as the core sends requests to it), or nullptr.
  [[nodiscard]] const binding* binding_for_contact(std::string_view contact_uri) noexcept;
  /// This worker's overload-protection counters, or nullptr when no spike pool is configured.
  [[nodiscard]] const spike_stats* spike() const noexcept;
  /// This worker's view of registrar `index` (1-based) at `now_ms`.
  [[nodiscard]] registrar_health registrar_state(unsigned index, std::uint64_t now_ms) const noexcept;
  /// A probe said registrar `index` answers again (owner thread only).
  void mark_registrar_up(unsigned index) noexcept;
  /// DNS gave dynamic registrar `index` (1-based) the address `addr` (owner thread
  /// only; the control core's registrar snapshot, picked up by the worker loop).
  /// REGISTERs sent from now on go there; transactions already sent keep theirs,
  /// and bindings keep their registrar index, so they follow the new address at
  /// their next refresh. Health is kept. not_dynamic for a static registrar.
  registrar_errc resolve_registrar(unsigned index, endpoint addr) noexcept;
  /// DNS failed and the last answer expired: registrar `index` is skipped by
  /// selection (503 No Registrar when nothing else is usable) until resolved again.
  registrar_errc unresolve_registrar(unsigned index) noexcept;
  /// Where REGISTERs for registrar `index` go now (zero while unresolved or unconfigured).
  [[nodiscard]] endpoint registrar_address(unsigned index) const noexcept;

 private:
  struct impl;
  engine_config cfg_;
  engine_counters counters_{};
  explain_ring explain_{};
  std::unique_ptr<impl> impl_;
};

/// The worker that owns a message, so that everything one binding needs meets on
/// the worker that holds it (see the routing section of engine.cpp):
/// - a REGISTER: by hash of its AOR (aor_hash() of the To URI), so every REGISTER of
///   an AOR reaches the worker holding its binding whatever its Call-ID (a phone
///   restarting with a new Call-ID finds its binding: decide_register's new_call_id);
///   a To that does not parse falls back to the Call-ID hash (it gets 400 anywhere);
/// - a non-REGISTER request whose Request-URI is a Contact the front end registered
///   (peer-to-peer), or whose top Route is its own Record-Route naming a binding: the
///   worker encoded there (the binding's owner; such requests carry the core's
///   Call-ID, not the binding's);
/// - any other request from the access side (`from`): by hash of its From AOR, the
///   calling phone's, so it reaches that phone's binding; the same rule for every such
///   request, in a dialog or not, keeps an INVITE, its CANCEL and the ACK of a non-2xx
///   answer (which carries a To-tag) on one worker, which the stateless relay's branch
///   (worker index + transaction key) needs; a From that does not parse: by Call-ID;
/// - any other request from the core: by hash of Call-ID;
/// - a response: by the worker index the front end encoded in its own top-Via branch.
/// End-to-end mode keeps no bindings and keys its transactions by the phone's Via:
/// a REGISTER and its retransmissions share the AOR, so they meet on one worker
/// just as they did by Call-ID. Messages that cannot be steered (failed parse, no
/// key, a foreign branch, a worker index not below `n_workers`) stay on `self`.
unsigned steer(const sip::message& msg, side from, unsigned n_workers, unsigned self) noexcept;

/// Decodes the user part of a Contact URI the front end gave a registrar in
/// peer-to-peer mode ("sip:sf<ww>-<index>-<gen>-<nonce>@core-address"): the owner
/// worker and the binding's handle. False for any other URI.
bool decode_contact(std::string_view contact_uri, out_call_id_fields& out) noexcept;

/// The hash used for Call-ID sharding (stable across builds and cores).
std::uint64_t call_id_hash(std::string_view call_id) noexcept;

/// The hash steer() places an AOR by: call_id_hash() of canonical_aor(`uri`), the
/// key the binding table indexes AORs by, so two URIs the table takes for one AOR
/// always hash alike. False when `uri` has no canonical form.
bool aor_hash(std::string_view uri, std::uint64_t& out) noexcept;

}  // namespace sipfront::reg
