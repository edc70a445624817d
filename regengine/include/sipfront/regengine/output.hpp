// Messages regengine wants sent, written into a per-core arena that the dataplane
// drains after each call (copying into mbufs). Fixed capacity, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sipfront/regengine/types.hpp"

namespace sipfront::reg {

struct outbound {
  endpoint dst;       ///< where to send (dst.port_id selects the NIC port)
  std::uint32_t off;  ///< into the arena
  std::uint16_t len;
};

class output_queue {
 public:
  static constexpr std::size_t arena_bytes = std::size_t{64} * 1024;
  static constexpr std::size_t max_messages = 128;
  static constexpr std::size_t max_message = std::size_t{8} * 1024;  ///< largest message regengine builds

  /// Space for one message, at most `max_message` bytes; empty when the arena is full.
  [[nodiscard]] std::span<char> reserve() noexcept {
    if (count_ == max_messages || arena_bytes - used_ < max_message) return {};
    return {arena_.data() + used_, max_message};
  }
  /// Queues the `len` bytes written at the start of the last reserve() for `dst`.
  void commit(const endpoint& dst, std::size_t len) noexcept {
    msgs_[count_++] = outbound{dst, static_cast<std::uint32_t>(used_), static_cast<std::uint16_t>(len)};
    used_ += (len + 63) & ~std::size_t{63};  // keep messages cache-line aligned
  }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] const outbound& operator[](std::size_t i) const noexcept { return msgs_[i]; }
  [[nodiscard]] std::string_view bytes(const outbound& o) const noexcept { return {arena_.data() + o.off, o.len}; }
  void clear() noexcept { count_ = used_ = 0; }

 private:
  alignas(64) std::array<char, arena_bytes> arena_{};
  std::array<outbound, max_messages> msgs_{};
  std::size_t count_ = 0;
  std::size_t used_ = 0;
};

}  // namespace sipfront::reg
