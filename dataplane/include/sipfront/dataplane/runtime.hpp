// The DPDK side of the daemon: ports, pools, rings, the per-lcore contexts and
// the loops that run on them.
//
// Threads and ownership:
//  - The main lcore is the control core. It builds everything (runtime::create),
//    runs the control loop (ARP table, ICMP, held packets, counters) and tears
//    everything down after the workers return.
//  - Every other lcore used runs one worker_context: rx from its queue on every
//    port, parse, steer, the registration engine, tx on its own queue.
//  - Cross-core traffic is only: one SPSC rte_ring per ordered (producer,
//    consumer) pair, the counters (single writer each), the immutable
//    `shared_state`, and two snapshots published with store-release and
//    reclaimed with rte_rcu_qsbr: the neighbour table and the dynamic (DNS)
//    registrars' addresses.
#pragma once

#include <array>
#include <csignal>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sipfront/dataplane/arp_table.hpp"
#include "sipfront/dataplane/classify.hpp"
#include "sipfront/dataplane/counters.hpp"
#include "sipfront/dataplane/dpdk.hpp"
#include "sipfront/dataplane/limits.hpp"
#include "sipfront/dataplane/route.hpp"
#include "sipfront/regengine/engine.hpp"
#include "sipfront/regengine/output.hpp"
#include "sipfront/sipparse/message.hpp"

namespace sipfront::dp {

// ------------------------------------------------------------------ configuration

/// Which traffic an interface carries.
enum class iface_side : std::uint8_t { access, core, both };

struct interface_config {
  std::string name;    ///< operator's label ("access")
  std::string device;  ///< vdev spec or PCI address, as given to the EAL
  iface_side side = iface_side::access;
  iface_addr addr;
  std::uint16_t mtu = 1500;
};

struct nic_settings {
  std::string profile_name;
  std::uint16_t rx_descriptors = 1024;
  std::uint16_t tx_descriptors = 1024;
  bool rss = false;
  std::uint64_t rss_hf = 0;  ///< RTE_ETH_RSS_* wanted (masked with what the device supports)
  bool rx_checksum = false;
  bool tx_checksum = false;
  bool multi_seg = false;
};

/// Everything runtime::create needs, already validated and converted from the
/// config and profile (see config_adapter.cpp), so tests can build one directly.
struct dataplane_config {
  std::vector<interface_config> interfaces;
  nic_settings nic;
  unsigned n_workers = 1;
  unsigned ring_size = 1024;  ///< entries per SPSC ring (power of two)
  unsigned burst = 32;
  unsigned mbufs_per_worker = 8191;
  unsigned large_buffers = 63;  ///< 64 KiB buffers for reassembled datagrams (all workers)
  std::uint16_t sip_port = 5060;
  /// Registrar addresses: on an interface serving both sides, traffic from these is "core".
  std::vector<std::uint32_t> core_peers;
  /// One per worker; views must outlive the runtime. Their `spike` is ignored: the
  /// runtime points every engine at the one pool it builds from `spike`.
  std::vector<reg::engine_config> engines;
  /// Overload protection (registration spike N) for all workers together.
  reg::spike_config spike{};
  unsigned stats_interval_s = 0;
};

// ------------------------------------------------------------------ shared, immutable after start

struct port_state {
  std::string name;
  std::string driver;
  std::uint16_t index = 0;      ///< interface index: reg::endpoint::port_id
  std::uint16_t dpdk_port = 0;  ///< ethdev port id
  iface_side side = iface_side::access;
  mac_addr mac;
  iface_addr addr;
  ingress_policy policy;
  std::uint16_t mtu = 1500;
  std::uint16_t n_rx_queues = 0;  ///< workers, plus queues only the control lcore polls
  std::uint16_t n_tx_queues = 0;  ///< workers + 1 (the control lcore's)
  bool rx_cksum_offload = false;  ///< NIC verifies IPv4 + UDP checksums (rx flags are consulted)
  bool tx_cksum_offload = false;  ///< NIC computes IPv4 + UDP checksums
};

/// One registrar index in a registrar_snapshot.
struct registrar_address {
  bool dynamic = false;          ///< only dynamic entries are applied (static ones are the engines' own)
  bool resolved = false;         ///< false: unusable until resolved again
  reg::endpoint addr{};          ///< with port_id: the interface that reaches it
  std::uint32_t generation = 0;  ///< changes whenever `resolved` or `addr` does (the resolver's per-name count)
};

/// The control core's view of the dynamic registrars, immutable once published.
/// A worker applies the entries whose generation it has not applied yet
/// (engine::resolve_registrar / unresolve_registrar).
struct registrar_snapshot {
  std::array<registrar_address, reg::max_registrars> entries{};  ///< [index - 1]
  std::uint64_t generation = 0;                                  ///< set by control_publish_registrars: 1, 2, ...
};

/// What every lcore may read. Only `arp`, `registrars` (control publishes) and
/// `stop` (control sets) change after start, all through __atomic builtins.
struct shared_state {
  std::vector<port_state> ports;
  unsigned n_workers = 0;
  std::uint16_t sip_port = 5060;
  std::vector<std::uint32_t> core_peers;
  rte_rcu_qsbr* qsbr = nullptr;
  std::uint64_t tsc_hz = 0;

