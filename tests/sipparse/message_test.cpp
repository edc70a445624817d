#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "sipfront/sipparse/sipparse.hpp"

namespace sip = sipfront::sip;
using namespace std::string_view_literals;

namespace {

constexpr std::string_view k_register =
    "REGISTER sip:example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK776asdhds;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@example.com>\r\n"
    "From: Bob <sip:bob@example.com>;tag=456248\r\n"
    "Call-ID: 843817637684230@998sdasdh09\r\n"
    "CSeq: 1826 REGISTER\r\n"
    "Contact: <sip:bob@198.18.1.2:5060>;expires=3600\r\n"
    "Expires: 7200\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

class parse_isa : public ::testing::TestWithParam<sip::scan_isa> {
 protected:
  const sip::scanner& scan() const { return sip::scanner_for(GetParam()); }
};

TEST_P(parse_isa, register_indexes_every_header) {
  if (!sip::isa_supported(GetParam())) GTEST_SKIP() << "CPU lacks " << sip::to_string(GetParam());
  sip::message m;
  ASSERT_EQ(m.parse(k_register, scan()), sip::errc::ok);
  EXPECT_TRUE(m.is_request());
  EXPECT_EQ(m.method(), sip::method::register_);
  EXPECT_EQ(m.request_uri(), "sip:example.com");
  EXPECT_EQ(m.headers().size(), 9U);
  EXPECT_EQ(m.value_of(sip::header_id::call_id), "843817637684230@998sdasdh09");
  EXPECT_EQ(m.body().size(), 0U);
  EXPECT_TRUE(sip::validate(m).ok());
}

// The 64-byte classifier behind the header index: every variant sets exactly the
// bits of '\n' and ':' bytes, for every position, next to bytes with the high bit set.
TEST_P(parse_isa, classify64_matches_scalar_for_every_position) {
  if (!sip::isa_supported(GetParam())) GTEST_SKIP() << "CPU lacks " << sip::to_string(GetParam());
  const sip::scanner& ref = sip::scanner_for(sip::scan_isa::scalar);
  const sip::scanner& sc = scan();
  for (char filler : {'a', '\xff', '\r', '\0'}) {
    for (std::size_t pos = 0; pos < 64; ++pos) {
      for (char target : {'\n', ':'}) {
        std::string buf(64, filler);
        buf[pos] = target;
        buf[63 - pos] = target == '\n' ? ':' : '\n';
        const sip::block_masks r = ref.classify64(buf.data());
        const sip::block_masks v = sc.classify64(buf.data());
        std::uint64_t lf = 0;
        std::uint64_t colon = 0;
        for (std::size_t i = 0; i < 64; ++i) {
          lf |= static_cast<std::uint64_t>(buf[i] == '\n') << i;
          colon |= static_cast<std::uint64_t>(buf[i] == ':') << i;
        }
        ASSERT_EQ(r.lf, lf) << pos;
        ASSERT_EQ(r.colon, colon) << pos;
        ASSERT_EQ(v.lf, lf) << pos;
        ASSERT_EQ(v.colon, colon) << pos;
      }
    }
  }
}

// The SSE2 helpers of the value accessors against their scalar twins: every
// special byte at every position and length, next to high-bit bytes.
TEST(scanner, value_helpers_match_scalar_twins) {
  for (char filler : {'a', '\xff', '\0', ' '}) {
    for (std::size_t len = 0; len <= 80; ++len) {
      for (std::size_t pos = 0; pos <= len; ++pos) {
        for (char special : {',', '"', '<', '>', '\\', 'x'}) {
          std::string buf(len, filler);
          if (pos < len) buf[pos] = special;
          const char* b = buf.data();
          const char* e = b + len;
          const std::size_t n = std::min<std::size_t>(64, len);
          std::uint64_t expect = 0;
          for (std::size_t i = 0; i < n; ++i) {
            if (std::string_view(",\"<>\\").find(buf[i]) != std::string_view::npos) expect |= std::uint64_t{1} << i;
          }
          ASSERT_EQ(sip::detail::list_special_mask64_scalar(b, n), expect) << len << " " << pos;
#if defined(__SSE2__)
          ASSERT_EQ(sip::detail::list_special_mask64_sse2(b, n), expect) << len << " " << pos;
#endif
          const char* q = b;
          while (q < e && *q != '"' && *q != '\\') ++q;
          ASSERT_EQ(sip::detail::find_quote_or_backslash_scalar(b, e), q) << len << " " << pos;
#if defined(__SSE2__)
          ASSERT_EQ(sip::detail::find_quote_or_backslash_sse2(b, e), q) << len << " " << pos;
#endif
        }
      }
    }
  }
}

// Header names and values of every length put ':' and line ends at every offset
// from a 16/32-byte boundary; the index must equal the scalar one.
TEST_P(parse_isa, index_matches_scalar_for_every_alignment) {
  if (!sip::isa_supported(GetParam())) GTEST_SKIP() << "CPU lacks " << sip::to_string(GetParam());
  for (std::size_t n = 1; n <= 70; ++n) {
    std::string s = "OPTIONS sip:a@example.com SIP/2.0\r\n";
    s += "X-" + std::string(n, 'n') + ": " + std::string(n, 'v') + "\r\n";
    s += "Subject: " + std::string(n % 7, 's') + "\r\n  folded " + std::string(n, 'f') + "\r\n";
    s += std::string(1 + n % 5, 'k') + ":" + std::string(n, 'w') + "\r\n";
    s += "Call-ID: " + std::string(n, 'c') + "@h\r\n\r\nbody";
    sip::message ref;
    sip::message m;
    ASSERT_EQ(ref.parse(s, sip::scanner_for(sip::scan_isa::scalar)), sip::errc::ok) << n;
    ASSERT_EQ(m.parse(s, scan()), sip::errc::ok) << n;
    ASSERT_EQ(m.headers().size(), 4U) << n;
    ASSERT_EQ(ref.headers().size(), 4U) << n;
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(m.name(m.headers()[i]), ref.name(ref.headers()[i])) << n;
      EXPECT_EQ(m.value(m.headers()[i]), ref.value(ref.headers()[i])) << n;
    }
    EXPECT_EQ(m.value(m.headers()[0]), std::string(n, 'v'));
    EXPECT_EQ(m.value(m.headers()[2]), std::string(n, 'w'));
    EXPECT_EQ(m.value_of(sip::header_id::call_id), std::string(n, 'c') + "@h");
    EXPECT_EQ(m.body(), "body");
  }
}

