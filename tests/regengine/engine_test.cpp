// End-to-end pass-through: every rule of the engine with a fake clock, no DPDK.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
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

std::string register_msg(std::string_view call_id = "reg-1@198.18.1.2", unsigned cseq = 1,
                         std::string_view branch = "z9hG4bK-phone-1", std::string_view extra = "",
                         std::string_view ruri = "sip:sipfront.test", std::string_view via_params = ";rport") {
  return make_register({.ruri = std::string(ruri),
                        .branch = std::string(branch),
                        .via_params = std::string(via_params),
                        .call_id = std::string(call_id),
                        .cseq = cseq,
                        .contact = "<sip:alice@198.18.1.2:5062>",
                        .extra = std::string(extra),
                        .expires = "3600"});
}

class engine_test : public engine_harness {
 protected:
  void SetUp() override {
    cfg_ = front_end_config();
    cfg_.registrars[0] = {k_registrar, "sipfront.test"};
    cfg_.registrars[1] = {k_registrar2, "other.test"};
    make_engine();
  }

  void make_engine(unsigned n_registrars = 1) {
    cfg_.n_registrars = n_registrars;
    eng_ = std::make_unique<reg::engine>(cfg_);
  }

  std::vector<sent> from_phone(std::string_view b) { return feed(b, reg::side::access, k_phone); }
  std::vector<sent> from_registrar(std::string_view b) { return feed(b, reg::side::core, k_registrar); }
};

TEST_F(engine_test, register_is_forwarded_with_our_via_and_decremented_max_forwards) {
  const auto out = from_phone(register_msg());
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  const auto m = parsed(out[0].bytes);
  EXPECT_EQ(sip::validate(m).broken, sip::rule::ok);
  EXPECT_EQ(m.request_uri(), "sip:sipfront.test");
  sip::via_list<4> vias;
  ASSERT_EQ(sip::parse_vias(m, vias), sip::errc::ok);
  ASSERT_EQ(vias.size(), 2U);
  EXPECT_EQ(vias[0].host, "198.18.2.1");
  EXPECT_TRUE(vias[0].branch.starts_with("z9hG4bKsf01."));
  EXPECT_TRUE(vias[0].has_rport);
  // The phone's Via: rport filled with the source port, received with the source address.
  EXPECT_EQ(vias[1].branch, "z9hG4bK-phone-1");
  EXPECT_TRUE(vias[1].rport_has_value);
  EXPECT_EQ(vias[1].rport, 5062);
  EXPECT_EQ(vias[1].received, "198.18.1.2");
  EXPECT_EQ(m.value_of(sip::header_id::max_forwards), "69");
  EXPECT_EQ(m.value_of(sip::header_id::call_id), "reg-1@198.18.1.2");
  EXPECT_EQ(eng_->counters().forwarded_upstream, 1U);
  EXPECT_EQ(eng_->live_transactions(), 1U);
}

TEST_F(engine_test, request_uri_selects_the_registrar_else_the_default) {
  make_engine(2);
  auto out = from_phone(register_msg("a@x", 1, "z9hG4bK-a", "", "sip:other.test"));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar2);
  out = from_phone(register_msg("b@x", 1, "z9hG4bK-b", "", "sip:198.18.2.3:5070"));
  EXPECT_EQ(out[0].dst, k_registrar2);
  out = from_phone(register_msg("c@x", 1, "z9hG4bK-c", "", "sip:unknown.example"));
  EXPECT_EQ(out[0].dst, k_registrar);
}

TEST_F(engine_test, challenge_relayed_and_authorization_passes_untouched) {
  const auto fwd = from_phone(register_msg());
  const auto back = from_registrar(registrar_answer(
      fwd[0].bytes, 401, "Unauthorized", -1, "WWW-Authenticate: Digest realm=\"sipfront.test\", nonce=\"n1\"\r\n"));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0].dst, k_phone);
  const auto r = parsed(back[0].bytes);
  EXPECT_EQ(r.status_code(), 401);
  sip::via_list<4> vias;
  ASSERT_EQ(sip::parse_vias(r, vias), sip::errc::ok);
  ASSERT_EQ(vias.size(), 1U);
  EXPECT_EQ(vias[0].branch, "z9hG4bK-phone-1");
  EXPECT_EQ(r.value_of(sip::header_id::www_authenticate), "Digest realm=\"sipfront.test\", nonce=\"n1\"");

  const std::string auth =
      "Authorization: Digest username=\"alice\", realm=\"sipfront.test\", nonce=\"n1\", "
      "uri=\"sip:sipfront.test\", response=\"0123456789abcdef0123456789abcdef\"\r\n";
  const auto fwd2 = from_phone(register_msg("reg-1@198.18.1.2", 2, "z9hG4bK-phone-2", auth));
  ASSERT_EQ(fwd2.size(), 1U);
  const auto m2 = parsed(fwd2[0].bytes);
  EXPECT_EQ(std::string(m2.value_of(sip::header_id::authorization)) + "\r\n", auth.substr(15));
  EXPECT_EQ(eng_->counters().relayed_downstream, 1U);
}

