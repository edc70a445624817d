#include "sipfront/sipparse/values.hpp"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "method_table.hpp"
#include "scan_impl.hpp"
#include "short_runs.hpp"
#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/cursor.hpp"
#include "uri_detail.hpp"

namespace sipfront::sip {
namespace {

// In a comma-separated value, whether `rest` ends the current entry: nothing but
// LWS bytes, then a ',' or the end. A list split trims SP, HTAB, CR and LF at an
// entry's ends (not only folded line ends), and the one-pass parsers must agree.
inline bool ends_entry(const char* p, const char* e) noexcept {
  if (p < e && *p == ';') return false;  // the common case: another parameter follows
  while (p < e && chars::is_lws_byte(*p)) ++p;
  return p == e || *p == ',';
}

// `params` up to `stop` (a list entry's ','), without the LWS before it: what a
// list split would have left as the entry's params (leading LWS kept, as there).
std::string_view cut_at(std::string_view params, const char* stop) noexcept {
  std::size_t n = static_cast<std::size_t>(stop - params.data());
  while (n > 0 && chars::is_lws_byte(params[n - 1])) --n;
  return params.substr(0, n);
}

constexpr std::string_view unquote(std::string_view v) noexcept {
  return (v.size() >= 2 && v.front() == '"' && v.back() == '"') ? v.substr(1, v.size() - 2) : v;
}

}  // namespace

// ---------------------------------------------------------------- params

// Pointer code rather than a cursor: every header param of every name-addr and
// Via goes through here, and the bounds are checked once per step, not per call.
bool param_iterator::next(std::string_view& name, std::string_view& value) noexcept {
  if (failed_) return false;
  const char* p = rest_.data();
  const char* const e = p + rest_.size();
  p = skip_lws_at(p, e);
  if (p == e) return false;
  auto fail = [this] {
    failed_ = true;
    return false;
  };
  // name [ EQUAL value ], value = token / host / quoted-string (quotes kept).
  const char* const ns = p;
  p = chars::skip_run<chars::k_token>(p, e);
  if (p == ns) return fail();
  name = {ns, static_cast<std::size_t>(p - ns)};
  value = {};
  const char* q = skip_lws_at(p, e);
  if (q < e && *q == '=') {
    p = skip_lws_at(q + 1, e);
    const char* const vs = p;
    if (p < e && *p == '"') {
      for (p = detail::find_quote_or_backslash(p + 1, e);; p = detail::find_quote_or_backslash(p, e)) {
        if (p >= e || (*p == '\\' && p + 1 >= e)) return fail();  // unterminated
        if (*p == '"') break;
        p += 2;  // a quoted-pair
      }
      ++p;
    } else {
      p = chars::skip_class4<chars::k_gen_value>(p, e);
      if (p == vs) return fail();
    }
    value = {vs, static_cast<std::size_t>(p - vs)};
    q = skip_lws_at(p, e);
  }
  p = q;
  if (p < e) {
    if (list_entry_ && ends_entry(p, e)) {
      stop_ = p;  // the entry ends here; this parameter was its last
      rest_ = {};
      return true;
    }
    if (*p != ';') return fail();
    ++p;
    const char* const after = skip_lws_at(p, e);
    // A trailing ';' announces a parameter that never comes.
    if (after == e || (list_entry_ && ends_entry(after, e))) return fail();
  }
  rest_ = {p, static_cast<std::size_t>(e - p)};
  return true;
}

errc check_params(std::string_view params) noexcept {
  param_iterator it(params);
  std::string_view n;
  std::string_view v;
  while (it.next(n, v)) {
  }
  return it.failed() ? errc::bad_value : errc::ok;
}

std::optional<std::string_view> find_param(std::string_view params, std::string_view name) noexcept {
  param_iterator it(params);
  std::string_view n;
  std::string_view v;
  while (it.next(n, v)) {
    if (chars::iequals(n, name)) return unquote(v);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- lists

bool next_list_entry(std::string_view& rest, std::string_view& entry, bool& failed) noexcept {
  if (rest.empty()) return false;
  bool quoted = false;
  int angle = 0;
  std::size_t i = rest.size();  // where the entry ends: a top-level ',' or the end
  // Walk the special bytes (, " < > backslash) through 64-byte masks: a list with
  // many commas inside quotes (Contact methods="INVITE,ACK,...") costs a bit scan
  // per special byte, not a new search.
  bool skip_first = false;  // a backslash in quotes ended the previous block
  for (std::size_t at = 0; at < rest.size() && i == rest.size(); at += 64) {
    std::uint64_t m = detail::list_special_mask64(rest.data() + at, std::min<std::size_t>(64, rest.size() - at));
    if (skip_first) m &= ~std::uint64_t{1};
    skip_first = false;
    while (m != 0) {
      const auto k = static_cast<unsigned>(__builtin_ctzll(m));
      m &= m - 1;
      const char c = rest[at + k];
      if (quoted) {
        if (c == '\\') {
          // A quoted-pair: the next byte is content, whatever it is.
          if (k == 63) {
            skip_first = true;
          } else {
            m &= ~(std::uint64_t{1} << (k + 1));
          }
        } else if (c == '"') {
          quoted = false;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == '<') {
        ++angle;
      } else if (c == '>') {
        --angle;
      } else if (c == ',' && angle == 0) {
        i = at + k;
        break;
      }
    }
  }
  if (quoted || angle != 0) {
    failed = true;
    entry = trim_lws(rest);
    rest = {};
    return false;
  }
  entry = trim_lws(rest.substr(0, i));
  if (i < rest.size()) {
    rest.remove_prefix(i + 1);
    if (trim_lws(rest).empty()) {
      // A trailing comma: report the empty entry so callers reject it.
      rest = {};
      failed = true;
    }
  } else {
    rest = {};
  }
  return true;
}

list_iterator::list_iterator(const message& msg, header_id id) noexcept : msg_(&msg), id_(id) {
  const header_entry* h = msg.find(id);
  line_ = h ? msg.index_of(*h) : msg.headers().size();
}

bool list_iterator::next(std::string_view& entry) noexcept {
  if (failed_) return false;
  const auto hs = msg_->headers();
  for (;;) {
    if (!in_line_) {
      while (line_ < hs.size() && hs[line_].id != id_) ++line_;
      if (line_ >= hs.size()) return false;
      rest_ = msg_->value(hs[line_]);
      ++line_;
      in_line_ = true;
      if (rest_.empty()) {
        failed_ = true;  // an empty list header line ("Via:") is not an entry
        return false;
      }
    }
    if (next_list_entry(rest_, entry, failed_)) {
      if (rest_.empty()) in_line_ = false;
      if (entry.empty()) {
        failed_ = true;
        return false;
      }
      return true;
    }
    if (failed_) return false;
    in_line_ = false;
  }
}

// ---------------------------------------------------------------- name-addr

namespace {

// Validates a header-param list and records the tag on the way (one walk).
errc index_params(name_addr& na, bool list_entry) noexcept {
  param_iterator it(na.params, list_entry);
  std::string_view n;
  std::string_view v;
  bool tag_seen = false;
  while (it.next(n, v)) {
    if (!tag_seen && n.size() == 3 && chars::iequals(n, "tag")) {
      na.tag_param = unquote(v);  // the first one, as find_param() would answer
      tag_seen = true;
    }
  }
  if (it.failed()) return errc::bad_value;
  // In a list, the params end at the entry's ','; keep them without it.
  if (list_entry) na.params = cut_at(na.params, it.stop());
  na.params_indexed = true;
  return errc::ok;
}

// The first byte of [p, e) equal to one of Cs, or e: where a name-addr's URI or
// quoted string ends. Inline, 16 bytes per compare, the last partial block
// loaded overlapping the one before it (in bounds), so a 10-40 byte run costs
// one to three compares and no call (memchr's call and set-up cost more).
template <char... Cs>
[[gnu::always_inline]] inline const char* find_any(const char* p, const char* const e) noexcept {
#if defined(__SSE2__)
  if (e - p >= 16) {
    auto hits = [](const char* at) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));  // NOLINT
      __m128i hit = _mm_setzero_si128();
      ((hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, _mm_set1_epi8(Cs)))), ...);
      return static_cast<unsigned>(_mm_movemask_epi8(hit));
    };
    const char* const last = e - 16;  // the last whole block starts here
    do {
      if (const unsigned m = hits(p); m != 0) return p + __builtin_ctz(m);
      p += 16;
    } while (p <= last);
    if (p == e) return e;
    // [e - 16, e): the bytes before p in it were searched already.
    const unsigned m = hits(last) >> (16 - (e - p));
    return m != 0 ? p + __builtin_ctz(m) : e;
  }
#endif
  while (p < e && ((*p != Cs) && ...)) ++p;
  return p;
}

