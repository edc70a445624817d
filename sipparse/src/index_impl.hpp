// Private: the header index loop, written once and compiled per ISA.
//
// Each scan_<isa>.cpp instantiates message::index_with() inside a function that
// carries its target attribute and is flattened, so the 64-byte classifier is
// inlined into the loop: no call per block, and the loop's state stays in
// registers. message::parse() reaches the variant through one indirect call per
// datagram (scanner::index).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "header_table.hpp"
#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/message.hpp"
#include "sipfront/sipparse/scan.hpp"

namespace sipfront::sip {
namespace detail {

// The common line's entry is built in one 64-bit value (name_slot_entry::entry).
static_assert(std::endian::native == std::endian::little);
static_assert(offsetof(header_entry, name_off) == 0 && offsetof(header_entry, value_off) == 2 &&
              offsetof(header_entry, value_len) == 4 && offsetof(header_entry, name_len) == 6 &&
              offsetof(header_entry, id) == 7);

/// The index of the lowest set bit of x != 0. In asm: for __builtin_ctzll GCC puts
/// a dependency-breaking xor before each tzcnt (a false output dependency of CPUs
/// before Skylake), one instruction more for every bit the index loop takes. Without
/// BMI1 the same encoding runs as bsf, which gives the same index for x != 0.
[[gnu::always_inline]] inline std::size_t low_bit(std::uint64_t x) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
  std::uint64_t r;
  asm("tzcnt %1, %0" : "=r"(r) : "r"(x));
  return r;
#else
  return static_cast<std::size_t>(std::countr_zero(x));
#endif
}

// Walks the datagram's line ends one 64-byte block at a time, and only as far as
// the header index reads: a body is never classified. The mask holds only the
// line ends not yet taken: taking the next one is a tzcnt and clearing its bit
// (x & (x - 1)), with no shift by a position and no block compare. Kept in locals
// of the parse loop (the struct never escapes), so it lives in registers. (The
// classifier's colon mask goes unused: a header's colon is found in the 16 bytes
// the name lookup loads anyway, and the inlined classifier drops its compares.)
//
// A line end that is the datagram's last byte is left out of the masks and given
// last, by the end path: every line end the masks give has a byte after it, so the
// index's common line needs no bound check before reading that byte (next_lf()).
template <class Classify>
struct line_walker {
  const char* base;
  std::size_t size;
  Classify classify;
  // Offset of the last block that ends before the datagram's last byte, 0 when
  // there is none: a block at or before it is classified in place, with no check.
  std::size_t last_whole = size > 64 ? size - 65 : 0;
  std::size_t block = 0;  // offset of the classified block
  std::uint64_t lf = 0;
  // What the end path gives next: the last byte's offset when it is a line end,
  // else (and once it has been given) size.
  std::size_t tail = base[size - 1] == '\n' ? size - 1 : size;

  /// Classifies the first block.
  [[gnu::always_inline]] void load_first() noexcept {
    lf = size > 64 ? classify(base).lf : classify_short(base, size - 1);
  }

  // A datagram of at most one block: its line ends byte by byte (no byte past it is
  // read; no copy to pad it). Inline: around a call the AVX2 classifier's constant
  // would be saved in a 32-byte stack slot, which realigns the frame and takes a
  // register for the frame pointer.
  static std::uint64_t classify_short(const char* p, std::size_t n) noexcept {
    std::uint64_t m = 0;
    for (std::size_t i = 0; i < n; ++i) {
      m |= static_cast<std::uint64_t>(p[i] == '\n') << i;
      asm("" : "+r"(m));  // not vectorized: GCC's vector loop spills 32-byte values
    }
    return m;
  }

