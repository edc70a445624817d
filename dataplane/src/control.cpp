// The control lcore's share of the data path: the neighbour table (learning,
// publication to the workers, RCU reclamation), the registrar snapshot (published
// for the daemon's DNS resolver, reclaimed the same way), ARP requests and replies, ICMP
// echo replies, and packets held while their next hop is resolved. It may
// allocate and may be slow; workers never wait for it (rings drop when full,
// snapshots are replaced, never locked).
#include <algorithm>
#include <cstring>

#include "sipfront/dataplane/build.hpp"
#include "sipfront/dataplane/runtime.hpp"

namespace sipfront::dp {

namespace {

std::uint64_t neighbour_key(std::uint16_t port, std::uint32_t ip) noexcept { return std::uint64_t{port} << 32 | ip; }

void ctl_tx(control_context& c, const port_state& p, rte_mbuf* m) noexcept {
  c.counters.tx_packets.add();
  c.counters.tx_bytes.add(rte_pktmbuf_pkt_len(m));
  rte_eth_tx_buffer(p.dpdk_port, c.tx_queue, c.tx[p.index], m);
}

const_bytes frame_of(const rte_mbuf* m) noexcept {
  return {rte_pktmbuf_mtod(m, const std::uint8_t*), rte_pktmbuf_data_len(m)};
}

// Learns from an ARP frame; answers it when it is a request for us and `answer`
// (requests that reached a worker were answered there).
void handle_arp(control_context& c, std::uint16_t port, rte_mbuf* m, bool answer, std::uint64_t now_ms) noexcept {
  const port_state& p = c.shared->ports[port];
  const ingress in = classify(frame_of(m), p.policy);
  if (in.kind != ingress_kind::arp_request_for_us && in.kind != ingress_kind::arp_other) {
    rte_pktmbuf_free(m);
    return;
  }
  const mac_addr sha = mac_addr::load(rte_pktmbuf_mtod(m, const std::uint8_t*) + eth::header_len + arp::sha);
  // Only neighbours on the interface's subnet are worth remembering: nothing else
  // is ever a next hop there.
  if (in.src_ip != 0 && in.src_ip != p.addr.ip && p.addr.on_link(in.src_ip) && !sha.is_multicast()) {
    control_learn(c, port, in.src_ip, sha, now_ms);
  }
  if (answer && in.kind == ingress_kind::arp_request_for_us) {
    arp_request_to_reply(bytes(rte_pktmbuf_mtod(m, std::uint8_t*), rte_pktmbuf_data_len(m)), p.mac, p.addr.ip);
    c.counters.arp_replies_sent.add();
    ctl_tx(c, p, m);
    return;
  }
  rte_pktmbuf_free(m);
}

void handle_icmp(control_context& c, std::uint16_t port, rte_mbuf* m) noexcept {
  const port_state& p = c.shared->ports[port];
  // The worker checked the IPv4 header (or it was reassembled, and the library
  // zeroed the checksum): only the offsets are needed here.
  const ingress in = classify_reassembled(frame_of(m), p.policy);
  if (in.kind != ingress_kind::icmp_echo || in.ip_len > p.mtu) {
    // Echo requests larger than the MTU would need fragmenting the reply; not worth it.
    c.counters.tx_drops.add();
    rte_pktmbuf_free(m);
    return;
  }
  if (rte_pktmbuf_pkt_len(m) > in.frame_len_used()) {
    (void)rte_pktmbuf_trim(m, static_cast<std::uint16_t>(rte_pktmbuf_pkt_len(m) - in.frame_len_used()));
  }
  m->ol_flags = 0;
  if (!icmp_echo_to_reply(bytes(rte_pktmbuf_mtod(m, std::uint8_t*), rte_pktmbuf_data_len(m)), in, p.mac)) {
    c.counters.icmp_bad_checksum.add();
    rte_pktmbuf_free(m);
    return;
  }
  c.counters.icmp_echo_replies.add();
  ctl_tx(c, p, m);
}

// Sends held packets whose neighbour is now known, drops the expired ones, and
// (re)asks for the rest.
unsigned process_pending(control_context& c, std::uint64_t now_ms) noexcept {
  unsigned work = 0;
  for (std::size_t n = c.pending.size(); n != 0; --n) {
    pending_packet pp = c.pending.front();
    c.pending.pop_front();
    mbuf_priv& pr = priv(pp.m);
    const port_state& p = c.shared->ports[pr.port];
    if (const mac_addr* mac = c.arp.find(pr.port, pr.next_hop)) {
      mac->store(rte_pktmbuf_mtod(pp.m, std::uint8_t*) + eth::dst);
      c.counters.pending_sent.add();
      ctl_tx(c, p, pp.m);
      ++work;
      continue;
    }
    if (now_ms >= pp.deadline_ms) {
      c.counters.pending_expired.add();
      rte_pktmbuf_free(pp.m);
      ++work;
      continue;
    }
    const auto it = c.arp_requested_ms.find(neighbour_key(pr.port, pr.next_hop));
    if (it == c.arp_requested_ms.end() || now_ms - it->second >= control_context::arp_retry_ms) {
      control_arp_request(c, pr.port, pr.next_hop, now_ms);
      ++work;
    }
    c.pending.push_back(pp);
  }
  return work;
}

unsigned drain_workers(control_context& c, std::uint64_t now_ms) noexcept {
  std::array<void*, max_burst> objs;
  unsigned total = 0;
  for (rte_ring* r : c.from_workers) {
    const unsigned n = rte_ring_sc_dequeue_burst(r, objs.data(), c.burst, nullptr);
    for (unsigned i = 0; i < n; ++i) {
      auto* m = static_cast<rte_mbuf*>(objs[i]);
      const mbuf_priv& pr = priv(m);
      switch (pr.kind) {
        case pkt_kind::arp: handle_arp(c, pr.port, m, false, now_ms); break;
        case pkt_kind::icmp_echo: handle_icmp(c, pr.port, m); break;
        case pkt_kind::arp_pending:
          if (c.pending.size() >= control_context::max_pending) {
            c.counters.pending_overflow.add();
            rte_pktmbuf_free(m);
          } else {
            c.pending.push_back(pending_packet{m, now_ms + control_context::hold_ms});
          }
          break;
        default: rte_pktmbuf_free(m); break;
      }
    }
    total += n;
  }
  return total;
}

// Rx queues beyond the workers' (af_packet fanout): ARP is handled here, the rest
// goes to a worker as an unclassified frame.
unsigned poll_extra_queues(control_context& c, std::uint64_t now_ms) noexcept {
  std::array<rte_mbuf*, max_burst> pkts;
  unsigned total = 0;
  const auto n_workers = static_cast<std::uint16_t>(c.workers.size());
  for (const port_state& p : c.shared->ports) {
    for (std::uint16_t q = n_workers; q < p.n_rx_queues; ++q) {
      const std::uint16_t n = rte_eth_rx_burst(p.dpdk_port, q, pkts.data(), c.burst);
      for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        c.counters.rx_packets.add();
        c.counters.rx_bytes.add(rte_pktmbuf_pkt_len(m));
        const const_bytes f = frame_of(m);
        if (f.size() >= eth::header_len && load_be16(f.data() + eth::type) == eth::type_arp) {
          handle_arp(c, p.index, m, true, now_ms);
          continue;
        }
        // Same source, same worker: keeps one phone's datagrams in order.
        unsigned w = c.next_worker++ % n_workers;
        if (f.size() >= eth::header_len + ipv4::min_header_len) {
          w = load_be32(f.data() + eth::header_len + ipv4::src) % n_workers;
        }
        mbuf_priv& pr = priv(m);
        pr.kind = pkt_kind::frame;
        pr.port = p.index;
        if (rte_ring_sp_enqueue(c.to_workers[w], m) != 0) {
          c.counters.ring_full.add();
          rte_pktmbuf_free(m);
          continue;
        }
        c.counters.forwarded_to_workers.add();
      }
      total += n;
    }
  }
  return total;
}

void reclaim(control_context& c) noexcept {
  std::erase_if(c.retired, [&c](const retired_snapshot& r) {
    if (rte_rcu_qsbr_check(c.shared->qsbr, r.token, false) != 1) return false;
    delete r.snap;
    delete r.registrars;
    return true;
  });
}

}  // namespace