TEST_F(engine_test, retransmissions_absorbed_while_pending_then_answered_with_the_final) {
  const auto reg1 = register_msg();
  const auto fwd = from_phone(reg1);
  EXPECT_TRUE(from_phone(reg1).empty());
  EXPECT_TRUE(from_phone(reg1).empty());
  EXPECT_EQ(eng_->counters().retrans_absorbed, 2U);
  const auto ok = from_registrar(registrar_answer(fwd[0].bytes, 200, "OK"));
  ASSERT_EQ(ok.size(), 1U);
  const auto again = from_phone(reg1);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].bytes, ok[0].bytes);
  EXPECT_EQ(again[0].dst, k_phone);
  EXPECT_EQ(eng_->counters().retrans_answered, 1U);
  EXPECT_EQ(eng_->counters().forwarded_upstream, 1U);
  // A registrar retransmitting its 200 is not relayed twice.
  EXPECT_TRUE(from_registrar(registrar_answer(fwd[0].bytes, 200, "OK")).empty());
  EXPECT_EQ(eng_->counters().duplicate_responses, 1U);
}

TEST_F(engine_test, timer_e_doubles_to_t2_and_timer_f_answers_408) {
  const auto fwd = from_phone(register_msg());
  const std::uint64_t t0 = now_;
  std::vector<std::uint64_t> at;
  for (std::uint64_t t = t0 + 1; t <= t0 + cfg_.timer_f_ms - 1; ++t) {
    if (t % 50 != 0 && t != t0 + 500) continue;  // sample the clock every 50 ms
    for (const auto& s : advance_to(t)) {
      EXPECT_EQ(s.dst, k_registrar);
      EXPECT_EQ(s.bytes, fwd[0].bytes);  // a retransmission is byte-identical
      at.push_back(t - t0);
    }
  }
  // T1=500: 500, 1500, 3500, 7500, then every T2=4000 ms.
  ASSERT_GE(at.size(), 6U);
  EXPECT_EQ(at[0], 500U);
  EXPECT_EQ(at[1], 1500U);
  EXPECT_EQ(at[2], 3500U);
  EXPECT_EQ(at[3], 7500U);
  EXPECT_EQ(at[4], 11500U);
  const auto timeout = advance_to(t0 + cfg_.timer_f_ms);
  ASSERT_EQ(timeout.size(), 1U);
  EXPECT_EQ(timeout[0].dst, k_phone);
  const auto r = parsed(timeout[0].bytes);
  EXPECT_EQ(r.status_code(), 408);
  EXPECT_EQ(r.value_of(sip::header_id::call_id), "reg-1@198.18.1.2");
  sip::via_list<4> vias;
  ASSERT_EQ(sip::parse_vias(r, vias), sip::errc::ok);
  ASSERT_EQ(vias.size(), 1U);  // only the phone's Via
  EXPECT_FALSE(parsed(timeout[0].bytes).find(sip::header_id::to) == nullptr);
  EXPECT_EQ(eng_->counters().timer_f_timeouts, 1U);
  // A late retransmission from the phone gets the same 408; Timer K frees the record.
  const auto again = from_phone(register_msg());
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].bytes, timeout[0].bytes);
  advance_to(now_ + cfg_.timer_k_ms + 1);
  EXPECT_EQ(eng_->live_transactions(), 0U);
}

