// Startup config: JSON parsing, defaults, and one negative case per validation
// rule, each asserting the JSON path and the gist of the reason.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "sipfront/ctrl/config.hpp"

namespace sipfront::ctrl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* lab_json = R"({
  "interfaces": [
    {"name": "access", "device": "net_af_packet0,iface=sf-fe-ua", "side": "SIDE_ACCESS", "address": "198.18.1.1/24"},
    {"name": "core", "device": "net_af_packet1,iface=sf-fe-core", "side": "SIDE_CORE", "address": "198.18.2.1/24"}
  ],
  "registrars": [{"index": 1, "address": "198.18.2.2:5060", "domain": "sipfront.test"}],
  "passthrough": {"mode": "END_TO_END", "defaultRegistrar": 1}
})";

v1::Config lab() {
  v1::Config cfg;
  const auto err = parse_config_json(lab_json, cfg);
  EXPECT_FALSE(err.has_value()) << err->to_string();
  return cfg;
}

// ------------------------------------------------------------------ parsing

TEST(ConfigParse, MinimalLabConfigIsValid) { lab(); }

TEST(ConfigParse, ExampleLabFileValidates) {
  v1::Config cfg;
  const auto err = load_config(SIPFRONT_SOURCE_DIR "/examples/lab.json", cfg);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  ASSERT_EQ(cfg.interfaces_size(), 2);
  EXPECT_EQ(cfg.interfaces(0).device(), "net_af_packet0,iface=fe-acc");
  EXPECT_EQ(cfg.interfaces(0).side(), v1::SIDE_ACCESS);
  EXPECT_EQ(cfg.interfaces(1).address(), "198.18.2.1/24");
  EXPECT_EQ(cfg.interfaces(1).side(), v1::SIDE_CORE);
  ASSERT_EQ(cfg.registrars_size(), 1);
  EXPECT_EQ(cfg.registrars(0).domain(), "sipfront.test");
  EXPECT_EQ(cfg.passthrough().mode(), v1::Passthrough::END_TO_END);
  EXPECT_EQ(cfg.passthrough().default_registrar(), 1U);
}

TEST(ConfigParse, UnknownTopLevelFieldIsRefusedWithProtobufMessage) {
  v1::Config cfg;
  const auto err = parse_config_json(R"({"interfacez": []})", cfg);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, "interfacez");
  EXPECT_THAT(err->reason, HasSubstr("unknown field"));
  EXPECT_THAT(err->reason, HasSubstr("Cannot find field"));  // protobuf's own words
}

TEST(ConfigParse, UnknownNestedFieldGetsItsJsonPath) {
  v1::Config cfg;
  const auto err = parse_config_json(R"({"sip": {"timers": {"t1Ms": 500, "timerFms": 1}}})", cfg);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, "sip.timers.timerFms");
}

TEST(ConfigParse, BadValueNamesTheFieldInJsonNames) {
  v1::Config cfg;
  const auto err = parse_config_json(R"({"workers": {"ringSize": -1}})", cfg);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, "workers.ringSize");
  EXPECT_THAT(err->reason, HasSubstr("-1"));
}

TEST(ConfigParse, BadEnumListsTheAcceptedNames) {
  v1::Config cfg;
  const auto err = parse_config_json(R"({"interfaces": [{"side": "ACCESS"}]})", cfg);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, "interfaces[0].side");
  EXPECT_THAT(err->reason, HasSubstr("\"SIDE_ACCESS\""));
  EXPECT_THAT(err->reason, HasSubstr("\"SIDE_BOTH\""));
  EXPECT_THAT(err->reason, Not(HasSubstr("SIDE_UNSPECIFIED"))) << "the not-set value is no choice";
}

TEST(ConfigParse, SyntaxErrorIsReported) {
  v1::Config cfg;
  const auto err = parse_config_json("{\"workers\": {\"burst\": 3,,}}", cfg);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, "");
  EXPECT_THAT(err->reason, HasSubstr("not valid JSON for sipfront.v1.Config"));
  EXPECT_EQ(err->reason.find('\n'), std::string::npos) << "one line for the log";
}

TEST(ConfigParse, MissingFileNamesTheFile) {
  v1::Config cfg;
  const auto err = load_config("/nonexistent/sipfront.json", cfg);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, "");
  EXPECT_THAT(err->reason, HasSubstr("/nonexistent/sipfront.json"));
  EXPECT_THAT(err->reason, HasSubstr("No such file"));
}

TEST(ConfigParse, DirectoryIsNotAConfig) {
  v1::Config cfg;
  const auto err = load_config(SIPFRONT_SOURCE_DIR "/examples", cfg);
  ASSERT_TRUE(err.has_value());
  EXPECT_THAT(err->reason, HasSubstr("directory"));
}

TEST(ConfigError, ToStringJoinsPathAndReason) {
  EXPECT_EQ((config_error{"workers.burst", "too big"}).to_string(), "workers.burst: too big");
  EXPECT_EQ((config_error{"", "cannot open x"}).to_string(), "cannot open x");
}

// ----------------------------------------------------------------- defaults

