// Well-known methods and header names, with compact forms (RFC 3261 §7.3.3, IANA registry).
#pragma once

#include <cstdint>
#include <string_view>

namespace sipfront::sip {

enum class method : std::uint8_t {
  extension = 0,  ///< any other token; read message::method_token()
  invite,
  ack,
  bye,
  cancel,
  register_,
  options,
  info,
  update,
  prack,
  subscribe,
  notify,
  refer,
  message,
  publish,
};

/// Method from its token; case-sensitive as RFC 3261 requires ("register" is an extension).
method method_from_token(std::string_view token) noexcept;
std::string_view to_string(method m) noexcept;

enum class header_id : std::uint8_t {
  other = 0,
  accept,
  accept_contact,  // a
  allow,
  allow_events,  // u
  authorization,
  call_id,  // i
  contact,  // m
  content_disposition,
  content_encoding,  // e
  content_length,    // l
  content_type,      // c
  cseq,
  date,
  event,  // o
  expires,
  from,  // f
  max_forwards,
  min_expires,
  path,
  proxy_authenticate,
  proxy_authorization,
  proxy_require,
  reason,
  record_route,
  refer_to,             // r
  referred_by,          // b
  reject_contact,       // j
  request_disposition,  // d
  require,
  retry_after,
  route,
  service_route,
  session_expires,  // x
  subject,          // s
  supported,        // k
  to,               // t
  unsupported,
  user_agent,
  server,
  via,  // v
  warning,
  www_authenticate,
  identity,  // y
  count_,
};

inline constexpr std::size_t header_id_count = static_cast<std::size_t>(header_id::count_);

/// Identifies a header name (long or compact form, any case); header_id::other when unknown.
header_id header_from_name(std::string_view name) noexcept;
/// The canonical long name ("Call-ID"); empty for header_id::other.
std::string_view canonical_name(header_id id) noexcept;
/// True for headers whose value is a comma-separated list that may be split over
/// several header lines (RFC 3261 §7.3.1).
bool is_list_header(header_id id) noexcept;
/// True for headers that may appear at most once in a message.
bool is_single_header(header_id id) noexcept;

}  // namespace sipfront::sip
