// The one bounds-checked cursor that all scanning of header values goes through.
#pragma once

#include <cstddef>
#include <string_view>

#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/scan.hpp"

namespace sipfront::sip {

/// The first byte at or after `p` that is not linear white space (SP, HTAB, or a
/// CRLF / LF followed by SP or HTAB), bounded by `end`.
constexpr const char* skip_lws_at(const char* p, const char* end) noexcept {
  // Most calls find no white space at all: answer those with one compare.
  if (p >= end || !chars::is_lws_byte(*p)) return p;
  for (;;) {
    if (p < end && chars::is_ws(*p)) {
      ++p;
    } else if (end - p >= 3 && p[0] == '\r' && p[1] == '\n' && chars::is_ws(p[2])) {
      p += 3;
    } else if (end - p >= 2 && p[0] == '\n' && chars::is_ws(p[1])) {
      p += 2;
    } else {
      return p;
    }
  }
}

/// A read position inside a byte span. Every read is checked against the end:
/// peeking past it yields '\0', which no grammar rule accepts.
class cursor {
 public:
  constexpr explicit cursor(std::string_view s) noexcept : begin_(s.data()), p_(s.data()), end_(s.data() + s.size()) {}

  [[nodiscard]] constexpr bool at_end() const noexcept { return p_ >= end_; }
  [[nodiscard]] constexpr char peek(std::size_t ahead = 0) const noexcept {
    return static_cast<std::size_t>(end_ - p_) > ahead ? p_[ahead] : '\0';
  }
  [[nodiscard]] constexpr std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  [[nodiscard]] constexpr const char* pos() const noexcept { return p_; }
  [[nodiscard]] constexpr std::size_t offset() const noexcept { return static_cast<std::size_t>(p_ - begin_); }
  [[nodiscard]] constexpr std::string_view rest() const noexcept { return {p_, remaining()}; }
  constexpr void advance(std::size_t n = 1) noexcept { p_ = n < remaining() ? p_ + n : end_; }
  constexpr void seek(const char* p) noexcept { p_ = p < end_ ? p : end_; }

  /// Consumes `c` if it is next.
  constexpr bool eat(char c) noexcept {
    if (peek() != c || at_end()) return false;
    ++p_;
    return true;
  }
  /// Consumes `s` if it is next, ASCII case-insensitively.
  constexpr bool eat_i(std::string_view s) noexcept {
    if (remaining() < s.size() || !chars::iequals({p_, s.size()}, s)) return false;
    p_ += s.size();
    return true;
  }
  /// Skips linear white space: SP, HTAB and folded line ends (CRLF or LF followed by SP/HTAB).
  constexpr bool skip_lws() noexcept {
    const char* start = p_;
    p_ = skip_lws_at(p_, end_);
    return p_ != start;
  }
  /// Consumes the separator `c` with optional LWS around it (SWS c SWS).
  constexpr bool eat_sep(char c) noexcept {
    const char* save = p_;
    skip_lws();
    if (!eat(c)) {
      p_ = save;
      return false;
    }
    skip_lws();
    return true;
  }
  /// Consumes a run of characters of class `cls`; empty view when none.
  std::string_view take_while(std::uint32_t cls) noexcept {
    const char* s = p_;
    p_ = chars::skip_class(p_, end_, cls);
    return {s, static_cast<std::size_t>(p_ - s)};
  }
  template <class Pred>
  constexpr std::string_view take_while_fn(Pred pred) noexcept {
    const char* s = p_;
    while (p_ < end_ && pred(*p_)) ++p_;
    return {s, static_cast<std::size_t>(p_ - s)};
  }
  std::string_view token() noexcept { return take_while(chars::k_token); }

  /// Consumes a quoted-string; returns the content between the quotes (escapes kept as written).
  /// Empty optional-like: `ok` false when unterminated or not at a quote.
  bool quoted(std::string_view& out) noexcept {
    if (peek() != '"') return false;
    const char* s = p_ + 1;
    // Jump between the bytes that matter here (" and backslash) 16 at a time.
    for (const char* q = detail::find_quote_or_backslash(s, end_); q < end_;
         q = detail::find_quote_or_backslash(q, end_)) {
      if (*q == '\\') {
        if (q + 1 >= end_) return false;
        q += 2;
        continue;
      }
      if (*q == '"') {
        out = {s, static_cast<std::size_t>(q - s)};
        p_ = q + 1;
        return true;
      }
    }
    return false;
  }

 private:
  const char* begin_;
  const char* p_;
  const char* end_;
};

/// `s` without leading and trailing LWS (including folded line ends).
constexpr std::string_view trim_lws(std::string_view s) noexcept {
  std::size_t b = 0;
  std::size_t e = s.size();
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (b < e && ws(s[b])) ++b;
  while (e > b && ws(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace sipfront::sip
