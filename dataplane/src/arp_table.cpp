#include "sipfront/dataplane/arp_table.hpp"

#include <algorithm>
#include <bit>

namespace sipfront::dp {

arp_snapshot::arp_snapshot(const std::vector<arp_entry>& entries, std::uint64_t generation) : generation_(generation) {
  const std::size_t cap = std::bit_ceil(std::max<std::size_t>(16, entries.size() * 2));
  slots_.resize(cap);
  mask_ = cap - 1;
  for (const arp_entry& e : entries) {
    const std::uint64_t k = key(e.port, e.ip);
    std::size_t i = hash(k) & mask_;
    while (slots_[i].used && slots_[i].key != k) i = (i + 1) & mask_;
    if (!slots_[i].used) ++size_;
    slots_[i] = slot{k, e.mac, true};
  }
}

bool arp_cache::learn(std::uint16_t port, std::uint32_t ip, const mac_addr& mac, std::uint64_t now_ms) {
  const std::uint64_t k = std::uint64_t{port} << 32 | ip;
  auto [it, inserted] = map_.try_emplace(k, item{mac, now_ms});
  if (inserted) return true;
  it->second.confirmed_ms = now_ms;
  if (it->second.mac == mac) return false;
  it->second.mac = mac;
  return true;
}

bool arp_cache::expire(std::uint64_t now_ms) {
  const std::size_t before = map_.size();
  std::erase_if(map_, [now_ms](const auto& kv) { return now_ms - kv.second.confirmed_ms > max_age_ms; });
  return map_.size() != before;
}

const mac_addr* arp_cache::find(std::uint16_t port, std::uint32_t ip) const noexcept {
  const auto it = map_.find(std::uint64_t{port} << 32 | ip);
  return it == map_.end() ? nullptr : &it->second.mac;
}

std::vector<arp_entry> arp_cache::entries() const {
  std::vector<arp_entry> out;
  out.reserve(map_.size());
  for (const auto& [k, v] : map_) {
    out.push_back(arp_entry{static_cast<std::uint32_t>(k), static_cast<std::uint16_t>(k >> 32), v.mac});
  }
  return out;
}

std::unique_ptr<arp_snapshot> arp_cache::snapshot() { return std::make_unique<arp_snapshot>(entries(), ++generation_); }

}  // namespace sipfront::dp
