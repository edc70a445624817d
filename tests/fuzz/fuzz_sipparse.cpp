// libFuzzer target for sipparse: index a datagram with every scanner variant,
// check the variants agree, then run every accessor on every header and check the
// invariants the API promises. Any violation traps, so libFuzzer keeps the input.
//
// The input is copied into a heap buffer of exactly its size, so AddressSanitizer
// reports any read past the datagram. Outputs of the builder go to exactly sized
// buffers for the same reason.
//
// Build: meson setup -Dfuzz=true (see scripts/fuzz.sh). Run one input:
//   build-fuzz/tests/fuzz/sipparse_fuzz tests/fuzz/corpus/<file>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sipfront/sipparse/sipparse.hpp"

// The builder round trips; -DSIPFRONT_FUZZ_BUILDER=0 leaves them out.
#ifndef SIPFRONT_FUZZ_BUILDER
#define SIPFRONT_FUZZ_BUILDER 1
#endif

namespace sip = sipfront::sip;
using namespace std::string_view_literals;

namespace {

[[noreturn]] void fail(const char* what, const char* file, int line) noexcept {
  std::fprintf(stderr, "\n*** sipparse_fuzz: invariant violated: %s (%s:%d)\n", what, file, line);
  std::fflush(stderr);
  __builtin_trap();
}

#define FUZZ_CHECK(cond)               \
  do {                                 \
    if (!(cond)) [[unlikely]]          \
      fail(#cond, __FILE__, __LINE__); \
  } while (0)

// Results the optimizer must not drop (the library is a separate archive, so it
// cannot anyway, but this keeps inlined header-only accessors alive too).
volatile std::size_t g_sink = 0;
void sink(std::size_t v) noexcept { g_sink = g_sink + v; }
void sink(std::string_view s) noexcept { g_sink = g_sink + s.size(); }

// Upper bound on any loop over entries/parameters: a datagram of at most 64 KiB
// cannot hold more, so reaching it means an iterator does not advance.
constexpr std::size_t k_loop_bound = 70000;

// A byte range every view handed out must stay within.
struct region {
  const char* lo;
  const char* hi;
  [[nodiscard]] bool holds(std::string_view s) const noexcept {
    if (s.empty()) return true;  // default-constructed views may be null
    const auto b = reinterpret_cast<std::uintptr_t>(s.data());
    return b >= reinterpret_cast<std::uintptr_t>(lo) && s.size() <= static_cast<std::size_t>(hi - lo) &&
           b + s.size() <= reinterpret_cast<std::uintptr_t>(hi);
  }
  [[nodiscard]] region of(std::string_view s) const noexcept { return {s.data(), s.data() + s.size()}; }
};
region region_of(std::string_view s) noexcept { return {s.data(), s.data() + s.size()}; }

bool same_view(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && (a.empty() || a.data() == b.data());
}

bool is_lws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool trimmed(std::string_view s) noexcept { return s.empty() || (!is_lws(s.front()) && !is_lws(s.back())); }

// An exactly sized heap buffer (ASan flags any access past it).
struct heap_buf {
  explicit heap_buf(std::size_t n) : p(new char[n == 0 ? 1 : n]), size(n) {}
  std::unique_ptr<char[]> p;
  std::size_t size;
  [[nodiscard]] std::span<char> span() const noexcept { return {p.get(), size}; }
  [[nodiscard]] std::string_view view(std::size_t n) const noexcept { return {p.get(), n}; }
};

// ------------------------------------------------------------------ URIs

void check_uri(const sip::uri& u, std::string_view src) {
  const region r = region_of(src);
  FUZZ_CHECK(same_view(u.raw, src));
  for (std::string_view v : {u.scheme_token, u.user, u.password, u.host, u.params, u.headers, u.opaque}) {
    FUZZ_CHECK(r.holds(v));
  }
  FUZZ_CHECK(!u.scheme_token.empty());
  if (u.scheme == sip::uri_scheme::sip) FUZZ_CHECK(sip::chars::iequals(u.scheme_token, "sip"));
  if (u.scheme == sip::uri_scheme::sips) FUZZ_CHECK(sip::chars::iequals(u.scheme_token, "sips"));
  if (u.scheme == sip::uri_scheme::tel) FUZZ_CHECK(sip::chars::iequals(u.scheme_token, "tel"));
  if (u.is_sip()) {
    FUZZ_CHECK(!u.host.empty());
    FUZZ_CHECK(u.host_type != sip::host_kind::none);
    if (u.has_user) FUZZ_CHECK(!u.user.empty());
    if (!u.has_port) FUZZ_CHECK(u.port == 0);
    if (u.host_type == sip::host_kind::ipv4) {
      std::uint32_t a = 0;
      FUZZ_CHECK(sip::parse_ipv4(u.host, a));
    }
  }
  for (std::string_view n : {"transport"sv, "lr"sv, "user"sv, "maddr"sv, "ttl"sv, "method"sv, "ob"sv}) {
    if (const auto p = u.param(n)) {
      FUZZ_CHECK(r.holds(*p));
      sink(*p);
    }
  }
  // Unescaping: never longer than the input, never past the capacity.
  for (std::string_view part : {u.user, u.password, u.host, u.params, u.headers}) {
    heap_buf b(part.size());
    const int n = sip::unescape(part, b.p.get(), part.size());
    FUZZ_CHECK(n >= -1 && n <= static_cast<int>(part.size()));
    if (part.find('%') == std::string_view::npos) {
      FUZZ_CHECK(n == static_cast<int>(part.size()) && b.view(static_cast<std::size_t>(n)) == part);
    }
    if (!part.empty()) {
      heap_buf half(part.size() / 2);
      const int m = sip::unescape(part, half.p.get(), half.size);
      FUZZ_CHECK(m >= -1 && m <= static_cast<int>(half.size));
    }
  }
  // Comparison is reflexive, and parsing the same text twice gives an equal URI.
  FUZZ_CHECK(sip::uri_equal(u, u));
  const auto again = sip::parse_uri(src);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(sip::uri_equal(u, *again) && sip::uri_equal(*again, u));
}

// The same view: the same bytes at the same address (an empty view's address too).
bool identical(std::string_view a, std::string_view b) noexcept { return a.data() == b.data() && a.size() == b.size(); }

// parse_uri()'s fast path against the general parser on an exactly sized copy:
// whatever the fast path accepts, the general parser accepts, every field the same;
// and parse_uri() answers as the general parser does on every input.
void check_uri_fast(std::string_view src) {
  heap_buf b(src.size());
  if (!src.empty()) std::memcpy(b.p.get(), src.data(), src.size());
  const std::string_view s = b.view(src.size());
  const auto general = sip::detail::parse_uri_general(s);
  auto same = [](const sip::uri& f, const sip::uri& g) {
    FUZZ_CHECK(f.scheme == g.scheme && identical(f.scheme_token, g.scheme_token));
    FUZZ_CHECK(identical(f.user, g.user) && identical(f.password, g.password));
    FUZZ_CHECK(f.has_user == g.has_user && f.has_password == g.has_password);
    FUZZ_CHECK(identical(f.host, g.host) && f.host_type == g.host_type);
    FUZZ_CHECK(f.port == g.port && f.has_port == g.has_port);
    FUZZ_CHECK(identical(f.params, g.params) && identical(f.headers, g.headers));
    FUZZ_CHECK(identical(f.opaque, g.opaque) && identical(f.raw, g.raw));
  };
  // parse_uri() itself (its fast path is inline there): the general parser's answer.
  const auto pub = sip::parse_uri(s);
  FUZZ_CHECK(pub.error() == general.error());
  if (pub) same(*pub, *general);
  // The validate-only check of parse_name_addr(): true only where the general parser succeeds.
  if (sip::detail::uri_ok_fast_for_tests(s)) FUZZ_CHECK(general.ok());
  sip::uri fast;
  if (!sip::detail::parse_uri_fast(s, fast)) return;
  FUZZ_CHECK(general.ok());
  same(fast, *general);
}

// Parses `s` as a URI and checks it when it parses; returns the result.
sip::result<sip::uri> uri_of(std::string_view s) {
  check_uri_fast(s);
  auto u = sip::parse_uri(s);
  if (u) check_uri(*u, s);
  sink(static_cast<std::size_t>(u.error()));
  return u;
}

// uri_equal is symmetric.
void compare_uris(const sip::result<sip::uri>& a, const sip::result<sip::uri>& b) {
  if (!a || !b) return;
  FUZZ_CHECK(sip::uri_equal(*a, *b) == sip::uri_equal(*b, *a));
}

// ------------------------------------------------------------------ values

void check_name_addr(const sip::name_addr& na, std::string_view src) {
  const region r = region_of(src);
  FUZZ_CHECK(r.holds(na.display) && r.holds(na.uri) && r.holds(na.params));
  sink(na.tag());
  sink(na.instance());
  sink(na.expires().value_or(0));
  sink(na.q().value_or(0));
  sink(na.reg_id().value_or(0));
  if (const auto q = na.q()) FUZZ_CHECK(*q <= 1000);
  if (const auto p = na.param("+sip.instance")) FUZZ_CHECK(r.holds(*p));
  if (na.star) return;
  FUZZ_CHECK(!na.uri.empty());
  const auto u = uri_of(na.uri);
  FUZZ_CHECK(u.ok());  // parse_name_addr only accepts a URI that parses
  if (!na.params.empty()) FUZZ_CHECK(sip::check_params(na.params) == sip::errc::ok);
}

sip::result<sip::name_addr> name_addr_of(std::string_view s, bool allow_star) {
  auto na = sip::parse_name_addr(s, allow_star);
  if (na) check_name_addr(*na, s);
  return na;
}

void check_via(const sip::via& v, std::string_view src) {
  const region r = region_of(src);
  for (std::string_view x :
       {v.protocol, v.version, v.transport_token, v.host, v.params, v.branch, v.received, v.maddr}) {
    FUZZ_CHECK(r.holds(x));
  }
  FUZZ_CHECK(!v.protocol.empty() && !v.version.empty() && !v.transport_token.empty());
  FUZZ_CHECK(!v.host.empty() && v.host_type != sip::host_kind::none);
  if (v.branch_is_rfc3261()) FUZZ_CHECK(v.branch.starts_with("z9hG4bK") && r.holds(v.branch));
  if (!v.branch.starts_with("z9hG4bK")) FUZZ_CHECK(!v.branch_is_rfc3261());
  if (!v.has_port) FUZZ_CHECK(v.port == 0);
  if (v.rport_has_value) FUZZ_CHECK(v.has_rport);
  sink(static_cast<std::size_t>(v.sent_by_is_broadcast()));
  if (v.sent_by_is_broadcast()) FUZZ_CHECK(v.host_type == sip::host_kind::ipv4);
}

// The Via fast path against the general parser on one value, as an entry alone
// and as the rest of a Via line: whenever the fast path takes the value, every
// field must be the one the general parser gives (the same bytes, not only equal
// text), and the public parsers must answer as the general one does.
void check_same_via(const sip::via& fast, const sip::via& g) {
  FUZZ_CHECK(same_view(fast.protocol, g.protocol) && same_view(fast.version, g.version));
  FUZZ_CHECK(same_view(fast.transport_token, g.transport_token) && fast.transport == g.transport);
  FUZZ_CHECK(same_view(fast.host, g.host) && fast.host_type == g.host_type);
  FUZZ_CHECK(fast.port == g.port && fast.has_port == g.has_port);
  FUZZ_CHECK(same_view(fast.params, g.params) && same_view(fast.branch, g.branch));
  FUZZ_CHECK(same_view(fast.received, g.received) && same_view(fast.maddr, g.maddr));
  FUZZ_CHECK(fast.has_rport == g.has_rport && fast.rport_has_value == g.rport_has_value && fast.rport == g.rport);
  FUZZ_CHECK(fast.ttl == g.ttl && fast.has_ttl == g.has_ttl);
}

void check_via_paths(std::string_view v) {
  for (const bool list_entry : {false, true}) {
    const auto general = sip::detail::via_general(v, list_entry);
    sip::via fast;
    if (sip::detail::via_fast(v, list_entry, fast)) {
      FUZZ_CHECK(general.ok());
      check_same_via(fast, *general);
    }
    // What parse_via() and top_via() run (the in-place shortcut, its params
    // continuation, via_fast(), via_general()): the general answer, field for field.
    const auto one = sip::detail::via_one_pass(v, list_entry);
    FUZZ_CHECK(one.error() == general.error());
    if (one) check_same_via(*one, *general);
    if (!list_entry) {
      const auto pub = sip::parse_via(v);
      FUZZ_CHECK(pub.error() == general.error());
      if (pub) FUZZ_CHECK(same_view(pub->host, general->host) && same_view(pub->params, general->params));
    }
  }
  // The sent-by IPv4 reader's shape table against the bit steps it replaces.
  for (std::size_t i = 0; i + 16 <= v.size() && i < 48; ++i) {
    FUZZ_CHECK(sip::detail::ipv4_len16_for_tests(v.data() + i, true) ==
               sip::detail::ipv4_len16_for_tests(v.data() + i, false));
  }
}

// The hostport shortcuts against the plain readers, from each digit in the first
// bytes of `v` (host candidates of every length, views of every length, ending
// where `v` does): the inline hostport reader against the out-of-line one, field
// by field, and the received IPv4 check against parse_ipv4() for 7..15 bytes
// that no digit or dot follows.
void check_hostport_paths(std::string_view v) {
  const char* const end = v.data() + v.size();
  for (std::size_t i = 0; i < v.size() && i < 48; ++i) {
    if (!sip::chars::is_digit(v[i]) && v[i] != '[' && !sip::chars::is_alpha(v[i])) continue;
    const std::string_view s = v.substr(i);
    const auto f = sip::detail::scan_hostport_for_tests(s, true);
    const auto g = sip::detail::scan_hostport_for_tests(s, false);
    FUZZ_CHECK(f.error == g.error);
    if (f.error == sip::errc::ok) {
      FUZZ_CHECK(same_view(f.host, g.host) && f.kind == g.kind);
      FUZZ_CHECK(f.port == g.port && f.has_port == g.has_port && f.used == g.used);
    }
    if (!sip::chars::is_digit(v[i])) continue;
    for (std::size_t k = 7; k <= 15 && k <= s.size(); ++k) {
      // As via-param received calls it: at the end of a run, so no digit or dot after.
      if (k < s.size() && (sip::chars::is_digit(s[k]) || s[k] == '.')) continue;
      std::uint32_t a = 0;
      FUZZ_CHECK(sip::detail::is_ipv4_for_tests(s.substr(0, k), end) == sip::parse_ipv4(s.substr(0, k), a));
    }
  }
}

// parse_uint against a reference that detects overflow exactly. Like the
// parser, it reads left to right and stops at the first bad digit or overflow.
void check_parse_uint(std::string_view s, std::uint64_t max) {
  const auto r = sip::parse_uint(s, max);
  sip::errc want = s.empty() ? sip::errc::bad_integer : sip::errc::ok;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      want = sip::errc::bad_integer;
      break;
    }
    if (__builtin_mul_overflow(v, 10U, &v) || __builtin_add_overflow(v, static_cast<std::uint64_t>(c - '0'), &v) ||
        v > max) {
      want = sip::errc::integer_overflow;
      break;
    }
  }
  FUZZ_CHECK(r.error() == want);
  if (want == sip::errc::ok) FUZZ_CHECK(*r == v);
}

