// The worker loop: rx burst -> classify -> (reassemble) -> parse -> steer ->
// engine -> build -> tx buffer. No allocation (mbufs come from pools), no locks,
// no system calls of our own, no exceptions.
#include <algorithm>
#include <cstring>
#include <string_view>

#include "sipfront/dataplane/build.hpp"
#include "sipfront/dataplane/runtime.hpp"

namespace sipfront::dp {

namespace {

constexpr unsigned prefetch_ahead = 3;
/// Timer expirations per engine tick (the engine's own cap keeps one tick short).
constexpr std::size_t tick_budget = 256;

hw_cksum ip_verdict(const rte_mbuf* m, bool offload) noexcept {
  if (!offload) return hw_cksum::unknown;
  switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
    case RTE_MBUF_F_RX_IP_CKSUM_GOOD: return hw_cksum::good;
    case RTE_MBUF_F_RX_IP_CKSUM_BAD: return hw_cksum::bad;
    default: return hw_cksum::unknown;  // UNKNOWN, or NONE (not checked, e.g. a fragment)
  }
}

hw_cksum l4_verdict(const rte_mbuf* m, bool offload) noexcept {
  if (!offload) return hw_cksum::unknown;
  switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
    case RTE_MBUF_F_RX_L4_CKSUM_GOOD: return hw_cksum::good;
    case RTE_MBUF_F_RX_L4_CKSUM_BAD: return hw_cksum::bad;
    default: return hw_cksum::unknown;
  }
}

const_bytes frame_of(const rte_mbuf* m) noexcept {
  return {rte_pktmbuf_mtod(m, const std::uint8_t*), rte_pktmbuf_data_len(m)};
}
bytes mutable_frame(rte_mbuf* m) noexcept { return {rte_pktmbuf_mtod(m, std::uint8_t*), rte_pktmbuf_data_len(m)}; }

std::uint64_t tsc_to_ms(const worker_context& w, std::uint64_t tsc) noexcept { return tsc / w.tsc_per_ms; }

void drop(worker_context& w, rte_mbuf* m, drop_reason r) noexcept {
  w.counters.drops[static_cast<std::size_t>(r)].add();
  rte_pktmbuf_free(m);
}

void to_control(worker_context& w, rte_mbuf* m, pkt_kind kind, std::uint16_t port) noexcept {
  mbuf_priv& p = priv(m);
  p.kind = kind;
  p.port = port;
  if (rte_ring_sp_enqueue(w.to_control, m) != 0) [[unlikely]] {
    w.counters.control_ring_full.add();
    rte_pktmbuf_free(m);
    return;
  }
  w.counters.to_control.add();
}

void tx_frame(worker_context& w, const port_state& p, rte_mbuf* m) noexcept {
  w.counters.tx_packets.add();
  w.counters.tx_bytes.add(rte_pktmbuf_pkt_len(m));
  rte_eth_tx_buffer(p.dpdk_port, static_cast<std::uint16_t>(w.id), w.tx[p.index], m);
}

reg::side side_of(const worker_context& w, const port_state& p, std::uint32_t src) noexcept {
  switch (p.side) {
    case iface_side::access: return reg::side::access;
    case iface_side::core: return reg::side::core;
    case iface_side::both: break;
  }
  const shared_state& s = *w.shared;
  if (std::find(s.core_peers.begin(), s.core_peers.end(), src) != s.core_peers.end()) return reg::side::core;
  // A dynamic registrar's current address is a core peer too.
  if (w.registrars != nullptr) {
    for (const registrar_address& r : w.registrars->entries) {
      if (r.resolved && r.addr.ip == src) return reg::side::core;
    }
  }
  return reg::side::access;
}

// Sends a built packet now, or hands it to the control lcore to wait for ARP.
void transmit_or_hold(worker_context& w, const port_state& p, rte_mbuf* m, const mac_addr* mac,
                      std::uint32_t nh) noexcept {
  if (mac != nullptr) [[likely]] {
    tx_frame(w, p, m);
    return;
  }
  w.counters.arp_miss.add();
  priv(m).next_hop = nh;
  to_control(w, m, pkt_kind::arp_pending, p.index);
}

