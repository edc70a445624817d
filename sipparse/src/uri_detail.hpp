// Private helpers shared by the URI and Via parsers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string_view>

#include "short_runs.hpp"
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
/// The number the `n` (1..5) digits at the bottom of `w` spell, `w` being eight
/// bytes of text XOR 0x30 (each digit its value).
inline unsigned port_digits_value(std::uint64_t w, std::size_t n) noexcept {
  // The digits to the top of the word, zeros (leading zeros) below, then the
  // usual pairwise combination: ten per pair, a hundred, ten thousand.
  w <<= 8 * (8 - n);
  w = (w * 10) + (w >> 8);
  w = (((w & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
       (((w >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
      32;
  return static_cast<unsigned>(w);
}

/// port = 1*DIGIT, <= 65535 (leading zeros allowed): the digit run at `p`, which
/// `p` is moved past. Answers as parse_uint(run, 65535) does, without its call for
/// the usual one to five digits. False when the run is empty or too large.
[[gnu::always_inline]] inline bool scan_port(const char*& p, const char* e, std::uint16_t& port) noexcept {
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
      v = port_digits_value(w, n);
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
/// The `n` (4 <= n <= 15) bytes at `p` zero-padded to 16, built in registers from
/// loads of eight or four bytes: a copy on the stack would be stored in pieces and
/// reloaded whole, a store-forwarding stall. For runs near the end of a view.
inline __m128i load_padded16(const char* p, std::size_t n) noexcept {
  const std::uint64_t lo = load_tail8(p, n < 8 ? n : 8);
  // Bytes 8 on: the last eight, shifted down past the ones `lo` holds.
  const std::uint64_t hi = n > 8 ? load_tail8(p + n - 8, 8) >> (8 * (16 - n)) : 0;
  return _mm_unpacklo_epi64(_mm_cvtsi64_si128(static_cast<long long>(lo)),
                            _mm_cvtsi64_si128(static_cast<long long>(hi)));
}
#endif

#if defined(__SSE2__)
// Bytes of `x` that start an octet above 255 if three digits start there: above
// '2', or "2" then above '5', or "25" then above '5'. Byte-wise (a byte shift
// brings byte i+1 to i), then one mask; bit i is byte i.
inline unsigned ipv4_big_mask(__m128i x) noexcept {
  const __m128i gt5 = _mm_cmpgt_epi8(x, _mm_set1_epi8('5'));
  const __m128i eq5 = _mm_cmpeq_epi8(x, _mm_set1_epi8('5'));
  const __m128i tail_big =
      _mm_or_si128(_mm_srli_si128(gt5, 1), _mm_and_si128(_mm_srli_si128(eq5, 1), _mm_srli_si128(gt5, 2)));
  const __m128i big = _mm_or_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('2')),
                                   _mm_and_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('2')), tail_big));
  return static_cast<unsigned>(_mm_movemask_epi8(big));
}

// The IPv4 reader of scan_hostport() (greedy octets of up to three digits, byte
// by byte) for the common case, on the masks of 16 bytes (bit i is byte i, bits
// 16 and up clear; bytes past the end of a view read as clear bits): `digit`,
// `dot`, and `above255(three)`, asked only when needed: whether an octet of three
// digits starting at a bit of `three` is above 255 (ipv4_big_mask() of the bytes
// there). When the run of digits and dots at the start ends before the 16th byte
// and has the dotted-quad shape (three single dots between four octets of one to
// three digits), the byte reader reads exactly those octets, so this answers as
// it would: the run's length, or -1 when an octet is above 255. Any other run
// gives 0: not decided here.
template <class Above255>
inline int ipv4_run_len(unsigned digit, unsigned dot, Above255 above255) noexcept {
  const auto len = static_cast<unsigned>(__builtin_ctz(~(digit | dot)));  // <= 16: bit 16 is clear
  if (len == 16) return 0;
  const unsigned run = (1U << len) - 1;
  const unsigned t = dot & run;
  const unsigned d = digit & run;
  const unsigned t2 = t & (t - 1);                                      // t without its first dot
  const unsigned t3 = t2 & (t2 - 1);                                    // ... and its second
  const bool shape = t3 != 0 && (t3 & (t3 - 1)) == 0 &&                 // three dots
                     (t & ((t >> 1) | 1U | (1U << (len - 1)))) == 0 &&  // not adjacent, first or last
                     (d & (d >> 1) & (d >> 2) & (d >> 3)) == 0;         // no octet of four digits or more
  if (!shape) return 0;
  // Three digits at i: i starts an octet (four in a row were ruled out).
  const unsigned three = d & (d >> 1) & (d >> 2);
  if (above255(three)) return -1;
  return static_cast<int>(len);
}

// The digits of `x` (bit i for byte i).
inline unsigned digit_mask(__m128i x) noexcept {
  const __m128i off = _mm_sub_epi8(x, _mm_set1_epi8('0'));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(off, _mm_set1_epi8(9)), off)));
}

