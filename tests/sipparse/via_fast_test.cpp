// The Via fast path (detail::via_fast) against the general parser
// (detail::via_general): inputs just inside its shape, which it must take and
// parse exactly as the general parser does, and inputs just outside, which it
// must decline so that the answer (often an error) stays the general parser's.
// Also the shortcuts under it: the 16-byte IPv4 check and the eight-byte port.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sipfront/sipparse/sipparse.hpp"

namespace sip = sipfront::sip;
using namespace std::string_view_literals;

namespace {

bool same_view(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || a.data() == b.data());
}

// Every field, and the views into the same bytes.
void expect_same(const sip::via& f, const sip::via& g, std::string_view text) {
  SCOPED_TRACE(std::string(text));
  EXPECT_TRUE(same_view(f.protocol, g.protocol));
  EXPECT_TRUE(same_view(f.version, g.version));
  EXPECT_TRUE(same_view(f.transport_token, g.transport_token));
  EXPECT_EQ(f.transport, g.transport);
  EXPECT_TRUE(same_view(f.host, g.host));
  EXPECT_EQ(f.host_type, g.host_type);
  EXPECT_EQ(f.port, g.port);
  EXPECT_EQ(f.has_port, g.has_port);
  EXPECT_TRUE(same_view(f.params, g.params)) << f.params << " vs " << g.params;
  EXPECT_TRUE(same_view(f.branch, g.branch));
  EXPECT_TRUE(same_view(f.received, g.received));
  EXPECT_TRUE(same_view(f.maddr, g.maddr));
  EXPECT_EQ(f.has_rport, g.has_rport);
  EXPECT_EQ(f.rport_has_value, g.rport_has_value);
  EXPECT_EQ(f.rport, g.rport);
  EXPECT_EQ(f.ttl, g.ttl);
  EXPECT_EQ(f.has_ttl, g.has_ttl);
}

// The fast path's verdict on `text` in one mode; when it takes it, its fields
// against the general parser's. The public parser must answer as the general one.
bool fast_takes(std::string_view text, bool list_entry) {
  const auto g = sip::detail::via_general(text, list_entry);
  sip::via f;
  const bool took = sip::detail::via_fast(text, list_entry, f);
  if (took) {
    EXPECT_TRUE(g.ok()) << text;
    if (g) {
      expect_same(f, *g, text);
    }
  }
  if (!list_entry) {
    const auto pub = sip::parse_via(text);
    EXPECT_EQ(pub.error(), g.error()) << text;
    if (pub && g) {
      expect_same(*pub, *g, text);
    }
  }
  return took;
}

// One dotted quad the slow way: four octets of 1..3 digits, each <= 255.
bool ref_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    std::size_t n = 0;
    unsigned v = 0;
    while (i < s.size() && n < 3 && s[i] >= '0' && s[i] <= '9') v = v * 10 + static_cast<unsigned>(s[i++] - '0'), ++n;
    if (n == 0 || v > 255) return false;
    if (++parts < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

// perf/corpus/200_multi_contact.sip's Via.
constexpr std::string_view k_cisco =
    "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK0c8e.4a2b6f1d3e9a7c5b8d0e2f4a6c8b0d1e.0;received=198.51.100.20;"
    "rport=40122";

}  // namespace

