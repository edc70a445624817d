// Peer-to-peer registrar health probing (OPTIONS), local fallback when no registrar
// is usable, and paced reg-sync when one comes back. Fake clock, no DPDK.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
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
const reg::endpoint k_reg1{ip(198, 18, 2, 2), 5060, 1};
const reg::endpoint k_reg2{ip(198, 18, 2, 3), 5070, 1};
const reg::endpoint k_core_proxy{ip(198, 18, 2, 9), 5060, 1};

std::string register_msg(const std::string& user, unsigned cseq, std::string_view expires = "600") {
  register_opts o = user_register(user, cseq);
  o.expires = std::string(expires);
  return make_register(o);
}

std::string invite_to(const std::string& ruri) {
  std::string m = "INVITE " + ruri + " SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 198.18.2.9:5060;branch=z9hG4bK-core-1\r\n";
  m += "Max-Forwards: 70\r\n";
  m += "From: <sip:bob@core.test>;tag=b1\r\n";
  m += "To: <sip:alice@sipfront.test>\r\n";
  m += "Call-ID: call-1@core.test\r\n";
  m += "CSeq: 1 INVITE\r\n";
  m += "Contact: <sip:bob@198.18.2.9:5060>\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

bool starts(const sent& s, std::string_view method) { return s.bytes.starts_with(method); }

class fallback_test : public engine_harness {
 protected:
  void SetUp() override {
    cfg_ = p2p_two_registrars_config(k_reg1, k_reg2);
    cfg_.max_transactions = 256;
    cfg_.max_bindings = 64;
    order({1});
  }
  void order(std::initializer_list<unsigned> idx) {
    const std::vector<unsigned> v(idx);
    ASSERT_EQ(reg::registrar_list::make(v, cfg_.registrar_order), reg::registrar_errc::ok);
  }

  std::vector<sent> from_phone(const std::string& user, unsigned cseq, std::string_view expires = "600") {
    return feed(register_msg(user, cseq, expires), reg::side::access, k_phone, true);
  }
  std::vector<sent> from_reg(std::string_view b, reg::endpoint src = k_reg1) {
    return feed(b, reg::side::core, src, true);
  }
  const reg::binding* binding(const std::string& user) { return eng_->find_binding(aor_of(user)); }

  // Registers `user` upstream through k_reg1; returns the Contact the front end gave the registrar.
  std::string register_ok(const std::string& user, unsigned cseq = 1, int granted = 3600) {
    const auto fwd = from_phone(user, cseq);
    EXPECT_EQ(fwd.size(), 1U);
    if (fwd.size() != 1) return {};
    EXPECT_EQ(fwd[0].dst, k_reg1);
    const auto ok = from_reg(registrar_answer(fwd[0].bytes, 200, "OK", granted));
    EXPECT_EQ(ok.size(), 1U);
    const auto na = sip::parse_name_addr(parsed(fwd[0].bytes).value_of(sip::header_id::contact));
    return na ? std::string(na->uri) : std::string();
  }
  // Makes registrar 1 down: a phone REGISTER that is answered 503 without Retry-After.
  std::vector<sent> take_down_with_503(const std::string& user) {
    const auto fwd = from_phone(user, 1);
    EXPECT_EQ(fwd.size(), 1U);
    if (fwd.size() != 1) return {};
    return from_reg(registrar_answer(fwd[0].bytes, 503, "Service Unavailable"));
  }
  // Runs the clock in `step` ms steps up to `until`, collecting what was sent.
  std::vector<std::pair<std::uint64_t, sent>> run(std::uint64_t until, std::uint64_t step) {
    std::vector<std::pair<std::uint64_t, sent>> all;
    while (now_ < until) {
      for (auto& s : advance_to(std::min(until, now_ + step))) all.emplace_back(now_, std::move(s));
    }
    return all;
  }
  // The first transmissions of `method` requests in `v` (Timer E retransmissions are byte-identical).
  static std::vector<sent> only(const std::vector<std::pair<std::uint64_t, sent>>& v, std::string_view method) {
    std::vector<sent> r;
    for (const auto& [t, s] : v) {
      if (!starts(s, method)) continue;
      if (std::none_of(r.begin(), r.end(), [&](const sent& x) { return x.bytes == s.bytes; })) r.push_back(s);
    }
    return r;
  }
  // With fallback and reg-sync at 100/s: `user`'s REGISTER is answered 503 (every
  // registrar down, `user` registered locally), the probe a second later is answered
  // 200, and the REGISTERs sent in the second after that (the sync of `user`'s
  // binding; first transmissions only) are returned.
  std::vector<sent> first_sync(const std::string& user) {
    cfg_.fallback = true;
    cfg_.probe_interval_ms = 1000;
    cfg_.regsync_rate = 100;
    make_engine();
    take_down_with_503(user);
    const auto probes = only(run(now_ + 1000, 10), "OPTIONS");
    EXPECT_EQ(probes.size(), 1U);
    if (probes.size() != 1) return {};
    from_reg(registrar_answer(probes[0].bytes, 200, "OK"));
    return only(run(now_ + 1000, 10), "REGISTER");
  }
};

// ---------------------------------------------------------------- OPTIONS prober

TEST_F(fallback_test, a_down_registrar_is_probed_every_interval_and_an_answer_marks_it_up) {
  cfg_.probe_interval_ms = 5000;
  make_engine();
  const auto ans = take_down_with_503("a");
  ASSERT_EQ(ans.size(), 1U);
  EXPECT_EQ(code(ans[0].bytes), 503U) << "fallback off: the registrar's 503 goes to the phone";
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::down) << "a list of one keeps health when probing";

  // Worker 1 of 2: its first probe comes 2/2 of an interval after the registrar went down.
  const std::uint64_t t0 = now_;
  auto before = only(run(t0 + 4990, 10), "OPTIONS");
  EXPECT_TRUE(before.empty());
  auto probes = only(run(t0 + 5000, 10), "OPTIONS");
  ASSERT_EQ(probes.size(), 1U);
  EXPECT_EQ(probes[0].dst, k_reg1);
  EXPECT_EQ(eng_->counters().probes_sent, 1U);
  const sip::message m = parsed(probes[0].bytes);
  EXPECT_EQ(m.method(), sip::method::options);
  EXPECT_EQ(m.request_uri(), "sip:one.test");
  // Its answer steers back to this worker by our Via branch.
  const std::string ok = registrar_answer(probes[0].bytes, 200, "OK");
  EXPECT_EQ(reg::steer(parsed(ok), reg::side::core, 2, 0), 1U);

  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::down);
  EXPECT_TRUE(from_reg(ok).empty());
  EXPECT_EQ(eng_->counters().probes_answered, 1U);
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::up);
  EXPECT_TRUE(only(run(now_ + 20000, 100), "OPTIONS").empty())
      << "no keepalive configured: up registrars are left alone";
  // New REGISTERs go upstream again.
  const auto fwd = from_phone("b", 1);
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_EQ(fwd[0].dst, k_reg1);
}

