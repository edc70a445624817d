// Writing frames: UDP/IPv4 datagrams (whole or fragmented to the MTU), ARP
// requests and replies, ICMP echo replies. Pure byte-buffer code, shared by the
// daemon (writing into mbuf data) and the unit tests.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sipfront/dataplane/classify.hpp"
#include "sipfront/dataplane/wire.hpp"

namespace sipfront::dp {

/// Who computes the IPv4 header and UDP checksums. With `offload` the IPv4 checksum
/// field is left zero and the UDP field holds the pseudo-header sum, as DPDK's
/// RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM expect.
enum class cksum_mode : std::uint8_t { software, offload };

struct udp_tx {
  mac_addr src_mac;
  mac_addr dst_mac;
  std::uint32_t src_ip = 0;  ///< host order
  std::uint32_t dst_ip = 0;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t ip_id = 0;
};

/// Writes the Ethernet, IPv4 (no options, DF clear, TTL 64) and UDP headers into
/// frame[0, udp_headers_len) for a payload already placed at frame[udp_headers_len, ...).
/// `frame` must span headers and payload.
void write_udp_headers(bytes frame, const udp_tx& p, cksum_mode mode) noexcept;

/// How a UDP datagram is cut into IPv4 fragments that fit `mtu` (RFC 791: every
/// fragment but the last carries a multiple of 8 bytes).
struct fragment_plan {
  std::size_t count = 1;         ///< 1 = no fragmentation needed
  std::size_t chunk = 0;         ///< IPv4 payload bytes per fragment (all but the last)
  std::size_t datagram_len = 0;  ///< UDP header + payload
};
[[nodiscard]] fragment_plan plan_fragments(std::size_t payload_len, std::size_t mtu) noexcept;
/// Frame length of fragment `i`.
[[nodiscard]] std::size_t fragment_frame_len(const fragment_plan& plan, std::size_t i) noexcept;
/// The UDP checksum of a whole datagram (computed once, stored in fragment 0).
[[nodiscard]] std::uint16_t udp_datagram_checksum(const udp_tx& p, const_bytes payload) noexcept;
/// Writes fragment `i` of the datagram carrying `payload` into `frame`, which must be
/// fragment_frame_len(plan, i) bytes. Checksums are computed in software: a NIC cannot
/// checksum a datagram it sees only in pieces.
void write_udp_fragment(bytes frame, const udp_tx& p, const_bytes payload, const fragment_plan& plan, std::size_t i,
                        std::uint16_t udp_cksum) noexcept;

/// Writes an Ethernet/ARP frame, zero-padded to the 60-byte Ethernet minimum.
/// Returns the frame length (eth::min_frame); `frame` must hold that many bytes.
std::size_t write_arp(bytes frame, std::uint16_t op, const mac_addr& eth_dst, const mac_addr& sha, std::uint32_t spa,
                      const mac_addr& tha, std::uint32_t tpa) noexcept;

/// Turns a classified ARP request for our address into the reply, in place.
void arp_request_to_reply(bytes frame, const mac_addr& our_mac, std::uint32_t our_ip) noexcept;

/// Turns a classified ICMP echo request into the echo reply, in place (MACs and
/// addresses swapped, TTL reset, checksums recomputed). Returns false when the
/// request's ICMP checksum is wrong (then the frame is unchanged).
[[nodiscard]] bool icmp_echo_to_reply(bytes frame, const ingress& in, const mac_addr& our_mac) noexcept;

}  // namespace sipfront::dp