// The name-addr fast path against the general parser, in every mode, on an
// exactly sized copy (an over-read past the value is an ASan report): whatever the
// fast path accepts, the general parser accepts with every field the same.
void check_name_addr_fast(std::string_view v) {
  heap_buf b(v.size());
  if (!v.empty()) std::memcpy(b.p.get(), v.data(), v.size());
  const std::string_view s = b.view(v.size());
  for (unsigned mode = 0; mode < 8; ++mode) {
    const bool allow_star = (mode & 1U) != 0;
    const bool check_uri = (mode & 2U) != 0;
    const bool list_entry = (mode & 4U) != 0;
    sip::name_addr fast;
    if (!sip::detail::name_addr_fast(s, allow_star, check_uri, list_entry, fast)) continue;
    const auto general = sip::detail::name_addr_general(s, allow_star, check_uri, list_entry);
    FUZZ_CHECK(general.ok());
    const sip::name_addr& g = *general;
    FUZZ_CHECK(identical(fast.display, g.display) && fast.display_quoted == g.display_quoted);
    FUZZ_CHECK(identical(fast.uri, g.uri) && fast.angle == g.angle && fast.star == g.star);
    FUZZ_CHECK(identical(fast.params, g.params) && identical(fast.tag_param, g.tag_param));
    FUZZ_CHECK(fast.params_indexed == g.params_indexed);
  }
  // The public entry points put the fast path's steps together in their own
  // order (the URI last): they too answer exactly what the general parser does.
  for (const bool allow_star : {false, true}) {
    for (const bool check_uri : {false, true}) {
      const auto pub = check_uri ? sip::parse_name_addr(s, allow_star) : sip::split_name_addr(s, allow_star);
      const auto general = sip::detail::name_addr_general(s, allow_star, check_uri, false);
      FUZZ_CHECK(pub.error() == general.error());
      if (!pub.ok()) continue;
      const sip::name_addr& f = *pub;
      const sip::name_addr& g = *general;
      FUZZ_CHECK(identical(f.display, g.display) && f.display_quoted == g.display_quoted);
      FUZZ_CHECK(identical(f.uri, g.uri) && f.angle == g.angle && f.star == g.star);
      FUZZ_CHECK(identical(f.params, g.params) && identical(f.tag_param, g.tag_param));
      FUZZ_CHECK(f.params_indexed == g.params_indexed);
    }
  }
}

