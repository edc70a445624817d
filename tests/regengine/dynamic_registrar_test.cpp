// Dynamic (DNS) registrars in the engine: unresolved -> 503 No Registrar,
// resolve_registrar() gives REGISTERs their address, a changed address takes the
// next REGISTER (new phones and refreshes of live bindings) while the bindings keep
// working, unresolve_registrar() makes it unusable again. Fake clock, no DPDK.
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
const reg::endpoint k_static{ip(198, 18, 2, 2), 5060, 1};
const reg::endpoint k_dns_a{ip(198, 18, 2, 3), 5060, 1};
const reg::endpoint k_dns_b{ip(198, 18, 2, 4), 5080, 1};

std::string register_msg(const std::string& user, unsigned cseq, const std::string& ruri_host = "sipfront.test") {
  register_opts o = user_register(user, cseq);
  o.ruri = "sip:" + ruri_host;
  return make_register(o);
}

class dynamic_registrar : public engine_harness {
 protected:
  void SetUp() override {
    cfg_ = p2p_config({}, 0, 1);  // out-leg 3600 s, rate limiting: phone refreshes are answered locally
    cfg_.registrars[0] = {.addr = {}, .domain = {}, .dynamic = true, .host = "reg.example.test"};
    cfg_.registrars[1] = {.addr = k_static, .domain = "static.test"};
    cfg_.n_registrars = 2;
    cfg_.default_registrar = 0;
  }

  std::vector<sent> from_phone(const std::string& user, unsigned cseq) {
    return feed(register_msg(user, cseq), reg::side::access, k_phone);
  }
  static std::string ruri(const std::string& msg) { return std::string(parsed(msg).request_uri()); }
  // `user` registers through the one REGISTER forwarded to `at`, answered 200 from there.
  void register_ok(const std::string& user, unsigned cseq, reg::endpoint at) {
    const auto fwd = from_phone(user, cseq);
    ASSERT_EQ(fwd.size(), 1U);
    EXPECT_EQ(fwd[0].dst, at);
    const auto ok = feed(registrar_answer(fwd[0].bytes, 200, "OK", 3600), reg::side::core, at);
    ASSERT_EQ(ok.size(), 1U);
    EXPECT_EQ(ok[0].dst, k_phone);
    EXPECT_EQ(code(ok[0].bytes), 200U);
  }
};

TEST_F(dynamic_registrar, UnresolvedAnswers503NoRegistrarAndSendsNothingUpstream) {
  make_engine();
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::unresolved);
  EXPECT_EQ(eng_->registrar_address(1), reg::endpoint{});
  const auto out = from_phone("alice", 1);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(code(out[0].bytes), 503U);
  EXPECT_EQ(parsed(out[0].bytes).reason(), "Service Unavailable - No Registrar");
  EXPECT_EQ(eng_->counters().registrar_unavailable, 1U);
  EXPECT_EQ(eng_->live_bindings(), 0U);  // the binding made for it is not kept
}

TEST_F(dynamic_registrar, ResolvedRegisterGoesToTheAddressWithTheHostNameInTheRequestUri) {
  make_engine();
  ASSERT_EQ(eng_->resolve_registrar(1, k_dns_a), reg::registrar_errc::ok);
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::up);
  EXPECT_EQ(eng_->registrar_address(1), k_dns_a);
  const auto fwd = from_phone("alice", 1);
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_EQ(fwd[0].dst, k_dns_a);
  EXPECT_EQ(ruri(fwd[0].bytes), "sip:reg.example.test");
  // Timer E retransmits to the same address.
  const auto re = advance_to(now_ + cfg_.t1_ms);
  ASSERT_EQ(re.size(), 1U);
  EXPECT_EQ(re[0].dst, k_dns_a);
}

TEST_F(dynamic_registrar, AddressChangeTakesTheNextRegisterAndTheLiveBindingKeepsWorking) {
  make_engine();
  ASSERT_EQ(eng_->resolve_registrar(1, k_dns_a), reg::registrar_errc::ok);
  register_ok("alice", 1, k_dns_a);
  ASSERT_NE(eng_->find_binding("sip:alice@sipfront.test"), nullptr);

  ASSERT_EQ(eng_->resolve_registrar(1, k_dns_b), reg::registrar_errc::ok);
  EXPECT_EQ(eng_->registrar_address(1), k_dns_b);
  // A new phone goes to the new address.
  register_ok("bob", 1, k_dns_b);
  // alice's refresh inside the out-leg lifetime is still answered locally.
  const auto local = from_phone("alice", 2);
  ASSERT_EQ(local.size(), 1U);
  EXPECT_EQ(local[0].dst, k_phone);
  EXPECT_EQ(code(local[0].bytes), 200U);
  // The front end's own refresh of alice's out-leg goes to the new address.
  std::vector<sent> refreshes;
  unsigned cseq = 3;
  for (std::uint64_t t = now_ + 1000; t <= 1000 + 3600ULL * 1000 && refreshes.empty(); t += 1000) {
    for (const auto& s : advance_to(t)) {
      if (parsed(s.bytes).is_request() && header(s.bytes, sip::header_id::to).find("alice") != std::string::npos) {
        refreshes.push_back(s);
      }
    }
    // Both phones keep their in-leg registrations alive (fail-count).
    if (t % 500'000 == 0) {
      (void)from_phone("alice", cseq);
      (void)from_phone("bob", cseq++);
    }
  }
  ASSERT_EQ(refreshes.size(), 1U);
  EXPECT_EQ(refreshes[0].dst, k_dns_b);
  EXPECT_EQ(header(refreshes[0].bytes, sip::header_id::expires), "3600");
  const auto ok = feed(registrar_answer(refreshes[0].bytes, 200, "OK", 3600), reg::side::core, k_dns_b);
  EXPECT_TRUE(ok.empty());  // the front end's own refresh: nothing for the phone
  EXPECT_EQ(eng_->find_binding("sip:alice@sipfront.test")->state, reg::binding_state::registered);
  const auto again = from_phone("alice", cseq);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].dst, k_phone);
  EXPECT_EQ(code(again[0].bytes), 200U);
}

