// make_engine_config: what a worker's engine is told, from a validated config.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "sipfront/ctrl/config.hpp"

namespace sipfront::ctrl {
namespace {

constexpr const char* json = R"({
  "interfaces": [
    {"name": "access", "device": "net_af_packet0,iface=sf-fe-ua", "side": "SIDE_ACCESS", "address": "198.18.1.1/24"},
    {"name": "core", "device": "net_af_packet1,iface=sf-fe-core", "side": "SIDE_CORE", "address": "198.18.2.1/24"},
    {"name": "core2", "device": "net_af_packet2,iface=sf-fe-core2", "side": "SIDE_CORE", "address": "198.18.3.1/24",
     "gateway": "198.18.3.254"}
  ],
  "sip": {
    "udpPort": 5070,
    "timers": {"t1Ms": 250, "t2Ms": 2000, "timerKMs": 4000},
    "timeoutResponse": 503,
    "acceptRfc2543": true,
    "supportedOptions": ["path", "outbound"],
    "maxTransactionsPerWorker": 1000
  },
  "registrars": [
    {"index": 3, "address": "198.18.3.9:5080", "domain": "b.test"},
    {"index": 1, "address": "198.18.2.2", "domain": "a.test"},
    {"index": 5, "address": "203.0.113.7"}
  ],
  "passthrough": {"mode": "END_TO_END", "defaultRegistrar": 3}
})";

v1::Config config() {
  v1::Config cfg;
  const auto err = parse_config_json(json, cfg);
  EXPECT_FALSE(err.has_value()) << err->to_string();
  return cfg;
}

TEST(MakeEngineConfig, MapsRegistrarsByIndexIntoTheArray) {
  const v1::Config cfg = config();
  const engine_setup s = make_engine_config(cfg, 0, 1);
  const auto& e = s.engine;
  EXPECT_EQ(e.n_registrars, 5U) << "highest configured index";

  EXPECT_EQ(format_ipv4(e.registrars[0].addr.ip), "198.18.2.2");
  EXPECT_EQ(e.registrars[0].addr.port, 5060) << "default port";
  EXPECT_EQ(e.registrars[0].addr.port_id, 1) << "on-link on the core port";
  EXPECT_EQ(e.registrars[0].domain, "a.test");

  EXPECT_EQ(e.registrars[1].addr.ip, 0U) << "index 2 is not configured";
  EXPECT_TRUE(e.registrars[1].domain.empty());

  EXPECT_EQ(format_ipv4(e.registrars[2].addr.ip), "198.18.3.9");
  EXPECT_EQ(e.registrars[2].addr.port, 5080);
  EXPECT_EQ(e.registrars[2].addr.port_id, 2) << "on-link on the second core port";
  EXPECT_EQ(e.registrars[2].domain, "b.test");

  EXPECT_EQ(e.registrars[3].addr.ip, 0U);
  EXPECT_EQ(format_ipv4(e.registrars[4].addr.ip), "203.0.113.7");
  EXPECT_EQ(e.registrars[4].addr.port_id, 2) << "off-link: the core port with a gateway";
  EXPECT_TRUE(e.registrars[4].domain.empty());
  EXPECT_EQ(e.registrars[5].addr.ip, 0U);
}

TEST(MakeEngineConfig, HostRegistrarIsDynamicAndResolvedEndpointsGetTheStaticPortRule) {
  v1::Config cfg = config();
  auto& r = *cfg.add_registrars();
  r.set_index(2);
  r.set_host("reg.example.net");
  r.set_domain("dyn.test");
  apply_defaults(cfg);
  ASSERT_FALSE(validate_config(cfg).has_value());
  const engine_setup s = make_engine_config(cfg, 0, 1);
  const auto& e = s.engine;
  EXPECT_TRUE(e.registrars[1].dynamic);
  EXPECT_EQ(e.registrars[1].host, "reg.example.net");
  EXPECT_EQ(e.registrars[1].domain, "dyn.test");
  EXPECT_EQ(e.registrars[1].addr.ip, 0U) << "no address until DNS answers";
  EXPECT_FALSE(e.registrars[0].dynamic);
  EXPECT_TRUE(e.registrars[0].host.empty());

  // The port a resolved address leaves by: the same rule as for static registrars.
  const reg::endpoint on_core = registrar_endpoint(cfg, *parse_ipv4("198.18.2.7"), 5060);
  EXPECT_EQ(on_core.port_id, 1);
  EXPECT_EQ(on_core.port, 5060);
  EXPECT_EQ(registrar_endpoint(cfg, *parse_ipv4("198.18.3.7"), 5070).port_id, 2);
  EXPECT_EQ(registrar_endpoint(cfg, *parse_ipv4("203.0.113.9"), 5060).port_id, 2) << "the core port with a gateway";
  EXPECT_EQ(core_port_for(cfg, *parse_ipv4("203.0.113.9")), std::optional<std::uint16_t>(2));
  EXPECT_TRUE(usable_registrar_address(cfg, *parse_ipv4("203.0.113.9")));
  EXPECT_TRUE(usable_registrar_address(cfg, *parse_ipv4("198.18.2.7")));
  EXPECT_FALSE(usable_registrar_address(cfg, *parse_ipv4("198.18.2.1"))) << "the front end's own";
  EXPECT_FALSE(usable_registrar_address(cfg, *parse_ipv4("127.0.0.1")));
  EXPECT_FALSE(usable_registrar_address(cfg, *parse_ipv4("224.0.0.1")));
  cfg.mutable_interfaces(2)->clear_gateway();
  EXPECT_FALSE(core_port_for(cfg, *parse_ipv4("203.0.113.9")).has_value()) << "unreachable";
  EXPECT_FALSE(usable_registrar_address(cfg, *parse_ipv4("203.0.113.9")));
  EXPECT_FALSE(usable_registrar_address(cfg, *parse_ipv4("198.18.1.7"))) << "access side only";
}

