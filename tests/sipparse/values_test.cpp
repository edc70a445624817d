// Header values, one suite per family: Via, name-addr, Contact lists, scalars,
// Retry-After, Date, token lists, auth, generic params, list iteration, and the
// message index itself (header names, compact forms, folding, limits).
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "sipfront/sipparse/sipparse.hpp"

namespace sip = sipfront::sip;
using namespace std::string_view_literals;

namespace {

// A request around `headers` (each a full "Name: value" line without CRLF).
std::string request_with(const std::vector<std::string>& headers, std::string_view body = {}) {
  std::string s = "OPTIONS sip:bob@example.com SIP/2.0\r\n";
  for (const auto& h : headers) s += h + "\r\n";
  s += "\r\n";
  s += body;
  return s;
}

std::vector<std::string> entries_of(const sip::message& m, sip::header_id id, bool* failed = nullptr) {
  sip::list_iterator it(m, id);
  std::vector<std::string> out;
  std::string_view e;
  while (it.next(e)) out.emplace_back(e);
  if (failed != nullptr) *failed = it.failed();
  return out;
}

// ================================================================== Via

TEST(via, full_parameter_set) {
  const auto v = sip::parse_via(
      "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;received=198.51.100.7;rport=5062;"
      "maddr=239.255.255.1;ttl=16;x-custom=1");
  ASSERT_TRUE(v.ok()) << sip::to_string(v.error());
  EXPECT_EQ(v->protocol, "SIP");
  EXPECT_EQ(v->version, "2.0");
  EXPECT_EQ(v->transport_token, "UDP");
  EXPECT_EQ(v->transport, sip::transport::udp);
  EXPECT_EQ(v->host, "192.0.2.1");
  EXPECT_EQ(v->host_type, sip::host_kind::ipv4);
  EXPECT_TRUE(v->has_port);
  EXPECT_EQ(v->port, 5060);
  EXPECT_EQ(v->branch, "z9hG4bK776asdhds");
  EXPECT_TRUE(v->branch_is_rfc3261());
  EXPECT_EQ(v->received, "198.51.100.7");
  EXPECT_TRUE(v->has_rport);
  EXPECT_TRUE(v->rport_has_value);
  EXPECT_EQ(v->rport, 5062);
  EXPECT_EQ(v->maddr, "239.255.255.1");
  EXPECT_TRUE(v->has_ttl);
  EXPECT_EQ(v->ttl, 16);
  EXPECT_EQ(sip::find_param(v->params, "x-custom").value_or(""), "1");
}

TEST(via, rport_without_value_and_no_port) {
  const auto v = sip::parse_via("SIP/2.0/TCP host.example.com;rport;branch=z9hG4bKa");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->has_rport);
  EXPECT_FALSE(v->rport_has_value);
  EXPECT_EQ(v->rport, 0);
  EXPECT_FALSE(v->has_port);
  EXPECT_EQ(v->port, 0);
  EXPECT_EQ(v->host_type, sip::host_kind::hostname);
  EXPECT_FALSE(v->has_ttl);
  EXPECT_TRUE(v->received.empty());
}

TEST(via, no_params_at_all) {
  const auto v = sip::parse_via("SIP/2.0/UDP iftgw.example.com");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->params.empty());
  EXPECT_TRUE(v->branch.empty());
  EXPECT_FALSE(v->branch_is_rfc3261());
  EXPECT_FALSE(v->has_rport);
}

TEST(via, ipv6_sent_by_and_received) {
  const auto v = sip::parse_via("SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKx;received=2001:db8::9:255");
  ASSERT_TRUE(v.ok()) << sip::to_string(v.error());
  EXPECT_EQ(v->host, "[2001:db8::9:1]");
  EXPECT_EQ(v->host_type, sip::host_kind::ipv6);
  EXPECT_EQ(v->port, 5070);
  EXPECT_EQ(v->received, "2001:db8::9:255");
  const auto no_port = sip::parse_via("SIP/2.0/TLS [::1];branch=z9hG4bKy");
  ASSERT_TRUE(no_port.ok());
  EXPECT_EQ(no_port->host, "[::1]");
  EXPECT_FALSE(no_port->has_port);
}