TEST_F(fallback_test, an_unanswered_probe_times_out_and_the_next_one_follows_an_interval_later) {
  cfg_.probe_interval_ms = 5000;
  make_engine();
  take_down_with_503("a");
  const std::uint64_t t0 = now_;
  const auto all = run(t0 + 60000, 100);
  const auto probes = only(all, "OPTIONS");
  // One every 5 s from +5 s; a down registrar's probe gives up when the next is due
  // (Timer F, 32 s, is cut to the interval): 12 probes, 11 timed out, one in flight.
  EXPECT_EQ(probes.size(), 12U);
  EXPECT_EQ(eng_->counters().probes_sent, 12U);
  EXPECT_EQ(eng_->counters().probe_timeouts, 11U);
  EXPECT_EQ(eng_->live_transactions(), 2U) << "the probe in flight and the last timed-out one in Timer K";
  EXPECT_GT(eng_->counters().timer_e_retrans, 0U) << "probes are retransmitted like any UDP client transaction";
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::down)
      << "with probing on there is no blind revive after registrar_retry_ms";
  EXPECT_EQ(eng_->counters().timer_f_timeouts, 0U) << "probe timeouts are not REGISTER timeouts";
}

TEST_F(fallback_test, probe_answers_503_keeps_it_down_any_other_final_answer_marks_it_up) {
  cfg_.probe_interval_ms = 1000;
  make_engine();
  take_down_with_503("a");
  auto probes = only(run(now_ + 1000, 10), "OPTIONS");
  ASSERT_EQ(probes.size(), 1U);
  from_reg(registrar_answer(probes[0].bytes, 503, "Service Unavailable"));
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::down);
  probes = only(run(now_ + 1000, 10), "OPTIONS");
  ASSERT_EQ(probes.size(), 1U);
  from_reg(registrar_answer(probes[0].bytes, 100, "Trying"));
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::down) << "a provisional answer is not final";
  from_reg(registrar_answer(probes[0].bytes, 405, "Method Not Allowed"));
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::up) << "a registrar that answers is alive";
  EXPECT_EQ(eng_->counters().probes_answered, 2U);
  // A retransmitted final answer is a duplicate.
  from_reg(registrar_answer(probes[0].bytes, 405, "Method Not Allowed"));
  EXPECT_EQ(eng_->counters().duplicate_responses, 1U);
}

