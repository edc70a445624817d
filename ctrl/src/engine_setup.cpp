// From a validated v1::Config to the reg::engine_config of one worker.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "detail.hpp"
#include "sipfront/ctrl/config.hpp"

namespace sipfront::ctrl {

engine_setup::engine_setup(const engine_setup& other)
    : engine(other.engine), supported_options(other.supported_options), credentials(other.credentials) {
  rebind();
}
engine_setup::engine_setup(engine_setup&& other) noexcept
    : engine(other.engine),
      supported_options(std::move(other.supported_options)),
      credentials(std::move(other.credentials)) {
  rebind();
  other.rebind();
}
engine_setup& engine_setup::operator=(const engine_setup& other) {
  if (this != &other) {
    engine = other.engine;
    supported_options = other.supported_options;
    credentials = other.credentials;
    rebind();
  }
  return *this;
}
engine_setup& engine_setup::operator=(engine_setup&& other) noexcept {
  if (this != &other) {
    engine = other.engine;
    supported_options = std::move(other.supported_options);
    credentials = std::move(other.credentials);
    rebind();
    other.rebind();
  }
  return *this;
}

engine_setup make_engine_config(const v1::Config& cfg, unsigned worker_id, unsigned n_workers) {
  engine_setup out;
  auto& e = out.engine;
  e.worker_id = worker_id;
  e.n_workers = n_workers;

  const auto udp_port = static_cast<std::uint16_t>(cfg.sip().udp_port());
  bool have_access = false;
  bool have_core = false;
  for (int i = 0; i < cfg.interfaces_size(); ++i) {
    const auto& itf = cfg.interfaces(i);
    const auto p = parse_ipv4_prefix(itf.address());
    if (!p) continue;
    const reg::endpoint local{.ip = p->addr, .port = udp_port, .port_id = static_cast<std::uint16_t>(i)};
    if (!have_access && detail::accepts_access(itf.side())) {
      e.access_local = local;
      have_access = true;
    }
    if (!have_core && detail::accepts_core(itf.side())) {
      e.core_local = local;
      have_core = true;
    }
  }

  for (const auto& r : cfg.registrars()) {
    if (r.index() < 1 || r.index() > reg::max_registrars) continue;
    if (!r.host().empty()) {
      e.registrars[r.index() - 1] =
          reg::registrar_target{.addr = {}, .domain = r.domain(), .dynamic = true, .host = r.host()};
    } else {
      auto ep = parse_ipv4_endpoint(r.address(), detail::default_sip_port);
      if (!ep) continue;
      ep->port_id = core_port_for(cfg, ep->ip).value_or(e.core_local.port_id);
      e.registrars[r.index() - 1] = reg::registrar_target{.addr = *ep, .domain = r.domain()};
    }
    e.n_registrars = std::max(e.n_registrars, static_cast<unsigned>(r.index()));
  }
  const std::uint32_t def = cfg.passthrough().default_registrar();
  e.default_registrar = def >= 1 ? def - 1 : 0;

  const auto& t = cfg.sip().timers();
  e.t1_ms = t.t1_ms();
  e.t2_ms = t.t2_ms();
  e.timer_f_ms = t.timer_f_ms();
  e.timer_k_ms = t.timer_k_ms();
  e.timeout_code = static_cast<std::uint16_t>(cfg.sip().timeout_response());
  e.max_transactions = cfg.sip().max_transactions_per_worker();

  e.mode = cfg.passthrough().mode() == v1::Passthrough::PEER_TO_PEER ? reg::passthrough_mode::peer_to_peer
                                                                     : reg::passthrough_mode::end_to_end;
  const auto& lr = cfg.local_registrar();
  const auto& rl = cfg.rate_limit();
  e.registrar.in_expires_min = lr.expires_min();
  e.registrar.in_expires_max = lr.expires_max();
  e.registrar.in_expires_default = lr.expires_default();
  e.registrar.out_expires = rl.enabled() ? rl.out_expires() : 0;  // 0: ask for what the phone was granted
  e.registrar.fail_count = static_cast<std::uint8_t>(rl.fail_count());
  e.max_bindings = lr.max_bindings_per_worker();
  e.reg_mode = cfg.registrar_mode() == v1::PRIMARY_SECONDARY ? reg::registrar_mode::primary_secondary
                                                             : reg::registrar_mode::indexed;
  if (!cfg.registrar_index().empty()) {
    std::vector<unsigned> idx(cfg.registrar_index().begin(), cfg.registrar_index().end());
    (void)reg::registrar_list::make(idx, e.registrar_order);  // validated: 1..6, configured, no duplicates
  }

  const auto& pr = cfg.probe();
  e.probe_interval_ms = pr.enabled() ? pr.interval_ms() : 0;
  e.probe_keepalive_ms = pr.enabled() ? pr.keepalive_ms() : 0;
  e.fallback = cfg.fallback().enabled();
  e.fallback_hold_s = cfg.fallback().hold_seconds();
  e.regsync_rate = cfg.reg_sync().rate_per_second();

  e.policy.require_max_forwards = !cfg.sip().accept_rfc2543();
  e.policy.forwarding = true;
  out.supported_options.assign(cfg.sip().supported_options().begin(), cfg.sip().supported_options().end());
  e.policy.supported_options = out.supported_options;
  for (const v1::Credential& c : cfg.credentials()) {
    out.credentials.push_back(
        reg::credential{.realm = c.realm(), .username = c.username(), .password = c.password(), .aor = c.aor()});
  }
  e.credentials = out.credentials;
  return out;
}

std::optional<std::uint16_t> core_port_for(const v1::Config& cfg, std::uint32_t ip) {
  return detail::core_route(cfg, ip);
}

bool usable_registrar_address(const v1::Config& cfg, std::uint32_t ip) {
  if (!detail::not_unicast_reason(ip).empty()) return false;
  for (const auto& itf : cfg.interfaces()) {
    const auto p = parse_ipv4_prefix(itf.address());
    if (p && p->addr == ip) return false;
  }
  return core_port_for(cfg, ip).has_value();
}

reg::endpoint registrar_endpoint(const v1::Config& cfg, std::uint32_t ip, std::uint16_t port) {
  std::uint16_t first_core = 0;
  for (int i = cfg.interfaces_size() - 1; i >= 0; --i) {
    if (detail::accepts_core(cfg.interfaces(i).side())) first_core = static_cast<std::uint16_t>(i);
  }
  return reg::endpoint{.ip = ip, .port = port, .port_id = core_port_for(cfg, ip).value_or(first_core)};
}

resolver_config make_resolver_config(const v1::Config& cfg) {
  resolver_config rc;
  for (const auto& s : cfg.dns().servers()) {
    if (const auto ep = parse_ipv4_endpoint(s, 53)) rc.servers.push_back(dns_server{.ip = ep->ip, .port = ep->port});
  }
  rc.min_ttl_s = cfg.dns().min_ttl_seconds();
  rc.max_ttl_s = cfg.dns().max_ttl_seconds();
  rc.retry_s = cfg.dns().retry_seconds();
  return rc;
}

std::vector<dns_name> dynamic_registrars(const v1::Config& cfg) {
  std::vector<dns_name> out;
  for (const auto& r : cfg.registrars()) {
    if (r.host().empty()) continue;
    out.push_back(dns_name{.index = r.index(), .host = r.host(), .port = static_cast<std::uint16_t>(r.port())});
  }
  return out;
}

}  // namespace sipfront::ctrl
