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
class message_edit {
 public:
  static constexpr std::size_t max_edits = 16;

  /// Replaces the Request-URI (requests only).
  message_edit& set_request_uri(std::string_view u) noexcept { ruri_ = u; return *this; }
  /// Puts a new Via line above all existing ones. `value` is the Via value, no name.
  message_edit& push_via(std::string_view value) noexcept { push_via_ = value; return *this; }
  /// Removes the top Via entry (only the first entry of a comma-separated line).
  message_edit& pop_via() noexcept { pop_via_ = true; return *this; }
  /// Replaces the value of every line with `id` by one line with `value` (at the first one's place).
  message_edit& replace(header_id id, std::string_view value) noexcept;
  /// Deletes every line with `id`.
  message_edit& remove(header_id id) noexcept;
  /// Adds a header line.
  message_edit& add(std::string_view name, std::string_view value) noexcept;
  /// Replaces the body; Content-Length is rewritten to match.
  message_edit& set_body(std::string_view body) noexcept { body_ = body; has_body_ = true; return *this; }
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
  std::string_view body_{};
  bool has_body_ = false;
  bool pop_via_ = false;
  bool overflow_ = false;
  fixed_vector<op, max_edits> ops_{};
};

/// Copies `msg` with `edit` applied into `out`. Content-Length is always written
/// to match the body. Returns the bytes written, or errc::too_large when `out` is
/// too small, errc::too_many_entries when the edit list overflowed,
/// errc::not_present when pop_via() found no Via.
result<std::size_t> write_message(const message& msg, const message_edit& edit, std::span<char> out) noexcept;

/// A response to `request`: status line, every Via (in order), From, To (with
/// `to_tag` added when the request's To has none and the tag is non-empty),
/// Call-ID, CSeq, then `extra` lines (each "Name: value" without CRLF), then
/// Content-Length: 0. Returns bytes written or errc::too_large.
result<std::size_t> write_response(const message& request, std::uint16_t code, std::string_view reason,
                                   std::string_view to_tag, std::span<const std::string_view> extra,
                                   std::span<char> out) noexcept;

/// The standard reason phrase of a status code ("Bad Request"); "Unknown" when none.
std::string_view default_reason(std::uint16_t code) noexcept;

}  // namespace sipfront::sip
