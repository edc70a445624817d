#include "sipfront/dataplane/build.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "frames.hpp"

namespace sipfront::dp {
namespace {

udp_tx us_to_phone() {
  udp_tx t;
  t.src_mac = test::our_mac;
  t.dst_mac = test::phone_mac;
  t.src_ip = test::our_ip;
  t.dst_ip = test::phone_ip;
  t.src_port = 5060;
  t.dst_port = 5070;
  t.ip_id = 7;
  return t;
}

TEST(Build, UdpHeadersSoftwareChecksums) {
  const std::string payload = "SIP/2.0 200 OK\r\n\r\n";
  std::vector<std::uint8_t> f(udp_headers_len + payload.size());
  std::copy(payload.begin(), payload.end(), f.begin() + udp_headers_len);
  write_udp_headers(f, us_to_phone(), cksum_mode::software);
  const std::uint8_t* ip = f.data() + eth::header_len;
  EXPECT_EQ(mac_addr::load(f.data() + eth::dst), test::phone_mac);
  EXPECT_EQ(mac_addr::load(f.data() + eth::src), test::our_mac);
  EXPECT_EQ(load_be16(f.data() + eth::type), eth::type_ipv4);
  EXPECT_EQ(ip[ipv4::ver_ihl], 0x45);
  EXPECT_EQ(ip[ipv4::ttl], 64);
  EXPECT_EQ(load_be16(ip + ipv4::frag), 0) << "DF off, not a fragment";
  EXPECT_EQ(load_be16(ip + ipv4::id), 7);
  EXPECT_EQ(load_be16(ip + ipv4::total_length), 20 + 8 + payload.size());
  EXPECT_TRUE(ipv4_header_checksum_ok(const_bytes(ip, 20)));
  EXPECT_TRUE(udp_checksum_ok(test::our_ip, test::phone_ip, const_bytes(f).subspan(eth::header_len + 20)));
  EXPECT_NE(load_be16(ip + 20 + udp::checksum), 0);
  // What we send, the peer's classifier accepts.
  ingress_policy peer;
  peer.mac = test::phone_mac;
  peer.addr = iface_addr{test::phone_ip, 24, 0};
  peer.sip_port = 5070;
  EXPECT_EQ(classify(f, peer).kind, ingress_kind::sip);
}

TEST(Build, UdpHeadersOffloadLeavesPseudoHeaderSum) {
  std::vector<std::uint8_t> f(udp_headers_len + 10, 'a');
  write_udp_headers(f, us_to_phone(), cksum_mode::offload);
  const std::uint8_t* ip = f.data() + eth::header_len;
  EXPECT_EQ(load_be16(ip + ipv4::checksum), 0);
  EXPECT_EQ(load_be16(ip + 20 + udp::checksum),
            cksum_fold(pseudo_header_sum(test::our_ip, test::phone_ip, ipv4::proto_udp, 18)));
}

TEST(Build, PlanFragments) {
  fragment_plan p = plan_fragments(1472, 1500);
  EXPECT_EQ(p.count, 1U) << "exactly fits";
  p = plan_fragments(1473, 1500);
  EXPECT_EQ(p.count, 2U);
  EXPECT_EQ(p.chunk, 1480U);
  EXPECT_EQ(p.datagram_len, 1481U);
  EXPECT_EQ(fragment_frame_len(p, 0), 14U + 20 + 1480);
  EXPECT_EQ(fragment_frame_len(p, 1), 14U + 20 + 1);
  p = plan_fragments(8000, 1400);
  EXPECT_EQ(p.chunk % 8, 0U);
  EXPECT_EQ(p.count, (8008 + p.chunk - 1) / p.chunk);
}

TEST(Build, FragmentsReassembleToTheDatagram) {
  std::string payload;
  for (int i = 0; i < 4000; ++i) payload.push_back(static_cast<char>('a' + i % 26));
  const const_bytes pl(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
  const udp_tx t = us_to_phone();
  const fragment_plan plan = plan_fragments(payload.size(), 1500);
  ASSERT_EQ(plan.count, 3U);
  const std::uint16_t ck = udp_datagram_checksum(t, pl);
  std::vector<std::uint8_t> datagram(plan.datagram_len);
  std::size_t covered = 0;
  for (std::size_t i = 0; i < plan.count; ++i) {
    std::vector<std::uint8_t> f(fragment_frame_len(plan, i));
    write_udp_fragment(f, t, pl, plan, i, ck);
    const std::uint8_t* ip = f.data() + eth::header_len;
    ASSERT_TRUE(ipv4_header_checksum_ok(const_bytes(ip, 20)));
    EXPECT_EQ(load_be16(ip + ipv4::total_length), f.size() - eth::header_len);
    const std::uint16_t frag = load_be16(ip + ipv4::frag);
    EXPECT_EQ((frag & ipv4::flag_mf) != 0, i + 1 < plan.count);
    const std::size_t off = static_cast<std::size_t>(frag & ipv4::offset_mask) * 8;
    EXPECT_EQ(off, covered);
    std::copy(f.begin() + eth::header_len + 20, f.end(), datagram.begin() + static_cast<std::ptrdiff_t>(off));
    covered += f.size() - eth::header_len - 20;
    ingress_policy peer;
    peer.mac = test::phone_mac;
    peer.addr = iface_addr{test::phone_ip, 24, 0};
    peer.sip_port = 5070;
    EXPECT_EQ(classify(f, peer).kind, ingress_kind::ipv4_fragment);
  }
  EXPECT_EQ(covered, plan.datagram_len);
  EXPECT_EQ(load_be16(datagram.data() + udp::length), plan.datagram_len);
  EXPECT_EQ(load_be16(datagram.data() + udp::dst_port), 5070);
  EXPECT_TRUE(udp_checksum_ok(t.src_ip, t.dst_ip, datagram));
  EXPECT_EQ(std::string(datagram.begin() + 8, datagram.end()), payload);
}

TEST(Build, ArpRequestAndReplyInPlace) {
  std::vector<std::uint8_t> f(eth::min_frame);
  EXPECT_EQ(write_arp(f, arp::op_request, broadcast_mac, test::phone_mac, test::phone_ip, mac_addr{}, test::our_ip),
            eth::min_frame);
  ASSERT_EQ(classify(f, test::policy()).kind, ingress_kind::arp_request_for_us);
  arp_request_to_reply(f, test::our_mac, test::our_ip);
  const std::uint8_t* a = f.data() + eth::header_len;
  EXPECT_EQ(mac_addr::load(f.data() + eth::dst), test::phone_mac);
  EXPECT_EQ(mac_addr::load(f.data() + eth::src), test::our_mac);
  EXPECT_EQ(load_be16(a + arp::oper), arp::op_reply);
  EXPECT_EQ(mac_addr::load(a + arp::sha), test::our_mac);
  EXPECT_EQ(load_be32(a + arp::spa), test::our_ip);
  EXPECT_EQ(mac_addr::load(a + arp::tha), test::phone_mac);
  EXPECT_EQ(load_be32(a + arp::tpa), test::phone_ip);
}

TEST(Build, IcmpEchoReplyInPlace) {
  auto f = test::udp_frame("pingpong");
  f[eth::header_len + ipv4::proto] = ipv4::proto_icmp;
  f[eth::header_len + ipv4::ttl] = 3;
  test::fix_ip_checksum(f);
  std::uint8_t* ic = f.data() + eth::header_len + 20;
  ic[icmp::type] = icmp::echo_request;
  ic[icmp::code] = 0;
  store_be16(ic + icmp::checksum, 0);
  store_be16(ic + icmp::checksum, static_cast<std::uint16_t>(~cksum_fold(cksum_add(const_bytes(ic, 16)))));
  const ingress in = classify(f, test::policy());
  ASSERT_EQ(in.kind, ingress_kind::icmp_echo);
  auto bad = f;
  bad[bad.size() - 1] ^= 1;
  EXPECT_FALSE(icmp_echo_to_reply(bad, in, test::our_mac));
  ASSERT_TRUE(icmp_echo_to_reply(f, in, test::our_mac));
  const std::uint8_t* ip = f.data() + eth::header_len;
  EXPECT_EQ(mac_addr::load(f.data() + eth::dst), test::phone_mac);
  EXPECT_EQ(load_be32(ip + ipv4::dst), test::phone_ip);
  EXPECT_EQ(load_be32(ip + ipv4::src), test::our_ip);
  EXPECT_EQ(ip[ipv4::ttl], 64);
  EXPECT_TRUE(ipv4_header_checksum_ok(const_bytes(ip, 20)));
  EXPECT_EQ(ic[icmp::type], icmp::echo_reply);
  EXPECT_EQ(cksum_fold(cksum_add(const_bytes(ic, 16))), 0xffff);
}

TEST(Build, NextHop) {
  const iface_addr a{0xc6120201, 24, 0xc61202fe};
  EXPECT_EQ(next_hop(a, 0xc6120202), 0xc6120202U) << "on link";
  EXPECT_EQ(next_hop(a, 0x0a000001), 0xc61202feU) << "via gateway";
  EXPECT_EQ(next_hop(iface_addr{0xc6120201, 24, 0}, 0x0a000001), 0U) << "no gateway: unreachable";
  EXPECT_EQ(next_hop(a, 0), 0U);
  EXPECT_EQ(next_hop(iface_addr{0xc6120201, 32, 0xc6120202}, 0xc6120202), 0xc6120202U) << "/32 goes via gateway";
  EXPECT_EQ(next_hop(iface_addr{0xc6120201, 0, 0}, 0x08080808), 0x08080808U) << "/0: everything on link";
  EXPECT_EQ(iface_addr(0xc6120201, 24, 0).directed_broadcast(), 0xc61202ffU);
  EXPECT_EQ(iface_addr(0xc6120201, 31, 0).directed_broadcast(), 0U);
}

}  // namespace
}  // namespace sipfront::dp