// ipv4_run_len() on the 16 bytes of `x`; `digit` is set to the digit mask.
inline int ipv4_len16(__m128i x, unsigned& digit) noexcept {
  digit = digit_mask(x);
  const auto dot = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.'))));
  return ipv4_run_len(digit, dot, [x](unsigned three) { return (three & ipv4_big_mask(x)) != 0; });
}

// The 81 dotted-quad shapes (octets of one to three digits) for
// ipv4_len16_lookup(): the key of a run of digits and dots is its dot bits plus
// bit `len` (its end), so the shape is one hash probe, not a dozen bit steps.
// A slot holds a shape's key (low half; 0 when empty: a key is never 0) and the
// bits of its three-digit octets' first digits (high half).
struct ipv4_shapes {
  static constexpr std::uint32_t k_mul = 0x8d981bU;  // no two of the 81 keys share a slot (checked below)
  static constexpr unsigned slot(std::uint32_t key) noexcept { return (key * k_mul) >> 24; }
  std::uint32_t slots[256];
};
consteval ipv4_shapes make_ipv4_shapes() {
  ipv4_shapes t{};
  for (unsigned s = 0; s < 81; ++s) {
    unsigned key = 0;
    unsigned three = 0;
    unsigned pos = 0;
    for (unsigned i = 0, n = s; i < 4; ++i, n /= 3) {
      const unsigned len = n % 3 + 1;
      if (len == 3) three |= 1U << pos;
      pos += len;
      key |= 1U << pos;  // the dot after the octet, or the end after the last
      ++pos;
    }
    std::uint32_t& e = t.slots[ipv4_shapes::slot(key)];
    if (e != 0) throw "ipv4_shapes: two shapes in one slot";  // not a constant expression: no build
    e = key | (three << 16);
  }
  return t;
}
inline constexpr ipv4_shapes k_ipv4_shapes = make_ipv4_shapes();

// ipv4_len16_lookup() on the masks of the 16 bytes of `x` shifted down by
// `shift` (bit i is byte shift + i; the bits past the 16 bytes read as clear, as
// the end of a view does): the run's length, -1 or 0, as ipv4_len16() answers.
[[gnu::always_inline]] inline int ipv4_lookup_shifted(__m128i x, unsigned shift) noexcept {
  auto mask = [shift](__m128i m) { return static_cast<unsigned>(_mm_movemask_epi8(m)) >> shift; };
  const unsigned digit = digit_mask(x) >> shift;
  const unsigned dot = mask(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')));
  const unsigned run = digit | dot;
  // The dots of the run and the bit after it: u ^ (u + 1) is bits 0..len.
  const unsigned key = (dot | ~run) & (run ^ (run + 1));
  const std::uint32_t e = k_ipv4_shapes.slots[ipv4_shapes::slot(key)];
  if ((e & 0xffffU) != key) return 0;  // not a dotted quad within 15 bytes (a 16-byte run has bit 16)
  const unsigned three = e >> 16;
  if ((three & mask(_mm_cmpgt_epi8(x, _mm_set1_epi8('1')))) != 0 && (three & (ipv4_big_mask(x) >> shift)) != 0) {
    return -1;
  }
  return __builtin_ctz(~run);
}

// ipv4_len16(x) (the same answer: the run's length, -1 or 0) with the shape from
// k_ipv4_shapes; the octets above 255 are looked for only when a three-digit
// octet starts with '2' or more (else none can be).
inline int ipv4_len16_lookup(__m128i x) noexcept { return ipv4_lookup_shifted(x, 0); }

// ipv4_len16() on the 16 bytes at `p` (16 readable there): the run's end, `p`
// itself when not decided, or nullptr when an octet is above 255.
inline const char* scan_ipv4_16(const char* p) noexcept {
  unsigned digit = 0;
  const int len = ipv4_len16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), digit);  // NOLINT
  return len < 0 ? nullptr : p + len;
}
#endif

