// The name-addr and URI fast paths against their general parsers: inputs just
// inside the shapes the fast paths take (they must accept, with every field as
// the general parser has it) and just outside (they must decline, and the public
// functions must answer exactly what the general parser answers).
#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/sipparse.hpp"

namespace sip = sipfront::sip;
using namespace std::string_view_literals;

namespace {

bool identical(std::string_view a, std::string_view b) { return a.data() == b.data() && a.size() == b.size(); }

struct mode {
  bool allow_star;
  bool check_uri;
  bool list_entry;
};
constexpr mode k_modes[] = {{false, false, false}, {true, false, false}, {false, true, false}, {true, true, false},
                            {false, false, true},  {true, false, true},  {false, true, true},  {true, true, true}};

// Whether the fast path took `s` in mode `m`; when it did, the general parser
// must accept too, with the same fields (same views, same addresses).
bool fast_matches_general(std::string_view s, mode m) {
  sip::name_addr fast;
  if (!sip::detail::name_addr_fast(s, m.allow_star, m.check_uri, m.list_entry, fast)) return false;
  const auto g = sip::detail::name_addr_general(s, m.allow_star, m.check_uri, m.list_entry);
  EXPECT_TRUE(g.ok()) << s;
  if (!g) return true;
  EXPECT_TRUE(identical(fast.display, g->display)) << s;
  EXPECT_EQ(fast.display_quoted, g->display_quoted) << s;
  EXPECT_TRUE(identical(fast.uri, g->uri)) << s;
  EXPECT_EQ(fast.angle, g->angle) << s;
  EXPECT_EQ(fast.star, g->star) << s;
  EXPECT_TRUE(identical(fast.params, g->params)) << s;
  EXPECT_TRUE(identical(fast.tag_param, g->tag_param)) << s;
  EXPECT_EQ(fast.params_indexed, g->params_indexed) << s;
  return true;
}

// The public entry points answer what the general parser answers.
void public_matches_general(std::string_view s) {
  for (const bool star : {false, true}) {
    const auto p = sip::parse_name_addr(s, star);
    const auto gp = sip::detail::name_addr_general(s, star, true, false);
    EXPECT_EQ(p.error(), gp.error()) << s;
    const auto q = sip::split_name_addr(s, star);
    const auto gq = sip::detail::name_addr_general(s, star, false, false);
    EXPECT_EQ(q.error(), gq.error()) << s;
    if (q && gq) {
      EXPECT_TRUE(identical(q->uri, gq->uri) && identical(q->params, gq->params) && identical(q->tag(), gq->tag()))
          << s;
    }
  }
}

// What the corpus phones send: every one is taken by the fast path in every mode.
TEST(name_addr_fast, takes_the_common_shapes) {
  const std::string_view inside[] = {
      R"("Room 1001" <sip:1001@sip.example.net>;tag=210431659)",
      R"("Room 1001" <sip:1001@sip.example.net>)",
      R"(<sip:+4930123456@ims.example.net>;tag=a73kszlfl)",
      R"(<sip:1001@192.168.1.105:5060>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-805EC0A1B2C3>")",
      R"(<sip:alice@192.168.0.23:37421;transport=tls>;+sip.instance="<urn:uuid:5f1e>";expires=3600)",
      "sip:alice@sip.linphone.org",
      "sip:alice@sip.linphone.org;tag=x",
      "Front Desk <sip:3004@voip.example.org>;TAG=1130741876",
      "Desk<sip:3004@voip.example.org>",
      R"(""<sip:a@b.example>)",
      R"("a"<sip:a@b.example>;reg-id=1;tag=2;x)",
      R"(<sip:a@b.example>;lr;tag="q")",
      R"(<sip:a@b.example>;tag)",
      R"(<sip:a@b.example>;tag=1;tag=2)",
      "<sips:a@b.example>;x=[::1]:5",
  };
  for (std::string_view s : inside) {
    for (const mode m : k_modes) EXPECT_TRUE(fast_matches_general(s, m)) << s;
    public_matches_general(s);
  }
}