TEST(via_fast, takes_what_phones_send) {
  const std::vector<std::string_view> inside = {
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849;rport",
      k_cisco,
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849;rport=5060;received=203.0.113.45",
      "SIP/2.0/UDP 203.0.113.10:5060;rport;branch=z9hG4bKPj0d5c7e2a-8f3b-4c1d-9e6a-2b4f6d8a0c1e",
      "SIP/2.0/TCP 10.1.2.50:51234;branch=z9hG4bK3f8a1b2c",
      "SIP/2.0/TLS 192.168.0.23:37421;alias;branch=z9hG4bK.Xy8mJ2pQ1;rport",
      "SIP/2.0/UDP 1.2.3.4",
      "SIP/2.0/UDP 1.2.3.4:5",
      "SIP/2.0/UDP 255.255.255.255:65535;branch=z9hG4bKx",
      "SIP/2.0/UDP 0.0.0.0:0;branch=z9hG4bKx",
      "SIP/2.0/UDP 01.002.3.4:005060;branch=z9hG4bKx",  // leading zeros, as the grammar allows
      "SIP/2.0/UDP 1.2.3.4:0000005060;branch=z9hG4bKx",
      "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
      "SIP/2.0/UDP pc33.atlanta.example.com.:5061;branch=z9hG4bK776asdhds",
      "SIP/2.0/TCP host-1.example;rport=1;received=192.0.2.77;maddr=224.2.0.1;ttl=16",
      "SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKx;received=[2001:db8::9:255]",
      "SIP/2.0/TLS [::1];branch=z9hG4bKy",
      "SIP/2.0/SCTP h;BRANCH=z9hG4bKup;RPort;Received=192.0.2.1;TTL=0;MADDR=m.example",
      "SIP/2.0/udp h;branch=z9hG4bK1",
      "SIP/2.0/WS h;branch=z9hG4bK1",
      "SIP/2.0/WSS h;branch=z9hG4bK1",
      "SIP/2.0/XYZ h;branch=z9hG4bK1",
      "SIP/2.0/UDP h;branch=a;branch=b;rport=5;rport",  // repeats: the last value, rport kept
      "SIP/2.0/UDP h;x;y=z;zz=[1:2];branch=z9hG4bK1",
      "SIP/2.0/UDP h;ttl=255;rport=65535",
  };
  for (std::string_view text : inside) {
    EXPECT_TRUE(fast_takes(text, false)) << text;
    EXPECT_TRUE(fast_takes(text, true)) << text;
  }
  const auto v = sip::parse_via(inside[0]);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->host, "192.168.1.105");
  EXPECT_EQ(v->host_type, sip::host_kind::ipv4);
  EXPECT_EQ(v->port, 5060);
  EXPECT_EQ(v->branch, "z9hG4bK187562849");
  EXPECT_TRUE(v->has_rport && !v->rport_has_value);
  EXPECT_EQ(v->params, "branch=z9hG4bK187562849;rport");
}

TEST(via_fast, list_entry_ends_at_the_comma) {
  const std::vector<std::string_view> inside = {
      "SIP/2.0/UDP 1.2.3.4,SIP/2.0/UDP h",
      "SIP/2.0/UDP 1.2.3.4:5060,SIP/2.0/UDP h",
      "SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bK1,SIP/2.0/UDP h",
      "SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bK1;rport,bad bytes \" after",
      "SIP/2.0/UDP h;rport=5,",
  };
  for (std::string_view text : inside) {
    EXPECT_TRUE(fast_takes(text, true)) << text;
    EXPECT_FALSE(fast_takes(text, false)) << text;  // not one entry: the general parser says bad_via
    EXPECT_EQ(sip::parse_via(text).error(), sip::errc::bad_via) << text;
  }
  const auto top = sip::detail::via_general(inside[2], true);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->params, "branch=z9hG4bK1");
}

