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
