// Building and tearing down the DPDK objects, and the control lcore's main loop.
//
// Sizing (per worker, defaults): mbufs_per_worker 8191 x ~3.2 KiB (2 KiB data
// room + 128 B headroom + the ~900 B private area holding the parsed message
// index + the mbuf header) ~ 26 MiB; a reassembly table of 4096 datagrams
// (~0.5 MiB); ring_size^2 grid of pointer rings (8 KiB each at 1024). Shared: 63
// large buffers of 64 KiB (~4 MiB) for reassembled datagrams, and the control
// lcore's pool of 4095 mbufs (~13 MiB). The engines (see regengine) live on the
// ordinary heap (jemalloc in the daemon), allocated once before the workers start.
#include "sipfront/dataplane/runtime.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <new>

#include "port.hpp"

namespace sipfront::dp {

namespace {

constexpr unsigned control_pool_size = 4095;
// Datagrams being reassembled per worker. The table allocates buckets x entries
// slots of ~512 B each (room for RTE_LIBRTE_IP_FRAG_MAX_FRAG pieces): 512 x 8 =
// 4096 slots, 2 MiB per worker.
constexpr unsigned frag_flows = 4096;
constexpr unsigned frag_bucket_entries = 8;
constexpr std::uint64_t frag_timeout_ms = 2000;  // SIP fragments arrive within ms; 2 s is generous

std::string rte_error_text() { return rte_strerror(rte_errno); }

// Constructs the private area of every mbuf once, when the pool is made; after
// that each use assigns its fields (sip::message::parse resets the index).
void construct_priv(rte_mempool* /*mp*/, void* /*arg*/, void* obj, unsigned /*idx*/) {
  new (rte_mbuf_to_priv(static_cast<rte_mbuf*>(obj))) mbuf_priv();
}

rte_mempool* make_pool(const std::string& name, unsigned n, std::uint16_t data_room, int socket, std::string& error) {
  // Per-lcore cache: big enough to amortise the ring, small enough that caches
  // cannot strand a large share of the pool (DPDK requires n > 1.5 * cache).
  const unsigned cache = std::min(256U, n / 8);
  rte_mempool* mp = rte_pktmbuf_pool_create(name.c_str(), n, cache, mbuf_priv_size, data_room, socket);
  if (mp == nullptr) {
    error = "mempool " + name + " (" + std::to_string(n) + " mbufs of " + std::to_string(data_room) +
            " bytes): " + rte_error_text() + " (raise -m / the profile's memory.memoryMb, or lower mbufsPerWorker)";
    return nullptr;
  }
  rte_mempool_obj_iter(mp, construct_priv, nullptr);
  return mp;
}

// tx-buffer error callback: frees what the NIC did not take. tx.packets counted
// the frames when they were buffered, so they move to tx.drops.
template <class Counters>
void on_unsent(rte_mbuf** pkts, std::uint16_t unsent, void* userdata) {
  auto* c = static_cast<Counters*>(userdata);
  std::uint64_t bytes = 0;
  for (std::uint16_t i = 0; i < unsent; ++i) {
    bytes += rte_pktmbuf_pkt_len(pkts[i]);
    rte_pktmbuf_free(pkts[i]);
  }
  c->tx_packets.sub(unsent);
  c->tx_bytes.sub(bytes);
  c->tx_drops.add(unsent);
}

void drain_ring(rte_ring* r) {
  void* obj = nullptr;
  while (rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
}

}  // namespace

std::unique_ptr<runtime> runtime::create(const dataplane_config& cfg, std::string& error) {
  std::unique_ptr<runtime> rt(new runtime());
  try {
    if (!rt->build(cfg, error)) return nullptr;
  } catch (const std::bad_alloc&) {
    error =
        "out of memory while setting up the workers (engines are sized by sip.maxTransactionsPerWorker and, in "
        "PEER_TO_PEER mode, localRegistrar.maxBindingsPerWorker)";
    return nullptr;
  }
  return rt;
}

bool runtime::build(const dataplane_config& cfg, std::string& error) {
  const unsigned nw = cfg.n_workers;
  if (nw == 0 || nw > max_workers) {
    error = "workers: " + std::to_string(nw) + " is outside 1.." + std::to_string(max_workers);
    return false;
  }
  if (cfg.interfaces.empty() || cfg.interfaces.size() > max_ports) {
    error = "interfaces: between 1 and " + std::to_string(max_ports) + " are supported";
    return false;
  }
  if (cfg.engines.size() != nw) {
    error = "internal: one engine config per worker expected";
    return false;
  }
  if (cfg.burst == 0 || cfg.burst > max_burst || !std::has_single_bit(cfg.ring_size) || cfg.ring_size < 2) {
    error = "workers: burst must be 1.." + std::to_string(max_burst) + " and ringSize a power of two";
    return false;
  }
  if (const reg::spike_errc e = reg::validate(cfg.spike, nw); e != reg::spike_errc::ok) {
    error = "overload: " + std::string(reg::to_string(e));
    return false;
  }
  // One pool for every worker (engines only borrow it); built before the engines, freed after them.
  spike_pool_ = std::make_unique<reg::spike_pool>(cfg.spike, nw);
  stats_interval_s_ = cfg.stats_interval_s;
  shared_ = std::make_unique<shared_state>();
  shared_state& s = *shared_;
  s.n_workers = nw;
  s.sip_port = cfg.sip_port;
  s.core_peers = cfg.core_peers;
  s.tsc_hz = rte_get_tsc_hz();
  const std::uint64_t tsc_per_ms = std::max<std::uint64_t>(1, s.tsc_hz / 1000);

  // Worker i runs on the i-th worker lcore; with fewer lcores (tests drive the
  // contexts by hand) the memory goes on the caller's socket.
  std::vector<unsigned> lcores;
  for (unsigned lc = rte_get_next_lcore(static_cast<unsigned>(-1), 1, 0); lc < RTE_MAX_LCORE;
       lc = rte_get_next_lcore(lc, 1, 0)) {
    lcores.push_back(lc);
  }
  auto socket_of = [&lcores](unsigned i) {
    return i < lcores.size() ? static_cast<int>(rte_lcore_to_socket_id(lcores[i])) : static_cast<int>(rte_socket_id());
  };

  std::uint16_t max_mtu = 1500;
  for (const auto& i : cfg.interfaces) max_mtu = std::max(max_mtu, i.mtu);
  const auto data_room = static_cast<std::uint16_t>(
      std::max<unsigned>(RTE_MBUF_DEFAULT_BUF_SIZE, RTE_PKTMBUF_HEADROOM + max_mtu + RTE_ETHER_HDR_LEN + 4));

  for (unsigned i = 0; i < nw; ++i) {
    rte_mempool* mp = make_pool("sf_mbuf_w" + std::to_string(i), cfg.mbufs_per_worker, data_room, socket_of(i), error);
    if (mp == nullptr) return false;
    pools_.push_back(mp);
  }
  rte_mempool* ctl_pool =
      make_pool("sf_mbuf_ctl", control_pool_size, data_room, static_cast<int>(rte_socket_id()), error);
  if (ctl_pool == nullptr) return false;
  pools_.push_back(ctl_pool);
  big_pool_ =
      make_pool("sf_mbuf_big", std::max(cfg.large_buffers, 1U), UINT16_MAX, static_cast<int>(rte_socket_id()), error);
  if (big_pool_ == nullptr) return false;

  const std::size_t qsbr_size = rte_rcu_qsbr_get_memsize(nw);
  s.qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("sf_qsbr", qsbr_size, RTE_CACHE_LINE_SIZE));
  if (s.qsbr == nullptr || rte_rcu_qsbr_init(s.qsbr, nw) != 0) {
    error = "rte_rcu_qsbr: " + rte_error_text();
    return false;
  }
  for (unsigned i = 0; i < nw; ++i) (void)rte_rcu_qsbr_thread_register(s.qsbr, i);

