#include "sipfront/dataplane/arp_table.hpp"

#include <gtest/gtest.h>

namespace sipfront::dp {
namespace {

constexpr mac_addr mac_a{{2, 0, 0, 0, 0, 0xa}};
constexpr mac_addr mac_b{{2, 0, 0, 0, 0, 0xb}};

TEST(ArpSnapshot, FindsByPortAndAddress) {
  const arp_snapshot s({{0xc6120102, 0, mac_a}, {0xc6120202, 1, mac_b}}, 3);
  EXPECT_EQ(s.size(), 2U);
  EXPECT_EQ(s.generation(), 3U);
  ASSERT_NE(s.find(0, 0xc6120102), nullptr);
  EXPECT_EQ(*s.find(0, 0xc6120102), mac_a);
  EXPECT_EQ(*s.find(1, 0xc6120202), mac_b);
  EXPECT_EQ(s.find(1, 0xc6120102), nullptr) << "same address, other port";
  EXPECT_EQ(s.find(0, 0xc6120103), nullptr);
  const arp_snapshot empty({}, 0);
  EXPECT_EQ(empty.find(0, 1), nullptr);
}

TEST(ArpSnapshot, ManyEntries) {
  std::vector<arp_entry> e;
  for (std::uint32_t i = 0; i < 1000; ++i) e.push_back({0xc6120000 + i, static_cast<std::uint16_t>(i % 3), mac_a});
  const arp_snapshot s(e, 1);
  EXPECT_EQ(s.size(), 1000U);
  for (std::uint32_t i = 0; i < 1000; ++i)
    EXPECT_NE(s.find(static_cast<std::uint16_t>(i % 3), 0xc6120000 + i), nullptr);
  EXPECT_EQ(s.find(0, 0xc6130000), nullptr);
}

TEST(ArpCache, LearnReportsChangesOnly) {
  arp_cache c;
  EXPECT_TRUE(c.learn(0, 0xc6120102, mac_a, 0));
  EXPECT_FALSE(c.learn(0, 0xc6120102, mac_a, 10)) << "same mapping: no new snapshot";
  EXPECT_TRUE(c.learn(0, 0xc6120102, mac_b, 20)) << "MAC moved";
  EXPECT_EQ(*c.find(0, 0xc6120102), mac_b);
  const auto s1 = c.snapshot();
  const auto s2 = c.snapshot();
  EXPECT_LT(s1->generation(), s2->generation());
  EXPECT_EQ(*s2->find(0, 0xc6120102), mac_b);
}

TEST(ArpCache, Ageing) {
  arp_cache c;
  c.learn(0, 1, mac_a, 0);
  c.learn(0, 2, mac_a, 1000);
  EXPECT_FALSE(c.expire(arp_cache::max_age_ms));
  EXPECT_TRUE(c.expire(arp_cache::max_age_ms + 1));
  EXPECT_EQ(c.find(0, 1), nullptr);
  EXPECT_NE(c.find(0, 2), nullptr);
  EXPECT_EQ(c.size(), 1U);
}

}  // namespace
}  // namespace sipfront::dp
