// Peer-to-peer mode with the binding table: out-leg identity and Contact rewrite,
// rate limiting (absorbed refreshes, upstream refresh, fail-count), the local
// registrar's answers (423, clamping), the explain ring. Fake clock, no DPDK.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"
#include "sipfront/regengine/engine.hpp"
#include "sipfront/sipparse/sipparse.hpp"

namespace sipfront::test {
namespace {

const reg::endpoint k_phone{ip(198, 18, 1, 2), 5062, 0};
const reg::endpoint k_registrar{ip(198, 18, 2, 2), 5060, 1};
const reg::endpoint k_registrar2{ip(198, 18, 2, 3), 5070, 1};
constexpr std::string_view k_call_id = "reg-1@198.18.1.2";
constexpr std::string_view k_aor = "sip:alice@sipfront.test";
constexpr std::string_view k_contact = "sip:alice@198.18.1.2:5062";

struct reg_opts {
  std::string call_id = std::string(k_call_id);
  unsigned cseq = 7;
  std::string branch = "z9hG4bK-p1";
  std::string expires = "600";
  std::string contact = "<" + std::string(k_contact) + ">";
  std::string ruri = "sip:other.test";  // names registrar 2: peer-to-peer must ignore it
  std::string extra;
};

std::string register_msg(const reg_opts& o) {
  return make_register({.ruri = o.ruri,
                        .branch = o.branch,
                        .call_id = o.call_id,
                        .cseq = o.cseq,
                        .contact = o.contact,
                        .extra = "User-Agent: test-phone/1.0\r\n" + o.extra,
                        .expires = o.expires});
}

class p2p_test : public engine_harness {
 protected:
  void SetUp() override {
    cfg_ = p2p_config(k_registrar);
    cfg_.registrars[1] = {k_registrar2, "other.test"};
    cfg_.n_registrars = 2;
    cfg_.default_registrar = 0;
    make_engine();
  }

  std::vector<sent> from_phone(const reg_opts& o, reg::endpoint src = k_phone) {
    return feed(register_msg(o), reg::side::access, src);
  }
  std::vector<sent> from_registrar(std::string_view b) { return feed(b, reg::side::core, k_registrar); }
  static std::vector<std::string> contacts(const std::string& msg) {
    const auto m = parsed(msg);
    std::vector<std::string> v;
    sip::list_iterator it(m, sip::header_id::contact);
    std::string_view e;
    while (it.next(e)) v.emplace_back(e);
    return v;
  }

  // A registered phone: REGISTER forwarded, registrar grants `granted`, 200 relayed.
  // Returns the forwarded REGISTER.
  std::string register_phone(const reg_opts& o = {}, int granted = 3600) {
    const auto fwd = from_phone(o);
    EXPECT_EQ(fwd.size(), 1U);
    if (fwd.size() != 1) return {};
    const auto ok = from_registrar(registrar_answer(fwd[0].bytes, 200, "OK", granted));
    EXPECT_EQ(ok.size(), 1U);
    return fwd[0].bytes;
  }
};

// ---------------------------------------------------------------- out-leg identity

TEST_F(p2p_test, register_goes_to_the_configured_registrar_with_the_out_leg_identity) {
  const auto out = from_phone({});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar) << "the default registrar, not the one the Request-URI names";
  const std::string& f = out[0].bytes;
  const auto m = parsed(f);
  EXPECT_EQ(sip::validate(m).broken, sip::rule::ok);
  EXPECT_EQ(m.request_uri(), "sip:sipfront.test");

  // One Via, ours: the phone's stays on this side.
  sip::via_list<4> vias;
  ASSERT_EQ(sip::parse_vias(m, vias), sip::errc::ok);
  ASSERT_EQ(vias.size(), 1U);
  EXPECT_EQ(vias[0].host, "198.18.2.1");
  EXPECT_TRUE(vias[0].branch.starts_with("z9hG4bKsf01.")) << vias[0].branch;

  // Out-leg Call-ID from the binding's handle (worker 1, index 0, generation 1, 16-hex nonce).
  const std::string cid = header(f, sip::header_id::call_id);
  EXPECT_TRUE(cid.starts_with("sf01-0-1-")) << cid;
  EXPECT_EQ(cid.size(), 9U + 16U) << cid;
  EXPECT_EQ(f.find(std::string(k_call_id)), std::string::npos) << "the phone's Call-ID must not leak upstream";

