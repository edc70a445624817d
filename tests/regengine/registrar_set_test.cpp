// registrar_set / registrar_list / fork_outcome: configuration and list validation,
// static vs dynamic registrars, health (down, held, hold expiry, mark_up), indexed
// failover order and skipping, the 503 cases (none configured, all unresolved, all
// down with the earliest hold as Retry-After), primary/secondary forking, and every
// fork outcome rule (first 2xx wins, later 2xx kept as secondary, both fail -> the
// last error, timeouts).

#include "sipfront/regengine/registrar_set.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace {

using sipfront::reg::endpoint;
using sipfront::reg::fork_action;
using sipfront::reg::fork_outcome;
using sipfront::reg::fork_plan;
using sipfront::reg::leg_state;
using sipfront::reg::registrar_errc;
using sipfront::reg::registrar_health;
using sipfront::reg::registrar_list;
using sipfront::reg::registrar_set;
using sipfront::reg::registrar_source;
using sipfront::reg::select_status;
using sipfront::reg::selection;

endpoint ep(unsigned n) { return endpoint{.ip = 0xc6120000U + n, .port = 5060, .port_id = 0}; }  // 198.18.0.n

registrar_list list_of(std::initializer_list<unsigned> idx) {
  registrar_list l;
  const std::vector<unsigned> v(idx);
  EXPECT_EQ(registrar_list::make(v, l), registrar_errc::ok);
  return l;
}

// Registrars 1..n, static, all up.
registrar_set static_set(unsigned n) {
  registrar_set s;
  for (unsigned i = 1; i <= n; ++i) EXPECT_EQ(s.configure_static(i, ep(i)), registrar_errc::ok);
  return s;
}

TEST(RegistrarList, Validation) {
  registrar_list l;
  const std::array<unsigned, 3> ok{3, 1, 6};
  ASSERT_EQ(registrar_list::make(ok, l), registrar_errc::ok);
  ASSERT_EQ(l.size(), 3U);
  EXPECT_EQ(l[0], 3U);
  EXPECT_EQ(l[1], 1U);
  EXPECT_EQ(l[2], 6U);

  const std::array<unsigned, 1> zero{0};
  const std::array<unsigned, 1> seven{7};
  const std::array<unsigned, 2> dup{2, 2};
  const std::array<unsigned, 7> many{1, 2, 3, 4, 5, 6, 1};
  EXPECT_EQ(registrar_list::make({}, l), registrar_errc::empty_list);
  EXPECT_EQ(registrar_list::make(zero, l), registrar_errc::bad_index);
  EXPECT_EQ(registrar_list::make(seven, l), registrar_errc::bad_index);
  EXPECT_EQ(registrar_list::make(dup, l), registrar_errc::duplicate_index);
  EXPECT_EQ(registrar_list::make(many, l), registrar_errc::list_too_long);
  EXPECT_EQ(l.size(), 3U);  // untouched by the failures

  for (auto e :
       {registrar_errc::ok, registrar_errc::bad_index, registrar_errc::not_configured, registrar_errc::not_dynamic,
        registrar_errc::empty_list, registrar_errc::list_too_long, registrar_errc::duplicate_index}) {
    EXPECT_NE(to_string(e), "unknown");
  }
}

