// Message validation: one test per rule, the answer each rule maps to, and
// whether a broken request can still be answered.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sipfront/sipparse/sipparse.hpp"

namespace sip = sipfront::sip;
using namespace std::string_view_literals;

namespace {

// A message as text, edited line by line before it is parsed.
struct msg_text {
  std::string start = "INVITE sip:bob@biloxi.example.com SIP/2.0";
  std::vector<std::string> headers = {
      "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
      "Max-Forwards: 70",
      "To: Bob <sip:bob@biloxi.example.com>",
      "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
      "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
      "CSeq: 314159 INVITE",
      "Contact: <sip:alice@pc33.atlanta.example.com>",
      "Content-Length: 0",
  };

  static msg_text response() {
    msg_text t;
    t.start = "SIP/2.0 200 OK";
    t.without("Max-Forwards");
    return t;
  }
  // Removes every line whose name (before ':') is `name`, case-insensitively.
  msg_text& without(std::string_view name) {
    std::erase_if(headers, [&](const std::string& h) {
      const auto colon = h.find(':');
      return sip::chars::iequals(sip::trim_lws(std::string_view(h).substr(0, colon)), name);
    });
    return *this;
  }
  // Puts `line` in place of the first line with the same name (or appends it).
  msg_text& set(const std::string& line) {
    const std::string_view name = sip::trim_lws(std::string_view(line).substr(0, line.find(':')));
    for (auto& h : headers) {
      if (sip::chars::iequals(sip::trim_lws(std::string_view(h).substr(0, h.find(':'))), name)) {
        h = line;
        return *this;
      }
    }
    return add(line);
  }
  // Adds `line` before Content-Length.
  msg_text& add(const std::string& line) {
    headers.insert(headers.end() - 1, line);
    return *this;
  }
  msg_text& request_line(std::string s) {
    start = std::move(s);
    return *this;
  }
  [[nodiscard]] std::string str() const {
    std::string s = start + "\r\n";
    for (const auto& h : headers) s += h + "\r\n";
    return s + "\r\n";
  }
};

// Parses and validates; keeps the text alive for the views in the verdict.
class checked {
 public:
  explicit checked(const msg_text& t, const sip::validation_policy& p = {}) : text_(t.str()) {
    parse_error_ = msg_.parse(text_);
    verdict_ = sip::validate(msg_, p);
  }
  checked(const checked&) = delete;
  checked& operator=(const checked&) = delete;

  [[nodiscard]] const sip::message& msg() const { return msg_; }
  [[nodiscard]] const sip::verdict& v() const { return verdict_; }
  [[nodiscard]] sip::errc parse_error() const { return parse_error_; }
  [[nodiscard]] std::uint16_t code() const { return verdict_.status_code(msg_.kind()); }

