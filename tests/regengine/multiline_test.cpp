// Multi-line phones in peer-to-peer mode: one Call-ID for several AORs (RFC 3261
// §10.2: a UA SHOULD use one Call-ID for all its registrations with a registrar).
// Each AOR is its own binding with its own out-leg registration, absorbed,
// refreshed, deregistered and routed to on its own. Fake clock, no DPDK.
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
const reg::endpoint k_core_proxy{ip(198, 18, 2, 9), 5060, 1};
constexpr std::string_view k_call_id = "lines-1@198.18.1.2";  // every line's

// A REGISTER of line `user` (its AOR sip:<user>@sipfront.test, its Contact
// sip:<user>@198.18.1.2:5062); CSeq counts per Call-ID across the lines (§10.2).
struct line_reg {
  std::string user;
  unsigned cseq = 1;
  std::string call_id = std::string(k_call_id);
  std::string expires = "600";
  std::string contact_host = "198.18.1.2:5062";
  std::string branch = {};  // empty: one from the line, CSeq and Call-ID (a new transaction for each)
};

std::string register_msg(const line_reg& o) {
  const std::string branch = !o.branch.empty() ? o.branch
                                               : "z9hG4bK-" + o.user + "-" + std::to_string(o.cseq) + "-" +
                                                     o.call_id.substr(0, o.call_id.find('@'));
  return make_register({.branch = branch,
                        .user = o.user,
                        .from_tag = "t-" + o.user,
                        .call_id = o.call_id,
                        .cseq = o.cseq,
                        .contact = "<sip:" + o.user + "@" + o.contact_host + ">",
                        .expires = o.expires});
}

std::string header_of(const std::string& msg, sip::header_id id) {
  sip::message m;
  EXPECT_EQ(m.parse(msg), sip::errc::ok);
  return std::string(m.value_of(id));
}

std::string aor(std::string_view user) { return "sip:" + std::string(user) + "@sipfront.test"; }