// The fast paths of the scalar accessors against the general code they stand in
// for, on an exactly sized copy of `v` (so ASan sees any read past the value):
// same success or error, same fields.
void check_scalar_fast_paths(std::string_view v) {
  const heap_buf b(v.size());
  if (!v.empty()) std::memcpy(b.p.get(), v.data(), v.size());
  const std::string_view w = b.view(v.size());

  const auto id = sip::parse_call_id(w);
  const auto id_general = sip::detail::parse_call_id_general(w);
  FUZZ_CHECK(id.error() == id_general.error());
  if (id) FUZZ_CHECK(same_view(*id, *id_general));

  const auto cs = sip::parse_cseq(w);
  const auto cs_general = sip::detail::parse_cseq_general(w);
  FUZZ_CHECK(cs.error() == cs_general.error());
  if (cs) {
    FUZZ_CHECK(cs->number == cs_general->number && cs->method == cs_general->method);
    FUZZ_CHECK(same_view(cs->method_token, cs_general->method_token));
  }

  for (std::uint64_t max : {0ULL, 9ULL, 255ULL, 9999ULL, 65535ULL, 0x7fffffffULL, 0xffffffffULL, ~0ULL}) {
    const auto u = sip::parse_uint(w, max);
    const auto u_general = sip::detail::parse_uint_general(w, max);
    FUZZ_CHECK(u.error() == u_general.error() && u.value_or(0) == u_general.value_or(0));
  }
  // The integer headers: each is parse_uint with its range (and its error names).
  const auto u8 = sip::detail::parse_uint_general(w, 255);
  const auto mf = sip::parse_max_forwards(w);
  FUZZ_CHECK(mf.error() == u8.error() && mf.value_or(0) == u8.value_or(0));
  const auto u32 = sip::detail::parse_uint_general(w, 0xffffffffULL);
  const auto ds = sip::parse_delta_seconds(w);
  FUZZ_CHECK(ds.error() == u32.error() && ds.value_or(0) == u32.value_or(0));
  const auto u16 = sip::detail::parse_uint_general(w, 65535);
  const auto cl = sip::parse_content_length(w);
  const sip::errc cl_want =
      u16 || u16.error() == sip::errc::integer_overflow ? u16.error() : sip::errc::bad_content_length;
  FUZZ_CHECK(cl.error() == cl_want && cl.value_or(0) == u16.value_or(0));

  // method_from_token against a plain search of the well-known names.
  sip::method want = sip::method::extension;
  for (auto m = static_cast<unsigned>(sip::method::invite); m <= static_cast<unsigned>(sip::method::publish); ++m) {
    if (sip::to_string(static_cast<sip::method>(m)) == w) want = static_cast<sip::method>(m);
  }
  FUZZ_CHECK(sip::method_from_token(w) == want);
}

// The start-line fast paths against the general grammar on an exactly sized copy
// of `line`: wherever a fast path accepts, the general code must accept too and
// store the same fields.
void check_start_line_fast_path(std::string_view line) {
  const heap_buf b(line.size());
  if (!line.empty()) std::memcpy(b.p.get(), line.data(), line.size());
  const std::string_view l = b.view(line.size());
  sip::message fast;
  sip::message general;
  const sip::errc e = sip::detail::parse_start_line_general(general, l);
  if (!sip::detail::parse_start_line_fast(fast, l)) return;
  FUZZ_CHECK(e == sip::errc::ok);
  FUZZ_CHECK(fast.kind() == general.kind() && fast.method() == general.method());
  FUZZ_CHECK(same_view(fast.method_token(), general.method_token()));
  FUZZ_CHECK(same_view(fast.request_uri(), general.request_uri()));
  FUZZ_CHECK(fast.status_code() == general.status_code());
  FUZZ_CHECK(same_view(fast.reason(), general.reason()));
}

