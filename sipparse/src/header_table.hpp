// Private: the table of well-known header names and the lookup the header index
// runs once per header line.
//
// Lookup cost matters: every header line of every datagram goes through it. A
// perfect hash over (first three bytes, length) picks the one candidate (152
// slots, collision-free for the table, checked at compile time), then a
// case-insensitive compare of whole 8- or 4-byte words confirms it. The three
// bytes are read before the colon is found (with the line end before them, as one
// word), so only an add waits for the length. A name that
// matches a table entry is therefore also a valid token, so the index only runs
// the per-character token check on names it does not know.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/names.hpp"

namespace sipfront::sip::detail {

struct header_name {
  std::string_view name;
  header_id id;
  char compact;  // '\0' when none
  bool list;
  bool single;
};

// The table is indexed by header_id; order must follow the enum.
constexpr std::array<header_name, header_id_count> k_headers{{
    {"", header_id::other, '\0', false, false},
    {"Accept", header_id::accept, '\0', true, false},
    {"Accept-Contact", header_id::accept_contact, 'a', true, false},
    {"Allow", header_id::allow, '\0', true, false},
    {"Allow-Events", header_id::allow_events, 'u', true, false},
    {"Authorization", header_id::authorization, '\0', false, false},
    {"Call-ID", header_id::call_id, 'i', false, true},
    {"Contact", header_id::contact, 'm', true, false},
    {"Content-Disposition", header_id::content_disposition, '\0', false, true},
    {"Content-Encoding", header_id::content_encoding, 'e', true, false},
    {"Content-Length", header_id::content_length, 'l', false, true},
    {"Content-Type", header_id::content_type, 'c', false, true},
    {"CSeq", header_id::cseq, '\0', false, true},
    {"Date", header_id::date, '\0', false, true},
    {"Event", header_id::event, 'o', false, true},
    {"Expires", header_id::expires, '\0', false, true},
    {"From", header_id::from, 'f', false, true},
    {"Max-Forwards", header_id::max_forwards, '\0', false, true},
    {"Min-Expires", header_id::min_expires, '\0', false, true},
    {"Path", header_id::path, '\0', true, false},
    {"Proxy-Authenticate", header_id::proxy_authenticate, '\0', false, false},
    {"Proxy-Authorization", header_id::proxy_authorization, '\0', false, false},
    {"Proxy-Require", header_id::proxy_require, '\0', true, false},
    {"Reason", header_id::reason, '\0', true, false},
    {"Record-Route", header_id::record_route, '\0', true, false},
    {"Refer-To", header_id::refer_to, 'r', false, true},
    {"Referred-By", header_id::referred_by, 'b', false, true},
    {"Reject-Contact", header_id::reject_contact, 'j', true, false},
    {"Request-Disposition", header_id::request_disposition, 'd', true, false},
    {"Require", header_id::require, '\0', true, false},
    {"Retry-After", header_id::retry_after, '\0', false, true},
    {"Route", header_id::route, '\0', true, false},
    {"Service-Route", header_id::service_route, '\0', true, false},
    {"Session-Expires", header_id::session_expires, 'x', false, true},
    {"Subject", header_id::subject, 's', false, true},
    {"Supported", header_id::supported, 'k', true, false},
    {"To", header_id::to, 't', false, true},
    {"Unsupported", header_id::unsupported, '\0', true, false},
    {"User-Agent", header_id::user_agent, '\0', false, false},
    {"Server", header_id::server, '\0', false, false},
    {"Via", header_id::via, 'v', true, false},
    {"Warning", header_id::warning, '\0', true, false},
    {"WWW-Authenticate", header_id::www_authenticate, '\0', false, false},
    {"Identity", header_id::identity, 'y', false, true},
}};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < k_headers.size(); ++i) {
    if (static_cast<std::size_t>(k_headers[i].id) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order(), "k_headers must follow header_id order");

inline constexpr std::size_t k_max_known_name = 24;
// A slot for every hash (7 bits) plus length: the sum needs no mask.
inline constexpr std::size_t k_name_slots = 128 + k_max_known_name;

/// The slot of a name of length >= 2 (the caller handles compact forms), from
/// line_word() of it and its length. Letters are folded by OR-ing 0x20 into every
/// name byte: the slot is the same in any case.
constexpr std::size_t name_slot(std::uint32_t w, std::size_t len) noexcept {
  // A multiplicative hash of the word: the top seven bits of the product mix all
  // its bytes. Then the length: the product does not wait for the colon, only the
  // add does.
  const std::uint32_t h = ((w | 0x20202000U) * 5435U) >> 25;
  return h + len;
}

/// The word name_slot() hashes: LF and then the name's first three bytes, a two-byte
/// name's colon standing in for the third. In a header line these are the four
/// bytes from the one before the name, the line end of the line before it.
constexpr std::uint32_t line_word(std::string_view n) noexcept {
  auto u = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(n[i])); };
  return std::uint32_t{'\n'} | u(0) << 8 | u(1) << 16 | (n.size() > 2 ? u(2) : std::uint32_t{':'}) << 24;
}

// One slot: the name in lower case and then its colon, and per byte the bit that
// folds an upper-case letter onto it (0x20 on letters, 0 elsewhere, so '-' and the
// colon must match exactly). Zero past them. One cache line, so the slot address is
// a shift; the arrays are long enough for 16-byte compares at 0 and at len - 16.
struct alignas(64) name_slot_entry {
  std::array<char, k_max_known_name> fold{};
  std::array<char, k_max_known_name> lower{};
  // The header_entry of a line with this name in the index's common shape (": "
  // before the value, CR LF after it), less its offsets: line_start * 0x10001 +
  // ((line end - line_start) << 32) added to it (mod 2^64) gives the entry's bits.
  std::uint64_t entry = 0;
  // Bit i set for the bytes of the name and its colon among the first 16; all 16 in
  // an empty slot, which so matches no header line (see match_name16()).
  std::uint16_t head_mask = 0xffff;
  std::uint8_t len = 0;
  header_id id = header_id::other;
};
static_assert(sizeof(name_slot_entry) == 64);

