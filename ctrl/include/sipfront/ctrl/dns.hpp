// DNS for dynamic registrars (Registrar.host), on the control core: c-ares with
// non-blocking sockets, driven by poll(now_ms) from the control loop. poll() never
// waits: it starts the queries that are due, reads the sockets that are ready
// (poll(2) with a zero timeout), lets c-ares run its own retransmission timers and
// returns. The control lcore therefore never blocks on DNS, and the workers never
// see it at all: they get the outcome as an immutable snapshot (dataplane).
//
// Per name (A records only; SRV/NAPTR of RFC 3263 are not done):
//  - An answer is kept for its TTL clamped to [min_ttl_s, max_ttl_s] (the lowest
//    TTL of the A records used), and the name is asked again when that runs out.
//  - Several A records: the addresses are kept in answer order (up to
//    max_addresses); the current address stays while the new answer still lists it
//    (round-robin DNS must not move every binding at each refresh), else the first
//    usable one is taken. `usable` (e.g. "reachable through a core-side port")
//    filters them; an answer with none usable counts as a failure.
//  - A failure (NXDOMAIN, SERVFAIL, no A record, timeout, ...) is retried every
//    retry_s. When it finds the last good answer expired, the name becomes
//    unresolved. While a refresh query is in flight the old answer stays in use, so
//    the address is dropped only when DNS has said no (or timed out), not at the
//    instant the TTL ends.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sipfront::ctrl {

struct dns_server {
  std::uint32_t ip = 0;  ///< host byte order
  std::uint16_t port = 53;
};

struct resolver_config {
  std::vector<dns_server> servers;  ///< asked in order; empty: the system resolver's (/etc/resolv.conf)
  std::uint32_t min_ttl_s = 30;
  std::uint32_t max_ttl_s = 3600;
  std::uint32_t retry_s = 10;
  std::uint32_t query_timeout_ms = 2000;  ///< c-ares' first per-server timeout (it doubles per round)
  unsigned tries = 2;                     ///< rounds over the servers before a query times out
};

/// One dynamic registrar to resolve.
struct dns_name {
  unsigned index = 0;  ///< registrar index 1..6
  std::string host;
  std::uint16_t port = 5060;  ///< the registrar's SIP port (not looked up: A records only)
};

/// How the last query for a name ended.
enum class dns_outcome : std::uint8_t {
  pending,   ///< never answered yet
  answer,    ///< A records, at least one usable
  nxdomain,  ///< the name does not exist
  no_data,   ///< the name exists but has no A record
  servfail,  ///< every server failed or refused (SERVFAIL, REFUSED, NOTIMP, bad response, port unreachable)
  timeout,   ///< no server answered
  unusable,  ///< A records, none of them usable (e.g. unreachable through the core side)
  error,     ///< anything else (c-ares' own error)
};
std::string_view to_string(dns_outcome o) noexcept;

/// What the resolver knows about one name (read with states()).
struct dns_state {
  static constexpr std::size_t max_addresses = 8;

  dns_name name;
  bool resolved = false;
  std::uint32_t ip = 0;                                  ///< the address in use while resolved (host byte order)
  std::uint32_t generation = 0;                          ///< +1 whenever `resolved` or `ip` changes
  std::array<std::uint32_t, max_addresses> addresses{};  ///< the last answer's usable A records, in answer order
  std::size_t n_addresses = 0;
  std::uint32_t ttl_s = 0;  ///< the last answer's TTL after clamping
  dns_outcome last = dns_outcome::pending;
  std::uint64_t valid_until_ms = 0;  ///< the last good answer's end
  std::uint64_t next_query_ms = 0;
  bool in_flight = false;
  std::uint64_t queries = 0;
  std::uint64_t answers = 0;
  std::uint64_t failures = 0;
};

/// The control core's resolver for every dynamic registrar. Not thread-safe: one
/// owner (the control lcore) calls poll().
class registrar_resolver {
 public:
  /// Which addresses may be used (default: any).
  using address_filter = std::function<bool(std::uint32_t ip)>;

  /// Sets up a c-ares channel for `names`. nullptr and `error` set when c-ares
  /// cannot be initialised (no memory, unreadable resolv.conf, bad server list).
  static std::unique_ptr<registrar_resolver> create(const resolver_config& cfg, std::vector<dns_name> names,
                                                    std::string& error, address_filter usable = {});
  ~registrar_resolver();
  registrar_resolver(const registrar_resolver&) = delete;
  registrar_resolver& operator=(const registrar_resolver&) = delete;

  /// Non-blocking: sends due queries, handles ready sockets and c-ares timeouts.
  /// `now_ms` is the caller's monotonic clock (TTL and retry scheduling); c-ares
  /// keeps its own for its retransmissions. True when any name's `resolved` or
  /// `ip` changed since the last call (time to publish a new snapshot).
  bool poll(std::uint64_t now_ms);
  /// The earliest next_query_ms of the names not in flight (for idle pacing).
  [[nodiscard]] std::uint64_t next_due_ms() const noexcept;
  /// True while any query is outstanding.
  [[nodiscard]] bool busy() const noexcept;

  [[nodiscard]] const std::vector<dns_state>& states() const noexcept;

 private:
  struct impl;
  explicit registrar_resolver(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> impl_;
};

}  // namespace sipfront::ctrl
