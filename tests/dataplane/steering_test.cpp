// DPDK test (suite 'dataplane', root): the real per-worker processing functions
// of two workers, on net_ring ports, with the real registration engine.
//
// net_ring loops tx queue q back to rx queue q of the same port, so whatever a
// worker (queue = worker id) or the control lcore (queue = workers) transmits is
// read back here with rte_eth_rx_burst and answered as the phone or registrar
// would. The workers are driven by hand from this thread (worker_rx,
// worker_drain_rings, worker_flush), which makes every step observable.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "sipfront/dataplane/build.hpp"
#include "sipfront/dataplane/runtime.hpp"
#include "sipfront/sipparse/message.hpp"
#include "sipfront/sipparse/values.hpp"

namespace sipfront::dp {
namespace {

constexpr std::uint32_t fe_access_ip = 0xc6120101;  // 198.18.1.1
constexpr std::uint32_t phone_ip = 0xc6120102;      // 198.18.1.2
constexpr std::uint32_t fe_core_ip = 0xc6120201;    // 198.18.2.1
constexpr std::uint32_t registrar_ip = 0xc6120202;  // 198.18.2.2
constexpr mac_addr phone_mac{{0x02, 0x5f, 0, 1, 0, 2}};
constexpr mac_addr registrar_mac{{0x02, 0x5f, 0, 2, 0, 2}};
constexpr std::uint32_t dns_registrar_ip = 0xc6120203;  // 198.18.2.3: registrar 2's DNS answer in the tests
constexpr mac_addr dns_registrar_mac{{0x02, 0x5f, 0, 2, 0, 3}};
constexpr std::uint16_t access = 0;
constexpr std::uint16_t core = 1;

class eal_environment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (geteuid() != 0) return;
    // Ports are hot-plugged per test (rte_eal_hotplug_add): closing an ethdev releases it,
    // so each test gets fresh net_ring devices under new names.
    std::vector<std::string> args{"dataplane_dpdk_tests", "--no-huge", "-m", "256",         "--no-pci",
                                  "--no-shconf",          "-l",        "0",  "--log-level", "lib.eal:warning"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ok_ = rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
  }
  void TearDown() override {
    if (ok_) (void)rte_eal_cleanup();
  }
  static bool ok() { return ok_; }

