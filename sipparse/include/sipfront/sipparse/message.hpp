// The message view: a SIP datagram indexed in place. Nothing is copied; every
// value handed out is a std::string_view into the caller's buffer, which must
// outlive the view.
//
// Sizing: offsets are 16-bit because a UDP datagram carries at most 65507 octets.
// One header_entry is 8 bytes; with max_headers = 96 the whole view is ~850 bytes,
// small enough to live in an mbuf's private area so no core parses twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "sipfront/sipparse/error.hpp"
#include "sipfront/sipparse/names.hpp"
#include "sipfront/sipparse/scan.hpp"

namespace sipfront::sip {
namespace detail {
struct indexer;
struct start_line_parser;
/// For tests and the fuzz target: the header index as message::parse() builds it,
/// computed the plain way (byte loops, no SIMD, no fast paths). parse() must leave
/// every observable field exactly as this does.
errc index_reference(message& m, std::string_view datagram) noexcept;
}  // namespace detail

struct header_entry {
  std::uint16_t name_off;
  std::uint16_t value_off;
  std::uint16_t value_len;  ///< value without surrounding LWS; may contain folded line ends
  std::uint8_t name_len;
  header_id id;
};
static_assert(sizeof(header_entry) == 8);

enum class start_kind : std::uint8_t { unknown, request, response };

class message {
 public:
  static constexpr std::size_t max_headers = 96;
  static_assert(max_headers < 0xff, "first_ holds header indexes in a byte");
  static_assert(header_id_count <= 64, "repeated_ holds one bit per header id");
  static constexpr std::size_t max_datagram = 65535;
  static constexpr std::uint8_t npos8 = 0xff;

  /// Indexes `datagram`. On success returns errc::ok. On failure the view keeps
  /// whatever could be indexed (start-line kind, headers before the fault), so a
  /// caller can still answer a broken request with 400 when Via/From/To/Call-ID/CSeq are there.
  errc parse(std::string_view datagram, const scanner& scan = best_scanner()) noexcept;

  [[nodiscard]] errc parse_error() const noexcept { return error_; }
  [[nodiscard]] start_kind kind() const noexcept { return kind_; }
  [[nodiscard]] bool is_request() const noexcept { return kind_ == start_kind::request; }
  [[nodiscard]] bool is_response() const noexcept { return kind_ == start_kind::response; }

  // Request line.
  [[nodiscard]] sip::method method() const noexcept { return method_; }
  [[nodiscard]] std::string_view method_token() const noexcept { return view(method_off_, method_len_); }
  [[nodiscard]] std::string_view request_uri() const noexcept { return view(ruri_off_, ruri_len_); }
  // Status line.
  [[nodiscard]] std::uint16_t status_code() const noexcept { return status_; }
  [[nodiscard]] std::string_view reason() const noexcept { return view(reason_off_, reason_len_); }
  /// The start line without its line end.
  [[nodiscard]] std::string_view start_line() const noexcept { return view(0, start_len_); }

  // Header index.
  [[nodiscard]] std::span<const header_entry> headers() const noexcept { return {headers_, n_headers_}; }
  [[nodiscard]] std::string_view name(const header_entry& h) const noexcept { return view(h.name_off, h.name_len); }
  [[nodiscard]] std::string_view value(const header_entry& h) const noexcept { return view(h.value_off, h.value_len); }
  /// The whole header line(s) including the trailing line end (for copying).
  [[nodiscard]] std::string_view raw_line(const header_entry& h) const noexcept;
  /// First header with this id, or nullptr.
  [[nodiscard]] const header_entry* find(header_id id) const noexcept {
    const std::uint8_t i = first_[static_cast<std::size_t>(id)];
    return i == npos8 ? nullptr : &headers_[i];
  }
  /// Value of the first header with this id; empty view when absent.
  [[nodiscard]] std::string_view value_of(header_id id) const noexcept {
    const header_entry* h = find(id);
    return h ? value(*h) : std::string_view{};
  }
  /// First header named `name` (case-insensitive; for headers without an id).
  [[nodiscard]] const header_entry* find(std::string_view name) const noexcept;
  /// Number of header lines with this id.
  [[nodiscard]] unsigned count(header_id id) const noexcept {
    const auto idx = static_cast<std::size_t>(id);
    if (first_[idx] == npos8) return 0;
    return ((repeated_ >> idx) & 1U) == 0 ? 1 : count_repeated(id);
  }
  /// Index of the header entry (for iterating from it).
  [[nodiscard]] std::size_t index_of(const header_entry& h) const noexcept {
    return static_cast<std::size_t>(&h - headers_);
  }

