// SIP/SIPS/TEL and absolute URIs (RFC 3261 §19.1, RFC 3966), parsed lazily from a view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sipfront/sipparse/error.hpp"

namespace sipfront::sip {

enum class uri_scheme : std::uint8_t { other, sip, sips, tel };
enum class host_kind : std::uint8_t { none, hostname, ipv4, ipv6 };

struct uri {
  uri_scheme scheme = uri_scheme::other;
  std::string_view scheme_token;  ///< as written
  std::string_view user;          ///< escapes kept as written; empty when none
  std::string_view password;
  bool has_user = false;  ///< an '@' was present (user may be empty only if invalid)
  bool has_password = false;
  std::string_view host;  ///< for IPv6 includes the brackets
  host_kind host_type = host_kind::none;
  std::uint16_t port = 0;  ///< 0 when absent
  bool has_port = false;
  std::string_view params;   ///< after the first ';' up to '?', without the leading ';'
  std::string_view headers;  ///< after '?', without it
  std::string_view opaque;   ///< for tel: the number; for other schemes the whole hier-part
  std::string_view raw;      ///< the whole URI

  /// A uri-parameter by name (case-insensitive). Present-without-value gives an empty view.
  [[nodiscard]] std::optional<std::string_view> param(std::string_view name) const noexcept;
  [[nodiscard]] bool is_sip() const noexcept { return scheme == uri_scheme::sip || scheme == uri_scheme::sips; }
};

/// Parses a URI. SIP/SIPS get the full RFC 3261 grammar; tel gets RFC 3966's
/// global/local number; other schemes must be `scheme ":" 1*uric`.
result<uri> parse_uri(std::string_view s) noexcept;

/// RFC 3261 §19.1.4 comparison of two SIP/SIPS URIs: user and password
/// case-sensitive after unescaping, host case-insensitive, the parameters user,
/// ttl, method, maddr and transport must match if present in either, others only
/// if present in both, headers must match. Non-SIP URIs compare as exact strings.
bool uri_equal(const uri& a, const uri& b) noexcept;

/// Unescapes %HH into `out` (capacity `cap`); returns the length or -1 on a bad
/// escape or overflow. "%00" yields a NUL octet (RFC 4475 escnull).
int unescape(std::string_view in, char* out, std::size_t cap) noexcept;

/// True for IPv4 dotted quad; `value` receives the address in host order.
bool parse_ipv4(std::string_view s, std::uint32_t& value) noexcept;

namespace detail {
// For tests and the fuzz target, which compare the two on every input: parse_uri()
// is its fast path (lower-case sip: and sips: URIs; false when it declines, which
// it does on any error, leaving `out` partly filled) and the general parser.
bool parse_uri_fast(std::string_view s, uri& out) noexcept;
result<uri> parse_uri_general(std::string_view s) noexcept;
// For tests and the fuzz target: parse_name_addr()'s URI check, true when it
// proves that parse_uri(s) succeeds, false when it leaves that to parse_uri().
bool uri_ok_fast_for_tests(std::string_view s) noexcept;

// For tests and the fuzz target, which check the shortcuts under the URI and Via
// hostport readers against the plain ones. host [":" port] at the start of `s`:
// with `inline_path`, as the Via fast path reads it (a 16-byte IPv4 check and the
// port's digits from the same loads), else the one reader behind it; the fields
// are meaningful only when `error` is errc::ok.
struct hostport_scan {
  errc error = errc::ok;
  std::string_view host;
  host_kind kind = host_kind::none;
  std::uint16_t port = 0;
  bool has_port = false;
  std::size_t used = 0;
};
hostport_scan scan_hostport_for_tests(std::string_view s, bool inline_path) noexcept;
/// parse_ipv4(s) without the value, as the Via received param checks it, `s`
/// lying in a view readable up to `end` and followed there by no digit or dot
/// (a whole param value): the same answer as parse_ipv4().
bool is_ipv4_for_tests(std::string_view s, const char* end) noexcept;
}  // namespace detail

}  // namespace sipfront::sip
