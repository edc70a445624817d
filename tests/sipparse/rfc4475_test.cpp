// RFC 4475 "SIP Torture Test Messages", driven by tests/data/rfc4475/MANIFEST.tsv.
//
// Every manifest line is one test case. The class column says what a
// registration front end must do with the message (valid: parse and pass;
// invalid: reject with 400/505 or drop a response; semantic: the named check),
// and the tables below hold the per-message expectations. A manifest entry with
// no expectation in its table fails, so a new torture message cannot pass
// unexamined.
#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "sipfront/sipparse/sipparse.hpp"

namespace sip = sipfront::sip;
using namespace std::string_view_literals;

namespace {

// Tests run with working directory tests/sipparse (meson `workdir`).
constexpr std::string_view k_data_dir = "../data/rfc4475/";
constexpr std::size_t k_min_entries = 49;

struct manifest_entry {
  std::string file;
  std::string section;
  std::string klass;
  std::string what;
};

// Readable names in failure messages instead of a byte dump.
void PrintTo(const manifest_entry& e, std::ostream* os) { *os << e.file << " (" << e.klass << ")"; }

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<manifest_entry> load_manifest() {
  std::vector<manifest_entry> out;
  const auto text = read_file(std::string(k_data_dir) + "MANIFEST.tsv");
  if (!text) return out;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::size_t start = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (cols.size() < 3) continue;
    out.push_back({cols[0], cols[1], cols[2], cols.size() > 3 ? cols[3] : std::string{}});
  }
  return out;
}

const std::vector<manifest_entry>& manifest() {
  static const std::vector<manifest_entry> m = load_manifest();
  return m;
}

std::string load_message(const manifest_entry& e) {
  return read_file(std::string(k_data_dir) + e.file + ".dat").value_or(std::string{});
}

// ------------------------------------------------------------------ helpers

sip::name_addr name_addr_of(const sip::message& m, sip::header_id id) {
  const auto na = sip::parse_name_addr(m.value_of(id));
  EXPECT_TRUE(na.ok()) << sip::canonical_name(id) << ": " << sip::to_string(na.error());
  return na.value();
}

sip::uri uri_of(std::string_view text) {
  const auto u = sip::parse_uri(text);
  EXPECT_TRUE(u.ok()) << text << ": " << sip::to_string(u.error());
  return u.value();
}

