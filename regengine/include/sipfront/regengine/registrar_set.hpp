// Registrar selection and fork outcome logic (CUBE `registrar-index`, primary/secondary
// and indexed registrars). Pure: no I/O, no clock reads (the caller passes `now`),
// no allocation, no exceptions, so every rule is unit-tested with plain values.
//
// - registrar_set: up to 6 registrars at indices 1..6, each static (address from
//   config) or dynamic (address from DNS later; unresolved until then), each with a
//   health state: up, down (Timer F or 503: skipped until mark_up, i.e. an OPTIONS
//   probe answered), or held (503 with Retry-After: skipped until that time, then up
//   again by itself).
// - registrar_list: a peer's / tenant's ordered list of indices (`registrar-index 2 1`).
// - Indexed failover: next_target(list, now) is the first usable entry in list order;
//   after a Timer F or 503 the caller marks that registrar down and asks again,
//   re-sending the same binding to the next one (the binding is kept, only its
//   registrar index changes).
// - Primary/secondary: fork_targets(list, now) gives both legs (list positions 0 and
//   1) at once; fork_outcome turns the legs' responses into what the phone gets.
//
// Threading: a registrar_set is a plain value owned by one worker. Health learned on
// the data path (Timer F, 503) is local to that worker's copy, and so are OPTIONS
// probe results: each worker's engine probes the registrars it holds down (engine.cpp,
// the prober section), so the copies converge without sharing a line.
// sizeof(registrar_set) is 6 x 24 B.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "sipfront/regengine/types.hpp"

namespace sipfront::reg {

/// `registrar-index` runs 1..6 (CUBE's range).
inline constexpr unsigned max_registrar_index = 6;

/// Where a registrar's address comes from.
enum class registrar_source : std::uint8_t {
  static_address,  ///< given in config
  dynamic,         ///< resolved later (DNS); unusable while unresolved
};

/// A registrar's state as selection sees it at a given time.
enum class registrar_health : std::uint8_t {
  unconfigured,  ///< nothing at this index
  unresolved,    ///< dynamic, no address yet (DNS pending or failed)
  up,
  down,  ///< Timer F or 503 without Retry-After: skipped until mark_up (probe answered)
  held,  ///< 503 with Retry-After: skipped until held_until_ms, then up by itself
};
std::string_view to_string(registrar_health h) noexcept;

/// Why a configuration call or list was refused.
enum class registrar_errc : std::uint8_t {
  ok = 0,
  bad_index,        ///< not in 1..max_registrar_index
  not_configured,   ///< no registrar at that index
  not_dynamic,      ///< resolve()/unresolve() on a static registrar
  empty_list,       ///< a registrar-index list with no entries
  list_too_long,    ///< more than max_registrar_index entries
  duplicate_index,  ///< the same index twice in one list
};
std::string_view to_string(registrar_errc e) noexcept;

/// One peer's or tenant's ordered registrar indices (1-based), validated on construction.
class registrar_list {
 public:
  registrar_list() = default;  ///< empty: selection answers none_usable
  /// Fills `out` from `indices` (1-based, in failover order). On error `out` is untouched.
  static registrar_errc make(std::span<const unsigned> indices, registrar_list& out) noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return n_; }
  [[nodiscard]] bool empty() const noexcept { return n_ == 0; }
  /// The 1-based registrar index at list position `pos` (< size()).
  [[nodiscard]] unsigned operator[](std::size_t pos) const noexcept { return idx_[pos]; }

 private:
  std::array<std::uint8_t, max_registrar_index> idx_{};
  std::uint8_t n_ = 0;
};

/// Selection outcome. Anything but `ok` means: answer the phone 503 now.
enum class select_status : std::uint8_t {
  ok,
  none_usable,  ///< no entry configured and resolved (none configured, or DNS failed): no Retry-After hint
  all_down,     ///< every usable entry is down or held; retry_after_s hints at the earliest hold (0: none held)
  exhausted,    ///< every usable entry that is up was already tried in this transaction
};
std::string_view to_string(select_status s) noexcept;