// A core INVITE to `ruri` (the Contact the front end registered for a line).
std::string invite(std::string_view ruri, std::string_view branch) {
  std::string m = "INVITE " + std::string(ruri) + " SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 198.18.2.9:5060;branch=" + std::string(branch) + "\r\n";
  m += "Max-Forwards: 70\r\n";
  m += "From: <sip:carol@core.test>;tag=c1\r\n";
  m += "To: <sip:someone@sipfront.test>\r\n";
  m += "Call-ID: call-" + std::string(branch) + "@core.test\r\n";
  m += "CSeq: 1 INVITE\r\n";
  m += "Contact: <sip:carol@198.18.2.9:5060>\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

reg::engine_config base_config(unsigned worker, unsigned n_workers) {
  reg::engine_config cfg = p2p_config(k_registrar, worker, n_workers);
  cfg.binding_seed = 42 + worker;
  return cfg;
}

class multiline_test : public engine_harness {
 protected:
  void SetUp() override {
    cfg_ = base_config(0, 1);
    eng_ = std::make_unique<reg::engine>(cfg_);
  }

  std::vector<sent> from_phone(const line_reg& o) { return feed(register_msg(o), reg::side::access, k_phone, true); }
  std::vector<sent> from_registrar(std::string_view b) { return feed(b, reg::side::core, k_registrar, true); }
  std::vector<sent> from_core(std::string_view b) { return feed(b, reg::side::core, k_core_proxy, true); }

  // Registers one line: forwarded upstream, granted 3600 s, 200 relayed to the phone
  // for that line. Returns the forwarded REGISTER.
  std::string register_line(const line_reg& o) {
    const auto fwd = from_phone(o);
    EXPECT_EQ(fwd.size(), 1U) << o.user;
    if (fwd.size() != 1) return {};
    EXPECT_EQ(fwd[0].dst, k_registrar);
    const auto back = from_registrar(registrar_answer(fwd[0].bytes, 200, "OK", 3600));
    EXPECT_EQ(back.size(), 1U) << o.user;
    if (back.size() == 1) {
      EXPECT_EQ(back[0].dst, k_phone);
      EXPECT_EQ(parsed(back[0].bytes).status_code(), 200);
      EXPECT_EQ(header(back[0].bytes, sip::header_id::to).find("<" + aor(o.user) + ">"), 0U)
          << "the 200 for this line's REGISTER";
      EXPECT_EQ(header(back[0].bytes, sip::header_id::call_id), o.call_id);
      EXPECT_EQ(header(back[0].bytes, sip::header_id::contact),
                "<sip:" + o.user + "@" + o.contact_host + ">;expires=600")
          << "this line's Contact only";
    }
    return fwd[0].bytes;
  }
  // The Contact URI the front end registered upstream for a line.
  static std::string our_contact(const std::string& forwarded) {
    const auto m = parsed(forwarded);
    const auto na = sip::parse_name_addr(m.value_of(sip::header_id::contact));
    return na ? std::string(na->uri) : std::string();
  }
};

TEST_F(multiline_test, two_aors_with_one_call_id_are_two_bindings_with_their_own_out_legs) {
  const std::string up_a = register_line({.user = "alice", .cseq = 1});
  const std::string up_b = register_line({.user = "bob", .cseq = 2});
  ASSERT_FALSE(up_a.empty());
  ASSERT_FALSE(up_b.empty());
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::new_binding) << "not a 400: bob's own new binding";
  EXPECT_EQ(eng_->counters().register_rejected, 0U);
  EXPECT_EQ(eng_->live_bindings(), 2U);

  // Two upstream registrations: distinct out-leg Call-IDs, From tags and Contacts,
  // each naming its own AOR, neither carrying the phone's Call-ID.
  const std::string cid_a = header(up_a, sip::header_id::call_id);
  const std::string cid_b = header(up_b, sip::header_id::call_id);
  EXPECT_NE(cid_a, cid_b);
  EXPECT_NE(cid_a, k_call_id);
  EXPECT_NE(cid_b, k_call_id);
  EXPECT_NE(header(up_a, sip::header_id::from), header(up_b, sip::header_id::from));
  EXPECT_EQ(header(up_a, sip::header_id::to), "<" + aor("alice") + ">");
  EXPECT_EQ(header(up_b, sip::header_id::to), "<" + aor("bob") + ">");
  EXPECT_NE(our_contact(up_a), our_contact(up_b));
  EXPECT_EQ(header(up_a, sip::header_id::cseq), "1 REGISTER");
  EXPECT_EQ(header(up_b, sip::header_id::cseq), "1 REGISTER") << "each out-leg dialog has its own CSeq";

  const reg::binding* a = eng_->find_binding(aor("alice"));
  const reg::binding* b = eng_->find_binding(aor("bob"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(a->call_id(), k_call_id);
  EXPECT_EQ(b->call_id(), k_call_id);
  EXPECT_EQ(a->state, reg::binding_state::registered);
  EXPECT_EQ(b->state, reg::binding_state::registered);
  EXPECT_EQ(a->in_cseq, 1U);
  EXPECT_EQ(b->in_cseq, 2U);
  EXPECT_EQ(eng_->binding_for_contact(our_contact(up_a)), a);
  EXPECT_EQ(eng_->binding_for_contact(our_contact(up_b)), b);
}

TEST_F(multiline_test, each_lines_refresh_is_absorbed_or_forwarded_on_its_own) {
  const std::string up_a = register_line({.user = "alice", .cseq = 1});
  const std::string up_b = register_line({.user = "bob", .cseq = 2});
  const std::uint64_t forwarded = eng_->counters().forwarded_upstream;
  now_ += 300'000;

  // alice's refresh (CSeq 3: the Call-ID's sequence, skipping bob's 2) is absorbed.
  auto out = from_phone({.user = "alice", .cseq = 3});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 200);
  EXPECT_EQ(header(out[0].bytes, sip::header_id::contact), "<sip:alice@198.18.1.2:5062>;expires=600");
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::refresh_absorbed);

  // bob's refresh with a new Contact goes upstream, on bob's out-leg only.
  out = from_phone({.user = "bob", .cseq = 4, .contact_host = "198.18.1.2:5064"});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::contacts_changed);
  EXPECT_EQ(header(out[0].bytes, sip::header_id::call_id), header(up_b, sip::header_id::call_id));
  EXPECT_EQ(header(out[0].bytes, sip::header_id::cseq), "2 REGISTER");
  const auto back = from_registrar(registrar_answer(out[0].bytes, 200, "OK", 3600));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(header(back[0].bytes, sip::header_id::contact), "<sip:bob@198.18.1.2:5064>;expires=600");
  EXPECT_EQ(eng_->counters().forwarded_upstream, forwarded + 1);

  // Both keep absorbing afterwards, each against its own CSeq and Contacts.
  out = from_phone({.user = "bob", .cseq = 5, .contact_host = "198.18.1.2:5064"});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::refresh_absorbed);
  out = from_phone({.user = "alice", .cseq = 6});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::refresh_absorbed);
  // bob's Contact change stayed bob's: alice still has hers.
  const reg::binding* a = eng_->find_binding(aor("alice"));
  const reg::binding* b = eng_->find_binding(aor("bob"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(a->n_contacts(), 1U);
  EXPECT_EQ(a->contact_uri(0), "sip:alice@198.18.1.2:5062");
  ASSERT_EQ(b->n_contacts(), 1U);
  EXPECT_EQ(b->contact_uri(0), "sip:bob@198.18.1.2:5064");
  EXPECT_EQ(a->in_cseq, 6U);
  EXPECT_EQ(b->in_cseq, 5U);
  EXPECT_EQ(eng_->counters().register_absorbed, 3U);
  EXPECT_EQ(eng_->counters().forwarded_upstream, forwarded + 1);

  // CSeq order is judged per line: bob's 5 again is stale for bob (alice is at 6).
  out = from_phone({.user = "bob", .cseq = 5, .contact_host = "198.18.1.2:5064", .branch = "z9hG4bK-bob-again"});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::cseq_not_increasing);
}

