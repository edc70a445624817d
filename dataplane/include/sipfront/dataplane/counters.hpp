// Per-core counters and the table printed on SIGUSR1 and at exit.
//
// Each counter block is written only by the lcore that owns it and read by the
// control lcore. Writes are relaxed atomic stores of owner-local read-modify-write
// (a plain `add` on x86), reads are relaxed loads: a snapshot may be torn across
// counters, never within one.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sipfront/dataplane/classify.hpp"
#include "sipfront/regengine/counters.hpp"

namespace sipfront::dp {

class counter {
 public:
  void add(std::uint64_t n = 1) noexcept { __atomic_store_n(&v_, v_ + n, __ATOMIC_RELAXED); }
  void sub(std::uint64_t n) noexcept { __atomic_store_n(&v_, v_ - n, __ATOMIC_RELAXED); }
  [[nodiscard]] std::uint64_t load() const noexcept { return __atomic_load_n(&v_, __ATOMIC_RELAXED); }

 private:
  std::uint64_t v_ = 0;
};

/// One worker's dataplane counters (the engine keeps its own, reg::engine_counters).
struct alignas(64) worker_counters {
  // Traffic.
  counter rx_packets;
  counter rx_bytes;
  counter tx_packets;
  counter tx_bytes;
  // SIP messages received (counted where parsed, before steering).
  counter sip_register;
  counter sip_other_request;
  counter sip_response;
  counter sip_parse_errors;  ///< parse() failed; the owner's engine still sees it (may answer 400)
  counter sip_keepalives;    ///< datagrams of nothing but CRLF (keep-alive pings), not parsed further
  // Steering between workers.
  counter steered_out;
  counter steered_in;
  counter ring_full;  ///< dropped: the owner's ring was full
  // Fragments.
  counter fragments;       ///< IPv4 fragments received (any worker)
  counter frag_forwarded;  ///< fragments handed to the worker that reassembles them
  counter reassembled;     ///< datagrams put back together
  counter linearized;      ///< reassembled datagrams copied into a large-datagram buffer
  // Slow path.
  counter arp_replies;  ///< ARP requests for us answered in place
  counter to_control;   ///< frames handed to the control lcore (ARP, ICMP, ARP-pending)
  counter arp_miss;     ///< outgoing packets without a neighbour entry (held by control)
  counter control_ring_full;
  // Output.
  counter tx_drops;  ///< the NIC queue refused the packet
  counter no_route;  ///< destination off-link without a gateway, or unknown interface
  counter no_mbuf;   ///< packet pool exhausted
  std::array<counter, drop_reason_count> drops{};
};

/// The control lcore's counters.
struct alignas(64) control_counters {
  counter rx_packets;  ///< from the rx queues only the control lcore polls (af_packet fanout)
  counter rx_bytes;
  counter tx_packets;
  counter tx_bytes;
  counter tx_drops;
  counter forwarded_to_workers;  ///< frames from those queues handed to a worker
  counter arp_learned;           ///< neighbour entries created or changed
  counter arp_requests_sent;
  counter arp_replies_sent;
  counter arp_snapshots;  ///< neighbour snapshots published to the workers
  counter icmp_echo_replies;
  counter icmp_bad_checksum;
  counter pending_sent;      ///< held packets sent once the neighbour answered
  counter pending_expired;   ///< held packets dropped after the 1 s ARP wait
  counter pending_overflow;  ///< held packets dropped: too many waiting
  counter no_mbuf;
  counter ring_full;
};

/// A table of counters, one column per core plus a total.
struct counter_table {
  struct row {
    std::string name;
    std::vector<std::optional<std::uint64_t>> cells;  ///< one per column; nullopt prints "-"
    bool detail = false;                              ///< omitted when every cell is zero or absent
  };
  std::vector<std::string> columns;
  std::vector<row> rows;

  /// Adds a row; `cells` must have one entry per column.
  void add(std::string name, std::vector<std::optional<std::uint64_t>> cells, bool detail = false);
};

/// Right-aligned text table with a "total" column (the sum of present cells).
/// Section rows (no cells at all) print as headings.
[[nodiscard]] std::string format_table(const counter_table& t);

/// Everything the control lcore reads to print the table: per-worker dataplane and
/// engine counters, and its own.
struct counter_sources {
  std::vector<unsigned> worker_lcores;  ///< lcore id of each worker, for the headings
  std::vector<const worker_counters*> workers;
  std::vector<const reg::engine_counters*> engines;  ///< may hold nullptr (no engine yet)
  const control_counters* control = nullptr;
  unsigned control_lcore = 0;
};
[[nodiscard]] counter_table make_counter_table(const counter_sources& src);

}  // namespace sipfront::dp