struct name_index {
  std::array<name_slot_entry, k_name_slots> slots{};
  std::array<header_id, 26> compact{};
  bool collision_free = true;
};

constexpr name_index make_name_index() {
  name_index x{};
  for (std::size_t i = 1; i < k_headers.size(); ++i) {
    const std::string_view n = k_headers[i].name;
    // Shorter than k_max_known_name: the colon fits in lower, and match_name16()
    // can take a name length of k_max_known_name for "no colon".
    if (n.size() >= k_max_known_name || n.size() < 2) {
      x.collision_free = false;
      continue;
    }
    name_slot_entry& e = x.slots[name_slot(line_word(n), n.size())];
    if (e.len != 0) x.collision_free = false;
    e.len = static_cast<std::uint8_t>(n.size());
    e.head_mask = static_cast<std::uint16_t>((1U << (n.size() < 16 ? n.size() + 1 : 16)) - 1);
    e.id = k_headers[i].id;
    {
      const std::uint64_t len = n.size();
      e.entry =
          ((len + 2) << 16) - ((len + 3) << 32) + (len << 48) + (std::uint64_t{static_cast<std::uint8_t>(e.id)} << 56);
    }
    for (std::size_t j = 0; j < n.size(); ++j) {
      e.lower[j] = chars::lower(n[j]);
      e.fold[j] = chars::is_alpha(n[j]) ? '\x20' : '\0';
    }
    e.lower[n.size()] = ':';
    if (k_headers[i].compact != '\0') {
      x.compact[static_cast<std::size_t>(k_headers[i].compact - 'a')] = k_headers[i].id;
    }
  }
  return x;
}

// Hidden: the library is built position-independent, and a default-visibility
// variable would be reached through the GOT (one more load per lookup).
[[gnu::visibility("hidden")]] inline constexpr name_index k_name_index = make_name_index();
static_assert(k_name_index.collision_free, "name_slot() must map every known header name to its own slot");

template <class T>
inline T load(const char* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// True when p[0..len) equals the entry's name, ASCII case-insensitively. Reads
// only inside [p, p + len): the words overlap rather than run past the end.
inline bool fold_equal(const char* p, std::size_t len, const name_slot_entry& e) noexcept {
  const char* lo = e.lower.data();
  const char* fo = e.fold.data();
  auto word64 = [&](std::size_t off) {
    return (load<std::uint64_t>(p + off) | load<std::uint64_t>(fo + off)) == load<std::uint64_t>(lo + off);
  };
  auto word32 = [&](std::size_t off) {
    return (load<std::uint32_t>(p + off) | load<std::uint32_t>(fo + off)) == load<std::uint32_t>(lo + off);
  };
  if (len >= 8) {
    if (!word64(0) || !word64(len - 8)) return false;
    return len <= 16 || word64(8);
  }
  if (len >= 4) return word32(0) && word32(len - 4);
  for (std::size_t i = 0; i < len; ++i) {
    if (static_cast<char>(p[i] | fo[i]) != lo[i]) return false;
  }
  return true;
}

/// The slot entry that may hold the name at p[0..len), len >= 2: the one a known
/// name of that length would be in.
inline const name_slot_entry& slot_of(const char* p, std::size_t len) noexcept {
  return k_name_index.slots[name_slot(line_word({p, len}), len)];
}

inline header_id lookup_compact(char c) noexcept {
  const auto i = static_cast<unsigned>(static_cast<unsigned char>(c) | 0x20U) - 'a';
  return i < 26 ? k_name_index.compact[i] : header_id::other;
}

/// header_id of the name at p[0..len), any case, long or compact form; other when unknown.
inline header_id lookup_name(const char* p, std::size_t len) noexcept {
  if (len == 1) return lookup_compact(p[0]);
  if (len < 2 || len > k_max_known_name) return header_id::other;
  const name_slot_entry& e = slot_of(p, len);
  return (e.len == len && fold_equal(p, len, e)) ? e.id : header_id::other;
}

#if defined(__SSE2__)
/// The slot entry of the known long-form name that ends at the first colon among
/// the 16 bytes at p, which the caller has loaded into `head` (the header index's
/// common case), or nullptr when there is none: its slot from `w` and len, then one
/// 16-byte OR and compare of the name and the colon after it. `w` is line_word() of
/// the name: the four bytes at p - 1 in a header line.
///
/// No check of the slot's length: the compare includes the colon, and the name's
/// first colon is at len, so only a name of length len can match. A compact form
/// (len 1) matches nothing: every slot's second byte is a name byte, not the colon.
/// Nor does an empty slot: its head_mask asks for 16 NUL bytes, and `head` holds a colon.
inline const name_slot_entry* match_name16(__m128i head, std::uint32_t w, std::size_t len) noexcept {
  const name_slot_entry& e = k_name_index.slots[name_slot(w, len)];
  const __m128i f = _mm_loadu_si128(reinterpret_cast<const __m128i*>(e.fold.data()));   // NOLINT
  const __m128i l = _mm_loadu_si128(reinterpret_cast<const __m128i*>(e.lower.data()));  // NOLINT
  const auto eq = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(head, f), l)));
  return (~eq & e.head_mask) == 0 ? &e : nullptr;
}
#endif

}  // namespace sipfront::sip::detail