  alignas(64) const arp_snapshot* arp = nullptr;
  const registrar_snapshot* registrars = nullptr;  ///< nullptr until the first DNS outcome
  alignas(64) std::uint32_t stop = 0;
};

// ------------------------------------------------------------------ mbuf private area

/// What an mbuf carries between lcores.
enum class pkt_kind : std::uint8_t {
  frame,        ///< a received frame not yet classified (control -> worker)
  fragment,     ///< an IPv4 fragment for the worker that reassembles it
  sip,          ///< a parsed SIP message for its owner
  arp,          ///< an ARP frame for control to learn from
  icmp_echo,    ///< an echo request for control to answer
  arp_pending,  ///< a built packet waiting for a neighbour MAC (worker -> control)
};

/// Lives in every mbuf's private area (constructed once per mbuf when the pool is
/// made), so a message parsed on one core is never parsed again on another.
/// `msg` indexes the mbuf's own data, which stays put while the mbuf travels.
struct mbuf_priv {
  sip::message msg;
  reg::packet_meta meta;
  std::uint32_t next_hop = 0;  ///< arp_pending: the address to resolve
  std::uint16_t port = 0;      ///< interface index it came in on / goes out on
  pkt_kind kind = pkt_kind::frame;
};

/// Private area size for pktmbuf pools (a multiple of RTE_MBUF_PRIV_ALIGN).
inline constexpr std::uint16_t mbuf_priv_size =
    static_cast<std::uint16_t>((sizeof(mbuf_priv) + RTE_MBUF_PRIV_ALIGN - 1) & ~std::size_t{RTE_MBUF_PRIV_ALIGN - 1});

[[nodiscard]] inline mbuf_priv& priv(rte_mbuf* m) noexcept { return *static_cast<mbuf_priv*>(rte_mbuf_to_priv(m)); }

// ------------------------------------------------------------------ worker

/// One worker lcore's state, grouped by cache line: what the loop reads every
/// iteration first, then rings, tx, reassembly, and the counters last (written
/// constantly, read only by the control lcore).
struct alignas(RTE_CACHE_LINE_SIZE) worker_context {
  // Identity and read-mostly pointers.
  unsigned id = 0;
  unsigned lcore = 0;
  unsigned n_workers = 1;
  std::uint16_t burst = 32;
  std::uint16_t n_ports = 0;
  const shared_state* shared = nullptr;
  reg::engine* engine = nullptr;
  reg::output_queue* out = nullptr;
  rte_mempool* pool = nullptr;      ///< this worker's mbufs (rx queues and everything it builds)
  rte_mempool* big_pool = nullptr;  ///< 64 KiB buffers for reassembled datagrams
  const sip::scanner* scanner = nullptr;
  std::uint64_t tsc_per_ms = 1;
  std::uint64_t tx_drain_tsc = 0;                  ///< ~100 us
  const arp_snapshot* arp = nullptr;               ///< the snapshot read at the top of this iteration
  const registrar_snapshot* registrars = nullptr;  ///< likewise
  std::uint64_t last_tick_ms = 0;
  std::uint64_t registrars_applied = 0;  ///< generation of the last registrar snapshot applied to the engine
  std::array<std::uint32_t, reg::max_registrars> registrar_gen{};  ///< per index: the entry generation applied

