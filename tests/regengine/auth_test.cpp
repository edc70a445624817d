// Peer-to-peer: the front end answers registrar digest challenges (401/407) to its
// own out-leg refreshes and deregistrations with configured credentials. Fake clock,
// no DPDK. Digest responses are checked against an MD5/SHA-256 computed here with
// OpenSSL's one-shot EVP_Digest from the RFC 2617 formula, not with regengine's code.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"
#include "sipfront/regengine/engine.hpp"
#include "sipfront/regengine/spike_guard.hpp"
#include "sipfront/sipparse/sipparse.hpp"

namespace sipfront::test {
namespace {

const reg::endpoint k_phone{ip(198, 18, 1, 2), 5062, 0};
const reg::endpoint k_registrar{ip(198, 18, 2, 2), 5060, 1};
constexpr std::string_view k_aor = "sip:alice@sipfront.test";
constexpr std::string_view k_aor_other_spelling = "sip:alice@SipFront.TEST;user=ip";
constexpr std::string_view k_ruri = "sip:sipfront.test";

std::string hex_hash(const EVP_MD* md, const std::string& s) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> raw{};
  unsigned int n = 0;
  EXPECT_EQ(EVP_Digest(s.data(), s.size(), raw.data(), &n, md, nullptr), 1);
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) {
    hex += "0123456789abcdef"[raw[i] >> 4];
    hex += "0123456789abcdef"[raw[i] & 15U];
  }
  return hex;
}

// The auth-params of an Authorization / Proxy-Authorization value, by name.
struct creds {
  std::string value;
  sip::auth_value a;
  std::string operator[](std::string_view n) const {
    const auto v = a.find(n);
    return v ? std::string(*v) : "<absent>";
  }
};

std::string register_msg(unsigned cseq, const std::string& branch, const std::string& expires = "600",
                         const std::string& user = "alice") {
  return make_register({.branch = branch,
                        .user = user,
                        .call_id = "reg-" + user + "@198.18.1.2",
                        .cseq = cseq,
                        .contact = "<sip:" + user + "@198.18.1.2:5062>",
                        .expires = expires});
}

class auth_test : public engine_harness {
 protected:
  void SetUp() override {
    cfg_ = p2p_config(k_registrar);
    // Out-leg 120 s: refreshed max(12 s, Timer F 32 s) early, i.e. 88 s after each 200.
    cfg_.registrar.out_expires = 120;
    creds_ = {reg::credential{.realm = "sipfront.test", .username = "", .password = "secret", .aor = ""}};
  }
  void make_engine() {
    cfg_.credentials = creds_;
    eng_.reset();
    eng_ = std::make_unique<reg::engine>(cfg_);
  }
  std::vector<sent> from_phone(unsigned cseq, const std::string& branch, const std::string& expires = "600",
                               const std::string& user = "alice") {
    return feed(register_msg(cseq, branch, expires, user), reg::side::access, k_phone);
  }
  std::vector<sent> from_registrar(std::string_view b) { return feed(b, reg::side::core, k_registrar); }