// Every value accessor on one header value, whatever the header is: the grammar
// code must be safe on any bytes, and each success must keep its promises.
void exercise_value(std::string_view v) {
  const region r = region_of(v);

  check_name_addr_fast(v);

  const auto na = name_addr_of(v, false);
  const auto na_star = name_addr_of(v, true);
  if (na) FUZZ_CHECK(na_star.ok() && !na_star->star && same_view(na_star->uri, na->uri));

  if (const auto via = sip::parse_via(v)) check_via(*via, v);
  check_via_paths(v);
  check_hostport_paths(v);

  if (const auto cs = sip::parse_cseq(v)) {
    FUZZ_CHECK(cs->number <= 0x7fffffffU);
    FUZZ_CHECK(r.holds(cs->method_token) && sip::chars::is_token_string(cs->method_token));
    FUZZ_CHECK(cs->method == sip::method_from_token(cs->method_token));
    sink(sip::to_string(cs->method));
  }
  if (const auto id = sip::parse_call_id(v)) FUZZ_CHECK(same_view(*id, v));
  check_scalar_fast_paths(v);
  sink(sip::parse_max_forwards(v).value_or(0));
  sink(sip::parse_delta_seconds(v).value_or(0));
  if (const auto cl = sip::parse_content_length(v)) FUZZ_CHECK(*cl <= 65535);
  for (std::uint64_t max : {0ULL, 255ULL, 65535ULL, 0x7fffffffULL, 0xffffffffULL, ~0ULL}) check_parse_uint(v, max);

  if (const auto ra = sip::parse_retry_after(v)) {
    FUZZ_CHECK(r.holds(ra->comment) && r.holds(ra->params));
    sink(ra->duration.value_or(0));
  }
  sink(static_cast<std::size_t>(sip::check_date(v)));
  sink(static_cast<std::size_t>(sip::check_token_list(v)));

  if (const auto a = sip::parse_auth(v)) {
    FUZZ_CHECK(r.holds(a->scheme) && !a->scheme.empty() && r.holds(a->opaque));
    FUZZ_CHECK(a->params.size() <= sip::auth_value::max_params);
    for (const sip::auth_param& p : a->params) {
      FUZZ_CHECK(r.holds(p.name) && r.holds(p.value) && sip::chars::is_token_string(p.name));
    }
    if (!a->opaque.empty()) FUZZ_CHECK(!a->is_digest() && a->params.empty());
    for (std::string_view n : {"realm"sv, "nonce"sv, "response"sv, "username"sv, "uri"sv}) {
      if (const auto f = a->find(n)) FUZZ_CHECK(r.holds(*f));
    }
  }

  // Header parameters, as an iterator and through the helpers.
  {
    sip::param_iterator it(v);
    std::string_view n;
    std::string_view val;
    std::size_t i = 0;
    while (it.next(n, val)) {
      FUZZ_CHECK(++i < k_loop_bound);
      FUZZ_CHECK(r.holds(n) && r.holds(val) && sip::chars::is_token_string(n));
    }
    FUZZ_CHECK((sip::check_params(v) == sip::errc::ok) == !it.failed());
  }
  for (std::string_view n : {"tag"sv, "branch"sv, "expires"sv, "q"sv, "lr"sv, "received"sv}) {
    if (const auto p = sip::find_param(v, n)) FUZZ_CHECK(r.holds(*p));
  }

  // The list splitter on this one value.
  {
    std::string_view rest = v;
    std::string_view entry;
    bool failed = false;
    std::size_t i = 0;
    while (sip::next_list_entry(rest, entry, failed)) {
      FUZZ_CHECK(++i < k_loop_bound);
      FUZZ_CHECK(r.holds(entry) && r.holds(rest) && trimmed(entry));
    }
    FUZZ_CHECK(r.holds(entry));
  }

  // The value as a URI, and unescaped.
  uri_of(v);
  heap_buf b(v.size());
  const int n = sip::unescape(v, b.p.get(), b.size);
  FUZZ_CHECK(n >= -1 && n <= static_cast<int>(v.size()));
}

// ------------------------------------------------------------------ the message

void same_index(const sip::message& a, const sip::message& b) {
  FUZZ_CHECK(a.parse_error() == b.parse_error());
  FUZZ_CHECK(a.kind() == b.kind());
  FUZZ_CHECK(a.data() == b.data() && a.datagram_size() == b.datagram_size());
  FUZZ_CHECK(a.leading_skipped() == b.leading_skipped());
  FUZZ_CHECK(same_view(a.start_line(), b.start_line()));
  FUZZ_CHECK(a.method() == b.method() && same_view(a.method_token(), b.method_token()));
  FUZZ_CHECK(same_view(a.request_uri(), b.request_uri()));
  FUZZ_CHECK(a.status_code() == b.status_code() && same_view(a.reason(), b.reason()));
  FUZZ_CHECK(a.headers_offset() == b.headers_offset() && a.headers_end() == b.headers_end());
  FUZZ_CHECK(same_view(a.body(), b.body()) && same_view(a.bytes(), b.bytes()));
  FUZZ_CHECK(a.headers().size() == b.headers().size());
  for (std::size_t i = 0; i < a.headers().size(); ++i) {
    const sip::header_entry& x = a.headers()[i];
    const sip::header_entry& y = b.headers()[i];
    FUZZ_CHECK(x.name_off == y.name_off && x.name_len == y.name_len && x.value_off == y.value_off &&
               x.value_len == y.value_len && x.id == y.id);
  }
  for (std::size_t i = 0; i < sip::header_id_count; ++i) {
    const auto id = static_cast<sip::header_id>(i);
    FUZZ_CHECK(a.count(id) == b.count(id));
    const sip::header_entry* fa = a.find(id);
    const sip::header_entry* fb = b.find(id);
    FUZZ_CHECK((fa == nullptr) == (fb == nullptr));
    if (fa != nullptr && fb != nullptr) FUZZ_CHECK(a.index_of(*fa) == b.index_of(*fb));
  }
}

