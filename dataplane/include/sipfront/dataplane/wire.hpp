// Ethernet/ARP/IPv4/UDP/ICMP wire formats as byte offsets, plus the Internet
// checksum. DPDK-free on purpose: the same code runs on mbuf data in the daemon
// and on plain byte buffers in the unit tests (which also run under ASan, where
// an EAL is not welcome).
//
// Multi-byte fields are read and written through memcpy-based helpers, never by
// casting a packet pointer to a struct: frames arrive at any alignment (the IPv4
// header sits at offset 14) and the helpers compile to single loads anyway.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace sipfront::dp {

using bytes = std::span<std::uint8_t>;
using const_bytes = std::span<const std::uint8_t>;

// ------------------------------------------------------------------ byte order

[[nodiscard]] inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
[[nodiscard]] inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return std::endian::native == std::endian::little ? __builtin_bswap32(v) : v;
}
inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}

// ------------------------------------------------------------------ addresses

struct mac_addr {
  std::array<std::uint8_t, 6> b{};

  [[nodiscard]] static mac_addr load(const std::uint8_t* p) noexcept {
    mac_addr m;
    std::memcpy(m.b.data(), p, 6);
    return m;
  }
  void store(std::uint8_t* p) const noexcept { std::memcpy(p, b.data(), 6); }
  [[nodiscard]] bool is_broadcast() const noexcept { return (b[0] & b[1] & b[2] & b[3] & b[4] & b[5]) == 0xff; }
  [[nodiscard]] bool is_multicast() const noexcept { return (b[0] & 1U) != 0; }
  [[nodiscard]] bool is_zero() const noexcept { return (b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0; }
  friend bool operator==(const mac_addr&, const mac_addr&) = default;
};

inline constexpr mac_addr broadcast_mac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

/// "02:5f:00:01:00:01"
std::string to_string(const mac_addr& m);
/// Dotted quad of a host-order IPv4 address.
std::string ipv4_to_string(std::uint32_t ip);

// ------------------------------------------------------------------ layouts

namespace eth {
inline constexpr std::size_t dst = 0;
inline constexpr std::size_t src = 6;
inline constexpr std::size_t type = 12;
inline constexpr std::size_t header_len = 14;
/// Shortest frame on the wire without FCS; shorter frames are padded.
inline constexpr std::size_t min_frame = 60;
inline constexpr std::uint16_t type_ipv4 = 0x0800;
inline constexpr std::uint16_t type_arp = 0x0806;
inline constexpr std::uint16_t type_vlan = 0x8100;
inline constexpr std::uint16_t type_ipv6 = 0x86dd;
}  // namespace eth

namespace arp {
// Offsets from the start of the ARP payload (after the Ethernet header).
inline constexpr std::size_t htype = 0;
inline constexpr std::size_t ptype = 2;
inline constexpr std::size_t hlen = 4;
inline constexpr std::size_t plen = 5;
inline constexpr std::size_t oper = 6;
inline constexpr std::size_t sha = 8;
inline constexpr std::size_t spa = 14;
inline constexpr std::size_t tha = 18;
inline constexpr std::size_t tpa = 24;
inline constexpr std::size_t len = 28;
inline constexpr std::uint16_t op_request = 1;
inline constexpr std::uint16_t op_reply = 2;
}  // namespace arp

namespace ipv4 {
inline constexpr std::size_t ver_ihl = 0;
inline constexpr std::size_t tos = 1;
inline constexpr std::size_t total_length = 2;
inline constexpr std::size_t id = 4;
inline constexpr std::size_t frag = 6;  ///< flags (3 bits) + fragment offset in 8-byte units
inline constexpr std::size_t ttl = 8;
inline constexpr std::size_t proto = 9;
inline constexpr std::size_t checksum = 10;
inline constexpr std::size_t src = 12;
inline constexpr std::size_t dst = 16;
inline constexpr std::size_t min_header_len = 20;
inline constexpr std::uint16_t flag_df = 0x4000;
inline constexpr std::uint16_t flag_mf = 0x2000;
inline constexpr std::uint16_t offset_mask = 0x1fff;
inline constexpr std::uint8_t proto_icmp = 1;
inline constexpr std::uint8_t proto_udp = 17;
inline constexpr std::uint8_t default_ttl = 64;
inline constexpr std::uint32_t limited_broadcast = 0xffffffffU;
}  // namespace ipv4

namespace udp {
inline constexpr std::size_t src_port = 0;
inline constexpr std::size_t dst_port = 2;
inline constexpr std::size_t length = 4;
inline constexpr std::size_t checksum = 6;
inline constexpr std::size_t header_len = 8;
}  // namespace udp

namespace icmp {
inline constexpr std::size_t type = 0;
inline constexpr std::size_t code = 1;
inline constexpr std::size_t checksum = 2;
inline constexpr std::size_t header_len = 8;
inline constexpr std::uint8_t echo_reply = 0;
inline constexpr std::uint8_t echo_request = 8;
}  // namespace icmp

/// Ethernet + IPv4 (no options) + UDP: the headers the front end writes.
inline constexpr std::size_t udp_headers_len = eth::header_len + ipv4::min_header_len + udp::header_len;

// ------------------------------------------------------------------ checksum

/// One's-complement sum of `data` added to `sum` (RFC 1071), not folded. An odd
/// trailing byte is padded with zero, so only the last chunk of a sum may be odd.
[[nodiscard]] std::uint32_t cksum_add(const_bytes data, std::uint32_t sum = 0) noexcept;
/// Folds a 32-bit partial sum to 16 bits (not complemented).
[[nodiscard]] inline std::uint16_t cksum_fold(std::uint32_t sum) noexcept {
  sum = (sum & 0xffffU) + (sum >> 16);
  sum = (sum & 0xffffU) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}
/// The value to store in an IPv4 header's checksum field (the field itself must be zero).
[[nodiscard]] inline std::uint16_t ipv4_header_checksum(const_bytes header) noexcept {
  return static_cast<std::uint16_t>(~cksum_fold(cksum_add(header)));
}
/// True when a received IPv4 header (checksum field included) sums to 0xffff.
[[nodiscard]] inline bool ipv4_header_checksum_ok(const_bytes header) noexcept {
  return cksum_fold(cksum_add(header)) == 0xffff;
}
/// Partial sum of the UDP/IPv4 pseudo-header (addresses host order).
[[nodiscard]] std::uint32_t pseudo_header_sum(std::uint32_t src, std::uint32_t dst, std::uint8_t proto,
                                              std::uint16_t l4_len) noexcept;
/// The UDP checksum to store for `datagram` (UDP header with checksum field zero,
/// plus payload). Zero maps to 0xffff: zero on the wire means "no checksum".
[[nodiscard]] std::uint16_t udp_checksum(std::uint32_t src, std::uint32_t dst, const_bytes datagram) noexcept;
/// Verifies a received UDP datagram (header + payload as on the wire). A zero
/// checksum field means the sender computed none and is accepted (RFC 768).
[[nodiscard]] bool udp_checksum_ok(std::uint32_t src, std::uint32_t dst, const_bytes datagram) noexcept;

}  // namespace sipfront::dp
