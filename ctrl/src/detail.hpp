// Helpers shared by the config and profile loaders; not part of ctrl's API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "sipfront/ctrl/config.hpp"

namespace sipfront::ctrl::detail {

/// Protobuf JSON → message, unknown fields refused. Protobuf's own message is
/// kept in the reason; where it names a field, that becomes the path (JSON names).
std::optional<config_error> parse_json(std::string_view json, google::protobuf::Message& out);

/// Whole file into `out`; an error naming the file and the OS reason otherwise.
std::optional<config_error> read_file(const std::string& file, std::string& out);

/// "a.b" + "[i]" / "a" + ".b", so paths read like the JSON they point into.
inline std::string index_path(std::string_view base, std::size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}
inline std::string field_path(std::string_view base, std::string_view field) {
  return base.empty() ? std::string(field) : std::string(base) + "." + std::string(field);
}

inline constexpr std::uint32_t prefix_mask(unsigned len) noexcept {
  return len == 0 ? 0U : ~std::uint32_t{0} << (32U - len);
}
inline constexpr bool in_prefix(std::uint32_t addr, const ipv4_prefix& p) noexcept {
  return (addr & prefix_mask(p.len)) == (p.addr & prefix_mask(p.len));
}

/// Why `addr` cannot be a host's unicast address (empty when it can).
std::string not_unicast_reason(std::uint32_t addr);

inline constexpr std::uint16_t default_sip_port = 5060;

inline bool accepts_access(v1::Side s) { return s == v1::SIDE_ACCESS || s == v1::SIDE_BOTH; }
inline bool accepts_core(v1::Side s) { return s == v1::SIDE_CORE || s == v1::SIDE_BOTH; }

/// The interface (DPDK port id) through which the core-side address `addr` is
/// reached: a core-capable port whose subnet holds it, else the first core-capable
/// port with a gateway; none when the address is unreachable.
std::optional<std::uint16_t> core_route(const v1::Config& cfg, std::uint32_t addr);

inline constexpr bool is_power_of_two(std::uint32_t v) noexcept { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace sipfront::ctrl::detail