TEST_F(fallback_test, probe_503_with_retry_after_holds_an_up_registrar) {
  cfg_.probe_interval_ms = 1000;
  cfg_.probe_keepalive_ms = 2000;
  make_engine();
  advance_to(now_);  // the keepalive schedule starts at the first tick
  auto probes = only(run(now_ + 2000, 10), "OPTIONS");
  ASSERT_EQ(probes.size(), 1U) << "keepalive of an up registrar";
  from_reg(registrar_answer(probes[0].bytes, 503, "Service Unavailable", -1, "Retry-After: 30\r\n"));
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::held);
  EXPECT_TRUE(only(run(now_ + 29000, 100), "OPTIONS").empty()) << "a held registrar is not probed";
  EXPECT_EQ(eng_->registrar_state(1, now_ + 1000), reg::registrar_health::up);
}

TEST_F(fallback_test, keepalive_timeout_marks_an_up_registrar_down_and_probing_takes_over) {
  cfg_.probe_interval_ms = 5000;
  cfg_.probe_keepalive_ms = 10000;
  make_engine();
  advance_to(now_);
  const std::uint64_t t0 = now_;
  auto probes = only(run(t0 + 10000, 100), "OPTIONS");
  ASSERT_EQ(probes.size(), 1U);
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::up);
  run(t0 + 10000 + cfg_.timer_f_ms, 100);
  EXPECT_EQ(eng_->counters().probe_timeouts, 1U);
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::down);
  probes = only(run(now_ + 5000, 100), "OPTIONS");
  ASSERT_EQ(probes.size(), 1U) << "down: probed at probe_interval_ms";
  from_reg(registrar_answer(probes[0].bytes, 200, "OK"));
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::up);
}

TEST_F(fallback_test, without_probing_a_down_registrar_is_revived_after_registrar_retry_ms) {
  cfg_.fallback = true;  // keeps health for a list of one, but no prober
  make_engine();
  take_down_with_503("a");
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::down);
  EXPECT_TRUE(only(run(now_ + cfg_.registrar_retry_ms + 100, 100), "OPTIONS").empty());
  const auto fwd = from_phone("b", 1);
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_EQ(fwd[0].dst, k_reg1) << "revived blindly, as before the prober";
}

