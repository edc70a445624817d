// Private helpers shared by the URI and Via parsers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
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

#if defined(__SSE2__)
// The IPv4 reader of scan_hostport() (greedy octets of up to three digits, byte
// by byte) for the common case, on 16 bytes at once (16 readable at
// `p`): the run of digits and dots at `p` ends before the 16th byte and has the
// dotted-quad shape (three single dots between four octets of one to three
// digits). The byte reader reads exactly those octets, so this answers as it
// would: the run's end, or nullptr when an octet is above 255. Any other run
// returns `p` itself: not decided here. Bit i of each mask is byte i.
inline const char* scan_ipv4_16(const char* p) noexcept {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));  // NOLINT
  auto mask = [](__m128i m) { return static_cast<unsigned>(_mm_movemask_epi8(m)); };
  const __m128i off = _mm_sub_epi8(x, _mm_set1_epi8('0'));
  const unsigned digit = mask(_mm_cmpeq_epi8(_mm_min_epu8(off, _mm_set1_epi8(9)), off));
  const unsigned dot = mask(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')));
  const auto len = static_cast<unsigned>(__builtin_ctz(~(digit | dot)));  // <= 16: bit 16 is clear
  if (len == 16) return p;
  const unsigned run = (1U << len) - 1;
  const unsigned t = dot & run;
  const unsigned d = digit & run;
  const unsigned t2 = t & (t - 1);                                      // t without its first dot
  const unsigned t3 = t2 & (t2 - 1);                                    // ... and its second
  const bool shape = t3 != 0 && (t3 & (t3 - 1)) == 0 &&                 // three dots
                     (t & ((t >> 1) | 1U | (1U << (len - 1)))) == 0 &&  // not adjacent, first or last
                     (d & (d >> 1) & (d >> 2) & (d >> 3)) == 0;         // no octet of four digits or more
  if (!shape) return p;
  // Three digits at i (then i starts an octet: four in a row were ruled out) are
  // above 255 when the first is above '2', or "2" then above '5', or "25" then above '5'.
  const unsigned three = d & (d >> 1) & (d >> 2);
  const unsigned gt2 = mask(_mm_cmpgt_epi8(x, _mm_set1_epi8('2')));
  const unsigned eq2 = mask(_mm_cmpeq_epi8(x, _mm_set1_epi8('2')));
  const unsigned gt5 = mask(_mm_cmpgt_epi8(x, _mm_set1_epi8('5')));
  const unsigned eq5 = mask(_mm_cmpeq_epi8(x, _mm_set1_epi8('5')));
  if ((three & (gt2 | (eq2 & ((gt5 >> 1) | ((eq5 >> 1) & (gt5 >> 2)))))) != 0) return nullptr;
  return p + len;
}
#endif

/// parse_ipv4(s) without its value, where the view `s` lies in may be read up to
/// `end` (>= the end of `s`): with 16 bytes there, one 16-byte check (a dotted
/// quad ends at a byte that is no digit or dot, so at the end of `s` or before).
inline bool is_ipv4(std::string_view s, const char* end) noexcept {
  std::uint32_t a = 0;
#if defined(__SSE2__)
  const char* const b = s.data();
  if (s.size() >= 7 && chars::is_digit(*b)) {
    if (end - b >= 16) {
      const char* const r = scan_ipv4_16(b);
      if (r != b) return r == b + s.size();  // nullptr (an octet above 255) is false too
    } else if (s.size() <= 15) {
      // Too near the end of the view for a 16-byte load: a zero-padded copy of
      // `s` (two overlapping loads of eight or four bytes); the zero ends the run
      // as the view's end does.
      char copy[16] = {};
      const std::size_t k = s.size() >= 8 ? 8 : 4;
      std::memcpy(copy, b, k);
      std::memcpy(copy + s.size() - k, b + s.size() - k, k);
      const char* const r = scan_ipv4_16(copy);
      if (r != copy) return r == copy + s.size();
    }
  }
#endif
  return parse_ipv4(s, a);
}

/// After the host of a hostport (`b` its start, `p` its end): [":" port], and
/// `used`, the bytes of the hostport.
inline errc hostport_tail(const char* b, const char* p, const char* e, std::uint16_t& port, bool& has_port,
                          std::size_t& used) noexcept {
  has_port = false;
  port = 0;
  if (p < e && *p == ':') {
    ++p;
    if (!scan_port(p, e, port)) return errc::bad_uri;
    has_port = true;
  }
  used = static_cast<std::size_t>(p - b);
  return errc::ok;
}

/// scan_hostport(), with its most common case inline: an IPv4 host in a view of
/// 16 bytes or more (a sent-by with its port and params after it). The same
/// answers; the rest is the out-of-line call.
inline errc scan_hostport_inline(std::string_view s, std::string_view& host, host_kind& kind, std::uint16_t& port,
                                 bool& has_port, std::size_t& used) noexcept {
#if defined(__SSE2__)
  const char* const b = s.data();
  if (s.size() >= 16 && chars::is_digit(*b)) {
    const char* const p = scan_ipv4_16(b);
    // Decided, a valid address, and not followed by another host byte (p < b + 16).
    if (p != b && p != nullptr && !chars::is(*p, chars::k_host)) {
      host = {b, static_cast<std::size_t>(p - b)};
      kind = host_kind::ipv4;
      return hostport_tail(b, p, b + s.size(), port, has_port, used);
    }
  }
#endif
  return scan_hostport(s, host, kind, port, has_port, used);
}

}  // namespace sipfront::sip::detail
