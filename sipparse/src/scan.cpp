#include "sipfront/sipparse/scan.hpp"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "index_impl.hpp"
#include "scan_impl.hpp"
#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/names.hpp"

namespace sipfront::sip {
namespace detail {

block_masks classify64_scalar(const char* p) noexcept {
  std::uint64_t l = 0;
  std::uint64_t c = 0;
  for (unsigned i = 0; i < 64; ++i) {
    l |= static_cast<std::uint64_t>(p[i] == '\n') << i;
    c |= static_cast<std::uint64_t>(p[i] == ':') << i;
  }
  return {l, c};
}

// The reference for the index loop of index_impl.hpp: the same grammar with none of
// its shortcuts. Kept deliberately simple; the fuzz target and the tests compare
// every variant of message::parse() against it.
errc indexer::reference(message& m, std::string_view datagram) noexcept {
  m.reset(datagram);
  if (datagram.size() > message::max_datagram) return m.error_ = errc::too_large;
  std::size_t lead = 0;
  while (lead < datagram.size() && (datagram[lead] == '\r' || datagram[lead] == '\n')) ++lead;
  m.lead_ = static_cast<std::uint16_t>(lead);
  m.base_ = datagram.data() + lead;
  const std::size_t size = datagram.size() - lead;
  m.size_ = static_cast<std::uint16_t>(size);
  if (size == 0) return m.error_ = errc::empty;
  const char* const b = m.base_;
  auto next_lf = [&](std::size_t i) {
    while (i < size && b[i] != '\n') ++i;
    return i;
  };
  auto fail = [&](errc first, errc e) { return m.error_ = (first != errc::ok ? first : e); };

  const std::size_t lf = next_lf(0);
  const std::string_view line = strip_cr({b, lf});
  m.start_len_ = static_cast<std::uint16_t>(line.size());
  errc first_error = m.parse_start_line(line);
  if (lf == size) return fail(first_error, errc::no_header_end);
  std::size_t pos = lf + 1;
  m.headers_off_ = static_cast<std::uint16_t>(pos);
  for (;;) {
    if (pos >= size) {
      if (m.n_headers_ == 0) return fail(first_error, errc::no_header_end);
      m.head_end_ = m.body_off_ = m.size_;
      break;
    }
    if (b[pos] == '\n' || (b[pos] == '\r' && pos + 1 < size && b[pos + 1] == '\n')) {
      m.head_end_ = static_cast<std::uint16_t>(pos);
      m.body_off_ = static_cast<std::uint16_t>(pos + (b[pos] == '\n' ? 1 : 2));
      break;
    }
    const std::size_t line_start = pos;
    std::size_t colon = line_start;  // the first ':' or line end
    while (colon < size && b[colon] != ':' && b[colon] != '\n') ++colon;
    const bool has_colon = colon < size && b[colon] == ':';
    std::size_t eol = has_colon ? next_lf(colon) : colon;
    while (eol + 1 < size && chars::is_ws(b[eol + 1])) eol = next_lf(eol + 1);  // folding
    if (eol >= size) return fail(first_error, errc::no_header_end);
    pos = eol + 1;
    std::size_t name_len = colon - line_start;
    while (name_len > 0 && chars::is_ws(b[line_start + name_len - 1])) --name_len;
    const std::string_view name{b + line_start, name_len};
    const header_id id = header_from_name(name);
    if (!has_colon || name_len > 255 || !chars::is_token_string(name)) {
      if (first_error == errc::ok) first_error = errc::bad_header_line;
      continue;
    }
    if (m.n_headers_ == message::max_headers) {
      if (first_error == errc::ok) first_error = errc::too_many_headers;
      continue;
    }
    std::size_t vb = colon + 1;
    std::size_t ve = eol;
    if (ve > vb && b[ve - 1] == '\r') --ve;  // first: it places an empty value at the CR
    while (vb < ve && chars::is_lws_byte(b[vb])) ++vb;
    while (ve > vb && chars::is_lws_byte(b[ve - 1])) --ve;
    header_entry& h = m.headers_[m.n_headers_];
    h.name_off = static_cast<std::uint16_t>(line_start);
    h.name_len = static_cast<std::uint8_t>(name_len);
    h.value_off = static_cast<std::uint16_t>(vb);
    h.value_len = static_cast<std::uint16_t>(ve - vb);
    h.id = id;
    const auto idx = static_cast<std::size_t>(id);
    if (m.first_[idx] == message::npos8) {
      m.first_[idx] = m.n_headers_;
    } else {
      m.repeated_ |= std::uint64_t{1} << idx;
    }
    ++m.n_headers_;
  }
  const errc framing = m.frame_body();
  if (first_error == errc::ok) first_error = framing;
  return m.error_ = first_error;
}

// `known`, when not null, is the line's known name, ending at `colon`. Else a colon
// among the 16 bytes at the line start and before lf1 is the line's first, and
// match_name16() has ruled out every known long-form name that ends there; or it is
// line_start + k_max_known_name, for no colon among those 16 bytes; 0 when the loop
// did not look (the name is then looked up).
line_result indexer::general_line(message& m, std::size_t line_start, std::size_t lf1, std::size_t eol, std::size_t n,
                                  const name_slot_entry* known, std::size_t colon) noexcept {
  const char* const b = m.base_;
  auto low = [](char c) { return static_cast<unsigned char>(c) <= ' '; };
  // The name ends at the line's first colon; without one the line is malformed.
  // Trailing white space before the colon is not part of the name.
  const char* name = b + line_start;
  const bool in_head = colon != 0 && colon < lf1 && colon - line_start < 16;
  header_id id = header_id::other;
  std::size_t name_len;
  if (known != nullptr) {
    name_len = colon - line_start;
    id = known->id;
  } else {
    if (!in_head) {
      // The loop's stand-in colon: none among the 16 bytes at the line start.
      const std::size_t from = colon - line_start == k_max_known_name ? std::min(line_start + 16, lf1) : line_start;
      colon = find_colon(b, from, lf1);
      if (colon == lf1) [[unlikely]]
        return {errc::bad_header_line, header_id::other, false};  // skipped; the index goes on
    }
    name_len = colon - line_start;
    // A compact form, a name followed by white space (b[colon - 1] is in the datagram
    // even for an empty name: the previous line's LF) or a colon found the slow way
    // still need the lookup.
    if (!in_head || name_len == 1 || low(b[colon - 1])) {
      while (name_len > 0 && chars::is_ws(name[name_len - 1])) --name_len;
      id = lookup_name(name, name_len);
    }
    // A known name is a token by construction; only unknown ones need the character check.
    if (id == header_id::other && (name_len > 255 || !chars::is_token_string({name, name_len}))) [[unlikely]]
      return {errc::bad_header_line, header_id::other, false};
  }
  if (n == message::max_headers) [[unlikely]]
    return {errc::too_many_headers, header_id::other, false};
  // The value without surrounding LWS: nearly always one SP before it and CR
  // after it, tested first; the loops only for the rest. No bound checks are
  // needed: b[colon] is ':', so a CR before the LF lies after it, and when the
  // value is empty b[vb] is that CR or the LF, never SP.
  std::size_t vb = colon + 2;
  std::size_t ve = eol - 1;
  if (b[colon + 1] != ' ' || low(b[vb]) || b[ve] != '\r' || low(b[ve - 1])) {
    --vb;
    ve = eol - static_cast<std::size_t>(b[eol - 1] == '\r');
    while (vb < ve && lws_byte(b[vb])) ++vb;
    while (ve > vb && lws_byte(b[ve - 1])) --ve;
  }
  header_entry& h = m.headers_[n];
  h.name_off = static_cast<std::uint16_t>(line_start);
  h.name_len = static_cast<std::uint8_t>(name_len);
  h.value_off = static_cast<std::uint16_t>(vb);
  h.value_len = static_cast<std::uint16_t>(ve - vb);
  h.id = id;
  const auto idx = static_cast<std::size_t>(id);
  if (m.first_[idx] != message::npos8) return {errc::ok, id, true};
  m.first_[idx] = static_cast<std::uint8_t>(n);
  return {errc::ok, id, false};
}

errc index_reference(message& m, std::string_view datagram) noexcept { return indexer::reference(m, datagram); }

errc index_scalar(message& m, std::string_view datagram) noexcept {
  struct scalar_classifier {
    block_masks operator()(const char* p) const noexcept { return classify64_scalar(p); }
  };
  return indexer::run(m, datagram, scalar_classifier{});
}

std::uint64_t list_special_mask64_scalar(const char* p, std::size_t n) noexcept {
  std::uint64_t m = 0;
  for (std::size_t i = 0; i < n && i < 64; ++i) {
    if (chars::is(p[i], chars::k_list_special)) m |= std::uint64_t{1} << i;
  }
  return m;
}

const char* find_quote_or_backslash_scalar(const char* p, const char* end) noexcept {
  while (p < end && *p != '"' && *p != '\\') ++p;
  return p;
}

#if defined(__SSE2__)
namespace {

// First byte of [p, end) equal to one of Cs, 16 bytes per step; the last <16
// bytes go to `tail`, so nothing past `end` is read.
template <char... Cs>
const char* find_any_sse2(const char* p, const char* end,
                          const char* (*tail)(const char*, const char*) noexcept) noexcept {
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));  // NOLINT
    __m128i hit = _mm_setzero_si128();
    ((hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, _mm_set1_epi8(Cs)))), ...);
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
  return tail(p, end);
}

}  // namespace

