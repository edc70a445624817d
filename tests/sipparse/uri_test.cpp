// URIs: SIP/SIPS per RFC 3261 §19.1, tel per RFC 3966, other schemes as
// absoluteURI; comparison per RFC 3261 §19.1.4; %HH unescaping.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "sipfront/sipparse/sipparse.hpp"

namespace sip = sipfront::sip;
using namespace std::string_view_literals;

namespace {

sip::uri must_parse(std::string_view s) {
  const auto u = sip::parse_uri(s);
  EXPECT_TRUE(u.ok()) << s << ": " << sip::to_string(u.error());
  return u.value();
}

std::string unescaped(std::string_view s) {
  std::string out(s.size() + 1, '?');
  const int n = sip::unescape(s, out.data(), out.size());
  if (n < 0) return "<error>";
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// ================================================================== SIP / SIPS

TEST(sip_uri, all_components) {
  const auto u =
      must_parse("sip:alice:secretword@atlanta.com:5061;transport=tcp;lr;user=phone?subject=project&priority=urgent");
  EXPECT_EQ(u.scheme, sip::uri_scheme::sip);
  EXPECT_TRUE(u.is_sip());
  EXPECT_EQ(u.scheme_token, "sip");
  EXPECT_TRUE(u.has_user);
  EXPECT_EQ(u.user, "alice");
  EXPECT_TRUE(u.has_password);
  EXPECT_EQ(u.password, "secretword");
  EXPECT_EQ(u.host, "atlanta.com");
  EXPECT_EQ(u.host_type, sip::host_kind::hostname);
  EXPECT_TRUE(u.has_port);
  EXPECT_EQ(u.port, 5061);
  EXPECT_EQ(u.params, "transport=tcp;lr;user=phone");
  EXPECT_EQ(u.headers, "subject=project&priority=urgent");
  EXPECT_EQ(u.raw, "sip:alice:secretword@atlanta.com:5061;transport=tcp;lr;user=phone?subject=project&priority=urgent");
}

TEST(sip_uri, host_only) {
  const auto u = must_parse("sip:example.com");
  EXPECT_FALSE(u.has_user);
  EXPECT_TRUE(u.user.empty());
  EXPECT_FALSE(u.has_password);
  EXPECT_EQ(u.host, "example.com");
  EXPECT_FALSE(u.has_port);
  EXPECT_EQ(u.port, 0);
  EXPECT_TRUE(u.params.empty());
  EXPECT_TRUE(u.headers.empty());
  EXPECT_FALSE(u.param("lr").has_value());
}

TEST(sip_uri, sips_and_scheme_case) {
  EXPECT_EQ(must_parse("sips:bob@biloxi.com").scheme, sip::uri_scheme::sips);
  EXPECT_TRUE(must_parse("sips:bob@biloxi.com").is_sip());
  EXPECT_EQ(must_parse("SIP:bob@biloxi.com").scheme, sip::uri_scheme::sip);
  EXPECT_EQ(must_parse("SIP:bob@biloxi.com").scheme_token, "SIP");
  EXPECT_EQ(must_parse("SiPs:bob@biloxi.com").scheme, sip::uri_scheme::sips);
}

TEST(sip_uri, user_with_escapes_and_unreserved) {
  const auto u = must_parse("sip:%61lice%20smith@atlanta.com");
  EXPECT_EQ(u.user, "%61lice%20smith");
  EXPECT_EQ(unescaped(u.user), "alice smith");
  const auto semi = must_parse("sip:user;par=u%40example.net@example.com");  // RFC 4475 semiuri
  EXPECT_EQ(semi.user, "user;par=u%40example.net");
  EXPECT_EQ(semi.host, "example.com");
  EXPECT_TRUE(semi.params.empty());
  const auto phone = must_parse("sip:+1-212-555-1212;isub=1@gateway.com;user=phone");
  EXPECT_EQ(phone.user, "+1-212-555-1212;isub=1");
  EXPECT_EQ(phone.param("user").value_or(""), "phone");
  const auto marks = must_parse("sip:-_.!~*'()&=+$,;?/@h.example");
  EXPECT_EQ(marks.user, "-_.!~*'()&=+$,;?/");
}

TEST(sip_uri, password) {
  const auto u = must_parse("sip:alice:p%40ss&=+$,word@atlanta.com");
  EXPECT_EQ(u.user, "alice");
  EXPECT_EQ(u.password, "p%40ss&=+$,word");
  const auto empty = must_parse("sip:alice:@atlanta.com");
  EXPECT_TRUE(empty.has_password);
  EXPECT_TRUE(empty.password.empty());
}

TEST(sip_uri, ipv4_ipv6_and_hostname_hosts) {
  const auto v4 = must_parse("sip:bob@192.0.2.4:5060");
  EXPECT_EQ(v4.host, "192.0.2.4");
  EXPECT_EQ(v4.host_type, sip::host_kind::ipv4);
  EXPECT_EQ(v4.port, 5060);
  const auto v6 = must_parse("sip:bob@[2001:db8::10]:5070;transport=udp");
  EXPECT_EQ(v6.host, "[2001:db8::10]");
  EXPECT_EQ(v6.host_type, sip::host_kind::ipv6);
  EXPECT_EQ(v6.port, 5070);
  EXPECT_EQ(v6.param("transport").value_or(""), "udp");
  EXPECT_EQ(must_parse("sip:[::1]").host_type, sip::host_kind::ipv6);
  EXPECT_EQ(must_parse("sip:[::ffff:192.0.2.1]").host_type, sip::host_kind::ipv6);
  const auto name = must_parse("sip:chair-dnrc.example.com");
  EXPECT_EQ(name.host_type, sip::host_kind::hostname);
  EXPECT_EQ(must_parse("sip:example.com.").host_type, sip::host_kind::hostname);  // trailing dot is legal
  EXPECT_EQ(must_parse("sip:h1.x-y.example").host_type, sip::host_kind::hostname);
  EXPECT_EQ(must_parse("sip:localhost").host_type, sip::host_kind::hostname);
}

TEST(sip_uri, port_range) {
  EXPECT_EQ(must_parse("sip:h.example:65535").port, 65535);
  EXPECT_EQ(must_parse("sip:h.example:0").port, 0);
  EXPECT_TRUE(must_parse("sip:h.example:0").has_port);
  EXPECT_EQ(must_parse("sip:h.example:05060").port, 5060);
  EXPECT_EQ(sip::parse_uri("sip:h.example:65536").error(), sip::errc::bad_uri);
  EXPECT_EQ(sip::parse_uri("sip:h.example:99999999999").error(), sip::errc::bad_uri);
  EXPECT_EQ(sip::parse_uri("sip:h.example:").error(), sip::errc::bad_uri);
  EXPECT_EQ(sip::parse_uri("sip:h.example:5x").error(), sip::errc::bad_uri);
  EXPECT_EQ(sip::parse_uri("sip:[::1]5060").error(), sip::errc::bad_uri);
}

TEST(sip_uri, params_and_lookup) {
  const auto u =
      must_parse("sip:p.example.com;LR;Transport=TCP;user=phone;method=INVITE;ttl=15;maddr=239.255.255.1;x=%41");
  ASSERT_TRUE(u.param("lr").has_value());
  EXPECT_TRUE(u.param("lr")->empty());  // present without a value
  EXPECT_TRUE(u.param("LR").has_value());
  EXPECT_EQ(u.param("transport").value_or(""), "TCP");  // names case-insensitive, values as written
  EXPECT_EQ(u.param("TRANSPORT").value_or(""), "TCP");
  EXPECT_EQ(u.param("user").value_or(""), "phone");
  EXPECT_EQ(u.param("method").value_or(""), "INVITE");
  EXPECT_EQ(u.param("ttl").value_or(""), "15");
  EXPECT_EQ(u.param("maddr").value_or(""), "239.255.255.1");
  EXPECT_EQ(u.param("x").value_or(""), "%41");
  EXPECT_FALSE(u.param("l").has_value());
  EXPECT_FALSE(u.param("lrx").has_value());
  EXPECT_FALSE(u.param("").has_value());
  // Escaped parameter names are the same names (RFC 3261 §19.1.4; RFC 4475 esc01).
  const auto esc = must_parse("sip:caller@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
  EXPECT_TRUE(esc.param("lr").has_value());
  EXPECT_EQ(esc.param("name").value_or(""), "v%61lue%25%34%31");
}

TEST(sip_uri, headers) {
  const auto u = must_parse("sip:user@example.com?Route=%3Csip:sip.example.com%3E");
  EXPECT_TRUE(u.params.empty());
  EXPECT_EQ(u.headers, "Route=%3Csip:sip.example.com%3E");
  const auto both = must_parse("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com&x=");
  EXPECT_EQ(both.params, "transport=tcp;method=REGISTER");
  EXPECT_EQ(both.headers, "to=sip:bob%40biloxi.com&x=");
  EXPECT_EQ(both.param("method").value_or(""), "REGISTER");
}

TEST(sip_uri, malformed) {
  for (std::string_view bad : {
           "sip:"sv,
           "sip"sv,
           ":example.com"sv,
           "1sip:example.com"sv,
           "s_p:example.com"sv,
           "sip:@example.com"sv,  // empty user
           "sip:user@"sv,         // empty host
           "sip:user@exa mple.com"sv,
           "sip:user@exa_mple.com"sv,
           "sip:user@-example.com"sv,
           "sip:user@example-.com"sv,
           "sip:user@example..com"sv,
           "sip:user@.example.com"sv,
           "sip:user@256.1.1.1"sv,  // not an IPv4 address, and a toplabel starts with ALPHA
           "sip:user@192.0.2.1.5"sv,
           "sip:user@example.123"sv,
           "sip:user@[2001:db8::1"sv,
           "sip:user@[2001:db8::g]"sv,
           "sip:user@[]"sv,
           "sip:us er@example.com"sv,
           "sip:us<er@example.com"sv,
           "sip:us%4@example.com"sv,  // broken escape
           "sip:us%zz@example.com"sv,
           "sip:user:pa:ss@example.com"sv,  // ':' not allowed in a password
           "sip:user@example.com;"sv,       // empty parameter
           "sip:user@example.com;;lr"sv,
           "sip:user@example.com;=x"sv,
           "sip:user@example.com;x="sv,
           "sip:user@example.com;x=a b"sv,
           "sip:user@example.com;x=\"q\""sv,
           "sip:user@example.com?"sv,  // empty headers
           "sip:user@example.com?noequals"sv,
           "sip:user@example.com?=v"sv,
           "sip:user@example.com?a=b&"sv,
           "sip:user@example.com?a=b c"sv,
           "sip:user@example.com?a=<b>"sv,
           "sip:user@example.com>"sv,
       }) {
    const auto u = sip::parse_uri(bad);
    EXPECT_FALSE(u.ok()) << "accepted: [" << bad << "]";
    EXPECT_EQ(u.error(), sip::errc::bad_uri) << bad;
  }
}

// ================================================================== tel and other schemes

TEST(tel_uri, global_and_local_numbers) {
  const auto g = must_parse("tel:+1-201-555-0123");
  EXPECT_EQ(g.scheme, sip::uri_scheme::tel);
  EXPECT_FALSE(g.is_sip());
  EXPECT_EQ(g.opaque, "+1-201-555-0123");
  EXPECT_TRUE(g.params.empty());
  const auto l = must_parse("tel:7042;phone-context=example.com");
  EXPECT_EQ(l.opaque, "7042");
  EXPECT_EQ(l.params, "phone-context=example.com");
  EXPECT_EQ(l.param("phone-context").value_or(""), "example.com");
  EXPECT_EQ(must_parse("tel:*21#;phone-context=+1").opaque, "*21#");
  EXPECT_EQ(must_parse("TEL:+1.(201).555").scheme, sip::uri_scheme::tel);
  for (std::string_view bad : {"tel:", "tel:+", "tel:---", "tel:+1-201-x", "tel:+12*3", "tel:12 34", "tel:12;a b"}) {
    EXPECT_FALSE(sip::parse_uri(bad).ok()) << bad;
  }
}

TEST(absolute_uri, other_schemes_are_opaque) {
  const auto h = must_parse("http://www.example.com/a?b=c");
  EXPECT_EQ(h.scheme, sip::uri_scheme::other);
  EXPECT_EQ(h.scheme_token, "http");
  EXPECT_EQ(h.opaque, "//www.example.com/a?b=c");
  EXPECT_FALSE(h.is_sip());
  EXPECT_EQ(must_parse("isbn:2983792873").opaque, "2983792873");
  EXPECT_EQ(must_parse("name:John_Smith").scheme, sip::uri_scheme::other);
  EXPECT_EQ(must_parse("nobodyKnowsThisScheme:totallyopaquecontent").scheme_token, "nobodyKnowsThisScheme");
  EXPECT_EQ(must_parse("soap.beep://192.0.2.103:3002").scheme_token, "soap.beep");
  EXPECT_EQ(must_parse("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6").scheme_token, "urn");
  EXPECT_EQ(must_parse("mailto:a%20b@example.com").scheme, sip::uri_scheme::other);
  for (std::string_view bad : {"http:", "http://a b", "http://a<b>", "x-y:\"q\"", "ht tp://x", "http://x{y}"}) {
    EXPECT_FALSE(sip::parse_uri(bad).ok()) << bad;
  }
}

// ================================================================== comparison (RFC 3261 §19.1.4)

struct uri_pair {
  std::string_view a;
  std::string_view b;
};
void PrintTo(const uri_pair& p, std::ostream* os) { *os << p.a << " | " << p.b; }

class uri_equivalent : public ::testing::TestWithParam<uri_pair> {};

TEST_P(uri_equivalent, compare_equal_both_ways) {
  const auto a = must_parse(GetParam().a);
  const auto b = must_parse(GetParam().b);
  EXPECT_TRUE(sip::uri_equal(a, b)) << GetParam().a << " vs " << GetParam().b;
  EXPECT_TRUE(sip::uri_equal(b, a)) << GetParam().b << " vs " << GetParam().a;
  EXPECT_TRUE(sip::uri_equal(a, a));
}

// The equivalent pairs RFC 3261 §19.1.4 lists, plus the RFC 4475 esc01 escapes.
INSTANTIATE_TEST_SUITE_P(
    rfc3261, uri_equivalent,
    ::testing::Values(uri_pair{"sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"},
                      uri_pair{"sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"},
                      uri_pair{"sip:carol@chicago.com", "sip:carol@chicago.com;security=on"},
                      uri_pair{"sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"},
                      uri_pair{"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                               "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"},
                      uri_pair{"sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                               "sip:alice@atlanta.com?priority=urgent&subject=project%20x"},
                      uri_pair{"sip:%75se%72@example.com", "sip:user@example.com"},
                      uri_pair{"sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
                               "sip:caller@host5.example.net;lr;name=value%2541"},  // decoded once: "value%41"
                      uri_pair{"sip:sips%3Auser%40example.com@example.net",
                               "sip:sips%3auser%40example.com@example.net"},
                      uri_pair{"sip:bob@[2001:DB8::1]", "sip:bob@[2001:db8::1]"},
                      uri_pair{"SIPS:bob@biloxi.com;maddr=239.255.255.1", "sips:bob@biloxi.com;MADDR=239.255.255.1"},
                      uri_pair{"sip:bob:pw@biloxi.com", "sip:bob:p%77@biloxi.com"}));

class uri_different : public ::testing::TestWithParam<uri_pair> {};

TEST_P(uri_different, compare_unequal_both_ways) {
  const auto a = must_parse(GetParam().a);
  const auto b = must_parse(GetParam().b);
  EXPECT_FALSE(sip::uri_equal(a, b)) << GetParam().a << " vs " << GetParam().b;
  EXPECT_FALSE(sip::uri_equal(b, a)) << GetParam().b << " vs " << GetParam().a;
}

// The not-equivalent pairs RFC 3261 §19.1.4 lists, plus the rules behind them.
INSTANTIATE_TEST_SUITE_P(
    rfc3261, uri_different,
    ::testing::Values(
        uri_pair{"SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"},  // user case
        uri_pair{"sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"},                               // default port differs
        uri_pair{"sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"},                      // transport in one
        uri_pair{"sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"},
        uri_pair{"sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"},    // headers
        uri_pair{"sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"},                      // no DNS
        uri_pair{"sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"},  // not transitive
        uri_pair{"sip:bob@biloxi.com", "sips:bob@biloxi.com"}, uri_pair{"sip:bob@biloxi.com", "sip:biloxi.com"},
        uri_pair{"sip:bob@biloxi.com", "sip:bob:pw@biloxi.com"},
        uri_pair{"sip:bob:pw@biloxi.com", "sip:bob:PW@biloxi.com"},
        uri_pair{"sip:bob@biloxi.com", "sip:bob@biloxi.com;user=phone"},
        uri_pair{"sip:bob@biloxi.com", "sip:bob@biloxi.com;ttl=1"},
        uri_pair{"sip:bob@biloxi.com", "sip:bob@biloxi.com;method=INVITE"},
        uri_pair{"sip:bob@biloxi.com", "sip:bob@biloxi.com;maddr=239.255.255.1"},
        uri_pair{"sip:bob@biloxi.com", "sip:bob@biloxi.com;%74ransport=tcp"},  // escaped name still transport
        uri_pair{"sip:bob@biloxi.com;transport=tcp", "sip:bob@biloxi.com;transport=udp"},
        uri_pair{"sip:caller@host5.example.net;n%61me=a", "sip:caller@host5.example.net;name=b"},
        uri_pair{"sip:c@h.example;name=v%61lue%25%34%31", "sip:c@h.example;name=value%41"},  // once, not twice
        uri_pair{"sip:a@b.example?x=1", "sip:a@b.example?x=1&y=2"},
        uri_pair{"sip:a%20b@example.com", "sip:a+b@example.com"},
        uri_pair{"tel:+1-201-555-0123", "sip:+1-201-555-0123@example.com"},
        uri_pair{"http://a.example/x", "http://a.example/X"}));

TEST(uri_equal, non_sip_schemes) {
  EXPECT_TRUE(sip::uri_equal(must_parse("http://a.example/x"), must_parse("http://a.example/x")));
  EXPECT_TRUE(sip::uri_equal(must_parse("tel:+1-201-555-0123"), must_parse("tel:+1-201-555-0123")));
}

// ================================================================== unescape

TEST(unescape, octets) {
  EXPECT_EQ(unescaped("plain"), "plain");
  EXPECT_EQ(unescaped(""), "");
  EXPECT_EQ(unescaped("%41%62%6a%6A"), "Abjj");
  EXPECT_EQ(unescaped("a%20b"), "a b");
  EXPECT_EQ(unescaped("%25%34%31"), "%41");  // one level only
  EXPECT_EQ(unescaped("null-%00-null"), std::string("null-\0-null", 11));
  EXPECT_EQ(unescaped("%ff"), "\xff");
  EXPECT_EQ(unescaped("%"), "<error>");
  EXPECT_EQ(unescaped("%4"), "<error>");
  EXPECT_EQ(unescaped("ab%4"), "<error>");
  EXPECT_EQ(unescaped("%G1"), "<error>");
  EXPECT_EQ(unescaped("%1G"), "<error>");
}

TEST(unescape, capacity) {
  std::array<char, 4> buf{};
  EXPECT_EQ(sip::unescape("abcd", buf.data(), buf.size()), 4);
  EXPECT_EQ(sip::unescape("abcde", buf.data(), buf.size()), -1);
  EXPECT_EQ(sip::unescape("%41%42%43%44", buf.data(), buf.size()), 4);
  EXPECT_EQ(std::string_view(buf.data(), 4), "ABCD");
  EXPECT_EQ(sip::unescape("%41%42%43%44%45", buf.data(), buf.size()), -1);
  EXPECT_EQ(sip::unescape("", buf.data(), 0), 0);
  EXPECT_EQ(sip::unescape("a", buf.data(), 0), -1);
}

// ================================================================== IPv4

TEST(parse_ipv4, dotted_quads) {
  std::uint32_t v = 0;
  ASSERT_TRUE(sip::parse_ipv4("192.0.2.1", v));
  EXPECT_EQ(v, 0xc0000201U);
  ASSERT_TRUE(sip::parse_ipv4("255.255.255.255", v));
  EXPECT_EQ(v, 0xffffffffU);
  ASSERT_TRUE(sip::parse_ipv4("0.0.0.0", v));
  EXPECT_EQ(v, 0U);
  for (std::string_view bad : {"", "1.2.3", "1.2.3.4.", "1.2.3.4.5", "256.0.0.1", "1..2.3", "1.2.3.a", "01234.1.1.1",
                               " 1.2.3.4", "1.2.3.4 ", "example.com"}) {
    EXPECT_FALSE(sip::parse_ipv4(bad, v)) << bad;
  }
}

// ================================================================== IPv4 shortcut

// An exactly sized heap copy: a load past its end is an ASan report.
struct exact_copy {
  std::unique_ptr<char[]> buf;
  std::string_view v;
  explicit exact_copy(const std::string& s) : buf(std::make_unique<char[]>(s.size())) {
    std::memcpy(buf.get(), s.data(), s.size());
    v = {buf.get(), s.size()};
  }
};

bool same_view(std::string_view a, std::string_view b) { return a.data() == b.data() && a.size() == b.size(); }

// parse_uri(), and the fast path when it takes `s`, answer as the general parser:
// the same error or every field the same. True when the fast path took it.
bool uri_answers_as_general(std::string_view s) {
  const auto g = sip::detail::parse_uri_general(s);
  const auto pub = sip::parse_uri(s);
  EXPECT_EQ(pub.error(), g.error()) << s;
  sip::uri fast;
  const bool took = sip::detail::parse_uri_fast(s, fast);
  EXPECT_TRUE(!took || g.ok()) << s;
  const std::array<const sip::uri*, 2> both{took ? &fast : nullptr, pub.ok() ? &pub.value() : nullptr};
  for (const sip::uri* u : both) {
    if (u == nullptr || !g) continue;
    EXPECT_EQ(u->scheme, g->scheme) << s;
    EXPECT_TRUE(same_view(u->scheme_token, g->scheme_token) && same_view(u->raw, g->raw)) << s;
    EXPECT_TRUE(same_view(u->user, g->user) && same_view(u->password, g->password)) << s;
    EXPECT_EQ(u->has_user, g->has_user) << s;
    EXPECT_EQ(u->has_password, g->has_password) << s;
    EXPECT_TRUE(same_view(u->host, g->host)) << s;
    EXPECT_EQ(u->host_type, g->host_type) << s;
    EXPECT_EQ(u->port, g->port) << s;
    EXPECT_EQ(u->has_port, g->has_port) << s;
    EXPECT_TRUE(same_view(u->params, g->params) && same_view(u->headers, g->headers)) << s;
    EXPECT_TRUE(same_view(u->opaque, g->opaque)) << s;
  }
  return took;
}

// user "@" IPv4address [":" port] and the end, ';' or '?', read from 16-byte
// masks: users short and long (across the 16-byte steps), octets on both sides
// of 255 and of three digits, ports of 1..6 digits on both sides of 65535, and
// whatever may follow; the host and port near the end of the view (the shifted
// loads) and not.
TEST(uri_ipv4_shortcut, shapes_inside_and_outside) {
  const std::string users[] = {"1",
                               "1001",
                               "+4930123456",
                               "alice.smith-2",
                               "b7c4e1d2-9a3f-4e5b-8c1d-00562b1f7c0a",
                               std::string(15, 'u'),
                               std::string(16, 'u'),
                               std::string(31, 'u'),
                               std::string(32, 'u'),
                               "a_b",
                               "a%41",
                               "a:pw",
                               "",
                               "a@b"};
  const std::string hosts[] = {"192.168.1.105", "1.2.3.4",      "10.20.30.41", "203.0.113.10", "255.255.255.255",
                               "256.1.1.1",     "1.2.3.260",    "1.2.3.4.5",   "1.2.3",        "1..2.3",
                               "01.002.3.4",    "1234.1.1.1",   "1.2.3.4a",    "1.2.3.4-",     "299.1.1.1",
                               "249.250.251.9", "100.199.200.0"};
  const std::string ports[] = {"", ":5060", ":0", ":65535", ":65536", ":99999", ":000001", ":1", ":", ":5a", ":37421"};
  const std::string tails[] = {"", ";transport=udp", ";lr", "?X-h=1", ";", "?", ";a;;b", "a", "-", ".", ":", ">"};
  int taken = 0;
  for (const std::string& scheme : {std::string("sip:"), std::string("sips:")}) {
    for (const std::string& user : users) {
      for (const std::string& host : hosts) {
        for (const std::string& port : ports) {
          for (const std::string& tail : tails) {
            const exact_copy c(scheme + user + "@" + host + port + tail);
            taken += uri_answers_as_general(c.v) ? 1 : 0;
          }
        }
      }
    }
  }
  EXPECT_GT(taken, 0);
  // Just inside: taken (by the shortcut or the fast path behind it).
  for (std::string_view s : {"sip:1001@192.168.1.105:5060"sv, "sip:1@1.2.3.4:5"sv, "sips:1001@10.20.30.41:65535"sv,
                             "sip:1001@192.168.1.105:5060;transport=udp"sv, "sip:1001@192.168.1.105?X-h=1"sv,
                             "sip:b7c4e1d2-9a3f-4e5b-8c1d-00562b1f7c0a@10.1.2.50:51234;transport=tcp"sv}) {
    const exact_copy c{std::string(s)};
    EXPECT_TRUE(uri_answers_as_general(c.v)) << s;
  }
  // Just outside: errors the general parser reports.
  for (std::string_view s :
       {"sip:1001@192.168.1.256:5060"sv, "sip:1001@192.168.1.105:65536"sv, "sip:1001@192.168.1.105:5060;"sv,
        "sip:1001@192.168.1.105:"sv, "sip:@192.168.1.105:5060"sv}) {
    const exact_copy c{std::string(s)};
    EXPECT_FALSE(uri_answers_as_general(c.v)) << s;
    EXPECT_FALSE(sip::parse_uri(c.v).ok()) << s;
  }
}

// Every prefix of Contact URIs, so that the end of the view falls inside each part.
TEST(uri_ipv4_shortcut, every_prefix) {
  for (std::string_view s :
       {"sip:1001@192.168.1.105:5060;transport=udp?X-h=1"sv, "sip:+4930123456@192.0.2.17:5060;transport=udp"sv,
        "sips:1@10.0.0.1:65535"sv, "sip:b7c4e1d2-9a3f-4e5b-8c1d-00562b1f7c0a@10.1.2.50:51234;transport=tcp"sv}) {
    for (std::size_t n = 0; n <= s.size(); ++n) {
      const exact_copy c{std::string(s.substr(0, n))};
      uri_answers_as_general(c.v);
    }
  }
}

}  // namespace