// Turns the engine's output queue into packets, then empties it.
void send_outputs(worker_context& w) noexcept {
  reg::output_queue& out = *w.out;
  const shared_state& s = *w.shared;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const reg::outbound& o = out[i];
    if (o.dst.port_id >= w.n_ports) [[unlikely]] {
      w.counters.no_route.add();
      continue;
    }
    const port_state& p = s.ports[o.dst.port_id];
    const std::uint32_t nh = next_hop(p.addr, o.dst.ip);
    if (nh == 0) [[unlikely]] {
      w.counters.no_route.add();
      continue;
    }
    const std::string_view payload = out.bytes(o);
    const const_bytes pl(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
    const mac_addr* mac = w.arp != nullptr ? w.arp->find(p.index, nh) : nullptr;
    udp_tx t;
    t.src_mac = p.mac;
    t.dst_mac = mac != nullptr ? *mac : mac_addr{};  // filled in by control after ARP
    t.src_ip = p.addr.ip;
    t.dst_ip = o.dst.ip;
    t.src_port = s.sip_port;
    t.dst_port = o.dst.port;
    t.ip_id = w.ip_id;
    w.ip_id = static_cast<std::uint16_t>(w.ip_id + w.n_workers);

    const fragment_plan plan = plan_fragments(pl.size(), p.mtu);
    if (plan.count == 1) [[likely]] {
      rte_mbuf* m = rte_pktmbuf_alloc(w.pool);
      if (m == nullptr) [[unlikely]] {
        w.counters.no_mbuf.add();
        continue;
      }
      const std::size_t len = udp_headers_len + pl.size();
      auto* data = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(len)));
      if (data == nullptr) [[unlikely]] {  // larger than the data room (MTU above the pool's buffers)
        w.counters.no_mbuf.add();
        rte_pktmbuf_free(m);
        continue;
      }
      std::memcpy(data + udp_headers_len, pl.data(), pl.size());
      if (p.tx_cksum_offload) {
        write_udp_headers(bytes(data, len), t, cksum_mode::offload);
        m->l2_len = eth::header_len;
        m->l3_len = ipv4::min_header_len;
        m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
      } else {
        write_udp_headers(bytes(data, len), t, cksum_mode::software);
      }
      transmit_or_hold(w, p, m, mac, nh);
      continue;
    }
    // Larger than the MTU: IPv4 fragments, checksummed in software.
    const std::uint16_t ck = udp_datagram_checksum(t, pl);
    for (std::size_t f = 0; f < plan.count; ++f) {
      rte_mbuf* m = rte_pktmbuf_alloc(w.pool);
      const std::size_t len = fragment_frame_len(plan, f);
      auto* data = m != nullptr
                       ? reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(len)))
                       : nullptr;
      if (data == nullptr) [[unlikely]] {
        w.counters.no_mbuf.add();
        if (m != nullptr) rte_pktmbuf_free(m);
        break;  // the receiver cannot reassemble without this piece anyway
      }
      write_udp_fragment(bytes(data, len), t, pl, plan, f, ck);
      transmit_or_hold(w, p, m, mac, nh);
    }
  }
  out.clear();
}

// The owner's part: the engine consumes the message, then its output is sent.
void deliver(worker_context& w, rte_mbuf* m, std::uint64_t now_tsc) noexcept {
  const mbuf_priv& p = priv(m);
  w.engine->on_message(p.msg, p.meta, tsc_to_ms(w, now_tsc), *w.out);
  rte_pktmbuf_free(m);
  if (w.out->size() != 0) send_outputs(w);
}

void on_sip_datagram(worker_context& w, std::uint16_t port, rte_mbuf* m, const ingress& in,
                     std::uint64_t now_tsc) noexcept {
  const std::uint8_t* base = rte_pktmbuf_mtod(m, const std::uint8_t*);
  if (in.verify_udp_checksum) {
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(base + in.l3_off);
    if (rte_ipv4_udptcp_cksum_verify(ip, base + in.l3_off + in.l3_len) != 0) [[unlikely]] {
      drop(w, m, drop_reason::udp_bad_checksum);
      return;
    }
  }
  mbuf_priv& p = priv(m);
  const std::string_view datagram(reinterpret_cast<const char*>(base + in.payload_off), in.payload_len);
  const sip::errc rc = p.msg.parse(datagram, *w.scanner);
  if (rc == sip::errc::empty) [[unlikely]] {
    // CRLF keep-alives (RFC 5626 §3.5.1 style pings): nothing for the engine.
    w.counters.sip_keepalives.add();
    rte_pktmbuf_free(m);
    return;
  }
  if (rc != sip::errc::ok) [[unlikely]]
    w.counters.sip_parse_errors.add();
  if (p.msg.is_request()) {
    (p.msg.method() == sip::method::register_ ? w.counters.sip_register : w.counters.sip_other_request).add();
  } else if (p.msg.is_response()) {
    w.counters.sip_response.add();
  }
  const port_state& ps = w.shared->ports[port];
  p.meta.src = reg::endpoint{in.src_ip, in.src_port, port};
  p.meta.from = side_of(w, ps, in.src_ip);
  p.port = port;
  p.kind = pkt_kind::sip;
  const unsigned owner = reg::steer(p.msg, p.meta.from, w.n_workers, w.id);
  if (owner == w.id) {
    deliver(w, m, now_tsc);
    return;
  }
  if (rte_ring_sp_enqueue(w.to_worker[owner], m) != 0) [[unlikely]] {
    w.counters.ring_full.add();
    rte_pktmbuf_free(m);
    return;
  }
  w.counters.steered_out.add();
}