// Shapes the fast path leaves to the general parser (some valid, some not).
TEST(name_addr_fast, declines_the_rest) {
  const std::string_view outside[] = {
      " <sip:a@b.example>",                  // leading LWS
      "<sip:a@b.example> ",                  // trailing LWS
      "<sip:a@b.example> ;tag=1",            // LWS before ';'
      "<sip:a@b.example>;tag =1",            // LWS before '='
      "<sip:a@b.example>;tag= 1",            // LWS after '='
      R"("a\"b" <sip:a@b.example>)",         // a quoted-pair in the display
      R"("a"  <sip:a@b.example>)",           // two SP before '<'
      "\"a\"\t<sip:a@b.example>",            // HTAB before '<'
      R"("a" )",                             // no '<'
      R"("a"<)",                             // no URI
      R"("a" <)",                            // no URI
      R"("a"<sip:a@b.example>;x="a\"b")",    // a quoted-pair in a param value
      "<sip:a@b.example>;",                  // a trailing ';'
      "<sip:a@b.example>;tag=",              // '=' with no value
      "<sip:a@b.example>;=1",                // no name
      "<sip:a@b.example",                    // no '>'
      "<>",                                  // empty URI
      R"("a" sip:a@b.example)",              // quoted display without <>
      "sip:a@b.example?x=y",                 // '?' in an addr-spec
      "a\r\n b <sip:a@b.example>",           // folded display
      "<sip:a@b.example>;x=\"unterminated",  // unterminated quoted value
      "",
  };
  for (std::string_view s : outside) {
    for (const mode m : k_modes) EXPECT_FALSE(fast_matches_general(s, m)) << s;
    public_matches_general(s);
  }
}

TEST(name_addr_fast, star_is_the_general_parsers_business) {
  sip::name_addr na;
  EXPECT_FALSE(sip::detail::name_addr_fast("*", true, true, false, na));
  const auto star = sip::parse_name_addr("*", true);
  ASSERT_TRUE(star.ok());
  EXPECT_TRUE(star->star);
  public_matches_general("*");
  public_matches_general("*;x=1");
}

// A URI the fast path takes only when the URI grammar is not checked.
TEST(name_addr_fast, check_uri_decides_on_the_uri) {
  const std::string_view s = "<sip:a@256.1.1.1.>;tag=1";
  for (const mode m : k_modes) {
    sip::name_addr na;
    const bool took = sip::detail::name_addr_fast(s, m.allow_star, m.check_uri, m.list_entry, na);
    EXPECT_EQ(took, !m.check_uri || sip::parse_uri("sip:a@256.1.1.1.").ok());
    fast_matches_general(s, m);
  }
  public_matches_general(s);
  public_matches_general("<tel:+1-555>;tag=1");  // not sip: the URI takes the general parse_uri
}

// In a list, the entry ends at the first ',' after the params; outside one, a ',' is an error.
TEST(name_addr_fast, list_entries_end_at_a_comma) {
  const std::string_view line = R"(<sip:a@192.0.2.1:5060>;expires=3600;+sip.instance="<urn:x,y>", <sip:b@example.com>)";
  for (const mode m : k_modes) EXPECT_EQ(fast_matches_general(line, m), m.list_entry) << m.list_entry;
  sip::name_addr na;
  ASSERT_TRUE(sip::detail::name_addr_fast(line, true, true, true, na));
  EXPECT_EQ(na.params, R"(expires=3600;+sip.instance="<urn:x,y>")");
  EXPECT_EQ(na.expires().value_or(0), 3600U);
  const std::string_view no_params = "<sip:a@b.example>,<sip:c@d.example>";
  for (const mode m : k_modes) EXPECT_EQ(fast_matches_general(no_params, m), m.list_entry);
  const std::string_view lws_comma = "<sip:a@b.example>;x=1 ,<sip:c@d.example>";
  for (const mode m : k_modes) EXPECT_FALSE(fast_matches_general(lws_comma, m));
  const std::string_view semi_comma = "<sip:a@b.example>;x=1;,<sip:c@d.example>";
  for (const mode m : k_modes) EXPECT_FALSE(fast_matches_general(semi_comma, m));
}