// The end of a run of `Cls` bytes from p, exactly as chars::skip_run<Cls>()
// answers, 16 bytes per step: one SSE2 test marks the bytes outside a subset of
// both classes (alphanumerics and "-.+", what long names and tags are made of),
// and only those marked bytes are looked up in the class table (a tag such as
// "~UuG1fX8o" has one). `lo` is the start of the whole value: a partial last
// block is loaded as [e - 16, e), in bounds when the value has 16 bytes.
template <std::uint32_t Cls>
[[gnu::always_inline]] inline const char* skip_run_wide(const char* p, const char* const e,
                                                        const char* const lo) noexcept {
  static_assert(Cls == chars::k_token || Cls == chars::k_gen_value, "the subset is in these classes");
#if defined(__SSE2__)
  if (e - lo >= 16) {
    // The bytes of [at, at + 16) outside the subset, as a mask.
    auto others = [](const char* at) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));  // NOLINT
      // Zero where x is in [l, l + n]: x - l, less n with unsigned saturation;
      // the minimum of two such distances is zero in either range (one compare
      // for both, where a signed compare per range needs an OR).
      auto off_range = [](__m128i x, char l, char n) {
        return _mm_subs_epu8(_mm_sub_epi8(x, _mm_set1_epi8(l)), _mm_set1_epi8(n));
      };
      const __m128i digit = off_range(v, '-', 12);  // "-./0123456789", less the '/'
      const __m128i alpha = off_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 25);
      const __m128i slash = _mm_cmpeq_epi8(v, _mm_set1_epi8('/'));
      const __m128i plus = _mm_cmpeq_epi8(v, _mm_set1_epi8('+'));
      // In the subset: in one range (its distance zero), not '/', or '+'.
      const __m128i in =
          _mm_or_si128(_mm_andnot_si128(slash, _mm_cmpeq_epi8(_mm_min_epu8(digit, alpha), _mm_setzero_si128())), plus);
      return ~static_cast<unsigned>(_mm_movemask_epi8(in)) & 0xffffU;
    };
    // The first marked byte of p[0, 16) outside the class, or nullptr.
    auto first_out = [](const char* at, unsigned m) -> const char* {
      for (; m != 0; m &= m - 1) {
        const char* const q = at + __builtin_ctz(m);
        if (!chars::is(*q, Cls)) return q;
      }
      return nullptr;
    };
    if (p == e) return e;
    // Whole blocks while more than 16 bytes are left: rare for the short runs
    // here, and out of the way of the one test that most runs need.
    if (e - p > 16) [[unlikely]] {
      do {
        if (const unsigned m = others(p); m != 0) {
          if (const char* const q = first_out(p, m)) return q;
        }
        p += 16;
      } while (e - p > 16);
    }
    // [e - 16, e) ends with [p, e), 1 to 16 bytes; those before p were checked.
    const unsigned m = others(e - 16) >> (16 - (e - p));
    if (m == 0) [[likely]]
      return e;
    const char* const q = first_out(p, m);
    return q != nullptr ? q : e;
  }
#endif
  static_cast<void>(lo);
  return chars::skip_run<Cls>(p, e);
}

// The length of the header-param name at p when it is one that phones send in
// nearly every From, To and Contact, followed by its '=': "tag" (in any case,
// `is_tag` set), "reg-id", "expires" or "+sip.instance" (as written; another
// case takes the class scan, which finds the same end). One or two word compares
// where the scan is a loop; 0 for any other name.
// `TagFirst` orders the compares for From and To (a tag), else for Contact.
template <bool TagFirst>
[[gnu::always_inline]] inline std::size_t known_param_name(const char* p, const char* const e, bool& is_tag) noexcept {
  constexpr std::uint64_t k_tag_eq = detail::word_of("tag=");
  constexpr std::uint64_t k_fold3 = detail::word_of("   ");  // 0x20 into the three letters
  constexpr std::uint64_t k_reg_id_eq = detail::word_of("reg-id=");
  constexpr std::uint64_t k_expires_eq = detail::word_of("expires=");
  constexpr std::uint64_t k_sip_ins = detail::word_of("+sip.ins");
  constexpr std::uint64_t k_nstance_eq = detail::word_of("nstance=");  // "+sip.instance=" from byte 6
  const std::ptrdiff_t n = e - p;
  if (n < 8) {
    if (n >= 4 && (detail::load_le32(p) | k_fold3) == k_tag_eq) {
      is_tag = true;
      return 3;
    }
    return 0;
  }
  const std::uint64_t w = detail::load_le64(p);
  const bool tag = ((w & 0xffffffffU) | k_fold3) == k_tag_eq;
  if (TagFirst && tag) {
    is_tag = true;
    return 3;
  }
  if (w == k_sip_ins && n >= 14 && detail::load_le64(p + 6) == k_nstance_eq) return 13;
  if ((w & 0x00ffffffffffffffULL) == k_reg_id_eq) return 6;
  if (w == k_expires_eq) return 7;
  if (!TagFirst && tag) {
    is_tag = true;
    return 3;
  }
  return 0;
}

// Just past the quoted string that starts at p (*p == '"'), or nullptr when a
// quoted-pair or the end comes before its closing quote (the fast path declines).
// A quoted value mostly ends the params (+sip.instance): its closing quote is first
// guessed at e - 1 and proven by one pass that finds no '"' or backslash before
// it, with no branch per 16 bytes; otherwise the search.
[[gnu::always_inline]] inline const char* quoted_end(const char* p, const char* const e) noexcept {
#if defined(__SSE2__)
  if (e - p >= 18 && e[-1] == '"') {
    // The content [a, z), 16 bytes or more: the last block first, then whole
    // blocks from a up to it (overlapping it), all OR-ed into one test.
    auto special = [](const char* at) {
      const __m128i v = detail::load16(at);
      return _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    };
    const char* const a = p + 1;
    const char* const z = e - 1;
    __m128i acc = special(z - 16);
    for (const char* q = a; q < z - 16; q += 16) acc = _mm_or_si128(acc, special(q));
    if (_mm_movemask_epi8(acc) == 0) return e;
  }
#endif
  const char* const q = find_any<'"', '\\'>(p + 1, e);
  return q != e && *q == '"' ? q + 1 : nullptr;
}

// What the fast path reads before the params: the fields of a name_addr up to
// its URI, and where the rest starts.
struct name_addr_head {
  std::string_view display;
  std::string_view uri;
  const char* rest = nullptr;
  bool display_quoted = false;
  bool angle = false;
};