 private:
  static inline bool ok_ = false;
};

const auto* const env = ::testing::AddGlobalTestEnvironment(new eal_environment);

reg::engine_config engine_cfg(unsigned worker) {
  reg::engine_config e;
  e.worker_id = worker;
  e.n_workers = 2;
  e.access_local = reg::endpoint{fe_access_ip, 5060, access};
  e.core_local = reg::endpoint{fe_core_ip, 5060, core};
  e.registrars[0] = reg::registrar_target{reg::endpoint{registrar_ip, 5060, core}, "sipfront.test"};
  // Index 2: a dynamic registrar (Request-URI host dyn.test), unresolved until a registrar snapshot says.
  e.registrars[1] = reg::registrar_target{.addr = {}, .domain = "dyn.test", .dynamic = true, .host = "reg.dyn.test"};
  e.n_registrars = 2;
  e.default_registrar = 0;
  e.max_transactions = 1024;
  return e;
}

dataplane_config two_workers(const std::string& access_dev, const std::string& core_dev) {
  dataplane_config c;
  c.interfaces.push_back(interface_config{"access", access_dev, iface_side::access, {fe_access_ip, 24, 0}, 1500});
  c.interfaces.push_back(interface_config{"core", core_dev, iface_side::core, {fe_core_ip, 24, 0}, 1500});
  c.n_workers = 2;
  c.ring_size = 256;
  c.burst = 32;
  c.mbufs_per_worker = 2047;
  c.large_buffers = 7;
  c.core_peers = {registrar_ip};
  c.engines = {engine_cfg(0), engine_cfg(1)};
  return c;
}

struct received {
  std::vector<std::uint8_t> frame;
  ingress in;
  std::string sip;
};

class DataplaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (EAL, hugepage-less memory, vdevs)";
    ASSERT_TRUE(eal_environment::ok()) << "rte_eal_init failed";
    static int serial = 0;
    ++serial;
    devs_ = {"net_ring_a" + std::to_string(serial), "net_ring_c" + std::to_string(serial)};
    for (const auto& d : devs_) ASSERT_EQ(rte_eal_hotplug_add("vdev", d.c_str(), ""), 0) << d;
    std::string err;
    rt_ = runtime::create(two_workers(devs_[0], devs_[1]), err);
    ASSERT_TRUE(rt_) << err;
  }
  void TearDown() override {
    rt_.reset();  // stops and closes (releases) the ports
    for (const auto& d : devs_) (void)rte_eal_hotplug_remove("vdev", d.c_str());
  }

  const port_state& port(std::uint16_t i) { return rt_->shared().ports[i]; }
  worker_context& worker(unsigned i) { return rt_->worker(i); }

  void learn_neighbours() {
    control_learn(rt_->control(), access, phone_ip, phone_mac, rt_->now_ms());
    control_learn(rt_->control(), core, registrar_ip, registrar_mac, rt_->now_ms());
    control_publish(rt_->control());
    refresh();
  }
  // What worker_poll_once does at the top of each iteration.
  void refresh() {
    for (unsigned i = 0; i < rt_->n_workers(); ++i)
      worker(i).arp = __atomic_load_n(&rt_->shared().arp, __ATOMIC_ACQUIRE);
  }

  // A frame as it would arrive on `port`, in an mbuf of worker `w`'s pool.
  rte_mbuf* mbuf_of(unsigned w, const std::vector<std::uint8_t>& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(worker(w).pool);
    EXPECT_NE(m, nullptr);
    char* d = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
    std::memcpy(d, frame.data(), frame.size());
    return m;
  }

  std::vector<std::uint8_t> sip_frame(std::uint16_t p, std::string_view sip) {
    udp_tx t;
    t.dst_mac = port(p).mac;
    t.src_mac = p == access ? phone_mac : registrar_mac;
    t.src_ip = p == access ? phone_ip : registrar_ip;
    t.dst_ip = p == access ? fe_access_ip : fe_core_ip;
    t.src_port = p == access ? 5070 : 5060;
    t.dst_port = 5060;
    t.ip_id = ip_id_++;
    std::vector<std::uint8_t> f(udp_headers_len + sip.size());
    std::memcpy(f.data() + udp_headers_len, sip.data(), sip.size());
    write_udp_headers(f, t, cksum_mode::software);
    return f;
  }

  // Delivers a frame to worker `w` as if its rx queue on `p` returned it, then
  // lets every worker drain its rings and flush, as their loops would.
  void inject(unsigned w, std::uint16_t p, const std::vector<std::uint8_t>& frame) {
    rte_mbuf* m = mbuf_of(w, frame);
    const std::uint64_t now = rte_rdtsc();
    worker_rx(worker(w), p, &m, 1, now);
    settle();
  }
  void settle() {
    for (int round = 0; round < 2; ++round) {
      for (unsigned i = 0; i < rt_->n_workers(); ++i) {
        (void)worker_drain_rings(worker(i), rte_rdtsc());
        worker_flush(worker(i));
      }
    }
  }

  // Everything sent on port `p` by transmit queue `q`, as the peer would see it.
  std::vector<received> sent(std::uint16_t p, std::uint16_t q) {
    std::vector<received> out;
    std::array<rte_mbuf*, 32> pkts;
    std::uint16_t n = 0;
    if (q < port(p).n_rx_queues) {
      n = rte_eth_rx_burst(port(p).dpdk_port, q, pkts.data(), 32);
    } else {
      // The control lcore's tx queue has no rx twin configured: read net_ring's ring itself.
      rte_ring* r = rte_ring_lookup(("ETH_RXTX" + std::to_string(q) + "_" + devs_[p]).c_str());
      EXPECT_NE(r, nullptr);
      if (r != nullptr) {
        n = static_cast<std::uint16_t>(rte_ring_dequeue_burst(r, reinterpret_cast<void**>(pkts.data()), 32, nullptr));
      }
    }
    for (std::uint16_t i = 0; i < n; ++i) {
      received r;
      const auto* d = rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
      r.frame.assign(d, d + rte_pktmbuf_data_len(pkts[i]));
      rte_pktmbuf_free(pkts[i]);
      ingress_policy peer;
      peer.mac = p == access ? phone_mac : registrar_mac;
      peer.addr = iface_addr{p == access ? phone_ip : registrar_ip, 24, 0};
      peer.sip_port = p == access ? 5070 : 5060;
      r.in = classify(r.frame, peer);
      if (r.in.kind == ingress_kind::sip) {
        r.sip.assign(reinterpret_cast<const char*>(r.frame.data() + r.in.payload_off), r.in.payload_len);
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<std::string> devs_;
  std::unique_ptr<runtime> rt_;
  std::uint16_t ip_id_ = 1;
};

std::string register_request(std::string_view call_id, unsigned cseq, std::string_view branch, bool with_auth,
                             std::string_view user = "alice") {
  const std::string aor = "sip:" + std::string(user) + "@sipfront.test";
  std::string s;
  s += "REGISTER sip:sipfront.test SIP/2.0\r\n";
  s += "Via: SIP/2.0/UDP 198.18.1.2:5070;branch=" + std::string(branch) + "\r\n";
  s += "Max-Forwards: 70\r\n";
  s += "From: <" + aor + ">;tag=ph1\r\n";
  s += "To: <" + aor + ">\r\n";
  s += "Call-ID: " + std::string(call_id) + "\r\n";
  s += "CSeq: " + std::to_string(cseq) + " REGISTER\r\n";
  s += "Contact: <sip:alice@198.18.1.2:5070>\r\n";
  s += "Expires: 3600\r\n";
  if (with_auth) {
    s += "Authorization: Digest username=\"alice\", realm=\"sipfront.test\", nonce=\"abc\", "
         "uri=\"sip:sipfront.test\", response=\"0123456789abcdef0123456789abcdef\"\r\n";
  }
  s += "Content-Length: 0\r\n\r\n";
  return s;
}

// The registrar's answer to a forwarded request: Via, From, To, Call-ID and CSeq
// copied (RFC 3261 §8.2.6.2), To tagged.
std::string response_to(const std::string& request, unsigned code, std::string_view reason) {
  sip::message m;
  EXPECT_EQ(m.parse(request), sip::errc::ok);
  std::string s = "SIP/2.0 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
  for (const sip::header_entry& h : m.headers()) {
    switch (h.id) {
      case sip::header_id::via:
      case sip::header_id::from:
      case sip::header_id::call_id:
      case sip::header_id::cseq: s += std::string(m.raw_line(h)); break;
      case sip::header_id::to: s += "To: " + std::string(m.value(h)) + ";tag=reg1\r\n"; break;
      default: break;
    }
  }
  if (code == 401) s += "WWW-Authenticate: Digest realm=\"sipfront.test\", nonce=\"abc\"\r\n";
  if (code == 200) s += "Contact: <sip:alice@198.18.1.2:5070>;expires=3600\r\n";
  s += "Content-Length: 0\r\n\r\n";
  return s;
}

unsigned owner_of(const std::string& sip) {
  sip::message m;
  EXPECT_EQ(m.parse(sip), sip::errc::ok);
  return reg::steer(m, reg::side::access, 2, 0);
}

TEST_F(DataplaneTest, EveryMessageOfARegistrationMeetsTheSameWorker) {
  learn_neighbours();
  std::array<unsigned, 2> owners_seen{};
  for (int reg_no = 0; reg_no < 6; ++reg_no) {
    // REGISTERs are placed by AOR: one phone (AOR) per round, so both workers own some.
    const std::string call_id = "steer-" + std::to_string(reg_no) + "@198.18.1.2";
    const std::string user = "phone" + std::to_string(reg_no);
    const std::string reg1 = register_request(call_id, 1, "z9hG4bK-a" + std::to_string(reg_no), false, user);
    const unsigned owner = owner_of(reg1);
    const unsigned other = 1 - owner;
    ++owners_seen[owner];
    std::array<reg::engine_counters, 2> before{rt_->engine(0).counters(), rt_->engine(1).counters()};
    const std::uint64_t steered_in_before = worker(owner).counters.steered_in.load();

    // 1. REGISTER from the phone arrives on the worker that does not own it.
    inject(other, access, sip_frame(access, reg1));
    auto up = sent(core, static_cast<std::uint16_t>(owner));
    ASSERT_EQ(up.size(), 1U) << "the owner forwards upstream on its own tx queue";
    ASSERT_EQ(up[0].in.kind, ingress_kind::sip);
    EXPECT_EQ(up[0].in.src_ip, fe_core_ip);
    EXPECT_EQ(up[0].in.dst_ip, registrar_ip);
    EXPECT_EQ(mac_addr::load(up[0].frame.data() + eth::dst), registrar_mac);
    EXPECT_TRUE(sent(core, static_cast<std::uint16_t>(other)).empty());

    // 2. The registrar's 401 arrives on the other worker too.
    inject(other, core, sip_frame(core, response_to(up[0].sip, 401, "Unauthorized")));
    auto down = sent(access, static_cast<std::uint16_t>(owner));
    ASSERT_EQ(down.size(), 1U);
    EXPECT_EQ(down[0].in.dst_ip, phone_ip);
    EXPECT_EQ(down[0].in.dst_port, 5070);
    EXPECT_TRUE(down[0].sip.starts_with("SIP/2.0 401")) << down[0].sip;

    // 3. REGISTER with credentials (new transaction, same Call-ID) lands on the owner.
    inject(owner, access,
           sip_frame(access, register_request(call_id, 2, "z9hG4bK-b" + std::to_string(reg_no), true, user)));
    up = sent(core, static_cast<std::uint16_t>(owner));
    ASSERT_EQ(up.size(), 1U);
    EXPECT_NE(up[0].sip.find("Authorization: Digest"), std::string::npos);

    // 4. 200 OK arrives on the other worker again.
    inject(other, core, sip_frame(core, response_to(up[0].sip, 200, "OK")));
    down = sent(access, static_cast<std::uint16_t>(owner));
    ASSERT_EQ(down.size(), 1U);
    EXPECT_TRUE(down[0].sip.starts_with("SIP/2.0 200")) << down[0].sip;
    EXPECT_TRUE(sent(access, static_cast<std::uint16_t>(other)).empty());

    const reg::engine_counters& o = rt_->engine(owner).counters();
    const reg::engine_counters& x = rt_->engine(other).counters();
    EXPECT_EQ(o.register_in - before[owner].register_in, 2U);
    EXPECT_EQ(o.response_in - before[owner].response_in, 2U);
    EXPECT_EQ(o.forwarded_upstream - before[owner].forwarded_upstream, 2U);
    EXPECT_EQ(o.relayed_downstream - before[owner].relayed_downstream, 2U);
    EXPECT_EQ(x.register_in, before[other].register_in) << "the other engine saw nothing";
    EXPECT_EQ(x.response_in, before[other].response_in);
    EXPECT_EQ(worker(owner).counters.steered_in.load() - steered_in_before, 3U);
  }
  EXPECT_GT(owners_seen[0], 0U) << "some registrations owned by worker 0";
  EXPECT_GT(owners_seen[1], 0U) << "some registrations owned by worker 1";
  EXPECT_EQ(worker(0).counters.ring_full.load() + worker(1).counters.ring_full.load(), 0U);
}

TEST_F(DataplaneTest, WorkersPickUpTheRegistrarSnapshotAndReclaimTheOldOne) {
  learn_neighbours();
  control_learn(rt_->control(), core, dns_registrar_ip, dns_registrar_mac, rt_->now_ms());
  control_publish(rt_->control());
  std::string reg = register_request("dyn-1@198.18.1.2", 1, "z9hG4bK-dyn1", false);
  reg.replace(0, std::string("REGISTER sip:sipfront.test").size(), "REGISTER sip:dyn.test");
  const unsigned owner = owner_of(reg);
  for (unsigned i = 0; i < rt_->n_workers(); ++i) worker_refresh_snapshots(worker(i));
  EXPECT_EQ(rt_->engine(owner).registrar_state(2, 0), reg::registrar_health::unresolved);

  // Unresolved: the phone gets 503, nothing goes upstream.
  inject(owner, access, sip_frame(access, reg));
  EXPECT_TRUE(sent(core, static_cast<std::uint16_t>(owner)).empty());
  auto down = sent(access, static_cast<std::uint16_t>(owner));
  ASSERT_EQ(down.size(), 1U);
  EXPECT_TRUE(down[0].sip.starts_with("SIP/2.0 503")) << down[0].sip;

  registrar_snapshot snap;
  snap.entries[1] = registrar_address{
      .dynamic = true, .resolved = true, .addr = reg::endpoint{dns_registrar_ip, 5070, core}, .generation = 1};
  control_publish_registrars(rt_->control(), snap);
  EXPECT_EQ(rt_->engine(owner).registrar_address(2), reg::endpoint{}) << "not before the worker's next iteration";
  for (unsigned i = 0; i < rt_->n_workers(); ++i) {
    worker_refresh_snapshots(worker(i));
    EXPECT_EQ(rt_->engine(i).registrar_address(2), (reg::endpoint{dns_registrar_ip, 5070, core})) << "worker " << i;
    EXPECT_EQ(worker(i).registrars_applied, 1U);
  }
  reg.replace(reg.find("z9hG4bK-dyn1"), 12, "z9hG4bK-dyn2");
  reg.replace(reg.find("CSeq: 1"), 7, "CSeq: 2");
  inject(owner, access, sip_frame(access, reg));
  auto up = sent(core, static_cast<std::uint16_t>(owner));
  ASSERT_EQ(up.size(), 1U);
  // (sent() classifies as registrar 1 would: read the headers directly.)
  const std::uint8_t* ip_hdr = up[0].frame.data() + eth::header_len;
  EXPECT_EQ(load_be32(ip_hdr + ipv4::dst), dns_registrar_ip);
  EXPECT_EQ(load_be16(ip_hdr + ipv4::min_header_len + udp::dst_port), 5070);
  EXPECT_EQ(mac_addr::load(up[0].frame.data() + eth::dst), dns_registrar_mac);
  EXPECT_NE(std::string(reinterpret_cast<const char*>(ip_hdr + ipv4::min_header_len + udp::header_len),
                        up[0].frame.size() - eth::header_len - ipv4::min_header_len - udp::header_len)
                .find("REGISTER sip:dyn.test SIP/2.0"),
            std::string::npos)
      << "end-to-end relays the phone's request";

  // DNS lost it: a new snapshot unresolves it; the first one is reclaimed once both workers moved on.
  snap.entries[1].resolved = false;
  snap.entries[1].addr = {};
  snap.entries[1].generation = 2;
  auto retired_registrars = [this] {
    return std::count_if(rt_->control().retired.begin(), rt_->control().retired.end(),
                         [](const retired_snapshot& r) { return r.registrars != nullptr; });
  };
  control_publish_registrars(rt_->control(), snap);
  ASSERT_EQ(retired_registrars(), 1);
  worker_refresh_snapshots(worker(0));
  (void)control_poll_once(rt_->control(), rt_->now_ms());
  EXPECT_EQ(retired_registrars(), 1) << "worker 1 may still read it";
  worker_refresh_snapshots(worker(1));
  (void)control_poll_once(rt_->control(), rt_->now_ms());
  EXPECT_EQ(retired_registrars(), 0);
  for (unsigned i = 0; i < rt_->n_workers(); ++i) {
    EXPECT_EQ(rt_->engine(i).registrar_state(2, 0), reg::registrar_health::unresolved) << "worker " << i;
  }
  // Static registrar 1 is untouched by snapshots.
  EXPECT_EQ(rt_->engine(0).registrar_address(1), (reg::endpoint{registrar_ip, 5060, core}));
}

TEST_F(DataplaneTest, EveryEngineBorrowsTheOneSpikePool) {
  const reg::spike_pool* pool = &rt_->spike_pool();
  for (unsigned i = 0; i < rt_->n_workers(); ++i) {
    EXPECT_EQ(rt_->engine(i).config().spike, pool) << "worker " << i;
  }
  EXPECT_FALSE(pool->enabled()) << "registration spike 0: off";
}

TEST_F(DataplaneTest, ArpRequestAnsweredByTheWorkerAndLearnedByControl) {
  std::vector<std::uint8_t> f(eth::min_frame);
  (void)write_arp(f, arp::op_request, broadcast_mac, phone_mac, phone_ip, mac_addr{}, fe_access_ip);
  inject(1, access, f);
  auto r = sent(access, 1);
  ASSERT_EQ(r.size(), 1U);
  const std::uint8_t* a = r[0].frame.data() + eth::header_len;
  EXPECT_EQ(load_be16(a + arp::oper), arp::op_reply);
  EXPECT_EQ(mac_addr::load(a + arp::sha), port(access).mac);
  EXPECT_EQ(load_be32(a + arp::spa), fe_access_ip);
  EXPECT_EQ(mac_addr::load(r[0].frame.data() + eth::dst), phone_mac);
  EXPECT_EQ(worker(1).counters.arp_replies.load(), 1U);
  // The asker's mapping reaches the control lcore, which publishes it.
  (void)control_poll_once(rt_->control(), rt_->now_ms());
  refresh();
  ASSERT_NE(worker(0).arp, nullptr);
  ASSERT_NE(worker(0).arp->find(access, phone_ip), nullptr);
  EXPECT_EQ(*worker(0).arp->find(access, phone_ip), phone_mac);
}

TEST_F(DataplaneTest, PacketsWaitForArpOnTheControlLcore) {
  // Only the phone is known: the upstream REGISTER misses and is held.
  control_learn(rt_->control(), access, phone_ip, phone_mac, rt_->now_ms());
  control_publish(rt_->control());
  refresh();
  const std::string reg1 = register_request("arp-miss@198.18.1.2", 1, "z9hG4bK-m1", false);
  const unsigned owner = owner_of(reg1);
  inject(owner, access, sip_frame(access, reg1));
  EXPECT_TRUE(sent(core, static_cast<std::uint16_t>(owner)).empty());
  EXPECT_EQ(worker(owner).counters.arp_miss.load(), 1U);
  control_context& c = rt_->control();
  (void)control_poll_once(c, rt_->now_ms());
  // The control lcore asks on its own tx queue (= number of workers).
  auto asks = sent(core, c.tx_queue);
  ASSERT_EQ(asks.size(), 1U);
  const std::uint8_t* a = asks[0].frame.data() + eth::header_len;
  EXPECT_EQ(load_be16(asks[0].frame.data() + eth::type), eth::type_arp);
  EXPECT_EQ(load_be16(a + arp::oper), arp::op_request);
  EXPECT_EQ(load_be32(a + arp::tpa), registrar_ip);
  // The registrar answers; the reply reaches control through a worker.
  std::vector<std::uint8_t> reply(eth::min_frame);
  (void)write_arp(reply, arp::op_reply, port(core).mac, registrar_mac, registrar_ip, port(core).mac, fe_core_ip);
  inject(1 - owner, core, reply);
  (void)control_poll_once(c, rt_->now_ms());
  auto out = sent(core, c.tx_queue);
  ASSERT_EQ(out.size(), 1U) << "the held REGISTER leaves once the MAC is known";
  EXPECT_EQ(out[0].in.kind, ingress_kind::sip);
  EXPECT_EQ(mac_addr::load(out[0].frame.data() + eth::dst), registrar_mac);
  EXPECT_EQ(c.counters.pending_sent.load(), 1U);
}

TEST_F(DataplaneTest, FragmentsOnDifferentWorkersAreReassembledAndSteered) {
  learn_neighbours();
  std::string big = register_request("frag@198.18.1.2", 1, "z9hG4bK-f1", false);
  // Pad with a long header so the datagram needs two fragments at MTU 1500.
  big.insert(big.find("Content-Length"), "X-Padding: " + std::string(2000, 'p') + "\r\n");
  const unsigned owner = owner_of(big);
  udp_tx t;
  t.dst_mac = port(access).mac;
  t.src_mac = phone_mac;
  t.src_ip = phone_ip;
  t.dst_ip = fe_access_ip;
  t.src_port = 5070;
  t.dst_port = 5060;
  t.ip_id = 4242;
  const const_bytes pl(reinterpret_cast<const std::uint8_t*>(big.data()), big.size());
  const fragment_plan plan = plan_fragments(pl.size(), 1500);
  ASSERT_EQ(plan.count, 2U);
  const std::uint16_t ck = udp_datagram_checksum(t, pl);
  for (std::size_t i = 0; i < plan.count; ++i) {
    std::vector<std::uint8_t> f(fragment_frame_len(plan, i));
    write_udp_fragment(f, t, pl, plan, i, ck);
    inject(static_cast<unsigned>(i), access, f);  // fragment 0 on worker 0, fragment 1 on worker 1
  }
  settle();
  EXPECT_EQ(worker(0).counters.fragments.load() + worker(1).counters.fragments.load(), 2U);
  EXPECT_EQ(worker(0).counters.frag_forwarded.load() + worker(1).counters.frag_forwarded.load(), 1U);
  EXPECT_EQ(worker(0).counters.reassembled.load() + worker(1).counters.reassembled.load(), 1U);
  EXPECT_EQ(worker(0).counters.linearized.load() + worker(1).counters.linearized.load(), 1U);
  EXPECT_EQ(rt_->engine(owner).counters().register_in, 1U);
  EXPECT_EQ(rt_->engine(1 - owner).counters().register_in, 0U);
  auto up = sent(core, static_cast<std::uint16_t>(owner));
  ASSERT_GE(up.size(), 1U) << "forwarded upstream (fragmented again at the MTU)";
}

TEST_F(DataplaneTest, BadUdpChecksumIsDropped) {
  learn_neighbours();
  auto f = sip_frame(access, register_request("cksum@198.18.1.2", 1, "z9hG4bK-c1", false));
  f[f.size() - 5] ^= 0x20;  // payload changed after the checksum was computed
  inject(0, access, f);
  EXPECT_EQ(worker(0).counters.drops[static_cast<std::size_t>(drop_reason::udp_bad_checksum)].load(), 1U);
  EXPECT_EQ(rt_->engine(0).counters().register_in + rt_->engine(1).counters().register_in, 0U);
}

}  // namespace
}  // namespace sipfront::dp

