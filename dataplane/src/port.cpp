#include "port.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "sipfront/dataplane/cli.hpp"

namespace sipfront::dp {

namespace {

std::string errno_text(int rc) { return std::string(rte_strerror(rc < 0 ? -rc : rc)); }

// Devices that deliver traffic on every queue they were created with, whether or
// not the application configured it: af_packet joins all its per-queue sockets to
// one PACKET_FANOUT group at probe time, so a socket nobody polls would swallow
// the flows the kernel hashes to it. Such devices get all their queues set up and
// the control lcore polls the ones beyond the workers'.
bool fans_out_over_all_queues(std::string_view driver) { return driver == "net_af_packet"; }

}  // namespace

std::optional<std::uint16_t> find_port(const std::string& device) {
  std::string name = device.substr(0, device.find(','));
  // The EAL names PCI ethdevs by the full domain:bus:dev.fn form.
  if (is_pci_address(name) && std::count(name.begin(), name.end(), ':') == 1) name = "0000:" + name;
  std::uint16_t id = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) == 0) return id;
  // Some PMDs name the ethdev differently from the device (e.g. a PCI device with
  // several ports): match the underlying device's name instead.
  for (std::uint16_t p = 0; p < RTE_MAX_ETHPORTS; ++p) {
    if (rte_eth_dev_is_valid_port(p) == 0) continue;
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(p, &info) == 0 && info.device != nullptr && name == rte_dev_name(info.device)) return p;
  }
  return std::nullopt;
}

std::optional<port_state> setup_port(const interface_config& iface, std::uint16_t index, const nic_settings& nic,
                                     unsigned n_workers, std::span<rte_mempool* const> rx_pools,
                                     rte_mempool* control_pool, std::uint16_t sip_port, std::string& error) {
  const std::string where = "interfaces[" + std::to_string(index) + "] (" + iface.name + ", " + iface.device + "): ";
  const auto id = find_port(iface.device);
  if (!id) {
    error = where + "no DPDK port was created for this device (check the EAL log above)";
    return std::nullopt;
  }
  port_state ps;
  ps.name = iface.name;
  ps.index = index;
  ps.dpdk_port = *id;
  ps.side = iface.side;
  ps.addr = iface.addr;
  ps.mtu = iface.mtu;

  rte_eth_dev_info info{};
  if (const int rc = rte_eth_dev_info_get(*id, &info); rc != 0) {
    error = where + "rte_eth_dev_info_get: " + errno_text(rc);
    return std::nullopt;
  }
  ps.driver = info.driver_name != nullptr ? info.driver_name : "?";

  unsigned n_rx = n_workers;
  if (fans_out_over_all_queues(ps.driver) && info.max_rx_queues > n_rx) n_rx = info.max_rx_queues;
  const unsigned n_tx = n_workers + 1;
  if (n_rx > info.max_rx_queues || n_tx > info.max_tx_queues) {
    error = where + std::to_string(n_workers) + " workers need " + std::to_string(n_workers) + " rx and " +
            std::to_string(n_tx) + " tx queues; " + ps.driver + " offers " + std::to_string(info.max_rx_queues) +
            " rx and " + std::to_string(info.max_tx_queues) +
            " tx (for a vdev, the profile's device_args must create {queues} queue pairs)";
    return std::nullopt;
  }
  ps.n_rx_queues = static_cast<std::uint16_t>(n_rx);
  ps.n_tx_queues = static_cast<std::uint16_t>(n_tx);

  rte_eth_conf conf{};
  conf.rxmode.mtu = iface.mtu;
  if (nic.rss && n_rx > 1 && info.flow_type_rss_offloads != 0) {
    const std::uint64_t hf =
        (nic.rss_hf != 0 ? nic.rss_hf : RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    if (hf != 0) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_hf = hf;
      conf.rx_adv_conf.rss_conf.rss_key = nullptr;  // the PMD's default key
    }
  }
  constexpr std::uint64_t rx_ck = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
  constexpr std::uint64_t tx_ck = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  if (nic.rx_checksum && (info.rx_offload_capa & rx_ck) == rx_ck) {
    conf.rxmode.offloads |= rx_ck;
    ps.rx_cksum_offload = true;
  }
  if (nic.tx_checksum && (info.tx_offload_capa & tx_ck) == tx_ck) {
    conf.txmode.offloads |= tx_ck;
    ps.tx_cksum_offload = true;
  }
  if (nic.multi_seg && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  }
  if (const int rc =
          rte_eth_dev_configure(*id, static_cast<std::uint16_t>(n_rx), static_cast<std::uint16_t>(n_tx), &conf);
      rc != 0) {
    error = where + "rte_eth_dev_configure: " + errno_text(rc);
    return std::nullopt;
  }
  std::uint16_t nb_rxd = nic.rx_descriptors;
  std::uint16_t nb_txd = nic.tx_descriptors;
  if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(*id, &nb_rxd, &nb_txd); rc != 0) {
    error = where + "rte_eth_dev_adjust_nb_rx_tx_desc: " + errno_text(rc);
    return std::nullopt;
  }
  const int socket = rte_eth_dev_socket_id(*id);
  const unsigned sock = socket < 0 ? static_cast<unsigned>(SOCKET_ID_ANY) : static_cast<unsigned>(socket);
  rte_eth_rxconf rxq = info.default_rxconf;
  rxq.offloads = conf.rxmode.offloads;
  for (unsigned q = 0; q < n_rx; ++q) {
    rte_mempool* mp = q < n_workers ? rx_pools[q] : control_pool;
    if (const int rc = rte_eth_rx_queue_setup(*id, static_cast<std::uint16_t>(q), nb_rxd, sock, &rxq, mp); rc != 0) {
      error = where + "rx queue " + std::to_string(q) + ": " + errno_text(rc);
      return std::nullopt;
    }
  }
  rte_eth_txconf txq = info.default_txconf;
  txq.offloads = conf.txmode.offloads;
  for (unsigned q = 0; q < n_tx; ++q) {
    if (const int rc = rte_eth_tx_queue_setup(*id, static_cast<std::uint16_t>(q), nb_txd, sock, &txq); rc != 0) {
      error = where + "tx queue " + std::to_string(q) + ": " + errno_text(rc);
      return std::nullopt;
    }
  }
  rte_ether_addr mac{};
  if (const int rc = rte_eth_macaddr_get(*id, &mac); rc != 0) {
    error = where + "rte_eth_macaddr_get: " + errno_text(rc);
    return std::nullopt;
  }
  std::memcpy(ps.mac.b.data(), mac.addr_bytes, 6);
  if (const int rc = rte_eth_dev_start(*id); rc != 0) {
    error = where + "rte_eth_dev_start: " + errno_text(rc);
    return std::nullopt;
  }
  // Only frames for our MAC (and broadcast): the kernel or switch filters the rest.
  // Not every PMD can switch it (-ENOTSUP), and the classifier drops foreign frames anyway.
  (void)rte_eth_promiscuous_disable(*id);
  ps.policy.mac = ps.mac;
  ps.policy.addr = ps.addr;
  ps.policy.sip_port = sip_port;
  return ps;
}

}  // namespace sipfront::dp