  /// Consumes the next line end into `at` and returns true when a byte follows it;
  /// false at the end of the datagram, with `at` the last byte's offset when that
  /// is a line end not yet taken, else size.
  [[gnu::always_inline]] bool next_lf(std::size_t& at) noexcept {
    for (;;) {
      if (lf != 0) [[likely]] {
        at = block + low_bit(lf);
        lf &= lf - 1;
        return true;
      }
      // Stepped in place (no copy of the old offset kept for the paths below). At
      // the end it keeps stepping on each call, never past size + 64 * calls.
      block += 64;
      if (block <= last_whole) [[likely]] {
        lf = classify(base + block).lf;
        continue;
      }
      if (block >= size - 1) {
        at = tail;
        tail = size;
        return false;
      }
      // The last, partial block of a datagram of more than one block: its last 64
      // bytes (an in-bounds load overlapping the block before), the bits already
      // walked shifted out, the last byte's cleared.
      lf = (classify(base + size - 64).lf & ~(std::uint64_t{1} << 63)) >> (64 - (size - block));
    }
  }

  /// Consumes the next line end and returns its offset; size when none.
  [[gnu::always_inline]] std::size_t take_lf() noexcept {
    std::size_t at;
    next_lf(at);
    return at;
  }
};

/// chars::is_lws_byte() with a 32-bit mask: GCC keeps the 64-bit one of a bit test
/// in a register across the whole index loop, for these rare trims.
constexpr bool lws_byte(char c) noexcept {
  const unsigned i = static_cast<unsigned char>(c) - unsigned{'\t'};  // HT 0, LF 1, CR 4, SP 23
  return i <= 23 && ((0x800013U >> i) & 1U) != 0;
}
constexpr bool lws_byte_is_lws() noexcept {
  for (int c = 0; c < 256; ++c) {
    if (lws_byte(static_cast<char>(c)) != chars::is_lws_byte(static_cast<char>(c))) return false;
  }
  return true;
}
static_assert(lws_byte_is_lws());

/// The first ':' in b[from, to), or to when there is none.
inline std::size_t find_colon(const char* b, std::size_t from, std::size_t to) noexcept {
  while (from < to && b[from] != ':') ++from;
  return from;
}

/// x * 0x10001 (x < 2^16: x in bits 0 and 16): one imul, where GCC would make
/// it a copy, a shift and an add.
[[gnu::always_inline]] inline std::uint64_t times_0x10001(std::uint64_t x) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
  std::uint64_t r;
  asm("imul $0x10001, %1, %0" : "=r"(r) : "r"(x));
  return r;
#else
  return x * 0x10001;
#endif
}

/// x |= 1 << i as one bts: for a shift GCC copies i to rcx, and on the common line,
/// ahead of the branch that rarely needs it.
[[gnu::always_inline]] inline void set_bit(std::uint64_t& x, std::size_t i) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
  asm("bts %1, %0" : "+r"(x) : "r"(i) : "cc");
#else
  x |= std::uint64_t{1} << i;
#endif
}

/// What indexer::general_line() did with a line: its error (the line skipped), or
/// the entry it added, its id and whether that id was seen before.
struct line_result {
  errc error;
  header_id id;
  bool repeat;
};

/// Runs the index with a given classifier; the friend through which the per-ISA
/// entry points reach message's private loop.
struct indexer {
  /// One header line in any shape but the index loop's common one (see there).
  /// Cold: the loop then lays out its common line as the straight path.
  [[gnu::cold, gnu::noinline]] static line_result general_line(message& m, std::size_t line_start, std::size_t lf1,
                                                               std::size_t eol, std::size_t n,
                                                               const name_slot_entry* known,
                                                               std::size_t colon) noexcept;
  template <class Classify>
  [[gnu::always_inline]] static errc run(message& m, std::string_view datagram, Classify classify) noexcept {
    return m.index_with(datagram, classify);
  }
  /// detail::index_reference(): the index byte by byte (scan.cpp).
  static errc reference(message& m, std::string_view datagram) noexcept;
};

constexpr std::string_view strip_cr(std::string_view line) noexcept {
  return (!line.empty() && line.back() == '\r') ? line.substr(0, line.size() - 1) : line;
}

}  // namespace detail