void control_learn(control_context& c, std::uint16_t port, std::uint32_t ip, const mac_addr& mac,
                   std::uint64_t now_ms) {
  if (c.arp.learn(port, ip, mac, now_ms)) {
    c.counters.arp_learned.add();
    c.arp_dirty = true;
  }
}

void control_publish(control_context& c) {
  if (!c.arp_dirty) return;
  c.arp_dirty = false;
  const arp_snapshot* fresh = c.arp.snapshot().release();
  const arp_snapshot* old = __atomic_exchange_n(&c.shared->arp, fresh, __ATOMIC_ACQ_REL);
  c.counters.arp_snapshots.add();
  // Workers may still be reading `old`; it goes once each has reported a
  // quiescent state after this point (rte_rcu_qsbr_start returns that token).
  if (old != nullptr) c.retired.push_back(retired_snapshot{old, rte_rcu_qsbr_start(c.shared->qsbr)});
}

void control_publish_registrars(control_context& c, const registrar_snapshot& next) {
  auto* fresh = new registrar_snapshot(next);
  fresh->generation = ++c.registrar_generation;
  const registrar_snapshot* old = __atomic_exchange_n(&c.shared->registrars, fresh, __ATOMIC_ACQ_REL);
  // As for the neighbour table: `old` goes once every worker has passed a quiescent state.
  if (old != nullptr) {
    c.retired.push_back(
        retired_snapshot{.snap = nullptr, .token = rte_rcu_qsbr_start(c.shared->qsbr), .registrars = old});
  }
}

