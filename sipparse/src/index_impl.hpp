// Private: the header index loop, written once and compiled per ISA.
//
// Each scan_<isa>.cpp instantiates message::index_with() inside a function that
// carries its target attribute and is flattened, so the 64-byte classifier is
// inlined into the loop: no call per block, and the loop's state stays in
// registers. message::parse() reaches the variant through one indirect call per
// datagram (scanner::index).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "header_table.hpp"
#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/message.hpp"
#include "sipfront/sipparse/scan.hpp"

namespace sipfront::sip {
namespace detail {

// Walks the datagram's line ends and colons one 64-byte block at a time, and only
// as far as the header index reads: a body is never classified. The masks hold
// only the bits not yet consumed: taking the next line end or colon is a tzcnt,
// and consuming it (and everything before it) clears the mask's low bits with
// x & ~(x ^ (x - 1)), with no shift by a position and no block compare. Kept in
// locals of the parse loop (the struct never escapes), so it lives in registers.
template <class Classify>
struct line_walker {
  const char* base;
  std::size_t size;
  Classify classify;
  std::size_t block = 0;  // offset of the classified block
  std::uint64_t lf = 0;
  std::uint64_t colon = 0;

  [[gnu::always_inline]] void load(std::size_t at) noexcept {
    block = at;
    block_masks m;
    if (size - at >= 64) [[likely]] {
      m = classify(base + at);
    } else {
      // The last, partial block: classify a zero-padded copy (no byte past the datagram is read).
      char tail[64] = {};
      std::memcpy(tail, base + at, size - at);
      m = classify(tail);
    }
    lf = m.lf;
    colon = m.colon;
  }

  /// Consumes through the next line end (or colon, with WithColon) and returns its offset; size when none.
  template <bool WithColon>
  [[gnu::always_inline]] std::size_t take() noexcept {
    for (;;) {
      const std::uint64_t x = WithColon ? (lf | colon) : lf;
      if (x != 0) [[likely]] {
        const std::uint64_t upto = x ^ (x - 1);  // the lowest set bit and every bit below it
        lf &= ~upto;
        colon &= ~upto;
        return block + static_cast<std::size_t>(__builtin_ctzll(x));
      }
      if (size - block <= 64) return size;
      load(block + 64);
    }
  }
  std::size_t take_lf() noexcept { return take<false>(); }
  std::size_t take_colon_or_lf() noexcept { return take<true>(); }
};

/// Runs the index with a given classifier; the friend through which the per-ISA
/// entry points reach message's private loop.
struct indexer {
  template <class Classify>
  [[gnu::always_inline]] static errc run(message& m, std::string_view datagram, Classify classify) noexcept {
    return m.index_with(datagram, classify);
  }
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
  walk.load(0);
  const char* const b = base_;  // a local: stores into the index must not force reloads
  const std::size_t lf = walk.take_lf();
  const std::string_view line = detail::strip_cr({base_, lf});
  start_len_ = static_cast<std::uint16_t>(line.size());
  errc first_error = parse_start_line(line);
  if (lf == size) return error_ = (first_error != errc::ok ? first_error : errc::no_header_end);
  std::size_t pos = lf + 1;
  headers_off_ = static_cast<std::uint16_t>(pos);

  for (;;) {
    if (pos >= size) {
      // The datagram ends right after a complete header line: some senders omit the
      // blank line when there is no body. Take it as the end of the headers.
      if (n_headers_ == 0) return error_ = (first_error != errc::ok ? first_error : errc::no_header_end);
      head_end_ = body_off_ = size_;
      break;
    }
    const char c0 = b[pos];
    if (c0 == '\n' || (c0 == '\r' && pos + 1 < size && b[pos + 1] == '\n')) {
      head_end_ = static_cast<std::uint16_t>(pos);
      body_off_ = static_cast<std::uint16_t>(pos + (c0 == '\n' ? 1 : 2));
      break;
    }
    // One header line, with its folded continuation lines.
    const std::size_t line_start = pos;
    // The walk stands right after the previous line's end: the next set bit is
    // this line's colon, or its line end when it has none.
    const std::size_t colon = walk.take_colon_or_lf();
    const bool has_colon = colon < size && b[colon] == ':';
    std::size_t eol = has_colon ? walk.take_lf() : colon;
    while (eol + 1 < size && chars::is_ws(b[eol + 1])) [[unlikely]] eol = walk.take_lf();
    if (eol >= size) return error_ = (first_error != errc::ok ? first_error : errc::no_header_end);
    pos = eol + 1;

    std::size_t name_len = colon - line_start;
    while (name_len > 0 && chars::is_ws(b[line_start + name_len - 1])) [[unlikely]]-- name_len;
    const char* name = b + line_start;
    const header_id id = detail::lookup_name(name, name_len);
    // A known name is a token by construction; only unknown ones need the character check.
    if (!has_colon || name_len > 255 || (id == header_id::other && !chars::is_token_string({name, name_len})))
        [[unlikely]] {
      if (first_error == errc::ok) first_error = errc::bad_header_line;
      continue;  // skip the line; keep indexing so a 400 can still be built
    }
    if (n_headers_ == max_headers) [[unlikely]] {
      if (first_error == errc::ok) first_error = errc::too_many_headers;
      continue;
    }
    // The value without surrounding LWS: usually one SP before and CR after, so
    // take those first and loop only for the rest.
    std::size_t vb = colon + 1;
    std::size_t ve = eol;
    if (ve > vb && b[ve - 1] == '\r') --ve;
    if (vb < ve && b[vb] == ' ') ++vb;
    while (vb < ve && chars::is_lws_byte(b[vb])) [[unlikely]]++ vb;
    while (ve > vb && chars::is_lws_byte(b[ve - 1])) [[unlikely]]-- ve;
    header_entry& h = headers_[n_headers_];
    h.name_off = static_cast<std::uint16_t>(line_start);
    h.name_len = static_cast<std::uint8_t>(name_len);
    h.value_off = static_cast<std::uint16_t>(vb);
    h.value_len = static_cast<std::uint16_t>(ve - vb);
    h.id = id;
    const auto idx = static_cast<std::size_t>(id);
    if (first_[idx] == npos8) first_[idx] = n_headers_;
    ++counts_[idx];  // at most max_headers (96): cannot wrap a byte
    ++n_headers_;
  }

  const errc framing = frame_body();
  if (first_error == errc::ok) first_error = framing;
  return error_ = first_error;
}

}  // namespace sipfront::sip
