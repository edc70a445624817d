#include "sipfront/dataplane/classify.hpp"

namespace sipfront::dp {

std::string_view to_string(drop_reason r) noexcept {
  switch (r) {
    case drop_reason::runt_frame: return "runt_frame";
    case drop_reason::foreign_dst_mac: return "foreign_dst_mac";
    case drop_reason::own_src_mac: return "own_src_mac";
    case drop_reason::unsupported_ethertype: return "unsupported_ethertype";
    case drop_reason::ipv6: return "ipv6";
    case drop_reason::arp_malformed: return "arp_malformed";
    case drop_reason::arp_not_for_us: return "arp_not_for_us";
    case drop_reason::ipv4_truncated: return "ipv4_truncated";
    case drop_reason::ipv4_bad_version: return "ipv4_bad_version";
    case drop_reason::ipv4_bad_ihl: return "ipv4_bad_ihl";
    case drop_reason::ipv4_bad_length: return "ipv4_bad_length";
    case drop_reason::ipv4_bad_checksum: return "ipv4_bad_checksum";
    case drop_reason::ipv4_not_for_us: return "ipv4_not_for_us";
    case drop_reason::ipv4_bad_source: return "ipv4_bad_source";
    case drop_reason::ip_proto_unsupported: return "ip_proto_unsupported";
    case drop_reason::icmp_unsupported: return "icmp_unsupported";
    case drop_reason::icmp_truncated: return "icmp_truncated";
    case drop_reason::udp_truncated: return "udp_truncated";
    case drop_reason::udp_bad_length: return "udp_bad_length";
    case drop_reason::udp_bad_checksum: return "udp_bad_checksum";
    case drop_reason::udp_port_closed: return "udp_port_closed";
    case drop_reason::frag_invalid: return "frag_invalid";
    case drop_reason::frag_too_large: return "frag_too_large";
    case drop_reason::frag_no_buffer: return "frag_no_buffer";
    case drop_reason::count_: break;
  }
  return "?";
}

namespace {

ingress dropped(drop_reason r) noexcept {
  ingress in;
  in.kind = ingress_kind::drop;
  in.reason = r;
  return in;
}

ingress classify_arp(const_bytes frame, const ingress_policy& pol) noexcept {
  if (frame.size() < eth::header_len + arp::len) [[unlikely]]
    return dropped(drop_reason::arp_malformed);
  const std::uint8_t* a = frame.data() + eth::header_len;
  const std::uint16_t op = load_be16(a + arp::oper);
  if (load_be16(a + arp::htype) != 1 || load_be16(a + arp::ptype) != eth::type_ipv4 || a[arp::hlen] != 6 ||
      a[arp::plen] != 4 || (op != arp::op_request && op != arp::op_reply)) [[unlikely]]
    return dropped(drop_reason::arp_malformed);
  const std::uint32_t spa = load_be32(a + arp::spa);
  const std::uint32_t tpa = load_be32(a + arp::tpa);
  ingress in;
  in.src_ip = spa;
  in.dst_ip = tpa;
  if (op == arp::op_request) {
    // Requests for us are answered, probes (spa 0, RFC 5227) included: answering
    // is how an address is defended.
    if (tpa == pol.addr.ip) {
      in.kind = ingress_kind::arp_request_for_us;
      return in;
    }
    // A gratuitous request announces the sender's own mapping: worth learning.
    if (spa == tpa && spa != 0) {
      in.kind = ingress_kind::arp_other;
      return in;
    }
    return dropped(drop_reason::arp_not_for_us);
  }
  in.kind = ingress_kind::arp_other;
  return in;
}

// L4 of an unfragmented (or reassembled) IPv4 packet whose header fields are in `in`.
ingress classify_l4(const_bytes frame, const ingress_policy& pol, ingress in, hw_cksum l4) noexcept {
  const std::size_t l4_off = std::size_t{in.l3_off} + in.l3_len;
  const std::size_t l4_len = std::size_t{in.ip_len} - in.l3_len;
  const std::uint8_t* l4p = frame.data() + l4_off;
  if (in.ip_proto == ipv4::proto_udp) {
    if (l4_len < udp::header_len) [[unlikely]]
      return dropped(drop_reason::udp_truncated);
    const std::uint16_t ulen = load_be16(l4p + udp::length);
    if (ulen != l4_len) [[unlikely]]
      return dropped(drop_reason::udp_bad_length);
    if (l4 == hw_cksum::bad) [[unlikely]]
      return dropped(drop_reason::udp_bad_checksum);
    in.src_port = load_be16(l4p + udp::src_port);
    in.dst_port = load_be16(l4p + udp::dst_port);
    if (in.dst_port != pol.sip_port) return dropped(drop_reason::udp_port_closed);
    in.verify_udp_checksum = l4 != hw_cksum::good && load_be16(l4p + udp::checksum) != 0;
    in.payload_off = static_cast<std::uint16_t>(l4_off + udp::header_len);
    in.payload_len = static_cast<std::uint16_t>(ulen - udp::header_len);
    in.kind = ingress_kind::sip;
    return in;
  }
  if (in.ip_proto == ipv4::proto_icmp) {
    if (l4_len < icmp::header_len) [[unlikely]]
      return dropped(drop_reason::icmp_truncated);
    if (l4p[icmp::type] != icmp::echo_request || l4p[icmp::code] != 0) return dropped(drop_reason::icmp_unsupported);
    in.payload_off = static_cast<std::uint16_t>(l4_off);
    in.payload_len = static_cast<std::uint16_t>(l4_len);
    in.kind = ingress_kind::icmp_echo;
    return in;
  }
  return dropped(drop_reason::ip_proto_unsupported);
}

ingress classify_ipv4(const_bytes frame, const ingress_policy& pol, hw_cksum ip, hw_cksum l4,
                      bool reassembled) noexcept {
  constexpr std::size_t off = eth::header_len;
  if (frame.size() < off + ipv4::min_header_len) [[unlikely]]
    return dropped(drop_reason::ipv4_truncated);
  const std::uint8_t* h = frame.data() + off;
  if ((h[ipv4::ver_ihl] >> 4) != 4) [[unlikely]]
    return dropped(drop_reason::ipv4_bad_version);
  const std::size_t ihl = std::size_t{h[ipv4::ver_ihl] & 0x0fU} * 4;
  if (ihl < ipv4::min_header_len) [[unlikely]]
    return dropped(drop_reason::ipv4_bad_ihl);
  const std::uint16_t total = load_be16(h + ipv4::total_length);
  if (total < ihl) [[unlikely]]
    return dropped(drop_reason::ipv4_bad_length);
  // Longer frames carry Ethernet padding (or trailing junk), which is ignored.
  if (frame.size() - off < total) [[unlikely]]
    return dropped(drop_reason::ipv4_truncated);
  if (!reassembled) {
    if (ip == hw_cksum::bad || (ip == hw_cksum::unknown && !ipv4_header_checksum_ok(frame.subspan(off, ihl))))
        [[unlikely]]
      return dropped(drop_reason::ipv4_bad_checksum);
  }
  ingress in;
  in.l3_off = static_cast<std::uint16_t>(off);
  in.l3_len = static_cast<std::uint16_t>(ihl);
  in.ip_len = total;
  in.ip_id = load_be16(h + ipv4::id);
  in.ip_proto = h[ipv4::proto];
  in.src_ip = load_be32(h + ipv4::src);
  in.dst_ip = load_be32(h + ipv4::dst);
  if (in.dst_ip != pol.addr.ip) return dropped(drop_reason::ipv4_not_for_us);
  const std::uint32_t s = in.src_ip;
  if (s == 0 || s == ipv4::limited_broadcast || (s >> 28) == 0xe || s == pol.addr.ip ||
      (pol.addr.directed_broadcast() != 0 && s == pol.addr.directed_broadcast())) [[unlikely]]
    return dropped(drop_reason::ipv4_bad_source);
  if (!reassembled) {
    const std::uint16_t frag = load_be16(h + ipv4::frag);
    if ((frag & (ipv4::flag_mf | ipv4::offset_mask)) != 0) {
      in.kind = ingress_kind::ipv4_fragment;
      return in;
    }
  }
  return classify_l4(frame, pol, in, l4);
}

}  // namespace

ingress classify(const_bytes frame, const ingress_policy& pol, hw_cksum ip, hw_cksum l4) noexcept {
  if (frame.size() < eth::header_len) [[unlikely]]
    return dropped(drop_reason::runt_frame);
  const mac_addr dst = mac_addr::load(frame.data() + eth::dst);
  if (dst != pol.mac && !dst.is_broadcast()) [[unlikely]]
    return dropped(drop_reason::foreign_dst_mac);
  if (mac_addr::load(frame.data() + eth::src) == pol.mac) [[unlikely]]
    return dropped(drop_reason::own_src_mac);
  switch (load_be16(frame.data() + eth::type)) {
    case eth::type_ipv4: return classify_ipv4(frame, pol, ip, l4, false);
    case eth::type_arp: return classify_arp(frame, pol);
    case eth::type_ipv6: return dropped(drop_reason::ipv6);
    default: return dropped(drop_reason::unsupported_ethertype);
  }
}

ingress classify_reassembled(const_bytes frame, const ingress_policy& pol) noexcept {
  return classify_ipv4(frame, pol, hw_cksum::unknown, hw_cksum::unknown, true);
}

}  // namespace sipfront::dp
