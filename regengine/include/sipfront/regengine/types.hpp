// Addresses and sides as regengine sees them: plain values, no DPDK types.
#pragma once

#include <cstdint>

namespace sipfront::reg {

/// A UDP/IPv4 transport address on one port of the front end. Addresses are in
/// host byte order; the dataplane converts.
struct endpoint {
  std::uint32_t ip = 0;
  std::uint16_t port = 0;
  std::uint16_t port_id = 0;  ///< which front-end port (NIC) it is reached through
  friend bool operator==(const endpoint&, const endpoint&) = default;
};

/// Which side of the front end a message belongs to.
enum class side : std::uint8_t { access, core };

}  // namespace sipfront::reg