namespace sipfront::dp {
namespace {

TEST_F(DataplaneTest, IcmpEchoAnsweredByControl) {
  // An echo request: the UDP frame layout with ICMP in place of UDP.
  auto f = sip_frame(access, "pingpong");
  f[eth::header_len + ipv4::proto] = ipv4::proto_icmp;
  std::uint8_t* ip = f.data() + eth::header_len;
  store_be16(ip + ipv4::checksum, 0);
  store_be16(ip + ipv4::checksum, ipv4_header_checksum(const_bytes(ip, 20)));
  std::uint8_t* ic = ip + 20;
  ic[icmp::type] = icmp::echo_request;
  ic[icmp::code] = 0;
  store_be16(ic + icmp::checksum, 0);
  store_be16(ic + icmp::checksum, static_cast<std::uint16_t>(~cksum_fold(cksum_add(const_bytes(ic, 16)))));
  inject(0, access, f);
  EXPECT_EQ(worker(0).counters.to_control.load(), 1U);
  control_context& c = rt_->control();
  (void)control_poll_once(c, rt_->now_ms());
  auto r = sent(access, c.tx_queue);
  ASSERT_EQ(r.size(), 1U);
  const std::uint8_t* rip = r[0].frame.data() + eth::header_len;
  EXPECT_EQ(rip[ipv4::proto], ipv4::proto_icmp);
  EXPECT_EQ(load_be32(rip + ipv4::src), fe_access_ip);
  EXPECT_EQ(load_be32(rip + ipv4::dst), phone_ip);
  EXPECT_TRUE(ipv4_header_checksum_ok(const_bytes(rip, 20)));
  EXPECT_EQ(rip[20 + icmp::type], icmp::echo_reply);
  EXPECT_EQ(mac_addr::load(r[0].frame.data() + eth::dst), phone_mac);
  EXPECT_EQ(c.counters.icmp_echo_replies.load(), 1U);
}

TEST_F(DataplaneTest, ForeignAndMalformedTrafficIsCountedByRule) {
  learn_neighbours();
  inject(0, access, sip_frame(access, "x"));  // not SIP: parse error, still given to the engine
  auto f = sip_frame(access, "REGISTER sip:x SIP/2.0\r\n\r\n");
  store_be16(f.data() + eth::header_len + 20 + udp::dst_port, 5080);
  inject(0, access, f);
  std::vector<std::uint8_t> runt(10, 0);
  inject(0, access, runt);
  const worker_counters& wc = worker(0).counters;
  EXPECT_EQ(wc.drops[static_cast<std::size_t>(drop_reason::udp_port_closed)].load(), 1U)
      << "the port is checked before the (more costly) checksum";
  EXPECT_EQ(wc.drops[static_cast<std::size_t>(drop_reason::runt_frame)].load(), 1U);
  EXPECT_EQ(wc.sip_parse_errors.load(), 1U);
  EXPECT_EQ(wc.rx_packets.load(), 3U);
}

}  // namespace
}  // namespace sipfront::dp