TEST(via, lws_around_slashes_colon_semicolon_and_equals) {
  const auto v = sip::parse_via("SIP / 2.0 / TCP host.example.com : 5061 ; branch = z9hG4bKsp ; rport");
  ASSERT_TRUE(v.ok()) << sip::to_string(v.error());
  EXPECT_EQ(v->transport, sip::transport::tcp);
  EXPECT_EQ(v->host, "host.example.com");
  EXPECT_EQ(v->port, 5061);
  EXPECT_EQ(v->branch, "z9hG4bKsp");
  EXPECT_TRUE(v->has_rport);
  // Folded line ends count as LWS.
  const auto f = sip::parse_via("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->host, "192.0.2.2");
  EXPECT_EQ(f->branch, "390skdjuw");
}

TEST(via, transport_tokens) {
  struct tc {
    std::string_view token;
    sip::transport t;
  };
  for (const tc& c : {tc{"UDP", sip::transport::udp}, tc{"udp", sip::transport::udp}, tc{"TCP", sip::transport::tcp},
                      tc{"TLS", sip::transport::tls}, tc{"SCTP", sip::transport::sctp}, tc{"WS", sip::transport::ws},
                      tc{"WSS", sip::transport::wss}, tc{"UNKNOWN", sip::transport::other}}) {
    const std::string text = "SIP/2.0/" + std::string(c.token) + " h.example.com";
    const auto v = sip::parse_via(text);
    ASSERT_TRUE(v.ok()) << c.token;
    EXPECT_EQ(v->transport, c.t) << c.token;
    EXPECT_EQ(v->transport_token, c.token);
  }
}

TEST(via, branch_cookie) {
  EXPECT_TRUE(sip::parse_via("SIP/2.0/UDP h;branch=z9hG4bK1")->branch_is_rfc3261());
  EXPECT_FALSE(sip::parse_via("SIP/2.0/UDP h;branch=1z9hG4bK")->branch_is_rfc3261());
  EXPECT_FALSE(sip::parse_via("SIP/2.0/UDP h;branch=Z9HG4BKabc")->branch_is_rfc3261());  // case-sensitive cookie
  // The cookie alone carries no transaction identifier (RFC 4475 §3.2.1).
  EXPECT_FALSE(sip::parse_via("SIP/2.0/UDP h;branch=z9hG4bK")->branch_is_rfc3261());
}

TEST(via, broadcast_and_multicast_sent_by) {
  EXPECT_TRUE(sip::parse_via("SIP/2.0/UDP 255.255.255.255")->sent_by_is_broadcast());
  EXPECT_TRUE(sip::parse_via("SIP/2.0/UDP 224.0.0.1")->sent_by_is_broadcast());
  EXPECT_TRUE(sip::parse_via("SIP/2.0/UDP 239.255.255.250:5060")->sent_by_is_broadcast());
  EXPECT_FALSE(sip::parse_via("SIP/2.0/UDP 223.255.255.255")->sent_by_is_broadcast());
  EXPECT_FALSE(sip::parse_via("SIP/2.0/UDP 192.0.2.1")->sent_by_is_broadcast());
  EXPECT_FALSE(sip::parse_via("SIP/2.0/UDP broadcast.example.com")->sent_by_is_broadcast());
  EXPECT_FALSE(sip::parse_via("SIP/2.0/UDP [ff02::1]")->sent_by_is_broadcast());
}

TEST(via, malformed_entries) {
  for (std::string_view bad : {
           ""sv,
           "SIP/2.0"sv,
           "SIP/2.0/UDP"sv,                            // no sent-by
           "SIP/2.0/UDP "sv,                           // no sent-by
           "SIP/UDP host"sv,                           // no version
           "SIP 2.0/UDP host"sv,                       // missing '/'
           "SIP/2.0/UDPhost"sv,                        // no LWS before sent-by (token runs on)
           "SIP/2.0/UDP host:"sv,                      // empty port
           "SIP/2.0/UDP host:65536"sv,                 // port overflow
           "SIP/2.0/UDP host:50x"sv,                   // junk after port
           "SIP/2.0/UDP ho_st"sv,                      // not a hostname
           "SIP/2.0/UDP [2001:db8::1"sv,               // unterminated IPv6 reference
           "SIP/2.0/UDP [zz::1]"sv,                    // not hex
           "SIP/2.0/UDP host junk"sv,                  // junk after sent-by
           "SIP/2.0/UDP host;"sv,                      // ';' with no parameter
           "SIP/2.0/UDP host;;branch=z9hG4bK1"sv,      // empty parameter
           "SIP/2.0/UDP host;branch"sv,                // branch needs a value
           "SIP/2.0/UDP host;branch="sv,               // empty value
           "SIP/2.0/UDP host;branch=\"z9hG4bK1\""sv,   // branch is a token
           "SIP/2.0/UDP host;received=example.com"sv,  // received is an IP address
           "SIP/2.0/UDP host;received=300.1.1.1"sv,
           "SIP/2.0/UDP host;rport=65536"sv,
           "SIP/2.0/UDP host;rport=abc"sv,
           "SIP/2.0/UDP host;ttl=256"sv,
           "SIP/2.0/UDP host;ttl"sv,
           "SIP/2.0/UDP host;maddr"sv,
           "SIP/2.0/UDP 192.0.2.15;;"sv,  // RFC 4475 badinv01
       }) {
    const auto v = sip::parse_via(bad);
    EXPECT_FALSE(v.ok()) << "accepted: [" << bad << "]";
    if (!v.ok()) {
      EXPECT_EQ(v.error(), sip::errc::bad_via) << bad;
    }
  }
}

// top_via() and first_name_addr() parse the first entry of a line in one pass;
// they must answer exactly what splitting the line first and parsing the entry
// answers, on lines with several entries, quotes, <> and trailing junk.
TEST(first_entry, one_pass_matches_split_then_parse) {
  const std::vector<std::string> vias = {
      "SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK1;rport, SIP/2.0/TCP 198.18.1.3",
      "SIP/2.0/UDP h ;branch=z9hG4bK2 , SIP/2.0/UDP k",
      "SIP/2.0/UDP h;x=\"a,b\";branch=z9hG4bK3,SIP/2.0/UDP k",
      "SIP/2.0/UDP h, junk\"",
      "SIP/2.0/UDP h;branch=z9hG4bK4;,SIP/2.0/UDP k",
      "SIP/2.0/UDP h;x=<a,b>",
      "SIP/2.0/UDP, SIP/2.0/UDP k",
      ", SIP/2.0/UDP k",
      "SIP/2.0/UDP h;x=\"unterminated, SIP/2.0/UDP k",
      "SIP/2.0/UDP [2001:db8::1]:5060;received=198.18.0.9,SIP/2.0/UDP k",
      "SIP/2.0/UDP h ;  branch = z9hG4bK5 ; rport , SIP/2.0/UDP k",
      "SIP/2.0/UDP h\r, SIP/2.0/UDP k",
      "SIP/2.0/UDP h;branch=z9hG4bK6\r\n,SIP/2.0/UDP k",
  };
  for (const std::string& v : vias) {
    const std::string msg = request_with({"Via: " + v});
    sip::message m;
    m.parse(msg);
    std::string_view rest = m.value_of(sip::header_id::via);
    std::string_view entry;
    bool failed = false;
    const bool got = sip::next_list_entry(rest, entry, failed) && !entry.empty();
    const auto ref = got ? sip::parse_via(entry) : sip::result<sip::via>(sip::errc::bad_via);
    const auto one = sip::top_via(m);
    ASSERT_EQ(one.ok(), ref.ok()) << v;
    if (one.ok()) {
      EXPECT_EQ(one->host, ref->host) << v;
      EXPECT_EQ(one->branch, ref->branch) << v;
      EXPECT_EQ(one->params, ref->params) << v;
      EXPECT_EQ(one->port, ref->port) << v;
    }
  }
  const std::vector<std::string> contacts = {
      "<sip:a@198.18.1.2:5060>;expires=60, <sip:b@198.18.1.3>",
      "\"A, B\" <sip:a@h>;+sip.instance=\"<urn:uuid:1>\";reg-id=1 , <sip:b@h>",
      "sip:a@h;expires=5, sip:b@h",
      "sip:a@h, junk\"",
      "<sip:a@h>;p=\"x,y\";q=0.5,<sip:b@h>",
      "<sip:a@h>;;, <sip:b@h>",
      "<sip:a@h>;x=1;,<sip:b@h>",
      "*, <sip:a@h>",
      "*",
      ", <sip:a@h>",
      "<sip:a@h>;p=<x>, <sip:b@h>",
      "<sip:a@h",
      "Alice <sip:a@h>;tag=7;x, Bob <sip:b@h>",
      "<sip:a@h>;methods=\"INVITE,ACK,BYE\", <sip:b@h>;expires=1",
      "<sip:a@h> ;  p = 1 ;\r\n  q = 0.5 , <sip:b@h>",  // params keep their leading LWS, as split entries do
      "<sip:a@h>\r,<sip:b@h>",                          // a lone CR before the ',' ends the entry, as a split trims it
      "<sip:a@h>;p=1\r,<sip:b@h>",
      "<sip:a@h>;\r,<sip:b@h>",
  };
  for (const std::string& c : contacts) {
    const std::string msg = request_with({"Contact: " + c});
    sip::message m;
    m.parse(msg);
    std::string_view rest = m.value_of(sip::header_id::contact);
    std::string_view entry;
    bool failed = false;
    const bool got = sip::next_list_entry(rest, entry, failed) && !entry.empty();
    const auto ref = got ? sip::parse_name_addr(entry, true) : sip::result<sip::name_addr>(sip::errc::bad_name_addr);
    const auto one = sip::first_name_addr(m, sip::header_id::contact, true);
    ASSERT_EQ(one.ok(), ref.ok()) << c;
    if (one.ok()) {
      EXPECT_EQ(one->uri, ref->uri) << c;
      EXPECT_EQ(one->display, ref->display) << c;
      EXPECT_EQ(one->params, ref->params) << c;
      EXPECT_EQ(one->star, ref->star) << c;
      EXPECT_EQ(one->tag(), ref->tag()) << c;
    }
  }
  // Spot checks of the answers themselves.
  const std::string two = request_with({"Contact: <sip:a@198.18.1.2>;expires=60, <sip:b@198.18.1.3>"});
  sip::message m;
  ASSERT_EQ(m.parse(two), sip::errc::ok);
  const auto c = sip::first_name_addr(m, sip::header_id::contact);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->uri, "sip:a@198.18.1.2");
  EXPECT_EQ(c->params, "expires=60");
  EXPECT_EQ(sip::first_name_addr(m, sip::header_id::route).error(), sip::errc::not_present);
}

TEST(via, ttl_and_port_boundaries) {
  EXPECT_EQ(sip::parse_via("SIP/2.0/UDP h;ttl=255")->ttl, 255);
  EXPECT_EQ(sip::parse_via("SIP/2.0/UDP h;ttl=0")->ttl, 0);
  EXPECT_EQ(sip::parse_via("SIP/2.0/UDP h:65535")->port, 65535);
  EXPECT_EQ(sip::parse_via("SIP/2.0/UDP h;rport=65535")->rport, 65535);
}

TEST(via, list_across_lines_and_commas) {
  const std::string s = request_with({
      "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2",
      "Max-Forwards: 70",
      "v: SIP/2.0/TLS c.example.com;branch=z9hG4bK3",
      "VIA: SIP/2.0/UDP [::1]:5070;branch=z9hG4bK4",
  });
  sip::message m;
  ASSERT_EQ(m.parse(s), sip::errc::ok);
  EXPECT_EQ(m.count(sip::header_id::via), 3U);
  sip::via_list<8> vias;
  ASSERT_EQ(sip::parse_vias(m, vias), sip::errc::ok);
  ASSERT_EQ(vias.size(), 4U);
  EXPECT_EQ(vias[0].host, "a.example.com");
  EXPECT_EQ(vias[1].host, "b.example.com");
  EXPECT_EQ(vias[2].host, "c.example.com");
  EXPECT_EQ(vias[3].host, "[::1]");
  EXPECT_EQ(sip::top_via(m)->branch, "z9hG4bK1");
}

