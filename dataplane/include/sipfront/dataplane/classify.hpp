// Ingress classification: what a received frame is and what happens to it.
// Pure function of the frame bytes and the interface's addressing, so the rules
// (and their drop counters) are unit-tested without a NIC.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "sipfront/dataplane/route.hpp"
#include "sipfront/dataplane/wire.hpp"

namespace sipfront::dp {

/// Why a frame was dropped before reaching SIP. One counter per reason.
enum class drop_reason : std::uint8_t {
  // L2
  runt_frame,             ///< shorter than an Ethernet header
  foreign_dst_mac,        ///< unicast to another MAC (promiscuous is off, but taps see everything)
  own_src_mac,            ///< our own frame looped back (af_packet taps)
  unsupported_ethertype,  ///< not IPv4 or ARP (VLAN tags, LLDP, ...)
  ipv6,                   ///< IPv6 is not served yet
  // ARP
  arp_malformed,   ///< short, or not Ethernet/IPv4 ARP, or unknown operation
  arp_not_for_us,  ///< request for another address
  // L3
  ipv4_truncated,     ///< frame shorter than the IPv4 header or total length says
  ipv4_bad_version,   ///< version field is not 4
  ipv4_bad_ihl,       ///< header length below 20 bytes
  ipv4_bad_length,    ///< total length shorter than the header
  ipv4_bad_checksum,  ///< header checksum wrong (software or NIC verdict)
  ipv4_not_for_us,    ///< destination is not our address (broadcasts included)
  ipv4_bad_source,    ///< source is unspecified, multicast, broadcast or ourselves
  ip_proto_unsupported,
  // ICMP
  icmp_unsupported,  ///< anything but an echo request
  icmp_truncated,
  // UDP
  udp_truncated,     ///< shorter than a UDP header
  udp_bad_length,    ///< UDP length disagrees with the IPv4 payload length
  udp_bad_checksum,  ///< checksum wrong (software or NIC verdict)
  udp_port_closed,   ///< not the SIP port
  // Reassembly
  frag_invalid,    ///< rte_ip_frag refused the fragment (overlap, table full)
  frag_too_large,  ///< reassembled datagram larger than the linearization buffer
  frag_no_buffer,  ///< no large-datagram buffer free
  count_,
};
inline constexpr std::size_t drop_reason_count = static_cast<std::size_t>(drop_reason::count_);
/// Stable, short names for the counters table ("ipv4_bad_checksum").
std::string_view to_string(drop_reason r) noexcept;

/// What to do with a frame.
enum class ingress_kind : std::uint8_t {
  drop,
  arp_request_for_us,  ///< answer in place on the receiving worker
  arp_other,           ///< replies and gratuitous ARP: the control lcore learns from them
  icmp_echo,           ///< echo request to us: the control lcore replies
  ipv4_fragment,       ///< reassemble first (then classify_reassembled)
  sip,                 ///< UDP to our SIP port: parse and steer
};

/// The NIC's verdict on a checksum, from mbuf rx flags; `unknown` means software checks.
enum class hw_cksum : std::uint8_t { unknown, good, bad };

struct ingress_policy {
  mac_addr mac;
  iface_addr addr;
  std::uint16_t sip_port = 5060;
};

struct ingress {
  ingress_kind kind = ingress_kind::drop;
  drop_reason reason = drop_reason::count_;  ///< meaningful when kind == drop
  /// The software UDP checksum is still to be verified (NIC did not, and the field is not zero).
  bool verify_udp_checksum = false;
  std::uint8_t ip_proto = 0;
  std::uint16_t l3_off = 0;  ///< IPv4 header offset in the frame
  std::uint16_t l3_len = 0;  ///< IPv4 header length (IHL * 4)
  std::uint16_t ip_len = 0;  ///< IPv4 total length
  std::uint16_t ip_id = 0;
  std::uint16_t payload_off = 0;  ///< SIP payload (UDP data) offset
  std::uint16_t payload_len = 0;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t src_ip = 0;  ///< host order
  std::uint32_t dst_ip = 0;

  /// Bytes of the frame that belong to the IPv4 packet (Ethernet padding excluded).
  [[nodiscard]] std::uint32_t frame_len_used() const noexcept { return std::uint32_t{l3_off} + ip_len; }
};

/// Classifies a received Ethernet frame. For an IPv4 fragment the L4 checks wait
/// until reassembly.
[[nodiscard]] ingress classify(const_bytes frame, const ingress_policy& pol, hw_cksum ip = hw_cksum::unknown,
                               hw_cksum l4 = hw_cksum::unknown) noexcept;

/// Classifies a datagram that rte_ip_frag put back together. Its header checksum is
/// not checked (the library zeroes it; every fragment's was checked on arrival).
[[nodiscard]] ingress classify_reassembled(const_bytes frame, const ingress_policy& pol) noexcept;

/// The worker that reassembles a fragmented datagram: every fragment of one datagram
/// (same source, destination, protocol and IP id, RFC 791) hashes to the same worker,
/// whichever queue the NIC or RSS put it on.
[[nodiscard]] inline unsigned fragment_owner(std::uint32_t src, std::uint32_t dst, std::uint16_t ip_id,
                                             std::uint8_t proto, unsigned n_workers) noexcept {
  std::uint64_t h = (std::uint64_t{src} << 32 | dst) ^ (std::uint64_t{ip_id} << 8 | proto);
  // 64-bit finaliser (splitmix64): consecutive ids spread over all workers.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<unsigned>(h % n_workers);
}

}  // namespace sipfront::dp