  const std::string from = header(f, sip::header_id::from);
  EXPECT_TRUE(from.starts_with("<sip:alice@sipfront.test>;tag=sf")) << from;
  EXPECT_EQ(from.size(), std::string("<sip:alice@sipfront.test>;tag=").size() + 18U) << from;
  EXPECT_EQ(header(f, sip::header_id::cseq), "1 REGISTER") << "its own CSeq sequence (the phone sent 7)";
  EXPECT_EQ(header(f, sip::header_id::to), "<sip:alice@sipfront.test>");
  EXPECT_EQ(header(f, sip::header_id::max_forwards), "70");
  EXPECT_EQ(header(f, sip::header_id::expires), "3600") << "the out-leg expiry, not the phone's 600";
  EXPECT_EQ(header(f, sip::header_id::contact), "<sip:" + cid + "@198.18.2.1:5060>");
  EXPECT_EQ(f.find("198.18.1.2:5062>"), std::string::npos) << "the phone's Contact stays local";
  EXPECT_NE(m.find("User-Agent"), nullptr) << "other headers travel with the request";

  // Not stored before the registrar says 2xx.
  const reg::binding* b = eng_->find_binding(k_aor);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, reg::binding_state::pending_upstream);
  EXPECT_EQ(b->n_contacts(), 0U);
  EXPECT_EQ(eng_->counters().register_forwarded, 1U);
  EXPECT_EQ(eng_->counters().forwarded_upstream, 1U);
}

TEST_F(p2p_test, contact_user_part_decodes_to_the_binding) {
  const auto out = from_phone({});
  ASSERT_EQ(out.size(), 1U);
  const auto m = parsed(out[0].bytes);
  const auto na = sip::parse_name_addr(m.value_of(sip::header_id::contact));
  ASSERT_TRUE(na);
  reg::out_call_id_fields f;
  ASSERT_TRUE(reg::decode_contact(na->uri, f));
  EXPECT_EQ(f.worker, 1U);
  EXPECT_EQ(f.handle.index, 0U);
  EXPECT_EQ(f.handle.generation, 1U);
  const reg::binding* b = eng_->binding_for_contact(na->uri);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b, eng_->find_binding(k_aor));
  EXPECT_EQ(b->out_nonce(), f.nonce);

  // Forged or foreign URIs do not resolve.
  std::string forged(na->uri);
  forged[forged.find('@') - 1] = forged[forged.find('@') - 1] == '0' ? '1' : '0';
  EXPECT_EQ(eng_->binding_for_contact(forged), nullptr);
  EXPECT_FALSE(reg::decode_contact("sip:alice@198.18.1.2:5062", f));
  EXPECT_FALSE(reg::decode_contact("not a uri", f));
  EXPECT_EQ(eng_->binding_for_contact(std::string(k_contact)), nullptr);
}

TEST_F(p2p_test, registrar_200_becomes_the_phones_200_with_its_own_contacts) {
  const auto fwd = from_phone({});
  ASSERT_EQ(fwd.size(), 1U);
  const auto back = from_registrar(registrar_answer(fwd[0].bytes, 200, "OK", 3600));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0].dst, k_phone);
  const std::string& r = back[0].bytes;
  const auto m = parsed(r);
  EXPECT_EQ(m.status_code(), 200);
  EXPECT_EQ(header(r, sip::header_id::call_id), k_call_id);
  EXPECT_EQ(header(r, sip::header_id::cseq), "7 REGISTER");
  EXPECT_EQ(header(r, sip::header_id::from), "<sip:alice@sipfront.test>;tag=a1");
  sip::via_list<4> vias;
  ASSERT_EQ(sip::parse_vias(m, vias), sip::errc::ok);
  ASSERT_EQ(vias.size(), 1U);
  EXPECT_EQ(vias[0].branch, "z9hG4bK-p1");
  EXPECT_EQ(contacts(r), std::vector<std::string>{"<sip:alice@198.18.1.2:5062>;expires=600"})
      << "the phone's Contact with its in-leg expiry, not the registrar's view";
  EXPECT_EQ(r.find("sf01-"), std::string::npos) << "no out-leg identity leaks to the phone";

  const reg::binding* b = eng_->find_binding(k_aor);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, reg::binding_state::registered);
  ASSERT_EQ(b->n_contacts(), 1U);
  EXPECT_EQ(b->contact_uri(0), k_contact);
  EXPECT_EQ(b->contact_expires_at(0), now_ + 600'000);
  EXPECT_EQ(b->in_expires, 600U);
  EXPECT_EQ(b->out_expires, 3600U);
  EXPECT_EQ(b->out_expires_at_ms, now_ + 3'600'000);
  EXPECT_EQ(b->in_cseq, 7U);
  EXPECT_EQ(b->source, k_phone);
}