TEST_F(engine_test, timeout_answer_can_be_503) {
  cfg_.timeout_code = 503;
  eng_ = std::make_unique<reg::engine>(cfg_);
  from_phone(register_msg());
  std::vector<sent> last;
  const std::uint64_t t0 = now_;
  for (std::uint64_t t = t0 + 1000; t <= t0 + cfg_.timer_f_ms; t += 1000) last = advance_to(t);
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(parsed(last.back().bytes).status_code(), 503);
}

TEST_F(engine_test, provisional_then_final) {
  const auto fwd = from_phone(register_msg());
  const auto trying = from_registrar(registrar_answer(fwd[0].bytes, 100, "Trying"));
  ASSERT_EQ(trying.size(), 1U);
  EXPECT_EQ(parsed(trying[0].bytes).status_code(), 100);
  const auto ok = from_registrar(registrar_answer(fwd[0].bytes, 200, "OK"));
  ASSERT_EQ(ok.size(), 1U);
  EXPECT_EQ(parsed(ok[0].bytes).status_code(), 200);
}

TEST_F(engine_test, stray_responses_are_dropped_and_counted) {
  const std::string stray =
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.2.1:5060;branch=z9hG4bKsf01.deadbeef\r\n"
      "Via: SIP/2.0/UDP 198.18.1.2:5062;branch=z9hG4bK-x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n"
      "Call-ID: stray@x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
  EXPECT_TRUE(from_registrar(stray).empty());
  std::string foreign = stray;
  foreign.replace(foreign.find("z9hG4bKsf01.deadbeef"), 20, "z9hG4bK-notours-0001");
  EXPECT_TRUE(from_registrar(foreign).empty());
  EXPECT_EQ(eng_->counters().stray_responses, 2U);
}

struct bad_case {
  const char* name;
  std::string msg;
  unsigned code;  // 0: no answer
};

TEST_F(engine_test, malformed_requests_are_answered_and_never_forwarded) {
  std::string mf0 = register_msg();
  mf0.replace(mf0.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
  std::string badver = register_msg();
  badver.replace(badver.find("SIP/2.0\r\n"), 7, "SIP/3.0");
  std::string scheme = register_msg("s@x", 1, "z9hG4bK-s", "", "foo:bar");
  std::string preq = register_msg("p@x", 1, "z9hG4bK-p", "Proxy-Require: nothing-supports-this\r\n");
  std::string nocseq = register_msg();
  nocseq.replace(nocseq.find("CSeq: 1 REGISTER"), 16, "CSeq: x REGISTER");
  std::string noheaders = "REGISTER sip:sipfront.test SIP/2.0\r\nContent-Length: 0\r\n\r\n";
  const bad_case cases[] = {
      {"max_forwards_0", mf0, 483}, {"sip_3", badver, 505},  {"scheme", scheme, 416},
      {"proxy_require", preq, 420}, {"bad_cseq", nocseq, 0}, {"no_headers", noheaders, 0},
  };
  for (const auto& c : cases) {
    const auto out = from_phone(c.msg);
    if (c.code == 0) {
      EXPECT_TRUE(out.empty()) << c.name;
      continue;
    }
    ASSERT_EQ(out.size(), 1U) << c.name;
    EXPECT_EQ(out[0].dst, k_phone) << c.name;
    EXPECT_EQ(parsed(out[0].bytes).status_code(), c.code) << c.name;
  }
  EXPECT_EQ(eng_->counters().forwarded_upstream, 0U);
  EXPECT_EQ(eng_->counters().malformed_requests, 6U);
  EXPECT_EQ(eng_->counters().unanswerable, 2U);
  EXPECT_EQ(eng_->counters().by_rule[static_cast<std::size_t>(sip::rule::too_many_hops)], 1U);
}

TEST_F(engine_test, malformed_response_is_dropped) {
  const auto fwd = from_phone(register_msg());
  std::string bad = registrar_answer(fwd[0].bytes, 200, "OK");
  bad.replace(0, 14, "SIP/2.0 2000 OK");
  EXPECT_TRUE(from_registrar(bad).empty());
  EXPECT_EQ(eng_->counters().malformed_responses, 1U);
  EXPECT_EQ(eng_->counters().relayed_downstream, 0U);
}

TEST_F(engine_test, rfc2543_request_without_max_forwards_gets_one_added) {
  cfg_.policy.require_max_forwards = false;
  eng_ = std::make_unique<reg::engine>(cfg_);
  std::string m = register_msg();
  m.erase(m.find("Max-Forwards: 70\r\n"), 18);
  const auto out = from_phone(m);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(parsed(out[0].bytes).value_of(sip::header_id::max_forwards), "70");
}

TEST_F(engine_test, response_goes_to_sent_by_port_without_rport) {
  const auto fwd = from_phone(register_msg("n@x", 1, "z9hG4bK-n", "", "sip:sipfront.test", ""));
  const auto m = parsed(fwd[0].bytes);
  sip::via_list<4> vias;
  ASSERT_EQ(sip::parse_vias(m, vias), sip::errc::ok);
  EXPECT_FALSE(vias[1].has_rport);
  EXPECT_TRUE(vias[1].received.empty());  // sent-by already equals the source address
  reg::endpoint src = k_phone;
  src.port = 40000;  // a NAT changed the port; without rport the answer still goes to sent-by
  msgs_.emplace_back(register_msg("n2@x", 1, "z9hG4bK-n2", "", "sip:sipfront.test", ""));
  sip::message req;
  req.parse(msgs_.back());
  out_.clear();
  eng_->on_message(req, {src, reg::side::access}, now_, out_);
  const auto fwd2 = drain();
  const auto back = from_registrar(registrar_answer(fwd2[0].bytes, 200, "OK"));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0].dst.port, 5062);
}

