#include "sipfront/dataplane/counters.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace sipfront::dp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(CountersTable, ColumnsTotalsAndAbsentCells) {
  counter_table t;
  t.columns = {"w0@lc1", "w1@lc2", "ctrl@lc0"};
  t.rows.push_back({"traffic", {}, false});
  t.add("rx.packets", {10, 20, 3});
  t.add("sip.register", {1, 2, std::nullopt});
  t.add("drop.runt_frame", {0, 0, std::nullopt}, true);
  t.add("drop.ipv6", {0, 4, std::nullopt}, true);
  const auto out = format_table(t);
  const auto ls = lines(out);
  ASSERT_EQ(ls.size(), 5U) << out;
  EXPECT_THAT(ls[0], HasSubstr("counter"));
  EXPECT_THAT(ls[0], HasSubstr("w0@lc1"));
  EXPECT_THAT(ls[0], HasSubstr("ctrl@lc0"));
  EXPECT_THAT(ls[0], HasSubstr("total"));
  EXPECT_EQ(ls[1], "[traffic]");
  EXPECT_THAT(ls[2], ::testing::MatchesRegex("rx.packets +10 +20 +3 +33"));
  EXPECT_THAT(ls[3], ::testing::MatchesRegex("sip.register +1 +2 +- +3"));
  EXPECT_THAT(out, Not(HasSubstr("runt_frame"))) << "all-zero detail rows are left out";
  EXPECT_THAT(ls[4], ::testing::MatchesRegex("drop.ipv6 +0 +4 +- +4"));
  // Every line is as wide as the heading (columns right-aligned).
  for (std::size_t i = 2; i < ls.size(); ++i) EXPECT_EQ(ls[i].size(), ls[0].size()) << ls[i];
}

TEST(CountersTable, FromCoreCounters) {
  worker_counters w0;
  worker_counters w1;
  control_counters c;
  reg::engine_counters e0{};
  w0.rx_packets.add(5);
  w1.rx_packets.add(7);
  w1.steered_out.add(2);
  w0.drops[static_cast<std::size_t>(drop_reason::udp_port_closed)].add(1);
  c.arp_requests_sent.add(1);
  c.rx_packets.add(1);
  e0.register_in = 2;
  e0.register_absorbed = 9;
  e0.by_rule[static_cast<std::size_t>(sip::rule::missing_header)] = 1;
  counter_sources src;
  src.worker_lcores = {1, 2};
  src.workers = {&w0, &w1};
  src.engines = {&e0, nullptr};
  src.control = &c;
  src.control_lcore = 0;
  const std::string out = format_table(make_counter_table(src));
  EXPECT_THAT(out, HasSubstr("w0@lc1"));
  EXPECT_THAT(out, HasSubstr("w1@lc2"));
  EXPECT_THAT(out, HasSubstr("ctrl@lc0"));
  EXPECT_THAT(out, ::testing::ContainsRegex("rx.packets +5 +7 +1 +13"));
  EXPECT_THAT(out, ::testing::ContainsRegex("steer.out +0 +2 +- +2"));
  EXPECT_THAT(out, ::testing::ContainsRegex("drop.udp_port_closed +1 +0 +- +1"));
  EXPECT_THAT(out, ::testing::ContainsRegex("arp.requests_sent +- +- +1 +1"));
  EXPECT_THAT(out, ::testing::ContainsRegex("eng.register_in +2 +- +- +2"));
  EXPECT_THAT(out, ::testing::ContainsRegex("eng.register_absorbed +9 +- +- +9"));
  EXPECT_THAT(out, Not(HasSubstr("eng.fail_count_deregs"))) << "peer-to-peer rows are detail: hidden while zero";
  EXPECT_THAT(out, HasSubstr("rule.missing_header"));
  EXPECT_THAT(out, Not(HasSubstr("rule.too_many_hops")));
}

TEST(Counter, AddSubLoad) {
  counter c;
  c.add();
  c.add(4);
  c.sub(2);
  EXPECT_EQ(c.load(), 3U);
}

}  // namespace
}  // namespace sipfront::dp