/// A registrar chosen for one REGISTER.
struct registrar_pick {
  unsigned index = 0;  ///< 1-based registrar index (what the binding records)
  endpoint addr{};
};

/// next_target()'s answer.
struct selection {
  select_status status = select_status::none_usable;
  registrar_pick pick{};            ///< valid when status == ok
  std::uint32_t retry_after_s = 0;  ///< for the 503 when status == all_down: seconds to the earliest hold's end
};

/// fork_targets()'s answer: the legs to send at once (leg 0 is the primary when both are up).
struct fork_plan {
  select_status status = select_status::none_usable;
  unsigned n_legs = 0;
  std::array<registrar_pick, 2> legs{};
  std::uint32_t retry_after_s = 0;  ///< as in selection
};

/// The registrars of one worker, with their health.
class registrar_set {
 public:
  /// Configures index `index` (1..6) as a static registrar at `addr`, healthy.
  registrar_errc configure_static(unsigned index, endpoint addr) noexcept;
  /// Configures index `index` as a dynamic registrar, unresolved until resolve().
  registrar_errc configure_dynamic(unsigned index) noexcept;
  /// Removes the registrar at `index`; lists naming it skip it from then on.
  registrar_errc remove(unsigned index) noexcept;
  /// DNS gave a dynamic registrar its address (again: a changed address replaces the old one).
  registrar_errc resolve(unsigned index, endpoint addr) noexcept;
  /// DNS failed or the record expired: the dynamic registrar is unusable until resolved again.
  registrar_errc unresolve(unsigned index) noexcept;

  /// Down until mark_up (Timer F, 503 without Retry-After). Unknown indices are ignored.
  void mark_down(unsigned index) noexcept;
  /// Skipped until `until_ms` (503 with Retry-After), then up by itself. A later hold
  /// replaces an earlier one; a hold never shortens a plain `down`.
  void hold(unsigned index, std::uint64_t until_ms) noexcept;
  /// Healthy again (an OPTIONS probe was answered): clears down and any hold.
  void mark_up(unsigned index) noexcept;

  /// Feeds one final response from registrar `index` into its health: 503 marks it
  /// down (held for `retry_after_s` if non-zero). Any other final answer proves it is
  /// alive and clears a plain `down` (not a hold: that is the registrar's own request).
  /// Returns true when the caller should fail over (503).
  bool on_response(unsigned index, std::uint16_t code, std::uint32_t retry_after_s, std::uint64_t now_ms) noexcept;
  /// Timer F fired for a REGISTER sent to `index`: down until mark_up.
  void on_timeout(unsigned index) noexcept { mark_down(index); }

  /// Health of `index` at `now_ms` (an expired hold reads as up).
  [[nodiscard]] registrar_health health(unsigned index, std::uint64_t now_ms) const noexcept;
  /// End of the hold on `index`, or 0 when it is not held.
  [[nodiscard]] std::uint64_t held_until(unsigned index) const noexcept;
  [[nodiscard]] registrar_source source(unsigned index) const noexcept;
  /// The address (zero endpoint while unresolved or unconfigured).
  [[nodiscard]] endpoint address(unsigned index) const noexcept;

  /// not_configured when `list` names an index that has no registrar (config check on the slow path).
  [[nodiscard]] registrar_errc check(const registrar_list& list) const noexcept;

  /// Indexed failover: the first entry of `list` that is up at `now_ms` and not in
  /// `tried_mask` (bit i-1 set = index i already tried by this transaction, so a
  /// registrar that came back mid-transaction is not asked twice).
  [[nodiscard]] selection next_target(const registrar_list& list, std::uint64_t now_ms,
                                      std::uint8_t tried_mask = 0) const noexcept;
  /// Primary/secondary: list positions 0 and 1, each sent to if it is up. The roles
  /// stay with the positions (a down primary is not replaced by a third entry), so the
  /// binding's primary and secondary are always the configured ones.
  [[nodiscard]] fork_plan fork_targets(const registrar_list& list, std::uint64_t now_ms) const noexcept;

