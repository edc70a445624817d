#include <gtest/gtest.h>

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

INSTANTIATE_TEST_SUITE_P(all, parse_isa,
                         ::testing::Values(sip::scan_isa::scalar, sip::scan_isa::sse42, sip::scan_isa::avx2),
                         [](const auto& p) { return std::string(sip::to_string(p.param)); });

}  // namespace