  // Rings: to_worker[o] is rings[self][o], from_worker[p] is rings[p][self].
  alignas(RTE_CACHE_LINE_SIZE) std::array<rte_ring*, max_workers> to_worker{};
  std::array<rte_ring*, max_workers> from_worker{};
  rte_ring* to_control = nullptr;
  rte_ring* from_control = nullptr;

  // Tx: one buffer per port, on tx queue `id`.
  alignas(RTE_CACHE_LINE_SIZE) std::array<rte_eth_dev_tx_buffer*, max_ports> tx{};
  std::uint64_t tx_deadline = 0;
  std::uint16_t ip_id = 0;  ///< advances by n_workers, so workers never reuse each other's ids

  // Reassembly.
  rte_ip_frag_tbl* frag_tbl = nullptr;
  std::uint64_t frag_expire_tsc = 0;
  rte_ip_frag_death_row death_row{};

  worker_counters counters;
};

/// Processes `n` frames received on interface `port` (rx burst of the loop; tests
/// call it directly). Takes ownership of the mbufs.
void worker_rx(worker_context& w, std::uint16_t port, rte_mbuf** pkts, std::uint16_t n, std::uint64_t now_tsc) noexcept;
/// Drains the inbound rings (other workers, control). Returns mbufs handled.
unsigned worker_drain_rings(worker_context& w, std::uint64_t now_tsc) noexcept;
/// Engine timers and reassembly expiry.
void worker_tick(worker_context& w, std::uint64_t now_tsc) noexcept;
/// Sends what the tx buffers hold.
void worker_flush(worker_context& w) noexcept;
/// The top of an iteration: reports a quiescent state, then reads the current
/// neighbour and registrar snapshots; a registrar snapshot not applied yet goes
/// to the engine (changed entries only). Nothing from an older snapshot is kept.
void worker_refresh_snapshots(worker_context& w) noexcept;
/// One loop iteration: snapshots, rx every port, rings, tick, flush. Returns work done.
unsigned worker_poll_once(worker_context& w) noexcept;
/// The lcore entry point (rte_eal_remote_launch): loops until shared.stop.
int worker_main(void* arg);

// ------------------------------------------------------------------ control

/// Flags set by signal handlers (async-signal-safe) and read by the control loop.
struct signal_flags {
  volatile std::sig_atomic_t quit = 0;
  volatile std::sig_atomic_t dump = 0;
};

struct pending_packet {
  rte_mbuf* m = nullptr;
  std::uint64_t deadline_ms = 0;
};

/// A snapshot (neighbours or registrars: one of the two is set) waiting for every
/// worker to pass a quiescent state.
struct retired_snapshot {
  const arp_snapshot* snap = nullptr;
  std::uint64_t token = 0;
  const registrar_snapshot* registrars = nullptr;
};

struct control_context {
  /// How long a packet waits for ARP before it is dropped.
  static constexpr std::uint64_t hold_ms = 1000;
  /// Interval between ARP requests for one unresolved address.
  static constexpr std::uint64_t arp_retry_ms = 200;
  static constexpr std::size_t max_pending = 4096;

  shared_state* shared = nullptr;
  std::vector<worker_context*> workers;
  std::vector<rte_ring*> from_workers;  ///< rings[w][control]
  std::vector<rte_ring*> to_workers;    ///< rings[control][w]
  rte_mempool* pool = nullptr;
  std::array<rte_eth_dev_tx_buffer*, max_ports> tx{};
  std::uint16_t tx_queue = 0;  ///< = n_workers
  std::uint16_t burst = 32;
  std::uint64_t tsc_per_ms = 1;
  unsigned lcore = 0;

  arp_cache arp;
  bool arp_dirty = false;
  std::vector<retired_snapshot> retired;
  std::deque<pending_packet> pending;
  /// Last ARP request per (port << 32 | address), for retry pacing.
  std::unordered_map<std::uint64_t, std::uint64_t> arp_requested_ms;
  std::uint64_t next_expire_ms = 0;
  unsigned next_worker = 0;                ///< round robin for frames from control-only rx queues
  std::uint64_t registrar_generation = 0;  ///< of the last registrar snapshot published

