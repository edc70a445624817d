// Registrar selection, health and fork outcomes (rules in registrar_set.hpp).
#include "sipfront/regengine/registrar_set.hpp"

#include <algorithm>
#include <limits>

namespace sipfront::reg {

std::string_view to_string(registrar_health h) noexcept {
  switch (h) {
    case registrar_health::unconfigured: return "unconfigured";
    case registrar_health::unresolved: return "unresolved";
    case registrar_health::up: return "up";
    case registrar_health::down: return "down";
    case registrar_health::held: return "held";
  }
  return "unknown";
}

std::string_view to_string(registrar_errc e) noexcept {
  switch (e) {
    case registrar_errc::ok: return "ok";
    case registrar_errc::bad_index: return "bad_index";
    case registrar_errc::not_configured: return "not_configured";
    case registrar_errc::not_dynamic: return "not_dynamic";
    case registrar_errc::empty_list: return "empty_list";
    case registrar_errc::list_too_long: return "list_too_long";
    case registrar_errc::duplicate_index: return "duplicate_index";
  }
  return "unknown";
}

std::string_view to_string(select_status s) noexcept {
  switch (s) {
    case select_status::ok: return "ok";
    case select_status::none_usable: return "none_usable";
    case select_status::all_down: return "all_down";
    case select_status::exhausted: return "exhausted";
  }
  return "unknown";
}

std::string_view to_string(fork_action a) noexcept {
  switch (a) {
    case fork_action::wait: return "wait";
    case fork_action::answer: return "answer";
    case fork_action::keep_secondary: return "keep_secondary";
    case fork_action::note_failure: return "note_failure";
    case fork_action::ignore: return "ignore";
  }
  return "unknown";
}

registrar_errc registrar_list::make(std::span<const unsigned> indices, registrar_list& out) noexcept {
  if (indices.empty()) return registrar_errc::empty_list;
  if (indices.size() > max_registrar_index) return registrar_errc::list_too_long;
  registrar_list l;
  unsigned seen = 0;
  for (const unsigned i : indices) {
    if (i < 1 || i > max_registrar_index) return registrar_errc::bad_index;
    if ((seen & (1U << i)) != 0) return registrar_errc::duplicate_index;
    seen |= 1U << i;
    l.idx_[l.n_++] = static_cast<std::uint8_t>(i);
  }
  out = l;
  return registrar_errc::ok;
}

const registrar_set::entry* registrar_set::find(unsigned index) const noexcept {
  if (index < 1 || index > max_registrar_index) return nullptr;
  return &entries_[index - 1];
}

registrar_set::entry* registrar_set::find(unsigned index) noexcept {
  if (index < 1 || index > max_registrar_index) return nullptr;
  return &entries_[index - 1];
}

registrar_errc registrar_set::configure_static(unsigned index, endpoint addr) noexcept {
  entry* e = find(index);
  if (e == nullptr) return registrar_errc::bad_index;
  *e = entry{.addr = addr, .configured = true, .resolved = true, .source = registrar_source::static_address};
  return registrar_errc::ok;
}

registrar_errc registrar_set::configure_dynamic(unsigned index) noexcept {
  entry* e = find(index);
  if (e == nullptr) return registrar_errc::bad_index;
  *e = entry{.configured = true, .resolved = false, .source = registrar_source::dynamic};
  return registrar_errc::ok;
}

registrar_errc registrar_set::remove(unsigned index) noexcept {
  entry* e = find(index);
  if (e == nullptr) return registrar_errc::bad_index;
  if (!e->configured) return registrar_errc::not_configured;
  *e = entry{};
  return registrar_errc::ok;
}

registrar_errc registrar_set::resolve(unsigned index, endpoint addr) noexcept {
  entry* e = find(index);
  if (e == nullptr) return registrar_errc::bad_index;
  if (!e->configured) return registrar_errc::not_configured;
  if (e->source != registrar_source::dynamic) return registrar_errc::not_dynamic;
  // Health is kept: a registrar that was down is still down at its new address
  // until a probe says otherwise (a re-resolution is not proof of life).
  e->addr = addr;
  e->resolved = true;
  return registrar_errc::ok;
}

registrar_errc registrar_set::unresolve(unsigned index) noexcept {
  entry* e = find(index);
  if (e == nullptr) return registrar_errc::bad_index;
  if (!e->configured) return registrar_errc::not_configured;
  if (e->source != registrar_source::dynamic) return registrar_errc::not_dynamic;
  e->addr = endpoint{};
  e->resolved = false;
  return registrar_errc::ok;
}

void registrar_set::mark_down(unsigned index) noexcept {
  entry* e = find(index);
  if (e == nullptr || !e->configured) return;
  e->down = true;
}

void registrar_set::hold(unsigned index, std::uint64_t until_ms) noexcept {
  entry* e = find(index);
  if (e == nullptr || !e->configured) return;
  e->held_until_ms = std::max(e->held_until_ms, until_ms);
}

void registrar_set::mark_up(unsigned index) noexcept {
  entry* e = find(index);
  if (e == nullptr || !e->configured) return;
  e->down = false;
  e->held_until_ms = 0;
}

bool registrar_set::on_response(unsigned index, std::uint16_t code, std::uint32_t retry_after_s,
                                std::uint64_t now_ms) noexcept {
  entry* e = find(index);
  if (e == nullptr || !e->configured || code < 200) return false;
  if (code == 503) {
    if (retry_after_s != 0) {
      hold(index, now_ms + std::uint64_t{retry_after_s} * 1000);
    } else {
      e->down = true;
    }
    return true;
  }
  e->down = false;
  return false;
}

registrar_health registrar_set::health_of(const entry& e, std::uint64_t now_ms) noexcept {
  if (!e.configured) return registrar_health::unconfigured;
  if (!e.resolved) return registrar_health::unresolved;
  if (e.down) return registrar_health::down;
  if (e.held_until_ms > now_ms) return registrar_health::held;
  return registrar_health::up;
}

registrar_health registrar_set::health(unsigned index, std::uint64_t now_ms) const noexcept {
  const entry* e = find(index);
  return e == nullptr ? registrar_health::unconfigured : health_of(*e, now_ms);
}

std::uint64_t registrar_set::held_until(unsigned index) const noexcept {
  const entry* e = find(index);
  return e == nullptr ? 0 : e->held_until_ms;
}

registrar_source registrar_set::source(unsigned index) const noexcept {
  const entry* e = find(index);
  return e == nullptr ? registrar_source::static_address : e->source;
}

endpoint registrar_set::address(unsigned index) const noexcept {
  const entry* e = find(index);
  return e == nullptr || !e->resolved ? endpoint{} : e->addr;
}

registrar_errc registrar_set::check(const registrar_list& list) const noexcept {
  for (std::size_t i = 0; i < list.size(); ++i) {
    const entry* e = find(list[i]);
    if (e == nullptr) return registrar_errc::bad_index;
    if (!e->configured) return registrar_errc::not_configured;
  }
  return registrar_errc::ok;
}

void registrar_set::no_pick(const registrar_list& list, std::uint64_t now_ms, bool any_tried_up, select_status& status,
                            std::uint32_t& retry_after_s) const noexcept {
  bool any_down = false;
  std::uint64_t earliest = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const entry& e = entries_[list[i] - 1];
    const registrar_health h = health_of(e, now_ms);
    if (h == registrar_health::down) any_down = true;
    if (h == registrar_health::held) {
      any_down = true;
      earliest = std::min(earliest, e.held_until_ms);
    }
  }
  retry_after_s = 0;
  if (any_tried_up) {
    // Something is up but this transaction already used it: a failover loop, not an outage.
    status = select_status::exhausted;
  } else if (any_down) {
    status = select_status::all_down;
    if (earliest != std::numeric_limits<std::uint64_t>::max()) {
      // Round up, so the phone does not come back a moment before the hold ends.
      const std::uint64_t s = (earliest - now_ms + 999) / 1000;
      retry_after_s = static_cast<std::uint32_t>(std::min<std::uint64_t>(s, std::numeric_limits<std::uint32_t>::max()));
    }
  } else {
    status = select_status::none_usable;
  }
}