TEST(MakeEngineConfig, DefaultRegistrarIsTheSlotOfItsIndex) {
  const v1::Config cfg = config();
  EXPECT_EQ(make_engine_config(cfg, 0, 1).engine.default_registrar, 2U);
}

TEST(MakeEngineConfig, LocalEndpointsComeFromTheFirstPortOfEachSide) {
  const v1::Config cfg = config();
  const auto e = make_engine_config(cfg, 0, 1).engine;
  EXPECT_EQ(format_ipv4(e.access_local.ip), "198.18.1.1");
  EXPECT_EQ(e.access_local.port, 5070);
  EXPECT_EQ(e.access_local.port_id, 0);
  EXPECT_EQ(format_ipv4(e.core_local.ip), "198.18.2.1");
  EXPECT_EQ(e.core_local.port, 5070);
  EXPECT_EQ(e.core_local.port_id, 1);
}

TEST(MakeEngineConfig, BothSidePortIsAccessAndCore) {
  v1::Config cfg;
  const auto err = parse_config_json(R"({
    "interfaces": [{"device": "net_ring0", "side": "SIDE_BOTH", "address": "198.18.1.1/24"}],
    "registrars": [{"index": 2, "address": "198.18.1.2"}],
    "passthrough": {"mode": "END_TO_END"}
  })",
                                     cfg);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  const auto e = make_engine_config(cfg, 0, 1).engine;
  EXPECT_EQ(e.access_local, e.core_local);
  EXPECT_EQ(e.n_registrars, 2U);
  EXPECT_EQ(e.default_registrar, 1U) << "defaulted to the only index, 2";
}

TEST(MakeEngineConfig, CarriesWorkerTimersAndLimits) {
  const v1::Config cfg = config();
  const auto e = make_engine_config(cfg, 2, 4).engine;
  EXPECT_EQ(e.worker_id, 2U);
  EXPECT_EQ(e.n_workers, 4U);
  EXPECT_EQ(e.t1_ms, 250U);
  EXPECT_EQ(e.t2_ms, 2000U);
  EXPECT_EQ(e.timer_f_ms, 64U * 250U) << "defaulted from T1";
  EXPECT_EQ(e.timer_k_ms, 4000U);
  EXPECT_EQ(e.timeout_code, 503);
  EXPECT_EQ(e.max_transactions, 1000U);
}

TEST(MakeEngineConfig, PolicyFollowsRfc2543AcceptanceAndOptions) {
  const v1::Config cfg = config();
  const engine_setup s = make_engine_config(cfg, 0, 1);
  EXPECT_FALSE(s.engine.policy.require_max_forwards) << "acceptRfc2543 is true";
  EXPECT_TRUE(s.engine.policy.forwarding);
  ASSERT_EQ(s.engine.policy.supported_options.size(), 2U);
  EXPECT_EQ(s.engine.policy.supported_options[0], "path");
  EXPECT_EQ(s.engine.policy.supported_options[1], "outbound");
  EXPECT_EQ(s.engine.policy.supported_options.data(), s.supported_options.data());

  v1::Config strict = cfg;
  strict.mutable_sip()->set_accept_rfc2543(false);
  EXPECT_TRUE(make_engine_config(strict, 0, 1).engine.policy.require_max_forwards);
}