std::string unescaped(std::string_view s) {
  std::string out(s.size(), '\0');
  const int n = sip::unescape(s, out.data(), out.size());
  EXPECT_GE(n, 0) << s;
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    if (c < 0x80) {
      n = 0;
    } else if ((c & 0xe0) == 0xc0 && c >= 0xc2) {
      n = 1;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
    } else if ((c & 0xf8) == 0xf0 && c <= 0xf4) {
      n = 3;
    } else {
      return false;
    }
    if (n > 0 && i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

template <std::size_t N>
sip::via_list<N> vias_of(const sip::message& m) {
  sip::via_list<N> v;
  EXPECT_EQ(sip::parse_vias(m, v), sip::errc::ok);
  return v;
}

template <std::size_t N>
sip::name_addr_list<N> contacts_of(const sip::message& m) {
  sip::name_addr_list<N> c;
  EXPECT_EQ(sip::parse_name_addrs(m, sip::header_id::contact, c, true), sip::errc::ok);
  return c;
}

std::uint32_t content_length_of(const sip::message& m) {
  const auto n = sip::parse_content_length(m.value_of(sip::header_id::content_length));
  EXPECT_TRUE(n.ok());
  return n.value();
}

// ------------------------------------------------------------------ valid: value checks

using check_fn = std::function<void(const sip::message&)>;

const std::map<std::string, check_fn, std::less<>>& valid_checks() {
  static const std::map<std::string, check_fn, std::less<>> t = {
      {"wsinv",
       [](const sip::message& m) {
         EXPECT_EQ(m.method(), sip::method::invite);
         EXPECT_TRUE(uri_of(m.request_uri()).param("unknownparam").has_value());
         const auto to = name_addr_of(m, sip::header_id::to);
         EXPECT_EQ(to.uri, "sip:vivekg@chair-dnrc.example.com");
         EXPECT_EQ(to.tag(), "1918181833n");
         const auto from = name_addr_of(m, sip::header_id::from);
         EXPECT_TRUE(from.display_quoted);
         EXPECT_EQ(from.display, R"(J Rosenberg \\\")");
         EXPECT_EQ(from.uri, "sip:jdrosen@example.com");
         EXPECT_EQ(from.tag(), "98asjd8");
         EXPECT_EQ(sip::parse_max_forwards(m.value_of(sip::header_id::max_forwards)).value_or(0), 68);
         const auto cs = sip::parse_cseq(m.value_of(sip::header_id::cseq));
         ASSERT_TRUE(cs.ok());
         EXPECT_EQ(cs->number, 9U);
         EXPECT_EQ(cs->method, sip::method::invite);
         EXPECT_EQ(cs->method_token, "INVITE");
         EXPECT_EQ(m.value_of(sip::header_id::call_id), "wsinv.ndaksdj@192.0.2.1");
         EXPECT_EQ(m.count(sip::header_id::subject), 1U);  // "s :" with an empty value
         EXPECT_EQ(m.value_of(sip::header_id::subject), "");
         const auto vias = vias_of<8>(m);
         ASSERT_EQ(vias.size(), 3U);
         EXPECT_EQ(vias[0].transport, sip::transport::udp);
         EXPECT_EQ(vias[0].host, "192.0.2.2");
         EXPECT_EQ(vias[0].branch, "390skdjuw");
         EXPECT_FALSE(vias[0].branch_is_rfc3261());
         EXPECT_EQ(vias[1].transport, sip::transport::tcp);
         EXPECT_EQ(vias[1].host, "spindle.example.com");
         EXPECT_EQ(vias[1].branch, "z9hG4bK9ikj8");
         EXPECT_EQ(vias[2].transport, sip::transport::udp);
         EXPECT_EQ(vias[2].host, "192.168.255.111");
         EXPECT_EQ(vias[2].branch, "z9hG4bK30239");
         const auto contacts = contacts_of<4>(m);
         ASSERT_EQ(contacts.size(), 1U);
         EXPECT_EQ(contacts[0].display, R"(Quoted string \"\")");
         EXPECT_EQ(contacts[0].param("newparam").value_or(""), "newvalue");
         EXPECT_TRUE(contacts[0].param("secondparam").has_value());
         EXPECT_EQ(contacts[0].q().value_or(0), 330);
         sip::name_addr_list<2> routes;
         ASSERT_EQ(sip::parse_name_addrs(m, sip::header_id::route, routes, false), sip::errc::ok);
         ASSERT_EQ(routes.size(), 1U);
         EXPECT_TRUE(uri_of(routes[0].uri).param("lr").has_value());
         const auto* nf = m.find("newfangledheader");
         ASSERT_NE(nf, nullptr);
         EXPECT_TRUE(m.value(*nf).starts_with("newfangled value"));
         EXPECT_TRUE(m.value(*nf).ends_with("continued newfangled value"));
         EXPECT_EQ(m.body().size(), 150U);
       }},
      {"intmeth",
       [](const sip::message& m) {
         constexpr auto k_method = "!interesting-Method0123456789_*+`.%indeed'~"sv;
         EXPECT_EQ(m.method(), sip::method::extension);
         EXPECT_EQ(m.method_token(), k_method);
         const auto cs = sip::parse_cseq(m.value_of(sip::header_id::cseq));
         ASSERT_TRUE(cs.ok());
         EXPECT_EQ(cs->method_token, k_method);
         EXPECT_EQ(cs->method, sip::method::extension);
         EXPECT_EQ(cs->number, 139122385U);
         const auto ruri = uri_of(m.request_uri());
         EXPECT_EQ(ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
         EXPECT_TRUE(ruri.has_password);
         EXPECT_EQ(ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
         EXPECT_EQ(ruri.host, "example.com");
         const auto to = name_addr_of(m, sip::header_id::to);
         EXPECT_TRUE(to.display_quoted);
         EXPECT_NE(to.display.find('\0'), std::string_view::npos);  // "NUL:\<00>" quoted-pair
         EXPECT_EQ(uri_of(to.uri).user, ruri.user);
         const auto from = name_addr_of(m, sip::header_id::from);
         EXPECT_FALSE(from.display_quoted);
         EXPECT_EQ(from.display, "token1~` token2'+_ token3*%!.-");
         EXPECT_EQ(from.tag(), "_token~1'+`*%!-.");
         EXPECT_TRUE(from.param("fromParam''~+*_!.-%").has_value());
         EXPECT_EQ(sip::top_via(m)->branch, "z9hG4bK-.!%66*_+`'~");
         EXPECT_EQ(sip::parse_max_forwards(m.value_of(sip::header_id::max_forwards)).value_or(0), 255);
         EXPECT_NE(m.find("extensionHeader-!.%*+_`'~"), nullptr);
       }},
      {"esc01",
       [](const sip::message& m) {
         const auto ruri = uri_of(m.request_uri());
         EXPECT_EQ(unescaped(ruri.user), "sips:user@example.com");
         // The same URI with other (lower-case) escapes of the same octets.
         EXPECT_TRUE(sip::uri_equal(ruri, uri_of("sip:sips%3auser%40example%2Ecom@example.net")));
         EXPECT_FALSE(sip::uri_equal(ruri, uri_of("sip:sips%3auser%40example.org@example.net")));
         // To: sip:%75se%72@example.com is sip:user@example.com.
         const auto to = name_addr_of(m, sip::header_id::to);
         EXPECT_TRUE(sip::uri_equal(uri_of(to.uri), uri_of("sip:user@example.com")));
         // From user has escaped spaces.
         EXPECT_EQ(unescaped(uri_of(name_addr_of(m, sip::header_id::from).uri).user), "I have spaces");
         // Contact: escaped parameter names and values compare unescaped.
         const auto contacts = contacts_of<2>(m);
         ASSERT_EQ(contacts.size(), 1U);
         const auto c = uri_of(contacts[0].uri);
         // v%61lue%25%34%31 decodes once to the literal "value%41", written value%2541.
         EXPECT_TRUE(c.param("lr").has_value());
         EXPECT_TRUE(sip::uri_equal(c, uri_of("sip:caller@host5.example.net;lr;name=value%2541")));
         EXPECT_FALSE(sip::uri_equal(c, uri_of("sip:caller@host5.example.net;lr;name=value%41")));  // "valueA"
         EXPECT_FALSE(sip::uri_equal(c, uri_of("sip:caller@host5.example.net;lr;name=other")));
         EXPECT_EQ(m.body().size(), 150U);
       }},
      {"escnull",
       [](const sip::message& m) {
         EXPECT_EQ(m.method(), sip::method::register_);
         const auto to = uri_of(name_addr_of(m, sip::header_id::to).uri);
         EXPECT_EQ(to.user, "null-%00-null");
         EXPECT_NE(to.user.find("%00"), std::string_view::npos);
         const std::string u = unescaped(to.user);
         EXPECT_EQ(u, std::string("null-\0-null", 11));
         EXPECT_NE(u.find('\0'), std::string::npos);
         const auto contacts = contacts_of<4>(m);
         ASSERT_EQ(contacts.size(), 2U);
         EXPECT_EQ(unescaped(uri_of(contacts[0].uri).user), std::string(1, '\0'));
         EXPECT_EQ(unescaped(uri_of(contacts[1].uri).user), std::string(2, '\0'));
         EXPECT_FALSE(sip::uri_equal(uri_of(contacts[0].uri), uri_of(contacts[1].uri)));
       }},
      {"esc02",
       [](const sip::message& m) {
         EXPECT_EQ(m.method(), sip::method::extension);
         EXPECT_NE(m.method(), sip::method::register_);
         EXPECT_EQ(m.method_token(), "RE%47IST%45R");
         EXPECT_EQ(sip::parse_cseq(m.value_of(sip::header_id::cseq))->method, sip::method::extension);
         EXPECT_EQ(m.count(sip::header_id::contact), 2U);
         EXPECT_EQ((contacts_of<4>(m).size()), 2U);
         const auto* odd = m.find("C%6Fntact");
         ASSERT_NE(odd, nullptr);
         EXPECT_EQ(odd->id, sip::header_id::other);
         EXPECT_EQ(m.value(*odd), "<sip:alias2@host2.example.com>");
         const auto to = name_addr_of(m, sip::header_id::to);
         EXPECT_EQ(to.display, "%Z%45");
         EXPECT_TRUE(to.display_quoted);
         EXPECT_EQ(sip::top_via(m)->branch, "z9hG4bK209%fzsnel234");
       }},
      {"lwsdisp",
       [](const sip::message& m) {
         const auto from = name_addr_of(m, sip::header_id::from);
         EXPECT_EQ(from.display, "caller");
         EXPECT_FALSE(from.display_quoted);
         EXPECT_TRUE(from.angle);
         EXPECT_EQ(from.uri, "sip:caller@example.com");
         EXPECT_EQ(from.tag(), "323");
       }},
      {"longreq",
       [](const sip::message& m) {
         EXPECT_EQ(m.count(sip::header_id::via), 34U);
         const auto vias = vias_of<64>(m);
         ASSERT_EQ(vias.size(), 34U);
         EXPECT_EQ(vias[0].host, "sip33.example.com");
         EXPECT_EQ(vias[32].host, "sip1.example.com");
         EXPECT_EQ(vias[33].host, "host.example.com");
         EXPECT_EQ(vias[33].received, "192.0.2.5");
         EXPECT_GT(vias[33].branch.size(), 200U);
         sip::via_list<16> few;
         EXPECT_EQ(sip::parse_vias(m, few), sip::errc::too_many_entries);
         const auto to = name_addr_of(m, sip::header_id::to);
         EXPECT_GT(to.display.size(), 90U);
         const auto to_uri = uri_of(to.uri);
         EXPECT_EQ(to_uri.port, 6000);
         EXPECT_TRUE(to_uri
                         .param("verylonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglong"
                                "longlonglonglonglonglongParameterNameWithNoValue")
                         .has_value());
         const auto from = name_addr_of(m, sip::header_id::from);
         EXPECT_GT(from.tag().size(), 150U);
         EXPECT_GT(m.value_of(sip::header_id::call_id).size(), 120U);
         const auto* unk =
             m.find("Unknown-LongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLong-Name");
         ASSERT_NE(unk, nullptr);
         EXPECT_GT(m.value(*unk).size(), 200U);
         EXPECT_EQ(m.body().size(), 150U);
       }},
      {"dblreq",
       [](const sip::message& m) {
         EXPECT_EQ(m.method(), sip::method::register_);
         EXPECT_EQ(content_length_of(m), 0U);
         EXPECT_TRUE(m.body().empty());
         EXPECT_TRUE(m.bytes().ends_with("Content-Length: 0\r\n\r\n"));
         EXPECT_LT(m.bytes().size(), m.datagram_size());
         const std::string_view tail(m.data() + m.bytes().size(), m.datagram_size() - m.bytes().size());
         EXPECT_TRUE(tail.starts_with("\r\nINVITE sip:joe@example.com SIP/2.0\r\n"));
         EXPECT_EQ(m.value_of(sip::header_id::call_id), "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
         EXPECT_EQ(m.count(sip::header_id::cseq), 1U);  // the second request's headers are not indexed
       }},
      {"semiuri",
       [](const sip::message& m) {
         const auto ruri = uri_of(m.request_uri());
         EXPECT_EQ(ruri.user, "user;par=u%40example.net");
         EXPECT_NE(ruri.user.find(';'), std::string_view::npos);
         EXPECT_EQ(ruri.host, "example.com");
         EXPECT_TRUE(ruri.params.empty());
         EXPECT_FALSE(ruri.param("par").has_value());
         sip::list_iterator it(m, sip::header_id::accept);
         std::string_view e;
         std::vector<std::string_view> accepts;
         while (it.next(e)) accepts.push_back(e);
         EXPECT_FALSE(it.failed());
         ASSERT_EQ(accepts.size(), 6U);
         EXPECT_EQ(accepts.front(), "application/sdp");
         EXPECT_EQ(accepts.back(), "message/sipfrag");
       }},
      {"transports",
       [](const sip::message& m) {
         const auto vias = vias_of<8>(m);
         ASSERT_EQ(vias.size(), 5U);
         EXPECT_EQ(vias[0].transport, sip::transport::udp);
         EXPECT_EQ(vias[1].transport, sip::transport::sctp);
         EXPECT_EQ(vias[2].transport, sip::transport::tls);
         EXPECT_EQ(vias[3].transport, sip::transport::other);
         EXPECT_EQ(vias[3].transport_token, "UNKNOWN");
         EXPECT_EQ(vias[3].host, "t4.example.com");
         EXPECT_EQ(vias[3].branch, "z9hG4bKasd0f3en");
         EXPECT_EQ(vias[4].transport, sip::transport::tcp);
       }},
      {"mpart01",
       [](const sip::message& m) {
         EXPECT_EQ(m.method(), sip::method::message);
         EXPECT_EQ(content_length_of(m), 553U);
         EXPECT_EQ(m.body().size(), 553U);
         EXPECT_EQ(m.bytes().size(), m.datagram_size());
         EXPECT_TRUE(m.body().starts_with("--7a9cbec02ceef655\r\n"));
         EXPECT_TRUE(m.body().ends_with("--7a9cbec02ceef655--\r\n"));
         EXPECT_EQ(sip::check_date(m.value_of(sip::header_id::date)), sip::errc::ok);
         EXPECT_TRUE(sip::top_via(m)->has_rport);
         EXPECT_FALSE(sip::top_via(m)->rport_has_value);
         EXPECT_EQ(m.count(sip::header_id::identity), 1U);
       }},
      {"unreason",
       [](const sip::message& m) {
         EXPECT_TRUE(m.is_response());
         EXPECT_EQ(m.status_code(), 200);
         EXPECT_FALSE(m.reason().empty());
         EXPECT_TRUE(m.reason().starts_with("= 2**3 * 5**2 "));
         EXPECT_TRUE(valid_utf8(m.reason()));
         bool non_ascii = false;
         for (char c : m.reason()) non_ascii = non_ascii || static_cast<unsigned char>(c) >= 0x80;
         EXPECT_TRUE(non_ascii);
         EXPECT_EQ(m.body().size(), content_length_of(m));
       }},
      {"noreason",
       [](const sip::message& m) {
         EXPECT_TRUE(m.is_response());
         EXPECT_EQ(m.status_code(), 100);
         EXPECT_TRUE(m.reason().empty());
         EXPECT_TRUE(m.body().empty());
       }},
  };
  return t;
}

// ------------------------------------------------------------------ invalid: expected verdicts

struct invalid_expectation {
  sip::rule broken;
  std::optional<sip::header_id> header;  // nullopt: any
  std::optional<sip::errc> detail;       // nullopt: any
  bool answerable;                       // can_answer(): a 400 can still be built
};

const std::map<std::string, invalid_expectation, std::less<>>& invalid_expectations() {
  using sip::errc;
  using sip::header_id;
  using sip::rule;
  static const std::map<std::string, invalid_expectation, std::less<>> t = {
      {"badinv01", {rule::malformed_header, header_id::via, errc::bad_via, false}},
      {"clerr", {rule::malformed_framing, std::nullopt, errc::content_length_exceeds, true}},
      {"ncl", {rule::malformed_framing, std::nullopt, errc::bad_content_length, true}},
      {"scalar02", {rule::malformed_header, std::nullopt, errc::integer_overflow, false}},
      {"scalarlg", {rule::malformed_header, std::nullopt, errc::integer_overflow, false}},
      {"quotbal", {rule::malformed_header, header_id::to, errc::unterminated_quote, false}},
      {"ltgtruri", {rule::malformed_framing, std::nullopt, errc::bad_request_uri, true}},
      {"lwsruri", {rule::malformed_framing, std::nullopt, errc::bad_request_uri, true}},
      {"lwsstart", {rule::malformed_framing, std::nullopt, errc::bad_start_line, true}},
      {"trws", {rule::malformed_framing, std::nullopt, errc::bad_start_line, true}},
      {"escruri", {rule::request_uri_headers, std::nullopt, std::nullopt, true}},
      {"baddate", {rule::malformed_header, header_id::date, errc::bad_date, true}},
      {"regbadct", {rule::malformed_header, header_id::contact, std::nullopt, true}},
      {"badaspec", {rule::malformed_header, header_id::to, std::nullopt, false}},
      {"baddn", {rule::malformed_header, header_id::from, std::nullopt, false}},
      {"badvers", {rule::unsupported_version, std::nullopt, errc::bad_version, true}},
      {"mismatch01", {rule::cseq_method_mismatch, header_id::cseq, std::nullopt, true}},
      {"mismatch02", {rule::cseq_method_mismatch, header_id::cseq, std::nullopt, true}},
      {"bigcode", {rule::malformed_framing, std::nullopt, errc::bad_status_code, false}},
  };
  return t;
}

// ------------------------------------------------------------------ semantic: the named check

const std::map<std::string, check_fn, std::less<>>& semantic_checks() {
  static const std::map<std::string, check_fn, std::less<>> t = {
      {"badbranch",
       [](const sip::message& m) {
         const auto v = sip::top_via(m);
         ASSERT_TRUE(v.ok());
         EXPECT_EQ(v->branch, "z9hG4bK");
         EXPECT_FALSE(v->branch_is_rfc3261());  // the cookie alone identifies no transaction
       }},
      {"insuf",
       [](const sip::message& m) {
         const auto v = sip::validate(m);
         EXPECT_EQ(v.broken, sip::rule::missing_header);
         EXPECT_TRUE(v.header == sip::header_id::to || v.header == sip::header_id::from ||
                     v.header == sip::header_id::call_id);
         EXPECT_EQ(v.status_code(m.kind()), 400);
         EXPECT_FALSE(sip::can_answer(m));
       }},
      {"unkscm",
       [](const sip::message& m) {
         const auto v = sip::validate(m);
         EXPECT_EQ(v.broken, sip::rule::uri_scheme_unsupported);
         EXPECT_EQ(v.status_code(m.kind()), 416);
         EXPECT_EQ(v.culprit, "nobodyKnowsThisScheme:totallyopaquecontent");
       }},
      {"novelsc",
       [](const sip::message& m) {
         EXPECT_EQ(sip::parse_uri(m.request_uri())->scheme_token, "soap.beep");
         const auto v = sip::validate(m);
         EXPECT_EQ(v.broken, sip::rule::uri_scheme_unsupported);
         EXPECT_EQ(v.status_code(m.kind()), 416);
       }},
      {"unksm2",
       [](const sip::message& m) {
         EXPECT_TRUE(sip::validate(m).ok());
         EXPECT_EQ(sip::parse_uri(name_addr_of(m, sip::header_id::to).uri)->scheme, sip::uri_scheme::other);
         EXPECT_EQ(name_addr_of(m, sip::header_id::from).uri, "http://www.example.com");
         EXPECT_EQ(contacts_of<2>(m)[0].uri, "name:John_Smith");
       }},
      {"bext01",
       [](const sip::message& m) {
         const auto v = sip::validate(m);
         EXPECT_EQ(v.broken, sip::rule::bad_extension);
         EXPECT_EQ(v.header, sip::header_id::proxy_require);
         EXPECT_EQ(v.culprit, "noProxiesSupportThis");
         EXPECT_EQ(v.status_code(m.kind()), 420);
         // Supporting both proxy options clears Proxy-Require; Require is for UAS handling.
         constexpr std::array<std::string_view, 2> opts{"noProxiesSupportThis", "norDoAnyProxiesSupportThis"};
         sip::validation_policy p;
         p.supported_options = opts;
         EXPECT_TRUE(sip::validate(m, p).ok());
         p.check_require = true;
         const auto uas = sip::validate(m, p);
         EXPECT_EQ(uas.broken, sip::rule::bad_extension);
         EXPECT_EQ(uas.header, sip::header_id::require);
         EXPECT_EQ(uas.culprit, "nothingSupportsThis");
       }},
      {"invut",
       [](const sip::message& m) {
         EXPECT_TRUE(sip::validate(m).ok());
         EXPECT_EQ(m.value_of(sip::header_id::content_type), "application/unknownformat");
         EXPECT_EQ(m.body().size(), 40U);
       }},
      {"regaut01",
       [](const sip::message& m) {
         EXPECT_TRUE(sip::validate(m).ok());
         const auto a = sip::parse_auth(m.value_of(sip::header_id::authorization));
         ASSERT_TRUE(a.ok());
         EXPECT_FALSE(a->is_digest());
         EXPECT_EQ(a->scheme, "NoOneKnowsThisScheme");
       }},
      {"multi01",
       [](const sip::message& m) {
         const auto v = sip::validate(m);
         EXPECT_EQ(v.broken, sip::rule::repeated_header);
         EXPECT_TRUE(sip::is_single_header(v.header));
         EXPECT_GT(m.count(v.header), 1U);
         EXPECT_EQ(v.status_code(m.kind()), 400);
         EXPECT_TRUE(sip::can_answer(m));  // RFC 4475 §3.3.8: answered 400, with the first values
       }},
      {"mcl01",
       [](const sip::message& m) {
         const auto v = sip::validate(m);
         EXPECT_EQ(v.broken, sip::rule::repeated_header);
         EXPECT_EQ(v.header, sip::header_id::content_length);
         EXPECT_EQ(v.status_code(m.kind()), 400);
       }},
      {"bcast",
       [](const sip::message& m) {
         EXPECT_TRUE(m.is_response());
         const auto vias = vias_of<4>(m);
         ASSERT_EQ(vias.size(), 2U);
         EXPECT_FALSE(vias[0].sent_by_is_broadcast());
         EXPECT_TRUE(vias[1].sent_by_is_broadcast());
         EXPECT_EQ(vias[1].host, "255.255.255.255");
       }},
      {"zeromf",
       [](const sip::message& m) {
         const auto v = sip::validate(m);
         EXPECT_EQ(v.broken, sip::rule::too_many_hops);
         EXPECT_EQ(v.status_code(m.kind()), 483);
         sip::validation_policy uas;
         uas.forwarding = false;
         EXPECT_TRUE(sip::validate(m, uas).ok());
       }},
      {"cparam01",
       [](const sip::message& m) {
         EXPECT_TRUE(sip::validate(m).ok());
         const auto c = contacts_of<2>(m);
         ASSERT_EQ(c.size(), 1U);
         EXPECT_FALSE(c[0].angle);
         EXPECT_EQ(c[0].params, "unknownparam");
         EXPECT_TRUE(c[0].param("unknownparam").has_value());
         EXPECT_EQ(c[0].uri, "sip:+19725552222@gw1.example.net");
         const auto u = uri_of(c[0].uri);
         EXPECT_TRUE(u.params.empty());
         EXPECT_FALSE(u.param("unknownparam").has_value());
       }},
      {"cparam02",
       [](const sip::message& m) {
         EXPECT_TRUE(sip::validate(m).ok());
         const auto c = contacts_of<2>(m);
         ASSERT_EQ(c.size(), 1U);
         EXPECT_TRUE(c[0].angle);
         EXPECT_TRUE(c[0].params.empty());
         EXPECT_FALSE(c[0].param("unknownparam").has_value());
         const auto u = uri_of(c[0].uri);
         EXPECT_TRUE(u.param("unknownparam").has_value());
         EXPECT_EQ(u.user, "+19725552222");
       }},
      {"regescrt",
       [](const sip::message& m) {
         EXPECT_TRUE(sip::validate(m).ok());
         const auto c = contacts_of<2>(m);
         ASSERT_EQ(c.size(), 1U);
         EXPECT_TRUE(c[0].angle);
         EXPECT_EQ(c[0].uri, "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
         const auto u = uri_of(c[0].uri);
         EXPECT_EQ(u.headers, "Route=%3Csip:sip.example.com%3E");
         EXPECT_EQ(unescaped(u.headers), "Route=<sip:sip.example.com>");
       }},
      {"sdp01",
       [](const sip::message& m) {
         EXPECT_TRUE(sip::validate(m).ok());
         EXPECT_EQ(m.value_of(sip::header_id::accept), "text/nobodyKnowsThis");
       }},
      {"inv2543",
       [](const sip::message& m) {
         const auto v = sip::validate(m);
         EXPECT_EQ(v.broken, sip::rule::missing_header);
         EXPECT_EQ(v.header, sip::header_id::max_forwards);
         EXPECT_EQ(v.status_code(m.kind()), 400);
         sip::validation_policy compat;
         compat.require_max_forwards = false;
         EXPECT_TRUE(sip::validate(m, compat).ok());
         const auto via = sip::top_via(m);
         ASSERT_TRUE(via.ok());
         EXPECT_TRUE(via->branch.empty());
         EXPECT_FALSE(via->branch_is_rfc3261());
         // <...;user=phone> is a URI parameter; in the addr-spec form it is a header parameter.
         EXPECT_EQ(uri_of(name_addr_of(m, sip::header_id::from).uri).param("user").value_or(""), "phone");
         const auto to = name_addr_of(m, sip::header_id::to);
         EXPECT_EQ(to.param("user").value_or(""), "phone");
         EXPECT_TRUE(uri_of(to.uri).params.empty());
       }},
  };
  return t;
}

// ------------------------------------------------------------------ the suite

TEST(rfc4475_manifest, lists_every_torture_message) {
  const auto& m = manifest();
  ASSERT_GE(m.size(), k_min_entries) << "manifest missing or short: " << k_data_dir << "MANIFEST.tsv";
  std::size_t valid = 0;
  std::size_t invalid = 0;
  std::size_t semantic = 0;
  for (const auto& e : m) {
    EXPECT_FALSE(load_message(e).empty()) << e.file;
    if (e.klass == "valid")
      ++valid;
    else if (e.klass == "invalid")
      ++invalid;
    else if (e.klass == "semantic")
      ++semantic;
    else
      ADD_FAILURE() << e.file << ": unknown class " << e.klass;
  }
  EXPECT_EQ(valid, valid_checks().size());
  EXPECT_EQ(invalid, invalid_expectations().size());
  EXPECT_EQ(semantic, semantic_checks().size());
}

TEST(rfc4475_manifest, data_keeps_crlf_line_ends) {
  ASSERT_FALSE(manifest().empty());
  for (const auto& e : manifest()) {
    const std::string d = load_message(e);
    const std::size_t lf = d.find('\n');
    ASSERT_NE(lf, std::string::npos) << e.file;
    EXPECT_GT(lf, 0U);
    EXPECT_EQ(d[lf - 1], '\r') << e.file << ": start line must end in CRLF (git must not convert line ends)";
  }
}

class rfc4475 : public ::testing::TestWithParam<manifest_entry> {};

TEST_P(rfc4475, behaves_as_classified) {
  const manifest_entry& e = GetParam();
  SCOPED_TRACE("RFC 4475 §" + e.section + " " + e.file + ": " + e.what);
  const std::string data = load_message(e);
  ASSERT_FALSE(data.empty()) << "cannot read " << k_data_dir << e.file << ".dat";
  sip::message m;
  const sip::errc pe = m.parse(data);
  const sip::verdict v = sip::validate(m);

  if (e.klass == "valid") {
    EXPECT_EQ(pe, sip::errc::ok) << sip::to_string(pe);
    EXPECT_TRUE(v.ok()) << sip::to_string(v.broken) << " " << sip::canonical_name(v.header) << " "
                        << sip::to_string(v.detail) << " [" << v.culprit << "]";
    EXPECT_EQ(v.status_code(m.kind()), 0);
    const auto it = valid_checks().find(e.file);
    ASSERT_NE(it, valid_checks().end()) << "no value checks for valid message " << e.file;
    it->second(m);
  } else if (e.klass == "invalid") {
    const auto it = invalid_expectations().find(e.file);
    ASSERT_NE(it, invalid_expectations().end()) << "no expectation for invalid message " << e.file;
    const invalid_expectation& x = it->second;
    EXPECT_FALSE(v.ok());
    EXPECT_EQ(v.broken, x.broken) << sip::to_string(v.broken);
    if (x.header) {
      EXPECT_EQ(v.header, *x.header) << sip::canonical_name(v.header);
    }
    if (x.detail) {
      EXPECT_EQ(v.detail, *x.detail) << sip::to_string(v.detail);
    }
    if (m.is_request()) {
      EXPECT_EQ(v.status_code(m.kind()), x.broken == sip::rule::unsupported_version ? 505 : 400);
    } else {
      EXPECT_TRUE(m.is_response());
      EXPECT_EQ(v.status_code(m.kind()), 0) << "a broken response is dropped";
    }
    EXPECT_EQ(sip::can_answer(m), x.answerable);
    EXPECT_FALSE(v.reason().empty());
  } else if (e.klass == "semantic") {
    EXPECT_EQ(pe, sip::errc::ok) << "semantic tests are syntactically valid: " << sip::to_string(pe);
    const auto it = semantic_checks().find(e.file);
    ASSERT_NE(it, semantic_checks().end()) << "no semantic check for " << e.file;
    it->second(m);
  } else {
    FAIL() << "unknown class " << e.klass;
  }
}

// The SIMD scanners and their scalar twin must build the same index.
TEST_P(rfc4475, all_scanners_build_the_same_index) {
  const manifest_entry& e = GetParam();
  const std::string data = load_message(e);
  ASSERT_FALSE(data.empty());
  sip::message ref;
  const sip::errc ref_err = ref.parse(data, sip::scanner_for(sip::scan_isa::scalar));
  for (const auto isa : {sip::scan_isa::sse42, sip::scan_isa::avx2}) {
    if (!sip::isa_supported(isa)) continue;
    SCOPED_TRACE(std::string(sip::to_string(isa)) + " " + e.file);
    const sip::scanner& sc = sip::scanner_for(isa);
    ASSERT_EQ(sc.isa, isa);
    sip::message m;
    EXPECT_EQ(m.parse(data, sc), ref_err);
    EXPECT_EQ(m.kind(), ref.kind());
    EXPECT_EQ(m.start_line(), ref.start_line());
    EXPECT_EQ(m.method_token(), ref.method_token());
    EXPECT_EQ(m.request_uri(), ref.request_uri());
    EXPECT_EQ(m.status_code(), ref.status_code());
    EXPECT_EQ(m.reason(), ref.reason());
    ASSERT_EQ(m.headers().size(), ref.headers().size());
    for (std::size_t i = 0; i < m.headers().size(); ++i) {
      EXPECT_EQ(m.headers()[i].id, ref.headers()[i].id) << i;
      EXPECT_EQ(m.name(m.headers()[i]), ref.name(ref.headers()[i])) << i;
      EXPECT_EQ(m.value(m.headers()[i]), ref.value(ref.headers()[i])) << i;
    }
    EXPECT_EQ(m.headers_end(), ref.headers_end());
    EXPECT_EQ(m.body(), ref.body());
    EXPECT_EQ(m.bytes(), ref.bytes());
    EXPECT_EQ(sip::validate(m).broken, sip::validate(ref).broken);
  }
}

INSTANTIATE_TEST_SUITE_P(torture, rfc4475, ::testing::ValuesIn(manifest()),
                         [](const ::testing::TestParamInfo<manifest_entry>& p) {
                           std::string n;
                           for (char c : p.param.file) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(rfc4475);

}  // namespace
