// Writing outgoing messages into caller-supplied buffers, without allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sipfront/sipparse/error.hpp"
#include "sipfront/sipparse/fixed_vector.hpp"
#include "sipfront/sipparse/message.hpp"
#include "sipfront/sipparse/names.hpp"

namespace sipfront::sip {

/// Appends to a fixed buffer; remembers overflow instead of failing each call.
/// A piece that does not fit is not written at all, and once overflowed every later
/// call is a no-op, so view() is always a prefix of whole pieces, never one with a hole.
class writer {
 public:
  explicit writer(std::span<char> out) noexcept : out_(out) {}
  writer& put(std::string_view s) noexcept;
  writer& put(char c) noexcept;
  writer& put_uint(std::uint64_t v) noexcept;
  writer& crlf() noexcept { return put("\r\n"); }
  /// "Name: value\r\n"
  writer& header(std::string_view name, std::string_view value) noexcept;
  [[nodiscard]] bool overflowed() const noexcept { return overflow_; }
  [[nodiscard]] std::size_t size() const noexcept { return len_; }
  [[nodiscard]] std::string_view view() const noexcept { return {out_.data(), len_}; }

 private:
  std::span<char> out_;
  std::size_t len_ = 0;
  bool overflow_ = false;
};

/// Edits to apply while copying a parsed message. Headers are matched by id; a
/// header added goes after the last original header, before Content-Length if any.
/// Values are written as given. Content-Length belongs to the builder: replacing,
/// removing or adding it, or addressing header_id::other (which would match every
/// unknown header), makes the edit invalid and write_message() returns errc::bad_value.
class message_edit {
 public:
  static constexpr std::size_t max_edits = 16;

  /// Replaces the Request-URI (requests only).
  message_edit& set_request_uri(std::string_view u) noexcept {
    ruri_ = u;
    return *this;
  }
  /// Puts a new Via line above all existing ones. `value` is the Via value, no name.
  message_edit& push_via(std::string_view value) noexcept {
    push_via_ = value;
    return *this;
  }
  /// Removes the top Via entry (only the first entry of a comma-separated line).
  message_edit& pop_via() noexcept {
    pop_via_ = true;
    return *this;
  }
  /// Rewrites the top Via entry (the first entry of the first Via line) to `value`,
  /// keeping any further entries of that line; used to fill in received/rport.
  /// Combining it with pop_via() makes the edit invalid.
  message_edit& set_top_via(std::string_view value) noexcept {
    top_via_ = value;
    return *this;
  }
  /// Replaces the value of every line with `id` by one line with `value` (at the first one's place).
  /// When the message has no such line, the line is added as add() would. For one id, the
  /// last replace()/remove() wins.
  message_edit& replace(header_id id, std::string_view value) noexcept;
  /// Deletes every line with `id`.
  message_edit& remove(header_id id) noexcept;
  /// Adds a header line.
  message_edit& add(std::string_view name, std::string_view value) noexcept;
  /// Replaces the body; Content-Length is rewritten to match.
  message_edit& set_body(std::string_view body) noexcept {
    body_ = body;
    has_body_ = true;
    return *this;
  }
  [[nodiscard]] bool overflowed() const noexcept { return overflow_; }

 private:
  friend result<std::size_t> write_message(const message&, const message_edit&, std::span<char>) noexcept;
  struct op {
    enum kind_t : std::uint8_t { replace_op, remove_op, add_op } kind;
    header_id id;
    std::string_view name;
    std::string_view value;
  };
  std::string_view ruri_{};
  std::string_view push_via_{};
  std::string_view top_via_{};
  std::string_view body_{};
  bool has_body_ = false;
  bool pop_via_ = false;
  bool overflow_ = false;
  bool invalid_ = false;
  fixed_vector<op, max_edits> ops_{};
};

/// Copies `msg` with `edit` applied into `out`. Content-Length is always written
/// to match the body. Returns the bytes written, or errc::too_large when `out` is
/// too small, errc::too_many_entries when the edit list overflowed, errc::bad_value
/// when the edit is invalid, errc::not_present when pop_via() found no Via,
/// errc::bad_via when the top Via line cannot be split into entries, or the
/// message's parse_error() when its parse failed (its index may then lack lines,
/// and a proxy never forwards such a message). On error the bytes in `out` are
/// unspecified, but nothing is ever written past its end.
result<std::size_t> write_message(const message& msg, const message_edit& edit, std::span<char> out) noexcept;

/// A response to `request`: status line, every Via (in order), From, To (with
/// `to_tag` added when the request's To has none and the tag is non-empty),
/// Call-ID, CSeq, then `extra` lines (each "Name: value" without CRLF), then
/// Content-Length: 0. An empty `reason` means default_reason(code). Works on a
/// request whose parse failed (copies what was indexed; check can_answer() first).
/// Returns bytes written, errc::too_large, errc::bad_status_code for a code outside
/// 100..699, or errc::bad_reason when `reason` holds control characters (CR/LF
/// would let it forge header lines).
result<std::size_t> write_response(const message& request, std::uint16_t code, std::string_view reason,
                                   std::string_view to_tag, std::span<const std::string_view> extra,
                                   std::span<char> out) noexcept;

/// The standard reason phrase of a status code ("Bad Request"); "Unknown" when none.
std::string_view default_reason(std::uint16_t code) noexcept;

}  // namespace sipfront::sip