TEST_F(p2p_test, registrar_granting_less_than_asked_sets_the_out_leg_lifetime) {
  register_phone({}, 1200);
  const reg::binding* b = eng_->find_binding(k_aor);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->out_expires, 1200U);
  EXPECT_EQ(b->out_expires_at_ms, now_ + 1'200'000);
}

TEST_F(p2p_test, in_expires_above_max_is_clamped_in_the_phones_200) {
  cfg_.registrar.in_expires_max = 1800;
  make_engine();
  reg_opts o;
  o.expires = "7200";
  const auto fwd = from_phone(o);
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_EQ(header(fwd[0].bytes, sip::header_id::expires), "3600");
  const auto back = from_registrar(registrar_answer(fwd[0].bytes, 200, "OK", 3600));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(contacts(back[0].bytes), std::vector<std::string>{"<sip:alice@198.18.1.2:5062>;expires=1800"});
  EXPECT_EQ(eng_->find_binding(k_aor)->in_expires, 1800U);
}

TEST_F(p2p_test, rate_limit_off_asks_the_registrar_for_the_phones_expiry) {
  cfg_.registrar.out_expires = 0;
  make_engine();
  const auto fwd = from_phone({});
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_EQ(header(fwd[0].bytes, sip::header_id::expires), "600");
}

// ---------------------------------------------------------------- rate limiting

TEST_F(p2p_test, refresh_inside_the_out_leg_lifetime_is_answered_locally) {
  register_phone();
  now_ += 300'000;
  reg_opts o;
  o.cseq = 8;
  o.branch = "z9hG4bK-p2";
  const auto out = from_phone(o);
  ASSERT_EQ(out.size(), 1U) << "nothing goes upstream";
  EXPECT_EQ(out[0].dst, k_phone);
  const std::string& r = out[0].bytes;
  EXPECT_EQ(parsed(r).status_code(), 200);
  EXPECT_EQ(header(r, sip::header_id::cseq), "8 REGISTER");
  EXPECT_EQ(header(r, sip::header_id::call_id), k_call_id);
  EXPECT_EQ(contacts(r), std::vector<std::string>{"<sip:alice@198.18.1.2:5062>;expires=600"});
  EXPECT_EQ(eng_->counters().register_absorbed, 1U);
  EXPECT_EQ(eng_->counters().forwarded_upstream, 1U);
  const reg::binding* b = eng_->find_binding(k_aor);
  EXPECT_EQ(b->in_cseq, 8U);
  EXPECT_EQ(b->contact_expires_at(0), now_ + 600'000);

  // Its retransmission gets the same 200, and still nothing goes upstream.
  const auto again = from_phone(o);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].bytes, r);
  EXPECT_EQ(eng_->counters().retrans_answered, 1U);
  EXPECT_EQ(eng_->counters().forwarded_upstream, 1U);

  const reg::explain_record& e = eng_->explain().recent(0);
  EXPECT_EQ(e.outcome, reg::explain_outcome::absorbed);
  EXPECT_EQ(e.rule, reg::register_rule::refresh_absorbed);
  EXPECT_EQ(e.code, 200);
  EXPECT_EQ(e.cseq, 8U);
  EXPECT_EQ(e.call_id_hash, reg::call_id_hash(k_call_id));
}