TEST(ConfigDefaults, FillsDocumentedDefaults) {
  v1::Config cfg;
  cfg.add_interfaces();
  cfg.add_registrars()->set_index(4);
  cfg.add_registrars()->set_index(2);
  apply_defaults(cfg);
  EXPECT_EQ(cfg.interfaces(0).mtu(), 1500U);
  EXPECT_EQ(cfg.workers().count(), 0U);
  EXPECT_EQ(cfg.workers().ring_size(), 1024U);
  EXPECT_EQ(cfg.workers().burst(), 32U);
  EXPECT_EQ(cfg.workers().mbufs_per_worker(), 8191U);
  EXPECT_EQ(cfg.sip().udp_port(), 5060U);
  EXPECT_EQ(cfg.sip().timers().t1_ms(), 500U);
  EXPECT_EQ(cfg.sip().timers().t2_ms(), 4000U);
  EXPECT_EQ(cfg.sip().timers().timer_f_ms(), 64U * 500U);
  EXPECT_EQ(cfg.sip().timers().timer_k_ms(), 5000U);
  EXPECT_EQ(cfg.sip().timeout_response(), 408U);
  EXPECT_EQ(cfg.sip().max_transactions_per_worker(), 65536U);
  EXPECT_EQ(cfg.passthrough().default_registrar(), 2U) << "the lowest configured index";
}

TEST(ConfigDefaults, TimerFFollowsAConfiguredT1) {
  v1::Config cfg;
  cfg.mutable_sip()->mutable_timers()->set_t1_ms(100);
  apply_defaults(cfg);
  EXPECT_EQ(cfg.sip().timers().timer_f_ms(), 6400U);
}

TEST(ConfigDefaults, KeepsExplicitValues) {
  v1::Config cfg;
  cfg.mutable_workers()->set_burst(8);
  cfg.mutable_sip()->set_timeout_response(503);
  cfg.mutable_passthrough()->set_default_registrar(3);
  apply_defaults(cfg);
  EXPECT_EQ(cfg.workers().burst(), 8U);
  EXPECT_EQ(cfg.sip().timeout_response(), 503U);
  EXPECT_EQ(cfg.passthrough().default_registrar(), 3U);
}

TEST(ConfigValidate, BothSideInterfaceServesAccessAndCore) {
  v1::Config cfg = lab();
  cfg.mutable_interfaces()->RemoveLast();
  cfg.mutable_interfaces(0)->set_side(v1::SIDE_BOTH);
  cfg.mutable_interfaces(0)->set_address("198.18.2.1/24");
  EXPECT_FALSE(validate_config(cfg).has_value());
}

TEST(ConfigValidate, GatewayMakesOffLinkRegistrarReachable) {
  v1::Config cfg = lab();
  cfg.mutable_registrars(0)->set_address("203.0.113.10");
  ASSERT_TRUE(validate_config(cfg).has_value());
  cfg.mutable_interfaces(1)->set_gateway("198.18.2.254");
  const auto err = validate_config(cfg);
  EXPECT_FALSE(err.has_value()) << err->to_string();
}

TEST(ConfigValidate, PeerToPeerWithRateLimitIsAccepted) {
  v1::Config cfg;
  const auto err = parse_config_json(R"({
    "interfaces": [
      {"device": "net_af_packet0,iface=a", "side": "SIDE_ACCESS", "address": "198.18.1.1/24"},
      {"device": "net_af_packet1,iface=c", "side": "SIDE_CORE", "address": "198.18.2.1/24"}
    ],
    "registrars": [{"index": 1, "address": "198.18.2.2"}],
    "passthrough": {"mode": "PEER_TO_PEER"},
    "localRegistrar": {"expiresMin": 120, "expiresMax": 1800},
    "rateLimit": {"enabled": true, "outExpires": 7200, "failCount": 5}
  })",
                                     cfg);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  EXPECT_EQ(cfg.passthrough().mode(), v1::Passthrough::PEER_TO_PEER);
  EXPECT_EQ(cfg.local_registrar().expires_min(), 120U);
  EXPECT_EQ(cfg.local_registrar().expires_max(), 1800U);
  EXPECT_EQ(cfg.local_registrar().expires_default(), 1800U) << "3600 by default, but never above expiresMax";
  EXPECT_EQ(cfg.rate_limit().out_expires(), 7200U);
  EXPECT_EQ(cfg.rate_limit().fail_count(), 5U);
}

TEST(ConfigDefaults, LocalRegistrarAndRateLimit) {
  const v1::Config cfg = lab();
  EXPECT_EQ(cfg.local_registrar().expires_min(), 60U);
  EXPECT_EQ(cfg.local_registrar().expires_max(), 3600U);
  EXPECT_EQ(cfg.local_registrar().expires_default(), 3600U);
  EXPECT_EQ(cfg.local_registrar().max_bindings_per_worker(), 65536U);
  EXPECT_FALSE(cfg.rate_limit().enabled());
  EXPECT_EQ(cfg.rate_limit().out_expires(), 3600U);
  EXPECT_EQ(cfg.rate_limit().fail_count(), 3U);
}

TEST(ConfigDefaults, OverloadAndRegistrarMode) {
  const v1::Config cfg = lab();
  EXPECT_EQ(cfg.overload().registration_spike(), 0U) << "off by default";
  EXPECT_EQ(cfg.overload().reserve_percent(), 10U);
  EXPECT_EQ(cfg.overload().retry_after_min(), 30U);
  EXPECT_EQ(cfg.overload().retry_after_max(), 120U);
  EXPECT_EQ(cfg.registrar_mode(), v1::INDEXED);
  EXPECT_TRUE(cfg.registrar_index().empty()) << "empty: defaultRegistrar alone";
  const reg::spike_config sc = make_spike_config(cfg);
  EXPECT_EQ(sc.limit, 0U);
  EXPECT_EQ(sc.reserve_percent, 10U);
}

