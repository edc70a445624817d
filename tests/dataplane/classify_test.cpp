#include "sipfront/dataplane/classify.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "frames.hpp"

namespace sipfront::dp {
namespace {

using test::fix_ip_checksum;
using test::policy;
using test::udp_frame;

constexpr std::string_view sip_payload = "REGISTER sip:example.net SIP/2.0\r\n\r\n";

TEST(Classify, SipDatagramToUs) {
  const auto f = udp_frame(sip_payload);
  const ingress in = classify(f, policy());
  ASSERT_EQ(in.kind, ingress_kind::sip);
  EXPECT_TRUE(in.verify_udp_checksum);
  EXPECT_EQ(in.src_ip, test::phone_ip);
  EXPECT_EQ(in.dst_ip, test::our_ip);
  EXPECT_EQ(in.src_port, 5070);
  EXPECT_EQ(in.dst_port, 5060);
  EXPECT_EQ(in.payload_off, udp_headers_len);
  EXPECT_EQ(in.payload_len, sip_payload.size());
  EXPECT_EQ(in.l3_off, eth::header_len);
  EXPECT_EQ(in.l3_len, 20);
  EXPECT_EQ(in.frame_len_used(), f.size());
  EXPECT_TRUE(udp_checksum_ok(in.src_ip, in.dst_ip, const_bytes(f).subspan(std::size_t{in.l3_off} + in.l3_len)));
}

TEST(Classify, EthernetPaddingIsIgnored) {
  auto f = udp_frame("x");
  const std::size_t used = f.size();
  f.resize(eth::min_frame, 0);
  const ingress in = classify(f, policy());
  ASSERT_EQ(in.kind, ingress_kind::sip);
  EXPECT_EQ(in.frame_len_used(), used);
  EXPECT_EQ(in.payload_len, 1);
}

TEST(Classify, NicVerdictsReplaceSoftwareChecks) {
  auto f = udp_frame(sip_payload);
  store_be16(f.data() + eth::header_len + ipv4::checksum, 0xdead);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::ipv4_bad_checksum);
  EXPECT_EQ(classify(f, policy(), hw_cksum::good).kind, ingress_kind::sip) << "NIC said good: not rechecked";
  f = udp_frame(sip_payload);
  EXPECT_EQ(classify(f, policy(), hw_cksum::bad).reason, drop_reason::ipv4_bad_checksum);
  EXPECT_EQ(classify(f, policy(), hw_cksum::good, hw_cksum::bad).reason, drop_reason::udp_bad_checksum);
  EXPECT_FALSE(classify(f, policy(), hw_cksum::good, hw_cksum::good).verify_udp_checksum);
}

TEST(Classify, ZeroUdpChecksumNeedsNoVerification) {
  auto f = udp_frame(sip_payload);
  store_be16(f.data() + eth::header_len + 20 + udp::checksum, 0);
  const ingress in = classify(f, policy());
  ASSERT_EQ(in.kind, ingress_kind::sip);
  EXPECT_FALSE(in.verify_udp_checksum);
}

TEST(Classify, L2Drops) {
  EXPECT_EQ(classify(std::vector<std::uint8_t>(13), policy()).reason, drop_reason::runt_frame);
  auto t = test::phone_to_us();
  t.dst_mac = mac_addr{{0x02, 0, 0, 0, 0, 9}};
  EXPECT_EQ(classify(udp_frame("x", t), policy()).reason, drop_reason::foreign_dst_mac);
  t = test::phone_to_us();
  t.dst_mac = broadcast_mac;
  EXPECT_EQ(classify(udp_frame("x", t), policy()).kind, ingress_kind::sip) << "broadcast MAC, our IP: accepted";
  t = test::phone_to_us();
  t.src_mac = test::our_mac;
  EXPECT_EQ(classify(udp_frame("x", t), policy()).reason, drop_reason::own_src_mac);
  auto f = udp_frame("x");
  store_be16(f.data() + eth::type, eth::type_ipv6);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::ipv6);
  store_be16(f.data() + eth::type, eth::type_vlan);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::unsupported_ethertype);
}