TEST(via_fast, declines_just_outside_and_answers_stay) {
  // Each with the answer parse_via() gave before the fast path existed.
  const std::vector<std::pair<std::string_view, sip::errc>> outside = {
      {" SIP/2.0/UDP h;branch=z9hG4bK1", sip::errc::ok},  // leading LWS
      {"SIP/2.0/UDP h;branch=z9hG4bK1 ", sip::errc::ok},  // trailing LWS
      {"SIP/2.0/UDP  h;branch=z9hG4bK1", sip::errc::ok},  // two SP
      {"SIP/2.0/UDP\th;branch=z9hG4bK1", sip::errc::ok},
      {"SIP/2.0/ UDP h", sip::errc::ok},
      {"SIP /2.0/UDP h", sip::errc::ok},
      {"sip/2.0/UDP h", sip::errc::ok},
      {"SIP/2.0/UDP h :5060", sip::errc::ok},
      {"SIP/2.0/UDP h: 5060", sip::errc::ok},
      {"SIP/2.0/UDP h ;branch=z9hG4bK1", sip::errc::ok},
      {"SIP/2.0/UDP h; branch=z9hG4bK1", sip::errc::ok},
      {"SIP/2.0/UDP h;branch =z9hG4bK1", sip::errc::ok},
      {"SIP/2.0/UDP h;branch= z9hG4bK1", sip::errc::ok},
      {"SIP/2.0/UDP h;x=\"quoted\";branch=z9hG4bK1", sip::errc::ok},
      {"SIP/2.0/UDP h\r\n ;branch=z9hG4bK1", sip::errc::ok},
      {"SIP/2.0/UDP h;branch=z9hG4bK1;", sip::errc::bad_via},
      {"SIP/2.0/UDP h;", sip::errc::bad_via},
      {"SIP/2.0/UDP h;;rport", sip::errc::bad_via},
      {"SIP/2.0/UDP h;branch=", sip::errc::bad_via},
      {"SIP/2.0/UDP h;branch", sip::errc::bad_via},
      {"SIP/2.0/UDP h;branch=\"z9hG4bK1\"", sip::errc::bad_via},
      {"SIP/2.0/UDP h;rport=65536", sip::errc::bad_via},
      {"SIP/2.0/UDP h;rport=x", sip::errc::bad_via},
      {"SIP/2.0/UDP h;received=h.example", sip::errc::bad_via},
      {"SIP/2.0/UDP h;ttl=256", sip::errc::bad_via},
      {"SIP/2.0/UDP h;maddr", sip::errc::bad_via},
      {"SIP/2.0/UDP h;received", sip::errc::bad_via},  // no value (an empty view without data)
      {"SIP/2.0/UDP h;received=", sip::errc::bad_via},
      {"SIP/2.0/UDP h:65536", sip::errc::bad_via},
      {"SIP/2.0/UDP h:", sip::errc::bad_via},
      {"SIP/2.0/UDP h:5060x", sip::errc::bad_via},
      {"SIP/2.0/UDP 256.1.1.1", sip::errc::bad_via},
      {"SIP/2.0/UDP 1.2.3.4.5", sip::errc::bad_via},
      {"SIP/2.0/UDP 1.2.3", sip::errc::bad_via},
      {"SIP/2.0/UDP 1.2.3.4a;branch=z9hG4bK1", sip::errc::bad_via},
      {"SIP/2.0/UDP [::1;branch=z9hG4bK1", sip::errc::bad_via},
      {"SIP/2.0/UDP ;branch=z9hG4bK1", sip::errc::bad_via},
      {"SIP/2.0/UDP h,SIP/2.0/UDP g", sip::errc::bad_via},
      {"SIP/2.0/UDP h;branch=a\"b\"", sip::errc::bad_via},
      {"SIP/2.0/UDP", sip::errc::bad_via},
      {"SIP/2.0/UDP ", sip::errc::bad_via},
      {"SIP/2.0/", sip::errc::bad_via},
  };
  for (const auto& [text, want] : outside) {
    EXPECT_FALSE(fast_takes(text, false)) << text;
    EXPECT_EQ(sip::parse_via(text).error(), want) << text;
  }
  // In a list, LWS before the ',' is the general parser's too.
  EXPECT_FALSE(fast_takes("SIP/2.0/UDP h;branch=z9hG4bK1 ,SIP/2.0/UDP g", true));
  EXPECT_FALSE(fast_takes("SIP/2.0/UDP h , SIP/2.0/UDP g", true));
  EXPECT_FALSE(fast_takes("SIP/2.0/UDP h;,SIP/2.0/UDP g", true));
}