// The index itself: every view inside the datagram, lookups consistent with it.
void check_index(const sip::message& m, region in) {
  if (m.parse_error() == sip::errc::too_large) return;
  const region r{m.data(), m.data() + m.datagram_size()};
  FUZZ_CHECK(m.data() == in.lo + m.leading_skipped() && r.hi == in.hi);
  FUZZ_CHECK(!sip::to_string(m.parse_error()).empty() && sip::to_string(m.parse_error()) != "?");
  for (std::string_view v : {m.start_line(), m.method_token(), m.request_uri(), m.reason(), m.body(), m.bytes()}) {
    FUZZ_CHECK(r.holds(v));
  }
  FUZZ_CHECK(m.headers_offset() <= m.datagram_size() && m.headers_end() <= m.datagram_size());
  FUZZ_CHECK(m.headers().size() <= sip::message::max_headers);
  if (m.parse_error() == sip::errc::ok) {
    FUZZ_CHECK(m.kind() != sip::start_kind::unknown);
    FUZZ_CHECK(m.headers_offset() <= m.headers_end());
    FUZZ_CHECK(m.body().data() + m.body().size() == m.bytes().data() + m.bytes().size());
    if (m.is_request()) {
      FUZZ_CHECK(m.method() == sip::method_from_token(m.method_token()));
      FUZZ_CHECK(sip::chars::is_token_string(m.method_token()) && !m.request_uri().empty());
    } else {
      FUZZ_CHECK(m.status_code() >= 100 && m.status_code() <= 699);
      sink(sip::default_reason(m.status_code()));
    }
    if (const auto* cl = m.find(sip::header_id::content_length)) {
      const auto n = sip::parse_content_length(m.value(*cl));
      FUZZ_CHECK(n.ok() && *n == m.body().size());
    }
  }

  unsigned counts[sip::header_id_count] = {};
  for (const sip::header_entry& h : m.headers()) {
    const std::string_view name = m.name(h);
    const std::string_view value = m.value(h);
    const std::string_view raw = m.raw_line(h);
    FUZZ_CHECK(r.holds(name) && r.holds(value) && r.holds(raw));
    FUZZ_CHECK(sip::chars::is_token_string(name) && sip::header_from_name(name) == h.id);
    FUZZ_CHECK(trimmed(value));
    FUZZ_CHECK(raw.data() == name.data() && value.data() + value.size() <= raw.data() + raw.size());
    // A line the index holds is a whole line: its copy ends with the line end.
    FUZZ_CHECK(!raw.empty() && raw.back() == '\n');
    FUZZ_CHECK(&m.headers()[m.index_of(h)] == &h);
    ++counts[static_cast<std::size_t>(h.id)];
    const sip::header_entry* by_name = m.find(name);
    FUZZ_CHECK(by_name != nullptr && by_name->id == h.id);
    if (h.id != sip::header_id::other) {
      FUZZ_CHECK(by_name == m.find(h.id));
      FUZZ_CHECK(sip::header_from_name(sip::canonical_name(h.id)) == h.id);
      sink(static_cast<std::size_t>(sip::is_list_header(h.id)) + sip::is_single_header(h.id));
    } else {
      FUZZ_CHECK(sip::chars::iequals(m.name(*by_name), name) && by_name <= &h);
    }
  }
  for (std::size_t i = 0; i < sip::header_id_count; ++i) {
    const auto id = static_cast<sip::header_id>(i);
    FUZZ_CHECK(m.count(id) == counts[i]);
    const sip::header_entry* f = m.find(id);
    FUZZ_CHECK((f == nullptr) == (counts[i] == 0));
    if (f != nullptr) {
      FUZZ_CHECK(f->id == id && m.index_of(*f) < m.headers().size());
      for (std::size_t j = 0; j < m.index_of(*f); ++j) FUZZ_CHECK(m.headers()[j].id != id);
      FUZZ_CHECK(same_view(m.value_of(id), m.value(*f)));
    } else {
      FUZZ_CHECK(m.value_of(id).empty());
    }
  }
  for (std::string_view n : {"Via"sv, "v"sv, "CALL-ID"sv, "X-Unknown"sv, ""sv, "\xff"sv}) {
    if (const auto* h = m.find(n)) FUZZ_CHECK(m.index_of(*h) < m.headers().size());
  }
}

template <std::size_t N>
void check_name_addr_list(const sip::message& m, sip::header_id id, bool allow_star) {
  sip::name_addr_list<N> list;
  const sip::errc e = sip::parse_name_addrs(m, id, list, allow_star);
  FUZZ_CHECK(list.size() <= N);
  for (const sip::name_addr& na : list) check_name_addr(na, {m.data(), m.datagram_size()});
  if (e == sip::errc::ok && m.count(id) > 0) FUZZ_CHECK(!list.empty());
  if (m.count(id) == 0) FUZZ_CHECK(e == sip::errc::ok && list.empty());
}

// Entries of every header id through list_iterator; returns the number for `want`.
std::size_t walk_lists(const sip::message& m, region r, sip::header_id want, bool& want_failed) {
  std::size_t want_n = 0;
  for (std::size_t i = 0; i < sip::header_id_count; ++i) {
    const auto id = static_cast<sip::header_id>(i);
    sip::list_iterator it(m, id);
    std::string_view entry;
    std::size_t n = 0;
    while (it.next(entry)) {
      FUZZ_CHECK(++n < k_loop_bound);
      FUZZ_CHECK(!entry.empty() && r.holds(entry) && trimmed(entry));
    }
    FUZZ_CHECK(!it.next(entry));  // stays finished
    if (m.count(id) == 0) FUZZ_CHECK(n == 0 && !it.failed());
    if (id == want) {
      want_n = n;
      want_failed = it.failed();
    }
  }
  return want_n;
}

sip::validation_policy permissive_policy() {
  sip::validation_policy p;
  p.accept_tel = true;
  p.require_max_forwards = false;
  p.forwarding = false;
  return p;
}

constexpr std::string_view k_options[] = {"path", "outbound", "gruu", "100rel", "timer"};

sip::validation_policy uas_policy() {
  sip::validation_policy p;
  p.forwarding = false;
  p.check_require = true;
  p.supported_options = k_options;
  return p;
}

sip::verdict check_verdict(const sip::message& m, const sip::validation_policy& policy, region r) {
  const sip::verdict v = sip::validate(m, policy);
  FUZZ_CHECK(v.ok() == (v.broken == sip::rule::ok));
  FUZZ_CHECK(static_cast<std::size_t>(v.broken) < sip::rule_count);
  FUZZ_CHECK(!sip::to_string(v.broken).empty() && sip::to_string(v.broken) != "?");
  FUZZ_CHECK(!v.reason().empty());
  FUZZ_CHECK(r.holds(v.culprit));
  const std::uint16_t code = v.status_code(m.kind());
  if (!m.is_request() || v.ok()) {
    FUZZ_CHECK(code == 0);
  } else {
    FUZZ_CHECK(code == 400 || code == 416 || code == 420 || code == 483 || code == 505);
    FUZZ_CHECK(sip::default_reason(code) != "Unknown");
  }
  if (m.parse_error() != sip::errc::ok) FUZZ_CHECK(!v.ok());
  return v;
}