TEST(ConfigValidate, PeerToPeerWithOverloadAndRegistrarModesIsAccepted) {
  v1::Config cfg;
  const auto err = parse_config_json(R"({
    "interfaces": [
      {"device": "net_af_packet0,iface=a", "side": "SIDE_ACCESS", "address": "198.18.1.1/24"},
      {"device": "net_af_packet1,iface=c", "side": "SIDE_CORE", "address": "198.18.2.1/24"}
    ],
    "registrars": [{"index": 1, "address": "198.18.2.2"}, {"index": 2, "address": "198.18.2.3"}],
    "passthrough": {"mode": "PEER_TO_PEER"},
    "overload": {"registrationSpike": 500, "reservePercent": 0, "retryAfterMin": 10, "retryAfterMax": 20},
    "registrarMode": "PRIMARY_SECONDARY",
    "registrarIndex": [2, 1]
  })",
                                     cfg);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  EXPECT_EQ(cfg.overload().registration_spike(), 500U);
  EXPECT_EQ(cfg.overload().reserve_percent(), 0U) << "an explicit 0 is kept: no reserve";
  const reg::spike_config sc = make_spike_config(cfg);
  EXPECT_EQ(sc.limit, 500U);
  EXPECT_EQ(sc.reserve_percent, 0U);
  EXPECT_EQ(sc.retry_after_min_s, 10U);
  EXPECT_EQ(sc.retry_after_max_s, 20U);
  EXPECT_EQ(cfg.registrar_mode(), v1::PRIMARY_SECONDARY);
  ASSERT_EQ(cfg.registrar_index_size(), 2);
}

TEST(ConfigDefaults, ProbeFallbackAndRegSync) {
  const v1::Config cfg = lab();
  EXPECT_FALSE(cfg.probe().enabled()) << "off by default";
  EXPECT_EQ(cfg.probe().interval_ms(), 5000U);
  EXPECT_EQ(cfg.probe().keepalive_ms(), 0U) << "no keepalive by default";
  EXPECT_FALSE(cfg.fallback().enabled()) << "off by default";
  EXPECT_EQ(cfg.fallback().hold_seconds(), 3600U);
  EXPECT_EQ(cfg.reg_sync().rate_per_second(), 50U);
}

TEST(ConfigValidate, PeerToPeerWithProbeFallbackAndRegSyncIsAccepted) {
  v1::Config cfg;
  const auto err = parse_config_json(R"({
    "interfaces": [
      {"device": "net_af_packet0,iface=a", "side": "SIDE_ACCESS", "address": "198.18.1.1/24"},
      {"device": "net_af_packet1,iface=c", "side": "SIDE_CORE", "address": "198.18.2.1/24"}
    ],
    "registrars": [{"index": 1, "address": "198.18.2.2"}],
    "passthrough": {"mode": "PEER_TO_PEER"},
    "probe": {"enabled": true, "intervalMs": 500, "keepaliveMs": 600000},
    "fallback": {"enabled": true, "holdSeconds": 60},
    "regSync": {"ratePerSecond": 100000}
  })",
                                     cfg);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  EXPECT_TRUE(cfg.probe().enabled());
  EXPECT_EQ(cfg.probe().interval_ms(), 500U);
  EXPECT_EQ(cfg.probe().keepalive_ms(), 600000U);
  EXPECT_TRUE(cfg.fallback().enabled());
  EXPECT_EQ(cfg.fallback().hold_seconds(), 60U);
  EXPECT_EQ(cfg.reg_sync().rate_per_second(), 100000U);
}

TEST(ConfigDefaults, RetryAfterMinFollowsASmallMax) {
  v1::Config cfg = lab();
  cfg.mutable_overload()->set_retry_after_min(0);
  cfg.mutable_overload()->set_retry_after_max(10);
  apply_defaults(cfg);
  EXPECT_EQ(cfg.overload().retry_after_min(), 10U);
  EXPECT_FALSE(validate_config(cfg).has_value());
}

TEST(ConfigParse, CredentialsParseInPeerToPeer) {
  v1::Config cfg;
  const std::string json = R"({
  "interfaces": [
    {"name": "access", "device": "net_af_packet0,iface=a", "side": "SIDE_ACCESS", "address": "198.18.1.1/24"},
    {"name": "core", "device": "net_af_packet1,iface=c", "side": "SIDE_CORE", "address": "198.18.2.1/24"}
  ],
  "registrars": [{"index": 1, "address": "198.18.2.2:5060", "domain": "sipfront.lab"}],
  "passthrough": {"mode": "PEER_TO_PEER"},
  "credentials": [
    {"realm": "sipfront.lab", "aor": "sip:authuser1@sipfront.lab", "password": "pw-authuser1"},
    {"realm": "sipfront.lab", "username": "trunk", "password": "t"},
    {"realm": "other.lab", "aor": "sip:authuser1@sipfront.lab", "password": "o"}
  ]
})";
  const auto err = parse_config_json(json, cfg);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  ASSERT_EQ(cfg.credentials_size(), 3);
  EXPECT_EQ(cfg.credentials(0).aor(), "sip:authuser1@sipfront.lab");
  EXPECT_TRUE(cfg.credentials(0).username().empty()) << "no default written: the engine takes the AOR's user";
  EXPECT_EQ(cfg.credentials(1).username(), "trunk");
}

