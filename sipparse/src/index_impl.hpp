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

// Walks the datagram's line ends one 64-byte block at a time, and only as far as
// the header index reads: a body is never classified. The mask holds only the
// line ends not yet taken: taking the next one is a tzcnt and clearing its bit
// (x & (x - 1)), with no shift by a position and no block compare. Kept in locals
// of the parse loop (the struct never escapes), so it lives in registers. (The
// classifier's colon mask goes unused: a header's colon is found in the 16 bytes
// the name lookup loads anyway, and the inlined classifier drops its compares.)
template <class Classify>
struct line_walker {
  const char* base;
  std::size_t size;
  Classify classify;
  // Offset of the last whole block, 0 when there is none: a block at or before it
  // is classified in place, with no further check.
  std::size_t last_whole = size >= 64 ? size - 64 : 0;
  std::size_t block = 0;  // offset of the classified block
  std::uint64_t lf = 0;

  /// Classifies the first block.
  [[gnu::always_inline]] void load_first() noexcept {
    lf = size >= 64 ? classify(base).lf : classify_short(base, size);
  }

  // A datagram shorter than one block: its line ends byte by byte (no byte past it
  // is read; no copy to pad it). Out of line: real datagrams are longer.
  [[gnu::noinline, gnu::cold]] static std::uint64_t classify_short(const char* p, std::size_t n) noexcept {
    std::uint64_t m = 0;
    for (std::size_t i = 0; i < n; ++i) m |= static_cast<std::uint64_t>(p[i] == '\n') << i;
    return m;
  }

  /// Consumes the next line end and returns its offset; size when none.
  [[gnu::always_inline]] std::size_t take_lf() noexcept {
    for (;;) {
      if (lf != 0) [[likely]] {
        // Through unsigned: the bit index is zero-extended, with no sign extension.
        const std::size_t at = block + static_cast<unsigned>(__builtin_ctzll(lf));
        lf &= lf - 1;
        return at;
      }
      const std::size_t next = block + 64;
      if (next <= last_whole) [[likely]] {
        block = next;
        lf = classify(base + next).lf;
        continue;
      }
      if (next >= size) return size;
      // The last, partial block of a datagram of more than one block: its last 64
      // bytes (an in-bounds load overlapping the block before), the bits already
      // walked shifted out.
      block = next;
      lf = classify(base + size - 64).lf >> (64 - (size - next));
    }
  }
};

/// The first ':' in b[from, to), or to when there is none.
inline std::size_t find_colon(const char* b, std::size_t from, std::size_t to) noexcept {
  while (from < to && b[from] != ':') ++from;
  return from;
}

/// Runs the index with a given classifier; the friend through which the per-ISA
/// entry points reach message's private loop.
struct indexer {
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
  errc first_error = parse_start_line(line);
  if (lf == size) return error_ = (first_error != errc::ok ? first_error : errc::no_header_end);
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
    return error_ = (first_error != errc::ok ? first_error : e);
  };
  // The inner loop runs while the next line is known to be a header line (its first
  // byte is above ' ', so it is neither the blank line nor a continuation): the
  // fold check read that byte already, so the end checks above are skipped.
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
    bool plain;  // set by the fold check: the next line is plainly a header line
    do {
      // One header line, with its folded continuation lines.
      const std::size_t line_start = pos;
      const std::size_t lf1 = walk.take_lf();  // the first line end: the colon must come before it
      std::size_t eol = lf1;
      // A line end followed by SP or HT continues the line (folding); one followed by
      // a byte above ' ' starts the next header line.
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

      // The name ends at the line's first colon; without one the line is malformed.
      // Trailing white space before the colon is not part of the name.
      const char* name = b + line_start;
      std::size_t name_len;
      // b[colon - 1] is in the datagram even for an empty name: the previous line's LF.
      auto trailing_ws = [&](std::size_t colon) { return low(b[colon - 1]); };
      auto trim_name = [&](std::size_t len) {
        while (len > 0 && chars::is_ws(name[len - 1])) --len;
        return len;
      };
      header_id id;
      std::size_t colon;
#if defined(__SSE2__)
      // The common shape, taken from one 16-byte load at the line start: 16 bytes
      // remain (all but a datagram's last lines), and the colon is among them, before
      // the line end. The same load serves the name lookup.
      __m128i head{};
      std::uint64_t colons = 0;  // the colons among the 16 bytes
      if (line_start <= last16) [[likely]] {
        head = _mm_loadu_si128(reinterpret_cast<const __m128i*>(name));  // NOLINT
        colons = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(head, _mm_set1_epi8(':'))));
      }
      // The first colon, when it comes before the line end.
      const auto at = static_cast<std::size_t>(std::countr_zero(colons));
      if (colons != 0 && line_start + at < lf1) [[likely]] {
        colon = line_start + at;
        name_len = at;
        // The slot from the line's first four bytes, read without waiting for the colon.
        // A name with white space before the colon matches no slot (the compare takes
        // the colon right after the name): only then is it trimmed and looked up again.
        id = detail::lookup_name16(head, detail::load<std::uint32_t>(name), name, name_len);
        if (id == header_id::other && trailing_ws(colon)) [[unlikely]] {
          name_len = trim_name(name_len);
          id = detail::lookup_name(name, name_len);
        }
      } else
#endif
      {
        colon = detail::find_colon(b, line_start, lf1);
        if (colon == lf1) [[unlikely]] {
          if (first_error == errc::ok) first_error = errc::bad_header_line;
          continue;  // skip the line; keep indexing so a 400 can still be built
        }
        name_len = colon - line_start;
        if (trailing_ws(colon)) [[unlikely]]
          name_len = trim_name(name_len);
        id = detail::lookup_name(name, name_len);
      }
      // A known name is a token by construction; only unknown ones need the character check.
      if (id == header_id::other && (name_len > 255 || !chars::is_token_string({name, name_len}))) [[unlikely]] {
        if (first_error == errc::ok) first_error = errc::bad_header_line;
        continue;
      }
      if (n == max_headers) [[unlikely]] {
        if (first_error == errc::ok) first_error = errc::too_many_headers;
        continue;
      }
      // The value without surrounding LWS: usually one SP before and CR after, so
      // take those first and loop only for the rest. No bound checks are needed for
      // them: b[colon] is ':', so a CR before the LF lies after it, and when the
      // value is empty b[vb] is that CR or the LF, never SP.
      std::size_t vb = colon + 1;
      std::size_t ve = eol - static_cast<std::size_t>(b[eol - 1] == '\r');
      vb += static_cast<std::size_t>(b[vb] == ' ');
      if (low(b[vb]) || low(b[ve - 1])) [[unlikely]] {
        while (vb < ve && chars::is_lws_byte(b[vb])) ++vb;
        while (ve > vb && chars::is_lws_byte(b[ve - 1])) --ve;
      }
      header_entry& h = headers_[n];
      h.name_off = static_cast<std::uint16_t>(line_start);
      h.name_len = static_cast<std::uint8_t>(name_len);
      h.value_off = static_cast<std::uint16_t>(vb);
      h.value_len = static_cast<std::uint16_t>(ve - vb);
      h.id = id;
      const auto idx = static_cast<std::size_t>(id);
      if (first_[idx] == npos8) {
        first_[idx] = static_cast<std::uint8_t>(n);
      } else {
        repeated |= std::uint64_t{1} << idx;
      }
      ++n;
    } while (plain);
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
  if (first_error == errc::ok) first_error = framing;
  return error_ = first_error;
}

}  // namespace sipfront::sip