TEST(via, fixed_capacity_overflow) {
  const std::string s = request_with(
      {"Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2", "Via: SIP/2.0/UDP c;branch=z9hG4bK3"});
  sip::message m;
  ASSERT_EQ(m.parse(s), sip::errc::ok);
  sip::via_list<2> two;
  EXPECT_EQ(sip::parse_vias(m, two), sip::errc::too_many_entries);
  EXPECT_EQ(two.size(), 2U);
  sip::via_list<3> three;
  EXPECT_EQ(sip::parse_vias(m, three), sip::errc::ok);
  EXPECT_EQ(three.size(), 3U);
}

TEST(via, list_errors_surface) {
  sip::message m;
  const std::string bad_entry = request_with({"Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP"});
  ASSERT_EQ(m.parse(bad_entry), sip::errc::ok);
  sip::via_list<4> v;
  EXPECT_EQ(sip::parse_vias(m, v), sip::errc::bad_via);
  EXPECT_TRUE(sip::top_via(m).ok());  // the first entry alone is fine

  const std::string trailing = request_with({"Via: SIP/2.0/UDP a;branch=z9hG4bK1,"});
  ASSERT_EQ(m.parse(trailing), sip::errc::ok);
  EXPECT_EQ(sip::parse_vias(m, v), sip::errc::bad_via);

  const std::string none = request_with({"To: <sip:a@b.c>"});
  ASSERT_EQ(m.parse(none), sip::errc::ok);
  EXPECT_EQ(sip::top_via(m).error(), sip::errc::not_present);
  EXPECT_EQ(sip::parse_vias(m, v), sip::errc::ok);
  EXPECT_TRUE(v.empty());

  const std::string empty_line = request_with({"Via:"});
  ASSERT_EQ(m.parse(empty_line), sip::errc::ok);
  EXPECT_EQ(sip::top_via(m).error(), sip::errc::bad_via);
}

// ================================================================== name-addr

TEST(name_addr, quoted_display_with_escapes) {
  const auto na = sip::parse_name_addr(R"("John \"JJ\" Doe \\" <sip:jd@example.com>;tag=abc)");
  ASSERT_TRUE(na.ok()) << sip::to_string(na.error());
  EXPECT_TRUE(na->display_quoted);
  EXPECT_EQ(na->display, R"(John \"JJ\" Doe \\)");
  EXPECT_TRUE(na->angle);
  EXPECT_EQ(na->uri, "sip:jd@example.com");
  EXPECT_EQ(na->params, "tag=abc");
  EXPECT_EQ(na->tag(), "abc");
  EXPECT_FALSE(na->star);
}

TEST(name_addr, quoted_display_may_hold_commas_semicolons_and_angles) {
  const auto na = sip::parse_name_addr(R"("Bell, Alexander; <inventor>" <sip:a.g.bell@example.com>;tag=43)");
  ASSERT_TRUE(na.ok());
  EXPECT_EQ(na->display, "Bell, Alexander; <inventor>");
  EXPECT_EQ(na->uri, "sip:a.g.bell@example.com");
  EXPECT_EQ(na->tag(), "43");
}

TEST(name_addr, token_display) {
  const auto na = sip::parse_name_addr("John  Doe <sip:jd@example.com>");
  ASSERT_TRUE(na.ok());
  EXPECT_FALSE(na->display_quoted);
  EXPECT_EQ(na->display, "John  Doe");
  EXPECT_TRUE(na->angle);
  EXPECT_TRUE(na->params.empty());
  const auto tight = sip::parse_name_addr("caller<sip:caller@example.com>;tag=323");  // RFC 4475 lwsdisp
  ASSERT_TRUE(tight.ok());
  EXPECT_EQ(tight->display, "caller");
  const auto none = sip::parse_name_addr("<sip:jd@example.com>");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->display.empty());
  EXPECT_FALSE(none->display_quoted);
}

TEST(name_addr, addr_spec_params_are_header_params) {
  const auto na = sip::parse_name_addr("sip:jd@example.com;transport=tcp;tag=1;expires=60");
  ASSERT_TRUE(na.ok());
  EXPECT_FALSE(na->angle);
  EXPECT_EQ(na->uri, "sip:jd@example.com");
  EXPECT_EQ(na->params, "transport=tcp;tag=1;expires=60");
  EXPECT_EQ(na->tag(), "1");
  EXPECT_EQ(na->expires().value_or(0), 60U);
  EXPECT_EQ(na->param("TRANSPORT").value_or(""), "tcp");
  // Inside <> the parameters belong to the URI.
  const auto in = sip::parse_name_addr("<sip:jd@example.com;transport=tcp>;tag=2");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->uri, "sip:jd@example.com;transport=tcp");
  EXPECT_EQ(in->params, "tag=2");
  EXPECT_FALSE(in->param("transport").has_value());
}

TEST(name_addr, lws_around_params) {
  const auto na = sip::parse_name_addr("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
  ASSERT_TRUE(na.ok());
  EXPECT_EQ(na->uri, "sip:vivekg@chair-dnrc.example.com");
  EXPECT_EQ(na->tag(), "1918181833n");
  const auto folded = sip::parse_name_addr("\"J\" <sip:j@example.com>\r\n  ;\r\n  tag = 98asjd8");
  ASSERT_TRUE(folded.ok());
  EXPECT_EQ(folded->tag(), "98asjd8");
}

TEST(name_addr, star) {
  const auto s = sip::parse_name_addr("*", true);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->star);
  EXPECT_TRUE(sip::parse_name_addr("  *  ", true)->star);
  EXPECT_FALSE(sip::parse_name_addr("*", false).ok());
  EXPECT_FALSE(sip::parse_name_addr("*;expires=0", true).ok());
  // A display name "*" before a real URI is not the wildcard.
  const auto d = sip::parse_name_addr("* <sip:a@example.com>", true);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->star);
  EXPECT_EQ(d->display, "*");
}

TEST(name_addr, errors) {
  struct tc {
    std::string_view in;
    sip::errc e;
  };
  for (const tc& c : {
           tc{R"("Mr. J. User <sip:j.user@example.com>)", sip::errc::unterminated_quote},  // RFC 4475 quotbal
           tc{R"("x" sip:a@example.com)", sip::errc::bad_name_addr},                       // quoted display needs <>
           tc{"<sip:a@example.com", sip::errc::bad_name_addr},                             // unclosed
           tc{"<>", sip::errc::bad_name_addr},
           tc{"", sip::errc::bad_name_addr},
           tc{"<sip:a@example.com> junk", sip::errc::bad_name_addr},
           tc{"<sip:a@example.com>;", sip::errc::bad_value},
           tc{"<sip:a@example.com>;tag=", sip::errc::bad_value},
           tc{"<sip:a@example.com>;=x", sip::errc::bad_value},
           tc{"<notauri>", sip::errc::bad_uri},
           tc{"< sip:t.watson@example.org >", sip::errc::bad_uri},                // RFC 4475 badaspec
           tc{"sip:a@example.com?Route=%3Csip:x%3E", sip::errc::bad_name_addr},   // RFC 4475 regbadct
           tc{"Bell, Alexander <sip:a.g.bell@example.com>", sip::errc::bad_uri},  // RFC 4475 baddn
           tc{"sip:a@exa mple.com", sip::errc::bad_name_addr},
       }) {
    const auto na = sip::parse_name_addr(c.in);
    EXPECT_FALSE(na.ok()) << "accepted: [" << c.in << "]";
    EXPECT_EQ(na.error(), c.e) << c.in << " gave " << sip::to_string(na.error());
  }
}