// The '>' search: every length around the 16-byte block boundaries.
TEST(name_addr_fast, uri_end_at_every_length) {
  for (std::size_t n = 1; n < 70; ++n) {
    std::string s = "<sip:" + std::string(n, 'a') + "@h.example>";
    for (const std::string& tail :
         {std::string{}, std::string(";tag=1"), std::string(";x=\"") + std::string(n, 'q') + "\""}) {
      const std::string full = s + tail;
      // An exactly sized heap copy, so an over-read is an ASan report.
      const auto buf = std::make_unique<char[]>(full.size());
      std::memcpy(buf.get(), full.data(), full.size());
      const std::string_view v(buf.get(), full.size());
      for (const mode m : k_modes) EXPECT_TRUE(fast_matches_general(v, m)) << v;
      const std::string_view cut = v.substr(0, v.size() - 1);  // the last byte (or the '>') missing
      for (const mode m : k_modes) fast_matches_general(cut, m);
      public_matches_general(cut);
    }
  }
}

// A From or To that ends with '>' is proven to hold no '>' before it: one more
// '>' at every place of the URI (the general parser ends the URI there and then
// rejects the rest), at every length around the 16-byte blocks.
TEST(name_addr_fast, a_second_angle_before_the_last) {
  for (std::size_t n = 1; n < 50; ++n) {
    for (std::size_t at = 0; at < n; ++at) {
      std::string uri = "sip:" + std::string(n, 'a') + "@h";
      uri[4 + at] = '>';
      for (const std::string& display : {std::string{}, std::string("\"Room 1001\" ")}) {
        const std::string full = display + "<" + uri + ">";
        const auto buf = std::make_unique<char[]>(full.size());
        std::memcpy(buf.get(), full.data(), full.size());
        const std::string_view v(buf.get(), full.size());
        for (const mode m : k_modes) EXPECT_FALSE(fast_matches_general(v, m)) << v;
        public_matches_general(v);
      }
    }
  }
}

std::string cat(std::initializer_list<std::string_view> parts) {
  std::string r;
  for (const std::string_view p : parts) r.append(p);
  return r;
}

// A value as an exactly sized heap copy, so an over-read is an ASan report.
struct exact_copy {
  std::unique_ptr<char[]> buf;
  std::string_view v;
  explicit exact_copy(const std::string& s) : buf(std::make_unique<char[]>(s.size() + 1)) {
    std::memcpy(buf.get(), s.data(), s.size());
    v = {buf.get(), s.size()};
  }
};

// Header param names and tag values are checked 16 bytes at a time against a
// subset of their class (alphanumerics and "-.+"), the other bytes one by one:
// every byte value at every place around the block boundaries, in values and
// names that are long and short, at the end or followed by another param.
TEST(name_addr_fast, param_name_and_tag_bytes_at_every_place) {
  for (const std::string& prefix :
       {std::string("<sip:a@b.example>"), std::string(R"("Room 1001" <sip:1001@h>)"), std::string("<sip:a>")}) {
    for (std::size_t n : {1U, 2U, 8U, 9U, 15U, 16U, 17U, 31U, 32U, 33U, 40U}) {
      for (std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
        for (int c = 0; c < 256; ++c) {
          std::string run(n, 'a');
          run[at] = static_cast<char>(c);
          for (const std::string& tail : {std::string{}, std::string(";x=1")}) {
            const bool value_ok = sip::chars::is(static_cast<char>(c), sip::chars::k_gen_value);
            const bool name_ok = sip::chars::is_token(static_cast<char>(c));
            // As a tag value, and as a name with and without a value.
            const exact_copy tag(cat({prefix, ";tag=", run, tail}));
            const exact_copy name(cat({prefix, ";", run, "=1", tail}));
            const exact_copy bare(cat({prefix, ";", run, tail}));
            for (const mode m : k_modes) {
              // A ';' splits the run in two params, a ',' may end a list entry.
              if (!m.check_uri && c != ';' && c != ',') {
                EXPECT_EQ(fast_matches_general(tag.v, m), value_ok) << tag.v;
                EXPECT_EQ(fast_matches_general(name.v, m), name_ok) << name.v;
              } else {
                fast_matches_general(tag.v, m);
                fast_matches_general(name.v, m);
              }
              fast_matches_general(bare.v, m);
            }
            public_matches_general(tag.v);
            public_matches_general(name.v);
            public_matches_general(bare.v);
          }
        }
      }
    }
  }
}

