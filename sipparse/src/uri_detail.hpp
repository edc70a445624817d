// Private helpers shared by the URI and Via parsers.
#pragma once

#include <cstdint>
#include <string_view>

#include "sipfront/sipparse/error.hpp"
#include "sipfront/sipparse/uri.hpp"

namespace sipfront::sip::detail {

/// host [":" port] from a hostport view (LWS already removed). Classifies the host.
errc parse_hostport(std::string_view hp, std::string_view& host, host_kind& kind, std::uint16_t& port,
                    bool& has_port) noexcept;

}  // namespace sipfront::sip::detail
