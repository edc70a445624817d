// Peer-to-peer overload protection (registration spike N through a shared
// spike_pool) and registrar modes (indexed failover, primary/secondary forks),
// wired into the engine. Fake clock, no DPDK.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
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

struct phone {
  std::string user = "alice";
  unsigned cseq = 1;
  std::string contact;  // default: sip:<user>@198.18.1.2:5062
  std::string expires = "600";
  std::string branch;  // default: z9hG4bK-<user>-<cseq>
  phone& with_cseq(unsigned c) {
    cseq = c;
    return *this;
  }
  phone& with_contact(std::string c) {
    contact = std::move(c);
    return *this;
  }
  phone& with_expires(std::string e) {
    expires = std::move(e);
    return *this;
  }
};
phone ph(std::string user) {
  phone p;
  p.user = std::move(user);
  return p;
}

std::string register_msg(const phone& p) {
  register_opts o = user_register(p.user, p.cseq);
  if (!p.contact.empty()) o.contact = "<" + p.contact + ">";
  if (!p.branch.empty()) o.branch = p.branch;
  o.expires = p.expires;
  return make_register(o);
}

class engine_modes : public engine_harness {
 protected:
  // The engine (in the base) holds a budget of pool_ (here): it must go first.
  ~engine_modes() override { eng_.reset(); }

  void SetUp() override {
    cfg_ = p2p_two_registrars_config(k_reg1, k_reg2);
    cfg_.spike_seed = 7;
  }

  void with_spike(std::uint32_t n, std::uint32_t reserve_percent = 10, std::uint32_t lo = 30, std::uint32_t hi = 120) {
    spike_cfg_ = reg::spike_config{
        .limit = n, .reserve_percent = reserve_percent, .retry_after_min_s = lo, .retry_after_max_s = hi};
    ASSERT_EQ(reg::validate(spike_cfg_, cfg_.n_workers), reg::spike_errc::ok);
    eng_.reset();  // its budget goes back to the old pool first
    pool_ = std::make_unique<reg::spike_pool>(spike_cfg_, cfg_.n_workers);
    cfg_.spike = pool_.get();
  }
  void with_order(std::initializer_list<unsigned> idx, reg::registrar_mode mode) {
    const std::vector<unsigned> v(idx);
    ASSERT_EQ(reg::registrar_list::make(v, cfg_.registrar_order), reg::registrar_errc::ok);
    cfg_.reg_mode = mode;
  }
  void make_engine() {
    eng_.reset();
    eng_ = std::make_unique<reg::engine>(cfg_);
  }

  std::vector<sent> from_phone(const phone& p) { return feed(register_msg(p), reg::side::access, k_phone); }
  std::vector<sent> from_registrar(std::string_view b) { return feed(b, reg::side::core, k_reg1); }
  static std::vector<sent> to(const std::vector<sent>& v, reg::endpoint dst) {
    std::vector<sent> r;
    for (const auto& s : v) {
      if (s.dst == dst) r.push_back(s);
    }
    return r;
  }
  static std::uint32_t retry_after(const std::string& msg) {
    return static_cast<std::uint32_t>(std::stoul(header(msg, sip::header_id::retry_after)));
  }
  // Registers `user` through the single registrar it is forwarded to; returns that forwarded REGISTER.
  std::string register_ok(const phone& p, reg::endpoint expect_at = k_reg1, int granted = 3600) {
    const auto fwd = from_phone(p);
    EXPECT_EQ(fwd.size(), 1U);
    if (fwd.size() != 1) return {};
    EXPECT_EQ(fwd[0].dst, expect_at);
    const auto ok = from_registrar(registrar_answer(fwd[0].bytes, 200, "OK", granted));
    EXPECT_EQ(ok.size(), 1U);
    if (ok.size() == 1) {
      EXPECT_EQ(code(ok[0].bytes), 200U);
    }
    return fwd[0].bytes;
  }

  reg::spike_config spike_cfg_;
  std::unique_ptr<reg::spike_pool> pool_;
};

// ---------------------------------------------------------------- overload protection