  // Body and framing.
  [[nodiscard]] std::string_view body() const noexcept { return view(body_off_, body_len_); }
  /// Bytes of the message proper: start line, headers, blank line and body. Octets
  /// after Content-Length in the datagram are not part of it (RFC 4475 dblreq).
  [[nodiscard]] std::string_view bytes() const noexcept { return view(0, body_off_ + body_len_); }
  /// Offset of the first byte after the start line's line end.
  [[nodiscard]] std::size_t headers_offset() const noexcept { return headers_off_; }
  /// Offset of the blank line that ends the headers.
  [[nodiscard]] std::size_t headers_end() const noexcept { return head_end_; }
  [[nodiscard]] std::size_t datagram_size() const noexcept { return size_; }
  [[nodiscard]] const char* data() const noexcept { return base_; }
  /// Leading CRLFs skipped before the start line (RFC 3261 §7.5).
  [[nodiscard]] std::size_t leading_skipped() const noexcept { return lead_; }

 private:
  friend struct detail::indexer;
  friend struct detail::start_line_parser;  // the start-line fast paths (src/message.cpp)
  /// The index loop (src/index_impl.hpp), instantiated per ISA with its 64-byte classifier.
  template <class Classify>
  errc index_with(std::string_view datagram, Classify classify) noexcept;
  [[nodiscard]] std::string_view view(std::size_t off, std::size_t len) const noexcept { return {base_ + off, len}; }
  errc parse_start_line(std::string_view line) noexcept;
  errc parse_request_line(std::string_view line) noexcept;
  errc parse_status_line(std::string_view line) noexcept;
  errc frame_body() noexcept;
  void reset(std::string_view datagram) noexcept;  // inline below: the index runs it per datagram
  /// count() of an id that occurs more than once: the entries from its first, counted.
  [[nodiscard]] unsigned count_repeated(header_id id) const noexcept;

  const char* base_ = nullptr;  // points at the start line (after skipped CRLFs)
  // Bit i set: more than one header with id i (the index keeps no per-id counts, so
  // it needs no load and store of one per line; count() counts the rare repeats).
  std::uint64_t repeated_ = 0;
  std::uint16_t size_ = 0;  // bytes from base_ to the datagram's end
  std::uint16_t lead_ = 0;
  std::uint16_t start_len_ = 0;
  std::uint16_t headers_off_ = 0;
  std::uint16_t head_end_ = 0;
  std::uint16_t body_off_ = 0;
  std::uint16_t body_len_ = 0;
  std::uint16_t method_off_ = 0;
  std::uint16_t ruri_off_ = 0;
  std::uint16_t ruri_len_ = 0;
  std::uint16_t reason_off_ = 0;
  std::uint16_t reason_len_ = 0;
  std::uint16_t status_ = 0;
  std::uint8_t method_len_ = 0;
  sip::method method_ = sip::method::extension;
  start_kind kind_ = start_kind::unknown;
  errc error_ = errc::empty;
  std::uint8_t n_headers_ = 0;
  std::uint8_t first_[header_id_count]{};
  header_entry headers_[max_headers]{};
};

inline void message::reset(std::string_view datagram) noexcept {
  base_ = datagram.data();
  size_ = 0;
  lead_ = 0;
  start_len_ = headers_off_ = head_end_ = body_off_ = body_len_ = 0;
  method_off_ = ruri_off_ = ruri_len_ = reason_off_ = reason_len_ = status_ = 0;
  method_len_ = 0;
  method_ = sip::method::extension;
  kind_ = start_kind::unknown;
  error_ = errc::ok;
  n_headers_ = 0;
  repeated_ = 0;
  std::memset(first_, npos8, sizeof first_);
}

namespace detail {
// For tests and the fuzz target: `m` reset to view `line` alone, then `line` parsed
// as its start line by the general grammar only, or by the fast paths only (false
// when they decline it; what they leave in `m` then is unspecified).
errc parse_start_line_general(message& m, std::string_view line) noexcept;
bool parse_start_line_fast(message& m, std::string_view line) noexcept;
}  // namespace detail

}  // namespace sipfront::sip
