// The dynamic registrars' resolver against a tiny DNS responder on 127.0.0.1 (a
// random UDP port) that answers per name: A records with a TTL, NXDOMAIN,
// SERVFAIL, an empty answer, or silence (timeouts). The resolver's clock (TTL,
// retry) is the test's; c-ares' own timeouts run on real time, so each wait is
// bounded by a real deadline.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "sipfront/ctrl/config.hpp"
#include "sipfront/ctrl/dns.hpp"

namespace sipfront::ctrl {
namespace {

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

/// A DNS server for tests: one UDP socket, answered when serve() is called.
class dns_responder {
 public:
  enum class kind { a, nxdomain, servfail, empty, silent };
  struct rule {
    kind k = kind::a;
    std::vector<std::uint32_t> ips;
    std::uint32_t ttl = 60;
  };

  dns_responder() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    EXPECT_GE(fd_, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;  // the kernel picks a free port
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
  }
  ~dns_responder() {
    if (fd_ >= 0) ::close(fd_);
  }
  dns_responder(const dns_responder&) = delete;
  dns_responder& operator=(const dns_responder&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  void set(const std::string& name, rule r) { rules_[name] = std::move(r); }
  /// `name` gets no A record: `k` is nxdomain, servfail, empty or silent.
  void fail(const std::string& name, kind k) { set(name, rule{k, {}, 0}); }
  void answer(const std::string& name, std::vector<std::uint32_t> ips, std::uint32_t ttl) {
    set(name, rule{kind::a, std::move(ips), ttl});
  }
  [[nodiscard]] int queries(const std::string& name) const {
    const auto it = hits_.find(name);
    return it == hits_.end() ? 0 : it->second;
  }

  /// Answers every query waiting on the socket.
  void serve() {
    std::array<std::uint8_t, 512> q{};
    for (;;) {
      sockaddr_in from{};
      socklen_t flen = sizeof from;
      const ssize_t n = ::recvfrom(fd_, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n <= 0) return;
      std::vector<std::uint8_t> r;
      if (!respond({q.data(), static_cast<std::size_t>(n)}, r)) continue;
      (void)::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
    }
  }

 private:
  static void put16(std::vector<std::uint8_t>& v, unsigned x) {
    v.push_back(static_cast<std::uint8_t>(x >> 8));
    v.push_back(static_cast<std::uint8_t>(x));
  }
  static void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
    put16(v, x >> 16);
    put16(v, x & 0xffff);
  }