TEST_F(p2p_test, refresh_that_would_outlive_the_out_leg_goes_upstream_on_the_same_out_leg) {
  reg_opts o;
  o.expires = "3000";
  const std::string first = register_phone(o);
  now_ += 2'900'000;  // before the phone's 3000 s lapse, but 2900 s + 3000 s > 3600 s of out-leg lifetime
  o.cseq = 8;
  o.branch = "z9hG4bK-p3";
  const auto out = from_phone(o);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  EXPECT_EQ(header(out[0].bytes, sip::header_id::call_id), header(first, sip::header_id::call_id));
  EXPECT_EQ(header(out[0].bytes, sip::header_id::from), header(first, sip::header_id::from));
  EXPECT_EQ(header(out[0].bytes, sip::header_id::cseq), "2 REGISTER");
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::out_leg_expiring);
  EXPECT_EQ(eng_->explain().recent(0).outcome, reg::explain_outcome::forwarded);
}

TEST_F(p2p_test, refresh_from_another_source_goes_upstream_and_moves_the_binding) {
  register_phone();
  now_ += 60'000;
  reg_opts o;
  o.cseq = 8;
  o.branch = "z9hG4bK-nat";
  reg::endpoint moved = k_phone;
  moved.port = 40001;  // the NAT rebound
  const auto out = from_phone(o, moved);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::source_changed);
  EXPECT_EQ(eng_->find_binding(k_aor)->source, k_phone) << "not before the registrar's 2xx";
  const auto back = from_registrar(registrar_answer(out[0].bytes, 200, "OK", 3600));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0].dst, moved) << "rport: the answer goes to where the request came from";
  EXPECT_EQ(eng_->find_binding(k_aor)->source, moved);
}

TEST_F(p2p_test, changed_contact_goes_upstream_and_is_stored_only_on_2xx) {
  register_phone();
  now_ += 60'000;
  reg_opts o;
  o.cseq = 8;
  o.branch = "z9hG4bK-p4";
  o.contact = "<sip:alice@198.18.1.9:5062>";
  auto out = from_phone(o);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::contacts_changed);
  // The registrar refuses: the old Contact stays, the new one is never stored.
  const auto back = from_registrar(registrar_answer(out[0].bytes, 403, "Forbidden"));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(parsed(back[0].bytes).status_code(), 403);
  EXPECT_EQ(header(back[0].bytes, sip::header_id::cseq), "8 REGISTER");
  const reg::binding* b = eng_->find_binding(k_aor);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->n_contacts(), 1U);
  EXPECT_EQ(b->contact_uri(0), k_contact);
  EXPECT_EQ(b->state, reg::binding_state::registered);

  // Accepted the next time: now it is stored.
  o.cseq = 9;
  o.branch = "z9hG4bK-p5";
  out = from_phone(o);
  ASSERT_EQ(out.size(), 1U);
  from_registrar(registrar_answer(out[0].bytes, 200, "OK", 3600));
  b = eng_->find_binding(k_aor);
  ASSERT_EQ(b->n_contacts(), 1U);
  EXPECT_EQ(b->contact_uri(0), "sip:alice@198.18.1.9:5062");
}

TEST_F(p2p_test, refused_first_register_leaves_no_binding) {
  const auto fwd = from_phone({});
  ASSERT_EQ(fwd.size(), 1U);
  const auto back = from_registrar(registrar_answer(fwd[0].bytes, 404, "Not Found"));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(parsed(back[0].bytes).status_code(), 404);
  EXPECT_EQ(eng_->live_bindings(), 0U);
  EXPECT_EQ(eng_->find_binding(k_aor), nullptr);
}

