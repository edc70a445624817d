// NIC profiles: which PMD, how it is attached, and the settings its DPDK guide
// recommends. Validation knows each supported PMD's facts (vdev or PCI, kernel
// module, descriptor limit, RSS and checksum capability), so a profile for absent
// hardware is still checked against what the hardware would accept.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "detail.hpp"
#include "sipfront/ctrl/config.hpp"

namespace sipfront::ctrl {
namespace {

using detail::index_path;

struct driver_facts {
  std::string_view name;
  bool vdev;                ///< created with --vdev, nothing to bind
  std::string_view module;  ///< required kernel module when fixed by the driver (bifurcated), else empty
  bool bifurcated;          ///< the kernel driver keeps the device; DPDK shares it
  std::uint32_t max_desc;   ///< per-queue descriptor limit in DPDK 22.11
  bool rss;                 ///< reports RSS hash functions (ethdev refuses rss_hf otherwise)
  bool checksum;            ///< IPv4/UDP checksum offloads
};

// Descriptor limits: the Intel PMDs cap rings at 4096 (ICE/I40E/IXGBE_MAX_RING_DESC),
// vmxnet3 at 4096 (VMXNET3_RX_RING_MAX_SIZE); virtio clamps to the device's vring
// size; mlx5 allows 2^15 per WQ on ConnectX-5/6.
constexpr std::array<driver_facts, 12> drivers{{
    {"net_af_packet", true, "", false, 32768, false, false},
    {"net_af_xdp", true, "", false, 32768, false, false},
    {"net_tap", true, "", false, 32768, false, true},  // checksums done in software by the PMD
    {"net_null", true, "", false, 32768, true, false},
    {"net_ring", true, "", false, 32768, false, false},
    {"net_memif", true, "", false, 32768, false, false},
    {"net_mlx5", false, "mlx5_core", true, 32768, true, true},
    {"net_ice", false, "", false, 4096, true, true},
    {"net_i40e", false, "", false, 4096, true, true},
    {"net_ixgbe", false, "", false, 4096, true, true},
    {"net_virtio", false, "", false, 32768, true, true},
    {"net_vmxnet3", false, "", false, 4096, true, true},
}};

constexpr std::array<std::string_view, 2> pci_modules{"vfio-pci", "uio_pci_generic"};
constexpr std::array<std::string_view, 4> rss_hashes{"ipv4", "ipv4-udp", "ipv6", "ipv6-udp"};
constexpr std::uint32_t min_desc = 64;
constexpr std::uint32_t max_desc = 32768;
constexpr std::uint32_t max_queues = 1024;  // RTE_MAX_QUEUES_PER_PORT
constexpr std::uint32_t hugepage_2m_kb = 2048;
constexpr std::uint32_t hugepage_1g_kb = 1048576;
constexpr std::uint32_t min_memory_mb = 64;
constexpr std::uint32_t min_mtu = 576;
constexpr std::uint32_t max_mtu = 9000;

/// EAL options the daemon derives from elsewhere, and where to set them instead.
struct reserved_option {
  std::string_view option;
  std::string_view use_instead;
};
constexpr std::array<reserved_option, 14> reserved_eal{{
    {"-m", "memory.memoryMb"},
    {"--no-huge", "memory.noHuge"},
    {"--socket-mem", "memory.memoryMb (per-node limits are host-specific: pass them in the service's EAL args)"},
    {"--socket-limit", "the service's EAL args (host-specific)"},
    {"-a", "the config's interfaces[].device"},
    {"--allow", "the config's interfaces[].device"},
    {"-w", "the config's interfaces[].device"},
    {"-b", "the config's interfaces[].device (only listed devices are probed)"},
    {"--block", "the config's interfaces[].device (only listed devices are probed)"},
    {"--vdev", "the config's interfaces[].device"},
    {"-l", "the service's EAL args (cores are host-specific)"},
    {"-c", "the service's EAL args (cores are host-specific)"},
    {"--lcores", "the service's EAL args (cores are host-specific)"},
    {"--main-lcore", "the service's EAL args (cores are host-specific)"},
}};

const driver_facts* find_driver(std::string_view name) {
  const auto* it = std::find_if(drivers.begin(), drivers.end(), [&](const driver_facts& d) { return d.name == name; });
  return it == drivers.end() ? nullptr : &*it;
}

std::string driver_list() {
  std::string s;
  for (const auto& d : drivers) s += (s.empty() ? "" : ", ") + std::string(d.name);
  return s;
}

/// "-m" matches "-m", "-m512"; "--socket-mem" matches "--socket-mem" and "--socket-mem=...".
bool matches_option(std::string_view arg, std::string_view option) {
  if (!arg.starts_with(option)) return false;
  if (arg.size() == option.size()) return true;
  if (option.starts_with("--")) return arg[option.size()] == '=';
  return true;  // short option with its value attached
}

config_error error(std::string path, std::string reason) { return {std::move(path), std::move(reason)}; }

std::optional<config_error> check_descriptors(std::string_view path, std::uint32_t n, const driver_facts& d) {
  if (!detail::is_power_of_two(n) || n < min_desc || n > max_desc) {
    return error(std::string(path), std::to_string(n) + " must be a power of two in " + std::to_string(min_desc) +
                                        ".." + std::to_string(max_desc));
  }
  if (n > d.max_desc) {
    return error(std::string(path), std::to_string(n) + " exceeds " + std::string(d.name) + "'s limit of " +
                                        std::to_string(d.max_desc) + " descriptors per queue");
  }
  return std::nullopt;
}

std::optional<config_error> check_attachment(const v1::NicProfile& p, const driver_facts& d) {
  if (p.virtual_device() != d.vdev) {
    return error("virtualDevice",
                 d.vdev ? std::string(d.name) + " is a virtual device (--vdev); set \"virtualDevice\": true"
                        : std::string(d.name) + " drives a PCI device; set \"virtualDevice\": false");
  }
  if (p.bifurcated() != d.bifurcated) {
    return error("bifurcated", d.bifurcated
                                   ? std::string(d.name) + " is bifurcated: the device stays with " +
                                         std::string(d.module) + " and is never rebound; set \"bifurcated\": true"
                                   : std::string(d.name) + " is not bifurcated (its device is " +
                                         (d.vdev ? "virtual" : "rebound to vfio-pci") + "); remove \"bifurcated\"");
  }
  if (d.vdev) {
    if (!p.kernel_module().empty()) {
      return error("kernelModule", "virtual devices are not bound to a kernel module; remove \"kernelModule\" (\"" +
                                       p.kernel_module() + "\")");
    }
    return std::nullopt;
  }
  if (p.kernel_module().empty()) {
    return error("kernelModule", d.bifurcated
                                     ? "not set; " + std::string(d.name) + " needs \"" + std::string(d.module) + "\""
                                     : "not set; PCI devices must be bound to \"vfio-pci\" (or "
                                       "\"uio_pci_generic\" where there is no IOMMU)");
  }
  if (d.bifurcated && p.kernel_module() != d.module) {
    return error("kernelModule", "\"" + p.kernel_module() + "\" is wrong for " + std::string(d.name) +
                                     ", which works through the kernel's \"" + std::string(d.module) +
                                     "\" (bifurcated; do not bind it to vfio-pci)");
  }
  if (!d.bifurcated && std::find(pci_modules.begin(), pci_modules.end(), p.kernel_module()) == pci_modules.end()) {
    return error("kernelModule", "\"" + p.kernel_module() +
                                     "\" is not a DPDK-capable binding; use \"vfio-pci\" (or "
                                     "\"uio_pci_generic\" where there is no IOMMU)");
  }
  return std::nullopt;
}

std::optional<config_error> check_device_args(const std::string& args) {
  if (args.empty()) return std::nullopt;
  if (args.front() == ',' || args.back() == ',') {
    return error("deviceArgs", "\"" + args + "\" must not start or end with a comma (it is appended after one)");
  }
  if (args.find_first_of(" \t\n") != std::string::npos) {
    return error("deviceArgs", "\"" + args + "\" contains white space; devargs are key=value pairs joined by commas");
  }
  for (std::size_t open = args.find('{'); open != std::string::npos; open = args.find('{', open + 1)) {
    const std::size_t close = args.find('}', open);
    const std::string_view name =
        close == std::string::npos ? std::string_view{} : std::string_view(args).substr(open, close - open + 1);
    if (name != "{queues}") {
      return error("deviceArgs", "\"" + args +
                                     "\" uses an unknown placeholder; only {queues} (queues per port) is "
                                     "substituted");
    }
  }
  if (args.find('}') != std::string::npos && args.find('{') == std::string::npos) {
    return error("deviceArgs", "\"" + args + "\" has a '}' without '{'");
  }
  return std::nullopt;
}

std::optional<config_error> check_rss(const v1::NicProfile& p, const driver_facts& d) {
  const auto& rss = p.rss();
  if (!rss.enabled()) {
    if (!rss.hash().empty()) {
      return error("rss.hash", "hash types are listed but \"rss.enabled\" is false; enable RSS or remove the list");
    }
    return std::nullopt;
  }
  if (!d.rss) {
    return error("rss.enabled", std::string(d.name) +
                                    " cannot hash received packets to queues; set \"enabled\": false "
                                    "(the dataplane steers by Call-ID in software)");
  }
  if (rss.hash().empty()) {
    return error("rss.hash", "empty; RSS needs at least one hash type (\"ipv4-udp\" spreads SIP flows best)");
  }
  for (int i = 0; i < rss.hash_size(); ++i) {
    const std::string path = index_path("rss.hash", static_cast<std::size_t>(i));
    if (std::find(rss_hashes.begin(), rss_hashes.end(), rss.hash(i)) == rss_hashes.end()) {
      return error(path, "\"" + rss.hash(i) +
                             "\" is not a known hash type; use \"ipv4\", \"ipv4-udp\", \"ipv6\" or "
                             "\"ipv6-udp\"");
    }
    for (int j = 0; j < i; ++j) {
      if (rss.hash(j) == rss.hash(i)) return error(path, "\"" + rss.hash(i) + "\" is listed twice");
    }
  }
  return std::nullopt;
}

std::optional<config_error> check_memory(const v1::NicProfile& p, const driver_facts& d) {
  const auto& m = p.memory();
  if (m.no_huge()) {
    if (!d.vdev) {
      return error("memory.noHuge",
                   "PCI devices DMA into packet buffers, which must be pinned hugepage memory; set "
                   "\"noHuge\": false and reserve hugepages");
    }
    if (m.memory_mb() == 0) {
      return error("memory.memoryMb", "must be set with \"noHuge\": true (EAL --no-huge needs -m); e.g. 512");
    }
    if (m.hugepage_kb() != 0 || m.hugepages() != 0) {
      return error(m.hugepage_kb() != 0 ? "memory.hugepageKb" : "memory.hugepages",
                   "\"noHuge\" is true, so no hugepages are used; remove \"hugepageKb\"/\"hugepages\"");
    }
  } else {
    if (m.hugepage_kb() != hugepage_2m_kb && m.hugepage_kb() != hugepage_1g_kb) {
      return error("memory.hugepageKb", std::to_string(m.hugepage_kb()) +
                                            " is not a hugepage size; use 2048 (2 MB) or 1048576 (1 GB), or set "
                                            "\"noHuge\": true for a virtual device");
    }
    if (m.hugepages() == 0) {
      return error("memory.hugepages", "must be > 0: the pages setup-host.sh reserves per NUMA node");
    }
  }
  if (m.memory_mb() != 0 && m.memory_mb() < min_memory_mb) {
    return error("memory.memoryMb", std::to_string(m.memory_mb()) +
                                        " MB is too little for EAL and the packet pools; "
                                        "give at least " +
                                        std::to_string(min_memory_mb));
  }
  return std::nullopt;
}

std::optional<config_error> check_eal_args(const v1::NicProfile& p) {
  for (int i = 0; i < p.eal_args_size(); ++i) {
    const std::string& arg = p.eal_args(i);
    const std::string path = index_path("ealArgs", static_cast<std::size_t>(i));
    if (arg.empty()) return error(path, "empty argument");
    for (const auto& r : reserved_eal) {
      if (matches_option(arg, r.option)) {
        return error(path,
                     "\"" + arg + "\" is set by the daemon from " + std::string(r.use_instead) + "; remove it here");
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<config_error> validate_profile(const v1::NicProfile& p) {
  if (p.name().empty()) return error("name", "not set; name the profile (it is how operators select it)");
  const driver_facts* d = find_driver(p.driver());
  if (d == nullptr) {
    return error("driver", p.driver().empty()
                               ? "not set; use one of " + driver_list()
                               : "\"" + p.driver() + "\" is not a supported PMD; use one of " + driver_list());
  }
  if (auto e = check_attachment(p, *d)) return e;
  if (auto e = check_device_args(p.device_args())) return e;
  if (auto e = check_descriptors("rxDescriptors", p.rx_descriptors(), *d)) return e;
  if (auto e = check_descriptors("txDescriptors", p.tx_descriptors(), *d)) return e;
  if (p.max_queues() > max_queues) {
    return error("maxQueues", std::to_string(p.max_queues()) + " exceeds DPDK's " + std::to_string(max_queues) +
                                  " queues per port; 0 means the driver's maximum");
  }
  if (auto e = check_rss(p, *d)) return e;
  if ((p.offloads().rx_checksum() || p.offloads().tx_checksum()) && !d->checksum) {
    return error(p.offloads().rx_checksum() ? "offloads.rxChecksum" : "offloads.txChecksum",
                 std::string(d->name) + " cannot offload checksums; set it false (software checksums are used)");
  }
  if (auto e = check_memory(p, *d)) return e;
  if (auto e = check_eal_args(p)) return e;
  if (p.mtu() != 0 && (p.mtu() < min_mtu || p.mtu() > max_mtu)) {
    return error("mtu", std::to_string(p.mtu()) + " is outside " + std::to_string(min_mtu) + ".." +
                            std::to_string(max_mtu) + " (0 leaves the device's default)");
  }
  return std::nullopt;
}

std::optional<config_error> parse_profile_json(std::string_view json, v1::NicProfile& out) {
  if (auto e = detail::parse_json(json, out)) return e;
  return validate_profile(out);
}

std::optional<config_error> load_profile(const std::string& file, v1::NicProfile& out) {
  std::string text;
  if (auto e = detail::read_file(file, text)) return e;
  return parse_profile_json(text, out);
}

}  // namespace sipfront::ctrl
