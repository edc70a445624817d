#include "sipfront/dataplane/build.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace sipfront::dp {

namespace {

void write_eth(std::uint8_t* f, const mac_addr& dst, const mac_addr& src, std::uint16_t type) noexcept {
  dst.store(f + eth::dst);
  src.store(f + eth::src);
  store_be16(f + eth::type, type);
}

// IPv4 header without options; the checksum field is left zero.
void write_ipv4(std::uint8_t* h, const udp_tx& p, std::uint16_t total_len, std::uint16_t frag) noexcept {
  h[ipv4::ver_ihl] = 0x45;
  h[ipv4::tos] = 0;
  store_be16(h + ipv4::total_length, total_len);
  store_be16(h + ipv4::id, p.ip_id);
  store_be16(h + ipv4::frag, frag);
  h[ipv4::ttl] = ipv4::default_ttl;
  h[ipv4::proto] = ipv4::proto_udp;
  store_be16(h + ipv4::checksum, 0);
  store_be32(h + ipv4::src, p.src_ip);
  store_be32(h + ipv4::dst, p.dst_ip);
}

void write_udp_header(std::uint8_t* u, const udp_tx& p, std::uint16_t udp_len, std::uint16_t cksum) noexcept {
  store_be16(u + udp::src_port, p.src_port);
  store_be16(u + udp::dst_port, p.dst_port);
  store_be16(u + udp::length, udp_len);
  store_be16(u + udp::checksum, cksum);
}

}  // namespace

void write_udp_headers(bytes frame, const udp_tx& p, cksum_mode mode) noexcept {
  std::uint8_t* f = frame.data();
  const std::size_t l4_len = frame.size() - eth::header_len - ipv4::min_header_len;
  write_eth(f, p.dst_mac, p.src_mac, eth::type_ipv4);
  std::uint8_t* ip = f + eth::header_len;
  write_ipv4(ip, p, static_cast<std::uint16_t>(ipv4::min_header_len + l4_len), 0);
  std::uint8_t* u = ip + ipv4::min_header_len;
  const auto udp_len = static_cast<std::uint16_t>(l4_len);
  if (mode == cksum_mode::offload) {
    // The NIC completes both; it wants the folded pseudo-header sum in the UDP field.
    write_udp_header(u, p, udp_len, cksum_fold(pseudo_header_sum(p.src_ip, p.dst_ip, ipv4::proto_udp, udp_len)));
    return;
  }
  write_udp_header(u, p, udp_len, 0);
  store_be16(u + udp::checksum, udp_checksum(p.src_ip, p.dst_ip, const_bytes(u, l4_len)));
  store_be16(ip + ipv4::checksum, ipv4_header_checksum(const_bytes(ip, ipv4::min_header_len)));
}

fragment_plan plan_fragments(std::size_t payload_len, std::size_t mtu) noexcept {
  fragment_plan plan;
  plan.datagram_len = udp::header_len + payload_len;
  const std::size_t room = mtu > ipv4::min_header_len ? mtu - ipv4::min_header_len : 0;
  if (plan.datagram_len <= room) {
    plan.chunk = plan.datagram_len;
    return plan;
  }
  plan.chunk = room & ~std::size_t{7};
  if (plan.chunk == 0) plan.chunk = 8;  // absurd MTU: still make progress
  plan.count = (plan.datagram_len + plan.chunk - 1) / plan.chunk;
  return plan;
}

std::size_t fragment_frame_len(const fragment_plan& plan, std::size_t i) noexcept {
  const std::size_t start = i * plan.chunk;
  const std::size_t n = std::min(plan.chunk, plan.datagram_len - start);
  return eth::header_len + ipv4::min_header_len + n;
}

std::uint16_t udp_datagram_checksum(const udp_tx& p, const_bytes payload) noexcept {
  std::array<std::uint8_t, udp::header_len> hdr{};
  const auto udp_len = static_cast<std::uint16_t>(udp::header_len + payload.size());
  write_udp_header(hdr.data(), p, udp_len, 0);
  // The header is 8 bytes, so chaining the payload's sum after it keeps word alignment.
  std::uint32_t sum = pseudo_header_sum(p.src_ip, p.dst_ip, ipv4::proto_udp, udp_len);
  sum = cksum_add(hdr, sum);
  sum = cksum_add(payload, sum);
  const auto c = static_cast<std::uint16_t>(~cksum_fold(sum));
  return c == 0 ? std::uint16_t{0xffff} : c;
}