TEST_F(engine_test, pool_exhaustion_and_missing_registrar_answer_503) {
  for (unsigned i = 0; i < cfg_.max_transactions; ++i) {
    ASSERT_EQ(from_phone(register_msg("c" + std::to_string(i), 1, "z9hG4bK-" + std::to_string(i))).size(), 1U);
  }
  const auto full = from_phone(register_msg("over", 1, "z9hG4bK-over"));
  ASSERT_EQ(full.size(), 1U);
  const auto r = parsed(full[0].bytes);
  EXPECT_EQ(r.status_code(), 503);
  EXPECT_NE(r.find("Retry-After"), nullptr);
  EXPECT_EQ(eng_->counters().transactions_full, 1U);

  make_engine(0);
  const auto none = from_phone(register_msg());
  ASSERT_EQ(none.size(), 1U);
  EXPECT_EQ(parsed(none[0].bytes).status_code(), 503);
  EXPECT_EQ(eng_->counters().no_registrar, 1U);
}

TEST_F(engine_test, options_answered_locally_other_methods_501_ack_ignored) {
  std::string opt = register_msg();
  opt.replace(0, 8, "OPTIONS");
  opt.replace(opt.find("1 REGISTER"), 10, "1 OPTIONS");
  auto out = from_phone(opt);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 200);
  std::string inv = register_msg();
  inv.replace(0, 8, "INVITE");
  inv.replace(inv.find("1 REGISTER"), 10, "1 INVITE");
  out = from_phone(inv);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 501);
  std::string ack = register_msg();
  ack.replace(0, 8, "ACK");
  ack.replace(ack.find("1 REGISTER"), 10, "1 ACK");
  EXPECT_TRUE(from_phone(ack).empty());
}

TEST(steer, every_message_of_a_registration_has_one_owner) {
  // Two workers, each with its engine: a REGISTER received anywhere goes to its AOR's
  // owner, and the registrar's answer comes back to the same one (end-to-end mode
  // keys transactions by the phone's Via, so AOR placement serves it as well).
  std::array<unsigned, 2> owners_seen{};
  for (int i = 0; i < 200; ++i) {
    const std::string call_id = "steer-" + std::to_string(i) + "@198.18.1.2";
    std::string req = register_msg(call_id);
    const std::string user = "u" + std::to_string(i);
    for (std::size_t at = req.find("alice@sipfront"); at != std::string::npos; at = req.find("alice@sipfront")) {
      req.replace(at, 5, user);
    }
    sip::message m;
    ASSERT_EQ(m.parse(req), sip::errc::ok);
    const unsigned owner = reg::steer(m, reg::side::access, 2, 0);
    ++owners_seen[owner];
    EXPECT_EQ(reg::steer(m, reg::side::access, 2, 1), owner);
    reg::engine_config cfg;
    cfg.worker_id = owner;
    cfg.n_workers = 2;
    cfg.registrars[0] = {k_registrar, {}};
    cfg.n_registrars = 1;
    cfg.max_transactions = 4;
    reg::engine e(cfg);
    reg::output_queue out;
    e.on_message(m, {k_phone, reg::side::access}, 0, out);
    ASSERT_EQ(out.size(), 1U);
    const std::string fwd(out.bytes(out[0]));
    const std::string resp = registrar_answer(fwd, 200, "OK");
    sip::message r;
    ASSERT_EQ(r.parse(resp), sip::errc::ok);
    EXPECT_EQ(reg::steer(r, reg::side::core, 2, 0), owner);
    EXPECT_EQ(reg::steer(r, reg::side::core, 2, 1), owner);
  }
  EXPECT_GT(owners_seen[0], 50U) << "AORs spread over both workers";
  EXPECT_GT(owners_seen[1], 50U);
}

