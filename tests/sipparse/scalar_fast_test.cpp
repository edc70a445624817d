// The fast paths of the start line, Call-ID, CSeq and the integer parsers: inputs
// just inside and just outside each fast path's shapes give the answers the
// general code gives (and the answers these accessors always gave).

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sipfront/sipparse/sipparse.hpp"

namespace sip = sipfront::sip;
using namespace std::string_view_literals;

namespace {

// An exactly sized heap copy, so that ASan builds catch a read past the input.
class exact {
 public:
  explicit exact(std::string_view s) : p_(new char[s.empty() ? 1 : s.size()]), n_(s.size()) {
    if (!s.empty()) std::copy(s.begin(), s.end(), p_.get());
  }
  [[nodiscard]] std::string_view view() const { return {p_.get(), n_}; }

 private:
  std::unique_ptr<char[]> p_;
  std::size_t n_;
};

struct start_line_case {
  std::string_view line;
  sip::errc want;
  bool fast;  // whether the fast path takes it
};

// The fields parse() leaves, with the general grammar alone and through parse().
void expect_start_line(const start_line_case& c) {
  SCOPED_TRACE(testing::Message() << "line: " << std::string(c.line));
  const exact in(c.line);
  const std::string_view line = in.view();
  sip::message general;
  EXPECT_EQ(sip::detail::parse_start_line_general(general, line), c.want);
  sip::message fast;
  EXPECT_EQ(sip::detail::parse_start_line_fast(fast, line), c.fast);
  if (c.fast) {
    EXPECT_EQ(fast.kind(), general.kind());
    EXPECT_EQ(fast.method(), general.method());
    EXPECT_EQ(fast.method_token(), general.method_token());
    EXPECT_EQ(fast.request_uri(), general.request_uri());
    EXPECT_EQ(fast.status_code(), general.status_code());
    EXPECT_EQ(fast.reason(), general.reason());
  }
  // Through parse(): the start line's error, or ok with the general code's fields.
  const std::string dgram = std::string(c.line) + "\r\nCall-ID: a@b\r\n\r\n";
  sip::message m;
  const sip::errc e = m.parse(dgram);
  EXPECT_EQ(e, c.want);
  EXPECT_EQ(m.kind(), general.kind());
  EXPECT_EQ(m.method(), general.method());
  EXPECT_EQ(m.method_token(), general.method_token());
  EXPECT_EQ(m.request_uri(), general.request_uri());
  EXPECT_EQ(m.status_code(), general.status_code());
  EXPECT_EQ(m.reason(), general.reason());
}

TEST(start_line_fast_path, request_lines_inside_and_outside) {
  const std::string long_uri = "sip:" + std::string(200, 'a') + "@example.net";
  const std::string long_line = "REGISTER " + long_uri + " SIP/2.0";
  const std::string bad_long = "REGISTER " + long_uri + "<x SIP/2.0";
  const start_line_case cases[] = {
      {"REGISTER sip:sip.example.net SIP/2.0", sip::errc::ok, true},
      {"OPTIONS sip:1001@192.168.1.105:5060 SIP/2.0", sip::errc::ok, true},
      {"ACK sip:12345678 SIP/2.0", sip::errc::ok, true},
      {"INFO sip:a@b.example SIP/2.0", sip::errc::ok, true},
      {"SUBSCRIBE sip:a@example.net SIP/2.0", sip::errc::ok, true},
      {"SUBSCRIBX sip:a@example.net SIP/2.0", sip::errc::ok, false},   // extension method
      {"REGISTEr sip:sip.example.net SIP/2.0", sip::errc::ok, false},  // case matters
      {"register sip:sip.example.net SIP/2.0", sip::errc::ok, false},
      {"FOO sip:sip.example.net SIP/2.0", sip::errc::ok, false},
      {"REGISTER tel:+4930123456 SIP/2.0", sip::errc::ok, true},       // ':' in the first 8
      {"REGISTER abcdefgh:x SIP/2.0", sip::errc::ok, false},           // ':' after the first 8
      {"REGISTER sip:a.b SIP/2.0", sip::errc::ok, false},              // URI under 8 bytes
      {"REGISTER sip:abcd SIP/2.0", sip::errc::ok, true},              // exactly 8
      {"REGISTER sip:sip.example.net sip/2.0", sip::errc::ok, false},  // version case
      {"REGISTER sip:sip.example.net SIP/2.1", sip::errc::bad_version, false},
      {"REGISTER sip:sip.example.net SIP/2.0 ", sip::errc::bad_start_line, false},
      {"REGISTER  sip:sip.example.net SIP/2.0", sip::errc::bad_start_line, false},
      {"REGISTER sip:sip.example.net  SIP/2.0", sip::errc::bad_start_line, false},
      {"REGISTER sip:sip.exa mple.net SIP/2.0", sip::errc::bad_request_uri, false},
      {"REGISTER sip:sip.exa<mple.net SIP/2.0", sip::errc::bad_request_uri, false},
      {"REGISTER sip:sip.exa>mple.net SIP/2.0", sip::errc::bad_request_uri, false},
      {"REGISTER sip:sip.exa\"mple.net SIP/2.0", sip::errc::bad_request_uri, false},
      {"REGISTER sip:sip.exa=mple.net SIP/2.0", sip::errc::ok, true},  // '=' (0x3d) is fine
      {"REGISTER sip:sip.exa;mple.net SIP/2.0", sip::errc::ok, true},
      {"REGISTER sip:sip.exa\x7fmple.net SIP/2.0", sip::errc::bad_request_uri, false},
      {"REGISTER sip:sip.exa\x80mple.net SIP/2.0", sip::errc::bad_request_uri, false},
      {"REGISTER sip:sip.exa\x01mple.net SIP/2.0", sip::errc::bad_request_uri, false},
      {"REGISTER sip:sip.exa~mple.ne! SIP/2.0", sip::errc::ok, true},  // 0x7e and 0x21
      {"REGISTER 1ip:sip.example.net SIP/2.0", sip::errc::bad_request_uri, false},
      {"REGISTER sipsip.example.net SIP/2.0", sip::errc::bad_request_uri, false},
      {"REGISTER SIP/2.0", sip::errc::bad_start_line, false},
      {"REGISTER sip:sip.example.net", sip::errc::bad_start_line, false},
      {"REGISTERsip:sip.example.net SIP/2.0", sip::errc::bad_start_line, false},
      {"REGIS(ER sip:sip.example.net SIP/2.0", sip::errc::bad_method, false},
      {long_line, sip::errc::ok, true},
      {bad_long, sip::errc::bad_request_uri, false},
  };
  for (const auto& c : cases) expect_start_line(c);
  // Every position of a bad byte in URIs of 8..70 bytes (each load size and overlap).
  for (std::size_t n = 8; n <= 70; ++n) {
    std::string uri = "sip:" + std::string(n - 4, 'x');
    expect_start_line({"INVITE " + uri + " SIP/2.0", sip::errc::ok, true});
    for (std::size_t i = 4; i < n; ++i) {
      std::string bad = uri;
      bad[i] = '<';
      const std::string line = "INVITE " + bad + " SIP/2.0";
      expect_start_line({line, sip::errc::bad_request_uri, false});
    }
  }
}

TEST(start_line_fast_path, status_lines_inside_and_outside) {
  const start_line_case cases[] = {
      {"SIP/2.0 200 OK", sip::errc::ok, true},
      {"SIP/2.0 401 Unauthorized", sip::errc::ok, true},
      {"SIP/2.0 100 Trying", sip::errc::ok, true},
      {"SIP/2.0 699 x", sip::errc::ok, true},
      {"SIP/2.0 200", sip::errc::ok, true},
      {"SIP/2.0 200 ", sip::errc::ok, true},
      {"SIP/2.0 200 O\tK", sip::errc::ok, true},
      {"SIP/2.0 200 Gr\303\274\303\237e", sip::errc::ok, true},  // UTF-8
      {"SIP/2.0 200  two spaces", sip::errc::ok, true},
      // Ends like a request line: the request path declines it first.
      {"SIP/2.0 200 OK SIP/2.0", sip::errc::ok, true},
      {"SIP/2.0 200 SIP/2.0", sip::errc::ok, true},
      {"SIP/2.0 200 O\x01K", sip::errc::bad_reason, false},
      {"SIP/2.0 200 OK\x7f", sip::errc::bad_reason, false},
      {"SIP/2.0 200 a very long reason phrase with a bad byte at the end\x1f", sip::errc::bad_reason, false},
      {"SIP/2.0 099 Low", sip::errc::bad_status_code, false},
      {"SIP/2.0 700 High", sip::errc::bad_status_code, false},
      {"SIP/2.0 2000 OK", sip::errc::bad_status_code, false},
      {"SIP/2.0 20a OK", sip::errc::bad_status_code, false},
      {"SIP/2.0 20", sip::errc::bad_status_code, false},
      {"SIP/2.0  200 OK", sip::errc::bad_status_code, false},
      {"SIP/2.0\t200 OK", sip::errc::bad_start_line, false},
      {"sip/2.0 200 OK", sip::errc::ok, false},
      {"SIP/2.1 200 OK", sip::errc::bad_version, false},
      {"SIP/2.0", sip::errc::bad_start_line, false},
  };
  for (const auto& c : cases) expect_start_line(c);
  // A bad byte at every position of reasons of 0..40 bytes.
  for (std::size_t n = 0; n <= 40; ++n) {
    const std::string reason(n, 'r');
    expect_start_line({"SIP/2.0 486 " + reason, sip::errc::ok, true});
    for (std::size_t i = 0; i < n; ++i) {
      std::string bad = reason;
      bad[i] = '\x0b';
      const std::string line = "SIP/2.0 486 " + bad;
      expect_start_line({line, sip::errc::bad_reason, false});
    }
  }
}

TEST(method_fast_path, every_well_known_name_and_near_misses) {
  for (auto i = static_cast<unsigned>(sip::method::invite); i <= static_cast<unsigned>(sip::method::publish); ++i) {
    const auto m = static_cast<sip::method>(i);
    const std::string name(sip::to_string(m));
    EXPECT_EQ(sip::method_from_token(exact(name).view()), m) << name;
    for (std::size_t k = 0; k < name.size(); ++k) {
      std::string near = name;
      near[k] = static_cast<char>(near[k] ^ 0x20);  // the same letter in the other case
      EXPECT_EQ(sip::method_from_token(exact(near).view()), sip::method::extension) << near;
    }
    EXPECT_EQ(sip::method_from_token(exact(name + "X").view()), sip::method::extension);
    EXPECT_EQ(sip::method_from_token(exact(name.substr(1)).view()), sip::method::extension);
  }
  for (std::string_view t : {""sv, "A"sv, "AC"sv, "ACKACKACKA"sv, "sUBSCRIBE"sv, "SUBSCRIBe"sv}) {
    EXPECT_EQ(sip::method_from_token(exact(t).view()), sip::method::extension) << t;
  }
}

TEST(call_id_fast_path, inside_and_outside) {
  const std::string_view ok[] = {
      "1366371089@192.168.1.105"sv,
      "hT7vQ2n8Rk"sv,
      "ws-client-77"sv,
      "12345678"sv,
      "7f3e2d1c-0b9a-4876-a543-210fedcba987"sv,
      "00562b1f-7c0a0003-5e2d8c4a-1b7f3e90@10.1.2.50"sv,
      "1j9FpLxk3uxtm8tn@[2001:db8::10]"sv,  // brackets: general path
      "a_b~c+d!e%f*g'h`i(j)k<l>m\\n\"o/p?q{r}s:t@u"sv,
      "1234567"sv,
      "a@b"sv,
      "x"sv,
      "0123456789012345678901234567890123456789012345678901234567890123"sv,    // 64
      "0123456789012345678901234567890123456789012345678901234567890123@x"sv,  // 66
  };
  const std::string_view bad[] = {
      ""sv,
      "@"sv,
      "@abcdefghij"sv,
      "abcdefghij@"sv,
      "abc@def@ghij"sv,
      "abcdefgh ij"sv,
      "abcdefgh;ij"sv,
      "abcdefgh#ij"sv,
      "abcdefgh=ij"sv,
      "abcdefgh^ij"sv,
      "abcdefgh|ij"sv,
      "abcdefgh,ij"sv,
      "abc\200defghij"sv,
      "abcdefghij\x7f"sv,
      "abc\001defghij"sv,
      "abcdefgh@@ij"sv,
  };
  for (std::string_view s : ok) {
    const exact in(s);
    const auto r = sip::parse_call_id(in.view());
    EXPECT_TRUE(r.ok()) << s;
    EXPECT_EQ(r.error(), sip::detail::parse_call_id_general(in.view()).error()) << s;
  }
  for (std::string_view s : bad) {
    const exact in(s);
    EXPECT_EQ(sip::parse_call_id(in.view()).error(), sip::errc::bad_call_id) << s;
    EXPECT_EQ(sip::detail::parse_call_id_general(in.view()).error(), sip::errc::bad_call_id) << s;
  }
  // One '@' or a bad byte at every position of 8..70-byte Call-IDs.
  for (std::size_t n = 8; n <= 70; ++n) {
    for (std::size_t i = 0; i < n; ++i) {
      for (char c : {'@', ' ', ';', '_', '\xff'}) {
        std::string s(n, 'a');
        s[i] = c;
        const exact in(s);
        const auto fast = sip::parse_call_id(in.view());
        const auto general = sip::detail::parse_call_id_general(in.view());
        ASSERT_EQ(fast.error(), general.error()) << s;
        if (c == '@') {
          ASSERT_EQ(fast.ok(), i != 0 && i + 1 != n) << s;
        }
      }
    }
  }
  // The fast path's one exception byte is the '@': a second odd byte anywhere, or
  // '`' (a word character it leaves out, as '@' folds onto it), and it declines.
  for (std::size_t n : {8U, 15U, 16U, 17U, 24U, 31U, 32U, 33U, 48U, 64U}) {
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        for (char c : {'@', '`', ';', 'Z', '\xc0'}) {
          std::string s(n, 'a');
          s[i] = '@';
          s[j] = c;
          const exact in(s);
          const auto fast = sip::parse_call_id(in.view());
          const auto general = sip::detail::parse_call_id_general(in.view());
          ASSERT_EQ(fast.error(), general.error()) << s;
        }
      }
    }
  }
}