TEST_F(dynamic_registrar, UnresolveMakesItUnusableAgainAndStaticRegistrarsRefuseDnsUpdates) {
  make_engine();
  ASSERT_EQ(eng_->resolve_registrar(1, k_dns_a), reg::registrar_errc::ok);
  ASSERT_EQ(eng_->unresolve_registrar(1), reg::registrar_errc::ok);
  EXPECT_EQ(eng_->registrar_state(1, now_), reg::registrar_health::unresolved);
  const auto out = from_phone("alice", 1);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(code(out[0].bytes), 503U);
  EXPECT_EQ(eng_->resolve_registrar(2, k_dns_b), reg::registrar_errc::not_dynamic);
  EXPECT_EQ(eng_->unresolve_registrar(2), reg::registrar_errc::not_dynamic);
  EXPECT_EQ(eng_->registrar_address(2), k_static);
  EXPECT_EQ(eng_->resolve_registrar(3, k_dns_b), reg::registrar_errc::not_configured);
}

TEST_F(dynamic_registrar, IndexedFailsOverPastAnUnresolvedRegistrar) {
  const std::vector<unsigned> order{1, 2};
  ASSERT_EQ(reg::registrar_list::make(order, cfg_.registrar_order), reg::registrar_errc::ok);
  make_engine();
  register_ok("alice", 1, k_static);  // 1 is unresolved: the list's next one
  ASSERT_EQ(eng_->resolve_registrar(1, k_dns_a), reg::registrar_errc::ok);
  register_ok("bob", 1, k_dns_a);
}

TEST_F(dynamic_registrar, ADownDynamicRegistrarIsProbedAtItsResolvedAddressByName) {
  const std::vector<unsigned> order{1, 2};
  ASSERT_EQ(reg::registrar_list::make(order, cfg_.registrar_order), reg::registrar_errc::ok);
  cfg_.probe_interval_ms = 1000;
  make_engine();
  ASSERT_EQ(eng_->resolve_registrar(1, k_dns_b), reg::registrar_errc::ok);
  const auto fwd = from_phone("alice", 1);
  ASSERT_EQ(fwd.size(), 1U);
  ASSERT_EQ(fwd[0].dst, k_dns_b);
  // 503 without Retry-After: down, and the prober takes over.
  const auto next = feed(registrar_answer(fwd[0].bytes, 503, "Service Unavailable"), reg::side::core, k_dns_b);
  ASSERT_EQ(next.size(), 1U);
  EXPECT_EQ(next[0].dst, k_static) << "failed over";
  std::vector<sent> probes;
  for (auto& s : advance_to(now_ + 1000)) {
    if (s.bytes.starts_with("OPTIONS ")) probes.push_back(std::move(s));
  }
  ASSERT_EQ(probes.size(), 1U);
  EXPECT_EQ(probes[0].dst, k_dns_b) << "the address DNS gave, not the (empty) configured one";
  EXPECT_EQ(ruri(probes[0].bytes), "sip:reg.example.test");
}

TEST_F(dynamic_registrar, EndToEndUsesTheResolvedAddress) {
  cfg_.mode = reg::passthrough_mode::end_to_end;
  cfg_.registrar.out_expires = 0;
  make_engine();
  const auto refused = feed(register_msg("alice", 1, "reg.example.test"), reg::side::access, k_phone);
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(code(refused[0].bytes), 503U);
  EXPECT_EQ(eng_->counters().no_registrar, 1U);
  ASSERT_EQ(eng_->resolve_registrar(1, k_dns_b), reg::registrar_errc::ok);
  const auto fwd = feed(register_msg("alice", 2, "reg.example.test"), reg::side::access, k_phone);
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_EQ(fwd[0].dst, k_dns_b);
  EXPECT_EQ(ruri(fwd[0].bytes), "sip:reg.example.test");  // relayed as the phone wrote it
  // The static registrar is still chosen by its domain.
  const auto st = feed(register_msg("bob", 1, "static.test"), reg::side::access, k_phone);
  ASSERT_EQ(st.size(), 1U);
  EXPECT_EQ(st[0].dst, k_static);
}

}  // namespace
}  // namespace sipfront::test