// A REGISTER (or any request) with the given To and From values.
std::string request_with(std::string_view method, std::string_view to, std::string_view from, std::string_view call_id,
                         std::string_view to_name = "To", std::string_view from_name = "From") {
  std::string m;
  m += std::string(method) + " sip:sipfront.test SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 198.18.1.2:5062;branch=z9hG4bK-steer;rport\r\n";
  m += "Max-Forwards: 70\r\n";
  m += std::string(from_name) + ": " + std::string(from) + "\r\n";
  m += std::string(to_name) + ": " + std::string(to) + "\r\n";
  m += "Call-ID: " + std::string(call_id) + "\r\n";
  m += "CSeq: 1 " + std::string(method) + "\r\n";
  if (method == "REGISTER") m += "Contact: <sip:alice@198.18.1.2:5062>\r\nExpires: 3600\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

unsigned steer_of(const std::string& bytes, reg::side from, unsigned n, unsigned self = 0) {
  sip::message m;
  EXPECT_EQ(m.parse(bytes), sip::errc::ok) << bytes;
  return reg::steer(m, from, n, self);
}

unsigned by_call_id(std::string_view call_id, unsigned n) {
  return static_cast<unsigned>(reg::call_id_hash(call_id) % n);
}

TEST(steer, the_canonical_fast_path_never_disagrees_with_canonical_aor) {
  // is_canonical_aor(s) promises: canonical_aor(s) is s, or s is no URI (keyed as written).
  reg::aor_buffer buf{};
  auto agrees = [&](const std::string& s) {
    if (!reg::is_canonical_aor(s)) return true;
    const std::string_view k = reg::canonical_aor(s, buf);
    return k.empty() || k == s;
  };
  for (const char* s : {"sip:alice@sipfront.test", "sips:alice@sipfront.test", "sip:1001@198.18.1.1:5060",
                        "sip:sipfront.test", "sip:a@b:0", "sip:a@b:05060", "sip:a@b:65536", "sip:a@b:99999",
                        "sip:a%41@b", "sip:a%4@b", "sip:@b", "sip:a@", "sip:a@b@c", "sip:a@-", "sip:a.b@c.d."}) {
    EXPECT_TRUE(agrees(s)) << s;
  }
  EXPECT_TRUE(reg::is_canonical_aor("sip:alice@sipfront.test"));
  EXPECT_TRUE(reg::is_canonical_aor("sip:1001@198.18.1.1:5060"));
  EXPECT_FALSE(reg::is_canonical_aor("SIP:alice@sipfront.test"));
  EXPECT_FALSE(reg::is_canonical_aor("sip:alice@SipFront.test"));
  EXPECT_FALSE(reg::is_canonical_aor("sip:alice@sipfront.test;user=phone"));
  EXPECT_FALSE(reg::is_canonical_aor("sip:alice:pw@sipfront.test"));
  EXPECT_FALSE(reg::is_canonical_aor("sip:alice@sipfront.test:05060"));
  EXPECT_FALSE(reg::is_canonical_aor("sip:alice@[2001:db8::1]"));
  EXPECT_FALSE(reg::is_canonical_aor("tel:+15551234"));
  // Random strings over the characters that matter (bounded: 200k draws).
  const std::string alphabet = "sipS:@aZ0159.-_+%;?=[]>< ";
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int n = 0; n < 200000; ++n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::string s = (x & 1) != 0 ? "sip:" : "sips:";
    const std::size_t len = (x >> 1) % 16;
    for (std::size_t k = 0; k < len; ++k) s += alphabet[(x >> (8 + 3 * k)) % alphabet.size()];
    ASSERT_TRUE(agrees(s)) << s;
  }
}