TEST_F(engine_modes, spike_limit_forwards_n_new_registers_and_answers_the_next_503_with_retry_after) {
  with_spike(2);
  make_engine();
  const auto a = from_phone(ph("a"));
  const auto b = from_phone(ph("b"));
  ASSERT_EQ(a.size(), 1U);
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(a[0].dst, k_reg1);
  EXPECT_EQ(b[0].dst, k_reg1);
  const auto c = from_phone(ph("c"));
  ASSERT_EQ(c.size(), 1U);
  EXPECT_EQ(c[0].dst, k_phone);
  EXPECT_EQ(code(c[0].bytes), 503U);
  const std::uint32_t ra = retry_after(c[0].bytes);
  EXPECT_GE(ra, 30U);
  EXPECT_LE(ra, 120U);
  EXPECT_EQ(eng_->find_binding(aor_of("c")), nullptr) << "a refused new registration keeps no binding";
  EXPECT_EQ(eng_->counters().spike_rejected, 1U);
  const reg::explain_record& e = eng_->explain().recent(0);
  EXPECT_EQ(e.outcome, reg::explain_outcome::rejected);
  EXPECT_EQ(e.rule, reg::register_rule::registration_spike);
  EXPECT_EQ(e.code, 503U);
  EXPECT_EQ(reg::to_string(e.rule), "registration_spike");
  ASSERT_NE(eng_->spike(), nullptr);
  EXPECT_EQ(eng_->spike()->rejected_fresh, 1U);

  // One upstream transaction completes: its slot is free for the next new phone.
  const auto ok = from_registrar(registrar_answer(a[0].bytes, 200, "OK", 3600));
  ASSERT_EQ(ok.size(), 1U);
  const auto d = from_phone(ph("d"));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].dst, k_reg1);
  EXPECT_EQ(eng_->counters().spike_rejected, 1U);
}

TEST_F(engine_modes, spike_retry_after_values_stay_in_the_configured_range) {
  with_spike(1, 0, 40, 45);
  make_engine();
  ASSERT_EQ(from_phone(ph("a")).size(), 1U);
  for (unsigned i = 0; i < 20; ++i) {
    const auto r = from_phone(ph("x" + std::to_string(i)));
    ASSERT_EQ(r.size(), 1U);
    ASSERT_EQ(code(r[0].bytes), 503U);
    EXPECT_GE(retry_after(r[0].bytes), 40U);
    EXPECT_LE(retry_after(r[0].bytes), 45U);
  }
}

TEST_F(engine_modes, timer_f_releases_the_spike_slot) {
  with_spike(1, 0);
  make_engine();
  ASSERT_EQ(from_phone(ph("a")).size(), 1U);
  ASSERT_EQ(code(from_phone(ph("b"))[0].bytes), 503U);
  advance_to(now_ + cfg_.timer_f_ms);  // a's transaction times out (one registrar: no failover target)
  const auto c = from_phone(ph("c"));
  ASSERT_EQ(c.size(), 1U);
  EXPECT_EQ(c[0].dst, k_reg1);
}

TEST_F(engine_modes, refresh_of_a_live_binding_uses_the_reserve_when_fresh_slots_are_gone) {
  with_spike(4, 50);  // reserve 2, shared 2
  make_engine();
  register_ok(ph("a"));
  ASSERT_EQ(from_phone(ph("b")).size(), 1U);
  ASSERT_EQ(from_phone(ph("c")).size(), 1U);
  const auto d = from_phone(ph("d"));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(code(d[0].bytes), 503U) << "new registrations never take the reserve";

  // a changes its Contact: a refresh of a live binding, so it goes upstream on the reserve.
  const auto r = from_phone(ph("a").with_cseq(2).with_contact("sip:a@198.18.1.2:6000"));
  ASSERT_EQ(r.size(), 1U);
  EXPECT_EQ(r[0].dst, k_reg1);
  ASSERT_NE(eng_->spike(), nullptr);
  EXPECT_EQ(eng_->spike()->reserve_used, 1U);
  EXPECT_EQ(eng_->counters().spike_rejected, 1U);
}