TEST_F(p2p_test, challenge_is_relayed_with_its_header_and_the_binding_waits) {
  const auto fwd = from_phone({});
  const auto back = from_registrar(registrar_answer(
      fwd[0].bytes, 401, "Unauthorized", -1, "WWW-Authenticate: Digest realm=\"sipfront.test\", nonce=\"n1\"\r\n"));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(parsed(back[0].bytes).status_code(), 401);
  EXPECT_EQ(header(back[0].bytes, sip::header_id::www_authenticate), "Digest realm=\"sipfront.test\", nonce=\"n1\"");
  EXPECT_EQ(eng_->live_bindings(), 1U);
  reg_opts o;
  o.cseq = 8;
  o.branch = "z9hG4bK-p6";
  o.extra =
      "Authorization: Digest username=\"alice\", realm=\"sipfront.test\", nonce=\"n1\", uri=\"sip:other.test\", "
      "response=\"0123456789abcdef0123456789abcdef\"\r\n";
  const auto fwd2 = from_phone(o);
  ASSERT_EQ(fwd2.size(), 1U);
  EXPECT_EQ(fwd2[0].dst, k_registrar);
  EXPECT_EQ(header(fwd2[0].bytes, sip::header_id::cseq), "2 REGISTER");
  EXPECT_NE(parsed(fwd2[0].bytes).find(sip::header_id::authorization), nullptr);
}

TEST_F(p2p_test, interval_below_min_gets_423_with_min_expires) {
  reg_opts o;
  o.expires = "30";
  const auto out = from_phone(o);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 423);
  EXPECT_EQ(header(out[0].bytes, sip::header_id::min_expires), "60");
  EXPECT_EQ(eng_->counters().register_rejected_423, 1U);
  EXPECT_EQ(eng_->counters().forwarded_upstream, 0U);
  EXPECT_EQ(eng_->live_bindings(), 0U);
  const reg::explain_record& e = eng_->explain().recent(0);
  EXPECT_EQ(e.outcome, reg::explain_outcome::rejected);
  EXPECT_EQ(e.rule, reg::register_rule::interval_too_brief);
  EXPECT_EQ(e.code, 423);
}

TEST_F(p2p_test, front_end_refreshes_the_out_leg_before_it_lapses) {
  const std::string first = register_phone();
  const std::uint64_t t0 = now_;
  // The phone refreshes every 500 s (absorbed); out-expires 3600 s is refreshed a
  // tenth of its lifetime early, at 3240 s.
  unsigned cseq = 8;
  std::vector<sent> up;
  for (std::uint64_t t = t0 + 500'000; t <= t0 + 3'000'000; t += 500'000) {
    for (auto& s : advance_to(t)) up.push_back(s);
    reg_opts o;
    o.cseq = cseq++;
    o.branch = "z9hG4bK-r" + std::to_string(cseq);
    const auto out = from_phone(o);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].dst, k_phone) << "absorbed at " << (t - t0);
  }
  EXPECT_TRUE(up.empty());
  EXPECT_TRUE(advance_to(t0 + 3'239'999).empty());
  const auto refresh = advance_to(t0 + 3'240'000);
  ASSERT_EQ(refresh.size(), 1U);
  EXPECT_EQ(refresh[0].dst, k_registrar);
  const std::string& r = refresh[0].bytes;
  EXPECT_EQ(sip::validate(parsed(r)).broken, sip::rule::ok);
  EXPECT_EQ(header(r, sip::header_id::call_id), header(first, sip::header_id::call_id));
  EXPECT_EQ(header(r, sip::header_id::from), header(first, sip::header_id::from));
  EXPECT_EQ(header(r, sip::header_id::contact), header(first, sip::header_id::contact));
  EXPECT_EQ(header(r, sip::header_id::cseq), "2 REGISTER");
  EXPECT_EQ(header(r, sip::header_id::expires), "3600");
  EXPECT_EQ(parsed(r).request_uri(), "sip:sipfront.test");
  EXPECT_EQ(eng_->counters().upstream_refreshes, 1U);
  // Its 200 goes nowhere (the phone asked nothing) and extends the out-leg.
  EXPECT_TRUE(from_registrar(registrar_answer(r, 200, "OK", 3600)).empty());
  const reg::binding* b = eng_->find_binding(k_aor);
  EXPECT_EQ(b->out_expires_at_ms, now_ + 3'600'000);
  EXPECT_EQ(b->state, reg::binding_state::registered);
  // So the phone's next refresh, which would have outlived the old out-leg, is absorbed.
  advance_to(t0 + 3'500'000);
  reg_opts o;
  o.cseq = cseq;
  o.branch = "z9hG4bK-last";
  const auto out = from_phone(o);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(eng_->counters().register_absorbed, 7U);
  EXPECT_EQ(eng_->counters().forwarded_upstream, 2U);
}