selection registrar_set::next_target(const registrar_list& list, std::uint64_t now_ms,
                                     std::uint8_t tried_mask) const noexcept {
  selection out;
  bool any_tried_up = false;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const unsigned index = list[i];  // 1..6: registrar_list::make checked it
    const entry& e = entries_[index - 1];
    if (health_of(e, now_ms) != registrar_health::up) continue;
    if ((tried_mask & tried_bit(index)) != 0) {
      any_tried_up = true;
      continue;
    }
    out.status = select_status::ok;
    out.pick = registrar_pick{.index = index, .addr = e.addr};
    return out;
  }
  no_pick(list, now_ms, any_tried_up, out.status, out.retry_after_s);
  return out;
}

fork_plan registrar_set::fork_targets(const registrar_list& list, std::uint64_t now_ms) const noexcept {
  fork_plan out;
  const std::size_t roles = std::min<std::size_t>(list.size(), 2);
  for (std::size_t i = 0; i < roles; ++i) {
    const unsigned index = list[i];
    const entry& e = entries_[index - 1];
    if (health_of(e, now_ms) != registrar_health::up) continue;
    out.legs[out.n_legs++] = registrar_pick{.index = index, .addr = e.addr};
  }
  if (out.n_legs != 0) {
    out.status = select_status::ok;
    return out;
  }
  // Only the two roles count: a third list entry is not part of this mode.
  registrar_list roles_only;
  const std::array<unsigned, 2> first{list.size() > 0 ? list[0] : 0U, list.size() > 1 ? list[1] : 0U};
  if (roles == 0 || registrar_list::make(std::span(first.data(), roles), roles_only) != registrar_errc::ok) {
    out.status = select_status::none_usable;
    return out;
  }
  no_pick(roles_only, now_ms, false, out.status, out.retry_after_s);
  return out;
}