TEST_F(engine_modes, out_leg_refresh_without_a_slot_waits_for_the_next_tick_and_keeps_the_binding) {
  with_spike(2, 0);
  make_engine();
  register_ok(ph("a").with_expires("3600"));
  // a's out-leg refresh is due 360 s before its 3600 s lifetime ends; just before
  // that, two new phones take both slots.
  const std::uint64_t due = 1000 + 3600000 - 360000;
  advance_to(due - 1);
  const auto b = from_phone(ph("b"));
  const auto c = from_phone(ph("c"));
  ASSERT_EQ(b.size(), 1U);
  ASSERT_EQ(c.size(), 1U);
  ASSERT_EQ(b[0].dst, k_reg1);
  ASSERT_EQ(c[0].dst, k_reg1);
  const auto at_due = advance_to(due);
  EXPECT_TRUE(to(at_due, k_reg1).empty()) << "no slot: the refresh waits";
  EXPECT_GE(eng_->counters().spike_deferred, 1U);
  const reg::binding* a = eng_->find_binding(aor_of("a"));
  ASSERT_NE(a, nullptr) << "the binding is never dropped for want of a slot";
  EXPECT_EQ(a->state, reg::binding_state::registered);

  // b completes: the next tick sends a's refresh.
  ASSERT_EQ(from_registrar(registrar_answer(b[0].bytes, 200, "OK", 3600)).size(), 1U);
  const auto next = advance_to(now_ + 1);
  const auto refresh = to(next, k_reg1);
  ASSERT_EQ(refresh.size(), 1U);
  EXPECT_EQ(header(refresh[0].bytes, sip::header_id::to), "<" + aor_of("a") + ">");
  EXPECT_EQ(eng_->find_binding(aor_of("a"))->state, reg::binding_state::refreshing);
  EXPECT_EQ(eng_->counters().upstream_refreshes, 1U);
}

TEST_F(engine_modes, idle_tick_returns_cached_slots_to_the_shared_pool) {
  with_spike(64, 0);  // two workers: batches of 4
  make_engine();
  register_ok(ph("a"));
  EXPECT_LT(pool_->free_in_pool(), 64U) << "the worker keeps a batch cached while busy";
  advance_to(now_ + 1);  // a message arrived since the last tick: not idle yet
  advance_to(now_ + 1);  // idle
  EXPECT_EQ(pool_->free_in_pool(), 64U);
}

TEST_F(engine_modes, no_spike_pool_means_no_limit) {
  make_engine();
  EXPECT_EQ(eng_->spike(), nullptr);
  for (unsigned i = 0; i < 10; ++i) EXPECT_EQ(from_phone(ph("u" + std::to_string(i)))[0].dst, k_reg1);
}

// ---------------------------------------------------------------- indexed registrars

TEST_F(engine_modes, default_list_is_the_default_registrar) {
  cfg_.default_registrar = 1;
  make_engine();
  register_ok(ph("a"), k_reg2);
  EXPECT_EQ(eng_->find_binding(aor_of("a"))->registrar_index, 1U);
}

TEST_F(engine_modes, indexed_failover_on_timer_f_keeps_the_binding_and_registers_at_the_next) {
  with_order({1, 2}, reg::registrar_mode::indexed);
  make_engine();
  const auto fwd = from_phone(ph("a").with_expires("3600"));
  ASSERT_EQ(fwd.size(), 1U);
  ASSERT_EQ(fwd[0].dst, k_reg1);
  const auto later = advance_to(now_ + cfg_.timer_f_ms);
  EXPECT_TRUE(to(later, k_phone).empty()) << "the phone waits: its REGISTER went on to the next registrar";
  const auto at2 = to(later, k_reg2);
  ASSERT_EQ(at2.size(), 1U);
  EXPECT_EQ(header(at2[0].bytes, sip::header_id::call_id), header(fwd[0].bytes, sip::header_id::call_id))
      << "same binding, same out-leg Call-ID";
  EXPECT_NE(parsed(at2[0].bytes).request_uri(), parsed(fwd[0].bytes).request_uri());
  EXPECT_EQ(parsed(at2[0].bytes).request_uri(), "sip:two.test");
  EXPECT_EQ(header(at2[0].bytes, sip::header_id::cseq), "2 REGISTER");
  const reg::binding* b = eng_->find_binding(aor_of("a"));
  ASSERT_NE(b, nullptr) << "the binding survives the failover";
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::down);
  EXPECT_EQ(eng_->counters().registrar_failovers, 1U);

  const auto ok = from_registrar(registrar_answer(at2[0].bytes, 200, "OK", 3600));
  ASSERT_EQ(ok.size(), 1U);
  EXPECT_EQ(ok[0].dst, k_phone);
  EXPECT_EQ(code(ok[0].bytes), 200U);
  b = eng_->find_binding(aor_of("a"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, reg::binding_state::registered);
  EXPECT_EQ(b->registrar_index, 1U) << "the binding records the registrar it uses";

  // Its out-leg refresh goes there.
  const auto refresh = advance_to(b->out_expires_at_ms - 360000);
  EXPECT_EQ(to(refresh, k_reg2).size(), 1U);
  EXPECT_TRUE(to(refresh, k_reg1).empty());
}