 private:
  std::string text_;
  sip::message msg_;
  sip::verdict verdict_;
  sip::errc parse_error_ = sip::errc::ok;
};

// "rule/header/detail [culprit]" for failure messages.
std::string describe(const sip::verdict& v) {
  return std::string(sip::to_string(v.broken)) + "/" + std::string(sip::canonical_name(v.header)) + "/" +
         std::string(sip::to_string(v.detail)) + " [" + std::string(v.culprit) + "]";
}

// ================================================================== baseline

TEST(validate, well_formed_request_passes) {
  const checked c(msg_text{});
  ASSERT_EQ(c.parse_error(), sip::errc::ok);
  EXPECT_TRUE(c.v().ok()) << describe(c.v());
  EXPECT_EQ(c.v().broken, sip::rule::ok);
  EXPECT_EQ(c.code(), 0);
  EXPECT_TRUE(sip::can_answer(c.msg()));
}

TEST(validate, well_formed_response_passes_without_max_forwards) {
  const checked c(msg_text::response());
  ASSERT_TRUE(c.msg().is_response());
  EXPECT_TRUE(c.v().ok()) << describe(c.v());
  EXPECT_EQ(c.code(), 0);
  EXPECT_FALSE(sip::can_answer(c.msg()));  // responses are never answered
}

TEST(validate, rich_request_passes_and_every_accessor_reads_it) {
  msg_text t;
  t.request_line("REGISTER sip:registrar.biloxi.example.com SIP/2.0").set("CSeq: 1826 REGISTER");
  t.set("Contact: \"Alice, A.\" <sip:alice@192.0.2.4>;expires=3600;q=0.7, <sip:alice@[2001:db8::4]:5070>");
  t.add("Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>");
  t.add("Record-Route: <sip:rr.example.com;lr>");
  t.add("Path: <sip:path.example.com;lr>");
  t.add("Service-Route: <sip:sr.example.com;lr>");
  t.add("Expires: 7200");
  t.add("Min-Expires: 60");
  t.add("Date: Sat, 13 Nov 2010 23:29:00 GMT");
  t.add("Retry-After: 120 (I'm in a meeting);duration=60");
  t.add("Supported: path, outbound, gruu");
  t.add("Require: path");
  t.add(
      "Authorization: Digest username=\"alice\", realm=\"biloxi.example.com\", nonce=\"x\", uri=\"sip:b\", "
      "response=\"00\"");
  t.add("Refer-To: <sip:carol@chicago.example.com>");
  t.add("User-Agent: softphone/1.0 (test)");
  t.add("X-Unknown: ;;,,whatever");
  const checked c(t);
  ASSERT_EQ(c.parse_error(), sip::errc::ok);
  EXPECT_TRUE(c.v().ok()) << describe(c.v());
  sip::name_addr_list<4> contacts;
  EXPECT_EQ(sip::parse_name_addrs(c.msg(), sip::header_id::contact, contacts, true), sip::errc::ok);
  EXPECT_EQ(contacts.size(), 2U);
  EXPECT_TRUE(sip::parse_auth(c.msg().value_of(sip::header_id::authorization)).ok());
  EXPECT_TRUE(sip::parse_retry_after(c.msg().value_of(sip::header_id::retry_after)).ok());
}

// ================================================================== framing and version

TEST(validate, malformed_framing_from_parse_errors) {
  struct tc {
    msg_text t;
    sip::errc detail;
  };
  std::vector<tc> cases;
  cases.push_back({msg_text{}.add("this line has no colon"), sip::errc::bad_header_line});
  cases.push_back({msg_text{}.set("Content-Length: abc"), sip::errc::bad_content_length});
  cases.push_back({msg_text{}.set("Content-Length: 10"), sip::errc::content_length_exceeds});
  cases.push_back({msg_text{}.request_line("INVITE  sip:bob@biloxi.example.com SIP/2.0"), sip::errc::bad_start_line});
  cases.push_back({msg_text{}.request_line("INVITE <sip:bob@biloxi.example.com> SIP/2.0"), sip::errc::bad_request_uri});
  cases.push_back({msg_text{}.request_line("INV\"ITE sip:bob@biloxi.example.com SIP/2.0"), sip::errc::bad_method});
  for (const tc& x : cases) {
    const checked c(x.t);
    EXPECT_EQ(c.parse_error(), x.detail);
    EXPECT_EQ(c.v().broken, sip::rule::malformed_framing) << describe(c.v());
    EXPECT_EQ(c.v().detail, x.detail) << describe(c.v());
    EXPECT_EQ(c.code(), 400);
    EXPECT_TRUE(sip::can_answer(c.msg())) << "headers were still indexed: " << sip::to_string(x.detail);
  }
}

TEST(validate, unparsed_datagram_is_malformed) {
  sip::message m;
  ASSERT_EQ(m.parse("\r\n\r\n"), sip::errc::empty);
  const auto v = sip::validate(m);
  EXPECT_EQ(v.broken, sip::rule::malformed_framing);
  EXPECT_EQ(v.detail, sip::errc::empty);
  EXPECT_EQ(v.status_code(m.kind()), 0);  // nothing to answer
  EXPECT_FALSE(sip::can_answer(m));
}

TEST(validate, unsupported_version_is_505) {
  const checked c(msg_text{}.request_line("INVITE sip:bob@biloxi.example.com SIP/3.0"));
  EXPECT_EQ(c.v().broken, sip::rule::unsupported_version) << describe(c.v());
  EXPECT_EQ(c.v().detail, sip::errc::bad_version);
  EXPECT_EQ(c.code(), 505);
  EXPECT_TRUE(sip::can_answer(c.msg()));
  msg_text r = msg_text::response();
  r.start = "SIP/3.0 200 OK";
  const checked resp(r);
  EXPECT_EQ(resp.v().broken, sip::rule::unsupported_version);
  EXPECT_EQ(resp.code(), 0);
}

// ================================================================== mandatory headers

struct missing_case {
  std::string_view name;
  sip::header_id id;
};
void PrintTo(const missing_case& m, std::ostream* os) { *os << m.name; }

class missing_header : public ::testing::TestWithParam<missing_case> {};

TEST_P(missing_header, request_gets_400) {
  const checked c(msg_text{}.without(GetParam().name));
  ASSERT_EQ(c.parse_error(), sip::errc::ok);
  EXPECT_EQ(c.v().broken, sip::rule::missing_header) << describe(c.v());
  EXPECT_EQ(c.v().header, GetParam().id) << describe(c.v());
  EXPECT_EQ(c.code(), 400);
}

TEST_P(missing_header, response_is_dropped_except_max_forwards) {
  const checked c(msg_text::response().without(GetParam().name));
  if (GetParam().id == sip::header_id::max_forwards) {
    EXPECT_TRUE(c.v().ok()) << describe(c.v());
    return;
  }
  EXPECT_EQ(c.v().broken, sip::rule::missing_header) << describe(c.v());
  EXPECT_EQ(c.v().header, GetParam().id);
  EXPECT_EQ(c.code(), 0);
}

INSTANTIATE_TEST_SUITE_P(mandatory, missing_header,
                         ::testing::Values(missing_case{"To", sip::header_id::to},
                                           missing_case{"From", sip::header_id::from},
                                           missing_case{"Call-ID", sip::header_id::call_id},
                                           missing_case{"CSeq", sip::header_id::cseq},
                                           missing_case{"Via", sip::header_id::via},
                                           missing_case{"Max-Forwards", sip::header_id::max_forwards}),
                         [](const auto& p) {
                           std::string n(p.param.name);
                           std::erase(n, '-');
                           return n;
                         });

TEST(validate, compact_forms_satisfy_mandatory_headers) {
  msg_text t;
  t.without("To").without("From").without("Call-ID").without("Via");
  t.add("t: <sip:bob@biloxi.example.com>");
  t.add("f: <sip:alice@atlanta.example.com>;tag=1");
  t.add("i: compact@example.com");
  t.add("v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK1");
  const checked c(t);
  EXPECT_TRUE(c.v().ok()) << describe(c.v());
}

TEST(validate, max_forwards_optional_by_policy) {
  sip::validation_policy p;
  p.require_max_forwards = false;
  const checked c(msg_text{}.without("Max-Forwards"), p);
  EXPECT_TRUE(c.v().ok()) << describe(c.v());
}

// ================================================================== repeated single-value headers

struct repeated_case {
  std::string line;
  sip::header_id id;
};
void PrintTo(const repeated_case& r, std::ostream* os) { *os << r.line; }

class repeated_header : public ::testing::TestWithParam<repeated_case> {};

TEST_P(repeated_header, gets_400) {
  msg_text t;
  t.add(GetParam().line).add(GetParam().line);
  const checked c(t);
  EXPECT_EQ(c.v().broken, sip::rule::repeated_header) << describe(c.v());
  EXPECT_EQ(c.v().header, GetParam().id) << describe(c.v());
  EXPECT_EQ(c.code(), 400);
  EXPECT_TRUE(sip::is_single_header(GetParam().id));
  EXPECT_TRUE(sip::can_answer(c.msg()));
}

INSTANTIATE_TEST_SUITE_P(single_value, repeated_header,
                         ::testing::Values(repeated_case{"To: <sip:carol@chicago.example.com>", sip::header_id::to},
                                           repeated_case{"From: <sip:carol@chicago.example.com>;tag=9",
                                                         sip::header_id::from},
                                           repeated_case{"i: other@example.com", sip::header_id::call_id},
                                           repeated_case{"CSeq: 1 INVITE", sip::header_id::cseq},
                                           repeated_case{"Max-Forwards: 5", sip::header_id::max_forwards},
                                           repeated_case{"l: 0", sip::header_id::content_length},
                                           repeated_case{"Content-Type: application/sdp", sip::header_id::content_type},
                                           repeated_case{"Expires: 60", sip::header_id::expires},
                                           repeated_case{"Date: Sat, 13 Nov 2010 23:29:00 GMT", sip::header_id::date}));

TEST(validate, list_headers_may_repeat) {
  msg_text t;
  t.add("Contact: <sip:a@192.0.2.1>").add("Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bK2");
  t.add("Supported: path")
      .add("Supported: gruu")
      .add("Route: <sip:p1.example.com;lr>")
      .add("Route: <sip:p2.example.com;lr>");
  const checked c(t);
  EXPECT_TRUE(c.v().ok()) << describe(c.v());
}

// ================================================================== malformed known headers

struct malformed_case {
  std::string line;  // replaces the line of the same name, or is added
  sip::header_id id;
  sip::errc detail;
};
void PrintTo(const malformed_case& m, std::ostream* os) { *os << m.line; }

class malformed_header : public ::testing::TestWithParam<malformed_case> {};

TEST_P(malformed_header, gets_400_naming_the_header) {
  const checked c(msg_text{}.set(GetParam().line));
  ASSERT_EQ(c.parse_error(), sip::errc::ok);
  EXPECT_EQ(c.v().broken, sip::rule::malformed_header) << describe(c.v());
  EXPECT_EQ(c.v().header, GetParam().id) << describe(c.v());
  EXPECT_EQ(c.v().detail, GetParam().detail) << describe(c.v());
  EXPECT_EQ(c.code(), 400);
  EXPECT_FALSE(c.v().reason().empty());
}

TEST_P(malformed_header, response_is_dropped) {
  const checked c(msg_text::response().set(GetParam().line));
  EXPECT_EQ(c.v().broken, sip::rule::malformed_header) << describe(c.v());
  EXPECT_EQ(c.code(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    each_known_header, malformed_header,
    ::testing::Values(
        malformed_case{"Via: SIP/2.0/UDP", sip::header_id::via, sip::errc::bad_via},
        malformed_case{"Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,", sip::header_id::via, sip::errc::bad_via},
        malformed_case{"Contact: <sip:alice@pc33.atlanta.example.com>;expires=abc", sip::header_id::contact,
                       sip::errc::bad_integer},
        malformed_case{"Contact: <sip:alice@pc33.atlanta.example.com>;expires=4294967296", sip::header_id::contact,
                       sip::errc::integer_overflow},
        malformed_case{"Contact: <sip:alice@pc33.atlanta.example.com>;q=2", sip::header_id::contact,
                       sip::errc::bad_value},
        malformed_case{"Contact: sip:alice@pc33.atlanta.example.com?Route=x", sip::header_id::contact,
                       sip::errc::bad_name_addr},
        malformed_case{"Contact: <sip:a@b.example>, <sip:c@d.example", sip::header_id::contact,
                       sip::errc::bad_name_addr},
        malformed_case{"Route: <notauri>", sip::header_id::route, sip::errc::bad_uri},
        malformed_case{"Record-Route: <sip:rr.example.com;lr>;", sip::header_id::record_route, sip::errc::bad_value},
        malformed_case{"Path: sip:a b", sip::header_id::path, sip::errc::bad_name_addr},
        malformed_case{"Service-Route: <>", sip::header_id::service_route, sip::errc::bad_name_addr},
        malformed_case{"Call-ID: a b", sip::header_id::call_id, sip::errc::bad_call_id},
        malformed_case{"CSeq: x INVITE", sip::header_id::cseq, sip::errc::bad_cseq},
        malformed_case{"CSeq: 2147483648 INVITE", sip::header_id::cseq, sip::errc::integer_overflow},
        malformed_case{"Max-Forwards: 256", sip::header_id::max_forwards, sip::errc::integer_overflow},
        malformed_case{"Max-Forwards: ten", sip::header_id::max_forwards, sip::errc::bad_integer},
        malformed_case{"Expires: -1", sip::header_id::expires, sip::errc::bad_integer},
        malformed_case{"Expires: 4294967296", sip::header_id::expires, sip::errc::integer_overflow},
        malformed_case{"Min-Expires: soon", sip::header_id::min_expires, sip::errc::bad_integer},
        malformed_case{"Retry-After: 10 (unclosed", sip::header_id::retry_after, sip::errc::bad_value},
        malformed_case{"Date: Fri, 01 Jan 2010 16:00:00 EST", sip::header_id::date, sip::errc::bad_date},
        malformed_case{"From: <sip:alice@atlanta.example.com;tag=1", sip::header_id::from, sip::errc::bad_name_addr},
        malformed_case{"From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43", sip::header_id::from,
                       sip::errc::bad_uri},
        malformed_case{"To: \"Bob <sip:bob@biloxi.example.com>", sip::header_id::to, sip::errc::unterminated_quote},
        malformed_case{"To: < sip:bob@biloxi.example.com >", sip::header_id::to, sip::errc::bad_uri},
        malformed_case{"Refer-To: <>", sip::header_id::refer_to, sip::errc::bad_name_addr},
        malformed_case{"Referred-By: sip:x@y.example;", sip::header_id::referred_by, sip::errc::bad_value},
        malformed_case{"Authorization: Digest realm", sip::header_id::authorization, sip::errc::bad_auth},
        malformed_case{"Proxy-Authorization: Digest nonce=\"x", sip::header_id::proxy_authorization,
                       sip::errc::unterminated_quote},
        malformed_case{"WWW-Authenticate: Digest realm=\"a\" nonce=\"b\"", sip::header_id::www_authenticate,
                       sip::errc::bad_auth},
        malformed_case{"Proxy-Authenticate: \"Digest\"", sip::header_id::proxy_authenticate, sip::errc::bad_auth},
        malformed_case{"Supported: path gruu", sip::header_id::supported, sip::errc::bad_value},
        malformed_case{"Require: a,,b", sip::header_id::require, sip::errc::bad_value},
        malformed_case{"Proxy-Require: foo,", sip::header_id::proxy_require, sip::errc::bad_value},
        malformed_case{"Unsupported: \"x\"", sip::header_id::unsupported, sip::errc::bad_value}));

TEST(validate, malformed_value_names_the_culprit) {
  const checked c(msg_text{}.set("Max-Forwards: 256"));
  EXPECT_EQ(c.v().culprit, "256");
  const checked d(msg_text{}.add("Date: yesterday"));
  EXPECT_EQ(d.v().header, sip::header_id::date);
  EXPECT_EQ(d.v().culprit, "yesterday");
}

TEST(validate, empty_supported_is_allowed) {
  const checked c(msg_text{}.add("Supported:"));
  EXPECT_TRUE(c.v().ok()) << describe(c.v());
}

TEST(validate, unknown_headers_are_not_checked) {
  const checked c(msg_text{}.add("X-Weird: <<<\"").add("UnknownHeaderWithUnusualValue: ;;,,;;,;"));
  EXPECT_TRUE(c.v().ok()) << describe(c.v());
}

// ================================================================== CSeq method

TEST(validate, cseq_method_mismatch) {
  const checked c(msg_text{}.set("CSeq: 314159 BYE"));
  EXPECT_EQ(c.v().broken, sip::rule::cseq_method_mismatch) << describe(c.v());
  EXPECT_EQ(c.v().header, sip::header_id::cseq);
  EXPECT_EQ(c.v().culprit, "BYE");
  EXPECT_EQ(c.code(), 400);
  EXPECT_TRUE(sip::can_answer(c.msg()));
  // Methods are case-sensitive tokens.
  const checked lower(msg_text{}.set("CSeq: 314159 invite"));
  EXPECT_EQ(lower.v().broken, sip::rule::cseq_method_mismatch);
  // Extension methods compare as tokens too.
  const checked ext(msg_text{}.request_line("FOO sip:bob@biloxi.example.com SIP/2.0").set("CSeq: 1 FOO"));
  EXPECT_TRUE(ext.v().ok()) << describe(ext.v());
  const checked ext_bad(msg_text{}.request_line("FOO sip:bob@biloxi.example.com SIP/2.0").set("CSeq: 1 FOO2"));
  EXPECT_EQ(ext_bad.v().broken, sip::rule::cseq_method_mismatch);
  // A response carries the request's CSeq: nothing to compare.
  const checked resp(msg_text::response().set("CSeq: 1 BYE"));
  EXPECT_TRUE(resp.v().ok()) << describe(resp.v());
}

// ================================================================== Request-URI

TEST(validate, request_uri_schemes_per_policy) {
  const auto with_ruri = [](std::string_view ruri) {
    return msg_text{}.request_line("INVITE " + std::string(ruri) + " SIP/2.0");
  };
  {
    const checked c(with_ruri("sips:bob@biloxi.example.com"));
    EXPECT_TRUE(c.v().ok()) << describe(c.v());
  }
  {
    sip::validation_policy p;
    p.accept_sips = false;
    const checked c(with_ruri("sips:bob@biloxi.example.com"), p);
    EXPECT_EQ(c.v().broken, sip::rule::uri_scheme_unsupported) << describe(c.v());
    EXPECT_EQ(c.code(), 416);
    EXPECT_EQ(c.v().culprit, "sips:bob@biloxi.example.com");
  }
  {
    sip::validation_policy p;
    p.accept_sip = false;
    const checked c(msg_text{}, p);
    EXPECT_EQ(c.v().broken, sip::rule::uri_scheme_unsupported) << describe(c.v());
    EXPECT_EQ(c.code(), 416);
  }
  {
    const checked c(with_ruri("tel:+1-201-555-0123"));
    EXPECT_EQ(c.v().broken, sip::rule::uri_scheme_unsupported) << describe(c.v());
    EXPECT_EQ(c.code(), 416);
    sip::validation_policy p;
    p.accept_tel = true;
    const checked ok(with_ruri("tel:+1-201-555-0123"), p);
    EXPECT_TRUE(ok.v().ok()) << describe(ok.v());
    const checked bad(with_ruri("tel:+1-201-555-x"), p);
    EXPECT_EQ(bad.v().broken, sip::rule::malformed_framing) << describe(bad.v());
    EXPECT_EQ(bad.v().detail, sip::errc::bad_request_uri);
    EXPECT_EQ(bad.code(), 400);
  }
  for (std::string_view other : {"im:alice@example.com", "http://www.example.com", "urn:service:sos"}) {
    const checked c(with_ruri(other));
    EXPECT_EQ(c.v().broken, sip::rule::uri_scheme_unsupported) << other << " " << describe(c.v());
    EXPECT_EQ(c.code(), 416) << other;
  }
}

TEST(validate, malformed_sip_request_uri_is_400_not_416) {
  // The scheme is supported; the URI is broken. 416 would tell the sender to
  // try another scheme (RFC 3261 §21.4.14), when the fault is the syntax.
  for (std::string_view bad : {"sip:@biloxi.example.com", "sip:bob@biloxi.example.com:65536", "sip:bob@exa_mple.com",
                               "sips:bob@256.1.1.1", "sip:bob@biloxi.example.com;"}) {
    const checked c(msg_text{}.request_line("INVITE " + std::string(bad) + " SIP/2.0"));
    EXPECT_EQ(c.v().broken, sip::rule::malformed_framing) << bad << " " << describe(c.v());
    EXPECT_EQ(c.v().detail, sip::errc::bad_request_uri) << bad;
    EXPECT_EQ(c.code(), 400) << bad;
    EXPECT_TRUE(sip::can_answer(c.msg()));
  }
}

TEST(validate, request_uri_headers_are_400) {
  const checked c(msg_text{}.request_line("INVITE sip:bob@biloxi.example.com?Subject=hi&Priority=urgent SIP/2.0"));
  EXPECT_EQ(c.v().broken, sip::rule::request_uri_headers) << describe(c.v());
  EXPECT_EQ(c.v().culprit, "Subject=hi&Priority=urgent");
  EXPECT_EQ(c.code(), 400);
  const checked params(msg_text{}.request_line("INVITE sip:bob@biloxi.example.com;transport=tcp;lr SIP/2.0"));
  EXPECT_TRUE(params.v().ok()) << describe(params.v());
}

// ================================================================== extensions

TEST(validate, proxy_require_against_supported_options) {
  {
    const checked c(msg_text{}.add("Proxy-Require: foo"));
    EXPECT_EQ(c.v().broken, sip::rule::bad_extension) << describe(c.v());
    EXPECT_EQ(c.v().header, sip::header_id::proxy_require);
    EXPECT_EQ(c.v().culprit, "foo");
    EXPECT_EQ(c.code(), 420);
  }
  constexpr std::array<std::string_view, 2> opts{"foo", "sec-agree"};
  sip::validation_policy p;
  p.supported_options = opts;
  {
    const checked c(msg_text{}.add("Proxy-Require: FOO, sec-agree"), p);  // option tags compare case-insensitively
    EXPECT_TRUE(c.v().ok()) << describe(c.v());
  }
  {
    const checked c(msg_text{}.add("Proxy-Require: foo").add("Proxy-Require: bar, baz"), p);
    EXPECT_EQ(c.v().broken, sip::rule::bad_extension) << describe(c.v());
    EXPECT_EQ(c.v().culprit, "bar");  // the first unsupported tag, across lines
  }
}

TEST(validate, require_checked_only_when_consuming) {
  const msg_text t = msg_text{}.add("Require: 100rel, timer");
  {
    const checked c(t);
    EXPECT_TRUE(c.v().ok()) << "a proxy ignores Require: " << describe(c.v());
  }
  sip::validation_policy p;
  p.check_require = true;
  {
    const checked c(t, p);
    EXPECT_EQ(c.v().broken, sip::rule::bad_extension) << describe(c.v());
    EXPECT_EQ(c.v().header, sip::header_id::require);
    EXPECT_EQ(c.v().culprit, "100rel");
    EXPECT_EQ(c.code(), 420);
  }
  constexpr std::array<std::string_view, 1> opts{"100rel"};
  p.supported_options = opts;
  {
    const checked c(t, p);
    EXPECT_EQ(c.v().culprit, "timer");
  }
  constexpr std::array<std::string_view, 2> both{"100rel", "timer"};
  p.supported_options = both;
  {
    const checked c(t, p);
    EXPECT_TRUE(c.v().ok()) << describe(c.v());
  }
}

// ================================================================== Max-Forwards

TEST(validate, too_many_hops) {
  const checked zero(msg_text{}.set("Max-Forwards: 0"));
  EXPECT_EQ(zero.v().broken, sip::rule::too_many_hops) << describe(zero.v());
  EXPECT_EQ(zero.v().header, sip::header_id::max_forwards);
  EXPECT_EQ(zero.code(), 483);
  const checked padded(msg_text{}.set("Max-Forwards: 000"));
  EXPECT_EQ(padded.v().broken, sip::rule::too_many_hops);
  const checked one(msg_text{}.set("Max-Forwards: 1"));
  EXPECT_TRUE(one.v().ok()) << describe(one.v());
  sip::validation_policy uas;
  uas.forwarding = false;
  const checked local(msg_text{}.set("Max-Forwards: 0"), uas);
  EXPECT_TRUE(local.v().ok()) << describe(local.v());
}

// ================================================================== verdict mapping

TEST(verdict, status_code_per_rule_and_kind) {
  struct tc {
    sip::rule r;
    std::uint16_t code;
  };
  for (const tc& x :
       {tc{sip::rule::ok, 0}, tc{sip::rule::malformed_framing, 400}, tc{sip::rule::unsupported_version, 505},
        tc{sip::rule::missing_header, 400}, tc{sip::rule::repeated_header, 400}, tc{sip::rule::malformed_header, 400},
        tc{sip::rule::cseq_method_mismatch, 400}, tc{sip::rule::uri_scheme_unsupported, 416},
        tc{sip::rule::request_uri_headers, 400}, tc{sip::rule::bad_extension, 420},
        tc{sip::rule::too_many_hops, 483}}) {
    sip::verdict v;
    v.broken = x.r;
    EXPECT_EQ(v.status_code(sip::start_kind::request), x.code) << sip::to_string(x.r);
    EXPECT_EQ(v.status_code(sip::start_kind::response), 0) << sip::to_string(x.r);
    EXPECT_EQ(v.status_code(sip::start_kind::unknown), 0) << sip::to_string(x.r);
    EXPECT_EQ(v.ok(), x.r == sip::rule::ok);
  }
}

TEST(verdict, reason_is_never_empty) {
  std::set<std::string_view> distinct;
  for (std::size_t i = 0; i < sip::rule_count; ++i) {
    sip::verdict v;
    v.broken = static_cast<sip::rule>(i);
    EXPECT_FALSE(v.reason().empty()) << sip::to_string(v.broken);
    distinct.insert(v.reason());
  }
  EXPECT_EQ(distinct.size(), sip::rule_count);
  for (std::size_t h = 0; h < sip::header_id_count; ++h) {
    sip::verdict v{sip::rule::malformed_header, static_cast<sip::header_id>(h), sip::errc::bad_value, {}};
    EXPECT_FALSE(v.reason().empty());
    EXPECT_TRUE(v.reason().starts_with("Bad Request")) << v.reason();
  }
  sip::verdict via{sip::rule::malformed_header, sip::header_id::via, sip::errc::bad_via, {}};
  EXPECT_NE(via.reason().find("Via"), std::string_view::npos) << via.reason();
  for (std::size_t e = 0; e <= static_cast<std::size_t>(sip::errc::bad_call_id); ++e) {
    sip::verdict v{sip::rule::malformed_framing, sip::header_id::other, static_cast<sip::errc>(e), {}};
    EXPECT_FALSE(v.reason().empty());
    EXPECT_TRUE(v.reason().starts_with("Bad Request")) << v.reason();
  }
  sip::verdict cl{sip::rule::malformed_framing, sip::header_id::other, sip::errc::bad_content_length, {}};
  EXPECT_NE(cl.reason().find("Content-Length"), std::string_view::npos);
  // A reason phrase is TEXT-UTF8: no control characters.
  for (std::size_t i = 0; i < sip::rule_count; ++i) {
    sip::verdict v;
    v.broken = static_cast<sip::rule>(i);
    for (char ch : v.reason()) EXPECT_GE(static_cast<unsigned char>(ch), 0x20);
  }
}

TEST(verdict, names_are_distinct) {
  std::set<std::string_view> rules;
  for (std::size_t i = 0; i < sip::rule_count; ++i) {
    const auto n = sip::to_string(static_cast<sip::rule>(i));
    EXPECT_NE(n, "?");
    rules.insert(n);
  }
  EXPECT_EQ(rules.size(), sip::rule_count);
  std::set<std::string_view> errs;
  const auto last = static_cast<std::size_t>(sip::errc::bad_call_id);
  for (std::size_t i = 0; i <= last; ++i) {
    const auto n = sip::to_string(static_cast<sip::errc>(i));
    EXPECT_NE(n, "?");
    errs.insert(n);
  }
  EXPECT_EQ(errs.size(), last + 1);
}

// ================================================================== can_answer

TEST(can_answer, bad_contact_still_answerable) {
  const checked c(msg_text{}.set("Contact: <sip:alice@pc33.atlanta.example.com"));
  EXPECT_FALSE(c.v().ok());
  EXPECT_EQ(c.v().header, sip::header_id::contact);
  EXPECT_TRUE(sip::can_answer(c.msg()));
}

TEST(can_answer, needs_every_response_header) {
  EXPECT_FALSE(sip::can_answer(checked(msg_text{}.without("Via")).msg()));
  EXPECT_FALSE(sip::can_answer(checked(msg_text{}.without("From")).msg()));
  EXPECT_FALSE(sip::can_answer(checked(msg_text{}.without("To")).msg()));
  EXPECT_FALSE(sip::can_answer(checked(msg_text{}.without("Call-ID")).msg()));
  EXPECT_FALSE(sip::can_answer(checked(msg_text{}.without("CSeq")).msg()));
  EXPECT_TRUE(sip::can_answer(checked(msg_text{}.without("Max-Forwards")).msg()));
  EXPECT_TRUE(sip::can_answer(checked(msg_text{}.without("Contact")).msg()));
}

TEST(can_answer, headers_must_parse_and_repeats_use_the_first) {
  EXPECT_FALSE(sip::can_answer(checked(msg_text{}.set("Via: SIP/2.0/UDP")).msg()));
  EXPECT_FALSE(sip::can_answer(checked(msg_text{}.set("CSeq: x INVITE")).msg()));
  EXPECT_FALSE(sip::can_answer(checked(msg_text{}.set("Call-ID: a b")).msg()));
  EXPECT_FALSE(sip::can_answer(checked(msg_text{}.set("To: \"Bob <sip:bob@b.example>")).msg()));
  // A repeated single-value header is answered 400 with its first value (RFC 4475 §3.3.8).
  EXPECT_TRUE(sip::can_answer(checked(msg_text{}.add("From: <sip:x@y.example>;tag=2")).msg()));
  // Several Via lines are normal; only the top one must parse.
  EXPECT_TRUE(sip::can_answer(checked(msg_text{}.add("Via: SIP/2.0/TCP p2.example.com;branch=z9hG4bK9")).msg()));
}

}  // namespace