// Tags as phones send them, taken with the first "tag" param recorded.
TEST(name_addr_fast, long_and_odd_tags) {
  const std::string_view inside[] = {
      "<sip:+4930123456@ims.example.net>;tag=9d2f7e5c1b3a6f8e0d4c2b1a0f9e8d7c.6b1a",
      "<sip:alice@sip.linphone.org>;tag=~UuG1fX8o",
      "<sip:1001@203.0.113.10>;tag=4a1c9e7b-3d2f-4b8a-a6c5-1e0d9f8b7a6c;x=y",
      "<sip:a@b.example>;tag=a!%*_+`'~-.b;tag=second",
      "<sip:a@b.example>;TaG=[2001:db8::1]:5060",
      R"(<sip:b7c4e1d2@10.1.2.50:51234;transport=tcp>;+sip.instance="<urn:uuid:0>";+u.sip!devicename.ccm.cisco.com="SEP00562B1F7C0A";video)",
  };
  for (std::string_view s : inside) {
    for (const mode m : k_modes) EXPECT_TRUE(fast_matches_general(s, m)) << s;
    public_matches_general(s);
  }
  sip::name_addr na;
  ASSERT_TRUE(sip::detail::name_addr_fast(inside[3], false, false, false, na));
  EXPECT_EQ(na.tag_param, "a!%*_+`'~-.b");
  ASSERT_TRUE(sip::detail::name_addr_fast(inside[1], false, false, false, na));
  EXPECT_EQ(na.tag_param, "~UuG1fX8o");
  const std::string_view outside[] = {
      "<sip:a@b.example>;tag=0123456789/abcdef",    // '/' sits between '.' and '0'
      "<sip:a@b.example>;tag=0123456789abcde@f",    // '@' sits before 'A'
      "<sip:a@b.example>;tag=0123456789abcdef{",    // '{' sits after 'z'
      "<sip:a@b.example>;tag=0123456789abcdef\\x",  // a backslash
      "<sip:a@b.example>;re/g-id=1",                // '/' in a name
      "<sip:a@b.example>;reg:id=1",                 // ':' is a value byte, not a name byte
  };
  for (std::string_view s : outside) {
    for (const mode m : k_modes) EXPECT_FALSE(fast_matches_general(s, m)) << s;
    public_matches_general(s);
  }
}

// The names taken by word compares (tag, reg-id, expires, +sip.instance, each
// with its '='): at the end, before another param, cut short, in another case,
// as the start of a longer name and without a value. Each must answer what the
// class scan answers.
TEST(name_addr_fast, known_param_names) {
  const std::string_view names[] = {
      "tag",           "TAG",     "reg-id",   "REG-ID",         "expires",  "Expires", "+sip.instance",
      "+SIP.instance", "reg-idx", "expiresx", "+sip.instancex", "+sip.ins", "tags"};
  for (const std::string& prefix : {std::string("<sip:a@b.example>"), std::string("<sip:a>"), std::string("sip:a")}) {
    for (const std::string_view n : names) {
      for (const std::string_view v : {"=1", "=3600", "=\"<urn:uuid:0>\"", "", "=", "=\"", "=;x"}) {
        for (const std::string_view tail : {"", ";x=1", ",<sip:c>", ";"}) {
          const exact_copy c(cat({prefix, ";", n, v, tail}));
          const bool valid = !v.empty() && v != "=" && v != "=\"" && v != "=;x" && tail != ";";
          for (const mode m : k_modes) {
            const bool took = fast_matches_general(c.v, m);
            if (!m.check_uri && (tail.empty() || tail == ";x=1")) {
              EXPECT_EQ(took, valid || v.empty()) << c.v;
            }
          }
          public_matches_general(c.v);
          // Every cut of it too: a name or value that ends early.
          for (std::size_t k = prefix.size(); k < c.v.size(); ++k) {
            const exact_copy cut(std::string(c.v.substr(0, k)));
            for (const mode m : k_modes) fast_matches_general(cut.v, m);
            public_matches_general(cut.v);
          }
        }
      }
    }
  }
  sip::name_addr na;
  ASSERT_TRUE(sip::detail::name_addr_fast("<sip:a>;TAG=\"q\";tag=x", false, false, false, na));
  EXPECT_EQ(na.tag_param, "q");
  ASSERT_TRUE(sip::detail::name_addr_fast("<sip:a>;tag;tag=x", false, false, false, na));
  EXPECT_TRUE(na.tag_param.empty() && na.tag_param.data() == nullptr);
}