// The shapes phones send: ["quoted display" / token display] <URI> or a bare
// sip:URI, then ;name[=token|"quoted"] params, with no LWS but SP/HTAB between
// display and '<', no quoted-pairs and no leading '*' with `allow_star`. Each
// step is the general parser's step for that shape (same views, same pointers);
// anything else, and every error, declines, so the general parser alone decides
// what is wrong. Leading or trailing LWS needs no test of its own: no step here
// consumes an LWS byte at either end (it would have to end a token, a URI or a
// quoted string, and none of those may be followed by LWS here).
//
// In two steps, so that the result is built once from the head (no zeroing of a
// whole name_addr first) and the params step writes only its own fields.
template <bool ListEntry>
[[gnu::always_inline]] inline bool name_addr_fast_head(std::string_view s, bool allow_star,
                                                       name_addr_head& h) noexcept {
  const char* p = s.data();
  const char* const e = p + s.size();
  // "<" URI ">", from the '<' at lt: each display form goes straight here.
  auto angle = [&h, e ](const char* lt) __attribute__((always_inline)) {
    const char* const us = lt + 1;
    const char* gt = nullptr;
#if defined(__SSE2__)
    // A From or To without params ends with its '>': proven by one pass that
    // finds no '>' before it, with no branch per 16 bytes.
    if (!ListEntry && e[-1] == '>' && e - us > 16) {
      auto hit = [](const char* at) { return _mm_cmpeq_epi8(detail::load16(at), _mm_set1_epi8('>')); };
      __m128i acc = hit(e - 17);
      for (const char* q = us; q < e - 17; q += 16) acc = _mm_or_si128(acc, hit(q));
      if (_mm_movemask_epi8(acc) == 0) gt = e - 1;
    }
#endif
    if (gt == nullptr) gt = find_any<'>'>(us, e);
    if (gt == e || gt == us) return false;
    h.angle = true;
    h.uri = {us, static_cast<std::size_t>(gt - us)};
    h.rest = gt + 1;
    return true;
  };
  if (p == e) return false;
  if (*p == '"') {
    const char* const ds = p + 1;
    const char* const q = find_any<'"', '\\'>(ds, e);
    if (q == e || *q != '"') return false;  // a quoted-pair, or unterminated
    h.display = {ds, static_cast<std::size_t>(q - ds)};
    h.display_quoted = true;
    // One SP, or none, then '<' (more LWS declines): one two-byte load, as a
    // '<' needs a '>' after it anyway.
    if (e - q < 3) return false;
    const std::uint16_t w = detail::load_le16(q + 1);
    if ((w & 0xffU) == '<') return angle(q + 1);
    if (w == detail::word_of(" <")) return angle(q + 2);
    return false;
  }
  if (*p == '<') {
    h.display = s.substr(0, 0);  // the empty run of display tokens, where it would start
    return angle(p);
  }
  if (allow_star && *p == '*') return false;
  // display-name = *(token LWS) before '<'; SP/HTAB only (a CR or LF may fold).
  const char* last = p;
  const char* q = p;
  for (;;) {
    const char* const t = chars::skip_run<chars::k_token>(q, e);
    if (t == q) break;
    last = t;
    q = t;
    while (q < e && chars::is_ws(*q)) ++q;
  }
  if (q < e && *q == '<') {
    h.display = {p, static_cast<std::size_t>(last - p)};
    return angle(q);
  }
  if (q < e && (*q == '\r' || *q == '\n')) return false;
  // An addr-spec. skip_run<k_addr_spec>() and then a search for '?' in one
  // search: a '?' before the end declines (the general parser rejects a URI
  // with one here).
  const char* const ue = find_any<';', ',', ' ', '\t', '\r', '\n', '?'>(p, e);
  if (ue == p || (ue != e && *ue == '?')) return false;
  h.uri = {p, static_cast<std::size_t>(ue - p)};
  h.rest = ue;
  return true;
}

// parse_uri(u).ok() for the shapes uri_ok_fast() leaves: parse_uri()'s fast
// path into a scratch uri, else the general parser. Out of line, so that the
// scratch uri (zeroed) is not in the frame of every call.
[[gnu::noinline]] bool uri_ok_rest(std::string_view u) noexcept {
  uri scratch;
  return detail::parse_uri_fast(u, scratch) || detail::parse_uri_general(u).ok();
}

// The URI check of parse_name_addr() and first_name_addr(): a check that builds
// no uri, else parse_uri()'s answer. Run last, on the URI already in the result,
// so that nothing the fast path found has to be kept across the call.
inline bool name_addr_uri_ok(std::string_view u) noexcept {
#if defined(__SSE2__)
  if (detail::uri_ok_fast(u)) return true;
#endif
  return uri_ok_rest(u);
}

// The params from `p` (just after the URI) to the end of `s`: na.params and
// na.tag_param, the only fields it writes.
template <bool ListEntry>
[[gnu::always_inline]] inline bool name_addr_fast_params(std::string_view s, const char* p, name_addr& na) noexcept {
  const char* const e = s.data() + s.size();
  if (p == e || (ListEntry && *p == ',')) return true;
  if (*p != ';') return false;
  const char* const ps = ++p;
  na.params = {ps, static_cast<std::size_t>(e - ps)};
  // generic-param *(";" generic-param), as param_iterator reads them without LWS;
  // the tag is the first "tag" param, as index_params() records it.
  bool tag_seen = false;
  for (;;) {
    const char* const ns = p;
    bool is_tag = false;
    bool has_value = true;
    if (const std::size_t k = known_param_name<!ListEntry>(p, e, is_tag); k != 0) {
      p += k + 1;  // a token of k bytes, then '='
      // A one-digit value and then the next param (";reg-id=1;"): no run to scan.
      if (ListEntry && e - p >= 2 && static_cast<unsigned char>(p[0] - '0') < 10 && p[1] == ';') {
        if (is_tag && !tag_seen) na.tag_param = {p, 1};
        tag_seen = tag_seen || is_tag;
        p += 2;
        continue;
      }
    } else {
      p = skip_run_wide<chars::k_token>(p, e, s.data());
      if (p == ns) return false;  // no name: also a trailing ';'
      is_tag = p - ns == 3 && (ns[0] | 0x20) == 't' && (ns[1] | 0x20) == 'a' && (ns[2] | 0x20) == 'g';
      has_value = p < e && *p == '=';
      p += has_value ? 1 : 0;
    }
    if (has_value) {
      const char* const vs = p;
      if (p < e && *p == '"') {
        p = quoted_end(p, e);
        if (p == nullptr) return false;
        // unquote() of the value, which has both quotes.
        if (is_tag && !tag_seen) na.tag_param = {vs + 1, static_cast<std::size_t>(p - vs - 2)};
      } else {
        // Tags are long (8 to 40 bytes); other values mostly a few bytes.
        p = is_tag ? skip_run_wide<chars::k_gen_value>(p, e, s.data()) : chars::skip_run<chars::k_gen_value>(p, e);
        if (p == vs) return false;
        // No quote in the run: unquote() leaves it as it is.
        if (is_tag && !tag_seen) na.tag_param = {vs, static_cast<std::size_t>(p - vs)};
      }
    }
    // The first tag decides; one without a value leaves tag_param empty (null).
    tag_seen = tag_seen || is_tag;
    if (p == e) return true;
    if (*p == ';') {
      ++p;
      continue;
    }
    if (!ListEntry || *p != ',') return false;
    na.params = {ps, static_cast<std::size_t>(p - ps)};
    return true;
  }
}

}  // namespace

bool detail::name_addr_fast(std::string_view s, bool allow_star, bool check_uri, bool list_entry,
                            name_addr& na) noexcept {
  name_addr_head h;
  if (!(list_entry ? name_addr_fast_head<true>(s, allow_star, h) : name_addr_fast_head<false>(s, allow_star, h)) ||
      (check_uri && !name_addr_uri_ok(h.uri))) {
    return false;
  }
  na = name_addr{h.display, h.display_quoted, h.uri, h.angle, false, {}, {}, true};
  return list_entry ? name_addr_fast_params<true>(s, h.rest, na) : name_addr_fast_params<false>(s, h.rest, na);
}

// With `list_entry`, `s` is the rest of a comma-separated value and the entry
// ends at its first ',' outside quotes and <>.
result<name_addr> detail::name_addr_general(std::string_view s, bool allow_star, bool check_uri,
                                            bool list_entry) noexcept {
  name_addr na;
  na.params_indexed = true;  // no params at all is an indexed (empty) list
  cursor c(trim_lws(s));
  if (allow_star && c.peek() == '*') {
    cursor after = c;
    after.advance();
    after.skip_lws();
    if (after.at_end() || (list_entry && ends_entry(after.pos(), after.pos() + after.remaining()))) {
      na.star = true;
      return na;
    }
  }
  if (c.peek() == '"') {
    if (!c.quoted(na.display)) return errc::unterminated_quote;
    na.display_quoted = true;
    c.skip_lws();
    if (c.peek() != '<') return errc::bad_name_addr;
  } else {
    // display-name = *(token LWS): a run of tokens, then '<'; otherwise an addr-spec.
    cursor probe = c;
    const char* start = probe.pos();
    const char* last = start;
    while (!probe.token().empty()) {
      last = probe.pos();
      probe.skip_lws();
    }
    if (probe.peek() == '<') {
      na.display = {start, static_cast<std::size_t>(last - start)};
      c = probe;
    }
  }
  if (c.eat('<')) {
    na.angle = true;
    const char* const gt = find_any<'>'>(c.pos(), c.pos() + c.remaining());
    if (gt == c.pos() + c.remaining()) return errc::bad_name_addr;
    na.uri = {c.pos(), static_cast<std::size_t>(gt - c.pos())};
    c.seek(gt + 1);
  } else {
    // addr-spec: the URI ends at LWS or ';' (then header params). A URI with '?',
    // ',' or ';' needs the name-addr form (RFC 3261 §20.10), so '?' here is an error.
    const char* const us = c.pos();
    c.seek(chars::skip_class4<chars::k_addr_spec>(us, us + c.remaining()));
    na.uri = {us, static_cast<std::size_t>(c.pos() - us)};
    if (na.uri.find('?') != std::string_view::npos) return errc::bad_name_addr;
  }
  if (na.uri.empty()) return errc::bad_name_addr;
  if (check_uri && !parse_uri(na.uri)) return errc::bad_uri;
  c.skip_lws();
  if (c.at_end() || (list_entry && ends_entry(c.pos(), c.pos() + c.remaining()))) return na;
  if (!c.eat(';')) return errc::bad_name_addr;
  na.params = c.rest();
  if (na.params.empty() || index_params(na, list_entry) != errc::ok) return errc::bad_value;
  return na;
}

