// Address parsing: round trips and the ambiguous forms that must be refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "sipfront/ctrl/config.hpp"

namespace sipfront::ctrl {
namespace {

TEST(ParseIpv4, ReadsDottedQuadInHostOrder) {
  EXPECT_EQ(parse_ipv4("198.18.1.1"), 0xC6120101U);
  EXPECT_EQ(parse_ipv4("0.0.0.0"), 0U);
  EXPECT_EQ(parse_ipv4("255.255.255.255"), 0xFFFFFFFFU);
}

TEST(ParseIpv4, RefusesAmbiguousOrMalformedText) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "1.2.3.256", "01.2.3.4", "1.2.3.4 ", " 1.2.3.4", "1..3.4", "1.2.3.",
                          "a.b.c.d", "1.2.3.4/24", "1.2.3.-4", "1234.1.1.1"}) {
    EXPECT_FALSE(parse_ipv4(bad).has_value()) << bad;
  }
}

TEST(ParseIpv4Prefix, RoundTrips) {
  for (const char* text : {"198.18.1.1/24", "10.0.0.1/8", "192.0.2.7/32", "0.0.0.0/0", "198.18.0.0/15"}) {
    const auto p = parse_ipv4_prefix(text);
    ASSERT_TRUE(p.has_value()) << text;
    EXPECT_EQ(to_string(*p), text);
  }
  const auto p = parse_ipv4_prefix("198.18.2.1/24");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->addr, 0xC6120201U);
  EXPECT_EQ(p->len, 24);
}

TEST(ParseIpv4Prefix, RefusesMissingOrBadLength) {
  for (const char* bad : {"198.18.1.1", "198.18.1.1/", "198.18.1.1/33", "198.18.1.1/024", "198.18.1.1/2x",
                          "198.18.1/24", "/24", "198.18.1.1/24/8"}) {
    EXPECT_FALSE(parse_ipv4_prefix(bad).has_value()) << bad;
  }
}

TEST(ParseIpv4Endpoint, RoundTripsWithAndWithoutPort) {
  const auto a = parse_ipv4_endpoint("198.18.2.2:5080", 5060);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(format_ipv4(a->ip) + ":" + std::to_string(a->port), "198.18.2.2:5080");
  EXPECT_EQ(a->port_id, 0);

  const auto b = parse_ipv4_endpoint("198.18.2.2", 5060);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->ip, 0xC6120202U);
  EXPECT_EQ(b->port, 5060);

  const auto c = parse_ipv4_endpoint("192.0.2.1:65535", 5060);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->port, 65535);
}

TEST(ParseIpv4Endpoint, RefusesBadPortsAndHosts) {
  for (const char* bad : {"198.18.2.2:", "198.18.2.2:0", "198.18.2.2:65536", "198.18.2.2:05060", "198.18.2.2:50a",
                          "registrar.example:5060", "198.18.2:5060", "198.18.2.2:5060:1", "[::1]:5060"}) {
    EXPECT_FALSE(parse_ipv4_endpoint(bad, 5060).has_value()) << bad;
  }
  EXPECT_FALSE(parse_ipv4_endpoint("198.18.2.2", 0).has_value()) << "no port at all";
}

TEST(FormatIpv4, InvertsParse) {
  for (std::uint32_t v : {0U, 1U, 0xC6120101U, 0x7F000001U, 0xFFFFFFFFU}) {
    EXPECT_EQ(parse_ipv4(format_ipv4(v)), v);
  }
}

}  // namespace
}  // namespace sipfront::ctrl
