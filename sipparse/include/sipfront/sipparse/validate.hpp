// Message-level validation for a proxy/registrar: which rule a message breaks and
// so which answer it gets (400, 416, 420, 483, 505) or, for a response, a drop.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "sipfront/sipparse/error.hpp"
#include "sipfront/sipparse/message.hpp"
#include "sipfront/sipparse/names.hpp"

namespace sipfront::sip {

enum class rule : std::uint8_t {
  ok = 0,
  malformed_framing,       ///< parse() failed: start line, header line, Content-Length
  unsupported_version,     ///< SIP version other than 2.0 (505)
  missing_header,          ///< To, From, Call-ID, CSeq, Via (+ Max-Forwards for requests)
  repeated_header,         ///< a single-value header appears more than once
  malformed_header,        ///< a known header's value does not follow its grammar
  cseq_method_mismatch,    ///< request method differs from the CSeq method
  uri_scheme_unsupported,  ///< Request-URI scheme not accepted (416)
  request_uri_headers,     ///< Request-URI carries ?headers (400)
  bad_extension,           ///< Proxy-Require (or Require for local handling) not supported (420)
  too_many_hops,           ///< Max-Forwards is 0 and the request would be forwarded (483)
  count_,
};

inline constexpr std::size_t rule_count = static_cast<std::size_t>(rule::count_);
std::string_view to_string(rule r) noexcept;

struct validation_policy {
  /// Request-URI schemes accepted; others get 416.
  bool accept_sip = true;
  bool accept_sips = true;
  bool accept_tel = false;
  /// Max-Forwards is mandatory in requests (RFC 3261 §8.1.1). An element that
  /// accepts RFC 2543 peers turns this off and adds Max-Forwards when forwarding
  /// (RFC 3261 §16.6 step 3, RFC 4475 §3.4.1).
  bool require_max_forwards = true;
  /// The element forwards requests (proxy role): Max-Forwards 0 gives 483.
  bool forwarding = true;
  /// The element consumes requests itself (UAS role): Require is checked too.
  bool check_require = false;
  /// Option tags understood (for Proxy-Require / Require).
  std::span<const std::string_view> supported_options{};
};

struct verdict {
  rule broken = rule::ok;
  header_id header = header_id::other;  ///< the header at fault, where there is one
  errc detail = errc::ok;               ///< the parser's error, where there is one
  std::string_view culprit{};           ///< the offending value or option tag

  [[nodiscard]] bool ok() const noexcept { return broken == rule::ok; }
  /// The status code to answer a request with (400, 416, 420, 483, 505), or 0 when
  /// the message is a response (which is dropped) or no answer is possible.
  [[nodiscard]] std::uint16_t status_code(start_kind kind) const noexcept;
  /// A reason phrase naming the fault ("Bad Request - bad Via", ...), fit for a response.
  [[nodiscard]] std::string_view reason() const noexcept;
};

/// Checks a parsed message (including one whose parse() failed) against RFC 3261
/// rules that a proxy/registrar enforces. Every well-known header present is
/// parsed with its accessor, so a message that passes can be read without errors.
verdict validate(const message& msg, const validation_policy& policy = {}) noexcept;

/// True when enough of a failed request was indexed to build a response
/// (Via, From, To, Call-ID, CSeq all present and parseable).
bool can_answer(const message& msg) noexcept;

}  // namespace sipfront::sip