namespace {

template <bool CheckUri, bool ListEntry>
[[gnu::always_inline]] inline result<name_addr> name_addr_impl(std::string_view s, bool allow_star) noexcept {
  // One object, built in place from the head and returned by name (no zeroing,
  // no copy of a name_addr on the fast path); the params step fills the rest, and
  // a declined fast path overwrites it.
  name_addr_head h;
  const bool head = name_addr_fast_head<ListEntry>(s, allow_star, h);
  result<name_addr> r =
      head ? result<name_addr>{name_addr{h.display, h.display_quoted, h.uri, h.angle, false, {}, {}, true}}
           : detail::name_addr_general(s, allow_star, CheckUri, ListEntry);
  // The URI last: only the result (in memory) and the arguments are live across
  // its call, and it may decline as well as the params.
  if (head && !(name_addr_fast_params<ListEntry>(s, h.rest, r.value()) && (!CheckUri || name_addr_uri_ok(r->uri))))
      [[unlikely]] {
    r = detail::name_addr_general(s, allow_star, CheckUri, ListEntry);
  }
  return r;
}

}  // namespace

result<name_addr> parse_name_addr(std::string_view s, bool allow_star) noexcept {
  return name_addr_impl<true, false>(s, allow_star);
}

result<name_addr> split_name_addr(std::string_view s, bool allow_star) noexcept {
  return name_addr_impl<false, false>(s, allow_star);
}

result<name_addr> first_name_addr(const message& msg, header_id id, bool allow_star) noexcept {
  const header_entry* h = msg.find(id);
  if (h == nullptr) return errc::not_present;
  return name_addr_impl<true, true>(msg.value(*h), allow_star);
}

result<std::uint32_t> name_addr::expires() const noexcept {
  const auto v = param("expires");
  if (!v) return errc::not_present;
  const auto n = parse_uint(*v, 0xffffffffULL);
  if (!n) return n.error();
  return static_cast<std::uint32_t>(*n);
}

result<std::uint16_t> name_addr::q() const noexcept {
  const auto v = param("q");
  if (!v) return errc::not_present;
  // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
  const std::string_view s = *v;
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return errc::bad_value;
  unsigned value = s[0] == '1' ? 1000U : 0U;
  if (s.size() > 1) {
    if (s[1] != '.' || s.size() > 5) return errc::bad_value;
    unsigned scale = 100;
    for (std::size_t i = 2; i < s.size(); ++i, scale /= 10) {
      if (!chars::is_digit(s[i])) return errc::bad_value;
      value += static_cast<unsigned>(s[i] - '0') * scale;
    }
    if (value > 1000) return errc::bad_value;
  }
  return static_cast<std::uint16_t>(value);
}

result<std::uint32_t> name_addr::reg_id() const noexcept {
  const auto v = param("reg-id");
  if (!v) return errc::not_present;
  const auto n = parse_uint(*v, 0xffffffffULL);
  if (!n) return n.error();
  return static_cast<std::uint32_t>(*n);
}

// ---------------------------------------------------------------- Via

bool via::sent_by_is_broadcast() const noexcept {
  std::uint32_t a = 0;
  if (host_type != host_kind::ipv4 || !parse_ipv4(host, a)) return false;
  return a == 0xffffffffU || (a >> 28) == 0xeU;
}

namespace {

// "branch=" as the low seven bytes of detail::load_le64(), "rport" as
// detail::load_le_bytes<5>() reads it.
constexpr std::uint64_t k_branch_eq = detail::word_of("branch=");
constexpr std::uint64_t k_rport = detail::word_of("rport");
constexpr std::uint64_t k_received = detail::word_of("received");

// `n` spells `name` (lower-case letters only, as long as `n`; at most 8) in any
// case. OR-ing 0x20 into a byte lowers an ASCII letter and turns no other byte
// into one, so for an all-letter name the compare is exact: a load and a compare
// where iequals() goes byte by byte.
template <std::size_t N>
bool is_letters(std::string_view n, const char (&name)[N]) noexcept {
  constexpr std::size_t k = N - 1;
  static_assert(k >= 1 && k <= 8);
  const std::uint64_t want = detail::word_of({name, k});
  constexpr std::uint64_t lower = 0x2020202020202020ULL >> (8 * (8 - k));
  return (detail::load_le_bytes<k>(n.data()) | lower) == want;
}

transport transport_from_token(std::string_view t) noexcept {
  switch (t.size()) {
    case 2: return is_letters(t, "ws") ? transport::ws : transport::other;
    case 3:
      if (is_letters(t, "udp")) return transport::udp;
      if (is_letters(t, "tcp")) return transport::tcp;
      if (is_letters(t, "tls")) return transport::tls;
      return is_letters(t, "wss") ? transport::wss : transport::other;
    case 4: return is_letters(t, "sctp") ? transport::sctp : transport::other;
    default: return transport::other;
  }
}

// One via-param into `v`; false when its value is malformed. Inlined into both
// parsers: the fast one calls it for every param, and a call costs what the
// common case (a name that is none of these) does.
// `end` is the end of the view `val` lies in (readable up to there).
// The branch and rport params by themselves: the fast parser calls these
// directly for the two names nearly every Via has, spelled as it recognises them.
inline bool via_branch(via& v, std::string_view val) noexcept {
  if (val.empty() || val.front() == '"') return false;
  v.branch = val;
  return true;
}

[[gnu::always_inline]] inline bool via_rport(via& v, std::string_view val, const char* end) noexcept {
  v.has_rport = true;
  if (!val.empty()) {
    // parse_uint(val, 65535): all of it a port number.
    // (The digit run is the same read up to `end`: the byte after `val` is no
    // digit. The longer view lets scan_port() read eight bytes at once.)
    const char* p = val.data();
    if (!detail::scan_port(p, end, v.rport) || p != val.data() + val.size()) return false;
    v.rport_has_value = true;
  }
  return true;
}

[[gnu::always_inline]] inline bool via_param(via& v, std::string_view n, std::string_view val,
                                             const char* end) noexcept {
  // Dispatch on length first: most names are none of these, and each compare is one.
  switch (n.size()) {
    case 6: return is_letters(n, "branch") ? via_branch(v, val) : true;
    case 8:
      if (is_letters(n, "received")) {
        if (!detail::is_ipv4(val, end) && val.find(':') == std::string_view::npos) return false;
        v.received = val;
      }
      return true;
    case 5:
      if (is_letters(n, "rport")) return via_rport(v, val, end);
      if (is_letters(n, "maddr")) {
        if (val.empty()) return false;
        v.maddr = val;
      }
      return true;
    case 3:
      if (is_letters(n, "ttl")) {
        const auto t = parse_uint(val, 255);
        if (!t) return false;
        v.ttl = static_cast<std::uint8_t>(*t);
        v.has_ttl = true;
      }
      return true;
    default: return true;
  }
}

}  // namespace

