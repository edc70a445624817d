// Frame builders shared by the dataplane unit tests.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "sipfront/dataplane/build.hpp"
#include "sipfront/dataplane/classify.hpp"
#include "sipfront/dataplane/wire.hpp"

namespace sipfront::dp::test {

inline constexpr mac_addr our_mac{{0x02, 0x5f, 0x00, 0x01, 0x00, 0x01}};
inline constexpr mac_addr phone_mac{{0x02, 0x5f, 0x00, 0x01, 0x00, 0x02}};
inline constexpr std::uint32_t our_ip = 0xc6120101;    // 198.18.1.1
inline constexpr std::uint32_t phone_ip = 0xc6120102;  // 198.18.1.2

inline ingress_policy policy() {
  ingress_policy p;
  p.mac = our_mac;
  p.addr = iface_addr{our_ip, 24, 0};
  p.sip_port = 5060;
  return p;
}

inline udp_tx phone_to_us(std::uint16_t dport = 5060) {
  udp_tx t;
  t.src_mac = phone_mac;
  t.dst_mac = our_mac;
  t.src_ip = phone_ip;
  t.dst_ip = our_ip;
  t.src_port = 5070;
  t.dst_port = dport;
  t.ip_id = 0x1234;
  return t;
}

/// A complete Ethernet/IPv4/UDP frame carrying `payload`, checksums in software.
inline std::vector<std::uint8_t> udp_frame(std::string_view payload, const udp_tx& t = phone_to_us()) {
  std::vector<std::uint8_t> f(udp_headers_len + payload.size());
  std::copy(payload.begin(), payload.end(), f.begin() + udp_headers_len);
  write_udp_headers(f, t, cksum_mode::software);
  return f;
}

/// Recomputes the IPv4 header checksum after a test edited the header.
inline void fix_ip_checksum(std::vector<std::uint8_t>& f) {
  std::uint8_t* ip = f.data() + eth::header_len;
  const std::size_t ihl = std::size_t{ip[0] & 0x0fU} * 4;
  store_be16(ip + ipv4::checksum, 0);
  store_be16(ip + ipv4::checksum, ipv4_header_checksum(const_bytes(ip, ihl)));
}

inline std::vector<std::uint8_t> arp_frame(std::uint16_t op, std::uint32_t spa, std::uint32_t tpa,
                                           const mac_addr& eth_dst = broadcast_mac) {
  std::vector<std::uint8_t> f(eth::min_frame);
  (void)write_arp(f, op, eth_dst, phone_mac, spa, op == arp::op_reply ? our_mac : mac_addr{}, tpa);
  return f;
}

}  // namespace sipfront::dp::test