// A quoted value that ends the params is proven by one pass over its content for
// a '"' or backslash; one that does not end them (or holds one) is searched for:
// every length around the block boundaries, with the odd byte at every place.
TEST(name_addr_fast, quoted_value_at_the_end) {
  for (std::size_t n = 0; n < 70; ++n) {
    for (std::size_t at = 0; at <= n; ++at) {
      for (const char c : {'q', '"', '\\', ','}) {
        std::string content(n, 'q');
        if (at < n) content[at] = c;
        for (const std::string_view tail : {"", ";x=1", ",<sip:c>", "\""}) {
          const exact_copy v(cat({"<sip:a@b.example>;+sip.instance=\"", content, "\"", tail}));
          const bool plain = c == 'q' || c == ',' || at == n;
          for (const mode m : k_modes) {
            const bool took = fast_matches_general(v.v, m);
            if (!m.check_uri && !m.list_entry && tail.empty() && plain) {
              EXPECT_TRUE(took) << v.v;
            }
            if (c == '\\' && at < n) {
              EXPECT_FALSE(took) << v.v;
            }
          }
          public_matches_general(v.v);
        }
      }
    }
  }
}

// A bare addr-spec ends at ';', ',' or LWS, and a '?' before that declines:
// both found by one search, at every length around the block boundaries.
TEST(name_addr_fast, addr_spec_end_and_question_mark) {
  for (std::size_t n = 1; n < 40; ++n) {
    const std::string uri = cat({"sip:", std::string(n, 'a'), "@h.example"});
    for (const std::string& tail :
         {std::string{}, std::string(";tag=1"), std::string(",<sip:b@c>"), std::string(" "), std::string("\r\n"),
          std::string("\t;x"), std::string("?x=y"), std::string("?"), std::string("?;tag=1")}) {
      const exact_copy c(uri + tail);
      const bool question = tail.starts_with("?");
      for (const mode m : k_modes) {
        const bool took = fast_matches_general(c.v, m);
        if (question) {
          EXPECT_FALSE(took) << c.v;
        }
        if (tail.empty() || tail == ";tag=1") {
          EXPECT_TRUE(took) << c.v;
        }
      }
      public_matches_general(c.v);
    }
  }
}

// ------------------------------------------------------------------ URI

bool uri_fast_matches_general(std::string_view s) {
  sip::uri fast;
  if (!sip::detail::parse_uri_fast(s, fast)) return false;
  const auto g = sip::detail::parse_uri_general(s);
  EXPECT_TRUE(g.ok()) << s;
  if (!g) return true;
  EXPECT_EQ(fast.scheme, g->scheme);
  EXPECT_TRUE(identical(fast.scheme_token, g->scheme_token) && identical(fast.raw, g->raw)) << s;
  EXPECT_TRUE(identical(fast.user, g->user) && identical(fast.password, g->password)) << s;
  EXPECT_EQ(fast.has_user, g->has_user);
  EXPECT_EQ(fast.has_password, g->has_password);
  EXPECT_TRUE(identical(fast.host, g->host)) << s;
  EXPECT_EQ(fast.host_type, g->host_type);
  EXPECT_EQ(fast.port, g->port);
  EXPECT_EQ(fast.has_port, g->has_port);
  EXPECT_TRUE(identical(fast.params, g->params) && identical(fast.headers, g->headers)) << s;
  EXPECT_TRUE(identical(fast.opaque, g->opaque)) << s;
  return true;
}

TEST(uri_fast, takes_lower_case_sip_and_sips) {
  for (std::string_view s : {"sip:1001@192.168.1.105:5060"sv, "sips:a@b.example"sv, "sip:b.example"sv,
                             "sip:a:pw@b.example;transport=tcp?x=y"sv, "sip:%61@[2001:db8::1]:5"sv, "sip:a"sv}) {
    EXPECT_TRUE(uri_fast_matches_general(s)) << s;
    EXPECT_TRUE(sip::parse_uri(s).ok()) << s;
  }
}