// Copies a reassembled chain into one large buffer so the parser sees contiguous bytes.
rte_mbuf* linearize(worker_context& w, rte_mbuf* chain) noexcept {
  const std::uint32_t len = rte_pktmbuf_pkt_len(chain);
  rte_mbuf* big = rte_pktmbuf_alloc(w.big_pool);
  if (big == nullptr) [[unlikely]] {
    drop(w, chain, drop_reason::frag_no_buffer);
    return nullptr;
  }
  if (len > rte_pktmbuf_tailroom(big)) [[unlikely]] {
    rte_pktmbuf_free(big);
    drop(w, chain, drop_reason::frag_too_large);
    return nullptr;
  }
  char* dst = rte_pktmbuf_append(big, static_cast<std::uint16_t>(len));
  for (const rte_mbuf* seg = chain; seg != nullptr; seg = seg->next) {
    std::memcpy(dst, rte_pktmbuf_mtod(seg, const char*), seg->data_len);
    dst += seg->data_len;
  }
  big->port = chain->port;
  rte_pktmbuf_free(chain);
  w.counters.linearized.add();
  return big;
}

void reassemble(worker_context& w, std::uint16_t port, rte_mbuf* m, const ingress& in, std::uint64_t now_tsc) noexcept {
  // rte_ip_frag chains fragments by data length: Ethernet padding must not ride along.
  if (rte_pktmbuf_pkt_len(m) > in.frame_len_used()) {
    (void)rte_pktmbuf_trim(m, static_cast<std::uint16_t>(rte_pktmbuf_pkt_len(m) - in.frame_len_used()));
  }
  // Bit-fields of 7 and 9 bits; the classifier bounds both (14, and IHL * 4 <= 60).
  m->l2_len = in.l3_off & 0x7fU;
  m->l3_len = in.l3_len & 0x1ffU;
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, in.l3_off);
  const std::uint32_t dead_before = w.death_row.cnt;
  rte_mbuf* r = rte_ipv4_frag_reassemble_packet(w.frag_tbl, &w.death_row, m, now_tsc, ip);
  if (r == nullptr) {
    // Kept for later, or refused (overlap, table full): refused pieces go to the death row.
    if (w.death_row.cnt > dead_before) [[unlikely]]
      w.counters.drops[static_cast<std::size_t>(drop_reason::frag_invalid)].add(w.death_row.cnt - dead_before);
    return;
  }
  w.counters.reassembled.add();
  if (r->nb_segs > 1) {
    r = linearize(w, r);
    if (r == nullptr) return;
  }
  const ingress full = classify_reassembled(frame_of(r), w.shared->ports[port].policy);
  switch (full.kind) {
    case ingress_kind::sip: on_sip_datagram(w, port, r, full, now_tsc); return;
    case ingress_kind::icmp_echo: to_control(w, r, pkt_kind::icmp_echo, port); return;
    case ingress_kind::drop: drop(w, r, full.reason); return;
    default: drop(w, r, drop_reason::frag_invalid); return;
  }
}

void on_fragment(worker_context& w, std::uint16_t port, rte_mbuf* m, const ingress& in,
                 std::uint64_t now_tsc) noexcept {
  w.counters.fragments.add();
  const unsigned owner = fragment_owner(in.src_ip, in.dst_ip, in.ip_id, in.ip_proto, w.n_workers);
  if (owner == w.id) {
    reassemble(w, port, m, in, now_tsc);
    return;
  }
  mbuf_priv& p = priv(m);
  p.kind = pkt_kind::fragment;
  p.port = port;
  if (rte_ring_sp_enqueue(w.to_worker[owner], m) != 0) [[unlikely]] {
    w.counters.ring_full.add();
    rte_pktmbuf_free(m);
    return;
  }
  w.counters.frag_forwarded.add();
}

