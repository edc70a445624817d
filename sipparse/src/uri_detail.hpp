// Private helpers shared by the URI and Via parsers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/error.hpp"
#include "sipfront/sipparse/uri.hpp"
#include "sipfront/sipparse/values.hpp"

namespace sipfront::sip::detail {

/// host [":" port] from a hostport view (LWS already removed). Classifies the host.
errc parse_hostport(std::string_view hp, std::string_view& host, host_kind& kind, std::uint16_t& port,
                    bool& has_port) noexcept;
/// host [":" port] at the start of `s`, in one pass; `used` is the bytes it took,
/// and the caller decides what may follow (';' or '?' in a URI, nothing in a Via).
errc scan_hostport(std::string_view s, std::string_view& host, host_kind& kind, std::uint16_t& port, bool& has_port,
                   std::size_t& used) noexcept;
/// port = 1*DIGIT, <= 65535 (leading zeros allowed): the digit run at `p`, which
/// `p` is moved past. Answers as parse_uint(run, 65535) does, without its call for
/// the usual one to five digits. False when the run is empty or too large.
inline bool scan_port(const char*& p, const char* e, std::uint16_t& port) noexcept {
  const char* const s = p;
  std::size_t n = 0;  // digits
  unsigned v = 0;
  if (e - p >= 8) {
    // Eight bytes at once (SWAR): each becomes its digit value, or a byte with
    // the top bit set when it is not a digit; the first such byte ends the run.
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    w ^= 0x3030303030303030ULL;  // '0'..'9' -> 0..9
    const std::uint64_t bad = (((w & 0x7f7f7f7f7f7f7f7fULL) + 0x7676767676767676ULL) | w) & 0x8080808080808080ULL;
    n = bad == 0 ? 8 : static_cast<std::size_t>(__builtin_ctzll(bad)) / 8;
    if (n >= 1 && n <= 5) {
      // The digits to the top of the word, zeros (leading zeros) below, then
      // the usual pairwise combination: ten per pair, a hundred, ten thousand.
      w <<= 8 * (8 - n);
      w = (w * 10) + (w >> 8);
      w = (((w & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
           (((w >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
          32;
      v = static_cast<unsigned>(w);
      p += n;
    }
  } else {
    while (p < e && n < 5 && chars::is_digit(*p)) {
      v = v * 10 + static_cast<unsigned>(*p++ - '0');
      ++n;
    }
    if (p < e && chars::is_digit(*p)) n = 6;
  }
  if (n > 5) {
    // Six digits or more: leading zeros or an overflow, parse_uint() tells which.
    p = chars::skip_class(s, e, chars::k_digit);
    const auto r = parse_uint({s, static_cast<std::size_t>(p - s)}, 65535);
    if (!r) return false;
    port = static_cast<std::uint16_t>(*r);
    return true;
  }
  if (n == 0 || v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

}  // namespace sipfront::sip::detail