TEST_F(fallback_test, each_worker_probes_at_its_own_phase_of_the_interval) {
  cfg_.probe_interval_ms = 4000;
  cfg_.n_workers = 4;
  cfg_.worker_id = 0;
  make_engine();
  take_down_with_503("a");
  const std::uint64_t t0 = now_;
  auto first = run(t0 + 1000, 10);
  ASSERT_EQ(only(first, "OPTIONS").size(), 1U);
  EXPECT_EQ(first.back().first - t0, 1000U) << "worker 0 of 4: a quarter interval after going down";
  from_reg(registrar_answer(only(first, "OPTIONS")[0].bytes, 503, "Service Unavailable"));
  EXPECT_TRUE(only(run(t0 + 4990, 10), "OPTIONS").empty());
  const auto second = run(t0 + 5000, 10);
  ASSERT_EQ(only(second, "OPTIONS").size(), 1U);
  EXPECT_EQ(second.back().first - t0, 5000U) << "then every interval";
}

// ---------------------------------------------------------------- local fallback

TEST_F(fallback_test, with_every_registrar_down_a_new_register_is_answered_200_locally) {
  cfg_.fallback = true;
  cfg_.probe_interval_ms = 5000;
  make_engine();
  // The registrar's 503 leaves no registrar usable: the phone gets the local registrar's 200.
  const auto first = take_down_with_503("a");
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(first[0].dst, k_phone);
  EXPECT_EQ(code(first[0].bytes), 200U);
  EXPECT_NE(first[0].bytes.find("Contact: <sip:a@198.18.1.2:5062>;expires=600"), std::string::npos);

  const auto r = from_phone("b", 1);
  ASSERT_EQ(r.size(), 1U) << "nothing upstream";
  EXPECT_EQ(r[0].dst, k_phone);
  EXPECT_EQ(code(r[0].bytes), 200U);
  EXPECT_NE(r[0].bytes.find("Contact: <sip:b@198.18.1.2:5062>;expires=600"), std::string::npos);
  const reg::binding* b = binding("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, reg::binding_state::fallback);
  EXPECT_TRUE(b->needs_sync);
  EXPECT_EQ(reg::to_string(b->state), "fallback");
  EXPECT_EQ(eng_->counters().fallback_registrations, 2U);
  EXPECT_EQ(eng_->counters().registrar_unavailable, 0U);
  const reg::explain_record& e = eng_->explain().recent(0);
  EXPECT_EQ(e.rule, reg::register_rule::local_fallback);
  EXPECT_EQ(e.code, 200U);

  // Refreshes are absorbed locally; a retransmission gets the same answer.
  const auto again = from_phone("b", 1);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].bytes, r[0].bytes);
  const auto refresh = from_phone("b", 2, "300");
  ASSERT_EQ(refresh.size(), 1U);
  EXPECT_EQ(code(refresh[0].bytes), 200U);
  EXPECT_NE(refresh[0].bytes.find(";expires=300"), std::string::npos);
  // An un-REGISTER removes the local-only binding.
  const auto bye = from_phone("b", 3, "0");
  ASSERT_EQ(bye.size(), 1U);
  EXPECT_EQ(code(bye[0].bytes), 200U);
  EXPECT_EQ(binding("b"), nullptr);
}

TEST_F(fallback_test, fallback_off_still_answers_503_no_registrar) {
  cfg_.probe_interval_ms = 5000;
  make_engine();
  take_down_with_503("a");
  const auto r = from_phone("b", 1);
  ASSERT_EQ(r.size(), 1U);
  EXPECT_EQ(code(r[0].bytes), 503U);
  EXPECT_EQ(binding("b"), nullptr);
  EXPECT_EQ(eng_->counters().fallback_registrations, 0U);
}