// What validate() promises: a message that passes can be read without errors.
void check_valid_message(const sip::message& m) {
  FUZZ_CHECK(m.parse_error() == sip::errc::ok);
  for (sip::header_id id :
       {sip::header_id::via, sip::header_id::from, sip::header_id::to, sip::header_id::call_id, sip::header_id::cseq}) {
    FUZZ_CHECK(m.count(id) >= 1);
  }
  FUZZ_CHECK(sip::top_via(m).ok());
  FUZZ_CHECK(sip::parse_name_addr(m.value_of(sip::header_id::from)).ok());
  FUZZ_CHECK(sip::parse_name_addr(m.value_of(sip::header_id::to)).ok());
  FUZZ_CHECK(sip::parse_call_id(m.value_of(sip::header_id::call_id)).ok());
  const auto cs = sip::parse_cseq(m.value_of(sip::header_id::cseq));
  FUZZ_CHECK(cs.ok());
  for (const sip::header_entry& h : m.headers()) {
    const std::string_view v = m.value(h);
    switch (h.id) {
      case sip::header_id::max_forwards: FUZZ_CHECK(sip::parse_max_forwards(v).ok()); break;
      case sip::header_id::expires:
      case sip::header_id::min_expires: FUZZ_CHECK(sip::parse_delta_seconds(v).ok()); break;
      case sip::header_id::content_length: FUZZ_CHECK(sip::parse_content_length(v).ok()); break;
      case sip::header_id::retry_after: FUZZ_CHECK(sip::parse_retry_after(v).ok()); break;
      case sip::header_id::date: FUZZ_CHECK(sip::check_date(v) == sip::errc::ok); break;
      case sip::header_id::refer_to:
      case sip::header_id::referred_by: FUZZ_CHECK(sip::parse_name_addr(v).ok()); break;
      case sip::header_id::authorization:
      case sip::header_id::proxy_authorization:
      case sip::header_id::www_authenticate:
      case sip::header_id::proxy_authenticate: FUZZ_CHECK(sip::parse_auth(v).ok()); break;
      default: break;
    }
  }
  {
    sip::list_iterator it(m, sip::header_id::via);
    std::string_view e;
    while (it.next(e)) FUZZ_CHECK(sip::parse_via(e).ok());
    FUZZ_CHECK(!it.failed());
  }
  for (sip::header_id id : {sip::header_id::contact, sip::header_id::route, sip::header_id::record_route,
                            sip::header_id::path, sip::header_id::service_route}) {
    sip::list_iterator it(m, id);
    std::string_view e;
    while (it.next(e)) {
      const auto na = sip::parse_name_addr(e, id == sip::header_id::contact);
      FUZZ_CHECK(na.ok());
      if (id == sip::header_id::contact && !na->star) {
        FUZZ_CHECK(na->expires().ok() || na->expires().error() == sip::errc::not_present);
        FUZZ_CHECK(na->q().ok() || na->q().error() == sip::errc::not_present);
      }
    }
    FUZZ_CHECK(!it.failed());
  }
  if (m.is_request()) {
    FUZZ_CHECK(cs->method_token == m.method_token());
    const auto ru = sip::parse_uri(m.request_uri());
    FUZZ_CHECK(ru.ok() && ru->headers.empty());
    FUZZ_CHECK(sip::can_answer(m));
  }
}

#if SIPFRONT_FUZZ_BUILDER

// Writes `m` with `edit` into a generous buffer, checks the exact-size and
// one-short behaviour, and re-parses the output into `out_msg`.
std::size_t write_and_reparse(const sip::message& m, const sip::message_edit& edit, heap_buf& out,
                              sip::message& out_msg) {
  const auto n = sip::write_message(m, edit, out.span());
  if (!n) fail(sip::to_string(n.error()).data(), __FILE__, __LINE__);
  FUZZ_CHECK(*n <= out.size);
  const std::string_view text = out.view(*n);
  {
    heap_buf exact(*n);
    const auto again = sip::write_message(m, edit, exact.span());
    FUZZ_CHECK(again.ok() && *again == *n && exact.view(*n) == text);
  }
  if (*n > 0) {
    heap_buf short_buf(*n - 1);
    FUZZ_CHECK(sip::write_message(m, edit, short_buf.span()).error() == sip::errc::too_large);
  }
  if (*n > sip::message::max_datagram) return 0;
  const sip::errc e = out_msg.parse(text);
  if (e != sip::errc::ok) fail(sip::to_string(e).data(), __FILE__, __LINE__);
  FUZZ_CHECK(out_msg.kind() == m.kind());
  return *n;
}

std::size_t via_entries(const sip::message& m) {
  sip::list_iterator it(m, sip::header_id::via);
  std::string_view e;
  std::size_t n = 0;
  while (it.next(e)) ++n;
  return n;
}

// Round trips through write_message for a message that passed validate().
void check_builder_on_valid(const sip::message& m, const sip::validation_policy& policy) {
  const std::size_t cap = 2 * m.datagram_size() + 1024;
  const std::size_t n_headers = m.headers().size();
  const std::size_t n_cl = m.count(sip::header_id::content_length);
  // Content-Length is always written, so a message without one gains a line.
  const std::size_t expect = n_headers - n_cl + 1;
  if (expect > sip::message::max_headers) return;  // the copy would exceed the index

  // 1. No edit: same lines, same body, still valid, and a fixed point.
  heap_buf out1(cap);
  sip::message m1;
  const std::size_t n1 = write_and_reparse(m, sip::message_edit{}, out1, m1);
  if (n1 == 0) return;
  FUZZ_CHECK(m1.headers().size() == expect);
  FUZZ_CHECK(m1.body() == m.body());
  FUZZ_CHECK(m1.start_line() == m.start_line());
  for (std::size_t i = 0; i < sip::header_id_count; ++i) {
    const auto id = static_cast<sip::header_id>(i);
    if (id != sip::header_id::content_length) FUZZ_CHECK(m1.count(id) == m.count(id));
  }
  FUZZ_CHECK(sip::validate(m1, policy).ok());
  {
    heap_buf out2(cap);
    sip::message m2;
    const std::size_t n2 = write_and_reparse(m1, sip::message_edit{}, out2, m2);
    FUZZ_CHECK(n2 == n1 && out2.view(n2) == out1.view(n1));
  }

  // 2. A proxy's Via handling: pop the top entry, push our own.
  constexpr std::string_view k_via = "SIP/2.0/UDP 198.18.0.1;branch=z9hG4bKfuzz";
  {
    sip::message_edit edit;
    edit.push_via(k_via).pop_via();
    heap_buf out(cap + k_via.size() + 16);
    sip::message mv;
    if (write_and_reparse(m, edit, out, mv) != 0) {
      FUZZ_CHECK(mv.headers().size() == expect || mv.headers().size() == expect + 1);
      FUZZ_CHECK(via_entries(mv) == via_entries(m));
      const auto top = sip::top_via(mv);
      FUZZ_CHECK(top.ok() && top->branch == "z9hG4bKfuzz");
      sip::via_list<8> before;
      sip::via_list<8> after;
      if (sip::parse_vias(m, before) == sip::errc::ok && sip::parse_vias(mv, after) == sip::errc::ok) {
        FUZZ_CHECK(before.size() == after.size());
        for (std::size_t i = 1; i < before.size(); ++i) {
          FUZZ_CHECK(before[i].host == after[i].host && before[i].branch == after[i].branch &&
                     before[i].port == after[i].port);
        }
      }
      FUZZ_CHECK(sip::validate(mv, policy).ok());
    }
  }

  // 3. Replace, remove, add, new body, new Request-URI.
  {
    sip::message_edit edit;
    edit.replace(sip::header_id::expires, "3600").remove(sip::header_id::route).add("X-Fuzz", "1").set_body("v=0\r\n");
    if (m.is_request()) edit.set_request_uri("sip:fuzz.invalid");
    heap_buf out(cap + 128);
    sip::message me;
    if (write_and_reparse(m, edit, out, me) != 0) {
      FUZZ_CHECK(me.count(sip::header_id::expires) == 1 && me.value_of(sip::header_id::expires) == "3600");
      FUZZ_CHECK(me.count(sip::header_id::route) == 0);
      const auto* x = me.find("X-Fuzz");
      FUZZ_CHECK(x != nullptr && me.value(*x) == "1");
      FUZZ_CHECK(me.body() == "v=0\r\n");
      if (m.is_request()) FUZZ_CHECK(me.request_uri() == "sip:fuzz.invalid");
      FUZZ_CHECK(sip::validate(me, policy).ok());
    }
  }
}

