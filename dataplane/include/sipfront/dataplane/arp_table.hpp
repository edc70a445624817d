// The neighbour table in two halves: `arp_cache`, the control lcore's mutable
// table (learning, ageing; allocates, control side only), and `arp_snapshot`, an
// immutable copy the workers read through one atomically published pointer.
// Workers never wait for the control lcore: a stale snapshot is still a valid one,
// and the old copy is freed only after every worker has passed a quiescent state
// (rte_rcu_qsbr, see control.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "sipfront/dataplane/wire.hpp"

namespace sipfront::dp {

struct arp_entry {
  std::uint32_t ip = 0;    ///< host order
  std::uint16_t port = 0;  ///< front-end interface index
  mac_addr mac;
};

class arp_snapshot {
 public:
  /// Builds the lookup table; `generation` tells readers which version they hold.
  arp_snapshot(const std::vector<arp_entry>& entries, std::uint64_t generation);

  /// The MAC of `ip` on interface `port`, or nullptr. Lock-free, read-only.
  [[nodiscard]] const mac_addr* find(std::uint16_t port, std::uint32_t ip) const noexcept {
    const std::uint64_t k = key(port, ip);
    for (std::size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == k) return &s.mac;
    }
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

 private:
  struct slot {
    std::uint64_t key = 0;
    mac_addr mac;
    bool used = false;
  };
  static std::uint64_t key(std::uint16_t port, std::uint32_t ip) noexcept { return std::uint64_t{port} << 32 | ip; }
  static std::size_t hash(std::uint64_t k) noexcept {
    return static_cast<std::size_t>((k * 0x9e3779b97f4a7c15ULL) >> 32);
  }
  // Open addressing, load factor <= 1/2, so a miss ends at an empty slot quickly.
  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::uint64_t generation_ = 0;
};

/// The control lcore's neighbour table.
class arp_cache {
 public:
  /// Entries not confirmed for this long are dropped; a later miss re-resolves them.
  static constexpr std::uint64_t max_age_ms = 20ULL * 60 * 1000;

  /// Records `ip` -> `mac` on `port`. Returns true when the table changed (new
  /// entry or a different MAC), i.e. when a new snapshot is worth publishing.
  bool learn(std::uint16_t port, std::uint32_t ip, const mac_addr& mac, std::uint64_t now_ms);
  /// Drops entries older than max_age_ms; true when any was dropped.
  bool expire(std::uint64_t now_ms);
  [[nodiscard]] const mac_addr* find(std::uint16_t port, std::uint32_t ip) const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }
  /// An immutable copy for the workers, tagged with a new generation.
  [[nodiscard]] std::unique_ptr<arp_snapshot> snapshot();
  [[nodiscard]] std::vector<arp_entry> entries() const;

 private:
  struct item {
    mac_addr mac;
    std::uint64_t confirmed_ms = 0;
  };
  std::unordered_map<std::uint64_t, item> map_;
  std::uint64_t generation_ = 0;
};

}  // namespace sipfront::dp