  for (std::size_t i = 0; i < cfg.interfaces.size(); ++i) {
    const auto id = find_port(cfg.interfaces[i].device);
    if (id) started_ports_.push_back(*id);  // closed in the destructor, started or not
    auto ps = setup_port(cfg.interfaces[i], static_cast<std::uint16_t>(i), cfg.nic, nw,
                         std::span<rte_mempool* const>(pools_.data(), nw), ctl_pool, cfg.sip_port, error);
    if (!ps) return false;
    s.ports.push_back(std::move(*ps));
  }

  // The ring grid: rings[p][c] for every ordered pair of workers, plus each
  // worker's pair with the control lcore. Single producer, single consumer.
  auto make_ring = [&](const std::string& name, int socket) -> rte_ring* {
    rte_ring* r = rte_ring_create(name.c_str(), cfg.ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (r == nullptr)
      error = "ring " + name + ": " + rte_error_text();
    else
      rings_.push_back(r);
    return r;
  };

  for (unsigned i = 0; i < nw; ++i) {
    reg::engine_config ec = cfg.engines[i];
    ec.spike = spike_pool_.get();
    engines_.push_back(std::make_unique<reg::engine>(ec));
    outputs_.push_back(std::make_unique<reg::output_queue>());
    void* mem = rte_zmalloc_socket("sf_worker", sizeof(worker_context), RTE_CACHE_LINE_SIZE, socket_of(i));
    if (mem == nullptr) {
      error = "worker context: " + rte_error_text();
      return false;
    }
    auto* w = new (mem) worker_context();
    workers_.push_back(w);
    w->id = i;
    w->lcore = i < lcores.size() ? lcores[i] : rte_lcore_id();
    w->n_workers = nw;
    w->burst = static_cast<std::uint16_t>(cfg.burst);
    w->n_ports = static_cast<std::uint16_t>(s.ports.size());
    w->shared = &s;
    w->engine = engines_.back().get();
    w->out = outputs_.back().get();
    w->pool = pools_[i];
    w->big_pool = big_pool_;
    w->scanner = &sip::best_scanner();
    w->tsc_per_ms = tsc_per_ms;
    w->tx_drain_tsc = (s.tsc_hz + 9999) / 10000;  // 100 us
    w->ip_id = static_cast<std::uint16_t>(i);
    w->frag_tbl = rte_ip_frag_table_create(frag_flows / frag_bucket_entries, frag_bucket_entries, frag_flows,
                                           frag_timeout_ms * tsc_per_ms, socket_of(i));
    if (w->frag_tbl == nullptr) {
      error = "reassembly table: " + rte_error_text();
      return false;
    }
    for (std::uint16_t p = 0; p < w->n_ports; ++p) {
      auto* b = static_cast<rte_eth_dev_tx_buffer*>(
          rte_zmalloc_socket("sf_txbuf", RTE_ETH_TX_BUFFER_SIZE(cfg.burst), 0, socket_of(i)));
      if (b == nullptr) {
        error = "tx buffer: " + rte_error_text();
        return false;
      }
      tx_buffers_.push_back(b);
      (void)rte_eth_tx_buffer_init(b, static_cast<std::uint16_t>(cfg.burst));
      (void)rte_eth_tx_buffer_set_err_callback(b, on_unsent<worker_counters>, &w->counters);
      w->tx[p] = b;
    }
  }
  for (unsigned p = 0; p < nw; ++p) {
    for (unsigned c = 0; c < nw; ++c) {
      if (p == c) continue;
      rte_ring* r = make_ring("sf_r" + std::to_string(p) + "_" + std::to_string(c), socket_of(c));
      if (r == nullptr) return false;
      workers_[p]->to_worker[c] = r;
      workers_[c]->from_worker[p] = r;
    }
  }

  control_ = std::make_unique<control_context>();
  control_context& c = *control_;
  c.shared = &s;
  c.workers = workers_;
  c.pool = ctl_pool;
  c.tx_queue = static_cast<std::uint16_t>(nw);
  c.burst = static_cast<std::uint16_t>(cfg.burst);
  c.tsc_per_ms = tsc_per_ms;
  c.lcore = rte_get_main_lcore();
  for (unsigned i = 0; i < nw; ++i) {
    rte_ring* up = make_ring("sf_r" + std::to_string(i) + "_c", static_cast<int>(rte_socket_id()));
    rte_ring* down = up != nullptr ? make_ring("sf_rc_" + std::to_string(i), socket_of(i)) : nullptr;
    if (down == nullptr) return false;
    workers_[i]->to_control = up;
    workers_[i]->from_control = down;
    c.from_workers.push_back(up);
    c.to_workers.push_back(down);
  }
  for (std::size_t p = 0; p < s.ports.size(); ++p) {
    auto* b = static_cast<rte_eth_dev_tx_buffer*>(rte_zmalloc("sf_txbuf", RTE_ETH_TX_BUFFER_SIZE(cfg.burst), 0));
    if (b == nullptr) {
      error = "tx buffer: " + rte_error_text();
      return false;
    }
    tx_buffers_.push_back(b);
    (void)rte_eth_tx_buffer_init(b, static_cast<std::uint16_t>(cfg.burst));
    (void)rte_eth_tx_buffer_set_err_callback(b, on_unsent<control_counters>, &c.counters);
    c.tx[p] = b;
  }
  return true;
}

runtime::~runtime() {
  if (shared_) __atomic_store_n(&shared_->stop, 1U, __ATOMIC_RELEASE);
  if (control_) {
    for (const pending_packet& pp : control_->pending) rte_pktmbuf_free(pp.m);
    control_->pending.clear();
    for (const retired_snapshot& r : control_->retired) {
      delete r.snap;
      delete r.registrars;
    }
    control_->retired.clear();
  }
  if (shared_) {
    delete __atomic_exchange_n(&shared_->arp, nullptr, __ATOMIC_ACQ_REL);
    delete __atomic_exchange_n(&shared_->registrars, nullptr, __ATOMIC_ACQ_REL);
  }
  // Ports first: they may hold mbufs of the pools freed below.
  stop_ports();
  for (worker_context* w : workers_) {
    if (w->frag_tbl != nullptr) rte_ip_frag_table_destroy(w->frag_tbl);
    if (w->death_row.cnt != 0) rte_ip_frag_free_death_row(&w->death_row, 0);
    w->~worker_context();
    rte_free(w);
  }
  workers_.clear();
  for (rte_ring* r : rings_) {
    drain_ring(r);
    rte_ring_free(r);
  }
  for (rte_eth_dev_tx_buffer* b : tx_buffers_) {
    for (std::uint16_t i = 0; i < b->length; ++i) rte_pktmbuf_free(b->pkts[i]);
    rte_free(b);
  }
  for (rte_mempool* mp : pools_) rte_mempool_free(mp);
  if (big_pool_ != nullptr) rte_mempool_free(big_pool_);
  if (shared_) rte_free(shared_->qsbr);
}

void runtime::stop_ports() noexcept {
  for (std::uint16_t id : started_ports_) {
    (void)rte_eth_dev_stop(id);
    (void)rte_eth_dev_close(id);
  }
  started_ports_.clear();
}

std::uint64_t runtime::now_ms() const noexcept { return rte_rdtsc() / control_->tsc_per_ms; }

void runtime::publish_registrars(const registrar_snapshot& next) { control_publish_registrars(*control_, next); }

int runtime::run(signal_flags& flags, const control_hook& hook) {
  std::vector<unsigned> lcores;
  for (unsigned lc = rte_get_next_lcore(static_cast<unsigned>(-1), 1, 0); lc < RTE_MAX_LCORE;
       lc = rte_get_next_lcore(lc, 1, 0)) {
    lcores.push_back(lc);
  }
  if (lcores.size() < workers_.size()) {
    std::fprintf(stderr, "sipfront: %zu workers need %zu worker lcores, the EAL has %zu\n", workers_.size(),
                 workers_.size(), lcores.size());
    return 1;
  }
  control_context& c = *control_;
  // Resolve the peers we will certainly talk to before the first REGISTER needs them.
  const std::uint64_t start_ms = now_ms();
  for (const port_state& p : shared_->ports) {
    if (p.addr.gateway != 0) control_arp_request(c, p.index, p.addr.gateway, start_ms);
    if (p.side == iface_side::access) continue;
    for (std::uint32_t peer : shared_->core_peers) {
      if (p.addr.on_link(peer)) control_arp_request(c, p.index, peer, start_ms);
    }
  }
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    if (const int rc = rte_eal_remote_launch(worker_main, workers_[i], lcores[i]); rc != 0) {
      std::fprintf(stderr, "sipfront: cannot launch worker %zu on lcore %u: %s\n", i, lcores[i], rte_strerror(-rc));
      __atomic_store_n(&shared_->stop, 1U, __ATOMIC_RELEASE);
      rte_eal_mp_wait_lcore();
      return 1;
    }
  }
  std::uint64_t next_stats = stats_interval_s_ != 0 ? start_ms + stats_interval_s_ * 1000ULL : UINT64_MAX;
  while (flags.quit == 0) {
    const std::uint64_t now = now_ms();
    unsigned work = control_poll_once(c, now);
    if (hook) work += hook(*this, now);
    if (flags.dump != 0) {
      flags.dump = 0;
      std::fputs(counters_report().c_str(), stdout);
      std::fflush(stdout);
    }
    if (now >= next_stats) {
      next_stats = now + stats_interval_s_ * 1000ULL;
      std::fputs(counters_report().c_str(), stdout);
      std::fflush(stdout);
    }
    // Idle: give the CPU back briefly; workers never wait on this loop.
    if (work == 0) rte_delay_us_sleep(100);
  }
  __atomic_store_n(&shared_->stop, 1U, __ATOMIC_RELEASE);
  rte_eal_mp_wait_lcore();
  // Whatever the workers handed over in their last iteration.
  (void)control_poll_once(c, now_ms());
  return 0;
}

std::string runtime::counters_report() const {
  counter_sources src;
  for (const worker_context* w : workers_) {
    src.worker_lcores.push_back(w->lcore);
    src.workers.push_back(&w->counters);
  }
  for (const auto& e : engines_) src.engines.push_back(&e->counters());
  src.control = &control_->counters;
  src.control_lcore = control_->lcore;
  std::string out = "---- sipfront counters ----\n";
  out += format_table(make_counter_table(src));
  for (const port_state& p : shared_->ports) {
    rte_eth_stats st{};
    (void)rte_eth_stats_get(p.dpdk_port, &st);
    char line[256];
    std::snprintf(line, sizeof line,
                  "port %u %s (%s, %s/%u, mac %s): rx %lu tx %lu missed %lu rx_errors %lu tx_errors %lu "
                  "no_mbuf %lu\n",
                  p.dpdk_port, p.name.c_str(), p.driver.c_str(), ipv4_to_string(p.addr.ip).c_str(), p.addr.prefix_len,
                  to_string(p.mac).c_str(), static_cast<unsigned long>(st.ipackets),
                  static_cast<unsigned long>(st.opackets), static_cast<unsigned long>(st.imissed),
                  static_cast<unsigned long>(st.ierrors), static_cast<unsigned long>(st.oerrors),
                  static_cast<unsigned long>(st.rx_nombuf));
    out += line;
  }
  const arp_snapshot* snap = __atomic_load_n(&shared_->arp, __ATOMIC_ACQUIRE);
  out += "neighbours: " + std::to_string(control_->arp.size()) + " (snapshot generation " +
         std::to_string(snap != nullptr ? snap->generation() : 0) + ", pending packets " +
         std::to_string(control_->pending.size()) + ")\n";
  for (const arp_entry& e : control_->arp.entries()) {
    out += "  " + shared_->ports[e.port].name + " " + ipv4_to_string(e.ip) + " " + to_string(e.mac) + "\n";
  }
  // Dynamic registrars as the workers were last told (the daemon logs each DNS outcome).
  if (const registrar_snapshot* rs = __atomic_load_n(&shared_->registrars, __ATOMIC_ACQUIRE); rs != nullptr) {
    out += "dynamic registrars (snapshot generation " + std::to_string(rs->generation) + "):";
    for (std::size_t i = 0; i < rs->entries.size(); ++i) {
      const registrar_address& r = rs->entries[i];
      if (!r.dynamic) continue;
      out += " " + std::to_string(i + 1) + "=" +
             (r.resolved ? ipv4_to_string(r.addr.ip) + ":" + std::to_string(r.addr.port) : std::string("unresolved"));
    }
    out += "\n";
  }
  return out;
}

}  // namespace sipfront::dp
