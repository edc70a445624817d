// Structured header values, each parsed on request from a header's view.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "sipfront/sipparse/error.hpp"
#include "sipfront/sipparse/fixed_vector.hpp"
#include "sipfront/sipparse/message.hpp"
#include "sipfront/sipparse/names.hpp"
#include "sipfront/sipparse/uri.hpp"

namespace sipfront::sip {

// ---------------------------------------------------------------- generic params

/// Iterates `;name[=value]` generic-params with LWS allowed around ';' and '='
/// (header parameters). Values may be tokens, hosts or quoted strings (quotes kept).
class param_iterator {
 public:
  /// With `list_entry`, the params are the tail of one entry of a comma-separated
  /// header value: a ',' where a ';' could come ends them (see stop()).
  explicit param_iterator(std::string_view params, bool list_entry = false) noexcept
      : rest_(params), stop_(params.data() + params.size()), list_entry_(list_entry) {}
  /// Next parameter; false at the end or on a syntax error (then `error()` is set).
  bool next(std::string_view& name, std::string_view& value) noexcept;
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  /// Where the params ended: the ',' that closed a list entry, else the end.
  [[nodiscard]] const char* stop() const noexcept { return stop_; }

 private:
  std::string_view rest_;
  const char* stop_;
  bool list_entry_ = false;
  bool failed_ = false;
};

/// Validates a header-parameter list; returns errc::ok or the error.
errc check_params(std::string_view params) noexcept;
/// A header parameter by name (case-insensitive); quotes are stripped from quoted values.
std::optional<std::string_view> find_param(std::string_view params, std::string_view name) noexcept;

// ---------------------------------------------------------------- lists

/// Iterates the comma-separated entries of every header line with one id, in
/// message order, never splitting inside quoted strings or <...>.
class list_iterator {
 public:
  list_iterator(const message& msg, header_id id) noexcept;
  /// Next entry (trimmed of LWS); false when all lines are consumed.
  bool next(std::string_view& entry) noexcept;
  /// True when the last next() stopped on an unbalanced quote or '<'.
  [[nodiscard]] bool failed() const noexcept { return failed_; }

 private:
  const message* msg_;
  header_id id_;
  std::size_t line_ = 0;
  std::string_view rest_;
  bool in_line_ = false;
  bool failed_ = false;
};

/// Splits one header value's comma-separated list (as list_iterator does for one line).
bool next_list_entry(std::string_view& rest, std::string_view& entry, bool& failed) noexcept;

// ---------------------------------------------------------------- name-addr

struct name_addr {
  std::string_view display;  ///< unquoted content or the token run; empty when none
  bool display_quoted = false;
  std::string_view uri;     ///< the URI text (inside <> for name-addr form)
  bool angle = false;       ///< name-addr form (<...>) rather than addr-spec
  bool star = false;        ///< Contact: *
  std::string_view params;  ///< header params after the URI, without the leading ';'
  /// The tag param (quotes stripped), recorded by the validating pass so reading
  /// it costs nothing; only meaningful when `params_indexed`.
  std::string_view tag_param{};
  bool params_indexed = false;