TEST(RegistrarSet, ConfigureStaticAndDynamic) {
  registrar_set s;
  EXPECT_EQ(s.configure_static(0, ep(1)), registrar_errc::bad_index);
  EXPECT_EQ(s.configure_static(7, ep(1)), registrar_errc::bad_index);
  ASSERT_EQ(s.configure_static(1, ep(1)), registrar_errc::ok);
  ASSERT_EQ(s.configure_dynamic(2), registrar_errc::ok);
  EXPECT_EQ(s.health(1, 0), registrar_health::up);
  EXPECT_EQ(s.source(1), registrar_source::static_address);
  EXPECT_EQ(s.address(1), ep(1));
  EXPECT_EQ(s.health(2, 0), registrar_health::unresolved);
  EXPECT_EQ(s.source(2), registrar_source::dynamic);
  EXPECT_EQ(s.address(2), endpoint{});
  EXPECT_EQ(s.health(3, 0), registrar_health::unconfigured);

  EXPECT_EQ(s.resolve(1, ep(9)), registrar_errc::not_dynamic);
  EXPECT_EQ(s.unresolve(1), registrar_errc::not_dynamic);
  EXPECT_EQ(s.resolve(3, ep(9)), registrar_errc::not_configured);
  ASSERT_EQ(s.resolve(2, ep(2)), registrar_errc::ok);
  EXPECT_EQ(s.health(2, 0), registrar_health::up);
  EXPECT_EQ(s.address(2), ep(2));
  ASSERT_EQ(s.unresolve(2), registrar_errc::ok);
  EXPECT_EQ(s.health(2, 0), registrar_health::unresolved);

  EXPECT_EQ(s.check(list_of({1, 2})), registrar_errc::ok);
  EXPECT_EQ(s.check(list_of({1, 3})), registrar_errc::not_configured);
  ASSERT_EQ(s.remove(1), registrar_errc::ok);
  EXPECT_EQ(s.remove(1), registrar_errc::not_configured);
  EXPECT_EQ(s.health(1, 0), registrar_health::unconfigured);
}

TEST(RegistrarSet, ReResolutionKeepsHealth) {
  registrar_set s;
  ASSERT_EQ(s.configure_dynamic(1), registrar_errc::ok);
  ASSERT_EQ(s.resolve(1, ep(1)), registrar_errc::ok);
  s.mark_down(1);
  ASSERT_EQ(s.resolve(1, ep(5)), registrar_errc::ok);  // a new A record is not proof of life
  EXPECT_EQ(s.health(1, 0), registrar_health::down);
  EXPECT_EQ(s.address(1), ep(5));
}

TEST(RegistrarFailover, TriesListInOrder) {
  registrar_set s = static_set(6);
  const selection a = s.next_target(list_of({3, 1, 2}), 0);
  ASSERT_EQ(a.status, select_status::ok);
  EXPECT_EQ(a.pick.index, 3U);
  EXPECT_EQ(a.pick.addr, ep(3));
  // The peer's own order decides, not the index order.
  EXPECT_EQ(s.next_target(list_of({5, 4}), 0).pick.index, 5U);
}