TEST(ConfigValidate, DynamicRegistrarByHostIsAcceptedWithDnsDefaults) {
  v1::Config cfg;
  const auto err = parse_config_json(R"({
    "interfaces": [
      {"device": "net_af_packet0,iface=a", "side": "SIDE_ACCESS", "address": "198.18.1.1/24"},
      {"device": "net_af_packet1,iface=c", "side": "SIDE_CORE", "address": "198.18.2.1/24"}
    ],
    "registrars": [{"index": 1, "host": "registrar.example.net"},
                   {"index": 2, "host": "reg-2.example.net", "port": 5070},
                   {"index": 3, "address": "198.18.2.2"}],
    "passthrough": {"mode": "PEER_TO_PEER"},
    "dns": {"servers": ["198.18.2.53", "127.0.0.1:5353"]}
  })",
                                     cfg);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  EXPECT_EQ(cfg.registrars(0).port(), 5060U) << "default port";
  EXPECT_EQ(cfg.registrars(1).port(), 5070U);
  EXPECT_EQ(cfg.registrars(2).port(), 0U) << "static: the port is in the address";
  EXPECT_EQ(cfg.dns().min_ttl_seconds(), 30U);
  EXPECT_EQ(cfg.dns().max_ttl_seconds(), 3600U);
  EXPECT_EQ(cfg.dns().retry_seconds(), 10U);

  const resolver_config rc = make_resolver_config(cfg);
  ASSERT_EQ(rc.servers.size(), 2U);
  EXPECT_EQ(rc.servers[0].ip, *parse_ipv4("198.18.2.53"));
  EXPECT_EQ(rc.servers[0].port, 53U);
  EXPECT_EQ(rc.servers[1].ip, *parse_ipv4("127.0.0.1"));
  EXPECT_EQ(rc.servers[1].port, 5353U);
  EXPECT_EQ(rc.min_ttl_s, 30U);
  EXPECT_EQ(rc.max_ttl_s, 3600U);
  EXPECT_EQ(rc.retry_s, 10U);
  const auto names = dynamic_registrars(cfg);
  ASSERT_EQ(names.size(), 2U);
  EXPECT_EQ(names[0].index, 1U);
  EXPECT_EQ(names[0].host, "registrar.example.net");
  EXPECT_EQ(names[0].port, 5060U);
  EXPECT_EQ(names[1].index, 2U);
  EXPECT_EQ(names[1].port, 5070U);
}

TEST(ConfigDefaults, DnsMaxTtlFollowsALargeMin) {
  v1::Config cfg = lab();
  cfg.mutable_dns()->set_min_ttl_seconds(7200);
  cfg.mutable_dns()->set_max_ttl_seconds(0);
  apply_defaults(cfg);
  EXPECT_EQ(cfg.dns().max_ttl_seconds(), 7200U);
  EXPECT_FALSE(validate_config(cfg).has_value());
}

// ------------------------------------------------- one case per refused rule

struct bad_config {
  const char* name;
  std::function<void(v1::Config&)> mutate;
  const char* path;
  const char* reason;  ///< a substring of the reason
};

void PrintTo(const bad_config& c, std::ostream* os) { *os << c.name; }

class ConfigRule : public ::testing::TestWithParam<bad_config> {};

TEST_P(ConfigRule, IsRefusedWithPathAndReason) {
  v1::Config cfg = lab();
  GetParam().mutate(cfg);
  const auto err = validate_config(cfg);
  ASSERT_TRUE(err.has_value()) << "accepted";
  EXPECT_EQ(err->path, GetParam().path) << err->to_string();
  EXPECT_THAT(err->reason, HasSubstr(GetParam().reason));
}

v1::Interface& itf(v1::Config& c, int i) { return *c.mutable_interfaces(i); }
v1::Registrar& reg(v1::Config& c, int i) { return *c.mutable_registrars(i); }
// registrars[0] resolved by DNS: no address, the DNS name `host`.
v1::Registrar& dns_reg(v1::Config& c, const char* host) {
  reg(c, 0).clear_address();
  reg(c, 0).set_host(host);
  return reg(c, 0);
}
v1::Timers& timers(v1::Config& c) { return *c.mutable_sip()->mutable_timers(); }
void p2p(v1::Config& c) { c.mutable_passthrough()->set_mode(v1::Passthrough::PEER_TO_PEER); }
// PEER_TO_PEER with one valid credential entry (realm-only), plus `n` more added by the case.
v1::Credential& cred(v1::Config& c) {
  p2p(c);
  auto& e = *c.add_credentials();
  e.set_realm("sipfront.lab");
  e.set_password("pw");
  return e;
}