template <class Classify>
[[gnu::always_inline]] inline errc message::index_with(std::string_view datagram, Classify classify) noexcept {
  reset(datagram);
  if (datagram.size() > max_datagram) return error_ = errc::too_large;
  const char* p = datagram.data();
  const char* const end = p + datagram.size();
  while (p < end && (*p == '\r' || *p == '\n')) ++p;  // RFC 3261 §7.5: ignore leading CRLFs
  lead_ = static_cast<std::uint16_t>(p - datagram.data());
  base_ = p;
  const std::size_t size = static_cast<std::size_t>(end - p);
  size_ = static_cast<std::uint16_t>(size);
  if (p == end) return error_ = errc::empty;

  detail::line_walker<Classify> walk{base_, size, classify};
  walk.load_first();
  const char* const b = base_;  // a local: stores into the index must not force reloads
  const std::size_t lf = walk.take_lf();
  const std::string_view line = detail::strip_cr({base_, lf});
  start_len_ = static_cast<std::uint16_t>(line.size());
  // The start line is parsed after the header lines: no state of the loop then lives
  // across the call (values kept in registers across a call take the few call-saved
  // ones and push the rest to the stack). The outcome is the same, as its fields and
  // the index's are disjoint: its error, if any, comes first, then the first error
  // of the header lines, then framing's.
  auto finish = [&](errc e) {
    const errc start = parse_start_line(line);
    return error_ = (start != errc::ok ? start : e);
  };
  if (lf == size) return finish(errc::no_header_end);
  errc first_error = errc::ok;  // the header lines' first
  std::size_t pos = lf + 1;
  headers_off_ = static_cast<std::uint16_t>(pos);

#if defined(__SSE2__)
  // The last line start with 16 bytes from it in the datagram. 0 when there is
  // none: a header line starts after the start line's LF, never at 0.
  const std::size_t last16 = size >= 16 ? size - 16 : 0;
#endif
  // Every LWS byte (and CR, LF) is <= ' ': one compare rules out the common case.
  auto low = [](char c) { return static_cast<unsigned char>(c) <= ' '; };
  // The header count lives in a local: the index's byte stores (first_) may alias
  // any member, so a member counter would be reloaded after each of them. So do the
  // ids seen more than once (repeated_): a bit set on the rare repeat, where a
  // per-id count would be a load and a store on every line.
  std::size_t n = 0;
  std::uint64_t repeated = 0;
  auto fail = [&](errc e) {
    n_headers_ = static_cast<std::uint8_t>(n);
    repeated_ = repeated;
    return finish(first_error != errc::ok ? first_error : e);
  };
  // One header line: b[line_start, eol] with its folded continuation lines, lf1 its
  // first line end (the colon must come before it). Here only the common shape, the
  // rest in indexer::general_line(), out of line: its loops and lookups would take
  // registers from this loop. A malformed line is skipped, its error kept, so a 400
  // can still be built.
  auto index_line = [&](std::size_t line_start, std::size_t lf1, std::size_t eol) {
    const detail::name_slot_entry* known = nullptr;
    std::size_t colon = 0;  // 0 when not searched: a header line never starts at 0
#if defined(__SSE2__)
    // The common shape, taken from one 16-byte load at the line start: 16 bytes
    // remain (all but a datagram's last lines), the colon is among them, before the
    // line end, the name before it is a known one, spelled without white space, and
    // the value has ": " before it and CR LF after it. The same load serves the
    // colon search and the name compare.
    if (line_start <= last16) [[likely]] {
      const char* name = b + line_start;
      const __m128i head = _mm_loadu_si128(reinterpret_cast<const __m128i*>(name));  // NOLINT
      // Without a colon among the 16 bytes, the bit past them stands for one at
      // k_max_known_name: no known name is that long, so nothing matches it. No
      // test and branch for it here.
      const auto colons = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(head, _mm_set1_epi8(':')))) |
                          (1U << detail::k_max_known_name);
      const std::size_t name_len = detail::low_bit(colons);
      colon = line_start + name_len;
      if (colon < lf1) [[likely]] {
        // name[-1] is the line end before the line: line_word() of the name.
        known = detail::match_name16(head, detail::load<std::uint32_t>(name - 1), name_len);
        // The value tests of general_line(), in its order; b[eol - 2, eol) is read
        // as one word (CR, then a byte above ' ').
        if (known != nullptr && n != max_headers && b[colon + 1] == ' ' && !low(b[colon + 2]) &&
            detail::load<std::uint16_t>(b + eol - 2) - std::uint32_t{0x0d21} <= 0xde) [[likely]] {
          const std::uint64_t e =
              detail::times_0x10001(line_start) + (std::uint64_t{eol - line_start} << 32) + known->entry;
          std::memcpy(&headers_[n], &e, sizeof e);
          const auto idx = static_cast<std::size_t>(known->id);
          if (first_[idx] == npos8) [[likely]] {
            first_[idx] = static_cast<std::uint8_t>(n);
          } else {
            detail::set_bit(repeated, idx);
          }
          ++n;
          return;
        }
      }
    }