TEST(MakeEngineConfig, LabExampleUsesDefaults) {
  v1::Config cfg;
  const auto err = load_config(SIPFRONT_SOURCE_DIR "/examples/lab.json", cfg);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  const auto e = make_engine_config(cfg, 0, 1).engine;
  EXPECT_EQ(e.n_registrars, 1U);
  EXPECT_EQ(e.default_registrar, 0U);
  EXPECT_EQ(format_ipv4(e.registrars[0].addr.ip), "198.18.2.2");
  EXPECT_EQ(e.registrars[0].addr.port, 5060);
  EXPECT_EQ(e.registrars[0].addr.port_id, 1);
  EXPECT_EQ(e.registrars[0].domain, "sipfront.test");
  EXPECT_EQ(e.timeout_code, 408);
  EXPECT_EQ(e.t1_ms, 500U);
  EXPECT_EQ(e.timer_f_ms, 32000U);
  EXPECT_TRUE(e.policy.require_max_forwards);
  EXPECT_TRUE(e.policy.supported_options.empty());
}

TEST(MakeEngineConfig, EndToEndByDefaultWithTheLocalRegistrarDefaults) {
  const auto e = make_engine_config(config(), 0, 1).engine;
  EXPECT_EQ(e.mode, reg::passthrough_mode::end_to_end);
  EXPECT_EQ(e.registrar.in_expires_min, 60U);
  EXPECT_EQ(e.registrar.in_expires_max, 3600U);
  EXPECT_EQ(e.registrar.in_expires_default, 3600U);
  EXPECT_EQ(e.registrar.out_expires, 0U) << "rate limiting off: ask for what the phone was granted";
  EXPECT_EQ(e.registrar.fail_count, 3U);
  EXPECT_EQ(e.max_bindings, 65536U);
}

TEST(MakeEngineConfig, ProbeFallbackAndRegSync) {
  v1::Config cfg = config();
  EXPECT_EQ(make_engine_config(cfg, 0, 1).engine.probe_interval_ms, 0U) << "probing off: the 60 s revive";
  EXPECT_FALSE(make_engine_config(cfg, 0, 1).engine.fallback);
  cfg.mutable_passthrough()->set_mode(v1::Passthrough::PEER_TO_PEER);
  cfg.mutable_probe()->set_enabled(true);
  cfg.mutable_probe()->set_interval_ms(2000);
  cfg.mutable_probe()->set_keepalive_ms(30000);
  cfg.mutable_fallback()->set_enabled(true);
  cfg.mutable_fallback()->set_hold_seconds(600);
  cfg.mutable_reg_sync()->set_rate_per_second(7);
  ASSERT_FALSE(validate_config(cfg).has_value());
  const auto e = make_engine_config(cfg, 1, 4).engine;
  EXPECT_EQ(e.probe_interval_ms, 2000U);
  EXPECT_EQ(e.probe_keepalive_ms, 30000U);
  EXPECT_TRUE(e.fallback);
  EXPECT_EQ(e.fallback_hold_s, 600U);
  EXPECT_EQ(e.regsync_rate, 7U) << "the whole front end's rate: each engine takes its share";
}

TEST(MakeEngineConfig, PeerToPeerMapsLocalRegistrarAndRateLimit) {
  v1::Config cfg = config();
  cfg.mutable_passthrough()->set_mode(v1::Passthrough::PEER_TO_PEER);
  auto& lr = *cfg.mutable_local_registrar();
  lr.set_expires_min(120);
  lr.set_expires_max(1800);
  lr.set_expires_default(900);
  lr.set_max_bindings_per_worker(5000);
  auto& rl = *cfg.mutable_rate_limit();
  rl.set_enabled(true);
  rl.set_out_expires(7200);
  rl.set_fail_count(7);
  const auto err = validate_config(cfg);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  const auto e = make_engine_config(cfg, 0, 1).engine;
  EXPECT_EQ(e.mode, reg::passthrough_mode::peer_to_peer);
  EXPECT_EQ(e.registrar.in_expires_min, 120U);
  EXPECT_EQ(e.registrar.in_expires_max, 1800U);
  EXPECT_EQ(e.registrar.in_expires_default, 900U);
  EXPECT_EQ(e.registrar.out_expires, 7200U);
  EXPECT_EQ(e.registrar.fail_count, 7U);
  EXPECT_EQ(e.max_bindings, 5000U);
  rl.set_enabled(false);
  EXPECT_EQ(make_engine_config(cfg, 0, 1).engine.registrar.out_expires, 0U);
}