/// Whether sip_uri_tail() accepts [p, e): `p` at the ';' or '?' after a SIP
/// URI's hostport, `e` the URI's end (params and headers, their values dropped).
bool sip_uri_tail_ok(const char* p, const char* e) noexcept;

// "sip:" and "sips" as a little-endian load of their four bytes reads them.
inline constexpr std::uint32_t k_sip_colon = 0x3a706973U;
inline constexpr std::uint32_t k_sips = 0x73706973U;

#if defined(__SSE2__)
// Bytes of `v` in a subset of the user class: letters, digits and "+,-./" (the
// users phones write: numbers, names, E.164, UUIDs). '@', ':' and '%' are not in it.
inline __m128i user_subset(__m128i v) noexcept {
  return _mm_or_si128(in_range<'a', 'z'>(_mm_or_si128(v, _mm_set1_epi8(0x20))), in_range<'+', '9'>(v));
}

// The first byte of [b, e) outside user_subset(), by 16-byte steps (16 bytes or
// more readable from `b`; the last load ends at `e`), or nullptr when there is none.
inline const char* user_subset_end(const char* b, const char* const e) noexcept {
  const char* at = b;
  for (;;) {
    const auto out = ~static_cast<unsigned>(_mm_movemask_epi8(user_subset(load16(at)))) & 0xffffU;
    if (out != 0) return at + __builtin_ctz(out);
    if (e - at <= 16) return nullptr;
    at = e - at >= 32 ? at + 16 : e - 16;
  }
}

// Whether parse_uri(s) succeeds, answered without building the uri for the
// Contact of a phone: "sip:" or "sips:", user "@" IPv4address [":" port], then
// the end, or params or headers that sip_uri_tail_ok() accepts, with 16 bytes or
// more after the scheme (the shape sip_uri_ipv4() in uri.cpp reads, the same
// steps). True: parse_uri(s) succeeds; false: not decided here (any other
// shape, and every error), for parse_uri() to answer.
inline bool uri_ok_fast(std::string_view s) noexcept {
  if (s.size() < 5 + 16) return false;
  const char* b = s.data() + 4;
  if (const std::uint32_t w = load_le32(s.data()); w != k_sip_colon) {
    if (w != k_sips || s[4] != ':') return false;
    ++b;
  }
  const char* const e = s.data() + s.size();
  const char* const at = user_subset_end(b, e);
  if (at == nullptr || *at != '@' || at == b) return false;
  const char* const host = at + 1;
  const auto rem = static_cast<std::size_t>(e - host);
  if (rem < 7) return false;
  // 16 bytes at the host, or the last 16 of the view with the masks shifted down
  // to the host (s has 21 bytes or more: in bounds).
  const std::size_t shift = rem >= 16 ? 0 : 16 - rem;
  const int len = ipv4_lookup_shifted(load16(host - shift), static_cast<unsigned>(shift));
  if (len <= 0) return false;
  const char* p = host + len;
  if (p == e) return true;
  if (*p == ':') {
    // port = 1..5 digits <= 65535 (more are left to scan_port()): eight bytes at
    // them, or the last eight of the view shifted down to them (zeros past `e`).
    const char* const d = p + 1;
    const auto r = static_cast<std::size_t>(e - d);
    if (r == 0) return false;
    std::uint64_t w = r >= 8 ? load_le64(d) : load_le64(e - 8) >> (8 * (8 - r));
    w ^= 0x3030303030303030ULL;  // '0'..'9' -> 0..9
    const std::uint64_t bad = (((w & 0x7f7f7f7f7f7f7f7fULL) + 0x7676767676767676ULL) | w) & 0x8080808080808080ULL;
    if (bad == 0) return false;
    const auto n = static_cast<std::size_t>(__builtin_ctzll(bad)) / 8;
    // Four digits or fewer are below 65536; only five need the value.
    if (n == 0 || n > 5 || (n == 5 && port_digits_value(w, n) > 65535)) return false;
    p = d + n;
    if (p == e) return true;
  }
  // A letter or '-' after the address would make it a hostname: declined.
  return (*p == ';' || *p == '?') && sip_uri_tail_ok(p, e);
}
#endif