// The sent-by IPv4 check reads 16 bytes at once when 16 are there: hosts from
// every octet form, with tails that make the view short, long, or continue the
// host, must classify as the one-byte-at-a-time parse_ipv4() does.
TEST(via_fast, ipv4_hosts_long_and_short_views) {
  const std::vector<std::string_view> octets = {"0",   "00",  "000", "1",   "01",  "001",  "9",    "10",
                                                "99",  "100", "199", "200", "249", "250",  "255",  "256",
                                                "259", "260", "299", "300", "999", "0000", "1000", ""};
  const std::vector<std::string_view> tails = {
      "",           ":5060;branch=z9hG4bKabcdefghijkl", ";rport",
      ".7;rport=1", "7;branch=z9hG4bKabcdefghijkl",     "-x;branch=z9hG4bKabcdefgh"};
  std::size_t ipv4 = 0;
  for (std::size_t at = 0; at < 4; ++at) {
    for (std::string_view o : octets) {
      std::string host;
      for (std::size_t k = 0; k < 4; ++k) {
        if (k != 0) host += '.';
        host += k == at ? std::string(o) : std::string(k == 0 ? "192" : "1");
      }
      for (std::string_view tail : tails) {
        const std::string text = "SIP/2.0/UDP " + host + std::string(tail);
        fast_takes(text, false);
        fast_takes(text, true);
        const auto v = sip::parse_via(text);
        if (!v) continue;
        std::uint32_t a = 0;
        EXPECT_EQ(v->host_type == sip::host_kind::ipv4, sip::parse_ipv4(v->host, a)) << text;
        EXPECT_EQ(v->host_type == sip::host_kind::ipv4, ref_ipv4(v->host)) << text;
        ipv4 += v->host_type == sip::host_kind::ipv4 ? 1 : 0;
      }
    }
  }
  EXPECT_GT(ipv4, 100U);
  std::uint32_t a = 0;
  EXPECT_FALSE(sip::parse_ipv4(std::string_view{}, a));
  EXPECT_FALSE(sip::parse_ipv4("", a));
}

// The port's digits are read eight bytes at once when eight are there.
TEST(via_fast, port_digits_long_and_short_views) {
  const std::vector<std::pair<std::string_view, int>> ports = {
      {"0", 0},        {"5", 5},           {"5060", 5060}, {"65535", 65535},   {"65536", -1},
      {"99999", -1},   {"00000", 0},       {"000000", 0},  {"0065535", 65535}, {"0065536", -1},
      {"1234567", -1}, {"00000000005", 5}, {"", -1},
  };
  for (const auto& [digits, want] : ports) {
    for (std::string_view tail : {""sv, ";branch=z9hG4bKabcdefgh"sv, ";x"sv}) {
      const std::string text = "SIP/2.0/UDP 192.0.2.1:" + std::string(digits) + std::string(tail);
      fast_takes(text, false);
      const auto v = sip::parse_via(text);
      EXPECT_EQ(v.ok(), want >= 0) << text;
      if (v && want >= 0) {
        EXPECT_EQ(v->port, want) << text;
      }
      const std::string rport = "SIP/2.0/UDP h;rport=" + std::string(digits) + std::string(tail);
      if (!digits.empty()) {
        const auto r = sip::parse_via(rport);
        EXPECT_EQ(r.ok(), want >= 0) << rport;
        if (r && want >= 0) {
          EXPECT_EQ(r->rport, want) << rport;
        }
      }
    }
  }
}

TEST(via_fast, top_via_of_a_message) {
  const std::string m_text =
      "REGISTER sip:example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849;rport,SIP/2.0/UDP 10.0.0.1\r\n"
      "Via: SIP/2.0/TCP second.example\r\n"
      "\r\n";
  sip::message m;
  ASSERT_EQ(m.parse(m_text), sip::errc::ok);
  const auto top = sip::top_via(m);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->host, "192.168.1.105");
  EXPECT_EQ(top->params, "branch=z9hG4bK187562849;rport");
  EXPECT_TRUE(fast_takes(m.value_of(sip::header_id::via), true));
}