TEST(Classify, Ipv4HeaderRules) {
  auto f = udp_frame(sip_payload);
  f.resize(eth::header_len + 19);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::ipv4_truncated);

  f = udp_frame(sip_payload);
  f[eth::header_len] = 0x65;  // version 6 in an IPv4 ethertype
  fix_ip_checksum(f);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::ipv4_bad_version);

  f = udp_frame(sip_payload);
  f[eth::header_len] = 0x44;  // IHL 16 bytes
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::ipv4_bad_ihl);

  f = udp_frame(sip_payload);
  store_be16(f.data() + eth::header_len + ipv4::total_length, 19);
  fix_ip_checksum(f);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::ipv4_bad_length);

  f = udp_frame(sip_payload);
  f.pop_back();  // total length now exceeds the frame
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::ipv4_truncated);
}

TEST(Classify, Ipv4AddressRules) {
  auto t = test::phone_to_us();
  t.dst_ip = 0xc6120163;
  EXPECT_EQ(classify(udp_frame("x", t), policy()).reason, drop_reason::ipv4_not_for_us);
  t.dst_ip = 0xc61201ff;
  EXPECT_EQ(classify(udp_frame("x", t), policy()).reason, drop_reason::ipv4_not_for_us) << "directed broadcast";
  for (std::uint32_t bad : {0U, 0xffffffffU, 0xe0000001U, test::our_ip, 0xc61201ffU}) {
    t = test::phone_to_us();
    t.src_ip = bad;
    EXPECT_EQ(classify(udp_frame("x", t), policy()).reason, drop_reason::ipv4_bad_source) << ipv4_to_string(bad);
  }
}

TEST(Classify, UdpRules) {
  EXPECT_EQ(classify(udp_frame("x", test::phone_to_us(5061)), policy()).reason, drop_reason::udp_port_closed);
  auto f = udp_frame(sip_payload);
  store_be16(f.data() + eth::header_len + 20 + udp::length, 9);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::udp_bad_length);
  // IPv4 total length covering only 4 bytes of UDP.
  f = udp_frame(sip_payload);
  store_be16(f.data() + eth::header_len + ipv4::total_length, 24);
  fix_ip_checksum(f);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::udp_truncated);
  // Unknown protocol.
  f = udp_frame(sip_payload);
  f[eth::header_len + ipv4::proto] = 6;
  fix_ip_checksum(f);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::ip_proto_unsupported);
}

TEST(Classify, Ipv4OptionsAreSkipped) {
  auto base = udp_frame(sip_payload);
  std::vector<std::uint8_t> f(base.begin(), base.begin() + eth::header_len + 20);
  f.insert(f.end(), {1, 1, 1, 0});  // NOP NOP NOP EOL
  f.insert(f.end(), base.begin() + eth::header_len + 20, base.end());
  f[eth::header_len] = 0x46;
  store_be16(f.data() + eth::header_len + ipv4::total_length, static_cast<std::uint16_t>(f.size() - eth::header_len));
  fix_ip_checksum(f);
  const ingress in = classify(f, policy());
  ASSERT_EQ(in.kind, ingress_kind::sip);
  EXPECT_EQ(in.l3_len, 24);
  EXPECT_EQ(in.payload_off, udp_headers_len + 4);
}

TEST(Classify, Fragments) {
  auto f = udp_frame(sip_payload);
  store_be16(f.data() + eth::header_len + ipv4::frag, ipv4::flag_mf);
  fix_ip_checksum(f);
  ingress in = classify(f, policy());
  EXPECT_EQ(in.kind, ingress_kind::ipv4_fragment);
  EXPECT_EQ(in.ip_id, 0x1234);
  EXPECT_EQ(in.ip_proto, ipv4::proto_udp);
  store_be16(f.data() + eth::header_len + ipv4::frag, 185);  // last fragment, offset 1480
  fix_ip_checksum(f);
  EXPECT_EQ(classify(f, policy()).kind, ingress_kind::ipv4_fragment);
  store_be16(f.data() + eth::header_len + ipv4::frag, ipv4::flag_df);
  fix_ip_checksum(f);
  EXPECT_EQ(classify(f, policy()).kind, ingress_kind::sip) << "DF alone is not a fragment";
  // After reassembly the library zeroes the header checksum and the fragment fields.
  f = udp_frame(sip_payload);
  store_be16(f.data() + eth::header_len + ipv4::checksum, 0);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::ipv4_bad_checksum);
  EXPECT_EQ(classify_reassembled(f, policy()).kind, ingress_kind::sip);
}