TEST_F(fallback_test, timer_f_on_a_phone_register_with_no_registrar_left_answers_200_locally) {
  cfg_.fallback = true;
  cfg_.probe_interval_ms = 5000;
  order({1, 2});
  make_engine();
  const auto fwd = from_phone("a", 1);
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_EQ(fwd[0].dst, k_reg1);
  // Registrar 1 never answers: failover to 2, which never answers either.
  auto all = run(now_ + cfg_.timer_f_ms, 100);
  std::vector<sent> to2;
  for (const auto& [t, s] : all) {
    if (s.dst == k_reg2 && starts(s, "REGISTER")) to2.push_back(s);
  }
  ASSERT_FALSE(to2.empty()) << "failed over";
  all = run(now_ + cfg_.timer_f_ms, 100);
  std::vector<sent> to_phone;
  for (const auto& [t, s] : all) {
    if (s.dst == k_phone) to_phone.push_back(s);
  }
  ASSERT_EQ(to_phone.size(), 1U);
  EXPECT_EQ(code(to_phone[0].bytes), 200U);
  EXPECT_NE(to_phone[0].bytes.find("Contact: <sip:a@198.18.1.2:5062>"), std::string::npos);
  const reg::binding* b = binding("a");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, reg::binding_state::fallback);
  EXPECT_EQ(eng_->counters().fallback_registrations, 1U);
  // The phone's retransmission of that REGISTER gets the same 200.
  const auto re = from_phone("a", 1);
  ASSERT_EQ(re.size(), 1U);
  EXPECT_EQ(re[0].bytes, to_phone[0].bytes);
}

TEST_F(fallback_test, a_local_only_binding_is_dropped_hold_seconds_after_it_lost_its_registrar) {
  cfg_.fallback = true;
  cfg_.fallback_hold_s = 120;
  cfg_.probe_interval_ms = 5000;
  make_engine();
  take_down_with_503("a");
  const std::uint64_t t0 = now_;
  ASSERT_NE(binding("a"), nullptr);
  // The phone refreshes every 60 s, the registrar stays down (probes unanswered).
  for (unsigned i = 2; now_ + 60000 < t0 + 120000; ++i) {
    run(now_ + 60000, 500);
    const auto r = from_phone("a", i, "90");
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(code(r[0].bytes), 200U);
  }
  EXPECT_NE(binding("a"), nullptr);
  run(t0 + 120000 + 10, 500);
  EXPECT_EQ(binding("a"), nullptr) << "refreshes do not extend the hold";
  EXPECT_EQ(eng_->counters().fallback_expired, 1U);
}

TEST_F(fallback_test, a_registered_binding_whose_refresh_finds_no_registrar_stays_local_only_and_routes) {
  cfg_.fallback = true;
  cfg_.probe_interval_ms = 5000;
  cfg_.registrar.out_expires = 600;
  make_engine();
  const std::string contact = register_ok("a", 1, 600);
  ASSERT_FALSE(contact.empty());
  ASSERT_EQ(binding("a")->state, reg::binding_state::registered);
  // The front end refreshes upstream 60 s before out-expires; the registrar is gone.
  run(now_ + 540000 + cfg_.timer_f_ms + 100, 1000);
  EXPECT_EQ(eng_->counters().upstream_refreshes, 1U);
  const reg::binding* b = binding("a");
  ASSERT_NE(b, nullptr) << "kept instead of lapsing";
  EXPECT_EQ(b->state, reg::binding_state::fallback);
  EXPECT_TRUE(b->needs_sync);
  // A call from the core to the Contact the registrar had still reaches the phone.
  const auto inv = feed(invite_to(contact), reg::side::core, k_core_proxy, true);
  ASSERT_EQ(inv.size(), 1U);
  EXPECT_EQ(inv[0].dst, k_phone);
  EXPECT_EQ(parsed(inv[0].bytes).request_uri(), "sip:a@198.18.1.2:5062");
  EXPECT_EQ(eng_->counters().routed_to_phone, 1U);
}