TEST_F(p2p_test, phone_missing_fail_count_refreshes_is_deregistered_upstream) {
  const std::string first = register_phone();
  const std::uint64_t t0 = now_;
  // in-expires 600 s, fail-count 3: missed at 600, 1200, 1800 s; deregistered at the third.
  EXPECT_TRUE(advance_to(t0 + 600'000).empty());
  EXPECT_EQ(eng_->find_binding(k_aor)->missed_refreshes, 1U);
  EXPECT_TRUE(advance_to(t0 + 1'799'999).empty());
  EXPECT_EQ(eng_->find_binding(k_aor)->missed_refreshes, 2U);
  const auto dereg = advance_to(t0 + 1'800'000);
  ASSERT_EQ(dereg.size(), 1U);
  EXPECT_EQ(dereg[0].dst, k_registrar);
  const std::string& d = dereg[0].bytes;
  EXPECT_EQ(header(d, sip::header_id::expires), "0");
  EXPECT_EQ(header(d, sip::header_id::call_id), header(first, sip::header_id::call_id));
  EXPECT_EQ(header(d, sip::header_id::contact), header(first, sip::header_id::contact));
  EXPECT_EQ(header(d, sip::header_id::cseq), "2 REGISTER");
  EXPECT_EQ(eng_->counters().fail_count_deregs, 1U);
  EXPECT_EQ(eng_->counters().upstream_refreshes, 0U);
  EXPECT_TRUE(from_registrar(registrar_answer(d, 200, "OK")).empty());
  EXPECT_EQ(eng_->live_bindings(), 0U);
  EXPECT_EQ(eng_->find_binding(k_aor), nullptr);
}

TEST_F(p2p_test, phone_returning_during_its_fail_count_deregistration_keeps_the_binding) {
  const std::string first = register_phone();
  const std::uint64_t t0 = now_;
  advance_to(t0 + 1'200'000);
  const auto dereg = advance_to(t0 + 1'800'000);
  ASSERT_EQ(dereg.size(), 1U);
  EXPECT_EQ(header(dereg[0].bytes, sip::header_id::expires), "0");
  reg_opts o;
  o.cseq = 8;
  o.branch = "z9hG4bK-back";
  const auto fwd = from_phone(o);
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_EQ(fwd[0].dst, k_registrar);
  EXPECT_EQ(header(fwd[0].bytes, sip::header_id::cseq), "3 REGISTER") << "after the deregistration's CSeq 2";
  EXPECT_EQ(header(fwd[0].bytes, sip::header_id::expires), "3600");
  EXPECT_TRUE(from_registrar(registrar_answer(dereg[0].bytes, 200, "OK")).empty());
  EXPECT_EQ(eng_->live_bindings(), 1U) << "the deregistration's 200 must not free the revived binding";
  const auto back = from_registrar(registrar_answer(fwd[0].bytes, 200, "OK", 3600));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(contacts(back[0].bytes), std::vector<std::string>{"<sip:alice@198.18.1.2:5062>;expires=600"});
  const reg::binding* b = eng_->find_binding(k_aor);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, reg::binding_state::registered);
  EXPECT_EQ(b->missed_refreshes, 0U);
}

TEST_F(p2p_test, unregister_goes_upstream_with_expires_zero_and_frees_the_binding) {
  const std::string first = register_phone();
  reg_opts o;
  o.cseq = 8;
  o.branch = "z9hG4bK-u";
  o.expires = "0";
  const auto out = from_phone(o);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  EXPECT_EQ(header(out[0].bytes, sip::header_id::expires), "0");
  EXPECT_EQ(header(out[0].bytes, sip::header_id::contact), header(first, sip::header_id::contact));
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::unregister);
  const auto back = from_registrar(registrar_answer(out[0].bytes, 200, "OK"));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(parsed(back[0].bytes).status_code(), 200);
  EXPECT_TRUE(contacts(back[0].bytes).empty());
  EXPECT_EQ(eng_->live_bindings(), 0U);
}