TEST_F(engine_modes, indexed_failover_on_503_and_the_down_registrar_is_skipped_for_new_registrations) {
  with_order({1, 2}, reg::registrar_mode::indexed);
  make_engine();
  const auto fwd = from_phone(ph("a"));
  ASSERT_EQ(fwd.size(), 1U);
  const auto fo = from_registrar(registrar_answer(fwd[0].bytes, 503, "Service Unavailable"));
  ASSERT_EQ(fo.size(), 1U);
  EXPECT_EQ(fo[0].dst, k_reg2) << "re-sent to the next registrar, nothing to the phone";
  EXPECT_NE(eng_->find_binding(aor_of("a")), nullptr);
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::down);
  const auto ok = from_registrar(registrar_answer(fo[0].bytes, 200, "OK", 3600));
  ASSERT_EQ(ok.size(), 1U);
  EXPECT_EQ(code(ok[0].bytes), 200U);

  // A new phone goes straight to registrar 2 while 1 is down.
  register_ok(ph("b"), k_reg2);
  EXPECT_EQ(eng_->find_binding(aor_of("b"))->registrar_index, 1U);

  // Down is retried after registrar_retry_ms (no prober yet) or when marked up.
  eng_->mark_registrar_up(1);
  register_ok(ph("c"), k_reg1);
}

TEST_F(engine_modes, held_registrar_comes_back_after_its_retry_after) {
  with_order({1, 2}, reg::registrar_mode::indexed);
  make_engine();
  const auto fwd = from_phone(ph("a"));
  const auto fo = from_registrar(registrar_answer(fwd[0].bytes, 503, "Service Unavailable", -1, "Retry-After: 60\r\n"));
  ASSERT_EQ(fo.size(), 1U);
  EXPECT_EQ(fo[0].dst, k_reg2);
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::held);
  ASSERT_EQ(from_registrar(registrar_answer(fo[0].bytes, 200, "OK", 3600)).size(), 1U);

  now_ += 30000;
  register_ok(ph("b"), k_reg2);
  now_ += 31000;  // past the hold
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::up);
  register_ok(ph("c"), k_reg1);
}

TEST_F(engine_modes, all_registrars_down_answers_503_with_a_retry_after_hint) {
  with_order({1, 2}, reg::registrar_mode::indexed);
  make_engine();
  const auto fwd = from_phone(ph("a"));
  const auto fo = from_registrar(registrar_answer(fwd[0].bytes, 503, "Busy", -1, "Retry-After: 60\r\n"));
  ASSERT_EQ(fo.size(), 1U);
  ASSERT_EQ(fo[0].dst, k_reg2);
  const auto last = from_registrar(registrar_answer(fo[0].bytes, 503, "Busy Too", -1, "Retry-After: 90\r\n"));
  ASSERT_EQ(last.size(), 1U);
  EXPECT_EQ(last[0].dst, k_phone) << "every registrar tried: the last one's answer goes to the phone";
  EXPECT_EQ(code(last[0].bytes), 503U);
  EXPECT_EQ(eng_->find_binding(aor_of("a")), nullptr);

  const auto b = from_phone(ph("b"));
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(b[0].dst, k_phone) << "nothing usable: refused at once";
  EXPECT_EQ(code(b[0].bytes), 503U);
  EXPECT_EQ(retry_after(b[0].bytes), 60U) << "the earliest hold's end";
  EXPECT_EQ(eng_->counters().registrar_unavailable, 1U);
  EXPECT_EQ(eng_->explain().recent(0).rule, reg::register_rule::no_registrar);
}

// ---------------------------------------------------------------- primary/secondary