/// parse_ipv4(s) without its value, where the view `s` lies in may be read up to
/// `end` (>= the end of `s`) and no digit or dot follows `s` before `end` (a whole
/// param value): with 16 bytes there, one 16-byte check (a dotted quad ends at a
/// byte that is no digit or dot, so at the end of `s` or before).
inline bool is_ipv4(std::string_view s, const char* end) noexcept {
  std::uint32_t a = 0;
#if defined(__SSE2__)
  const char* const b = s.data();
  if (s.size() >= 7 && chars::is_digit(*b)) {
    if (end - b >= 16) {
      const char* const r = scan_ipv4_16(b);
      if (r != b) return r == b + s.size();  // nullptr (an octet above 255) is false too
    } else if (s.size() <= 15) {
      // Too near the end of the view for a 16-byte load: `s` zero-padded to 16
      // bytes; the zero ends the run as the view's end does.
      unsigned digit = 0;
      const int len = ipv4_len16(load_padded16(b, s.size()), digit);
      if (len != 0) return len == static_cast<int>(s.size());
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
/// 32 bytes or more (a sent-by with its port and params after it). The same
/// answers; the rest is the out-of-line call.
inline errc scan_hostport_inline(std::string_view s, std::string_view& host, host_kind& kind, std::uint16_t& port,
                                 bool& has_port, std::size_t& used) noexcept {
#if defined(__SSE2__)
  const char* const b = s.data();
  if (s.size() >= 32 && chars::is_digit(*b)) {
    unsigned digit = 0;
    const int len = ipv4_len16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), digit);  // NOLINT
    // Decided, a valid address, and not followed by another host byte (len < 16).
    if (len > 0 && !chars::is(b[len], chars::k_host)) {
      const auto n4 = static_cast<unsigned>(len);
      host = {b, n4};
      kind = host_kind::ipv4;
      if (b[len] == ':') {
        // The port's digit run from the digit masks of the 32 bytes at `b`, which
        // are loaded with the address: its end is then a few bit operations after
        // the address's, where scan_port() would load at it first. Its value is
        // scan_port()'s, read at the same place (in the 32 bytes: n4 <= 15).
        const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 16));  // NOLINT
        const __m128i off = _mm_sub_epi8(x1, _mm_set1_epi8('0'));
        const auto digit32 =
            digit |
            (static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(off, _mm_set1_epi8(9)), off))) << 16);
        // Bits above the window are 1 after ~: the run ends in it when n <= 5.
        const auto n = static_cast<unsigned>(__builtin_ctz(~(digit32 >> (n4 + 1))));
        if (n >= 1 && n <= 5) {
          std::uint64_t w = 0;
          std::memcpy(&w, b + n4 + 1, 8);
          const unsigned v = port_digits_value(w ^ 0x3030303030303030ULL, n);
          if (v <= 65535) {
            port = static_cast<std::uint16_t>(v);
            has_port = true;
            used = n4 + 1 + n;
            return errc::ok;
          }
        }
      }
      return hostport_tail(b, b + len, b + s.size(), port, has_port, used);
    }
  }
#endif
  return scan_hostport(s, host, kind, port, has_port, used);
}

}  // namespace sipfront::sip::detail