// One Via entry; with `list_entry`, `entry` is the rest of a Via line and the
// entry ends at its first ',' outside quoted param values. The general grammar
// (LWS around '/', ':', ';', '=', quoted values...); via_fast() below handles the
// shape nearly every Via has and leaves the rest to this.
result<via> detail::via_general(std::string_view entry, bool list_entry) noexcept {
  via v;
  cursor c(trim_lws(entry));
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, with
  // LWS allowed around each SLASH; nearly every Via spells the first two "SIP/2.0/".
  if (c.rest().starts_with("SIP/2.0/")) {
    v.protocol = c.rest().substr(0, 3);
    v.version = c.rest().substr(4, 3);
    c.advance(8);
  } else {
    v.protocol = c.token();
    if (v.protocol.empty() || !c.eat_sep('/')) return errc::bad_via;
    v.version = c.token();
    if (v.version.empty() || !c.eat_sep('/')) return errc::bad_via;
  }
  c.skip_lws();
  v.transport_token = c.token();
  if (v.transport_token.empty() || !c.skip_lws()) return errc::bad_via;
  v.transport = transport_from_token(v.transport_token);
  // sent-by = host [ COLON port ], COLON = SWS ":" SWS
  const char* hs = c.pos();
  if (c.peek() == '[') {
    const std::size_t close = c.rest().find(']');
    if (close == std::string_view::npos) return errc::bad_via;
    c.advance(close + 1);
  } else {
    c.seek(chars::skip_class4<chars::k_host>(c.pos(), c.pos() + c.remaining()));
  }
  const std::string_view host_text{hs, static_cast<std::size_t>(c.pos() - hs)};
  std::uint16_t port = 0;
  bool has_port = false;
  if (const errc e = detail::parse_hostport(host_text, v.host, v.host_type, port, has_port); e != errc::ok) {
    return errc::bad_via;
  }
  if (c.eat_sep(':')) {
    const char* p = c.pos();
    if (!detail::scan_port(p, p + c.remaining(), v.port)) return errc::bad_via;
    c.seek(p);
    v.has_port = true;
  }
  c.skip_lws();
  if (c.at_end() || (list_entry && ends_entry(c.pos(), c.pos() + c.remaining()))) return v;
  if (!c.eat(';')) return errc::bad_via;
  v.params = c.rest();
  if (v.params.empty()) return errc::bad_via;  // ';' with no via-param after it
  param_iterator it(v.params, list_entry);
  std::string_view n;
  std::string_view val;
  while (it.next(n, val)) {
    if (!via_param(v, n, val, v.params.data() + v.params.size())) return errc::bad_via;
  }
  if (it.failed()) return errc::bad_via;
  if (list_entry) v.params = cut_at(v.params, it.stop());
  return v;
}

#if defined(__SSE2__)
// The k_host bytes (letters, digits, '-', '.') of the 16 at `q`, bit i for byte i.
[[gnu::always_inline]] inline unsigned host_bytes16(const char* q) noexcept {
  const __m128i x = detail::load16(q);
  // OR-ing 0x20 lowers letters and makes no other byte a letter.
  const __m128i letter = detail::in_range<'a', 'z'>(_mm_or_si128(x, _mm_set1_epi8(0x20)));
  // '-', '.' and the digits are 0x2d..0x39 but '/'.
  const __m128i digit_dash_dot = _mm_andnot_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')), detail::in_range<'-', '9'>(x));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(letter, digit_dash_dot)));
}
#endif

// Where the run of k_host bytes (letters, digits, '-', '.') at `p` stops, the
// view readable from `lo` (<= p) to `e`: with SSE2 16 bytes a step, and the last
// fewer than 16 from the 16 bytes that end at `e` (when `lo` allows), those
// before `p` shifted out. Every byte before the answer is in k_gen_value; it
// ends the run of k_gen_value bytes (a param value) when it is `e` or a byte
// outside k_gen_value (nearly always: a ';' or ',' follows a branch), else
// gen_value_run() goes on from it. No calls: the Via shortcut reads its branch
// with it and keeps no frame.
[[gnu::always_inline]] inline const char* host_run(const char* p, const char* e, const char* lo) noexcept {
#if defined(__SSE2__)
  for (;;) {
    unsigned m = 0;
    if (e - p >= 16) {
      m = host_bytes16(p);
      if (m == 0xffffU) {
        p += 16;
        continue;
      }
    } else {
      if (p == e || e - lo < 16 || !chars::is(*p, chars::k_gen_value)) return p;
      // Bits 0..(e-p-1) for the bytes from `p`, clear above: the run ends by `e`.
      m = host_bytes16(e - 16) >> (16 - (e - p));
    }
    return p + __builtin_ctz(~m);
  }
#else
  (void)e;
  (void)lo;
  return p;
#endif
}

// The end of the run of k_gen_value bytes at `p` (a param value), the view
// readable from `lo` (<= p) to `e`: host_run(), then byte by byte if needed.
[[gnu::always_inline]] inline const char* gen_value_run(const char* p, const char* e, const char* lo) noexcept {
  p = host_run(p, e, lo);
  if (p == e || !chars::is(*p, chars::k_gen_value)) return p;
  return chars::skip_class4<chars::k_gen_value>(p, e);
}

namespace {

// sent-by at `p` as scan_hostport() reads it, `p` moved past it. An IPv4 address
// with a port, as nearly every Via has, from one 16-byte load and the eight-byte
// port reader; anything else is scan_hostport_inline().
[[gnu::always_inline]] inline bool sent_by(const char*& p, const char* e, via& v) noexcept {
#if defined(__SSE2__)
  if (e - p >= 16) {
    const int len = detail::ipv4_len16_lookup(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));  // NOLINT
    // A valid address that no other host byte follows (len < 16: p[len] is in the load).
    if (len > 0 && !chars::is(p[len], chars::k_host)) {
      v.host = {p, static_cast<std::size_t>(len)};
      v.host_type = host_kind::ipv4;
      p += len;
      if (*p == ':') {
        ++p;
        if (!detail::scan_port(p, e, v.port)) return false;
        v.has_port = true;
      }
      return true;
    }
  }
#endif
  std::size_t used = 0;
  if (detail::scan_hostport_inline({p, static_cast<std::size_t>(e - p)}, v.host, v.host_type, v.port, v.has_port,
                                   used) != errc::ok) {
    return false;
  }
  p += used;
  return true;
}

// The via-params of a fast_via() entry from `p`, the start of one (`params`
// the first's), into `v` (params, branch, received, maddr, rport, ttl); the same
// answers as fast_via() from there: false declines.
[[gnu::always_inline]] inline bool fast_via_param_list(const char* const params, const char* p, const char* e,
                                                       const char* lo, bool list_entry, via& v) noexcept {
  // ["=" value] at `p`: an empty view when there is no '=', false when the value is empty.
  auto value = [&p, e, lo ](std::string_view & val) __attribute__((always_inline)) {
    if (p < e && *p == '=') {
      const char* const vs = ++p;
      p = gen_value_run(p, e, lo);
      if (p == vs) return false;
      val = {vs, static_cast<std::size_t>(p - vs)};
    }
    return true;
  };
  for (;;) {
    std::string_view val{};
    // The name's first eight bytes (fewer, zero-padded, near the end; none below
    // five: then neither word matches).
    const std::ptrdiff_t left = e - p;
    std::uint64_t w = 0;
    if (left >= 8) {
      w = detail::load_le64(p);
    } else if (left >= 5) {
      w = detail::load_tail8(p, static_cast<std::size_t>(left));
    }
    if (left >= 8 && (w & 0x00ffffffffffffffULL) == k_branch_eq) {
      // "branch=" (this spelling) as one word: the token is the six letters before
      // the '=', and what via_param() does for it is via_branch(), whose checks a
      // non-empty run of k_gen_value passes (its first byte is no '"'). Nearly
      // every Via has it, and a token scan and the name dispatch cost a dozen steps.
      const char* const vs = p + 7;
      p = gen_value_run(vs, e, lo);
      if (p == vs) return false;
      v.branch = {vs, static_cast<std::size_t>(p - vs)};
    } else if (left >= 9 && w == k_received && p[8] == '=') {
      // "received=" as a word, as "branch=" above: what via_param() does for it.
      p += 8;
      if (!value(val) || (!detail::is_ipv4(val, e) && val.find(':') == std::string_view::npos)) return false;
      v.received = val;
    } else if ((w & 0xffffffffffULL) == k_rport && (left == 5 || !chars::is_token(static_cast<char>(w >> 40)))) {
      // "rport", the other name nearly every Via has, and the end of its token.
      p += 5;
      if (!value(val) || !via_rport(v, val, e)) return false;
    } else {
      const char* const ns = p;
      p = chars::skip_run<chars::k_token>(p, e);  // names are short: stop where it ends
      if (p == ns) return false;
      const std::string_view name{ns, static_cast<std::size_t>(p - ns)};
      if (!value(val) || !via_param(v, name, val, e)) return false;
    }
    // A ';' (another param) first: nearly every param but the last has one.
    if (p != e && *p == ';') {
      ++p;
      continue;
    }
    if (p != e && (*p != ',' || !list_entry)) return false;
    v.params = {params, static_cast<std::size_t>(p - params)};
    return true;
  }
}