void control_arp_request(control_context& c, std::uint16_t port, std::uint32_t ip, std::uint64_t now_ms) noexcept {
  const port_state& p = c.shared->ports[port];
  c.arp_requested_ms[neighbour_key(port, ip)] = now_ms;
  rte_mbuf* m = rte_pktmbuf_alloc(c.pool);
  if (m == nullptr) {
    c.counters.no_mbuf.add();
    return;
  }
  auto* d = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, eth::min_frame));
  (void)write_arp(bytes(d, eth::min_frame), arp::op_request, broadcast_mac, p.mac, p.addr.ip, mac_addr{}, ip);
  c.counters.arp_requests_sent.add();
  ctl_tx(c, p, m);
}

unsigned control_poll_once(control_context& c, std::uint64_t now_ms) noexcept {
  unsigned work = poll_extra_queues(c, now_ms);
  work += drain_workers(c, now_ms);
  // Publish before releasing held packets: the workers' next packets to the same
  // neighbour then go straight out instead of joining the queue.
  control_publish(c);
  if (!c.pending.empty()) work += process_pending(c, now_ms);
  if (now_ms >= c.next_expire_ms) {
    c.next_expire_ms = now_ms + 1000;
    if (c.arp.expire(now_ms)) c.arp_dirty = true;
    std::erase_if(c.arp_requested_ms, [now_ms](const auto& kv) { return now_ms - kv.second > 10'000; });
  }
  if (!c.retired.empty()) reclaim(c);
  for (const port_state& p : c.shared->ports) (void)rte_eth_tx_buffer_flush(p.dpdk_port, c.tx_queue, c.tx[p.index]);
  return work;
}

}  // namespace sipfront::dp