void write_udp_fragment(bytes frame, const udp_tx& p, const_bytes payload, const fragment_plan& plan, std::size_t i,
                        std::uint16_t udp_cksum) noexcept {
  std::uint8_t* f = frame.data();
  const std::size_t start = i * plan.chunk;
  const std::size_t n = std::min(plan.chunk, plan.datagram_len - start);
  const bool last = i + 1 == plan.count;
  write_eth(f, p.dst_mac, p.src_mac, eth::type_ipv4);
  std::uint8_t* ip = f + eth::header_len;
  const auto frag = static_cast<std::uint16_t>((last ? 0U : ipv4::flag_mf) | ((start / 8) & ipv4::offset_mask));
  write_ipv4(ip, p, static_cast<std::uint16_t>(ipv4::min_header_len + n), frag);
  store_be16(ip + ipv4::checksum, ipv4_header_checksum(const_bytes(ip, ipv4::min_header_len)));
  std::uint8_t* out = ip + ipv4::min_header_len;
  // Datagram bytes [start, start + n): the UDP header occupies [0, 8).
  std::size_t pos = start;
  std::size_t left = n;
  if (pos < udp::header_len) {
    std::array<std::uint8_t, udp::header_len> hdr{};
    write_udp_header(hdr.data(), p, static_cast<std::uint16_t>(plan.datagram_len), udp_cksum);
    const std::size_t k = std::min(left, udp::header_len - pos);
    std::memcpy(out, hdr.data() + pos, k);
    out += k;
    pos += k;
    left -= k;
  }
  if (left != 0) std::memcpy(out, payload.data() + (pos - udp::header_len), left);
}

std::size_t write_arp(bytes frame, std::uint16_t op, const mac_addr& eth_dst, const mac_addr& sha, std::uint32_t spa,
                      const mac_addr& tha, std::uint32_t tpa) noexcept {
  std::uint8_t* f = frame.data();
  std::memset(f, 0, eth::min_frame);
  write_eth(f, eth_dst, sha, eth::type_arp);
  std::uint8_t* a = f + eth::header_len;
  store_be16(a + arp::htype, 1);
  store_be16(a + arp::ptype, eth::type_ipv4);
  a[arp::hlen] = 6;
  a[arp::plen] = 4;
  store_be16(a + arp::oper, op);
  sha.store(a + arp::sha);
  store_be32(a + arp::spa, spa);
  tha.store(a + arp::tha);
  store_be32(a + arp::tpa, tpa);
  return eth::min_frame;
}

void arp_request_to_reply(bytes frame, const mac_addr& our_mac, std::uint32_t our_ip) noexcept {
  std::uint8_t* f = frame.data();
  std::uint8_t* a = f + eth::header_len;
  const mac_addr sha = mac_addr::load(a + arp::sha);
  const std::uint32_t spa = load_be32(a + arp::spa);
  write_eth(f, sha, our_mac, eth::type_arp);
  store_be16(a + arp::oper, arp::op_reply);
  sha.store(a + arp::tha);
  store_be32(a + arp::tpa, spa);
  our_mac.store(a + arp::sha);
  store_be32(a + arp::spa, our_ip);
}

bool icmp_echo_to_reply(bytes frame, const ingress& in, const mac_addr& our_mac) noexcept {
  std::uint8_t* f = frame.data();
  std::uint8_t* ip = f + in.l3_off;
  std::uint8_t* ic = ip + in.l3_len;
  const std::size_t icmp_len = std::size_t{in.ip_len} - in.l3_len;
  if (cksum_fold(cksum_add(const_bytes(ic, icmp_len))) != 0xffff) return false;
  const mac_addr peer = mac_addr::load(f + eth::src);
  write_eth(f, peer, our_mac, eth::type_ipv4);
  store_be32(ip + ipv4::dst, in.src_ip);
  store_be32(ip + ipv4::src, in.dst_ip);
  ip[ipv4::ttl] = ipv4::default_ttl;
  store_be16(ip + ipv4::frag, 0);
  store_be16(ip + ipv4::checksum, 0);
  store_be16(ip + ipv4::checksum, ipv4_header_checksum(const_bytes(ip, in.l3_len)));
  ic[icmp::type] = icmp::echo_reply;
  store_be16(ic + icmp::checksum, 0);
  store_be16(ic + icmp::checksum, static_cast<std::uint16_t>(~cksum_fold(cksum_add(const_bytes(ic, icmp_len)))));
  return true;
}

}  // namespace sipfront::dp