// The rest of a fast_via() entry at `p`, just after its sent-by: nothing, the
// list's ',' or ";" via-params.
[[gnu::always_inline]] inline bool fast_via_params(const char* p, const char* e, const char* lo, bool list_entry,
                                                   via& v) noexcept {
  if (p == e) return true;
  if (*p == ',') return list_entry;
  if (*p != ';') return false;
  return fast_via_param_list(p + 1, p + 1, e, lo, list_entry, v);
}

// The Via that phones send: "SIP/2.0/" transport SP host [":" port] *(";" name
// ["=" value]), with no LWS but that one SP, no quoted value, and the entry's ','
// (in a list) right after its last byte. For such an entry every step of
// via_general() has one outcome, taken here without its cursor, LWS skips and
// param_iterator; the field code (scan_hostport, via_param) is the same.
// Anything else declines (false, `v` partly written), errors included: a
// malformed Via is reported by via_general() alone. One copy, for via_rest() and
// detail::via_fast() (the tests): via_impl() takes the commonest Via itself.
[[gnu::noinline]] bool fast_via(std::string_view entry, bool list_entry, via& v) noexcept {
  const char* p = entry.data();
  const char* const e = p + entry.size();
  // "SIP/2.0/" and at least four more bytes (the transport word below reads four).
  if (entry.size() < 12 || std::memcmp(p, "SIP/2.0/", 8) != 0) return false;
  v.protocol = {p, 3};
  v.version = {p + 4, 3};
  p += 8;
  // The transport token and its SP; the three that nearly every Via names, as one
  // word (what transport_from_token() answers for them, without the scan).
  const char* t = p + 3;
  switch (detail::load_le32(p)) {
    case detail::word_of("UDP "): v.transport = transport::udp; break;
    case detail::word_of("TCP "): v.transport = transport::tcp; break;
    case detail::word_of("TLS "): v.transport = transport::tls; break;
    default:
      t = chars::skip_class(p, e, chars::k_token);
      if (t == p || t == e || *t != ' ') return false;
      v.transport = transport_from_token({p, static_cast<std::size_t>(t - p)});
  }
  v.transport_token = {p, static_cast<std::size_t>(t - p)};
  p = t + 1;
  if (!sent_by(p, e, v)) return false;
  return fast_via_params(p, e, entry.data(), list_entry, v);
}

}  // namespace

bool detail::via_fast(std::string_view entry, bool list_entry, via& out) noexcept {
  return fast_via(entry, list_entry, out);
}

int detail::ipv4_len16_for_tests(const char* p, bool lookup) noexcept {
#if defined(__SSE2__)
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));  // NOLINT
  unsigned digit = 0;
  return lookup ? ipv4_len16_lookup(x) : ipv4_len16(x, digit);
#else
  (void)p;
  (void)lookup;
  return 0;
#endif
}

namespace {

// fast_via(), else the general parser, into one result object (no copy of the
// via on the fast path). Out of line: what via_impl() does not take itself.
[[gnu::noinline]] result<via> via_rest(std::string_view entry, bool list_entry) noexcept {
  result<via> r{via{}};
  if (fast_via(entry, list_entry, r.value())) return r;
  r = detail::via_general(entry, list_entry);
  return r;
}

// `r` = via_general(): out of line, so that its copy of the result on the stack
// costs the fast paths that call it no frame.
[[gnu::noinline, gnu::cold]] void via_general_into(result<via>& r, std::string_view entry, bool list_entry) noexcept {
  r = detail::via_general(entry, list_entry);
}

#if defined(__SSE2__)
// The params of an entry whose head via_impl() read ("SIP/2.0/" transport SP,
// an IPv4 sent-by at `b` + 12, then ';') when they are not the common ones: the
// head's fields from `head` (transport, host length << 8, port << 16, has_port
// << 32), the params from `params` (just after that ';') as
// fast_via() reads them, else the general parser. via_impl() read the branch
// when `from` (where the loop starts) is past `params`: "branch=" value ';'.
// Out of line: its loop and calls would cost every Via saved registers.
template <bool list_entry>
[[gnu::noinline]] result<via> via_head_rest(const char* b, const char* e, const char* params, const char* from,
                                            std::uint64_t head) noexcept {
  result<via> r{std::in_place, [&] {
                  return via{.protocol = {b, 3},
                             .version = {b + 4, 3},
                             .transport_token = {b + 8, 3},
                             .transport = static_cast<transport>(head & 0xff),
                             .host = {b + 12, static_cast<std::size_t>((head >> 8) & 0xff)},
                             .host_type = host_kind::ipv4,
                             .port = static_cast<std::uint16_t>(head >> 16),
                             .has_port = ((head >> 32) & 1) != 0,
                             .params = {},
                             .branch = {},
                             .received = {},
                             .maddr = {},
                             .has_rport = false,
                             .rport_has_value = false,
                             .rport = 0,
                             .ttl = 0,
                             .has_ttl = false};
                }};
  if (from != params) r.value().branch = {params + 7, static_cast<std::size_t>(from - 1 - (params + 7))};
  if (!fast_via_param_list(params, from, e, b, list_entry, r.value())) [[unlikely]] {
    via_general_into(r, {b, static_cast<std::size_t>(e - b)}, list_entry);
  }
  return r;
}
#endif

// ";branch=" and ";rport" as detail::load_le64() / load_le_bytes<6>() read them.
constexpr std::uint64_t k_semi_branch_eq = detail::word_of(";branch=");
constexpr std::uint64_t k_semi_rport = detail::word_of(";rport");

// The Via nearly every phone sends, "SIP/2.0/" UDP|TCP|TLS SP IPv4 [":" port]
// ";branch=" value [";rport"], read into locals and made in the result in place
// (no zeroing, no stores through a pointer, no frame): fast_via()'s answer for
// it, field for field. An entry with that head but other params goes on from
// the sent-by in via_head_rest(); anything else is via_rest() from the start.
[[gnu::always_inline]] inline result<via> via_impl(std::string_view entry, bool list_entry) noexcept {
#if defined(__SSE2__)
  const char* const b = entry.data();
  const char* const e = b + entry.size();
  // The head and 16 bytes from the host on (one load for the address).
  if (entry.size() >= 28 && detail::load_le64(b) == detail::word_of("SIP/2.0/")) {
    // The head's fields packed as via_head_rest() takes them: one register for
    // four, which keeps the shortcut in the caller-saved ones.
    std::uint64_t head = 0;
    switch (detail::load_le32(b + 8)) {
      case detail::word_of("UDP "): head = static_cast<std::uint64_t>(transport::udp); break;
      case detail::word_of("TCP "): head = static_cast<std::uint64_t>(transport::tcp); break;
      case detail::word_of("TLS "): head = static_cast<std::uint64_t>(transport::tls); break;
      default: return via_rest(entry, list_entry);
    }
    const int len = detail::ipv4_len16_lookup(detail::load16(b + 12));
    const char* p = b + 12 + len;
    // As sent_by(): a valid address that no other host byte follows (len < 16).
    if (len > 0 && !chars::is(*p, chars::k_host)) {
      head |= static_cast<std::uint64_t>(len) << 8;
      if (*p == ':') {
        // scan_port() for one to five digits, from one eight-byte load; anything
        // else (and a port above 65535) is via_rest()'s.
        if (e - p < 9) return via_rest(entry, list_entry);
        const std::uint64_t w = detail::load_le64(p + 1) ^ 0x3030303030303030ULL;
        const std::uint64_t bad = (((w & 0x7f7f7f7f7f7f7f7fULL) + 0x7676767676767676ULL) | w) & 0x8080808080808080ULL;
        const auto n = static_cast<std::size_t>(__builtin_ctzll(bad | (1ULL << 63))) / 8;
        unsigned v = 0;
        if (n == 4) {
          // The usual four digits: the pairs' values in bytes 0 and 2 (no byte
          // carries into a lower one), then one multiply; never above 65535.
          const std::uint64_t pairs = (w * 10) + (w >> 8);
          v = static_cast<unsigned>((pairs & 0xff) * 100 + ((pairs >> 16) & 0xff));
        } else {
          if (n - 1 >= 5) return via_rest(entry, list_entry);
          v = detail::port_digits_value(w, n);
          if (v > 65535) return via_rest(entry, list_entry);
        }
        head |= (std::uint64_t{v} << 16) | (1ULL << 32);
        p += 1 + n;
      }
      // ";branch=" value [";rport"], then the entry's end.
      if (e - p >= 9 && detail::load_le64(p) == k_semi_branch_eq) {
        const char* const vs = p + 8;
        // Where the k_host run stops: the branch's end when ";rport", ',' or the
        // end follows (bytes outside k_gen_value), the only shapes taken here.
        const char* const ve = host_run(vs, e, b);
        const char* q = ve;
        if (e - q >= 6 && detail::load_le_bytes<6>(q) == k_semi_rport) q += 6;
        if (ve != vs && (q == e || (*q == ',' && list_entry))) {
          return {std::in_place, [=] {
                    return via{.protocol = {b, 3},
                               .version = {b + 4, 3},
                               .transport_token = {b + 8, 3},
                               .transport = static_cast<transport>(head & 0xff),
                               .host = {b + 12, static_cast<std::size_t>((head >> 8) & 0xff)},
                               .host_type = host_kind::ipv4,
                               .port = static_cast<std::uint16_t>(head >> 16),
                               .has_port = ((head >> 32) & 1) != 0,
                               .params = {vs - 7, static_cast<std::size_t>(q - (vs - 7))},
                               .branch = {vs, static_cast<std::size_t>(ve - vs)},
                               .received = {},
                               .maddr = {},
                               .has_rport = q != ve,
                               .rport_has_value = false,
                               .rport = 0,
                               .ttl = 0,
                               .has_ttl = false};
                  }};
        }
        // The value and a ';' (other params after it): on from there.
        if (ve != vs && ve != e && *ve == ';') {
          return list_entry ? via_head_rest<true>(b, e, p + 1, ve + 1, head)
                            : via_head_rest<false>(b, e, p + 1, ve + 1, head);
        }
      }
      // Other params first (no params at all, or the list's ',', are via_rest()'s).
      if (p != e && *p == ';') {
        return list_entry ? via_head_rest<true>(b, e, p + 1, p + 1, head)
                          : via_head_rest<false>(b, e, p + 1, p + 1, head);
      }
    }
  }
#endif
  return via_rest(entry, list_entry);
}

}  // namespace