TEST_F(p2p_test, new_call_id_for_the_aor_reuses_the_out_leg) {
  const std::string first = register_phone();
  reg_opts o;
  o.call_id = "reboot-2@198.18.1.2";
  o.cseq = 1;
  o.branch = "z9hG4bK-n";
  const auto out = from_phone(o);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::new_call_id);
  EXPECT_EQ(header(out[0].bytes, sip::header_id::call_id), header(first, sip::header_id::call_id));
  EXPECT_EQ(header(out[0].bytes, sip::header_id::cseq), "2 REGISTER");
  from_registrar(registrar_answer(out[0].bytes, 200, "OK", 3600));
  const reg::binding* b = eng_->find_binding(k_aor);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->call_id(), "reboot-2@198.18.1.2");
  EXPECT_EQ(b->in_cseq, 1U);
  EXPECT_EQ(eng_->live_bindings(), 1U);
}

TEST_F(p2p_test, a_new_call_id_for_an_aor_meets_its_binding_on_the_aors_worker) {
  // Four workers, each message delivered where steer() sends it. The two Call-IDs
  // hash to different workers, so Call-ID placement would have split the AOR.
  constexpr unsigned n = 4;
  const std::string cid1 = "boot-1@198.18.1.2";
  std::string cid2;
  for (int i = 0; cid2.empty(); ++i) {
    const std::string c = "boot-2-" + std::to_string(i) + "@198.18.1.2";
    if (reg::call_id_hash(c) % n != reg::call_id_hash(cid1) % n) cid2 = c;
  }
  std::vector<std::unique_ptr<reg::engine>> engines;
  for (unsigned w = 0; w < n; ++w) {
    reg::engine_config cfg = p2p_config(k_registrar, w, n);
    cfg.max_transactions = 16;
    cfg.max_bindings = 4;
    cfg.binding_seed = 7 + w;
    engines.push_back(std::make_unique<reg::engine>(cfg));
  }
  steered_delivery deliver(engines);
  reg_opts o;
  o.call_id = cid1;
  std::vector<std::string> sent_out;
  const unsigned owner = deliver(register_msg(o), reg::side::access, k_phone, sent_out);
  ASSERT_EQ(sent_out.size(), 1U);
  const std::string first = sent_out[0];
  EXPECT_EQ(deliver(registrar_answer(first, 200, "OK", 3600), reg::side::core, k_registrar, sent_out), owner);
  ASSERT_EQ(sent_out.size(), 1U);
  EXPECT_EQ(parsed(sent_out[0]).status_code(), 200);

  // The phone restarts: new Call-ID, CSeq from 1, its To spelled differently.
  o.call_id = cid2;
  o.cseq = 1;
  o.branch = "z9hG4bK-restart";
  std::string again = register_msg(o);
  const std::string to = "To: <sip:alice@sipfront.test>";
  again.replace(again.find(to), to.size(), "t: \"Alice\" <SIP:alice@SipFront.Test>");
  EXPECT_EQ(deliver(again, reg::side::access, k_phone, sent_out), owner);
  ASSERT_EQ(sent_out.size(), 1U);
  EXPECT_EQ(engines[owner]->explain().recent(0).rule, reg::register_rule::new_call_id);
  EXPECT_EQ(header(sent_out[0], sip::header_id::call_id), header(first, sip::header_id::call_id))
      << "the same out-leg registration, refreshed: no second binding upstream";
  EXPECT_EQ(header(sent_out[0], sip::header_id::cseq), "2 REGISTER");
  EXPECT_EQ(deliver(registrar_answer(sent_out[0], 200, "OK", 3600), reg::side::core, k_registrar, sent_out), owner);
  std::size_t bindings = 0;
  std::uint64_t forwarded = 0;
  for (const auto& e : engines) {
    bindings += e->live_bindings();
    forwarded += e->counters().forwarded_upstream;
  }
  EXPECT_EQ(bindings, 1U);
  EXPECT_EQ(forwarded, 2U);
  const reg::binding* b = engines[owner]->find_binding("sip:alice@sipfront.test");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->call_id(), cid2);
}

TEST_F(p2p_test, query_is_answered_from_the_binding) {
  register_phone();
  reg_opts o;
  o.cseq = 8;
  o.branch = "z9hG4bK-q";
  o.contact.clear();
  o.expires.clear();
  const auto out = from_phone(o);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(contacts(out[0].bytes), std::vector<std::string>{"<sip:alice@198.18.1.2:5062>;expires=600"});
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::query_binding);
}