  // Builds the response to query `q` (RFC 1035 4.1); false to stay silent.
  bool respond(std::span<const std::uint8_t> q, std::vector<std::uint8_t>& r) {
    if (q.size() < 12) return false;
    std::string name;
    std::size_t at = 12;
    while (at < q.size() && q[at] != 0) {
      const std::size_t len = q[at++];
      if (at + len > q.size()) return false;
      if (!name.empty()) name += '.';
      name.append(reinterpret_cast<const char*>(q.data() + at), len);
      at += len;
    }
    const std::size_t question_end = at + 1 + 4;  // root label, QTYPE, QCLASS
    if (question_end > q.size()) return false;
    ++hits_[name];
    const auto it = rules_.find(name);
    const rule rl = it != rules_.end() ? it->second : rule{kind::nxdomain, {}, 0};
    if (rl.k == kind::silent) return false;
    unsigned rcode = 0;
    if (rl.k == kind::nxdomain) rcode = 3;
    if (rl.k == kind::servfail) rcode = 2;
    const std::size_t n_answers = rl.k == kind::a ? rl.ips.size() : 0;
    r.assign(q.begin(), q.begin() + 2);  // ID
    put16(r, 0x8180U | rcode);           // QR, RD, RA
    put16(r, 1);
    put16(r, static_cast<unsigned>(n_answers));
    put16(r, 0);
    put16(r, 0);
    r.insert(r.end(), q.begin() + 12, q.begin() + static_cast<std::ptrdiff_t>(question_end));
    for (std::size_t i = 0; i < n_answers; ++i) {
      put16(r, 0xc00c);  // the name: a pointer to the question's
      put16(r, 1);       // A
      put16(r, 1);       // IN
      put32(r, rl.ttl);
      put16(r, 4);
      put32(r, rl.ips[i]);
    }
    return true;
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::map<std::string, rule> rules_;
  std::map<std::string, int> hits_;
};

class resolver_test : public ::testing::Test {
 protected:
  void make(std::vector<dns_name> names, registrar_resolver::address_filter usable = {}) {
    cfg_.servers = {dns_server{.ip = ip(127, 0, 0, 1), .port = dns_.port()}};
    cfg_.query_timeout_ms = 100;
    cfg_.tries = 1;
    std::string err;
    res_ = registrar_resolver::create(cfg_, std::move(names), err, std::move(usable));
    ASSERT_NE(res_, nullptr) << err;
  }
  /// Polls at the test's time `now_` (serving DNS in between) until no query is in
  /// flight; true when any poll reported a change. Bounded by 5 s of real time.
  bool settle() {
    bool changed = res_->poll(now_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (res_->busy() && std::chrono::steady_clock::now() < deadline) {
      dns_.serve();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      changed = res_->poll(now_) || changed;
    }
    EXPECT_FALSE(res_->busy()) << "a query never finished";
    return changed;
  }
  const dns_state& st(std::size_t i = 0) { return res_->states()[i]; }

  dns_responder dns_;
  resolver_config cfg_;
  std::unique_ptr<registrar_resolver> res_;
  std::uint64_t now_ = 1000;
};

TEST_F(resolver_test, AnswerResolvesAndIsAskedAgainWhenItsTtlRunsOut) {
  dns_.answer("reg.example.test", {ip(198, 18, 2, 3)}, 60);
  make({{.index = 1, .host = "reg.example.test", .port = 5070}});
  EXPECT_FALSE(st().resolved);
  EXPECT_EQ(st().last, dns_outcome::pending);
  EXPECT_TRUE(settle());
  EXPECT_TRUE(st().resolved);
  EXPECT_EQ(st().ip, ip(198, 18, 2, 3));
  EXPECT_EQ(st().name.port, 5070);
  EXPECT_EQ(st().ttl_s, 60U);
  EXPECT_EQ(st().valid_until_ms, 1000U + 60'000U);
  EXPECT_EQ(st().generation, 1U);
  EXPECT_EQ(st().last, dns_outcome::answer);
  EXPECT_EQ(dns_.queries("reg.example.test"), 1);

  now_ += 59'999;
  EXPECT_FALSE(settle());
  EXPECT_EQ(dns_.queries("reg.example.test"), 1) << "not before the TTL ran out";
  now_ += 1;
  dns_.answer("reg.example.test", {ip(198, 18, 2, 4)}, 60);
  EXPECT_TRUE(settle());
  EXPECT_EQ(dns_.queries("reg.example.test"), 2);
  EXPECT_EQ(st().ip, ip(198, 18, 2, 4)) << "the record changed";
  EXPECT_EQ(st().generation, 2U);
  EXPECT_EQ(st().next_query_ms, now_ + 60'000);
}

TEST_F(resolver_test, TtlIsClampedToMinAndMax) {
  dns_.answer("short.example.test", {ip(198, 18, 2, 3)}, 5);
  dns_.answer("long.example.test", {ip(198, 18, 2, 4)}, 100'000);
  cfg_.min_ttl_s = 30;
  cfg_.max_ttl_s = 600;
  make({{.index = 1, .host = "short.example.test"}, {.index = 2, .host = "long.example.test"}});
  EXPECT_TRUE(settle());
  EXPECT_EQ(st(0).ttl_s, 30U);
  EXPECT_EQ(st(0).next_query_ms, now_ + 30'000);
  EXPECT_EQ(st(1).ttl_s, 600U);
  EXPECT_EQ(st(1).valid_until_ms, now_ + 600'000);
  EXPECT_EQ(res_->next_due_ms(), now_ + 30'000);
}

TEST_F(resolver_test, NxdomainStaysUnresolvedAndIsRetriedAfterRetrySeconds) {
  dns_.fail("gone.example.test", dns_responder::kind::nxdomain);
  cfg_.retry_s = 10;
  make({{.index = 1, .host = "gone.example.test"}});
  EXPECT_FALSE(settle()) << "never resolved: nothing to publish";
  EXPECT_FALSE(st().resolved);
  EXPECT_EQ(st().last, dns_outcome::nxdomain);
  EXPECT_EQ(st().failures, 1U);
  EXPECT_EQ(st().next_query_ms, now_ + 10'000);
  now_ += 9'999;
  (void)settle();
  EXPECT_EQ(dns_.queries("gone.example.test"), 1);
  now_ += 1;
  dns_.answer("gone.example.test", {ip(198, 18, 2, 9)}, 60);
  EXPECT_TRUE(settle());
  EXPECT_EQ(dns_.queries("gone.example.test"), 2);
  EXPECT_TRUE(st().resolved);
  EXPECT_EQ(st().ip, ip(198, 18, 2, 9));
}

TEST_F(resolver_test, ServfailAfterTheTtlRanOutUnresolves) {
  dns_.answer("reg.example.test", {ip(198, 18, 2, 3)}, 30);
  make({{.index = 1, .host = "reg.example.test"}});
  ASSERT_TRUE(settle());
  ASSERT_TRUE(st().resolved);
  dns_.fail("reg.example.test", dns_responder::kind::servfail);
  now_ += 30'000;
  EXPECT_TRUE(settle());
  EXPECT_FALSE(st().resolved);
  EXPECT_EQ(st().ip, 0U);
  EXPECT_EQ(st().last, dns_outcome::servfail);
  EXPECT_EQ(st().generation, 2U);
  EXPECT_EQ(st().next_query_ms, now_ + 10'000) << "retrySeconds default";
}

TEST_F(resolver_test, SilentServerTimesOut) {
  dns_.fail("slow.example.test", dns_responder::kind::silent);
  make({{.index = 1, .host = "slow.example.test"}});
  EXPECT_FALSE(settle());
  EXPECT_EQ(st().last, dns_outcome::timeout);
  EXPECT_FALSE(st().resolved);
  EXPECT_GE(dns_.queries("slow.example.test"), 1);
}

TEST_F(resolver_test, TimeoutAfterAGoodAnswerUnresolvesItOnceExpired) {
  dns_.answer("reg.example.test", {ip(198, 18, 2, 3)}, 30);
  make({{.index = 1, .host = "reg.example.test"}});
  ASSERT_TRUE(settle());
  dns_.fail("reg.example.test", dns_responder::kind::silent);
  now_ += 30'000;
  EXPECT_TRUE(settle());
  EXPECT_EQ(st().last, dns_outcome::timeout);
  EXPECT_FALSE(st().resolved);
}

TEST_F(resolver_test, EmptyAnswerIsNoData) {
  dns_.fail("mx-only.example.test", dns_responder::kind::empty);
  make({{.index = 1, .host = "mx-only.example.test"}});
  (void)settle();
  EXPECT_EQ(st().last, dns_outcome::no_data);
  EXPECT_FALSE(st().resolved);
}

TEST_F(resolver_test, SeveralRecordsKeepTheCurrentAddressWhileItIsListed) {
  dns_.answer("rr.example.test", {ip(198, 18, 2, 3), ip(198, 18, 2, 4)}, 30);
  make({{.index = 1, .host = "rr.example.test"}});
  ASSERT_TRUE(settle());
  EXPECT_EQ(st().ip, ip(198, 18, 2, 3)) << "the first record";
  EXPECT_EQ(st().n_addresses, 2U);
  // Round robin: the same records in the other order do not move the registrar.
  dns_.answer("rr.example.test", {ip(198, 18, 2, 4), ip(198, 18, 2, 3)}, 30);
  now_ += 30'000;
  EXPECT_FALSE(settle());
  EXPECT_EQ(st().ip, ip(198, 18, 2, 3));
  EXPECT_EQ(st().generation, 1U);
  EXPECT_EQ(st().addresses[0], ip(198, 18, 2, 4));
  // The current address is gone: the first of the new answer.
  dns_.answer("rr.example.test", {ip(198, 18, 2, 5), ip(198, 18, 2, 4)}, 30);
  now_ += 30'000;
  EXPECT_TRUE(settle());
  EXPECT_EQ(st().ip, ip(198, 18, 2, 5));
  EXPECT_EQ(st().generation, 2U);
}

TEST_F(resolver_test, FilterSkipsUnusableAddresses) {
  dns_.answer("mixed.example.test", {ip(10, 9, 9, 9), ip(198, 18, 2, 4)}, 30);
  dns_.answer("bad.example.test", {ip(10, 9, 9, 8)}, 30);
  make({{.index = 1, .host = "mixed.example.test"}, {.index = 2, .host = "bad.example.test"}},
       [](std::uint32_t a) { return (a >> 24) == 198; });
  (void)settle();
  EXPECT_TRUE(st(0).resolved);
  EXPECT_EQ(st(0).ip, ip(198, 18, 2, 4));
  EXPECT_EQ(st(0).n_addresses, 1U);
  EXPECT_FALSE(st(1).resolved);
  EXPECT_EQ(st(1).last, dns_outcome::unusable);
}

TEST_F(resolver_test, ConfigServersReachTheResolver) {
  // The path the daemon takes: dns.servers from the config, parsed for c-ares.
  v1::Config cfg;
  cfg.mutable_dns()->add_servers("127.0.0.1:" + std::to_string(dns_.port()));
  cfg.mutable_dns()->set_min_ttl_seconds(45);
  cfg.mutable_dns()->set_max_ttl_seconds(90);
  cfg.mutable_dns()->set_retry_seconds(5);
  resolver_config rc = make_resolver_config(cfg);
  rc.query_timeout_ms = 100;
  rc.tries = 1;
  dns_.answer("reg.example.test", {ip(198, 18, 2, 3)}, 10);
  std::string err;
  res_ = registrar_resolver::create(rc, {{.index = 3, .host = "reg.example.test"}}, err);
  ASSERT_NE(res_, nullptr) << err;
  EXPECT_TRUE(settle());
  EXPECT_EQ(st().ip, ip(198, 18, 2, 3));
  EXPECT_EQ(st().ttl_s, 45U);
}

}  // namespace
}  // namespace sipfront::ctrl