TEST_F(engine_modes, fork_sends_to_both_and_the_first_2xx_answers_the_phone) {
  with_order({1, 2}, reg::registrar_mode::primary_secondary);
  make_engine();
  const auto fwd = from_phone(ph("a").with_expires("3600"));
  ASSERT_EQ(fwd.size(), 2U);
  const auto p = to(fwd, k_reg1);
  const auto s = to(fwd, k_reg2);
  ASSERT_EQ(p.size(), 1U);
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(header(p[0].bytes, sip::header_id::call_id), header(s[0].bytes, sip::header_id::call_id))
      << "one binding, one out-leg Call-ID";
  EXPECT_NE(header(p[0].bytes, sip::header_id::via), header(s[0].bytes, sip::header_id::via)) << "distinct branches";
  EXPECT_TRUE(from_phone(ph("a").with_expires("3600")).empty())
      << "a retransmission is absorbed while the fork is pending";

  // The secondary answers first: that is the phone's 200.
  const auto first = from_registrar(registrar_answer(s[0].bytes, 200, "OK", 3600));
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(first[0].dst, k_phone);
  EXPECT_EQ(code(first[0].bytes), 200U);
  const reg::binding* b = eng_->find_binding(aor_of("a"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->registrar_index, 1U);
  EXPECT_EQ(b->state, reg::binding_state::registered);

  // The later 2xx is kept as the secondary binding, nothing more to the phone.
  EXPECT_TRUE(from_registrar(registrar_answer(p[0].bytes, 200, "OK", 3600)).empty());
  b = eng_->find_binding(aor_of("a"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->secondary_index, 0U);
  EXPECT_EQ(eng_->counters().secondary_kept, 1U);
  // The phone's retransmission gets the same 200 again.
  const auto again = from_phone(ph("a").with_expires("3600"));
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].bytes, first[0].bytes);

  // Both registrations are refreshed by the front end.
  const auto refresh = advance_to(b->out_expires_at_ms - 360000);
  EXPECT_EQ(to(refresh, k_reg1).size(), 1U);
  EXPECT_EQ(to(refresh, k_reg2).size(), 1U);
}

TEST_F(engine_modes, fork_where_both_fail_passes_the_error_that_arrived_last) {
  with_order({1, 2}, reg::registrar_mode::primary_secondary);
  make_engine();
  const auto fwd = from_phone(ph("a"));
  ASSERT_EQ(fwd.size(), 2U);
  EXPECT_TRUE(from_registrar(registrar_answer(to(fwd, k_reg1)[0].bytes, 403, "Forbidden")).empty());
  const auto last = from_registrar(registrar_answer(to(fwd, k_reg2)[0].bytes, 404, "Not Found"));
  ASSERT_EQ(last.size(), 1U);
  EXPECT_EQ(last[0].dst, k_phone);
  EXPECT_EQ(code(last[0].bytes), 404U);
  EXPECT_EQ(eng_->find_binding(aor_of("a")), nullptr) << "never registered: nothing kept";
  EXPECT_EQ(eng_->live_transactions(), 3U) << "parent and both legs linger for retransmissions (Timer K)";
  advance_to(now_ + cfg_.timer_k_ms);
  EXPECT_EQ(eng_->live_transactions(), 0U);
}

TEST_F(engine_modes, fork_error_then_timeout_passes_the_error) {
  with_order({1, 2}, reg::registrar_mode::primary_secondary);
  make_engine();
  const auto fwd = from_phone(ph("a"));
  ASSERT_EQ(fwd.size(), 2U);
  EXPECT_TRUE(from_registrar(registrar_answer(to(fwd, k_reg2)[0].bytes, 403, "Forbidden")).empty());
  const auto later = to(advance_to(now_ + cfg_.timer_f_ms), k_phone);
  ASSERT_EQ(later.size(), 1U);
  EXPECT_EQ(code(later[0].bytes), 403U) << "an error response says more than a local timeout";
}

TEST_F(engine_modes, fork_with_no_usable_registrar_answers_503_at_once) {
  with_order({3}, reg::registrar_mode::primary_secondary);  // index 3 has no registrar
  make_engine();
  const auto r = from_phone(ph("a"));
  ASSERT_EQ(r.size(), 1U);
  EXPECT_EQ(r[0].dst, k_phone);
  EXPECT_EQ(code(r[0].bytes), 503U);
  EXPECT_EQ(eng_->live_bindings(), 0U);
  EXPECT_EQ(eng_->counters().registrar_unavailable, 1U);

  cfg_.n_registrars = 0;  // none configured at all
  make_engine();
  const auto r2 = from_phone(ph("a"));
  ASSERT_EQ(r2.size(), 1U);
  EXPECT_EQ(code(r2[0].bytes), 503U);
}