TEST_F(multiline_test, unregistering_one_line_leaves_the_other_registered_and_reachable) {
  const std::string up_a = register_line({.user = "alice", .cseq = 1});
  const std::string up_b = register_line({.user = "bob", .cseq = 2});
  const std::string contact_a = our_contact(up_a);
  const std::string contact_b = our_contact(up_b);

  // Core requests to each registered Contact reach the phone at that line's Contact.
  auto out = from_core(invite(contact_a, "z9hG4bK-inv-a"));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(parsed(out[0].bytes).request_uri(), "sip:alice@198.18.1.2:5062");
  out = from_core(invite(contact_b, "z9hG4bK-inv-b"));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(parsed(out[0].bytes).request_uri(), "sip:bob@198.18.1.2:5062");
  EXPECT_EQ(eng_->counters().routed_to_phone, 2U);

  // alice's line un-REGISTERs (same Call-ID): upstream on alice's out-leg.
  out = from_phone({.user = "alice", .cseq = 3, .expires = "0"});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::unregister);
  EXPECT_EQ(header(out[0].bytes, sip::header_id::call_id), header(up_a, sip::header_id::call_id));
  EXPECT_EQ(header(out[0].bytes, sip::header_id::expires), "0");
  const auto back = from_registrar(registrar_answer(out[0].bytes, 200, "OK"));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(parsed(back[0].bytes).status_code(), 200);
  EXPECT_EQ(eng_->find_binding(aor("alice")), nullptr);
  EXPECT_EQ(eng_->live_bindings(), 1U);

  // bob is untouched: still registered, still absorbing, still reachable.
  const reg::binding* b = eng_->find_binding(aor("bob"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, reg::binding_state::registered);
  EXPECT_EQ(b->call_id(), k_call_id);
  out = from_phone({.user = "bob", .cseq = 4});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::refresh_absorbed);
  out = from_core(invite(contact_b, "z9hG4bK-inv-b2"));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(parsed(out[0].bytes).request_uri(), "sip:bob@198.18.1.2:5062");
  // alice's Contact no longer names a binding: the core is told so, the phone is not bothered.
  out = from_core(invite(contact_a, "z9hG4bK-inv-a2"));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_core_proxy);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 404);

  // alice registers again with the shared Call-ID: a new binding beside bob's.
  const std::string again = register_line({.user = "alice", .cseq = 5});
  EXPECT_EQ(eng_->live_bindings(), 2U);
  EXPECT_NE(header(again, sip::header_id::call_id), header(up_a, sip::header_id::call_id))
      << "a new out-leg registration (the old one was removed)";
}