// The received check reads 16 bytes when the view holds them, else builds the
// value zero-padded in registers: every length from 7 to 15 bytes, at the very
// end of the view and with a few readable bytes after it (never a digit or a dot:
// the check is for a whole param value), answers as parse_ipv4().
TEST(via_fast, ipv4_check_at_the_end_of_the_view) {
  const std::vector<std::string_view> addrs = {
      "1.2.3.4",       "1.2.3.45",        "1.2.3.456",       "10.20.30.40",     "203.0.113.45",
      "198.51.100.20", "192.168.100.200", "255.255.255.255", "256.255.255.255", "255.255.255.256",
      "1.2.3.4.",      ".1.2.3.4",        "1..2.3.4",        "1.2.3.4.5",       "1.2.3.0004",
      "0001.2.3.4",    "1.2.3",           "1.2.3.a",         "1.2.3.4a",        "9.9.9.9999",
      "12.34.56.78:9", "1.2.3.4;x",       "001.002.003.004", "1.2.3.4\x80",     "1.2.3.25\xb6"};
  for (std::string_view a : addrs) {
    for (std::size_t after = 0; after <= 20; ++after) {
      const std::string buf = std::string(a) + std::string(after, after % 2 == 0 ? ';' : 'x');
      const std::string_view s{buf.data(), a.size()};
      std::uint32_t v = 0;
      EXPECT_EQ(sip::detail::is_ipv4_for_tests(s, buf.data() + buf.size()), sip::parse_ipv4(s, v))
          << a << " +" << after;
      EXPECT_EQ(sip::parse_ipv4(s, v), ref_ipv4(s)) << a;
    }
  }
  // received as the last param of the entry: the short-view form of the check.
  EXPECT_TRUE(fast_takes("SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK1;rport=5060;received=203.0.113.45", false));
  EXPECT_EQ(sip::parse_via("SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1;received=203.0.113.256").error(), sip::errc::bad_via);
  EXPECT_EQ(sip::parse_via("SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1;received=1.2.3.4.").error(), sip::errc::bad_via);
}

// The inline hostport reader (views of 32 bytes or more: the port's digits come
// from the loads of the address) against the out-of-line one: every port form,
// with views just shorter and just longer than 32 bytes and hosts of every length.
TEST(via_fast, hostport_inline_against_the_reader) {
  const std::vector<std::string_view> hosts = {"1.2.3.4",   "192.168.1.105", "255.255.255.255", "256.1.1.1",
                                               "1.2.3.4.5", "1.2.3.4a",      "h.example",       "[::1]"};
  const std::vector<std::string_view> ports = {"",       ":",      ":0",     ":5",      ":5060",   ":65535",
                                               ":65536", ":99999", ":00000", ":000001", ":005060", ":1234567",
                                               ":x",     ":5060x", ":50;60", ":"};
  std::size_t taken = 0;
  for (std::string_view h : hosts) {
    for (std::string_view p : ports) {
      for (std::size_t pad = 0; pad <= 40; ++pad) {
        std::string s = std::string(h) + std::string(p) + ";branch=z9hG4bK";
        s.resize(s.size() + pad, 'a');
        const auto f = sip::detail::scan_hostport_for_tests(s, true);
        const auto g = sip::detail::scan_hostport_for_tests(s, false);
        SCOPED_TRACE(s);
        EXPECT_EQ(f.error, g.error);
        if (f.error != sip::errc::ok || g.error != sip::errc::ok) continue;
        ++taken;
        EXPECT_TRUE(same_view(f.host, g.host));
        EXPECT_EQ(f.kind, g.kind);
        EXPECT_EQ(f.port, g.port);
        EXPECT_EQ(f.has_port, g.has_port);
        EXPECT_EQ(f.used, g.used);
      }
    }
  }
  EXPECT_GT(taken, 500U);
}