TEST(cseq_fast_path, inside_and_outside) {
  struct c {
    std::string_view s;
    sip::errc want;
    std::uint32_t number;
    sip::method m;
  };
  const c cases[] = {
      {"1 REGISTER", sip::errc::ok, 1, sip::method::register_},
      {"0 ACK", sip::errc::ok, 0, sip::method::ack},
      {"0009 INVITE", sip::errc::ok, 9, sip::method::invite},
      {"999999999 BYE", sip::errc::ok, 999999999, sip::method::bye},
      {"1234567890 BYE", sip::errc::ok, 1234567890, sip::method::bye},  // 10 digits: general path
      {"2147483647 OPTIONS", sip::errc::ok, 2147483647, sip::method::options},
      {"2147483648 OPTIONS", sip::errc::integer_overflow, 0, sip::method::extension},
      {"1 FOO", sip::errc::ok, 1, sip::method::extension},
      {"1 register", sip::errc::ok, 1, sip::method::extension},
      {"1  REGISTER", sip::errc::ok, 1, sip::method::register_},
      {"1\tREGISTER", sip::errc::ok, 1, sip::method::register_},
      {" 1 REGISTER ", sip::errc::ok, 1, sip::method::register_},
      {"1 REGISTER ", sip::errc::ok, 1, sip::method::register_},
      {"1 REG ISTER", sip::errc::bad_cseq, 0, sip::method::extension},
      {"1 REGISTER;x", sip::errc::bad_cseq, 0, sip::method::extension},
      {"1REGISTER", sip::errc::bad_cseq, 0, sip::method::extension},
      {"REGISTER", sip::errc::bad_cseq, 0, sip::method::extension},
      {"1 ", sip::errc::bad_cseq, 0, sip::method::extension},
      {"1 AC", sip::errc::ok, 1, sip::method::extension},
      {"1 ACK", sip::errc::ok, 1, sip::method::ack},
      {"9 SUBSCRIBE", sip::errc::ok, 9, sip::method::subscribe},
      {"9 SUBSCRIBX", sip::errc::ok, 9, sip::method::extension},
      {"12 ACK", sip::errc::ok, 12, sip::method::ack},
      {"1x ACK", sip::errc::bad_cseq, 0, sip::method::extension},
      {"x1 ACK", sip::errc::bad_cseq, 0, sip::method::extension},
      {"/ ACK", sip::errc::bad_cseq, 0, sip::method::extension},
      {": ACK", sip::errc::bad_cseq, 0, sip::method::extension},
      {"", sip::errc::bad_cseq, 0, sip::method::extension},
  };
  for (const auto& k : cases) {
    const exact in(k.s);
    const auto r = sip::parse_cseq(in.view());
    const auto g = sip::detail::parse_cseq_general(in.view());
    EXPECT_EQ(r.error(), k.want) << k.s;
    EXPECT_EQ(g.error(), k.want) << k.s;
    if (r) {
      EXPECT_EQ(r->number, k.number) << k.s;
      EXPECT_EQ(r->method, k.m) << k.s;
      EXPECT_EQ(r->number, g->number) << k.s;
      EXPECT_EQ(r->method_token, g->method_token) << k.s;
      EXPECT_EQ(r->method_token.data(), g->method_token.data()) << k.s;
    }
  }
}

