// NIC profiles: every shipped profile validates (no hardware needed), and each
// validation rule refuses what it should, with the JSON path of the field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "sipfront/ctrl/config.hpp"

namespace sipfront::ctrl {
namespace {

using ::testing::HasSubstr;

const std::filesystem::path profile_dir = std::filesystem::path(SIPFRONT_SOURCE_DIR) / "nic-profiles";

std::vector<std::string> profile_files() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(profile_dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ShippedProfile : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedProfile, Validates) {
  v1::NicProfile p;
  const auto err = load_profile((profile_dir / GetParam()).string(), p);
  ASSERT_FALSE(err.has_value()) << GetParam() << ": " << err->to_string();
  EXPECT_EQ(p.name() + ".json", GetParam()) << "the profile's name is its file name";
  EXPECT_FALSE(p.description().empty());
  EXPECT_FALSE(p.notes().empty()) << "setup-host.sh prints the notes; every profile has advice";
}

INSTANTIATE_TEST_SUITE_P(NicProfiles, ShippedProfile, ::testing::ValuesIn(profile_files()),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string name = p.param.substr(0, p.param.find('.'));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(ShippedProfiles, CoverEveryRequiredDriver) {
  std::set<std::string> drivers;
  for (const auto& f : profile_files()) {
    v1::NicProfile p;
    if (!load_profile((profile_dir / f).string(), p)) drivers.insert(p.driver());
  }
  for (const char* d : {"net_af_packet", "net_af_xdp", "net_tap", "net_null", "net_ring", "net_mlx5", "net_ice",
                        "net_i40e", "net_ixgbe", "net_virtio", "net_vmxnet3"}) {
    EXPECT_EQ(drivers.count(d), 1U) << d;
  }
}

TEST(ShippedProfiles, LabProfileMatchesTheLab) {
  v1::NicProfile p;
  ASSERT_FALSE(load_profile((profile_dir / "af_packet.json").string(), p).has_value());
  EXPECT_TRUE(p.memory().no_huge());
  EXPECT_EQ(p.memory().memory_mb(), 512U);
  EXPECT_EQ(p.device_args(), "qpairs={queues},blocksz=4096,framesz=2048,framecnt=512");
  EXPECT_FALSE(p.offloads().rx_checksum());
  EXPECT_FALSE(p.offloads().tx_checksum());
}

TEST(ProfileParse, UnknownFieldIsRefused) {
  v1::NicProfile p;
  const auto err = parse_profile_json(R"({"name": "x", "rxDescriptor": 1024})", p);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, "rxDescriptor");
  EXPECT_THAT(err->reason, HasSubstr("sipfront.v1.NicProfile"));
}

TEST(ProfileParse, NestedBadValueHasJsonPath) {
  v1::NicProfile p;
  const auto err = parse_profile_json(R"({"memory": {"hugepageKb": "big"}})", p);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, "memory.hugepageKb");
}

// ------------------------------------------------- one case per refused rule

v1::NicProfile vdev_profile() {
  v1::NicProfile p;
  p.set_name("lab");
  p.set_driver("net_af_packet");
  p.set_virtual_device(true);
  p.set_device_args("qpairs={queues},framecnt=512");
  p.set_rx_descriptors(512);
  p.set_tx_descriptors(512);
  p.mutable_memory()->set_no_huge(true);
  p.mutable_memory()->set_memory_mb(512);
  return p;
}

v1::NicProfile pci_profile() {
  v1::NicProfile p;
  p.set_name("e810");
  p.set_driver("net_ice");
  p.set_kernel_module("vfio-pci");
  p.set_rx_descriptors(2048);
  p.set_tx_descriptors(2048);
  p.mutable_rss()->set_enabled(true);
  p.mutable_rss()->add_hash("ipv4-udp");
  p.mutable_offloads()->set_rx_checksum(true);
  p.mutable_offloads()->set_tx_checksum(true);
  p.mutable_memory()->set_hugepage_kb(1048576);
  p.mutable_memory()->set_hugepages(2);
  return p;
}

v1::NicProfile mlx5_profile() {
  v1::NicProfile p = pci_profile();
  p.set_driver("net_mlx5");
  p.set_kernel_module("mlx5_core");
  p.set_bifurcated(true);
  return p;
}

TEST(ProfileValidate, BaseProfilesAreValid) {
  for (const auto& p : {vdev_profile(), pci_profile(), mlx5_profile()}) {
    const auto err = validate_profile(p);
    EXPECT_FALSE(err.has_value()) << p.name() << ": " << err->to_string();
  }
}

TEST(ProfileValidate, UioPciGenericIsAcceptedWhereThereIsNoIommu) {
  v1::NicProfile p = pci_profile();
  p.set_driver("net_virtio");
  p.set_kernel_module("uio_pci_generic");
  EXPECT_FALSE(validate_profile(p).has_value());
}

TEST(ProfileValidate, RegularEalArgsAreAccepted) {
  v1::NicProfile p = pci_profile();
  p.add_eal_args("--iova-mode=va");
  p.add_eal_args("--in-memory");
  p.add_eal_args("--mbuf-pool-ops-name");
  p.add_eal_args("ring_mp_mc");
  const auto err = validate_profile(p);
  EXPECT_FALSE(err.has_value()) << err->to_string();
}

struct bad_profile {
  const char* name;
  std::function<v1::NicProfile()> make;
  const char* path;
  const char* reason;
};

void PrintTo(const bad_profile& c, std::ostream* os) { *os << c.name; }

class ProfileRule : public ::testing::TestWithParam<bad_profile> {};

TEST_P(ProfileRule, IsRefusedWithPathAndReason) {
  const auto err = validate_profile(GetParam().make());
  ASSERT_TRUE(err.has_value()) << "accepted";
  EXPECT_EQ(err->path, GetParam().path) << err->to_string();
  EXPECT_THAT(err->reason, HasSubstr(GetParam().reason));
}

template <class F>
std::function<v1::NicProfile()> vdev(F f) {
  return [f] {
    auto p = vdev_profile();
    f(p);
    return p;
  };
}
template <class F>
std::function<v1::NicProfile()> pci(F f) {
  return [f] {
    auto p = pci_profile();
    f(p);
    return p;
  };
}
template <class F>
std::function<v1::NicProfile()> mlx5(F f) {
  return [f] {
    auto p = mlx5_profile();
    f(p);
    return p;
  };
}

using P = v1::NicProfile;

const bad_profile bad_profiles[] = {
    {"NameMissing", vdev([](P& p) { p.clear_name(); }), "name", "not set"},
    {"DriverMissing", vdev([](P& p) { p.clear_driver(); }), "driver", "net_af_packet"},
    {"DriverUnknown", vdev([](P& p) { p.set_driver("net_e1000_em"); }), "driver", "not a supported PMD"},
    {"DriverWithoutNetPrefix", pci([](P& p) { p.set_driver("ice"); }), "driver", "not a supported PMD"},
    {"VdevMarkedPci", vdev([](P& p) { p.set_virtual_device(false); }), "virtualDevice", "is a virtual device"},
    {"PciMarkedVdev", pci([](P& p) { p.set_virtual_device(true); }), "virtualDevice", "drives a PCI device"},
    {"VdevWithKernelModule", vdev([](P& p) { p.set_kernel_module("vfio-pci"); }), "kernelModule",
     "not bound to a kernel module"},
    {"PciWithoutKernelModule", pci([](P& p) { p.clear_kernel_module(); }), "kernelModule", "vfio-pci"},
    {"PciWithIgbUio", pci([](P& p) { p.set_kernel_module("igb_uio"); }), "kernelModule", "not a DPDK-capable binding"},
    {"PciWithKernelDriver", pci([](P& p) { p.set_kernel_module("ice"); }), "kernelModule",
     "not a DPDK-capable binding"},
    {"Mlx5WithoutKernelModule", mlx5([](P& p) { p.clear_kernel_module(); }), "kernelModule", "mlx5_core"},
    {"Mlx5OnVfio", mlx5([](P& p) { p.set_kernel_module("vfio-pci"); }), "kernelModule", "do not bind it to vfio-pci"},
    {"Mlx5NotBifurcated", mlx5([](P& p) { p.set_bifurcated(false); }), "bifurcated", "set \"bifurcated\": true"},
    {"IceBifurcated", pci([](P& p) { p.set_bifurcated(true); }), "bifurcated", "not bifurcated"},
    {"DeviceArgsLeadingComma", vdev([](P& p) { p.set_device_args(",qpairs=1"); }), "deviceArgs", "comma"},
    {"DeviceArgsSpace", vdev([](P& p) { p.set_device_args("qpairs=1, framecnt=512"); }), "deviceArgs", "white space"},
    {"DeviceArgsUnknownPlaceholder", vdev([](P& p) { p.set_device_args("qpairs={workers}"); }), "deviceArgs",
     "only {queues}"},
    {"DeviceArgsUnclosedPlaceholder", vdev([](P& p) { p.set_device_args("qpairs={queues"); }), "deviceArgs",
     "unknown placeholder"},
    {"RxDescriptorsZero", vdev([](P& p) { p.set_rx_descriptors(0); }), "rxDescriptors", "power of two in 64..32768"},
    {"RxDescriptorsNotPowerOfTwo", vdev([](P& p) { p.set_rx_descriptors(1000); }), "rxDescriptors", "power of two"},
    {"RxDescriptorsTooFew", vdev([](P& p) { p.set_rx_descriptors(32); }), "rxDescriptors", "64..32768"},
    {"TxDescriptorsTooMany", vdev([](P& p) { p.set_tx_descriptors(65536); }), "txDescriptors", "64..32768"},
    {"DescriptorsAboveDriverLimit", pci([](P& p) { p.set_rx_descriptors(8192); }), "rxDescriptors",
     "net_ice's limit of 4096"},
    {"TooManyQueues", pci([](P& p) { p.set_max_queues(1025); }), "maxQueues", "1024"},
    {"RssWithoutHash", pci([](P& p) { p.mutable_rss()->clear_hash(); }), "rss.hash", "at least one hash type"},
    {"RssUnknownHash", pci([](P& p) { p.mutable_rss()->add_hash("l2-payload"); }), "rss.hash[1]",
     "not a known hash type"},
    {"RssDuplicateHash", pci([](P& p) { p.mutable_rss()->add_hash("ipv4-udp"); }), "rss.hash[1]", "listed twice"},
    {"RssHashWhileDisabled", pci([](P& p) { p.mutable_rss()->set_enabled(false); }), "rss.hash",
     "\"rss.enabled\" is false"},
    {"RssOnAfPacket", vdev([](P& p) {
       p.mutable_rss()->set_enabled(true);
       p.mutable_rss()->add_hash("ipv4");
     }),
     "rss.enabled", "cannot hash"},
    {"RxChecksumOnAfPacket", vdev([](P& p) { p.mutable_offloads()->set_rx_checksum(true); }), "offloads.rxChecksum",
     "cannot offload checksums"},
    {"TxChecksumOnAfPacket", vdev([](P& p) { p.mutable_offloads()->set_tx_checksum(true); }), "offloads.txChecksum",
     "cannot offload checksums"},
    {"NoHugeWithoutMemory", vdev([](P& p) { p.mutable_memory()->clear_memory_mb(); }), "memory.memoryMb",
     "EAL --no-huge needs -m"},
    {"NoHugeWithHugepages", vdev([](P& p) { p.mutable_memory()->set_hugepages(4); }), "memory.hugepages",
     "no hugepages are used"},
    {"NoHugeOnPci", pci([](P& p) {
       p.mutable_memory()->Clear();
       p.mutable_memory()->set_no_huge(true);
       p.mutable_memory()->set_memory_mb(1024);
     }),
     "memory.noHuge", "pinned hugepage memory"},
    {"HugepageSizeUnknown", pci([](P& p) { p.mutable_memory()->set_hugepage_kb(4096); }), "memory.hugepageKb",
     "2048 (2 MB) or 1048576 (1 GB)"},
    {"HugepageSizeMissing", pci([](P& p) { p.mutable_memory()->clear_hugepage_kb(); }), "memory.hugepageKb",
     "not a hugepage size"},
    {"NoHugepages", pci([](P& p) { p.mutable_memory()->set_hugepages(0); }), "memory.hugepages", "must be > 0"},
    {"TooLittleMemory", vdev([](P& p) { p.mutable_memory()->set_memory_mb(16); }), "memory.memoryMb", "at least 64"},
    {"EalArgMemory", vdev([](P& p) { p.add_eal_args("-m"); }), "ealArgs[0]", "memory.memoryMb"},
    {"EalArgMemoryAttached", vdev([](P& p) { p.add_eal_args("-m512"); }), "ealArgs[0]", "memory.memoryMb"},
    {"EalArgNoHuge", vdev([](P& p) { p.add_eal_args("--no-huge"); }), "ealArgs[0]", "memory.noHuge"},
    {"EalArgSocketMem", pci([](P& p) { p.add_eal_args("--socket-mem=1024,1024"); }), "ealArgs[0]", "host-specific"},
    {"EalArgAllow", pci([](P& p) {
       p.add_eal_args("--in-memory");
       p.add_eal_args("-a");
     }),
     "ealArgs[1]", "interfaces[].device"},
    {"EalArgVdev", vdev([](P& p) { p.add_eal_args("--vdev=net_null0"); }), "ealArgs[0]", "interfaces[].device"},
    {"EalArgCores", pci([](P& p) { p.add_eal_args("-l"); }), "ealArgs[0]", "cores are host-specific"},
    {"EalArgEmpty", pci([](P& p) { p.add_eal_args(""); }), "ealArgs[0]", "empty"},
    {"MtuTooSmall", vdev([](P& p) { p.set_mtu(100); }), "mtu", "576..9000"},
    {"MtuTooLarge", pci([](P& p) { p.set_mtu(9216); }), "mtu", "576..9000"},
};

INSTANTIATE_TEST_SUITE_P(Refused, ProfileRule, ::testing::ValuesIn(bad_profiles),
                         [](const ::testing::TestParamInfo<bad_profile>& p) { return p.param.name; });

}  // namespace
}  // namespace sipfront::ctrl