fork_outcome::fork_outcome(unsigned n_legs) noexcept {
  legs_[0] = leg_state::pending;
  if (n_legs >= 2) legs_[1] = leg_state::pending;
}

bool fork_outcome::done() const noexcept {
  return std::none_of(legs_.begin(), legs_.end(), [](leg_state s) { return s == leg_state::pending; });
}

fork_step fork_outcome::fail(unsigned leg, leg_state how, std::uint16_t code) noexcept {
  legs_[leg] = how;
  if (how == leg_state::failed) {
    error_[leg] = code;
    last_error_leg_ = static_cast<std::int8_t>(leg);
  }
  if (answered_) return fork_step{.action = fork_action::note_failure, .code = code};
  if (!done()) return fork_step{.action = fork_action::wait, .code = code};
  // Every leg failed: the last error response that arrived; a timeout only when no
  // leg produced any response (see the class comment).
  answered_ = true;
  return fork_step{.action = fork_action::answer, .code = last_error_leg_ >= 0 ? error_[last_error_leg_] : code};
}

fork_step fork_outcome::on_response(unsigned leg, std::uint16_t code) noexcept {
  if (leg >= 2 || legs_[leg] != leg_state::pending) return fork_step{.action = fork_action::ignore, .code = code};
  if (code < 200) return fork_step{.action = fork_action::wait, .code = code};
  if (code < 300) {
    legs_[leg] = leg_state::succeeded;
    if (answered_) return fork_step{.action = fork_action::keep_secondary, .code = code};
    answered_ = true;
    winner_ = static_cast<std::int8_t>(leg);
    return fork_step{.action = fork_action::answer, .code = code};
  }
  return fail(leg, leg_state::failed, code);
}

fork_step fork_outcome::on_timeout(unsigned leg, std::uint16_t timeout_code) noexcept {
  if (leg >= 2 || legs_[leg] != leg_state::pending)
    return fork_step{.action = fork_action::ignore, .code = timeout_code};
  return fail(leg, leg_state::timed_out, timeout_code);
}

void fork_outcome::restart_leg(unsigned leg) noexcept {
  if (leg >= 2 || answered_ || legs_[leg] == leg_state::unused) return;
  legs_[leg] = leg_state::pending;
  // The challenge the engine answered is not an error for the phone any more.
  error_[leg] = 0;
  if (last_error_leg_ == static_cast<std::int8_t>(leg)) {
    const unsigned other = leg ^ 1U;
    last_error_leg_ = error_[other] != 0 ? static_cast<std::int8_t>(other) : std::int8_t{-1};
  }
}

}  // namespace sipfront::reg