  control_counters counters;
};

/// One control iteration: rx of control-only queues, worker rings, held packets,
/// neighbour publication and reclamation, tx flush. Returns work done.
unsigned control_poll_once(control_context& c, std::uint64_t now_ms) noexcept;
/// Learns a neighbour (as from an ARP reply) and publishes a new snapshot if it changed.
void control_learn(control_context& c, std::uint16_t port, std::uint32_t ip, const mac_addr& mac, std::uint64_t now_ms);
/// Publishes the current table to the workers if it changed since the last call.
void control_publish(control_context& c);
/// Publishes `next` (its generation is set here) as the workers' registrar
/// snapshot; the previous one is reclaimed once every worker has moved on.
void control_publish_registrars(control_context& c, const registrar_snapshot& next);
/// Sends an ARP request for `ip` on interface `port` (broadcast).
void control_arp_request(control_context& c, std::uint16_t port, std::uint32_t ip, std::uint64_t now_ms) noexcept;

// ------------------------------------------------------------------ runtime

/// Owns every DPDK object the daemon creates after rte_eal_init.
class runtime {
 public:
  /// Creates pools, ports (started), rings, QSBR, contexts and engines. On failure
  /// returns nullptr and sets `error` (everything created so far is released).
  static std::unique_ptr<runtime> create(const dataplane_config& cfg, std::string& error);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Slow work the daemon adds to the control loop (the DNS resolver): called every
  /// iteration with the loop's clock, must not block, returns work done (0: idle).
  using control_hook = std::function<unsigned(runtime& rt, std::uint64_t now_ms)>;

  /// Launches the workers on the worker lcores and runs the control loop on the
  /// calling (main) lcore until `flags.quit`; then stops the workers. Returns 0 on
  /// a clean stop.
  int run(signal_flags& flags, const control_hook& hook = {});
  /// control_publish_registrars on this runtime's control context (control lcore only).
  void publish_registrars(const registrar_snapshot& next);

  [[nodiscard]] unsigned n_workers() const noexcept { return static_cast<unsigned>(workers_.size()); }
  [[nodiscard]] worker_context& worker(unsigned i) noexcept { return *workers_[i]; }
  [[nodiscard]] control_context& control() noexcept { return *control_; }
  [[nodiscard]] const shared_state& shared() const noexcept { return *shared_; }
  [[nodiscard]] reg::engine& engine(unsigned i) noexcept { return *engines_[i]; }
  /// The shared overload-protection pool (every engine's budget draws on it).
  [[nodiscard]] const reg::spike_pool& spike_pool() const noexcept { return *spike_pool_; }

  /// The counters table (plus per-port ethdev statistics) as text.
  [[nodiscard]] std::string counters_report() const;
  /// Milliseconds since an arbitrary epoch, from the TSC (what workers pass to the engine).
  [[nodiscard]] std::uint64_t now_ms() const noexcept;

 private:
  runtime() = default;
  bool build(const dataplane_config& cfg, std::string& error);
  void stop_ports() noexcept;

  std::unique_ptr<shared_state> shared_;
  std::vector<rte_mempool*> pools_;  ///< one per worker, then the control lcore's
  rte_mempool* big_pool_ = nullptr;
  std::vector<rte_ring*> rings_;  ///< every ring, for teardown
  /// One for all workers' spike budgets; declared before the engines so it outlives them.
  std::unique_ptr<reg::spike_pool> spike_pool_;
  std::vector<std::unique_ptr<reg::engine>> engines_;
  std::vector<std::unique_ptr<reg::output_queue>> outputs_;
  std::vector<worker_context*> workers_;  ///< rte_zmalloc'd on the worker's socket
  std::unique_ptr<control_context> control_;
  std::vector<std::uint16_t> started_ports_;
  std::vector<rte_eth_dev_tx_buffer*> tx_buffers_;
  unsigned stats_interval_s_ = 0;
};

}  // namespace sipfront::dp
