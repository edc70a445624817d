#include "sipfront/dataplane/wire.hpp"

#include <cstdio>

namespace sipfront::dp {

std::string to_string(const mac_addr& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m.b[0], m.b[1], m.b[2], m.b[3], m.b[4], m.b[5]);
  return buf;
}

std::string ipv4_to_string(std::uint32_t ip) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xffU, (ip >> 8) & 0xffU, ip & 0xffU);
  return buf;
}

std::uint32_t cksum_add(const_bytes data, std::uint32_t sum) noexcept {
  // 64-bit accumulator over 32-bit big-endian words: fewer carries to fold than a
  // 16-bit loop, and no overflow for any datagram (<= 64 KiB).
  std::uint64_t acc = sum;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  while (n >= 4) {
    acc += load_be32(p);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    acc += static_cast<std::uint64_t>(load_be16(p)) << 16;
    p += 2;
    n -= 2;
    // The remaining byte (if any) belongs to the low half of this 32-bit word.
    if (n == 1) acc += static_cast<std::uint64_t>(p[0]) << 8;
  } else if (n == 1) {
    acc += static_cast<std::uint64_t>(p[0]) << 24;
  }
  // Fold 64 -> 32 -> 17 bits; the caller folds to 16 (cksum_fold).
  acc = (acc & 0xffffffffU) + (acc >> 32);
  acc = (acc & 0xffffffffU) + (acc >> 32);
  const auto w = static_cast<std::uint32_t>(acc);
  return (w & 0xffffU) + (w >> 16);
}

std::uint32_t pseudo_header_sum(std::uint32_t src, std::uint32_t dst, std::uint8_t proto,
                                std::uint16_t l4_len) noexcept {
  return (src >> 16) + (src & 0xffffU) + (dst >> 16) + (dst & 0xffffU) + proto + l4_len;
}

std::uint16_t udp_checksum(std::uint32_t src, std::uint32_t dst, const_bytes datagram) noexcept {
  const std::uint32_t sum =
      cksum_add(datagram, pseudo_header_sum(src, dst, ipv4::proto_udp, static_cast<std::uint16_t>(datagram.size())));
  const auto c = static_cast<std::uint16_t>(~cksum_fold(sum));
  return c == 0 ? std::uint16_t{0xffff} : c;
}

bool udp_checksum_ok(std::uint32_t src, std::uint32_t dst, const_bytes datagram) noexcept {
  if (datagram.size() < udp::header_len) return false;
  if (load_be16(datagram.data() + udp::checksum) == 0) return true;
  const std::uint32_t sum =
      cksum_add(datagram, pseudo_header_sum(src, dst, ipv4::proto_udp, static_cast<std::uint16_t>(datagram.size())));
  return cksum_fold(sum) == 0xffff;
}

}  // namespace sipfront::dp