TEST(name_addr, q_values) {
  auto q = [](std::string_view p) { return sip::parse_name_addr("<sip:a@b.example>;" + std::string(p))->q(); };
  EXPECT_EQ(q("q=1").value_or(9999), 1000);
  EXPECT_EQ(q("q=1.0").value_or(9999), 1000);
  EXPECT_EQ(q("q=1.000").value_or(9999), 1000);
  EXPECT_EQ(q("q=0").value_or(9999), 0);
  EXPECT_EQ(q("q=0.").value_or(9999), 0);
  EXPECT_EQ(q("q=0.5").value_or(9999), 500);
  EXPECT_EQ(q("q=0.33").value_or(9999), 330);
  EXPECT_EQ(q("q=0.333").value_or(9999), 333);
  EXPECT_EQ(q("q=0.007").value_or(9999), 7);
  EXPECT_EQ(q("Q = 0.7").value_or(9999), 700);
  EXPECT_EQ(q("tag=1").error(), sip::errc::not_present);
  for (std::string_view bad : {"q=1.5", "q=1.001", "q=2", "q=0.1234", "q=.5", "q=0.x", "q=-1"}) {
    EXPECT_EQ(q(bad).error(), sip::errc::bad_value) << bad;
  }
}

TEST(name_addr, expires_reg_id_and_instance) {
  const auto na = sip::parse_name_addr(
      "<sip:a@b.example>;expires=4294967295;reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"
      "\"");
  ASSERT_TRUE(na.ok()) << sip::to_string(na.error());
  EXPECT_EQ(na->expires().value_or(0), 4294967295U);
  EXPECT_EQ(na->reg_id().value_or(0), 1U);
  EXPECT_EQ(na->instance(), "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>");
  EXPECT_EQ(sip::parse_name_addr("<sip:a@b.example>;expires=4294967296")->expires().error(),
            sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_name_addr("<sip:a@b.example>;expires=soon")->expires().error(), sip::errc::bad_integer);
  EXPECT_EQ(sip::parse_name_addr("<sip:a@b.example>")->expires().error(), sip::errc::not_present);
  EXPECT_EQ(sip::parse_name_addr("<sip:a@b.example>")->reg_id().error(), sip::errc::not_present);
  EXPECT_TRUE(sip::parse_name_addr("<sip:a@b.example>")->instance().empty());
}

// ================================================================== Contact lists

TEST(contact, list_across_lines_and_commas_with_quoted_commas) {
  const std::string s = request_with({
      R"(Contact: "Doe, John" <sip:a@example.com>;q=0.5, <sip:b@example.com;transport=tcp>)",
      "Max-Forwards: 70",
      "Contact: sip:c@example.com;expires=30 ,",
      "  \"x,y\" <sip:d@example.com>",
      "m: <sip:e@example.com>",
  });
  sip::message m;
  ASSERT_EQ(m.parse(s), sip::errc::ok);
  EXPECT_EQ(m.count(sip::header_id::contact), 3U);
  bool failed = true;
  const auto raw = entries_of(m, sip::header_id::contact, &failed);
  EXPECT_FALSE(failed);
  ASSERT_EQ(raw.size(), 5U);
  EXPECT_EQ(raw[0], R"("Doe, John" <sip:a@example.com>;q=0.5)");
  EXPECT_EQ(raw[2], "sip:c@example.com;expires=30");
  sip::name_addr_list<8> c;
  ASSERT_EQ(sip::parse_name_addrs(m, sip::header_id::contact, c, true), sip::errc::ok);
  ASSERT_EQ(c.size(), 5U);
  EXPECT_EQ(c[0].display, "Doe, John");
  EXPECT_EQ(c[0].q().value_or(0), 500);
  EXPECT_EQ(c[1].uri, "sip:b@example.com;transport=tcp");
  EXPECT_EQ(c[2].uri, "sip:c@example.com");
  EXPECT_EQ(c[2].expires().value_or(0), 30U);
  EXPECT_EQ(c[3].display, "x,y");
  EXPECT_EQ(c[4].uri, "sip:e@example.com");
  sip::name_addr_list<4> small;
  EXPECT_EQ(sip::parse_name_addrs(m, sip::header_id::contact, small, true), sip::errc::too_many_entries);
}

TEST(contact, star_and_errors_in_lists) {
  sip::message m;
  const std::string star = request_with({"Contact: *", "Expires: 0"});
  ASSERT_EQ(m.parse(star), sip::errc::ok);
  sip::name_addr_list<2> c;
  ASSERT_EQ(sip::parse_name_addrs(m, sip::header_id::contact, c, true), sip::errc::ok);
  ASSERT_EQ(c.size(), 1U);
  EXPECT_TRUE(c[0].star);
  EXPECT_NE(sip::parse_name_addrs(m, sip::header_id::contact, c, false), sip::errc::ok);

  const std::string unbalanced = request_with({R"(Contact: "open <sip:a@example.com>)"});
  ASSERT_EQ(m.parse(unbalanced), sip::errc::ok);
  EXPECT_NE(sip::parse_name_addrs(m, sip::header_id::contact, c, true), sip::errc::ok);

  const std::string unclosed = request_with({"Contact: <sip:a@example.com, <sip:b@example.com>"});
  ASSERT_EQ(m.parse(unclosed), sip::errc::ok);
  EXPECT_NE(sip::parse_name_addrs(m, sip::header_id::contact, c, true), sip::errc::ok);

  const std::string record_route = request_with({"Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>"});
  ASSERT_EQ(m.parse(record_route), sip::errc::ok);
  ASSERT_EQ(sip::parse_name_addrs(m, sip::header_id::record_route, c, false), sip::errc::ok);
  EXPECT_EQ(c.size(), 2U);
  EXPECT_EQ(c[1].uri, "sip:p2.example.com;lr");
}

// ================================================================== scalars

TEST(cseq, values_and_limits) {
  const auto c = sip::parse_cseq("0009 INVITE");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->number, 9U);
  EXPECT_EQ(c->method, sip::method::invite);
  EXPECT_EQ(c->method_token, "INVITE");
  EXPECT_EQ(sip::parse_cseq("0 REGISTER")->number, 0U);
  EXPECT_EQ(sip::parse_cseq("2147483647 REGISTER")->number, 2147483647U);
  EXPECT_EQ(sip::parse_cseq("2147483648 REGISTER").error(), sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_cseq("36893488147419103232 REGISTER").error(), sip::errc::integer_overflow);
  const auto folded = sip::parse_cseq("0009\r\n  INVITE");
  ASSERT_TRUE(folded.ok());
  EXPECT_EQ(folded->method, sip::method::invite);
  const auto ext = sip::parse_cseq("5 register");  // methods are case-sensitive
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(ext->method, sip::method::extension);
  EXPECT_EQ(ext->method_token, "register");
  for (std::string_view bad :
       {"", "INVITE", "1", "1INVITE", "1 INVITE x", "-1 INVITE", "1 IN;VITE", "x1 INVITE", "1 "}) {
    const auto r = sip::parse_cseq(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error(), sip::errc::bad_cseq) << bad;
  }
}

TEST(max_forwards, range) {
  EXPECT_EQ(sip::parse_max_forwards("0").value_or(99), 0);
  EXPECT_EQ(sip::parse_max_forwards("70").value_or(0), 70);
  EXPECT_EQ(sip::parse_max_forwards("0068").value_or(0), 68);
  EXPECT_EQ(sip::parse_max_forwards("255").value_or(0), 255);
  EXPECT_EQ(sip::parse_max_forwards("256").error(), sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_max_forwards("300").error(), sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_max_forwards("").error(), sip::errc::bad_integer);
  EXPECT_EQ(sip::parse_max_forwards("-1").error(), sip::errc::bad_integer);
  EXPECT_EQ(sip::parse_max_forwards("7 0").error(), sip::errc::bad_integer);
  EXPECT_EQ(sip::parse_max_forwards("0x10").error(), sip::errc::bad_integer);
}

TEST(delta_seconds, range) {
  EXPECT_EQ(sip::parse_delta_seconds("0").value_or(1), 0U);
  EXPECT_EQ(sip::parse_delta_seconds("3600").value_or(0), 3600U);
  EXPECT_EQ(sip::parse_delta_seconds("4294967295").value_or(0), 4294967295U);
  EXPECT_EQ(sip::parse_delta_seconds("04294967295").value_or(0), 4294967295U);
  EXPECT_EQ(sip::parse_delta_seconds("4294967296").error(), sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_delta_seconds(std::string(100, '1')).error(), sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_delta_seconds("").error(), sip::errc::bad_integer);
  EXPECT_EQ(sip::parse_delta_seconds("1h").error(), sip::errc::bad_integer);
}