  /// The tried_mask bit of a 1-based index.
  static constexpr std::uint8_t tried_bit(unsigned index) noexcept {
    return static_cast<std::uint8_t>(1U << ((index - 1) & 7U));
  }

 private:
  struct entry {
    endpoint addr{};
    std::uint64_t held_until_ms = 0;  // 0: no hold
    bool configured = false;
    bool resolved = false;
    bool down = false;
    registrar_source source = registrar_source::static_address;
  };
  [[nodiscard]] const entry* find(unsigned index) const noexcept;
  [[nodiscard]] entry* find(unsigned index) noexcept;
  [[nodiscard]] static registrar_health health_of(const entry& e, std::uint64_t now_ms) noexcept;
  // Fills status/retry_after_s for a list where nothing was picked.
  void no_pick(const registrar_list& list, std::uint64_t now_ms, bool any_tried_up, select_status& status,
               std::uint32_t& retry_after_s) const noexcept;

  std::array<entry, max_registrar_index> entries_{};
};

/// What to do with one leg's final answer in primary/secondary mode.
enum class fork_action : std::uint8_t {
  wait,            ///< nothing for the phone yet (provisional, or a leg failed while the other is pending)
  answer,          ///< send the phone this code: the first 2xx, or the last error once every leg failed
  keep_secondary,  ///< a 2xx after the phone got its answer: keep this leg as the secondary binding
  note_failure,    ///< a leg failed after the phone got its 2xx: record it (no secondary binding)
  ignore,          ///< a leg that is already final (retransmission) or does not exist
};
std::string_view to_string(fork_action a) noexcept;

/// fork_outcome's answer to one event.
struct fork_step {
  fork_action action = fork_action::ignore;
  std::uint16_t code = 0;  ///< the status code for `answer` (and the leg's code otherwise)
};

/// A leg's state in a fork.
enum class leg_state : std::uint8_t { unused, pending, succeeded, failed, timed_out };

/// Tracks one forked REGISTER (one or two legs) to its outcome: the first 2xx is the
/// phone's answer; if every leg fails, the phone gets the error response that arrived
/// last. A timed-out leg (Timer F) is a failure without a response: when the other leg
/// answered with an error, that error is passed (it says more to the phone than a
/// local 408 does, e.g. 403 for bad credentials); only when every leg timed out does
/// the phone get `timeout_code`. 10 bytes, trivially copyable: embed it in the transaction.
class fork_outcome {
 public:
  fork_outcome() = default;  ///< no legs: every event is ignored
  /// A fork of `n_legs` (1 or 2; clamped) legs, all pending.
  explicit fork_outcome(unsigned n_legs) noexcept;

  /// A response on leg `leg` (0 or 1). 1xx: wait; 2xx: success; 3xx..6xx: failure.
  fork_step on_response(unsigned leg, std::uint16_t code) noexcept;
  /// Timer F on leg `leg`. `timeout_code` is what the phone gets if every leg timed out.
  fork_step on_timeout(unsigned leg, std::uint16_t timeout_code = 408) noexcept;
  /// The engine re-sent leg `leg` as a new transaction (a challenge answered with
  /// credentials): pending again. Ignored once the phone has its answer.
  void restart_leg(unsigned leg) noexcept;

  [[nodiscard]] bool answered() const noexcept { return answered_; }
  /// Every leg is final.
  [[nodiscard]] bool done() const noexcept;
  [[nodiscard]] leg_state state(unsigned leg) const noexcept { return leg < 2 ? legs_[leg] : leg_state::unused; }
  /// The leg whose 2xx the phone got, or -1.
  [[nodiscard]] int winner() const noexcept { return winner_; }

 private:
  fork_step fail(unsigned leg, leg_state how, std::uint16_t code) noexcept;

  std::array<leg_state, 2> legs_{leg_state::unused, leg_state::unused};
  std::array<std::uint16_t, 2> error_{};  // each leg's error response code (0: none)
  std::int8_t last_error_leg_ = -1;       // the leg whose error response arrived last
  bool answered_ = false;
  std::int8_t winner_ = -1;
};

}  // namespace sipfront::reg