TEST(uri_fast, declines_other_schemes_and_errors) {
  for (std::string_view s :
       {"SIP:a@b.example"sv, "Sips:a@b.example"sv, "tel:+1-555"sv, "sip:"sv, "sips:"sv, "sip"sv, "sipx:a@b"sv,
        "sip:@b.example"sv, "sip:a@"sv, "sip:a@b.example;"sv, "mailto:a@b"sv, ""sv}) {
    EXPECT_FALSE(uri_fast_matches_general(s)) << s;
    EXPECT_EQ(sip::parse_uri(s).error(), sip::detail::parse_uri_general(s).error()) << s;
  }
}

// parse_uri() (its inline fast path, then the general parser when that declines)
// answers as the general parser does: the same error, or the same fields.
void public_uri_matches_general(std::string_view s) {
  const auto r = sip::parse_uri(s);
  const auto g = sip::detail::parse_uri_general(s);
  ASSERT_EQ(r.error(), g.error()) << s;
  if (!g) return;
  EXPECT_EQ(r->scheme, g->scheme) << s;
  EXPECT_TRUE(identical(r->scheme_token, g->scheme_token) && identical(r->raw, g->raw)) << s;
  EXPECT_TRUE(identical(r->user, g->user) && identical(r->password, g->password)) << s;
  EXPECT_EQ(r->has_user, g->has_user) << s;
  EXPECT_EQ(r->has_password, g->has_password) << s;
  EXPECT_TRUE(identical(r->host, g->host)) << s;
  EXPECT_EQ(r->host_type, g->host_type) << s;
  EXPECT_EQ(r->port, g->port) << s;
  EXPECT_EQ(r->has_port, g->has_port) << s;
  EXPECT_TRUE(identical(r->params, g->params) && identical(r->headers, g->headers)) << s;
  EXPECT_TRUE(identical(r->opaque, g->opaque)) << s;
}

// Contact URIs as the corpus phones write them, and their neighbours: a host
// run of 16 bytes or more (the inline IPv4 case) and less, users that end at
// the '@' or run on (escapes, a password, no '@' at all), params and headers.
// Each as an exactly sized heap copy (an over-read is an ASan report) and every
// prefix of it, so the ends of the view fall inside each part.
TEST(uri_fast, contact_shapes_and_their_prefixes) {
  for (std::string_view s : {"sip:1001@192.168.1.105:5060"sv,
                             "sip:3004@192.168.10.57:5062"sv,
                             "sip:2001@10.20.30.41:5060"sv,
                             "sip:alice@192.168.0.23:37421;transport=tls"sv,
                             "sip:b7c4e1d2-9a3f-4e5b-8c1d-00562b1f7c0a@10.1.2.50:51234;transport=tcp"sv,
                             "sip:+4930123456@192.0.2.17:5060;transport=udp"sv,
                             "sip:+4930123456@[2001:db8::17]:5060;transport=tcp"sv,
                             "sips:1001@192.168.1.105:5061;ob"sv,
                             "sip:1001@pbx.example.com:5060;line=abc123;ob"sv,
                             "sip:1001@192.168.1.105:5060;transport=udp?X-h=1&Y=2"sv,
                             "sip:1001@192.168.1.105:5060?X-h=1"sv,
                             "sip:10%301@192.168.1.105:5060"sv,
                             "sip:1001:secret@192.168.1.105:5060"sv,
                             "sip:1001@10.0.0.1:5060"sv,
                             "sip:1001@192.168.1.105"sv,
                             "sip:192.168.1.105:5060;lr"sv,
                             "sip:1001@192.168.1.256:5060"sv,
                             "sip:1001@192.168.1.105:65536"sv,
                             "sip:1001@192.168.1.105:5060;tr%61nsport=udp"sv,
                             "sip:1001@192.168.1.105:5060;=udp"sv,
                             "sip:1001@192.168.1.105:5060;a=;b"sv,
                             "sip:1001@192.168.1.105:5060;a;;b"sv,
                             "sip:1001@192.168.1.105:5060;a=b=c"sv,
                             "sip:1001@192.168.1.105:5060?"sv,
                             "sip:1001@192.168.1.105:5060?x"sv,
                             "sip:1001@192.168.1.105:5060>"sv,
                             "sip:1001@@192.168.1.105"sv,
                             "sip:1001@192.168.1.105.5060"sv,
                             "sip:1001@1.2.3.4.example.com"sv}) {
    for (std::size_t n = 0; n <= s.size(); ++n) {
      const auto buf = std::make_unique<char[]>(n == 0 ? 1 : n);  // exactly n bytes (one for n = 0)
      std::memcpy(buf.get(), s.data(), n);
      const std::string_view v(buf.get(), n);
      uri_fast_matches_general(v);
      public_uri_matches_general(v);
      // The validate-only check: true only where the general parser succeeds.
      if (sip::detail::uri_ok_fast_for_tests(v)) {
        EXPECT_TRUE(sip::detail::parse_uri_general(v).ok()) << v;
      }
    }
    EXPECT_EQ(sip::parse_uri(s).ok(), sip::detail::parse_uri_general(s).ok()) << s;
  }
}

