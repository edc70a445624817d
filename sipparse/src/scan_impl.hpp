// Private: the per-ISA scanning functions behind sipfront::sip::scanner.
#pragma once

#include <cstdint>
#include <string_view>

#include "sipfront/sipparse/scan.hpp"

namespace sipfront::sip::detail {

block_masks classify64_scalar(const char* p) noexcept;
block_masks classify64_sse42(const char* p) noexcept;
block_masks classify64_avx2(const char* p) noexcept;
errc index_scalar(message& m, std::string_view datagram) noexcept;
errc index_sse42(message& m, std::string_view datagram) noexcept;
errc index_avx2(message& m, std::string_view datagram) noexcept;

}  // namespace sipfront::sip::detail
