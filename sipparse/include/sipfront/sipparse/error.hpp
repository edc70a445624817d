// Error values of the parser: every failure is a value, never an exception.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

namespace sipfront::sip {

/// What went wrong while parsing a message or one of its values.
enum class errc : std::uint8_t {
  ok = 0,
  // Framing and start line.
  empty,             ///< nothing but CRLFs (a keep-alive) or zero bytes
  too_large,         ///< datagram larger than 65535 bytes
  no_header_end,     ///< the empty line that ends the headers is missing
  bad_start_line,    ///< request/status line does not follow the grammar
  bad_method,        ///< method is not a token
  bad_request_uri,   ///< Request-URI malformed (<>, embedded LWS, no scheme)
  bad_version,       ///< SIP-Version other than SIP/2.0 (505)
  bad_status_code,   ///< status code not three digits in 100..699
  bad_reason,        ///< reason phrase holds control characters
  bad_header_line,   ///< header line without a colon or with a non-token name
  too_many_headers,  ///< more header lines than message::max_headers
  // Values.
  not_present,  ///< the header asked for is absent
  bad_value,    ///< generic syntax error in a header value
  bad_uri,
  bad_name_addr,
  unterminated_quote,
  bad_via,
  bad_cseq,
  bad_integer,
  integer_overflow,  ///< numeric value beyond its legal range
  bad_content_length,
  content_length_exceeds,  ///< Content-Length larger than what the datagram carries
  too_many_entries,        ///< a list has more entries than the caller's capacity
  bad_auth,
  bad_date,
  bad_call_id,
};

/// A short, stable name for logs and counters ("bad_via", ...).
std::string_view to_string(errc e) noexcept;

/// A value or an error code; the minimal `expected` this project needs in C++20.
template <class T>
class result {
 public:
  constexpr result(T v) noexcept : value_(std::move(v)), err_(errc::ok) {}  // NOLINT(google-explicit-constructor)
  constexpr result(errc e) noexcept : value_(), err_(e) {}                  // NOLINT(google-explicit-constructor)
  /// The value that `make()` returns, made in place: a fast path that has its
  /// fields in registers stores each once into the result (`return result<T>{
  /// std::in_place, [&] { return T{...}; }}`), where filling a `result{T{}}`
  /// zeroes all of it first and `return T{...}` copies a temporary.
  template <class F>
  requires std::is_invocable_r_v<T, F&>
  constexpr result(std::in_place_t /*unused*/, F&& make) noexcept : value_(make()), err_(errc::ok) {}

  [[nodiscard]] constexpr bool ok() const noexcept { return err_ == errc::ok; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  [[nodiscard]] constexpr errc error() const noexcept { return err_; }
  [[nodiscard]] constexpr const T& value() const& noexcept { return value_; }
  [[nodiscard]] constexpr T& value() & noexcept { return value_; }
  constexpr const T& operator*() const& noexcept { return value_; }
  constexpr const T* operator->() const noexcept { return &value_; }
  [[nodiscard]] constexpr T value_or(T d) const noexcept { return ok() ? value_ : d; }

 private:
  T value_;
  errc err_;
};

}  // namespace sipfront::sip