TEST_F(engine_modes, fork_with_the_primary_down_sends_to_the_secondary_only) {
  with_order({1, 2}, reg::registrar_mode::primary_secondary);
  make_engine();
  const auto fwd = from_phone(ph("a"));
  ASSERT_EQ(fwd.size(), 2U);
  // The primary times out, the secondary answers 200: registered at the secondary.
  ASSERT_EQ(from_registrar(registrar_answer(to(fwd, k_reg2)[0].bytes, 200, "OK", 3600)).size(), 1U);
  advance_to(now_ + cfg_.timer_f_ms);
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::down);
  const auto b = from_phone(ph("b"));
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(b[0].dst, k_reg2);
}

TEST_F(engine_modes, fork_counts_one_spike_slot_per_leg) {
  with_spike(3, 0);
  with_order({1, 2}, reg::registrar_mode::primary_secondary);
  make_engine();
  EXPECT_EQ(from_phone(ph("a")).size(), 2U);
  const auto b = from_phone(ph("b"));
  ASSERT_EQ(b.size(), 1U) << "one slot left: the primary only";
  EXPECT_EQ(b[0].dst, k_reg1);
  EXPECT_EQ(eng_->counters().spike_deferred, 1U);
  const auto c = from_phone(ph("c"));
  ASSERT_EQ(c.size(), 1U);
  EXPECT_EQ(code(c[0].bytes), 503U);
}

// ---------------------------------------------------------------- fail-count deregistration

// a's messages among `v` (by out-leg Call-ID).
std::vector<sent> of_call_id(const std::vector<sent>& v, const std::string& call_id) {
  std::vector<sent> r;
  for (const auto& s : v) {
    sip::message m;
    if (m.parse(s.bytes) == sip::errc::ok && m.value_of(sip::header_id::call_id) == call_id) r.push_back(s);
  }
  return r;
}

TEST_F(engine_modes, fail_count_deregistration_without_a_slot_waits_for_one_and_is_then_sent) {
  with_spike(2, 0);
  make_engine();
  const std::string first = register_ok(ph("a"));  // in-expires 600 s: fail-count 3 reached at +1800 s
  const std::string a_cid = header(first, sip::header_id::call_id);
  const std::uint64_t t0 = now_;
  advance_to(t0 + 1'200'000);
  advance_to(t0 + 1'799'999);
  const auto b = from_phone(ph("b"));  // b and c take both slots
  const auto c = from_phone(ph("c"));
  ASSERT_EQ(b.size(), 1U);
  ASSERT_EQ(c.size(), 1U);
  ASSERT_EQ(b[0].dst, k_reg1);
  ASSERT_EQ(c[0].dst, k_reg1);

  EXPECT_TRUE(of_call_id(advance_to(t0 + 1'800'000), a_cid).empty()) << "no slot: nothing sent";
  EXPECT_EQ(eng_->counters().fail_count_deregs, 1U);
  EXPECT_GE(eng_->counters().spike_deferred, 1U);
  const reg::binding* a = eng_->find_binding(aor_of("a"));
  ASSERT_NE(a, nullptr) << "the binding waits instead of being dropped silently";
  EXPECT_EQ(a->state, reg::binding_state::deregister_waiting);
  EXPECT_TRUE(of_call_id(advance_to(now_ + cfg_.t1_ms), a_cid).empty()) << "still no slot on the retry";
  EXPECT_EQ(eng_->find_binding(aor_of("a"))->state, reg::binding_state::deregister_waiting);

  // b completes and frees its slot: the next retry sends a's deregistration.
  ASSERT_EQ(from_registrar(registrar_answer(b[0].bytes, 200, "OK", 3600)).size(), 1U);
  const auto dereg = of_call_id(advance_to(now_ + cfg_.t1_ms), a_cid);
  ASSERT_EQ(dereg.size(), 1U);
  EXPECT_EQ(dereg[0].dst, k_reg1);
  EXPECT_EQ(header(dereg[0].bytes, sip::header_id::expires), "0");
  EXPECT_EQ(header(dereg[0].bytes, sip::header_id::contact), header(first, sip::header_id::contact));
  EXPECT_EQ(eng_->find_binding(aor_of("a"))->state, reg::binding_state::unregistering);
  EXPECT_TRUE(from_registrar(registrar_answer(dereg[0].bytes, 200, "OK")).empty());
  EXPECT_EQ(eng_->find_binding(aor_of("a")), nullptr);
  EXPECT_EQ(eng_->counters().deregs_lapsed, 0U);
}