// A 400 for a request that can be answered, parsed back as a response.
void check_builder_response(const sip::message& m) {
  const std::size_t cap = 2 * m.datagram_size() + 1024;
  constexpr std::string_view k_extra[] = {"Server: sipfront-fuzz", "Warning: 399 fuzz \"x\""};
  heap_buf out(cap);
  const auto n = sip::write_response(m, 400, sip::default_reason(400), "fuzztag", k_extra, out.span());
  if (!n) fail(sip::to_string(n.error()).data(), __FILE__, __LINE__);
  {
    heap_buf exact(*n);
    const auto again = sip::write_response(m, 400, "", "fuzztag", k_extra, exact.span());
    FUZZ_CHECK(again.ok() && *again == *n && exact.view(*n) == out.view(*n));
    heap_buf short_buf(*n - 1);
    FUZZ_CHECK(sip::write_response(m, 400, "", "fuzztag", k_extra, short_buf.span()).error() == sip::errc::too_large);
  }
  // Arguments that would forge lines or break the status line are refused.
  {
    heap_buf junk(cap);
    FUZZ_CHECK(sip::write_response(m, 400, "Bad\r\nX-Forged: 1", "", {}, junk.span()).error() == sip::errc::bad_reason);
    FUZZ_CHECK(sip::write_response(m, 99, "", "", {}, junk.span()).error() == sip::errc::bad_status_code);
    FUZZ_CHECK(sip::write_response(m, 700, "", "", {}, junk.span()).error() == sip::errc::bad_status_code);
  }
  if (*n > sip::message::max_datagram) return;
  sip::message r;
  const sip::errc e = r.parse(out.view(*n));
  if (e != sip::errc::ok) fail(sip::to_string(e).data(), __FILE__, __LINE__);
  FUZZ_CHECK(r.is_response() && r.status_code() == 400 && r.reason() == "Bad Request");
  FUZZ_CHECK(r.body().empty());
  // Every Via in order; one From, To, Call-ID, CSeq with the request's values.
  FUZZ_CHECK(r.count(sip::header_id::via) == m.count(sip::header_id::via));
  for (sip::header_id id : {sip::header_id::from, sip::header_id::call_id, sip::header_id::cseq}) {
    FUZZ_CHECK(r.count(id) == 1 && r.value_of(id) == m.value_of(id));
  }
  FUZZ_CHECK(r.count(sip::header_id::to) == 1);
  FUZZ_CHECK(r.headers().size() == m.count(sip::header_id::via) + 4 + std::size(k_extra) + 1);
  const auto req_to = sip::parse_name_addr(m.value_of(sip::header_id::to));
  const auto rsp_to = sip::parse_name_addr(r.value_of(sip::header_id::to));
  FUZZ_CHECK(req_to.ok() && rsp_to.ok());
  const auto tag = req_to->param("tag");
  FUZZ_CHECK(rsp_to->param("tag") == (tag ? *tag : "fuzztag"sv));
  FUZZ_CHECK(sip::top_via(r).ok());
  // Lines that are not the To come out byte for byte.
  std::size_t vi = 0;
  for (const sip::header_entry& h : m.headers()) {
    if (h.id != sip::header_id::via) continue;
    while (vi < r.headers().size() && r.headers()[vi].id != sip::header_id::via) ++vi;
    FUZZ_CHECK(vi < r.headers().size() && r.value(r.headers()[vi]) == m.value(h));
    ++vi;
  }
}

// The writer on its own: a prefix of whole pieces, never past the buffer.
void check_writer(const sip::message& m, std::size_t cap) {
  heap_buf b(cap);
  sip::writer w(b.span());
  std::size_t whole = 0;
  bool overflow = false;
  auto piece = [&](std::size_t len) {
    if (!overflow && len <= cap - whole) {
      whole += len;
    } else {
      overflow = true;
    }
  };
  w.put(m.start_line());
  piece(m.start_line().size());
  w.put_uint(m.datagram_size());
  piece(std::to_string(m.datagram_size()).size());
  for (const sip::header_entry& h : m.headers()) {
    w.header(m.name(h), m.value(h));
    // header() is four pieces: name, ": ", value, CRLF.
    piece(m.name(h).size());
    piece(2);
    piece(m.value(h).size());
    piece(2);
    w.put('\n');
    piece(1);
  }
  FUZZ_CHECK(w.overflowed() == overflow && w.size() == whole && w.size() <= cap);
  FUZZ_CHECK(w.view().data() == b.p.get());
}

#endif  // SIPFRONT_FUZZ_BUILDER

// The one-pass first-entry parsers (top_via, first_name_addr) against the
// reference: split the first line with next_list_entry, then parse the entry.
// They must agree on success and on every field.
void check_first_entries(const sip::message& m) {
  auto first_entry = [&](sip::header_id id, std::string_view& entry) {
    const sip::header_entry* h = m.find(id);
    if (h == nullptr) return false;
    std::string_view rest = m.value(*h);
    bool failed = false;
    return sip::next_list_entry(rest, entry, failed) && !entry.empty();
  };
  if (m.find(sip::header_id::via) != nullptr) {
    std::string_view e;
    const auto ref =
        first_entry(sip::header_id::via, e) ? sip::parse_via(e) : sip::result<sip::via>(sip::errc::bad_via);
    const auto one = sip::top_via(m);
    FUZZ_CHECK(one.ok() == ref.ok());
    if (one.ok()) {
      FUZZ_CHECK(one->protocol == ref->protocol && one->version == ref->version);
      FUZZ_CHECK(one->transport_token == ref->transport_token && one->host == ref->host);
      FUZZ_CHECK(one->port == ref->port && one->has_port == ref->has_port && one->params == ref->params);
      FUZZ_CHECK(one->branch == ref->branch && one->received == ref->received && one->rport == ref->rport);
      FUZZ_CHECK(one->has_rport == ref->has_rport && one->maddr == ref->maddr && one->ttl == ref->ttl);
    }
  }
  for (sip::header_id id :
       {sip::header_id::contact, sip::header_id::route, sip::header_id::record_route, sip::header_id::path}) {
    if (m.find(id) == nullptr) continue;
    const bool star = id == sip::header_id::contact;
    std::string_view e;
    const auto ref =
        first_entry(id, e) ? sip::parse_name_addr(e, star) : sip::result<sip::name_addr>(sip::errc::bad_name_addr);
    const auto one = sip::first_name_addr(m, id, star);
    FUZZ_CHECK(one.ok() == ref.ok());
    if (one.ok()) {
      FUZZ_CHECK(one->display == ref->display && one->display_quoted == ref->display_quoted);
      FUZZ_CHECK(one->uri == ref->uri && one->angle == ref->angle && one->star == ref->star);
      FUZZ_CHECK(one->params == ref->params && one->tag() == ref->tag());
    }
  }
}