result<via> detail::via_one_pass(std::string_view entry, bool list_entry) noexcept {
  return via_impl(entry, list_entry);
}

result<via> parse_via(std::string_view entry) noexcept { return detail::via_one_pass(entry, false); }

result<via> top_via(const message& msg) noexcept {
  // The first entry of the first Via line, in one pass (no list split first).
  const header_entry* h = msg.find(header_id::via);
  if (h == nullptr) return errc::not_present;
  return via_impl(msg.value(*h), true);
}

// ---------------------------------------------------------------- scalars

result<std::uint64_t> detail::parse_uint_general(std::string_view s, std::uint64_t max) noexcept {
  if (s.empty()) return errc::bad_integer;
  if (s.size() <= 18) {
    // Eighteen digits cannot wrap 64 bits: accumulate, then compare once. A bad
    // byte after a prefix already above `max` is an overflow, as the digit-by-digit
    // rule below would have found first.
    std::uint64_t v = 0;
    for (char c : s) {
      const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(c)) - '0';
      if (d > 9) return v > max ? errc::integer_overflow : errc::bad_integer;
      v = v * 10 + d;
    }
    if (v > max) return errc::integer_overflow;
    return v;
  }
  // v * 10 + d > max, tested before computing it (with max near 2^64 the sum would
  // wrap), against limits divided once per call rather than once per digit.
  const std::uint64_t lim = max / 10;
  const std::uint64_t last = max % 10;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!chars::is_digit(c)) return errc::bad_integer;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > lim || (v == lim && d > last)) return errc::integer_overflow;
    v = v * 10 + d;
  }
  return v;
}

namespace {

// The integers headers carry are mostly 1..4 digits (Expires 3600, Content-Length 0,
// Max-Forwards 70): read them as one word. True, with the value, when `s` is 1..4
// digits; false for anything else (the general code then decides). `First` is the
// length tested first, the one the caller sees most (4 for Expires, 1 for
// Content-Length).
template <std::size_t First = 1>
inline bool small_uint(std::string_view s, std::uint32_t& v) noexcept {
  const char* const p = s.data();
  const std::size_t n = s.size();
  // The digits right-aligned in four bytes behind '0's ("70" as "0070"), the
  // first digit in the lowest byte.
  std::uint32_t w = 0;
  if (First == 4 && n == 4) {
    w = detail::load_le32(p);
  } else if (n == 1) {  // Content-Length: 0
    const unsigned d = static_cast<unsigned char>(p[0]) - unsigned{'0'};
    v = d;
    return d <= 9;
  } else if (n == 4) {
    w = detail::load_le32(p);
  } else if (n == 2) {
    w = 0x3030U | static_cast<std::uint32_t>(detail::load_le16(p)) << 16;
  } else if (n == 3) {
    w = 0x30U | static_cast<std::uint32_t>(detail::load_le16(p)) << 8 |
        static_cast<std::uint32_t>(static_cast<unsigned char>(p[2])) << 24;
  } else {
    return false;
  }
  // Every byte a digit: b - '0' sets bit 7 below '0', b + 0x46 sets it above '9'.
  // A borrow or carry crosses into the next byte only out of a byte that is itself
  // flagged, so the lowest non-digit is always caught.
  std::uint32_t d = w - 0x30303030U;
  if (((d | (w + 0x46464646U)) & 0x80808080U) != 0) return false;
  d = d * 10 + (d >> 8);  // bytes 0 and 2: the two-digit pairs
  // (lo + hi << 16) * (1 + 100 << 16): bits 16..31 are lo * 100 + hi (<= 9999).
  v = ((d & 0x00ff00ffU) * 0x00640001U) >> 16;
  return true;
}

// CSeq's method: a well-known one (all token bytes) of the n >= 3 bytes at m, up
// to the value's end.
inline bool cseq_method(const char* m, std::size_t n, std::uint32_t number, cseq& out) noexcept {
  method meth = method::extension;
  if (!detail::find_method_word(m, n, detail::method_word(m, n), meth)) return false;
  out.number = number;
  out.method_token = {m, n};
  out.method = meth;
  return true;
}

// CSeq as every UA sends it: 1..9 digits (no overflow possible), one SP, a
// well-known method (all token bytes) up to the end. Nothing to trim then: the
// first byte is a digit and the last a letter.
inline bool cseq_fast(std::string_view s, cseq& out) noexcept {
  const char* const p = s.data();
  const std::size_t n = s.size();
  if (n < 5) return false;
  std::uint32_t v = static_cast<unsigned char>(p[0]) - unsigned{'0'};
  if (v > 9) return false;
  // "1 REGISTER", the common case: one digit, the method at a fixed place.
  if (p[1] == ' ') return cseq_method(p + 2, n - 2, v, out);
  // At most 9 digits, and room behind them for SP and a 3-byte method, so p[i]
  // below is inside `s`.
  const std::size_t lim = std::min<std::size_t>(n - 4, 9);
  std::size_t i = 1;
  for (unsigned d = 0; i < lim && (d = static_cast<unsigned char>(p[i]) - unsigned{'0'}) <= 9; ++i) v = v * 10 + d;
  if (p[i] != ' ') return false;
  return cseq_method(p + i + 1, n - i - 1, v, out);
}

// A Call-ID of 8..64 bytes from the common alphabet, checked 16 bytes at a time:
// letters, digits, "-./:" and at most one '@', not at either end. All of these
// are word characters, so such a Call-ID is word ["@" word]; other word
// characters make it decline.
inline bool call_id_fast(std::string_view s) noexcept {
#if defined(__SSE2__)
  const std::size_t n = s.size();
  if (n < 8 || n > 64) return false;
  // The bytes outside letters, digits and "-./:": none, or one '@' inside.
  const std::uint64_t miss = detail::mark_run(s.data(), n, [](__m128i v) noexcept {
    // OR 0x20 folds A-Z onto a-z (and '@' onto '`', both left out); 0x2d..0x3a is "-./0-9:".
    const __m128i good = _mm_or_si128(detail::in_range_top<0x61, 0x7a>(_mm_or_si128(v, _mm_set1_epi8(0x20))),
                                      detail::in_range_top<0x2d, 0x3a>(v));
    return _mm_xor_si128(good, _mm_set1_epi8(-1));
  });
  if (miss == 0) return true;
  const auto at = static_cast<std::size_t>(std::countr_zero(miss));
  return (miss & (miss - 1)) == 0 && s[at] == '@' && at - 1 < n - 2;
#else
  (void)s;
  return false;
#endif
}

}  // namespace