  // Alice registered (the phone's REGISTER answered 200); returns the forwarded REGISTER.
  std::string register_alice(int granted = 120) {
    const auto fwd = from_phone(7, "z9hG4bK-p1");
    EXPECT_EQ(fwd.size(), 1U);
    if (fwd.size() != 1) return {};
    const auto ok = from_registrar(registrar_answer(fwd[0].bytes, 200, "OK", granted));
    EXPECT_EQ(ok.size(), 1U);
    t0_ = now_;
    return fwd[0].bytes;
  }
  // The front end's own refresh, 88 s after the 200.
  std::string refresh() {
    EXPECT_TRUE(advance_to(t0_ + 87'999).empty());
    const auto r = advance_to(t0_ + 88'000);
    EXPECT_EQ(r.size(), 1U);
    if (r.size() != 1) return {};
    EXPECT_EQ(r[0].dst, k_registrar);
    EXPECT_EQ(parsed(r[0].bytes).find(sip::header_id::authorization), nullptr) << "not before a challenge";
    return r[0].bytes;
  }
  static std::string challenge(const std::string& req, unsigned code, const std::string& auth_value) {
    const std::string name = code == 407 ? "Proxy-Authenticate" : "WWW-Authenticate";
    return registrar_answer(req, code, code == 407 ? "Proxy Authentication Required" : "Unauthorized", -1,
                            name + ": " + auth_value + "\r\n");
  }
  static creds credentials_of(const std::string& req, sip::header_id id = sip::header_id::authorization) {
    creds c;
    const auto m = parsed(req);
    const sip::header_entry* h = m.find(id);
    EXPECT_NE(h, nullptr) << req;
    if (h == nullptr) return c;
    c.value = std::string(m.value(*h));
    const auto a = sip::parse_auth(c.value);
    EXPECT_TRUE(static_cast<bool>(a)) << c.value;
    if (a) c.a = *a;
    return c;
  }
  // Checks a qop=auth answer against RFC 2617 §3.2.2.1 computed here.
  static void expect_response(const creds& c, const EVP_MD* md, const std::string& user, const std::string& pw,
                              const std::string& realm, const std::string& nonce) {
    EXPECT_EQ(c["username"], user);
    EXPECT_EQ(c["realm"], realm);
    EXPECT_EQ(c["nonce"], nonce);
    EXPECT_EQ(c["uri"], k_ruri);
    EXPECT_EQ(c["qop"], "auth");
    EXPECT_EQ(c["nc"], "00000001");
    const std::string ha1 = hex_hash(md, user + ":" + realm + ":" + pw);
    const std::string ha2 = hex_hash(md, "REGISTER:" + std::string(k_ruri));
    EXPECT_EQ(c["response"], hex_hash(md, ha1 + ":" + nonce + ":00000001:" + c["cnonce"] + ":auth:" + ha2)) << c.value;
  }

  std::vector<reg::credential> creds_;
  std::uint64_t t0_ = 0;
};

TEST_F(auth_test, challenged_refresh_is_answered_and_its_200_keeps_the_binding) {
  make_engine();
  const std::string first = register_alice();
  const std::string r1 = refresh();
  const auto again =
      from_registrar(challenge(r1, 401, "Digest realm=\"sipfront.test\", nonce=\"n-1\", qop=\"auth\", opaque=\"op7\""));
  ASSERT_EQ(again.size(), 1U) << "the same REGISTER, answered; nothing to the phone";
  EXPECT_EQ(again[0].dst, k_registrar);
  const std::string& r2 = again[0].bytes;
  EXPECT_EQ(sip::validate(parsed(r2)).broken, sip::rule::ok);
  EXPECT_EQ(header(r2, sip::header_id::call_id), header(first, sip::header_id::call_id));
  EXPECT_EQ(header(r2, sip::header_id::from), header(first, sip::header_id::from));
  EXPECT_EQ(header(r2, sip::header_id::contact), header(first, sip::header_id::contact));
  EXPECT_EQ(header(r1, sip::header_id::cseq), "2 REGISTER");
  EXPECT_EQ(header(r2, sip::header_id::cseq), "3 REGISTER");
  EXPECT_EQ(header(r2, sip::header_id::expires), "120");
  EXPECT_NE(sip::top_via(parsed(r2))->branch, sip::top_via(parsed(r1))->branch) << "a new client transaction";
  EXPECT_EQ(parsed(r2).request_uri(), k_ruri);
  const creds c = credentials_of(r2);
  EXPECT_TRUE(c.a.is_digest());
  expect_response(c, EVP_md5(), "alice", "secret", "sipfront.test", "n-1");
  EXPECT_EQ(c["opaque"], "op7");
  EXPECT_EQ(c["algorithm"], "MD5");
  EXPECT_EQ(c["cnonce"].size(), 16U);
  EXPECT_EQ(eng_->counters().auth_challenges_answered, 1U);

  // Its 200 extends the out-leg: the binding stays registered and is refreshed again 88 s later.
  EXPECT_TRUE(from_registrar(registrar_answer(r2, 200, "OK", 120)).empty());
  const reg::binding* b = eng_->find_binding(k_aor);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, reg::binding_state::registered);
  EXPECT_EQ(b->out_expires_at_ms, now_ + 120'000);
  // A late 401 retransmission of the first attempt matches no transaction any more.
  EXPECT_TRUE(from_registrar(challenge(r1, 401, "Digest realm=\"sipfront.test\", nonce=\"n-1\"")).empty());
  EXPECT_EQ(eng_->counters().auth_challenges_answered, 1U);
  t0_ = now_;
  const std::string r3 = refresh();
  EXPECT_EQ(header(r3, sip::header_id::cseq), "4 REGISTER");
  EXPECT_EQ(eng_->counters().upstream_refreshes, 2U);
  EXPECT_EQ(eng_->counters().auth_refused + eng_->counters().auth_no_credentials, 0U);
}

TEST_F(auth_test, challenged_fail_count_deregistration_is_answered) {
  cfg_.registrar.out_expires = 3600;  // no refresh before the deregistration (phone in-expires 600 s x 3)
  make_engine();
  const std::string first = register_alice(3600);
  EXPECT_TRUE(advance_to(t0_ + 1'200'000).empty());
  const auto dereg = advance_to(t0_ + 1'800'000);
  ASSERT_EQ(dereg.size(), 1U);
  const std::string& d1 = dereg[0].bytes;
  EXPECT_EQ(header(d1, sip::header_id::expires), "0");
  const auto again = from_registrar(
      challenge(d1, 401, "Digest realm=\"sipfront.test\", nonce=\"n-d\", algorithm=SHA-256, qop=\"auth\""));
  ASSERT_EQ(again.size(), 1U);
  const std::string& d2 = again[0].bytes;
  EXPECT_EQ(header(d2, sip::header_id::expires), "0");
  EXPECT_EQ(header(d2, sip::header_id::call_id), header(first, sip::header_id::call_id));
  EXPECT_EQ(header(d2, sip::header_id::cseq), "3 REGISTER");
  const creds c = credentials_of(d2);
  expect_response(c, EVP_sha256(), "alice", "secret", "sipfront.test", "n-d");
  EXPECT_EQ(c["algorithm"], "SHA-256");
  EXPECT_EQ(c["opaque"], "<absent>");
  EXPECT_EQ(eng_->live_bindings(), 1U) << "until the registrar answers";
  EXPECT_TRUE(from_registrar(registrar_answer(d2, 200, "OK")).empty());
  EXPECT_EQ(eng_->live_bindings(), 0U);
  EXPECT_EQ(eng_->counters().auth_challenges_answered, 1U);
}

TEST_F(auth_test, without_credentials_the_refresh_is_refused_and_the_phone_takes_over) {
  creds_ = {reg::credential{.realm = "other.test", .username = "", .password = "x", .aor = ""}};
  make_engine();
  register_alice();
  const std::string r1 = refresh();
  EXPECT_TRUE(from_registrar(challenge(r1, 401, "Digest realm=\"sipfront.test\", nonce=\"n-1\", qop=\"auth\"")).empty())
      << "wrong realm: nothing answered";
  EXPECT_EQ(eng_->counters().auth_no_credentials, 1U);
  EXPECT_EQ(eng_->counters().auth_challenges_answered, 0U);
  const reg::binding* b = eng_->find_binding(k_aor);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, reg::binding_state::failed);
  // No loop: the front end does not refresh again on its own.
  EXPECT_TRUE(advance_to(now_ + 1).empty());
  EXPECT_TRUE(advance_to(now_ + 20'000).empty());
  // The phone's next refresh goes upstream (where the phone answers the challenge itself).
  const auto fwd = from_phone(8, "z9hG4bK-p2");
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_EQ(fwd[0].dst, k_registrar);
}

TEST_F(auth_test, credentials_for_another_aor_of_the_realm_are_not_used) {
  creds_ = {reg::credential{.realm = "sipfront.test", .username = "", .password = "x", .aor = "sip:bob@sipfront.test"}};
  make_engine();
  register_alice();
  const std::string r1 = refresh();
  EXPECT_TRUE(from_registrar(challenge(r1, 401, "Digest realm=\"sipfront.test\", nonce=\"n-1\"")).empty());
  EXPECT_EQ(eng_->counters().auth_no_credentials, 1U);
}

TEST_F(auth_test, a_second_challenge_is_a_refusal_and_does_not_loop) {
  make_engine();
  register_alice();
  const std::string r1 = refresh();
  const auto a1 = from_registrar(challenge(r1, 401, "Digest realm=\"sipfront.test\", nonce=\"n-1\", qop=\"auth\""));
  ASSERT_EQ(a1.size(), 1U);
  const auto a2 =
      from_registrar(challenge(a1[0].bytes, 401, "Digest realm=\"sipfront.test\", nonce=\"n-2\", qop=\"auth\""));
  EXPECT_TRUE(a2.empty()) << "wrong password: not answered again";
  EXPECT_EQ(eng_->counters().auth_challenges_answered, 1U);
  EXPECT_EQ(eng_->counters().auth_refused, 1U);
  EXPECT_EQ(eng_->find_binding(k_aor)->state, reg::binding_state::failed);
  EXPECT_TRUE(advance_to(now_ + 1).empty());
  EXPECT_TRUE(advance_to(now_ + 30'000).empty()) << "no new refresh";
  EXPECT_EQ(eng_->counters().upstream_refreshes, 1U);
}

TEST_F(auth_test, stale_true_allows_exactly_one_more_answer) {
  make_engine();
  register_alice();
  const std::string r1 = refresh();
  const auto a1 = from_registrar(challenge(r1, 401, "Digest realm=\"sipfront.test\", nonce=\"n-1\", qop=\"auth\""));
  ASSERT_EQ(a1.size(), 1U);
  const auto a2 = from_registrar(
      challenge(a1[0].bytes, 401, "Digest realm=\"sipfront.test\", nonce=\"n-2\", stale=true, qop=\"auth\""));
  ASSERT_EQ(a2.size(), 1U) << "stale: the credentials were right, the nonce old";
  EXPECT_EQ(header(a2[0].bytes, sip::header_id::cseq), "4 REGISTER");
  expect_response(credentials_of(a2[0].bytes), EVP_md5(), "alice", "secret", "sipfront.test", "n-2");
  const auto a3 = from_registrar(
      challenge(a2[0].bytes, 401, "Digest realm=\"sipfront.test\", nonce=\"n-3\", stale=true, qop=\"auth\""));
  EXPECT_TRUE(a3.empty()) << "one stale retry only";
  EXPECT_EQ(eng_->counters().auth_challenges_answered, 2U);
  EXPECT_EQ(eng_->counters().auth_refused, 1U);
}

TEST_F(auth_test, proxy_authenticate_gets_proxy_authorization) {
  make_engine();
  register_alice();
  const std::string r1 = refresh();
  const auto a1 = from_registrar(challenge(r1, 407, "Digest realm=\"sipfront.test\", nonce=\"n-p\", qop=\"auth\""));
  ASSERT_EQ(a1.size(), 1U);
  EXPECT_EQ(parsed(a1[0].bytes).find(sip::header_id::authorization), nullptr);
  expect_response(credentials_of(a1[0].bytes, sip::header_id::proxy_authorization), EVP_md5(), "alice", "secret",
                  "sipfront.test", "n-p");
  EXPECT_TRUE(from_registrar(registrar_answer(a1[0].bytes, 200, "OK", 120)).empty());
  EXPECT_EQ(eng_->find_binding(k_aor)->state, reg::binding_state::registered);
}

TEST_F(auth_test, an_aor_entry_wins_over_the_realm_entry_and_the_username_defaults_to_the_aor_user) {
  creds_ = {
      reg::credential{.realm = "sipfront.test", .username = "generic", .password = "g", .aor = ""},
      reg::credential{.realm = "sipfront.test", .username = "", .password = "alices", .aor = std::string_view(k_aor)},
  };
  make_engine();
  register_alice();
  const std::string r1 = refresh();
  const auto a1 = from_registrar(challenge(r1, 401, "Digest realm=\"sipfront.test\", nonce=\"n-1\", qop=\"auth\""));
  ASSERT_EQ(a1.size(), 1U);
  expect_response(credentials_of(a1[0].bytes), EVP_md5(), "alice", "alices", "sipfront.test", "n-1");
}

TEST_F(auth_test, an_aor_entry_matches_the_binding_in_any_spelling) {
  // Bindings keep canonical AORs; the entry is written with another host case and a parameter.
  creds_ = {
      reg::credential{.realm = "sipfront.test", .username = "generic", .password = "g", .aor = ""},
      reg::credential{.realm = "sipfront.test", .username = "", .password = "alices", .aor = k_aor_other_spelling},
  };
  make_engine();
  register_alice();
  const std::string r1 = refresh();
  const auto a1 = from_registrar(challenge(r1, 401, "Digest realm=\"sipfront.test\", nonce=\"n-2\", qop=\"auth\""));
  ASSERT_EQ(a1.size(), 1U);
  expect_response(credentials_of(a1[0].bytes), EVP_md5(), "alice", "alices", "sipfront.test", "n-2");
}

TEST_F(auth_test, the_first_answerable_challenge_is_used_and_no_qop_is_answered_rfc2069_style) {
  make_engine();
  register_alice();
  const std::string r1 = refresh();
  const std::string resp = registrar_answer(r1, 401, "Unauthorized", -1,
                                            "WWW-Authenticate: Digest realm=\"sipfront.test\", nonce=\"x\", "
                                            "algorithm=AKAv1-MD5\r\n"
                                            "WWW-Authenticate: Digest realm=\"sipfront.test\", nonce=\"n-9\"\r\n");
  const auto a1 = from_registrar(resp);
  ASSERT_EQ(a1.size(), 1U);
  const creds c = credentials_of(a1[0].bytes);
  EXPECT_EQ(c["nonce"], "n-9");
  EXPECT_EQ(c["qop"], "<absent>");
  EXPECT_EQ(c["cnonce"], "<absent>");
  const std::string ha1 = hex_hash(EVP_md5(), "alice:sipfront.test:secret");
  const std::string ha2 = hex_hash(EVP_md5(), "REGISTER:" + std::string(k_ruri));
  EXPECT_EQ(c["response"], hex_hash(EVP_md5(), ha1 + ":n-9:" + ha2));
}

TEST_F(auth_test, an_unanswerable_challenge_is_counted_and_refused) {
  make_engine();
  register_alice();
  const std::string r1 = refresh();
  EXPECT_TRUE(
      from_registrar(challenge(r1, 401, "Digest realm=\"sipfront.test\", nonce=\"n\", qop=\"auth-int\"")).empty());
  EXPECT_EQ(eng_->counters().auth_unsupported, 1U);
  EXPECT_EQ(eng_->counters().auth_challenges_answered, 0U);
}

TEST_F(auth_test, the_phones_own_challenge_is_still_relayed_to_the_phone) {
  make_engine();
  const auto fwd = from_phone(7, "z9hG4bK-p1");
  ASSERT_EQ(fwd.size(), 1U);
  const auto back =
      from_registrar(challenge(fwd[0].bytes, 401, "Digest realm=\"sipfront.test\", nonce=\"n-1\", qop=\"auth\""));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0].dst, k_phone);
  EXPECT_EQ(parsed(back[0].bytes).status_code(), 401);
  EXPECT_EQ(eng_->counters().auth_challenges_answered, 0U);
  EXPECT_EQ(eng_->counters().auth_no_credentials + eng_->counters().auth_unsupported, 0U) << "not ours to answer";
}

TEST_F(auth_test, the_answer_keeps_the_refresh_spike_slot_until_its_final_response) {
  const reg::spike_config sc{.limit = 1, .reserve_percent = 0, .retry_after_min_s = 30, .retry_after_max_s = 30};
  ASSERT_EQ(reg::validate(sc, cfg_.n_workers), reg::spike_errc::ok);
  reg::spike_pool pool(sc, cfg_.n_workers);
  cfg_.spike = &pool;
  make_engine();
  register_alice();
  const std::string r1 = refresh();
  const auto a1 = from_registrar(challenge(r1, 401, "Digest realm=\"sipfront.test\", nonce=\"n-1\", qop=\"auth\""));
  ASSERT_EQ(a1.size(), 1U);
  // The one slot is still the refresh's: a new phone is turned away.
  const auto bob = from_phone(1, "z9hG4bK-b1", "600", "bob");
  ASSERT_EQ(bob.size(), 1U);
  EXPECT_EQ(bob[0].dst, k_phone);
  EXPECT_EQ(parsed(bob[0].bytes).status_code(), 503);
  EXPECT_TRUE(from_registrar(registrar_answer(a1[0].bytes, 200, "OK", 120)).empty());
  // Released with the final response.
  const auto bob2 = from_phone(2, "z9hG4bK-b2", "600", "bob");
  ASSERT_EQ(bob2.size(), 1U);
  EXPECT_EQ(bob2[0].dst, k_registrar);
  eng_.reset();  // its budget goes back to the pool before the pool goes
}

}  // namespace
}  // namespace sipfront::test
