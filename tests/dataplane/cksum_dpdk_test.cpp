// Our DPDK-free checksums against DPDK's header-only ones (no EAL needed), so the
// software paths of the daemon and the pure packet code agree bit for bit.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <rte_ip.h>
#include <rte_udp.h>
#pragma GCC diagnostic pop

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "sipfront/dataplane/build.hpp"
#include "sipfront/dataplane/wire.hpp"

namespace sipfront::dp {
namespace {

TEST(CksumVsDpdk, SoftwareChecksumsMatch) {
  for (std::size_t len : {0U, 1U, 2U, 3U, 17U, 400U, 1471U}) {
    std::vector<std::uint8_t> f(udp_headers_len + len);
    for (std::size_t i = 0; i < len; ++i) f[udp_headers_len + i] = static_cast<std::uint8_t>(i * 7 + 3);
    udp_tx t;
    t.src_ip = 0xc6120101;
    t.dst_ip = 0xc6120202;
    t.src_port = 5060;
    t.dst_port = 5060;
    t.ip_id = static_cast<std::uint16_t>(len);
    write_udp_headers(f, t, cksum_mode::software);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(f.data() + eth::header_len);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(f.data() + eth::header_len + 20);
    EXPECT_EQ(rte_ipv4_udptcp_cksum_verify(ip, udp), 0) << len;
    const std::uint16_t ours_ip = load_be16(f.data() + eth::header_len + ipv4::checksum);
    const std::uint16_t ours_udp = load_be16(f.data() + eth::header_len + 20 + udp::checksum);
    ip->hdr_checksum = 0;
    udp->dgram_cksum = 0;
    EXPECT_EQ(rte_be_to_cpu_16(rte_ipv4_cksum(ip)), ours_ip) << len;
    EXPECT_EQ(rte_be_to_cpu_16(rte_ipv4_udptcp_cksum(ip, udp)), ours_udp) << len;
  }
}

TEST(CksumVsDpdk, OffloadPseudoHeaderMatchesPhdrCksum) {
  std::vector<std::uint8_t> f(udp_headers_len + 33, 0x5a);
  udp_tx t;
  t.src_ip = 0xc6120101;
  t.dst_ip = 0xc6120102;
  write_udp_headers(f, t, cksum_mode::offload);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(f.data() + eth::header_len);
  EXPECT_EQ(rte_be_to_cpu_16(rte_ipv4_phdr_cksum(ip, 0)), load_be16(f.data() + eth::header_len + 20 + udp::checksum));
}

}  // namespace
}  // namespace sipfront::dp