TEST(steer, canonical_aor_is_the_binding_tables_key) {
  reg::aor_buffer buf{};
  EXPECT_EQ(reg::canonical_aor("sip:alice@sipfront.test", buf), "sip:alice@sipfront.test");
  EXPECT_EQ(reg::canonical_aor("SIP:alice@SipFront.TEST", buf), "sip:alice@sipfront.test");
  EXPECT_EQ(reg::canonical_aor("sip:alice@sipfront.test;user=phone;transport=udp", buf), "sip:alice@sipfront.test");
  EXPECT_EQ(reg::canonical_aor("sip:alice@sipfront.test:5060", buf), "sip:alice@sipfront.test:5060");
  EXPECT_EQ(reg::canonical_aor("sips:alice:secret@sipfront.test?subject=x", buf), "sips:alice@sipfront.test");
  EXPECT_EQ(reg::canonical_aor("sip:Alice@sipfront.test", buf), "sip:Alice@sipfront.test")
      << "user part is case-sensitive";
  EXPECT_EQ(reg::canonical_aor("TEL:+15551234;phone-context=x", buf), "tel:+15551234");
  EXPECT_EQ(reg::canonical_aor("not a uri", buf), "");
  std::array<char, 8> small{};
  EXPECT_EQ(reg::canonical_aor("sip:alice@sipfront.test", small), "") << "does not fit: no key";

  // The table finds a binding by any spelling of its AOR and stores the canonical one.
  reg::binding_table t(reg::binding_table_config{.capacity = 4, .worker_id = 0, .seed = 1});
  const auto r = t.insert("sip:alice@SIPFRONT.test;user=phone", "c1@x", {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r.rec->aor(), "sip:alice@sipfront.test");
  EXPECT_EQ(t.find_by_aor("Sip:alice@sipfront.TEST"), r.rec);
  EXPECT_EQ(t.find_by_aor("sip:alice@sipfront.test;transport=tcp"), r.rec);
  EXPECT_EQ(t.find_by_aor("sip:Alice@sipfront.test"), nullptr);
  EXPECT_EQ(t.insert("sip:alice@sipfront.test", "c2@x", {}).error, reg::binding_errc::duplicate_aor);
}

TEST(steer, register_of_one_aor_reaches_one_worker_whatever_its_call_id) {
  for (unsigned n : {2U, 3U, 4U, 8U}) {
    std::vector<unsigned> seen(n);
    for (int a = 0; a < 16; ++a) {
      const std::string aor = "sip:phone" + std::to_string(a) + "@sipfront.test";
      std::uint64_t h = 0;
      ASSERT_TRUE(reg::aor_hash(aor, h));
      const auto owner = static_cast<unsigned>(h % n);
      ++seen[owner];
      for (int c = 0; c < 20; ++c) {
        const std::string cid = "cid-" + std::to_string(a) + "-" + std::to_string(c) + "@198.18.1.2";
        const std::string req =
            request_with("REGISTER", "<" + aor + ">", "<" + aor + ">;tag=f" + std::to_string(c), cid);
        for (unsigned self = 0; self < n; ++self) EXPECT_EQ(steer_of(req, reg::side::access, n, self), owner) << cid;
      }
    }
    EXPECT_GE(std::count_if(seen.begin(), seen.end(), [](unsigned k) { return k != 0; }), 2) << "AORs spread, n=" << n;
  }
}

TEST(steer, every_spelling_of_an_aor_reaches_the_same_worker) {
  const std::string base =
      request_with("REGISTER", "<sip:alice@sipfront.test>", "<sip:alice@sipfront.test>;tag=1", "spell-0@198.18.1.2");
  const std::vector<std::string> spellings = {
      request_with("REGISTER", "sip:alice@sipfront.test", "<sip:alice@sipfront.test>;tag=1", "spell-1@x"),
      request_with("REGISTER", "\"Alice Smith\" <sip:alice@sipfront.test>", "x <sip:a@b>;tag=1", "spell-2@x"),
      request_with("REGISTER", "Alice <sip:alice@sipfront.test>;tag=abc", "<sip:a@b>;tag=1", "spell-3@x"),
      request_with("REGISTER", "<SIP:alice@SipFront.Test>", "<sip:a@b>;tag=1", "spell-4@x"),
      request_with("REGISTER", "<sip:alice@sipfront.test;user=phone>", "<sip:a@b>;tag=1", "spell-5@x"),
      request_with("REGISTER", "<sip:alice@sipfront.test>", "<sip:a@b>;tag=1", "spell-6@x", "t", "f"),
      request_with("REGISTER", "sip:alice@SIPFRONT.TEST;tag=9", "<sip:a@b>;tag=1", "spell-7@x", "t", "From"),
  };
  for (unsigned n : {2U, 4U, 7U, 16U}) {
    const unsigned owner = steer_of(base, reg::side::access, n);
    std::uint64_t h = 0;
    ASSERT_TRUE(reg::aor_hash("sip:alice@sipfront.test", h));
    EXPECT_EQ(owner, h % n);
    for (const std::string& s : spellings) EXPECT_EQ(steer_of(s, reg::side::access, n), owner) << s;
  }
  // A different user part is another AOR (case-sensitive): some worker count tells them apart.
  const std::string other =
      request_with("REGISTER", "<sip:Alice@sipfront.test>", "<sip:a@b>;tag=1", "spell-0@198.18.1.2");
  bool differs = false;
  for (unsigned n = 2; n < 64 && !differs; ++n)
    differs = steer_of(other, reg::side::access, n) != steer_of(base, reg::side::access, n);
  EXPECT_TRUE(differs);
}

TEST(steer, register_without_an_aor_falls_back_to_the_call_id) {
  for (unsigned n : {2U, 4U, 8U}) {
    for (int i = 0; i < 32; ++i) {
      const std::string cid = "fallback-" + std::to_string(i) + "@198.18.1.2";
      for (const char* to : {"<http//no-scheme>", "<sip:>", "\"unterminated <sip:alice@sipfront.test>"}) {
        const std::string req = request_with("REGISTER", to, "<sip:a@b>;tag=1", cid);
        EXPECT_EQ(steer_of(req, reg::side::access, n, 0), by_call_id(cid, n)) << to;
        EXPECT_EQ(steer_of(req, reg::side::access, n, n - 1), by_call_id(cid, n)) << to;
      }
    }
  }
}

TEST(steer, phone_requests_go_to_the_callers_aor_and_core_requests_by_call_id) {
  const std::string aor = "sip:alice@sipfront.test";
  std::uint64_t h = 0;
  ASSERT_TRUE(reg::aor_hash(aor, h));
  constexpr unsigned n = 8;
  const auto owner = static_cast<unsigned>(h % n);
  bool call_id_differs = false;
  for (int i = 0; i < 32; ++i) {
    const std::string cid = "call-" + std::to_string(i) + "@198.18.1.2";
    const std::string from = "\"Alice\" <SIP:alice@SIPFRONT.test>;tag=x" + std::to_string(i);
    const std::string invite = request_with("INVITE", "<sip:bob@sipfront.test>", from, cid);
    const std::string cancel = request_with("CANCEL", "<sip:bob@sipfront.test>", from, cid);
    // The ACK of a non-2xx answer carries the To-tag: still on the INVITE's worker.
    const std::string ack = request_with("ACK", "<sip:bob@sipfront.test>;tag=callee", from, cid);
    for (const std::string* r : {&invite, &cancel, &ack}) {
      EXPECT_EQ(steer_of(*r, reg::side::access, n), owner) << *r;
      EXPECT_EQ(steer_of(*r, reg::side::core, n), by_call_id(cid, n)) << "the core's requests keep Call-ID placement";
    }
    call_id_differs = call_id_differs || by_call_id(cid, n) != owner;
    // No parsable From: by Call-ID.
    const std::string bad = request_with("MESSAGE", "<sip:bob@sipfront.test>", "<sip:>;tag=1", cid);
    EXPECT_EQ(steer_of(bad, reg::side::access, n), by_call_id(cid, n));
  }
  EXPECT_TRUE(call_id_differs) << "the test would not tell the two rules apart";
}

TEST(steer, broken_messages_stay_where_they_arrived) {
  sip::message m;
  m.parse("garbage\r\n\r\n");
  EXPECT_EQ(reg::steer(m, reg::side::access, 4, 3), 3U);
}

}  // namespace
}  // namespace sipfront::test