result<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) noexcept {
  if (std::uint32_t v = 0; small_uint(s, v) && v <= max) return std::uint64_t{v};
  return detail::parse_uint_general(s, max);
}

result<cseq> detail::parse_cseq_general(std::string_view s) noexcept {
  // CSeq = 1*DIGIT LWS Method
  s = trim_lws(s);
  const char* const e = s.data() + s.size();
  const char* const digits_end = chars::skip_class(s.data(), e, chars::k_digit);
  const auto n = detail::parse_uint_general({s.data(), static_cast<std::size_t>(digits_end - s.data())}, 0x7fffffffULL);
  if (!n) return n.error() == errc::integer_overflow ? errc::integer_overflow : errc::bad_cseq;
  const char* const m = skip_lws_at(digits_end, e);
  if (m == digits_end) return errc::bad_cseq;
  const char* const m_end = chars::skip_class(m, e, chars::k_token);
  if (m_end == m || m_end != e) return errc::bad_cseq;
  cseq out;
  out.number = static_cast<std::uint32_t>(*n);
  out.method_token = {m, static_cast<std::size_t>(m_end - m)};
  out.method = method_from_token(out.method_token);
  return out;
}

result<cseq> parse_cseq(std::string_view s) noexcept {
  if (cseq out; cseq_fast(s, out)) return out;
  return detail::parse_cseq_general(s);
}

result<std::string_view> detail::parse_call_id_general(std::string_view s) noexcept {
  // word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" /
  //        "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}")
  if (s.empty() || s.front() == '@' || s.back() == '@') return errc::bad_call_id;
  // word ["@" word]: a run of word characters, at most one '@', another run.
  const char* const e = s.data() + s.size();
  const char* p = chars::skip_class4<chars::k_word>(s.data(), e);
  if (p < e && *p == '@') p = chars::skip_class4<chars::k_word>(p + 1, e);
  if (p != e) return errc::bad_call_id;
  return s;
}

result<std::string_view> parse_call_id(std::string_view s) noexcept {
  if (call_id_fast(s)) return s;
  return detail::parse_call_id_general(s);
}

result<std::uint8_t> parse_max_forwards(std::string_view s) noexcept {
  if (std::uint32_t v = 0; small_uint(s, v) && v <= 255) return static_cast<std::uint8_t>(v);
  const auto n = detail::parse_uint_general(s, 255);
  if (!n) return n.error();
  return static_cast<std::uint8_t>(*n);
}

result<std::uint32_t> parse_delta_seconds(std::string_view s) noexcept {
  if (std::uint32_t v = 0; small_uint<4>(s, v)) return v;  // Expires: 3600
  const auto n = detail::parse_uint_general(s, 0xffffffffULL);
  if (!n) return n.error();
  return static_cast<std::uint32_t>(*n);
}

result<std::uint32_t> parse_content_length(std::string_view s) noexcept {
  if (std::uint32_t v = 0; small_uint(s, v)) return v;  // <= 9999, inside 0..65535
  const auto n = detail::parse_uint_general(s, 65535);
  if (!n) return n.error() == errc::integer_overflow ? errc::integer_overflow : errc::bad_content_length;
  return static_cast<std::uint32_t>(*n);
}

result<retry_after> parse_retry_after(std::string_view s) noexcept {
  retry_after ra;
  cursor c(trim_lws(s));
  const auto n = parse_uint(c.take_while(chars::k_digit), 0xffffffffULL);
  if (!n) return n.error();
  ra.seconds = static_cast<std::uint32_t>(*n);
  c.skip_lws();
  if (c.peek() == '(') {
    // comment = "(" *(ctext / quoted-pair / comment) ")", nested.
    const char* start = c.pos() + 1;
    int depth = 0;
    while (!c.at_end()) {
      const char ch = c.peek();
      c.advance();
      if (ch == '\\') {
        c.advance();
      } else if (ch == '(') {
        ++depth;
      } else if (ch == ')' && --depth == 0) {
        break;
      }
    }
    if (depth != 0) return errc::bad_value;
    ra.comment = {start, static_cast<std::size_t>(c.pos() - 1 - start)};
    c.skip_lws();
  }
  if (c.at_end()) return ra;
  if (!c.eat(';')) return errc::bad_value;
  ra.params = c.rest();
  if (ra.params.empty()) return errc::bad_value;  // ';' with no retry-param after it
  param_iterator it(ra.params);
  std::string_view name;
  std::string_view val;
  while (it.next(name, val)) {
    if (chars::iequals(name, "duration")) {
      const auto d = parse_uint(val, 0xffffffffULL);
      if (!d) return d.error();
      ra.duration = static_cast<std::uint32_t>(*d);
    }
  }
  if (it.failed()) return errc::bad_value;
  return ra;
}

errc check_date(std::string_view s) noexcept {
  // rfc1123-date = wkday "," SP date1 SP time SP "GMT"
  // date1 = 2DIGIT SP month SP 4DIGIT ; time = 2DIGIT ":" 2DIGIT ":" 2DIGIT
  constexpr std::string_view days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  s = trim_lws(s);
  if (s.size() != 29) return errc::bad_date;
  auto in = [](std::string_view v, const auto& set) {
    for (std::string_view x : set) {
      if (x == v) return true;
    }
    return false;
  };
  auto digits = [&](std::size_t at, std::size_t n) {
    for (std::size_t i = at; i < at + n; ++i) {
      if (!chars::is_digit(s[i])) return false;
    }
    return true;
  };
  if (!in(s.substr(0, 3), days) || s.substr(3, 2) != ", " || !digits(5, 2) || s[7] != ' ' ||
      !in(s.substr(8, 3), months) || s[11] != ' ' || !digits(12, 4) || s[16] != ' ' || !digits(17, 2) || s[19] != ':' ||
      !digits(20, 2) || s[22] != ':' || !digits(23, 2) || s.substr(25) != " GMT") {
    return errc::bad_date;
  }
  return errc::ok;
}

errc check_token_list(std::string_view s) noexcept {
  std::string_view rest = s;
  std::string_view entry;
  bool failed = false;
  while (next_list_entry(rest, entry, failed)) {
    if (!chars::is_token_string(entry)) return errc::bad_value;
  }
  return failed ? errc::bad_value : errc::ok;
}

// ---------------------------------------------------------------- auth

bool auth_value::is_digest() const noexcept { return chars::iequals(scheme, "Digest"); }

std::optional<std::string_view> auth_value::find(std::string_view name) const noexcept {
  for (const auth_param& p : params) {
    if (chars::iequals(p.name, name)) return p.value;
  }
  return std::nullopt;
}

result<auth_value> parse_auth(std::string_view s) noexcept {
  auth_value a;
  cursor c(trim_lws(s));
  a.scheme = c.token();
  if (a.scheme.empty()) return errc::bad_auth;
  if (c.at_end()) return a;
  if (!c.skip_lws()) return errc::bad_auth;
  const std::string_view rest = c.rest();
  // auth-param *(COMMA auth-param); auth-param = token EQUAL ( token / quoted-string )
  bool ok = true;
  for (bool first = true; !c.at_end(); first = false) {
    if (!first && !c.eat_sep(',')) {
      ok = false;
      break;
    }
    auth_param p;
    c.skip_lws();
    p.name = c.token();
    if (p.name.empty() || !c.eat_sep('=')) {
      ok = false;
      break;
    }
    if (c.peek() == '"') {
      if (!c.quoted(p.value)) return errc::unterminated_quote;
      p.quoted = true;
    } else {
      p.value = c.token();
      if (p.value.empty()) {
        ok = false;
        break;
      }
    }
    if (!a.params.push_back(p)) return errc::too_many_entries;
    c.skip_lws();
  }
  if (!ok) {
    // Digest must follow the auth-param grammar; other schemes may carry opaque data.
    if (a.is_digest()) return errc::bad_auth;
    a.params.clear();
    a.opaque = rest;
  }
  return a;
}

}  // namespace sipfront::sip