#endif
    const detail::line_result r = detail::indexer::general_line(*this, line_start, lf1, eol, n, known, colon);
    if (r.error != errc::ok) [[unlikely]] {
      if (first_error == errc::ok) first_error = r.error;
      return;
    }
    repeated |= std::uint64_t{r.repeat} << static_cast<std::size_t>(r.id);
    ++n;
  };
  for (;;) {
    if (pos >= size) {
      // The datagram ends right after a complete header line: some senders omit the
      // blank line when there is no body. Take it as the end of the headers.
      if (n == 0) return fail(errc::no_header_end);
      head_end_ = body_off_ = size_;
      break;
    }
    const char c0 = b[pos];
    if (c0 == '\n' || (c0 == '\r' && pos + 1 < size && b[pos + 1] == '\n')) {
      head_end_ = static_cast<std::uint16_t>(pos);
      body_off_ = static_cast<std::uint16_t>(pos + (c0 == '\n' ? 1 : 2));
      break;
    }
    // The header lines that follow one another, each known to be one (its first byte
    // is above ' ', so it is neither the blank line nor a continuation): the check
    // of the byte after a line end has read it already. That check is made twice,
    // so the common line loops back from its own copy of index_line() with no flag.
    for (;;) {
      const std::size_t line_start = pos;
      std::size_t lf1;
      if (walk.next_lf(lf1) && !low(b[lf1 + 1])) [[likely]] {
        pos = lf1 + 1;
        index_line(line_start, lf1, lf1);
        continue;
      }
      // A line end followed by SP or HT continues the line (folding); one followed by
      // a byte above ' ' starts the next header line.
      std::size_t eol = lf1;
      bool plain;  // the next line is plainly a header line
      for (;;) {
        if (eol + 1 >= size) [[unlikely]] {
          if (eol >= size) return fail(errc::no_header_end);
          plain = false;
          break;
        }
        const char c = b[eol + 1];
        plain = !low(c);
        if (plain || !chars::is_ws(c)) [[likely]]
          break;
        eol = walk.take_lf();
      }
      pos = eol + 1;
      index_line(line_start, lf1, eol);
      if (!plain) break;
    }
  }
  n_headers_ = static_cast<std::uint8_t>(n);
  repeated_ = repeated;

  // frame_body() for its common case, one digit of Content-Length that the datagram
  // holds ("Content-Length: 0" above all), without the call; anything else goes to it.
  errc framing = errc::ok;
  const std::uint8_t cl = first_[static_cast<std::size_t>(header_id::content_length)];
  const unsigned digit = cl != npos8 ? static_cast<unsigned char>(b[headers_[cl].value_off]) - unsigned{'0'} : 10;
  if (cl != npos8 && headers_[cl].value_len == 1 && digit <= 9 && digit <= size - body_off_) [[likely]] {
    body_len_ = static_cast<std::uint16_t>(digit);
  } else {
    framing = frame_body();
  }
  return finish(first_error != errc::ok ? first_error : framing);
}

}  // namespace sipfront::sip