TEST_F(multiline_test, a_restarted_multiline_phone_moves_every_line_to_its_new_call_id) {
  const std::string up_a = register_line({.user = "alice", .cseq = 1});
  const std::string up_b = register_line({.user = "bob", .cseq = 2});
  // After a reboot the phone uses a new Call-ID for all its lines, CSeq from 1.
  const std::string cid2 = "lines-2@198.18.1.2";
  auto out = from_phone({.user = "alice", .cseq = 1, .call_id = cid2});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::new_call_id);
  EXPECT_EQ(header(out[0].bytes, sip::header_id::call_id), header(up_a, sip::header_id::call_id));
  ASSERT_EQ(from_registrar(registrar_answer(out[0].bytes, 200, "OK", 3600)).size(), 1U);
  // bob's line moves onto the Call-ID alice's binding now has.
  out = from_phone({.user = "bob", .cseq = 2, .call_id = cid2});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::new_call_id);
  EXPECT_EQ(header(out[0].bytes, sip::header_id::call_id), header(up_b, sip::header_id::call_id));
  ASSERT_EQ(from_registrar(registrar_answer(out[0].bytes, 200, "OK", 3600)).size(), 1U);
  const reg::binding* a = eng_->find_binding(aor("alice"));
  const reg::binding* b = eng_->find_binding(aor("bob"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->call_id(), cid2);
  EXPECT_EQ(b->call_id(), cid2);
  EXPECT_EQ(eng_->live_bindings(), 2U);
  // And they absorb under the new Call-ID.
  out = from_phone({.user = "alice", .cseq = 3, .call_id = cid2});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::refresh_absorbed);
}

TEST(multiline_workers, lines_of_one_call_id_live_on_the_workers_of_their_aors) {
  // Four workers, each message delivered where steer() sends it; two lines whose AORs
  // hash to different workers.
  constexpr unsigned n = 4;
  std::uint64_t h0 = 0;
  ASSERT_TRUE(reg::aor_hash(aor("alice"), h0));
  std::string other;
  for (int i = 0; other.empty(); ++i) {
    const std::string u = "line" + std::to_string(i);
    std::uint64_t h = 0;
    ASSERT_TRUE(reg::aor_hash(aor(u), h));
    if (h % n != h0 % n) other = u;
  }
  std::vector<std::unique_ptr<reg::engine>> engines;
  for (unsigned w = 0; w < n; ++w) engines.push_back(std::make_unique<reg::engine>(base_config(w, n)));
  steered_delivery deliver(engines);
  std::vector<std::string> s;
  const unsigned w_a = deliver(register_msg({.user = "alice", .cseq = 1}), reg::side::access, k_phone, s);
  ASSERT_EQ(s.size(), 1U);
  const std::string up_a = s[0];
  EXPECT_EQ(deliver(registrar_answer(up_a, 200, "OK", 3600), reg::side::core, k_registrar, s), w_a);
  const unsigned w_b = deliver(register_msg({.user = other, .cseq = 2}), reg::side::access, k_phone, s);
  ASSERT_EQ(s.size(), 1U);
  const std::string up_b = s[0];
  EXPECT_EQ(deliver(registrar_answer(up_b, 200, "OK", 3600), reg::side::core, k_registrar, s), w_b);
  ASSERT_NE(w_a, w_b);
  ASSERT_NE(engines[w_a]->find_binding(aor("alice")), nullptr);
  ASSERT_NE(engines[w_b]->find_binding(aor(other)), nullptr);
  EXPECT_EQ(engines[w_a]->live_bindings(), 1U);
  EXPECT_EQ(engines[w_b]->live_bindings(), 1U);
  EXPECT_NE(header_of(up_a, sip::header_id::call_id), header_of(up_b, sip::header_id::call_id));
  // Each line's refresh reaches its own worker and is absorbed there.
  EXPECT_EQ(deliver(register_msg({.user = other, .cseq = 3}), reg::side::access, k_phone, s), w_b);
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(engines[w_b]->explain().recent(0).rule, reg::register_rule::refresh_absorbed);
  EXPECT_EQ(deliver(register_msg({.user = "alice", .cseq = 4}), reg::side::access, k_phone, s), w_a);
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(engines[w_a]->explain().recent(0).rule, reg::register_rule::refresh_absorbed);
}

}  // namespace
}  // namespace sipfront::test