TEST(integer_fast_path, one_to_four_digits_and_neighbours) {
  std::vector<std::string> inputs = {
      "",      "0",  "9",  "00", "70", "255", "256", "999",  "1000",  "3600", "9999", "65535", "65536", "12345", "0000",
      "00000", "-1", "+1", "1 ", " 1", "1a",  "a1",  "12a4", "1234a", "/",    ":",    "0x10",  "\xb0",  "3\2600"};
  for (int c = 0; c < 256; ++c) {
    inputs.emplace_back(1, static_cast<char>(c));
    inputs.push_back("1" + std::string(1, static_cast<char>(c)));
    inputs.push_back("12" + std::string(1, static_cast<char>(c)));
    inputs.push_back("123" + std::string(1, static_cast<char>(c)));
    inputs.push_back(std::string(1, static_cast<char>(c)) + "234");
    inputs.push_back("1" + std::string(1, static_cast<char>(c)) + "34");
    inputs.push_back("12" + std::string(1, static_cast<char>(c)) + "4");
    // A bad byte below another: the lower one's borrow or carry runs into it.
    inputs.push_back(std::string(1, static_cast<char>(c)) + "/:4");
    inputs.push_back("1" + std::string(1, static_cast<char>(c)) + "\xff\x80");
    inputs.push_back(std::string(1, static_cast<char>(c)) + std::string(1, static_cast<char>(255 - c)) + "00");
  }
  for (const std::string& s : inputs) {
    const exact in(s);
    const std::string_view v = in.view();
    for (std::uint64_t max : {0ULL, 9ULL, 99ULL, 255ULL, 999ULL, 9999ULL, 65535ULL, 0xffffffffULL, ~0ULL}) {
      const auto r = sip::parse_uint(v, max);
      const auto g = sip::detail::parse_uint_general(v, max);
      ASSERT_EQ(r.error(), g.error()) << s << " max " << max;
      ASSERT_EQ(r.value_or(0), g.value_or(0)) << s;
    }
    const auto g8 = sip::detail::parse_uint_general(v, 255);
    const auto mf = sip::parse_max_forwards(v);
    ASSERT_EQ(mf.error(), g8.error()) << s;
    ASSERT_EQ(mf.value_or(0), g8.value_or(0)) << s;
    const auto g32 = sip::detail::parse_uint_general(v, 0xffffffffULL);
    const auto ds = sip::parse_delta_seconds(v);
    ASSERT_EQ(ds.error(), g32.error()) << s;
    ASSERT_EQ(ds.value_or(0), g32.value_or(0)) << s;
    const auto g16 = sip::detail::parse_uint_general(v, 65535);
    const auto cl = sip::parse_content_length(v);
    ASSERT_EQ(cl.error(),
              g16 || g16.error() == sip::errc::integer_overflow ? g16.error() : sip::errc::bad_content_length)
        << s;
    ASSERT_EQ(cl.value_or(0), g16.value_or(0)) << s;
  }
  EXPECT_EQ(sip::parse_delta_seconds("3600").value(), 3600U);
  EXPECT_EQ(sip::parse_content_length("0").value(), 0U);
  EXPECT_EQ(sip::parse_max_forwards("70").value(), 70U);
  EXPECT_EQ(sip::parse_max_forwards("256").error(), sip::errc::integer_overflow);
  EXPECT_EQ(sip::parse_content_length("1a").error(), sip::errc::bad_content_length);
}

}  // namespace