// Param values: 16 bytes a step, the step's stop byte deciding; runs that go on
// past a block with a byte outside letters, digits, '-' and '.' (still a value
// byte) or stop just at a block's edge must end where the general parser's do.
TEST(via_fast, param_values_across_blocks) {
  for (std::size_t n = 1; n <= 40; ++n) {
    for (std::string_view stop : {""sv, ";rport"sv, ";x=y"sv, ",SIP/2.0/UDP h"sv, "_z"sv, ":1"sv, "!"sv, "\"q\""sv}) {
      std::string v(n, 'b');
      for (std::size_t i = 0; i < n; i += 7) v[i] = static_cast<char>('0' + i % 10);
      const std::string text = "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK" + v + std::string(stop);
      fast_takes(text, false);
      fast_takes(text, true);
      const std::string other = "SIP/2.0/UDP 192.168.1.105:5060;x=" + v + std::string(stop) + ";branch=z9hG4bK1";
      fast_takes(other, false);
      fast_takes(other, true);
    }
  }
}

// The sent-by reader's shape table against the bit steps it replaces, on every
// split of 16 bytes into runs of digits (octets of 0..5, the big ones among them)
// and dots, with what follows the run, and on random text of those bytes.
TEST(via_fast, ipv4_shape_table_against_the_bit_steps) {
  const std::vector<std::string_view> octets = {"",    "0",   "7",   "00",  "25",  "99",  "100",  "199",  "200",  "249",
                                                "250", "255", "256", "260", "300", "999", "2555", "1234", "12345"};
  const std::vector<std::string_view> seps = {".", "..", ""};
  std::size_t decided = 0;
  auto check = [&decided](const std::string& s) {
    std::string b = s.substr(0, 16);
    b.resize(16, ';');
    const int full = sip::detail::ipv4_len16_for_tests(b.data(), false);
    EXPECT_EQ(sip::detail::ipv4_len16_for_tests(b.data(), true), full) << b;
    decided += full != 0 ? 1 : 0;
  };
  for (std::string_view o1 : octets) {
    for (std::string_view o2 : octets) {
      for (std::string_view o3 : {"1"sv, "255"sv, "256"sv, ""sv, "01"sv}) {
        for (std::string_view o4 : octets) {
          for (std::string_view sep : seps) {
            for (std::string_view tail : {":5060"sv, ".1"sv, "a"sv, "9999999"sv}) {
              check(std::string(o1) + "." + std::string(o2) + std::string(sep) + std::string(o3) + "." +
                    std::string(o4) + std::string(tail));
            }
          }
        }
      }
    }
  }
  std::uint32_t seed = 12345;
  for (int i = 0; i < 200000; ++i) {
    std::string s(16, ' ');
    for (char& c : s) {
      seed = seed * 1103515245U + 12345U;
      c = "0123456789......:;a2"[(seed >> 16) % 20];
    }
    check(s);
  }
  EXPECT_GT(decided, 1000U);
}

