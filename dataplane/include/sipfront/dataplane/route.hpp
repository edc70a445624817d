// Addressing of one front-end interface and next-hop selection. Each interface
// is a single IPv4 subnet with an optional default gateway; that is all routing
// a registration front end needs (no dynamic routing on the data path).
#pragma once

#include <cstdint>

namespace sipfront::dp {

struct iface_addr {
  std::uint32_t ip = 0;  ///< our address, host order
  std::uint8_t prefix_len = 0;
  std::uint32_t gateway = 0;  ///< 0 = none

  [[nodiscard]] std::uint32_t mask() const noexcept {
    return prefix_len == 0 ? 0U : ~std::uint32_t{0} << (32U - prefix_len);
  }
  [[nodiscard]] bool on_link(std::uint32_t dst) const noexcept { return ((dst ^ ip) & mask()) == 0; }
  /// The subnet's directed broadcast address (never for /31 and /32, RFC 3021).
  [[nodiscard]] std::uint32_t directed_broadcast() const noexcept { return prefix_len >= 31 ? 0U : (ip | ~mask()); }
};

/// The address to resolve with ARP for sending to `dst`: `dst` itself when it is
/// on the interface's subnet, else the gateway. 0 when `dst` is unreachable (off
/// link without a gateway, or the unspecified address).
[[nodiscard]] inline std::uint32_t next_hop(const iface_addr& a, std::uint32_t dst) noexcept {
  if (dst == 0) [[unlikely]]
    return 0;
  if (a.on_link(dst)) return dst;
  return a.gateway;
}

}  // namespace sipfront::dp