void answer_arp(worker_context& w, const port_state& p, std::uint16_t port, rte_mbuf* m, const ingress& in) noexcept {
  // The asker is about to talk to us; the control lcore learns its MAC so our
  // answers do not wait for ARP. Only new or changed mappings are copied over.
  const std::uint8_t* a = rte_pktmbuf_mtod(m, const std::uint8_t*) + eth::header_len;
  const mac_addr sha = mac_addr::load(a + arp::sha);
  if (in.src_ip != 0 && p.addr.on_link(in.src_ip)) {
    const mac_addr* known = w.arp != nullptr ? w.arp->find(port, in.src_ip) : nullptr;
    if (known == nullptr || *known != sha) {
      rte_mbuf* copy = rte_pktmbuf_alloc(w.pool);
      if (copy != nullptr) {
        const std::uint16_t len = rte_pktmbuf_data_len(m);
        char* d = rte_pktmbuf_append(copy, len);
        if (d != nullptr) {
          std::memcpy(d, rte_pktmbuf_mtod(m, const char*), len);
          to_control(w, copy, pkt_kind::arp, port);
        } else {
          rte_pktmbuf_free(copy);
        }
      } else {
        w.counters.no_mbuf.add();
      }
    }
  }
  arp_request_to_reply(mutable_frame(m), p.mac, p.addr.ip);
  w.counters.arp_replies.add();
  tx_frame(w, p, m);
}

void handle_frame(worker_context& w, std::uint16_t port, rte_mbuf* m, std::uint64_t now_tsc) noexcept {
  const port_state& p = w.shared->ports[port];
  const ingress in =
      classify(frame_of(m), p.policy, ip_verdict(m, p.rx_cksum_offload), l4_verdict(m, p.rx_cksum_offload));
  switch (in.kind) {
    case ingress_kind::sip: on_sip_datagram(w, port, m, in, now_tsc); return;
    case ingress_kind::ipv4_fragment: on_fragment(w, port, m, in, now_tsc); return;
    case ingress_kind::arp_request_for_us: answer_arp(w, p, port, m, in); return;
    case ingress_kind::arp_other: to_control(w, m, pkt_kind::arp, port); return;
    case ingress_kind::icmp_echo: to_control(w, m, pkt_kind::icmp_echo, port); return;
    case ingress_kind::drop: drop(w, m, in.reason); return;
  }
}

}  // namespace

void worker_rx(worker_context& w, std::uint16_t port, rte_mbuf** pkts, std::uint16_t n,
               std::uint64_t now_tsc) noexcept {
  for (unsigned i = 0; i < n && i < prefetch_ahead; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (unsigned i = 0; i < n; ++i) {
    if (i + prefetch_ahead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + prefetch_ahead], void*));
    w.counters.rx_packets.add();
    w.counters.rx_bytes.add(rte_pktmbuf_pkt_len(pkts[i]));
    handle_frame(w, port, pkts[i], now_tsc);
  }
  if (w.death_row.cnt != 0) rte_ip_frag_free_death_row(&w.death_row, prefetch_ahead);
}

unsigned worker_drain_rings(worker_context& w, std::uint64_t now_tsc) noexcept {
  std::array<void*, max_burst> objs;
  unsigned total = 0;
  for (unsigned src = 0; src < w.n_workers; ++src) {
    if (src == w.id) continue;
    const unsigned n = rte_ring_sc_dequeue_burst(w.from_worker[src], objs.data(), w.burst, nullptr);
    for (unsigned i = 0; i < n; ++i) {
      auto* m = static_cast<rte_mbuf*>(objs[i]);
      const mbuf_priv& p = priv(m);
      if (p.kind == pkt_kind::sip) [[likely]] {
        w.counters.steered_in.add();
        deliver(w, m, now_tsc);
        continue;
      }
      // A fragment: its header was checked where it arrived; classify again for the offsets.
      const ingress in = classify(frame_of(m), w.shared->ports[p.port].policy, hw_cksum::good);
      if (in.kind == ingress_kind::ipv4_fragment) {
        reassemble(w, p.port, m, in, now_tsc);
      } else {
        drop(w, m, in.kind == ingress_kind::drop ? in.reason : drop_reason::frag_invalid);
      }
    }
    total += n;
  }
  // Frames the control lcore received on queues only it polls.
  const unsigned n = rte_ring_sc_dequeue_burst(w.from_control, objs.data(), w.burst, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    auto* m = static_cast<rte_mbuf*>(objs[i]);
    handle_frame(w, priv(m).port, m, now_tsc);
  }
  total += n;
  if (w.death_row.cnt != 0) rte_ip_frag_free_death_row(&w.death_row, prefetch_ahead);
  return total;
}