TEST(parse_uint, boundaries) {
  EXPECT_EQ(sip::parse_uint("18446744073709551615", ~0ULL).value_or(0), ~0ULL);
  EXPECT_EQ(sip::parse_uint("18446744073709551616", ~0ULL).error(), sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_uint("99999999999999999999999", ~0ULL).error(), sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_uint("10", 9).error(), sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_uint("0000000000000000000000009", 9).value_or(0), 9U);
}

TEST(content_length, range) {
  EXPECT_EQ(sip::parse_content_length("0").value_or(1), 0U);
  EXPECT_EQ(sip::parse_content_length("150").value_or(0), 150U);
  EXPECT_EQ(sip::parse_content_length("65535").value_or(0), 65535U);
  EXPECT_EQ(sip::parse_content_length("65536").error(), sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_content_length("-999").error(), sip::errc::bad_content_length);  // RFC 4475 ncl
  EXPECT_EQ(sip::parse_content_length("").error(), sip::errc::bad_content_length);
  EXPECT_EQ(sip::parse_content_length("12a").error(), sip::errc::bad_content_length);
}

TEST(call_id, words) {
  EXPECT_EQ(sip::parse_call_id("843817637684230@998sdasdh09").value_or(""), "843817637684230@998sdasdh09");
  EXPECT_TRUE(sip::parse_call_id("a84b4c76e66710").ok());
  EXPECT_TRUE(sip::parse_call_id("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{").ok());  // RFC 4475 intmeth
  for (std::string_view bad : {"", "@host", "word@", "a@b@c", "a b", "a\tb", "a;b", "a,b", "a=b", "ä"}) {
    const auto r = sip::parse_call_id(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error(), sip::errc::bad_call_id) << bad;
  }
}

// ================================================================== Retry-After

TEST(retry_after, comment_and_duration) {
  const auto r = sip::parse_retry_after("120 (I'm in a meeting);duration=60");
  ASSERT_TRUE(r.ok()) << sip::to_string(r.error());
  EXPECT_EQ(r->seconds, 120U);
  EXPECT_EQ(r->comment, "I'm in a meeting");
  ASSERT_TRUE(r->duration.has_value());
  EXPECT_EQ(*r->duration, 60U);
  EXPECT_EQ(r->params, "duration=60");
}

TEST(retry_after, variants) {
  const auto plain = sip::parse_retry_after("18000");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->seconds, 18000U);
  EXPECT_TRUE(plain->comment.empty());
  EXPECT_FALSE(plain->duration.has_value());
  const auto nested = sip::parse_retry_after("5 (out (to) lunch \\) ok) ; duration = 10 ; x=y");
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->comment, "out (to) lunch \\) ok");
  EXPECT_EQ(nested->duration.value_or(0), 10U);
  const auto params_only = sip::parse_retry_after("60;foo=bar");
  ASSERT_TRUE(params_only.ok());
  EXPECT_FALSE(params_only->duration.has_value());
  EXPECT_EQ(sip::parse_retry_after("949302838503028349304023988").error(), sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_retry_after("10;duration=4294967296").error(), sip::errc::integer_overflow);
  for (std::string_view bad : {"", "soon", "10 (unclosed", "10 junk", "10;", "10;duration", "10 (a) (b)"}) {
    EXPECT_FALSE(sip::parse_retry_after(bad).ok()) << bad;
  }
}

// ================================================================== Date

TEST(date, rfc1123_gmt_only) {
  EXPECT_EQ(sip::check_date("Sat, 13 Nov 2010 23:29:00 GMT"), sip::errc::ok);
  EXPECT_EQ(sip::check_date("Sat, 15 Oct 2005 04:44:56 GMT"), sip::errc::ok);
  EXPECT_EQ(sip::check_date("  Thu, 21 Feb 2002 13:02:03 GMT "), sip::errc::ok);
  for (std::string_view bad : {
           "Fri, 01 Jan 2010 16:00:00 EST",  // RFC 4475 baddate
           "Fri, 01 Jan 2010 16:00:00 UTC",
           "Fri, 01 Jan 2010 16:00:00 +0000",
           "Fri, 1 Jan 2010 16:00:00 GMT",
           "Fri 01 Jan 2010 16:00:00 GMT",
           "Fry, 01 Jan 2010 16:00:00 GMT",
           "Fri, 01 Jab 2010 16:00:00 GMT",
           "Fri, 01 Jan 10 16:00:00 GMT",
           "Fri, 01 Jan 2010 16-00-00 GMT",
           "Fri, 01 Jan 2010 16:00 GMT",
           "Friday, 01-Jan-10 16:00:00 GMT",
           "",
       }) {
    EXPECT_EQ(sip::check_date(bad), sip::errc::bad_date) << bad;
  }
}

// ================================================================== token lists

TEST(token_list, option_tags) {
  EXPECT_EQ(sip::check_token_list("100rel"), sip::errc::ok);
  EXPECT_EQ(sip::check_token_list("100rel, timer,path , gruu"), sip::errc::ok);
  EXPECT_EQ(sip::check_token_list("noProxiesSupportThis, norDoAnyProxiesSupportThis"), sip::errc::ok);
  for (std::string_view bad : {"a,,b", "a,", ",a", "a b", "a;b", "\"a\"", "a, <b>"}) {
    EXPECT_EQ(sip::check_token_list(bad), sip::errc::bad_value) << bad;
  }
}

// ================================================================== auth

TEST(auth, digest_challenge_with_quoted_commas) {
  const auto a = sip::parse_auth(
      R"(Digest realm="atlanta.example.com", qop="auth,auth-int", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", )"
      R"(opaque="", stale=FALSE, algorithm=MD5)");
  ASSERT_TRUE(a.ok()) << sip::to_string(a.error());
  EXPECT_TRUE(a->is_digest());
  EXPECT_EQ(a->scheme, "Digest");
  ASSERT_EQ(a->params.size(), 6U);
  EXPECT_EQ(a->find("realm").value_or(""), "atlanta.example.com");
  EXPECT_EQ(a->find("QOP").value_or(""), "auth,auth-int");
  EXPECT_TRUE(a->params[1].quoted);
  EXPECT_EQ(a->find("opaque").value_or("x"), "");
  EXPECT_EQ(a->find("stale").value_or(""), "FALSE");
  EXPECT_FALSE(a->params[4].quoted);
  EXPECT_EQ(a->find("algorithm").value_or(""), "MD5");
  EXPECT_FALSE(a->find("domain").has_value());
  EXPECT_TRUE(a->opaque.empty());
}