// Every observable field of two indexes of the same datagram.
void expect_same_index(const sip::message& a, const sip::message& b, const std::string& what) {
  ASSERT_EQ(a.parse_error(), b.parse_error()) << what;
  EXPECT_EQ(a.kind(), b.kind()) << what;
  EXPECT_EQ(a.leading_skipped(), b.leading_skipped()) << what;
  EXPECT_EQ(a.start_line(), b.start_line()) << what;
  EXPECT_EQ(a.headers_offset(), b.headers_offset()) << what;
  EXPECT_EQ(a.headers_end(), b.headers_end()) << what;
  EXPECT_EQ(a.body().data(), b.body().data()) << what;
  EXPECT_EQ(a.body().size(), b.body().size()) << what;
  ASSERT_EQ(a.headers().size(), b.headers().size()) << what;
  for (std::size_t i = 0; i < a.headers().size(); ++i) {
    const sip::header_entry& x = a.headers()[i];
    const sip::header_entry& y = b.headers()[i];
    EXPECT_TRUE(x.name_off == y.name_off && x.name_len == y.name_len && x.value_off == y.value_off &&
                x.value_len == y.value_len && x.id == y.id)
        << what << " header " << i;
  }
  for (std::size_t i = 0; i < sip::header_id_count; ++i) {
    const auto id = static_cast<sip::header_id>(i);
    EXPECT_EQ(a.count(id), b.count(id)) << what;
    const sip::header_entry* fa = a.find(id);
    const sip::header_entry* fb = b.find(id);
    ASSERT_EQ(fa == nullptr, fb == nullptr) << what;
    if (fa != nullptr) {
      EXPECT_EQ(a.index_of(*fa), b.index_of(*fb)) << what;
    }
  }
}