void worker_tick(worker_context& w, std::uint64_t now_tsc) noexcept {
  const std::uint64_t now_ms = tsc_to_ms(w, now_tsc);
  if (now_ms != w.last_tick_ms) {
    w.last_tick_ms = now_ms;
    (void)w.engine->on_tick(now_ms, *w.out, tick_budget);
    if (w.out->size() != 0) send_outputs(w);
  }
  if (now_tsc >= w.frag_expire_tsc) [[unlikely]] {
    // Datagrams whose fragments never all arrived: free their pieces.
    rte_ip_frag_table_del_expired_entries(w.frag_tbl, &w.death_row, now_tsc);
    w.frag_expire_tsc = now_tsc + 100 * w.tsc_per_ms;
    if (w.death_row.cnt != 0) rte_ip_frag_free_death_row(&w.death_row, prefetch_ahead);
  }
}

void worker_flush(worker_context& w) noexcept {
  for (std::uint16_t port = 0; port < w.n_ports; ++port) {
    (void)rte_eth_tx_buffer_flush(w.shared->ports[port].dpdk_port, static_cast<std::uint16_t>(w.id), w.tx[port]);
  }
}

void worker_refresh_snapshots(worker_context& w) noexcept {
  const shared_state& s = *w.shared;
  // Nothing read from an older snapshot survives past this point.
  rte_rcu_qsbr_quiescent(s.qsbr, w.id);
  w.arp = __atomic_load_n(&s.arp, __ATOMIC_ACQUIRE);
  w.registrars = __atomic_load_n(&s.registrars, __ATOMIC_ACQUIRE);
  // One compare per iteration; the engine hears only of entries that changed.
  if (w.registrars == nullptr || w.registrars->generation == w.registrars_applied) [[likely]]
    return;
  for (unsigned i = 0; i < w.registrars->entries.size(); ++i) {
    const registrar_address& r = w.registrars->entries[i];
    if (!r.dynamic || r.generation == w.registrar_gen[i]) continue;
    w.registrar_gen[i] = r.generation;
    if (r.resolved) {
      (void)w.engine->resolve_registrar(i + 1, r.addr);
    } else {
      (void)w.engine->unresolve_registrar(i + 1);
    }
  }
  w.registrars_applied = w.registrars->generation;
}

unsigned worker_poll_once(worker_context& w) noexcept {
  const shared_state& s = *w.shared;
  worker_refresh_snapshots(w);
  const std::uint64_t now = rte_rdtsc();
  std::array<rte_mbuf*, max_burst> pkts;
  unsigned work = 0;
  for (std::uint16_t port = 0; port < w.n_ports; ++port) {
    const std::uint16_t n =
        rte_eth_rx_burst(s.ports[port].dpdk_port, static_cast<std::uint16_t>(w.id), pkts.data(), w.burst);
    if (n != 0) worker_rx(w, port, pkts.data(), n, now);
    work += n;
  }
  work += worker_drain_rings(w, now);
  worker_tick(w, now);
  // Flush when idle, else at most every ~100 us so bursts still coalesce.
  if (work == 0 || now >= w.tx_deadline) {
    worker_flush(w);
    w.tx_deadline = now + w.tx_drain_tsc;
  }
  return work;
}

int worker_main(void* arg) {
  auto& w = *static_cast<worker_context*>(arg);
  rte_rcu_qsbr_thread_online(w.shared->qsbr, w.id);
  while (__atomic_load_n(&w.shared->stop, __ATOMIC_ACQUIRE) == 0) (void)worker_poll_once(w);
  worker_flush(w);
  rte_rcu_qsbr_thread_offline(w.shared->qsbr, w.id);
  return 0;
}

}  // namespace sipfront::dp