TEST_F(engine_modes, waiting_deregistration_ends_when_the_out_leg_lapses) {
  with_spike(2, 0);
  cfg_.timer_f_ms = 5'000'000;  // b and c keep their slots for longer than a's out-leg lives
  make_engine();
  const std::string first = register_ok(ph("a"));
  const std::string a_cid = header(first, sip::header_id::call_id);
  const std::uint64_t t0 = now_;
  const std::uint64_t lapse = eng_->find_binding(aor_of("a"))->out_expires_at_ms;
  ASSERT_EQ(lapse, t0 + 3'600'000);
  advance_to(t0 + 1'799'999);
  ASSERT_EQ(from_phone(ph("b")).size(), 1U);
  ASSERT_EQ(from_phone(ph("c")).size(), 1U);
  std::size_t sent_for_a = 0;
  for (std::uint64_t t = t0 + 1'800'000; t < lapse; t += 50'000) sent_for_a += of_call_id(advance_to(t), a_cid).size();
  sent_for_a += of_call_id(advance_to(lapse - 1), a_cid).size();
  EXPECT_EQ(sent_for_a, 0U) << "neither the deregistration nor an out-leg refresh while waiting";
  ASSERT_NE(eng_->find_binding(aor_of("a")), nullptr) << "kept until the out-leg lapses";
  EXPECT_EQ(eng_->find_binding(aor_of("a"))->state, reg::binding_state::deregister_waiting);
  EXPECT_TRUE(of_call_id(advance_to(lapse), a_cid).empty());
  EXPECT_EQ(eng_->find_binding(aor_of("a")), nullptr) << "the registrar dropped it too: erased";
  EXPECT_EQ(eng_->counters().deregs_lapsed, 1U);
}

TEST_F(engine_modes, phone_returning_while_its_deregistration_waits_keeps_the_binding) {
  with_spike(2, 0);
  make_engine();
  const std::string first = register_ok(ph("a"));
  const std::string a_cid = header(first, sip::header_id::call_id);
  const std::uint64_t t0 = now_;
  advance_to(t0 + 1'799'999);
  const auto b = from_phone(ph("b"));
  ASSERT_EQ(from_phone(ph("c")).size(), 1U);
  advance_to(t0 + 1'800'000);
  ASSERT_EQ(eng_->find_binding(aor_of("a"))->state, reg::binding_state::deregister_waiting);
  // b's answer frees a slot; a's phone comes back before the retry and takes it.
  ASSERT_EQ(from_registrar(registrar_answer(b[0].bytes, 200, "OK", 3600)).size(), 1U);
  const auto back = from_phone(ph("a").with_cseq(2));
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0].dst, k_reg1);
  EXPECT_EQ(header(back[0].bytes, sip::header_id::call_id), a_cid);
  EXPECT_EQ(header(back[0].bytes, sip::header_id::expires), "3600") << "a registration, not the deregistration";
  for (const auto& r : of_call_id(advance_to(now_ + 10 * cfg_.t1_ms), a_cid)) {
    EXPECT_NE(header(r.bytes, sip::header_id::expires), "0") << "no deregistration while the phone re-registers";
  }
  ASSERT_EQ(from_registrar(registrar_answer(back[0].bytes, 200, "OK", 3600)).size(), 1U);
  const reg::binding* a = eng_->find_binding(aor_of("a"));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->state, reg::binding_state::registered);
  EXPECT_EQ(a->missed_refreshes, 0U);
  for (const auto& s : of_call_id(advance_to(now_ + 10 * cfg_.t1_ms), a_cid)) {
    EXPECT_NE(header(s.bytes, sip::header_id::expires), "0") << "the waiting deregistration was dropped";
  }
}

