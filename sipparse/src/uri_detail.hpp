// Private helpers shared by the URI and Via parsers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sipfront/sipparse/error.hpp"
#include "sipfront/sipparse/uri.hpp"

namespace sipfront::sip::detail {

/// host [":" port] from a hostport view (LWS already removed). Classifies the host.
errc parse_hostport(std::string_view hp, std::string_view& host, host_kind& kind, std::uint16_t& port,
                    bool& has_port) noexcept;
/// host [":" port] at the start of `s`, in one pass; `used` is the bytes it took,
/// and the caller decides what may follow (';' or '?' in a URI, nothing in a Via).
errc scan_hostport(std::string_view s, std::string_view& host, host_kind& kind, std::uint16_t& port, bool& has_port,
                   std::size_t& used) noexcept;

}  // namespace sipfront::sip::detail
