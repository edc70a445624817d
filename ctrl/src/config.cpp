// The startup config: protobuf JSON → defaults → validation. Every check names
// the field by its JSON path and says what to write instead, because the person
// reading the message is an operator whose daemon just refused to start.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detail.hpp"
#include "sipfront/ctrl/config.hpp"
#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/uri.hpp"

namespace sipfront::ctrl {
namespace {

using detail::field_path;
using detail::index_path;

// Defaults, as documented in config.proto.
constexpr std::uint32_t default_mtu = 1500;
constexpr std::uint32_t default_ring_size = 1024;
constexpr std::uint32_t default_burst = 32;
constexpr std::uint32_t default_mbufs_per_worker = 8191;  // 2^n - 1: the mempool's optimum
constexpr std::uint32_t default_t1_ms = 500;
constexpr std::uint32_t default_t2_ms = 4000;
constexpr std::uint32_t default_timer_k_ms = 5000;
constexpr std::uint32_t default_timeout_response = 408;
constexpr std::uint32_t default_max_transactions = 65536;
constexpr std::uint32_t default_expires_min = 60;
constexpr std::uint32_t default_expires_max = 3600;
constexpr std::uint32_t default_expires_default = 3600;
constexpr std::uint32_t default_max_bindings = 65536;
constexpr std::uint32_t default_out_expires = 3600;
constexpr std::uint32_t default_fail_count = 3;
constexpr std::uint32_t default_reserve_percent = 10;
constexpr std::uint32_t default_retry_after_min = 30;
constexpr std::uint32_t default_retry_after_max = 120;
constexpr std::uint32_t default_probe_interval_ms = 5000;
constexpr std::uint32_t default_fallback_hold_s = 3600;
constexpr std::uint32_t default_regsync_rate = 50;
constexpr std::uint32_t default_dns_min_ttl = 30;
constexpr std::uint32_t default_dns_max_ttl = 3600;
constexpr std::uint32_t default_dns_retry = 10;
constexpr std::uint16_t default_dns_port = 53;

// Limits.
constexpr std::uint32_t min_mtu = 576;  // the smallest datagram every IPv4 host must accept (RFC 791)
constexpr std::uint32_t max_mtu = 9000;
constexpr std::uint32_t max_workers = 127;  // RTE_MAX_LCORE (128) minus the control lcore
constexpr std::uint32_t min_ring_size = 64;
constexpr std::uint32_t max_ring_size = 65536;
constexpr std::uint32_t max_burst = 64;
constexpr std::uint32_t min_mbufs = 1023;
constexpr std::uint32_t max_mbufs = (1U << 22) - 1;
constexpr std::uint32_t min_t1_ms = 50;
constexpr std::uint32_t max_t1_ms = 10000;
constexpr std::uint32_t max_transactions_limit = 1U << 24;
constexpr std::uint32_t max_registrar_index = reg::max_registrars;
constexpr std::uint32_t max_expires = 86400;  // a day: longer, and a dead phone's binding outlives any outage report
constexpr std::uint32_t min_out_expires = 60;
constexpr std::uint32_t max_bindings_limit = 1U << 24;         // 8 GiB of records per worker
constexpr std::uint32_t max_fail_count = 255;                  // the binding's counter is 8 bits
constexpr std::size_t max_credentials = reg::max_credentials;  // looked up linearly on each challenge (cold path)
constexpr std::size_t max_credential_field = 256;
constexpr std::uint32_t min_probe_ms = 500;     // one T1: faster probing says nothing more
constexpr std::uint32_t max_probe_ms = 600000;  // ten minutes
constexpr std::uint32_t min_fallback_hold_s = 60;
constexpr std::uint32_t max_fallback_hold_s = 86400;
constexpr std::uint32_t max_regsync_rate = 100000;
constexpr std::uint32_t max_dns_ttl = 86400;  // a day: a registrar move must not take longer to notice
constexpr std::uint32_t max_dns_retry = 3600;

using detail::accepts_access;
using detail::accepts_core;
using detail::core_route;

/// The device name without its arguments: "net_af_packet0,iface=x" → "net_af_packet0".
std::string_view device_name(std::string_view device) { return device.substr(0, device.find(',')); }

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  while (!s.empty()) {
    const std::size_t dot = s.find('.');
    const std::string_view label = s.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!sip::chars::is_alpha(c) && !sip::chars::is_digit(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
    if (s.empty()) return false;  // trailing dot
  }
  return true;
}

config_error error(std::string path, std::string reason) { return {std::move(path), std::move(reason)}; }

/// Checks a host address given as "a.b.c.d"; `what` names it in the reason.
std::optional<config_error> check_unicast(const std::string& path, std::uint32_t addr, std::string_view text) {
  if (auto why = detail::not_unicast_reason(addr); !why.empty()) {
    return error(path, "\"" + std::string(text) + "\" " + why + "; give a unicast address");
  }
  return std::nullopt;
}

std::optional<config_error> check_interfaces(const v1::Config& cfg) {
  if (cfg.interfaces().empty()) {
    return error("interfaces",
                 "no interfaces; list at least one SIDE_ACCESS and one SIDE_CORE port (or one SIDE_BOTH port)");
  }
  std::vector<ipv4_prefix> prefixes;
  bool any_access = false;
  bool any_core = false;
  for (int i = 0; i < cfg.interfaces_size(); ++i) {
    const auto& itf = cfg.interfaces(i);
    const std::string base = index_path("interfaces", static_cast<std::size_t>(i));

    if (itf.device().empty()) {
      return error(field_path(base, "device"),
                   "empty; give a DPDK device: a vdev such as \"net_af_packet0,iface=eth1\" or a PCI address such as "
                   "\"0000:3b:00.0\"");
    }
    for (int j = 0; j < i; ++j) {
      if (device_name(cfg.interfaces(j).device()) == device_name(itf.device())) {
        return error(field_path(base, "device"),
                     "\"" + std::string(device_name(itf.device())) + "\" is already port " + std::to_string(j) + " (" +
                         index_path("interfaces", static_cast<std::size_t>(j)) + "); each port needs its own device");
      }
      if (!itf.name().empty() && cfg.interfaces(j).name() == itf.name()) {
        return error(field_path(base, "name"), "\"" + itf.name() + "\" is already the name of " +
                                                   index_path("interfaces", static_cast<std::size_t>(j)) +
                                                   "; names label ports in status output and must be unique");
      }
    }

    if (itf.side() == v1::SIDE_UNSPECIFIED) {
      return error(field_path(base, "side"),
                   "not set; use \"SIDE_ACCESS\" (toward phones), \"SIDE_CORE\" (toward registrars) or \"SIDE_BOTH\"");
    }
    any_access = any_access || accepts_access(itf.side());
    any_core = any_core || accepts_core(itf.side());

    const std::string addr_path = field_path(base, "address");
    const auto prefix = parse_ipv4_prefix(itf.address());
    if (!prefix) {
      return error(
          addr_path,
          itf.address().empty()
              ? "not set; give the port's IPv4 address with its prefix length, e.g. \"198.18.1.1/24\""
              : "\"" + itf.address() + "\" is not an IPv4 address with a prefix length, e.g. \"198.18.1.1/24\"");
    }
    if (prefix->len == 0) {
      return error(addr_path,
                   "prefix length /0 would put every address on this link; give the subnet's length (1..32)");
    }
    if (auto e = check_unicast(addr_path, prefix->addr, itf.address())) return e;
    if (prefix->len <= 30) {
      const std::uint32_t host = prefix->addr & ~detail::prefix_mask(prefix->len);
      const ipv4_prefix net{prefix->addr & detail::prefix_mask(prefix->len), prefix->len};
      if (host == 0)
        return error(addr_path,
                     "\"" + itf.address() + "\" is the network address of " + to_string(net) + "; give a host address");
      if (host == ~detail::prefix_mask(prefix->len)) {
        return error(addr_path, "\"" + itf.address() + "\" is the broadcast address of " + to_string(net) +
                                    "; give a host address");
      }
    }
    for (std::size_t j = 0; j < prefixes.size(); ++j) {
      const ipv4_prefix shorter{prefixes[j].len < prefix->len ? prefixes[j] : *prefix};
      const std::uint32_t other = prefixes[j].len < prefix->len ? prefix->addr : prefixes[j].addr;
      if (detail::in_prefix(other, shorter)) {
        return error(addr_path, "\"" + itf.address() + "\" overlaps " + index_path("interfaces", j) + ".address (\"" +
                                    cfg.interfaces(static_cast<int>(j)).address() +
                                    "\"); each port must be on its own subnet so replies leave by the right port");
      }
    }
    prefixes.push_back(*prefix);

    if (!itf.gateway().empty()) {
      const std::string gw_path = field_path(base, "gateway");
      const auto gw = parse_ipv4(itf.gateway());
      if (!gw) return error(gw_path, "\"" + itf.gateway() + "\" is not an IPv4 address, e.g. \"198.18.1.254\"");
      if (auto e = check_unicast(gw_path, *gw, itf.gateway())) return e;
      if (!detail::in_prefix(*gw, *prefix)) {
        return error(gw_path, "\"" + itf.gateway() + "\" is outside this port's subnet " +
                                  to_string({prefix->addr & detail::prefix_mask(prefix->len), prefix->len}) +
                                  "; the next hop must be directly reachable");
      }
      if (*gw == prefix->addr) return error(gw_path, "is this port's own address; give the next-hop router's address");
    }

    if (itf.mtu() < min_mtu || itf.mtu() > max_mtu) {
      return error(field_path(base, "mtu"), std::to_string(itf.mtu()) + " is outside " + std::to_string(min_mtu) +
                                                ".." + std::to_string(max_mtu) + " (default 1500)");
    }
  }
  if (!any_access) {
    return error("interfaces",
                 "no port serves the access side; set \"side\": \"SIDE_ACCESS\" (or \"SIDE_BOTH\") on one");
  }
  if (!any_core) {
    return error("interfaces", "no port serves the core side; set \"side\": \"SIDE_CORE\" (or \"SIDE_BOTH\") on one");
  }
  return std::nullopt;
}

std::optional<config_error> check_workers(const v1::Config& cfg) {
  const auto& w = cfg.workers();
  if (w.count() > max_workers) {
    return error("workers.count", std::to_string(w.count()) + " workers exceed DPDK's " + std::to_string(max_workers) +
                                      " (RTE_MAX_LCORE less the control lcore); 0 uses every lcore but the main one");
  }
  if (!detail::is_power_of_two(w.ring_size()) || w.ring_size() < min_ring_size || w.ring_size() > max_ring_size) {
    return error("workers.ringSize", std::to_string(w.ring_size()) + " must be a power of two in " +
                                         std::to_string(min_ring_size) + ".." + std::to_string(max_ring_size) +
                                         " (rte_ring sizes are powers of two; default 1024)");
  }
  if (w.burst() < 1 || w.burst() > max_burst) {
    return error("workers.burst",
                 std::to_string(w.burst()) + " is outside 1.." + std::to_string(max_burst) + " (default 32)");
  }
  if (w.mbufs_per_worker() < min_mbufs || w.mbufs_per_worker() > max_mbufs) {
    return error("workers.mbufsPerWorker",
                 std::to_string(w.mbufs_per_worker()) + " is outside " + std::to_string(min_mbufs) + ".." +
                     std::to_string(max_mbufs) +
                     "; each worker needs buffers for its rx descriptors, rings and bursts in flight (default 8191)");
  }
  return std::nullopt;
}

std::optional<config_error> check_sip(const v1::Config& cfg) {
  const auto& sip = cfg.sip();
  if (sip.udp_port() < 1 || sip.udp_port() > 65535) {
    return error("sip.udpPort", std::to_string(sip.udp_port()) + " is not a UDP port (1..65535; default 5060)");
  }
  const auto& t = sip.timers();
  if (t.t1_ms() < min_t1_ms || t.t1_ms() > max_t1_ms) {
    return error("sip.timers.t1Ms", std::to_string(t.t1_ms()) + " ms is outside " + std::to_string(min_t1_ms) + ".." +
                                        std::to_string(max_t1_ms) +
                                        " ms; T1 estimates the round-trip time (RFC 3261 default 500)");
  }
  if (t.t2_ms() < t.t1_ms()) {
    return error("sip.timers.t2Ms", std::to_string(t.t2_ms()) + " ms is below T1 (" + std::to_string(t.t1_ms()) +
                                        " ms); T2 caps the retransmission interval, which starts at T1 (default 4000)");
  }
  if (t.timer_f_ms() < t.t1_ms()) {
    return error("sip.timers.timerFMs", std::to_string(t.timer_f_ms()) + " ms is below T1 (" +
                                            std::to_string(t.t1_ms()) +
                                            " ms); the transaction would time out before its first retransmission "
                                            "(default 64*T1)");
  }
  if (sip.timeout_response() != 408 && sip.timeout_response() != 503) {
    return error("sip.timeoutResponse", std::to_string(sip.timeout_response()) +
                                            " is not allowed; use 408 (Request Timeout, default) or 503 "
                                            "(Service Unavailable, lets phones fail over)");
  }
  for (int i = 0; i < sip.supported_options_size(); ++i) {
    const auto& opt = sip.supported_options(i);
    if (!sip::chars::is_token_string(opt)) {
      return error(index_path("sip.supportedOptions", static_cast<std::size_t>(i)),
                   "\"" + opt + "\" is not a SIP option tag (a token such as \"path\" or \"outbound\")");
    }
  }
  if (sip.max_transactions_per_worker() < 1 || sip.max_transactions_per_worker() > max_transactions_limit) {
    return error("sip.maxTransactionsPerWorker", std::to_string(sip.max_transactions_per_worker()) + " is outside 1.." +
                                                     std::to_string(max_transactions_limit) + " (default 65536)");
  }
  return std::nullopt;
}

std::optional<config_error> check_registrar_address(const v1::Config& cfg, const v1::Registrar& r,
                                                    const std::string& addr_path) {
  const auto ep = parse_ipv4_endpoint(r.address(), detail::default_sip_port);
  if (!ep) {
    return error(addr_path,
                 r.address().empty()
                     ? "not set; give the registrar as \"ipv4[:port]\", e.g. \"198.18.2.2:5060\", or its DNS name "
                       "as \"host\""
                     : "\"" + r.address() + "\" is not \"ipv4[:port]\" (port 1..65535), e.g. \"198.18.2.2:5060\"");
  }
  if (auto e = check_unicast(addr_path, ep->ip, r.address())) return e;
  for (int k = 0; k < cfg.interfaces_size(); ++k) {
    const auto p = parse_ipv4_prefix(cfg.interfaces(k).address());
    if (p && p->addr == ep->ip) {
      return error(addr_path, "\"" + r.address() + "\" is the front end's own address (" +
                                  index_path("interfaces", static_cast<std::size_t>(k)) +
                                  "); give the registrar's address");
    }
  }
  if (!core_route(cfg, ep->ip)) {
    return error(addr_path, "\"" + r.address() +
                                "\" is outside every core-side port's subnet and no core-side port has a gateway; "
                                "add a \"gateway\" to the core interface or fix the address");
  }
  return std::nullopt;
}

// A dynamic registrar's host and port; a static one's port (which belongs in its address).
std::optional<config_error> check_registrar_host(const v1::Registrar& r, const std::string& base) {
  const std::string host_path = field_path(base, "host");
  const std::string port_path = field_path(base, "port");
  if (r.host().empty()) {
    if (r.port() != 0) {
      return error(port_path,
                   "goes with \"host\"; a static registrar's port is part of its address, e.g. "
                   "\"198.18.2.2:" +
                       std::to_string(r.port()) + "\"");
    }
    return std::nullopt;
  }
  if (!r.address().empty()) {
    return error(host_path, "\"" + r.host() + "\" given with \"address\" (\"" + r.address() +
                                "\"); a registrar is static (address) or resolved by DNS (host), not both");
  }
  if (parse_ipv4(r.host())) {
    return error(host_path, "\"" + r.host() + "\" is an IPv4 address; give it as \"address\" (host is a DNS name)");
  }
  if (!is_hostname(r.host())) {
    return error(host_path, "\"" + r.host() +
                                "\" is not a DNS name (dot-separated labels of letters, digits and inner hyphens, "
                                "no trailing dot), e.g. \"registrar.example.net\"");
  }
  if (r.port() > 65535) {
    return error(port_path, std::to_string(r.port()) + " is not a UDP port (1..65535; default 5060)");
  }
  return std::nullopt;
}

std::optional<config_error> check_registrars(const v1::Config& cfg) {
  if (cfg.registrars().empty()) {
    return error("registrars",
                 "none configured; add at least one, e.g. {\"index\": 1, \"address\": \"198.18.2.2:5060\"}");
  }
  for (int i = 0; i < cfg.registrars_size(); ++i) {
    const auto& r = cfg.registrars(i);
    const std::string base = index_path("registrars", static_cast<std::size_t>(i));
    if (r.index() < 1 || r.index() > max_registrar_index) {
      return error(field_path(base, "index"), std::to_string(r.index()) + " is outside 1.." +
                                                  std::to_string(max_registrar_index) +
                                                  " (registrar indexes as in CUBE's \"registrar <index>\")");
    }
    for (int j = 0; j < i; ++j) {
      if (cfg.registrars(j).index() == r.index()) {
        return error(field_path(base, "index"), std::to_string(r.index()) + " is already used by " +
                                                    index_path("registrars", static_cast<std::size_t>(j)) +
                                                    "; each registrar needs its own index");
      }
    }
    if (auto e = check_registrar_host(r, base)) return e;
    // A dynamic registrar's address comes from DNS later (reachability is checked per answer).
    if (r.host().empty()) {
      if (auto e = check_registrar_address(cfg, r, field_path(base, "address"))) return e;
    }
    if (!r.domain().empty()) {
      if (!is_hostname(r.domain())) {
        return error(field_path(base, "domain"), "\"" + r.domain() + "\" is not a host name such as \"sipfront.test\"");
      }
      for (int j = 0; j < i; ++j) {
        if (sip::chars::iequals(cfg.registrars(j).domain(), r.domain())) {
          return error(field_path(base, "domain"), "\"" + r.domain() + "\" already selects " +
                                                       index_path("registrars", static_cast<std::size_t>(j)) +
                                                       "; a Request-URI host must select one registrar");
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<config_error> check_dns(const v1::Config& cfg) {
  const auto& d = cfg.dns();
  for (int i = 0; i < d.servers_size(); ++i) {
    const std::string path = index_path("dns.servers", static_cast<std::size_t>(i));
    const std::string& text = d.servers(i);
    const auto ep = parse_ipv4_endpoint(text, default_dns_port);
    if (!ep) {
      return error(path, "\"" + text + "\" is not \"ipv4[:port]\" (port 1..65535, default 53), e.g. \"198.18.2.53\"");
    }
    // Loopback is fine here: a local caching resolver is reached through the kernel.
    if ((ep->ip >> 24) != 127) {
      if (auto e = check_unicast(path, ep->ip, text)) return e;
    }
    for (int j = 0; j < i; ++j) {
      if (parse_ipv4_endpoint(d.servers(j), default_dns_port) == ep) {
        return error(path, "\"" + text + "\" is already " + index_path("dns.servers", static_cast<std::size_t>(j)));
      }
    }
  }
  if (d.min_ttl_seconds() < 1 || d.min_ttl_seconds() > max_dns_ttl) {
    return error("dns.minTtlSeconds", std::to_string(d.min_ttl_seconds()) + " s is outside 1.." +
                                          std::to_string(max_dns_ttl) + " s (default 30)");
  }
  if (d.max_ttl_seconds() > max_dns_ttl) {
    return error("dns.maxTtlSeconds", std::to_string(d.max_ttl_seconds()) + " s is above " +
                                          std::to_string(max_dns_ttl) + " s (a day; default 3600)");
  }
  if (d.min_ttl_seconds() > d.max_ttl_seconds()) {
    return error("dns.minTtlSeconds", std::to_string(d.min_ttl_seconds()) + " s is above maxTtlSeconds (" +
                                          std::to_string(d.max_ttl_seconds()) +
                                          " s); answers' TTLs are clamped to minTtlSeconds..maxTtlSeconds");
  }
  if (d.retry_seconds() < 1 || d.retry_seconds() > max_dns_retry) {
    return error("dns.retrySeconds", std::to_string(d.retry_seconds()) + " s is outside 1.." +
                                         std::to_string(max_dns_retry) + " s (default 10)");
  }
  return std::nullopt;
}

std::optional<config_error> check_passthrough(const v1::Config& cfg) {
  const auto& pt = cfg.passthrough();
  switch (pt.mode()) {
    case v1::Passthrough::END_TO_END: break;
    case v1::Passthrough::PEER_TO_PEER: break;
    default:
      return error("passthrough.mode",
                   "not set; set \"mode\": \"END_TO_END\" (registrar chosen by the Request-URI "
                   "host, challenges relayed untouched) or \"PEER_TO_PEER\" (registrar from defaultRegistrar, "
                   "Contact rewritten to the front end)");
  }
  const bool configured = std::any_of(cfg.registrars().begin(), cfg.registrars().end(),
                                      [&](const v1::Registrar& r) { return r.index() == pt.default_registrar(); });
  if (!configured) {
    std::string list;
    for (const auto& r : cfg.registrars()) list += (list.empty() ? "" : ", ") + std::to_string(r.index());
    return error("passthrough.defaultRegistrar", "registrar index " + std::to_string(pt.default_registrar()) +
                                                     " is not configured (configured: " + list + ")");
  }
  return std::nullopt;
}

std::optional<config_error> check_local_registrar(const v1::Config& cfg) {
  const auto& lr = cfg.local_registrar();
  if (lr.expires_max() > max_expires) {
    return error("localRegistrar.expiresMax", std::to_string(lr.expires_max()) + " s is above " +
                                                  std::to_string(max_expires) + " s (a day; default 3600)");
  }
  if (lr.expires_min() > lr.expires_max()) {
    return error("localRegistrar.expiresMin", std::to_string(lr.expires_min()) + " s is above expiresMax (" +
                                                  std::to_string(lr.expires_max()) +
                                                  " s); every registration would get 423 (default 60)");
  }
  if (lr.expires_default() < lr.expires_min() || lr.expires_default() > lr.expires_max()) {
    return error("localRegistrar.expiresDefault",
                 std::to_string(lr.expires_default()) + " s is outside expiresMin..expiresMax (" +
                     std::to_string(lr.expires_min()) + ".." + std::to_string(lr.expires_max()) +
                     " s); phones that give no expiry get this, so it must be grantable (default 3600)");
  }
  if (lr.max_bindings_per_worker() > max_bindings_limit) {
    return error("localRegistrar.maxBindingsPerWorker", std::to_string(lr.max_bindings_per_worker()) + " is above " +
                                                            std::to_string(max_bindings_limit) +
                                                            " (about 512 B each, allocated at start; default 65536)");
  }
  return std::nullopt;
}

std::optional<config_error> check_rate_limit(const v1::Config& cfg) {
  const auto& rl = cfg.rate_limit();
  if (rl.enabled() && cfg.passthrough().mode() != v1::Passthrough::PEER_TO_PEER) {
    return error("rateLimit.enabled",
                 "needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}; in END_TO_END the phone's own Call-ID and "
                 "Contact go upstream, so the front end cannot refresh the registration for it");
  }
  if (rl.out_expires() < min_out_expires || rl.out_expires() > max_expires) {
    return error("rateLimit.outExpires", std::to_string(rl.out_expires()) + " s is outside " +
                                             std::to_string(min_out_expires) + ".." + std::to_string(max_expires) +
                                             " s (default 3600)");
  }
  const std::uint64_t timer_f = cfg.sip().timers().timer_f_ms();
  if (std::uint64_t{rl.out_expires()} * 1000 < 2 * timer_f) {
    return error("rateLimit.outExpires", std::to_string(rl.out_expires()) + " s is less than twice Timer F (" +
                                             std::to_string(timer_f) +
                                             " ms, sip.timers.timerFMs); the front end refreshes at least a Timer F "
                                             "early and needs the rest of the lifetime to be refreshed in");
  }
  if (rl.fail_count() > max_fail_count) {
    return error("rateLimit.failCount",
                 std::to_string(rl.fail_count()) + " is outside 1.." + std::to_string(max_fail_count) + " (default 3)");
  }
  return std::nullopt;
}

std::optional<config_error> check_overload(const v1::Config& cfg) {
  const auto& o = cfg.overload();
  if (o.registration_spike() != 0 && cfg.passthrough().mode() != v1::Passthrough::PEER_TO_PEER) {
    return error("overload.registrationSpike",
                 "needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}; END_TO_END does not meter registrations "
                 "(set 0 to turn overload protection off)");
  }
  const reg::spike_config sc = make_spike_config(cfg);
  switch (reg::validate(sc, 1)) {
    case reg::spike_errc::ok:
    case reg::spike_errc::no_workers: break;
    case reg::spike_errc::reserve_out_of_range:
      return error("overload.reservePercent", std::to_string(sc.reserve_percent) + " is outside 0.." +
                                                  std::to_string(reg::max_reserve_percent) +
                                                  "; a larger reserve would let refreshes starve new registrations "
                                                  "after an avalanche restart (default 10)");
    case reg::spike_errc::retry_after_zero:
      return error(sc.retry_after_min_s == 0 ? "overload.retryAfterMin" : "overload.retryAfterMax",
                   "0 s invites an instant retry storm; give at least 1 s");
    case reg::spike_errc::retry_after_inverted:
      return error("overload.retryAfterMin", std::to_string(sc.retry_after_min_s) + " s is above retryAfterMax (" +
                                                 std::to_string(sc.retry_after_max_s) + " s)");
    case reg::spike_errc::retry_after_too_large:
      return error("overload.retryAfterMax", std::to_string(sc.retry_after_max_s) + " s is above " +
                                                 std::to_string(reg::max_retry_after_s) + " s (a day; default 120)");
  }
  return std::nullopt;
}

std::optional<config_error> check_registrar_mode(const v1::Config& cfg) {
  const bool p2p = cfg.passthrough().mode() == v1::Passthrough::PEER_TO_PEER;
  if (cfg.registrar_mode() != v1::INDEXED && cfg.registrar_mode() != v1::PRIMARY_SECONDARY) {
    return error("registrarMode", "not a registrar mode; use \"INDEXED\" (default) or \"PRIMARY_SECONDARY\"");
  }
  if (!p2p && cfg.registrar_mode() == v1::PRIMARY_SECONDARY) {
    return error("registrarMode",
                 "PRIMARY_SECONDARY needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}; in "
                 "END_TO_END the Request-URI chooses the registrar");
  }
  if (!p2p && !cfg.registrar_index().empty()) {
    return error("registrarIndex",
                 "needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}; in END_TO_END the "
                 "Request-URI chooses the registrar");
  }
  const auto& list = cfg.registrar_index();
  if (list.size() > static_cast<int>(max_registrar_index)) {
    return error("registrarIndex", std::to_string(list.size()) + " entries; at most " +
                                       std::to_string(max_registrar_index) + " registrars exist");
  }
  if (cfg.registrar_mode() == v1::PRIMARY_SECONDARY && list.size() > 2) {
    return error("registrarIndex", std::to_string(list.size()) +
                                       " entries; PRIMARY_SECONDARY uses two (the primary, then the secondary)");
  }
  for (int i = 0; i < list.size(); ++i) {
    const std::string path = index_path("registrarIndex", static_cast<std::size_t>(i));
    const std::uint32_t idx = list[i];
    if (idx < 1 || idx > max_registrar_index) {
      return error(path, std::to_string(idx) + " is outside 1.." + std::to_string(max_registrar_index));
    }
    for (int j = 0; j < i; ++j) {
      if (list[j] == idx) {
        return error(path, std::to_string(idx) + " is already " +
                               index_path("registrarIndex", static_cast<std::size_t>(j)) +
                               "; each registrar is listed once");
      }
    }
    const bool configured = std::any_of(cfg.registrars().begin(), cfg.registrars().end(),
                                        [&](const v1::Registrar& r) { return r.index() == idx; });
    if (!configured) {
      std::string known;
      for (const auto& r : cfg.registrars()) known += (known.empty() ? "" : ", ") + std::to_string(r.index());
      return error(path, "registrar index " + std::to_string(idx) + " is not configured (configured: " + known + ")");
    }
  }
  return std::nullopt;
}

// A value the digest answer carries inside a quoted-string (realm, username): no
// quotes, backslashes or control characters (the engine does not escape).
std::string_view unquotable_reason(std::string_view v) {
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') return "holds a quote or backslash, which the digest answer cannot carry";
    if (u < 0x20 || u == 0x7f) return "holds a control character";
  }
  return {};
}

std::optional<config_error> check_credentials(const v1::Config& cfg) {
  const auto& list = cfg.credentials();
  if (list.empty()) return std::nullopt;
  if (cfg.passthrough().mode() != v1::Passthrough::PEER_TO_PEER) {
    return error("credentials",
                 "needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}; in END_TO_END the phones answer every "
                 "challenge themselves");
  }
  if (static_cast<std::size_t>(list.size()) > max_credentials) {
    return error("credentials",
                 std::to_string(list.size()) + " entries; at most " + std::to_string(max_credentials) + " are allowed");
  }
  for (int i = 0; i < list.size(); ++i) {
    const v1::Credential& c = list[i];
    const std::string base = index_path("credentials", static_cast<std::size_t>(i));
    if (c.realm().empty()) {
      return error(field_path(base, "realm"),
                   "empty; give the realm the registrar challenges with (the realm= of its WWW-Authenticate), e.g. "
                   "\"sipfront.lab\"");
    }
    for (const auto& [field, value] :
         {std::pair<std::string_view, const std::string*>{"realm", &c.realm()}, {"username", &c.username()}}) {
      if (value->size() > max_credential_field) {
        return error(field_path(base, field),
                     std::to_string(value->size()) + " characters; at most " + std::to_string(max_credential_field));
      }
      if (const auto why = unquotable_reason(*value); !why.empty()) {
        return error(field_path(base, field), "\"" + *value + "\" " + std::string(why));
      }
    }
    if (c.password().empty()) {
      return error(field_path(base, "password"), "empty; give the password the registrar holds for this user");
    }
    if (c.password().size() > max_credential_field) {
      return error(field_path(base, "password"), std::to_string(c.password().size()) + " characters; at most " +
                                                     std::to_string(max_credential_field));
    }
    if (!c.aor().empty()) {
      const auto u = sip::parse_uri(c.aor());
      if (!u || !u->is_sip()) {
        return error(field_path(base, "aor"), "\"" + c.aor() +
                                                  "\" is not a SIP URI; give the AOR as the phones write it in To, "
                                                  "e.g. \"sip:authuser1@sipfront.lab\"");
      }
      if (c.username().empty() && u->user.empty()) {
        return error(field_path(base, "aor"), "\"" + c.aor() +
                                                  "\" has no user part to take the username from; add one or set "
                                                  "\"username\"");
      }
    }
    // The engine compares AORs in canonical form: two spellings of one AOR are one entry.
    auto same_aor = [](const std::string& a, const std::string& b) {
      if (a.empty() || b.empty()) return a.empty() && b.empty();
      reg::aor_buffer ka;  // aor_key() writes what it returns; the rest is never read
      reg::aor_buffer kb;
      return reg::aor_key(a, ka) == reg::aor_key(b, kb);
    };
    for (int j = 0; j < i; ++j) {
      if (list[j].realm() == c.realm() && same_aor(list[j].aor(), c.aor())) {
        return error(base, (c.aor().empty() ? "realm \"" + c.realm() + "\" without aor"
                                            : "realm \"" + c.realm() + "\" with aor \"" + c.aor() + "\"") +
                               " is already " + index_path("credentials", static_cast<std::size_t>(j)) +
                               "; one entry answers a challenge");
      }
    }
  }
  return std::nullopt;
}

std::optional<config_error> check_fallback(const v1::Config& cfg) {
  const bool p2p = cfg.passthrough().mode() == v1::Passthrough::PEER_TO_PEER;
  const auto& pr = cfg.probe();
  if (pr.enabled() && !p2p) {
    return error("probe.enabled",
                 "needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}; in END_TO_END the Request-URI chooses the "
                 "registrar and no registrar health is kept");
  }
  if (pr.interval_ms() < min_probe_ms || pr.interval_ms() > max_probe_ms) {
    return error("probe.intervalMs", std::to_string(pr.interval_ms()) + " ms is outside " +
                                         std::to_string(min_probe_ms) + ".." + std::to_string(max_probe_ms) +
                                         " ms (default 5000)");
  }
  if (pr.keepalive_ms() != 0 && !pr.enabled()) {
    return error("probe.keepaliveMs", "needs \"probe\": {\"enabled\": true} (or 0: no keepalive)");
  }
  if (pr.keepalive_ms() != 0 && (pr.keepalive_ms() < min_probe_ms || pr.keepalive_ms() > max_probe_ms)) {
    return error("probe.keepaliveMs", std::to_string(pr.keepalive_ms()) + " ms is outside " +
                                          std::to_string(min_probe_ms) + ".." + std::to_string(max_probe_ms) +
                                          " ms (0 = off, the default)");
  }
  const auto& fb = cfg.fallback();
  if (fb.enabled() && !p2p) {
    return error("fallback.enabled",
                 "needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}; in END_TO_END the front end keeps no "
                 "bindings to answer from");
  }
  if (fb.hold_seconds() < min_fallback_hold_s || fb.hold_seconds() > max_fallback_hold_s) {
    return error("fallback.holdSeconds", std::to_string(fb.hold_seconds()) + " s is outside " +
                                             std::to_string(min_fallback_hold_s) + ".." +
                                             std::to_string(max_fallback_hold_s) + " s (default 3600)");
  }
  const std::uint32_t rate = cfg.reg_sync().rate_per_second();
  if (rate < 1 || rate > max_regsync_rate) {
    return error("regSync.ratePerSecond", std::to_string(rate) + " is outside 1.." + std::to_string(max_regsync_rate) +
                                              " REGISTERs per second (default 50)");
  }
  return std::nullopt;
}

}  // namespace

reg::spike_config make_spike_config(const v1::Config& cfg) {
  const auto& o = cfg.overload();
  return reg::spike_config{.limit = o.registration_spike(),
                           .reserve_percent = o.has_reserve_percent() ? o.reserve_percent() : default_reserve_percent,
                           .retry_after_min_s = o.retry_after_min(),
                           .retry_after_max_s = o.retry_after_max()};
}

void apply_defaults(v1::Config& cfg) {
  for (auto& itf : *cfg.mutable_interfaces()) {
    if (itf.mtu() == 0) itf.set_mtu(default_mtu);
  }
  auto& w = *cfg.mutable_workers();
  if (w.ring_size() == 0) w.set_ring_size(default_ring_size);
  if (w.burst() == 0) w.set_burst(default_burst);
  if (w.mbufs_per_worker() == 0) w.set_mbufs_per_worker(default_mbufs_per_worker);

  auto& sip = *cfg.mutable_sip();
  if (sip.udp_port() == 0) sip.set_udp_port(detail::default_sip_port);
  auto& t = *sip.mutable_timers();
  if (t.t1_ms() == 0) t.set_t1_ms(default_t1_ms);
  if (t.t2_ms() == 0) t.set_t2_ms(default_t2_ms);
  if (t.timer_f_ms() == 0) {
    // 64*T1 in 64 bits: an absurd T1 is validation's business, not an overflow's.
    const std::uint64_t f = std::uint64_t{64} * t.t1_ms();
    t.set_timer_f_ms(static_cast<std::uint32_t>(std::min<std::uint64_t>(f, UINT32_MAX)));
  }
  if (t.timer_k_ms() == 0) t.set_timer_k_ms(default_timer_k_ms);
  if (sip.timeout_response() == 0) sip.set_timeout_response(default_timeout_response);
  if (sip.max_transactions_per_worker() == 0) sip.set_max_transactions_per_worker(default_max_transactions);

  auto& lr = *cfg.mutable_local_registrar();
  if (lr.expires_min() == 0) lr.set_expires_min(default_expires_min);
  if (lr.expires_max() == 0) lr.set_expires_max(default_expires_max);
  // RFC 3261's 3600, but never more than may be granted: "expiresMax": 1800 alone must be a valid config.
  if (lr.expires_default() == 0) lr.set_expires_default(std::min(default_expires_default, lr.expires_max()));
  if (lr.max_bindings_per_worker() == 0) lr.set_max_bindings_per_worker(default_max_bindings);
  auto& rl = *cfg.mutable_rate_limit();
  if (rl.out_expires() == 0) rl.set_out_expires(default_out_expires);
  if (rl.fail_count() == 0) rl.set_fail_count(default_fail_count);
  auto& ov = *cfg.mutable_overload();
  if (!ov.has_reserve_percent()) ov.set_reserve_percent(default_reserve_percent);
  if (ov.retry_after_min() == 0)
    ov.set_retry_after_min(
        std::min(default_retry_after_min, ov.retry_after_max() != 0 ? ov.retry_after_max() : default_retry_after_min));
  if (ov.retry_after_max() == 0) ov.set_retry_after_max(std::max(default_retry_after_max, ov.retry_after_min()));
  if (cfg.registrar_mode() == v1::REGISTRAR_MODE_UNSPECIFIED) cfg.set_registrar_mode(v1::INDEXED);
  auto& pr = *cfg.mutable_probe();
  if (pr.interval_ms() == 0) pr.set_interval_ms(default_probe_interval_ms);
  auto& fb = *cfg.mutable_fallback();
  if (fb.hold_seconds() == 0) fb.set_hold_seconds(default_fallback_hold_s);
  auto& rs = *cfg.mutable_reg_sync();
  if (rs.rate_per_second() == 0) rs.set_rate_per_second(default_regsync_rate);
  for (auto& r : *cfg.mutable_registrars()) {
    if (!r.host().empty() && r.port() == 0) r.set_port(detail::default_sip_port);
  }
  auto& dns = *cfg.mutable_dns();
  if (dns.min_ttl_seconds() == 0) dns.set_min_ttl_seconds(default_dns_min_ttl);
  // Never below an explicit minimum: "minTtlSeconds": 7200 alone must be a valid config.
  if (dns.max_ttl_seconds() == 0) dns.set_max_ttl_seconds(std::max(default_dns_max_ttl, dns.min_ttl_seconds()));
  if (dns.retry_seconds() == 0) dns.set_retry_seconds(default_dns_retry);

  auto& pt = *cfg.mutable_passthrough();
  if (pt.default_registrar() == 0) {
    std::uint32_t lowest = 0;
    for (const auto& r : cfg.registrars()) {
      if (r.index() != 0 && (lowest == 0 || r.index() < lowest)) lowest = r.index();
    }
    pt.set_default_registrar(lowest);
  }
}

std::optional<config_error> validate_config(const v1::Config& cfg) {
  for (auto check : {check_interfaces, check_workers, check_sip, check_registrars, check_dns, check_passthrough,
                     check_local_registrar, check_rate_limit, check_overload, check_registrar_mode, check_credentials,
                     check_fallback}) {
    if (auto e = check(cfg)) return e;
  }
  return std::nullopt;
}

std::optional<config_error> parse_config_json(std::string_view json, v1::Config& out) {
  if (auto e = detail::parse_json(json, out)) return e;
  apply_defaults(out);
  return validate_config(out);
}

std::optional<config_error> load_config(const std::string& file, v1::Config& out) {
  std::string text;
  if (auto e = detail::read_file(file, text)) return e;
  return parse_config_json(text, out);
}

}  // namespace sipfront::ctrl