  [[nodiscard]] std::optional<std::string_view> param(std::string_view n) const noexcept {
    return find_param(params, n);
  }
  [[nodiscard]] std::string_view tag() const noexcept {
    return params_indexed ? tag_param : param("tag").value_or(std::string_view{});
  }
  /// The expires param; errc::not_present when absent, integer_overflow above 2^32-1.
  [[nodiscard]] result<std::uint32_t> expires() const noexcept;
  /// q-value in thousandths (0..1000); not_present when absent.
  [[nodiscard]] result<std::uint16_t> q() const noexcept;
  [[nodiscard]] std::string_view instance() const noexcept {
    return param("+sip.instance").value_or(std::string_view{});
  }
  [[nodiscard]] result<std::uint32_t> reg_id() const noexcept;
};

/// One name-addr / addr-spec with params (From, To, Contact, Route entry...).
/// With `allow_star`, a lone "*" is accepted (Contact).
result<name_addr> parse_name_addr(std::string_view s, bool allow_star = false) noexcept;
/// The same, except that the URI's own grammar is not checked: the display name,
/// the <> form and the header params are. For callers that read only params, such
/// as the From and To tags that identify a dialog (lazy parsing: run parse_uri()
/// on `uri` when the URI itself is wanted).
result<name_addr> split_name_addr(std::string_view s, bool allow_star = false) noexcept;
/// The first entry of the first `id` header line (Contact, Route, Path...),
/// validated like parse_name_addr(). One pass: the name-addr grammar itself finds
/// where the entry ends (the first ',' outside quotes and <>), where a
/// list_iterator would split the whole line first. not_present when there is none.
result<name_addr> first_name_addr(const message& msg, header_id id, bool allow_star = false) noexcept;

namespace detail {
// For tests and the fuzz target, which compare the two on every input: the
// name-addr parser behind the three functions above, split into its fast path
// (false when it declines: an unusual shape or any error) and the general parser.
// `check_uri` runs parse_uri() on the URI; with `list_entry`, `s` is the rest of a
// comma-separated value and the entry ends at its first ',' outside quotes and <>.
bool name_addr_fast(std::string_view s, bool allow_star, bool check_uri, bool list_entry, name_addr& out) noexcept;
result<name_addr> name_addr_general(std::string_view s, bool allow_star, bool check_uri, bool list_entry) noexcept;
}  // namespace detail

// ---------------------------------------------------------------- Via

enum class transport : std::uint8_t { other, udp, tcp, tls, sctp, ws, wss };

struct via {
  std::string_view protocol;  ///< "SIP"
  std::string_view version;   ///< "2.0"
  std::string_view transport_token;
  sip::transport transport = sip::transport::other;
  std::string_view host;  ///< IPv6 with brackets
  host_kind host_type = host_kind::none;
  std::uint16_t port = 0;
  bool has_port = false;
  std::string_view params;  ///< without the leading ';'
  std::string_view branch;
  std::string_view received;
  std::string_view maddr;
  bool has_rport = false;
  bool rport_has_value = false;
  std::uint16_t rport = 0;
  std::uint8_t ttl = 0;
  bool has_ttl = false;

  /// RFC 3261 branch (the magic cookie z9hG4bK followed by an identifier), else RFC 2543
  /// matching applies. The cookie alone identifies no transaction (RFC 4475 §3.2.1).
  [[nodiscard]] bool branch_is_rfc3261() const noexcept { return branch.size() > 7 && branch.starts_with("z9hG4bK"); }
  /// sent-by is the IPv4 limited broadcast address or a multicast address.
  [[nodiscard]] bool sent_by_is_broadcast() const noexcept;
};

result<via> parse_via(std::string_view entry) noexcept;

template <std::size_t N>
using via_list = fixed_vector<via, N>;
template <std::size_t N>
using name_addr_list = fixed_vector<name_addr, N>;

/// All Via entries of the message in order. too_many_entries when more than the capacity.
template <std::size_t N>
errc parse_vias(const message& msg, via_list<N>& out) noexcept;
/// All Contact / Route / Record-Route / Path entries of the message in order.
template <std::size_t N>
errc parse_name_addrs(const message& msg, header_id id, name_addr_list<N>& out, bool allow_star) noexcept;
/// The top (first) Via entry.
result<via> top_via(const message& msg) noexcept;

namespace detail {
// For tests and the fuzz target, which check that the two agree: parse_via() and
// top_via() are via_fast(), falling back to via_general() when it declines. With
// `list_entry`, `entry` is the rest of a Via line and the entry ends at its first
// top-level ','.
/// The full Via grammar.
result<via> via_general(std::string_view entry, bool list_entry) noexcept;
/// The common shape only: true with `out` filled exactly as via_general() would
/// fill it, or false (declined, `out` unspecified), never an error of its own.
bool via_fast(std::string_view entry, bool list_entry, via& out) noexcept;
/// What parse_via() and top_via() run: the one-pass shortcut for the commonest
/// Via, else via_fast(), else via_general(); the same answer as via_general().
result<via> via_one_pass(std::string_view entry, bool list_entry) noexcept;
/// The sent-by IPv4 reader on the 16 bytes at `p`: the dotted quad's length, -1 (an
/// octet above 255) or 0 (not decided), by bit steps or (`lookup`) the shape table.
int ipv4_len16_for_tests(const char* p, bool lookup) noexcept;
}  // namespace detail

// ---------------------------------------------------------------- scalars

/// 1*DIGIT with leading zeros accepted; integer_overflow when above `max`.
result<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) noexcept;