TEST(Classify, FragmentOwnerIsStableAndSpreads) {
  std::set<unsigned> seen;
  for (std::uint16_t id = 0; id < 64; ++id) {
    const unsigned w = fragment_owner(test::phone_ip, test::our_ip, id, ipv4::proto_udp, 4);
    EXPECT_LT(w, 4U);
    EXPECT_EQ(w, fragment_owner(test::phone_ip, test::our_ip, id, ipv4::proto_udp, 4));
    seen.insert(w);
  }
  EXPECT_EQ(seen.size(), 4U);
  EXPECT_EQ(fragment_owner(1, 2, 3, 17, 1), 0U);
}

TEST(Classify, Arp) {
  using test::arp_frame;
  EXPECT_EQ(classify(arp_frame(arp::op_request, test::phone_ip, test::our_ip), policy()).kind,
            ingress_kind::arp_request_for_us);
  EXPECT_EQ(classify(arp_frame(arp::op_request, 0, test::our_ip), policy()).kind, ingress_kind::arp_request_for_us)
      << "probe for our address: defend it";
  EXPECT_EQ(classify(arp_frame(arp::op_request, test::phone_ip, 0xc6120109), policy()).reason,
            drop_reason::arp_not_for_us);
  EXPECT_EQ(classify(arp_frame(arp::op_request, test::phone_ip, test::phone_ip), policy()).kind,
            ingress_kind::arp_other)
      << "gratuitous request";
  const ingress reply = classify(arp_frame(arp::op_reply, test::phone_ip, test::our_ip, test::our_mac), policy());
  EXPECT_EQ(reply.kind, ingress_kind::arp_other);
  EXPECT_EQ(reply.src_ip, test::phone_ip);
  auto f = arp_frame(arp::op_request, test::phone_ip, test::our_ip);
  f[eth::header_len + arp::hlen] = 8;
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::arp_malformed);
  f = arp_frame(arp::op_request, test::phone_ip, test::our_ip);
  store_be16(f.data() + eth::header_len + arp::oper, 3);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::arp_malformed);
  f.resize(eth::header_len + 27);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::arp_malformed);
}

TEST(Classify, Icmp) {
  auto f = udp_frame("abcdefgh");  // reuse the layout: 8 + 8 bytes of L4
  f[eth::header_len + ipv4::proto] = ipv4::proto_icmp;
  fix_ip_checksum(f);
  std::uint8_t* ic = f.data() + eth::header_len + 20;
  ic[icmp::type] = icmp::echo_request;
  ic[icmp::code] = 0;
  ingress in = classify(f, policy());
  EXPECT_EQ(in.kind, ingress_kind::icmp_echo);
  EXPECT_EQ(in.payload_len, 16);
  ic[icmp::type] = 13;  // timestamp
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::icmp_unsupported);
  store_be16(f.data() + eth::header_len + ipv4::total_length, 24);
  fix_ip_checksum(f);
  EXPECT_EQ(classify(f, policy()).reason, drop_reason::icmp_truncated);
}

TEST(Classify, EveryDropReasonHasAName) {
  std::set<std::string_view> names;
  for (std::size_t r = 0; r < drop_reason_count; ++r) {
    const auto n = to_string(static_cast<drop_reason>(r));
    EXPECT_NE(n, "?");
    names.insert(n);
  }
  EXPECT_EQ(names.size(), drop_reason_count);
}

}  // namespace
}  // namespace sipfront::dp
