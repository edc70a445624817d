// Digest answers (RFC 2617 / RFC 7616): the RFC examples, no-qop (RFC 2069), -sess,
// opaque echo, stale, and challenges that must be refused. Expected responses are
// the RFCs' published values, or were computed independently (Python hashlib) for
// the inputs written next to them.
#include "sipfront/regengine/digest.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

#include "sipfront/sipparse/values.hpp"

namespace reg = sipfront::reg;
namespace sip = sipfront::sip;

namespace {

// Parses `value` (a WWW-Authenticate value) into `ch`.
reg::digest_errc challenge(std::string_view value, reg::digest_challenge& ch) {
  const auto a = sip::parse_auth(value);
  EXPECT_TRUE(static_cast<bool>(a)) << value;
  if (!a) return reg::digest_errc::not_digest;
  return reg::parse_digest_challenge(*a, ch);
}

// The answer's auth-params, parsed back with sipparse (so the header is well-formed).
sip::auth_value reparse(std::string_view header) {
  const auto a = sip::parse_auth(header);
  EXPECT_TRUE(static_cast<bool>(a)) << header;
  return a ? *a : sip::auth_value{};
}

std::string param(const sip::auth_value& a, std::string_view name) {
  const auto v = a.find(name);
  return v ? std::string(*v) : std::string("<absent>");
}

class digest_test : public ::testing::Test {
 protected:
  std::string answer(const reg::digest_challenge& ch, reg::digest_credentials cred, reg::digest_request req,
                     reg::digest_errc want = reg::digest_errc::ok) {
    std::array<char, 1024> buf{};
    std::size_t len = 99;
    EXPECT_EQ(client_.answer(ch, cred, req, buf, len), want);
    return {buf.data(), len};
  }
  reg::digest_client client_;
};

TEST_F(digest_test, rfc2617_section_3_5_example) {
  reg::digest_challenge ch;
  ASSERT_EQ(challenge("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
                      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
                      ch),
            reg::digest_errc::ok);
  EXPECT_EQ(ch.algorithm, reg::digest_algorithm::md5) << "no algorithm means MD5";
  EXPECT_TRUE(ch.qop_auth);
  const std::string h = answer(ch, {"Mufasa", "Circle Of Life"}, {"GET", "/dir/index.html", "0a4f113b"});
  const auto a = reparse(h);
  EXPECT_TRUE(a.is_digest());
  EXPECT_EQ(param(a, "response"), "6629fae49393a05397450978507c4ef1") << h;
  EXPECT_EQ(param(a, "username"), "Mufasa");
  EXPECT_EQ(param(a, "realm"), "testrealm@host.com");
  EXPECT_EQ(param(a, "nonce"), "dcd98b7102dd2f0e8b11d0f600bfb0c093");
  EXPECT_EQ(param(a, "uri"), "/dir/index.html");
  EXPECT_EQ(param(a, "qop"), "auth");
  EXPECT_EQ(param(a, "nc"), "00000001");
  EXPECT_EQ(param(a, "cnonce"), "0a4f113b");
  EXPECT_EQ(param(a, "opaque"), "5ccc069c403ebaf9f0171e9517f40e41") << "opaque echoed";
  EXPECT_EQ(param(a, "algorithm"), "MD5");
}

constexpr std::string_view k_rfc7616_nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr std::string_view k_rfc7616_cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

TEST_F(digest_test, rfc7616_section_3_9_1_sha256_and_md5) {
  for (const auto& [alg, want] : {std::pair<std::string_view, std::string_view>{
                                      "SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
                                  {"MD5", "8ca523f5e9506fed4657c9700eebdbec"}}) {
    const std::string value =
        "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=" + std::string(alg) + ", nonce=\"" +
        std::string(k_rfc7616_nonce) + "\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    reg::digest_challenge ch;
    ASSERT_EQ(challenge(value, ch), reg::digest_errc::ok) << alg;
    const std::string h = answer(ch, {"Mufasa", "Circle of Life"}, {"GET", "/dir/index.html", k_rfc7616_cnonce});
    const auto a = reparse(h);
    EXPECT_EQ(param(a, "response"), want) << h;
    EXPECT_EQ(param(a, "algorithm"), alg);
    EXPECT_EQ(param(a, "opaque"), "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
  }
}

TEST_F(digest_test, without_qop_answers_rfc2069_style_with_no_cnonce_or_nc) {
  reg::digest_challenge ch;
  ASSERT_EQ(challenge("Digest realm=\"sipfront.test\", nonce=\"n1\"", ch), reg::digest_errc::ok);
  EXPECT_FALSE(ch.qop_auth);
  EXPECT_FALSE(ch.has_opaque);
  // H(H(alice:sipfront.test:secret):n1:H(REGISTER:sip:sipfront.test)), MD5.
  const std::string h = answer(ch, {"alice", "secret"}, {"REGISTER", "sip:sipfront.test", "c0ffee"});
  const auto a = reparse(h);
  EXPECT_EQ(param(a, "response"), "287dfb4b8808a7da97ffc3b736058f0b") << h;
  EXPECT_EQ(param(a, "qop"), "<absent>");
  EXPECT_EQ(param(a, "nc"), "<absent>");
  EXPECT_EQ(param(a, "cnonce"), "<absent>");
  EXPECT_EQ(param(a, "opaque"), "<absent>") << "no opaque in the challenge, none in the answer";
}

TEST_F(digest_test, sess_variants_hash_the_nonce_and_cnonce_into_ha1) {
  reg::digest_challenge ch;
  ASSERT_EQ(challenge("Digest realm=\"sipfront.test\", nonce=\"n1\", qop=\"auth\", algorithm=MD5-sess", ch),
            reg::digest_errc::ok);
  EXPECT_EQ(ch.algorithm, reg::digest_algorithm::md5_sess);
  const std::string h1 = answer(ch, {"alice", "secret"}, {"REGISTER", "sip:sipfront.test", "c0ffee"});
  EXPECT_EQ(param(reparse(h1), "response"), "b2517fbbd19ed8a4fe4cbf61645c9dbb");
  ASSERT_EQ(challenge("Digest realm=\"sipfront.test\", nonce=\"n1\", qop=\"auth\", algorithm=sha-256-SESS", ch),
            reg::digest_errc::ok)
      << "algorithm names are case-insensitive";
  const std::string h2 = answer(ch, {"alice", "secret"}, {"REGISTER", "sip:sipfront.test", "c0ffee"});
  const auto a = reparse(h2);
  EXPECT_EQ(param(a, "response"), "c209ed4b520df935c4a4b8dcf4a9ba058db30c43054b701d02a6b4df3f414422");
  EXPECT_EQ(param(a, "algorithm"), "SHA-256-sess");
}

TEST_F(digest_test, stale_is_read) {
  reg::digest_challenge ch;
  ASSERT_EQ(challenge("Digest realm=\"r\", nonce=\"n2\", stale=TRUE, qop=\"auth\"", ch), reg::digest_errc::ok);
  EXPECT_TRUE(ch.stale);
  ASSERT_EQ(challenge("Digest realm=\"r\", nonce=\"n2\", stale=false", ch), reg::digest_errc::ok);
  EXPECT_FALSE(ch.stale);
  ASSERT_EQ(challenge("Digest realm=\"r\", nonce=\"n2\"", ch), reg::digest_errc::ok);
  EXPECT_FALSE(ch.stale);
}

TEST_F(digest_test, malformed_or_unanswerable_challenges_are_refused_with_a_reason) {
  struct bad {
    std::string_view value;
    reg::digest_errc want;
  };
  for (const bad& b : {
           bad{"Digest nonce=\"n1\", qop=\"auth\"", reg::digest_errc::missing_realm},
           bad{"Digest realm=\"r\", qop=\"auth\"", reg::digest_errc::missing_nonce},
           bad{"Digest realm=\"r\", nonce=\"\"", reg::digest_errc::missing_nonce},
           bad{"Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256", reg::digest_errc::unknown_algorithm},
           bad{"Digest realm=\"r\", nonce=\"n\", algorithm=AKAv1-MD5", reg::digest_errc::unknown_algorithm},
           bad{"Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"", reg::digest_errc::unsupported_qop},
           bad{"Digest realm=\"r\", nonce=\"n\", qop=\"auth-conf\"", reg::digest_errc::unsupported_qop},
           bad{"Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess", reg::digest_errc::sess_without_qop},
           bad{"Digest realm=\"a\\\"b\", nonce=\"n\"", reg::digest_errc::bad_value},
           bad{"Basic realm=\"r\"", reg::digest_errc::not_digest},
       }) {
    reg::digest_challenge ch;
    EXPECT_EQ(challenge(b.value, ch), b.want) << b.value << " -> " << reg::to_string(challenge(b.value, ch));
  }
}

TEST_F(digest_test, answer_refuses_a_small_buffer_and_unechoable_inputs) {
  reg::digest_challenge ch;
  ASSERT_EQ(challenge("Digest realm=\"sipfront.test\", nonce=\"n1\", qop=\"auth\"", ch), reg::digest_errc::ok);
  std::array<char, 64> small{};
  std::size_t len = 7;
  EXPECT_EQ(client_.answer(ch, {"alice", "secret"}, {"REGISTER", "sip:sipfront.test", "c1"}, small, len),
            reg::digest_errc::no_space);
  EXPECT_EQ(len, 0U);
  (void)answer(ch, {"al\"ice", "secret"}, {"REGISTER", "sip:sipfront.test", "c1"}, reg::digest_errc::bad_value);
  // qop=auth needs a cnonce.
  (void)answer(ch, {"alice", "secret"}, {"REGISTER", "sip:sipfront.test", ""}, reg::digest_errc::bad_value);
}

TEST_F(digest_test, different_cnonces_give_different_responses) {
  reg::digest_challenge ch;
  ASSERT_EQ(challenge("Digest realm=\"sipfront.test\", nonce=\"n1\", qop=\"auth\"", ch), reg::digest_errc::ok);
  const std::string ha = answer(ch, {"alice", "secret"}, {"REGISTER", "sip:sipfront.test", "c1"});
  const std::string hb = answer(ch, {"alice", "secret"}, {"REGISTER", "sip:sipfront.test", "c2"});
  const auto a = reparse(ha);  // views into ha / hb
  const auto b = reparse(hb);
  EXPECT_NE(param(a, "response"), param(b, "response"));
  EXPECT_EQ(param(a, "response").size(), 32U);
}

}  // namespace