const bad_config bad_configs[] = {
    // interfaces
    {"NoInterfaces", [](v1::Config& c) { c.clear_interfaces(); }, "interfaces", "no interfaces"},
    {"EmptyDevice", [](v1::Config& c) { itf(c, 1).clear_device(); }, "interfaces[1].device", "give a DPDK device"},
    {"DuplicateDevice", [](v1::Config& c) { itf(c, 1).set_device("net_af_packet0,iface=other"); },
     "interfaces[1].device", "already port 0"},
    {"DuplicateName", [](v1::Config& c) { itf(c, 1).set_name("access"); }, "interfaces[1].name", "unique"},
    {"SideUnspecified", [](v1::Config& c) { itf(c, 0).clear_side(); }, "interfaces[0].side", "SIDE_ACCESS"},
    {"AddressMissing", [](v1::Config& c) { itf(c, 0).clear_address(); }, "interfaces[0].address", "not set"},
    {"AddressWithoutPrefix", [](v1::Config& c) { itf(c, 0).set_address("198.18.1.1"); }, "interfaces[0].address",
     "prefix length"},
    {"AddressGarbage", [](v1::Config& c) { itf(c, 0).set_address("198.18.1.300/24"); }, "interfaces[0].address",
     "not an IPv4 address"},
    {"PrefixZero", [](v1::Config& c) { itf(c, 0).set_address("198.18.1.1/0"); }, "interfaces[0].address", "/0"},
    {"AddressLoopback", [](v1::Config& c) { itf(c, 0).set_address("127.0.0.1/8"); }, "interfaces[0].address",
     "loopback"},
    {"AddressMulticast", [](v1::Config& c) { itf(c, 0).set_address("224.0.0.5/24"); }, "interfaces[0].address",
     "multicast"},
    {"AddressThisNetwork", [](v1::Config& c) { itf(c, 0).set_address("0.1.2.3/24"); }, "interfaces[0].address",
     "0.0.0.0/8"},
    {"AddressReserved", [](v1::Config& c) { itf(c, 0).set_address("240.0.0.1/24"); }, "interfaces[0].address",
     "reserved"},
    {"AddressIsNetwork", [](v1::Config& c) { itf(c, 0).set_address("198.18.1.0/24"); }, "interfaces[0].address",
     "network address of 198.18.1.0/24"},
    {"AddressIsBroadcast", [](v1::Config& c) { itf(c, 0).set_address("198.18.1.255/24"); }, "interfaces[0].address",
     "broadcast address"},
    {"SubnetsOverlap", [](v1::Config& c) { itf(c, 1).set_address("198.18.0.1/16"); }, "interfaces[1].address",
     "overlaps interfaces[0].address"},
    {"GatewayGarbage", [](v1::Config& c) { itf(c, 1).set_gateway("198.18.2"); }, "interfaces[1].gateway",
     "not an IPv4 address"},
    {"GatewayOutsidePrefix", [](v1::Config& c) { itf(c, 1).set_gateway("198.18.3.1"); }, "interfaces[1].gateway",
     "outside this port's subnet 198.18.2.0/24"},
    {"GatewayIsSelf", [](v1::Config& c) { itf(c, 1).set_gateway("198.18.2.1"); }, "interfaces[1].gateway",
     "own address"},
    {"GatewayMulticast", [](v1::Config& c) { itf(c, 1).set_gateway("239.1.1.1"); }, "interfaces[1].gateway",
     "multicast"},
    {"MtuTooSmall", [](v1::Config& c) { itf(c, 0).set_mtu(575); }, "interfaces[0].mtu", "576..9000"},
    {"MtuTooLarge", [](v1::Config& c) { itf(c, 0).set_mtu(9001); }, "interfaces[0].mtu", "576..9000"},
    {"NoAccessSide", [](v1::Config& c) { itf(c, 0).set_side(v1::SIDE_CORE); }, "interfaces", "access side"},
    {"NoCoreSide", [](v1::Config& c) { itf(c, 1).set_side(v1::SIDE_ACCESS); }, "interfaces", "core side"},
    // workers
    {"TooManyWorkers", [](v1::Config& c) { c.mutable_workers()->set_count(128); }, "workers.count", "RTE_MAX_LCORE"},
    {"RingNotPowerOfTwo", [](v1::Config& c) { c.mutable_workers()->set_ring_size(1000); }, "workers.ringSize",
     "power of two"},
    {"RingTooSmall", [](v1::Config& c) { c.mutable_workers()->set_ring_size(32); }, "workers.ringSize", "64..65536"},
    {"RingTooLarge", [](v1::Config& c) { c.mutable_workers()->set_ring_size(131072); }, "workers.ringSize",
     "64..65536"},
    {"BurstZero", [](v1::Config& c) { c.mutable_workers()->set_burst(0); }, "workers.burst", "1..64"},
    {"BurstTooLarge", [](v1::Config& c) { c.mutable_workers()->set_burst(65); }, "workers.burst", "1..64"},
    {"TooFewMbufs", [](v1::Config& c) { c.mutable_workers()->set_mbufs_per_worker(100); }, "workers.mbufsPerWorker",
     "rx descriptors"},
    // sip
    {"UdpPortTooLarge", [](v1::Config& c) { c.mutable_sip()->set_udp_port(65536); }, "sip.udpPort", "not a UDP port"},
    {"UdpPortZero", [](v1::Config& c) { c.mutable_sip()->set_udp_port(0); }, "sip.udpPort", "not a UDP port"},
    {"T1TooSmall", [](v1::Config& c) { timers(c).set_t1_ms(49); }, "sip.timers.t1Ms", "50..10000"},
    {"T1TooLarge", [](v1::Config& c) { timers(c).set_t1_ms(10001); }, "sip.timers.t1Ms", "50..10000"},
    {"T2BelowT1", [](v1::Config& c) { timers(c).set_t2_ms(400); }, "sip.timers.t2Ms", "below T1 (500 ms)"},
    {"TimerFBelowT1", [](v1::Config& c) { timers(c).set_timer_f_ms(499); }, "sip.timers.timerFMs", "below T1"},
    {"TimeoutResponse404", [](v1::Config& c) { c.mutable_sip()->set_timeout_response(404); }, "sip.timeoutResponse",
     "408"},
    {"OptionTagNotToken", [](v1::Config& c) { c.mutable_sip()->add_supported_options("100rel, timer"); },
     "sip.supportedOptions[0]", "option tag"},
    {"OptionTagEmpty",
     [](v1::Config& c) {
       c.mutable_sip()->add_supported_options("path");
       c.mutable_sip()->add_supported_options("");
     },
     "sip.supportedOptions[1]", "option tag"},
    {"NoTransactions", [](v1::Config& c) { c.mutable_sip()->set_max_transactions_per_worker(0); },
     "sip.maxTransactionsPerWorker", "1..16777216"},
    // registrars
    {"NoRegistrars", [](v1::Config& c) { c.clear_registrars(); }, "registrars", "none configured"},
    {"RegistrarIndexZero", [](v1::Config& c) { reg(c, 0).set_index(0); }, "registrars[0].index", "1..6"},
    {"RegistrarIndexSeven", [](v1::Config& c) { reg(c, 0).set_index(7); }, "registrars[0].index", "1..6"},
    {"RegistrarIndexDuplicate",
     [](v1::Config& c) {
       auto& r = *c.add_registrars();
       r.set_index(1);
       r.set_address("198.18.2.3");
     },
     "registrars[1].index", "already used by registrars[0]"},
    {"RegistrarAddressMissing", [](v1::Config& c) { reg(c, 0).clear_address(); }, "registrars[0].address", "not set"},
    {"RegistrarAddressHostname", [](v1::Config& c) { reg(c, 0).set_address("registrar.example:5060"); },
     "registrars[0].address", "ipv4[:port]"},
    {"RegistrarPortZero", [](v1::Config& c) { reg(c, 0).set_address("198.18.2.2:0"); }, "registrars[0].address",
     "port 1..65535"},
    {"RegistrarPortTooLarge", [](v1::Config& c) { reg(c, 0).set_address("198.18.2.2:70000"); }, "registrars[0].address",
     "port 1..65535"},
    {"RegistrarBroadcast", [](v1::Config& c) { reg(c, 0).set_address("255.255.255.255"); }, "registrars[0].address",
     "broadcast"},
    {"RegistrarIsSelf", [](v1::Config& c) { reg(c, 0).set_address("198.18.2.1:5060"); }, "registrars[0].address",
     "front end's own address"},
    {"RegistrarUnreachable", [](v1::Config& c) { reg(c, 0).set_address("203.0.113.10"); }, "registrars[0].address",
     "no core-side port has a gateway"},
    {"RegistrarOnAccessSideOnly", [](v1::Config& c) { reg(c, 0).set_address("198.18.1.50"); }, "registrars[0].address",
     "outside every core-side port's subnet"},
    {"RegistrarDomainInvalid", [](v1::Config& c) { reg(c, 0).set_domain("sip front.test"); }, "registrars[0].domain",
     "not a host name"},
    {"RegistrarDomainTrailingDot", [](v1::Config& c) { reg(c, 0).set_domain("sipfront.test."); },
     "registrars[0].domain", "not a host name"},
    {"RegistrarDomainDuplicate",
     [](v1::Config& c) {
       auto& r = *c.add_registrars();
       r.set_index(2);
       r.set_address("198.18.2.3");
       r.set_domain("SIPFRONT.test");
     },
     "registrars[1].domain", "already selects registrars[0]"},
    // dynamic registrars (host) and dns
    {"RegistrarHostAndAddress", [](v1::Config& c) { reg(c, 0).set_host("registrar.example.net"); },
     "registrars[0].host", "static (address) or resolved by DNS (host), not both"},
    {"RegistrarNeitherHostNorAddress", [](v1::Config& c) { reg(c, 0).clear_address(); }, "registrars[0].address",
     "or its DNS name as \"host\""},
    {"RegistrarHostWithSpace",
     [](v1::Config& c) { dns_reg(c, "registrar example.net"); },
     "registrars[0].host", "not a DNS name"},
    {"RegistrarHostTrailingDot",
     [](v1::Config& c) { dns_reg(c, "registrar.example.net."); },
     "registrars[0].host", "no trailing dot"},
    {"RegistrarHostLeadingHyphen",
     [](v1::Config& c) { dns_reg(c, "-reg.example.net"); },
     "registrars[0].host", "not a DNS name"},
    {"RegistrarHostIsIpv4",
     [](v1::Config& c) { dns_reg(c, "198.18.2.2"); },
     "registrars[0].host", "is an IPv4 address; give it as \"address\""},
    {"RegistrarHostPortTooLarge",
     [](v1::Config& c) { dns_reg(c, "registrar.example.net").set_port(65536); },
     "registrars[0].port", "65536 is not a UDP port"},
    {"RegistrarPortWithAddress", [](v1::Config& c) { reg(c, 0).set_port(5070); }, "registrars[0].port",
     "goes with \"host\"; a static registrar's port is part of its address, e.g. \"198.18.2.2:5070\""},
    {"DnsServerGarbage", [](v1::Config& c) { c.mutable_dns()->add_servers("dns.example.net"); }, "dns.servers[0]",
     "is not \"ipv4[:port]\""},
    {"DnsServerPortZero", [](v1::Config& c) { c.mutable_dns()->add_servers("198.18.2.53:0"); }, "dns.servers[0]",
     "is not \"ipv4[:port]\""},
    {"DnsServerMulticast", [](v1::Config& c) { c.mutable_dns()->add_servers("224.0.0.251"); }, "dns.servers[0]",
     "multicast"},
    {"DnsServerTwice",
     [](v1::Config& c) {
       c.mutable_dns()->add_servers("198.18.2.53");
       c.mutable_dns()->add_servers("198.18.2.53:53");
     },
     "dns.servers[1]", "is already dns.servers[0]"},
    {"DnsMinTtlAboveMax",
     [](v1::Config& c) {
       c.mutable_dns()->set_min_ttl_seconds(600);
       c.mutable_dns()->set_max_ttl_seconds(300);
     },
     "dns.minTtlSeconds", "600 s is above maxTtlSeconds (300 s)"},
    {"DnsMaxTtlAboveADay", [](v1::Config& c) { c.mutable_dns()->set_max_ttl_seconds(86401); }, "dns.maxTtlSeconds",
     "86401 s is above 86400 s"},
    {"DnsRetryTooLong", [](v1::Config& c) { c.mutable_dns()->set_retry_seconds(3601); }, "dns.retrySeconds",
     "3601 s is outside 1..3600 s"},
    // passthrough
    {"PassthroughMissing", [](v1::Config& c) { c.clear_passthrough(); }, "passthrough.mode", "END_TO_END"},
    {"ModeUnspecified", [](v1::Config& c) { c.mutable_passthrough()->set_mode(v1::Passthrough::MODE_UNSPECIFIED); },
     "passthrough.mode", "not set; set \"mode\": \"END_TO_END\""},
    // localRegistrar
    {"ExpiresMaxAboveADay", [](v1::Config& c) { c.mutable_local_registrar()->set_expires_max(86401); },
     "localRegistrar.expiresMax", "86401 s is above 86400 s"},
    {"ExpiresMinAboveMax", [](v1::Config& c) { c.mutable_local_registrar()->set_expires_min(3601); },
     "localRegistrar.expiresMin", "3601 s is above expiresMax (3600 s); every registration would get 423"},
    {"ExpiresDefaultBelowMin", [](v1::Config& c) { c.mutable_local_registrar()->set_expires_default(30); },
     "localRegistrar.expiresDefault", "30 s is outside expiresMin..expiresMax (60..3600 s)"},
    {"ExpiresDefaultAboveMax", [](v1::Config& c) { c.mutable_local_registrar()->set_expires_default(7200); },
     "localRegistrar.expiresDefault", "7200 s is outside expiresMin..expiresMax"},
    {"TooManyBindings", [](v1::Config& c) { c.mutable_local_registrar()->set_max_bindings_per_worker(1U << 25); },
     "localRegistrar.maxBindingsPerWorker", "is above 16777216"},
    // rateLimit
    {"RateLimitInEndToEnd", [](v1::Config& c) { c.mutable_rate_limit()->set_enabled(true); }, "rateLimit.enabled",
     "needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}"},
    {"OutExpiresTooShort", [](v1::Config& c) { c.mutable_rate_limit()->set_out_expires(59); }, "rateLimit.outExpires",
     "59 s is outside 60..86400 s"},
    {"OutExpiresTooLong", [](v1::Config& c) { c.mutable_rate_limit()->set_out_expires(86401); }, "rateLimit.outExpires",
     "86401 s is outside 60..86400 s"},
    {"OutExpiresBelowTwiceTimerF",
     [](v1::Config& c) {
       c.mutable_rate_limit()->set_out_expires(60);
       timers(c).set_timer_f_ms(31000);
     },
     "rateLimit.outExpires", "60 s is less than twice Timer F (31000 ms, sip.timers.timerFMs)"},
    {"FailCountTooLarge", [](v1::Config& c) { c.mutable_rate_limit()->set_fail_count(256); }, "rateLimit.failCount",
     "256 is outside 1..255"},
    // overload
    {"SpikeInEndToEnd", [](v1::Config& c) { c.mutable_overload()->set_registration_spike(100); },
     "overload.registrationSpike", "needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}"},
    {"ReserveAboveHalf", [](v1::Config& c) { c.mutable_overload()->set_reserve_percent(51); },
     "overload.reservePercent", "51 is outside 0..50"},
    {"RetryAfterMinAboveMax",
     [](v1::Config& c) {
       c.mutable_overload()->set_retry_after_min(200);
       c.mutable_overload()->set_retry_after_max(100);
     },
     "overload.retryAfterMin", "200 s is above retryAfterMax (100 s)"},
    {"RetryAfterMaxAboveADay", [](v1::Config& c) { c.mutable_overload()->set_retry_after_max(86401); },
     "overload.retryAfterMax", "86401 s is above 86400 s"},
    // probe, fallback, regSync
    {"ProbeInEndToEnd", [](v1::Config& c) { c.mutable_probe()->set_enabled(true); }, "probe.enabled",
     "needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}"},
    {"ProbeIntervalTooShort", [](v1::Config& c) { c.mutable_probe()->set_interval_ms(499); }, "probe.intervalMs",
     "499 ms is outside 500..600000 ms (default 5000)"},
    {"ProbeIntervalTooLong", [](v1::Config& c) { c.mutable_probe()->set_interval_ms(600001); }, "probe.intervalMs",
     "600001 ms is outside 500..600000 ms"},
    {"KeepaliveWithoutProbe", [](v1::Config& c) { c.mutable_probe()->set_keepalive_ms(10000); }, "probe.keepaliveMs",
     "needs \"probe\": {\"enabled\": true}"},
    {"KeepaliveTooShort",
     [](v1::Config& c) {
       p2p(c);
       c.mutable_probe()->set_enabled(true);
       c.mutable_probe()->set_keepalive_ms(100);
     },
     "probe.keepaliveMs", "100 ms is outside 500..600000 ms (0 = off, the default)"},
    {"FallbackInEndToEnd", [](v1::Config& c) { c.mutable_fallback()->set_enabled(true); }, "fallback.enabled",
     "needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}"},
    {"FallbackHoldTooShort", [](v1::Config& c) { c.mutable_fallback()->set_hold_seconds(59); },
     "fallback.holdSeconds", "59 s is outside 60..86400 s (default 3600)"},
    {"FallbackHoldAboveADay", [](v1::Config& c) { c.mutable_fallback()->set_hold_seconds(86401); },
     "fallback.holdSeconds", "86401 s is outside 60..86400 s"},
    {"RegSyncRateTooHigh", [](v1::Config& c) { c.mutable_reg_sync()->set_rate_per_second(100001); },
     "regSync.ratePerSecond", "100001 is outside 1..100000 REGISTERs per second (default 50)"},
    // registrar modes
    {"PrimarySecondaryInEndToEnd", [](v1::Config& c) { c.set_registrar_mode(v1::PRIMARY_SECONDARY); },
     "registrarMode", "PRIMARY_SECONDARY needs"},
    {"RegistrarIndexInEndToEnd", [](v1::Config& c) { c.add_registrar_index(1); }, "registrarIndex",
     "needs \"passthrough\""},
    {"RegistrarModeUnknown", [](v1::Config& c) { c.set_registrar_mode(static_cast<v1::RegistrarMode>(7)); },
     "registrarMode", "use \"INDEXED\""},
    {"RegistrarIndexUnknown",
     [](v1::Config& c) {
       p2p(c);
       c.add_registrar_index(1);
       c.add_registrar_index(4);
     },
     "registrarIndex[1]", "registrar index 4 is not configured (configured: 1)"},
    {"RegistrarIndexOutOfRange",
     [](v1::Config& c) {
       p2p(c);
       c.add_registrar_index(7);
     },
     "registrarIndex[0]", "7 is outside 1..6"},
    {"RegistrarIndexListedTwice",
     [](v1::Config& c) {
       p2p(c);
       c.add_registrar_index(1);
       c.add_registrar_index(1);
     },
     "registrarIndex[1]", "1 is already registrarIndex[0]"},
    {"PrimarySecondaryWithThree",
     [](v1::Config& c) {
       p2p(c);
       c.set_registrar_mode(v1::PRIMARY_SECONDARY);
       for (unsigned i : {1U, 2U, 3U}) c.add_registrar_index(i);
     },
     "registrarIndex", "PRIMARY_SECONDARY uses two"},
    {"DefaultRegistrarUnknown", [](v1::Config& c) { c.mutable_passthrough()->set_default_registrar(3); },
     "passthrough.defaultRegistrar", "index 3 is not configured (configured: 1)"},
    // credentials
    {"CredentialsInEndToEnd",
     [](v1::Config& c) {
       cred(c);
       c.mutable_passthrough()->set_mode(v1::Passthrough::END_TO_END);
     },
     "credentials", "needs \"passthrough\": {\"mode\": \"PEER_TO_PEER\"}"},
    {"CredentialRealmEmpty", [](v1::Config& c) { cred(c).clear_realm(); }, "credentials[0].realm",
     "empty; give the realm the registrar challenges with"},
    {"CredentialRealmWithQuote", [](v1::Config& c) { cred(c).set_realm("a\"b"); }, "credentials[0].realm",
     "quote or backslash"},
    {"CredentialUsernameWithBackslash", [](v1::Config& c) { cred(c).set_username("a\\b"); },
     "credentials[0].username", "quote or backslash"},
    {"CredentialPasswordEmpty", [](v1::Config& c) { cred(c).clear_password(); }, "credentials[0].password",
     "empty; give the password"},
    {"CredentialAorNotSip", [](v1::Config& c) { cred(c).set_aor("authuser1@sipfront.lab"); }, "credentials[0].aor",
     "is not a SIP URI"},
    {"CredentialAorTel", [](v1::Config& c) { cred(c).set_aor("tel:+15551234"); }, "credentials[0].aor",
     "is not a SIP URI"},
    {"CredentialAorWithoutUser", [](v1::Config& c) { cred(c).set_aor("sip:sipfront.lab"); }, "credentials[0].aor",
     "no user part to take the username from"},
    {"CredentialDuplicateRealm",
     [](v1::Config& c) {
       cred(c);
       cred(c).set_password("other");
     },
     "credentials[1]", "realm \"sipfront.lab\" without aor is already credentials[0]"},
    {"CredentialDuplicateRealmAndAor",
     [](v1::Config& c) {
       cred(c).set_aor("sip:a@sipfront.lab");
       cred(c).set_aor("sip:b@sipfront.lab");
       cred(c).set_aor("sip:a@sipfront.lab");
     },
     "credentials[2]", "with aor \"sip:a@sipfront.lab\" is already credentials[0]"},
    {"CredentialDuplicateAorOtherSpelling",
     [](v1::Config& c) {
       cred(c).set_aor("sip:a@sipfront.lab");
       cred(c).set_aor("SIP:a@SipFront.Lab;transport=udp");
     },
     "credentials[1]", "is already credentials[0]"},
    {"TooManyCredentials",
     [](v1::Config& c) {
       for (int i = 0; i < 1025; ++i) cred(c).set_aor("sip:u" + std::to_string(i) + "@sipfront.lab");
     },
     "credentials", "1025 entries; at most 1024"},
};

INSTANTIATE_TEST_SUITE_P(Refused, ConfigRule, ::testing::ValuesIn(bad_configs),
                         [](const ::testing::TestParamInfo<bad_config>& p) { return p.param.name; });

}  // namespace
}  // namespace sipfront::ctrl