TEST(RegistrarFailover, TimeoutMarksDownAndSkips) {
  registrar_set s = static_set(3);
  const registrar_list l = list_of({1, 2, 3});
  s.on_timeout(1);  // Timer F
  EXPECT_EQ(s.health(1, 0), registrar_health::down);
  const selection sel = s.next_target(l, 0);
  ASSERT_EQ(sel.status, select_status::ok);
  EXPECT_EQ(sel.pick.index, 2U);  // the caller re-sends the same binding here
  s.on_timeout(2);
  EXPECT_EQ(s.next_target(l, 0).pick.index, 3U);
  // Down without a hold stays down however long it is, until a probe answers.
  EXPECT_EQ(s.health(1, 1'000'000'000), registrar_health::down);
}

TEST(RegistrarFailover, Plain503MarksDown) {
  registrar_set s = static_set(2);
  EXPECT_TRUE(s.on_response(1, 503, 0, 1000));
  EXPECT_EQ(s.health(1, 1000), registrar_health::down);
  EXPECT_EQ(s.next_target(list_of({1, 2}), 1000).pick.index, 2U);
}

TEST(RegistrarFailover, OtherResponsesDoNotFailOver) {
  registrar_set s = static_set(2);
  EXPECT_FALSE(s.on_response(1, 200, 0, 0));
  EXPECT_FALSE(s.on_response(1, 403, 0, 0));
  EXPECT_FALSE(s.on_response(1, 500, 0, 0));
  EXPECT_FALSE(s.on_response(1, 100, 0, 0));
  EXPECT_EQ(s.health(1, 0), registrar_health::up);
  s.mark_down(1);
  EXPECT_FALSE(s.on_response(1, 200, 0, 0));  // a late answer proves it is alive
  EXPECT_EQ(s.health(1, 0), registrar_health::up);
}

TEST(RegistrarFailover, RetryAfterHoldAndExpiry) {
  registrar_set s = static_set(2);
  const registrar_list l = list_of({1, 2});
  EXPECT_TRUE(s.on_response(1, 503, 30, 10'000));  // held until 40 s
  EXPECT_EQ(s.health(1, 10'000), registrar_health::held);
  EXPECT_EQ(s.held_until(1), 40'000U);
  EXPECT_EQ(s.next_target(l, 39'999).pick.index, 2U);
  // The hold ends by itself: no probe needed, the registrar asked for exactly this.
  EXPECT_EQ(s.health(1, 40'000), registrar_health::up);
  EXPECT_EQ(s.next_target(l, 40'000).pick.index, 1U);
}

TEST(RegistrarFailover, HoldOnlyExtends) {
  registrar_set s = static_set(1);
  s.hold(1, 50'000);
  s.hold(1, 20'000);
  EXPECT_EQ(s.held_until(1), 50'000U);
  s.mark_down(1);
  s.hold(1, 60'000);
  EXPECT_EQ(s.health(1, 70'000), registrar_health::down);  // a hold never ends a plain down
}

TEST(RegistrarFailover, MarkUpRestoresOrder) {
  registrar_set s = static_set(2);
  const registrar_list l = list_of({1, 2});
  s.on_timeout(1);
  s.hold(2, 100'000);
  EXPECT_NE(s.next_target(l, 0).status, select_status::ok);
  s.mark_up(1);  // OPTIONS probe answered
  EXPECT_EQ(s.health(1, 0), registrar_health::up);
  EXPECT_EQ(s.next_target(l, 0).pick.index, 1U);
  s.mark_up(2);  // clears the hold too
  EXPECT_EQ(s.health(2, 0), registrar_health::up);
  EXPECT_EQ(s.held_until(2), 0U);
}

TEST(RegistrarFailover, AllDownGives503WithEarliestHold) {
  registrar_set s = static_set(3);
  const registrar_list l = list_of({1, 2, 3});
  s.on_timeout(1);
  s.hold(2, 75'500);
  s.hold(3, 90'000);
  const selection sel = s.next_target(l, 10'000);
  EXPECT_EQ(sel.status, select_status::all_down);
  EXPECT_EQ(sel.retry_after_s, 66U);  // 65.5 s to the earliest hold's end, rounded up
  // Once that hold has ended, index 2 is picked again.
  EXPECT_EQ(s.next_target(l, 75'500).pick.index, 2U);
}

TEST(RegistrarFailover, AllDownWithoutHoldsHasNoHint) {
  registrar_set s = static_set(2);
  s.on_timeout(1);
  s.on_timeout(2);
  const selection sel = s.next_target(list_of({1, 2}), 0);
  EXPECT_EQ(sel.status, select_status::all_down);
  EXPECT_EQ(sel.retry_after_s, 0U);  // the caller uses its own Retry-After range
}

TEST(RegistrarFailover, NoneConfiguredOrUnresolvedIs503) {
  registrar_set s;
  EXPECT_EQ(s.next_target(registrar_list{}, 0).status, select_status::none_usable);
  EXPECT_EQ(s.next_target(list_of({1, 2}), 0).status, select_status::none_usable);  // indices not configured
  ASSERT_EQ(s.configure_dynamic(1), registrar_errc::ok);
  ASSERT_EQ(s.configure_dynamic(2), registrar_errc::ok);
  const selection sel = s.next_target(list_of({1, 2}), 0);  // DNS has not answered
  EXPECT_EQ(sel.status, select_status::none_usable);
  EXPECT_EQ(sel.retry_after_s, 0U);
  ASSERT_EQ(s.resolve(2, ep(2)), registrar_errc::ok);
  EXPECT_EQ(s.next_target(list_of({1, 2}), 0).pick.index, 2U);
}

TEST(RegistrarFailover, RemovedRegistrarIsSkipped) {
  registrar_set s = static_set(2);
  ASSERT_EQ(s.remove(1), registrar_errc::ok);
  EXPECT_EQ(s.next_target(list_of({1, 2}), 0).pick.index, 2U);
}

TEST(RegistrarFailover, TriedMaskAvoidsAskingTwice) {
  registrar_set s = static_set(3);
  const registrar_list l = list_of({1, 2, 3});
  std::uint8_t tried = registrar_set::tried_bit(1);
  EXPECT_EQ(s.next_target(l, 0, tried).pick.index, 2U);
  tried = static_cast<std::uint8_t>(tried | registrar_set::tried_bit(2) | registrar_set::tried_bit(3));
  EXPECT_EQ(s.next_target(l, 0, tried).status, select_status::exhausted);
  s.on_timeout(1);
  s.on_timeout(2);
  s.on_timeout(3);
  EXPECT_EQ(s.next_target(l, 0, tried).status, select_status::all_down);
}

TEST(RegistrarFork, BothLegsWhenUp) {
  registrar_set s = static_set(3);
  const fork_plan p = s.fork_targets(list_of({2, 1, 3}), 0);
  ASSERT_EQ(p.status, select_status::ok);
  ASSERT_EQ(p.n_legs, 2U);
  EXPECT_EQ(p.legs[0].index, 2U);  // primary
  EXPECT_EQ(p.legs[1].index, 1U);  // secondary
  EXPECT_EQ(p.legs[1].addr, ep(1));
}

TEST(RegistrarFork, DownRoleIsNotReplaced) {
  registrar_set s = static_set(3);
  s.on_timeout(1);
  const fork_plan p = s.fork_targets(list_of({1, 2, 3}), 0);
  ASSERT_EQ(p.status, select_status::ok);
  ASSERT_EQ(p.n_legs, 1U);
  EXPECT_EQ(p.legs[0].index, 2U);
}

TEST(RegistrarFork, NoneConfiguredOrUnresolvedIs503) {
  registrar_set s;
  EXPECT_EQ(s.fork_targets(registrar_list{}, 0).status, select_status::none_usable);
  ASSERT_EQ(s.configure_dynamic(1), registrar_errc::ok);
  ASSERT_EQ(s.configure_dynamic(2), registrar_errc::ok);
  const fork_plan p = s.fork_targets(list_of({1, 2}), 0);
  EXPECT_EQ(p.status, select_status::none_usable);
  EXPECT_EQ(p.n_legs, 0U);
}

TEST(RegistrarFork, BothHeldGives503WithEarliestHold) {
  registrar_set s = static_set(3);
  s.hold(1, 20'000);
  s.hold(2, 12'000);
  const fork_plan p = s.fork_targets(list_of({1, 2, 3}), 10'000);  // 3 is not a role
  EXPECT_EQ(p.status, select_status::all_down);
  EXPECT_EQ(p.retry_after_s, 2U);
}

TEST(ForkOutcome, FirstSuccessWinsLaterSuccessKeptAsSecondary) {
  fork_outcome f(2);
  EXPECT_EQ(f.on_response(1, 100).action, fork_action::wait);
  const auto first = f.on_response(1, 200);
  EXPECT_EQ(first.action, fork_action::answer);
  EXPECT_EQ(first.code, 200U);
  EXPECT_TRUE(f.answered());
  EXPECT_EQ(f.winner(), 1);
  EXPECT_FALSE(f.done());
  EXPECT_EQ(f.on_response(0, 200).action, fork_action::keep_secondary);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.state(0), leg_state::succeeded);
  EXPECT_EQ(f.on_response(0, 200).action, fork_action::ignore);  // retransmission
}

TEST(ForkOutcome, FailureBeforeSuccessWaitsThenSuccessAnswers) {
  fork_outcome f(2);
  EXPECT_EQ(f.on_response(0, 404).action, fork_action::wait);
  const auto s = f.on_response(1, 200);
  EXPECT_EQ(s.action, fork_action::answer);
  EXPECT_EQ(s.code, 200U);
  EXPECT_EQ(f.winner(), 1);
}

TEST(ForkOutcome, FailureAfterSuccessIsNoted) {
  fork_outcome f(2);
  EXPECT_EQ(f.on_response(0, 200).action, fork_action::answer);
  const auto n = f.on_response(1, 403);
  EXPECT_EQ(n.action, fork_action::note_failure);
  EXPECT_EQ(n.code, 403U);
  EXPECT_EQ(f.state(1), leg_state::failed);
}

TEST(ForkOutcome, BothFailLastErrorPassed) {
  fork_outcome f(2);
  EXPECT_EQ(f.on_response(1, 404).action, fork_action::wait);
  const auto a = f.on_response(0, 500);
  EXPECT_EQ(a.action, fork_action::answer);
  EXPECT_EQ(a.code, 500U);  // arrived last
  EXPECT_EQ(f.winner(), -1);

  fork_outcome g(2);
  EXPECT_EQ(g.on_response(0, 500).action, fork_action::wait);
  EXPECT_EQ(g.on_response(1, 404).code, 404U);
}

TEST(ForkOutcome, OneTimesOutOtherSucceeds) {
  fork_outcome f(2);
  EXPECT_EQ(f.on_timeout(0).action, fork_action::wait);
  const auto s = f.on_response(1, 200);
  EXPECT_EQ(s.action, fork_action::answer);
  EXPECT_EQ(s.code, 200U);

  fork_outcome g(2);
  EXPECT_EQ(g.on_response(1, 200).action, fork_action::answer);
  EXPECT_EQ(g.on_timeout(0).action, fork_action::note_failure);
  EXPECT_EQ(g.state(0), leg_state::timed_out);
  EXPECT_TRUE(g.done());
}

TEST(ForkOutcome, TimeoutAndErrorPassesTheError) {
  fork_outcome f(2);
  EXPECT_EQ(f.on_response(0, 403).action, fork_action::wait);
  const auto a = f.on_timeout(1);  // last, but a timeout is no response
  EXPECT_EQ(a.action, fork_action::answer);
  EXPECT_EQ(a.code, 403U);
}

TEST(ForkOutcome, BothTimeOutGivesTimeoutCode) {
  fork_outcome f(2);
  EXPECT_EQ(f.on_timeout(0, 503).action, fork_action::wait);
  const auto a = f.on_timeout(1, 503);
  EXPECT_EQ(a.action, fork_action::answer);
  EXPECT_EQ(a.code, 503U);
}

TEST(ForkOutcome, SingleLeg) {
  fork_outcome f(1);
  EXPECT_EQ(f.on_response(1, 200).action, fork_action::ignore);  // no such leg
  const auto a = f.on_response(0, 486);
  EXPECT_EQ(a.action, fork_action::answer);
  EXPECT_EQ(a.code, 486U);
  EXPECT_TRUE(f.done());
}

TEST(ForkOutcome, RestartedLegForgetsItsChallenge) {
  fork_outcome f(2);
  EXPECT_EQ(f.on_response(0, 401).action, fork_action::wait);
  f.restart_leg(0);  // the engine answered the challenge: a new transaction on leg 0
  EXPECT_EQ(f.state(0), leg_state::pending);
  EXPECT_EQ(f.on_response(1, 404).action, fork_action::wait);
  const auto a = f.on_timeout(0);
  EXPECT_EQ(a.action, fork_action::answer);
  EXPECT_EQ(a.code, 404U);  // not the 401 the engine already handled
}

TEST(ForkOutcome, DefaultHasNoLegs) {
  fork_outcome f;
  EXPECT_EQ(f.on_response(0, 200).action, fork_action::ignore);
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.answered());
  EXPECT_LE(sizeof(fork_outcome), 12U);
  EXPECT_NE(to_string(fork_action::keep_secondary), "unknown");
  EXPECT_NE(to_string(select_status::exhausted), "unknown");
  EXPECT_NE(to_string(registrar_health::held), "unknown");
}

}  // namespace