TEST(EngineSetup, CopiesAndMovesRepointTheOptionSpan) {
  const v1::Config cfg = config();
  engine_setup original = make_engine_config(cfg, 0, 1);

  const engine_setup copy = original;  // NOLINT(performance-unnecessary-copy-initialization): the point of the test
  EXPECT_EQ(copy.engine.policy.supported_options.data(), copy.supported_options.data());
  EXPECT_NE(copy.supported_options.data(), original.supported_options.data());
  ASSERT_EQ(copy.engine.policy.supported_options.size(), 2U);
  EXPECT_EQ(copy.engine.policy.supported_options[1], "outbound");

  engine_setup assigned;
  assigned = copy;
  EXPECT_EQ(assigned.engine.policy.supported_options.data(), assigned.supported_options.data());

  const engine_setup moved = std::move(original);
  EXPECT_EQ(moved.engine.policy.supported_options.data(), moved.supported_options.data());
  ASSERT_EQ(moved.engine.policy.supported_options.size(), 2U);
  EXPECT_TRUE(original.engine.policy.supported_options.empty());  // NOLINT(bugprone-use-after-move): defined state
}

TEST(EngineSetup, ViewsPointIntoTheConfig) {
  const v1::Config cfg = config();
  const engine_setup s = make_engine_config(cfg, 0, 1);
  EXPECT_EQ(s.supported_options[0].data(), cfg.sip().supported_options(0).data());
  EXPECT_EQ(s.engine.registrars[0].domain.data(), cfg.registrars(1).domain().data());
}

TEST(MakeEngineConfig, CredentialsAreViewsIntoTheConfigAndFollowCopies) {
  v1::Config cfg = config();
  cfg.mutable_passthrough()->set_mode(v1::Passthrough::PEER_TO_PEER);
  auto& a = *cfg.add_credentials();
  a.set_realm("sipfront.lab");
  a.set_aor("sip:authuser1@sipfront.lab");
  a.set_password("pw-authuser1");
  auto& b = *cfg.add_credentials();
  b.set_realm("other.lab");
  b.set_username("trunk");
  b.set_password("t");
  ASSERT_FALSE(validate_config(cfg).has_value()) << validate_config(cfg)->to_string();
  engine_setup s = make_engine_config(cfg, 0, 1);
  ASSERT_EQ(s.engine.credentials.size(), 2U);
  EXPECT_EQ(s.engine.credentials[0].realm, "sipfront.lab");
  EXPECT_EQ(s.engine.credentials[0].aor, "sip:authuser1@sipfront.lab");
  EXPECT_TRUE(s.engine.credentials[0].username.empty());
  EXPECT_EQ(s.engine.credentials[0].password.data(), cfg.credentials(0).password().data());
  EXPECT_EQ(s.engine.credentials[1].username, "trunk");
  EXPECT_TRUE(s.engine.credentials[1].aor.empty());
  const engine_setup copy = s;  // NOLINT(performance-unnecessary-copy-initialization): the point of the test
  EXPECT_EQ(copy.engine.credentials.data(), copy.credentials.data());
  const engine_setup moved = std::move(s);
  EXPECT_EQ(moved.engine.credentials.data(), moved.credentials.data());
  ASSERT_EQ(moved.engine.credentials.size(), 2U);
  EXPECT_TRUE(make_engine_config(config(), 0, 1).engine.credentials.empty());
}

TEST(MakeEngineConfig, RegistrarModeAndListAreMapped) {
  v1::Config cfg = config();
  cfg.mutable_passthrough()->set_mode(v1::Passthrough::PEER_TO_PEER);
  EXPECT_EQ(make_engine_config(cfg, 0, 1).engine.reg_mode, reg::registrar_mode::indexed);
  EXPECT_TRUE(make_engine_config(cfg, 0, 1).engine.registrar_order.empty()) << "the engine uses defaultRegistrar";
  EXPECT_EQ(make_engine_config(cfg, 0, 1).engine.spike, nullptr) << "the runtime sets the shared pool";
  cfg.set_registrar_mode(v1::PRIMARY_SECONDARY);
  cfg.add_registrar_index(5);
  cfg.add_registrar_index(1);
  ASSERT_FALSE(validate_config(cfg).has_value()) << validate_config(cfg)->to_string();
  const auto e = make_engine_config(cfg, 0, 1).engine;
  EXPECT_EQ(e.reg_mode, reg::registrar_mode::primary_secondary);
  ASSERT_EQ(e.registrar_order.size(), 2U);
  EXPECT_EQ(e.registrar_order[0], 5U);
  EXPECT_EQ(e.registrar_order[1], 1U);
}

}  // namespace
}  // namespace sipfront::ctrl