struct cseq {
  std::uint32_t number = 0;  ///< <= 2^31-1 (RFC 3261 §8.1.1.5)
  sip::method method = sip::method::extension;
  std::string_view method_token;
};
result<cseq> parse_cseq(std::string_view s) noexcept;

/// Call-ID: word ["@" word]. Returns the value itself.
result<std::string_view> parse_call_id(std::string_view s) noexcept;
/// Max-Forwards: 0..255.
result<std::uint8_t> parse_max_forwards(std::string_view s) noexcept;
/// Expires / Min-Expires: delta-seconds 0..2^32-1.
result<std::uint32_t> parse_delta_seconds(std::string_view s) noexcept;
/// Content-Length: 0..65535 (a UDP datagram holds no more).
result<std::uint32_t> parse_content_length(std::string_view s) noexcept;

namespace detail {
// For tests and the fuzz target: the general code behind the fast paths of
// parse_uint (and the integer parsers built on it), parse_cseq and parse_call_id,
// so that each fast path can be checked to give exactly its answer.
result<std::uint64_t> parse_uint_general(std::string_view s, std::uint64_t max) noexcept;
result<cseq> parse_cseq_general(std::string_view s) noexcept;
result<std::string_view> parse_call_id_general(std::string_view s) noexcept;
}  // namespace detail

struct retry_after {
  std::uint32_t seconds = 0;
  std::string_view comment;  ///< without the parentheses
  std::optional<std::uint32_t> duration;
  std::string_view params;
};
result<retry_after> parse_retry_after(std::string_view s) noexcept;

/// Date: rfc1123-date with "GMT" (RFC 3261 §20.17). Validates only.
errc check_date(std::string_view s) noexcept;

/// Validates a comma-separated list of option tags (Supported/Require/Proxy-Require).
errc check_token_list(std::string_view s) noexcept;

// ---------------------------------------------------------------- auth

struct auth_param {
  std::string_view name;
  std::string_view value;  ///< quotes stripped; escapes kept
  bool quoted = false;
};

/// Credentials (Authorization, Proxy-Authorization) or a challenge
/// (WWW-Authenticate, Proxy-Authenticate): scheme + auth-params. Commas inside
/// quoted strings do not split. Non-param schemes (token68-like opaque data) are
/// kept whole in `opaque`.
struct auth_value {
  static constexpr std::size_t max_params = 16;
  std::string_view scheme;
  fixed_vector<auth_param, max_params> params;
  std::string_view opaque;

  [[nodiscard]] bool is_digest() const noexcept;
  [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;
};
result<auth_value> parse_auth(std::string_view s) noexcept;

// ---------------------------------------------------------------- template bodies

template <std::size_t N>
errc parse_vias(const message& msg, via_list<N>& out) noexcept {
  out.clear();
  list_iterator it(msg, header_id::via);
  std::string_view entry;
  while (it.next(entry)) {
    auto v = parse_via(entry);
    if (!v) return v.error();
    if (!out.push_back(*v)) return errc::too_many_entries;
  }
  return it.failed() ? errc::bad_via : errc::ok;
}

template <std::size_t N>
errc parse_name_addrs(const message& msg, header_id id, name_addr_list<N>& out, bool allow_star) noexcept {
  out.clear();
  list_iterator it(msg, id);
  std::string_view entry;
  while (it.next(entry)) {
    auto na = parse_name_addr(entry, allow_star);
    if (!na) return na.error();
    if (!out.push_back(*na)) return errc::too_many_entries;
  }
  return it.failed() ? errc::unterminated_quote : errc::ok;
}

}  // namespace sipfront::sip
