#include "config_adapter.hpp"

#include <string>

namespace sipfront::dp {

namespace {

std::string index_path(const char* field, int i) { return std::string(field) + "[" + std::to_string(i) + "]"; }

std::uint64_t rss_bits(const std::string& hash) {
  if (hash == "ipv4") return RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4;
  if (hash == "ipv4-udp") return RTE_ETH_RSS_NONFRAG_IPV4_UDP;
  if (hash == "ipv6") return RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_FRAG_IPV6;
  if (hash == "ipv6-udp") return RTE_ETH_RSS_NONFRAG_IPV6_UDP;
  return 0;
}

}  // namespace

eal_inputs eal_inputs_from(const v1::Config& cfg, const v1::NicProfile& profile, unsigned n_workers) {
  eal_inputs in;
  for (const auto& itf : cfg.interfaces()) in.devices.push_back(itf.device());
  in.device_args = profile.device_args();
  // Every port gets one rx queue per worker and one tx queue per worker plus the
  // control lcore's; devices that take one "queues" number need the larger.
  in.queues = n_workers + 1;
  in.no_huge = profile.memory().no_huge();
  in.memory_mb = profile.memory().memory_mb();
  in.profile_eal_args.assign(profile.eal_args().begin(), profile.eal_args().end());
  return in;
}

std::optional<ctrl::config_error> make_dataplane_config(const v1::Config& cfg, const v1::NicProfile& profile,
                                                        unsigned n_workers, std::vector<ctrl::engine_setup>& setups,
                                                        dataplane_config& out) {
  if (profile.max_queues() != 0 && n_workers + 1 > profile.max_queues()) {
    return ctrl::config_error{"workers.count", std::to_string(n_workers) + " workers need " +
                                                   std::to_string(n_workers + 1) + " queues per port; profile " +
                                                   profile.name() + " allows " + std::to_string(profile.max_queues())};
  }
  if (static_cast<std::size_t>(cfg.interfaces_size()) > max_ports) {
    return ctrl::config_error{"interfaces", "at most " + std::to_string(max_ports) + " interfaces are supported"};
  }
  for (int i = 0; i < cfg.interfaces_size(); ++i) {
    const v1::Interface& itf = cfg.interfaces(i);
    interface_config ic;
    ic.name = itf.name();
    ic.device = itf.device();
    switch (itf.side()) {
      case v1::SIDE_ACCESS: ic.side = iface_side::access; break;
      case v1::SIDE_CORE: ic.side = iface_side::core; break;
      case v1::SIDE_BOTH: ic.side = iface_side::both; break;
      default: return ctrl::config_error{index_path("interfaces", i) + ".side", "must be ACCESS, CORE or BOTH"};
    }
    const auto prefix = ctrl::parse_ipv4_prefix(itf.address());
    if (!prefix) {
      return ctrl::config_error{index_path("interfaces", i) + ".address",
                                "\"" + itf.address() + "\" is not an IPv4 address with prefix (198.18.1.1/24)"};
    }
    ic.addr.ip = prefix->addr;
    ic.addr.prefix_len = prefix->len;
    if (!itf.gateway().empty()) {
      const auto gw = ctrl::parse_ipv4(itf.gateway());
      if (!gw) {
        return ctrl::config_error{index_path("interfaces", i) + ".gateway",
                                  "\"" + itf.gateway() + "\" is not an IPv4 address"};
      }
      ic.addr.gateway = *gw;
    }
    ic.mtu = static_cast<std::uint16_t>(itf.mtu() != 0 ? itf.mtu() : 1500);
    out.interfaces.push_back(std::move(ic));
  }
  out.nic.profile_name = profile.name();
  out.nic.rx_descriptors = static_cast<std::uint16_t>(profile.rx_descriptors() != 0 ? profile.rx_descriptors() : 1024);
  out.nic.tx_descriptors = static_cast<std::uint16_t>(profile.tx_descriptors() != 0 ? profile.tx_descriptors() : 1024);
  out.nic.rss = profile.rss().enabled();
  for (const auto& h : profile.rss().hash()) out.nic.rss_hf |= rss_bits(h);
  out.nic.rx_checksum = profile.offloads().rx_checksum();
  out.nic.tx_checksum = profile.offloads().tx_checksum();
  out.nic.multi_seg = profile.offloads().multi_seg();

  out.n_workers = n_workers;
  out.ring_size = cfg.workers().ring_size();
  out.burst = cfg.workers().burst();
  out.mbufs_per_worker = cfg.workers().mbufs_per_worker();
  out.sip_port = static_cast<std::uint16_t>(cfg.sip().udp_port());
  for (const auto& r : cfg.registrars()) {
    if (const auto ep = ctrl::parse_ipv4_endpoint(r.address(), out.sip_port)) out.core_peers.push_back(ep->ip);
  }
  setups.clear();
  setups.reserve(n_workers);
  for (unsigned w = 0; w < n_workers; ++w) setups.push_back(ctrl::make_engine_config(cfg, w, n_workers));
  for (const auto& s : setups) out.engines.push_back(s.engine);
  out.spike = ctrl::make_spike_config(cfg);
  return std::nullopt;
}

}  // namespace sipfront::dp