TEST_F(p2p_test, retransmissions_are_absorbed_then_answered_and_timer_e_resends_the_out_leg_request) {
  const auto fwd = from_phone({});
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_TRUE(from_phone({}).empty());
  EXPECT_EQ(eng_->counters().retrans_absorbed, 1U);
  const auto e = advance_to(now_ + cfg_.t1_ms);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].dst, k_registrar);
  EXPECT_EQ(e[0].bytes, fwd[0].bytes) << "Timer E resends exactly the out-leg request, not the phone's";
  const auto ok = from_registrar(registrar_answer(fwd[0].bytes, 200, "OK", 3600));
  ASSERT_EQ(ok.size(), 1U);
  const auto again = from_phone({});
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].bytes, ok[0].bytes);
  EXPECT_EQ(eng_->counters().register_forwarded, 1U) << "a retransmission is not a new decision";
  EXPECT_EQ(eng_->explain().total(), 1U);
}

TEST_F(p2p_test, timer_f_answers_the_phone_and_drops_the_unconfirmed_binding) {
  from_phone({});
  const auto out = advance_to(now_ + cfg_.timer_f_ms);
  sip::message r;
  bool answered = false;
  for (const auto& s : out) {
    if (s.dst == k_phone) {
      answered = true;
      EXPECT_EQ(parsed(s.bytes).status_code(), 408);
      EXPECT_EQ(header(s.bytes, sip::header_id::call_id), k_call_id);
    }
  }
  EXPECT_TRUE(answered);
  EXPECT_EQ(eng_->live_bindings(), 0U);
}

TEST_F(p2p_test, full_binding_table_answers_503) {
  cfg_.max_bindings = 1;
  make_engine();
  ASSERT_EQ(from_phone({}).size(), 1U);
  reg_opts o;
  o.call_id = "bob-1@x";
  o.branch = "z9hG4bK-b";
  std::string m = register_msg(o);
  m.replace(m.find("To: <sip:alice"), 14, "To: <sip:bob");
  const auto out = feed(m, reg::side::access, k_phone);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 503);
  EXPECT_NE(parsed(out[0].bytes).find("Retry-After"), nullptr);
  EXPECT_EQ(eng_->counters().bindings_full, 1U);
}

TEST_F(p2p_test, explain_ring_keeps_the_newest_256) {
  for (unsigned i = 0; i < 300; ++i) {
    reg_opts o;
    o.expires = "30";
    o.cseq = i + 1;
    o.branch = "z9hG4bK-x" + std::to_string(i);
    from_phone(o);
  }
  const reg::explain_ring& x = eng_->explain();
  EXPECT_EQ(x.total(), 300U);
  ASSERT_EQ(x.size(), reg::explain_ring::capacity);
  EXPECT_EQ(x.recent(0).cseq, 300U);
  EXPECT_EQ(x.recent(255).cseq, 45U);
  EXPECT_EQ(eng_->counters().register_rejected_423, 300U);
}

TEST(end_to_end, keeps_no_bindings_and_no_explain_records) {
  reg::engine_config cfg;
  cfg.registrars[0] = {k_registrar, {}};
  cfg.n_registrars = 1;
  cfg.max_transactions = 4;
  reg::engine e(cfg);
  reg::output_queue out;
  const std::string req = register_msg({});
  sip::message m;
  ASSERT_EQ(m.parse(req), sip::errc::ok);
  e.on_message(m, {k_phone, reg::side::access}, 0, out);
  ASSERT_EQ(out.size(), 1U);
  const std::string fwd(out.bytes(out[0]));
  EXPECT_NE(fwd.find("Call-ID: reg-1@198.18.1.2"), std::string::npos);
  EXPECT_NE(fwd.find("Contact: <sip:alice@198.18.1.2:5062>"), std::string::npos);
  EXPECT_EQ(e.live_bindings(), 0U);
  EXPECT_EQ(e.explain().total(), 0U);
}

}  // namespace
}  // namespace sipfront::test
