// IPv4 text forms used by the config: strict parsers (the config is the only
// place these addresses enter, so ambiguity is refused rather than guessed).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "detail.hpp"
#include "sipfront/ctrl/config.hpp"

namespace sipfront::ctrl {
namespace {

/// Decimal number of 1..max_digits digits without leading zeros, at most `max`.
std::optional<std::uint32_t> parse_decimal(std::string_view s, std::size_t max_digits, std::uint32_t max) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  if (s.size() > 1 && s.front() == '0') return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::uint32_t> parse_ipv4(std::string_view s) {
  std::uint32_t addr = 0;
  for (int octet = 0; octet < 4; ++octet) {
    const std::size_t dot = octet < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos) return std::nullopt;
    const auto v = parse_decimal(s.substr(0, dot), 3, 255);
    if (!v) return std::nullopt;
    addr = (addr << 8) | *v;
    s.remove_prefix(octet < 3 ? dot + 1 : dot);
  }
  return addr;
}

std::optional<ipv4_prefix> parse_ipv4_prefix(std::string_view s) {
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto addr = parse_ipv4(s.substr(0, slash));
  const auto len = parse_decimal(s.substr(slash + 1), 2, 32);
  if (!addr || !len) return std::nullopt;
  return ipv4_prefix{*addr, static_cast<std::uint8_t>(*len)};
}

std::optional<reg::endpoint> parse_ipv4_endpoint(std::string_view s, std::uint16_t default_port) {
  const std::size_t colon = s.find(':');
  const auto addr = parse_ipv4(s.substr(0, colon));
  if (!addr) return std::nullopt;
  std::uint32_t port = default_port;
  if (colon != std::string_view::npos) {
    const auto p = parse_decimal(s.substr(colon + 1), 5, 65535);
    if (!p) return std::nullopt;
    port = *p;
  }
  if (port == 0) return std::nullopt;
  return reg::endpoint{.ip = *addr, .port = static_cast<std::uint16_t>(port), .port_id = 0};
}

std::string format_ipv4(std::uint32_t addr) {
  return std::to_string(addr >> 24) + "." + std::to_string((addr >> 16) & 0xFFU) + "." +
         std::to_string((addr >> 8) & 0xFFU) + "." + std::to_string(addr & 0xFFU);
}

std::string to_string(const ipv4_prefix& p) { return format_ipv4(p.addr) + "/" + std::to_string(p.len); }

namespace detail {

std::string not_unicast_reason(std::uint32_t addr) {
  const std::uint32_t first = addr >> 24;
  if (first == 0) return "is in 0.0.0.0/8 (\"this network\"), which no host may use";
  if (first == 127) return "is a loopback address (127.0.0.0/8), which never appears on a wire";
  if (first >= 224 && first <= 239) return "is a multicast address (224.0.0.0/4), not a host address";
  if (addr == 0xFFFFFFFFU) return "is the limited broadcast address";
  if (first >= 240) return "is in the reserved range 240.0.0.0/4";
  return {};
}

std::optional<std::uint16_t> core_route(const v1::Config& cfg, std::uint32_t addr) {
  for (int i = 0; i < cfg.interfaces_size(); ++i) {
    const auto& itf = cfg.interfaces(i);
    const auto p = parse_ipv4_prefix(itf.address());
    if (accepts_core(itf.side()) && p && in_prefix(addr, *p)) return static_cast<std::uint16_t>(i);
  }
  for (int i = 0; i < cfg.interfaces_size(); ++i) {
    const auto& itf = cfg.interfaces(i);
    if (accepts_core(itf.side()) && !itf.gateway().empty()) return static_cast<std::uint16_t>(i);
  }
  return std::nullopt;
}

}  // namespace detail
}  // namespace sipfront::ctrl