TEST_F(engine_modes, primary_secondary_deregistration_goes_to_both_and_frees_after_both) {
  with_order({1, 2}, reg::registrar_mode::primary_secondary);
  make_engine();
  const auto fwd = from_phone(ph("a"));
  ASSERT_EQ(fwd.size(), 2U);
  // The primary answers first, the secondary is kept.
  ASSERT_EQ(from_registrar(registrar_answer(to(fwd, k_reg1)[0].bytes, 200, "OK", 3600)).size(), 1U);
  EXPECT_TRUE(from_registrar(registrar_answer(to(fwd, k_reg2)[0].bytes, 200, "OK", 3600)).empty());
  const reg::binding* a = eng_->find_binding(aor_of("a"));
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->registrar_index, 0U);
  ASSERT_EQ(a->secondary_index, 1U);
  const std::string a_cid = header(fwd[0].bytes, sip::header_id::call_id);
  const std::uint64_t t0 = now_;
  advance_to(t0 + 1'200'000);
  const auto dereg = advance_to(t0 + 1'800'000);
  ASSERT_EQ(dereg.size(), 2U);
  const auto p = to(dereg, k_reg1);
  const auto s = to(dereg, k_reg2);
  ASSERT_EQ(p.size(), 1U);
  ASSERT_EQ(s.size(), 1U);
  for (const auto* d : {&p[0], &s[0]}) {
    EXPECT_EQ(header(d->bytes, sip::header_id::expires), "0");
    EXPECT_EQ(header(d->bytes, sip::header_id::call_id), a_cid);
  }
  EXPECT_NE(header(p[0].bytes, sip::header_id::via), header(s[0].bytes, sip::header_id::via));
  // The primary's 200 alone does not free the binding: the secondary still holds it.
  EXPECT_TRUE(from_registrar(registrar_answer(p[0].bytes, 200, "OK")).empty());
  ASSERT_NE(eng_->find_binding(aor_of("a")), nullptr);
  EXPECT_EQ(eng_->find_binding(aor_of("a"))->state, reg::binding_state::unregistering);
  // The secondary's leg times out: both are final now.
  advance_to(now_ + cfg_.timer_f_ms);
  EXPECT_EQ(eng_->find_binding(aor_of("a")), nullptr);
  EXPECT_EQ(eng_->live_bindings(), 0U);
}

TEST_F(engine_modes, primary_secondary_deregistration_waits_for_a_slot_per_registrar) {
  with_spike(3, 0);
  with_order({1, 2}, reg::registrar_mode::primary_secondary);
  make_engine();
  const auto fwd = from_phone(ph("a"));
  ASSERT_EQ(fwd.size(), 2U);
  // The secondary answers first this time: it becomes the binding's registrar.
  ASSERT_EQ(from_registrar(registrar_answer(to(fwd, k_reg2)[0].bytes, 200, "OK", 3600)).size(), 1U);
  EXPECT_TRUE(from_registrar(registrar_answer(to(fwd, k_reg1)[0].bytes, 200, "OK", 3600)).empty());
  ASSERT_EQ(eng_->find_binding(aor_of("a"))->registrar_index, 1U);
  ASSERT_EQ(eng_->find_binding(aor_of("a"))->secondary_index, 0U);
  const std::string a_cid = header(fwd[0].bytes, sip::header_id::call_id);
  const std::uint64_t t0 = now_;
  advance_to(t0 + 1'799'999);
  const auto b = from_phone(ph("b"));  // b's fork takes two of the three slots
  ASSERT_EQ(b.size(), 2U);
  EXPECT_TRUE(of_call_id(advance_to(t0 + 1'800'000), a_cid).empty()) << "one slot for two registrars: wait";
  EXPECT_EQ(eng_->find_binding(aor_of("a"))->state, reg::binding_state::deregister_waiting);
  // One of b's legs completes: two slots, both deregistrations go.
  EXPECT_EQ(from_registrar(registrar_answer(to(b, k_reg1)[0].bytes, 200, "OK", 3600)).size(), 1U);
  const auto dereg = of_call_id(advance_to(now_ + cfg_.t1_ms), a_cid);
  ASSERT_EQ(dereg.size(), 2U);
  EXPECT_EQ(to(dereg, k_reg1).size(), 1U);
  EXPECT_EQ(to(dereg, k_reg2).size(), 1U);
  // Answers in either order: freed after the second.
  EXPECT_TRUE(from_registrar(registrar_answer(to(dereg, k_reg2)[0].bytes, 200, "OK")).empty());
  EXPECT_NE(eng_->find_binding(aor_of("a")), nullptr);
  EXPECT_TRUE(from_registrar(registrar_answer(to(dereg, k_reg1)[0].bytes, 200, "OK")).empty());
  EXPECT_EQ(eng_->find_binding(aor_of("a")), nullptr);
}

}  // namespace
}  // namespace sipfront::test