// The URI check of parse_name_addr() and first_name_addr(): it proves the shapes
// just inside (user "@" IPv4 [":" 1..5 digits <= 65535], the end or a valid tail,
// 16 bytes or more after the scheme) and leaves all others to parse_uri().
TEST(uri_ok_fast, proves_phone_contacts_and_leaves_the_rest) {
  // Exactly sized heap copies: an over-read is an ASan report.
  struct copy {
    std::unique_ptr<char[]> buf;
    std::string_view v;
    explicit copy(std::string_view s) : buf(std::make_unique<char[]>(s.size())) {
      std::memcpy(buf.get(), s.data(), s.size());
      v = {buf.get(), s.size()};
    }
    [[nodiscard]] std::string_view view() const { return v; }
  };
  for (std::string_view s :
       {"sip:1001@192.168.1.105:5060"sv, "sips:1001@192.168.1.105:5061"sv, "sip:1001@192.168.1.105"sv,
        "sip:1@255.255.255.255:65535"sv, "sip:1@1.2.3.4:0;transport=udp"sv, "sip:12345@1.2.3.4:5060"sv,
        "sip:b7c4e1d2-9a3f-4e5b-8c1d-00562b1f7c0a@10.1.2.50:51234;transport=tcp"sv,
        "sip:alice@192.168.0.23:37421;transport=tls"sv, "sip:1001@192.168.1.105:5060?X-h=1"sv,
        "sip:1001@192.168.1.105;lr"sv}) {
    const copy c{s};
    EXPECT_TRUE(sip::detail::uri_ok_fast_for_tests(c.view())) << s;
    EXPECT_TRUE(sip::detail::parse_uri_general(c.view()).ok()) << s;
  }
  for (std::string_view s :
       {"sip:1234@1.2.3.4:506"sv,  // 20 bytes: too short for the 16-byte loads
        "sip:1001@192.168.1.256:5060"sv, "sip:1001@192.168.1.105:65536"sv, "sip:1001@192.168.1.105:123456"sv,
        "sip:1001@192.168.1.105:"sv, "sip:1001@192.168.1.105:5060;"sv, "sip:1001@192.168.1.105:5060>"sv,
        "sip:1001@192.168.1.105a"sv, "sip:1001@192.168.1.105.5"sv, "sip:1001@1.2.3.4.example.com"sv,
        "sip:1001@1.2.3.1234:5060"sv, "sip:@192.168.1.105:5060xx"sv, "sip:10%301@192.168.1.105:5060"sv,
        "sip:1001:pw@192.168.1.105:5060"sv, "SIP:1001@192.168.1.105:5060"sv, "sip:1001@pbx.example.com:5060"sv,
        "sip:1001@[2001:db8::17]:5060"sv, "sip:1001@192.168.1.105:5060;a=;b"sv}) {
    const copy c{s};
    const bool fast = sip::detail::uri_ok_fast_for_tests(c.view());
    EXPECT_FALSE(fast && !sip::detail::parse_uri_general(c.view()).ok()) << s;
    // Just outside the shape: declined, whether or not the URI is valid.
    EXPECT_FALSE(fast) << s;
  }
}

TEST(uri_fast, takes_the_corpus_contacts) {
  for (std::string_view s : {"sip:1001@192.168.1.105:5060"sv, "sip:alice@192.168.0.23:37421;transport=tls"sv,
                             "sip:+4930123456@[2001:db8::17]:5060;transport=tcp"sv,
                             "sip:1001@192.168.1.105:5060;transport=udp?X-h=1&Y=2"sv}) {
    EXPECT_TRUE(uri_fast_matches_general(s)) << s;
  }
}

}  // namespace