TEST(auth, digest_credentials) {
  const auto a = sip::parse_auth(
      "digest username=\"bob\" ,realm=\"biloxi.com\",nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
      " uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
      "response=\"6629fae49393a05397450978507c4ef1\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  ASSERT_TRUE(a.ok()) << sip::to_string(a.error());
  EXPECT_TRUE(a->is_digest());  // scheme is case-insensitive
  EXPECT_EQ(a->params.size(), 9U);
  EXPECT_EQ(a->find("username").value_or(""), "bob");
  EXPECT_EQ(a->find("uri").value_or(""), "sip:bob@biloxi.com");
  EXPECT_EQ(a->find("qop").value_or(""), "auth");
  EXPECT_EQ(a->find("nc").value_or(""), "00000001");
  // Escapes inside quoted values are kept as written.
  const auto esc = sip::parse_auth(R"(Digest username="a\"b", realm="r")");
  ASSERT_TRUE(esc.ok());
  EXPECT_EQ(esc->find("username").value_or(""), R"(a\"b)");
}

TEST(auth, unknown_scheme_is_kept_opaque) {
  const auto basic = sip::parse_auth("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  ASSERT_TRUE(basic.ok());
  EXPECT_FALSE(basic->is_digest());
  EXPECT_EQ(basic->scheme, "Basic");
  EXPECT_TRUE(basic->params.empty());
  EXPECT_EQ(basic->opaque, "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  const auto odd = sip::parse_auth("NoOneKnowsThisScheme opaque-data=here");  // RFC 4475 regaut01
  ASSERT_TRUE(odd.ok());
  EXPECT_FALSE(odd->is_digest());
  EXPECT_EQ(odd->scheme, "NoOneKnowsThisScheme");
  const auto scheme_only = sip::parse_auth("Digest");
  ASSERT_TRUE(scheme_only.ok());
  EXPECT_TRUE(scheme_only->params.empty());
}

TEST(auth, errors) {
  EXPECT_EQ(sip::parse_auth("").error(), sip::errc::bad_auth);
  EXPECT_EQ(sip::parse_auth("\"Digest\" realm=x").error(), sip::errc::bad_auth);
  EXPECT_EQ(sip::parse_auth("Digest realm").error(), sip::errc::bad_auth);
  EXPECT_EQ(sip::parse_auth("Digest realm=").error(), sip::errc::bad_auth);
  EXPECT_EQ(sip::parse_auth("Digest realm=\"a\",").error(), sip::errc::bad_auth);
  EXPECT_EQ(sip::parse_auth("Digest realm=\"a\" nonce=\"b\"").error(), sip::errc::bad_auth);
  EXPECT_EQ(sip::parse_auth("Digest realm=\"a, nonce=b").error(), sip::errc::unterminated_quote);
  std::string many = "Digest p0=v";
  for (int i = 1; i <= 16; ++i) many += ", p" + std::to_string(i) + "=v";
  EXPECT_EQ(sip::parse_auth(many).error(), sip::errc::too_many_entries);
}

// ================================================================== generic params

TEST(param_iterator, walks_names_and_values) {
  sip::param_iterator it(R"(tag=abc; lr ;maddr = 192.0.2.1;x="a;b,c";received=[2001:db8::1])");
  std::string_view n;
  std::string_view v;
  std::vector<std::pair<std::string, std::string>> got;
  while (it.next(n, v)) got.emplace_back(n, v);
  EXPECT_FALSE(it.failed());
  const std::vector<std::pair<std::string, std::string>> want = {
      {"tag", "abc"}, {"lr", ""}, {"maddr", "192.0.2.1"}, {"x", "\"a;b,c\""}, {"received", "[2001:db8::1]"}};
  EXPECT_EQ(got, want);
}

TEST(param_iterator, edge_cases) {
  std::string_view n;
  std::string_view v;
  {
    sip::param_iterator empty("");
    EXPECT_FALSE(empty.next(n, v));
    EXPECT_FALSE(empty.failed());
  }
  for (std::string_view bad :
       {";", "a;", "a; ", ";a", "a;;b", "=b", "a=", "a= ", "a=b c", "a=\"open", "a=b;=c", "a=<b>", "a b"}) {
    sip::param_iterator it(bad);
    while (it.next(n, v)) {
    }
    EXPECT_TRUE(it.failed()) << "[" << bad << "]";
    EXPECT_EQ(sip::check_params(bad), sip::errc::bad_value) << "[" << bad << "]";
  }
  // After a failure the iterator stays failed.
  sip::param_iterator it("a=1;;b=2");
  EXPECT_TRUE(it.next(n, v));
  EXPECT_FALSE(it.next(n, v));
  EXPECT_FALSE(it.next(n, v));
  EXPECT_TRUE(it.failed());
}

TEST(find_param, lookup) {
  constexpr std::string_view p = R"(tag=abc;LR;Expires=60;x="quoted;value";tag=second)";
  EXPECT_EQ(sip::find_param(p, "tag").value_or(""), "abc");  // first occurrence
  EXPECT_EQ(sip::find_param(p, "TAG").value_or(""), "abc");
  ASSERT_TRUE(sip::find_param(p, "lr").has_value());
  EXPECT_TRUE(sip::find_param(p, "lr")->empty());
  EXPECT_EQ(sip::find_param(p, "expires").value_or(""), "60");
  EXPECT_EQ(sip::find_param(p, "x").value_or(""), "quoted;value");  // quotes stripped
  EXPECT_FALSE(sip::find_param(p, "ta").has_value());
  EXPECT_FALSE(sip::find_param(p, "tags").has_value());
  EXPECT_FALSE(sip::find_param("", "tag").has_value());
  EXPECT_FALSE(sip::find_param(";;tag=1", "tag").has_value());  // unparseable before it
}

// ================================================================== list iteration

TEST(list_iterator, entries_across_lines) {
  const std::string s = request_with({"Supported: 100rel, timer", "Max-Forwards: 70", "k: path", "Supported: gruu"});
  sip::message m;
  ASSERT_EQ(m.parse(s), sip::errc::ok);
  bool failed = true;
  EXPECT_EQ(entries_of(m, sip::header_id::supported, &failed),
            (std::vector<std::string>{"100rel", "timer", "path", "gruu"}));
  EXPECT_FALSE(failed);
  EXPECT_TRUE(entries_of(m, sip::header_id::require, &failed).empty());
  EXPECT_FALSE(failed);
}

TEST(list_iterator, empty_entries_and_trailing_commas_fail) {
  for (std::string_view line : {"Require: a,,b", "Require: a,", "Require: ,a", "Require:", "Require: a, ,b",
                                "Require: \"unbalanced, a", "Require: <open, a"}) {
    const std::string s = request_with({std::string(line)});
    sip::message m;
    ASSERT_EQ(m.parse(s), sip::errc::ok) << line;
    bool failed = false;
    entries_of(m, sip::header_id::require, &failed);
    EXPECT_TRUE(failed) << line;
  }
}

// The splitter skips ordinary bytes 16 at a time; a separator, quote, bracket or
// backslash at any offset from a block boundary must be seen exactly where it is.
// The expectation comes from a byte-at-a-time reference written here.
TEST(list_iterator, next_list_entry_finds_specials_at_every_offset) {
  auto reference = [](std::string_view s) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    int angle = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (quoted && c == '\\' && i + 1 < s.size()) {
        cur += c;
        cur += s[++i];
        continue;
      }
      if (c == '"') quoted = !quoted;
      if (!quoted && c == '<') ++angle;
      if (!quoted && c == '>') --angle;
      if (!quoted && angle == 0 && c == ',') {
        out.push_back(cur);
        cur.clear();
        continue;
      }
      cur += c;
    }
    out.push_back(cur);
    return out;
  };
  for (std::size_t len = 1; len <= 140; ++len) {  // past two 64-byte mask blocks
    for (std::size_t pos = 0; pos < len; ++pos) {
      for (std::string_view ins : {",", "\",x\"", "<,>", "\"a\\\"b,\""}) {
        std::string v(len, 'x');
        v.insert(pos, ins);
        v += ",tail";
        std::string_view rest = v;
        std::string_view e;
        bool failed = false;
        std::vector<std::string> got;
        while (sip::next_list_entry(rest, e, failed)) got.emplace_back(e);
        ASSERT_FALSE(failed) << v;
        ASSERT_EQ(got, reference(v)) << v;
      }
    }
  }
}

TEST(list_iterator, next_list_entry_respects_quotes_and_angles) {
  std::string_view rest = R"("a,b" <sip:x@y.z;p=1,2>, plain , "q\",x")";
  std::string_view e;
  bool failed = false;
  std::vector<std::string_view> got;
  while (sip::next_list_entry(rest, e, failed)) got.push_back(e);
  EXPECT_FALSE(failed);
  EXPECT_EQ(got, (std::vector<std::string_view>{R"("a,b" <sip:x@y.z;p=1,2>)", "plain", R"("q\",x")"}));
}

// ================================================================== message index

TEST(message_index, header_names_case_insensitive) {
  const std::string s = request_with({"cAlL-iD: abc", "CONTENT-LENGTH: 0", "max-forwards: 70", "X-Custom: 1"});
  sip::message m;
  ASSERT_EQ(m.parse(s), sip::errc::ok);
  EXPECT_EQ(m.value_of(sip::header_id::call_id), "abc");
  EXPECT_EQ(m.value_of(sip::header_id::max_forwards), "70");
  EXPECT_EQ(m.count(sip::header_id::content_length), 1U);
  ASSERT_NE(m.find("x-CUSTOM"), nullptr);
  EXPECT_EQ(m.value(*m.find("x-custom")), "1");
  EXPECT_EQ(m.find("x-custom")->id, sip::header_id::other);
  EXPECT_EQ(m.find("X-Missing"), nullptr);
  EXPECT_EQ(m.find("Call-Id"), m.find(sip::header_id::call_id));
  EXPECT_EQ(m.name(*m.find(sip::header_id::call_id)), "cAlL-iD");
}

TEST(message_index, compact_forms) {
  struct tc {
    char c;
    sip::header_id id;
  };
  const tc table[] = {
      {'i', sip::header_id::call_id},
      {'m', sip::header_id::contact},
      {'v', sip::header_id::via},
      {'f', sip::header_id::from},
      {'t', sip::header_id::to},
      {'l', sip::header_id::content_length},
      {'k', sip::header_id::supported},
      {'e', sip::header_id::content_encoding},
      {'c', sip::header_id::content_type},
      {'s', sip::header_id::subject},
      {'o', sip::header_id::event},
      {'u', sip::header_id::allow_events},
      {'r', sip::header_id::refer_to},
      {'b', sip::header_id::referred_by},
      {'x', sip::header_id::session_expires},
      {'y', sip::header_id::identity},
      {'a', sip::header_id::accept_contact},
      {'j', sip::header_id::reject_contact},
      {'d', sip::header_id::request_disposition},
  };
  for (const tc& t : table) {
    EXPECT_EQ(sip::header_from_name(std::string(1, t.c)), t.id) << t.c;
    EXPECT_EQ(sip::header_from_name(std::string(1, static_cast<char>(t.c - 32))), t.id) << t.c;
    const std::string s = request_with({std::string(1, t.c) + ": 0"});  // "0" fits l (Content-Length) too
    sip::message m;
    ASSERT_EQ(m.parse(s), sip::errc::ok) << t.c;
    ASSERT_EQ(m.headers().size(), 1U);
    EXPECT_EQ(m.headers()[0].id, t.id) << t.c;
    EXPECT_EQ(m.count(t.id), 1U) << t.c;
    EXPECT_EQ(m.value_of(t.id), "0");
  }
  for (std::string_view none : {"g", "h", "n", "p", "q", "w", "z", "", "1", "-"}) {
    EXPECT_EQ(sip::header_from_name(none), sip::header_id::other) << none;
  }
}

TEST(message_index, long_names_round_trip) {
  for (std::size_t i = 1; i < sip::header_id_count; ++i) {
    const auto id = static_cast<sip::header_id>(i);
    const std::string_view name = sip::canonical_name(id);
    ASSERT_FALSE(name.empty()) << i;
    EXPECT_EQ(sip::header_from_name(name), id) << name;
    std::string lower(name);
    for (char& c : lower) c = sip::chars::lower(c);
    EXPECT_EQ(sip::header_from_name(lower), id) << lower;
  }
  EXPECT_EQ(sip::header_from_name("Vias"), sip::header_id::other);
  EXPECT_EQ(sip::header_from_name("Call-IDs"), sip::header_id::other);
  EXPECT_EQ(sip::header_from_name("C%6Fntact"), sip::header_id::other);
}

// The lookup hashes first/last letter and length, then compares whole words with
// a per-byte case fold. Every single-byte change of every known name must miss,
// except the case changes of letters: a fold bit on a non-letter ('-' vs CR, 0x0d)
// or a word read past the name would show up here.
TEST(message_index, every_one_byte_mutation_of_a_known_name_misses) {
  for (std::size_t i = 1; i < sip::header_id_count; ++i) {
    const auto id = static_cast<sip::header_id>(i);
    const std::string name(sip::canonical_name(id));
    for (std::size_t pos = 0; pos < name.size(); ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string m = name;
        m[pos] = static_cast<char>(b);
        const bool same_letter = sip::chars::lower(m[pos]) == sip::chars::lower(name[pos]);
        EXPECT_EQ(sip::header_from_name(m), same_letter ? id : sip::header_id::other)
            << name << " byte " << pos << " = " << b;
      }
    }
    // Truncated, extended and embedded in a longer buffer: only the exact span matches.
    const std::string padded = name + "Xyz";
    EXPECT_EQ(sip::header_from_name(std::string_view(padded).substr(0, name.size())), id) << name;
    EXPECT_EQ(sip::header_from_name(std::string_view(padded).substr(0, name.size() + 1)), sip::header_id::other);
    // ("To" cut to "T" is the compact form of To itself.)
    if (name.size() > 2) {
      EXPECT_EQ(sip::header_from_name(std::string_view(name).substr(0, name.size() - 1)), sip::header_id::other);
    }
  }
  EXPECT_EQ(sip::header_from_name(std::string(24, 'a')), sip::header_id::other);
  EXPECT_EQ(sip::header_from_name(std::string(300, 'a')), sip::header_id::other);
}

// A name the table does not know still needs the token check; one it knows is a
// token by construction. Both paths decide bad_header_line the same way.
TEST(message_index, unknown_names_are_checked_for_token_characters) {
  // The message view points into its datagram: each one must outlive the view's use.
  sip::message m;
  const std::string custom = request_with({"X-Custom.Tag~1: v"});
  EXPECT_EQ(m.parse(custom), sip::errc::ok);
  ASSERT_NE(m.find("x-custom.tag~1"), nullptr);
  EXPECT_EQ(m.find("x-custom.tag~1")->id, sip::header_id::other);
  const std::string space = request_with({"X Custom: v"});
  EXPECT_EQ(m.parse(space), sip::errc::bad_header_line);
  const std::string cr = request_with({"Call\rID: v"});
  EXPECT_EQ(m.parse(cr), sip::errc::bad_header_line);
  const std::string padded = request_with({"Call-ID : abc@h"});
  EXPECT_EQ(m.parse(padded), sip::errc::ok);
  EXPECT_EQ(m.value_of(sip::header_id::call_id), "abc@h");
}

TEST(message_index, folded_values) {
  const std::string s = request_with({"Subject: first part", "  second part", "\tthird part", "Max-Forwards: 70"});
  sip::message m;
  ASSERT_EQ(m.parse(s), sip::errc::ok);
  ASSERT_EQ(m.headers().size(), 2U);
  EXPECT_EQ(m.value_of(sip::header_id::subject), "first part\r\n  second part\r\n\tthird part");
  EXPECT_EQ(m.value_of(sip::header_id::max_forwards), "70");
  EXPECT_EQ(m.raw_line(m.headers()[0]), "Subject: first part\r\n  second part\r\n\tthird part\r\n");
  // LF-only line ends are accepted too.
  const std::string lf = "OPTIONS sip:a@b.c SIP/2.0\nSubject: x\n y\nMax-Forwards: 70\n\nbody";
  ASSERT_EQ(m.parse(lf), sip::errc::ok);
  EXPECT_EQ(m.value_of(sip::header_id::subject), "x\n y");
  EXPECT_EQ(m.body(), "body");
}

TEST(message_index, value_trimmed_and_empty_values) {
  const std::string s = request_with({"Subject:    padded   ", "Call-ID:x", "Organization:"});
  sip::message m;
  ASSERT_EQ(m.parse(s), sip::errc::ok);
  EXPECT_EQ(m.value_of(sip::header_id::subject), "padded");
  EXPECT_EQ(m.value_of(sip::header_id::call_id), "x");
  ASSERT_NE(m.find("organization"), nullptr);
  EXPECT_TRUE(m.value(*m.find("organization")).empty());
}

TEST(message_index, leading_crlfs_skipped) {
  const std::string body = request_with({"Max-Forwards: 70"});
  const std::string s = "\r\n\r\n\n" + body;
  sip::message m;
  ASSERT_EQ(m.parse(s), sip::errc::ok);
  EXPECT_EQ(m.leading_skipped(), 5U);
  EXPECT_EQ(m.start_line(), "OPTIONS sip:bob@example.com SIP/2.0");
  EXPECT_EQ(m.method(), sip::method::options);
  EXPECT_EQ(m.bytes(), body);
  EXPECT_EQ(m.data(), s.data() + 5);
}

TEST(message_index, keep_alive_and_empty) {
  sip::message m;
  EXPECT_EQ(m.parse("\r\n\r\n"), sip::errc::empty);
  EXPECT_EQ(m.parse_error(), sip::errc::empty);
  EXPECT_EQ(m.parse("\r\n"), sip::errc::empty);
  EXPECT_EQ(m.parse(""), sip::errc::empty);
  EXPECT_EQ(m.kind(), sip::start_kind::unknown);
  EXPECT_TRUE(m.headers().empty());
}

TEST(message_index, oversize_datagram) {
  std::string s = request_with({"Max-Forwards: 70"});
  s.resize(sip::message::max_datagram + 1, 'x');
  sip::message m;
  EXPECT_EQ(m.parse(s), sip::errc::too_large);
  // Exactly the limit is fine: the body runs to the datagram's end.
  s.resize(sip::message::max_datagram);
  ASSERT_EQ(m.parse(s), sip::errc::ok);
  EXPECT_EQ(m.bytes().size(), sip::message::max_datagram);
}

TEST(message_index, too_many_headers) {
  std::vector<std::string> hs;
  hs.reserve(sip::message::max_headers + 4);
  for (std::size_t i = 0; i < sip::message::max_headers; ++i) hs.push_back("X-H" + std::to_string(i) + ": v");
  {
    const std::string s = request_with(hs);
    sip::message m;
    EXPECT_EQ(m.parse(s), sip::errc::ok);
    EXPECT_EQ(m.headers().size(), sip::message::max_headers);
  }
  hs.push_back("Call-ID: one-too-many");
  const std::string s = request_with(hs);
  sip::message m;
  EXPECT_EQ(m.parse(s), sip::errc::too_many_headers);
  EXPECT_EQ(m.headers().size(), sip::message::max_headers);
  EXPECT_EQ(m.count(sip::header_id::call_id), 0U);
  EXPECT_EQ(sip::validate(m).broken, sip::rule::malformed_framing);
  EXPECT_EQ(sip::validate(m).detail, sip::errc::too_many_headers);
}

TEST(message_index, bad_header_lines_keep_indexing) {
  const std::string s =
      request_with({"Via: SIP/2.0/UDP a;branch=z9hG4bK1", "this line has no colon", "Bad Name: x", "Call-ID: after"});
  sip::message m;
  EXPECT_EQ(m.parse(s), sip::errc::bad_header_line);
  EXPECT_EQ(m.count(sip::header_id::via), 1U);
  EXPECT_EQ(m.value_of(sip::header_id::call_id), "after");
  EXPECT_EQ(m.headers().size(), 2U);
}

TEST(message_index, framing_errors) {
  sip::message m;
  EXPECT_EQ(m.parse("OPTIONS sip:a@b.c SIP/2.0\r\nCall-ID: x"), sip::errc::no_header_end);
  EXPECT_EQ(m.parse("OPTIONS sip:a@b.c SIP/2.0"), sip::errc::no_header_end);
  // A datagram that ends after a complete header line has no body.
  ASSERT_EQ(m.parse("OPTIONS sip:a@b.c SIP/2.0\r\nCall-ID: x\r\n"), sip::errc::ok);
  EXPECT_EQ(m.value_of(sip::header_id::call_id), "x");
  EXPECT_TRUE(m.body().empty());
  // Body without Content-Length runs to the end of the datagram (RFC 3261 §18.3).
  ASSERT_EQ(m.parse("OPTIONS sip:a@b.c SIP/2.0\r\nCall-ID: x\r\n\r\nhello"), sip::errc::ok);
  EXPECT_EQ(m.body(), "hello");
  // Content-Length shorter than the rest: the rest is not part of the message.
  ASSERT_EQ(m.parse("OPTIONS sip:a@b.c SIP/2.0\r\nl: 3\r\n\r\nhello"), sip::errc::ok);
  EXPECT_EQ(m.body(), "hel");
  EXPECT_EQ(m.parse("OPTIONS sip:a@b.c SIP/2.0\r\nl: 6\r\n\r\nhello"), sip::errc::content_length_exceeds);
  EXPECT_EQ(m.parse("OPTIONS sip:a@b.c SIP/2.0\r\nl: x\r\n\r\nhello"), sip::errc::bad_content_length);
  EXPECT_EQ(m.parse("OPTIONS sip:a@b.c SIP/2.0\r\nl: 70000\r\n\r\nhello"), sip::errc::bad_content_length);
}

TEST(message_index, start_lines) {
  sip::message m;
  ASSERT_EQ(m.parse("SIP/2.0 180 Ringing\r\n\r\n"), sip::errc::ok);
  EXPECT_TRUE(m.is_response());
  EXPECT_EQ(m.status_code(), 180);
  EXPECT_EQ(m.reason(), "Ringing");
  ASSERT_EQ(m.parse("sip/2.0 200 OK\r\n\r\n"), sip::errc::ok);  // ABNF literals are case-insensitive
  EXPECT_EQ(m.status_code(), 200);
  EXPECT_EQ(m.parse("SIP/2.0 099 Low\r\n\r\n"), sip::errc::bad_status_code);
  EXPECT_EQ(m.parse("SIP/2.0 700 High\r\n\r\n"), sip::errc::bad_status_code);
  EXPECT_EQ(m.parse("SIP/2.0 20 Short\r\n\r\n"), sip::errc::bad_status_code);
  EXPECT_EQ(m.parse("SIP/2.0 4294967301 big\r\n\r\n"), sip::errc::bad_status_code);
  EXPECT_EQ(m.parse("SIP/2.0 200 O\x01K\r\n\r\n"), sip::errc::bad_reason);
  EXPECT_EQ(m.parse("SIP/3.0 200 OK\r\n\r\n"), sip::errc::bad_version);
  EXPECT_EQ(m.parse("OPTIONS sip:a@b.c SIP/7.0\r\n\r\n"), sip::errc::bad_version);
  EXPECT_EQ(m.parse("OPTIONS sip:a@b.c SIP/2\r\n\r\n"), sip::errc::bad_start_line);
  EXPECT_EQ(m.parse("OPTIONS sip:a@b.c HTTP/1.1\r\n\r\n"), sip::errc::bad_start_line);
  EXPECT_EQ(m.parse("OPTIONS sip:a@b.c\r\n\r\n"), sip::errc::bad_start_line);
  EXPECT_EQ(m.parse("OPT(IONS sip:a@b.c SIP/2.0\r\n\r\n"), sip::errc::bad_method);
  EXPECT_EQ(m.parse("OPTIONS a@b.c SIP/2.0\r\n\r\n"), sip::errc::bad_request_uri);
  EXPECT_EQ(m.parse("OPTIONS <sip:a@b.c> SIP/2.0\r\n\r\n"), sip::errc::bad_request_uri);
  ASSERT_EQ(m.parse("REGISTER sip:b.c SIP/2.0\r\n\r\n"), sip::errc::ok);
  EXPECT_EQ(m.method(), sip::method::register_);
  ASSERT_EQ(m.parse("register sip:b.c SIP/2.0\r\n\r\n"), sip::errc::ok);
  EXPECT_EQ(m.method(), sip::method::extension);  // case-sensitive
}

TEST(message_index, reparse_resets_state) {
  sip::message m;
  const std::string a = request_with({"Call-ID: a", "Via: SIP/2.0/UDP h", "Via: SIP/2.0/UDP g"});
  ASSERT_EQ(m.parse(a), sip::errc::ok);
  EXPECT_EQ(m.count(sip::header_id::via), 2U);
  const std::string b = "SIP/2.0 200 OK\r\nTo: <sip:x@y.z>\r\n\r\n";
  ASSERT_EQ(m.parse(b), sip::errc::ok);
  EXPECT_EQ(m.count(sip::header_id::via), 0U);
  EXPECT_EQ(m.find(sip::header_id::call_id), nullptr);
  EXPECT_TRUE(m.is_response());
  EXPECT_EQ(m.headers().size(), 1U);
}

}  // namespace
