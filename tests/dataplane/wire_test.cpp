#include "sipfront/dataplane/wire.hpp"

#include <gtest/gtest.h>

#include <array>
#include <numeric>
#include <vector>

namespace sipfront::dp {
namespace {

TEST(Wire, ByteOrderHelpers) {
  std::array<std::uint8_t, 4> b{};
  store_be16(b.data(), 0x1234);
  EXPECT_EQ(b[0], 0x12);
  EXPECT_EQ(b[1], 0x34);
  EXPECT_EQ(load_be16(b.data()), 0x1234);
  store_be32(b.data(), 0xc6120101);
  EXPECT_EQ(b[0], 198);
  EXPECT_EQ(b[3], 1);
  EXPECT_EQ(load_be32(b.data()), 0xc6120101U);
}

TEST(Wire, Rfc1071Example) {
  // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (folded).
  const std::array<std::uint8_t, 8> d{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(cksum_fold(cksum_add(d)), 0xddf2);
}

TEST(Wire, Ipv4HeaderChecksumKnownVector) {
  std::array<std::uint8_t, 20> h{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(ipv4_header_checksum(h), 0xb861);
  store_be16(h.data() + ipv4::checksum, 0xb861);
  EXPECT_TRUE(ipv4_header_checksum_ok(h));
  h[8] = 0x3f;  // TTL changed, checksum stale
  EXPECT_FALSE(ipv4_header_checksum_ok(h));
}

TEST(Wire, OddLengthsMatchAWordByWordSum) {
  // Reference: 16-bit big-endian words, odd byte padded with zero.
  auto reference = [](const std::vector<std::uint8_t>& v) {
    std::uint32_t s = 0;
    for (std::size_t i = 0; i < v.size(); i += 2) {
      s += static_cast<std::uint32_t>(v[i] << 8) + (i + 1 < v.size() ? v[i + 1] : 0U);
    }
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(s);
  };
  for (std::size_t n = 0; n < 70; ++n) {
    std::vector<std::uint8_t> v(n);
    std::iota(v.begin(), v.end(), static_cast<std::uint8_t>(0xf0));
    EXPECT_EQ(cksum_fold(cksum_add(v)), reference(v)) << "n=" << n;
  }
}

TEST(Wire, UdpChecksumRoundTripAndZeroMeansNone) {
  std::vector<std::uint8_t> d(8 + 5, 0);
  store_be16(d.data() + udp::src_port, 5070);
  store_be16(d.data() + udp::dst_port, 5060);
  store_be16(d.data() + udp::length, static_cast<std::uint16_t>(d.size()));
  d[8] = 'h';
  d[12] = 'o';
  const std::uint16_t c = udp_checksum(0xc6120102, 0xc6120101, d);
  EXPECT_NE(c, 0);
  EXPECT_FALSE(udp_checksum_ok(0xc6120102, 0xc6120101, [&] {
    auto x = d;
    store_be16(x.data() + udp::checksum, static_cast<std::uint16_t>(c ^ 1));
    return x;
  }()));
  store_be16(d.data() + udp::checksum, c);
  EXPECT_TRUE(udp_checksum_ok(0xc6120102, 0xc6120101, d));
  EXPECT_FALSE(udp_checksum_ok(0xc6120103, 0xc6120101, d)) << "pseudo-header covers the source";
  store_be16(d.data() + udp::checksum, 0);
  EXPECT_TRUE(udp_checksum_ok(0xc6120103, 0xc6120101, d)) << "zero = sender computed none";
}

TEST(Wire, Formatting) {
  EXPECT_EQ(to_string(mac_addr{{0x02, 0x5f, 0x00, 0x01, 0x00, 0x01}}), "02:5f:00:01:00:01");
  EXPECT_EQ(ipv4_to_string(0xc6120101), "198.18.1.1");
  EXPECT_TRUE(broadcast_mac.is_broadcast());
  EXPECT_TRUE(broadcast_mac.is_multicast());
  EXPECT_TRUE(mac_addr{}.is_zero());
}

}  // namespace
}  // namespace sipfront::dp