// Every message-level accessor.
void exercise_message(const sip::message& m) {
  check_first_entries(m);
  const region r{m.data(), m.data() + m.datagram_size()};

  // Validation under three policies.
  const sip::verdict v_default = check_verdict(m, sip::validation_policy{}, r);
  const sip::verdict v_permissive = check_verdict(m, permissive_policy(), r);
  const sip::verdict v_uas = check_verdict(m, uas_policy(), r);
  sink(v_uas.reason());
  if (v_default.ok()) {
    FUZZ_CHECK(v_permissive.ok());  // the permissive policy only relaxes rules
    check_valid_message(m);
  }
  if (v_permissive.ok()) check_valid_message(m);
  const bool answerable = sip::can_answer(m);
  if (answerable) FUZZ_CHECK(m.is_request() && sip::top_via(m).ok());

  // Lists.
  bool via_failed = false;
  const std::size_t n_via = walk_lists(m, r, sip::header_id::via, via_failed);
  sip::via_list<8> vias;
  const sip::errc ve = sip::parse_vias(m, vias);
  FUZZ_CHECK(vias.size() <= 8);
  for (const sip::via& v : vias) check_via(v, {m.data(), m.datagram_size()});
  if (ve == sip::errc::ok) FUZZ_CHECK(vias.size() == n_via && !via_failed);
  if (ve == sip::errc::too_many_entries) FUZZ_CHECK(n_via > 8);
  const auto top = sip::top_via(m);
  if (top) {
    check_via(*top, {m.data(), m.datagram_size()});
    sink(static_cast<std::size_t>(top->branch_is_rfc3261()) + top->sent_by_is_broadcast());
    if (!vias.empty()) FUZZ_CHECK(same_view(top->host, vias[0].host) && same_view(top->branch, vias[0].branch));
  }
  if (m.count(sip::header_id::via) == 0) FUZZ_CHECK(top.error() == sip::errc::not_present);
  if (const sip::header_entry* h = m.find(sip::header_id::via)) {
    const auto general = sip::detail::via_general(m.value(*h), true);
    FUZZ_CHECK(top.error() == general.error());
    if (top) FUZZ_CHECK(same_view(top->host, general->host) && same_view(top->params, general->params));
  }
  check_name_addr_list<8>(m, sip::header_id::contact, true);
  check_name_addr_list<8>(m, sip::header_id::route, false);
  check_name_addr_list<8>(m, sip::header_id::record_route, false);
  check_name_addr_list<8>(m, sip::header_id::path, false);
  check_name_addr_list<4>(m, sip::header_id::service_route, false);

  // From / To and their URIs; the Request-URI.
  const auto from = name_addr_of(m.value_of(sip::header_id::from), false);
  const auto to = name_addr_of(m.value_of(sip::header_id::to), false);
  const auto from_uri = from ? sip::parse_uri(from->uri) : sip::result<sip::uri>(sip::errc::bad_uri);
  const auto to_uri = to ? sip::parse_uri(to->uri) : sip::result<sip::uri>(sip::errc::bad_uri);
  compare_uris(from_uri, to_uri);
  if (m.is_request()) {
    const auto ruri = uri_of(m.request_uri());
    compare_uris(ruri, to_uri);
    compare_uris(ruri, from_uri);
  }
  for (const sip::header_entry& h : m.headers()) {
    // Every entry of a name-addr list, against the To URI.
    if (h.id == sip::header_id::contact || h.id == sip::header_id::route || h.id == sip::header_id::record_route ||
        h.id == sip::header_id::path) {
      std::string_view rest = m.value(h);
      std::string_view entry;
      bool failed = false;
      for (;;) {
        check_name_addr_fast(rest);  // the rest of a line, LWS after a ',' included
        if (!sip::next_list_entry(rest, entry, failed)) break;
        const auto na = sip::parse_name_addr(entry, h.id == sip::header_id::contact);
        if (na && !na->star) compare_uris(sip::parse_uri(na->uri), to_uri);
      }
    }
    if (h.id == sip::header_id::via) {
      // Each entry of a Via line, and each rest of the line from an entry on.
      std::string_view rest = m.value(h);
      std::string_view entry;
      bool failed = false;
      for (std::size_t n = 0; n < k_loop_bound && !rest.empty(); ++n) {
        check_via_paths(rest);
        if (!sip::next_list_entry(rest, entry, failed)) break;
        check_via_paths(entry);
      }
    }
    exercise_value(m.value(h));
  }

#if SIPFRONT_FUZZ_BUILDER
  check_writer(m, m.datagram_size() / 2);
  if (v_default.ok()) check_builder_on_valid(m, sip::validation_policy{});
  if (answerable) check_builder_response(m);
  // A message whose parse failed is never copied.
  if (m.parse_error() != sip::errc::ok) {
    heap_buf out(m.datagram_size() + 64);
    FUZZ_CHECK(sip::write_message(m, sip::message_edit{}, out.span()).error() == m.parse_error());
  }
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exactly sized copy: a read one byte past the datagram is an ASan report.
  heap_buf buf(size);
  if (size != 0) std::memcpy(buf.p.get(), data, size);
  const std::string_view dgram = buf.view(size);
  const region in = region_of(dgram);

  sip::message by_isa[3];
  constexpr sip::scan_isa k_isas[] = {sip::scan_isa::scalar, sip::scan_isa::sse42, sip::scan_isa::avx2};
  for (std::size_t i = 0; i < 3; ++i) {
    const sip::errc e = by_isa[i].parse(dgram, sip::scanner_for(k_isas[i]));
    FUZZ_CHECK(e == by_isa[i].parse_error());
    sink(sip::to_string(k_isas[i]));
  }
  same_index(by_isa[0], by_isa[1]);
  same_index(by_isa[0], by_isa[2]);
  sip::message best;
  best.parse(dgram);
  same_index(by_isa[0], best);
  // The index loop's fast paths against the plain byte-by-byte index.
  sip::message ref;
  FUZZ_CHECK(sip::detail::index_reference(ref, dgram) == ref.parse_error());
  same_index(ref, by_isa[0]);

  const sip::message& m = by_isa[0];
  if (m.parse_error() == sip::errc::too_large) return 0;
  check_start_line_fast_path(m.start_line());
  check_start_line_fast_path(dgram);  // any bytes as a start line, line ends included
  check_index(m, in);
  exercise_message(m);
  return 0;
}