// Header lines just inside and just outside the index loop's fast shapes (colon
// among the first 16 bytes of a line with 16 bytes left in the datagram, known
// names of every length, ": value\r\n" values), placed at every distance from the
// datagram's end and from a 64-byte block boundary: every variant must build the
// index the plain byte-by-byte reference builds.
TEST_P(parse_isa, index_matches_reference_at_fast_path_edges) {
  if (!sip::isa_supported(GetParam())) GTEST_SKIP() << "CPU lacks " << sip::to_string(GetParam());
  const std::string lines[] = {
      "Via: SIP/2.0/UDP h:5060",
      "via:x",
      "VIA :x",
      "Via\t: x",
      "v:x",
      "V :  x",
      "i: a@b",
      "x: y",
      "1: y",
      ": empty name",
      "NoColon",
      "No Colon here",
      "Name:",
      "Name: ",
      "Name:  \t x \t ",
      "Name:x",
      "Name:\tx",
      "Call-ID:x",
      "call-id: x",
      "CALL-ID :x",
      "Call-Id\t\t: x",
      "CSeq: 1 A",
      "To: <sip:a@b>",
      "Content-Type: a/b",
      "Content-Length: 0",
      "Content-Lengtx: 0",
      "WWW-Authenticate: x",
      "WWW-Authenticatf: x",
      "Proxy-Authorization: x",
      "Proxy-Authorizatioo: x",
      "Content-Disposition: s",
      "Request-Disposition: x",
      "Request-Dispositio: x",
      "X-Sixteen-Chars1: v",
      "X-Fifteen-Chars: v",
      "X-Seventeen-Chars: v",
      "X-Twenty-Four-Chars-Name: v",
      "X-Twenty-Five-Chars-Namee: v",
      "Subject: a\r\n folded",
      "Subject:\r\n\tfolded\r\n more",
      "Bad\x01Name: x",
      "\xffName: x",
      "Na\xffme: x",
      "ab:c:d",
      "Long-Value: " + std::string(90, 'v'),
      "Name: x\r",
      "Name:\r",
      "A:\r\r",
      // The name's slot from its first bytes and the colon's offset, the colon part
      // of the compare: trimmed names (the third byte is no longer the colon), mixed
      // case, first bytes and length shared with a known name, 15 and 16 bytes.
      "To :x",
      "tO\t: x",
      "t :x",
      "Tp: x",
      "Tox: x",
      "Viaa: x",
      "mAX-fORWARDS: 70",
      "Max-Forwards :70",
      "Contacx: x",
      "Referred-By: x",
      "Retry-After: 1",
      "Refry-After: 1",
      "Re: x",
      "Session-Expires: 1",
      "Session-Expirex: 1",
      "Content-Encoding: x",
      // The common line's value tests (": " before the value, a byte above ' ' on
      // either side of it, CR LF after it), just inside and just outside each.
      "Via: !",
      "Via: \xff",
      "Via: \x7f",
      "Via:  x",
      "Via:\tx",
      "Via: x ",
      "Via: x\t",
      "Via: x\r",
      "Via: ",
      "Via:",
      "Via: \x20!",
      // No colon among a line's first 16 bytes (the loop's stand-in colon): a known
      // name of 16 bytes and more, unknown names, a line with no colon at all.
      "Proxy-Authenticate: x",
      "Content-Encodingx: gzip",
      "ABCDEFGHIJKLMNOPQRSTUVW: x",
      "NoColonAtAllInThisLongLine x y z",
      "NoColonInTheFirstSixteen x: y",
      "Via: a\r\nVia: b\r\nvia: c\r\nv: d",
      "Contact: a\r\nm: b",
      // frame_body()'s one-digit case inline, and what it leaves to frame_body().
      "Content-Length: 4",
      "Content-Length: 9",
      "Content-Length: x",
      "Content-Length: 00",
      "Content-Length: 10",
      "l: 3",
      "Content-Length:",
  };
  // The line ends the walker keeps out of its masks (a datagram's last byte) and
  // gives from its end path: a last line with or without its line end, a fold or
  // a lone CR after it.
  const std::string ends[] = {"\r\n\r\n", "\r\n",  "\n\n",   "\n",        "", "\r\nCall-ID: c\r\n\r\nbody",
                              "\r\n ",    "\n \n", "\r\n\r", "\r\n\t\r\n"};
  const sip::scanner& sc = scan();
  for (const std::string& line : lines) {
    for (const std::string& end : ends) {
      for (std::size_t pad = 0; pad <= 70; ++pad) {
        std::string s = "OPTIONS sip:a@example.com SIP/2.0\r\n";
        if (pad > 0) s += "P:" + std::string(pad - 1, 'p') + "\r\n";
        s += line + end;
        for (const std::string& d : {s, s.substr(34)}) {  // and without the start line (a short datagram)
          sip::message ref;
          sip::message m;
          sip::detail::index_reference(ref, d);
          m.parse(d, sc);
          expect_same_index(m, ref, d);
          if (::testing::Test::HasFailure()) return;
        }
      }
    }
  }
}