TEST_F(fallback_test, a_local_only_binding_without_a_live_contact_answers_480) {
  cfg_.fallback = true;
  cfg_.probe_interval_ms = 5000;
  cfg_.registrar.out_expires = 600;
  cfg_.registrar.fail_count = 3;
  make_engine();
  const std::string contact = register_ok("a", 1, 600);
  run(now_ + 540000 + cfg_.timer_f_ms + 100, 1000);
  ASSERT_NE(binding("a"), nullptr);
  ASSERT_EQ(binding("a")->state, reg::binding_state::fallback);
  // The phone's Contact (600 s from registration) expires; fail-count has not yet erased it.
  run(now_ + 30000, 1000);
  ASSERT_NE(binding("a"), nullptr);
  ASSERT_LT(binding("a")->contact_expires_at(0), now_);
  const auto inv = feed(invite_to(contact), reg::side::core, k_core_proxy, true);
  ASSERT_EQ(inv.size(), 1U);
  EXPECT_EQ(inv[0].dst, k_core_proxy);
  EXPECT_EQ(code(inv[0].bytes), 480U);
  // Fail-count: three missed in-leg periods erase it; nothing goes upstream for that.
  const std::size_t sent_before = eng_->counters().forwarded_upstream;
  run(now_ + 3 * 600000, 1000);
  EXPECT_EQ(binding("a"), nullptr);
  EXPECT_EQ(eng_->counters().forwarded_upstream, sent_before);
  const auto gone = feed(invite_to(contact), reg::side::core, k_core_proxy, true);
  ASSERT_EQ(gone.size(), 1U);
  EXPECT_EQ(code(gone[0].bytes), 404U);
}

// ---------------------------------------------------------------- reg-sync

TEST_F(fallback_test, when_the_registrar_returns_local_only_bindings_are_reregistered_at_the_paced_rate) {
  cfg_.fallback = true;
  cfg_.probe_interval_ms = 1000;
  cfg_.regsync_rate = 20;  // whole front end; 2 workers: 10/s here
  make_engine();
  take_down_with_503("p0");
  for (unsigned i = 1; i < 40; ++i) {
    const auto r = from_phone("p" + std::to_string(i), 1);
    ASSERT_EQ(r.size(), 1U);
    ASSERT_EQ(code(r[0].bytes), 200U);
  }
  EXPECT_EQ(eng_->counters().fallback_registrations, 40U);
  EXPECT_EQ(eng_->counters().regsync_sent, 0U) << "nothing is synced while no registrar is usable";
  auto probes = only(run(now_ + 1000, 10), "OPTIONS");
  ASSERT_EQ(probes.size(), 1U);
  EXPECT_TRUE(from_reg(registrar_answer(probes[0].bytes, 200, "OK")).empty());

  // Answer every sync REGISTER at once; count them per second of the clock.
  const std::uint64_t t0 = now_;
  std::map<std::uint64_t, unsigned> per_second;
  std::vector<std::uint64_t> at;
  while (now_ < t0 + 6000) {
    for (const auto& s : advance_to(now_ + 10)) {
      if (!starts(s, "REGISTER")) continue;
      EXPECT_EQ(s.dst, k_reg1);
      ++per_second[(now_ - t0 - 1) / 1000];
      at.push_back(now_);
      EXPECT_TRUE(from_reg(registrar_answer(s.bytes, 200, "OK", 3600)).empty()) << "no answer to the phone";
    }
  }
  EXPECT_EQ(eng_->counters().regsync_sent, 40U);
  EXPECT_EQ(at.size(), 40U);
  for (const auto& [sec, n] : per_second) EXPECT_LE(n, 11U) << "second " << sec;
  ASSERT_GE(at.size(), 2U);
  EXPECT_GE(at.back() - at.front(), 3800U) << "40 at 10/s take about 4 s, not a burst";
  for (unsigned i = 0; i < 40; ++i) {
    const reg::binding* b = binding("p" + std::to_string(i));
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->state, reg::binding_state::registered) << i;
    EXPECT_FALSE(b->needs_sync);
  }
  // The synced binding is a normal one: refreshes inside the out-leg lifetime are absorbed.
  const auto r = from_phone("p7", 2);
  ASSERT_EQ(r.size(), 1U);
  EXPECT_EQ(r[0].dst, k_phone);
  EXPECT_EQ(eng_->counters().register_absorbed, 1U);
  // Nothing more to sync: no more REGISTERs.
  EXPECT_TRUE(only(run(now_ + 5000, 10), "REGISTER").empty());
}