// The shortcut that parse_via() and top_via() take first (detail::via_one_pass:
// the commonest Via made in place, else its params continued after the head,
// else via_fast(), else via_general()): every answer the general parser's, as an
// entry alone and in a list, and for each length of the view (exactly sized
// heap copies, so that a read past the end is caught under ASan).
TEST(via_fast, one_pass_shortcut_against_the_general_parser) {
  const std::vector<std::string> texts = {
      // Just inside the in-place shape.
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849",
      "SIP/2.0/TCP 10.1.2.50:51234;branch=z9hG4bK3f8a1b2c",
      "SIP/2.0/TLS 1.2.3.4;branch=z9hG4bK-a.b-c;rport",
      "SIP/2.0/UDP 1.2.3.4:1;branch=x;rport",
      "SIP/2.0/UDP 1.2.3.4:65535;branch=z9hG4bKPj0d5c7e2a-8f3b-4c1d-9e6a-2b4f6d8a0c1e;rport",
      "SIP/2.0/UDP 255.255.255.255:5060;branch=z9hG4bK0123456789abcdef0123456789;rport",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849;rport,SIP/2.0/UDP 10.0.0.1",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849,SIP/2.0/UDP 10.0.0.1",
      // Just outside it: on after the head, or from the start.
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849;rport=5060;received=203.0.113.45",
      "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK0c8e.4a2b;received=198.51.100.20;rport=40122",
      "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK0c8e;received=198.51.100.256;rport",
      "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK0c8e;received=example.com",
      "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK0c8e;received=::1",
      "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK0c8e;received",
      "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK0c8e;receivedx=1.2.3.4",
      "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK0c8e;RECEIVED=1.2.3.4",
      "SIP/2.0/UDP 203.0.113.10:5060;rport;branch=z9hG4bKPj0d5c7e2a-8f3b-4c1d",
      "SIP/2.0/TLS 192.168.0.23:37421;alias;branch=z9hG4bK.Xy8mJ2pQ1;rport",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK1875!62849;rport",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK18756284%9;rport",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849;rportx",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849;rport;",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849;",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=;rport",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=\"x\";rport",
      "SIP/2.0/UDP 192.168.1.105:5060;branch= z9hG4bK1;rport",
      "SIP/2.0/UDP 192.168.1.105:5060;Branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP 192.168.1.105:5060 ;branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849;rport ",
      "SIP/2.0/UDP 192.168.1.105:65536;branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP 192.168.1.105:050600;branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP 192.168.1.105:;branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP 192.168.1.105:5060x;branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP 192.168.1.1050:5060;branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP 192.168.1.256:5060;branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP 192.168.1.10a:5060;branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP host.example.com:5060;branch=z9hG4bK187562849;rport",
      "SIP/2.0/SCTP 192.168.1.105:5060;branch=z9hG4bK187562849;rport",
      "SIP/2.0/udp 192.168.1.105:5060;branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK187562849;rport",
      "SIP/2.0/UDP 192.168.1.105:5060;branch=z9hG4bK187562849;rport,",
      // Params before the branch, flags, and the list's ',' after the head.
      "SIP/2.0/TLS 192.168.0.23:37421;alias;branch=z9hG4bK.Xy8mJ2pQ1;rport,SIP/2.0/UDP 10.0.0.1",
      "SIP/2.0/UDP 1.2.3.4:5060;lr;alias;branch=z9hG4bK1;rport;x!y~z;ALIAS",
      "SIP/2.0/UDP 1.2.3.4:5060;a!b;branch=z9hG4bK1",
      "SIP/2.0/UDP 1.2.3.4:5060;rport;rport;branch=a;branch=b",
      "SIP/2.0/UDP 1.2.3.4:5060;branch=a;;rport",
      "SIP/2.0/UDP 1.2.3.4:5060;;branch=a",
      "SIP/2.0/UDP 1.2.3.4:5060;branch=a;ttl=3;maddr=224.0.0.1",
      "SIP/2.0/UDP 1.2.3.4:5060;alias,SIP/2.0/UDP 10.0.0.1",
      "SIP/2.0/UDP 1.2.3.4:5060,SIP/2.0/UDP 10.0.0.1",
      "SIP/2.0/UDP 1.2.3.4:5060;alias=;branch=a",
  };
  for (const std::string& t : texts) {
    for (std::size_t n = 1; n <= t.size(); ++n) {
      const std::vector<char> copy(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(n));
      const std::string_view v(copy.data(), copy.size());
      for (const bool list_entry : {false, true}) {
        SCOPED_TRACE(std::string(v) + (list_entry ? " (list)" : ""));
        const auto g = sip::detail::via_general(v, list_entry);
        const auto one = sip::detail::via_one_pass(v, list_entry);
        ASSERT_EQ(one.error(), g.error());
        if (g) expect_same(*one, *g, v);
      }
    }
  }
}