std::uint64_t list_special_mask64_sse2(const char* p, std::size_t n) noexcept {
  if (n < 64) {
    alignas(16) char tail[64] = {};  // NUL is not special: the copy's padding adds no bits
    std::memcpy(tail, p, n);
    return list_special_mask64_full(tail);
  }
  return list_special_mask64_full(p);
}

const char* find_quote_or_backslash_sse2(const char* p, const char* end) noexcept {
  return find_any_sse2<'"', '\\'>(p, end, find_quote_or_backslash_scalar);
}
#endif

}  // namespace detail

namespace {

constexpr scanner k_scalar{scan_isa::scalar, detail::classify64_scalar, detail::index_scalar};
constexpr scanner k_sse42{scan_isa::sse42, detail::classify64_sse42, detail::index_sse42};
constexpr scanner k_avx2{scan_isa::avx2, detail::classify64_avx2, detail::index_avx2};

}  // namespace

bool isa_supported(scan_isa isa) noexcept {
  switch (isa) {
    case scan_isa::scalar: return true;
    case scan_isa::sse42: return __builtin_cpu_supports("sse4.2") != 0;
    case scan_isa::avx2: return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("bmi") != 0;
  }
  return false;
}

const scanner& scanner_for(scan_isa isa) noexcept {
  if (!isa_supported(isa)) return k_scalar;
  switch (isa) {
    case scan_isa::sse42: return k_sse42;
    case scan_isa::avx2: return k_avx2;
    case scan_isa::scalar: break;
  }
  return k_scalar;
}

const scanner& best_scanner() noexcept {
  // Resolved once; immutable afterwards (a function-local static is thread-safe).
  static const scanner& best = isa_supported(scan_isa::avx2)    ? k_avx2
                               : isa_supported(scan_isa::sse42) ? k_sse42
                                                                : k_scalar;
  return best;
}

std::string_view to_string(scan_isa isa) noexcept {
  switch (isa) {
    case scan_isa::scalar: return "scalar";
    case scan_isa::sse42: return "sse42";
    case scan_isa::avx2: return "avx2";
  }
  return "?";
}

}  // namespace sipfront::sip