TEST_F(fallback_test, a_sync_timeout_puts_the_binding_back_until_the_registrar_answers_again) {
  auto regs = first_sync("a");
  ASSERT_EQ(regs.size(), 1U);
  // No answer: Timer F marks the registrar down and the binding needs sync again.
  for (const auto& s : only(run(now_ + cfg_.timer_f_ms + 10, 10), "REGISTER")) {
    EXPECT_EQ(s.bytes, regs[0].bytes) << "only Timer E retransmissions of the same sync REGISTER";
  }
  const reg::binding* b = binding("a");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, reg::binding_state::fallback);
  EXPECT_TRUE(b->needs_sync);
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::down);
  EXPECT_EQ(eng_->counters().regsync_sent, 1U);
  // Probing again; once answered, synced again.
  const auto probes = only(run(now_ + 2000, 10), "OPTIONS");
  ASSERT_FALSE(probes.empty());
  from_reg(registrar_answer(probes.back().bytes, 200, "OK"));
  regs = only(run(now_ + 1000, 10), "REGISTER");
  ASSERT_EQ(regs.size(), 1U);
  from_reg(registrar_answer(regs[0].bytes, 200, "OK", 3600));
  EXPECT_EQ(binding("a")->state, reg::binding_state::registered);
  EXPECT_EQ(eng_->counters().regsync_sent, 2U);
}

TEST_F(fallback_test, a_sync_refused_with_403_drops_the_local_only_binding) {
  auto regs = first_sync("a");
  ASSERT_EQ(regs.size(), 1U);
  from_reg(registrar_answer(regs[0].bytes, 403, "Forbidden"));
  EXPECT_EQ(binding("a"), nullptr) << "a registrar that answers refused it: fallback is for unreachable ones";
  EXPECT_TRUE(only(run(now_ + 5000, 10), "REGISTER").empty()) << "not retried";
  // The phone's next REGISTER is a new one: upstream, and the registrar's answer reaches the phone.
  const auto fwd = from_phone("a", 2);
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_EQ(fwd[0].dst, k_reg1);
  const auto ans = from_reg(registrar_answer(fwd[0].bytes, 403, "Forbidden"));
  ASSERT_EQ(ans.size(), 1U);
  EXPECT_EQ(code(ans[0].bytes), 403U);
}

TEST_F(fallback_test, a_challenged_sync_is_answered_with_the_configured_credentials) {
  const std::array<reg::credential, 1> creds{
      reg::credential{.realm = "one.test", .username = "", .password = "pw-a", .aor = ""}};
  cfg_.credentials = creds;
  auto regs = first_sync("a");
  ASSERT_EQ(regs.size(), 1U);
  EXPECT_EQ(parsed(regs[0].bytes).find(sip::header_id::authorization), nullptr);
  // The sync is the front end's own REGISTER: it answers the challenge itself.
  const auto again = from_reg(registrar_answer(regs[0].bytes, 401, "Unauthorized", -1,
                                               "WWW-Authenticate: Digest realm=\"one.test\", nonce=\"n1\"\r\n"));
  ASSERT_EQ(again.size(), 1U);
  const sip::message m = parsed(again[0].bytes);
  const sip::header_entry* h = m.find(sip::header_id::authorization);
  ASSERT_NE(h, nullptr);
  EXPECT_NE(m.value(*h).find("username=\"a\""), std::string_view::npos) << m.value(*h);
  EXPECT_EQ(m.value_of(sip::header_id::call_id), parsed(regs[0].bytes).value_of(sip::header_id::call_id));
  from_reg(registrar_answer(again[0].bytes, 200, "OK", 3600));
  EXPECT_EQ(binding("a")->state, reg::binding_state::registered);
  EXPECT_EQ(eng_->counters().auth_challenges_answered, 1U);
}