// The common line's entry store at the index's capacity: the line after the last
// entry the index holds is skipped, with too_many_headers, as the reference does.
TEST_P(parse_isa, index_matches_reference_at_max_headers) {
  if (!sip::isa_supported(GetParam())) GTEST_SKIP() << "CPU lacks " << sip::to_string(GetParam());
  for (const char* extra : {"Call-ID: x", "X-Other: x", "Via:x"}) {
    for (std::size_t k = sip::message::max_headers - 1; k <= sip::message::max_headers + 1; ++k) {
      std::string d = "OPTIONS sip:a@example.com SIP/2.0\r\n";
      for (std::size_t i = 0; i < k; ++i) d += "Via: h" + std::to_string(i) + "\r\n";
      d += std::string(extra) + "\r\n\r\n";
      sip::message ref;
      sip::message m;
      sip::detail::index_reference(ref, d);
      EXPECT_EQ(m.parse(d, scan()), ref.parse_error());
      expect_same_index(m, ref, d);
    }
  }
}

// count() keeps no per-id counter: 0, 1, or the entries from the first counted.
TEST(message, count_of_repeated_headers) {
  sip::message m;
  ASSERT_EQ(m.parse("OPTIONS sip:a SIP/2.0\r\nVia: a\r\nTo: t\r\nv: b\r\nX-A: 1\r\nVIA: c\r\nX-B: 2\r\n\r\n"),
            sip::errc::ok);
  EXPECT_EQ(m.count(sip::header_id::via), 3U);
  EXPECT_EQ(m.count(sip::header_id::to), 1U);
  EXPECT_EQ(m.count(sip::header_id::other), 2U);
  EXPECT_EQ(m.count(sip::header_id::from), 0U);
  EXPECT_EQ(m.value_of(sip::header_id::via), "a");
  // A new datagram starts from no repeats.
  ASSERT_EQ(m.parse("OPTIONS sip:a SIP/2.0\r\nVia: a\r\n\r\n"), sip::errc::ok);
  EXPECT_EQ(m.count(sip::header_id::via), 1U);
  EXPECT_EQ(m.count(sip::header_id::other), 0U);
}

// The reference itself on a few answers fixed before the fast paths existed.
TEST(index_reference, known_answers) {
  sip::message m;
  ASSERT_EQ(sip::detail::index_reference(m, k_register), sip::errc::ok);
  EXPECT_EQ(m.headers().size(), 9U);
  EXPECT_EQ(m.value_of(sip::header_id::via), "SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK776asdhds;rport");
  EXPECT_EQ(m.count(sip::header_id::contact), 1U);
  EXPECT_EQ(sip::detail::index_reference(m, "OPTIONS sip:a SIP/2.0\r\nVia :  x \t\r\nNoColon\r\n\r\n"),
            sip::errc::bad_header_line);
  ASSERT_EQ(m.headers().size(), 1U);
  EXPECT_EQ(m.name(m.headers()[0]), "Via");
  EXPECT_EQ(m.value(m.headers()[0]), "x");
  EXPECT_EQ(sip::detail::index_reference(m, "OPTIONS sip:a SIP/2.0\r\nVia: x"), sip::errc::no_header_end);
}

TEST(scanner, selection) {
  EXPECT_EQ(sip::scanner_for(sip::scan_isa::scalar).isa, sip::scan_isa::scalar);
  EXPECT_TRUE(sip::isa_supported(sip::scan_isa::scalar));
  for (auto isa : {sip::scan_isa::sse42, sip::scan_isa::avx2}) {
    // An unsupported variant falls back to the scalar one rather than crashing.
    EXPECT_EQ(sip::scanner_for(isa).isa, sip::isa_supported(isa) ? isa : sip::scan_isa::scalar);
  }
  const sip::scan_isa best = sip::best_scanner().isa;
  EXPECT_TRUE(sip::isa_supported(best));
  if (sip::isa_supported(sip::scan_isa::avx2)) {
    EXPECT_EQ(best, sip::scan_isa::avx2);
  }
  EXPECT_EQ(sip::to_string(sip::scan_isa::scalar), "scalar");
  EXPECT_EQ(sip::to_string(sip::scan_isa::sse42), "sse42");
  EXPECT_EQ(sip::to_string(sip::scan_isa::avx2), "avx2");
}

INSTANTIATE_TEST_SUITE_P(all, parse_isa,
                         ::testing::Values(sip::scan_isa::scalar, sip::scan_isa::sse42, sip::scan_isa::avx2),
                         [](const auto& p) { return std::string(sip::to_string(p.param)); });

}  // namespace
