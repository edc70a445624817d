// Why the engine did what it did with each REGISTER (peer-to-peer mode): a small
// fixed ring per engine, newest entries overwrite the oldest. For the status
// "detail" view and for tests; written only by the owning worker.
//
// Sizing: 256 entries x 40 B = 10 KiB per worker, enough for the last few
// seconds of a busy core, which is what an operator asking "why was this phone
// answered locally?" needs; history belongs in logs, not on the data path.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sipfront/regengine/bindings.hpp"

namespace sipfront::reg {

/// What happened to the REGISTER as a whole.
enum class explain_outcome : std::uint8_t {
  absorbed,   ///< answered locally from the binding (refresh, query); nothing went upstream
  forwarded,  ///< sent to the registrar
  rejected,   ///< answered locally with an error (400, 423, 503)
};
std::string_view to_string(explain_outcome o) noexcept;

struct explain_record {
  std::uint64_t at_ms = 0;
  std::uint64_t call_id_hash = 0;  ///< call_id_hash() of the phone's Call-ID (the status view's key)
  binding_handle binding{};        ///< the binding it applied to (npos when none)
  std::uint32_t cseq = 0;
  std::uint32_t in_expires = 0;  ///< expiry granted (absorbed) or asked for (forwarded)
  std::uint16_t code = 0;        ///< the local answer's status code; 0 when forwarded
  explain_outcome outcome = explain_outcome::forwarded;
  register_action action = register_action::forward_upstream;
  register_rule rule = register_rule::not_register;
};

class explain_ring {
 public:
  static constexpr std::size_t capacity = 256;

  void push(const explain_record& r) noexcept {
    ring_[total_ % capacity] = r;
    ++total_;
  }
  /// Records held (at most capacity).
  [[nodiscard]] std::size_t size() const noexcept { return total_ < capacity ? total_ : capacity; }
  /// Records ever pushed.
  [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
  /// The i-th newest record (0 = the last pushed); i < size().
  [[nodiscard]] const explain_record& recent(std::size_t i) const noexcept {
    return ring_[(total_ - 1 - i) % capacity];
  }

 private:
  std::array<explain_record, capacity> ring_{};
  std::uint64_t total_ = 0;
};

}  // namespace sipfront::reg