TEST_F(fallback_test, a_phones_own_register_for_a_local_only_binding_is_answered_locally_and_waits_for_the_pace) {
  cfg_.fallback = true;
  cfg_.probe_interval_ms = 1000;
  cfg_.regsync_rate = 2;  // 1/s on this worker
  make_engine();
  take_down_with_503("a");
  ASSERT_EQ(code(from_phone("b", 1)[0].bytes), 200U);
  auto probes = only(run(now_ + 1000, 10), "OPTIONS");
  ASSERT_EQ(probes.size(), 1U);
  from_reg(registrar_answer(probes[0].bytes, 200, "OK"));
  const std::uint64_t back = now_;
  // Both phones refresh right away, with a registrar usable: answered locally, nothing upstream.
  for (const char* u : {"a", "b"}) {
    const auto r = from_phone(u, 2);
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0].dst, k_phone);
    EXPECT_EQ(code(r[0].bytes), 200U);
  }
  EXPECT_EQ(eng_->counters().register_forwarded, 1U) << "only a's first REGISTER ever went upstream";
  // The sweep registers them one per second.
  std::vector<std::uint64_t> at;
  while (now_ < back + 4000) {
    for (const auto& s : advance_to(now_ + 10)) {
      if (!starts(s, "REGISTER")) continue;
      at.push_back(now_ - back);
      from_reg(registrar_answer(s.bytes, 200, "OK", 3600));
    }
  }
  ASSERT_EQ(at.size(), 2U);
  EXPECT_GE(at[1] - at[0], 990U);
  EXPECT_EQ(binding("a")->state, reg::binding_state::registered);
  EXPECT_EQ(binding("b")->state, reg::binding_state::registered);
  // An un-REGISTER of a local-only binding just removes it.
  take_down_with_503("c");
  const auto bye = from_phone("c", 2, "0");
  ASSERT_EQ(bye.size(), 1U);
  EXPECT_EQ(code(bye[0].bytes), 200U);
  EXPECT_EQ(binding("c"), nullptr);
}

TEST_F(fallback_test, primary_secondary_with_both_legs_timing_out_falls_back_locally) {
  cfg_.fallback = true;
  cfg_.probe_interval_ms = 5000;
  cfg_.reg_mode = reg::registrar_mode::primary_secondary;
  order({1, 2});
  make_engine();
  const auto legs = from_phone("a", 1);
  ASSERT_EQ(legs.size(), 2U);
  const auto all = run(now_ + cfg_.timer_f_ms + 10, 100);
  std::vector<sent> to_phone;
  for (const auto& [t, s] : all) {
    if (s.dst == k_phone) to_phone.push_back(s);
  }
  ASSERT_EQ(to_phone.size(), 1U);
  EXPECT_EQ(code(to_phone[0].bytes), 200U);
  ASSERT_NE(binding("a"), nullptr);
  EXPECT_EQ(binding("a")->state, reg::binding_state::fallback);
  // Both registrars answer their probes again: the binding is synced to the primary.
  const auto more = run(now_ + 6000, 10);
  for (const auto& s : only(more, "OPTIONS")) from_reg(registrar_answer(s.bytes, 200, "OK"), s.dst);
  const auto regs = only(run(now_ + 1000, 10), "REGISTER");
  ASSERT_EQ(regs.size(), 1U);
  EXPECT_EQ(parsed(regs[0].bytes).request_uri(), "sip:one.test");
}

TEST(binding_record, stays_480_bytes_with_the_fallback_fields) {
  EXPECT_EQ(sizeof(reg::binding), 480U);
  reg::binding_table t(reg::binding_table_config{.capacity = 4, .worker_id = 0, .seed = 1});
  EXPECT_EQ(t.live_at(0), nullptr);
  const auto r = t.insert("sip:a@x", "cid-a", {});
  ASSERT_TRUE(r);
  const auto h = t.handle_of(*r.rec);
  EXPECT_EQ(t.live_at(h.index), r.rec);
  EXPECT_EQ(t.live_at(4), nullptr) << "past the pool";
  t.erase(*r.rec);
  EXPECT_EQ(t.live_at(h.index), nullptr);
}

}  // namespace
}  // namespace sipfront::test
