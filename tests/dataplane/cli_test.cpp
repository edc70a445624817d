#include "sipfront/dataplane/cli.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sipfront::dp {
namespace {

using ::testing::ElementsAre;

TEST(Cli, SplitsAtDoubleDash) {
  const char* argv[] = {"sipfront", "--lcores", "0@0,1@1", "--no-huge", "--", "--config", "a.json", "--help"};
  const command_line cl = split_command_line(8, argv);
  EXPECT_EQ(cl.program, "sipfront");
  EXPECT_THAT(cl.eal, ElementsAre("--lcores", "0@0,1@1", "--no-huge"));
  EXPECT_THAT(cl.app, ElementsAre("--config", "a.json"));
  EXPECT_TRUE(cl.help);
}

TEST(Cli, AppOptions) {
  std::string err;
  const std::vector<std::string> a{"--config", "c.json", "--profile=p.json", "--workers", "2", "--stats-interval", "5"};
  const auto o = parse_app_options(a, err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->config_file, "c.json");
  EXPECT_EQ(o->profile_file, "p.json");
  EXPECT_EQ(o->workers, 2U);
  EXPECT_EQ(o->stats_interval_s, 5U);

  EXPECT_FALSE(parse_app_options(std::vector<std::string>{"--config", "c.json"}, err));
  EXPECT_THAT(err, ::testing::HasSubstr("--profile"));
  EXPECT_FALSE(parse_app_options(std::vector<std::string>{"--config"}, err));
  EXPECT_FALSE(parse_app_options(std::vector<std::string>{"--workers", "0", "--config", "c", "--profile", "p"}, err));
  EXPECT_FALSE(parse_app_options(std::vector<std::string>{"--workers", "x"}, err));
  EXPECT_FALSE(parse_app_options(std::vector<std::string>{"--frobnicate"}, err));
  EXPECT_THAT(err, ::testing::HasSubstr("--frobnicate"));
  const auto h = parse_app_options(std::vector<std::string>{"--help"}, err);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->help);
}

TEST(Cli, PciAddresses) {
  EXPECT_TRUE(is_pci_address("0000:3b:00.0"));
  EXPECT_TRUE(is_pci_address("3b:00.1"));
  EXPECT_TRUE(is_pci_address("0000:3b:00.0,rxq_cqe_comp_en=0"));
  EXPECT_FALSE(is_pci_address("net_af_packet0,iface=fe-acc"));
  EXPECT_FALSE(is_pci_address("net_ring0"));
  EXPECT_FALSE(is_pci_address("00:00.00"));
}

TEST(Cli, DeviceArgs) {
  EXPECT_EQ(substitute_queues("qpairs={queues},framecnt=4096", 3), "qpairs=3,framecnt=4096");
  EXPECT_EQ(substitute_queues("{queues}{queues}", 2), "22");
  EXPECT_EQ(device_with_args("net_af_packet0,iface=fe-acc", "qpairs=3,framecnt=4096"),
            "net_af_packet0,iface=fe-acc,qpairs=3,framecnt=4096");
  EXPECT_EQ(device_with_args("net_af_packet0,iface=fe-acc,qpairs=1", "qpairs=3,framecnt=4096"),
            "net_af_packet0,iface=fe-acc,qpairs=1,framecnt=4096")
      << "the interface's own setting wins";
  EXPECT_EQ(device_with_args("net_null0", ""), "net_null0");
  EXPECT_EQ(device_with_args("net_null0", "size=64"), "net_null0,size=64");
}

TEST(Cli, EalArgvForVirtualDevices) {
  eal_inputs in;
  in.program = "sipfront";
  in.devices = {"net_af_packet0,iface=fe-acc", "net_af_packet1,iface=fe-core"};
  in.device_args = "qpairs={queues}";
  in.queues = 3;
  in.no_huge = true;
  in.memory_mb = 512;
  in.profile_eal_args = {"--log-level=pmd.net.af_packet:notice"};
  in.user_eal_args = {"--lcores", "0@0,1@1,2@1", "-m", "256"};
  EXPECT_THAT(build_eal_argv(in),
              ElementsAre("sipfront", "--vdev", "net_af_packet0,iface=fe-acc,qpairs=3", "--vdev",
                          "net_af_packet1,iface=fe-core,qpairs=3", "--no-pci", "--no-huge", "-m", "512",
                          "--log-level=pmd.net.af_packet:notice", "--lcores", "0@0,1@1,2@1", "-m", "256"));
}

TEST(Cli, EalArgvForPciDevices) {
  eal_inputs in;
  in.program = "sipfront";
  in.devices = {"0000:3b:00.0", "0000:3b:00.1"};
  in.device_args = "";
  EXPECT_THAT(build_eal_argv(in), ElementsAre("sipfront", "-a", "0000:3b:00.0", "-a", "0000:3b:00.1"));
}

TEST(Cli, CountLcores) {
  using v = std::vector<std::string>;
  EXPECT_EQ(count_eal_lcores(v{"--lcores", "0@0,1@1,2@1"}), 3U);
  EXPECT_EQ(count_eal_lcores(v{"--lcores=(0-2)@0"}), 3U);
  EXPECT_EQ(count_eal_lcores(v{"--lcores", "1,2@(0,1),(3-4)@5"}), 4U);
  EXPECT_EQ(count_eal_lcores(v{"--lcores", "0-3"}), 4U);
  EXPECT_EQ(count_eal_lcores(v{"-l", "0-2"}), 3U);
  EXPECT_EQ(count_eal_lcores(v{"-l0,2"}), 2U);
  EXPECT_EQ(count_eal_lcores(v{"-l", "0-1,1"}), 2U);
  EXPECT_EQ(count_eal_lcores(v{"-c", "0x7"}), 3U);
  EXPECT_EQ(count_eal_lcores(v{"-c0xf0"}), 4U);
  EXPECT_EQ(count_eal_lcores(v{"--no-huge", "-m", "512"}), std::nullopt);
  EXPECT_EQ(count_eal_lcores(v{"-l", "2-1"}), std::nullopt);
  EXPECT_EQ(count_eal_lcores(v{"--lcores", "(0-2@0"}), std::nullopt);
}

TEST(Cli, ResolveWorkers) {
  std::string err;
  EXPECT_EQ(resolve_workers(std::nullopt, 0, 3, err), 2U) << "every lcore but the main one";
  EXPECT_EQ(resolve_workers(std::nullopt, 1, 3, err), 1U) << "config count";
  EXPECT_EQ(resolve_workers(2U, 1, 3, err), 2U) << "--workers overrides";
  EXPECT_EQ(resolve_workers(std::nullopt, 0, 1, err), std::nullopt);
  EXPECT_THAT(err, ::testing::HasSubstr("two lcores"));
  EXPECT_EQ(resolve_workers(3U, 0, 3, err), std::nullopt);
  EXPECT_THAT(err, ::testing::HasSubstr("3 workers need 4 lcores"));
}

TEST(Cli, UsageMentionsBothParts) {
  const std::string u = app_usage("sipfront");
  EXPECT_THAT(u, ::testing::HasSubstr("--config FILE"));
  EXPECT_THAT(u, ::testing::HasSubstr("--stats-interval"));
  EXPECT_THAT(u, ::testing::HasSubstr("EAL"));
}

}  // namespace
}  // namespace sipfront::dp
