// Ethernet port setup from the interface config and the NIC profile (private to
// the dataplane library).
#pragma once

#include <optional>
#include <span>
#include <string>

#include "sipfront/dataplane/runtime.hpp"

namespace sipfront::dp {

/// The ethdev that the EAL created for `device` (vdev name or PCI address).
std::optional<std::uint16_t> find_port(const std::string& device);

/// Configures and starts the ethdev of interface `index`: rx queue q (< n_workers)
/// draws from rx_pools[q], extra rx queues (devices that spread traffic over every
/// queue they own, see n_rx_queues) from control_pool; tx queues = n_workers + 1.
/// Descriptors, RSS and offloads come from the profile, each only as far as
/// dev_info says the device supports it. Promiscuous mode off.
std::optional<port_state> setup_port(const interface_config& iface, std::uint16_t index, const nic_settings& nic,
                                     unsigned n_workers, std::span<rte_mempool* const> rx_pools,
                                     rte_mempool* control_pool, std::uint16_t sip_port, std::string& error);

}  // namespace sipfront::dp
